"""Looking into a latent space: codes of a dataset, a linear probe, t-SNE, the decoded plane, interpolation.

An encoder maps each image to a code; these helpers turn codes into what Lab 3 shows: a linear-probe
accuracy (how much of the digit's identity a straight line in code space can read off), a t-SNE map of a
subsample, a grid of images decoded across a 2-D code plane, and the images between two codes.
Used in Lab 3.
"""

from __future__ import annotations

import numpy as np


def _apply(model, inputs, batch_size: int) -> np.ndarray:
    # Calling the model on each batch (rather than ``predict``) traces no new graph for every model of a
    # sweep, so TensorFlow prints no retracing warnings; batch normalisation runs in inference mode.
    inputs = np.asarray(inputs, dtype=np.float32)
    parts = [np.asarray(model(inputs[i:i + batch_size], training=False))
             for i in range(0, len(inputs), batch_size)]
    return np.concatenate(parts)


def encode(encoder, images, *, batch_size: int = 1024) -> np.ndarray:
    """The codes of ``images`` as a float32 array of shape (n, latent size)."""
    codes = _apply(encoder, images, batch_size)
    return codes.astype(np.float32).reshape(len(codes), -1)


def decode(decoder, codes, *, batch_size: int = 1024) -> np.ndarray:
    """Images drawn by ``decoder`` from ``codes`` (n, latent size), as an array of shape (n, 28, 28)."""
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2:
        raise ValueError(f"codes must have shape (n, latent size); got {codes.shape}. "
                         "For one code use codes[None, :].")
    return _apply(decoder, codes, batch_size).reshape(len(codes), 28, 28)


def reconstruct(autoencoder, images, *, batch_size: int = 1024) -> np.ndarray:
    """The autoencoder's reconstructions of ``images``, in the images' own shape."""
    return _apply(autoencoder, images, batch_size).reshape(np.shape(images))


def subsample(n: int, total: int, *, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``n`` items drawn without replacement from ``total`` (all of them if n >= total)."""
    if n < 1:
        raise ValueError(f"n must be at least 1; got {n}.")
    if n >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))


def linear_probe(train_codes, train_labels, test_codes, test_labels, *, max_iter: int = 1000) -> float:
    """Accuracy on the test codes of a logistic regression fitted to the training codes.

    The codes are standardised first (fitted on the training codes only), so the probe measures what a
    linear boundary can separate, not how the code happens to be scaled.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(np.asarray(train_codes), np.asarray(train_labels))
    return float(probe.score(np.asarray(test_codes), np.asarray(test_labels)))


def tsne(codes, *, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """A 2-D t-SNE embedding of ``codes`` (n, latent size); keep n to a few thousand on a CPU."""
    from sklearn.manifold import TSNE

    codes = np.asarray(codes, dtype=np.float32)
    perplexity = min(perplexity, (len(codes) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)


def plane_extent(codes_2d, *, coverage: float = 0.98) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` of a 2-D code plane that holds ``coverage`` of the codes on each axis."""
    codes_2d = np.asarray(codes_2d)
    if codes_2d.ndim != 2 or codes_2d.shape[1] != 2:
        raise ValueError(f"expected 2-D codes of shape (n, 2); got {codes_2d.shape}. "
                         "The decoded plane needs an autoencoder with latent size 2.")
    tail = (1 - coverage) / 2
    (x_min, y_min), (x_max, y_max) = np.quantile(codes_2d, [tail, 1 - tail], axis=0)
    return float(x_min), float(x_max), float(y_min), float(y_max)


def plane_points(extent, n: int = 15) -> np.ndarray:
    """An n×n grid of 2-D codes over ``extent``, shape (n, n, 2); row 0 is the top (largest y)."""
    x_min, x_max, y_min, y_max = extent
    xs, ys = np.linspace(x_min, x_max, n), np.linspace(y_max, y_min, n)
    return np.stack(np.meshgrid(xs, ys), axis=-1).astype(np.float32)


def decode_plane(decoder, extent, n: int = 15) -> np.ndarray:
    """Images decoded at an n×n grid of points of the code plane, shape (n, n, 28, 28)."""
    points = plane_points(extent, n)
    return decode(decoder, points.reshape(-1, 2)).reshape(n, n, 28, 28)


def interpolate(start, end, steps: int = 10) -> np.ndarray:
    """``steps`` codes on the straight line from ``start`` to ``end`` (both included), shape (steps, size)."""
    start, end = np.asarray(start, dtype=np.float32).ravel(), np.asarray(end, dtype=np.float32).ravel()
    if start.shape != end.shape:
        raise ValueError(f"start {start.shape} and end {end.shape} must be codes of the same size.")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (the two ends); got {steps}.")
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return (1 - weights) * start + weights * end
