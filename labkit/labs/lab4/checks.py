"""Lab 4's self-checks, called after each exercise.

(To become: the student's live objects judged by Lab 4's rules, the autograder's own; see Lab 1.)
"""

from __future__ import annotations

import numpy as np

from labkit.checks import activation_name, describe, fail, io_shapes, layers_of, passed  # noqa: F401

__all__ = ["check_conv_encoder", "check_conv_decoder", "check_frozen_features", "check_transfer_classifier", "check_fine_tuning", "check_balanced_subset"]


def dense_layers(model) -> list:
    import keras

    return layers_of(model, keras.layers.Dense)


def check_conv_encoder(encoder, *, filters: tuple[int, int, int] = (32, 16, 8)) -> None:
    """Exercise 1 of Lab 4: Conv2D → pool → Conv2D → pool → Conv2D, from (28, 28, 1) to a 7×7 code."""
    import keras

    from labkit import models

    inputs, outputs = io_shapes(encoder, "the encoder")
    if inputs != (None, 28, 28, 1):
        fail("the encoder's input shape", "(None, 28, 28, 1) — whole images", str(inputs),
              "Start with keras.Input(shape=(28, 28, 1)); convolutions need the image's height and width.")
    widths = [layer.filters for layer in layers_of(encoder, keras.layers.Conv2D)]
    if widths != list(filters):
        fail("the encoder's convolutions", f"three Conv2D layers of {list(filters)} filters", f"{widths}")
    pools = layers_of(encoder, keras.layers.MaxPooling2D)
    if len(pools) != 2:
        fail("the encoder's pooling layers", "two MaxPooling2D layers (28 → 14 → 7)", f"{len(pools)}",
              "Put layers.MaxPooling2D(2) after each of the first two convolutions.")
    if outputs != (None, 7, 7, filters[-1]):
        fail("the encoder's output shape (the code)", f"(None, 7, 7, {filters[-1]})", str(outputs),
              "Use padding='same' so that only the pooling layers shrink the image.")
    expected = models.conv_autoencoder(filters)[1].count_params()
    if encoder.count_params() != expected:
        fail("the encoder's parameters", f"{expected:,} (3×3 kernels with biases)", f"{encoder.count_params():,}",
              "Use kernel_size=3 in every Conv2D.")
    passed(f"encoder: {filters[0]} → pool → {filters[1]} → pool → {filters[2]}, code 7×7×{filters[2]}.")


def check_conv_decoder(decoder, *, filters: tuple[int, int, int] = (32, 16, 8)) -> None:
    """Exercise 1 of Lab 4: the mirrored decoder, from the 7×7 code back to a (28, 28, 1) sigmoid image."""
    import keras

    from labkit import models

    inputs, outputs = io_shapes(decoder, "the decoder")
    if inputs != (None, 7, 7, filters[-1]):
        fail("the decoder's input shape", f"(None, 7, 7, {filters[-1]}) — the code", str(inputs))
    if outputs != (None, 28, 28, 1):
        fail("the decoder's output shape", "(None, 28, 28, 1) — an image", str(outputs),
              "Two UpSampling2D(2) layers take 7×7 back to 28×28; end with a 1-filter Conv2D.")
    convs = layers_of(decoder, keras.layers.Conv2D)
    widths = [layer.filters for layer in convs]
    if widths != [filters[1], filters[0], 1]:
        fail("the decoder's convolutions", f"{[filters[1], filters[0], 1]} filters (the encoder's in reverse, "
              "then one for the image)", f"{widths}")
    if activation_name(convs[-1]) != "sigmoid":
        fail("the last convolution's activation", "sigmoid", activation_name(convs[-1]),
              "Pixels lie in [0, 1]; binary cross-entropy needs probabilities.")
    sizes = [tuple(layer.output.shape)[1:3] for layer in convs]
    if sizes != [(14, 14), (28, 28), (28, 28)]:
        fail("the sizes the decoder's convolutions work at", "14×14, 28×28, 28×28 (each at its encoder twin's size)",
              " , ".join(f"{h}×{w}" for h, w in sizes), "Upsample first, then convolve: UpSampling2D → Conv2D.")
    expected = models.conv_autoencoder(filters)[2].count_params()
    if decoder.count_params() != expected:
        fail("the decoder's parameters", f"{expected:,}", f"{decoder.count_params():,}", "Use 3×3 kernels.")
    passed(f"decoder: up → {filters[1]} → up → {filters[0]} → 1 (sigmoid), image 28×28×1.")


def check_frozen_features(features, encoder, *, layer: str) -> None:
    """Exercise 2 of Lab 4: ``features`` is ``encoder`` cut after ``layer``, frozen."""
    inputs, outputs = io_shapes(features, "the feature extractor")
    expected = tuple(encoder.get_layer(layer).output.shape)
    if inputs != (None, 28, 28, 1) or outputs != expected:
        fail("the feature extractor's shapes", f"(None, 28, 28, 1) → {expected} (the output of {layer!r})",
              f"{inputs} → {outputs}", f"Build keras.Model(encoder.input, encoder.get_layer({layer!r}).output).")
    if features.trainable_weights:
        fail("the feature extractor", "frozen (no trainable weights)",
              f"{len(features.trainable_weights)} trainable weight tensors", "Set features.trainable = False.")
    mine, theirs = features.get_weights(), encoder.get_weights()[: len(features.get_weights())]
    if not all(np.array_equal(a, b) for a, b in zip(mine, theirs)):
        fail("the feature extractor's weights", "those the MNIST autoencoder learned", "different weights",
              "Cut the trained encoder (or an exact copy of it); do not build new, random layers.")
    passed(f"features: the MNIST encoder up to {layer!r}, output {outputs[1:]}, frozen.")


