"""Reproduce, at full scale, every result the labs make claims about: ``labkit reproduce``.

Each experiment trains one model exactly as its lab does (same builder, settings, seed and data) and
records one figure. The experiments belong to their labs (``labkit/labs/labN/experiments.py``); this module
runs them and writes the report. Results go to ``results/results.json`` (one record per experiment, rewritten
atomically after each one, so the file is always complete and valid) and ``results/results.md``, a
table that sets each figure beside the published one of the report "Simple Autoencoder for MNIST".
A crashed experiment is recorded as such and the others still run.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import socket
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
SHARES = ("test_accuracy", "clear_share")
"""Metrics that are shares of images, shown in percent, where higher is better: a test accuracy, or the share
of generated images a fixed classifier calls a clear digit (Lab 6). Every other metric is a loss."""


@dataclass(frozen=True)
class Experiment:
    name: str
    lab: int
    description: str
    metric: str  # a loss such as "val_bce" (lower is better), "test_auc" or one of SHARES (higher is better)
    run: Callable[[Context], dict]
    published: float | None = None
    target: float | None = None  # the lab's own target, where the report publishes no figure
    figure: str | None = None
    """The name of this figure in the lab's solution, where it states it with ``labkit.figures.show`` (one of
    its constants' ``FIGURES``): ``tests/test_figures.py`` compares the two."""
    needs: tuple[str, ...] = ()
    """Experiments whose trained models (``Context.trained``) this one builds on: on a cluster it waits for them
    and receives their models. Whatever it needs that the run has not trained (``--only`` it alone) is trained
    first, and that time is kept out of its own ``seconds`` (its record's ``trained_first`` gives it), so that
    the seconds of the records add up to what a whole run takes."""
    recipe: str = "kit"
    """``"kit"``: the lab's own recipe; ``"report"``: the report's own recipe, as plainly as the report
    describes it (it may miss the report's figure: that is what it measures); ``"control"``: a control
    that tells what a result owes to one ingredient (no figure of the report to meet)."""
    changed: str | None = None
    """Where the kit meets the report's figure only with a recipe of its own: what it changed, so that the
    table says "meets it with <changed>" and never reads as a reproduction of the report."""
    report_recipe: str | None = None
    """The experiment that runs the report's own recipe for the same figure; the table gives its value."""

    @property
    def lower_is_better(self) -> bool:
        return self.metric not in (*SHARES, "test_auc")


