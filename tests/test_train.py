import numpy as np

from labkit import models, train
from labkit.config import QUICK_EPOCHS


def test_fit_records_epoch_times_and_honours_quick_mode(monkeypatch, capsys):
    """In quick mode, does fit train QUICK_EPOCHS epochs, say so, and time each one?"""
    monkeypatch.setenv("LABKIT_QUICK", "1")
    model, _, _ = models.dense_autoencoder(input_dim=16, hidden=8, latent=2)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).random((64, 16), dtype=np.float32)
    history = train.fit(model, x, x, epochs=50, batch_size=32, verbose=0)
    assert len(history.history["loss"]) == QUICK_EPOCHS == len(history.epoch_seconds)
    assert history.seconds == sum(history.epoch_seconds) > 0
    assert f"training {QUICK_EPOCHS} epochs instead of 50" in capsys.readouterr().out


def test_fit_trains_and_validates_on_steady_pipelines(monkeypatch):
    """Does fit hand Keras a student's own pipelines, for training and validation, with tf.data's
    autotuning model off (labkit.data.steady), and still train and validate on them?"""
    import tensorflow as tf

    model, _, _ = models.dense_autoencoder(input_dim=16, hidden=8, latent=2)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).random((64, 16), dtype=np.float32)
    own = tf.data.Dataset.from_tensor_slices((x, x)).batch(32).prefetch(tf.data.AUTOTUNE)
    handed = {}
    keras_fit = model.fit

    def spy(x=None, y=None, **kwargs):
        handed["train"], handed["validation"] = x, kwargs.get("validation_data")
        return keras_fit(x, y, **kwargs)

    monkeypatch.setattr(model, "fit", spy)
    history = train.fit(model, own, epochs=2, validation_data=own, verbose=0)
    assert handed["train"].options().autotune.enabled is False
    assert handed["validation"].options().autotune.enabled is False
    assert len(history.history["loss"]) == len(history.history["val_loss"]) == 2
