"""Lab 3's self-checks (labkit.labs.lab3.checks) and rules (labkit.labs.lab3.rules): correct work passes, wrong
work is explained in plain words, and the grader's side judges exported data the same way."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

from labkit import anomaly, checks, models
from labkit.checks import CheckFailed, judge
from labkit.grading.exchange import Exported, save_observation
from labkit.labs.lab3 import LATENT, rules

INPUTS = rules.make_inputs(np.random.default_rng(0))


# --- Exercise 1: the compression ratio --------------------------------------------------------------

def test_compression_ratio_check(capsys):
    """Does the ratio check pass input_dim / latent and explain integer division and the inverted ratio?"""
    checks.check_compression_ratio(lambda latent, input_dim=784: input_dim / latent)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="true division"):
        checks.check_compression_ratio(lambda latent, input_dim=784: input_dim // latent)
    with pytest.raises(CheckFailed, match="other way round"):
        checks.check_compression_ratio(lambda latent, input_dim=784: latent / input_dim)


def test_a_ratio_that_ignores_input_dim_is_explained():
    """Is a ratio that always divides 784, whatever input_dim says, told to use the argument?"""
    with pytest.raises(CheckFailed, match="Divide input_dim, the argument"):
        checks.check_compression_ratio(lambda latent, input_dim=784: 784 / latent)


@pytest.mark.parametrize("answer, message", [
    (lambda latent, input_dim=784: str(input_dim / latent), "a number"),
    (lambda latent, input_dim=784: float("nan"), "float nan"),
    (lambda latent, input_dim=784: int(input_dim / latent) if input_dim % latent == 0 else input_dim / latent,
     "a float"),
    ("not a function", "a function"),
])
def test_ratios_that_are_not_floats_are_explained(answer, message):
    """Are a text, NaN, an int and a value instead of a function each explained, never a crash?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_compression_ratio(answer)


# --- Exercise 2: the encoder ------------------------------------------------------------------------

def lab3_encoder(latent=LATENT, code_activation=None, bias=False, activation_first=False):
    """The encoder as the Lab 3 solution builds it by hand, from the reference's sizes."""
    reference = models.conv_bottleneck_autoencoder(latent=latent)[1]
    small, large = reference.get_layer("enc_conv1").filters, reference.get_layer("enc_conv2").filters
    widths = [layer.units for layer in reference.layers if isinstance(layer, layers.Dense)][:-1]

    def normalised(x):
        if activation_first:
            return layers.BatchNormalization()(layers.Activation("relu")(x))
        return layers.Activation("relu")(layers.BatchNormalization()(x))

    image = keras.Input(shape=(28, 28, 1))
    x = image
    for filters in (small, large):
        x = normalised(layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=bias)(x))
    x = layers.Flatten()(x)
    for units in widths:
        x = normalised(layers.Dense(units, use_bias=bias)(x))
    code = layers.Dense(latent, activation=code_activation, name="code")(x)
    return keras.Model(image, code)


@pytest.fixture
def global_policy():
    """``global_policy("mixed_bfloat16")`` sets Keras's global dtype policy, as a student may; restored after."""
    previous = keras.config.dtype_policy()
    yield keras.config.set_dtype_policy
    keras.config.set_dtype_policy(previous)


def test_hand_built_bottleneck_encoder_passes(capsys):
    """Does an encoder built as the lab describes pass the bottleneck check?"""
    checks.check_bottleneck_encoder(lab3_encoder(), latent=16)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_the_lab_builders_encoder_passes_in_either_precision(monkeypatch, capsys, precision):
    """Does the encoder of labkit.models pass, built in float32 or in mixed bfloat16 (the kit's precisions)?"""
    monkeypatch.setenv("LABKIT_PRECISION", precision)
    checks.check_bottleneck_encoder(models.conv_bottleneck_autoencoder(latent=LATENT)[1])
    assert "✅" in capsys.readouterr().out


def test_a_bfloat16_encoder_passes_and_its_wrong_layer_order_still_fails(global_policy, capsys):
    """Under a global mixed bfloat16 policy (the code too in bfloat16), does the right encoder pass and one with
    ReLU before batch normalisation still fail?"""
    global_policy("mixed_bfloat16")
    right, wrong = lab3_encoder(), lab3_encoder(activation_first=True)
    checks.check_bottleneck_encoder(right)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="BatchNormalization, then ReLU"):
        checks.check_bottleneck_encoder(wrong)


