"""What ``labkit reproduce`` trains for Lab 3: the sweep of code sizes, exactly as the lab trains it, the
report's own recipe for the 2-number code beside it, and the anomaly detector with every score it compares."""

from __future__ import annotations

import functools
from collections.abc import Callable

from labkit import data
from labkit.labs.lab3 import (
    BATCH_SIZE,
    CODE_NEIGHBOURS,
    DETECTOR_EPOCHS,
    DETECTOR_LATENT,
    EPOCHS,
    FALSE_ALARM_RATE,
    LATENT,
    LATENT_SIZES,
    LEARNING_RATE,
    PUBLISHED_BCE,
    REFERENCE_CODES,
    REPORT_BATCH,
    REPORT_EPOCHS,
    UNSEEN_DIGIT,
    VALIDATION_IMAGES,
)
from labkit.reproduce import Context, Experiment, autoencoder_record, trained_with

SMALLEST = min(LATENT_SIZES)
"""The code size whose experiment trains the whole sweep (:func:`sweep`); the other sizes' experiments need it."""


def autoencoder(size: int = LATENT, **options):
    """Lab 3's autoencoder with a code of ``size``: Exercise 2's encoder and the lean decoder
    (``conv_bottleneck_autoencoder(full_resolution=False)``); ``options`` go to the builder (a candidate's
    ``dense`` widths or ``full_resolution=True`` in ``benchmarks/lab3_recipe.py``). (autoencoder, encoder,
    decoder), uncompiled."""
    from labkit import models

    return models.conv_bottleneck_autoencoder(latent=size, **{"full_resolution": False, **options})


