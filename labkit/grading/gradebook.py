"""The grader's output: one gradebook row per submission, and a feedback file per student.

Both are written by the grader process only (never by a submission's kernel), each file atomically:
to a temporary file in the same folder, then renamed over the old one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

STATUSES = ("ok", "error", "timeout", "crashed", "out_of_memory", "unreadable", "invalid", "missing_answer",
            "skipped")
"""ok: ran to the end without an error in an answer cell; error: an answer cell raised; timeout: a cell
or the whole run took too long; crashed: the kernel died (os._exit, a signal); out_of_memory: the run
hit the memory cap; unreadable: not a readable UTF-8 JSON file, or no notebook; invalid: not a valid
nbformat 4 notebook (or several), or a symbolic link; missing_answer: an exercise cell deleted or left as the
placeholder; skipped: a hidden file or folder (its name starts with a dot), listed but not graded."""

UNGRADED = frozenset({"unreadable", "invalid", "timeout", "crashed", "out_of_memory", "skipped"})
"""Statuses of a submission that could not be graded to its end; any of them makes the exit code 1."""


@dataclass
class Outcome:
    """The result of grading one submission: its gradebook row and what its feedback file says."""

    student: str
    status: str
    points: dict[str, float]
    maximum: float
    seconds: float = 0.0
    feedback: dict[str, list[str]] = field(default_factory=dict)
    """Per question, why points were lost (empty list: full points)."""
    notes: list[str] = field(default_factory=list)
    log: str = ""
    """What the run printed (capped), for the instructor: written to the feedback folder's logs/."""
    digest: str = ""
    """SHA-256 of the submitted notebook's bytes (empty for a link or a hidden entry, which are never read)."""

    @property
    def score(self) -> float:
        return sum(self.points.values())


def _number(value: float) -> str:
    return f"{value:g}"


def _cell(text: str) -> str:
    """A spreadsheet must not read a student's name as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename it into place.

    The temporary name is short whatever ``path``'s name is, so that a name near the file system's limit
    still fits.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".labkit-", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


RUN_COLUMNS = ("status", "seconds", "sha256", "lab", "kit")
"""The columns after the points: how the row came about. ``sha256``, ``lab`` and ``kit`` say what was graded,
by which lab and which version of the kit's grading: a resumed run keeps a row only when all three match."""


def write_csv(path: Path, outcomes: list[Outcome], questions: dict[str, float], *, lab: int, kit: str) -> None:
    """The gradebook: student, score, max, one column per question, status, seconds, then what was graded
    (the submission's SHA-256, the lab, the kit's grading version); sorted by student."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max", *questions, *RUN_COLUMNS])
    for outcome in sorted(outcomes, key=lambda o: o.student):
        writer.writerow([_cell(outcome.student), _number(outcome.score), _number(outcome.maximum),
                         *(_number(outcome.points.get(gid, 0)) for gid in questions), outcome.status,
                         f"{outcome.seconds:.1f}", outcome.digest, lab, kit])
    write_atomically(path, buffer.getvalue())


def read_csv(path: Path, questions: dict[str, float], *, lab: int, kit: str) -> dict[str, Outcome]:
    """The rows of an earlier gradebook that a resumed run may keep: those of the same lab, kit and questions,
    by student, as outcomes (their feedback files stay as written). Anything unreadable keeps nothing."""
    try:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            if reader.fieldnames != ["student", "score", "max", *questions, *RUN_COLUMNS]:
                return {}
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    kept = {}
    for row in rows:
        if row["lab"] != str(lab) or row["kit"] != kit or not row["sha256"] or row["status"] not in STATUSES:
            continue
        student = row["student"][1:] if row["student"][:2] in ("'=", "'+", "'-", "'@") else row["student"]
        try:
            points = {gid: float(row[gid]) for gid in questions}
            kept[student] = Outcome(student, row["status"], points, float(row["max"]), float(row["seconds"]),
                                    digest=row["sha256"])
        except ValueError:
            continue
    return kept


_EXPLAIN = {
    "ok": "your notebook ran to its end.",
    "error": "an exercise cell raised an error (see below); the other exercises were graded anyway.",
    "timeout": "a cell, or the whole notebook, ran longer than allowed and was stopped; exercises exported "
               "before that keep their points.",
    "crashed": "the notebook's process ended before the run was over; exercises exported before that keep "
               "their points.",
    "out_of_memory": "the notebook used more memory than allowed; exercises exported before that keep their "
                     "points.",
    "unreadable": "the file could not be read as a notebook.",
    "invalid": "the file is not a valid Jupyter notebook, or it is a symbolic link (see below).",
    "missing_answer": "at least one exercise was not answered (its cell is missing or still says "
                      "`raise NotImplementedError()`).",
    "skipped": "the submission is hidden (its name starts with a dot), so it was not graded (see below).",
}


def feedback_text(outcome: Outcome, *, lab: int, questions: dict[str, float]) -> str:
    """The student's feedback file: score, status, and for each exercise what failed and why."""
    lines = [f"# Lab {lab}: feedback for {outcome.student}", "",
             f"**Score: {_number(outcome.score)} / {_number(outcome.maximum)}** · status `{outcome.status}`: "
             f"{_EXPLAIN[outcome.status]}", "",
             "Your exercise cells were run by the grader inside a copy of the lab (its other cells, not yours), "
             "and graded from what they computed on fresh inputs; the self-checks in the notebook do not "
             "decide the grade.", "", "## Exercises", ""]
    for gid, points in questions.items():
        earned = outcome.points.get(gid, 0)
        problems = outcome.feedback.get(gid)
        mark = "✅" if problems == [] else "❌"
        lines.append(f"- {mark} **{gid}**: {_number(earned)} / {_number(points)}")
        lines += [f"    - {problem}" for problem in (problems or [])]
    if outcome.notes:
        lines += ["", "## The run", ""] + [f"- {note}" for note in outcome.notes]
    return "\n".join(lines) + "\n"


MAX_FEEDBACK_STEM = 100
"""Characters of a student's id kept in a feedback file's name (file systems allow 255 bytes in all)."""


def feedback_name(student: str) -> str:
    """The feedback file's name for a student: only letters, digits, '.', '_' and '-', at most about 120
    bytes, and different for different students. An id that had to be changed or shortened to fit gets a
    short hash of the whole id, so that ``José`` and ``Josè`` (or ``.carol`` and ``carol``) never share a file.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", student).lstrip(".") or "_"
    if safe != student or len(safe) > MAX_FEEDBACK_STEM:
        digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        safe = f"{safe[:MAX_FEEDBACK_STEM]}-{digest}"
    return safe + ".md"


def summary(outcomes: list[Outcome], *, seconds: float, workers: int, graded: int | None = None) -> str:
    """Counts per status, the mean score, and the time taken (``graded``: submissions run in this run, if not all)."""
    counts = Counter(o.status for o in outcomes)
    n = len(outcomes)
    graded = n if graded is None else graded
    mean = sum(o.score for o in outcomes) / n if n else 0.0
    maximum = max((o.maximum for o in outcomes), default=0)
    statuses = ", ".join(f"{status} {counts[status]}" for status in STATUSES if counts[status])
    return (f"{n} submissions: {statuses or 'none'}; mean score {mean:.2f} / {_number(maximum)}; "
            f"{graded} run in {seconds:.0f} s with {workers} worker(s), {seconds / graded if graded else 0:.1f} s "
            f"per submission, {60 * graded / seconds if seconds else 0:.1f} submissions per minute")
