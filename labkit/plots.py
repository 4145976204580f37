"""Figures of the labs. Each function returns a matplotlib ``Figure`` (shown when a cell ends with it).

Figures are made without pyplot's global state, so a notebook shows each one exactly once (when it is
the value of a cell), nothing is left open, and tests can inspect them.
"""

from __future__ import annotations

import io

import matplotlib.figure
import numpy as np
from matplotlib.ticker import MaxNLocator


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


def _finish_per_epoch(ax, *, ylabel: str, title: str) -> None:
    """Label a plot of values per epoch: whole epochs on the x axis, a legend and a light grid."""
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)


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
    _finish_per_epoch(ax, ylabel=ylabel, title=title)
    return fig


# --- Lab 3: latent spaces, the latent-size sweep and anomaly scores -----------------------------------

def _digit_scatter(points, labels, *, title: str, xlabel: str, ylabel: str, size: float = 6) -> Figure:
    import pandas as pd
    import seaborn as sns

    points, labels = np.asarray(points), np.asarray(labels)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) != len(labels):
        raise ValueError(f"expected points of shape (n, 2) and n labels; got {points.shape} and {labels.shape}.")
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.subplots()
    table = pd.DataFrame({"x": points[:, 0], "y": points[:, 1], "digit": labels.astype(int)})
    sns.scatterplot(data=table, x="x", y="y", hue="digit", palette="tab10", s=size, linewidth=0,
                    legend="full", ax=ax)
    ax.legend(title="digit", loc="center left", bbox_to_anchor=(1.0, 0.5), markerscale=2, frameon=False)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return fig


def tsne_scatter(embedding, labels, *, title: str = "t-SNE of the codes") -> Figure:
    """A t-SNE map of codes, one dot per image coloured by its digit (seaborn). Used in Lab 3."""
    return _digit_scatter(embedding, labels, title=title, xlabel="t-SNE 1", ylabel="t-SNE 2")


def code_scatter(codes, labels, *, title: str = "The 2-D codes of test digits") -> Figure:
    """The codes of a 2-D bottleneck themselves, one dot per image coloured by its digit. Used in Lab 3."""
    return _digit_scatter(codes, labels, title=title, xlabel="code 1", ylabel="code 2")


def decoded_plane(images, extent, *, title: str = "Digits decoded across the code plane") -> Figure:
    """An n×n grid of images decoded at evenly spaced points of a 2-D code plane (see
    ``labkit.latent.decode_plane``), drawn on the plane's own axes. Used in Lab 3."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[0] != images.shape[1]:
        raise ValueError(f"expected an n×n grid of images, shape (n, n, 28, 28); got {images.shape}.")
    n, side = images.shape[0], images.shape[2]
    mosaic = images.transpose(0, 2, 1, 3).reshape(n * side, n * side)
    x_min, x_max, y_min, y_max = extent
    fig = Figure(figsize=(7, 7), layout="constrained")
    ax = fig.subplots()
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, extent=(x_min, x_max, y_min, y_max), aspect="auto")
    ax.set_xlabel("code 1")
    ax.set_ylabel("code 2")
    ax.set_title(title)
    return fig


def latent_sweep(sizes, losses, *, floor: float, title: str = "How small can the code be?") -> Figure:
    """Test loss (with the floor) and excess over the floor against latent size, side by side. Used in Lab 3."""
    sizes, losses = np.asarray(sizes), np.asarray(losses, dtype=float)
    if sizes.shape != losses.shape or sizes.ndim != 1:
        raise ValueError(f"give one loss per latent size; got {sizes.shape} sizes and {losses.shape} losses.")
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(sizes, losses, marker="o", label="test loss")
    left.axhline(floor, color="black", linestyle="--", linewidth=1, label=f"floor = {floor:.4f}")
    left.set_ylim(bottom=0)
    left.set_ylabel("binary cross-entropy")
    left.set_title("Loss")
    left.legend()
    excess = losses - floor
    right.plot(sizes, excess, marker="o", color="tab:red")
    for size, value in zip(sizes, excess):
        right.annotate(f"{value:.4f}", (size, value), textcoords="offset points", xytext=(4, 6), fontsize=8)
    right.set_ylim(bottom=0)
    right.set_ylabel("excess over the floor")
    right.set_title("Excess over the floor: what compression costs")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_xlabel("latent size")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def score_histograms(scores: dict[str, np.ndarray], *, threshold: float | None = None,
                     xlabel: str = "reconstruction error (anomaly score)",
                     title: str = "Reconstruction errors of known and unseen digits") -> Figure:
    """Overlaid density histograms of anomaly scores per group, with the threshold as a line. Used in Lab 3."""
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.subplots()
    everything = np.concatenate([np.ravel(s) for s in scores.values()])
    bins = np.linspace(everything.min(), np.quantile(everything, 0.995), 60)
    for name, values in scores.items():
        ax.hist(np.ravel(values), bins=bins, density=True, alpha=0.5, label=f"{name} ({len(np.ravel(values)):,})")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold:.4f}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend()
    return fig


def roc_curve(fpr, tpr, *, auc: float, point: tuple[float, float] | None = None,
              title: str = "ROC curve") -> Figure:
    """A ROC curve with its AUC, the diagonal of guessing and, optionally, one threshold's point. Used in Lab 3."""
    return roc_curves({"": (fpr, tpr, auc)}, point=point, title=title)


