import numpy as np
import pytest

from labkit import features

RNG = np.random.default_rng(0)
LABELS = np.repeat(np.arange(3), 60)
CENTRES = RNG.normal(0, 1, (3, 20)) * 5
SEPARABLE = (CENTRES[LABELS] + RNG.normal(0, 1, (180, 20))).astype(np.float32)
NOISE_ONLY = RNG.normal(0, 1, (180, 20)).astype(np.float32)


def test_probe_reads_classes_from_separable_features():
    """Does the linear probe score near 100 % where the classes are well apart, and near chance on noise?"""
    assert features.probe_accuracy(SEPARABLE, LABELS, seed=0) >= 0.95
    assert features.probe_accuracy(NOISE_ONLY, LABELS, seed=0) < 0.6


def test_probe_uses_the_given_test_set():
    """With test_features given, is the score measured on them (here: labels shuffled, so near chance)?"""
    train, test = SEPARABLE[::2], SEPARABLE[1::2]
    assert features.probe_accuracy(train, LABELS[::2], test, LABELS[1::2]) >= 0.95
    wrong = np.roll(LABELS[1::2], 30)
    assert features.probe_accuracy(train, LABELS[::2], test, wrong) < 0.5


def test_probe_split_is_seeded():
    """Does the same seed give the same accuracy?"""
    noisy = SEPARABLE + RNG.normal(0, 4, SEPARABLE.shape).astype(np.float32)
    assert features.probe_accuracy(noisy, LABELS, seed=1) == features.probe_accuracy(noisy, LABELS, seed=1)


def test_cluster_scores_are_one_for_clean_clusters_and_near_zero_for_noise():
    """Do ARI and NMI reach 1 on clearly separated groups and stay near 0 without structure?"""
    good = features.cluster_scores(SEPARABLE, LABELS)
    bad = features.cluster_scores(NOISE_ONLY, LABELS)
    assert good["ARI"] > 0.95 and good["NMI"] > 0.95
    assert abs(bad["ARI"]) < 0.1 and bad["NMI"] < 0.15


def test_pca_is_fitted_on_train_only_and_applied_to_the_rest():
    """Does pca_features return arrays of n_components columns, the same for the same rows?"""
    train_pca, test_pca = features.pca_features(SEPARABLE, SEPARABLE[:10], n_components=5)
    assert train_pca.shape == (180, 5) and test_pca.shape == (10, 5)
    np.testing.assert_allclose(train_pca[:10], test_pca, atol=1e-5)


def test_pca_accepts_image_stacks():
    """Are (n, 28, 28, 1) images flattened before PCA?"""
    images = RNG.random((30, 28, 28, 1))
    (out,) = features.pca_features(images, n_components=4)
    assert out.shape == (30, 4)


def test_evaluate_reports_size_accuracy_and_clusters():
    """Does evaluate give one row of numbers with the feature size, probe accuracy, ARI, NMI and time?"""
    row = features.evaluate(SEPARABLE[::2], LABELS[::2], SEPARABLE[1::2], LABELS[1::2])
    assert set(row) == {"size", "probe accuracy", "ARI", "NMI", "seconds"}
    assert row["size"] == 20 and row["probe accuracy"] >= 0.95 and row["seconds"] >= 0


@pytest.mark.parametrize("call, message", [
    (lambda: features.probe_accuracy(SEPARABLE, LABELS[:10]), "180 feature vectors but 10 labels"),
    (lambda: features.probe_accuracy(SEPARABLE, LABELS, SEPARABLE), "both test_features and test_labels"),
    (lambda: features.probe_accuracy(SEPARABLE, LABELS, SEPARABLE[:, :5], LABELS), "same encoder"),
    (lambda: features.probe_accuracy(SEPARABLE, np.zeros(180)), "at least two classes"),
    (lambda: features.probe_accuracy(SEPARABLE, LABELS, test_size=2), "test_size"),
    (lambda: features.probe_accuracy(np.full((180, 20), np.nan), LABELS), "finite numbers"),
    (lambda: features.cluster_scores(SEPARABLE, LABELS, n_clusters=1), "n_clusters"),
    (lambda: features.pca_features(SEPARABLE, n_components=50), "between 1 and 20"),
    (lambda: features.pca_features(np.arange(5.0), n_components=1), "stack of feature vectors"),
])
def test_bad_input_is_explained(call, message):
    """Does each mistake get an error that names it?"""
    with pytest.raises(ValueError, match=message):
        call()
