"""Students' self-checks: instant, friendly feedback on each graded exercise.

Each check prints a line starting with ✅ when the work is right, and otherwise raises
:class:`CheckFailed` whose message says, in plain words, what was expected, what was found and what
to try. These checks help students; they are not the grade (the autograder decides marks outside the
student's kernel). Used after every graded exercise.
"""

from __future__ import annotations

import numpy as np

from labkit.config import settings


class CheckFailed(AssertionError):
    """A self-check found a problem; the message explains it for a student."""


def _fail(what: str, expected: str, found: str, hint: str = "") -> None:
    message = f"{what}: expected {expected}; found {found}."
    if hint:
        message += f" {hint}"
    raise CheckFailed(message)


def _passed(message: str) -> None:
    print(f"✅ {message}")


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


# --- Lab 1 ---------------------------------------------------------------------------------------

def check_preprocess(preprocess) -> None:
    """Exercise 1 of Lab 1: ``preprocess(images)`` scales uint8 images to float32 in [0, 1], flattened."""
    if not callable(preprocess):
        _fail("preprocess", "a function", _describe(preprocess), "Define it with def preprocess(images): ...")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    before = images.copy()
    result = preprocess(images)
    if not np.array_equal(images, before):
        _fail("preprocess", "the input images left unchanged", "they were modified in place",
              "Work on a copy, e.g. images.astype('float32') / 255.")
    if not isinstance(result, np.ndarray):
        _fail("preprocess(images)", "a NumPy array", _describe(result), "Return the array you computed.")
    if result.shape == (3, 28, 28) or result.shape == (3, 28, 28, 1):
        _fail("preprocess(images) shape", "(3, 784) for 3 images", str(result.shape),
              "Flatten each 28×28 image into 784 values: images.reshape(len(images), 784).")
    if result.shape != (3, 784):
        _fail("preprocess(images) shape", "(3, 784) for 3 images", str(result.shape))
    if result.dtype != np.float32:
        _fail("preprocess(images) dtype", "float32", str(result.dtype),
              "Keras works in float32; use images.astype('float32') before dividing "
              "(float64 doubles the memory, integers cannot hold fractions).")
    if result.max() > 1.0 + 1e-6:
        _fail("preprocess(images) values", "values in [0, 1]", f"a maximum of {result.max():g}",
              "Divide the pixels by 255, the largest value a uint8 pixel can take.")
    expected = images.reshape(3, 784).astype(np.float32) / 255.0
    if not np.allclose(result, expected, atol=1e-6):
        worst = np.abs(result - expected).max()
        _fail("preprocess(images) values", "pixel / 255 for every pixel, in the original order",
              f"values off by up to {worst:.4g}",
              "Divide by 255 (not 256) and do not shuffle or normalise the pixels.")
    _passed("preprocess: float32 in [0, 1], shape (n, 784), input untouched.")


def _spec_shapes(dataset):
    import tensorflow as tf

    spec = dataset.element_spec
    if not (isinstance(spec, tuple) and len(spec) == 2
            and all(isinstance(s, tf.TensorSpec) for s in spec)):
        _fail("the dataset's elements", "(input, target) pairs of tensors", str(spec),
              "Build it from (x, x): tf.data.Dataset.from_tensor_slices((x, x)).")
    return spec


def check_pipeline(dataset, images: np.ndarray, *, batch_size: int = 256, shuffled: bool = True) -> None:
    """Exercise 2 of Lab 1: a tf.data pipeline of (image, same image) batches from ``images``."""
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset):
        _fail("the pipeline", "a tf.data.Dataset", _describe(dataset),
              "Start from tf.data.Dataset.from_tensor_slices(...).")
    spec = _spec_shapes(dataset)
    for part, s in zip(("input", "target"), spec):
        if s.shape.rank != 2 or s.shape[-1] != images.shape[-1]:
            _fail(f"the {part} batches' shape", f"(batch, {images.shape[-1]})", str(tuple(s.shape)),
                  "Did you call .batch(...) exactly once, on preprocessed (n, 784) images?")
        if s.dtype != tf.float32:
            _fail(f"the {part} dtype", "float32", s.dtype.name, "Preprocess the images first.")
    inputs, targets = next(iter(dataset))
    inputs, targets = inputs.numpy(), targets.numpy()
    if len(inputs) != min(batch_size, len(images)):
        _fail("the first batch's size", str(batch_size), str(len(inputs)), f"Use .batch({batch_size}).")
    if not np.array_equal(inputs, targets):
        _fail("each target", "the same image as its input (an autoencoder reproduces its input)",
              "targets that differ from the inputs", "Build the dataset from (x, x).")
    first = images[: len(inputs)]
    if shuffled and np.array_equal(inputs, first):
        _fail("the training batches", "shuffled images", "the images in their stored order",
              "Add .shuffle(buffer_size) before .batch(...), with a buffer as large as the data.")
    if not shuffled and not np.array_equal(inputs, first):
        _fail("the test batches", "the images in their stored order", "a different order",
              "Do not shuffle the test set: it makes results harder to compare.")
    _passed(f"pipeline: (image, image) pairs in batches of {batch_size}"
            + (", shuffled." if shuffled else ", in order."))


def _io_shapes(model, name: str):
    import keras

    if not isinstance(model, keras.Model):
        _fail(name, "a keras.Model", _describe(model), "Build it with keras.Model(inputs, outputs, name=...).")
    return tuple(model.input_shape), tuple(model.output_shape)


def _dense_layers(model):
    import keras

    return [layer for layer in model._flatten_layers(include_self=False) if isinstance(layer, keras.layers.Dense)]


