"""Checks that are fair to the student (issue #23): a correct answer passes every self-check and every target
check, on the full data, on the shipped sample outside quick mode (an offline student) and in quick mode.

What runs where, so that no case costs a whole notebook run more than once:

* **The self-checks of the exercises** (``checks.check_*``): here, on the full data and on the sample outside
  quick mode, with the solution's own cells up to its first training (its answers and their checks; nothing is
  trained). ``tests/test_notebooks.py`` runs every cell in quick mode, these included. The checks after a
  training judge what a function or a model computes, not how well it was trained, on inputs of their own:
  the quick-mode run shows them on the sample, the committed full-scale runs on the full data.
* **The target checks** (``checks.expect_*``): the full target holds on the full data only, elsewhere only
  beating the mean image or 50 % (``tests/test_checks.py``). Here: every target check of every solution names
  the data it ran on: the sample for an offline student outside quick mode, the full data with
  ``LABKIT_DATA_DIR``. That the lab's recipe meets the relaxed target on the sample is shown by the quick-mode
  run of ``tests/test_notebooks.py`` (at most 4 epochs: the lab's own epochs only train the same models
  further); that it meets the full target, by the committed full-scale runs (``tests/test_figures.py``: no
  error, a ✅ under every check). Training each lab's models for their full epochs on the sample would cost
  minutes per lab, for a target a model that learned anything meets.

The full data comes from ``LABKIT_DATA_DIR`` or ``../shared/datasets``; without it the full-data case is skipped
and says why (``conftest.full_data_dir``).
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import nbformat
import pytest

from labkit import checks, data, labs

ROOT = Path(__file__).resolve().parents[1]
TARGET_CHECKS = ("checks.expect_loss_at_most", "checks.expect_accuracy_at_least")


def _code(lab) -> list[str]:
    notebook = nbformat.read(ROOT / "solutions" / lab.notebook, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def _checks_called(sources: list[str]) -> int:
    return sum(source.count("checks.check_") + source.count("checks.expect_") for source in sources)


def _target_sources(sources: list[str]) -> list[tuple[str, str | None]]:
    """Each target check the cells call, with the code of its ``source=`` argument (None where it has none)."""
    found = []
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in TARGET_CHECKS:
                given = next((keyword.value for keyword in node.keywords if keyword.arg == "source"), None)
                found.append((ast.unparse(node.func), None if given is None else ast.unparse(given)))
    return found


class FirstTraining(Exception):
    """The solution has reached its first training (``keras.Model.fit``, which every lab's training calls)."""


def _stop_training(model, *args, **kwargs):
    raise FirstTraining(model.name)


@pytest.fixture
def restore_keras_policy():
    previous = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(previous)


@pytest.mark.parametrize("mode", ["sample", "full"])
@pytest.mark.parametrize("lab", labs.with_part("checks"), ids=lambda lab: f"lab{lab.number}")
def test_a_correct_answer_passes_every_check_on_each_kind_of_data(request, monkeypatch, capsys,
                                                                  restore_keras_policy, lab, mode):
    """Do the solution's cells up to its first training (its answers and their self-checks; the training itself
    is stopped where it calls keras.Model.fit) pass on the full data and on the shipped sample outside quick mode, and does every target check of the solution judge its result
    by the data the solution loaded (the full target only on the full data)?"""
    if mode == "full":
        monkeypatch.setenv("LABKIT_DATA_DIR", str(request.getfixturevalue("full_data_dir")))
    monkeypatch.setattr(keras.Model, "fit", _stop_training)
    code = _code(lab)
    namespace, ran = {"__name__": "__main__", "display": print}, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", data.SampleDataWarning)
        for source in code:
            try:
                exec(compile(source, f"<{lab.notebook}>", "exec"), namespace)  # noqa: S102 - the lab's own cells
            except FirstTraining:
                break
            ran.append(source)
        else:
            pytest.fail(f"{lab.notebook} never trains a model: nothing to stop at")
    plt.close("all")
    out = capsys.readouterr().out
    # at least: the cell that starts the training may check something before it
    assert out.count("✅") >= _checks_called(ran) > 0, out[-3000:]
    assert "QUICK MODE" not in out
    targets = _target_sources(code)
    assert targets, f"{lab.notebook} checks no result against the lab's target"
    for function, given in targets:
        assert given is not None, f"{lab.notebook}: {function} without source= (the data it ran on)"
        source = eval(given, namespace)  # noqa: S307 - an expression of the lab's own cells
        assert checks.on_full_data(source) == (mode == "full"), (lab.notebook, given, source)
