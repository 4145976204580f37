"""Reproduce, at full scale, every result the labs make claims about: ``labkit reproduce``.

Each experiment trains one model exactly as its lab does (same builder, settings, seed and data) and
records one figure. Results go to ``results/results.json`` (one record per experiment, rewritten
atomically after each one, so the file is always complete and valid) and ``results/results.md``, a
table that sets each figure beside the published one of the report "Simple Autoencoder for MNIST".
A crashed experiment is recorded as such and the others still run.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from labkit import config as _config
from labkit import data, metrics

RESULTS_DIR = Path("results")


@dataclass(frozen=True)
class Experiment:
    name: str
    lab: int
    description: str
    metric: str  # "val_bce" (lower is better) or "test_accuracy" (higher is better)
    run: Callable[[Context], dict]
    published: float | None = None
    target: float | None = None  # the lab's own target, where the report publishes no figure

    @property
    def lower_is_better(self) -> bool:
        return self.metric != "test_accuracy"


@dataclass
class Context:
    """What experiments share in one reproduction run: the settings and the loaded data."""

    quick: bool
    seed: int
    sources: dict = field(default_factory=dict)
    trained: dict = field(default_factory=dict)  # models later experiments build on (Lab 4's encoder)

    def reseed(self) -> None:
        _config.seed_everything(self.seed)

    def epochs(self, full: int) -> int:
        return min(full, _config.QUICK_EPOCHS) if self.quick else full

    def _load(self, name: str, loader):
        loaded = loader(verbose=False)
        self.sources[name] = {"source": str(loaded.source), "train": len(loaded[0][0]), "test": len(loaded[1][0])}
        return loaded

    @cached_property
    def mnist(self):
        return self._load("mnist", data.load_mnist)

    @cached_property
    def fashion(self):
        return self._load("fashion-mnist", data.load_fashion_mnist)

    @cached_property
    def fashion_splits(self):
        """Lab 4's Fashion-MNIST images, preprocessed once: (train, validation, test) pairs."""
        from labkit import transfer

        (x, y), (x_test, y_test) = self.fashion
        split = transfer.validation_split(data.preprocess(x, flatten=False), y, fraction=0.1)
        return (*split, (data.preprocess(x_test, flatten=False), y_test))


def trained_with(model) -> dict:
    """How ``model`` computed: the dtype policy of most of its weighted layers, and whether XLA compiled it."""
    policies = [layer.dtype_policy.name for layer in _weighted_layers(model)]
    return {"precision": max(set(policies), key=policies.count) if policies else "float32",
            "xla": bool(getattr(model, "jit_compile", False))}


def _weighted_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            yield from _weighted_layers(layer)
        elif layer.weights:
            yield layer


# --- the experiments ---------------------------------------------------------------------------

def _autoencoder_record(autoencoder, loss, clean_test, *, epochs: int, batch: int,
                        dataset: str = "mnist") -> dict:
    """What an autoencoder experiment records: its loss on the clean test images, their loss floor, and how
    it was trained."""
    return {"value": float(loss), "epochs": epochs, "batch_size": batch,
            "excess_over_floor": float(loss - metrics.bce_floor(clean_test)), "dataset": dataset,
            **trained_with(autoencoder)}


def _lab1_dense(ctx: Context) -> dict:
    from labkit import models, train

    (x_train, _), (x_test, _) = ctx.mnist
    x_train, x_test = data.preprocess(x_train), data.preprocess(x_test)
    autoencoder, _, _ = models.dense_autoencoder()
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    epochs, batch = ctx.epochs(20), 256
    train.fit(autoencoder, data.pipeline(x_train, batch_size=batch, seed=ctx.seed), epochs=epochs,
              validation_data=data.pipeline(x_test, batch_size=batch, shuffle=False))
    loss = autoencoder.evaluate(data.pipeline(x_test, batch_size=batch, shuffle=False), verbose=0)
    return _autoencoder_record(autoencoder, loss, x_test, epochs=epochs, batch=batch)