def _activation_name(layer) -> str:
    return getattr(layer.activation, "__name__", str(layer.activation))


def check_encoder(encoder, *, input_dim: int = 784, hidden: int = 128, latent: int = 32) -> None:
    """Exercise 3 of Lab 1: the encoder maps (n, 784) images to (n, 32) codes through Dense 128."""
    inputs, outputs = _io_shapes(encoder, "the encoder")
    if inputs != (None, input_dim):
        _fail("the encoder's input shape", f"(None, {input_dim})", str(inputs),
              f"Start with keras.Input(shape=({input_dim},)).")
    if outputs != (None, latent):
        _fail("the encoder's output shape", f"(None, {latent}) — the code", str(outputs),
              f"The last encoder layer should be Dense({latent}).")
    units = [layer.units for layer in _dense_layers(encoder)]
    if units != [hidden, latent]:
        _fail("the encoder's Dense layers", f"units {[hidden, latent]}", f"units {units}")
    activations = [_activation_name(layer) for layer in _dense_layers(encoder)]
    if activations[0] != "relu":
        _fail("the hidden layer's activation", "relu", activations[0])
    _passed(f"encoder: {input_dim} → {hidden} → {latent}.")


def check_decoder(decoder, *, output_dim: int = 784, hidden: int = 128, latent: int = 32) -> None:
    """Exercise 3 of Lab 1: the decoder maps (n, 32) codes to (n, 784) images with values in [0, 1]."""
    inputs, outputs = _io_shapes(decoder, "the decoder")
    if inputs != (None, latent):
        _fail("the decoder's input shape", f"(None, {latent}) — a code", str(inputs),
              f"Start the decoder with keras.Input(shape=({latent},)).")
    if outputs != (None, output_dim):
        _fail("the decoder's output shape", f"(None, {output_dim}) — one value per pixel", str(outputs))
    dense = _dense_layers(decoder)
    units = [layer.units for layer in dense]
    if units != [hidden, output_dim]:
        _fail("the decoder's Dense layers", f"units {[hidden, output_dim]}", f"units {units}")
    if _activation_name(dense[-1]) != "sigmoid":
        _fail("the output activation", "sigmoid", _activation_name(dense[-1]),
              "Pixels lie in [0, 1] and binary cross-entropy needs probabilities: use sigmoid.")
    _passed(f"decoder: {latent} → {hidden} → {output_dim}, sigmoid output.")


def count_dense_params(*sizes: int) -> int:
    """Weights and biases of a chain of Dense layers of the given sizes, e.g. (784, 128, 32)."""
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def check_autoencoder(autoencoder, *, sizes: tuple[int, ...] = (784, 128, 32, 128, 784)) -> None:
    """Exercise 4 of Lab 1: the autoencoder joins encoder and decoder, (n, 784) → (n, 784)."""
    inputs, outputs = _io_shapes(autoencoder, "the autoencoder")
    if inputs != (None, sizes[0]) or outputs != (None, sizes[-1]):
        _fail("the autoencoder's shapes", f"(None, {sizes[0]}) → (None, {sizes[-1]})",
              f"{inputs} → {outputs}", "Feed the encoder's output into the decoder: decoder(encoder(x)).")
    expected = count_dense_params(*sizes)
    found = autoencoder.count_params()
    if found != expected:
        _fail("the number of parameters", f"{expected:,} for {'-'.join(map(str, sizes))}", f"{found:,}",
              "Check each layer's size; model.summary() lists them.")
    probe = np.random.default_rng(0).random((4, sizes[0]), dtype=np.float32)
    out = np.asarray(autoencoder(probe))
    if out.min() < 0 or out.max() > 1:
        _fail("the reconstructions", "values in [0, 1]", f"values from {out.min():g} to {out.max():g}")
    _passed(f"autoencoder: {'-'.join(map(str, sizes))}, {expected:,} parameters.")


def check_compiled(model, *, optimizer: str = "adam", loss: str = "binary_crossentropy") -> None:
    """Exercise 5 of Lab 1: the model is compiled with Adam and binary cross-entropy."""
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        _fail("the model", "compiled", "not compiled yet", "Call model.compile(optimizer=..., loss=...).")
    found_opt = type(model.optimizer).__name__.lower()
    if found_opt != optimizer:
        _fail("the optimizer", optimizer, found_opt)
    found_loss = model.loss
    name = getattr(found_loss, "name", None) or getattr(found_loss, "__name__", None) or str(found_loss)
    if name.lower().replace(" ", "_") != loss:
        _fail("the loss", loss, str(name),
              "Pixels in [0, 1] behave like probabilities; binary cross-entropy compares them as such.")
    _passed(f"compiled with {optimizer} and {loss}.")


# --- results the solutions must show ---------------------------------------------------------------

def expect_loss_at_most(loss: float, target: float, *, baseline: float, what: str = "test loss") -> None:
    """Assert a lab's quality target: at full scale ``loss <= target``; in quick mode (a few epochs on
    the sample) only that the model beats ``baseline``, the loss of always drawing the mean image."""
    if settings().quick:
        if not loss < baseline:
            _fail(what, f"below the mean-image baseline {baseline:.4f} even in quick mode", f"{loss:.4f}",
                  "The model has not learned anything; check the pipeline and the loss.")
        _passed(f"{what} {loss:.4f} beats the mean-image baseline {baseline:.4f} "
                f"(quick mode; the full-scale target is ≤ {target}).")
        return
    if not loss <= target:
        _fail(what, f"at most {target} at full scale", f"{loss:.4f}")
    _passed(f"{what} {loss:.4f} ≤ {target} (the lab's target).")


