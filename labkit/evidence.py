"""Honest comparisons in NumPy: bootstrap intervals, and sentences that conclude only what they support.

A figure measured once is one draw: another seed or another test set would give another. A *percentile
bootstrap* redraws what varied (the test images, the seeds) with replacement many times, recomputes the
figure on every redraw and reads an interval off the spread: the 95 % interval holds the middle 95 % of
the recomputed figures. A generated sentence that concludes something ("pays off", "finds", "better")
is written only when that interval lies wholly on one side of "no effect"; otherwise it says
:data:`NOT_DISTINGUISHABLE`. Every draw comes from ``numpy.random.default_rng(seed)``, so the same
inputs and seed give the same interval. Used in Lab 3 (anomaly scores) and Lab 4 (the label budget).

With only a few seeds, resampling the seeds alone gives an interval no wider than the range of the
seeds' values (with 3 seeds, a 95 % interval is about their minimum to their maximum): it says that
every seed agreed, not more. Resampling the test images as well (:func:`difference_interval` with one
outcome per test image) adds the uncertainty of the test set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVEL = 0.95
"""The intervals' level: the share of recomputed figures they hold."""
RESAMPLES = 2000
"""How many times a bootstrap redraws the data."""
NOT_DISTINGUISHABLE = "not distinguishable here"
"""What a generated sentence says instead of a conclusion its interval does not support."""


@dataclass(frozen=True)
class Interval:
    """A figure measured once (``estimate``) and its bootstrap interval from ``low`` to ``high``."""

    estimate: float
    low: float
    high: float
    level: float
    method: str
    """How it was computed, for the reader: ``"percentile bootstrap over 3 seeds and 10,000 test images,
    2,000 resamples"``."""

    def above(self, value: float) -> bool:
        """Whether the whole interval lies above ``value``."""
        return self.low > value

    def below(self, value: float) -> bool:
        """Whether the whole interval lies below ``value``."""
        return self.high < value

    def format(self, number: str = "{:.3f}", *, scale: float = 1.0, unit: str = "") -> str:
        """``0.681 (95 % interval 0.667 to 0.695)``: each value through ``number`` after ``scale``, then
        ``unit``."""
        def shown(value: float) -> str:
            return number.format(scale * value)

        return (f"{shown(self.estimate)}{unit} ({_percent(self.level)} interval {shown(self.low)} to "
                f"{shown(self.high)}{unit})")

    def describe(self) -> str:
        """``95 % interval: percentile bootstrap over ...``: what a reader needs to judge the interval."""
        return f"{_percent(self.level)} interval: {self.method}"


def _percent(level: float) -> str:
    return f"{100 * level:g} %"


def _check_level(level: float, resamples: int) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level is the share of resamples the interval holds, between 0 and 1; got {level}.")
    if resamples < 100:
        raise ValueError(f"a bootstrap needs at least 100 resamples to read a percentile from; got {resamples}.")


def _interval(estimate: float, draws: np.ndarray, level: float, method: str) -> Interval:
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(estimate), float(low), float(high), level, method)


# --- the area under the ROC curve ----------------------------------------------------------------

def _scores_and_labels(scores, is_anomaly) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(is_anomaly).ravel().astype(bool)
    if scores.shape != labels.shape:
        raise ValueError(f"got {scores.size} scores but {labels.size} labels; give one label per score.")
    if not np.isfinite(scores).all():
        raise ValueError("scores hold NaN or infinite values; check what computed them.")
    if labels.all() or not labels.any():
        raise ValueError("the labels must include both anomalies (True) and normal images (False); "
                         f"got {int(labels.sum())} anomalies among {labels.size}.")
    return scores, labels


class _Ranks:
    """One score's AUC for any weighting of its anomalies and normal images (a bootstrap draw gives
    each image a count), each draw in time linear in the number of images."""

    def __init__(self, scores: np.ndarray, labels: np.ndarray):
        anomalies, normal = scores[labels], scores[~labels]
        self.order = np.argsort(normal, kind="mergesort")
        ranked = normal[self.order]
        self.left = np.searchsorted(ranked, anomalies, side="left")
        self.right = np.searchsorted(ranked, anomalies, side="right")

    def auc(self, anomaly_counts: np.ndarray, normal_counts: np.ndarray) -> float:
        below = np.concatenate([[0], np.cumsum(normal_counts[self.order])])
        lower, not_higher = below[self.left], below[self.right]
        wins = np.sum(anomaly_counts * (lower + 0.5 * (not_higher - lower)))
        return float(wins / (anomaly_counts.sum() * normal_counts.sum()))


def _auc_draws(score_sets: list[np.ndarray], labels: np.ndarray, resamples: int,
               seed: int) -> tuple[list[float], np.ndarray]:
    """The AUC of each score set, and its AUC on each stratified redraw (anomalies and normal images
    redrawn separately, the same images for every score set): shape (resamples, score sets)."""
    ranks = [_Ranks(scores, labels) for scores in score_sets]
    n_anomalies, n_normal = int(labels.sum()), int((~labels).sum())
    ones_a, ones_n = np.ones(n_anomalies), np.ones(n_normal)
    measured = [r.auc(ones_a, ones_n) for r in ranks]
    rng = np.random.default_rng(seed)
    draws = np.empty((resamples, len(ranks)))
    for i in range(resamples):
        anomaly_counts = np.bincount(rng.integers(0, n_anomalies, n_anomalies), minlength=n_anomalies)
        normal_counts = np.bincount(rng.integers(0, n_normal, n_normal), minlength=n_normal)
        draws[i] = [r.auc(anomaly_counts, normal_counts) for r in ranks]
    return measured, draws


