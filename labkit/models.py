"""Keras 3 builders for the labs' models, each returning what the lab needs next.

Builders use the functional API, name their sub-models and layers (``"encoder"``, ``"enc_dense"``) so
plots and checks can find them, and take the lab's values as keyword defaults.

The convolutional builders build their layers in the kit's compute precision (``LABKIT_PRECISION``, see
:mod:`labkit.config`): on a CPU with bfloat16 units they compute in ``mixed_bfloat16``, which measured
faster for them (Lab 2's denoiser: 1.36× on AVX512_BF16, ``benchmarks/layers.py``), while weights, codes
and outputs stay float32 so losses, checks and pictures see float32 numbers.
"""

from __future__ import annotations

import functools
import math

import keras
from keras import layers

from labkit.config import settings

OUTPUT = {"dtype": "float32"}
"""Layer arguments of every output layer (and code): computed in float32 whatever the compute precision."""


def in_kit_precision(builder):
    """Build the model's layers under the kit's compute precision, then restore Keras's global policy."""
    @functools.wraps(builder)
    def build(*args, **kwargs):
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(settings().compute_precision())
        try:
            return builder(*args, **kwargs)
        finally:
            keras.config.set_dtype_policy(previous)
    return build


def dense_autoencoder(input_dim: int = 784, hidden: int = 128, latent: int = 32, *,
                      activation: str = "relu", latent_activation: str = "relu",
                      output_activation: str = "sigmoid",
                      name: str = "dense_autoencoder") -> tuple[keras.Model, keras.Model, keras.Model]:
    """The dense autoencoder 784-128-32-128-784 as ``(autoencoder, encoder, decoder)``.

    Built by students in Lab 1 (steps 3 and 4); used again in Lab 1's post-lab experiments.
    """
    image = keras.Input(shape=(input_dim,), name="image")
    h = layers.Dense(hidden, activation=activation, name="enc_dense")(image)
    code = layers.Dense(latent, activation=latent_activation, name="code")(h)
    encoder = keras.Model(image, code, name="encoder")

    code_in = keras.Input(shape=(latent,), name="code_in")
    h = layers.Dense(hidden, activation=activation, name="dec_dense")(code_in)
    reconstruction = layers.Dense(input_dim, activation=output_activation, name="reconstruction")(h)
    decoder = keras.Model(code_in, reconstruction, name="decoder")

    autoencoder = keras.Model(image, decoder(encoder(image)), name=name)
    return autoencoder, encoder, decoder


# --- Lab 3: a dense bottleneck between a convolutional encoder and decoder -------------------------

