import subprocess
import sys

import numpy as np
import pytest

from labkit import anomaly, evidence


def separated(shift, n_anomalies=300, n_normal=2700, seed=0):
    """Scores of anomalies drawn ``shift`` above those of normal images, rounded so that some tie."""
    rng = np.random.default_rng(seed)
    scores = np.round(np.r_[rng.normal(shift, 1, n_anomalies), rng.normal(0, 1, n_normal)], 1)
    return scores, np.r_[np.ones(n_anomalies, bool), np.zeros(n_normal, bool)]


def test_the_auc_interval_is_around_the_auc_labkit_anomaly_measures():
    """Is the interval's estimate exactly labkit.anomaly's AUC (ties one half), with the interval around it?"""
    scores, labels = separated(0.5)
    interval = evidence.auc_interval(scores, labels, resamples=500)
    assert interval.estimate == pytest.approx(anomaly.auc(scores, labels), abs=1e-12)
    assert interval.low < interval.estimate < interval.high
    assert interval.level == 0.95 and "stratified" in interval.method and "500 resamples" in interval.method


def test_the_same_seed_gives_the_same_interval_and_another_seed_another():
    """Is a bootstrap deterministic given its seed?"""
    scores, labels = separated(0.3)
    first = evidence.auc_interval(scores, labels, resamples=300, seed=7)
    assert evidence.auc_interval(scores, labels, resamples=300, seed=7) == first
    assert evidence.auc_interval(scores, labels, resamples=300, seed=8) != first


def test_more_images_give_a_narrower_interval():
    """Does the interval shrink as the test set grows, as an honest measure of its uncertainty must?"""
    small = evidence.auc_interval(*separated(0.5, 50, 450), resamples=400)
    large = evidence.auc_interval(*separated(0.5, 1000, 9000), resamples=400)
    assert large.high - large.low < (small.high - small.low) / 2


def test_a_95_percent_interval_holds_the_true_auc_about_95_times_in_100():
    """Does the AUC interval cover the true AUC (here 0.5: scores unrelated to the labels) most of the time?"""
    rng = np.random.default_rng(11)
    covered = 0
    for trial in range(60):
        labels = np.r_[np.ones(100, bool), np.zeros(400, bool)]
        interval = evidence.auc_interval(rng.random(500), labels, resamples=200, seed=trial)
        covered += interval.low <= 0.5 <= interval.high
    assert covered >= 52  # 95 % of 60 is 57; allow for the chance of a few more misses


def test_a_paired_difference_of_aucs_sees_what_two_separate_intervals_would_miss():
    """Is a small but consistent gain of one score over another on the same images resolved by the paired
    interval, and a score compared with itself not distinguishable?"""
    scores, labels = separated(0.4, 1000, 9000)
    better = scores + 0.15 * labels  # every anomaly a little higher
    difference = evidence.auc_difference_interval(better, scores, labels, resamples=400)
    assert difference.above(0) and "paired" in difference.method
    same = evidence.auc_difference_interval(scores, scores, labels, resamples=200)
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)


def test_with_three_seeds_alone_the_interval_is_at_most_their_range():
    """With one accuracy per seed, is the interval within the seeds' range and centred on their mean?"""
    interval = evidence.mean_interval([0.70, 0.72, 0.71], resamples=500)
    assert interval.estimate == pytest.approx(0.71)
    assert 0.70 - 1e-12 <= interval.low <= interval.estimate <= interval.high <= 0.72 + 1e-12
    assert "3 seeds" in interval.method and "test images" not in interval.method


def test_the_difference_redraws_seeds_and_test_images_together():
    """With one outcome per seed and test image, does the difference's interval widen to include the test
    set's uncertainty, and name both sources?"""
    rng = np.random.default_rng(3)
    right_a = rng.random((3, 2000)) < 0.80
    right_b = rng.random((3, 2000)) < 0.79
    per_seed = evidence.difference_interval(right_a.mean(axis=1), right_b.mean(axis=1), resamples=500)
    per_image = evidence.difference_interval(right_a, right_b, resamples=500)
    assert per_image.estimate == pytest.approx(per_seed.estimate)
    assert per_image.high - per_image.low > per_seed.high - per_seed.low
    assert "3 seeds and 2,000 test images" in per_image.method and per_image.method.startswith("paired")


def test_models_of_different_shapes_are_refused_with_the_fix():
    """Are outcomes that cannot be paired (other seeds or images) refused, saying what to pass?"""
    with pytest.raises(ValueError, match="same shape"):
        evidence.difference_interval(np.ones((3, 10)), np.ones((2, 10)))
    with pytest.raises(ValueError, match="one value per seed"):
        evidence.mean_interval(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="both anomalies"):
        evidence.auc_interval([0.1, 0.2], [True, True])
    with pytest.raises(ValueError, match="between 0 and 1"):
        evidence.mean_interval([1.0, 2.0], level=95)


def test_a_claim_is_made_only_where_the_interval_supports_it():
    """Is the conclusion printed when the interval lies on its side, the opposite one when it lies on the
    other, and "not distinguishable here" otherwise, always with the figures, level and method?"""
    def interval(low, high):
        return evidence.Interval((low + high) / 2, low, high, 0.95, "percentile bootstrap over 3 seeds")

    kwargs = {"above": "pre-training pays off", "below": "the scratch CNN is better", "number": "{:+.1f}",
              "scale": 100, "unit": " points"}
    assert evidence.claim(interval(0.004, 0.02), **kwargs) == (
        "pre-training pays off (+1.2 points, 95 % interval +0.4 to +2.0 points; "
        "percentile bootstrap over 3 seeds)")
    assert evidence.claim(interval(-0.03, -0.01), **kwargs).startswith("the scratch CNN is better (-2.0 points")
    undecided = evidence.claim(interval(-0.01, 0.02), **kwargs)
    assert undecided.startswith("not distinguishable here (+0.5 points, 95 % interval -1.0 to +2.0 points")
    assert evidence.claim(interval(-0.03, -0.01), above="pays off").startswith(evidence.NOT_DISTINGUISHABLE)
    assert evidence.claim(interval(0.52, 0.6), above="better than chance", null=0.5, number="{:.2f}") == (
        "better than chance (0.56, 95 % interval 0.52 to 0.60; percentile bootstrap over 3 seeds)")
    assert evidence.claim(interval(0.52, 0.6), above="better", null=0.5, number="{:.2f}", method=False) == (
        "better (0.56, 95 % interval 0.52 to 0.60)")
    assert [evidence.supported(interval(*bounds)) for bounds in ((0.1, 0.2), (-0.2, -0.1), (-0.1, 0.1))] == [
        1, -1, 0]


def test_evidence_needs_only_numpy():
    """Does labkit.evidence import without TensorFlow, Keras or scikit-learn?"""
    code = ("import sys; import labkit.evidence; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
