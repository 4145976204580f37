"""The self-checks must pass correct work and explain wrong work in plain words."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from labkit import checks, models
from labkit.checks import CheckFailed

X = np.random.default_rng(0).random((600, 784), dtype=np.float32)


# --- Lab 4 ---------------------------------------------------------------------------------------

from labkit import transfer


def test_correct_conv_encoder_and_decoder_pass(capsys):
    """Do the lab's baseline encoder and decoder get a ✅ each?"""
    _, encoder, decoder = models.conv_autoencoder((32, 16, 8))
    checks.check_conv_encoder(encoder)
    checks.check_conv_decoder(decoder)
    assert capsys.readouterr().out.count("✅") == 2


def test_conv_encoder_without_same_padding_is_explained():
    """Is an encoder whose convolutions shrink the image told to use padding='same'?"""
    image = keras.Input(shape=(28, 28, 1))
    x = layers.MaxPooling2D(2)(layers.Conv2D(32, 3, activation="relu")(image))
    x = layers.MaxPooling2D(2)(layers.Conv2D(16, 3, activation="relu")(x))
    encoder = keras.Model(image, layers.Conv2D(8, 3, activation="relu")(x))
    with pytest.raises(CheckFailed, match="padding='same'"):
        checks.check_conv_encoder(encoder)


def test_decoder_that_convolves_before_upsampling_is_explained():
    """Is a decoder with the right widths but convolutions at the smaller sizes told to upsample first,
    and one without a sigmoid told why it needs one?"""
    code = keras.Input(shape=(7, 7, 8))
    x = layers.UpSampling2D(2)(layers.Conv2D(16, 3, padding="same", activation="relu")(code))
    x = layers.UpSampling2D(2)(layers.Conv2D(32, 3, padding="same", activation="relu")(x))
    late = keras.Model(code, layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x))
    with pytest.raises(CheckFailed, match="Upsample first"):
        checks.check_conv_decoder(late)
    _, _, decoder = models.conv_autoencoder((32, 16, 8))
    last = decoder.get_layer("dec_conv2").output
    no_sigmoid = keras.Model(decoder.input, layers.Conv2D(1, 3, padding="same", activation="relu")(last))
    with pytest.raises(CheckFailed, match="sigmoid"):
        checks.check_conv_decoder(no_sigmoid)


def _cut(encoder, layer="enc_pool1"):
    return keras.Model(encoder.input, encoder.get_layer(layer).output)


def test_frozen_features_pass_and_unfrozen_ones_are_explained(capsys):
    """Is a frozen cut of the trained encoder accepted, and a trainable one told to set trainable = False?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = _cut(transfer.copy_model(encoder))
    with pytest.raises(CheckFailed, match="trainable = False"):
        checks.check_frozen_features(features, encoder, layer="enc_pool1")
    features.trainable = False
    checks.check_frozen_features(features, encoder, layer="enc_pool1")
    assert capsys.readouterr().out.startswith("✅")


def test_features_with_fresh_weights_are_refused():
    """Are new random layers of the right shape refused because they are not the MNIST weights?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    _, other, _ = models.conv_autoencoder((8, 4, 2))
    features = _cut(other)
    features.trainable = False
    with pytest.raises(CheckFailed, match="learned"):
        checks.check_frozen_features(features, encoder, layer="enc_pool1")


def test_transfer_classifier_passes_and_a_hidden_layer_is_refused(capsys):
    """Is frozen features → Flatten → Dense(10) accepted, and an extra Dense(128) refused?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(_cut(encoder))
    good = transfer.compile_classifier(transfer.classification_head(features))
    checks.check_transfer_classifier(good, features)
    assert capsys.readouterr().out.startswith("✅")
    image = keras.Input(shape=(28, 28, 1))
    x = layers.Dense(128, activation="relu")(layers.Flatten()(features(image)))
    bad = keras.Model(image, layers.Dense(10, activation="softmax")(x))
    bad.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(CheckFailed, match="single Dense"):
        checks.check_transfer_classifier(bad, features)


def test_classifier_with_trainable_features_is_refused():
    """Does a head on features that were never frozen fail with the count of parameters it would train?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = _cut(encoder)
    classifier = transfer.compile_classifier(transfer.classification_head(features))
    with pytest.raises(CheckFailed, match="Freeze the features"):
        checks.check_transfer_classifier(classifier, features)


def test_fine_tuning_needs_unfrozen_weights_and_a_small_rate(capsys):
    """Are a still-frozen encoder and Adam's default rate refused, and unfrozen + 1e-4 accepted?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(_cut(encoder))
    classifier = transfer.compile_classifier(transfer.classification_head(features), learning_rate=1e-4)
    with pytest.raises(CheckFailed, match="compile again"):
        checks.check_fine_tuning(classifier)
    features.trainable = True
    transfer.compile_classifier(classifier, learning_rate=1e-3)
    with pytest.raises(CheckFailed, match="small"):
        checks.check_fine_tuning(classifier)
    transfer.compile_classifier(classifier, learning_rate=1e-4)
    checks.check_fine_tuning(classifier)
    assert capsys.readouterr().out.startswith("✅")


def reference_balanced_subset(labels, n, seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(labels == c), n // 10, replace=False) for c in range(10)])


def test_correct_balanced_subset_passes(capsys):
    """Does a correct balanced draw get a ✅?"""
    checks.check_balanced_subset(reference_balanced_subset)
    assert capsys.readouterr().out.startswith("✅")


@pytest.mark.parametrize("wrong, message", [
    (lambda labels, n, seed: np.random.default_rng(seed).choice(len(labels), n, replace=False), "of each class"),
    (lambda labels, n, seed: np.concatenate([np.random.default_rng(seed).choice(np.flatnonzero(labels == c), n // 10)
                                            for c in range(10)]), "without replacement"),
    (lambda labels, n, seed: reference_balanced_subset(labels, n, None), "the same subset"),
    (lambda labels, n, seed: reference_balanced_subset(labels, n, 0), "different subsets"),
    (lambda labels, n, seed: labels[:n], "100 different images"),
])
def test_wrong_balanced_subsets_are_explained(wrong, message):
    """Are unbalanced draws, repeats, ignored seeds and returned labels each explained?"""
    with pytest.raises(CheckFailed, match=message):
        checks.check_balanced_subset(wrong)


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
    features = transfer.freeze(_cut(encoder))
    snapshot = transfer.weight_snapshot(features)
    checks.expect_frozen(features, snapshot)
    kernel = features.get_layer("enc_conv1").kernel
    kernel.assign(kernel.numpy() + 1e-3)
    with pytest.raises(CheckFailed, match="unchanged by training"):
        checks.expect_frozen(features, snapshot)
