"""Training as the labs do it: quick-mode epochs, one line per epoch, and the time each epoch took."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping

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
    build_before_tracing(model, x, y)
    history = model.fit(x, y, epochs=run_epochs, verbose=verbose, callbacks=[*callbacks, timer], **kwargs)
    history.epoch_seconds = timer.seconds
    history.seconds = sum(timer.seconds)
    return history


def build_before_tracing(model: keras.Model, x, y=None) -> None:
    """Create the variables of a compiled ``model``'s optimizer, loss and metrics before ``model.fit`` traces its
    training step, from the shapes of ``x`` and ``y`` (a tf.data pipeline's element spec, or arrays).

    Left to ``fit``, Keras (TensorFlow backend, no distribution strategy) creates them while tracing the step, and
    TensorFlow then traces the whole step a second time; built first, it is traced once. On a 2-core AMD EPYC
    that took the first epoch of Lab 4's CNN on 2,000 images from 1.0-1.1 s to 0.5 s, and of Lab 3's four models
    side by side on the 5,000-image sample from 18.9 s to 12.2-13.6 s; Lab 4's quick-mode notebook, which trains
    some forty models, ran its cells in 98-101 s instead of 105-114 (interleaved runs). Every training in a
    quick-mode run and in every graded submission gains so. The numbers are the same: the variables start at
    the same values either way. Keras builds this way itself under a distribution strategy
    (``Trainer._symbolic_build``, a private method); where it is missing or cannot build, ``fit`` builds as plain
    Keras does.
    """
    optimizer = getattr(model, "optimizer", None)
    build = getattr(model, "_symbolic_build", None)
    if optimizer is None or optimizer.built or build is None:
        return
    with contextlib.suppress(Exception):  # plain Keras builds it in fit instead, and says what is wrong there
        build(data_batch=x.element_spec if _is_dataset(x) else (x[:1], None if y is None else y[:1]))


def fit_side_by_side(models: Mapping[str, keras.Model], dataset, *, epochs: int, verbose: int = 2, **kwargs):
    """Train several independent models on the same batches in one pass over the data, each as it would train
    alone: the Keras ``History`` of the pass, whose ``history[f"{name}_loss"]`` is each model's training loss.

    ``models`` maps names to models compiled as if each were trained alone, each with its own loss and all with
    the same optimizer recipe (Lab 3's code sizes: Adam on the same cosine schedule). They are joined into one
    Keras model with one output per model, compiled with a fresh copy of that optimizer and each model's loss,
    and trained on ``dataset`` (a tf.data pipeline of (input, target) batches, every model given the same
    target): see :func:`join_side_by_side`. Each keeps its own weights: the gradient of the summed loss with
    respect to a model's weights is the gradient of its own loss, and Adam moves every weight by its own
    gradient alone, so each model trains as it would alone from the same start on the same batches (the same
    to float rounding). Each step feeds all of them, which keeps a small CPU busier than one model at a time:
    Lab 3's sweep of four autoencoders trained in 636 s side by side against 781 s one after another on a
    2-core AMD EPYC. Their own optimizers are not used: a model trained further alone starts its optimizer
    afresh. ``epoch_seconds`` and ``seconds`` are the pass's.
    """
    together, fed = join_side_by_side(models, dataset)
    return fit(together, fed, epochs=epochs, verbose=verbose, **kwargs)


def join_side_by_side(models: Mapping[str, keras.Model], dataset):
    """What :func:`fit_side_by_side` trains: ``models`` joined into one compiled Keras model with one output per
    name, and ``dataset`` mapped to feed it (each output given the batch's target). Train the pair with
    :func:`fit` as often as needed; every call to ``fit_side_by_side`` joins (and so traces) them afresh.
    """
    import tensorflow as tf

    if not models:
        raise ValueError("fit_side_by_side needs at least one model; got none.")
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError("fit_side_by_side trains on a tf.data pipeline of (input, target) batches, such as "
                        f"labkit.data.pipeline(images); got {type(dataset).__name__}.")
    named = dict(models)
    bad = [name for name in named if not (isinstance(name, str) and name.isidentifier())]
    if bad:
        raise ValueError(f"name each model with a Python identifier such as 'code_2' (it names its loss in the "
                         f"history); got {bad}.")
    uncompiled = [name for name, model in named.items() if getattr(model, "optimizer", None) is None]
    if uncompiled:
        raise ValueError(f"compile every model as if it were trained alone before training them side by side; "
                         f"{uncompiled} not compiled.")
    first_name, first = next(iter(named.items()))
    recipe = _optimizer_recipe(first)
    for name, model in named.items():
        if _optimizer_recipe(model) != recipe:
            raise ValueError(f"models trained side by side share one optimizer recipe; {name!r} was compiled with "
                             f"{_optimizer_recipe(model)}, {first_name!r} with {recipe}. Train them one at a time "
                             "with labkit.train.fit instead.")
    shapes = {name: tuple(model.input_shape[1:]) for name, model in named.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"models trained side by side take the same input; their input shapes differ: {shapes}.")
    model_names = [model.name for model in named.values()]
    if len(set(model_names)) < len(model_names):
        raise ValueError(f"give each model its own name (keras.Model(..., name=...)); got {model_names}.")

    inputs = keras.Input(shape=shapes[first_name], name="side_by_side_input")
    together = keras.Model(inputs, {name: model(inputs) for name, model in named.items()}, name="side_by_side")
    optimizer = first.optimizer.__class__.from_config(first.optimizer.get_config())
    together.compile(optimizer=optimizer, loss={name: model.loss for name, model in named.items()})
    fed = dataset.map(lambda x, y: (x, {name: y for name in named}))
    return together, fed


def _optimizer_recipe(model: keras.Model):
    """``model``'s optimizer and its settings, its name left out: what models trained side by side share."""
    config = {key: value for key, value in model.optimizer.get_config().items() if key != "name"}
    return type(model.optimizer).__name__, config


def _is_dataset(x) -> bool:
    import tensorflow as tf

    return isinstance(x, tf.data.Dataset)
