"""How useful a set of features is for other tasks, measured with scikit-learn.

Three measures, each cheap enough for a few thousand images on a laptop CPU:

* :func:`probe_accuracy` — a *linear probe*: logistic regression trained on the features of labelled
  images and scored on the features of other images. It asks "are the classes linearly separable here?"
* :func:`cluster_scores` — k-means on the features, scored against the true labels with the adjusted
  Rand index (0 for chance, 1 for perfect) and normalised mutual information (0 to 1).
* :func:`pca_features` — the principal components of comparable size, the classical baseline.

:func:`evaluate` runs the first two on one set of features. Used in Lab 2 (step 8 and the post-lab tuning study).
"""

from __future__ import annotations

import contextlib
import time
import warnings

import numpy as np

DEFAULT_C = 1.0
PROBE_MAX_ITER = 300
KMEANS_N_INIT = 4
THREADS = 1
"""Threads scikit-learn may use here. One keeps the time predictable: on a machine whose cores are busy
(a shared server, or TensorFlow still running), k-means with a thread per core ran 20× slower than
with one thread, at the same result."""


def probe_accuracy(features, labels, test_features=None, test_labels=None, *, test_size: float = 0.25,
                   seed: int = 0, C: float = DEFAULT_C, max_iter: int = PROBE_MAX_ITER) -> float:
    """Test accuracy of logistic regression on standardised ``features``.

    With ``test_features``/``test_labels`` the probe trains on ``features`` and is scored on the test
    set; without them, a stratified share ``test_size`` of ``features`` is held out (with ``seed``).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, labels = _as_features(features, labels, "features")
    if (test_features is None) != (test_labels is None):
        raise ValueError("give both test_features and test_labels, or neither (then a share test_size "
                         "of the features is held out).")
    if test_features is None:
        if not 0 < test_size < 1:
            raise ValueError(f"test_size must be a share between 0 and 1, e.g. 0.25; got {test_size!r}.")
        features, test_features, labels, test_labels = train_test_split(
            features, labels, test_size=test_size, random_state=seed, stratify=labels)
    else:
        test_features, test_labels = _as_features(test_features, test_labels, "test_features")
        if test_features.shape[1] != features.shape[1]:
            raise ValueError(f"features have {features.shape[1]} values each but test_features "
                             f"{test_features.shape[1]}: compute both with the same encoder.")
    if len(np.unique(labels)) < 2:
        raise ValueError("the probe needs labels of at least two classes to train on.")
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, random_state=seed))
    with _single_threaded():
        probe.fit(features, labels)
    return float(probe.score(test_features, test_labels))


def cluster_scores(features, labels, *, n_clusters: int | None = None, seed: int = 0,
                   n_init: int = KMEANS_N_INIT) -> dict[str, float]:
    """k-means on standardised ``features`` (one cluster per class by default), scored against
    ``labels``: ``{"ARI": adjusted Rand index, "NMI": normalised mutual information}``."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
    from sklearn.preprocessing import StandardScaler

    features, labels = _as_features(features, labels, "features")
    k = len(np.unique(labels)) if n_clusters is None else int(n_clusters)
    if not 2 <= k <= len(features):
        raise ValueError(f"n_clusters must be between 2 and the number of images ({len(features)}); got {k}.")
    with _single_threaded():
        scaled = StandardScaler().fit_transform(features)
        found = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(scaled)
    return {"ARI": float(adjusted_rand_score(labels, found)),
            "NMI": float(normalized_mutual_info_score(labels, found))}


def pca_features(train, *others, n_components: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """PCA fitted on ``train`` only, applied to ``train`` and each of ``others`` (e.g. a test set)."""
    from sklearn.decomposition import PCA

    train = _flat(train, "train")
    limit = min(train.shape)
    if not 1 <= n_components <= limit:
        raise ValueError(f"n_components must be between 1 and {limit} (the smaller of the number of "
                         f"images and of values per image); got {n_components}.")
    with _single_threaded():
        pca = PCA(n_components=n_components, random_state=seed).fit(train)
        return tuple(pca.transform(_flat(x, "others")).astype(np.float32) for x in (train, *others))


def evaluate(train_features, train_labels, test_features, test_labels, *, seed: int = 0,
             C: float = DEFAULT_C) -> dict[str, float]:
    """The probe's accuracy (trained on the train features, scored on the test features) and the
    clustering scores of the test features, with the seconds both took and the features' size."""
    start = time.perf_counter()
    accuracy = probe_accuracy(train_features, train_labels, test_features, test_labels, seed=seed, C=C)
    clusters = cluster_scores(test_features, test_labels, seed=seed)
    return {"size": int(_flat(train_features, "train_features").shape[1]), "probe accuracy": accuracy,
            **clusters, "seconds": time.perf_counter() - start}


# --- helpers ---------------------------------------------------------------------------------------

def _flat(features, name: str) -> np.ndarray:
    array = np.asarray(features)
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(f"{name} must be a stack of feature vectors (n, d) or images (n, ...); "
                         f"got shape {array.shape}.")
    array = array.reshape(len(array), -1)
    if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
        raise ValueError(f"{name} must hold finite numbers; check the encoder's output (NaN after a "
                         "diverging training?).")
    return array


def _as_features(features, labels, name: str) -> tuple[np.ndarray, np.ndarray]:
    features = _flat(features, name)
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(features):
        raise ValueError(f"{name}: {len(features)} feature vectors but {len(labels)} labels; take the "
                         "labels of the same images, in the same order.")
    return features, labels


@contextlib.contextmanager
def _single_threaded():
    """Run scikit-learn on :data:`THREADS` threads, without its ConvergenceWarning (a probe stopped at
    ``max_iter`` is still a fair probe)."""
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(THREADS):
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
