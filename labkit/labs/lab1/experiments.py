"""What ``labkit reproduce`` trains for Lab 1: the dense autoencoder, exactly as the lab trains it."""

from __future__ import annotations

from labkit import data
from labkit.labs.lab1 import BATCH_SIZE, EPOCHS, TARGET_BCE
from labkit.reproduce import Context, Experiment, autoencoder_record


def dense(ctx: Context) -> dict:
    from labkit import models, train

    (x_train, _), (x_test, _) = ctx.mnist
    x_train, x_test = data.preprocess(x_train), data.preprocess(x_test)
    autoencoder, _, _ = models.dense_autoencoder()
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    epochs, batch = ctx.epochs(EPOCHS), BATCH_SIZE
    train.fit(autoencoder, data.pipeline(x_train, batch_size=batch, seed=ctx.seed), epochs=epochs,
              validation_data=data.pipeline(x_test, batch_size=batch, shuffle=False))
    loss = autoencoder.evaluate(data.pipeline(x_test, batch_size=batch, shuffle=False), verbose=0)
    return autoencoder_record(autoencoder, loss, x_test, epochs=epochs, batch=batch)


EXPERIMENTS = [
    Experiment("lab1-dense", 1, f"Dense autoencoder 784-128-32-128-784, {EPOCHS} epochs, batch {BATCH_SIZE}",
               "val_bce", dense, target=TARGET_BCE,
               figure="test_bce"),
]


BENCHMARK = ("Lab 1 dense autoencoder", "dense_autoencoder", "flat", BATCH_SIZE)
"""The lab's main model for ``benchmarks/speed.py``: its name, its builder in :mod:`labkit.models`, its input
("flat" vectors or "image"s) and the batch size the lab trains it with."""
