"""Lab 2's self-checks, called after each exercise.

(To become: the student's live objects judged by Lab 2's rules, the autograder's own; see Lab 1.)
"""

from __future__ import annotations

import numpy as np

from labkit.checks import activation_name, describe, fail, io_shapes, layers_of, passed  # noqa: F401

__all__ = ["check_gaussian_noise", "check_denoiser_encoder", "check_denoiser_decoder", "check_denoiser", "check_denoising_pipeline"]


def spec_shapes(dataset):
    import tensorflow as tf

    spec = dataset.element_spec
    if not (isinstance(spec, tuple) and len(spec) == 2
            and all(isinstance(s, tf.TensorSpec) for s in spec)):
        fail("the dataset's elements", "(input, target) pairs of tensors", str(spec),
              "Build it from (x, x): tf.data.Dataset.from_tensor_slices((x, x)).")
    return spec


def check_gaussian_noise(add_noise) -> None:
    """Exercise 1 of Lab 2: ``add_noise(images, factor, seed)`` adds ``factor`` × N(0, 1) noise to every
    pixel, clips to [0, 1], returns float32 of the same shape, repeats with a seed, leaves ``images``."""
    if not callable(add_noise):
        fail("add_noise", "a function", describe(add_noise),
              "Define it with def add_noise(images, factor, seed): ...")
    grey = np.full((40, 28, 28, 1), 0.5, dtype=np.float32)
    before = grey.copy()
    noisy = add_noise(grey, 0.1, 1)
    if not np.array_equal(grey, before):
        fail("add_noise", "the input images left unchanged", "they were modified in place",
              "Build a new array: noisy = images + factor * ..., not images += ...")
    if not isinstance(noisy, np.ndarray):
        fail("add_noise(images, factor, seed)", "a NumPy array", describe(noisy), "Return the noisy images.")
    if noisy.shape != grey.shape:
        fail("the noisy images' shape", f"the input's shape {grey.shape}", str(noisy.shape),
              "Draw one noise value per pixel: rng.normal(size=images.shape).")
    if noisy.dtype != np.float32:
        fail("the noisy images' dtype", "float32 (what Keras trains on)", str(noisy.dtype),
              "Convert the result with .astype('float32').")
    noise = (noisy - grey).reshape(len(grey), -1)
    spread = float(noise.std(axis=1).mean())
    if spread < 1e-6:
        fail("the noise", "a different random value for every pixel", "no noise, or one value per image",
              "Draw noise of the images' shape, e.g. rng.normal(size=images.shape).")
    if abs(spread - 0.1 / np.sqrt(3)) < 0.01:
        fail("the noise's standard deviation for factor 0.1", "0.1 (Gaussian noise)",
              f"{spread:.3f}, as uniform noise in [-0.1, 0.1] gives",
              "Draw from a normal distribution (rng.normal or rng.standard_normal), not a uniform one.")
    if abs(spread - 0.01) < 0.003:
        fail("the noise's standard deviation for factor 0.1", "0.1", f"{spread:.3f} (factor squared)",
              "The factor is the standard deviation: multiply N(0, 1) noise by factor.")
    if not 0.09 < spread < 0.11 or abs(float(noise.mean())) > 0.01:
        fail("the noise for factor 0.1", "mean 0 and standard deviation 0.1",
              f"mean {float(noise.mean()):.3f} and standard deviation {spread:.3f}",
              "Add factor * rng.normal(loc=0.0, scale=1.0, size=images.shape).")
    dark = add_noise(np.zeros((8, 28, 28, 1), dtype=np.float32), 0.5, 1)
    if float(np.min(dark)) < 0 or float(np.max(add_noise(np.ones_like(dark), 0.5, 1))) > 1:
        fail("the noisy pixels", "values clipped to [0, 1]",
              f"values down to {float(np.min(dark)):.2f}", "Clip the result: np.clip(noisy, 0.0, 1.0).")
    if not np.array_equal(add_noise(grey, 0.5, 7), add_noise(grey, 0.5, 7)):
        fail("two calls with the same seed", "the same noisy images", "different ones",
              "Make a generator from the seed inside the function: rng = np.random.default_rng(seed).")
    if np.array_equal(add_noise(grey, 0.5, 7), add_noise(grey, 0.5, 8)):
        fail("two calls with different seeds", "different noise", "the same noise",
              "Pass the seed to np.random.default_rng(seed) rather than a fixed number.")
    if not np.allclose(add_noise(grey, 0.0, 1), grey):
        fail("add_noise with factor 0", "the images unchanged", "changed images",
              "Scale the noise by factor, so that factor 0 adds nothing.")
    passed("add_noise: Gaussian noise of standard deviation factor, clipped to [0, 1], seeded, input untouched.")


