"""Training as the labs do it: quick-mode epochs, one line per epoch, and the time each epoch took."""

from __future__ import annotations

import time

import keras

from labkit import data
from labkit.config import settings


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of every epoch in ``self.seconds``."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def fit(model: keras.Model, x, y=None, *, epochs: int, verbose: int = 2, callbacks=(), **kwargs):
    """``model.fit`` with the lab's epochs (fewer in quick mode), returning the Keras ``History``.

    tf.data pipelines, the students' own included, train and validate :func:`labkit.data.steady`: without
    tf.data's autotuning model, whose thread made some epochs start 10-40 s late on a cloud VM.
    The history gains ``epoch_seconds`` (one wall time per epoch) and ``seconds`` (their sum).
    ``verbose=2`` prints one line per epoch, which reads well in a notebook's saved output.
    """
    run_epochs = settings().epochs(epochs)
    if run_epochs != epochs:
        print(f"quick mode: training {run_epochs} epochs instead of {epochs}")
    timer = EpochTimer()
    if _is_dataset(x):
        kwargs.setdefault("shuffle", False)  # a tf.data pipeline shuffles itself
        x = data.steady(x)
    if _is_dataset(kwargs.get("validation_data")):
        kwargs["validation_data"] = data.steady(kwargs["validation_data"])
    history = model.fit(x, y, epochs=run_epochs, verbose=verbose, callbacks=[*callbacks, timer], **kwargs)
    history.epoch_seconds = timer.seconds
    history.seconds = sum(timer.seconds)
    return history


def _is_dataset(x) -> bool:
    import tensorflow as tf

    return isinstance(x, tf.data.Dataset)