@in_kit_precision
def conv_bottleneck_autoencoder(latent: int = 16, *, filters: tuple[int, int] = (16, 32),
                                dense: int | tuple[int, ...] = (1024, 512, 128),
                                batch_norm: bool = True, activation: str = "relu", full_resolution: bool = True,
                                name: str | None = None) -> tuple[keras.Model, keras.Model, keras.Model]:
    """A convolutional autoencoder whose code is a dense bottleneck of ``latent`` numbers.

    Encoder: two stride-2 convolutions (28×28 → 14×14 → 7×7), Flatten, the Dense layers of ``dense``
    (1024, 512 then 128), then the code, Dense(``latent``) with no activation: a linear code cannot die the
    way a ReLU code of size 2 does (a unit negative for every image outputs 0 and never learns again). The
    decoder mirrors it: Dense 128, 512, 1024, Dense to 7×7×``filters[1]``, two stride-2 transposed
    convolutions and a sigmoid convolution. Three Dense layers on each side of the code let even two numbers
    steer a rich decoder (chosen on a validation split, training 10 epochs in batches of 64: with 512-128
    a 2-number code reached 0.1681, with 1024-512-128 0.1667); batch normalisation after every hidden layer
    keeps training fast and stable for every code size. Images go in and come out as (n, 28, 28, 1). Used
    in Lab 3 (the latent-size sweep, with ``full_resolution=False``) and, narrower, in Lab 6.

    Compiled with XLA (``jit_compile=True``, float32) it trained 1.29-1.39× faster than plain ``model.fit``
    on a 2-core CPU, but a full-scale sweep trained that way (10 epochs in batches of 64) left the 2-number
    code at 0.1682, above the report's 0.1669 (the 16-number code: 0.0798), so Lab 3 does not use it.

    ``full_resolution=False`` leaves out the decoder's layers at 28×28 (the second transposed convolution with
    its batch normalisation, and the sigmoid convolution): a sigmoid transposed convolution goes from the
    14×14 maps straight to the image. Those layers hold 16 % of the model's multiply-adds but took about 45 %
    of a training step on a 2-core AMD EPYC (memory traffic, not arithmetic); without them a 2-number code
    trained 1.4× as fast per epoch and reached the same validation loss (0.1661 against 0.1667, and 0.1676
    against 0.1687 for a second seed; batch 512, 8 epochs: ``benchmarks/lab3_recipe.py``). Lab 3 trains it.
    """
    if latent < 1:
        raise ValueError(f"latent must be a positive number of code units; got {latent}.")
    small, large = filters

    def hidden(x, layer, label):
        x = layer(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"{label}_bn")(x)
        return layers.Activation(activation, name=f"{label}_act")(x)

    def conv(units, label, transpose=False):
        kind = layers.Conv2DTranspose if transpose else layers.Conv2D
        return kind(units, 3, strides=2, padding="same", use_bias=not batch_norm, name=label)

    image = keras.Input(shape=(28, 28, 1), name="image")
    x = hidden(image, conv(small, "enc_conv1"), "enc_conv1")
    x = hidden(x, conv(large, "enc_conv2"), "enc_conv2")
    x = layers.Flatten(name="enc_flatten")(x)
    widths = (dense,) if isinstance(dense, int) else tuple(dense)
    for i, units in enumerate(widths):
        label = "enc_dense" if i == 0 else f"enc_dense{i + 1}"
        x = hidden(x, layers.Dense(units, use_bias=not batch_norm, name=label), label)
    code = layers.Dense(latent, name="code", **OUTPUT)(x)
    encoder = keras.Model(image, code, name="encoder")

    code_in = keras.Input(shape=(latent,), name="code_in")
    x = code_in
    for i, units in enumerate(reversed(widths)):
        label = "dec_dense" if i == len(widths) - 1 else f"dec_dense{len(widths) - i}"
        x = hidden(x, layers.Dense(units, use_bias=not batch_norm, name=label), label)
    x = hidden(x, layers.Dense(7 * 7 * large, use_bias=not batch_norm, name="dec_grid"), "dec_grid")
    x = layers.Reshape((7, 7, large), name="dec_reshape")(x)
    x = hidden(x, conv(large, "dec_deconv1", transpose=True), "dec_deconv1")
    if full_resolution:
        x = hidden(x, conv(small, "dec_deconv2", transpose=True), "dec_deconv2")
        reconstruction = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="reconstruction",
                                       **OUTPUT)(x)
    else:
        reconstruction = layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid",
                                                name="reconstruction", **OUTPUT)(x)
    decoder = keras.Model(code_in, reconstruction, name="decoder")

    autoencoder = keras.Model(image, decoder(encoder(image)),
                              name=name or f"conv_bottleneck_{latent}")
    return autoencoder, encoder, decoder