# --- Lab 3 ---------------------------------------------------------------------------------------

def check_compression_ratio(compression_ratio) -> None:
    """Exercise 1 of Lab 3: ``compression_ratio(latent)`` is 784 / latent, as a float."""
    if not callable(compression_ratio):
        _fail("compression_ratio", "a function", _describe(compression_ratio),
              "Define it with def compression_ratio(latent, input_dim=784): ...")
    for latent, expected in ((16, 49.0), (2, 392.0), (3, 784 / 3), (784, 1.0)):
        found = compression_ratio(latent)
        if isinstance(found, (int, float, np.number)) and abs(float(found) - 261.0) < 1e-9 and latent == 3:
            _fail("compression_ratio(3)", f"{expected:.4f}", f"{found}",
                  "Use true division (/), not integer division (//): 784 / 3 is not a whole number.")
        if not isinstance(found, (int, float, np.number)) or abs(float(found) - expected) > 1e-9:
            _fail(f"compression_ratio({latent})", f"{expected:g} (784 input numbers per code number)",
                  repr(found), "Divide the number of pixels by the size of the code.")
    _passed("compression_ratio: 784 / latent (16 → 49, 2 → 392).")


def check_bottleneck_encoder(encoder, *, latent: int = 16) -> None:
    """Exercise 2 of Lab 3: the convolutional encoder with a linear dense code of size ``latent``."""
    import keras

    from labkit import models

    inputs, outputs = _io_shapes(encoder, "the encoder")
    if inputs != (None, 28, 28, 1):
        _fail("the encoder's input shape", "(None, 28, 28, 1) — images, not flat vectors", str(inputs),
              "Start with keras.Input(shape=(28, 28, 1)).")
    if outputs != (None, latent):
        _fail("the encoder's output shape", f"(None, {latent}) — the code", str(outputs),
              f"End with layers.Dense({latent}, name='code').")
    try:
        code = encoder.get_layer("code")
    except ValueError:
        _fail("the code layer", "a Dense layer named 'code'", "no layer of that name",
              "Give the last layer name='code' so the lab can find it.")
    if not isinstance(code, keras.layers.Dense) or code.units != latent:
        _fail("the 'code' layer", f"Dense({latent})", f"{type(code).__name__}")
    if _activation_name(code) != "linear":
        _fail("the code's activation", "none (linear)", _activation_name(code),
              "A ReLU code of size 2 can die: a unit that is negative for every image outputs 0 and never "
              "learns again. Leave the code layer without an activation.")
    def convs(model):
        return [layer for layer in model._flatten_layers(include_self=False)
                if isinstance(layer, keras.layers.Conv2D)]

    reference = models.conv_bottleneck_autoencoder(latent=latent)[1]
    wanted = [layer.filters for layer in convs(reference)]
    if [layer.filters for layer in convs(encoder)] != wanted or any(c.strides != (2, 2) for c in convs(encoder)):
        _fail("the convolutions", " and ".join(f"Conv2D({f}, strides=2)" for f in wanted),
              ", ".join(f"Conv2D({c.filters}, strides={c.strides})" for c in convs(encoder)) or "none")
    widths = [layer.units for layer in reference._flatten_layers(include_self=False)
              if isinstance(layer, keras.layers.Dense)][:-1]
    found = [layer.units for layer in _dense_layers(encoder)][:-1]
    if found != widths:
        _fail("the Dense layers before the code", f"units {widths}", f"units {found}")
    if encoder.count_params() != reference.count_params():
        _fail("the encoder's parameters", f"{reference.count_params():,}", f"{encoder.count_params():,}",
              "Check that each hidden layer is followed by BatchNormalization (and then has no bias: "
              "use_bias=False).")
    _passed(f"encoder: 28×28 → 14×14×{wanted[0]} → 7×7×{wanted[1]} → {' → '.join(map(str, widths))} → "
            f"a linear code of {latent}.")


def check_probe(probe_accuracy) -> None:
    """Exercise 3 of Lab 3: ``probe_accuracy`` fits a logistic regression on the training codes and
    returns its accuracy on the test codes."""
    if not callable(probe_accuracy):
        _fail("probe_accuracy", "a function", _describe(probe_accuracy))
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    labels = np.repeat(np.arange(3), 60)
    train_codes = centres[labels] + rng.normal(size=(180, 2))
    test_codes = centres[labels] + rng.normal(size=(180, 2))
    found = probe_accuracy(train_codes, labels, test_codes, labels)
    if not isinstance(found, (float, np.floating)) or not 0 <= found <= 1:
        _fail("probe_accuracy(...)", "an accuracy, a float between 0 and 1", repr(found),
              "Return probe.score(test_codes, test_labels) (or accuracy_score), as a float.")
    if found < 0.95:
        _fail("the accuracy on three well-separated clusters", "at least 0.95", f"{found:.3f}",
              "Fit LogisticRegression on the training codes and labels, then score it on the test codes.")
    relabelled = (labels + 1) % 3
    cheat = probe_accuracy(train_codes, labels, test_codes, relabelled)
    if cheat > 0.2:
        _fail("the accuracy when the test labels disagree with the training labels", "close to 0",
              f"{cheat:.3f}", "The probe must be fitted on the training codes only, never on the test codes.")
    _passed(f"probe_accuracy: fitted on training codes, scored on test codes ({found:.3f} on a toy set).")


