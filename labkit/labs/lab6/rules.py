"""Lab 6's exercises: what is observed of each answer, and the one rule that judges it.

The self-checks (:mod:`labkit.labs.lab6.checks`) and the autograder (:mod:`labkit.labs.lab6.grading`)
both call these rules, on the same plain data (:class:`labkit.checks.Exercise`). Every answer is judged by
what it computes on inputs drawn afresh for each grading run (:func:`make_inputs`): the sampling layer on
the grader's own standard-normal draws (an exact value) and on thousands of its own draws (their
statistics), the KL term and the loss on drawn codes and images, the grid on a decoder whose weights the
grader drew, so that it knows what each point decodes to. The functions run as training runs them, traced
by ``tf.function`` on tensors. The observers run in the student's kernel and may import TensorFlow; the
rules import NumPy only.
"""

from __future__ import annotations

import math
import re
from statistics import NormalDist

import numpy as np

from labkit.checks import Exercise, describe, digit_like_images, not_a_function, numbers_of, problem
from labkit.labs.lab6 import GRID

IMAGE_SHAPE = (28, 28, 1)
PIXELS = 784
EPSILON = 1e-7
"""Keras clips predicted probabilities to [ε, 1 - ε] before taking logarithms; so does the loss's rule."""
COPIES = 2000
"""Draws of each (mean, log-variance) pair the sampling layer's statistics are judged on."""
DRAW_TOLERANCE = {"mean": 0.15, "std": 0.12, "correlation": 0.15}
"""How far the standardised draws of one pair may stray: their mean from 0, their standard deviation
from 1 (at 2,000 draws each, 0.15 and 0.12 are about 7 standard errors: a right layer fails about once in
10^10 runs), and the correlation between two code numbers from 0. The mistakes stray by far more: uniform
noise has mean 0.5, the variance in place of the standard deviation scales them by 0.6-2.7."""


def make_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh inputs to apply the student's objects to: drawn at random for each grading run, and with a
    fixed seed by the self-checks."""
    return {**_sampling_inputs(rng), **_kl_inputs(rng), **_loss_inputs(rng), **_grid_inputs(rng)}



def _record(observed: dict, name: str, value) -> None:
    numbers = numbers_of(value, sequences=False)
    if "array" in numbers:
        observed[name] = numbers["array"]
    else:
        observed[f"{name}_kind"] = numbers["kind"]


_NOISE = ("Exception encountered when calling", "in user code", "File ", "Arguments received", "•", "return ")


def _error(error: BaseException) -> str:
    """The error's type and its most telling line: Keras and ``tf.function`` wrap the cause in lines about
    where it happened, which come first; the cause comes last."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    telling = [line for line in lines if line and not line.startswith(_NOISE)]
    name = type(error).__name__
    return f"{name}: {(telling[-1] if telling else '').removeprefix(f'{name}: ')[:200]}"


def _traced(function):
    """``function`` traced by ``tf.function``, as the VAE's training step runs it."""
    import tensorflow as tf

    return tf.function(function, reduce_retracing=True)


def _tensor(array: np.ndarray):
    import keras

    return keras.ops.convert_to_tensor(np.asarray(array, dtype=np.float32))



def _close(found: np.ndarray, wanted: np.ndarray, *, rtol: float = 1e-4, atol: float = 1e-4) -> bool:
    return found.shape == wanted.shape and bool(np.allclose(found, wanted, rtol=rtol, atol=atol))


# --- Exercise 1: the sampling layer (the reparameterisation trick) -------------------------------------

def _sampling_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Means and log-variances of a few codes of 3 numbers (log-variances kept away from 0, where the
    variance and the standard deviation are the same), the grader's own draws ε for them, and a seed."""
    shape = (6, 3)
    magnitude = rng.uniform(0.5, 2.5, shape)
    return {"sampling_mean": rng.normal(0, 2, shape).astype(np.float32),
            "sampling_log_var": (magnitude * rng.choice([-1.0, 1.0], shape)).astype(np.float32),
            "sampling_epsilon": rng.standard_normal(shape).astype(np.float32),
            "sampling_seed": rng.integers(0, 2**31, size=1)}


