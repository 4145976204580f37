"""Lab 2's self-checks (labkit.labs.lab2.checks) and rules (labkit.labs.lab2.rules): correct work passes, wrong
work is explained in plain words, and the grader's side judges exported data the same way."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from labkit import checks, data, models
from labkit.checks import CheckFailed, judge
from labkit.grading.exchange import Exported, save_observation
from labkit.labs.lab2 import grading, rules


@pytest.fixture
def policy():
    """``policy("mixed_bfloat16")`` sets Keras's global dtype policy for the test, as the notebook's setup does."""
    previous = keras.config.dtype_policy()
    yield keras.config.set_dtype_policy
    keras.config.set_dtype_policy(previous)


# --- Exercise 1: Gaussian noise ---------------------------------------------------------------------

def lab2_noise(images, factor, seed):
    rng = np.random.default_rng(seed)
    return np.clip(images + factor * rng.normal(size=images.shape), 0, 1).astype("float32")


def legacy_noise(images, factor, seed):
    np.random.seed(seed)
    return np.clip(images + np.random.normal(0.0, factor, images.shape), 0, 1).astype("float32")


@pytest.mark.parametrize("add_noise", [lab2_noise, legacy_noise])
def test_correct_gaussian_noise_passes(capsys, add_noise):
    """Does a correct add_noise get a ✅, whichever seeded generator draws its noise?"""
    checks.check_gaussian_noise(add_noise)
    assert capsys.readouterr().out.startswith("✅")


def _in_place_noise(images, factor, seed):
    images += 0.0 * factor
    images[0, 0, 0, 0] = 1.0
    return lab2_noise(images, factor, seed)


@pytest.mark.parametrize("wrong, message", [
    (lambda im, f, s: (im + f * np.random.default_rng(s).normal(size=im.shape)).astype("float32"), "clipped"),
    (lambda im, f, s: np.clip(im + f * np.random.default_rng(s).uniform(-1, 1, im.shape), 0, 1).astype("float32"),
     "normal distribution"),
    (lambda im, f, s: np.clip(im + f**2 * np.random.default_rng(s).normal(size=im.shape), 0, 1).astype("float32"),
     "factor squared"),
    (lambda im, f, s: np.clip(im + f * np.random.default_rng(0).normal(size=im.shape), 0, 1).astype("float32"),
     "different seeds"),
    (lambda im, f, s: np.clip(im + f * np.random.normal(size=im.shape), 0, 1).astype("float32"), "same seed"),
    (lambda im, f, s: np.clip(im + f * np.random.default_rng(s).normal(size=im.shape), 0, 1), "float32"),
    (lambda im, f, s: im.copy(), "no noise"),
    (lambda im, f, s: np.clip(im + f * np.random.default_rng(s).normal(size=(len(im), 1, 1, 1)), 0, 1)
     .astype("float32"), "one value per image"),
    (lambda im, f, s: np.clip(im + f * np.random.default_rng(s).normal(size=im.shape[1:]), 0, 1).astype("float32"),
     "same noise pattern on every image"),
    (lambda im, f, s: np.clip(im * (1 + f * np.random.default_rng(s).normal(size=im.shape)), 0, 1).astype("float32"),
     "not a multiple of them"),
    (lambda im, f, s: np.clip(im + 2 * f * np.random.default_rng(s).normal(size=im.shape), 0, 1).astype("float32"),
     "mean 0 and standard deviation"),
    (_in_place_noise, "modified in place"),
    (lambda im, f, s: None, "a NumPy array"),
    (lambda im, f, s: lab2_noise(im, f, s)[:, :14], "shape"),
])
def test_wrong_gaussian_noise_is_explained(wrong, message):
    """Does each typical mistake in the noise function get a message that names it?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_gaussian_noise(wrong)


def test_not_a_function_is_explained():
    """Is a value handed in where the noise function is expected explained?"""
    with pytest.raises(CheckFailed, match="a function"):
        checks.check_gaussian_noise(np.zeros(3))


# --- Exercises 2 and 3: the encoder and the decoder -----------------------------------------------------

def test_lab_denoiser_passes_every_lab2_model_check(capsys):
    """Do the builder's encoder, decoder and autoencoder pass their checks?"""
    autoencoder, encoder, decoder = models.conv_denoiser()
    checks.check_denoiser_encoder(encoder)
    checks.check_denoiser_decoder(decoder)
    checks.check_denoiser(autoencoder)
    assert capsys.readouterr().out.count("✅") == 3


def _encoder(strides=(1, 2, 2), padding="same", flatten=True, last_dtype=None, activation="relu"):
    image = keras.Input(shape=(28, 28, 1))
    h = image
    for units, stride in zip((32, 64, 128), strides):
        h = layers.Conv2D(units, 3, strides=stride, padding=padding, activation=activation)(h)
        if activation is None:
            h = layers.ReLU()(h)
    return keras.Model(image, layers.Flatten(dtype=last_dtype)(h) if flatten else h)


