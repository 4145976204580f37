"""What ``labkit reproduce`` trains for Lab 2: its denoiser, and the report's own denoising set-up."""

from __future__ import annotations

from labkit import data
from labkit.labs.lab2 import BATCH_SIZE, EPOCHS, NOISE_FACTOR, TARGET_BCE
from labkit.reproduce import Context, Experiment, autoencoder_record


def denoiser(ctx: Context) -> dict:
    from labkit import models, noise, train

    (x_train, _), (x_test, _) = ctx.mnist
    x_train, x_test = data.preprocess(x_train, flatten=False), data.preprocess(x_test, flatten=False)
    noisy_train = noise.gaussian(x_train, NOISE_FACTOR, seed=ctx.seed)
    noisy_test = noise.gaussian(x_test, NOISE_FACTOR, seed=ctx.seed + 1)
    autoencoder, _, _ = models.conv_denoiser()
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    epochs, batch = ctx.epochs(EPOCHS), BATCH_SIZE
    history = train.fit(autoencoder, data.pipeline(noisy_train, x_train, batch_size=batch, seed=ctx.seed),
                        epochs=epochs,
                        validation_data=data.pipeline(noisy_test, x_test, batch_size=batch, shuffle=False))
    loss = history.history["val_loss"][-1]
    return autoencoder_record(autoencoder, loss, x_test, epochs=epochs, batch=batch)


def report_denoiser(ctx: Context) -> dict:
    """The report's denoising set-up: its baseline convolutional autoencoder, Gaussian noise of 0.4 plus
    10 % salt-and-pepper on the input, clean targets."""
    from labkit import models, noise, train

    (x_train, _), (x_test, _) = ctx.mnist
    x_train, x_test = data.preprocess(x_train, flatten=False), data.preprocess(x_test, flatten=False)

    def corrupt(images, seed):
        return noise.salt_and_pepper(noise.gaussian(images, 0.4, seed=seed), 0.1, seed=seed + 2)

    autoencoder, _, _ = models.conv_autoencoder((32, 16, 8))
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    epochs, batch = ctx.epochs(10), 256
    history = train.fit(autoencoder, data.pipeline(corrupt(x_train, ctx.seed), x_train, batch_size=batch,
                                                   seed=ctx.seed), epochs=epochs,
                        validation_data=data.pipeline(corrupt(x_test, ctx.seed + 1), x_test, batch_size=512,
                                                      shuffle=False))
    loss = history.history["val_loss"][-1]
    return autoencoder_record(autoencoder, loss, x_test, epochs=epochs, batch=batch)


EXPERIMENTS = [
    Experiment("lab2-denoiser", 2, f"Convolutional denoiser 32/64/128, Gaussian noise {NOISE_FACTOR}, {EPOCHS} "
               f"epochs, batch {BATCH_SIZE} (noisy input, clean target)", "val_bce", denoiser, target=TARGET_BCE,
               figure="val_bce"),
    Experiment("lab2-report-denoiser", 2, "The report's denoising set-up: conv AE 32-16-8, Gaussian 0.4 "
               "+ 10 % salt-and-pepper, 10 epochs, batch 256", "val_bce", report_denoiser, published=0.1236,
               recipe="report"),
]


BENCHMARK = ("Lab 2 convolutional denoiser", "conv_denoiser", "image", BATCH_SIZE)
"""The lab's main model for ``benchmarks/speed.py`` (see Lab 1's)."""
