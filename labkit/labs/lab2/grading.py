"""Grading Lab 2: the state each exercise starts from, and the data its answers are judged against.

The grading run (see :mod:`labkit.grading.exports`) calls :func:`prepare` before each answer, inside
the sandbox; the grader calls :func:`reference` once and :func:`expected` for each exercise, in its own
process, then applies the exercise's rule from :mod:`labkit.labs.lab2.rules`.
"""

from __future__ import annotations

import numpy as np

from labkit.labs.lab2 import BATCH_SIZE, NOISE_FACTOR, rules
from labkit.labs.lab2.rules import make_inputs  # noqa: F401 - the grader draws each run's inputs with it

EXERCISES = {exercise.grade_id: exercise for exercise in rules.EXERCISES}

NOISE_SEED = 42
"""The seed of the training images' noise that :func:`prepare` gives the last exercise (the test images get
``NOISE_SEED + 1``, as in the notebook); fixed here, so the grader's copy never depends on its own settings."""


def _noisy_mnist(x_train_raw: np.ndarray, x_test_raw: np.ndarray) -> dict[str, np.ndarray]:
    """The notebook's clean and noisy images, from the raw MNIST it loaded."""
    from labkit import data, noise

    x_train, x_test = data.preprocess(x_train_raw, flatten=False), data.preprocess(x_test_raw, flatten=False)
    return {"x_train": x_train, "x_test": x_test,
            "x_train_noisy": noise.gaussian(x_train, NOISE_FACTOR, seed=NOISE_SEED),
            "x_test_noisy": noise.gaussian(x_test, NOISE_FACTOR, seed=NOISE_SEED + 1)}


# --- in the sandbox, before each answer ---------------------------------------------------------------

def prepare(grade_id: str, namespace: dict) -> None:
    """Put in ``namespace`` the correct objects the exercise ``grade_id`` builds on.

    The decoder's exercise gets the encoder it is composed with, and the autoencoder the cell after it composes
    (its self-check, ``check_denoiser``, names it); the last exercise gets the clean and noisy images and an
    uncompiled denoiser. Models come from :func:`labkit.models.conv_denoiser`, untrained, in the kit's precision.
    """
    from labkit import data, models

    if grade_id == "L2-decoder":
        namespace["autoencoder"], namespace["encoder"], _ = models.conv_denoiser()
    elif grade_id == "L2-train-pairs":
        (x_train_raw, _), (x_test_raw, _) = data.load_mnist(verbose=False)
        namespace.update(_noisy_mnist(x_train_raw, x_test_raw), BATCH_SIZE=BATCH_SIZE)
        namespace["autoencoder"] = models.conv_denoiser()[0]


# --- in the grader ---------------------------------------------------------------------------------

def reference() -> dict[str, np.ndarray]:
    """The clean and noisy MNIST sample the sandbox's quick mode prepares (the grader's own copy)."""
    from labkit import data

    (x_train_raw, _), (x_test_raw, _) = data.load_sample("mnist")
    return _noisy_mnist(x_train_raw, x_test_raw)


def expected(grade_id: str, reference: dict) -> dict:
    """What exercise ``grade_id``'s answer is compared with."""
    if grade_id == "L2-train-pairs":
        return {"datasets": {
            "train_ds": {"inputs": reference["x_train_noisy"], "targets": reference["x_train"], "shuffled": True,
                         "batch_size": BATCH_SIZE},
            "val_ds": {"inputs": reference["x_test_noisy"], "targets": reference["x_test"], "shuffled": False,
                       "batch_size": BATCH_SIZE}},
            "compiled": {"optimizer": "adam"}}
    return {}
