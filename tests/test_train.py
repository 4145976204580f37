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


def _seeded_autoencoder(latent: int, *, rate: float = 1e-2, loss: str = "binary_crossentropy"):
    import keras

    keras.utils.set_random_seed(latent)
    model, _, _ = models.dense_autoencoder(input_dim=16, hidden=8, latent=latent, name=f"ae_{latent}")
    model.compile(optimizer=keras.optimizers.Adam(rate), loss=loss)
    return model


def test_models_trained_side_by_side_end_where_each_trained_alone_would():
    """Trained side by side in one pass (Lab 3's sweep), does each model, with its own loss, end with the weights
    and losses it reaches trained alone from the same start on the same batches, and has each actually learned?"""
    from labkit import data

    x = np.random.default_rng(0).random((256, 16), dtype=np.float32)
    batches = data.pipeline(x, batch_size=32, shuffle=False)
    loss = {2: "binary_crossentropy", 3: "mse"}
    alone = {f"code_{n}": _seeded_autoencoder(n, loss=loss[n]) for n in (2, 3)}
    together = {f"code_{n}": _seeded_autoencoder(n, loss=loss[n]) for n in (2, 3)}
    start = {name: [w.copy() for w in model.get_weights()] for name, model in together.items()}
    losses = {name: train.fit(model, batches, epochs=3, verbose=0).history["loss"] for name, model in alone.items()}
    history = train.fit_side_by_side(together, batches, epochs=3, verbose=0)

    assert len(history.epoch_seconds) == 3 and history.seconds > 0
    for name, model in together.items():
        np.testing.assert_allclose(history.history[f"{name}_loss"], losses[name], rtol=1e-5)
        for mine, its, first in zip(model.get_weights(), alone[name].get_weights(), start[name], strict=True):
            np.testing.assert_allclose(mine, its, rtol=1e-4, atol=1e-6)
        assert any(not np.allclose(w, w0) for w, w0 in zip(model.get_weights(), start[name], strict=True))
    assert alone["code_2"].evaluate(x, x, verbose=0) == together["code_2"].evaluate(x, x, verbose=0)


def test_side_by_side_refuses_what_it_cannot_train_as_each_would_alone():
    """Models compiled with different optimizers, an uncompiled model, or arrays instead of a pipeline: does
    fit_side_by_side say what to do instead of training them differently?"""
    import pytest

    from labkit import data
    from labkit import models as kit_models

    x = np.random.default_rng(0).random((64, 16), dtype=np.float32)
    batches = data.pipeline(x, batch_size=32, shuffle=False)
    with pytest.raises(ValueError, match="share one optimizer recipe.*labkit.train.fit"):
        train.fit_side_by_side({"a": _seeded_autoencoder(2), "b": _seeded_autoencoder(3, rate=1e-3)}, batches,
                               epochs=1)
    uncompiled, _, _ = kit_models.dense_autoencoder(input_dim=16, hidden=8, latent=4)
    with pytest.raises(ValueError, match=r"compile every model.*\['b'\]"):
        train.fit_side_by_side({"a": _seeded_autoencoder(2), "b": uncompiled}, batches, epochs=1)
    with pytest.raises(TypeError, match="tf.data pipeline"):
        train.fit_side_by_side({"a": _seeded_autoencoder(2)}, x, epochs=1)
    with pytest.raises(ValueError, match="Python identifier"):
        train.fit_side_by_side({2: _seeded_autoencoder(2)}, batches, epochs=1)
