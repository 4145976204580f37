"""`labkit grade --lab N` on each gradable lab's adversarial corpus (tests/corpus.py), beyond Lab 1's committed one.

Each lab's twelve submissions are graded once by `labkit grade` with 2 workers and short limits (a module
fixture per lab; about a minute a lab on 2 cores, most of it importing TensorFlow in each sandbox), in a course
folder with the gradebook beside the submissions. Every submission must get exactly its score and status.
"""

from __future__ import annotations

import csv
import functools
import subprocess
import sys
import time
from pathlib import Path

import pytest

import corpus
from labkit import labs

ROOT = Path(__file__).resolve().parents[1]
LABS = [lab.number for lab in labs.with_part("grading") if lab.number != 1]
DEADLINE_S = 90


@functools.cache
def graded(number: int, folder: str) -> tuple[subprocess.CompletedProcess, dict[str, dict], dict, float]:
    course = Path(folder) / f"lab{number}"
    written = corpus.write(number, course / "submissions")
    started = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "labkit.cli", "grade", str(course / "submissions"), "--lab", str(number),
         "--out", str(course / "gradebook.csv"), "--workers", "2", "--deadline", str(DEADLINE_S),
         "--cell-timeout", "10", "--memory-mb", "1500", "--seed", "11"],
        cwd=ROOT, capture_output=True, text=True, timeout=1200)
    with open(course / "gradebook.csv", newline="") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    return process, rows, written, time.monotonic() - started


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("course"))


CASES = [(number, case.name) for number in LABS for case in corpus.cases(number)]


@pytest.mark.parametrize("number, name", CASES, ids=[f"lab{n}-{name}" for n, name in CASES])
def test_each_submission_gets_its_exact_score_and_status(course, number, name):
    """Does each submission of the lab's corpus get exactly its expected score and status?"""
    process, rows, written, _ = graded(number, course)
    row = rows.get(name)
    assert row is not None, process.stderr[-3000:]
    case = written[name]
    assert (float(row["score"]), row["status"]) == (case.score, case.status), (row, process.stderr[-2000:])


@pytest.mark.parametrize("number", LABS)
def test_no_trick_scores_above_the_honest_submission_it_builds_on(course, number):
    """Does no trick of the corpus score more than the honest submission with the same right answers: a trick added
    to the honest-wrong answers no more than they, a run broken after a right first exercise no more than the
    partly done submission (whose right answers include that exercise, worth more than the last in some labs)?"""
    _, rows, written, _ = graded(number, course)
    wrong = written["honest_wrong"].answers
    first = next(iter(wrong))
    for name in set(rows) - corpus.HONEST:
        on_wrong = all(written[name].answers[gid] == wrong[gid] for gid in wrong if gid != first)
        honest = "honest_wrong" if on_wrong else "partly_done"
        assert float(rows[name]["score"]) <= float(rows[honest]["score"]), (name, honest)


@pytest.mark.parametrize("number", LABS)
def test_one_row_and_feedback_each_and_each_within_its_deadline(course, number):
    """Is there one row and one feedback file per submission, each run within its deadline plus 10 s?"""
    process, rows, written, _ = graded(number, course)
    assert sorted(rows) == sorted(written), process.stderr[-2000:]
    feedback = Path(course) / f"lab{number}" / "gradebook_feedback"
    assert sorted(path.stem for path in feedback.glob("*.md")) == sorted(written)
    assert max(float(row["seconds"]) for row in rows.values()) <= DEADLINE_S + 10
    assert process.returncode == 1 and "could not be graded" in process.stderr