def roc_curves(curves: dict[str, tuple], *, point: tuple[float, float] | None = None,
               title: str = "ROC curves") -> Figure:
    """ROC curves of anomaly scores (name -> (fpr, tpr, auc)), each labelled with its AUC, beside the diagonal
    of guessing and, optionally, one threshold's point. One unnamed curve is labelled by its AUC alone.
    Used in Labs 3 and 6."""
    several = len(curves) > 1
    fig = Figure(figsize=(5.2, 4.8) if several else (4.8, 4.5), layout="constrained")
    ax = fig.subplots()
    for name, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, label=f"{name} (AUC {auc:.3f})" if name else f"AUC = {auc:.3f}")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="guessing (AUC 0.5)")
    if point is not None:
        ax.plot(*point, marker="o", color="black", linestyle="none", label="chosen threshold")
    ax.set_xlabel("false-positive rate (known digits flagged)")
    ax.set_ylabel("true-positive rate (unseen digits flagged)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8 if several else None)
    return fig


# --- Lab 4: classifiers compared: confusion matrices, learning curves, the label budget ----------------

def confusion_heatmap(y_true, y_pred, class_names, *, title: str = "Confusion matrix", ax=None) -> Figure:
    """A seaborn heatmap of the confusion matrix, rows the true class and columns the prediction,
    each row in percent of that class's examples (so every row sums to 100). Used in Lab 4."""
    import seaborn as sns

    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"give one prediction per true label; got {y_true.shape} labels and {y_pred.shape} predictions.")
    k = len(class_names)
    if y_true.size and max(y_true.max(), y_pred.max()) >= k:
        raise ValueError(f"labels run up to {max(y_true.max(), y_pred.max())} but only {k} class names were given.")
    counts = np.zeros((k, k))
    np.add.at(counts, (y_true, y_pred), 1)
    percent = 100 * counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = ax.figure if ax is not None else Figure(figsize=(6.5, 5.5), layout="constrained")
    ax = ax if ax is not None else fig.subplots()
    sns.heatmap(percent, annot=True, fmt=".0f", cmap="Blues", vmin=0, vmax=100, square=True, cbar=False,
                xticklabels=class_names, yticklabels=class_names, annot_kws={"fontsize": 7}, ax=ax)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    ax.tick_params(axis="y", labelrotation=0, labelsize=8)
    return fig


def confusion_heatmaps(predictions: dict, y_true, class_names, *,
                       title: str = "Confusion matrices on the test set (% of each true class)") -> Figure:
    """One :func:`confusion_heatmap` per model, one above the other (model name -> predicted labels), each
    5.4 inches wide: the book shows the figure at full size, where three side by side would be shrunk
    to unreadable numbers. Used in Lab 4."""
    fig = Figure(figsize=(5.4, 5.4 * len(predictions)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(predictions), 1))
    for ax, (name, y_pred) in zip(axes, predictions.items()):
        confusion_heatmap(y_true, y_pred, class_names, title=name, ax=ax)
    fig.suptitle(title)
    return fig


