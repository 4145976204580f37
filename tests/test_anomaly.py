import numpy as np
import pytest

from labkit import anomaly


def test_roc_of_a_perfect_score_reaches_the_top_left_corner():
    """Does a score that ranks every anomaly above every normal image give AUC 1 through (0, 1)?"""
    scores = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    labels = np.array([0, 0, 0, 1, 1])
    fpr, tpr, thresholds = anomaly.roc_curve(scores, labels)
    assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert any(f == 0.0 and t == 1.0 for f, t in zip(fpr, tpr))
    assert thresholds[0] == np.inf
    assert anomaly.auc(scores, labels) == 1.0


def test_auc_is_the_chance_an_anomaly_outscores_a_normal_image():
    """Does the AUC equal the fraction of (anomaly, normal) pairs ranked right, ties counting one half?"""
    rng = np.random.default_rng(0)
    scores = np.round(rng.random(200), 1)  # many ties
    labels = rng.random(200) < 0.3
    pos, neg = scores[labels], scores[~labels]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert anomaly.auc(scores, labels) == pytest.approx(pairs)


def test_reversed_scores_give_one_minus_the_auc():
    """Does flipping the score's sign turn AUC a into 1 - a?"""
    rng = np.random.default_rng(1)
    scores, labels = rng.random(300), rng.random(300) < 0.5
    assert anomaly.auc(-scores, labels) == pytest.approx(1 - anomaly.auc(scores, labels))


def test_roc_agrees_with_scikit_learn():
    """Do our ROC points match scikit-learn's on random scores with ties?"""
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(2)
    scores, labels = np.round(rng.random(500), 2), rng.random(500) < 0.2
    fpr, tpr, _ = anomaly.roc_curve(scores, labels)
    ref_fpr, ref_tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, ref_fpr)
    np.testing.assert_allclose(tpr, ref_tpr)
    assert anomaly.auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))


def test_one_class_labels_are_refused():
    """Is an ROC curve without any anomaly refused with a message that says so?"""
    with pytest.raises(ValueError, match="both anomalies"):
        anomaly.auc([0.1, 0.2], [False, False])


def test_threshold_flags_the_chosen_share_of_normal_images():
    """Does the threshold flag about 5 % of normal scores when asked for a 5 % false-alarm rate?"""
    normal = np.arange(1000.0)
    threshold = anomaly.threshold_from_normal(normal, false_alarm_rate=0.05)
    assert np.mean(normal >= threshold) == pytest.approx(0.05, abs=0.002)
    with pytest.raises(ValueError, match="between 0 and 1"):
        anomaly.threshold_from_normal(normal, false_alarm_rate=5)


def test_detection_counts_precision_and_recall():
    """Are precision, recall and the false-alarm rate computed from the right counts?"""
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1])
    labels = np.array([1, 0, 1, 0, 1, 0], dtype=bool)
    result = anomaly.evaluate_threshold(scores, labels, 0.65)
    assert (result.true_positives, result.false_positives, result.false_negatives, result.true_negatives) == (2, 1, 1, 2)
    assert result.precision == pytest.approx(2 / 3) and result.recall == pytest.approx(2 / 3)
    assert result.false_alarm_rate == pytest.approx(1 / 3)
    assert anomaly.evaluate_threshold(scores, labels, 5.0).precision == 0.0


def test_excess_score_does_not_punish_grey_pixels():
    """Is a perfect reconstruction of a grey image scored 0 by the excess, though its plain BCE is not 0?"""
    grey = np.full((1, 28, 28), 0.5)
    assert anomaly.reconstruction_errors(grey, grey, kind="excess")[0] == pytest.approx(0, abs=1e-9)
    assert anomaly.reconstruction_errors(grey, grey, kind="bce")[0] == pytest.approx(np.log(2))
    worse = anomaly.reconstruction_errors(grey, np.full_like(grey, 0.9), kind="excess")[0]
    assert worse > 0.3


def test_scores_are_one_per_image_and_reject_raw_pixels():
    """Is there one score per image, and are uint8-scale images refused with the fix?"""
    images = np.random.default_rng(3).random((4, 28, 28, 1))
    assert anomaly.reconstruction_errors(images, images * 0.9, kind="mse").shape == (4,)
    with pytest.raises(ValueError, match="preprocess"):
        anomaly.reconstruction_errors(images * 255, images)
    with pytest.raises(ValueError, match="kind"):
        anomaly.reconstruction_errors(images, images, kind="mae")