def _lab2_denoiser(ctx: Context) -> dict:
    from labkit import models, noise, train

    (x_train, _), (x_test, _) = ctx.mnist
    x_train, x_test = data.preprocess(x_train, flatten=False), data.preprocess(x_test, flatten=False)
    noisy_train = noise.gaussian(x_train, 0.5, seed=ctx.seed)
    noisy_test = noise.gaussian(x_test, 0.5, seed=ctx.seed + 1)
    autoencoder, _, _ = models.conv_denoiser()
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    epochs, batch = ctx.epochs(10), 128
    history = train.fit(autoencoder, data.pipeline(noisy_train, x_train, batch_size=batch, seed=ctx.seed),
                        epochs=epochs,
                        validation_data=data.pipeline(noisy_test, x_test, batch_size=batch, shuffle=False))
    loss = history.history["val_loss"][-1]
    return _autoencoder_record(autoencoder, loss, x_test, epochs=epochs, batch=batch)


def _report_denoiser(ctx: Context) -> dict:
    """The report's denoising set-up: its baseline convolutional autoencoder, Gaussian noise of 0.4 plus
    10 % salt-and-pepper on the input, clean targets."""
    from labkit import models, noise, train

    (x_train, _), (x_test, _) = ctx.mnist
    x_train, x_test = data.preprocess(x_train, flatten=False), data.preprocess(x_test, flatten=False)

    def corrupt(images, seed):
        return noise.salt_and_pepper(noise.gaussian(images, 0.4, seed=seed), 0.1, seed=seed + 2)

    autoencoder, _, _ = models.conv_autoencoder((32, 16, 8))
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    epochs, batch = ctx.epochs(10), 256
    history = train.fit(autoencoder, data.pipeline(corrupt(x_train, ctx.seed), x_train, batch_size=batch,
                                                   seed=ctx.seed), epochs=epochs,
                        validation_data=data.pipeline(corrupt(x_test, ctx.seed + 1), x_test, batch_size=512,
                                                      shuffle=False))
    loss = history.history["val_loss"][-1]
    return _autoencoder_record(autoencoder, loss, x_test, epochs=epochs, batch=batch)


# Lab 3: the settings of its sweep (solutions/lab3_latent_space.ipynb, step 4)
LAB3 = {"epochs": 15, "batch_size": 128, "learning_rate": 3e-3}