def check_anomaly_scores(anomaly_scores) -> None:
    """Exercise 4 of Lab 3: one score per image, its BCE minus its own floor (the excess)."""
    from labkit import anomaly

    if not callable(anomaly_scores):
        _fail("anomaly_scores", "a function", _describe(anomaly_scores))
    rng = np.random.default_rng(1)
    images = rng.random((5, 28, 28, 1)).astype("float32")
    images[0] = 0.0
    reconstructions = np.clip(images + rng.normal(scale=0.1, size=images.shape), 0.01, 0.99).astype("float32")
    found = np.asarray(anomaly_scores(images, reconstructions), dtype=float)
    if found.shape != (5,):
        _fail("anomaly_scores(images, reconstructions)", "one score per image, shape (5,) for 5 images",
              str(found.shape), "Average over every axis but the first, e.g. .reshape(len(images), -1).mean(axis=1).")
    expected = anomaly.reconstruction_errors(images, reconstructions, kind="excess")
    plain = anomaly.reconstruction_errors(images, reconstructions, kind="bce")
    if np.allclose(found, plain, atol=1e-4) and not np.allclose(plain, expected, atol=1e-4):
        _fail("the scores", "each image's BCE minus its own floor", "each image's BCE",
              "Subtract the BCE of the image against itself (its floor), so that images with more grey "
              "pixels are not flagged for that alone.")
    if not np.allclose(found, expected, atol=1e-4):
        _fail("the scores", f"{np.round(expected, 4)}", f"{np.round(found, 4)}",
              "Clip the reconstructions to [1e-7, 1 - 1e-7] before taking logarithms, as Keras does.")
    _passed("anomaly_scores: each image's excess over its own floor.")


def check_threshold(choose_threshold) -> None:
    """Exercise 5 of Lab 3: ``choose_threshold(normal_scores, false_alarm_rate)`` flags that fraction of
    normal (training) images."""
    if not callable(choose_threshold):
        _fail("choose_threshold", "a function", _describe(choose_threshold))
    normal = np.random.default_rng(2).gamma(2.0, size=2000)
    for rate in (0.05, 0.01):
        threshold = choose_threshold(normal, rate)
        if not isinstance(threshold, (float, np.floating)):
            _fail(f"choose_threshold(scores, {rate})", "one number (a float)", _describe(threshold))
        flagged = float(np.mean(normal >= threshold))
        if abs(flagged - rate) > 0.005:
            _fail(f"the share of normal images at or above the threshold for a rate of {rate}",
                  f"about {rate}", f"{flagged:.3f}",
                  "Take the (1 - false_alarm_rate) quantile of the normal scores: np.quantile(scores, 1 - rate).")
    _passed("choose_threshold: flags the chosen share of normal images, using normal images only.")


# --- Lab 4 ---------------------------------------------------------------------------------------

def _layers_of(model, kind):
    return [layer for layer in model._flatten_layers(include_self=False) if isinstance(layer, kind)]


def check_conv_encoder(encoder, *, filters: tuple[int, int, int] = (32, 16, 8)) -> None:
    """Exercise 1 of Lab 4: Conv2D → pool → Conv2D → pool → Conv2D, from (28, 28, 1) to a 7×7 code."""
    import keras

    from labkit import models

    inputs, outputs = _io_shapes(encoder, "the encoder")
    if inputs != (None, 28, 28, 1):
        _fail("the encoder's input shape", "(None, 28, 28, 1) — whole images", str(inputs),
              "Start with keras.Input(shape=(28, 28, 1)); convolutions need the image's height and width.")
    widths = [layer.filters for layer in _layers_of(encoder, keras.layers.Conv2D)]
    if widths != list(filters):
        _fail("the encoder's convolutions", f"three Conv2D layers of {list(filters)} filters", f"{widths}")
    pools = _layers_of(encoder, keras.layers.MaxPooling2D)
    if len(pools) != 2:
        _fail("the encoder's pooling layers", "two MaxPooling2D layers (28 → 14 → 7)", f"{len(pools)}",
              "Put layers.MaxPooling2D(2) after each of the first two convolutions.")
    if outputs != (None, 7, 7, filters[-1]):
        _fail("the encoder's output shape (the code)", f"(None, 7, 7, {filters[-1]})", str(outputs),
              "Use padding='same' so that only the pooling layers shrink the image.")
    expected = models.conv_autoencoder(filters)[1].count_params()
    if encoder.count_params() != expected:
        _fail("the encoder's parameters", f"{expected:,} (3×3 kernels with biases)", f"{encoder.count_params():,}",
              "Use kernel_size=3 in every Conv2D.")
    _passed(f"encoder: {filters[0]} → pool → {filters[1]} → pool → {filters[2]}, code 7×7×{filters[2]}.")


