"""The self-checks must pass correct work and explain wrong work in plain words."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from labkit import checks, models
from labkit.checks import CheckFailed

X = np.random.default_rng(0).random((600, 784), dtype=np.float32)


# --- Lab 3 ---------------------------------------------------------------------------------------

def test_compression_ratio_check(capsys):
    """Does the ratio check pass 784 / k and explain integer division?"""
    checks.check_compression_ratio(lambda latent, input_dim=784: input_dim / latent)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="true division"):
        checks.check_compression_ratio(lambda latent, input_dim=784: input_dim // latent)
    with pytest.raises(CheckFailed, match="compression_ratio"):
        checks.check_compression_ratio(lambda latent, input_dim=784: latent / input_dim)


def lab3_encoder(latent=16, code_activation=None, bias=False):
    """The encoder as the Lab 3 solution builds it by hand, from the reference's sizes."""
    reference = models.conv_bottleneck_autoencoder(latent=latent)[1]
    small, large = reference.get_layer("enc_conv1").filters, reference.get_layer("enc_conv2").filters
    widths = [layer.units for layer in reference.layers if isinstance(layer, layers.Dense)][:-1]
    image = keras.Input(shape=(28, 28, 1))
    x = image
    for filters in (small, large):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=bias)(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
    x = layers.Flatten()(x)
    for units in widths:
        x = layers.Dense(units, use_bias=bias)(x)
        x = layers.Activation("relu")(layers.BatchNormalization()(x))
    code = layers.Dense(latent, activation=code_activation, name="code")(x)
    return keras.Model(image, code)


def test_hand_built_bottleneck_encoder_passes(capsys):
    """Does an encoder built as the lab describes pass the bottleneck check?"""
    checks.check_bottleneck_encoder(lab3_encoder(), latent=16)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, message", [
    ({"code_activation": "relu"}, "can die"),
    ({"bias": True}, "use_bias=False"),
    ({"latent": 8}, r"\(None, 16\)"),
])
def test_wrong_bottleneck_encoders_are_explained(kwargs, message):
    """Are a ReLU code, extra biases and a wrong code size each explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_bottleneck_encoder(lab3_encoder(**kwargs), latent=16)


def test_probe_check_passes_a_real_probe_and_catches_fitting_on_test_codes(capsys):
    """Does the probe check pass logistic regression fitted on training codes, and catch one fitted on test codes?"""
    from sklearn.linear_model import LogisticRegression

    def probe(train_codes, train_labels, test_codes, test_labels):
        return float(LogisticRegression(max_iter=1000).fit(train_codes, train_labels).score(test_codes, test_labels))

    def cheat(train_codes, train_labels, test_codes, test_labels):
        return float(LogisticRegression(max_iter=1000).fit(test_codes, test_labels).score(test_codes, test_labels))

    checks.check_probe(probe)
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="training codes only"):
        checks.check_probe(cheat)


def test_anomaly_score_check_wants_the_excess(capsys):
    """Does the score check pass the per-image excess and explain plain BCE?"""
    from labkit import anomaly

    checks.check_anomaly_scores(lambda x, r: anomaly.reconstruction_errors(x, r, kind="excess"))
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="own floor"):
        checks.check_anomaly_scores(lambda x, r: anomaly.reconstruction_errors(x, r, kind="bce"))
    with pytest.raises(CheckFailed, match="one score per image"):
        checks.check_anomaly_scores(lambda x, r: np.mean((x - r) ** 2))


def test_threshold_check(capsys):
    """Does the threshold check pass the (1 - rate) quantile and explain the rate itself used as a quantile?"""
    checks.check_threshold(lambda scores, rate: float(np.quantile(scores, 1 - rate)))
    assert "✅" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="quantile"):
        checks.check_threshold(lambda scores, rate: float(np.quantile(scores, rate)))


# --- Lab 2 ---------------------------------------------------------------------------------------

def lab2_noise(images, factor, seed):
    rng = np.random.default_rng(seed)
    return np.clip(images + factor * rng.normal(size=images.shape), 0, 1).astype("float32")


def test_correct_gaussian_noise_passes(capsys):
    """Does a correct add_noise get a ✅?"""
    checks.check_gaussian_noise(lab2_noise)
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
    (_in_place_noise, "modified in place"),
    (lambda im, f, s: None, "a NumPy array"),
])
def test_wrong_gaussian_noise_is_explained(wrong, message):
    """Does each typical mistake in the noise function get a message that names it?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_gaussian_noise(wrong)


def test_lab_denoiser_passes_every_lab2_model_check(capsys):
    """Do the builder's encoder, decoder and autoencoder pass their checks?"""
    autoencoder, encoder, decoder = models.conv_denoiser()
    checks.check_denoiser_encoder(encoder)
    checks.check_denoiser_decoder(decoder)
    checks.check_denoiser(autoencoder)
    assert capsys.readouterr().out.count("✅") == 3


def _encoder(strides=(1, 2, 2), padding="same", flatten=True, last_dtype=None):
    image = keras.Input(shape=(28, 28, 1))
    h = image
    for units, stride in zip((32, 64, 128), strides):
        h = layers.Conv2D(units, 3, strides=stride, padding=padding, activation="relu")(h)
    return keras.Model(image, layers.Flatten(dtype=last_dtype)(h) if flatten else h)


