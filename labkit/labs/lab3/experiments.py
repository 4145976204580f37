"""What ``labkit reproduce`` trains for Lab 3: the sweep of code sizes, exactly as the lab trains it."""

from __future__ import annotations

from collections.abc import Callable

from labkit import data
from labkit.labs.lab3 import BATCH_SIZE, EPOCHS, LATENT_SIZES, LEARNING_RATE, PUBLISHED_BCE
from labkit.reproduce import Context, Experiment, autoencoder_record


def latent(size: int) -> Callable[[Context], dict]:
    def run(ctx: Context) -> dict:
        import keras

        from labkit import models, train

        (x_train, _), (x_test, _) = ctx.mnist
        x_train, x_test = data.preprocess(x_train, flatten=False), data.preprocess(x_test, flatten=False)
        epochs, batch = ctx.epochs(EPOCHS), BATCH_SIZE
        autoencoder, _, _ = models.conv_bottleneck_autoencoder(latent=size)
        steps = epochs * -(-len(x_train) // batch)
        schedule = keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=steps, alpha=0.01)
        autoencoder.compile(optimizer=keras.optimizers.Adam(schedule), loss="binary_crossentropy")
        test = data.pipeline(x_test, batch_size=1024, shuffle=False)
        train.fit(autoencoder, data.pipeline(x_train, batch_size=batch, seed=ctx.seed), epochs=epochs,
                  validation_data=test)
        loss = autoencoder.evaluate(test, verbose=0)
        return autoencoder_record(autoencoder, loss, x_test, epochs=epochs, batch=batch)
    return run


EXPERIMENTS = [
    Experiment(f"lab3-latent-{size}", 3, f"Conv AE with a dense code of {size}, {EPOCHS} epochs, batch {BATCH_SIZE}",
               "val_bce", latent(size), published=PUBLISHED_BCE.get(size), figure=f"bce_latent_{size}")
    for size in LATENT_SIZES
]


BENCHMARK = ("Lab 3 conv AE, dense code of 16", "conv_bottleneck_autoencoder", "image", BATCH_SIZE)
"""The lab's main model for ``benchmarks/speed.py`` (see Lab 1's)."""