def learning_curves(histories: dict, *, metric: str = "accuracy",
                    title: str = "Learning curves (solid: validation, dashed: training)") -> Figure:
    """Training (dashed) and validation (solid) ``metric`` per epoch of several models, one colour per
    model (model name -> Keras ``History`` or its ``history`` dict). Used in Lab 4."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    for number, (name, history) in enumerate(histories.items()):
        logs = history.history if hasattr(history, "history") else history
        if metric not in logs:
            raise ValueError(f"the history of {name!r} has no {metric!r}; it has {sorted(logs)}.")
        colour = f"C{number}"
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], linestyle="--", color=colour, alpha=0.7)
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], marker="o", color=colour, label=name)
        else:
            ax.lines[-1].set_label(name)
    _finish_per_epoch(ax, ylabel=metric, title=title)
    return fig


def label_budget(budgets, accuracies: dict, *, differences: dict | None = None, against: str = "",
                 title: str = "Test accuracy against the number of labels") -> Figure:
    """Accuracy against the number of training labels (log scale), one line per model.

    ``accuracies`` maps a model's name to one accuracy per budget, or to one row per budget of one accuracy
    per seed (fractions). With seeds the line joins the means, a bar spans each budget's lowest to highest
    seed and a dot marks each seed. ``differences`` (model name -> one ``(estimate, low, high)`` per budget,
    as fractions) adds a panel below: each model's accuracy minus that of ``against``, in points, with its
    interval, and the line of no difference. Used in Lab 4.
    """
    budgets = np.asarray(budgets)
    rows = {}
    for name, values in accuracies.items():
        values = np.asarray(values, dtype=float)
        values = values[:, None] if values.ndim == 1 else values
        if values.ndim != 2 or values.shape[0] != budgets.size:
            raise ValueError(f"{name!r} has {values.shape[0]} accuracies for {budgets.size} budgets; give one "
                             "per budget (or one row of seeds per budget).")
        rows[name] = values
    fig = Figure(figsize=(7, 4.2 if differences is None else 7.0), layout="constrained")
    axes = fig.subplots(1 if differences is None else 2, 1, sharex=True, squeeze=False,
                        height_ratios=None if differences is None else [3, 2])[:, 0]
    ax = axes[0]
    nudge = {name: 1.05 ** (i - (len(rows) - 1) / 2) for i, name in enumerate(rows)}  # side by side on a log axis
    colours = {}
    for name, values in rows.items():
        seeds = values.shape[1]
        means = values.mean(axis=1)
        (line,) = ax.plot(budgets, 100 * means, marker="o",
                          label=name if seeds == 1 else f"{name} (mean of {seeds} seeds)")
        colours[name] = line.get_color()
        if seeds > 1:
            at = budgets * nudge[name]
            ax.vlines(at, 100 * values.min(axis=1), 100 * values.max(axis=1), color=line.get_color(), alpha=0.7)
            ax.scatter(np.repeat(at, seeds), 100 * values.ravel(), s=9, color=line.get_color(), alpha=0.5)
        elif len(rows) <= 3:
            for n, value in zip(budgets, means):
                ax.annotate(f"{100 * value:.1f}", (n, 100 * value), textcoords="offset points", xytext=(0, 6),
                            ha="center", fontsize=7)
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    if differences is not None:
        low_ax = axes[1]
        for name, triples in differences.items():
            triples = 100 * np.asarray(triples, dtype=float)
            if triples.shape != (budgets.size, 3):
                raise ValueError(f"differences[{name!r}] needs one (estimate, low, high) per budget; got shape "
                                 f"{triples.shape} for {budgets.size} budgets.")
            at = budgets * nudge.get(name, 1.0)
            low_ax.errorbar(at, triples[:, 0], yerr=[triples[:, 0] - triples[:, 1], triples[:, 2] - triples[:, 0]],
                            fmt="o", capsize=3, color=colours.get(name), label=name)
        low_ax.axhline(0, color="black", linewidth=0.8)
        low_ax.set_ylabel(f"minus {against} (points)" if against else "difference (points)")
        low_ax.set_title("Difference with its 95 % interval: an interval across 0 is not distinguishable",
                         fontsize=9)
        low_ax.legend(fontsize=8)
    for axis in axes:
        axis.set_xscale("log")
        axis.grid(alpha=0.3)
    axes[-1].set_xticks(budgets, [f"{n:,}" for n in budgets])
    axes[-1].minorticks_off()
    axes[-1].set_xlabel("labelled training images (log scale)")
    return fig


# --- Lab 2: the features of a denoiser, noise levels and the tuning study -----------------------------

def denoising_rows(noisy, denoised, clean, *, n: int = 10, labels=None,
                   title: str | None = "Noisy input, denoised output, clean original") -> Figure:
    """Three rows of ``n`` images: what the model sees, what it draws, what it should draw. Used in Lab 2."""
    return image_rows({"noisy input": noisy, "denoised": denoised, "clean original": clean},
                      n=n, labels=labels, title=title)


def feature_vectors(features, *, rows: int = 16, n: int = 8, labels=None,
                    title: str = "Each image's feature vector, drawn as an image") -> Figure:
    """The feature vectors of ``n`` images, each reshaped to ``rows`` rows and drawn as one strip
    (6,272 values -> 16 × 392, as the lab sheet does), on one colour scale. Used in Lab 2."""
    features = np.asarray(features)
    features = features.reshape(len(features), -1)[:n]
    size = features.shape[1]
    if size % rows:
        raise ValueError(f"{size} values per feature vector do not fill {rows} rows; choose rows that "
                         f"divide {size} (e.g. 16 for 6,272).")
    strips = features.reshape(len(features), rows, size // rows)
    fig = Figure(figsize=(10, 0.5 + 0.55 * len(strips)), layout="constrained")
    axes = fig.subplots(len(strips), 1, squeeze=False)[:, 0]
    low, high = float(strips.min()), float(strips.max())
    for i, (ax, strip) in enumerate(zip(axes, strips)):
        shown = ax.imshow(strip, cmap="viridis", vmin=low, vmax=high, aspect="auto", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if labels is not None:
            ax.set_ylabel(str(labels[i]), rotation=0, ha="right", va="center")
    axes[-1].set_xlabel(f"{size:,} values as {rows} rows of {size // rows}")
    fig.colorbar(shown, ax=list(axes), shrink=0.8, label="activation")
    fig.suptitle(title)
    return fig


def feature_maps(maps, channels, *, image=None, cols: int = 8,
                 title: str = "Feature maps of one image") -> Figure:
    """The maps of the chosen ``channels`` from ``maps`` (height, width, channels) of one image, each
    on its own colour scale, after the image itself when given. Used in Lab 2."""
    maps = np.asarray(maps)
    if maps.ndim == 4 and len(maps) == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"expected the maps of one image, shaped (height, width, channels); got {maps.shape}. "
                         "For a feature vector of 6,272 values use features.reshape(7, 7, 128).")
    channels = list(channels)
    bad = [c for c in channels if not 0 <= c < maps.shape[-1]]
    if bad:
        raise ValueError(f"channels {bad} do not exist: the maps have channels 0 to {maps.shape[-1] - 1}.")
    panels = ([("input", _as_images(np.asarray(image)[None])[0], "gray")] if image is not None else [])
    panels += [(f"channel {c}", maps[..., c], "viridis") for c in channels]
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(1.4 * cols, 1.5 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (name, picture, cmap) in zip(axes, panels):
        ax.imshow(picture, cmap=cmap, interpolation="nearest")
        ax.set_title(name, fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title)
    return fig


def metric_vs_level(table, *, metrics, level: str = "level", by: str = "noise", reference: dict | None = None,
                    title: str | None = None) -> Figure:
    """One panel per metric (a column of ``table``) against the noise ``level``, one line per value of
    ``by``; ``reference`` (metric -> column) adds that column as a dashed line of the same colour, e.g.
    the PSNR of the noisy input beside that of the denoised output. Used in Lab 2."""
    columns = {name: np.asarray(table[name]) for name in {level, by, *metrics, *(reference or {}).values()}}
    groups = list(dict.fromkeys(columns[by].tolist()))
    fig = Figure(figsize=(4.6 * len(metrics), 3.8), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        for colour, group in enumerate(groups):
            rows = columns[by] == group
            order = np.argsort(columns[level][rows])
            x = columns[level][rows][order]
            ax.plot(x, columns[metric][rows][order], marker="o", color=f"C{colour}", label=f"{group}")
            if reference and metric in reference:
                ax.plot(x, columns[reference[metric]][rows][order], linestyle="--", color=f"C{colour}",
                        label=f"{group}: {reference[metric]}")
        ax.set_xlabel(level)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def setting_bars(table, *, metrics, label: str = "setting", baseline: str | None = None,
                 title: str | None = None) -> Figure:
    """One panel of horizontal bars per metric (a column of ``table``), one bar per run named by the
    ``label`` column; the ``baseline`` run is drawn in another colour and as a line. Used in Lab 2."""
    names = [str(name) for name in np.asarray(table[label])]
    fig = Figure(figsize=(3.6 * len(metrics) + 1.5, 0.32 * len(names) + 1.2), layout="constrained")
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    positions = np.arange(len(names))
    for ax, metric in zip(axes, metrics):
        values = np.asarray(table[metric], dtype=float)
        colours = ["C1" if name == baseline else "C0" for name in names]
        ax.barh(positions, values, color=colours)
        if baseline in names:
            ax.axvline(values[names.index(baseline)], color="C1", linestyle="--", linewidth=1)
        span = np.nanmax(values) - np.nanmin(values)
        ax.set_xlim(np.nanmin(values) - 0.1 * span - 1e-9, np.nanmax(values) + 0.1 * span + 1e-9)
        ax.set_title(metric, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(positions, names)
    axes[0].invert_yaxis()
    if title:
        fig.suptitle(title)
    return fig


# --- labkit reproduce: our figures beside the published ones -------------------------------------------

RESULTS_WIDTH_IN = 6.6
"""Width of the Results page's figure: at 100 dpi it fits the book's 676-pixel column without shrinking."""
LABEL_PT = 9
"""Size of its labels, in points: 12.5 pixels at 100 dpi."""


def results_comparison(records: list[dict], *, title: str = "Our figures beside the report's") -> Figure:
    """Horizontal bars, ours against the goal (the report's figure, or the lab's own target where the
    report has none): losses above (lower is better), accuracies and other shares below (higher is better, on
    an axis from 0 to 100 % so that the bars' lengths compare honestly). Every bar carries its value. The figure is 6.6
    inches wide, so that the book shows it at full size and its 9-point labels stay readable.
    ``records`` are ``labkit reproduce`` records; crashed ones and ones without a goal are left out."""
    from labkit.reproduce import SHARES

    panels = {"loss": [], "accuracy": []}
    for r in records:
        goal = r["published"] if r.get("published") is not None else r.get("lab_target")
        if r.get("value") is not None and goal is not None:
            kind = "accuracy" if r["metric"] in SHARES else "loss"
            panels[kind].append((r["name"], r["value"], goal, r.get("published") is not None))
    shown = {kind: rows for kind, rows in panels.items() if rows}
    if not shown:
        raise ValueError("none of the records has both a value and a published figure or target to compare.")
    rows_in_all = sum(len(rows) for rows in shown.values())
    fig = Figure(figsize=(RESULTS_WIDTH_IN, 1.4 + 0.5 * rows_in_all + 0.7 * len(shown)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(shown), 1, height_ratios=[len(rows) for rows in shown.values()]))
    for ax, (kind, rows) in zip(axes, shown.items()):
        scale = 100 if kind == "accuracy" else 1
        y = np.arange(len(rows))[::-1]
        ours = np.array([row[1] for row in rows]) * scale
        goals = np.array([row[2] for row in rows]) * scale
        ax.barh(y + 0.2, ours, 0.4, color="tab:blue", label="ours")
        ax.barh(y - 0.2, goals, 0.4, color=["tab:gray" if row[3] else "white" for row in rows],
                edgecolor="tab:gray", label="published (grey) / lab's target (white)")
        shown_as = "{:.2f}" if kind == "accuracy" else "{:.4f}"
        for position, value in zip(y + 0.2, ours):
            ax.annotate(shown_as.format(value), (value, position), textcoords="offset points", xytext=(-3, 0),
                        ha="right", va="center", fontsize=LABEL_PT, color="white", fontweight="bold")
        for position, value in zip(y - 0.2, goals):
            ax.annotate(shown_as.format(value), (value, position), textcoords="offset points", xytext=(3, 0),
                        ha="left", va="center", fontsize=LABEL_PT, color="0.25")
        ax.set_yticks(y, [row[0] for row in rows], fontsize=LABEL_PT)
        ax.tick_params(axis="x", labelsize=LABEL_PT)
        if kind == "accuracy":
            ax.set_xlim(0, 100)
            ax.set_xlabel("accuracy or share (%), higher is better (axis from 0)", fontsize=LABEL_PT + 1)
        else:
            ax.set_xlim(0, 1.2 * max(ours.max(), goals.max()))
            ax.set_xlabel("binary cross-entropy (per pixel), lower is better", fontsize=LABEL_PT + 1)
        ax.grid(axis="x", alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=LABEL_PT)
    fig.suptitle(title, fontsize=LABEL_PT + 2)
    return fig
