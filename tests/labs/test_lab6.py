"""Lab 6: the VAE's parts (labkit.labs.lab6.vae), its self-checks and rules (labkit.labs.lab6.checks, .rules) and
its experiments: right work passes, wrong work is explained, and the training step reports what the lab says."""

from __future__ import annotations

import json
import math
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from labkit import checks, metrics, reproduce
from labkit.config import QUICK_EPOCHS
from labkit.checks import CheckFailed, judge
from labkit.grading.exchange import Exported, save_observation
from labkit.labs import lab6
from labkit.labs.lab6 import rules, vae

ROOT = Path(__file__).resolve().parents[2]
INPUTS = rules.make_inputs(np.random.default_rng(0))


def _images(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((count, 28, 28, 1), dtype=np.float32)


# --- Exercise 1: the sampling layer -----------------------------------------------------------------

def test_sampling_uses_the_draws_it_is_given():
    """Does the lab's layer return mean + exp(log_var / 2) · ε exactly for the ε it is given?"""
    mean, log_var, epsilon = (INPUTS[f"sampling_{name}"] for name in ("mean", "log_var", "epsilon"))
    z = np.asarray(vae.Sampling(seed=1)((mean, log_var), epsilon=epsilon))
    assert np.allclose(z, mean + np.exp(0.5 * log_var) * epsilon, atol=1e-5)


def test_sampling_draws_a_standard_normal_anew_at_every_call():
    """Do its own draws, standardised, have mean 0 and standard deviation 1, and differ between calls?"""
    layer = vae.Sampling(seed=3)
    mean, log_var = np.full((20_000, 2), 2.0, "float32"), np.full((20_000, 2), np.log(9.0), "float32")
    first, second = (np.asarray(layer((mean, log_var))) for _ in range(2))
    standardised = (first - 2.0) / 3.0
    assert abs(standardised.mean()) < 0.05 and abs(standardised.std() - 1) < 0.05
    assert not np.allclose(first, second)


def test_sampling_works_inside_a_model_of_unknown_batch_size():
    """Can the layer sit in a functional model, as the VAE's encoder uses it?"""
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    assert tuple(vae.Sampling()((a, b)).shape) == (None, 3)


def test_the_sampling_check_passes_the_lab_layer_and_explains_the_variance(capsys):
    """Does check_sampling pass the lab's layer and explain a layer that scales by the variance?"""
    checks.check_sampling(vae.Sampling)
    assert "✅" in capsys.readouterr().out

    class Variance(vae.Sampling):
        def call(self, inputs, epsilon=None):
            z_mean, z_log_var = inputs
            if epsilon is None:
                epsilon = keras.random.normal(keras.ops.shape(z_mean), seed=self.seed_generator)
            return z_mean + keras.ops.exp(z_log_var) * epsilon

    with pytest.raises(CheckFailed, match="exp\\(log_var\\) is the variance"):
        checks.check_sampling(Variance)


@pytest.mark.parametrize("answer, message", [
    ("Sampling", "a Keras layer class"),
    (vae.Sampling(), "a Keras layer class"),
    (layers.Dense, "__init__"),
])
def test_what_is_not_a_sampling_layer_is_explained(answer, message):
    """Are a text, a layer object instead of its class, and another layer class each explained, never a crash?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_sampling(answer)


# --- Exercise 2: the KL term -------------------------------------------------------------------------

def test_the_closed_form_kl_matches_a_monte_carlo_estimate():
    """Is the closed form what averaging log q(z) - log p(z) over many draws of z from q gives?"""
    mean, log_var = np.array([[0.7, -1.2]]), np.array([[-0.5, 0.8]])
    std = np.exp(0.5 * log_var)
    z = mean + std * np.random.default_rng(0).standard_normal((400_000, 2))
    log_q = -0.5 * (((z - mean) / std) ** 2 + np.log(2 * np.pi) + log_var)
    log_p = -0.5 * (z**2 + np.log(2 * np.pi))
    estimate = np.mean(np.sum(log_q - log_p, axis=1))
    closed = float(np.asarray(vae.kl_divergence(mean.astype("float32"), log_var.astype("float32")))[0])
    assert math.isclose(closed, estimate, rel_tol=0.01)
    assert math.isclose(closed, rules.closed_form_kl(mean, log_var)[0], rel_tol=1e-5)


def test_the_kl_of_the_prior_itself_is_zero_and_adds_over_code_numbers():
    """Is the KL 0 at the prior and 0.5 for a mean moved by 1 in one of two numbers, one value per image?"""
    kl = np.asarray(vae.kl_divergence(np.array([[0.0, 0.0], [1.0, 0.0]], "float32"), np.zeros((2, 2), "float32")))
    assert kl.shape == (2,) and np.allclose(kl, [0.0, 0.5], atol=1e-6)


def test_the_kl_check_explains_an_average_and_numpy(capsys):
    """Does check_kl_divergence pass the lab's term, and explain an average over code numbers and NumPy code?"""
    checks.check_kl_divergence(vae.kl_divergence)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="adds up"):
        checks.check_kl_divergence(lambda m, v: keras.ops.mean(1 + v - m**2 - keras.ops.exp(v), axis=-1) * -0.5)
    with pytest.raises(CheckFailed, match="keras.ops"):
        checks.check_kl_divergence(lambda m, v: -0.5 * np.sum(1 + v - np.square(m) - np.exp(v), axis=-1))
    with pytest.raises(CheckFailed, match="a function"):
        checks.check_kl_divergence(None)