@in_kit_precision
def conv_dense_bottleneck(latent: int = 2, *, filters: tuple[int, int, int] = (32, 16, 8),
                          code_activation: str | None = None,
                          name: str | None = None) -> tuple[keras.Model, keras.Model, keras.Model]:
    """The report's plain recipe for a small code: Lab 4's baseline convolutional autoencoder with a Dense
    bottleneck between its encoder and decoder, as ``(autoencoder, encoder, decoder)``.

    Encoder: ``enc_conv1`` → ``enc_pool1`` → ``enc_conv2`` → ``enc_pool2`` → ``enc_conv3`` (7×7×``filters[2]``),
    ``Flatten`` (392 numbers by default), then the code, ``Dense(latent)``, linear unless ``code_activation``
    says otherwise (a ReLU code of 2 numbers died in every try: the loss stuck at that of the mean digit).
    Decoder: ``Dense(392, relu)`` back to the 7×7×``filters[2]`` maps, then the baseline's decoder. No hidden
    Dense layers, no batch normalisation: what Lab 3's :func:`conv_bottleneck_autoencoder` adds to make a
    2-number code work. Used in Lab 3 (the report's own recipe beside the kit's).
    """
    if latent < 1:
        raise ValueError(f"latent must be a positive number of code units; got {latent}.")
    first, second, third = filters
    conv = {"kernel_size": 3, "padding": "same", "activation": "relu"}

    image = keras.Input(shape=(28, 28, 1), name="image")
    x = layers.Conv2D(first, name="enc_conv1", **conv)(image)
    x = layers.MaxPooling2D(2, name="enc_pool1")(x)
    x = layers.Conv2D(second, name="enc_conv2", **conv)(x)
    x = layers.MaxPooling2D(2, name="enc_pool2")(x)
    x = layers.Conv2D(third, name="enc_conv3", **conv)(x)
    x = layers.Flatten(name="enc_flatten")(x)
    code = layers.Dense(latent, activation=code_activation, name="code", **OUTPUT)(x)
    encoder = keras.Model(image, code, name="encoder")

    code_in = keras.Input(shape=(latent,), name="code_in")
    x = layers.Dense(7 * 7 * third, activation="relu", name="dec_dense")(code_in)
    x = layers.Reshape((7, 7, third), name="dec_reshape")(x)
    x = layers.UpSampling2D(2, name="dec_up1")(x)
    x = layers.Conv2D(second, name="dec_conv1", **conv)(x)
    x = layers.UpSampling2D(2, name="dec_up2")(x)
    x = layers.Conv2D(first, name="dec_conv2", **conv)(x)
    reconstruction = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="reconstruction",
                                   **OUTPUT)(x)
    decoder = keras.Model(code_in, reconstruction, name="decoder")

    autoencoder = keras.Model(image, decoder(encoder(image)), name=name or f"report_dense_{latent}")
    return autoencoder, encoder, decoder


# --- Lab 2: the convolutional denoising autoencoder ------------------------------------------------

