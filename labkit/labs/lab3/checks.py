"""Lab 3's self-checks, called after each exercise.

(To become: the student's live objects judged by Lab 3's rules, the autograder's own; see Lab 1.)
"""

from __future__ import annotations

import numpy as np

from labkit.checks import activation_name, describe, fail, io_shapes, layers_of, passed  # noqa: F401

__all__ = ["check_compression_ratio", "check_bottleneck_encoder", "check_probe", "check_anomaly_scores", "check_threshold"]


def dense_layers(model) -> list:
    import keras

    return layers_of(model, keras.layers.Dense)



def check_compression_ratio(compression_ratio) -> None:
    """Exercise 1 of Lab 3: ``compression_ratio(latent)`` is 784 / latent, as a float."""
    if not callable(compression_ratio):
        fail("compression_ratio", "a function", describe(compression_ratio),
              "Define it with def compression_ratio(latent, input_dim=784): ...")
    for latent, expected in ((16, 49.0), (2, 392.0), (3, 784 / 3), (784, 1.0)):
        found = compression_ratio(latent)
        if isinstance(found, (int, float, np.number)) and abs(float(found) - 261.0) < 1e-9 and latent == 3:
            fail("compression_ratio(3)", f"{expected:.4f}", f"{found}",
                  "Use true division (/), not integer division (//): 784 / 3 is not a whole number.")
        if not isinstance(found, (int, float, np.number)) or abs(float(found) - expected) > 1e-9:
            fail(f"compression_ratio({latent})", f"{expected:g} (784 input numbers per code number)",
                  repr(found), "Divide the number of pixels by the size of the code.")
    passed("compression_ratio: 784 / latent (16 → 49, 2 → 392).")


def check_bottleneck_encoder(encoder, *, latent: int = 16) -> None:
    """Exercise 2 of Lab 3: the convolutional encoder with a linear dense code of size ``latent``."""
    import keras

    from labkit import models

    inputs, outputs = io_shapes(encoder, "the encoder")
    if inputs != (None, 28, 28, 1):
        fail("the encoder's input shape", "(None, 28, 28, 1) — images, not flat vectors", str(inputs),
              "Start with keras.Input(shape=(28, 28, 1)).")
    if outputs != (None, latent):
        fail("the encoder's output shape", f"(None, {latent}) — the code", str(outputs),
              f"End with layers.Dense({latent}, name='code').")
    try:
        code = encoder.get_layer("code")
    except ValueError:
        fail("the code layer", "a Dense layer named 'code'", "no layer of that name",
              "Give the last layer name='code' so the lab can find it.")
    if not isinstance(code, keras.layers.Dense) or code.units != latent:
        fail("the 'code' layer", f"Dense({latent})", f"{type(code).__name__}")
    if activation_name(code) != "linear":
        fail("the code's activation", "none (linear)", activation_name(code),
              "A ReLU code of size 2 can die: a unit that is negative for every image outputs 0 and never "
              "learns again. Leave the code layer without an activation.")
    def convs(model):
        return [layer for layer in model._flatten_layers(include_self=False)
                if isinstance(layer, keras.layers.Conv2D)]

    reference = models.conv_bottleneck_autoencoder(latent=latent)[1]
    wanted = [layer.filters for layer in convs(reference)]
    if [layer.filters for layer in convs(encoder)] != wanted or any(c.strides != (2, 2) for c in convs(encoder)):
        fail("the convolutions", " and ".join(f"Conv2D({f}, strides=2)" for f in wanted),
              ", ".join(f"Conv2D({c.filters}, strides={c.strides})" for c in convs(encoder)) or "none")
    widths = [layer.units for layer in reference._flatten_layers(include_self=False)
              if isinstance(layer, keras.layers.Dense)][:-1]
    found = [layer.units for layer in dense_layers(encoder)][:-1]
    if found != widths:
        fail("the Dense layers before the code", f"units {widths}", f"units {found}")
    if encoder.count_params() != reference.count_params():
        fail("the encoder's parameters", f"{reference.count_params():,}", f"{encoder.count_params():,}",
              "Check that each hidden layer is followed by BatchNormalization (and then has no bias: "
              "use_bias=False).")
    passed(f"encoder: 28×28 → 14×14×{wanted[0]} → 7×7×{wanted[1]} → {' → '.join(map(str, widths))} → "
            f"a linear code of {latent}.")