def observe_sampling(objects: dict, inputs: dict) -> dict:
    """The layer class's output with the grader's ε, two traced calls on ``COPIES`` copies of every pair
    (drawing its own ε), and the shape it gives inside a Keras model (symbolic inputs)."""
    import keras

    sampling = objects.get("Sampling")
    if not (isinstance(sampling, type) and issubclass(sampling, keras.layers.Layer)):
        return {"layer": False, "kind": describe(sampling)}
    observed: dict = {"layer": True}
    try:
        layer = sampling(seed=int(inputs["sampling_seed"][0]))
    except Exception as error:  # noqa: BLE001 - a class whose __init__ takes no seed
        return {**observed, "init_error": _error(error)}
    mean, log_var = inputs["sampling_mean"], inputs["sampling_log_var"]
    try:
        given = layer((_tensor(mean), _tensor(log_var)), epsilon=_tensor(inputs["sampling_epsilon"]))
        _record(observed, "given", given)
    except Exception as error:  # noqa: BLE001 - a layer that cannot take the draws it is given
        observed["given_error"] = _error(error)
    try:
        a, b = keras.Input(shape=(mean.shape[1],)), keras.Input(shape=(mean.shape[1],))
        observed["symbolic_shape"] = [None if size is None else int(size) for size in layer((a, b)).shape]
    except Exception as error:  # noqa: BLE001 - a layer that only works on known shapes
        observed["symbolic_error"] = _error(error)
    draw = _traced(lambda m, v: layer((m, v)))
    means, log_vars = (_tensor(np.tile(part, (COPIES, 1))) for part in (mean, log_var))
    try:
        for number in range(2):
            _record(observed, f"draws{number}", draw(means, log_vars))
    except Exception as error:  # noqa: BLE001 - a layer that cannot be traced
        observed["draws_error"] = _error(error)
    return observed


