"""Plausible wrong answers to Lab 4's exercises: each must fail the self-check and the grader alike.

``MISTAKES[grade_id]`` maps a short description to the source of a whole exercise cell, as a student might
write it. ``tests/test_exercises.py`` runs each one through the notebook's own self-check calls and through
the grader's observer and rule; the adversarial corpus takes its honest-but-wrong answers from the first.
"""

_ENCODER = '''conv = {{"kernel_size": 3, "padding": "{padding}", "activation": "relu"}}
image = keras.Input(shape=(28, 28, 1), name="image")
x = layers.Conv2D(32, name="enc_conv1", {strides}**conv)(image)
{pool1}x = layers.Conv2D(16, name="enc_conv2", {strides}**conv)(x)
{pool2}code = layers.Conv2D(8, name="code", **conv)(x)
encoder = keras.Model(image, code, name="encoder")
'''
_MAX_POOLING = 'x = layers.MaxPooling2D(2, name="enc_pool{n}")(x)\n'

_DECODER = '''code_in = keras.Input(shape=(7, 7, 8), name="code_in")
x = layers.UpSampling2D(2, name="dec_up1")(code_in)
x = layers.Conv2D(16, name="dec_conv1", **conv)(x)
x = layers.UpSampling2D(2, name="dec_up2")(x)
x = layers.Conv2D(32, name="dec_conv2", **conv)(x)
reconstruction = layers.Conv2D(1, 3, padding="same", activation="{output}", name="reconstruction")(x)
decoder = keras.Model(code_in, reconstruction, name="decoder")'''


def _autoencoder(padding="same", strides="", pool=_MAX_POOLING, output="sigmoid") -> str:
    return (_ENCODER.format(padding=padding, strides=strides, pool1=pool.format(n=1), pool2=pool.format(n=2))
            + "\n" + _DECODER.format(output=output))


_CONVOLVES_FIRST = _autoencoder().split("code_in = ")[0] + '''code_in = keras.Input(shape=(7, 7, 8), name="code_in")
x = layers.Conv2D(16, name="dec_conv1", **conv)(code_in)
x = layers.UpSampling2D(2, name="dec_up1")(x)
x = layers.Conv2D(32, name="dec_conv2", **conv)(x)
x = layers.UpSampling2D(2, name="dec_up2")(x)
reconstruction = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="reconstruction")(x)
decoder = keras.Model(code_in, reconstruction, name="decoder")'''

_COPY = "mnist_copy = transfer.copy_model(mnist_encoder)\n"

_HEAD = '''steps_per_epoch = -(-len(x_train) // BATCH)
schedule = keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=EPOCHS * steps_per_epoch)
image = keras.Input(shape=(28, 28, 1), name="image")
x = features(image, training=False)
x = layers.Flatten(name="flatten")(x)
{hidden}probabilities = layers.Dense(10, activation="{activation}", name="probabilities")(x)
reseed()
frozen = keras.Model(image, probabilities, name="frozen_transfer")
{freeze}frozen.compile(optimizer={optimizer}, loss="{loss}"{metrics})'''


def _head(hidden="", activation="softmax", freeze="", optimizer="keras.optimizers.Adam(schedule)",
          loss="sparse_categorical_crossentropy", metrics=', metrics=["accuracy"]') -> str:
    return _HEAD.format(hidden=hidden, activation=activation, freeze=freeze, optimizer=optimizer, loss=loss,
                        metrics=metrics)


_FINE_TUNE = '''fine_tuned = transfer.copy_model(frozen, name="fine_tuned")
fine_schedule = keras.optimizers.schedules.CosineDecay(FINE_TUNE_RATE, decay_steps=EPOCHS * steps_per_epoch)
'''
_UNFREEZE = 'fine_tuned.get_layer("mnist_features").trainable = True\n'


def _recompile(optimizer="keras.optimizers.Adam(fine_schedule)") -> str:
    return (f"fine_tuned.compile(optimizer={optimizer},\n"
            '                   loss="sparse_categorical_crossentropy", metrics=["accuracy"])')


def _subset(body: str) -> str:
    return "def balanced_subset(labels, n, seed):\n" + body


