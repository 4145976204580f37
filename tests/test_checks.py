"""The self-checks must pass correct work and explain wrong work in plain words."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from labkit import checks, models
from labkit.checks import CheckFailed

X = np.random.default_rng(0).random((600, 784), dtype=np.float32)


def reference_preprocess(images):
    return images.reshape(len(images), -1).astype("float32") / 255.0


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
    (lambda im: im.reshape(-1)[:784 * 2].reshape(2, 784).astype("float32") / 255, "(3, 784)"),
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


def pairs(x, shuffle=True, batch=256, targets=None):
    ds = tf.data.Dataset.from_tensor_slices((x, x if targets is None else targets))
    if shuffle:
        ds = ds.shuffle(len(x), seed=1)
    return ds.batch(batch)


def test_correct_pipelines_pass():
    """Do a shuffled training pipeline and an ordered test pipeline both pass?"""
    checks.check_pipeline(pairs(X), X)
    checks.check_pipeline(pairs(X, shuffle=False), X, shuffled=False)


@pytest.mark.parametrize("dataset, message", [
    (lambda: pairs(X, shuffle=False), "shuffle"),
    (lambda: pairs(X, batch=32), "first batch's size"),
    (lambda: pairs(X, targets=X[::-1].copy()), "same image as its input"),
    (lambda: tf.data.Dataset.from_tensor_slices(X).batch(256), r"\(input, target\) pairs"),
    (lambda: X, "tf.data.Dataset"),
])
def test_wrong_pipelines_are_explained(dataset, message):
    """Are an unshuffled, mis-batched, wrongly-targeted or unpaired pipeline each explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_pipeline(dataset(), X)


def test_lab_model_passes_every_model_check(capsys):
    """Does the reference model pass the encoder, decoder, autoencoder and compile checks?"""
    autoencoder, encoder, decoder = models.dense_autoencoder()
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    checks.check_encoder(encoder)
    checks.check_decoder(decoder)
    checks.check_autoencoder(autoencoder)
    checks.check_compiled(autoencoder)
    assert capsys.readouterr().out.count("✅") == 4


def test_wrong_code_size_is_explained():
    """Does an encoder with a 16-number code get told the expected (None, 32)?"""
    _, encoder, _ = models.dense_autoencoder(latent=16)
    with pytest.raises(CheckFailed, match=r"\(None, 32\).*\(None, 16\)"):
        checks.check_encoder(encoder)


def test_decoder_without_sigmoid_is_explained():
    """Is a linear output layer caught with the reason a sigmoid is needed?"""
    _, _, decoder = models.dense_autoencoder(output_activation="linear")
    with pytest.raises(CheckFailed, match="sigmoid"):
        checks.check_decoder(decoder)


def test_wrong_parameter_count_is_explained():
    """Does an autoencoder with a 64-unit hidden layer fail on its parameter count?"""
    autoencoder, _, _ = models.dense_autoencoder(hidden=64)
    with pytest.raises(CheckFailed, match="209,968"):
        checks.check_autoencoder(autoencoder)


def test_not_a_model_is_explained():
    """Is a layer handed in where a model is expected explained?"""
    with pytest.raises(CheckFailed, match="keras.Model"):
        checks.check_encoder(layers.Dense(32))


@pytest.mark.parametrize("optimizer, loss, message", [
    ("sgd", "binary_crossentropy", "optimizer"),
    ("adam", "mse", "binary_crossentropy"),
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


def test_loss_targets_full_and_quick(monkeypatch):
    """Is the full-scale target enforced, and in quick mode only the mean-image baseline?"""
    checks.expect_loss_at_most(0.087, 0.088, baseline=0.26)
    with pytest.raises(CheckFailed, match="at most 0.088"):
        checks.expect_loss_at_most(0.09, 0.088, baseline=0.26)
    monkeypatch.setenv("LABKIT_QUICK", "1")
    checks.expect_loss_at_most(0.2, 0.088, baseline=0.26)
    with pytest.raises(CheckFailed, match="baseline"):
        checks.expect_loss_at_most(0.27, 0.088, baseline=0.26)
