"""Lab 6's figures: the VAE's terms per epoch, the reconstruction term against the floor, mosaics of
samples, the prior grid, the codes' spread in the β sweep and ROC curves side by side.

Each function returns a :class:`labkit.plots.Figure` (shown when a cell ends with it). Used in Lab 6.
"""

from __future__ import annotations

import numpy as np

from labkit.plots import Figure


def terms_per_epoch(histories: dict, *, title: str = "The VAE's terms, epoch by epoch") -> Figure:
    """The reconstruction term, the KL term and -ELBO per epoch (nats per image), one line per model
    (name -> Keras ``History``)."""
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(10, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    for name, history in histories.items():
        logs = history.history if hasattr(history, "history") else history
        epochs = np.arange(1, len(logs["kl"]) + 1)
        values = {"reconstruction term": logs["reconstruction"], "KL term": logs["kl"],
                  "-ELBO": -np.asarray(logs["elbo"])}
        for ax, (label, series) in zip(axes, values.items()):
            ax.plot(epochs, series, marker="o", label=name)
            ax.set_title(label, fontsize=10)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("nats per image (training)")
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    return fig


def against_floor(rows: list[tuple[str, float, str]], *, floor: float,
                  title: str = "Per-pixel loss against the floor") -> Figure:
    """Horizontal bars of per-pixel losses ``(label, value, kind)`` with the floor as a line; each bar
    carries its value and its excess over the floor. ``kind`` picks the colour (one per kind)."""
    kinds = list(dict.fromkeys(kind for _, _, kind in rows))
    fig = Figure(figsize=(8, 0.45 * len(rows) + 1.4), layout="constrained")
    ax = fig.subplots()
    positions = np.arange(len(rows))[::-1]
    for position, (label, value, kind) in zip(positions, rows):
        ax.barh(position, value, color=f"C{kinds.index(kind)}",
                label=kind if label == next(r[0] for r in rows if r[2] == kind) else None)
        ax.annotate(f"{value:.4f} (excess {value - floor:.4f})", (value, position), textcoords="offset points",
                    xytext=(4, 0), va="center", fontsize=8)
    ax.axvline(floor, color="black", linestyle="--", linewidth=1, label=f"floor {floor:.4f}")
    ax.set_yticks(positions, [label for label, _, _ in rows], fontsize=9)
    ax.set_xlim(0, 1.45 * max(value for _, value, _ in rows))
    ax.set_xlabel("nats per pixel (binary cross-entropy scale), lower is better")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title)
    return fig


def _mosaic(images: np.ndarray, side: int) -> np.ndarray:
    images = np.asarray(images)[:side * side].reshape(side, side, 28, 28)
    return images.transpose(0, 2, 1, 3).reshape(side * 28, side * 28)


def mosaics(panels: dict[str, np.ndarray], *, side: int = 8, title: str | None = None) -> Figure:
    """One square mosaic of ``side`` × ``side`` images per panel (title -> images), side by side."""
    fig = Figure(figsize=(3.4 * len(panels), 3.7 + (0.3 if title else 0)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (name, images) in zip(axes, panels.items()):
        ax.imshow(_mosaic(images, side), cmap="gray", vmin=0, vmax=1)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return fig


def prior_grid(images: np.ndarray, points: np.ndarray, *,
               title: str = "The prior's grid, decoded") -> Figure:
    """An n×n grid of decoded images (``images``, shape (n, n, 28, 28)) at ``points`` (n, n, 2), each
    axis labelled with the code numbers of its rows and columns."""
    n = images.shape[0]
    mosaic = np.asarray(images).transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    fig = Figure(figsize=(7, 7), layout="constrained")
    ax = fig.subplots()
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1)
    centres = 28 * np.arange(n) + 13.5
    shown = np.arange(0, n, max(1, n // 7))
    ax.set_xticks(centres[shown], [f"{value:.2f}" for value in points[0, shown, 0]], fontsize=8)
    ax.set_yticks(centres[shown], [f"{value:.2f}" for value in points[shown, 0, 1]], fontsize=8)
    ax.set_xlabel("code 1 (the prior's quantiles)")
    ax.set_ylabel("code 2")
    ax.set_title(title)
    return fig


def spread_per_unit(spreads: dict[str, np.ndarray], *, threshold: float,
                    title: str = "Which code numbers carry anything?") -> Figure:
    """For each model (name -> the variance across images of each code number's mean), the variances
    sorted from largest, on a log scale, with the active-unit threshold as a line."""
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(10, 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(spreads), sharey=True))
    for ax, (name, values) in zip(axes, spreads.items()):
        ordered = np.sort(np.asarray(values, dtype=float))[::-1]
        active = int(np.sum(ordered > threshold))
        ax.bar(np.arange(1, len(ordered) + 1), np.maximum(ordered, 1e-6),
               color=["C0" if value > threshold else "C7" for value in ordered])
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1)
        ax.set_yscale("log")
        ax.set_title(f"{name}: {active} of {len(ordered)} active", fontsize=10)
        ax.set_xlabel("code number (sorted)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("variance of the code's mean across images")
    fig.suptitle(title)
    return fig
