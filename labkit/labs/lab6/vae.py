"""The variational autoencoder of Lab 6: its model and training step, the reference answers to the lab's
exercises, and what the lab measures of a trained model.

The encoder and decoder are Lab 3's (:func:`labkit.models.conv_bottleneck_autoencoder`), made lean (see
``FILTERS`` and ``DENSE`` in :mod:`labkit.labs.lab6`): the encoder's code layer gives way to two heads,
the mean and the log-variance of a Gaussian over codes, and a sampling layer draws the code from it.
The plain autoencoder it is compared with is the same builder, unchanged.

**Scale**, once for the whole lab: the reconstruction term, the KL term and the ELBO are in nats *per
image* (summed over the 784 pixels and over the code's numbers, averaged over the images), the scale at
which β = 1 makes the loss the negative ELBO. Divided by 784, the reconstruction term is the per-pixel
binary cross-entropy of Labs 1-4, read against the same floor (0.0581 on the MNIST test set). Used in
Lab 6; :mod:`labkit.labs.lab6.experiments` trains the same models.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from labkit import latent, models
from labkit.labs.lab6 import BATCH_SIZE, CONFIDENT, DENSE, EPOCHS, FILTERS, LEARNING_RATE
from labkit.metrics import KERAS_EPSILON

PIXELS = 784
TERMS = ("loss", "reconstruction", "kl", "elbo")
"""What the VAE reports each epoch: the loss it minimises (reconstruction + β·KL), its two terms, and
the ELBO, -(reconstruction + KL); all in nats per image."""


# --- the reference answers to the lab's exercises ---------------------------------------------------

@keras.saving.register_keras_serializable(package="labkit")
class Sampling(layers.Layer):
    """Draws z = mean + exp(log_var / 2) · ε with ε ~ N(0, I): the reparameterisation trick.

    ``layer((z_mean, z_log_var))`` draws ε from the layer's own seeded generator;
    ``epsilon=`` gives the draws instead. Exercise 1 of Lab 6. Registered with Keras, so that an encoder
    saved to a ``.keras`` file loads again (``labkit reproduce --scheduler`` sends models that way).
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, epsilon=None):
        z_mean, z_log_var = inputs
        if epsilon is None:
            epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


def kl_divergence(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) ‖ N(0, I)) of each image in closed form, summed over the code's
    numbers: shape (n,), in nats. Exercise 2 of Lab 6."""
    return -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def vae_loss(images, reconstructions, z_mean, z_log_var, beta=1.0):
    """``(loss, reconstruction, kl)``, each averaged over the batch in nats per image: the binary
    cross-entropy summed over each image's pixels, the KL term, and reconstruction + β·KL.
    Exercise 3 of Lab 6."""
    per_pixel = ops.binary_crossentropy(images, reconstructions)
    reconstruction = ops.mean(ops.sum(per_pixel, axis=(1, 2, 3)))
    kl = ops.mean(kl_divergence(z_mean, z_log_var))
    return reconstruction + beta * kl, reconstruction, kl


def grid_points(n: int = 15) -> np.ndarray:
    """An n×n grid of 2-D codes at the standard normal's quantiles (k + 0.5) / n, shape (n, n, 2): each
    point stands for an equal share of the prior; row 0 is the top (largest second number), column 0
    the left (smallest first number), as in :func:`labkit.latent.plane_points`."""
    from scipy.stats import norm

    quantiles = norm.ppf((np.arange(n) + 0.5) / n)
    return np.stack(np.meshgrid(quantiles, quantiles[::-1]), axis=-1).astype(np.float32)


def prior_grid(decoder, n: int = 15) -> np.ndarray:
    """Images decoded at :func:`grid_points`, shape (n, n, 28, 28). Exercise 4 of Lab 6."""
    return latent.decode(decoder, grid_points(n).reshape(-1, 2)).reshape(n, n, 28, 28)


# --- the models --------------------------------------------------------------------------------------

def vae_parts(latent_size: int = 16, *, sampling: type = Sampling, seed: int | None = None,
              filters: tuple[int, int] = FILTERS, dense: tuple[int, ...] = DENSE
              ) -> tuple[keras.Model, keras.Model]:
    """``(encoder, decoder)`` of a VAE: image → (z_mean, z_log_var, z), and code → image.

    Both come from one call of :func:`labkit.models.conv_bottleneck_autoencoder`, so they compute in the
    kit's precision; the two heads and ``sampling`` (the sampling layer's class: the student's in the
    lab) compute in float32.
    """
    _, trunk, decoder = models.conv_bottleneck_autoencoder(latent=latent_size, filters=filters, dense=dense)
    features = trunk.get_layer("code").input
    z_mean = layers.Dense(latent_size, name="z_mean", dtype="float32")(features)
    z_log_var = layers.Dense(latent_size, name="z_log_var", dtype="float32")(features)
    z = sampling(seed=seed, name="z", dtype="float32")([z_mean, z_log_var])
    return keras.Model(trunk.input, [z_mean, z_log_var, z], name="vae_encoder"), decoder


def plain_autoencoder(latent_size: int = 16, *, filters: tuple[int, int] = FILTERS,
                      dense: tuple[int, ...] = DENSE) -> tuple[keras.Model, keras.Model, keras.Model]:
    """The plain autoencoder of the VAE's own architecture, ``(autoencoder, encoder, decoder)``: the
    control for every comparison of Lab 6."""
    return models.conv_bottleneck_autoencoder(latent=latent_size, filters=filters, dense=dense,
                                              name=f"plain_{latent_size}")


class VAE(keras.Model):
    """A variational autoencoder: ``encoder`` (image → z_mean, z_log_var, z) and ``decoder`` (z → image),
    trained to minimise ``loss_fn``'s reconstruction + β·KL. Each epoch it reports the loss, the
    reconstruction term, the KL term and the ELBO (:data:`TERMS`). Used in Lab 6."""

    def __init__(self, encoder, decoder, *, beta=1.0, loss_fn=vae_loss, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.beta, self.loss_fn = float(beta), loss_fn
        self.trackers = {term: keras.metrics.Mean(name=term) for term in TERMS}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, images, training=False):
        return self.decoder(self.encoder(images, training=training)[2], training=training)

    def terms(self, images, training=False):
        """``(loss, reconstruction, kl)`` of a batch, one code drawn per image."""
        z_mean, z_log_var, z = self.encoder(images, training=training)
        reconstructions = self.decoder(z, training=training)
        return self.loss_fn(images, reconstructions, z_mean, z_log_var, beta=self.beta)

    def train_step(self, data):
        import tensorflow as tf

        images = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            loss, reconstruction, kl = self.terms(images, training=True)
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self.report(loss, reconstruction, kl)

    def test_step(self, data):
        images = data[0] if isinstance(data, tuple) else data
        return self.report(*self.terms(images, training=False))

    def report(self, loss, reconstruction, kl):
        """The epoch's running means of the loss, both terms and the ELBO."""
        elbo = -(reconstruction + kl)
        for term, value in zip(TERMS, (loss, reconstruction, kl, elbo)):
            self.trackers[term].update_state(value)
        return {term: tracker.result() for term, tracker in self.trackers.items()}


