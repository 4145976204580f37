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

    @property
    def lower_is_better(self) -> bool:
        return self.metric != "test_accuracy"


@dataclass
class Context:
    """What experiments share in one reproduction run: the settings and the loaded data."""

    quick: bool
    seed: int
    sources: dict = field(default_factory=dict)

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


# --- the experiments ---------------------------------------------------------------------------

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
    return {"value": float(loss), "epochs": epochs, "batch_size": batch,
            "excess_over_floor": float(loss - metrics.bce_floor(x_test)), "dataset": "mnist"}


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
    return {"value": float(loss), "epochs": epochs, "batch_size": batch,
            "excess_over_floor": float(loss - metrics.bce_floor(x_test)), "dataset": "mnist"}


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in [
        Experiment("lab1-dense", 1, "Dense autoencoder 784-128-32-128-784, 20 epochs, batch 256",
                   "val_bce", _lab1_dense),
        Experiment("lab2-denoiser", 2, "Convolutional denoiser 32/64/128, Gaussian noise 0.5, 10 epochs, "
                   "batch 128 (noisy input, clean target)", "val_bce", _lab2_denoiser),
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
    if value is None:
        return "crashed"
    if experiment.published is None:
        return "no published figure"
    met = value <= experiment.published if experiment.lower_is_better else value >= experiment.published
    return "meets" if met else "misses"


def markdown_table(records: list[dict]) -> str:
    lines = ["| Experiment | Lab | Metric | Ours | Published | Excess over floor | Verdict | Epochs | Time (s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        def fmt(v, pct=r["metric"] == "test_accuracy"):
            return "—" if v is None else (f"{100 * v:.2f} %" if pct else f"{v:.4f}")
        excess = r.get("excess_over_floor")
        lines.append(f"| {r['description']} | {r['lab']} | {r['metric']} | {fmt(r['value'])} | "
                     f"{fmt(r['published'])} | {'—' if excess is None else f'{excess:.4f}'} | {r['verdict']} | "
                     f"{r.get('epochs', '—')} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def run(names: list[str] | None = None, *, quick: bool = False, out: Path = RESULTS_DIR,
        seed: int | None = None) -> int:
    """Run the named experiments (all by default); 0 when none crashed."""
    unknown = sorted(set(names or []) - set(EXPERIMENTS))
    if unknown:
        print(f"labkit reproduce: unknown experiment {', '.join(unknown)}; "
              f"known: {', '.join(EXPERIMENTS)}")
        return 2
    if quick:
        os.environ["LABKIT_QUICK"] = "1"
    settings = _config.settings()
    ctx = Context(quick=settings.quick, seed=settings.seed if seed is None else seed)
    env = environment()
    chosen = [EXPERIMENTS[n] for n in (names or EXPERIMENTS)]
    print(f"labkit reproduce: {len(chosen)} experiments on {env['device']} ({env['cpu']}), "
          f"{'QUICK MODE' if ctx.quick else 'full scale'}, seed {ctx.seed}")
    records: list[dict] = []
    for index, experiment in enumerate(chosen, start=1):
        print(f"\n[{index}/{len(chosen)}] {experiment.name}: {experiment.description}", flush=True)
        _config.seed_everything(ctx.seed)
        start = time.perf_counter()
        record = {"name": experiment.name, "lab": experiment.lab, "description": experiment.description,
                  "metric": experiment.metric, "published": experiment.published, "seed": ctx.seed,
                  "quick": ctx.quick}
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
        write_atomically(out / "results.json", json.dumps(records, indent=2) + "\n")
        write_atomically(out / "results.md", markdown_table(records))
        shown = "—" if record["value"] is None else f"{record['value']:.4f}"
        print(f"  {experiment.metric} = {shown} ({record['verdict']}, {record['seconds']:.0f} s)", flush=True)
    crashed = [r["name"] for r in records if r["value"] is None]
    print(f"\nwrote {out / 'results.json'} and {out / 'results.md'}; "
          f"{len(records) - len(crashed)} ran, {len(crashed)} crashed{': ' + ', '.join(crashed) if crashed else ''}")
    return 1 if crashed else 0
