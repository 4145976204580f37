"""What ``labkit reproduce`` trains for Lab 4: the three autoencoders, then the Fashion-MNIST classifiers (frozen
MNIST features, fine-tuned, from scratch) and the two rows that tell what the frozen one owes to what (the report's
set-up with the whole encoder frozen; random frozen filters at the same cut), exactly as the lab trains them."""

from __future__ import annotations

from collections.abc import Callable

from labkit import data
from labkit.labs.lab4 import (BASELINE, BATCH, CUT, EPOCHS, FINE_TUNE_RATE, IMPROVED, LEARNING_RATE, PATIENCE,
                              REPORT_CUT, SCRATCH_BATCH)
from labkit.reproduce import Context, Experiment, autoencoder_record, trained_with

AUTOENCODERS = {"baseline": BASELINE, "improved": IMPROVED}


def fashion_splits(ctx: Context):
    """Fashion-MNIST preprocessed once per run: (train, validation, test) pairs, as the lab splits it."""
    def split():
        from labkit import transfer

        (x, y), (x_test, y_test) = ctx.fashion
        parts = transfer.validation_split(data.preprocess(x, flatten=False), y, fraction=0.1)
        return (*parts, (data.preprocess(x_test, flatten=False), y_test))
    return ctx.memo("lab4-fashion-splits", split)


def autoencoder(kind: str, dataset: str) -> Callable[[Context], dict]:
    def run(ctx: Context) -> dict:
        from labkit import models, train

        (x_train, _), (x_test, _) = ctx.mnist if dataset == "mnist" else ctx.fashion  # or "fashion-mnist"
        x_train, x_test = data.preprocess(x_train, flatten=False), data.preprocess(x_test, flatten=False)
        filters, batch = AUTOENCODERS[kind]["filters"], AUTOENCODERS[kind]["batch"]
        epochs = ctx.epochs(EPOCHS)
        model, encoder, _ = models.conv_autoencoder(filters)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        test = data.pipeline(x_test, batch_size=512, shuffle=False)
        train.fit(model, data.pipeline(x_train, batch_size=batch, seed=ctx.seed), epochs=epochs)
        loss = model.evaluate(test, verbose=0)
        ctx.trained[f"{kind}-{dataset}-encoder"] = encoder
        return autoencoder_record(model, loss, x_test, epochs=epochs, batch=batch, dataset=dataset)
    return run


def _fit_classifier(ctx: Context, model, batch: int) -> dict:
    from labkit import train, transfer

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = fashion_splits(ctx)
    history = train.fit(model, data.pipeline(x_train, y_train, batch_size=batch, seed=ctx.seed),
                        epochs=ctx.epochs(EPOCHS),
                        validation_data=data.pipeline(x_val, y_val, batch_size=512, shuffle=False),
                        callbacks=[transfer.early_stopping(PATIENCE)])
    accuracy = model.evaluate(data.pipeline(x_test, y_test, batch_size=512, shuffle=False), verbose=0)[1]
    return {"value": float(accuracy), "epochs": len(history.epoch), "batch_size": batch,
            "best_val_accuracy": float(max(history.history["val_accuracy"])), "dataset": "fashion-mnist",
            **trained_with(model)}