@pytest.mark.parametrize("encoder, message", [
    (_encoder(flatten=False), "Flatten"),
    (_encoder(strides=(2, 2, 1)), "strides"),
    (_encoder(padding="valid"), "padding='same'"),
    (models.dense_autoencoder()[1], "input shape"),
])
def test_wrong_denoiser_encoder_is_explained(encoder, message):
    """Are a missing Flatten, misplaced strides, valid padding and a dense encoder each explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_denoiser_encoder(encoder)


def _decoder(output_activation="sigmoid", first=64, last_dtype=None):
    features = keras.Input(shape=(6272,))
    h = layers.Reshape((7, 7, 128))(features)
    h = layers.Conv2DTranspose(first, 3, strides=2, padding="same", activation="relu")(h)
    h = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(h)
    return keras.Model(features, layers.Conv2D(1, 3, padding="same", activation=output_activation,
                                               dtype=last_dtype)(h))


@pytest.mark.parametrize("decoder, message", [
    (_decoder(output_activation="relu"), "sigmoid"),
    (_decoder(first=128), "64 then 32 filters"),
])
def test_wrong_denoiser_decoder_is_explained(decoder, message):
    """Are a ReLU output and wrong filter counts explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_denoiser_decoder(decoder)


def test_a_bfloat16_output_is_explained_and_float32_output_layers_pass(capsys):
    """Under the mixed bfloat16 policy, do an encoder and decoder whose last layers compute in bfloat16 fail
    with a message naming dtype="float32", and pass once those layers are float32?"""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        encoder, decoder = _encoder(), _decoder()
        fixed_encoder, fixed_decoder = _encoder(last_dtype="float32"), _decoder(last_dtype="float32")
    finally:
        keras.config.set_dtype_policy(previous)
    with pytest.raises(CheckFailed, match=r'output dtype: expected float32; found bfloat16.*Flatten\(dtype="float32"\)'):
        checks.check_denoiser_encoder(encoder)
    with pytest.raises(CheckFailed, match=r'output dtype: expected float32; found bfloat16.*dtype="float32"'):
        checks.check_denoiser_decoder(decoder)
    checks.check_denoiser_encoder(fixed_encoder)
    checks.check_denoiser_decoder(fixed_decoder)
    assert capsys.readouterr().out.count("✅") == 2


CLEAN = np.random.default_rng(1).random((300, 28, 28, 1), dtype=np.float32)
NOISY = np.clip(CLEAN + np.random.default_rng(2).normal(0, 0.5, CLEAN.shape), 0, 1).astype(np.float32)


def _pairs(inputs, targets, shuffle=True):
    ds = tf.data.Dataset.from_tensor_slices((inputs, targets))
    return (ds.shuffle(len(inputs), seed=1) if shuffle else ds).batch(128)


def test_correct_denoising_pipelines_pass(capsys):
    """Do labkit's pipeline of (noisy, clean) and an ordered validation pipeline pass?"""
    from labkit import data

    checks.check_denoising_pipeline(data.pipeline(NOISY, CLEAN, batch_size=128), NOISY, CLEAN)
    checks.check_denoising_pipeline(_pairs(NOISY, CLEAN, shuffle=False), NOISY, CLEAN, shuffled=False)
    assert capsys.readouterr().out.count("✅") == 2


def _separately_shuffled():
    a = tf.data.Dataset.from_tensor_slices(NOISY).shuffle(300, seed=1)
    b = tf.data.Dataset.from_tensor_slices(CLEAN).shuffle(300, seed=2)
    return tf.data.Dataset.zip((a, b)).batch(128)


@pytest.mark.parametrize("dataset, shuffled, message", [
    (_pairs(CLEAN, NOISY), True, "the noisy images"),
    (_pairs(CLEAN, CLEAN), True, "Feed the noisy images"),
    (_separately_shuffled(), True, "Shuffle the pairs together"),
    (_pairs(NOISY, CLEAN, shuffle=False), True, "shuffle=True"),
    (_pairs(NOISY, CLEAN), False, "shuffle=False"),
    (_pairs(NOISY.reshape(300, 784), CLEAN.reshape(300, 784)), True, "flatten=False"),
])
def test_wrong_denoising_pipeline_is_explained(dataset, shuffled, message):
    """Are swapped inputs and targets, clean inputs, unpaired shuffling and the wrong order explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_denoising_pipeline(dataset, NOISY, CLEAN, shuffled=shuffled)


# --- results the solutions must show (labkit.checks.expect_*, used by Lab 4) ----------------------

from labkit import transfer


def test_accuracy_target_is_strict_at_full_scale_and_lenient_in_quick_mode(monkeypatch, capsys):
    """Does 88 % miss an 88.97 % target at full scale but pass in quick mode, where only 50 % is asked?"""
    with pytest.raises(CheckFailed, match="88.97%"):
        checks.expect_accuracy_at_least(0.88, 0.8897)
    monkeypatch.setenv("LABKIT_QUICK", "1")
    checks.expect_accuracy_at_least(0.88, 0.8897)
    assert "quick mode" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="not learned"):
        checks.expect_accuracy_at_least(0.2, 0.8897)


def test_expect_frozen_catches_a_changed_weight():
    """Does changing one weight of a 'frozen' encoder fail the assertion?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(transfer.cut_encoder(encoder, "enc_pool1"))
    snapshot = transfer.weight_snapshot(features)
    checks.expect_frozen(features, snapshot)
    kernel = features.get_layer("enc_conv1").kernel
    kernel.assign(kernel.numpy() + 1e-3)
    with pytest.raises(CheckFailed, match="unchanged by training"):
        checks.expect_frozen(features, snapshot)
