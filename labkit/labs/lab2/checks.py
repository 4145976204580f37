"""Lab 2's self-checks, called after each exercise: the student's live objects, judged by Lab 2's rules.

Each one observes the objects with the inputs the grader's rules expect (drawn with a fixed seed) and
applies the same rule the autograder applies (:mod:`labkit.labs.lab2.rules`), so a ✅ here is the
grader's verdict on the same question. The notebook also calls Lab 1's ``check_compiled``.
"""

from __future__ import annotations

import numpy as np

from labkit.checks import self_check
from labkit.labs.lab2 import BATCH_SIZE, FILTERS, STRIDES, rules

__all__ = ["check_gaussian_noise", "check_denoiser_encoder", "check_denoiser_decoder", "check_denoiser",
           "check_denoising_pipeline"]


def _inputs() -> dict:
    return rules.make_inputs(np.random.default_rng(0))


def check_gaussian_noise(add_noise) -> None:
    """Exercise 1: ``add_noise(images, factor, seed)`` adds ``factor`` × N(0, 1) noise to every pixel, clips to
    [0, 1], returns float32 of the same shape, repeats with a seed, leaves ``images`` untouched."""
    self_check(rules.NOISE, {"add_noise": add_noise}, inputs=_inputs(), expected={})


def check_denoiser_encoder(encoder, *, filters: tuple[int, ...] = FILTERS, strides: tuple[int, ...] = STRIDES
                           ) -> None:
    """Exercise 2: Conv2D 32 → Conv2D 64 stride 2 → Conv2D 128 stride 2 → Flatten (6,272), float32 output."""
    features = (28 // int(np.prod(strides))) ** 2 * filters[-1]
    self_check(rules.ENCODER, {"encoder": encoder}, inputs=_inputs(),
               expected={"filters": tuple(filters), "strides": tuple(strides)},
               passed_line=f"encoder: {' → '.join(map(str, filters))} filters, strides {list(strides)}, "
                           f"{features:,} features per image.")


def check_denoiser_decoder(decoder, *, features: int = rules.FEATURES) -> None:
    """Exercise 3: Reshape 7×7×128 → Conv2DTranspose 64 and 32 (stride 2) → Conv2D 1, sigmoid, float32 output."""
    self_check(rules.DECODER, {"decoder": decoder}, inputs=_inputs(), expected={"features": features})


def check_denoiser(autoencoder) -> None:
    """After exercise 3: the autoencoder is ``decoder(encoder(image))``, (n, 28, 28, 1) → (n, 28, 28, 1)."""
    self_check(rules.DENOISER, {"autoencoder": autoencoder}, inputs=_inputs(), expected={})


def check_denoising_pipeline(dataset, noisy: np.ndarray, clean: np.ndarray, *, batch_size: int = BATCH_SIZE,
                             shuffled: bool = True) -> None:
    """Exercise 4: a tf.data pipeline of (noisy image, its clean original) batches; the training one shuffled anew
    each pass, the validation one in order."""
    name = "train_ds" if shuffled else "val_ds"
    wanted = {"inputs": np.asarray(noisy), "targets": np.asarray(clean), "shuffled": shuffled,
              "batch_size": batch_size}
    self_check(rules.TRAIN_PAIRS, {name: dataset}, inputs=_inputs(), expected={"datasets": {name: wanted}},
               passed_line=f"pipeline: (noisy, clean) pairs in batches of {batch_size}"
                           + (", shuffled anew each pass." if shuffled else ", in order."))
