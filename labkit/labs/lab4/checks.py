"""Lab 4's self-checks, called after each exercise: the student's live objects, judged by Lab 4's rules.

Each one observes the objects with the inputs the grader's rules expect (drawn with a fixed seed) and
applies the same rule the autograder applies (:mod:`labkit.labs.lab4.rules`), so a ✅ here is the
grader's verdict on the same question.
"""

from __future__ import annotations

import warnings

import numpy as np

from labkit.checks import self_check
from labkit.labs.lab4 import BASELINE, CUT, FINE_TUNE_RATE, LEARNING_RATE, rules

__all__ = ["check_conv_encoder", "check_conv_decoder", "check_frozen_features", "check_transfer_classifier",
           "check_fine_tuning", "check_balanced_subset"]


def _inputs() -> dict:
    return rules.make_inputs(np.random.default_rng(0))


def _fashion_labels() -> np.ndarray:
    """The training labels of the Fashion-MNIST this notebook loaded, from where it loaded them (never downloading;
    its own loading cell has already said where they come from)."""
    from labkit import data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.SampleDataWarning)
        (_, labels), _ = data.load_fashion_mnist(download=False, verbose=False)
    return labels


def check_conv_encoder(encoder, *, filters: tuple[int, int, int] = BASELINE["filters"]) -> None:
    """Exercise 1 of Lab 4: Conv2D → pool → Conv2D → pool → Conv2D, from (28, 28, 1) to a 7×7 code."""
    first, second, third = filters
    self_check(rules.CONV_AUTOENCODER, {"encoder": encoder}, inputs=_inputs(),
               expected={"filters": tuple(filters), "models": ("encoder",)},
               passed_line=f"encoder: {first} → pool → {second} → pool → {third}, code 7×7×{third}.")


def check_conv_decoder(decoder, *, filters: tuple[int, int, int] = BASELINE["filters"]) -> None:
    """Exercise 1 of Lab 4: the mirrored decoder, from the 7×7 code back to a (28, 28, 1) sigmoid image."""
    first, second, _ = filters
    self_check(rules.CONV_AUTOENCODER, {"decoder": decoder}, inputs=_inputs(),
               expected={"filters": tuple(filters), "models": ("decoder",)},
               passed_line=f"decoder: up → {second} → up → {first} → 1 (sigmoid), image 28×28×1.")


def check_frozen_features(features, encoder, *, layer: str = CUT) -> None:
    """Exercise 2 of Lab 4: ``features`` is a copy of ``encoder`` cut after ``layer``, frozen."""
    self_check(rules.FREEZE, {"features": features, "mnist_encoder": encoder}, inputs=_inputs(),
               expected={"layer": layer}, passed_line=f"features: a copy of the MNIST encoder up to {layer!r}, frozen.")


def check_transfer_classifier(classifier, features, *, classes: int = rules.CLASSES) -> None:
    """Exercise 3 of Lab 4: frozen features → Flatten → Dense(10, softmax), compiled with Adam on the cosine
    schedule over the lab's training steps, for integer labels; a few training steps move only the head."""
    self_check(rules.HEAD, {"frozen": classifier, "features": features}, inputs=_inputs(),
               expected={"classes": classes, "learning_rate": LEARNING_RATE,
                         "decay_steps": rules.decay_steps(_fashion_labels())},
               passed_line=f"classifier: frozen features → Flatten → Dense({classes}, softmax), Adam on the cosine\n"
                           "   schedule; training steps move only the head.")


def check_fine_tuning(classifier, *, max_learning_rate: float = FINE_TUNE_RATE) -> None:
    """Exercise 4 of Lab 4: every weight trainable again, recompiled with a small learning rate."""
    self_check(rules.FINE_TUNE, {"fine_tuned": classifier}, inputs=_inputs(),
               expected={"max_learning_rate": max_learning_rate},
               passed_line=f"fine-tuning: every weight trainable and learning, rate at most {max_learning_rate:g}.")


def check_balanced_subset(balanced_subset, *, classes: int = rules.CLASSES) -> None:
    """Exercise 5 of Lab 4: ``balanced_subset(labels, n, seed)`` draws n indices, n / 10 of each class."""
    self_check(rules.BUDGET, {"balanced_subset": balanced_subset}, inputs=_inputs(), expected={"classes": classes},
               passed_line="balanced_subset: n / 10 images of every class, the same for the same seed.")
