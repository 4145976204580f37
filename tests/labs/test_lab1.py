"""Lab 1's self-checks (labkit.labs.lab1.checks) and rules (labkit.labs.lab1.rules): correct work passes, wrong
work is explained in plain words, and the grader's side judges exported data the same way."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from labkit import checks, models
from labkit.checks import CheckFailed, judge
from labkit.grading.exchange import Exported, save_observation
from labkit.labs.lab1 import rules

X = np.random.default_rng(0).random((600, 784), dtype=np.float32)


def reference_preprocess(images):
    return np.asarray(images).reshape(len(images), -1).astype("float32") / 255.0


def test_correct_preprocess_passes(capsys):
    """Does a correct preprocess get a ✅?"""
    checks.check_preprocess(reference_preprocess)
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize("wrong, message", [
    (lambda im: im.astype("float32") / 255.0, "Flatten each 28×28 image"),
    (lambda im: im.reshape(len(im), -1) / 255.0, "float32"),
    (lambda im: im.reshape(len(im), -1).astype("float32"), "Divide the pixels by 255"),
    (lambda im: im.reshape(len(im), -1).astype("float32") / 256.0, "not 256"),
    (lambda im: list(im), "a NumPy array"),
    (lambda im: im.reshape(len(im), -1)[:, :392].astype("float32") / 255, "(7, 784)"),
    (lambda im: im.transpose(0, 2, 1).reshape(len(im), -1).astype("float32") / 255.0, "in the original order"),
])
def test_wrong_preprocess_is_explained(wrong, message):
    """Does each typical mistake get a message that names it and says what to do?"""
    with pytest.raises(CheckFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        checks.check_preprocess(wrong)


def test_preprocess_that_modifies_its_input_is_caught():
    """Is scaling the caller's array in place reported?"""
    def in_place(images):
        images //= 2
        return images.reshape(len(images), -1).astype("float32") / 255.0
    with pytest.raises(CheckFailed, match="modified in place"):
        checks.check_preprocess(in_place)


def test_not_a_function_is_explained():
    """Is a value handed in where a function is expected explained?"""
    with pytest.raises(CheckFailed, match="a function"):
        checks.check_preprocess(np.zeros(3))


def pairs(x, shuffle=True, batch=256, targets=None, prefetch=True, **shuffle_options):
    ds = tf.data.Dataset.from_tensor_slices((x, x if targets is None else targets))
    if shuffle:
        ds = ds.shuffle(len(x), seed=1, **shuffle_options)
    ds = ds.batch(batch)
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds


def test_correct_pipelines_pass(capsys):
    """Do a shuffled, prefetched training pipeline and an ordered test pipeline both pass?"""
    checks.check_pipeline(pairs(X), X)
    checks.check_pipeline(pairs(X, shuffle=False), X, shuffled=False)
    assert capsys.readouterr().out.count("✅") == 2


