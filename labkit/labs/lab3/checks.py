"""Lab 3's self-checks, called after each exercise: the student's live objects, judged by Lab 3's rules.

Each one observes the objects with the inputs the grader's rules expect (drawn with a fixed seed) and
applies the same rule the autograder applies (:mod:`labkit.labs.lab3.rules`), so a ✅ here is the
grader's verdict on the same question.
"""

from __future__ import annotations

import numpy as np

from labkit.checks import fail, self_check
from labkit.labs.lab3 import LATENT, rules

__all__ = ["check_compression_ratio", "check_bottleneck_encoder", "check_probe", "check_anomaly_scores",
           "check_threshold"]


def _inputs() -> dict:
    return rules.make_inputs(np.random.default_rng(0))


def check_compression_ratio(compression_ratio) -> None:
    """Exercise 1 of Lab 3: ``compression_ratio(latent, input_dim=784)`` is input_dim / latent, as a float."""
    self_check(rules.RATIO, {"compression_ratio": compression_ratio}, inputs=_inputs(), expected={})


def check_bottleneck_encoder(encoder, *, latent: int = LATENT) -> None:
    """Exercise 2 of Lab 3: the convolutional encoder with batch normalisation and a linear dense code of
    ``latent`` numbers, computing what the lab's encoder computes with its weights."""
    if latent != LATENT:
        fail("the code size", f"{LATENT}, the size this exercise is graded with", str(latent),
             f"Keep LATENT = {LATENT} as the exercise cell sets it; the sweep (step 4) tries the other sizes.")
    self_check(rules.ENCODER, {"encoder": encoder}, inputs=_inputs(), expected={"latent": latent},
               passed_line=f"encoder: {rules.recipe(latent)},\n   batch normalisation after every hidden layer.")


def check_probe(probe_accuracy) -> None:
    """Exercise 3 of Lab 3: ``probe_accuracy`` fits a linear probe on the training codes only and returns its
    accuracy on the test codes, as a float."""
    self_check(rules.PROBE, {"probe_accuracy": probe_accuracy}, inputs=_inputs(), expected={})


def check_anomaly_scores(anomaly_scores) -> None:
    """Exercise 4 of Lab 3: one score per image, its BCE minus its own floor (the excess)."""
    self_check(rules.SCORES, {"anomaly_scores": anomaly_scores}, inputs=_inputs(), expected={})


def check_threshold(choose_threshold) -> None:
    """Exercise 5 of Lab 3: ``choose_threshold(normal_scores, false_alarm_rate)`` flags that share of normal
    (held-out training) images."""
    self_check(rules.THRESHOLD, {"choose_threshold": choose_threshold}, inputs=_inputs(), expected={})
