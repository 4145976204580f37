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
    monkeypatch.setattr(reproduce, "_EXPERIMENTS", experiments)
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
    assert "| `good`: a loss that meets | 1 | val_bce | 0.0700 | 0.0733 |" in table
    assert "QUICK MODE" in table and "1 of 3 meet" in table
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")
    assert "85.00 %" in table and "88.97 %" in table
    assert "CRASHED: RuntimeError: out of cheese" in capsys.readouterr().out


def test_unknown_experiment_is_refused(fake_experiments, tmp_path):
    """Is a misspelled --only name refused before anything trains?"""
    assert reproduce.run(["gdoo"], out=tmp_path) == 2
    assert not (tmp_path / "results.json").exists()


def test_update_replaces_only_the_rerun_records(fake_experiments, tmp_path, monkeypatch, capsys):
    """Does --update re-run one experiment, keep the others' records, in order, and name both machines?"""
    assert reproduce.run(quick=True, out=tmp_path) == 1
    before = {r["name"]: r for r in json.loads((tmp_path / "results.json").read_text())}
    monkeypatch.setitem(reproduce.EXPERIMENTS, "good",
                        Experiment("good", 1, "a loss that meets, improved", "val_bce", fake(0.05), published=0.0733))
    monkeypatch.setattr(reproduce, "environment", lambda: {"device": "CPU", "cpu": "second"})
    assert reproduce.run(["good"], quick=True, out=tmp_path, update=True) == 0
    after = json.loads((tmp_path / "results.json").read_text())
    assert [r["name"] for r in after] == ["good", "boom", "acc"]
    assert after[0]["value"] == 0.05 and after[0]["environment"]["cpu"] == "second"
    assert after[1:] == [before["boom"], before["acc"]]
    table = (tmp_path / "results.md").read_text()
    assert "CPU: second (None cores)" in table and "(`good`)" in table and "(`boom`, `acc`)" in table
    assert "kept 2 earlier records" in capsys.readouterr().out


@pytest.mark.parametrize("existing, says", [
    (None, "there is none"),
    ("[{\"name\": \"good\"", "is not a results file"),
    ("[{\"name\": \"gone\", \"quick\": true, \"seed\": 0}]", "no longer exist"),
    ("[{\"name\": \"acc\", \"quick\": false, \"seed\": 0}]", "holds full-scale records"),
    ("[{\"name\": \"acc\", \"quick\": true, \"seed\": 7}]", "seed 7"),
])
def test_update_refuses_a_file_it_cannot_merge_into_and_changes_nothing(fake_experiments, tmp_path, capsys,
                                                                         existing, says):
    """Is a missing, broken or incompatible results file refused with advice, before anything trains?"""
    results = tmp_path / "results.json"
    if existing is not None:
        results.write_text(existing)
    assert reproduce.run(["good"], quick=True, out=tmp_path, update=True, seed=0) == 2
    assert says in capsys.readouterr().out
    assert (results.read_text() if existing is not None else None) == existing
    assert sorted(p.name for p in tmp_path.iterdir()) == (["results.json"] if existing is not None else [])


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
    assert record["data"]["source"].startswith("shipped sample") and record["data"]["train"] == 5000
    assert record["environment"]["device"] in ("CPU",) or record["environment"]["device"].startswith("GPU")
    assert "Epoch 1/5" in run.stdout
    assert (record["precision"], record["xla"]) == ("float32", False)  # Lab 1's dense model, compiled plainly
    assert "| float32 |" in (tmp_path / "results.md").read_text()


def test_the_record_says_how_each_model_computed(monkeypatch):
    """Does the record name the compute precision most layers used, and whether XLA compiled the model?"""
    from labkit import models

    monkeypatch.setenv("LABKIT_PRECISION", "mixed_bfloat16")
    lab4, _, _ = models.conv_autoencoder()
    lab4.compile(optimizer="adam", loss="binary_crossentropy")
    monkeypatch.setenv("LABKIT_PRECISION", "float32")
    lab2, _, _ = models.conv_denoiser()
    lab2.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=True)
    assert reproduce.trained_with(lab4) == {"precision": "mixed_bfloat16", "xla": False}
    assert reproduce.trained_with(lab2) == {"precision": "float32", "xla": True}
    assert reproduce.computed_in({"precision": "float32", "xla": True}) == "float32 + XLA"
    assert reproduce.computed_in({"value": None}) == "—"  # crashed before it said


def test_a_lab_target_stands_in_where_the_report_has_no_figure():
    """Is an experiment without a published figure judged against its lab's target, and said so?"""
    lab_only = Experiment("x", 1, "x", "val_bce", fake(0.09), target=0.088)
    assert reproduce.verdict(lab_only, 0.087) == "meets the lab's target"
    assert reproduce.verdict(lab_only, 0.089) == "misses the lab's target"
    neither = Experiment("y", 4, "y", "test_accuracy", fake(0.9))
    assert reproduce.verdict(neither, 0.9) == "reported (no published figure)"
    accuracy = Experiment("z", 4, "z", "test_accuracy", fake(0.9), published=0.8897)
    assert reproduce.verdict(accuracy, 0.8897) == "meets" and reproduce.verdict(accuracy, 0.88) == "misses"


def test_every_claim_of_the_issue_has_an_experiment():
    """Does the registry hold every experiment the labs make claims about, each published figure once?"""
    names = set(reproduce.EXPERIMENTS)
    assert {"lab1-dense", "lab2-denoiser", "lab4-baseline", "lab4-improved", "lab4-fashion", "lab4-frozen",
            "lab4-fine-tuned", "lab4-scratch"} <= names
    assert {f"lab3-latent-{size}" for size in (2, 8, 16, 32)} <= names
    published = sorted(e.published for e in reproduce.EXPERIMENTS.values() if e.published is not None)
    assert published == [0.0684, 0.0733, 0.1141, 0.1236, 0.1669, 0.2613, 0.8897, 0.9090]


def test_committed_results_are_a_full_scale_run_that_meets_every_figure():
    """Is results/results.json a full-scale run of every experiment, each meeting its figure or target?"""
    from pathlib import Path

    records = json.loads((Path(__file__).resolve().parents[1] / "results" / "results.json").read_text())
    assert [r["name"] for r in records] == list(reproduce.EXPERIMENTS)
    for r in records:
        assert r["quick"] is False and r["value"] is not None, r["name"]
        assert r["data"]["train"] == 60_000 and r["data"]["test"] == 10_000, r["name"]
        assert r["description"] == reproduce.EXPERIMENTS[r["name"]].description, f"{r['name']} is stale"
        assert r["verdict"] == reproduce.verdict(reproduce.EXPERIMENTS[r["name"]], r["value"]), r["name"]
        assert not r["verdict"].startswith("misses"), f"{r['name']}: {r['value']} {r['verdict']}"
