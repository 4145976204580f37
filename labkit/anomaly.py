"""Anomaly detection by reconstruction error, in NumPy: scores, the ROC curve, AUC and a threshold rule.

An autoencoder trained only on "normal" images (Lab 3: the digits 0-8) reconstructs them well and
anything else worse, so each image's reconstruction error is an *anomaly score*. The ROC curve shows
every trade-off a threshold on that score can make; the threshold itself must be chosen on training
data (normal images the model did not fit), never on the test set it is judged on. Used in Lab 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labkit.metrics import KERAS_EPSILON


def _per_image(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(f"{name} must be a stack of images, shape (n, ...); got shape {array.shape}.")
    return array.reshape(len(array), -1)


def reconstruction_errors(images, reconstructions, *, kind: str = "excess",
                          epsilon: float = KERAS_EPSILON) -> np.ndarray:
    """One anomaly score per image: how badly its reconstruction matches it.

    ``kind="bce"``: the image's mean binary cross-entropy; ``"excess"``: that minus the image's own floor
    (the least BCE any model could reach on it), so an image is not judged anomalous merely for having
    more grey pixels; ``"mse"``: the mean squared error.
    """
    p, q = _per_image(images, "images"), _per_image(reconstructions, "reconstructions")
    if p.shape != q.shape:
        raise ValueError(f"images {p.shape} and reconstructions {q.shape} differ in shape.")
    if p.min() < 0 or p.max() > 1:
        raise ValueError("images must hold values in [0, 1]; scale uint8 pixels by 1/255 first "
                         "(labkit.data.preprocess).")
    if kind == "mse":
        return np.mean((p - q) ** 2, axis=1)

    def bce(target, prediction):
        prediction = np.clip(prediction, epsilon, 1 - epsilon)
        return -np.mean(target * np.log(prediction) + (1 - target) * np.log1p(-prediction), axis=1)

    if kind == "bce":
        return bce(p, q)
    if kind == "excess":
        return bce(p, q) - bce(p, p)
    raise ValueError(f"kind must be 'excess', 'bce' or 'mse'; got {kind!r}.")


def _scores_and_labels(scores, is_anomaly) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(is_anomaly).ravel()
    if scores.shape != labels.shape:
        raise ValueError(f"got {scores.size} scores but {labels.size} labels; give one label per score.")
    if not np.isfinite(scores).all():
        raise ValueError("scores hold NaN or infinite values; check the reconstructions.")
    labels = labels.astype(bool)
    if labels.all() or not labels.any():
        raise ValueError("the labels must include both anomalies (True) and normal images (False); "
                         f"got {int(labels.sum())} anomalies among {labels.size}.")
    return scores, labels


def roc_curve(scores, is_anomaly) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False- and true-positive rates of every threshold, ``(fpr, tpr, thresholds)``.

    An image is flagged when its score is ``>= threshold``; thresholds run from above the highest
    score (nothing flagged: the point (0, 0)) down to the lowest (everything flagged: (1, 1)). Tied
    scores enter together, as one step.
    """
    scores, labels = _scores_and_labels(scores, is_anomaly)
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    true_pos = np.cumsum(labels)[last_of_tie]
    false_pos = (last_of_tie + 1) - true_pos
    fpr = np.r_[0.0, false_pos / (~labels).sum()]
    tpr = np.r_[0.0, true_pos / labels.sum()]
    thresholds = np.r_[np.inf, scores[last_of_tie]]
    return fpr, tpr, thresholds


def auc(scores, is_anomaly) -> float:
    """Area under the ROC curve: the chance that a random anomaly scores higher than a random normal
    image (ties count one half). 0.5 is guessing, 1.0 a perfect separation."""
    fpr, tpr, _ = roc_curve(scores, is_anomaly)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def threshold_from_normal(normal_scores, *, false_alarm_rate: float = 0.05) -> float:
    """The score above which only ``false_alarm_rate`` of normal (training) images lie.

    This is the rule of Lab 3: look only at normal images the model has not trained on, and accept
    that a chosen fraction of them will be flagged by mistake.
    """
    normal = np.asarray(normal_scores, dtype=np.float64).ravel()
    if normal.size == 0:
        raise ValueError("normal_scores is empty: give the scores of normal training images.")
    if not 0 < false_alarm_rate < 1:
        raise ValueError(f"false_alarm_rate must lie strictly between 0 and 1; got {false_alarm_rate}.")
    return float(np.quantile(normal, 1 - false_alarm_rate))


@dataclass(frozen=True)
class Detection:
    """What a threshold does on a labelled set: counts, precision and recall of the "anomaly" class."""

    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int

    @property
    def precision(self) -> float:
        """Of the flagged images, the fraction that are anomalies (0 when nothing is flagged)."""
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        """Of the anomalies, the fraction flagged."""
        return self.true_positives / (self.true_positives + self.false_negatives)

    @property
    def false_alarm_rate(self) -> float:
        """Of the normal images, the fraction flagged."""
        return self.false_positives / (self.false_positives + self.true_negatives)


def evaluate_threshold(scores, is_anomaly, threshold: float) -> Detection:
    """Flag every score ``>= threshold`` and count what that gets right and wrong."""
    scores, labels = _scores_and_labels(scores, is_anomaly)
    flagged = scores >= threshold
    return Detection(float(threshold), int(np.sum(flagged & labels)), int(np.sum(flagged & ~labels)),
                     int(np.sum(~flagged & labels)), int(np.sum(~flagged & ~labels)))
