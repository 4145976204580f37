"""Plausible wrong answers to Lab 6's exercises: each must fail the self-check and the grader alike.

``MISTAKES[grade_id]`` maps a short description to the source of a whole exercise cell, as a student might
write it. ``tests/test_exercises.py`` runs each one through the notebook's own self-check calls and through
the grader's observer and rule; the adversarial corpus takes its honest-but-wrong answers from here (the
first of each exercise, which runs without error).
"""

_SAMPLING = '''class Sampling(layers.Layer):
    """Draws z = mean + exp(log_var / 2) * epsilon, with epsilon ~ N(0, I)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, epsilon=None):
        z_mean, z_log_var = inputs
        if epsilon is None:
            epsilon = {draw}
        return {value}'''


def _sampling(draw="keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)",
              value="z_mean + ops.exp(0.5 * z_log_var) * epsilon") -> str:
    return _SAMPLING.format(draw=draw, value=value)


_KL = '''def kl_divergence(z_mean, z_log_var):
    return {kl}'''


def _kl(kl="-0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)") -> str:
    return _KL.format(kl=kl)


_LOSS = '''def vae_loss(images, reconstructions, z_mean, z_log_var, beta=1.0):
    per_pixel = {per_pixel}
    reconstruction = {reconstruction}
    kl = {kl}
    return {result}'''


def _loss(per_pixel="ops.binary_crossentropy(images, reconstructions)",
          reconstruction="ops.mean(ops.sum(per_pixel, axis=(1, 2, 3)))",
          kl="ops.mean(kl_divergence(z_mean, z_log_var))",
          result="reconstruction + beta * kl, reconstruction, kl") -> str:
    return _LOSS.format(per_pixel=per_pixel, reconstruction=reconstruction, kl=kl, result=result)


_GRID = '''def prior_grid(decoder, n=15):
    quantiles = {quantiles}
    points = {points}
    return {result}'''


def _grid(quantiles="norm.ppf((np.arange(n) + 0.5) / n)",
          points="np.stack(np.meshgrid(quantiles, quantiles[::-1]), axis=-1)",
          result="latent.decode(decoder, points.reshape(-1, 2)).reshape(n, n, 28, 28)") -> str:
    return _GRID.format(quantiles=quantiles, points=points, result=result)


MISTAKES = {
    "L6-sampling": {
        "the variance in place of the standard deviation": _sampling(
            value="z_mean + ops.exp(z_log_var) * epsilon"),
        "the log-variance as the standard deviation": _sampling(value="z_mean + z_log_var * epsilon"),
        "a fixed seed: the same noise at every call": _sampling(
            draw="keras.random.normal(ops.shape(z_mean), seed=1)"),
        "one draw shared by the whole batch": _sampling(
            draw="keras.random.normal(ops.shape(z_mean)[1:], seed=self.seed_generator)"),
        "uniform noise": _sampling(draw="keras.random.uniform(ops.shape(z_mean), seed=self.seed_generator)"),
        "noise drawn with NumPy": _sampling(draw="np.random.standard_normal(z_mean.shape).astype('float32')"),
        "ignores the epsilon it is given": _sampling().replace(
            "        if epsilon is None:\n            epsilon", "        epsilon"),
        "the mean alone": _sampling(value="z_mean"),
    },
    "L6-kl": {
        "averaged over the code's numbers": _kl(
            "-0.5 * ops.mean(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)"),
        "summed over the batch too": _kl("-0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))"),
        "the wrong sign": _kl("0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)"),
        "the standard deviation in place of the variance": _kl(
            "-0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(0.5 * z_log_var), axis=-1)"),
        "without the 1": _kl("-0.5 * ops.sum(z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)"),
        "written with NumPy": _kl(
            "-0.5 * np.sum(1 + z_log_var - np.square(z_mean) - np.exp(z_log_var), axis=-1)"),
    },
    "L6-loss": {
        "the per-pixel mean of Labs 1-4": _loss(reconstruction="ops.mean(per_pixel)"),
        "β on the reconstruction term": _loss(result="beta * reconstruction + kl, reconstruction, kl"),
        "β ignored": _loss(result="reconstruction + kl, reconstruction, kl"),
        "squared error": _loss(per_pixel="ops.square(images - reconstructions)"),
        "the KL summed over the batch": _loss(kl="ops.sum(kl_divergence(z_mean, z_log_var))"),
        "logarithms never clipped": _loss(
            per_pixel="-(images * ops.log(reconstructions)\n"
                      "                  + (1 - images) * ops.log(1 - reconstructions))"),
        "the ELBO instead of the loss": _loss(result="-(reconstruction + beta * kl), reconstruction, kl"),
        "the loss alone": _loss(result="reconstruction + beta * kl"),
    },
    "L6-prior-grid": {
        "evenly spaced from -2 to 2": _grid(quantiles="np.linspace(-2, 2, n)"),
        "the quantiles 0 and 1 included": _grid(quantiles="norm.ppf(np.linspace(0, 1, n))"),
        "rows and columns swapped": _grid(
            points="np.stack(np.meshgrid(quantiles, quantiles[::-1], indexing='ij'), axis=-1)"),
        "row 0 at the bottom": _grid(points="np.stack(np.meshgrid(quantiles, quantiles), axis=-1)"),
        "random draws from the prior": _grid(points="np.random.default_rng(0).standard_normal((n, n, 2))"),
        "always 15 × 15": _grid().replace("    quantiles =", "    n = 15\n    quantiles ="),
        "flat images": _grid(result="latent.decode(decoder, points.reshape(-1, 2))"),
    },
}