def compiled(size: int, *, images: int, epochs: int, batch: int = BATCH_SIZE, rate: float = LEARNING_RATE,
             **options):
    """:func:`autoencoder`, compiled as the sweep trains it: binary cross-entropy, Adam from ``rate`` along a
    cosine to 1 % of it by the last of ``epochs`` epochs over ``images`` images in batches of ``batch``."""
    import keras

    model, encoder, decoder = autoencoder(size, **options)
    schedule = keras.optimizers.schedules.CosineDecay(rate, decay_steps=epochs * -(-images // batch), alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="binary_crossentropy")
    return model, encoder, decoder


def sweep_images(x_train):
    """The training images the sweep trains on, and its validation split: the last ``VALIDATION_IMAGES`` (a sixth
    of a smaller set, such as the shipped sample), on which its recipe was chosen."""
    held_out = min(VALIDATION_IMAGES, len(x_train) // 6)
    return x_train[:-held_out], x_train[-held_out:]


def sweep(ctx: Context) -> dict:
    """The sweep as the lab trains it: every code size compiled as if alone and trained side by side in one pass
    over the training images but the validation split (``train.fit_side_by_side``); the record of the smallest
    code. The others' trained models are kept for their own records (``trained_in_the_sweep``), so this record's
    seconds are the whole sweep's."""
    from labkit import train

    epochs, batch = ctx.epochs(EPOCHS), ctx.batch_size(BATCH_SIZE)
    (x_train, _), _ = ctx.mnist
    x_train, _ = sweep_images(data.preprocess(x_train, flatten=False))
    built = {}
    for size in LATENT_SIZES:
        ctx.reseed()  # every size starts from the same point of the random stream, as in the notebook
        built[size], _, _ = compiled(size, images=len(x_train), epochs=epochs, batch=batch)
    train.fit_side_by_side({f"code_{size}": model for size, model in built.items()},
                           data.pipeline(x_train, batch_size=batch, seed=ctx.seed), epochs=epochs)
    for size, model in built.items():
        if size != SMALLEST:
            ctx.trained[f"lab3-latent-{size}"] = model
    return _judged(built[SMALLEST], ctx, epochs=epochs, batch=batch)


def trained_in_the_sweep(size: int) -> Callable[[Context], dict]:
    """The record of the code of ``size``, trained side by side with the others in :func:`sweep`."""
    def run(ctx: Context) -> dict:
        return _judged(ctx.trained[f"lab3-latent-{size}"], ctx, epochs=ctx.epochs(EPOCHS),
                       batch=ctx.batch_size(BATCH_SIZE))
    return run


def report_latent(size: int) -> Callable[[Context], dict]:
    """The report's own recipe: its baseline convolutional autoencoder with a linear Dense code of ``size``
    between encoder and decoder, constant Adam, as plainly as the report describes it."""
    def run(ctx: Context) -> dict:
        from labkit import models

        autoencoder, _, _ = models.conv_dense_bottleneck(latent=size)
        autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
        return _trained_on_mnist(ctx, autoencoder, epochs=ctx.epochs(REPORT_EPOCHS), batch=REPORT_BATCH)
    return run


def _trained_on_mnist(ctx: Context, autoencoder, *, epochs: int, batch: int) -> dict:
    """The compiled ``autoencoder`` trained on MNIST's training images as the lab trains it, then judged on the
    test images: its record."""
    from labkit import train

    (x_train, _), _ = ctx.mnist
    x_train = data.preprocess(x_train, flatten=False)
    train.fit(autoencoder, data.pipeline(x_train, batch_size=batch, seed=ctx.seed), epochs=epochs)
    return _judged(autoencoder, ctx, epochs=epochs, batch=batch)


def _judged(autoencoder, ctx: Context, *, epochs: int, batch: int) -> dict:
    """The record of a trained ``autoencoder``: its loss on MNIST's test images, and how it was trained."""
    _, (x_test, _) = ctx.mnist
    x_test = data.preprocess(x_test, flatten=False)
    loss = autoencoder.evaluate(data.pipeline(x_test, batch_size=1024, shuffle=False), verbose=0)
    return autoencoder_record(autoencoder, loss, x_test, epochs=epochs, batch=batch)


def anomaly_scores(ctx: Context) -> dict:
    """The lab's detector (a code of 16, trained on the 0-8 training images but a held-out tenth) and its five
    scores, chosen on the validation split (the held-out 0-8 and the training 9s) and judged on the test set."""
    import numpy as np

    from labkit import anomaly, latent, train

    (x_train, y_train), (x_test, y_test) = ctx.mnist
    x_train, x_test = data.preprocess(x_train, flatten=False), data.preprocess(x_test, flatten=False)
    normal = np.flatnonzero(y_train != UNSEEN_DIGIT)
    held_out = latent.subsample(len(normal) // 10, len(normal), seed=ctx.seed)
    x_fit, x_held_out = x_train[np.setdiff1d(normal, normal[held_out])], x_train[normal[held_out]]
    epochs, batch = ctx.epochs(DETECTOR_EPOCHS), ctx.batch_size(BATCH_SIZE)
    detector, encoder, _ = compiled(DETECTOR_LATENT, images=len(x_fit), epochs=epochs, batch=batch)
    train.fit(detector, data.pipeline(x_fit, batch_size=batch, seed=ctx.seed), epochs=epochs)
    reference = latent.encode(encoder, x_fit[latent.subsample(REFERENCE_CODES, len(x_fit), seed=ctx.seed)])

    def every_score(images):
        reconstructed, codes = latent.reconstruct(detector, images), latent.encode(encoder, images)
        return {**{name: anomaly.reconstruction_errors(images, reconstructed, kind=kind)
                   for name, kind in (("excess", "excess"), ("BCE", "bce"), ("MSE", "mse"))},
                "kNN on codes": anomaly.knn_distance(reference, codes, k=CODE_NEIGHBOURS),
                "Mahalanobis on codes": anomaly.mahalanobis(reference, codes)}

    x_val_unseen = x_train[y_train == UNSEEN_DIGIT]
    val_is_unseen = np.r_[np.zeros(len(x_held_out), bool), np.ones(len(x_val_unseen), bool)]
    judged = anomaly.compare_scores(every_score(np.concatenate([x_held_out, x_val_unseen])), val_is_unseen,
                                    every_score(x_test), y_test == UNSEEN_DIGIT,
                                    false_alarm_rate=FALSE_ALARM_RATE, seed=ctx.seed)
    chosen = max(judged, key=lambda name: judged[name].validation_auc)
    scores = {name: {"validation_auc": r.validation_auc, "test_auc": r.test_auc.estimate,
                     "test_auc_low": r.test_auc.low, "test_auc_high": r.test_auc.high,
                     "recall": r.recall.estimate, "recall_low": r.recall.low, "recall_high": r.recall.high,
                     "false_alarms": r.false_alarms} for name, r in judged.items()}
    return {"value": judged[chosen].test_auc.estimate, "interval": [judged[chosen].test_auc.low,
                                                                   judged[chosen].test_auc.high],
            "chosen": chosen, "scores": scores, "false_alarm_rate": FALSE_ALARM_RATE,
            "interval_method": judged[chosen].test_auc.describe(), "epochs": epochs, "batch_size": batch,
            "dataset": "mnist", **trained_with(detector)}


CHANGED = (f"a 4.4 M-parameter bottleneck (Dense 1024-512-128 on each side of the code, batch "
           f"normalisation), a decoder that goes from its 14×14 maps straight to the image, and Adam on a cosine "
           f"schedule from {LEARNING_RATE:g}, {EPOCHS} epochs in batches of {BATCH_SIZE}, on the training images "
           f"but the last {VALIDATION_IMAGES:,} (the validation split it was chosen on)")
"""What the kit changed from the report's recipe to meet its figure for the 2-number code."""

EXPERIMENTS = [
    Experiment(f"lab3-latent-{size}", 3,
               f"Conv AE with a dense code of {size}, {EPOCHS} epochs, batch {BATCH_SIZE}, on the training images "
               f"but the last {VALIDATION_IMAGES:,}, "
               + ("trained side by side with the other code sizes: its time is the whole sweep's" if size == SMALLEST
                  else f"trained side by side with the other code sizes in lab3-latent-{SMALLEST}"),
               "val_bce", sweep if size == SMALLEST else trained_in_the_sweep(size),
               published=PUBLISHED_BCE.get(size), figure=f"bce_latent_{size}",
               needs=() if size == SMALLEST else (f"lab3-latent-{SMALLEST}",),
               changed=CHANGED if size == 2 else None, report_recipe="lab3-report-latent-2" if size == 2 else None)
    for size in LATENT_SIZES
] + [
    Experiment("lab3-report-latent-2", 3, "The report's own recipe for a code of 2: conv AE 32-16-8 with pooling, "
               f"a linear Dense(2) code between encoder and decoder, constant Adam, {REPORT_EPOCHS} epochs, "
               f"batch {REPORT_BATCH}", "val_bce", report_latent(2), published=PUBLISHED_BCE[2], recipe="report",
               figure="report_bce_latent_2"),
    Experiment("lab3-anomaly", 3, f"Anomaly detection of the unseen {UNSEEN_DIGIT}: conv AE with a code of "
               f"{DETECTOR_LATENT} trained on 0-8 for {DETECTOR_EPOCHS} epochs; test AUC (95 % interval) of the "
               "score chosen on validation among five", "test_auc", anomaly_scores, figure="anomaly_auc"),
]


BENCHMARK = ("Lab 3 conv AE, dense code of 16", autoencoder, "image", BATCH_SIZE)
"""The lab's main model for ``benchmarks/speed.py`` (see Lab 1's)."""
SIDE_BY_SIDE_BENCHMARK = (f"Lab 3 sweep, {len(LATENT_SIZES)} code sizes side by side",
                          [functools.partial(autoencoder, size) for size in LATENT_SIZES], "image", BATCH_SIZE)
"""The sweep for ``benchmarks/speed.py``: its four models trained side by side on the labs' path, as the lab does,
and one after another in plain float32 Keras."""
