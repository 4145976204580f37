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


def _counting_traces(model) -> list:
    """``model``'s training step made to note each time TensorFlow traces it (a traced call runs the Python)."""
    traced = []
    step = model.train_step

    def counted(batch):
        traced.append(1)
        return step(batch)

    model.train_step = counted
    return traced


def _classifier(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(16,))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(8, activation="relu")(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_traces_the_training_step_once_and_trains_as_plain_keras_does():
    """Plain Keras traces a freshly compiled model's training step twice (it creates the optimizer's and the
    metrics' variables in the first trace): does fit, which builds them first, trace it once, for a pipeline and
    for arrays, and end with the very weights and history plain Keras reaches from the same start?"""
    from labkit import data

    rng = np.random.default_rng(0)
    x, y = rng.random((96, 16), dtype=np.float32), rng.integers(0, 3, 96)
    pipeline = data.pipeline(x, y, batch_size=32, shuffle=False)
    plain, ours, on_arrays = _classifier(1), _classifier(1), _classifier(1)
    traced = {name: _counting_traces(model) for name, model in
              (("plain", plain), ("ours", ours), ("on_arrays", on_arrays))}

    plain_history = plain.fit(data.steady(pipeline), epochs=3, verbose=0, shuffle=False)
    our_history = train.fit(ours, pipeline, epochs=3, verbose=0)
    train.fit(on_arrays, x, y, epochs=1, batch_size=32, verbose=0)

    assert len(traced["plain"]) == 2, "plain Keras now traces once: build_before_tracing may no longer be needed"
    assert len(traced["ours"]) == len(traced["on_arrays"]) == 1
    assert our_history.history == plain_history.history
    for mine, its in zip(ours.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, its)
    assert ours.optimizer.iterations.numpy() == plain.optimizer.iterations.numpy() == 9


def test_building_before_tracing_leaves_an_unbuildable_model_to_keras():
    """A model fit cannot build first (uncompiled, or inputs it cannot read) gets Keras's own error from fit,
    not one from the building."""
    import keras
    import pytest

    model = _classifier(2)
    train.build_before_tracing(model, {"not": "arrays"})  # nothing to build from: left to Keras
    assert not model.optimizer.built
    uncompiled = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(1)])
    train.build_before_tracing(uncompiled, np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="compile"):
        train.fit(uncompiled, np.zeros((2, 4), np.float32), np.zeros((2, 1), np.float32), epochs=1, verbose=0)


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