def _auc_method(labels: np.ndarray, resamples: int) -> str:
    return (f"stratified percentile bootstrap over the {int(labels.sum()):,} anomalies and "
            f"{int((~labels).sum()):,} normal images, {resamples:,} resamples")


def auc_interval(scores, is_anomaly, *, level: float = LEVEL, resamples: int = RESAMPLES,
                 seed: int = 0) -> Interval:
    """The AUC of ``scores`` (the chance that a random anomaly scores above a random normal image, ties
    counting one half) with a stratified percentile-bootstrap interval: anomalies and normal images are
    redrawn separately, so every redraw keeps their numbers. Used in Lab 3."""
    _check_level(level, resamples)
    scores, labels = _scores_and_labels(scores, is_anomaly)
    (measured,), draws = _auc_draws([scores], labels, resamples, seed)
    return _interval(measured, draws[:, 0], level, _auc_method(labels, resamples))


def auc_difference_interval(scores_a, scores_b, is_anomaly, *, level: float = LEVEL,
                            resamples: int = RESAMPLES, seed: int = 0) -> Interval:
    """AUC of ``scores_a`` minus AUC of ``scores_b`` on the same images, with a paired bootstrap interval
    (each redraw scores both on the same images). Used in Lab 3 to compare anomaly scores."""
    _check_level(level, resamples)
    scores_a, labels = _scores_and_labels(scores_a, is_anomaly)
    scores_b, _ = _scores_and_labels(scores_b, labels)
    (a, b), draws = _auc_draws([scores_a, scores_b], labels, resamples, seed)
    return _interval(a - b, draws[:, 0] - draws[:, 1], level,
                     "paired " + _auc_method(labels, resamples))


# --- means over seeds and test images ----------------------------------------------------------------

def _outcomes(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{name} must hold one value per seed, shape (seeds,), or one outcome per seed and "
                         f"test image, shape (seeds, images); got shape {np.shape(values)}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values.")
    return array


def _seeds_and_items(values: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """The mean of ``values`` (seeds, items) on each redraw of its seeds and, independently, its items
    (the same items for every seed, so outcomes stay paired)."""
    seeds, items = values.shape
    rng = np.random.default_rng(seed)
    draws = np.empty(resamples)
    for i in range(resamples):
        drawn_seeds = rng.integers(0, seeds, seeds)
        if items > 1:
            counts = np.bincount(rng.integers(0, items, items), minlength=items)
            per_seed = values @ counts / items
        else:
            per_seed = values[:, 0]
        draws[i] = per_seed[drawn_seeds].mean()
    return draws


def _over(values: np.ndarray, resamples: int) -> str:
    seeds, items = values.shape
    parts = [f"{seeds} seed{'s' if seeds != 1 else ''}"] if seeds > 1 else []
    if items > 1:
        parts.append(f"{items:,} test images")
    return f"percentile bootstrap over {' and '.join(parts) or 'one value'}, {resamples:,} resamples"


def mean_interval(values, *, level: float = LEVEL, resamples: int = RESAMPLES, seed: int = 0) -> Interval:
    """The mean of ``values`` with a percentile-bootstrap interval.

    ``values`` holds one figure per seed (shape (seeds,): the seeds are redrawn) or one outcome per seed
    and test image (shape (seeds, images), e.g. 1 for a right answer and 0 for a wrong one: seeds and
    images are both redrawn, the same images for every seed). Used in Lab 4.
    """
    _check_level(level, resamples)
    array = _outcomes(values, "values")
    return _interval(array.mean(), _seeds_and_items(array, resamples, seed), level, _over(array, resamples))


def difference_interval(a, b, *, level: float = LEVEL, resamples: int = RESAMPLES, seed: int = 0) -> Interval:
    """Mean of ``a`` minus mean of ``b``, paired by seed (and by test image when both hold one outcome
    per seed and image), with a percentile-bootstrap interval. Pairing is right when seed ``i`` gave both
    models the same labels and the same test images. Used in Lab 4 to compare classifiers."""
    _check_level(level, resamples)
    a, b = _outcomes(a, "a"), _outcomes(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a {a.shape} and b {b.shape} must have the same shape: one value per seed (and per "
                         "test image) for each model, the seeds in the same order.")
    difference = a - b
    return _interval(difference.mean(), _seeds_and_items(difference, resamples, seed), level,
                     "paired " + _over(difference, resamples))


# --- sentences ---------------------------------------------------------------------------------------

def claim(interval: Interval, *, above: str, below: str | None = None, null: float = 0.0,
          number: str = "{:+.3f}", scale: float = 1.0, unit: str = "", method: bool = True) -> str:
    """A conclusion only where ``interval`` supports it, always followed by its figures.

    ``above`` when the whole interval lies above ``null``, ``below`` (if given) when it lies wholly below,
    otherwise :data:`NOT_DISTINGUISHABLE`; then, in brackets, the estimate, the interval, its level and
    method: ``not distinguishable here (+0.51 points, 95 % interval -0.30 to +1.20 points; paired
    percentile bootstrap over 3 seeds and 10,000 test images, 2,000 resamples)``. ``method=False`` leaves
    the method out, for a list of claims whose text states it once.
    """
    if interval.above(null):
        said = above
    elif below is not None and interval.below(null):
        said = below
    else:
        said = NOT_DISTINGUISHABLE
    figures = interval.format(number, scale=scale, unit=unit).replace(" (", ", ", 1).rstrip(")")
    return f"{said} ({figures}; {interval.method})" if method else f"{said} ({figures})"


def supported(interval: Interval, *, null: float = 0.0) -> int:
    """``1`` when the interval lies wholly above ``null``, ``-1`` wholly below, ``0`` when it holds it."""
    return 1 if interval.above(null) else -1 if interval.below(null) else 0

