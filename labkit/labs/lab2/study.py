"""Lab 2's post-lab tuning study: the lab's denoiser with one change at a time, each given the same budget,
judged twice: by its reconstruction (the excess of its validation loss over the floor) and by its features
(the accuracy of a linear probe on them, with k-means clusters beside it).

A setting that starts slowly is not a worse setting: sigmoid units sit near the mean digit for several epochs
before they learn, and a narrow bottleneck learns slowly throughout. So every setting trains on the same
images for at most the same number of epochs, stops early once its validation loss has not improved for a few
epochs, and is judged at its best epoch; a setting whose best epoch is the budget's last is *still
improving* where its validation loss still fell by more than :data:`LEAST_EXCESS` over its last few epochs,
and its row is what it reaches within the budget, not its limit. The baseline runs twice, with two seeds: a
difference counts only beyond what one run moves by chance, and beyond the sampling error of an accuracy
measured on the study's validation images; below that it is *not distinguishable here*.

Used in the post-lab of solutions/lab2_denoising_autoencoder.ipynb.
"""

from __future__ import annotations

import inspect
import logging
import math
import textwrap
import time
from dataclasses import dataclass

import numpy as np

from labkit.labs.lab2 import BATCH_SIZE

BASELINE = {"batch_size": BATCH_SIZE, "learning_rate": 1e-3}
"""The lab's training besides its model (``models.conv_denoiser()`` with its defaults): what a setting
changes of it."""
TRAINING = ("batch_size", "learning_rate", "seed")
"""The keywords of a setting that change the training; every other keyword goes to ``models.conv_denoiser``."""
REFERENCE, ANOTHER_SEED = "baseline", "baseline, another seed"
"""The names of the two runs of the baseline that every study starts with."""
LEAST_EXCESS = 0.001
"""The smallest difference in excess over the floor counted as real however close the baseline's two seeds come
(one pair of runs can agree by luck), and the least fall of the validation loss over a run's last epochs that
counts as still improving."""
PROBE_IMAGES = 2_000
"""How many of the study's training images the linear probe learns from (their clean images' features)."""


@dataclass(frozen=True)
class StudyData:
    """The images of the study: the first training images to train on, the last ones to validate on."""

    noisy: np.ndarray
    clean: np.ndarray
    labels: np.ndarray
    val_noisy: np.ndarray
    val_clean: np.ndarray
    val_labels: np.ndarray

    @property
    def floor(self) -> float:
        """The loss floor of the validation images (their binary entropy)."""
        from labkit import metrics

        return metrics.bce_floor(self.val_clean)

    def describe(self) -> str:
        return f"{len(self.clean):,} training images, {len(self.val_clean):,} validation images"


def split(clean: np.ndarray, noisy: np.ndarray, labels: np.ndarray, *, train: int, validation: int) -> StudyData:
    """The first ``train`` images to train on and the last ``validation`` ones to validate on, all from the
    training set: choosing a setting is model selection, so the test set stays out of it. On a smaller set
    (the shipped sample) fewer images train, so that the two parts never overlap."""
    if not 0 < validation < len(clean):
        raise ValueError(f"the study validates on the last {validation:,} of {len(clean):,} training images: "
                         "give a number above 0 and below the number of training images")
    train = min(train, len(clean) - validation)
    return StudyData(noisy[:train], clean[:train], labels[:train],
                     noisy[-validation:], clean[-validation:], labels[-validation:])


def check_change(name: str, change: dict) -> None:
    """Refuse a setting that changes something the study cannot change, naming what it can."""
    from labkit import models

    allowed = [key for key in inspect.signature(models.conv_denoiser).parameters if key != "name"]
    allowed += list(TRAINING)
    if not isinstance(change, dict):
        raise TypeError(f"setting {name!r}: give a dict of changes such as {{'dropout': 0.2}}; got {change!r}")
    unknown = [key for key in change if key not in allowed]
    if unknown:
        raise ValueError(f"setting {name!r} changes {', '.join(map(repr, unknown))}, which the study cannot "
                         f"change; it can change {', '.join(allowed)}")


