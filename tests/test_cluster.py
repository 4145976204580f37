"""Grading and reproduction on a Dask cluster: a real scheduler and real worker processes (labkit.cluster,
labkit.grading.cluster, `labkit reproduce --scheduler`), and resuming an interrupted grading run.

Ten submissions of the Lab 1 corpus, one of each way a run ends (ok, error, timeout, crash, out of memory,
unreadable), are graded on `local:2` (about a minute on 2 cores), interrupted part-way and resumed, and their rows
compared with the local grading of the whole corpus (conftest.py). A worker is killed while it grades
(about 30 s). Two Lab 4 experiments, one needing the other's model, run in quick mode serially and on `local:2`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from conftest import LAB1_CORPUS, LAB1_CORPUS_ARGS
from labkit.grading import run, sandbox
from labkit.grading.gradebook import Outcome

distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed (pip install "
                                                       "\"labkit[cluster]\")")
ROOT = Path(__file__).resolve().parents[1]
SOLUTION_ANSWERS = LAB1_CORPUS / "honest_correct.ipynb"
BWRAP = sandbox.isolation() == "bubblewrap"
needs_bwrap = pytest.mark.skipif(not BWRAP, reason="bubblewrap (bwrap) is not installed here")


def grade_cli(*args: str, timeout: float = 900, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labkit.cli", "grade", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, **popen)


def rows(path: Path) -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as file:
        return {row["student"]: row for row in csv.DictReader(file)}


def without_timings(text: str) -> str:
    table = list(csv.reader(io.StringIO(text)))
    column = table[0].index("seconds")
    return "\n".join(",".join(cell for index, cell in enumerate(row) if index != column) for row in table)


# --- what needs no cluster: the resume rules, and the errors before anything starts ---------------------

def test_a_resumed_run_keeps_unchanged_rows_and_grades_changed_and_new_ones(tmp_path, monkeypatch):
    """Are rows of unchanged submissions kept (no task run), a changed or new submission graded, and everything
    graded again with regrade or when the kit's grading changed?"""
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in ("alice", "bob", "carol"):
        (folder / f"{name}.ipynb").write_bytes(SOLUTION_ANSWERS.read_bytes())
    graded_now: list[str] = []

    def grade_task(task):
        graded_now.append(task.student)
        return Outcome(task.student, "ok", dict.fromkeys(task.template.questions, 1.0), task.template.max_score,
                       seconds=1.5, digest=task.digest)

    monkeypatch.setattr(sandbox, "preflight", lambda **kwargs: None)
    monkeypatch.setattr(run, "grade_task", grade_task)
    out = tmp_path / "gradebook.csv"

    def grade(**kwargs):
        graded_now.clear()
        run.grade_folder(folder, lab=1, out=out, solutions=ROOT / "solutions", workers=1, **kwargs)
        return sorted(graded_now)

    assert grade() == ["alice", "bob", "carol"]
    assert grade() == []
    notebook = nbformat.read(folder / "bob.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_markdown_cell("an afterthought"))
    nbformat.write(notebook, folder / "bob.ipynb")
    (folder / "dave.ipynb").write_bytes(SOLUTION_ANSWERS.read_bytes())
    assert grade() == ["bob", "dave"]
    for student, row in rows(out).items():
        assert row["sha256"] == hashlib.sha256((folder / f"{student}.ipynb").read_bytes()).hexdigest()
    assert grade(regrade=True) == ["alice", "bob", "carol", "dave"]
    monkeypatch.setattr(run, "grading_code", lambda number: "changed!")
    assert grade() == ["alice", "bob", "carol", "dave"]


def test_an_unreachable_scheduler_fails_within_10_s_and_writes_nothing(tmp_path):
    """Does a scheduler address with nothing behind it give a clear error within 10 s, and no gradebook?"""
    started = time.monotonic()
    process = grade_cli(LAB1_CORPUS, "--lab", "1", "--out", tmp_path / "out" / "gradebook.csv", "--scheduler",
                        "tcp://127.0.0.1:9", timeout=60)
    assert time.monotonic() - started < 10
    assert process.returncode == 2 and "cannot be reached" in process.stderr and "Nothing was graded" in process.stderr
    assert not (tmp_path / "out").exists()


def test_a_worker_without_bubblewrap_is_refused_by_name(tmp_path):
    """Is a cluster whose worker cannot find bubblewrap refused before grading, naming that worker and the lack?"""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40, env={"PATH": str(tmp_path)}) as local:
        with pytest.raises(run.GradingError, match="bubblewrap") as raised:
            run.grade_folder(LAB1_CORPUS, lab=1, out=tmp_path / "out" / "gradebook.csv",
                             solutions=ROOT / "solutions", scheduler=local.scheduler_address)
        worker = next(iter(local.workers.values())).worker_address
    assert worker in str(raised.value) and "Nothing was graded" in str(raised.value)
    assert not (tmp_path / "out").exists()


# --- the Lab 1 corpus on a local cluster, interrupted and resumed --------------------------------------

ON_CLUSTER = ("copied_cell", "honest_correct", "honest_wrong", "patched_kernel",  # ok
              "honest_error", "infinite_loop", "os_exit", "memory_exhaustion", "invalid_json", "missing_notebook")
"""The submissions graded on the cluster: four that run to the end, and one of each other way a run ends."""


