"""Do a lab's self-checks and its grader agree? Every exercise's solution and plausible mistakes, judged both ways.

For each exercise of a lab, the solution's answer and each of the lab's ``MISTAKES`` run in a namespace
made by the lab's first cells (in quick mode) and the grader's ``prepare``; then the notebook's own
self-check calls for that exercise run on the student's objects, and the grader's path runs too: the
exercise's observer on the grader's fresh inputs, the saved data read back, the rule. The solution must
pass both; every mistake must fail both. ``tests/test_exercises.py`` runs this for every lab:

    python -m labkit.grading.agreement LAB [--solutions FOLDER]     # prints one JSON line per answer

It runs in its own process: a lab's first cells may set global Keras state (a dtype policy).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np

from labkit import labs
from labkit.assign import BEGIN, END

GRADER_SEED = 20261203
"""The grader draws fresh inputs for each run; here one fixed draw other than the self-checks' own (seed 0)."""


def solution_answers(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Each exercise cell of a solution notebook with its solution markers removed: the correct answer."""
    return {cell.metadata["labkit"]["grade_id"]: "\n".join(
        line for line in cell.source.splitlines() if line.strip() not in (BEGIN, END))
        for cell in notebook.cells if cell.cell_type == "code" and cell.metadata.get("labkit")}


def self_check_calls(notebook: nbformat.NotebookNode) -> dict[str, list[str]]:
    """For each exercise, the statements of the notebook that call ``checks.check_*`` after it (before the next
    exercise): the self-checks a student runs."""
    calls: dict[str, list[str]] = {}
    current = None
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        grade_id = (cell.metadata.get("labkit") or {}).get("grade_id")
        if grade_id:
            current = grade_id
            calls[current] = []
            continue
        if current is None:
            continue
        for statement in ast.parse(cell.source).body:
            call = statement.value if isinstance(statement, ast.Expr) else None
            function = getattr(call, "func", None)
            if (isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name)
                    and function.value.id == "checks" and function.attr.startswith("check_")):
                calls[current].append(ast.get_source_segment(cell.source, statement))
    return calls


def judge_answer(lab: labs.Lab, grade_id: str, answer: str, base: dict, calls: list[str], reference: dict) -> dict:
    """The self-checks' verdict and the grader's on one answer: ``{"self_check": problem or None, "grader": [...]}``."""
    from labkit.checks import CheckFailed, judge, observe_into
    from labkit.grading.exchange import Exported

    grading = lab.part("grading")
    namespace = dict(base)
    verdict = {"grade_id": grade_id}
    with contextlib.redirect_stdout(io.StringIO()):
        grading.prepare(grade_id, namespace)
        try:
            exec(compile(answer, f"<{grade_id}>", "exec"), namespace)  # noqa: S102 - the lab's own answers
        except Exception as error:  # noqa: BLE001 - a mistake may break the cell itself
            verdict["answer_error"] = f"{type(error).__name__}: {error}"[:300]
        checked = dict(namespace)
        verdict["self_check"] = None
        for call in calls:
            try:
                exec(compile(call, "<self-check>", "exec"), checked)  # noqa: S102
            except CheckFailed as failed:
                verdict["self_check"] = str(failed)[:300]
                break
            except Exception as error:  # noqa: BLE001 - the student's objects raised inside the check
                verdict["self_check"] = f"{type(error).__name__}: {error}"[:300]
                break
        exercise = grading.EXERCISES[grade_id]
        inputs = grading.make_inputs(np.random.default_rng(GRADER_SEED))
        with tempfile.TemporaryDirectory(prefix="labkit-agreement-") as folder:
            try:
                observe_into(Path(folder), exercise, {name: namespace.get(name) for name in exercise.names}, inputs)
            except Exception as error:  # noqa: BLE001 - as the export cell records it
                from labkit.grading.exchange import save_error

                save_error(Path(folder), error)
            verdict["grader"] = judge(exercise, Exported(Path(folder)), inputs, grading.expected(grade_id, reference))
    return verdict


def run(number: int, solutions: Path) -> list[dict]:
    """Every exercise of lab ``number``: its solution, then each mistake, judged both ways."""
    os.environ["LABKIT_QUICK"] = "1"
    lab = labs.get(number)
    notebook = nbformat.read(Path(solutions) / lab.notebook, as_version=4)
    preamble = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            if cell.metadata.get("labkit"):
                break
            preamble.append(cell.source)
    base: dict = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()):
        for source in preamble:
            exec(compile(source, "<preamble>", "exec"), base)  # noqa: S102 - the lab's own cells
    answers, calls = solution_answers(notebook), self_check_calls(notebook)
    mistakes = lab.part("mistakes").MISTAKES
    reference = lab.part("grading").reference()
    verdicts = []
    for grade_id, solution in answers.items():
        for name, answer in [("solution", solution), *mistakes.get(grade_id, {}).items()]:
            verdict = judge_answer(lab, grade_id, answer, base, calls.get(grade_id, []), reference)
            verdicts.append({"answer": name, **verdict})
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lab", type=int)
    parser.add_argument("--solutions", type=Path, default=Path("solutions"))
    args = parser.parse_args(argv)
    for verdict in run(args.lab, args.solutions):
        print(json.dumps(verdict))
    return 0


if __name__ == "__main__":
    sys.exit(main())