def run_setting(change: dict, study_data: StudyData, *, epochs: int, patience: int, seed: int) -> dict:
    """Train the lab's denoiser with ``change`` within the budget (at most ``epochs`` epochs, stopping once the
    validation loss has not improved for ``patience`` epochs) and score it at its best epoch: the validation
    BCE and its excess over the floor, the probe's accuracy and the clusters' ARI and NMI on its features."""
    import keras

    from labkit import config, data, features, metrics, models, train

    setting = {**BASELINE, "seed": seed, **change}
    batch_size, learning_rate, seed = (setting.pop(key) for key in TRAINING)
    config.seed_everything(seed)
    model, encoder, _ = models.conv_denoiser(**setting)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    at_best = keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
    run = train.fit(model, data.pipeline(study_data.noisy, study_data.clean, batch_size=batch_size, seed=seed),
                    epochs=epochs, callbacks=[at_best], verbose=0,
                    validation_data=data.pipeline(study_data.val_noisy, study_data.val_clean, batch_size=512,
                                                  shuffle=False))
    start = time.perf_counter()
    # the models called directly (not .predict) on these few images: no compiled function per setting
    bce = metrics.binary_crossentropy(study_data.val_clean,
                                      np.asarray(model(study_data.val_noisy, training=False), dtype=np.float32))
    probe = slice(0, min(PROBE_IMAGES, len(study_data.clean)))
    scores = features.evaluate(np.asarray(encoder(study_data.clean[probe], training=False)),
                               study_data.labels[probe],
                               np.asarray(encoder(study_data.val_clean, training=False)), study_data.val_labels,
                               seed=seed)
    losses = run.history["val_loss"]
    best_epoch = int(np.argmin(losses)) + 1
    recent_gain = losses[max(len(losses) - patience - 1, 0)] - min(losses[-patience:])
    budget = config.settings().epochs(epochs)
    return {"validation BCE": bce, "excess over floor": bce - study_data.floor,
            "probe accuracy": scores["probe accuracy"], "ARI": scores["ARI"], "NMI": scores["NMI"],
            "feature size": scores["size"], "best epoch": best_epoch, "epochs run": len(run.epoch),
            "recent gain": recent_gain, "still improving": len(losses) == budget and recent_gain > LEAST_EXCESS,
            "parameters": model.count_params(),
            "seconds": run.seconds + time.perf_counter() - start}


def run(changes: dict[str, dict], study_data: StudyData, *, epochs: int, patience: int, seed: int):
    """Run the baseline with two seeds, then every setting of ``changes`` (a name and its changes of the
    baseline each), printing one line per run; return the table, one row per run, with each run's
    difference from the baseline on both axes."""
    import pandas as pd

    from labkit import config

    runs = {REFERENCE: {}, ANOTHER_SEED: {"seed": seed + 1}}
    for name, change in changes.items():
        if name in runs:
            raise ValueError(f"{name!r} is the name of a run the study makes anyway; name your setting otherwise")
        check_change(name, change)
        runs[name] = change
    budget = config.settings().epochs(epochs)
    print(f"{len(runs)} runs, each at most {budget} epochs over {len(study_data.clean):,} images "
          f"(validated on {len(study_data.val_clean):,} others):")
    rows = []
    # Every run builds a new model, so Keras traces a new training function for each: expected here, and
    # TensorFlow's warning about frequent retracing would only alarm a student.
    tensorflow_log = logging.getLogger("tensorflow")
    level = tensorflow_log.level
    tensorflow_log.setLevel(logging.ERROR)
    try:
        for name, change in runs.items():
            rows.append({"setting": name, **run_setting(change, study_data, epochs=epochs, patience=patience,
                                                        seed=seed)})
            row = rows[-1]
            print(f"{name}: excess {row['excess over floor']:.4f}, probe {row['probe accuracy']:.1%}, "
                  f"best epoch {row['best epoch']} of {row['epochs run']} ({row['seconds']:.0f} s)")
    finally:
        tensorflow_log.setLevel(level)
    table = pd.DataFrame(rows).set_index("setting")
    table.insert(2, "excess vs baseline", table["excess over floor"] - table.loc[REFERENCE, "excess over floor"])
    table.insert(4, "probe vs baseline", table["probe accuracy"] - table.loc[REFERENCE, "probe accuracy"])
    improving = list(table.index[table["still improving"]])
    print(textwrap.fill(f"the study took {table['seconds'].sum() / 60:.1f} min; still improving when the "
                        f"budget ran out: {', '.join(improving) or 'none'}", 88))
    return table


def sampling_error(accuracy: float, images: int) -> float:
    """Twice the standard error of an accuracy measured on ``images`` images (about a 95 % interval's half
    width): 1.5 points for 94 % on 1,000 images."""
    return 2 * math.sqrt(accuracy * (1 - accuracy) / images)


def chance(table, validation_images: int) -> tuple[float, float]:
    """The smallest differences from the baseline that count, in excess over the floor and in probe accuracy: what
    the baseline's two seeds differ by, and at least :data:`LEAST_EXCESS` in excess and the probe's
    :func:`sampling_error` on the ``validation_images`` images it is scored on."""
    base, other = table.loc[REFERENCE], table.loc[ANOTHER_SEED]
    return (max(abs(other["excess vs baseline"]), LEAST_EXCESS),
            max(abs(other["probe vs baseline"]), sampling_error(base["probe accuracy"], validation_images)))


def findings(table, validation_images: int) -> dict[str, list[str]]:
    """Which settings change the reconstruction or the features by more than :func:`chance`, which are not
    distinguishable from the baseline on either axis, and which were still improving when the budget ran out."""
    by_excess, by_probe = chance(table, validation_images)
    others = table.drop(index=[REFERENCE, ANOTHER_SEED])
    excess, probe = others["excess vs baseline"], others["probe vs baseline"]
    return {
        "reconstruction better": list(others.index[excess < -by_excess]),
        "reconstruction worse": list(others.index[excess > by_excess]),
        "features better": list(others.index[probe > by_probe]),
        "features worse": list(others.index[probe < -by_probe]),
        "not distinguishable": list(others.index[(excess.abs() <= by_excess) & (probe.abs() <= by_probe)]),
        "still improving": list(table.index[table["still improving"]]),
    }