def test_an_encoder_with_separate_relu_layers_passes(capsys):
    """Is the encoder judged by what it computes: do Conv2D layers followed by ReLU layers pass?"""
    checks.check_denoiser_encoder(_encoder(activation=None))
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize("encoder, message", [
    (lambda: _encoder(flatten=False), "Flatten"),
    (lambda: _encoder(strides=(2, 2, 1)), "strides"),
    (lambda: _encoder(padding="valid"), "padding='same'"),
    (lambda: _encoder(activation="sigmoid"), "ReLU convolutions"),
    (lambda: models.dense_autoencoder()[1], "input shape"),
    (lambda: layers.Conv2D(32, 3), "keras.Model"),
])
def test_wrong_denoiser_encoder_is_explained(encoder, message):
    """Are a missing Flatten, misplaced strides, valid padding, sigmoid units, a dense encoder and a bare layer each
    explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_denoiser_encoder(encoder())


def _decoder(output_activation="sigmoid", first=64, last_dtype=None, target=(7, 7, 128)):
    features = keras.Input(shape=(6272,))
    h = layers.Reshape(target)(features)
    h = layers.Conv2DTranspose(first, 3, strides=2, padding="same", activation="relu")(h)
    h = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(h)
    return keras.Model(features, layers.Conv2D(1, 3, padding="same", activation=output_activation,
                                               dtype=last_dtype)(h))


@pytest.mark.parametrize("decoder, message", [
    (lambda: _decoder(output_activation="relu"), "sigmoid"),
    (lambda: _decoder(first=128), "Conv2DTranspose 64 and 32"),
    (lambda: _decoder(target=(7, 128, 7)), "output shape"),
])
def test_wrong_denoiser_decoder_is_explained(decoder, message):
    """Are a ReLU output, wrong filter counts and a wrong Reshape explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_denoiser_decoder(decoder())


def test_an_autoencoder_that_is_not_decoder_of_encoder_is_explained():
    """Is an autoencoder that is the encoder alone explained, and one that skips the encoder's last layer refused?"""
    _, encoder, decoder = models.conv_denoiser()
    image = keras.Input(shape=(28, 28, 1))
    with pytest.raises(CheckFailed, match=r"decoder\(encoder\(image\)\)"):
        checks.check_denoiser(keras.Model(image, encoder(image)))
    h = image
    for layer in encoder.layers[1:3]:
        h = layer(h)
    h = layers.Conv2D(128, 3, strides=2, padding="same")(h)  # a new, linear last convolution
    with pytest.raises(CheckFailed, match=r"decoder\(encoder\(image\)\)"):
        checks.check_denoiser(keras.Model(image, decoder(layers.Flatten()(h))))


def test_a_bfloat16_output_is_explained_and_float32_output_layers_pass(capsys, policy):
    """Under the mixed bfloat16 policy, do an encoder and decoder whose last layers compute in bfloat16 fail
    with a message naming dtype="float32", and pass once those layers are float32?"""
    policy("mixed_bfloat16")
    encoder, decoder = _encoder(), _decoder()
    fixed_encoder, fixed_decoder = _encoder(last_dtype="float32"), _decoder(last_dtype="float32")
    with pytest.raises(CheckFailed,
                       match=r'output dtype: expected float32; found bfloat16.*Flatten\(dtype="float32"\)'):
        checks.check_denoiser_encoder(encoder)
    with pytest.raises(CheckFailed, match=r'output dtype: expected float32; found bfloat16.*dtype="float32"'):
        checks.check_denoiser_decoder(decoder)
    checks.check_denoiser_encoder(fixed_encoder)
    checks.check_denoiser_decoder(fixed_decoder)
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16", "mixed_float16"])
def test_the_models_pass_in_every_precision_and_a_wrong_one_fails(monkeypatch, capsys, precision):
    """In each precision the kit may compute in, does the builder's denoiser pass, and a wrong activation still
    fail?"""
    monkeypatch.setenv("LABKIT_PRECISION", precision)
    autoencoder, encoder, decoder = models.conv_denoiser()
    checks.check_denoiser_encoder(encoder)
    checks.check_denoiser_decoder(decoder)
    checks.check_denoiser(autoencoder)
    assert capsys.readouterr().out.count("✅") == 3
    with pytest.raises(CheckFailed, match="ReLU convolutions"):
        checks.check_denoiser_encoder(models.conv_denoiser(activation="tanh")[1])


