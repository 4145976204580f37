"""Plausible wrong answers to Lab 1's exercises: each must fail the self-check and the grader alike.

``MISTAKES[grade_id]`` maps a short description to the source of a whole exercise cell, as a student might
write it. ``tests/test_exercises.py`` runs each one through the notebook's own self-check calls and through
the grader's observer and rule; the adversarial corpus takes its honest-but-wrong answers from here.
"""

_PIPELINE = '''train_ds = (tf.data.Dataset.from_tensor_slices((x_train_flat, x_train_flat))
            .shuffle(len(x_train_flat), seed=config.seed{shuffle})
            .batch(BATCH_SIZE{batch})
            {prefetch})
test_ds = (tf.data.Dataset.from_tensor_slices((x_test_flat, x_test_flat)){test}
           .batch(BATCH_SIZE)
           .prefetch(tf.data.AUTOTUNE))'''


def _pipeline(shuffle="", batch="", prefetch=".prefetch(tf.data.AUTOTUNE)", test="") -> str:
    return _PIPELINE.format(shuffle=shuffle, batch=batch, prefetch=prefetch, test=test)


_MODELS = '''image = keras.Input(shape=(784,), name="image")
hidden = layers.Dense({hidden}, activation="relu", name="enc_dense")(image)
code = layers.Dense({latent}, activation="{code}", name="code")(hidden)
encoder = keras.Model(image, code, name="encoder")

code_in = keras.Input(shape=({latent},), name="code_in")
hidden = layers.Dense({hidden}, activation="relu", name="dec_dense")(code_in)
pixels = layers.Dense(784, activation="{output}", name="reconstruction")(hidden)
decoder = keras.Model(code_in, pixels, name="decoder")'''


def _models(hidden=128, latent="LATENT", code="relu", output="sigmoid") -> str:
    return _MODELS.format(hidden=hidden, latent=latent, code=code, output=output)


MISTAKES = {
    "L1-preprocess": {
        "forgets to divide by 255": (
            "def preprocess(images):\n"
            "    return np.asarray(images).reshape(len(images), -1).astype('float32')"),
        "does not flatten the images": (
            "def preprocess(images):\n"
            "    return np.asarray(images).astype('float32') / 255.0"),
        "returns float64": (
            "def preprocess(images):\n"
            "    return np.asarray(images).reshape(len(images), -1) / 255.0"),
        "divides by 256": (
            "def preprocess(images):\n"
            "    return np.asarray(images).reshape(len(images), -1).astype('float32') / 256.0"),
        "clips the caller's images in place": (
            "def preprocess(images):\n"
            "    np.clip(images, 1, 255, out=images)\n"
            "    return images.reshape(len(images), -1).astype('float32') / 255.0"),
    },
    "L1-pipeline": {
        "no prefetch": _pipeline(prefetch=""),
        "not shuffled": _pipeline().replace("\n            .shuffle(len(x_train_flat), seed=config.seed)", ""),
        "drops the last, smaller batch": _pipeline(batch=", drop_remainder=True"),
        "the same order every pass": _pipeline(shuffle=", reshuffle_each_iteration=False"),
        "shuffles the test set": _pipeline(test="\n           .shuffle(len(x_test_flat), seed=config.seed)"),
    },
    "L1-encoder-decoder": {
        "sigmoid code (the middle activation)": _models(code="sigmoid"),
        "linear output layer": _models(output="linear"),
        "hidden layers of 64 units": _models(hidden=64),
        "a code of 16 numbers": _models(latent=16),
    },
    "L1-autoencoder": {
        "new layers instead of the encoder and decoder": (
            'inputs = keras.Input(shape=(784,), name="image")\n'
            'x = layers.Dense(128, activation="relu")(inputs)\n'
            'x = layers.Dense(LATENT, activation="relu")(x)\n'
            'x = layers.Dense(128, activation="relu")(x)\n'
            'autoencoder = keras.Model(inputs, layers.Dense(784, activation="sigmoid")(x), name="autoencoder")'),
        "the encoder alone": (
            'inputs = keras.Input(shape=(784,), name="image")\n'
            'autoencoder = keras.Model(inputs, encoder(inputs), name="autoencoder")'),
        "the decoder fed the image": (
            'inputs = keras.Input(shape=(LATENT,), name="image")\n'
            'autoencoder = keras.Model(inputs, decoder(inputs), name="autoencoder")'),
    },
    "L1-compile": {
        "stochastic gradient descent": 'autoencoder.compile(optimizer="sgd", loss="binary_crossentropy")',
        "mean squared error": 'autoencoder.compile(optimizer="adam", loss="mse")',
        "categorical cross-entropy": 'autoencoder.compile(optimizer="adam", loss="categorical_crossentropy")',
        "never compiled": 'optimizer, loss = "adam", "binary_crossentropy"',
    },
}
