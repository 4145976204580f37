"""Reconstruction metrics in NumPy: the loss floor of binary cross-entropy, MSE and PSNR.

Binary cross-entropy against grey-level targets never reaches 0. For a pixel of value p the least loss
any prediction can reach is the binary entropy H(p) = -(p log p + (1 - p) log(1 - p)), reached by
predicting p itself. Averaged over a set of images this is the *floor*; a model's loss minus the
floor (the *excess*) is what it can still improve. Explained in Lab 1, used in every lab.
"""

from __future__ import annotations

import numpy as np

KERAS_EPSILON = 1e-7
"""Keras clips predicted probabilities to [ε, 1 - ε] before taking logarithms; so do we."""


def _as_unit_floats(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        raise ValueError(f"{name} is empty.")
    if array.min() < 0 or array.max() > 1:
        raise ValueError(f"{name} must hold values in [0, 1]; got min {array.min():g}, max {array.max():g}. "
                         "Scale uint8 pixels by 1/255 first (labkit.data.preprocess).")
    return array


def binary_crossentropy(targets, predictions, *, epsilon: float = KERAS_EPSILON) -> float:
    """Mean binary cross-entropy over all values, computed as Keras does."""
    p = _as_unit_floats(targets, "targets")
    q = np.clip(np.asarray(predictions, dtype=np.float64), epsilon, 1 - epsilon)
    if p.shape != q.shape:
        raise ValueError(f"targets {p.shape} and predictions {q.shape} differ in shape.")
    return float(-np.mean(p * np.log(q) + (1 - p) * np.log1p(-q)))


def bce_floor(targets, *, epsilon: float = KERAS_EPSILON) -> float:
    """The least mean binary cross-entropy any model can reach on ``targets`` (values in [0, 1])."""
    return binary_crossentropy(targets, targets, epsilon=epsilon)


def excess_over_floor(loss: float, targets, *, epsilon: float = KERAS_EPSILON) -> float:
    """How far a binary cross-entropy ``loss`` on ``targets`` lies above their floor."""
    return float(loss) - bce_floor(targets, epsilon=epsilon)


def mse(targets, predictions) -> float:
    """Mean squared error over all values."""
    p, q = np.asarray(targets, dtype=np.float64), np.asarray(predictions, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"targets {p.shape} and predictions {q.shape} differ in shape.")
    return float(np.mean((p - q) ** 2))


def psnr(targets, predictions, *, max_value: float = 1.0) -> float:
    """Mean peak signal-to-noise ratio in dB over images (the first axis); higher is better."""
    p, q = np.asarray(targets, dtype=np.float64), np.asarray(predictions, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"targets {p.shape} and predictions {q.shape} differ in shape.")
    per_image = np.mean((p - q).reshape(len(p), -1) ** 2, axis=1)
    per_image = np.maximum(per_image, 1e-12)
    return float(np.mean(10 * np.log10(max_value**2 / per_image)))