def check_conv_decoder(decoder, *, filters: tuple[int, int, int] = (32, 16, 8)) -> None:
    """Exercise 1 of Lab 4: the mirrored decoder, from the 7×7 code back to a (28, 28, 1) sigmoid image."""
    import keras

    from labkit import models

    inputs, outputs = _io_shapes(decoder, "the decoder")
    if inputs != (None, 7, 7, filters[-1]):
        _fail("the decoder's input shape", f"(None, 7, 7, {filters[-1]}) — the code", str(inputs))
    if outputs != (None, 28, 28, 1):
        _fail("the decoder's output shape", "(None, 28, 28, 1) — an image", str(outputs),
              "Two UpSampling2D(2) layers take 7×7 back to 28×28; end with a 1-filter Conv2D.")
    convs = _layers_of(decoder, keras.layers.Conv2D)
    widths = [layer.filters for layer in convs]
    if widths != [filters[1], filters[0], 1]:
        _fail("the decoder's convolutions", f"{[filters[1], filters[0], 1]} filters (the encoder's in reverse, "
              "then one for the image)", f"{widths}")
    if _activation_name(convs[-1]) != "sigmoid":
        _fail("the last convolution's activation", "sigmoid", _activation_name(convs[-1]),
              "Pixels lie in [0, 1]; binary cross-entropy needs probabilities.")
    sizes = [tuple(layer.output.shape)[1:3] for layer in convs]
    if sizes != [(14, 14), (28, 28), (28, 28)]:
        _fail("the sizes the decoder's convolutions work at", "14×14, 28×28, 28×28 (each at its encoder twin's size)",
              " , ".join(f"{h}×{w}" for h, w in sizes), "Upsample first, then convolve: UpSampling2D → Conv2D.")
    expected = models.conv_autoencoder(filters)[2].count_params()
    if decoder.count_params() != expected:
        _fail("the decoder's parameters", f"{expected:,}", f"{decoder.count_params():,}", "Use 3×3 kernels.")
    _passed(f"decoder: up → {filters[1]} → up → {filters[0]} → 1 (sigmoid), image 28×28×1.")


def check_frozen_features(features, encoder, *, layer: str) -> None:
    """Exercise 2 of Lab 4: ``features`` is ``encoder`` cut after ``layer``, frozen."""
    inputs, outputs = _io_shapes(features, "the feature extractor")
    expected = tuple(encoder.get_layer(layer).output.shape)
    if inputs != (None, 28, 28, 1) or outputs != expected:
        _fail("the feature extractor's shapes", f"(None, 28, 28, 1) → {expected} (the output of {layer!r})",
              f"{inputs} → {outputs}", f"Build keras.Model(encoder.input, encoder.get_layer({layer!r}).output).")
    if features.trainable_weights:
        _fail("the feature extractor", "frozen (no trainable weights)",
              f"{len(features.trainable_weights)} trainable weight tensors", "Set features.trainable = False.")
    mine, theirs = features.get_weights(), encoder.get_weights()[: len(features.get_weights())]
    if not all(np.array_equal(a, b) for a, b in zip(mine, theirs)):
        _fail("the feature extractor's weights", "those the MNIST autoencoder learned", "different weights",
              "Cut the trained encoder (or an exact copy of it); do not build new, random layers.")
    _passed(f"features: the MNIST encoder up to {layer!r}, output {outputs[1:]}, frozen.")


def check_transfer_classifier(classifier, features, *, classes: int = 10) -> None:
    """Exercise 3 of Lab 4: frozen features → Flatten → Dense(10, softmax), compiled for integer labels."""
    import keras

    inputs, outputs = _io_shapes(classifier, "the classifier")
    if outputs != (None, classes):
        _fail("the classifier's output shape", f"(None, {classes}) — one probability per class", str(outputs))
    dense = _dense_layers(classifier)
    if len(dense) != 1 or _activation_name(dense[0]) != "softmax":
        found = [f"Dense({d.units}, {_activation_name(d)})" for d in dense]
        _fail("the head", f"a single Dense({classes}, activation='softmax') after Flatten", f"{found}")
    flat = int(np.prod(features.output_shape[1:]))
    head = flat * classes + classes
    trained = int(sum(np.prod(w.shape) for w in classifier.trainable_weights))
    if trained != head:
        _fail("the parameters training will change", f"only the head's {head:,} ({flat:,} features × {classes} + "
              f"{classes})", f"{trained:,}", "Freeze the features (features.trainable = False) before compiling.")
    if getattr(classifier, "optimizer", None) is None:
        _fail("the classifier", "compiled", "not compiled yet", "Call classifier.compile(...).")
    loss = getattr(classifier.loss, "name", None) or getattr(classifier.loss, "__name__", None) or str(classifier.loss)
    if loss != "sparse_categorical_crossentropy":
        _fail("the loss", "sparse_categorical_crossentropy (the labels are integers 0-9)", str(loss))
    probe = np.asarray(classifier(np.zeros((2, *inputs[1:]), dtype="float32")))
    if not np.allclose(probe.sum(axis=1), 1, atol=1e-4):
        _fail("the outputs", "probabilities that sum to 1", f"sums {probe.sum(axis=1)}")
    del keras
    _passed(f"classifier: frozen features → Flatten ({flat:,}) → Dense({classes}, softmax); "
            f"{head:,} parameters to train.")


def check_fine_tuning(classifier, *, max_learning_rate: float = 1e-4) -> None:
    """Exercise 4 of Lab 4: every weight trainable again, recompiled with a small learning rate."""
    frozen = len(classifier.non_trainable_weights)
    if frozen:
        _fail("the classifier", "every weight trainable (the encoder unfrozen)", f"{frozen} frozen weight tensors",
              "Set features.trainable = True, then compile again: trainable is read when compiling.")
    optimizer = getattr(classifier, "optimizer", None)
    if optimizer is None:
        _fail("the classifier", "compiled again after unfreezing", "no optimizer")
    rate = float(np.asarray(optimizer.learning_rate))
    if not 0 < rate <= max_learning_rate:
        _fail("the learning rate", f"small: above 0 and at most {max_learning_rate:g}", f"{rate:g}",
              "Large steps would wreck the pretrained features in the first batches; try 1e-4 or 1e-5.")
    _passed(f"fine-tuning: all {classifier.count_params():,} parameters trainable, learning rate {rate:g}.")


