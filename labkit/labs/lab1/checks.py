"""Lab 1's self-checks, called after each exercise: the student's live objects, judged by Lab 1's rules.

Each one observes the objects with the inputs the grader's rules expect (drawn with a fixed seed) and
applies the same rule the autograder applies (:mod:`labkit.labs.lab1.rules`), so a ✅ here is the
grader's verdict on the same question.
"""

from __future__ import annotations

import numpy as np

from labkit.checks import self_check
from labkit.labs.lab1 import BATCH_SIZE, HIDDEN, LATENT, PIXELS, rules

__all__ = ["check_preprocess", "check_pipeline", "check_encoder", "check_decoder", "check_autoencoder",
           "check_compiled", "count_dense_params"]


def _inputs() -> dict:
    return rules.make_inputs(np.random.default_rng(0))


def check_preprocess(preprocess) -> None:
    """Exercise 1: ``preprocess(images)`` scales uint8 images to float32 in [0, 1], flattened to (n, 784)."""
    self_check(rules.PREPROCESS, {"preprocess": preprocess}, inputs=_inputs(), expected={})


def check_pipeline(dataset, images: np.ndarray, *, batch_size: int = BATCH_SIZE, shuffled: bool = True) -> None:
    """Exercise 2: a tf.data pipeline of (image, same image) batches of ``images``, prefetched; the training
    one shuffled anew each pass, the test one in order."""
    name = "train_ds" if shuffled else "test_ds"
    self_check(rules.PIPELINES, {name: dataset}, inputs=_inputs(),
               expected={name: {"images": np.asarray(images), "shuffled": shuffled, "batch_size": batch_size}},
               passed_line=f"pipeline: (image, image) pairs in batches of {batch_size}, prefetched, "
                           + ("shuffled anew each pass." if shuffled else "in order."))


def check_encoder(encoder, *, latent: int = LATENT) -> None:
    """Exercise 3: the encoder maps (n, 784) images to (n, 32) codes through Dense 128, ReLU throughout."""
    self_check(rules.ENCODER_DECODER, {"encoder": encoder}, inputs=_inputs(),
               expected={"models": ("encoder",), "latent": latent},
               passed_line=f"encoder: {PIXELS} → {HIDDEN} → {latent}, ReLU.")


def check_decoder(decoder, *, latent: int = LATENT) -> None:
    """Exercise 3: the decoder maps (n, 32) codes to (n, 784) images through Dense 128, with a sigmoid output."""
    self_check(rules.ENCODER_DECODER, {"decoder": decoder}, inputs=_inputs(),
               expected={"models": ("decoder",), "latent": latent},
               passed_line=f"decoder: {latent} → {HIDDEN} → {PIXELS}, sigmoid output.")


def count_dense_params(*sizes: int) -> int:
    """Weights and biases of a chain of Dense layers of the given sizes, e.g. (784, 128, 32)."""
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def check_autoencoder(autoencoder, encoder=None, decoder=None, *,
                      sizes: tuple[int, ...] = (PIXELS, HIDDEN, LATENT, HIDDEN, PIXELS)) -> None:
    """Exercise 4: the autoencoder is ``decoder(encoder(x))``, (n, 784) → (n, 784). Without ``encoder`` and
    ``decoder``, the autoencoder's own two sub-models stand for them."""
    import keras

    if encoder is None and decoder is None and isinstance(autoencoder, keras.Model):
        parts = [layer for layer in autoencoder.layers if isinstance(layer, keras.Model)]
        encoder, decoder = (parts + [None, None])[:2]
    self_check(rules.AUTOENCODER, {"autoencoder": autoencoder, "encoder": encoder, "decoder": decoder},
               inputs=_inputs(), expected={"sizes": tuple(sizes)},
               passed_line=f"autoencoder: {'-'.join(map(str, sizes))}, {count_dense_params(*sizes):,} parameters.")


def check_compiled(model, *, optimizer: str = "adam") -> None:
    """Exercise 5: the model is compiled with Adam and binary cross-entropy (judged by the loss it reports)."""
    self_check(rules.COMPILED, {"autoencoder": model}, inputs=_inputs(), expected={"optimizer": optimizer},
               passed_line=f"compiled with {optimizer} and binary cross-entropy.")