def check_transfer_classifier(classifier, features, *, classes: int = 10) -> None:
    """Exercise 3 of Lab 4: frozen features → Flatten → Dense(10, softmax), compiled for integer labels."""
    import keras

    inputs, outputs = io_shapes(classifier, "the classifier")
    if outputs != (None, classes):
        fail("the classifier's output shape", f"(None, {classes}) — one probability per class", str(outputs))
    dense = dense_layers(classifier)
    if len(dense) != 1 or activation_name(dense[0]) != "softmax":
        found = [f"Dense({d.units}, {activation_name(d)})" for d in dense]
        fail("the head", f"a single Dense({classes}, activation='softmax') after Flatten", f"{found}")
    flat = int(np.prod(features.output_shape[1:]))
    head = flat * classes + classes
    trained = int(sum(np.prod(w.shape) for w in classifier.trainable_weights))
    if trained != head:
        fail("the parameters training will change", f"only the head's {head:,} ({flat:,} features × {classes} + "
              f"{classes})", f"{trained:,}", "Freeze the features (features.trainable = False) before compiling.")
    if getattr(classifier, "optimizer", None) is None:
        fail("the classifier", "compiled", "not compiled yet", "Call classifier.compile(...).")
    loss = getattr(classifier.loss, "name", None) or getattr(classifier.loss, "__name__", None) or str(classifier.loss)
    if loss != "sparse_categorical_crossentropy":
        fail("the loss", "sparse_categorical_crossentropy (the labels are integers 0-9)", str(loss))
    probe = np.asarray(classifier(np.zeros((2, *inputs[1:]), dtype="float32")))
    if not np.allclose(probe.sum(axis=1), 1, atol=1e-4):
        fail("the outputs", "probabilities that sum to 1", f"sums {probe.sum(axis=1)}")
    del keras
    passed(f"classifier: frozen features → Flatten ({flat:,}) → Dense({classes}, softmax); "
            f"{head:,} parameters to train.")


def check_fine_tuning(classifier, *, max_learning_rate: float = 1e-4) -> None:
    """Exercise 4 of Lab 4: every weight trainable again, recompiled with a small learning rate."""
    frozen = len(classifier.non_trainable_weights)
    if frozen:
        fail("the classifier", "every weight trainable (the encoder unfrozen)", f"{frozen} frozen weight tensors",
              "Set features.trainable = True, then compile again: trainable is read when compiling.")
    optimizer = getattr(classifier, "optimizer", None)
    if optimizer is None:
        fail("the classifier", "compiled again after unfreezing", "no optimizer")
    rate = float(np.asarray(optimizer.learning_rate))
    if not 0 < rate <= max_learning_rate:
        fail("the learning rate", f"small: above 0 and at most {max_learning_rate:g}", f"{rate:g}",
              "Large steps would wreck the pretrained features in the first batches; try 1e-4 or 1e-5.")
    passed(f"fine-tuning: all {classifier.count_params():,} parameters trainable, learning rate {rate:g}.")


def check_balanced_subset(balanced_subset, *, classes: int = 10) -> None:
    """Exercise 5 of Lab 4: ``balanced_subset(labels, n, seed)`` draws n indices, n / 10 of each class."""
    if not callable(balanced_subset):
        fail("balanced_subset", "a function", describe(balanced_subset),
              "Define it with def balanced_subset(labels, n, seed): ...")
    labels = np.random.default_rng(1).permutation(np.repeat(np.arange(classes), 12))
    picked = np.asarray(balanced_subset(labels, 100, 7))
    if picked.shape != (100,) or not np.issubdtype(picked.dtype, np.integer):
        fail("balanced_subset(labels, 100, seed)", "100 integer indices", describe(picked),
              "Return positions into labels (np.flatnonzero, rng.choice), not the labels themselves.")
    if len(np.unique(picked)) != 100:
        fail("the indices", "100 different images", f"{len(np.unique(picked))} different ones",
              "Draw without replacement: rng.choice(..., replace=False).")
    counts = np.bincount(labels[picked], minlength=classes)
    if not np.all(counts == 100 // classes):
        fail("the classes of the subset", f"{100 // classes} of each class", f"counts {counts.tolist()}",
              "Draw n // 10 indices from each class separately.")
    again, other = np.asarray(balanced_subset(labels, 100, 7)), np.asarray(balanced_subset(labels, 100, 8))
    if not np.array_equal(np.sort(picked), np.sort(again)):
        fail("two draws with the same seed", "the same subset", "different subsets",
              "Make the generator from the seed: rng = np.random.default_rng(seed).")
    if np.array_equal(np.sort(picked), np.sort(other)):
        fail("draws with different seeds", "different subsets", "the same subset", "Use the seed you are given.")
    passed("balanced_subset: n / 10 images of every class, the same for the same seed.")