@pytest.mark.parametrize("stride", [1, 2])
def test_the_numpy_convolutions_compute_what_keras_computes(stride):
    """Do the rules' NumPy Conv2D and Conv2DTranspose ('same' padding) give what Keras's layers give?"""
    rng = np.random.default_rng(0)
    x = rng.random((2, 14, 14, 3), dtype=np.float32)
    for layer, function in ((layers.Conv2D(5, 3, strides=stride, padding="same"), rules.conv2d),
                            (layers.Conv2DTranspose(5, 3, strides=stride, padding="same"), rules.conv2d_transpose)):
        layer.build(x.shape)
        layer.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in layer.get_weights()])
        kernel, bias = layer.get_weights()
        np.testing.assert_allclose(function(x.astype(np.float64), kernel, bias, stride), np.asarray(layer(x)),
                                   rtol=1e-5, atol=1e-5)


# --- Exercise 4: (noisy, clean) pairs ---------------------------------------------------------------

CLEAN = np.random.default_rng(1).random((300, 28, 28, 1), dtype=np.float32)
NOISY = np.clip(CLEAN + np.random.default_rng(2).normal(0, 0.5, CLEAN.shape), 0, 1).astype(np.float32)


def _pairs(inputs, targets, shuffle=True, **options):
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets))
    return (ds.shuffle(len(inputs), seed=1, **options) if shuffle else ds).batch(128)


def test_correct_denoising_pipelines_pass(capsys):
    """Do labkit's pipeline of (noisy, clean) and an ordered validation pipeline pass?"""
    checks.check_denoising_pipeline(data.pipeline(NOISY, CLEAN, batch_size=128), NOISY, CLEAN)
    checks.check_denoising_pipeline(_pairs(NOISY, CLEAN, shuffle=False), NOISY, CLEAN, shuffled=False)
    assert capsys.readouterr().out.count("✅") == 2


def _separately_shuffled():
    a = tf.data.Dataset.from_tensor_slices(NOISY).shuffle(300, seed=1)
    b = tf.data.Dataset.from_tensor_slices(CLEAN).shuffle(300, seed=2)
    return tf.data.Dataset.zip((a, b)).batch(128)


@pytest.mark.parametrize("dataset, shuffled, message", [
    (lambda: _pairs(CLEAN, NOISY), True, "the noisy images"),
    (lambda: _pairs(CLEAN, CLEAN), True, "Feed the noisy images"),
    (_separately_shuffled, True, "Shuffle the pairs together"),
    (lambda: _pairs(NOISY, CLEAN, shuffle=False), True, "shuffle=True"),
    (lambda: _pairs(NOISY, CLEAN), False, "shuffle=False"),
    (lambda: _pairs(NOISY, CLEAN, reshuffle_each_iteration=False), True, "a new order each pass"),
    (lambda: _pairs(NOISY.reshape(300, 784), CLEAN.reshape(300, 784)), True, "flatten=False"),
    (lambda: _pairs(NOISY, CLEAN).unbatch().batch(128, drop_remainder=True), True, "drop_remainder"),
    (lambda: _pairs(NOISY[:200], CLEAN[:200]), True, "3 batches of 128"),
    (lambda: NOISY, True, "tf.data.Dataset"),
])
def test_wrong_denoising_pipeline_is_explained(dataset, shuffled, message):
    """Are swapped inputs and targets, clean inputs, unpaired shuffling, the wrong order, the same order every pass,
    flat images, dropped or missing pairs and a plain array explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_denoising_pipeline(dataset(), NOISY, CLEAN, shuffled=shuffled)


# --- the grader's side: the same rules on exported data -------------------------------------------

def judged(tmp_path, exercise, observed: dict, inputs: dict, expected: dict | None = None) -> list[str]:
    save_observation(tmp_path, observed)
    return judge(exercise, Exported(tmp_path), inputs, expected or {})


def test_the_noise_rule_passes_only_the_noise_it_can_account_for(tmp_path):
    """Does the rule pass noise computed by hand, on exported data, and refuse the same noise doubled on the
    brighter images (noise that is not what the grey image showed)?"""
    inputs = rules.make_inputs(np.random.default_rng(3))
    (small, large), (first, second) = inputs["noise_factors"], inputs["noise_seeds"]
    grey, images = inputs["noise_grey"], inputs["noise_images"]

    def noisy(x, factor, seed):
        return np.clip(x + factor * np.random.default_rng(seed).standard_normal(x.shape), 0, 1).astype(np.float32)

    right = {"callable": True, "grey.output": noisy(grey, small, first), "again.output": noisy(grey, small, first),
             "other_seed.output": noisy(grey, small, second), "images.output": noisy(images, small, first),
             "large.output": noisy(images, large, first), "zero.output": images.copy(),
             "noise_grey.after": grey, "noise_images.after": images}
    wrong = {**right, "large.output": noisy(images, 2 * large, first)}
    for name, observed in (("right", right), ("wrong", wrong)):
        folder = tmp_path / name
        folder.mkdir()
        failures = judged(folder, rules.NOISE, observed, inputs)
        assert (failures == []) == (name == "right"), failures


def _model_observation(model, name: str, probe: np.ndarray, scale: float = 1.0, dtypes=None) -> dict:
    observed = rules.observe_model(name, model, probe)
    observed[f"{name}.prediction"] = (observed[f"{name}.prediction"] * np.float32(scale)).astype(np.float32)
    if dtypes is not None:
        observed[f"{name}.model"]["compute_dtypes"] = dtypes
    return observed


@pytest.mark.parametrize("dtypes, scale, passes", [
    (["float32"], 1.0, True), (["float32"], 1.01, False), (["bfloat16"], 1.01, True), (["bfloat16"], 1.2, False),
])
def test_the_encoder_rule_allows_bfloat16_rounding_but_not_more(tmp_path, monkeypatch, dtypes, scale, passes):
    """Is an encoder's output 1 % off its reference refused in float32 but allowed when its layers compute in
    bfloat16 (8 significant bits), and 20 % off refused in either?"""
    monkeypatch.setenv("LABKIT_PRECISION", "float32")  # outputs computed exactly; the declared dtypes vary
    inputs = rules.make_inputs(np.random.default_rng(4))
    encoder = models.conv_denoiser()[1]
    observed = _model_observation(encoder, "encoder", inputs["probe"], scale, dtypes)
    assert (judged(tmp_path, rules.ENCODER, observed, inputs) == []) == passes


def test_the_train_pairs_rule_judges_the_datasets_and_the_compiled_model_together(tmp_path):
    """Does the grader's rule for the last exercise report a wrong pipeline and a wrong loss, each by name?"""
    noisy, clean = NOISY[:200], CLEAN[:200]
    autoencoder = models.conv_denoiser()[0]
    autoencoder.compile(optimizer="adam", loss="mse")
    inputs = rules.make_inputs(np.random.default_rng(5))
    objects = {"train_ds": _pairs(noisy, clean, shuffle=False), "val_ds": _pairs(noisy, clean, shuffle=False),
               "autoencoder": autoencoder}
    expected = {"datasets": {"train_ds": {"inputs": noisy, "targets": clean, "shuffled": True, "batch_size": 128},
                             "val_ds": {"inputs": noisy, "targets": clean, "shuffled": False, "batch_size": 128}},
                "compiled": {"optimizer": "adam"}}
    failures = judged(tmp_path, rules.TRAIN_PAIRS, rules.observe_train_pairs(objects, inputs), inputs, expected)
    assert len(failures) == 2 and failures[0].startswith("train_ds: the training batches"), failures
    assert "binary cross-entropy" in failures[1]