def sampling_rule(observed, inputs: dict, expected: dict) -> list[str]:
    if not observed.value("layer", bool):
        return [problem("Sampling", "a Keras layer class (class Sampling(layers.Layer))",
                        str(observed.value("kind", str)), "Keep the class statement of the exercise cell.")]
    if observed.has("init_error"):
        return [problem("Sampling(seed=...)", "a layer", "an error: " + observed.value("init_error", str),
                        "Keep the exercise's __init__(self, seed=None, **kwargs), which makes the layer's own "
                        "seeded generator.")]
    mean, log_var = inputs["sampling_mean"].astype(np.float64), inputs["sampling_log_var"].astype(np.float64)
    epsilon = inputs["sampling_epsilon"].astype(np.float64)
    std = np.exp(0.5 * log_var)
    if observed.has("given_error"):
        return [problem("Sampling()((z_mean, z_log_var), epsilon=draws)", "codes", "an error: "
                        + observed.value("given_error", str), "Use the epsilon passed in when it is given.")]
    if not observed.has("given"):
        return [problem("Sampling()((z_mean, z_log_var), epsilon=draws)", f"a tensor of shape {mean.shape}",
                        str(observed.value("given_kind", str)), "Return the codes z.")]
    given = observed.array("given", dtype=np.float64)
    wanted = mean + std * epsilon
    if not _close(given, wanted, rtol=1e-4, atol=1e-4):
        explained = [
            (mean + np.exp(log_var) * epsilon, "mean + exp(log_var) · ε",
             "exp(log_var) is the variance σ²; scale ε by the standard deviation σ = exp(log_var / 2)."),
            (mean + log_var * epsilon, "mean + log_var · ε",
             "The log-variance is not a scale: σ = exp(log_var / 2)."),
            (mean + std, "mean + σ, without ε", "Multiply the standard deviation by the draws ε."),
            (mean + np.zeros_like(std), "the mean alone",
             "Add the noise: z = mean + exp(log_var / 2) · ε, or the decoder only ever sees the mean."),
        ]
        for values, what, hint in explained:
            if _close(given, values):
                return [problem("the codes drawn with the grader's own ε", "mean + exp(log_var / 2) · ε",
                                what, hint)]
        return [problem("the codes drawn with the grader's own ε", "mean + exp(log_var / 2) · ε",
                        "other values" if given.shape == wanted.shape else f"shape {given.shape}",
                        "When epsilon is given, use it as the draws instead of drawing your own.")]
    if observed.has("symbolic_error"):
        return [problem("the layer inside a Keras model (inputs of unknown batch size)", "codes",
                        "an error: " + observed.value("symbolic_error", str),
                        "Draw ε with keras.random.normal(ops.shape(z_mean), seed=self.seed_generator): "
                        "NumPy needs every size known, and its draws would be fixed when Keras traces "
                        "the model.")]
    symbolic = observed.value("symbolic_shape", list)
    if symbolic != [None, mean.shape[1]]:
        return [problem("the layer's output inside a Keras model", f"shape (None, {mean.shape[1]})",
                        f"shape {tuple(symbolic)}", "Return one code per image, of z_mean's shape.")]
    if observed.has("draws_error"):
        return [problem("the layer in a traced training step", "codes", "an error: "
                        + observed.value("draws_error", str), "Use keras.ops and keras.random inside call().")]
    rows = COPIES * len(mean)
    draws = [observed.array(f"draws{number}", dtype=np.float64, shape=(rows, mean.shape[1])) for number in (0, 1)]
    standardised = [((d - np.tile(mean, (COPIES, 1))) / np.tile(std, (COPIES, 1))) for d in draws]
    first = standardised[0]
    if not np.isfinite(first).all():
        return [problem("the codes it draws", "finite numbers", "NaN or infinite values")]
    if np.isclose(standardised[0], standardised[1], rtol=0, atol=1e-6).mean() > 0.01:
        return [problem("two calls of the layer in a training step", "new draws each call",
                        "the same draws every call",
                        "Draw with the layer's own generator, seed=self.seed_generator: a fixed number as the "
                        "seed gives the same noise at every step, so the decoder learns that noise, not a "
                        "distribution.")]
    per_pair = first.reshape(COPIES, *mean.shape)
    if np.isclose(per_pair, per_pair[:1], rtol=0, atol=1e-6).mean() > 0.01:
        return [problem(f"{COPIES:,} draws of one code in one batch", "a new ε for every image of the batch",
                        "the same ε for every image",
                        "Draw ε of z_mean's whole shape, ops.shape(z_mean), batch included.")]
    centres, spreads = per_pair.mean(axis=0), per_pair.std(axis=0)
    if np.abs(centres).max() > DRAW_TOLERANCE["mean"] or np.abs(spreads - 1).max() > DRAW_TOLERANCE["std"]:
        return [problem("(z - mean) / exp(log_var / 2) over many draws", "a standard normal: mean 0, "
                        "standard deviation 1",
                        f"means from {centres.min():.2f} to {centres.max():.2f}, standard deviations from "
                        f"{spreads.min():.2f} to {spreads.max():.2f}",
                        "Draw ε from N(0, I) with keras.random.normal (not uniform noise), and scale it by "
                        "exp(log_var / 2).")]
    flat = first.reshape(-1, mean.shape[1])
    correlation = np.corrcoef(flat, rowvar=False)[np.triu_indices(mean.shape[1], 1)]
    if np.abs(correlation).max() > DRAW_TOLERANCE["correlation"]:
        return [problem("the draws of a code's different numbers", "independent draws (correlation near 0)",
                        f"a correlation of {correlation[np.argmax(np.abs(correlation))]:.2f}",
                        "Draw one ε for every number of the code: ε of the shape of z_mean.")]
    return []


SAMPLING = Exercise("L6-sampling", ("Sampling",), observe_sampling, sampling_rule,
                    "Sampling: z = mean + exp(log_var / 2) · ε, new N(0, 1) draws at every call.")


# --- Exercise 2: the KL term -------------------------------------------------------------------------

def _kl_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    shape = (8, 5)
    return {"kl_mean": rng.normal(0, 1.5, shape).astype(np.float32),
            "kl_log_var": rng.uniform(-3, 2, shape).astype(np.float32)}


def closed_form_kl(mean: np.ndarray, log_var: np.ndarray) -> np.ndarray:
    """KL(N(mean, exp(log_var)) ‖ N(0, I)) of each row, in NumPy."""
    mean, log_var = np.asarray(mean, dtype=np.float64), np.asarray(log_var, dtype=np.float64)
    return -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=-1)