MISTAKES = {
    "L4-conv-autoencoder": {
        "the decoder convolves before it upsamples": _CONVOLVES_FIRST,
        "average pooling instead of max pooling": _autoencoder(
            pool='x = layers.AveragePooling2D(2, name="enc_pool{n}")(x)\n'),
        "strided convolutions instead of pooling": _autoencoder(strides="strides=2, ", pool=""),
        "valid padding (the default), which shrinks the image": _autoencoder(padding="valid"),
        "no sigmoid on the reconstruction": _autoencoder(output="relu"),
    },
    "L4-freeze": {
        "forgets to freeze the features": _COPY + (
            'features = keras.Model(mnist_copy.input, mnist_copy.get_layer(CUT).output, name="mnist_features")'),
        "cuts mnist_encoder itself, not its copy": _COPY + (
            'features = keras.Model(mnist_encoder.input, mnist_encoder.get_layer(CUT).output, name="mnist_features")\n'
            "features.trainable = False"),
        "cuts after the whole encoder instead of CUT": _COPY + (
            'features = keras.Model(mnist_copy.input, mnist_copy.output, name="mnist_features")\n'
            "features.trainable = False"),
        "new layers of the right shape instead of the MNIST weights": _COPY + (
            'image = keras.Input(shape=(28, 28, 1), name="image")\n'
            'x = layers.Conv2D(IMPROVED["filters"][0], 3, padding="same", activation="relu")(image)\n'
            'features = keras.Model(image, layers.MaxPooling2D(2)(x), name="mnist_features")\n'
            "features.trainable = False"),
        "cuts at the first convolution, before its pooling": _COPY + (
            'features = keras.Model(mnist_copy.input, mnist_copy.get_layer("enc_conv1").output, '
            'name="mnist_features")\n'
            "features.trainable = False"),
    },
    "L4-head": {
        "a hidden Dense(128) layer before the output": _head(
            hidden='x = layers.Dense(128, activation="relu", name="hidden")(x)\n'),
        "a constant learning rate (optimizer='adam')": _head(optimizer='"adam"'),
        "categorical cross-entropy, for one-hot labels": _head(loss="categorical_crossentropy"),
        "no softmax on the output": _head(activation="linear"),
        "freezes the whole classifier": _head(freeze="frozen.trainable = False\n"),
        "forgets the accuracy metric": _head(metrics=""),
    },
    "L4-fine-tune": {
        "forgets to compile again": _FINE_TUNE + _UNFREEZE,
        "compiles again without unfreezing": _FINE_TUNE + _recompile(),
        "Adam's default learning rate": _FINE_TUNE + _UNFREEZE + _recompile('"adam"'),
        "unfreezes features, not the copy's own layer": _FINE_TUNE + "features.trainable = True\n" + _recompile(),
        "stochastic gradient descent": _FINE_TUNE + _UNFREEZE + _recompile("keras.optimizers.SGD(fine_schedule)"),
    },
    "L4-budget": {
        "n indices at random, whatever their class": _subset(
            "    return np.random.default_rng(seed).choice(len(labels), size=n, replace=False)"),
        "draws with replacement": _subset(
            "    rng = np.random.default_rng(seed)\n"
            "    labels = np.asarray(labels)\n"
            "    return np.concatenate([rng.choice(np.flatnonzero(labels == c), size=n // 10) for c in range(10)])"),
        "ignores the seed": _subset(
            "    rng = np.random.default_rng()\n"
            "    labels = np.asarray(labels)\n"
            "    return np.concatenate([rng.choice(np.flatnonzero(labels == c), size=n // 10, replace=False)\n"
            "                           for c in range(10)])"),
        "returns the labels, not their indices": _subset(
            "    rng = np.random.default_rng(seed)\n"
            "    labels = np.asarray(labels)\n"
            "    picked = [rng.choice(np.flatnonzero(labels == c), size=n // 10, replace=False) for c in range(10)]\n"
            "    return labels[np.concatenate(picked)]"),
        "the first n / 10 images of each class, not a seeded draw": _subset(
            "    labels = np.asarray(labels)\n"
            "    return np.concatenate([np.flatnonzero(labels == c)[:n // 10] for c in range(10)])"),
    },
}