@pytest.mark.parametrize("kwargs, message", [
    ({"code_activation": "relu"}, "can die"),
    ({"bias": True}, "use_bias=False"),
    ({"latent": 8}, r"\(None, 16\)"),
    ({"activation_first": True}, "BatchNormalization, then ReLU"),
])
def test_wrong_bottleneck_encoders_are_explained(kwargs, message):
    """Are a ReLU code, extra biases, a wrong code size and ReLU before batch normalisation each explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_bottleneck_encoder(lab3_encoder(**kwargs), latent=16)


def test_pooling_instead_of_strides_is_explained():
    """Is an encoder that halves the image by max pooling (same weights as strides) told to use strides=2?"""
    image = keras.Input(shape=(28, 28, 1))
    x = image
    for filters in (16, 32):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.MaxPooling2D(2)(layers.Activation("relu")(layers.BatchNormalization()(x)))
    x = layers.Flatten()(x)
    for units in (1024, 512, 128):
        x = layers.Activation("relu")(layers.BatchNormalization()(layers.Dense(units, use_bias=False)(x)))
    encoder = keras.Model(image, layers.Dense(16, name="code")(x))
    with pytest.raises(CheckFailed, match="strides=2"):
        checks.check_bottleneck_encoder(encoder)


def test_a_code_size_other_than_the_lab_s_is_refused_by_the_self_check_too():
    """Does check_bottleneck_encoder(encoder, latent=8) fail, as the grader (which asks for LATENT) would?"""
    with pytest.raises(CheckFailed, match="Keep LATENT = 16"):
        checks.check_bottleneck_encoder(lab3_encoder(latent=8), latent=8)


def test_the_self_check_leaves_the_students_weights_as_they_were():
    """Are the encoder's own weights (batch-normalisation statistics included) unchanged after the check, which
    draws other statistics for the time of one prediction?"""
    encoder = lab3_encoder()
    before = encoder.get_weights()
    checks.check_bottleneck_encoder(encoder)
    assert all(np.array_equal(a, b) for a, b in zip(before, encoder.get_weights()))


def test_not_a_model_is_explained():
    """Is a layer handed in where a model is expected explained?"""
    with pytest.raises(CheckFailed, match="keras.Model"):
        checks.check_bottleneck_encoder(layers.Dense(16))


# --- Exercise 3: the linear probe ---------------------------------------------------------------------

def probe(train_codes, train_labels, test_codes, test_labels):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    fitted = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(train_codes, train_labels)
    return float(fitted.score(test_codes, test_labels))


def test_probe_check_passes_a_real_probe_and_catches_fitting_on_test_codes(capsys):
    """Does the probe check pass logistic regression fitted on training codes, and catch one fitted on test
    codes?"""
    from sklearn.linear_model import LogisticRegression

    def cheat(train_codes, train_labels, test_codes, test_labels):
        return float(LogisticRegression(max_iter=1000).fit(test_codes, test_labels).score(test_codes, test_labels))

    checks.check_probe(probe)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="training codes only"):
        checks.check_probe(cheat)


def test_a_probe_that_is_not_linear_is_explained():
    """Is a k-nearest-neighbours probe, which separates what no straight boundary can, told to stay linear?"""
    from sklearn.neighbors import KNeighborsClassifier

    def nearest(train_codes, train_labels, test_codes, test_labels):
        return float(KNeighborsClassifier().fit(train_codes, train_labels).score(test_codes, test_labels))

    with pytest.raises(CheckFailed, match="linear probe"):
        checks.check_probe(nearest)


@pytest.mark.parametrize("answer, message", [
    (lambda *codes: probe(*codes[:2], *codes[:2]), "accuracy on the training codes"),
    (lambda *codes: 100 * probe(*codes), "not a percentage"),
    (lambda *codes: 1 - probe(*codes), "error rate"),
    (lambda *codes: str(probe(*codes)), "one float"),
])
def test_wrong_probes_are_explained(answer, message):
    """Are the training accuracy, a percentage, the error rate and a text each explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_probe(answer)