# --- Exercise 3: the loss ----------------------------------------------------------------------------

def test_the_loss_is_the_per_image_sum_plus_beta_times_kl():
    """Is the reconstruction term 784 times the per-pixel BCE of Labs 1-4, and the loss reconstruction + β·KL?"""
    images = INPUTS["loss_images"]
    reconstructions = np.clip(images * 0.8 + 0.1, 0, 1).astype("float32")
    mean, log_var = INPUTS["loss_mean"], INPUTS["loss_log_var"]
    loss, reconstruction, kl = (float(value) for value in vae.vae_loss(images, reconstructions, mean, log_var,
                                                                         beta=4.0))
    assert math.isclose(reconstruction, 784 * metrics.binary_crossentropy(images, reconstructions), rel_tol=1e-4)
    assert math.isclose(kl, rules.closed_form_kl(mean, log_var).mean(), rel_tol=1e-5)
    assert math.isclose(loss, reconstruction + 4.0 * kl, rel_tol=1e-6)


def test_the_loss_check_explains_the_per_pixel_mean(capsys):
    """Does check_vae_loss pass the lab's loss and say why a per-pixel mean is wrong (β grows 784-fold)?"""
    checks.check_vae_loss(vae.vae_loss)
    assert "✅" in capsys.readouterr().out

    def per_pixel(images, reconstructions, z_mean, z_log_var, beta=1.0):
        reconstruction = keras.ops.mean(keras.ops.binary_crossentropy(images, reconstructions))
        kl = keras.ops.mean(vae.kl_divergence(z_mean, z_log_var))
        return reconstruction + beta * kl, reconstruction, kl

    with pytest.raises(CheckFailed, match="784 times"):
        checks.check_vae_loss(per_pixel)
    with pytest.raises(CheckFailed, match="three values"):
        checks.check_vae_loss(lambda *args, beta=1.0: {"loss": 0.0})


# --- Exercise 4: the prior grid ----------------------------------------------------------------------

def test_grid_points_are_the_priors_quantiles_top_row_largest():
    """Are the grid's points the quantiles (k + ½)/n of N(0, 1), columns rising left to right and rows falling
    from the top, as the rule's own grid (without SciPy) has them?"""
    points = vae.grid_points(5)
    assert points.shape == (5, 5, 2)
    assert np.allclose(points[0, :, 0], [-1.2816, -0.5244, 0.0, 0.5244, 1.2816], atol=1e-4)
    assert np.allclose(points[:, 0, 1], [1.2816, 0.5244, 0.0, -0.5244, -1.2816], atol=1e-4)
    assert np.allclose(points, rules.quantile_points(5), atol=1e-6)


def test_the_prior_grid_decodes_each_point_where_the_rule_expects(capsys):
    """Does prior_grid draw, at each cell, what the grader's decoder draws at that point, and pass its check?"""
    decoder = rules.grid_decoder(INPUTS)
    grid = vae.prior_grid(decoder, n=4)
    assert grid.shape == (4, 4, 28, 28)
    assert np.allclose(grid, rules.decoded(rules.quantile_points(4), INPUTS), atol=1e-5)
    checks.check_prior_grid(vae.prior_grid)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="Reshape"):
        checks.check_prior_grid(lambda decoder, n=15: vae.prior_grid(decoder, n).reshape(n * n, 28, 28))


