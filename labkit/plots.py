"""Figures of the labs. Each function returns a matplotlib ``Figure`` (shown when a cell ends with it).

Figures are made without pyplot's global state, so a notebook shows each one exactly once (when it is
the value of a cell), nothing is left open, and tests can inspect them.
"""

from __future__ import annotations

import io

import matplotlib.figure
import numpy as np


class Figure(matplotlib.figure.Figure):
    """A matplotlib figure that Jupyter shows as a PNG image."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()


def _as_images(batch, side: int = 28) -> np.ndarray:
    array = np.asarray(batch)
    return array.reshape(len(array), side, side) if array.ndim in (2, 4) else array


def image_rows(rows: dict[str, np.ndarray], *, n: int = 10, labels=None, title: str | None = None,
               cell: float = 1.0) -> Figure:
    """A grid with one row per entry of ``rows`` (row title -> images) and ``n`` columns."""
    fig = Figure(figsize=(cell * n, cell * len(rows) + (0.4 if title else 0)), layout="constrained")
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (name, images) in enumerate(rows.items()):
        images = _as_images(images)
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(images[c], cmap="gray", vmin=0, vmax=1 if images.max() <= 1 else 255)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and labels is not None:
                ax.set_title(str(labels[c]), fontsize=9)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def reconstruction_grid(originals, reconstructions, *, n: int = 10, labels=None,
                        title: str | None = None) -> Figure:
    """Originals over their reconstructions, ``n`` of each. Used in Labs 1-4."""
    return image_rows({"original": originals, "reconstruction": reconstructions},
                      n=n, labels=labels, title=title)


def loss_curves(history, *, floor: float | None = None, title: str = "Training history",
                ylabel: str = "binary cross-entropy") -> Figure:
    """Training and validation loss per epoch, with the loss floor as a line when given. Used in Lab 1."""
    logs = history.history if hasattr(history, "history") else history
    fig = Figure(figsize=(6, 3.8), layout="constrained")
    ax = fig.subplots()
    epochs = np.arange(1, len(logs["loss"]) + 1)
    ax.plot(epochs, logs["loss"], marker="o", label="training")
    if "val_loss" in logs:
        ax.plot(epochs, logs["val_loss"], marker="o", label="validation")
    if floor is not None:
        ax.axhline(floor, color="black", linestyle="--", linewidth=1,
                   label=f"floor (no model can go lower) = {floor:.4f}")
        ax.set_ylim(bottom=0)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return fig