# --- Exercise 4: the anomaly scores -------------------------------------------------------------------

def test_anomaly_score_check_wants_the_excess(capsys):
    """Does the score check pass the per-image excess and explain plain BCE and one number for the batch?"""
    checks.check_anomaly_scores(lambda x, r: anomaly.reconstruction_errors(x, r, kind="excess"))
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="own floor"):
        checks.check_anomaly_scores(lambda x, r: anomaly.reconstruction_errors(x, r, kind="bce"))
    with pytest.raises(CheckFailed, match="one score per image"):
        checks.check_anomaly_scores(lambda x, r: np.mean((x - r) ** 2))


def test_unclipped_logarithms_are_explained():
    """Are scores made infinite by log(0) (reconstructions of exactly 0 or 1) told to clip as Keras does?"""
    def unclipped(images, reconstructions):
        p, q = (np.asarray(a, dtype=np.float64).reshape(len(images), -1) for a in (images, reconstructions))
        with np.errstate(divide="ignore", invalid="ignore"):
            return -np.mean(p * np.log(q) + (1 - p) * np.log(1 - q), axis=1)

    with pytest.raises(CheckFailed, match=r"clip the reconstructions to \[1e-7"):
        checks.check_anomaly_scores(unclipped)


def test_a_list_of_scores_is_accepted(capsys):
    """Is a list of the right scores as good as an array (the notebook only ranks and plots them)?"""
    checks.check_anomaly_scores(lambda x, r: list(anomaly.reconstruction_errors(x, r, kind="excess")))
    assert "✅" in capsys.readouterr().out


# --- Exercise 5: the threshold ------------------------------------------------------------------------

def test_threshold_check(capsys):
    """Does the threshold check pass the (1 - rate) quantile and explain the rate itself used as a quantile?"""
    checks.check_threshold(lambda scores, rate: float(np.quantile(scores, 1 - rate)))
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="quantile"):
        checks.check_threshold(lambda scores, rate: float(np.quantile(scores, rate)))


def test_a_threshold_from_sorted_scores_passes(capsys):
    """Is another way to the same share of normal images (sorting, then indexing) accepted?"""
    checks.check_threshold(lambda scores, rate: float(np.sort(scores)[int(round((1 - rate) * len(scores)))]))
    assert "✅" in capsys.readouterr().out


def test_a_threshold_that_ignores_the_rate_is_refused():
    """Is mean + 2 standard deviations, which flags about 5 % whatever rate is asked, refused?"""
    with pytest.raises(CheckFailed, match="share of 1000 normal scores"):
        checks.check_threshold(lambda scores, rate: float(np.mean(scores) + 2 * np.std(scores)))


# --- the grader's side: the same rules on exported data -------------------------------------------

def judged(folder, exercise, observed: dict, inputs: dict = INPUTS, expected: dict | None = None) -> list[str]:
    folder.mkdir(exist_ok=True)
    save_observation(folder, observed)
    return judge(exercise, Exported(folder), inputs, expected or {})


def test_the_grader_draws_fresh_inputs_for_each_run():
    """Do two grading runs (two seeds) apply the answers to different inputs, and one seed to the same ones?"""
    other, again = rules.make_inputs(np.random.default_rng(1)), rules.make_inputs(np.random.default_rng(0))
    assert sorted(other) == sorted(INPUTS)
    assert all(np.array_equal(INPUTS[name], again[name]) for name in INPUTS)
    assert not np.array_equal(INPUTS["probe_test_codes"], other["probe_test_codes"])
    assert not np.array_equal(INPUTS["ratio_dims"], other["ratio_dims"])


