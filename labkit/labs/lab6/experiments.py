"""What ``labkit reproduce`` trains for Lab 6: the VAE at code sizes 2 and 16 (its ELBO, reconstruction and KL
terms), and the quality of its prior samples against random codes of the plain autoencoder of the same
architecture, exactly as the lab trains them.

The report "Simple Autoencoder for MNIST" has no VAE, so there is no published figure: the targets
(``TARGET_RECONSTRUCTION`` and ``TARGET_CONFIDENT`` in :mod:`labkit.labs.lab6`) were set from the kit's own
full-scale run, with a margin for the way results move between CPUs.
"""

from __future__ import annotations

from collections.abc import Callable

from labkit import data, metrics
from labkit.labs.lab6 import (BATCH_SIZE, CONFIDENT, EPOCHS, LAB3_PLAIN_BCE, SAMPLES, TARGET_CONFIDENT,
                              TARGET_RECONSTRUCTION)
from labkit.reproduce import Context, Experiment, trained_with


def _mnist(ctx: Context):
    return ctx.memo("lab6-mnist", lambda: (
        data.preprocess(ctx.mnist[0][0], flatten=False), ctx.mnist[0][1],
        data.preprocess(ctx.mnist[1][0], flatten=False), ctx.mnist[1][1]))


def vae_experiment(size: int) -> Callable[[Context], dict]:
    def run(ctx: Context) -> dict:
        from labkit.labs.lab6 import vae

        x_train, _, x_test, _ = _mnist(ctx)
        encoder, decoder = vae.vae_parts(size, seed=ctx.seed)
        model = vae.VAE(encoder, decoder)
        vae.fit(model, x_train, seed=ctx.seed, verbose=2)
        measured = vae.measure(encoder, decoder, x_test)
        found = vae.summary(measured)
        floor = metrics.bce_floor(x_test)
        ctx.trained[f"lab6-vae-{size}"] = (encoder, decoder)
        value = found["reconstruction_per_pixel"]
        return {"value": value, "epochs": ctx.epochs(EPOCHS), "batch_size": BATCH_SIZE, "dataset": "mnist",
                "excess_over_floor": value - floor, "floor": floor,
                "reconstruction_nats": found["reconstruction"], "kl_nats": found["kl"],
                "neg_elbo_nats": found["neg_elbo"], "elbo_nats": -found["neg_elbo"],
                "neg_elbo_per_pixel": found["neg_elbo_per_pixel"],
                "neg_elbo_excess_over_floor": found["neg_elbo_per_pixel"] - floor,
                "mean_code_reconstruction_per_pixel": found["mean_code_reconstruction_per_pixel"],
                "active_units": vae.active_units(measured["z_mean"]),
                "lab3_plain_bce": LAB3_PLAIN_BCE[size], "lab3_plain_excess_over_floor": LAB3_PLAIN_BCE[size] - floor,
                **trained_with(model)}
    return run


def prior_samples(ctx: Context) -> dict:
    """The share of the code-16 VAE's prior samples that a fixed MNIST classifier calls a clear digit, and the
    same for random codes of the plain autoencoder (same architecture and training)."""
    from labkit import latent
    from labkit.labs.lab6 import vae

    encoder, decoder = ctx.trained["lab6-vae-16"]  # lab6-vae-16's (``needs``)
    x_train, y_train, x_test, y_test = _mnist(ctx)
    floor = metrics.bce_floor(x_test)
    ctx.reseed()
    plain, plain_encoder, plain_decoder = vae.plain_autoencoder(16)
    vae.fit(plain, x_train, seed=ctx.seed, verbose=2)
    plain_bce = float(vae.plain_reconstruction(plain, x_test).mean() / vae.PIXELS)
    ctx.reseed()
    classifier = vae.digit_classifier(x_train, y_train, seed=ctx.seed)
    accuracy = float(classifier.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1])
    judged = {
        "vae": vae.clear_digits(classifier, vae.prior_samples(decoder, SAMPLES, 16, seed=ctx.seed)),
        "plain": vae.clear_digits(classifier, latent.decode(
            plain_decoder, vae.random_codes(latent.encode(plain_encoder, x_train), SAMPLES, seed=ctx.seed))),
        "test": vae.clear_digits(classifier, x_test[:SAMPLES])}
    return {"value": judged["vae"]["share"], "se": judged["vae"]["se"], "epochs": ctx.epochs(EPOCHS),
            "batch_size": BATCH_SIZE, "dataset": "mnist", "samples": SAMPLES, "confident": CONFIDENT,
            "plain_share": judged["plain"]["share"], "plain_se": judged["plain"]["se"],
            "test_digits_share": judged["test"]["share"], "classifier_test_accuracy": accuracy,
            "vae_digits": judged["vae"]["digits"].tolist(), "plain_digits": judged["plain"]["digits"].tolist(),
            "plain_bce": plain_bce, "plain_excess_over_floor": plain_bce - floor, **trained_with(plain)}


EXPERIMENTS = [
    *(Experiment(f"lab6-vae-{size}", 6, f"VAE with a code of {size} (β 1), {EPOCHS} epochs, batch {BATCH_SIZE}: "
                 "reconstruction term per pixel (ELBO and KL in the record; target from the kit's run)",
                 "val_bce", vae_experiment(size), target=TARGET_RECONSTRUCTION[size])
      for size in (2, 16)),
    Experiment("lab6-prior-16", 6, f"Prior samples of the code-16 VAE a fixed CNN calls a clear digit "
               f"(≥ {CONFIDENT:.0%}; the plain AE's random codes in the record; target from the kit's run)",
               "clear_share", prior_samples, target=TARGET_CONFIDENT, needs=("lab6-vae-16",)),
]


def variational_autoencoder(size: int = 16):
    """The lab's VAE with a code of ``size`` as ``(vae, encoder, decoder)``: the model ``benchmarks/speed.py``
    times. It trains on its own loss (reconstruction + KL), whatever loss it is compiled with."""
    from labkit.labs.lab6 import vae

    encoder, decoder = vae.vae_parts(size, seed=0)
    return vae.VAE(encoder, decoder), encoder, decoder


BENCHMARK = ("Lab 6 VAE, code of 16", variational_autoencoder, "image", BATCH_SIZE)
"""The lab's main model for ``benchmarks/speed.py`` (see Lab 1's)."""
