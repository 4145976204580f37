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
