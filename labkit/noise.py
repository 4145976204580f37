"""Noise that corrupts images for a denoising autoencoder, in NumPy.

Both functions take preprocessed images (floats in [0, 1], any shape), return a new float array of
the same shape and dtype, and never modify their input. Their randomness comes from ``seed`` (a whole
number, for a result that repeats) or ``rng`` (a ``numpy.random.Generator`` the caller keeps drawing
from); give one or neither. Used in Lab 2 (and Lab 3's denoising experiments).
"""

from __future__ import annotations

import math

import numpy as np


def gaussian(images, factor: float = 0.5, *, seed: int | None = None,
             rng: np.random.Generator | None = None) -> np.ndarray:
    """``images + factor * N(0, 1)``, clipped to [0, 1]: ``factor`` is the noise's standard deviation.

    Used in Lab 2, step 1 (the lab's factor is 0.5).
    """
    images = _as_unit_images(images, "gaussian")
    factor = _as_level(factor, "factor", upper=None, example="0.5")
    generator = _generator(seed, rng, "gaussian")
    noisy = images + factor * generator.standard_normal(images.shape)
    return np.clip(noisy, 0.0, 1.0).astype(images.dtype, copy=False)


def salt_and_pepper(images, amount: float = 0.1, *, salt_ratio: float = 0.5, seed: int | None = None,
                    rng: np.random.Generator | None = None) -> np.ndarray:
    """Each pixel, with probability ``amount``, replaced by 1 (salt, a share ``salt_ratio`` of them)
    or by 0 (pepper); the other pixels are left as they are.

    Used in Lab 2, step 6 (a second kind of noise, at several amounts).
    """
    images = _as_unit_images(images, "salt_and_pepper")
    amount = _as_level(amount, "amount", upper=1.0, example="0.1 (10 % of the pixels)")
    salt_ratio = _as_level(salt_ratio, "salt_ratio", upper=1.0, example="0.5 (half salt, half pepper)")
    generator = _generator(seed, rng, "salt_and_pepper")
    hit = generator.random(images.shape) < amount
    salt = generator.random(images.shape) < salt_ratio
    noisy = images.copy()
    noisy[hit & salt] = 1.0
    noisy[hit & ~salt] = 0.0
    return noisy


# --- checks of the arguments ---------------------------------------------------------------------

def _as_unit_images(images, function: str) -> np.ndarray:
    array = np.asarray(images)
    if array.size == 0:
        raise ValueError(f"{function}: the images are empty (shape {array.shape}); pass at least one image.")
    if array.dtype == np.uint8 or np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{function}: expected preprocessed images (floats in [0, 1]); got {array.dtype} "
                         f"pixels from {array.min()} to {array.max()}. Call labkit.data.preprocess() first.")
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{function}: expected an array of floats in [0, 1]; got dtype {array.dtype}.")
    if not np.isfinite(array).all():
        raise ValueError(f"{function}: the images hold NaN or infinite values; check how they were made.")
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 1:
        hint = (" These look like 0-255 pixels stored as floats: divide by 255 (labkit.data.preprocess)."
                if high > 1.5 else "")
        raise ValueError(f"{function}: expected pixel values in [0, 1]; got values from {low:g} to {high:g}.{hint}")
    return array


def _as_level(value, name: str, *, upper: float | None, example: str) -> float:
    try:
        level = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, e.g. {example}; got {value!r}.") from None
    if not math.isfinite(level) or level < 0 or (upper is not None and level > upper):
        allowed = f"between 0 and {upper:g}" if upper is not None else "0 or more"
        raise ValueError(f"{name} must be {allowed}, e.g. {example}; got {value!r}.")
    return level


def _generator(seed, rng, function: str) -> np.random.Generator:
    if seed is not None and rng is not None:
        raise ValueError(f"{function}: give either seed= (a whole number) or rng= (a numpy Generator), "
                         "not both.")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"{function}: rng must be a numpy.random.Generator, e.g. "
                            f"np.random.default_rng(0); got {type(rng).__name__}.")
        return rng
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"{function}: seed must be a whole number, e.g. seed=0; got {seed!r}.")
    return np.random.default_rng(seed)
