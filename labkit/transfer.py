"""Transfer learning as Lab 4 does it: cut and freeze a pretrained encoder, put a classification head
on it, fine-tune it, and train on a budget of labels.

The rules the lab keeps are built in: a frozen encoder stays frozen (:func:`frozen_weights_unchanged`
proves it after training), and model choices are made on a validation split of the training data
(:func:`validation_split`), never on the test set. Used in Lab 4.
"""

from __future__ import annotations

import time

import keras
import numpy as np
from keras import layers


def validation_split(x, y, *, fraction: float = 0.1):
    """``(x_train, y_train), (x_val, y_val)`` with the *last* ``fraction`` of the images held out.

    Taking the last images (not a random draw) keeps the split the same in every run and every lab;
    the test set stays unseen until the final evaluation.
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels; pass matching arrays.")
    if not 0 < fraction < 1:
        raise ValueError(f"fraction is the share held out for validation, between 0 and 1; got {fraction}.")
    held_out = round(len(x) * fraction)
    if held_out < 1 or held_out >= len(x):
        raise ValueError(f"a validation fraction of {fraction} of {len(x)} images leaves "
                         f"{held_out} for validation and {len(x) - held_out} for training; use more data.")
    cut = len(x) - held_out
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def cut_encoder(encoder: keras.Model, layer: str, *, name: str | None = None) -> keras.Model:
    """The part of ``encoder`` from its input up to the output of ``layer`` (a name, e.g. ``"enc_conv1"``).

    The new model shares its layers, and so its weights, with ``encoder``: freezing or training one
    freezes or trains the other. Use :func:`copy_model` first to cut an independent copy.
    """
    names = [candidate.name for candidate in encoder.layers]
    if layer not in names:
        raise ValueError(f"the encoder {encoder.name!r} has no layer {layer!r}; its layers are {names}.")
    return keras.Model(encoder.input, encoder.get_layer(layer).output, name=name or f"{encoder.name}_to_{layer}")


def copy_model(model: keras.Model, *, name: str | None = None) -> keras.Model:
    """An independent copy of ``model``: same architecture and weights, weights not shared."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    if name:
        copy.name = name
    return copy


def freeze(model: keras.Model) -> keras.Model:
    """Mark every weight of ``model`` as not trainable (set before compiling the model that uses it)."""
    model.trainable = False
    return model


def weight_snapshot(model: keras.Model) -> list[np.ndarray]:
    """Copies of all of ``model``'s weights now, to compare with later (:func:`frozen_weights_unchanged`)."""
    return [np.array(weight) for weight in model.get_weights()]


def frozen_weights_unchanged(model: keras.Model, snapshot: list[np.ndarray]) -> bool:
    """Whether every weight of ``model`` is bit-for-bit what :func:`weight_snapshot` recorded."""
    weights = model.get_weights()
    return len(weights) == len(snapshot) and all(np.array_equal(w, s) for w, s in zip(weights, snapshot))


def classification_head(features: keras.Model, classes: int = 10, *,
                        name: str = "transfer_classifier") -> keras.Model:
    """``features`` (e.g. a frozen, cut encoder) followed by ``Flatten`` and ``Dense(classes, softmax)``.

    The encoder is called with ``training=False``: its layers run in inference mode even while the head
    trains or while it is fine-tuned.
    """
    image = keras.Input(shape=features.input_shape[1:], name="image")
    x = features(image, training=False)
    x = layers.Flatten(name="flatten")(x)
    probabilities = layers.Dense(classes, activation="softmax", name="probabilities")(x)
    return keras.Model(image, probabilities, name=name)


def compile_classifier(model: keras.Model, *, learning_rate: float = 1e-3,
                       decay_steps: int | None = None) -> keras.Model:
    """Compile ``model`` for integer labels: Adam, sparse categorical cross-entropy, accuracy.

    With ``decay_steps`` the learning rate follows a cosine from ``learning_rate`` down to 0 over that
    many steps (the steps of all planned epochs), so the last epochs take small, careful steps.
    Compile again after changing what is trainable.
    """
    rate = (keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps) if decay_steps
            else learning_rate)
    model.compile(optimizer=keras.optimizers.Adam(rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def trainable_count(model: keras.Model) -> int:
    """How many of ``model``'s parameters training will change."""
    return int(sum(np.prod(weight.shape) for weight in model.trainable_weights))


def early_stopping(patience: int = 3, *, monitor: str = "val_accuracy") -> keras.callbacks.EarlyStopping:
    """Stop when the validation accuracy has not improved for ``patience`` epochs and keep the best epoch."""
    return keras.callbacks.EarlyStopping(monitor=monitor, mode="max" if "acc" in monitor else "min",
                                         patience=patience, restore_best_weights=True)


class EpochLog(keras.callbacks.Callback):
    """One short line per epoch, ``epoch 3/10: accuracy 0.8891, loss 0.3107, val_accuracy 0.8878,
    val_loss 0.3140 (6 s)``: Keras's own (``verbose=2``) runs past 88 characters with four metrics.
    Used in Lab 4."""

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        metrics = ", ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items()
                            if name != "learning_rate")
        print(f"epoch {epoch + 1}/{self.params.get('epochs', '?')}: {metrics} ({seconds:.0f} s)")


def label_budget(labels, n: int | None, *, seed: int = 42, classes: int = 10) -> np.ndarray:
    """Indices of ``n`` labelled examples drawn from ``labels``: the same number of every class
    (one more for the first classes when ``n`` is not a multiple), the same draw for the same seed.

    ``n=None`` means every label: all indices, in order.
    """
    labels = np.asarray(labels)
    if n is None:
        return np.arange(len(labels))
    if n < classes:
        raise ValueError(f"a budget of {n} labels cannot hold one example of each of the {classes} classes.")
    if n > len(labels):
        raise ValueError(f"a budget of {n} labels is more than the {len(labels)} available; use n=None for all.")
    rng = np.random.default_rng(seed)
    per_class = [n // classes + (1 if c < n % classes else 0) for c in range(classes)]
    chosen = []
    for c, count in enumerate(per_class):
        members = np.flatnonzero(labels == c)
        if len(members) < count:
            raise ValueError(f"class {c} has only {len(members)} examples, {count} were asked for.")
        chosen.append(rng.choice(members, size=count, replace=False))
    return np.sort(np.concatenate(chosen))