def test_the_ratio_rule_passes_only_the_right_values(tmp_path):
    """Does the rule pass input_dim / latent and fail integer division, on exported data?"""
    latents, dims = INPUTS["ratio_latents"].tolist(), INPUTS["ratio_dims"].tolist()
    for name, ratio in (("right", lambda a, b: a / b), ("integer", lambda a, b: float(a // b))):
        folder = tmp_path / name
        observed = {"callable": True,
                    "default": [{"kind": "float", "value": ratio(784, k)} for k in latents],
                    "given": [{"kind": "float", "value": ratio(d, k)} for k, d in zip(latents, dims)]}
        failures = judged(folder, rules.RATIO, observed)
        assert (failures == []) == (name == "right"), failures


def test_the_probe_rule_wants_the_accuracy_the_rule_computes(tmp_path):
    """Does the rule pass the share of unchanged test labels (what a probe fitted on the training codes scores)
    and fail the training accuracy, 1.0?"""
    accuracy = float(np.mean(INPUTS["probe_test_labels"] == INPUTS["probe_test_clusters"]))
    for name, noisy in (("right", accuracy), ("training", 1.0)):
        folder = tmp_path / name
        observed = {"callable": True, "noisy": {"kind": "float", "value": noisy},
                    "relabelled": {"kind": "float", "value": 0.0}, "xor": {"kind": "float", "value": 0.5}}
        failures = judged(folder, rules.PROBE, observed)
        assert (failures == []) == (name == "right"), failures


def test_the_scores_rule_passes_the_excess_and_fails_plain_bce(tmp_path):
    """Does the rule pass each image's excess and fail its plain BCE, on exported data?"""
    images, reconstructions = INPUTS["score_images"], INPUTS["score_reconstructions"]
    for kind in ("excess", "bce"):
        folder = tmp_path / kind
        observed = {"callable": True, "scores": anomaly.reconstruction_errors(images, reconstructions, kind=kind)}
        failures = judged(folder, rules.SCORES, observed)
        assert (failures == []) == (kind == "excess"), failures


def test_the_threshold_rule_judges_the_share_flagged(tmp_path):
    """Does the rule pass the (1 - rate) quantile and fail the rate quantile, on exported data?"""
    normal, rates = INPUTS["normal_scores"], INPUTS["false_alarm_rates"]
    for name, quantile in (("right", lambda rate: 1 - rate), ("rate", lambda rate: rate)):
        folder = tmp_path / name
        thresholds = [{"kind": "float", "value": float(np.quantile(normal, quantile(rate)))} for rate in rates]
        observed = {"callable": True, "thresholds": thresholds}
        failures = judged(folder, rules.THRESHOLD, observed)
        assert (failures == []) == (name == "right"), failures


def test_the_encoder_rule_recomputes_the_codes_from_the_exported_weights(tmp_path):
    """Does the rule pass an encoder's export as it is, and fail the same export with its codes changed, or with
    codes that do not come from its weights?"""
    observed = rules.observe_encoder({"encoder": lab3_encoder()}, INPUTS)
    assert judged(tmp_path / "as-is", rules.ENCODER, observed) == []
    shifted = {**observed, "codes": observed["codes"] + 0.5}
    assert "the encoder's codes" in judged(tmp_path / "shifted", rules.ENCODER, shifted)[0]
    reweighted = {**observed, "w0": observed["w0"] * 2}
    assert "the encoder's codes" in judged(tmp_path / "reweighted", rules.ENCODER, reweighted)[0]


@pytest.mark.parametrize("exercise, observed", [
    (rules.RATIO, {"callable": True, "default": "49", "given": [1, 2]}),
    (rules.RATIO, {"callable": True, "default": [{"kind": "float", "value": "49"}] * 4, "given": []}),
    (rules.PROBE, {"callable": True, "noisy": [0.5], "relabelled": None, "xor": {}}),
    (rules.SCORES, {"callable": True, "scores": np.zeros((2, 3, 4))}),
    (rules.THRESHOLD, {"callable": "yes", "thresholds": [{"kind": "float", "value": True}] * 2}),
    (rules.ENCODER, {"model": {"inputs": [[None, 28, 28, 1]], "outputs": [[None, 16]], "layers": "many"}}),
    (rules.ENCODER, {"model": {"inputs": [[None, 28, 28, 1]], "outputs": [[None, 16]],
                               "layers": [{"class": "Dense", "name": "code", "units": 16, "activation": "linear",
                                           "policy": "int8_from_float32"}]}}),
])
def test_forged_or_malformed_data_is_a_problem_never_a_crash(tmp_path, exercise, observed):
    """Do exported values of the wrong type, shape or precision give a problem for the student, never an
    exception?"""
    failures = judged(tmp_path, exercise, observed)
    assert len(failures) == 1 and isinstance(failures[0], str) and failures[0]
