"""Anomaly detection with an autoencoder, in NumPy: scores, the ROC curve, AUC and a threshold rule.

An autoencoder trained only on "normal" images (Lab 3: the digits 0-8) reconstructs them well and
anything else worse, so each image's reconstruction error is an *anomaly score*. Its codes give scores
too: how far an image's code lies from the codes of normal training images (:func:`knn_distance`,
:func:`mahalanobis`). The ROC curve shows every trade-off a threshold on a score can make; the score and
its threshold must be chosen on held-out training data, never on the test set they are judged on.
Used in Lab 3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from labkit import evidence
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


def _codes(codes, name: str) -> np.ndarray:
    array = np.asarray(codes, dtype=np.float64)
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"{name} must be codes of shape (n, code size); got shape {array.shape}. "
                         "labkit.latent.encode(encoder, images) gives them.")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} hold NaN or infinite values.")
    return array


def _standardiser(reference: np.ndarray):
    mean, scale = reference.mean(axis=0), reference.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    return lambda codes: (codes - mean) / scale


def knn_distance(reference_codes, codes, *, k: int = 10, batch_size: int = 256) -> np.ndarray:
    """One anomaly score per code: its mean Euclidean distance to its ``k`` nearest ``reference_codes``
    (codes of normal training images), after scaling every code number by the reference codes' mean and
    standard deviation so that no number dominates by its units alone. Far from every normal code means
    unlike anything normal."""
    reference, queries = _codes(reference_codes, "reference_codes"), _codes(codes, "codes")
    if reference.shape[1] != queries.shape[1]:
        raise ValueError(f"reference codes have {reference.shape[1]} numbers and codes {queries.shape[1]}; "
                         "encode both with the same encoder.")
    if not 1 <= k <= len(reference):
        raise ValueError(f"k must lie between 1 and the {len(reference)} reference codes; got {k}.")
    scale = _standardiser(reference)
    # float32 halves the time of the distances, which dominate; the scores need no more digits
    reference, queries = scale(reference).astype(np.float32), scale(queries).astype(np.float32)
    reference_norms = np.sum(reference**2, axis=1)
    scores = np.empty(len(queries))
    for start in range(0, len(queries), batch_size):
        chunk = queries[start:start + batch_size]
        squared = np.sum(chunk**2, axis=1)[:, None] + reference_norms[None, :] - 2 * chunk @ reference.T
        nearest = np.partition(np.maximum(squared, 0), k - 1, axis=1)[:, :k]
        scores[start:start + batch_size] = np.sqrt(nearest).mean(axis=1)
    return scores


def mahalanobis(reference_codes, codes, *, ridge: float = 1e-6) -> np.ndarray:
    """One anomaly score per code: its Mahalanobis distance from the ``reference_codes`` (codes of normal
    training images), the distance in units of their spread along every direction, correlations included.
    ``ridge`` (relative to the mean variance) keeps a nearly flat direction from dividing by 0."""
    reference, queries = _codes(reference_codes, "reference_codes"), _codes(codes, "codes")
    if reference.shape[1] != queries.shape[1]:
        raise ValueError(f"reference codes have {reference.shape[1]} numbers and codes {queries.shape[1]}; "
                         "encode both with the same encoder.")
    if len(reference) <= reference.shape[1]:
        raise ValueError(f"{len(reference)} reference codes cannot estimate the spread of {reference.shape[1]} "
                         "code numbers; give more reference codes than code numbers.")
    mean = reference.mean(axis=0)
    covariance = np.atleast_2d(np.cov(reference, rowvar=False))
    covariance += ridge * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
    centred = queries - mean
    return np.sqrt(np.maximum(np.sum(centred * np.linalg.solve(covariance, centred.T).T, axis=1), 0))


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


@dataclass(frozen=True)
class ScoreReport:
    """How one anomaly score does: its AUC on the validation split (where scores are chosen), and on the
    test set its AUC and its recall at the threshold chosen on the validation split's normal images, both
    with bootstrap intervals, and the share of normal test images that threshold flags."""

    validation_auc: float
    threshold: float
    test_auc: evidence.Interval
    recall: evidence.Interval
    false_alarms: float


def compare_scores(validation: dict, validation_is_anomaly, test: dict, test_is_anomaly, *,
                   false_alarm_rate: float = 0.05,
                   choose_threshold: Callable[[np.ndarray, float], float] | None = None,
                   seed: int = 0) -> dict[str, ScoreReport]:
    """Judge several anomaly scores alike (score name -> one score per image, on the validation split in
    ``validation`` and on the test set in ``test``): each score's threshold is chosen on the validation
    split's normal images alone, by ``choose_threshold(normal_scores, false_alarm_rate)`` (by default
    :func:`threshold_from_normal`), and its test AUC and recall get 95 % bootstrap intervals
    (:mod:`labkit.evidence`). Which score to use is then read from ``validation_auc``. Used in Lab 3."""
    if set(validation) != set(test):
        raise ValueError(f"give the same scores for both sets; validation has {sorted(validation)}, test has "
                         f"{sorted(test)}.")
    choose = choose_threshold or (lambda normal, rate: threshold_from_normal(normal, false_alarm_rate=rate))
    val_labels = np.asarray(validation_is_anomaly).astype(bool)
    test_labels = np.asarray(test_is_anomaly).astype(bool)
    reports = {}
    for name in validation:
        val_scores, test_scores = _scores_and_labels(validation[name], val_labels)[0], \
            _scores_and_labels(test[name], test_labels)[0]
        threshold = float(choose(val_scores[~val_labels], false_alarm_rate))
        flagged = test_scores >= threshold
        reports[name] = ScoreReport(
            validation_auc=auc(val_scores, val_labels), threshold=threshold,
            test_auc=evidence.auc_interval(test_scores, test_labels, seed=seed),
            recall=evidence.mean_interval(flagged[test_labels][None, :], seed=seed),
            false_alarms=float(flagged[~test_labels].mean()))
    return reports