def _observe_function(objects: dict, name: str, arguments: tuple, keywords: dict | None = None) -> dict:
    """``objects[name]`` applied to ``arguments`` (arrays, as tensors) traced, as in training; where the traced
    call fails, its error and the result of an eager call."""
    function = objects.get(name)
    if not callable(function):
        return {"callable": False, "kind": describe(function)}
    tensors = [_tensor(argument) for argument in arguments]
    observed: dict = {"callable": True}
    try:
        result = _traced(lambda *args: function(*args, **(keywords or {})))(*tensors)
    except Exception as error:  # noqa: BLE001 - NumPy code cannot be traced
        observed["traced_error"] = _error(error)
        result = function(*tensors, **(keywords or {}))
    observed["result"] = result
    return observed


def observe_kl(objects: dict, inputs: dict) -> dict:
    observed = _observe_function(objects, "kl_divergence", (inputs["kl_mean"], inputs["kl_log_var"]))
    if "result" in observed:
        _record(observed, "kl", observed.pop("result"))
    return observed


def kl_rule(observed, inputs: dict, expected: dict) -> list[str]:
    failed = not_a_function(observed, "kl_divergence", "kl_divergence(z_mean, z_log_var)")
    if failed:
        return failed
    mean, log_var = inputs["kl_mean"], inputs["kl_log_var"]
    n, size = mean.shape
    what = "kl_divergence(z_mean, z_log_var)"
    if not observed.has("kl"):
        return [problem(what, f"one value per image, shape ({n},)", str(observed.value("kl_kind", str)),
                        "Return the tensor you computed.")]
    found = observed.array("kl", dtype=np.float64)
    wanted = closed_form_kl(mean, log_var)
    if found.shape != (n,):
        hint = ("That is one number for the whole batch: sum over the code's numbers only, axis=-1."
                if found.size == 1 else
                "Sum over the code's numbers, ops.sum(..., axis=-1): one value per image.")
        return [problem(what, f"one value per image, shape ({n},) for {n} codes of {size} numbers",
                        f"shape {found.shape}", hint)]
    if not np.isfinite(found).all():
        return [problem(what, "finite values", "NaN or infinite values")]
    if not _close(found, wanted):
        m, v = mean.astype(np.float64), log_var.astype(np.float64)
        explained = [
            (wanted / size, "the KL averaged over the code's numbers",
             "Sum over the code's numbers: the KL of independent numbers adds up."),
            (-wanted, "the KL with the wrong sign (it can be negative)",
             "KL = -0.5 · Σ(1 + log_var - mean² - exp(log_var)): a KL divergence is never negative."),
            (2 * wanted, "twice the KL", "Keep the factor -0.5 in front of the sum."),
            (-0.5 * np.sum(1 + v - m**2 - np.exp(v / 2), axis=-1), "the standard deviation in place of the variance",
             "exp(log_var) is the variance σ²: the KL has -exp(log_var), not exp(log_var / 2)."),
            (wanted + 0.5 * size, "the KL without the 1 in each term",
             "Each code number contributes -0.5 · (1 + log_var - mean² - exp(log_var))."),
        ]
        for values, hint_what, hint in explained:
            if _close(found, values):
                return [problem(what, "-0.5 · Σ(1 + log_var - mean² - exp(log_var)) for each image", hint_what,
                                hint)]
        return [problem(what, f"{np.round(wanted[:3], 4).tolist()} for the first three codes",
                        f"{np.round(found[:3], 4).tolist()}",
                        "KL = -0.5 · Σ over the code's numbers of (1 + log_var - mean² - exp(log_var)).")]
    if observed.has("traced_error"):
        return [problem(what + " in a traced training step", "the same values", "an error: "
                        + observed.value("traced_error", str),
                        "Use keras.ops (ops.sum, ops.exp, ops.square), not NumPy: the training step runs on "
                        "symbolic tensors that NumPy cannot read.")]
    return []


KL = Exercise("L6-kl", ("kl_divergence",), observe_kl, kl_rule,
              "kl_divergence: -0.5 · Σ(1 + log_var - mean² - exp(log_var)), one value per image.")


# --- Exercise 3: the loss ----------------------------------------------------------------------------