@dataclass
class Context:
    """What experiments share in one reproduction run: the settings and the loaded data."""

    quick: bool
    seed: int
    sources: dict = field(default_factory=dict)
    trained: dict = field(default_factory=dict)  # models later experiments build on (Lab 4's encoder)
    ran: dict = field(default_factory=dict)  # experiment name -> whether it ran in this run without crashing
    cache: dict = field(default_factory=dict)  # data several experiments share (see memo)

    def reseed(self) -> None:
        _config.seed_everything(self.seed)

    def epochs(self, full: int) -> int:
        return _config.Settings(quick=self.quick).epochs(full)

    def batch_size(self, full: int) -> int:
        return _config.Settings(quick=self.quick).batch_size(full)

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

    def memo(self, key: str, make: Callable[[], object]):
        """``make()``, computed once per run and shared by the experiments that ask for ``key``."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


def trained_with(model) -> dict:
    """How ``model`` computed: the dtype policy of most of its weighted layers, and whether XLA compiled it."""
    from labkit import models

    policies = [layer.dtype_policy.name for layer in models.leaf_layers(model) if layer.weights]
    return {"precision": max(set(policies), key=policies.count) if policies else "float32",
            "xla": bool(getattr(model, "jit_compile", False))}


# --- what experiments share ---------------------------------------------------------------------

def autoencoder_record(autoencoder, loss, clean_test, *, epochs: int, batch: int,
                        dataset: str = "mnist") -> dict:
    """What an autoencoder experiment records: its loss on the clean test images, their loss floor, and how
    it was trained."""
    return {"value": float(loss), "epochs": epochs, "batch_size": batch,
            "excess_over_floor": float(loss - metrics.bce_floor(clean_test)), "dataset": dataset,
            **trained_with(autoencoder)}


def _collect() -> dict[str, Experiment]:
    """Every lab's experiments (``labkit/labs/labN/experiments.py``), in lab order."""
    from labkit import labs

    return {experiment.name: experiment for lab in labs.with_part("experiments")
            for experiment in lab.part("experiments").EXPERIMENTS}


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
    return {"host": socket.gethostname(), "device": f"GPU ({', '.join(gpus)})" if gpus else "CPU", "cpu": cpu,
            "cpu_count": os.cpu_count(),
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


def _shown(record: dict, value: float | None) -> str:
    if value is None:
        return "—"
    if record["metric"] == "test_auc":
        return f"{value:.3f}"
    return f"{100 * value:.2f} %" if record["metric"] in SHARES else f"{value:.4f}"


def _ours(record: dict) -> str:
    """The record's figure, with its interval where it has one: ``0.696 (0.683–0.710)``."""
    shown = _shown(record, record["value"])
    if record.get("interval") and record["value"] is not None:
        low, high = record["interval"]
        shown += f" ({_shown(record, low)}–{_shown(record, high)})"
    return shown


def intervals_section(records: list[dict]) -> str:
    """The Markdown that follows the table for records that compare several scores (Lab 3's anomaly scores):
    each score's validation AUC, test AUC and recall with their 95 % intervals."""
    parts = []
    for r in records:
        if not r.get("scores"):
            continue
        rate = r.get("false_alarm_rate", 0.05)
        lines = [f"### `{r['name']}`: every score, with intervals", "",
                 f"Chosen on the validation split: **{r['chosen']}**. Test intervals: "
                 f"{r.get('interval_method', '95 % percentile bootstrap')}; the recall's, a percentile "
                 "bootstrap over the test anomalies.", "",
                 f"| Score | Validation AUC | Test AUC (95 % interval) | Recall at {100 * rate:g} % false alarms "
                 "(95 % interval) | False alarms on test |", "|---|---|---|---|---|"]
        for name, s in r["scores"].items():
            lines.append(f"| {name} | {s['validation_auc']:.3f} | {s['test_auc']:.3f} ({s['test_auc_low']:.3f}–"
                         f"{s['test_auc_high']:.3f}) | {100 * s['recall']:.1f} % ({100 * s['recall_low']:.1f}–"
                         f"{100 * s['recall_high']:.1f} %) | {100 * s['false_alarms']:.1f} % |")
        parts.append("\n".join(lines) + "\n")
    return "".join("\n" + part for part in parts)


def verdict_text(record: dict, by_name: dict[str, dict]) -> str:
    """The table's Verdict: the record's verdict, and where the kit changed the report's recipe to meet its
    figure, what it changed and what the report's own recipe gives (``by_name``: the run's records).
    ``meets it with a 4.4 M-parameter bottleneck...; the report's own recipe gives 0.2069 (lab3-report-..., ...)``.
    """
    experiment = experiments().get(record["name"])
    if experiment is None or record["verdict"] == "crashed":
        return record["verdict"]
    if experiment.recipe == "report":
        return f"the report's own recipe: {record['verdict']}"
    if experiment.recipe == "control":
        return f"a control: {record['verdict']}"
    if not experiment.changed:
        return record["verdict"]
    text = record["verdict"].replace("meets", "meets it", 1) if record["verdict"].startswith("meets") \
        else record["verdict"]
    text += f" with {experiment.changed}"
    if experiment.report_recipe:
        other = by_name.get(experiment.report_recipe)
        if other is None or other.get("value") is None:
            text += f"; the report's own recipe ({experiment.report_recipe}) is not in this run"
        else:
            text += (f"; the report's own recipe gives {_shown(other, other['value'])} "
                     f"({experiment.report_recipe}, {other['verdict']})")  # plain: a name may wrap at its hyphens
    return text


def markdown_table(records: list[dict]) -> str:
    lines = ["| Experiment | Lab | Metric | Ours | Published | Excess over floor | Verdict | Epochs | Computed in "
             "| Time (s) |", "|---|---|---|---|---|---|---|---|---|---|"]
    by_name = {r["name"]: r for r in records}
    for r in records:
        published = _shown(r, r["published"])
        if r["published"] is None and r.get("lab_target") is not None:
            published = f"lab target {_shown(r, r['lab_target'])}"
        excess = r.get("excess_over_floor")
        metric = r["metric"].replace("_", " ")  # "test accuracy" may wrap in a narrow column; "test_accuracy" not
        lines.append(f"| `{r['name']}`: {r['description']} | {r['lab']} | {metric} | {_ours(r)} | "
                     f"{published} | {'—' if excess is None else f'{excess:.4f}'} | {verdict_text(r, by_name)} | "
                     f"{r.get('epochs', '—')} | {computed_in(r)} | {r['seconds']:.0f} |")
    return "\n".join(lines) + "\n"


def computed_in(record: dict) -> str:
    """``float32 + XLA``, ``mixed_bfloat16``...: how the record's model computed (``—`` if it crashed first)."""
    if "xla" not in record:
        return "—"
    return record["precision"] + (" + XLA" if record["xla"] else "")


def _recipe(record: dict) -> str:
    experiment = experiments().get(record["name"])
    return experiment.recipe if experiment is not None else "kit"


def report(records: list[dict]) -> str:
    """The Markdown the book's Results page includes: the run's settings and machines, then the table."""
    own = [r for r in records if _recipe(r) != "report"]
    met = [r for r in own if r["verdict"].startswith("meets")]
    changed = [r for r in met if getattr(experiments().get(r["name"]), "changed", None)]
    theirs = [r for r in records if _recipe(r) == "report"]
    mode = "QUICK MODE (shipped sample, few epochs): not results" if records[0]["quick"] else "full scale"
    summary = f"{len(met)} of {len(own)} meet their published figure or target"
    if changed:
        summary += (f", {len(changed)} of them only with a recipe changed from the report's (the Verdict "
                    "column names the change)")
    if theirs:
        summary += (f"; run as the report describes it, the report's own recipe meets its figure in "
                    f"{sum(r['verdict'].startswith('meets') for r in theirs)} of {len(theirs)}")
    return (f"{len(records)} experiments, {mode}, seed {records[0]['seed']}; {summary}. "
            f"Trained in {sum(r['seconds'] for r in records) / 60:.0f} minutes on {_machines(records)}.\n\n"
            + markdown_table(records) + INTERVALS_MARKER + intervals_section(records))


INTERVALS_MARKER = "\n<!-- intervals -->\n"
"""Where the sections after the table begin: the Results page includes what follows it."""


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


def train_needs(experiment: Experiment, ctx: Context) -> dict[str, float]:
    """Train what ``experiment`` needs that this run has not trained yet (and what those need, first): the
    seconds each took. Raises ``RuntimeError`` when something it needs crashed in this run."""
    took: dict[str, float] = {}
    for name in experiment.needs:
        if name in ctx.ran:
            if not ctx.ran[name]:
                raise RuntimeError(f"it builds on {name}, which crashed in this run")
            continue
        needed = experiments()[name]
        took.update(train_needs(needed, ctx))
        print(f"  (training {name} first: {experiment.name} builds on its model; that time is not counted "
              "in its own)", flush=True)
        _config.seed_everything(ctx.seed)
        start = time.perf_counter()
        ctx.ran[name] = False  # until it has run: if it crashes, nothing that needs it trains it again
        needed.run(ctx)
        ctx.ran[name] = True
        took[name] = round(time.perf_counter() - start, 1)
    return took


def execute(experiment: Experiment, ctx: Context, env: dict) -> dict:
    """Run one experiment and make its record; a crash is recorded, never raised. What it needs and the run
    has not trained is trained first, outside its ``seconds`` (:func:`train_needs`)."""
    record = {"name": experiment.name, "lab": experiment.lab, "description": experiment.description,
              "metric": experiment.metric, "published": experiment.published,
              "lab_target": experiment.target, "recipe": experiment.recipe, "seed": ctx.seed, "quick": ctx.quick}
    start = time.perf_counter()
    try:
        trained_first = train_needs(experiment, ctx)
        if trained_first:
            record["trained_first"] = trained_first
        _config.seed_everything(ctx.seed)
        start = time.perf_counter()
        record.update(experiment.run(ctx))
    except Exception as error:  # one experiment's crash must not stop the others
        record.update(value=None, error=f"{type(error).__name__}: {error}",
                      traceback=traceback.format_exc(limit=5))
        print(f"  CRASHED: {record['error']}")
    record["seconds"] = time.perf_counter() - start
    ctx.ran[experiment.name] = "error" not in record
    record["data"] = ctx.sources.get(record.get("dataset", "mnist"))
    record["environment"] = env
    record["verdict"] = verdict(experiment, record["value"])
    return record


def _serially(chosen: list[Experiment], ctx: Context, env: dict):
    for index, experiment in enumerate(chosen, start=1):
        print(f"\n[{index}/{len(chosen)}] {experiment.name}: {experiment.description}", flush=True)
        yield execute(experiment, ctx, env)


def run(names: list[str] | None = None, *, quick: bool = False, out: Path = RESULTS_DIR,
        seed: int | None = None, update: bool = False, scheduler: str | None = None) -> int:
    """Run the named experiments (all by default); 0 when none crashed.

    With ``update``, the new records replace those of the same experiments in ``out/results.json`` and
    the others are kept, so one experiment can be re-run after a change without re-running them all. With
    ``scheduler`` (a Dask scheduler's address, or ``local:K``) the experiments run as tasks on its workers,
    each record naming the machine it ran on; the files are written here, as a serial run writes them.
    """
    unknown = sorted(set(names or []) - set(experiments()))
    if unknown:
        print(f"labkit reproduce: unknown experiment {', '.join(unknown)}; "
              f"known: {', '.join(experiments())}")
        return 2
    if quick:
        os.environ["LABKIT_QUICK"] = "1"
    settings = _config.settings()
    ctx = Context(quick=settings.quick, seed=settings.seed if seed is None else seed)
    try:
        kept = _records_to_keep(out / "results.json", names or list(experiments()), ctx) if update else {}
    except ResultsError as error:
        print(f"labkit reproduce: {error}")
        return 2
    chosen = [experiments()[n] for n in (names or experiments())]
    if scheduler:
        from labkit import cluster

        try:
            connected = cluster.connect(scheduler)
        except cluster.ClusterError as error:
            print(f"labkit reproduce: {error} Nothing was run.")
            return 2
        print(f"labkit reproduce: {len(chosen)} experiments on {connected.workers} workers of {scheduler}, "
              f"{'QUICK MODE' if ctx.quick else 'full scale'}, seed {ctx.seed}", flush=True)
        completed = _on_cluster(chosen, ctx, connected)
    else:
        connected = None
        env = environment()
        print(f"labkit reproduce: {len(chosen)} experiments on {env['device']} ({env['cpu']}), "
              f"{'QUICK MODE' if ctx.quick else 'full scale'}, seed {ctx.seed}, convolutional models in "
              f"{settings.compute_precision()}")
        completed = _serially(chosen, ctx, env)
    records: list[dict] = []
    try:
        for record in completed:
            records.append(record)
            written = _in_registry_order({**kept, **{r["name"]: r for r in records}})
            write_atomically(out / "results.json", json.dumps(written, indent=2) + "\n")
            write_atomically(out / "results.md", report(written))
            write_figure(written, out / "results.png")
            shown = "—" if record["value"] is None else f"{record['value']:.4f}"
            print(f"  {record['name']}: {record['metric']} = {shown} ({record['verdict']}, {record['seconds']:.0f} s"
                  + (f" on {record['environment'].get('host')}" if connected else "") + ")", flush=True)
    finally:
        if connected is not None:
            connected.close()
    crashed = [r["name"] for r in records if r["value"] is None]
    print(f"\nwrote {out / 'results.json'} and {out / 'results.md'}; "
          f"{len(records) - len(crashed)} ran, {len(crashed)} crashed{': ' + ', '.join(crashed) if crashed else ''}"
          + (f"; kept {len(kept)} earlier records" if kept else ""))
    return 1 if crashed else 0


# --- on a cluster ------------------------------------------------------------------------------------

def _on_cluster(chosen: list[Experiment], ctx: Context, connected):
    """Each experiment as a task; one that ``needs`` others waits for their tasks and receives their trained
    models. Yields each record as its task finishes."""
    from labkit import cluster

    distributed = cluster.distributed()
    futures, by_name = {}, {}
    for experiment in chosen:
        inputs = [by_name[name] for name in experiment.needs if name in by_name]
        future = connected.client.submit(run_task, experiment.name, ctx.quick, ctx.seed, *inputs, pure=False,
                                         key=f"reproduce-{experiment.name}")
        futures[future], by_name[experiment.name] = experiment, future
    for future in distributed.as_completed(list(futures), loop=connected.client.loop):
        experiment = futures[future]
        try:
            yield future.result()["record"]
        except Exception as error:  # noqa: BLE001 - a lost worker or a broken task: the record says so
            yield {"name": experiment.name, "lab": experiment.lab, "description": experiment.description,
                   "metric": experiment.metric, "published": experiment.published, "lab_target": experiment.target,
                   "seed": ctx.seed, "quick": ctx.quick, "value": None, "seconds": 0.0,
                   "error": f"the task failed on the cluster: {type(error).__name__}: {error}", "data": None,
                   "environment": {}, "verdict": "crashed"}


def run_task(name: str, quick: bool, seed: int, *inputs: dict) -> dict:
    """On a worker: run experiment ``name`` with the trained models of the tasks it needs; return its record and
    the models it trained (as Keras files), plain data both."""
    os.environ["LABKIT_QUICK"] = "1" if quick else "0"
    ctx = Context(quick=quick, seed=seed)
    for given in inputs:
        ctx.trained.update(_models(given.get("models", {})))
        ctx.ran[given["record"]["name"]] = "error" not in given["record"]
    before = set(ctx.trained)
    record = execute(experiments()[name], ctx, environment())
    return {"record": record, "models": {key: _model_bytes(model) for key, model in ctx.trained.items()
                                         if key not in before}}


def _model_bytes(trained) -> bytes | list[bytes]:
    """What an experiment put in ``Context.trained`` as plain data: a Keras model as the bytes of its ``.keras``
    file, a tuple of models (Lab 6's encoder and decoder) as a list of them."""
    if isinstance(trained, tuple):
        return [_model_bytes(part) for part in trained]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        trained.save(path)
        return path.read_bytes()


def _models(saved: dict[str, bytes | list[bytes]]) -> dict:
    """The models of :func:`_model_bytes`'s plain data, by the names the experiments gave them."""
    import keras

    with tempfile.TemporaryDirectory() as folder:
        files = (Path(folder) / f"{n}.keras" for n in itertools.count())

        def load(data):
            if isinstance(data, list):
                return tuple(load(part) for part in data)
            path = next(files)
            path.write_bytes(data)
            return keras.models.load_model(path)

        return {key: load(data) for key, data in saved.items()}


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
    unknown = sorted(set(by_name) - set(experiments()))
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
    return [by_name[name] for name in experiments() if name in by_name]


_EXPERIMENTS: dict[str, Experiment] | None = None


def experiments() -> dict[str, Experiment]:
    """Every experiment by name, in lab order (collected on first use: the labs' modules import this one)."""
    global _EXPERIMENTS
    if _EXPERIMENTS is None:
        _EXPERIMENTS = _collect()
    return _EXPERIMENTS


def __getattr__(name: str):
    if name == "EXPERIMENTS":
        return experiments()
    raise AttributeError(f"module 'labkit.reproduce' has no attribute {name!r}")