def test_a_rule_given_malformed_exports_reports_a_problem(tmp_path):
    """Does a rule given exports of the wrong shape or kind report a problem instead of crashing the grader?"""
    save_observation(tmp_path, {"callable": True, "default": np.zeros(3), "sized": "images"})
    problems = judge(rules.GRID_EXERCISE, Exported(tmp_path), INPUTS, {})
    assert problems and "shape" in problems[0]
    (tmp_path / "observed.json").write_text(json.dumps({"callable": True, "beta0_parts": "three"}))
    assert judge(rules.LOSS, Exported(tmp_path), INPUTS, {})


# --- the model and its training step -----------------------------------------------------------------

@pytest.fixture(scope="module")
def small_vae():
    keras.utils.set_random_seed(0)
    encoder, decoder = vae.vae_parts(2, seed=0)
    return vae.VAE(encoder, decoder, beta=2.0)


def test_the_encoder_gives_a_mean_a_log_variance_and_a_code(small_vae):
    """Does the VAE's encoder map images to three (n, latent) outputs, its heads in float32?"""
    outputs = small_vae.encoder(_images(3, seed=1))
    assert [tuple(output.shape) for output in outputs] == [(3, 2)] * 3
    assert all(output.dtype == "float32" for output in outputs)
    assert small_vae.encoder.get_layer("z").dtype_policy.name == "float32"


def test_the_training_step_reports_the_loss_both_terms_and_the_elbo(small_vae):
    """Does fit report, each epoch, the loss, the reconstruction term, the KL term and the ELBO, with
    loss = reconstruction + β·KL and ELBO = -(reconstruction + KL), and learn in a few steps on one batch?"""
    images = _images(32, seed=2)
    small_vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = small_vae.fit(images, epochs=4, batch_size=32, verbose=0, shuffle=False)
    logs = {term: np.array(values) for term, values in history.history.items()}
    assert set(logs) == set(vae.TERMS)
    assert np.allclose(logs["loss"], logs["reconstruction"] + 2.0 * logs["kl"], rtol=1e-5)
    assert np.allclose(logs["elbo"], -(logs["reconstruction"] + logs["kl"]), rtol=1e-5)
    assert logs["loss"][-1] < logs["loss"][0]
    evaluated = small_vae.evaluate(images, batch_size=32, verbose=0, return_dict=True)
    assert set(evaluated) == set(vae.TERMS)


def test_measure_gives_each_images_terms_on_the_lab_scale(small_vae):
    """Are measure's terms per image, in nats, with -ELBO = reconstruction + KL, the KL the closed form of the
    encoder's own means and variances, and the mean-code reconstruction deterministic?"""
    images = _images(10, seed=3)
    measured = vae.measure(small_vae.encoder, small_vae.decoder, images, batch_size=4)
    assert measured["reconstruction"].shape == (10,) and measured["z_mean"].shape == (10, 2)
    assert np.allclose(measured["neg_elbo"], measured["reconstruction"] + measured["kl"])
    assert np.allclose(measured["kl"], rules.closed_form_kl(measured["z_mean"], measured["z_log_var"]))
    again = vae.measure(small_vae.encoder, small_vae.decoder, images)
    assert np.allclose(measured["mean_code_reconstruction"], again["mean_code_reconstruction"], rtol=1e-4)
    found = vae.summary(measured)
    assert math.isclose(found["reconstruction_per_pixel"], found["reconstruction"] / 784)


def test_active_units_count_the_code_numbers_that_vary():
    """Are code numbers whose means vary across images counted, and collapsed ones (all near 0) not?"""
    rng = np.random.default_rng(0)
    means = np.column_stack([rng.normal(0, 1, 500), rng.normal(0, 0.5, 500), rng.normal(0, 0.01, 500)])
    assert vae.active_units(means) == 2
    assert vae.active_units(means, threshold=0.5) == 1


def test_random_codes_follow_the_mean_and_covariance_of_the_codes():
    """Are the plain autoencoder's random codes drawn with the mean and covariance of its own codes?"""
    rng = np.random.default_rng(0)
    codes = rng.multivariate_normal([3.0, -1.0], [[2.0, 0.8], [0.8, 1.0]], size=5000)
    drawn = vae.random_codes(codes, 20_000, seed=1)
    assert np.allclose(drawn.mean(axis=0), [3.0, -1.0], atol=0.1)
    assert np.allclose(np.cov(drawn, rowvar=False), np.cov(codes, rowvar=False), atol=0.1)