def _loss_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Digit-like images (black background, grey strokes, some pixels exactly 1), reconstructions with some
    pixels exactly 0 and 1 (as a float32 sigmoid gives them), codes of 4 numbers, and three weights β."""
    count = 6
    images = digit_like_images(rng, count, ink=(0.1, 0.4))
    reconstructions = np.clip(images + rng.normal(0, 0.2, images.shape), 0.001, 0.999).astype(np.float32)
    flat, pixels = reconstructions.reshape(count, -1), images.reshape(count, -1)
    for index in range(count):  # saturated where the image agrees: only an unclipped logarithm notices
        flat[index, np.flatnonzero(pixels[index] == 0)[:3]] = 0.0
        flat[index, np.flatnonzero(pixels[index] == 1)[:3]] = 1.0
    return {"loss_images": images, "loss_reconstructions": reconstructions,
            "loss_mean": rng.normal(0, 1.5, (count, 4)).astype(np.float32),
            "loss_log_var": rng.uniform(-3, 1.5, (count, 4)).astype(np.float32),
            "loss_betas": np.array([1.0, rng.uniform(0.2, 0.8), rng.uniform(2.0, 6.0)])}


def reference_terms(inputs: dict, beta: float, *, per_pixel: bool = False) -> tuple[float, float, float]:
    """``(loss, reconstruction, kl)`` of the loss's inputs with weight ``beta``, in NumPy."""
    p = inputs["loss_images"].astype(np.float64).reshape(len(inputs["loss_images"]), -1)
    q = np.clip(inputs["loss_reconstructions"].astype(np.float64).reshape(p.shape), EPSILON, 1 - EPSILON)
    bce = -(p * np.log(q) + (1 - p) * np.log1p(-q))
    reconstruction = float(np.mean(bce.mean(axis=1) if per_pixel else bce.sum(axis=1)))
    kl = float(np.mean(closed_form_kl(inputs["loss_mean"], inputs["loss_log_var"])))
    return reconstruction + beta * kl, reconstruction, kl


def observe_loss(objects: dict, inputs: dict) -> dict:
    """``vae_loss`` on the drawn images, reconstructions and codes, with each β: the length of what it returns
    and each part as numbers."""
    arguments = (inputs["loss_images"], inputs["loss_reconstructions"], inputs["loss_mean"], inputs["loss_log_var"])
    observed: dict = {}
    for index, beta in enumerate(inputs["loss_betas"].tolist()):
        one = _observe_function(objects, "vae_loss", arguments, {"beta": beta})
        if not one["callable"]:
            return one
        observed["callable"] = True
        if "traced_error" in one:
            observed["traced_error"] = one["traced_error"]
        result = one["result"]
        if not isinstance(result, (tuple, list)):
            observed[f"beta{index}_kind"] = describe(result)
            continue
        observed[f"beta{index}_parts"] = len(result)
        for part, value in enumerate(result[:3]):
            _record(observed, f"beta{index}_{part}", value)
    return observed


PARTS = ("the loss", "the reconstruction term", "the KL term")


def loss_rule(observed, inputs: dict, expected: dict) -> list[str]:
    failed = not_a_function(observed, "vae_loss", "vae_loss(images, reconstructions, z_mean, z_log_var, beta=1.0)")
    if failed:
        return failed
    for index, beta in enumerate(inputs["loss_betas"].tolist()):
        call = f"vae_loss(..., beta={beta:.3g})"
        if observed.has(f"beta{index}_kind"):
            return [problem(call, "three values: (loss, reconstruction, kl)",
                            str(observed.value(f"beta{index}_kind", str)),
                            "Return loss, reconstruction, kl (a tuple).")]
        if observed.value(f"beta{index}_parts", int) != 3:
            return [problem(call, "three values: (loss, reconstruction, kl)",
                            f"{observed.value(f'beta{index}_parts', int)} values",
                            "Return loss, reconstruction, kl (a tuple).")]
        found = []
        for part, name in enumerate(PARTS):
            if not observed.has(f"beta{index}_{part}"):
                return [problem(f"{name} of {call}", "a number (a tensor of shape ())",
                                str(observed.value(f"beta{index}_{part}_kind", str)), "")]
            value = observed.array(f"beta{index}_{part}", dtype=np.float64)
            if value.size != 1:
                return [problem(f"{name} of {call}", "one number, averaged over the batch", f"shape {value.shape}",
                                "Average over the images of the batch (ops.mean) after summing each image's "
                                "pixels or code numbers.")]
            found.append(float(value.reshape(())))
        if not all(math.isfinite(value) for value in found):
            return [problem(call, "finite numbers", f"{found}",
                            "Some reconstructed pixels are exactly 0 or 1 (a float32 sigmoid saturates): "
                            "ops.binary_crossentropy clips them as Keras does; log(0) is -infinity.")]
        problems = _loss_problems(found, inputs, beta, call)
        if problems:
            return problems
    if observed.has("traced_error"):
        return [problem("vae_loss in a traced training step", "the same values", "an error: "
                        + observed.value("traced_error", str), "Use keras.ops, not NumPy.")]
    return []


