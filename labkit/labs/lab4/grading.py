"""Grading Lab 4: the state each exercise starts from, and the data its answers are judged against.

The grading run (see :mod:`labkit.grading.exports`) calls :func:`prepare` before each answer, inside
the sandbox; the grader calls :func:`reference` once and :func:`expected` for each exercise, in its own
process, then applies the exercise's rule from :mod:`labkit.labs.lab4.rules`.
"""

from __future__ import annotations

import numpy as np

from labkit.labs.lab4 import (BASELINE, BATCH, CUT, EPOCHS, FINE_TUNE_RATE, IMPROVED, LEARNING_RATE,
                              VALIDATION_FRACTION, rules)
from labkit.labs.lab4.rules import make_inputs  # noqa: F401 - the grader draws each run's inputs with it

EXERCISES = {exercise.grade_id: exercise for exercise in rules.EXERCISES}


# --- in the sandbox, before each answer ---------------------------------------------------------------

def prepare(grade_id: str, namespace: dict) -> None:
    """Put in ``namespace`` the correct objects the exercise ``grade_id`` builds on: an MNIST encoder of the
    improved autoencoder (untrained: the rules compare the answer with that encoder's own weights), its
    frozen cut, the frozen classifier and the lab's training images, built as the lab builds them."""
    from labkit import data, models, transfer

    if grade_id not in ("L4-freeze", "L4-head", "L4-fine-tune"):
        return
    namespace["mnist_encoder"] = encoder = models.conv_autoencoder(IMPROVED["filters"])[1]
    if grade_id == "L4-freeze":
        return
    (images, labels), _ = data.load_fashion_mnist(verbose=False)
    (namespace["x_train"], namespace["y_train"]), _ = transfer.validation_split(
        data.preprocess(images, flatten=False), labels, fraction=VALIDATION_FRACTION)
    namespace["features"] = features = transfer.freeze(
        transfer.cut_encoder(transfer.copy_model(encoder), CUT, name="mnist_features"))
    if grade_id == "L4-fine-tune":
        namespace["steps_per_epoch"] = -(-len(namespace["x_train"]) // BATCH)
        namespace["frozen"] = transfer.compile_classifier(
            transfer.classification_head(features, name="frozen_transfer"), learning_rate=LEARNING_RATE,
            decay_steps=EPOCHS * namespace["steps_per_epoch"])


# --- in the grader ---------------------------------------------------------------------------------

def reference() -> dict[str, np.ndarray]:
    """The training labels of the Fashion-MNIST sample, which the sandbox's quick mode trains on (the grader's
    own copy): they say how long the head's learning-rate schedule is."""
    from labkit import data

    (_, labels), _ = data.load_sample("fashion-mnist")
    return {"fashion_train_labels": labels}


def expected(grade_id: str, reference: dict) -> dict:
    """What exercise ``grade_id``'s answer is compared with."""
    if grade_id == "L4-conv-autoencoder":
        return {"filters": BASELINE["filters"]}
    if grade_id == "L4-freeze":
        return {"layer": CUT}
    if grade_id == "L4-head":
        return {"classes": rules.CLASSES, "learning_rate": LEARNING_RATE,
                "decay_steps": rules.decay_steps(reference["fashion_train_labels"])}
    if grade_id == "L4-fine-tune":
        return {"classes": rules.CLASSES, "max_learning_rate": FINE_TUNE_RATE}
    return {"classes": rules.CLASSES}
