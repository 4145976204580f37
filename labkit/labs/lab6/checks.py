"""Lab 6's self-checks, called after each exercise: the student's live objects, judged by Lab 6's rules.

Each one observes the objects with the inputs the grader's rules expect (drawn with a fixed seed) and
applies the same rule the autograder applies (:mod:`labkit.labs.lab6.rules`), so a ✅ here is the
grader's verdict on the same question.
"""

from __future__ import annotations

import numpy as np

from labkit.checks import self_check
from labkit.labs.lab6 import rules

__all__ = ["check_sampling", "check_kl_divergence", "check_vae_loss", "check_prior_grid"]


def _inputs() -> dict:
    return rules.make_inputs(np.random.default_rng(0))


def check_sampling(Sampling) -> None:  # noqa: N803 - the class the notebook defines
    """Exercise 1 of Lab 6: the layer class ``Sampling`` draws z = mean + exp(log_var / 2) · ε, with the ε it
    is given, or with new standard-normal draws each call."""
    self_check(rules.SAMPLING, {"Sampling": Sampling}, inputs=_inputs(), expected={})


def check_kl_divergence(kl_divergence) -> None:
    """Exercise 2 of Lab 6: the closed-form KL term of each image, in keras.ops."""
    self_check(rules.KL, {"kl_divergence": kl_divergence}, inputs=_inputs(), expected={})


def check_vae_loss(vae_loss) -> None:
    """Exercise 3 of Lab 6: ``(loss, reconstruction, kl)`` in nats per image, loss = reconstruction + β·KL."""
    self_check(rules.LOSS, {"vae_loss": vae_loss}, inputs=_inputs(), expected={})


def check_prior_grid(prior_grid) -> None:
    """Exercise 4 of Lab 6: ``prior_grid(decoder, n)`` decodes the n×n grid of the prior's quantiles."""
    self_check(rules.GRID_EXERCISE, {"prior_grid": prior_grid}, inputs=_inputs(), expected={})