@in_kit_precision
def conv_denoiser(input_shape: tuple[int, int, int] = (28, 28, 1), filters: tuple[int, ...] = (32, 64, 128),
                  strides: tuple[int, ...] = (1, 2, 2), *, kernel_size: int = 3, activation: str = "relu",
                  code_size: int | None = None, l1: float = 0.0, l2: float = 0.0, dropout: float = 0.0,
                  output_activation: str = "sigmoid",
                  name: str = "conv_denoiser") -> tuple[keras.Model, keras.Model, keras.Model]:
    """The convolutional denoiser of Lab 2 as ``(autoencoder, encoder, decoder)``.

    Encoder: one ``Conv2D`` per entry of ``filters`` (with its ``strides``, ``same`` padding), named
    ``enc_conv1``..., then ``Flatten`` (``"features"``: 7 × 7 × 128 = 6,272 values by default) and, if
    ``code_size`` is given, a ``Dense`` bottleneck (``"code"``). The decoder mirrors it: ``Dense`` back
    (``"dec_dense"``, with a bottleneck), ``Reshape`` to the last feature maps (``"dec_reshape"``), a
    ``Conv2DTranspose`` (``dec_convT1``...) for each encoder layer in reverse, with that layer's stride
    and the filters of the layer before it (the first layer only when it is strided), and ``Conv2D`` to the image's channels with a sigmoid (``"reconstruction"``).
    ``l1``/``l2`` penalise every kernel; ``dropout`` follows each encoder convolution (training only).
    Built by students in Lab 2 (exercises 2 and 3); varied in its post-lab tuning study. Like the other
    convolutional models it computes in bfloat16 on a CPU with bfloat16 units: ``benchmarks/speed.py`` measured
    it 1.4× as fast as plain float32 Keras on AMX matrix units, and on a 2-core AMD EPYC with AVX512_BF16
    vector units alone an interleaved A/B of the labs' path measured it 1.36× as fast an epoch as in float32 at
    the same loss, every layer with weights 1.4-2.3× as fast but the float32 output (``benchmarks/layers.py --lab
    2``; TensorFlow 2.21. With an earlier TensorFlow it measured 0.76×, then no faster, there).
    """
    if len(filters) != len(strides) or not filters:
        raise ValueError(f"give one stride per convolution: filters {tuple(filters)} has {len(filters)} "
                         f"entries, strides {tuple(strides)} has {len(strides)}.")
    height, width, channels = input_shape
    map_height, map_width = height, width
    for stride in strides:
        map_height, map_width = -(-map_height // stride), -(-map_width // stride)
    scale = math.prod(strides)
    if (map_height * scale, map_width * scale) != (height, width):
        raise ValueError(f"strides {tuple(strides)} shrink {height}×{width} images to {map_height}×"
                         f"{map_width} maps, which the decoder cannot enlarge back to {height}×{width}; "
                         "use strides whose product divides the image size (e.g. (1, 2, 2) for 28×28).")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout is the share of values dropped, from 0 up to (not including) 1; got {dropout}.")
    regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None
    conv = {"kernel_size": kernel_size, "padding": "same", "activation": activation,
            "kernel_regularizer": regularizer}
    map_shape = (map_height, map_width, filters[-1])

    image = keras.Input(shape=input_shape, name="image")
    h = image
    for number, (units, stride) in enumerate(zip(filters, strides), start=1):
        h = layers.Conv2D(units, strides=stride, name=f"enc_conv{number}", **conv)(h)
        if dropout:
            h = layers.Dropout(dropout, name=f"enc_dropout{number}")(h)
    features = layers.Flatten(name="features", **OUTPUT)(h)
    if code_size is not None:
        features = layers.Dense(code_size, activation=activation, kernel_regularizer=regularizer,
                                name="code", **OUTPUT)(features)
    encoder = keras.Model(image, features, name="encoder")

    code_in = keras.Input(shape=(math.prod(map_shape) if code_size is None else code_size,),
                          name="features_in")
    h = code_in
    if code_size is not None:
        h = layers.Dense(math.prod(map_shape), activation=activation, kernel_regularizer=regularizer,
                         name="dec_dense")(h)
    h = layers.Reshape(map_shape, name="dec_reshape")(h)
    mirrored = [(filters[max(i - 1, 0)], strides[i]) for i in reversed(range(len(filters)))
                if i > 0 or strides[0] > 1]
    for number, (units, stride) in enumerate(mirrored, start=1):
        h = layers.Conv2DTranspose(units, strides=stride, name=f"dec_convT{number}", **conv)(h)
    reconstruction = layers.Conv2D(channels, kernel_size, padding="same", activation=output_activation,
                                   kernel_regularizer=regularizer, name="reconstruction", **OUTPUT)(h)
    decoder = keras.Model(code_in, reconstruction, name="decoder")

    autoencoder = keras.Model(image, decoder(encoder(image)), name=name)
    return autoencoder, encoder, decoder


# --- Lab 4: a convolutional autoencoder with pooling, and a CNN classifier --------------------------

@in_kit_precision
def conv_autoencoder(filters: tuple[int, int, int] = (32, 16, 8), *, input_shape: tuple[int, int, int] = (28, 28, 1),
                     kernel_size: int = 3, activation: str = "relu", output_activation: str = "sigmoid",
                     name: str = "conv_autoencoder") -> tuple[keras.Model, keras.Model, keras.Model]:
    """The convolutional autoencoder with max-pooling as ``(autoencoder, encoder, decoder)``.

    Encoder: ``enc_conv1`` → ``enc_pool1`` → ``enc_conv2`` → ``enc_pool2`` → ``code`` (a third
    convolution), so 28×28 images become a 7×7×``filters[2]`` code. The decoder mirrors it, each
    convolution at the size of its twin: ``dec_up1`` → ``dec_conv1`` (``filters[1]``) → ``dec_up2`` →
    ``dec_conv2`` (``filters[0]``) → ``reconstruction`` (sigmoid). ``(32, 16, 8)`` is Lab 4's baseline,
    ``(64, 32, 16)`` its improved model. Used in Lab 4.
    """
    if len(filters) != 3 or min(filters) < 1:
        raise ValueError(f"filters gives the three encoder convolutions' widths, e.g. (32, 16, 8); got {filters!r}.")
    height, width, channels = input_shape
    if height % 4 or width % 4:
        raise ValueError(f"two 2×2 poolings need image sides divisible by 4; got {height}×{width}.")
    first, second, third = filters
    conv = {"kernel_size": kernel_size, "padding": "same", "activation": activation}

    image = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(first, name="enc_conv1", **conv)(image)
    x = layers.MaxPooling2D(2, name="enc_pool1")(x)
    x = layers.Conv2D(second, name="enc_conv2", **conv)(x)
    x = layers.MaxPooling2D(2, name="enc_pool2")(x)
    code = layers.Conv2D(third, name="code", **conv, **OUTPUT)(x)
    encoder = keras.Model(image, code, name="encoder")

    code_in = keras.Input(shape=(height // 4, width // 4, third), name="code_in")
    x = layers.UpSampling2D(2, name="dec_up1")(code_in)
    x = layers.Conv2D(second, name="dec_conv1", **conv)(x)
    x = layers.UpSampling2D(2, name="dec_up2")(x)
    x = layers.Conv2D(first, name="dec_conv2", **conv)(x)
    reconstruction = layers.Conv2D(channels, kernel_size, padding="same", activation=output_activation,
                                   name="reconstruction", **OUTPUT)(x)
    decoder = keras.Model(code_in, reconstruction, name="decoder")

    autoencoder = keras.Model(image, decoder(encoder(image)), name=name)
    return autoencoder, encoder, decoder


@in_kit_precision
def cnn_classifier(filters: tuple[int, ...] = (32, 64), dense: int = 128, classes: int = 10, *,
                   input_shape: tuple[int, int, int] = (28, 28, 1), kernel_size: int = 3,
                   activation: str = "relu", name: str = "cnn_scratch") -> keras.Model:
    """A CNN classifier: per entry of ``filters`` a convolution (``conv1``...) and 2×2 max-pooling
    (``pool1``...), then ``Flatten``, ``Dense(dense)`` (``"dense"``) and a softmax over ``classes``
    (``"probabilities"``). The defaults are Lab 4's CNN trained from scratch (Conv32-pool-Conv64-pool-Dense128)."""
    if not filters:
        raise ValueError("give at least one convolution's width in filters, e.g. (32, 64).")
    image = keras.Input(shape=input_shape, name="image")
    x = image
    for number, units in enumerate(filters, start=1):
        x = layers.Conv2D(units, kernel_size, padding="same", activation=activation, name=f"conv{number}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{number}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense, activation=activation, name="dense")(x)
    probabilities = layers.Dense(classes, activation="softmax", name="probabilities", **OUTPUT)(x)
    return keras.Model(image, probabilities, name=name)


def leaf_layers(model: keras.Model):
    """Every layer of ``model`` that computes something, nested models opened, in order (input layers left out).
    Used to count a model's arithmetic (:func:`multiply_adds`), to tell its precision (``labkit reproduce``) and
    to time its layers (``benchmarks/layers.py``)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer)
        elif not isinstance(layer, keras.layers.InputLayer):
            yield layer


def multiply_adds(model: keras.Model) -> int:
    """Multiply-adds one image costs in ``model``'s forward pass, counted from its layers (nested models
    included): a ``Dense`` layer's inputs × units, a convolution's kernel area × input channels × filters at each
    output position, a transposed convolution's at each input position. Everything else (activations, pooling,
    normalisation, reshapes) costs little beside them and is not counted. Training costs about three times the
    forward pass (forward, then the gradients of both activations and weights)."""
    total = 0
    for layer in leaf_layers(model):
        if isinstance(layer, layers.Dense):
            total += int(layer.kernel.shape[0]) * layer.units
        elif isinstance(layer, layers.Conv2DTranspose):
            height, width = layer.input.shape[1:3]
            total += math.prod(layer.kernel.shape) * height * width
        elif isinstance(layer, layers.Conv2D):
            height, width = layer.output.shape[1:3]
            total += math.prod(layer.kernel.shape) * height * width
    return total