@pytest.fixture(scope="module")
def on_cluster(tmp_path_factory):
    """:data:`ON_CLUSTER` graded on local:2, stopped with SIGINT once three of them have rows, then resumed: the
    rows when it was stopped, the second run's process, and the final gradebook's path."""
    folder = tmp_path_factory.mktemp("cluster")
    shutil.copytree(LAB1_CORPUS, folder / "submissions",
                    ignore=lambda where, names: [name for name in names if Path(where) == LAB1_CORPUS
                                                 and Path(name).stem not in ON_CLUSTER])
    out = folder / "gradebook.csv"
    command = [sys.executable, "-m", "labkit.cli", "grade", str(folder / "submissions"), "--out", str(out),
               *LAB1_CORPUS_ARGS, "--scheduler", "local:2"]
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and first.poll() is None:
        if out.exists() and sum(1 for row in rows(out).values() if row["sha256"] and row["status"] == "ok") >= 3:
            break
        time.sleep(0.5)
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=120)
    interrupted = rows(out)
    second = grade_cli(folder / "submissions", "--out", out, *LAB1_CORPUS_ARGS, "--scheduler", "local:2")
    return interrupted, second, out


@needs_bwrap
def test_the_corpus_on_a_local_cluster_gives_the_local_gradebook(on_cluster, lab1_corpus_graded):
    """Does grading part of the Lab 1 corpus on local:2 (interrupted and resumed) give the local gradebook's rows
    for it, column for column but for the timings, in the same columns?"""
    _, second, out = on_cluster
    assert second.returncode == 1, second.stderr[-3000:]
    local = without_timings(lab1_corpus_graded[3]).splitlines()
    on_cluster = without_timings(out.read_text(encoding="utf-8")).splitlines()
    assert on_cluster[0] == local[0]
    assert sorted(on_cluster[1:]) == sorted(row for row in local[1:] if row.split(",")[0] in ON_CLUSTER)
    assert len(on_cluster) == len(ON_CLUSTER) + 1


@needs_bwrap
def test_an_interrupted_run_resumes_without_grading_again(on_cluster):
    """After an interruption, are the rows already graded kept (same hash, same timing) and only the rest graded?"""
    interrupted, second, out = on_cluster
    graded_before = {name: row for name, row in interrupted.items() if row["sha256"]}
    assert 3 <= len(graded_before) < len(rows(out))
    assert f"kept {len(graded_before)} row(s) graded earlier" in second.stderr
    final = rows(out)
    for name, row in graded_before.items():
        assert final[name] == row
        submitted = out.parent / "submissions" / f"{name}.ipynb"
        assert row["sha256"] == hashlib.sha256(submitted.read_bytes()).hexdigest()


@needs_bwrap
def test_a_killed_worker_costs_time_not_rows(tmp_path):
    """When a worker process is killed while it grades, does every submission still get exactly one row, each
    with the control's full marks?"""
    folder = tmp_path / "submissions"
    folder.mkdir()
    for index in range(3):
        (folder / f"control_{index}.ipynb").write_bytes(SOLUTION_ANSWERS.read_bytes())
    out = tmp_path / "gradebook.csv"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as local, distributed.Client(local) as client:
        pids = client.run(os.getpid)
        result: dict = {}

        def grade():
            result["outcomes"] = run.grade_folder(folder, lab=1, out=out, solutions=ROOT / "solutions",
                                                  scheduler=local.scheduler_address, seed=5)

        thread = threading.Thread(target=grade)
        thread.start()
        victim = next(iter(pids.values()))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _grading_under(victim):
            time.sleep(0.2)
        assert _grading_under(victim), "no worker started a sandboxed kernel in 2 minutes"
        os.kill(victim, signal.SIGKILL)
        thread.join(timeout=600)
    graded = rows(out)
    assert sorted(graded) == [f"control_{index}" for index in range(3)]
    assert {(row["score"], row["status"]) for row in graded.values()} == {("9", "ok")}
    assert len(result["outcomes"]) == 3


def _grading_under(pid: int) -> bool:
    """Whether process ``pid`` has a sandboxed grading kernel among its descendants."""
    try:
        return any(b"labkit.grading.kernel\0cells.json" in Path(f"/proc/{child}/cmdline").read_bytes()
                   for child in sandbox._descendants(pid) if child != pid)
    except OSError:
        return False


# --- reproduction on a cluster --------------------------------------------------------------------

DEPENDENT = ("lab4-improved", "lab4-frozen")
MACHINE = {"seconds", "environment"}


def reproduce(out: Path, *extra: str) -> list[dict]:
    only = [arg for name in DEPENDENT for arg in ("--only", name)]
    process = subprocess.run([sys.executable, "-m", "labkit.cli", "reproduce", "--quick", "--out", str(out), *only,
                              *extra], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-2000:]
    return json.loads((out / "results.json").read_text())


def test_reproduce_on_a_local_cluster_writes_the_records_of_a_serial_run(tmp_path):
    """Does `reproduce --quick --scheduler local:2`, with one experiment waiting for another's model, write the
    records a serial run writes (the same experiments, fields and settings; figures within TensorFlow's own
    run-to-run spread in a worker process), each naming its machine?"""
    serial = reproduce(tmp_path / "serial")
    spread = reproduce(tmp_path / "cluster", "--scheduler", "local:2")
    assert [r["name"] for r in spread] == [r["name"] for r in serial] == list(DEPENDENT)
    for ours, theirs in zip(spread, serial):
        assert set(ours) == set(theirs)
        same = {key for key in ours if key not in MACHINE | {"value", "excess_over_floor", "best_val_accuracy"}}
        assert {key: ours[key] for key in same} == {key: theirs[key] for key in same}
        assert ours["value"] == pytest.approx(theirs["value"], abs=0.02)
        assert ours["environment"]["host"] and ours["environment"]["cpu"]
    assert "lab4-frozen" in (tmp_path / "cluster" / "results.md").read_text()
