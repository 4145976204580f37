"""Grading Lab 3: the state each exercise starts from, and what its answers are compared with.

The grading run (see :mod:`labkit.grading.exports`) calls :func:`prepare` before each answer, inside
the sandbox; the grader calls :func:`reference` once and :func:`expected` for each exercise, in its own
process, then applies the exercise's rule from :mod:`labkit.labs.lab3.rules`. Every exercise of Lab 3 is
a function or a model built from the lab's imports alone, so each starts from those imports, put back in
case an earlier answer replaced one of them.
"""

from __future__ import annotations

from labkit.labs.lab3 import LATENT, rules
from labkit.labs.lab3.rules import make_inputs  # noqa: F401 - the grader draws each run's inputs with it

EXERCISES = {exercise.grade_id: exercise for exercise in rules.EXERCISES}


# --- in the sandbox, before each answer ---------------------------------------------------------------

def prepare(grade_id: str, namespace: dict) -> None:
    """Put in ``namespace`` what the exercise ``grade_id`` builds on: the lab's imports of NumPy and Keras."""
    import keras
    import numpy as np

    namespace.update(np=np, keras=keras, layers=keras.layers)


# --- in the grader ---------------------------------------------------------------------------------

def reference() -> dict:
    """The lab's code size. Imports the lab's model builders now, so that the first submission's encoder rule
    (which rebuilds the lab's encoder) does not pay for importing Keras."""
    import labkit.models  # noqa: F401

    return {"latent": LATENT}


def expected(grade_id: str, reference: dict) -> dict:
    """What exercise ``grade_id``'s answer is compared with."""
    if grade_id == "L3-encoder":
        return {"latent": reference["latent"]}
    return {}