def check_balanced_subset(balanced_subset, *, classes: int = 10) -> None:
    """Exercise 5 of Lab 4: ``balanced_subset(labels, n, seed)`` draws n indices, n / 10 of each class."""
    if not callable(balanced_subset):
        _fail("balanced_subset", "a function", _describe(balanced_subset),
              "Define it with def balanced_subset(labels, n, seed): ...")
    labels = np.random.default_rng(1).permutation(np.repeat(np.arange(classes), 12))
    picked = np.asarray(balanced_subset(labels, 100, 7))
    if picked.shape != (100,) or not np.issubdtype(picked.dtype, np.integer):
        _fail("balanced_subset(labels, 100, seed)", "100 integer indices", _describe(picked),
              "Return positions into labels (np.flatnonzero, rng.choice), not the labels themselves.")
    if len(np.unique(picked)) != 100:
        _fail("the indices", "100 different images", f"{len(np.unique(picked))} different ones",
              "Draw without replacement: rng.choice(..., replace=False).")
    counts = np.bincount(labels[picked], minlength=classes)
    if not np.all(counts == 100 // classes):
        _fail("the classes of the subset", f"{100 // classes} of each class", f"counts {counts.tolist()}",
              "Draw n // 10 indices from each class separately.")
    again, other = np.asarray(balanced_subset(labels, 100, 7)), np.asarray(balanced_subset(labels, 100, 8))
    if not np.array_equal(np.sort(picked), np.sort(again)):
        _fail("two draws with the same seed", "the same subset", "different subsets",
              "Make the generator from the seed: rng = np.random.default_rng(seed).")
    if np.array_equal(np.sort(picked), np.sort(other)):
        _fail("draws with different seeds", "different subsets", "the same subset", "Use the seed you are given.")
    _passed("balanced_subset: n / 10 images of every class, the same for the same seed.")


def expect_accuracy_at_least(accuracy: float, target: float, *, what: str = "test accuracy",
                             quick_floor: float = 0.5) -> None:
    """Assert a lab's accuracy target: at full scale ``accuracy >= target``; in quick mode (the sample, a few
    epochs) only that it reaches ``quick_floor``, far above guessing one class in ten."""
    if settings().quick:
        if not accuracy >= quick_floor:
            _fail(what, f"at least {quick_floor:.0%} even in quick mode", f"{accuracy:.2%}",
                  "The classifier has not learned; check the labels, the loss and what is trainable.")
        _passed(f"{what} {accuracy:.2%} ≥ {quick_floor:.0%} (quick mode; the full-scale target is ≥ {target:.2%}).")
        return
    if not accuracy >= target:
        _fail(what, f"at least {target:.2%} at full scale", f"{accuracy:.2%}")
    _passed(f"{what} {accuracy:.2%} ≥ {target:.2%} (the lab's target).")


def expect_frozen(features, snapshot: list) -> None:
    """Assert that a frozen feature extractor has no trainable weights and kept every weight bit for bit."""
    if features.trainable_weights:
        _fail("the frozen encoder", "no trainable weights", f"{len(features.trainable_weights)} trainable tensors")
    weights = features.get_weights()
    if len(weights) != len(snapshot) or not all(np.array_equal(w, s) for w, s in zip(weights, snapshot)):
        _fail("the frozen encoder's weights", "unchanged by training", "changed weights",
              "Set trainable = False before compiling, and compile again after changing it.")
    _passed(f"the encoder stayed frozen: {sum(w.size for w in weights):,} weights unchanged after training.")


# --- Lab 2 ---------------------------------------------------------------------------------------

def check_gaussian_noise(add_noise) -> None:
    """Exercise 1 of Lab 2: ``add_noise(images, factor, seed)`` adds ``factor`` × N(0, 1) noise to every
    pixel, clips to [0, 1], returns float32 of the same shape, repeats with a seed, leaves ``images``."""
    if not callable(add_noise):
        _fail("add_noise", "a function", _describe(add_noise),
              "Define it with def add_noise(images, factor, seed): ...")
    grey = np.full((40, 28, 28, 1), 0.5, dtype=np.float32)
    before = grey.copy()
    noisy = add_noise(grey, 0.1, 1)
    if not np.array_equal(grey, before):
        _fail("add_noise", "the input images left unchanged", "they were modified in place",
              "Build a new array: noisy = images + factor * ..., not images += ...")
    if not isinstance(noisy, np.ndarray):
        _fail("add_noise(images, factor, seed)", "a NumPy array", _describe(noisy), "Return the noisy images.")
    if noisy.shape != grey.shape:
        _fail("the noisy images' shape", f"the input's shape {grey.shape}", str(noisy.shape),
              "Draw one noise value per pixel: rng.normal(size=images.shape).")
    if noisy.dtype != np.float32:
        _fail("the noisy images' dtype", "float32 (what Keras trains on)", str(noisy.dtype),
              "Convert the result with .astype('float32').")
    noise = (noisy - grey).reshape(len(grey), -1)
    spread = float(noise.std(axis=1).mean())
    if spread < 1e-6:
        _fail("the noise", "a different random value for every pixel", "no noise, or one value per image",
              "Draw noise of the images' shape, e.g. rng.normal(size=images.shape).")
    if abs(spread - 0.1 / np.sqrt(3)) < 0.01:
        _fail("the noise's standard deviation for factor 0.1", "0.1 (Gaussian noise)",
              f"{spread:.3f}, as uniform noise in [-0.1, 0.1] gives",
              "Draw from a normal distribution (rng.normal or rng.standard_normal), not a uniform one.")
    if abs(spread - 0.01) < 0.003:
        _fail("the noise's standard deviation for factor 0.1", "0.1", f"{spread:.3f} (factor squared)",
              "The factor is the standard deviation: multiply N(0, 1) noise by factor.")
    if not 0.09 < spread < 0.11 or abs(float(noise.mean())) > 0.01:
        _fail("the noise for factor 0.1", "mean 0 and standard deviation 0.1",
              f"mean {float(noise.mean()):.3f} and standard deviation {spread:.3f}",
              "Add factor * rng.normal(loc=0.0, scale=1.0, size=images.shape).")
    dark = add_noise(np.zeros((8, 28, 28, 1), dtype=np.float32), 0.5, 1)
    if float(np.min(dark)) < 0 or float(np.max(add_noise(np.ones_like(dark), 0.5, 1))) > 1:
        _fail("the noisy pixels", "values clipped to [0, 1]",
              f"values down to {float(np.min(dark)):.2f}", "Clip the result: np.clip(noisy, 0.0, 1.0).")
    if not np.array_equal(add_noise(grey, 0.5, 7), add_noise(grey, 0.5, 7)):
        _fail("two calls with the same seed", "the same noisy images", "different ones",
              "Make a generator from the seed inside the function: rng = np.random.default_rng(seed).")
    if np.array_equal(add_noise(grey, 0.5, 7), add_noise(grey, 0.5, 8)):
        _fail("two calls with different seeds", "different noise", "the same noise",
              "Pass the seed to np.random.default_rng(seed) rather than a fixed number.")
    if not np.allclose(add_noise(grey, 0.0, 1), grey):
        _fail("add_noise with factor 0", "the images unchanged", "changed images",
              "Scale the noise by factor, so that factor 0 adds nothing.")
    _passed("add_noise: Gaussian noise of standard deviation factor, clipped to [0, 1], seeded, input untouched.")


def _lab2_layers(model, kind, *, exclude=()):
    return [layer for layer in model._flatten_layers(include_self=False)
            if isinstance(layer, kind) and not isinstance(layer, tuple(exclude))]


def _check_float32_output(model, name: str, layer: str) -> None:
    """Fail if ``model`` hands out bfloat16 (its last layer computed in the mixed policy without float32)."""
    dtype = str(model.output.dtype)
    if dtype != "float32":
        _fail(f"the {name}'s output dtype", "float32", dtype,
              f"This notebook computes in mixed precision (see Setup), so give the last layer "
              f"dtype=\"float32\": {layer}.")


def check_denoiser_encoder(encoder, *, filters: tuple[int, ...] = (32, 64, 128),
                           strides: tuple[int, ...] = (1, 2, 2)) -> None:
    """Exercise 2 of Lab 2: Conv2D 32 -> Conv2D 64 stride 2 -> Conv2D 128 stride 2 -> Flatten (6,272)."""
    import keras

    from labkit import models

    inputs, outputs = _io_shapes(encoder, "the encoder")
    if inputs != (None, 28, 28, 1):
        _fail("the encoder's input shape", "(None, 28, 28, 1): images, not vectors", str(inputs),
              "Start with keras.Input(shape=(28, 28, 1)) and feed it preprocess(..., flatten=False) images.")
    convs = _lab2_layers(encoder, keras.layers.Conv2D, exclude=(keras.layers.Conv2DTranspose,))
    found = [layer.filters for layer in convs]
    if found != list(filters):
        _fail("the encoder's Conv2D layers", f"filters {list(filters)}", f"filters {found}")
    found_strides = [tuple(layer.strides) for layer in convs]
    if found_strides != [(s, s) for s in strides]:
        _fail("the convolutions' strides", f"{list(strides)} (the last two halve the maps: 28 → 14 → 7)",
              str([s[0] for s in found_strides]), "Pass strides=2 to the second and third Conv2D.")
    activations = [_activation_name(layer) for layer in convs]
    if any(name != "relu" for name in activations):
        _fail("the convolutions' activations", "relu", str(activations))
    if outputs == (None, 7, 7, filters[-1]):
        _fail("the encoder's output shape", f"(None, {49 * filters[-1]}) — one feature vector per image",
              str(outputs), "End the encoder with layers.Flatten().")
    features = 49 * filters[-1]
    if outputs != (None, features):
        _fail("the encoder's output shape", f"(None, {features})", str(outputs),
              "Use padding='same' in every Conv2D so that stride 2 halves 28 to 14 and 14 to 7.")
    _check_float32_output(encoder, "encoder", 'layers.Flatten(dtype="float32")')
    expected = models.conv_denoiser(filters=filters, strides=strides)[1].count_params()
    if encoder.count_params() != expected:
        _fail("the encoder's parameters", f"{expected:,}", f"{encoder.count_params():,}",
              "Use 3×3 kernels (kernel_size=3) and no extra layers.")
    _passed(f"encoder: {' → '.join(map(str, filters))} filters, strides {list(strides)}, "
            f"{features:,} features per image.")


def check_denoiser_decoder(decoder, *, features: int = 6272) -> None:
    """Exercise 3 of Lab 2: Reshape 7×7×128 -> Conv2DTranspose 64 and 32 (stride 2) -> Conv2D 1, sigmoid."""
    import keras

    from labkit import models

    inputs, outputs = _io_shapes(decoder, "the decoder")
    if inputs != (None, features):
        _fail("the decoder's input shape", f"(None, {features}) — a feature vector", str(inputs),
              f"Start with keras.Input(shape=({features},)), then layers.Reshape((7, 7, 128)).")
    if not _lab2_layers(decoder, keras.layers.Reshape):
        _fail("the decoder", "a Reshape layer back to 7×7×128 feature maps", "none",
              "Add layers.Reshape((7, 7, 128)) right after the input.")
    transposed = _lab2_layers(decoder, keras.layers.Conv2DTranspose)
    found = [(layer.filters, tuple(layer.strides)) for layer in transposed]
    if found != [(64, (2, 2)), (32, (2, 2))]:
        _fail("the Conv2DTranspose layers", "64 then 32 filters, each with strides=2 (7 → 14 → 28)",
              str([f"{f} filters, stride {s[0]}" for f, s in found]))
    convs = _lab2_layers(decoder, keras.layers.Conv2D, exclude=(keras.layers.Conv2DTranspose,))
    if not convs or convs[-1].filters != 1:
        _fail("the last layer", "Conv2D with 1 filter (one grey value per pixel)",
              f"{len(convs)} Conv2D layers" if not convs else f"Conv2D with {convs[-1].filters} filters")
    if _activation_name(convs[-1]) != "sigmoid":
        _fail("the output activation", "sigmoid", _activation_name(convs[-1]),
              "Pixels lie in [0, 1] and binary cross-entropy needs probabilities: use sigmoid.")
    if outputs != (None, 28, 28, 1):
        _fail("the decoder's output shape", "(None, 28, 28, 1)", str(outputs),
              "Use padding='same' in every layer.")
    _check_float32_output(decoder, "decoder", 'layers.Conv2D(1, 3, ..., dtype="float32")')
    expected = models.conv_denoiser()[2].count_params()
    if decoder.count_params() != expected:
        _fail("the decoder's parameters", f"{expected:,}", f"{decoder.count_params():,}",
              "Use 3×3 kernels and no extra layers.")
    _passed("decoder: 6,272 → 7×7×128 → 14×14×64 → 28×28×32 → 28×28×1, sigmoid output.")


def check_denoiser(autoencoder) -> None:
    """Lab 2, after exercise 3: the autoencoder maps (n, 28, 28, 1) images to images in [0, 1]."""
    from labkit import models

    inputs, outputs = _io_shapes(autoencoder, "the autoencoder")
    if inputs != (None, 28, 28, 1) or outputs != (None, 28, 28, 1):
        _fail("the autoencoder's shapes", "(None, 28, 28, 1) → (None, 28, 28, 1)", f"{inputs} → {outputs}",
              "Feed the encoder's output into the decoder: decoder(encoder(image)).")
    expected = models.conv_denoiser()[0].count_params()
    if autoencoder.count_params() != expected:
        _fail("the autoencoder's parameters", f"{expected:,}", f"{autoencoder.count_params():,}")
    _passed(f"denoising autoencoder: {expected:,} parameters.")


def check_denoising_pipeline(dataset, noisy: np.ndarray, clean: np.ndarray, *, batch_size: int = 128,
                             shuffled: bool = True) -> None:
    """Exercise 4 of Lab 2: a tf.data pipeline of (noisy image, its clean original) batches."""
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset):
        _fail("the pipeline", "a tf.data.Dataset", _describe(dataset),
              "Build it with data.pipeline(noisy, clean, batch_size=...).")
    spec = _spec_shapes(dataset)
    for part, s in zip(("input", "target"), spec):
        if tuple(s.shape)[1:] != tuple(clean.shape[1:]):
            _fail(f"the {part} batches' shape", f"(batch, {', '.join(map(str, clean.shape[1:]))})",
                  str(tuple(s.shape)), "Use preprocess(..., flatten=False) images and batch them once.")
    inputs, targets = (t.numpy() for t in next(iter(dataset)))
    if len(inputs) != min(batch_size, len(clean)):
        _fail("the first batch's size", str(batch_size), str(len(inputs)), f"Use batch_size={batch_size}.")
    probe = np.random.default_rng(0).random(int(np.prod(clean.shape[1:])))

    def find(batch, images):
        keys = images.reshape(len(images), -1) @ probe
        order = np.argsort(keys)
        wanted = batch.reshape(len(batch), -1) @ probe
        at = order[np.clip(np.searchsorted(keys[order], wanted), 0, len(keys) - 1)]
        same = np.all(np.isclose(images[at].reshape(len(batch), -1), batch.reshape(len(batch), -1),
                                 atol=1e-6), axis=1)
        return np.where(same, at, -1)

    target_at, input_at = find(targets, clean), find(inputs, noisy)
    if (target_at < 0).any():
        swapped = (find(targets, noisy) >= 0).all()
        _fail("the targets", "the clean images", "the noisy images" if swapped else "images that are not "
              "the clean ones given", "A denoiser learns noisy → clean: pass the noisy images as inputs "
              "and the clean images as targets.")
    if (input_at < 0).any():
        _fail("the inputs", "the noisy images", "clean images" if (find(inputs, clean) >= 0).all()
              else "images that are not the noisy ones given", "Feed the noisy images to the model.")
    if not np.allclose(clean[input_at], targets, atol=1e-6):
        _fail("each (input, target) pair", "a noisy image with its own clean original",
              "noisy and clean images of different digits",
              "Shuffle the pairs together: build one dataset from (noisy, clean), not two shuffled ones.")
    in_order = np.array_equal(input_at, np.arange(len(input_at)))
    if shuffled and in_order:
        _fail("the training batches", "shuffled pairs", "the images in their stored order",
              "Use shuffle=True (data.pipeline's default) for the training data.")
    if not shuffled and not in_order:
        _fail("the validation batches", "the images in their stored order", "a different order",
              "Pass shuffle=False for the validation data.")
    _passed(f"pipeline: (noisy, clean) pairs in batches of {batch_size}"
            + (", shuffled." if shuffled else ", in order."))