def test_forged_or_malformed_data_is_a_problem_never_a_crash(tmp_path):
    """Do exported values of the wrong type or shape give a problem for the student, not an exception?"""
    inputs = rules.make_inputs(np.random.default_rng(0))
    for number, (exercise, observed) in enumerate([
        (rules.NOISE, {"callable": True, "noise_grey.after": np.zeros(3), "grey.output": np.zeros((2, 2))}),
        (rules.ENCODER, {"encoder.model": {"inputs": [[None, 28, 28, 1]], "outputs": [[None, 6272]],
                                           "output_dtypes": ["float32"], "compute_dtypes": "bfloat16"},
                         "encoder.weights": 6, "encoder.params": 92_672, "encoder.w0": np.zeros(2)}),
        (rules.DECODER, {"decoder.model": ["not", "a", "mapping"]}),
        (rules.TRAIN_PAIRS, {"train_ds.element_spec": [{"shape": "x"}, 3], "train_ds.batches": "many"}),
    ]):
        folder = tmp_path / str(number)
        folder.mkdir()
        expected = grading.expected(exercise.grade_id, {name: CLEAN for name in ("x_train", "x_test", "x_train_noisy",
                                                                               "x_test_noisy")})
        failures = judged(folder, exercise, observed, inputs, expected)
        assert failures and all(isinstance(failure, str) for failure in failures), (exercise.grade_id, failures)


def test_prepare_in_the_sandbox_and_the_graders_reference_hold_the_same_images(monkeypatch):
    """Does prepare (quick mode, as in the sandbox) give the last exercise exactly the clean and noisy images the
    grader's reference judges its pipelines against, and an uncompiled denoiser?"""
    monkeypatch.setenv("LABKIT_QUICK", "1")
    namespace = {}
    grading.prepare("L2-train-pairs", namespace)
    reference = grading.reference()
    for name in ("x_train", "x_test", "x_train_noisy", "x_test_noisy"):
        assert np.array_equal(namespace[name], reference[name]), name
    assert not np.array_equal(reference["x_train"], reference["x_train_noisy"])
    autoencoder = namespace["autoencoder"]
    assert getattr(autoencoder, "optimizer", None) is None and autoencoder.output_shape == (None, 28, 28, 1)