def _lab3_latent(size: int) -> Callable[[Context], dict]:
    def run(ctx: Context) -> dict:
        import keras

        from labkit import models, train

        (x_train, _), (x_test, _) = ctx.mnist
        x_train, x_test = data.preprocess(x_train, flatten=False), data.preprocess(x_test, flatten=False)
        epochs, batch = ctx.epochs(LAB3["epochs"]), LAB3["batch_size"]
        autoencoder, _, _ = models.conv_bottleneck_autoencoder(latent=size)
        steps = epochs * -(-len(x_train) // batch)
        schedule = keras.optimizers.schedules.CosineDecay(LAB3["learning_rate"], decay_steps=steps, alpha=0.01)
        autoencoder.compile(optimizer=keras.optimizers.Adam(schedule), loss="binary_crossentropy")
        test = data.pipeline(x_test, batch_size=1024, shuffle=False)
        train.fit(autoencoder, data.pipeline(x_train, batch_size=batch, seed=ctx.seed), epochs=epochs,
                  validation_data=test)
        loss = autoencoder.evaluate(test, verbose=0)
        return _autoencoder_record(autoencoder, loss, x_test, epochs=epochs, batch=batch)
    return run


# Lab 4: the settings of solutions/lab4_transfer_learning.ipynb
LAB4 = {"epochs": 10, "baseline": ((32, 16, 8), 256), "improved": ((64, 32, 16), 128), "cut": "enc_pool1",
        "batch_size": 32, "scratch_batch_size": 128, "learning_rate": 1e-3, "fine_tune_rate": 1e-4,
        "patience": 3}


def _lab4_autoencoder(kind: str, dataset: str) -> Callable[[Context], dict]:
    def run(ctx: Context) -> dict:
        from labkit import models, train

        (x_train, _), (x_test, _) = ctx.mnist if dataset == "mnist" else ctx.fashion  # or "fashion-mnist"
        x_train, x_test = data.preprocess(x_train, flatten=False), data.preprocess(x_test, flatten=False)
        filters, batch = LAB4[kind]
        epochs = ctx.epochs(LAB4["epochs"])
        autoencoder, encoder, _ = models.conv_autoencoder(filters)
        autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
        test = data.pipeline(x_test, batch_size=512, shuffle=False)
        train.fit(autoencoder, data.pipeline(x_train, batch_size=batch, seed=ctx.seed), epochs=epochs,
                  validation_data=test)
        loss = autoencoder.evaluate(test, verbose=0)
        ctx.trained[f"{kind}-{dataset}-encoder"] = encoder
        return _autoencoder_record(autoencoder, loss, x_test, epochs=epochs, batch=batch, dataset=dataset)
    return run


def _fit_classifier(ctx: Context, model, batch: int) -> dict:
    from labkit import train, transfer

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = ctx.fashion_splits
    history = train.fit(model, data.pipeline(x_train, y_train, batch_size=batch, seed=ctx.seed),
                        epochs=ctx.epochs(LAB4["epochs"]),
                        validation_data=data.pipeline(x_val, y_val, batch_size=512, shuffle=False),
                        callbacks=[transfer.early_stopping(LAB4["patience"])])
    accuracy = model.evaluate(data.pipeline(x_test, y_test, batch_size=512, shuffle=False), verbose=0)[1]
    return {"value": float(accuracy), "epochs": len(history.epoch), "batch_size": batch,
            "best_val_accuracy": float(max(history.history["val_accuracy"])), "dataset": "fashion-mnist",
            **trained_with(model)}


def _steps(ctx: Context, batch: int) -> int:
    (x_train, _), _, _ = ctx.fashion_splits
    return ctx.epochs(LAB4["epochs"]) * -(-len(x_train) // batch)


def _lab4_frozen(ctx: Context) -> dict:
    from labkit import transfer

    key = "improved-mnist-encoder"
    if key not in ctx.trained:  # run alone (--only): train the MNIST encoder it transfers first
        print("  (training the improved MNIST autoencoder first: its encoder is what transfers)")
        _lab4_autoencoder("improved", "mnist")(ctx)
        ctx.reseed()
    features = transfer.freeze(transfer.cut_encoder(transfer.copy_model(ctx.trained[key]), LAB4["cut"],
                                                    name="mnist_features"))
    snapshot = transfer.weight_snapshot(features)
    batch = LAB4["batch_size"]
    model = transfer.compile_classifier(transfer.classification_head(features, name="frozen_transfer"),
                                        learning_rate=LAB4["learning_rate"], decay_steps=_steps(ctx, batch))
    record = _fit_classifier(ctx, model, batch)
    if not transfer.frozen_weights_unchanged(features, snapshot):
        raise RuntimeError("the frozen encoder's weights changed during training: it was not frozen")
    ctx.trained["frozen-classifier"] = model
    return {**record, "encoder_frozen": True, "trainable_parameters": transfer.trainable_count(model)}


def _lab4_fine_tuned(ctx: Context) -> dict:
    from labkit import transfer

    if "frozen-classifier" not in ctx.trained:
        print("  (training the frozen classifier first: fine-tuning starts from it)")
        _lab4_frozen(ctx)
        ctx.reseed()
    model = transfer.copy_model(ctx.trained["frozen-classifier"], name="fine_tuned")
    model.get_layer("mnist_features").trainable = True
    batch = LAB4["batch_size"]
    transfer.compile_classifier(model, learning_rate=LAB4["fine_tune_rate"], decay_steps=_steps(ctx, batch))
    return {**_fit_classifier(ctx, model, batch), "trainable_parameters": transfer.trainable_count(model)}


def _lab4_scratch(ctx: Context) -> dict:
    from labkit import models, transfer

    batch = LAB4["scratch_batch_size"]
    model = transfer.compile_classifier(models.cnn_classifier(), learning_rate=LAB4["learning_rate"],
                                        decay_steps=_steps(ctx, batch))
    return {**_fit_classifier(ctx, model, batch), "trainable_parameters": transfer.trainable_count(model)}


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in [
        Experiment("lab1-dense", 1, "Dense autoencoder 784-128-32-128-784, 20 epochs, batch 256",
                   "val_bce", _lab1_dense, target=0.088),
        Experiment("lab2-denoiser", 2, "Convolutional denoiser 32/64/128, Gaussian noise 0.5, 10 epochs, "
                   "batch 128 (noisy input, clean target)", "val_bce", _lab2_denoiser, target=0.095),
        Experiment("lab2-report-denoiser", 2, "The report's denoising set-up: conv AE 32-16-8, Gaussian 0.4 "
                   "+ 10 % salt-and-pepper, 10 epochs, batch 256", "val_bce", _report_denoiser,
                   published=0.1236),
        *(Experiment(f"lab3-latent-{size}", 3, f"Conv AE with a dense code of {size}, {LAB3['epochs']} epochs, "
                     f"batch {LAB3['batch_size']}",
                     "val_bce", _lab3_latent(size), published=published)
          for size, published in ((2, 0.1669), (8, None), (16, 0.1141), (32, None))),
        Experiment("lab4-baseline", 4, "Conv AE 32-16-8 with pooling (7×7×8 code), 10 epochs, batch 256",
                   "val_bce", _lab4_autoencoder("baseline", "mnist"), published=0.0733),
        Experiment("lab4-improved", 4, "Conv AE 64-32-16 with pooling, 10 epochs, batch 128", "val_bce",
                   _lab4_autoencoder("improved", "mnist"), published=0.0684),
        Experiment("lab4-fashion", 4, "Conv AE 64-32-16 on Fashion-MNIST, 10 epochs, batch 128", "val_bce",
                   _lab4_autoencoder("improved", "fashion-mnist"), published=0.2613),
        Experiment("lab4-frozen", 4, "Fashion-MNIST: frozen MNIST encoder (cut after enc_pool1) + Dense(10), "
                   "batch 32", "test_accuracy", _lab4_frozen, published=0.8897),
        Experiment("lab4-fine-tuned", 4, "Fashion-MNIST: that classifier fine-tuned end to end at 1e-4, batch 32",
                   "test_accuracy", _lab4_fine_tuned),
        Experiment("lab4-scratch", 4, "Fashion-MNIST: CNN from scratch Conv32-pool-Conv64-pool-Dense128, "
                   "batch 128", "test_accuracy", _lab4_scratch, published=0.9090),
    ]
}


# --- running and recording ---------------------------------------------------------------------

def environment() -> dict:
    """Hardware and library versions, for the record."""
    import keras
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"device": f"GPU ({', '.join(gpus)})" if gpus else "CPU", "cpu": cpu, "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__}


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def verdict(experiment: Experiment, value: float | None) -> str:
    """``meets``/``misses`` the published figure (or, without one, the lab's own target)."""
    if value is None:
        return "crashed"
    goal = experiment.published if experiment.published is not None else experiment.target
    if goal is None:
        return "reported (no published figure)"
    met = value <= goal if experiment.lower_is_better else value >= goal
    return ("meets" if met else "misses") + ("" if experiment.published is not None else " the lab's target")


def markdown_table(records: list[dict]) -> str:
    lines = ["| Experiment | Lab | Metric | Ours | Published | Excess over floor | Verdict | Epochs | Computed in "
             "| Time (s) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        def fmt(v, pct=r["metric"] == "test_accuracy"):
            return "—" if v is None else (f"{100 * v:.2f} %" if pct else f"{v:.4f}")
        published = fmt(r["published"])
        if r["published"] is None and r.get("lab_target") is not None:
            published = f"— (lab's target {fmt(r['lab_target'])})"
        excess = r.get("excess_over_floor")
        lines.append(f"| `{r['name']}`: {r['description']} | {r['lab']} | {r['metric']} | {fmt(r['value'])} | "
                     f"{published} | {'—' if excess is None else f'{excess:.4f}'} | {r['verdict']} | "
                     f"{r.get('epochs', '—')} | {computed_in(r)} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def computed_in(record: dict) -> str:
    """``float32 + XLA``, ``mixed_bfloat16``...: how the record's model computed (``—`` if it crashed first)."""
    if "xla" not in record:
        return "—"
    return record["precision"] + (" + XLA" if record["xla"] else "")


def report(records: list[dict]) -> str:
    """The Markdown the book's Results page includes: the run's settings and machines, then the table."""
    met = [r for r in records if r["verdict"].startswith("meets")]
    mode = "QUICK MODE (shipped sample, few epochs): not results" if records[0]["quick"] else "full scale"
    return (f"{len(records)} experiments, {mode}, seed {records[0]['seed']}; {len(met)} of {len(records)} "
            "meet their published figure or target. "
            f"Trained in {sum(r['seconds'] for r in records) / 60:.0f} minutes on {_machines(records)}.\n\n"
            + markdown_table(records))


def _machines(records: list[dict]) -> str:
    """``CPU: <model> (2 cores), TensorFlow 2.x, Keras 3.x``, naming which experiments ran where if several did."""
    groups: dict[str, list[str]] = {}
    for r in records:
        env = r["environment"]
        machine = (f"{env.get('device')}: {env.get('cpu')} ({env.get('cpu_count')} cores), "
                   f"TensorFlow {env.get('tensorflow')}, Keras {env.get('keras')}")
        groups.setdefault(machine, []).append(r["name"])
    if len(groups) == 1:
        return next(iter(groups))
    return "; ".join(f"{machine} ({', '.join(f'`{name}`' for name in names)})"
                     for machine, names in groups.items())


def write_figure(records: list[dict], path: Path) -> None:
    """Save :func:`labkit.plots.results_comparison` as a PNG, through a temporary file."""
    from labkit import plots

    try:
        figure = plots.results_comparison(records)
    except ValueError:  # nothing to compare yet (every experiment so far crashed or has no goal)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(handle)
    try:
        figure.savefig(temporary, dpi=100, bbox_inches="tight")
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def run(names: list[str] | None = None, *, quick: bool = False, out: Path = RESULTS_DIR,
        seed: int | None = None, update: bool = False) -> int:
    """Run the named experiments (all by default); 0 when none crashed.

    With ``update``, the new records replace those of the same experiments in ``out/results.json`` and
    the others are kept, so one experiment can be re-run after a change without re-running them all.
    """
    unknown = sorted(set(names or []) - set(EXPERIMENTS))
    if unknown:
        print(f"labkit reproduce: unknown experiment {', '.join(unknown)}; "
              f"known: {', '.join(EXPERIMENTS)}")
        return 2
    if quick:
        os.environ["LABKIT_QUICK"] = "1"
    settings = _config.settings()
    ctx = Context(quick=settings.quick, seed=settings.seed if seed is None else seed)
    try:
        kept = _records_to_keep(out / "results.json", names or list(EXPERIMENTS), ctx) if update else {}
    except ResultsError as error:
        print(f"labkit reproduce: {error}")
        return 2
    env = environment()
    chosen = [EXPERIMENTS[n] for n in (names or EXPERIMENTS)]
    print(f"labkit reproduce: {len(chosen)} experiments on {env['device']} ({env['cpu']}), "
          f"{'QUICK MODE' if ctx.quick else 'full scale'}, seed {ctx.seed}, convolutional models in "
          f"{settings.precisions()}")
    records: list[dict] = []
    for index, experiment in enumerate(chosen, start=1):
        print(f"\n[{index}/{len(chosen)}] {experiment.name}: {experiment.description}", flush=True)
        _config.seed_everything(ctx.seed)
        start = time.perf_counter()
        record = {"name": experiment.name, "lab": experiment.lab, "description": experiment.description,
                  "metric": experiment.metric, "published": experiment.published,
                  "lab_target": experiment.target, "seed": ctx.seed, "quick": ctx.quick}
        try:
            record.update(experiment.run(ctx))
        except Exception as error:  # one experiment's crash must not stop the others
            record.update(value=None, error=f"{type(error).__name__}: {error}",
                          traceback=traceback.format_exc(limit=5))
            print(f"  CRASHED: {record['error']}")
        record["seconds"] = time.perf_counter() - start
        record["data"] = ctx.sources.get(record.get("dataset", "mnist"))
        record["environment"] = env
        record["verdict"] = verdict(experiment, record["value"])
        records.append(record)
        written = _in_registry_order({**kept, **{r["name"]: r for r in records}})
        write_atomically(out / "results.json", json.dumps(written, indent=2) + "\n")
        write_atomically(out / "results.md", report(written))
        write_figure(written, out / "results.png")
        shown = "—" if record["value"] is None else f"{record['value']:.4f}"
        print(f"  {experiment.metric} = {shown} ({record['verdict']}, {record['seconds']:.0f} s)", flush=True)
    crashed = [r["name"] for r in records if r["value"] is None]
    print(f"\nwrote {out / 'results.json'} and {out / 'results.md'}; "
          f"{len(records) - len(crashed)} ran, {len(crashed)} crashed{': ' + ', '.join(crashed) if crashed else ''}"
          + (f"; kept {len(kept)} earlier records" if kept else ""))
    return 1 if crashed else 0


class ResultsError(Exception):
    """An existing results file that ``--update`` cannot merge into."""


def _records_to_keep(path: Path, rerun: list[str], ctx: Context) -> dict[str, dict]:
    """The records of ``path`` that an update keeps (all but those of ``rerun``), by experiment name.

    Refuses a file it cannot read and records that would mix with the new ones into a misleading table:
    quick-mode records with full-scale ones, another seed, or experiments that no longer exist.
    """
    if not path.exists():
        raise ResultsError(f"--update needs an earlier run's {path}, and there is none; run without --update "
                           "first (or point --out at the folder that holds it).")
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        by_name = {r["name"]: r for r in records}
        modes, seeds = {r["quick"] for r in records}, {r["seed"] for r in records}
    except (ValueError, TypeError, KeyError) as error:
        raise ResultsError(f"{path} is not a results file written by labkit reproduce ({error}); nothing was "
                           "changed. Restore it (git checkout) or run without --update to write a new one.") from None
    unknown = sorted(set(by_name) - set(EXPERIMENTS))
    if unknown:
        raise ResultsError(f"{path} has records of experiments that no longer exist ({', '.join(unknown)}); "
                           "run every experiment again without --update.")
    if modes != {ctx.quick}:
        held = {frozenset({True}): "quick-mode", frozenset({False}): "full-scale"}.get(frozenset(modes), "mixed")
        raise ResultsError(f"{path} holds {held} records and this run is {'quick' if ctx.quick else 'full scale'}; "
                           "the table would mix the two. Use another --out, or the same mode.")
    if seeds != {ctx.seed}:
        raise ResultsError(f"{path} was run with seed {', '.join(map(str, sorted(seeds)))} and this run uses "
                           f"{ctx.seed}; set LABKIT_SEED to match, or use another --out.")
    return {name: record for name, record in by_name.items() if name not in rerun}


def _in_registry_order(by_name: dict[str, dict]) -> list[dict]:
    return [by_name[name] for name in EXPERIMENTS if name in by_name]