def test_knn_distance_is_the_mean_distance_to_the_nearest_normal_codes():
    """Is the kNN score the mean Euclidean distance to the k nearest reference codes (after scaling each
    code number by the reference's spread), checked against a brute-force computation?"""
    rng = np.random.default_rng(4)
    reference = rng.normal(size=(300, 3)) * [1.0, 10.0, 0.1]
    codes = rng.normal(size=(40, 3)) * [1.0, 10.0, 0.1]
    scaled_ref = (reference - reference.mean(axis=0)) / reference.std(axis=0)
    scaled = (codes - reference.mean(axis=0)) / reference.std(axis=0)
    distances = np.linalg.norm(scaled[:, None, :] - scaled_ref[None, :, :], axis=2)
    expected = np.sort(distances, axis=1)[:, :5].mean(axis=1)
    np.testing.assert_allclose(anomaly.knn_distance(reference, codes, k=5, batch_size=7), expected, rtol=1e-4)


def test_code_scores_rank_a_far_code_above_a_typical_one():
    """Do both code-space scores give a code far from the normal ones a higher score than a typical code?"""
    rng = np.random.default_rng(5)
    reference = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=2000)
    typical, off_the_ridge = np.array([[1.0, 1.0]]), np.array([[1.0, -1.0]])  # same length, other direction
    for score in (anomaly.knn_distance, anomaly.mahalanobis):
        assert score(reference, off_the_ridge)[0] > score(reference, typical)[0], score.__name__
    assert anomaly.mahalanobis(reference, reference.mean(axis=0)[None, :])[0] == pytest.approx(0, abs=1e-9)


def test_code_scores_refuse_codes_that_do_not_fit_with_the_fix():
    """Are images instead of codes, codes of another size, and too large a k refused with what to do?"""
    reference = np.zeros((20, 4))
    with pytest.raises(ValueError, match="labkit.latent.encode"):
        anomaly.knn_distance(reference, np.zeros((3, 28, 28)))
    with pytest.raises(ValueError, match="same encoder"):
        anomaly.mahalanobis(np.random.default_rng(0).normal(size=(20, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="k must lie between 1 and the 20"):
        anomaly.knn_distance(reference, np.zeros((3, 4)), k=50)


def test_scores_are_compared_alike_with_thresholds_from_validation_normals_only():
    """Does every score get its threshold from the validation split's normal images (none from the test set),
    and its test AUC and recall with intervals, so that a score can be chosen on validation alone?"""
    rng = np.random.default_rng(6)
    val_labels, test_labels = rng.random(2000) < 0.1, rng.random(2000) < 0.1
    validation = {"good": rng.normal(size=2000) + 2 * val_labels, "noise": rng.normal(size=2000)}
    test = {"good": rng.normal(size=2000) + 2 * test_labels, "noise": rng.normal(size=2000)}
    seen = []

    def choose(normal, rate):
        seen.append(len(normal))
        return float(np.quantile(normal, 1 - rate))

    reports = anomaly.compare_scores(validation, val_labels, test, test_labels, false_alarm_rate=0.05,
                                     choose_threshold=choose, seed=1)
    assert seen == [int((~val_labels).sum())] * 2
    good, noise = reports["good"], reports["noise"]
    assert max(reports, key=lambda name: reports[name].validation_auc) == "good"
    assert good.test_auc.above(0.8) and abs(noise.test_auc.estimate - 0.5) < 0.06
    assert good.recall.estimate == pytest.approx(np.mean(test["good"][test_labels] >= good.threshold))
    assert abs(noise.false_alarms - 0.05) < 0.03
    with pytest.raises(ValueError, match="same scores"):
        anomaly.compare_scores(validation, val_labels, {"good": test["good"]}, test_labels)


def test_anomaly_module_needs_only_numpy():
    """Does labkit.anomaly import without TensorFlow or scikit-learn?"""
    import subprocess
    import sys

    code = ("import sys; import labkit.anomaly; "
            "bad = [m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules]; print(bad)")
    # labkit/__init__ imports TensorFlow only inside a Jupyter kernel; a plain interpreter stays light.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