def _loss_problems(found: list[float], inputs: dict, beta: float, call: str) -> list[str]:
    loss, reconstruction, kl = found
    wanted_loss, wanted_reconstruction, wanted_kl = reference_terms(inputs, beta)
    count = len(inputs["loss_images"])

    def near(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-3)

    if not near(reconstruction, wanted_reconstruction):
        per_pixel = reference_terms(inputs, beta, per_pixel=True)[1]
        p = inputs["loss_images"].astype(np.float64)
        squared = float(np.mean(np.sum((p - inputs["loss_reconstructions"]) ** 2, axis=(1, 2, 3))))
        if near(reconstruction, per_pixel):
            hint = ("That is the mean over the pixels, the per-pixel BCE of Labs 1-4. In the ELBO the "
                    f"reconstruction term is summed over each image's {PIXELS} pixels (nats per image); "
                    f"averaged, it weighs {PIXELS} times less against the KL term, as if β were {PIXELS} "
                    "times larger.")
        elif near(reconstruction, wanted_reconstruction * count):
            hint = "That is the sum over the batch too: average over the images (ops.mean)."
        elif near(reconstruction, squared) or near(reconstruction, squared / PIXELS):
            hint = ("That is a squared error. The decoder's sigmoid pixels are Bernoulli probabilities: use "
                    "ops.binary_crossentropy(images, reconstructions).")
        else:
            hint = ("Sum ops.binary_crossentropy(images, reconstructions) over each image's pixels, then "
                    "average over the batch.")
        return [problem(f"the reconstruction term of {call}", f"{wanted_reconstruction:.4f} nats per image",
                        f"{reconstruction:.4f}", hint)]
    if not near(kl, wanted_kl):
        hint = ("That is the sum over the batch: average the images' KL terms (ops.mean), as the "
                "reconstruction term is." if near(kl, wanted_kl * count) else
                "Use kl_divergence(z_mean, z_log_var), averaged over the batch.")
        return [problem(f"the KL term of {call}", f"{wanted_kl:.4f} nats per image", f"{kl:.4f}", hint)]
    if not near(loss, wanted_loss):
        explained = [(beta * reconstruction + kl, "β weighs the KL term, not the reconstruction term."),
                     (reconstruction + kl, "The KL term must be weighed by beta: reconstruction + beta * kl."),
                     (-(reconstruction + beta * kl), "Return the loss to minimise, reconstruction + β·KL: the "
                                                    "negative of the ELBO (at β = 1), not the ELBO.")]
        hint = next((text for value, text in explained if near(loss, value)),
                    "The loss is reconstruction + beta * kl.")
        return [problem(f"the loss of {call}", f"{wanted_loss:.4f} (reconstruction + β·KL)", f"{loss:.4f}", hint)]
    return []


LOSS = Exercise("L6-loss", ("vae_loss",), observe_loss, loss_rule,
                "vae_loss: reconstruction (summed over pixels) + β·KL, each averaged over the batch.")


# --- Exercise 4: decoding a grid of the prior ----------------------------------------------------------

def _grid_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A decoder's weights (Dense 2 → 784, sigmoid) and two grid sizes: the lab's, and one drawn."""
    return {"grid_kernel": rng.normal(0, 1.0, (2, PIXELS)).astype(np.float32),
            "grid_bias": rng.normal(0, 0.5, PIXELS).astype(np.float32),
            "grid_sizes": np.array([GRID, rng.integers(3, 10)])}


def grid_decoder(inputs: dict):
    """The grader's decoder: one Dense layer, 2 → 784 with a sigmoid, then (28, 28, 1), with the drawn
    weights; in float32 whatever the notebook's policy."""
    import keras

    decoder = keras.Sequential([keras.Input(shape=(2,)),
                                keras.layers.Dense(PIXELS, activation="sigmoid", dtype="float32"),
                                keras.layers.Reshape(IMAGE_SHAPE, dtype="float32")], name="decoder")
    decoder.set_weights([inputs["grid_kernel"], inputs["grid_bias"]])
    return decoder