def _check_float32_output(model, name: str, layer: str) -> None:
    """Fail if ``model`` hands out bfloat16 (its last layer computed in the mixed policy without float32)."""
    dtype = str(model.output.dtype)
    if dtype != "float32":
        fail(f"the {name}'s output dtype", "float32", dtype,
              f"This notebook computes in mixed precision (see Setup), so give the last layer "
              f"dtype=\"float32\": {layer}.")


def check_denoiser_encoder(encoder, *, filters: tuple[int, ...] = (32, 64, 128),
                           strides: tuple[int, ...] = (1, 2, 2)) -> None:
    """Exercise 2 of Lab 2: Conv2D 32 -> Conv2D 64 stride 2 -> Conv2D 128 stride 2 -> Flatten (6,272)."""
    import keras

    from labkit import models

    inputs, outputs = io_shapes(encoder, "the encoder")
    if inputs != (None, 28, 28, 1):
        fail("the encoder's input shape", "(None, 28, 28, 1): images, not vectors", str(inputs),
              "Start with keras.Input(shape=(28, 28, 1)) and feed it preprocess(..., flatten=False) images.")
    convs = layers_of(encoder, keras.layers.Conv2D, exclude=(keras.layers.Conv2DTranspose,))
    found = [layer.filters for layer in convs]
    if found != list(filters):
        fail("the encoder's Conv2D layers", f"filters {list(filters)}", f"filters {found}")
    found_strides = [tuple(layer.strides) for layer in convs]
    if found_strides != [(s, s) for s in strides]:
        fail("the convolutions' strides", f"{list(strides)} (the last two halve the maps: 28 → 14 → 7)",
              str([s[0] for s in found_strides]), "Pass strides=2 to the second and third Conv2D.")
    activations = [activation_name(layer) for layer in convs]
    if any(name != "relu" for name in activations):
        fail("the convolutions' activations", "relu", str(activations))
    if outputs == (None, 7, 7, filters[-1]):
        fail("the encoder's output shape", f"(None, {49 * filters[-1]}) — one feature vector per image",
              str(outputs), "End the encoder with layers.Flatten().")
    features = 49 * filters[-1]
    if outputs != (None, features):
        fail("the encoder's output shape", f"(None, {features})", str(outputs),
              "Use padding='same' in every Conv2D so that stride 2 halves 28 to 14 and 14 to 7.")
    _check_float32_output(encoder, "encoder", 'layers.Flatten(dtype="float32")')
    expected = models.conv_denoiser(filters=filters, strides=strides)[1].count_params()
    if encoder.count_params() != expected:
        fail("the encoder's parameters", f"{expected:,}", f"{encoder.count_params():,}",
              "Use 3×3 kernels (kernel_size=3) and no extra layers.")
    passed(f"encoder: {' → '.join(map(str, filters))} filters, strides {list(strides)}, "
            f"{features:,} features per image.")


