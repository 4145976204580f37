"""Plausible wrong answers to Lab 2's exercises: each must fail the self-check and the grader alike.

``MISTAKES[grade_id]`` maps a short description to the source of a whole exercise cell, as a student might
write it. ``tests/test_exercises.py`` runs each one through the notebook's own self-check calls and through
the grader's observer and rule; the adversarial corpus takes its honest-but-wrong answers from here (the
first of each exercise).
"""

_NOISE = '''def add_noise(images, factor, seed):
    rng = {rng}
    noisy = images + {noise}
    return {result}'''


def _noise(rng="np.random.default_rng(seed)", noise="factor * rng.standard_normal(images.shape)",
           result='np.clip(noisy, 0.0, 1.0).astype("float32")') -> str:
    return _NOISE.format(rng=rng, noise=noise, result=result)


_ENCODER = '''image = keras.Input(shape=(28, 28, 1), name="image")
h = layers.Conv2D(32, {kernel}, strides={s1}, padding="{padding}", activation="relu", name="enc_conv1")(image)
h = layers.Conv2D(64, {kernel}, strides={s2}, padding="{padding}", activation="relu", name="enc_conv2")(h)
h = layers.Conv2D(128, {kernel}, strides={s3}, padding="{padding}", activation="{last}", name="enc_conv3")(h)
feature_vector = {flatten}
encoder = keras.Model(image, feature_vector, name="encoder")'''


def _encoder(strides=(1, 2, 2), kernel=3, padding="same", last="relu",
             flatten='layers.Flatten(name="features", dtype="float32")(h)') -> str:
    s1, s2, s3 = strides
    return _ENCODER.format(s1=s1, s2=s2, s3=s3, kernel=kernel, padding=padding, last=last, flatten=flatten)


_DECODER = '''features_in = keras.Input(shape=(6272,), name="features_in")
h = layers.Reshape((7, 7, 128), name="dec_reshape")(features_in)
{upsample}
reconstruction = layers.Conv2D(1, 3, padding="same", activation="{output}", name="reconstruction",
                               dtype="float32")(h)
decoder = keras.Model(features_in, reconstruction, name="decoder")'''

_TRANSPOSED = '''h = layers.Conv2DTranspose({first}, 3, strides={stride}, padding="same", activation="{inner}",
                           name="dec_convT1")(h)
h = layers.Conv2DTranspose({second}, 3, strides={stride}, padding="same", activation="{inner}",
                           name="dec_convT2")(h)'''


def _decoder(first=64, second=32, stride=2, inner="relu", output="sigmoid", upsample=None) -> str:
    upsample = upsample or _TRANSPOSED.format(first=first, second=second, stride=stride, inner=inner)
    return _DECODER.format(upsample=upsample, output=output)


_PAIRS = '''train_ds = data.pipeline({train_in}, {train_out}, batch_size={batch}, seed=config.seed{train_shuffle})
val_ds = data.pipeline(x_test_noisy, x_test, batch_size={batch}{val_shuffle})
{compile}'''


def _pairs(train_in="x_train_noisy", train_out="x_train", batch="BATCH_SIZE", train_shuffle="",
           val_shuffle=", shuffle=False", compile='autoencoder.compile(optimizer="adam", loss="binary_crossentropy")'):
    return _PAIRS.format(train_in=train_in, train_out=train_out, batch=batch, train_shuffle=train_shuffle,
                         val_shuffle=val_shuffle, compile=compile)


MISTAKES = {
    "L2-noise": {
        "forgets to clip": _noise(result='noisy.astype("float32")'),
        "uniform noise": _noise(noise="factor * rng.uniform(-1.0, 1.0, images.shape)"),
        "the factor squared (a variance, not a standard deviation)":
            _noise(noise="factor ** 2 * rng.standard_normal(images.shape)"),
        "a fixed seed": _noise(rng="np.random.default_rng(0)"),
        "NumPy's global generator, never seeded": _noise(rng="np.random"),
        "returns float64": _noise(result="np.clip(noisy, 0.0, 1.0)"),
        "the same noise on every image": _noise(noise="factor * rng.standard_normal(images.shape[1:])"),
        "rescales to [0, 1] instead of clipping":
            _noise(result='((noisy - noisy.min()) / (noisy.max() - noisy.min())).astype("float32")'),
        "adds the noise in place": (
            "def add_noise(images, factor, seed):\n"
            "    rng = np.random.default_rng(seed)\n"
            "    images += factor * rng.standard_normal(images.shape).astype(images.dtype)\n"
            '    return np.clip(images, 0.0, 1.0).astype("float32")'),
    },
    "L2-encoder": {
        "strides on the first two convolutions, not the last two": _encoder(strides=(2, 2, 1)),
        "no Flatten": _encoder(flatten="h"),
        "'valid' padding": _encoder(padding="valid"),
        "no activation on the last convolution": _encoder(last="linear"),
        "5×5 kernels": _encoder(kernel=5),
    },
    "L2-decoder": {
        "a ReLU output layer": _decoder(output="relu"),
        "transposed convolutions of 128 and 64 filters": _decoder(first=128, second=64),
        "stride 1 in the transposed convolutions": _decoder(stride=1),
        "no activation in the transposed convolutions": _decoder(inner="linear"),
        "UpSampling2D and Conv2D instead of Conv2DTranspose": _decoder(upsample=(
            'h = layers.UpSampling2D(2)(h)\n'
            'h = layers.Conv2D(64, 3, padding="same", activation="relu")(h)\n'
            'h = layers.UpSampling2D(2)(h)\n'
            'h = layers.Conv2D(32, 3, padding="same", activation="relu")(h)')),
    },
    "L2-train-pairs": {
        "clean inputs, noisy targets (swapped)": _pairs(train_in="x_train", train_out="x_train_noisy"),
        "clean images in and out (a plain autoencoder)": _pairs(train_in="x_train"),
        "the validation set shuffled": _pairs(val_shuffle=""),
        "the training set in order": _pairs(train_shuffle=", shuffle=False"),
        "batches of 32": _pairs(batch="32"),
        "mean squared error": _pairs(compile='autoencoder.compile(optimizer="adam", loss="mse")'),
        "never compiled": _pairs(compile='optimizer, loss = "adam", "binary_crossentropy"'),
        "inputs and targets shuffled separately": (
            "import tensorflow as tf\n"
            "noisy = tf.data.Dataset.from_tensor_slices(x_train_noisy).shuffle(len(x_train), seed=1)\n"
            "clean = tf.data.Dataset.from_tensor_slices(x_train).shuffle(len(x_train), seed=2)\n"
            "train_ds = tf.data.Dataset.zip((noisy, clean)).batch(BATCH_SIZE)\n"
            "val_ds = data.pipeline(x_test_noisy, x_test, batch_size=BATCH_SIZE, shuffle=False)\n"
            'autoencoder.compile(optimizer="adam", loss="binary_crossentropy")'),
    },
}
