"""Lab 2's tuning study (labkit.labs.lab2.study): every setting gets the same budget and is judged at its best
epoch, on both axes, against what the baseline's two seeds differ by."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labkit import train
from labkit.labs.lab2 import study


def images(n, seed=0):
    rng = np.random.default_rng(seed)
    clean = (rng.random((n, 28, 28, 1)) < 0.2).astype("float32")
    noisy = np.clip(clean + 0.5 * rng.standard_normal(clean.shape), 0, 1).astype("float32")
    return clean, noisy, rng.integers(0, 10, n)


def test_the_split_validates_on_training_images_it_never_trains_on():
    """Are the study's images the first training images and its validation images the last ones, apart even where
    the set is smaller than the study asks for (the shipped sample's 5,000 against 10,000 + 1,000)?"""
    clean, noisy, labels = images(50)
    split = study.split(clean, noisy, labels, train=100, validation=20)
    assert len(split.clean) == 30 and len(split.val_clean) == 20
    assert np.array_equal(split.clean, clean[:30]) and np.array_equal(split.val_noisy, noisy[-20:])
    assert np.array_equal(split.val_labels, labels[-20:])
    assert len(study.split(clean, noisy, labels, train=10, validation=20).clean) == 10
    with pytest.raises(ValueError, match="below the number of training images"):
        study.split(clean, noisy, labels, train=10, validation=50)


def test_a_change_the_study_cannot_make_is_refused_with_what_it_can_change():
    """Is a misspelt keyword (a student's own setting) refused with the keywords the study can change, and is a
    name the study uses for the baseline refused?"""
    study.check_change("mine", {"code_size": 64, "batch_size": 32})
    with pytest.raises(ValueError, match=r"'filter'.*it can change .*filters.*batch_size, learning_rate, seed"):
        study.check_change("mine", {"filter": (32, 64)})
    with pytest.raises(TypeError, match="dict of changes"):
        study.check_change("mine", [("l1", 1e-5)])
    clean, noisy, labels = images(30)
    with pytest.raises(ValueError, match="makes anyway"):
        study.run({"baseline": {"l1": 1e-5}}, study.split(clean, noisy, labels, train=20, validation=10),
                  epochs=1, patience=1, seed=0)


def table(**rows):
    frame = pd.DataFrame([{"setting": name, "excess over floor": excess, "probe accuracy": probe,
                           "still improving": improving} for name, (excess, probe, improving) in rows.items()])
    frame = frame.set_index("setting")
    frame["excess vs baseline"] = frame["excess over floor"] - frame.loc["baseline", "excess over floor"]
    frame["probe vs baseline"] = frame["probe accuracy"] - frame.loc["baseline", "probe accuracy"]
    return frame


def test_a_difference_counts_only_beyond_the_seeds_and_the_sampling_error():
    """Does a setting count as better or worse on an axis only beyond both what the baseline's two seeds differ by
    and the probe's sampling error on the validation images (never less than 0.001 in excess), each axis on its
    own, is a setting within both on both axes named as not distinguishable, and are the still-improving runs
    named?"""
    rows = {"baseline": (0.040, 0.930, False), "baseline, another seed": (0.042, 0.934, False),
            "slow": (0.060, 0.950, True), "close": (0.041, 0.927, False), "sharp": (0.030, 0.900, False)}
    assert study.chance(table(**rows), 10_000) == pytest.approx((0.002, 2 * (0.93 * 0.07 / 10_000) ** 0.5))
    assert study.findings(table(**rows), 10_000) == {
        "reconstruction better": ["sharp"], "reconstruction worse": ["slow"], "features better": ["slow"],
        "features worse": ["sharp"], "not distinguishable": ["close"], "still improving": ["slow"]}
    on_few_images = study.findings(table(**rows), 100)  # ±5 points: no probe difference here counts
    assert on_few_images["features better"] == on_few_images["features worse"] == []
    alike = table(**{"baseline": (0.040, 0.930, False), "baseline, another seed": (0.040, 0.930, False),
                     "tiny": (0.0405, 0.933, False)})
    assert study.chance(alike, 1_000) == (study.LEAST_EXCESS, pytest.approx(0.0161, abs=1e-4))
    assert study.findings(alike, 1_000)["not distinguishable"] == ["tiny"]


def test_a_setting_is_judged_at_its_best_epoch_within_its_budget(monkeypatch):
    """Does a run stop within its budget, report the epoch it was best at, and judge the model of that epoch (its
    excess over the floor is Keras's lowest validation loss, less the floor)?"""
    histories = []

    def recorded(*args, **kwargs):
        histories.append(fit(*args, **kwargs))
        return histories[-1]

    fit = train.fit
    monkeypatch.setattr(train, "fit", recorded)
    clean, noisy, labels = images(96)
    split = study.split(clean, noisy, labels, train=64, validation=32)
    row = study.run_setting({"learning_rate": 0.05, "filters": (4, 8), "strides": (2, 2)}, split, epochs=4,
                            patience=1, seed=0)
    (history,) = histories
    losses = history.history["val_loss"]
    assert row["epochs run"] == len(losses) <= 4
    assert row["best epoch"] == int(np.argmin(losses)) + 1
    recent = losses[max(len(losses) - 2, 0)] - min(losses[-1:])
    assert row["still improving"] == (len(losses) == 4 and recent > study.LEAST_EXCESS)
    assert row["recent gain"] == pytest.approx(recent)
    assert row["excess over floor"] == pytest.approx(min(losses) - split.floor, abs=2e-4)
    assert row["validation BCE"] - row["excess over floor"] == pytest.approx(split.floor)
    assert 0 <= row["probe accuracy"] <= 1 and row["feature size"] == 7 * 7 * 8