def check_denoiser_decoder(decoder, *, features: int = 6272) -> None:
    """Exercise 3 of Lab 2: Reshape 7×7×128 -> Conv2DTranspose 64 and 32 (stride 2) -> Conv2D 1, sigmoid."""
    import keras

    from labkit import models

    inputs, outputs = io_shapes(decoder, "the decoder")
    if inputs != (None, features):
        fail("the decoder's input shape", f"(None, {features}) — a feature vector", str(inputs),
              f"Start with keras.Input(shape=({features},)), then layers.Reshape((7, 7, 128)).")
    if not layers_of(decoder, keras.layers.Reshape):
        fail("the decoder", "a Reshape layer back to 7×7×128 feature maps", "none",
              "Add layers.Reshape((7, 7, 128)) right after the input.")
    transposed = layers_of(decoder, keras.layers.Conv2DTranspose)
    found = [(layer.filters, tuple(layer.strides)) for layer in transposed]
    if found != [(64, (2, 2)), (32, (2, 2))]:
        fail("the Conv2DTranspose layers", "64 then 32 filters, each with strides=2 (7 → 14 → 28)",
              str([f"{f} filters, stride {s[0]}" for f, s in found]))
    convs = layers_of(decoder, keras.layers.Conv2D, exclude=(keras.layers.Conv2DTranspose,))
    if not convs or convs[-1].filters != 1:
        fail("the last layer", "Conv2D with 1 filter (one grey value per pixel)",
              f"{len(convs)} Conv2D layers" if not convs else f"Conv2D with {convs[-1].filters} filters")
    if activation_name(convs[-1]) != "sigmoid":
        fail("the output activation", "sigmoid", activation_name(convs[-1]),
              "Pixels lie in [0, 1] and binary cross-entropy needs probabilities: use sigmoid.")
    if outputs != (None, 28, 28, 1):
        fail("the decoder's output shape", "(None, 28, 28, 1)", str(outputs),
              "Use padding='same' in every layer.")
    _check_float32_output(decoder, "decoder", 'layers.Conv2D(1, 3, ..., dtype="float32")')
    expected = models.conv_denoiser()[2].count_params()
    if decoder.count_params() != expected:
        fail("the decoder's parameters", f"{expected:,}", f"{decoder.count_params():,}",
              "Use 3×3 kernels and no extra layers.")
    passed("decoder: 6,272 → 7×7×128 → 14×14×64 → 28×28×32 → 28×28×1, sigmoid output.")


def check_denoiser(autoencoder) -> None:
    """Lab 2, after exercise 3: the autoencoder maps (n, 28, 28, 1) images to images in [0, 1]."""
    from labkit import models

    inputs, outputs = io_shapes(autoencoder, "the autoencoder")
    if inputs != (None, 28, 28, 1) or outputs != (None, 28, 28, 1):
        fail("the autoencoder's shapes", "(None, 28, 28, 1) → (None, 28, 28, 1)", f"{inputs} → {outputs}",
              "Feed the encoder's output into the decoder: decoder(encoder(image)).")
    expected = models.conv_denoiser()[0].count_params()
    if autoencoder.count_params() != expected:
        fail("the autoencoder's parameters", f"{expected:,}", f"{autoencoder.count_params():,}")
    passed(f"denoising autoencoder: {expected:,} parameters.")


def check_denoising_pipeline(dataset, noisy: np.ndarray, clean: np.ndarray, *, batch_size: int = 128,
                             shuffled: bool = True) -> None:
    """Exercise 4 of Lab 2: a tf.data pipeline of (noisy image, its clean original) batches."""
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset):
        fail("the pipeline", "a tf.data.Dataset", describe(dataset),
              "Build it with data.pipeline(noisy, clean, batch_size=...).")
    spec = spec_shapes(dataset)
    for part, s in zip(("input", "target"), spec):
        if tuple(s.shape)[1:] != tuple(clean.shape[1:]):
            fail(f"the {part} batches' shape", f"(batch, {', '.join(map(str, clean.shape[1:]))})",
                  str(tuple(s.shape)), "Use preprocess(..., flatten=False) images and batch them once.")
    inputs, targets = (t.numpy() for t in next(iter(dataset)))
    if len(inputs) != min(batch_size, len(clean)):
        fail("the first batch's size", str(batch_size), str(len(inputs)), f"Use batch_size={batch_size}.")
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
        fail("the targets", "the clean images", "the noisy images" if swapped else "images that are not "
              "the clean ones given", "A denoiser learns noisy → clean: pass the noisy images as inputs "
              "and the clean images as targets.")
    if (input_at < 0).any():
        fail("the inputs", "the noisy images", "clean images" if (find(inputs, clean) >= 0).all()
              else "images that are not the noisy ones given", "Feed the noisy images to the model.")
    if not np.allclose(clean[input_at], targets, atol=1e-6):
        fail("each (input, target) pair", "a noisy image with its own clean original",
              "noisy and clean images of different digits",
              "Shuffle the pairs together: build one dataset from (noisy, clean), not two shuffled ones.")
    in_order = np.array_equal(input_at, np.arange(len(input_at)))
    if shuffled and in_order:
        fail("the training batches", "shuffled pairs", "the images in their stored order",
              "Use shuffle=True (data.pipeline's default) for the training data.")
    if not shuffled and not in_order:
        fail("the validation batches", "the images in their stored order", "a different order",
              "Pass shuffle=False for the validation data.")
    passed(f"pipeline: (noisy, clean) pairs in batches of {batch_size}"
            + (", shuffled." if shuffled else ", in order."))
