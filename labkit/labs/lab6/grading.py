"""Grading Lab 6: the state each exercise starts from, and what its answers are compared with.

The grading run (see :mod:`labkit.grading.exports`) calls :func:`prepare` before each answer, inside
the sandbox; the grader calls :func:`reference` once and :func:`expected` for each exercise, in its own
process, then applies the exercise's rule from :mod:`labkit.labs.lab6.rules`. Every exercise of Lab 6 is
a layer or a function written with the lab's imports; the loss builds on the KL term, so it starts from
the lab's own ``kl_divergence``, and a wrong KL term costs only its own points.
"""

from __future__ import annotations

from labkit.labs.lab6 import rules
from labkit.labs.lab6.rules import make_inputs  # noqa: F401 - the grader draws each run's inputs with it

EXERCISES = {exercise.grade_id: exercise for exercise in rules.EXERCISES}


# --- in the sandbox, before each answer ---------------------------------------------------------------

def prepare(grade_id: str, namespace: dict) -> None:
    """Put in ``namespace`` what the exercise ``grade_id`` builds on: the lab's imports (put back in case an
    earlier answer replaced one), and for the loss the lab's KL term."""
    import keras
    import numpy as np
    from scipy.stats import norm

    from labkit import latent

    namespace.update(np=np, keras=keras, layers=keras.layers, ops=keras.ops, latent=latent, norm=norm)
    if grade_id == "L6-loss":
        from labkit.labs.lab6 import vae

        namespace["kl_divergence"] = vae.kl_divergence


# --- in the grader ---------------------------------------------------------------------------------

def reference() -> dict:
    """Nothing: every rule computes its own reference from the run's drawn inputs."""
    return {}


def expected(grade_id: str, reference: dict) -> dict:
    """What exercise ``grade_id``'s answer is compared with: the drawn inputs say it all."""
    return {}