def _steps(ctx: Context, batch: int) -> int:
    (x_train, _), _, _ = fashion_splits(ctx)
    return ctx.epochs(EPOCHS) * -(-len(x_train) // batch)


def _improved_encoder(ctx: Context):
    """The MNIST encoder that transfers: lab4-improved's (``needs``)."""
    return ctx.trained["improved-mnist-encoder"]


def _frozen_head(ctx: Context, encoder, layer: str, name: str):
    """A copy of ``encoder`` cut after ``layer`` and frozen, with the lab's Flatten + Dense(10) head, trained on
    the lab's split and schedule; its record and the model. The frozen weights are proven unchanged."""
    from labkit import transfer

    features = transfer.freeze(transfer.cut_encoder(transfer.copy_model(encoder), layer, name="mnist_features"))
    snapshot = transfer.weight_snapshot(features)
    model = transfer.compile_classifier(transfer.classification_head(features, name=name),
                                        learning_rate=LEARNING_RATE, decay_steps=_steps(ctx, BATCH))
    record = _fit_classifier(ctx, model, BATCH)
    if not transfer.frozen_weights_unchanged(features, snapshot):
        raise RuntimeError("the frozen encoder's weights changed during training: it was not frozen")
    return {**record, "encoder_frozen": True, "frozen_parameters": features.count_params(),
            "trainable_parameters": transfer.trainable_count(model)}, model


def frozen(ctx: Context) -> dict:
    record, model = _frozen_head(ctx, _improved_encoder(ctx), CUT, "frozen_transfer")
    ctx.trained["frozen-classifier"] = model
    return record


def frozen_full(ctx: Context) -> dict:
    """The report's set-up: the whole MNIST encoder frozen (its 7×7×16 code), with the lab's head and schedule."""
    return _frozen_head(ctx, _improved_encoder(ctx), REPORT_CUT, "frozen_full")[0]


def random_frozen(ctx: Context) -> dict:
    """The control: the same cut of an encoder that never trained, its random filters frozen. What the
    pretrained filters add is the difference between the frozen classifier and this one."""
    from labkit import models

    _, untrained, _ = models.conv_autoencoder(IMPROVED["filters"])
    return _frozen_head(ctx, untrained, CUT, "random_frozen")[0]


def fine_tuned(ctx: Context) -> dict:
    from labkit import transfer

    model = transfer.copy_model(ctx.trained["frozen-classifier"], name="fine_tuned")
    model.get_layer("mnist_features").trainable = True
    transfer.compile_classifier(model, learning_rate=FINE_TUNE_RATE, decay_steps=_steps(ctx, BATCH))
    return {**_fit_classifier(ctx, model, BATCH), "trainable_parameters": transfer.trainable_count(model)}


def scratch(ctx: Context) -> dict:
    from labkit import models, transfer

    model = transfer.compile_classifier(models.cnn_classifier(), learning_rate=LEARNING_RATE,
                                        decay_steps=_steps(ctx, SCRATCH_BATCH))
    return {**_fit_classifier(ctx, model, SCRATCH_BATCH), "trainable_parameters": transfer.trainable_count(model)}


EXPERIMENTS = [
    Experiment("lab4-baseline", 4, "Conv AE 32-16-8 with pooling (7×7×8 code), 10 epochs, batch 256",
               "val_bce", autoencoder("baseline", "mnist"), published=0.0733, figure="baseline_bce"),
    Experiment("lab4-improved", 4, "Conv AE 64-32-16 with pooling, 10 epochs, batch 128", "val_bce",
               autoencoder("improved", "mnist"), published=0.0684, figure="improved_bce"),
    Experiment("lab4-fashion", 4, "Conv AE 64-32-16 on Fashion-MNIST, 10 epochs, batch 128", "val_bce",
               autoencoder("improved", "fashion-mnist"), published=0.2613, figure="fashion_bce"),
    Experiment("lab4-frozen", 4, f"Fashion-MNIST: frozen MNIST encoder (cut after {CUT}) + Dense(10), "
               f"batch {BATCH}", "test_accuracy", frozen, published=0.8897, needs=("lab4-improved",),
               changed=f"only the first convolution and its pooling frozen ({CUT}: 640 frozen weights)",
               report_recipe="lab4-frozen-full", figure="frozen_accuracy"),
    Experiment("lab4-frozen-full", 4, "Fashion-MNIST: the report's set-up, the whole frozen MNIST encoder "
               f"(7×7×16 code) + Dense(10), batch {BATCH}, the lab's head schedule", "test_accuracy", frozen_full,
               published=0.8897, needs=("lab4-improved",), recipe="report", figure="whole_frozen_accuracy"),
    Experiment("lab4-random-frozen", 4, f"Fashion-MNIST control: the same cut ({CUT}) of an untrained encoder, "
               f"its random filters frozen, + Dense(10), batch {BATCH}", "test_accuracy", random_frozen,
               recipe="control", figure="random_frozen_accuracy"),
    Experiment("lab4-fine-tuned", 4, f"Fashion-MNIST: that classifier fine-tuned end to end at 1e-4, batch {BATCH}",
               "test_accuracy", fine_tuned, needs=("lab4-frozen",), figure="fine_tuned_accuracy"),
    Experiment("lab4-scratch", 4, "Fashion-MNIST: CNN from scratch Conv32-pool-Conv64-pool-Dense128, "
               f"batch {SCRATCH_BATCH}", "test_accuracy", scratch, published=0.9090, figure="scratch_accuracy"),
]


BENCHMARK = ("Lab 4 baseline convolutional autoencoder", "conv_autoencoder", "image", BASELINE["batch"])
"""The lab's main model for ``benchmarks/speed.py`` (see Lab 1's)."""