@pytest.mark.parametrize("dataset, message", [
    (lambda: pairs(X, shuffle=False), "shuffle"),
    (lambda: pairs(X, batch=32), "batches of 256"),
    (lambda: pairs(X, targets=X[::-1].copy()), "same image as its input"),
    (lambda: tf.data.Dataset.from_tensor_slices(X).batch(256), r"\(input, target\) pairs"),
    (lambda: X, "tf.data.Dataset"),
    (lambda: pairs(X, prefetch=False), r"prefetch\(tf.data.AUTOTUNE\)"),
    (lambda: pairs(X, reshuffle_each_iteration=False), "a new order each pass"),
    (lambda: pairs(X).unbatch().batch(256, drop_remainder=True), "drop_remainder"),
])
def test_wrong_pipelines_are_explained(dataset, message):
    """Are an unshuffled, mis-batched, wrongly-targeted, unpaired, unprefetched, never-reshuffled or remainder-
    dropping pipeline each explained (the grader's own requirements)?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_pipeline(dataset(), X)


def test_lab_model_passes_every_model_check(capsys):
    """Does the reference model pass the encoder, decoder, autoencoder and compile checks?"""
    autoencoder, encoder, decoder = models.dense_autoencoder()
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    checks.check_encoder(encoder)
    checks.check_decoder(decoder)
    checks.check_autoencoder(autoencoder)
    checks.check_autoencoder(autoencoder, encoder, decoder)
    checks.check_compiled(autoencoder)
    assert capsys.readouterr().out.count("✅") == 5


def test_wrong_code_size_is_explained():
    """Does an encoder with a 16-number code get told the expected (None, 32)?"""
    _, encoder, _ = models.dense_autoencoder(latent=16)
    with pytest.raises(CheckFailed, match=r"\(None, 32\).*\(None, 16\)"):
        checks.check_encoder(encoder)


def test_a_wrong_activation_anywhere_is_caught():
    """Is a sigmoid code (the second activation, which the old check never looked at) caught, like a linear
    output layer?"""
    _, encoder, _ = models.dense_autoencoder(latent_activation="sigmoid")
    with pytest.raises(CheckFailed, match="activation"):
        checks.check_encoder(encoder)
    _, _, decoder = models.dense_autoencoder(output_activation="linear")
    with pytest.raises(CheckFailed, match="sigmoid"):
        checks.check_decoder(decoder)


def test_wrong_parameter_count_is_explained():
    """Does an autoencoder with a 64-unit hidden layer fail on its parameter count?"""
    autoencoder, _, _ = models.dense_autoencoder(hidden=64)
    with pytest.raises(CheckFailed, match="209,968"):
        checks.check_autoencoder(autoencoder)


def test_an_autoencoder_of_new_layers_is_refused():
    """Is an autoencoder of the right shape but its own new layers refused when given the encoder and decoder?"""
    autoencoder, _, _ = models.dense_autoencoder()
    _, encoder, decoder = models.dense_autoencoder()
    with pytest.raises(CheckFailed, match="built from encoder and decoder"):
        checks.check_autoencoder(autoencoder, encoder, decoder)


def test_not_a_model_is_explained():
    """Is a layer handed in where a model is expected explained?"""
    with pytest.raises(CheckFailed, match="keras.Model"):
        checks.check_encoder(layers.Dense(32))


@pytest.mark.parametrize("optimizer, loss, message", [
    ("sgd", "binary_crossentropy", "optimizer"),
    ("adam", "mse", "binary cross-entropy"),
])
def test_wrong_compile_is_explained(optimizer, loss, message):
    """Are a wrong optimizer and a wrong loss each named?"""
    autoencoder, _, _ = models.dense_autoencoder()
    autoencoder.compile(optimizer=optimizer, loss=loss)
    with pytest.raises(CheckFailed, match=message):
        checks.check_compiled(autoencoder)


def test_uncompiled_model_is_explained():
    """Is a model that was never compiled told to call compile?"""
    autoencoder, _, _ = models.dense_autoencoder()
    with pytest.raises(CheckFailed, match="compile"):
        checks.check_compiled(autoencoder)


def test_the_count_of_dense_parameters():
    """Is the Lab 1 autoencoder's parameter count the sum of its layers' weights and biases?"""
    assert checks.count_dense_params(784, 128, 32, 128, 784) == 209_968


# --- the grader's side: the same rules on exported data -------------------------------------------

def judged(tmp_path, exercise, observed: dict, inputs: dict, expected: dict | None = None) -> list[str]:
    save_observation(tmp_path, observed)
    return judge(exercise, Exported(tmp_path), inputs, expected or {})


def test_the_preprocess_rule_passes_only_the_right_values(tmp_path):
    """Does the rule pass x / 255 as float32 and fail the unscaled pixels, on exported data?"""
    inputs = rules.make_inputs(np.random.default_rng(0))
    images = inputs["images"]
    right = images.reshape(len(images), -1).astype(np.float32) / 255
    for name, output in (("right", right), ("unscaled", images.reshape(len(images), -1).astype(np.float32))):
        folder = tmp_path / name
        folder.mkdir()
        observed = {"callable": True, "images_after": images, "output": output, "output_one": output[:1]}
        failures = judged(folder, rules.PREPROCESS, observed, inputs)
        assert (failures == []) == (name == "right"), failures


def test_the_compile_rule_tells_binary_cross_entropy_from_mse(tmp_path):
    """Does the rule accept the loss BCE gives on the grader's batch, and refuse MSE's?"""
    inputs = rules.make_inputs(np.random.default_rng(0))
    prediction = np.random.default_rng(1).random(inputs["targets"].shape, dtype=np.float32)
    p, t = prediction.astype(np.float64), inputs["targets"].astype(np.float64)
    for name, loss in (("bce", np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)))), ("mse", np.mean((p - t) ** 2))):
        folder = tmp_path / name
        folder.mkdir()
        observed = {"optimizer": "Adam", "compiled": True, "loss": np.array([loss]), "prediction": prediction}
        assert (judged(folder, rules.COMPILED, observed, inputs) == []) == (name == "bce")


def test_forged_or_malformed_data_is_a_problem_never_a_crash(tmp_path):
    """Do exported values of the wrong type or shape give a problem for the student, not an exception?"""
    inputs = rules.make_inputs(np.random.default_rng(0))
    observed = {"callable": "yes", "images_after": np.zeros(3), "output": np.zeros((2, 2))}
    failures = judged(tmp_path, rules.PREPROCESS, observed, inputs)
    assert len(failures) == 1 and "callable" in failures[0]
