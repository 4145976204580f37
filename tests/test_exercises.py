"""Do the self-checks and the grader agree on every exercise of every lab? (labkit.grading.agreement)

For each lab with exercises, the solution's answers and the lab's plausible mistakes run through the notebook's
own self-check calls and through the grader's observer and rule (about 10-20 s a lab, in a process of its own).
The solution must pass both; every mistake must fail both; each exercise needs at least three mistakes.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from labkit import labs

ROOT = Path(__file__).resolve().parents[1]
GRADED = [lab.number for lab in labs.with_part("mistakes")]


@functools.cache
def verdicts(number: int) -> list[dict]:
    run = subprocess.run([sys.executable, "-m", "labkit.grading.agreement", str(number)], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]


def exercises(number: int) -> list[str]:
    return list(labs.get(number).part("grading").EXERCISES)


CASES = [(number, grade_id) for number in GRADED for grade_id in exercises(number)]


@pytest.mark.parametrize("number, grade_id", CASES, ids=[gid for _, gid in CASES])
def test_the_solution_passes_the_self_check_and_the_grader(number, grade_id):
    """Does the solution's answer pass the notebook's self-checks and score with the grader?"""
    verdict = next(v for v in verdicts(number) if v["grade_id"] == grade_id and v["answer"] == "solution")
    assert "answer_error" not in verdict, verdict
    assert verdict["self_check"] is None and verdict["grader"] == [], verdict


@pytest.mark.parametrize("number, grade_id", CASES, ids=[gid for _, gid in CASES])
def test_each_plausible_mistake_fails_the_self_check_and_the_grader(number, grade_id):
    """Does every plausible wrong answer (at least three per exercise) fail both the self-check and the grader?"""
    mistakes = [v for v in verdicts(number) if v["grade_id"] == grade_id and v["answer"] != "solution"]
    assert len(mistakes) >= 3, f"{grade_id} has {len(mistakes)} mistakes in labkit/labs/lab{number}/mistakes.py"
    disagreements = [v for v in mistakes if v["self_check"] is None or not v["grader"]]
    assert disagreements == [], disagreements
