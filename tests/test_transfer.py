import keras
import numpy as np
import pytest

from labkit import models, transfer

RNG = np.random.default_rng(0)
IMAGES = RNG.random((64, 28, 28, 1), dtype=np.float32)
LABELS = np.arange(64) % 10


def test_validation_split_holds_out_the_last_tenth():
    """Does the validation split keep the last 10 % of the images, in order, and the rest for training?"""
    x, y = np.arange(100), np.arange(100) % 10
    (x_train, _), (x_val, y_val) = transfer.validation_split(x, y)
    assert x_train.tolist() == list(range(90)) and x_val.tolist() == list(range(90, 100))
    assert y_val.tolist() == (np.arange(90, 100) % 10).tolist()


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1])
def test_validation_split_rejects_a_fraction_outside_0_1(fraction):
    """Is a fraction that leaves no training or no validation data refused with the value in the message?"""
    with pytest.raises(ValueError, match="between 0 and 1"):
        transfer.validation_split(np.arange(10), np.arange(10), fraction=fraction)


def test_validation_split_rejects_mismatched_labels():
    """Are images and labels of different lengths refused?"""
    with pytest.raises(ValueError, match="10 images but y has 9 labels"):
        transfer.validation_split(np.arange(10), np.arange(9))


def test_cut_encoder_ends_at_the_named_layer_and_shares_weights():
    """Does a cut encoder output the named layer's maps and share that layer's weights with the encoder?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    cut = transfer.cut_encoder(encoder, "enc_pool1")
    assert cut.output_shape == (None, 14, 14, 8)
    assert cut.get_layer("enc_conv1") is encoder.get_layer("enc_conv1")


def test_cut_encoder_names_the_layers_when_the_name_is_wrong():
    """Does cutting at a layer that does not exist list the layers that do?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    with pytest.raises(ValueError, match="enc_conv1"):
        transfer.cut_encoder(encoder, "conv_1")


def test_copy_model_has_equal_but_independent_weights():
    """Does training a copy leave the original's weights untouched?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    copy = transfer.copy_model(encoder)
    before = transfer.weight_snapshot(encoder)
    assert transfer.frozen_weights_unchanged(copy, before)
    copy.get_layer("enc_conv1").kernel.assign(np.zeros((3, 3, 1, 8), dtype="float32"))
    assert transfer.frozen_weights_unchanged(encoder, before)
    assert not transfer.frozen_weights_unchanged(copy, before)


def test_frozen_features_do_not_change_while_the_head_trains():
    """After a frozen encoder's classifier trains, are the encoder's weights bit-for-bit the same and only
    the head's 10 × (features + 1) parameters trainable?"""
    keras.utils.set_random_seed(0)
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(transfer.cut_encoder(encoder, "enc_pool1"))
    before = transfer.weight_snapshot(features)
    classifier = transfer.compile_classifier(transfer.classification_head(features))
    assert transfer.trainable_count(classifier) == 14 * 14 * 8 * 10 + 10
    head_before = classifier.get_layer("probabilities").get_weights()[0].copy()
    classifier.fit(IMAGES, LABELS, epochs=1, batch_size=16, verbose=0)
    assert transfer.frozen_weights_unchanged(features, before)
    assert not np.array_equal(classifier.get_layer("probabilities").get_weights()[0], head_before)


def test_unfreezing_makes_every_weight_trainable_again():
    """After trainable = True and compiling again, does fine-tuning change the encoder?"""
    keras.utils.set_random_seed(0)
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(transfer.cut_encoder(encoder, "enc_conv1"))
    classifier = transfer.classification_head(features)
    features.trainable = True
    transfer.compile_classifier(classifier, learning_rate=1e-3)
    assert transfer.trainable_count(classifier) == classifier.count_params()
    before = transfer.weight_snapshot(features)
    classifier.fit(IMAGES, LABELS, epochs=1, batch_size=16, verbose=0)
    assert not transfer.frozen_weights_unchanged(features, before)


def test_classifier_outputs_probabilities():
    """Does the head give one probability per class, summing to 1?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    classifier = transfer.classification_head(transfer.freeze(encoder))
    out = np.asarray(classifier(IMAGES[:3]))
    assert out.shape == (3, 10) and np.allclose(out.sum(axis=1), 1, atol=1e-5)


def test_label_budget_is_balanced_and_repeatable():
    """Does a budget of 100 hold 10 images of each class, the same ones for the same seed only?"""
    labels = np.random.default_rng(3).permutation(np.repeat(np.arange(10), 30))
    picked = transfer.label_budget(labels, 100, seed=5)
    assert len(np.unique(picked)) == 100
    assert np.bincount(labels[picked], minlength=10).tolist() == [10] * 10
    assert np.array_equal(picked, transfer.label_budget(labels, 100, seed=5))
    assert not np.array_equal(picked, transfer.label_budget(labels, 100, seed=6))


def test_label_budget_spreads_a_remainder_over_the_first_classes():
    """Does a budget of 13 give the first three classes two images and the others one?"""
    labels = np.repeat(np.arange(10), 5)
    counts = np.bincount(labels[transfer.label_budget(labels, 13)], minlength=10)
    assert counts.tolist() == [2, 2, 2] + [1] * 7


def test_label_budget_none_means_every_label():
    """Does n=None give every index in order?"""
    assert transfer.label_budget(np.arange(7) % 3, None).tolist() == list(range(7))


@pytest.mark.parametrize("n, message", [(5, "one example of each"), (1000, "more than the 300")])
def test_label_budget_rejects_impossible_budgets(n, message):
    """Are budgets below the number of classes or above the data refused, saying why?"""
    labels = np.repeat(np.arange(10), 30)
    with pytest.raises(ValueError, match=message):
        transfer.label_budget(labels, n)


def test_early_stopping_keeps_the_best_validation_accuracy():
    """Does early stopping watch validation accuracy upwards and restore the best epoch?"""
    callback = transfer.early_stopping(2)
    assert callback.monitor == "val_accuracy" and callback.restore_best_weights and callback.patience == 2
    assert callback.mode == "max"


def test_compile_classifier_can_decay_the_learning_rate_to_zero():
    """With decay_steps, does the learning rate start at the given rate and reach 0 at the last step?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    classifier = transfer.compile_classifier(transfer.classification_head(transfer.freeze(encoder)),
                                             learning_rate=1e-3, decay_steps=100)
    schedule = classifier.optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(1e-3) and float(schedule(100)) == pytest.approx(0, abs=1e-9)
    assert float(schedule(50)) == pytest.approx(5e-4, rel=1e-3)


def test_epoch_log_prints_one_short_line_per_epoch(capsys):
    """Does EpochLog print one line per epoch with every metric, within 88 characters where Keras's own
    verbose=2 line (four metrics) is longer?"""
    model = transfer.compile_classifier(models.cnn_classifier())
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype="float32")
    y = np.arange(64) % 10
    model.fit(x, y, validation_data=(x, y), epochs=2, batch_size=32, verbose=0,
              callbacks=[transfer.EpochLog()])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    for line in lines:
        assert all(f"{name} " in line for name in ("accuracy", "loss", "val_accuracy", "val_loss")), line
        assert line.endswith(" s)") and len(line) <= 88, line