def observe_grid(objects: dict, inputs: dict) -> dict:
    prior_grid = objects.get("prior_grid")
    if not callable(prior_grid):
        return {"callable": False, "kind": describe(prior_grid)}
    decoder = grid_decoder(inputs)
    observed: dict = {"callable": True}
    _record(observed, "default", prior_grid(decoder))
    _record(observed, "sized", prior_grid(decoder, n=int(inputs["grid_sizes"][1])))
    return observed


def quantile_points(n: int) -> np.ndarray:
    """The lab's grid of the prior: the standard normal's quantiles (k + 0.5) / n, row 0 at the top."""
    quantiles = np.array([NormalDist().inv_cdf((k + 0.5) / n) for k in range(n)])
    return np.stack(np.meshgrid(quantiles, quantiles[::-1]), axis=-1)


def decoded(points: np.ndarray, inputs: dict) -> np.ndarray:
    """What the grader's decoder draws at ``points`` (n, n, 2), shape (n, n, 28, 28), in NumPy."""
    n = points.shape[0]
    logits = points.reshape(-1, 2) @ inputs["grid_kernel"].astype(np.float64) + inputs["grid_bias"]
    return (1 / (1 + np.exp(-logits))).reshape(n, n, 28, 28)


def grid_rule(observed, inputs: dict, expected: dict) -> list[str]:
    failed = not_a_function(observed, "prior_grid", "prior_grid(decoder, n=15)")
    if failed:
        return failed
    for name, n in (("default", int(inputs["grid_sizes"][0])), ("sized", int(inputs["grid_sizes"][1]))):
        call = "prior_grid(decoder)" if name == "default" else f"prior_grid(decoder, n={n})"
        if not observed.has(name):
            return [problem(call, f"an array of shape ({n}, {n}, 28, 28)", str(observed.value(f"{name}_kind", str)),
                            "Return the decoded images as a NumPy array.")]
        found = observed.array(name, dtype=np.float64)
        if found.shape != (n, n, 28, 28):
            hint = (f"Reshape the {n * n} decoded images to (n, n, 28, 28): row by row of the grid."
                    if found.size == n * n * PIXELS else f"Decode an n×n grid: {n}×{n} points for n={n}.")
            return [problem(call, f"shape ({n}, {n}, 28, 28)", f"shape {found.shape}", hint)]
        if not np.isfinite(found).all():
            return [problem(call, "finite images", "NaN values",
                            "The quantiles of 0 and 1 are -∞ and +∞: take the quantiles (k + 0.5) / n, "
                            "k = 0 … n-1.")]
        points = quantile_points(n)
        if _close(found, decoded(points, inputs), rtol=0, atol=1e-4):
            continue
        order = ("Rows go with the second number of the code (top: largest), columns with the first "
                 "(left: smallest).")
        explained = [
            (points.transpose(1, 0, 2), f"The grid is transposed. {order}"),
            (points[..., ::-1], f"The two numbers of each point are swapped. {order}"),
            (points[::-1], "Row 0 is the top of the picture: the largest second number, as on a plot's "
                           "y axis."),
        ]
        for alternative, hint in explained:
            if _close(found, decoded(alternative, inputs), rtol=0, atol=1e-4):
                return [problem(call, "the grid in the lab's order", "the right points in another order", hint)]
        return [problem(call, f"the images decoded at the standard normal's quantiles (k + 0.5) / {n}",
                        "images decoded at other points",
                        "Each point's numbers are quantiles of N(0, 1) (scipy.stats.norm.ppf), so that each "
                        "stands for an equal share of the prior; not evenly spaced numbers, not random "
                        "draws.")]
    return []


GRID_EXERCISE = Exercise("L6-prior-grid", ("prior_grid",), observe_grid, grid_rule,
                         "prior_grid: decodes an n×n grid at the prior's quantiles, row 0 at the top.")

EXERCISES = (SAMPLING, KL, LOSS, GRID_EXERCISE)