def check_probe(probe_accuracy) -> None:
    """Exercise 3 of Lab 3: ``probe_accuracy`` fits a logistic regression on the training codes and
    returns its accuracy on the test codes."""
    if not callable(probe_accuracy):
        fail("probe_accuracy", "a function", describe(probe_accuracy))
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    labels = np.repeat(np.arange(3), 60)
    train_codes = centres[labels] + rng.normal(size=(180, 2))
    test_codes = centres[labels] + rng.normal(size=(180, 2))
    found = probe_accuracy(train_codes, labels, test_codes, labels)
    if not isinstance(found, (float, np.floating)) or not 0 <= found <= 1:
        fail("probe_accuracy(...)", "an accuracy, a float between 0 and 1", repr(found),
              "Return probe.score(test_codes, test_labels) (or accuracy_score), as a float.")
    if found < 0.95:
        fail("the accuracy on three well-separated clusters", "at least 0.95", f"{found:.3f}",
              "Fit LogisticRegression on the training codes and labels, then score it on the test codes.")
    relabelled = (labels + 1) % 3
    cheat = probe_accuracy(train_codes, labels, test_codes, relabelled)
    if cheat > 0.2:
        fail("the accuracy when the test labels disagree with the training labels", "close to 0",
              f"{cheat:.3f}", "The probe must be fitted on the training codes only, never on the test codes.")
    passed(f"probe_accuracy: fitted on training codes, scored on test codes ({found:.3f} on a toy set).")


def check_anomaly_scores(anomaly_scores) -> None:
    """Exercise 4 of Lab 3: one score per image, its BCE minus its own floor (the excess)."""
    from labkit import anomaly

    if not callable(anomaly_scores):
        fail("anomaly_scores", "a function", describe(anomaly_scores))
    rng = np.random.default_rng(1)
    images = rng.random((5, 28, 28, 1)).astype("float32")
    images[0] = 0.0
    reconstructions = np.clip(images + rng.normal(scale=0.1, size=images.shape), 0.01, 0.99).astype("float32")
    found = np.asarray(anomaly_scores(images, reconstructions), dtype=float)
    if found.shape != (5,):
        fail("anomaly_scores(images, reconstructions)", "one score per image, shape (5,) for 5 images",
              str(found.shape), "Average over every axis but the first, e.g. .reshape(len(images), -1).mean(axis=1).")
    expected = anomaly.reconstruction_errors(images, reconstructions, kind="excess")
    plain = anomaly.reconstruction_errors(images, reconstructions, kind="bce")
    if np.allclose(found, plain, atol=1e-4) and not np.allclose(plain, expected, atol=1e-4):
        fail("the scores", "each image's BCE minus its own floor", "each image's BCE",
              "Subtract the BCE of the image against itself (its floor), so that images with more grey "
              "pixels are not flagged for that alone.")
    if not np.allclose(found, expected, atol=1e-4):
        fail("the scores", f"{np.round(expected, 4)}", f"{np.round(found, 4)}",
              "Clip the reconstructions to [1e-7, 1 - 1e-7] before taking logarithms, as Keras does.")
    passed("anomaly_scores: each image's excess over its own floor.")


def check_threshold(choose_threshold) -> None:
    """Exercise 5 of Lab 3: ``choose_threshold(normal_scores, false_alarm_rate)`` flags that fraction of
    normal (training) images."""
    if not callable(choose_threshold):
        fail("choose_threshold", "a function", describe(choose_threshold))
    normal = np.random.default_rng(2).gamma(2.0, size=2000)
    for rate in (0.05, 0.01):
        threshold = choose_threshold(normal, rate)
        if not isinstance(threshold, (float, np.floating)):
            fail(f"choose_threshold(scores, {rate})", "one number (a float)", describe(threshold))
        flagged = float(np.mean(normal >= threshold))
        if abs(flagged - rate) > 0.005:
            fail(f"the share of normal images at or above the threshold for a rate of {rate}",
                  f"about {rate}", f"{flagged:.3f}",
                  "Take the (1 - false_alarm_rate) quantile of the normal scores: np.quantile(scores, 1 - rate).")
    passed("choose_threshold: flags the chosen share of normal images, using normal images only.")