def fit(model: keras.Model, images: np.ndarray, *, epochs: int = EPOCHS, batch_size: int = BATCH_SIZE,
        learning_rate: float = LEARNING_RATE, seed: int = 42, verbose: int = 0):
    """Compile ``model`` with Lab 3's recipe (Adam, cosine decay to 1 %) and train it on ``images`` (the
    same images as targets for a plain autoencoder): the Keras ``History``, with ``seconds``. A
    :class:`VAE` trains on its own loss; any other model on binary cross-entropy. Used in Lab 6."""
    from labkit import data, train
    from labkit.config import settings

    steps = settings().epochs(epochs) * math.ceil(len(images) / batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.01)
    loss = None if isinstance(model, VAE) else "binary_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss)
    return train.fit(model, data.pipeline(images, batch_size=batch_size, seed=seed), epochs=epochs,
                     verbose=verbose)


# --- what the lab measures --------------------------------------------------------------------------

def _bce_per_image(images: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    p = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    q = np.clip(np.asarray(reconstructions, dtype=np.float64).reshape(p.shape), KERAS_EPSILON,
                1 - KERAS_EPSILON)
    return -np.sum(p * np.log(q) + (1 - p) * np.log1p(-q), axis=1)


def measure(encoder, decoder, images: np.ndarray, *, batch_size: int = 1000) -> dict[str, np.ndarray]:
    """Each image's terms under a trained VAE, in nats: ``reconstruction`` (one code drawn per image, as
    in training), ``mean_code_reconstruction`` (the mean code decoded), ``kl`` and ``neg_elbo``; and the
    codes' means ``z_mean`` and log-variances ``z_log_var``."""
    parts: dict[str, list] = {"reconstruction": [], "mean_code_reconstruction": [], "kl": [], "z_mean": [],
                              "z_log_var": []}
    for start in range(0, len(images), batch_size):
        batch = np.asarray(images[start:start + batch_size], dtype=np.float32)
        z_mean, z_log_var, z = (np.asarray(part, dtype=np.float64) for part in encoder(batch, training=False))
        parts["reconstruction"].append(_bce_per_image(batch, decoder(z, training=False)))
        parts["mean_code_reconstruction"].append(_bce_per_image(batch, decoder(z_mean, training=False)))
        parts["kl"].append(-0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1))
        parts["z_mean"].append(z_mean)
        parts["z_log_var"].append(z_log_var)
    measured = {name: np.concatenate(values) for name, values in parts.items()}
    measured["neg_elbo"] = measured["reconstruction"] + measured["kl"]
    return measured


