"""What the grader's own cells do inside the sandbox, around each of the student's exercise cells.

A grading run (:mod:`labkit.grading.template`) is the lab's first cells, then for each exercise three
cells: ``prepare`` (the lab's grading module puts in the notebook's namespace the correct state the
exercise starts from, so that a broken earlier answer costs only its own points), the student's answer,
and ``export`` (the exercise's observer applies the student's objects to the grader's fresh inputs and
saves plain data under ``export/<grade_id>/``). Nothing here decides a mark: the grader reads that data
back in its own process and applies the exercise's rule.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from labkit.checks import observe_into
from labkit.grading.exchange import save_error

_LAB = None
_FOLDER = Path(".")


def start(number: int) -> None:
    """The run's first cell: the lab whose exercises follow, and the run's folder (the working directory)."""
    global _LAB, _FOLDER
    from labkit import labs

    _LAB, _FOLDER = labs.get(number).part("grading"), Path.cwd()


def _inputs() -> dict:
    return {path.stem: np.load(path, allow_pickle=False) for path in (_FOLDER / "inputs").glob("*.npy")}


def prepare(grade_id: str, namespace: dict) -> None:
    """Before the answer: the state the exercise starts from (the lab's ``prepare``)."""
    _LAB.prepare(grade_id, namespace)


def export(grade_id: str, namespace: dict) -> None:
    """After the answer: observe the objects the exercise names and save the plain data; record any failure."""
    exercise = _LAB.EXERCISES[grade_id]
    folder = _FOLDER / "export" / grade_id
    if folder.is_symlink() or folder.exists() and not folder.is_dir():
        folder.unlink()
    shutil.rmtree(folder, ignore_errors=True)  # whatever the student's code put there is not its export
    folder.mkdir(parents=True)
    try:
        observe_into(folder, exercise, {name: namespace.get(name) for name in exercise.names}, _inputs())
    except Exception as error:  # noqa: BLE001 - the student's objects can fail in any way: a wrong answer
        save_error(folder, error)
