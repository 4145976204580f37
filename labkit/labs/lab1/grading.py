"""Grading Lab 1: the state each exercise starts from, and the data its answers are judged against.

The grading run (see :mod:`labkit.grading.exports`) calls :func:`prepare` before each answer, inside
the sandbox; the grader calls :func:`reference` once and :func:`expected` for each exercise, in its own
process, then applies the exercise's rule from :mod:`labkit.labs.lab1.rules`.
"""

from __future__ import annotations

import numpy as np

from labkit.labs.lab1 import BATCH_SIZE, LATENT, rules
from labkit.labs.lab1.rules import make_inputs  # noqa: F401 - the grader draws each run's inputs with it

EXERCISES = {exercise.grade_id: exercise for exercise in rules.EXERCISES}


# --- in the sandbox, before each answer ---------------------------------------------------------------

def prepare(grade_id: str, namespace: dict) -> None:
    """Put in ``namespace`` the correct objects the exercise ``grade_id`` builds on."""
    from labkit import data, models

    if grade_id == "L1-pipeline":
        (x_train, _), (x_test, _) = data.load_mnist(verbose=False)
        namespace["x_train_flat"], namespace["x_test_flat"] = data.preprocess(x_train), data.preprocess(x_test)
    elif grade_id == "L1-autoencoder":
        _, namespace["encoder"], namespace["decoder"] = models.dense_autoencoder(latent=LATENT)
    elif grade_id == "L1-compile":
        namespace["autoencoder"] = models.dense_autoencoder(latent=LATENT)[0]


# --- in the grader ---------------------------------------------------------------------------------

def reference() -> dict[str, np.ndarray]:
    """The preprocessed MNIST sample the sandbox's quick mode loads (the grader's own copy)."""
    from labkit import data

    (x_train, _), (x_test, _) = data.load_sample("mnist")
    return {"train": data.preprocess(x_train), "test": data.preprocess(x_test)}


def expected(grade_id: str, reference: dict) -> dict:
    """What exercise ``grade_id``'s answer is compared with."""
    if grade_id == "L1-pipeline":
        return {"train_ds": {"images": reference["train"], "shuffled": True, "batch_size": BATCH_SIZE},
                "test_ds": {"images": reference["test"], "shuffled": False, "batch_size": BATCH_SIZE}}
    return {}