def test_clear_digits_counts_confident_labels_with_their_standard_error():
    """Does clear_digits count the images a classifier gives one digit at least `confident`, by digit?"""
    class Fixed:
        def predict(self, images, batch_size=None, verbose=0):
            probabilities = np.full((len(images), 10), 0.01)
            probabilities[:, 3] = [0.95 if index % 4 else 0.5 for index in range(len(images))]
            return probabilities

    found = vae.clear_digits(Fixed(), np.zeros((100, 28, 28)), confident=0.9)
    assert found["share"] == 0.75 and math.isclose(found["se"], math.sqrt(0.75 * 0.25 / 100))
    assert found["digits"].tolist() == [0, 0, 0, 75, 0, 0, 0, 0, 0, 0]


# --- the lab's experiments and constants -------------------------------------------------------------

def test_lab3s_figures_are_those_of_the_committed_results():
    """Are the plain autoencoder's figures and the detector's AUC the lab compares with those of
    results/results.json (Lab 3)?"""
    records = {r["name"]: r for r in json.loads((ROOT / "results" / "results.json").read_text())}
    for size, value in lab6.LAB3_PLAIN_BCE.items():
        assert round(records[f"lab3-latent-{size}"]["value"], 4) == value
    assert round(records["lab3-anomaly"]["value"], 4) == lab6.LAB3_ANOMALY_AUC


def test_a_share_of_clear_digits_is_judged_higher_is_better():
    """Is the prior-sample experiment's share met when at or above its target, and shown in percent?"""
    experiment = reproduce.experiments()["lab6-prior-16"]
    assert not experiment.lower_is_better
    assert reproduce.verdict(experiment, lab6.TARGET_CONFIDENT + 0.01) == "meets the lab's target"
    assert reproduce.verdict(experiment, lab6.TARGET_CONFIDENT - 0.01) == "misses the lab's target"


def test_the_experiments_record_the_elbo_terms_and_the_prior_samples(monkeypatch):
    """Do the VAE experiments record the reconstruction term per pixel as their value with its excess, the ELBO
    and KL in nats per image and Lab 3's figure; and the prior one its share, the plain autoencoder's and the
    classifier's accuracy? (Quick mode, on 256 images of the sample.)"""
    from labkit import data
    from labkit.labs.lab6 import experiments

    monkeypatch.setenv("LABKIT_QUICK", "1")
    (x_train, y_train), (x_test, y_test) = data.load_sample("mnist")
    ctx = reproduce.Context(quick=True, seed=0)
    ctx.__dict__["mnist"] = ((x_train[:256], y_train[:256]), (x_test[:128], y_test[:128]))
    monkeypatch.setattr(experiments, "SAMPLES", 64)
    record = experiments.vae_experiment(16)(ctx)
    floor = metrics.bce_floor(data.preprocess(x_test[:128], flatten=False))
    assert math.isclose(record["value"], record["reconstruction_nats"] / 784)
    assert math.isclose(record["excess_over_floor"], record["value"] - floor, rel_tol=1e-6)
    assert math.isclose(record["neg_elbo_nats"], record["reconstruction_nats"] + record["kl_nats"])
    assert record["elbo_nats"] == -record["neg_elbo_nats"] and record["lab3_plain_bce"] == lab6.LAB3_PLAIN_BCE[16]
    assert 0 <= record["active_units"] <= 16 and record["epochs"] == min(lab6.EPOCHS, QUICK_EPOCHS)
    prior = experiments.prior_samples(ctx)
    assert 0 <= prior["value"] <= 1 and 0 <= prior["plain_share"] <= 1
    assert sum(prior["vae_digits"]) == round(prior["value"] * 64)
    assert 0 <= prior["classifier_test_accuracy"] <= 1 and prior["samples"] == 64


def test_the_speed_benchmark_times_the_labs_vae_and_counts_its_arithmetic_through_both_parts():
    """Is Lab 6's benchmark model the lab's VAE with a code of 16, are its multiply-adds those of its encoder
    and decoder, and does it train on its own terms when compiled the way `benchmarks/speed.py` compiles?"""
    from labkit import data, models
    from labkit.labs.lab6 import experiments

    name, build, kind, batch = experiments.BENCHMARK
    model, encoder, decoder = build()
    assert (kind, batch) == ("image", lab6.BATCH_SIZE) and "VAE" in name
    assert isinstance(model, vae.VAE) and (model.encoder, model.decoder) == (encoder, decoder)
    assert [tuple(output.shape) for output in encoder.outputs] == [(None, 16)] * 3
    assert models.multiply_adds(model) == models.multiply_adds(encoder) + models.multiply_adds(decoder) > 0
    images = data.preprocess(data.load_sample("mnist")[0][0][:64], flatten=False)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(images, images, batch_size=32, epochs=1, verbose=0)
    assert set(history.history) == set(vae.TERMS) and np.isfinite(history.history["loss"][0])
