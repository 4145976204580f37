import json
import subprocess
import sys

import pytest

from labkit import reproduce
from labkit.reproduce import Experiment


def fake(value):
    def run(ctx):
        if isinstance(value, Exception):
            raise value
        return {"value": value, "epochs": ctx.epochs(10), "batch_size": 8}
    return run


@pytest.fixture
def fake_experiments(monkeypatch):
    experiments = {
        "good": Experiment("good", 1, "a loss that meets", "val_bce", fake(0.07), published=0.0733),
        "boom": Experiment("boom", 2, "an experiment that crashes", "val_bce", fake(RuntimeError("out of cheese"))),
        "acc": Experiment("acc", 4, "an accuracy that misses", "test_accuracy", fake(0.85), published=0.8897),
    }
    monkeypatch.setattr(reproduce, "EXPERIMENTS", experiments)
    monkeypatch.setattr(reproduce, "environment", lambda: {"device": "CPU", "cpu": "test"})


def test_a_crash_is_recorded_and_the_others_still_run(fake_experiments, tmp_path, capsys):
    """Does one crashed experiment leave the others' records intact and make the exit code 1?"""
    assert reproduce.run(quick=True, out=tmp_path) == 1
    records = json.loads((tmp_path / "results.json").read_text())
    assert [r["name"] for r in records] == ["good", "boom", "acc"]
    assert [r["verdict"] for r in records] == ["meets", "crashed", "misses"]
    assert records[1]["value"] is None and "out of cheese" in records[1]["error"]
    assert records[0]["epochs"] == 5 and records[0]["quick"] is True
    table = (tmp_path / "results.md").read_text()
    assert "| a loss that meets | 1 | val_bce | 0.0700 | 0.0733 |" in table
    assert "85.00 %" in table and "88.97 %" in table
    assert "CRASHED: RuntimeError: out of cheese" in capsys.readouterr().out


def test_unknown_experiment_is_refused(fake_experiments, tmp_path):
    """Is a misspelled --only name refused before anything trains?"""
    assert reproduce.run(["gdoo"], out=tmp_path) == 2
    assert not (tmp_path / "results.json").exists()


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    """Does writing replace the file whole and leave nothing else in the folder?"""
    target = tmp_path / "results.json"
    reproduce.write_atomically(target, "[1]\n")
    reproduce.write_atomically(target, "[2]\n")
    assert target.read_text() == "[2]\n" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_cli_runs_an_experiment_in_quick_mode(tmp_path):
    """Does `labkit reproduce --quick --only lab1-dense` train and write a valid record?"""
    run = subprocess.run([sys.executable, "-m", "labkit.cli", "reproduce", "--quick", "--only", "lab1-dense",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (record,) = json.loads((tmp_path / "results.json").read_text())
    assert record["name"] == "lab1-dense" and record["quick"] is True
    assert 0.0 < record["value"] < 0.7 and record["excess_over_floor"] > 0
    assert record["data"]["source"].startswith("sample") and record["data"]["train"] == 5000
    assert record["environment"]["device"] in ("CPU",) or record["environment"]["device"].startswith("GPU")
    assert "Epoch 1/5" in run.stdout