def summary(measured: dict[str, np.ndarray]) -> dict[str, float]:
    """The test-set means of :func:`measure`'s terms, in nats per image, and the two reconstruction terms
    per pixel (``..._per_pixel``), with the standard error of each mean (``..._se``)."""
    found = {}
    for name in ("reconstruction", "mean_code_reconstruction", "kl", "neg_elbo"):
        values = measured[name]
        found[name] = float(values.mean())
        found[f"{name}_se"] = float(values.std(ddof=1) / math.sqrt(len(values)))
    for name in ("reconstruction", "mean_code_reconstruction", "neg_elbo"):
        found[f"{name}_per_pixel"] = found[name] / PIXELS
    return found


def plain_reconstruction(autoencoder, images: np.ndarray) -> np.ndarray:
    """Each image's binary cross-entropy under a plain autoencoder, in nats per image (summed over its
    pixels, like the VAE's reconstruction term)."""
    return _bce_per_image(images, latent.reconstruct(autoencoder, images))


def kl_per_unit(z_mean: np.ndarray, z_log_var: np.ndarray) -> np.ndarray:
    """The KL term of each code number, averaged over the images (nats): a collapsed unit gives ~0."""
    z_mean, z_log_var = np.asarray(z_mean, dtype=np.float64), np.asarray(z_log_var, dtype=np.float64)
    return np.mean(-0.5 * (1 + z_log_var - z_mean**2 - np.exp(z_log_var)), axis=0)


def active_units(z_mean, *, threshold: float = 0.01) -> int:
    """How many code numbers the encoder uses: those whose mean varies across images with a variance
    above ``threshold`` (Burda, Grosse and Salakhutdinov, 2016). A unit below it gives every image the
    same code number: it has collapsed onto the prior, and the decoder cannot read anything from it."""
    return int(np.sum(np.var(np.asarray(z_mean, dtype=np.float64), axis=0) > threshold))


def prior_samples(decoder, n: int, latent_size: int, *, seed: int = 0) -> np.ndarray:
    """``n`` images decoded from codes drawn from the prior N(0, I), shape (n, 28, 28)."""
    codes = np.random.default_rng(seed).standard_normal((n, latent_size))
    return latent.decode(decoder, codes)


def random_codes(codes: np.ndarray, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` random points of a plain autoencoder's code space: drawn from the Gaussian with the mean and
    covariance of its ``codes`` (training codes). A generous guess of where its digits lie: the plain
    autoencoder itself says nothing about it."""
    codes = np.asarray(codes, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(codes.mean(axis=0), np.cov(codes, rowvar=False), size=n)


def digit_classifier(images: np.ndarray, labels: np.ndarray, *, epochs: int = 2, seed: int = 42):
    """The fixed judge of Lab 6's samples: a small CNN (Conv 16-pool-Conv 32-pool-Dense 64) trained on
    MNIST, compiled with accuracy. Returns the trained model."""
    from labkit import data, train

    keras.utils.set_random_seed(seed)
    classifier = models.cnn_classifier(filters=(16, 32), dense=64, name="digit_judge")
    classifier.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    train.fit(classifier, data.pipeline(images, labels, batch_size=BATCH_SIZE, seed=seed), epochs=epochs,
              verbose=0)
    return classifier


def clear_digits(classifier, images: np.ndarray, *, confident: float = CONFIDENT) -> dict:
    """What the fixed classifier makes of ``images``: the share it calls one digit with probability at
    least ``confident`` (``share``, with its standard error ``se``), the digits it calls them
    (``digits``: a count per digit of the clear ones) and the mean of its highest probability."""
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
    probabilities = classifier.predict(images, batch_size=1000, verbose=0)
    top = probabilities.max(axis=1)
    clear = top >= confident
    share = float(clear.mean())
    return {"share": share, "se": math.sqrt(share * (1 - share) / len(clear)),
            "digits": np.bincount(probabilities.argmax(axis=1)[clear], minlength=10),
            "mean_confidence": float(top.mean())}


def midpoints(codes: np.ndarray, decoder, pairs: int, *, seed: int = 0) -> np.ndarray:
    """The images ``decoder`` draws halfway between the ``codes`` of ``pairs`` random pairs of images."""
    first, second = np.random.default_rng(seed).integers(0, len(codes), (2, pairs))
    return latent.decode(decoder, (np.asarray(codes)[first] + np.asarray(codes)[second]) / 2)
