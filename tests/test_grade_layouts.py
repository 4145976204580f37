"""Grading in the folder layouts instructors use, and the entries of a submissions folder that are not plain
notebooks: long or Unicode names, symbolic links, hidden files (labkit.grading.run, .submission, .sandbox).

The unit tests need no TensorFlow. The END-TO-END test grades the solution's answers with `labkit grade` in
five course-folder layouts (about 40 s on 2 cores: one kernel per layout, two layouts at a time).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from labkit.grading import gradebook, run, sandbox, submission
from labkit.grading.gradebook import Outcome

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "lab1_dense_autoencoder.ipynb"
STUDENT = ROOT / "labs" / "lab1_dense_autoencoder.ipynb"
BWRAP = sandbox.isolation() == "bubblewrap"
needs_bwrap = pytest.mark.skipif(not BWRAP, reason="bubblewrap (bwrap) is not installed here")


def solution_answers() -> dict[str, str]:
    notebook = nbformat.read(SOLUTION, as_version=4)
    return {cell.metadata["labkit"]["grade_id"]: "\n".join(
        line for line in cell.source.splitlines() if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION"))
        for cell in notebook.cells if cell.metadata.get("labkit")}


def write_submission(path: Path, answers: dict[str, str]) -> Path:
    """The student notebook with ``answers`` in its exercise cells, saved at ``path``."""
    notebook = nbformat.read(STUDENT, as_version=4)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("labkit", {}).get("grade_id")
        if grade_id:
            cell.source = answers[grade_id]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def rows(gradebook_csv: Path) -> dict[str, dict]:
    with open(gradebook_csv, newline="", encoding="utf-8") as file:
        return {row["student"]: row for row in csv.DictReader(file)}


# --- what the sandbox hides, for any nesting of the folders -----------------------------------------

def test_a_hidden_folder_inside_another_is_not_mounted_again(tmp_path):
    """Is only the outermost of nested hidden folders mounted, so that no mount covers another's mount point?"""
    course = tmp_path / "course"
    submissions = course / "lab1" / "submissions"
    submissions.mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    mounts = sandbox.layout(work, [submissions, course / "lab1", course / "lab1"], [])
    assert ("hide", course / "lab1") in mounts or Path("/tmp") in course.parents
    assert not any(path == submissions for _, path in mounts)
    assert len([path for _, path in mounts]) == len({path for _, path in mounts})


def test_folders_outside_tmp_are_hidden_and_what_python_needs_stays_visible(tmp_path):
    """In a folder outside /tmp: is the outermost hidden folder a tmpfs, an exposed folder inside it a read-only
    bind mounted after it, and a hidden folder inside that exposed one hidden again after that?"""
    top = Path(tempfile.mkdtemp(prefix="labkit-layout-", dir="/var/tmp"))
    try:
        course, venv, inner = top / "course", top / "course" / "venv", top / "course" / "venv" / "secret"
        inner.mkdir(parents=True)
        work = tmp_path / "work"
        work.mkdir()
        mounts = [m for m in sandbox.layout(work, [course, inner], [venv]) if top in m[1].parents]
        assert mounts == [("hide", course), ("expose", venv), ("hide", inner)]
    finally:
        shutil.rmtree(top)


def test_tmp_and_home_are_hidden_and_the_work_folder_is_bound_last(tmp_path):
    """Are /tmp and the home folder always hidden, and the writable work folder mounted after them?"""
    work = tmp_path / "work"
    work.mkdir()
    mounts = sandbox.layout(work, [], [])
    assert mounts[0] == ("hide", Path("/tmp")) or mounts[0][1] in (Path("/tmp"), Path.home().resolve())
    assert ("hide", Path("/tmp")) in mounts and mounts[-1] == ("bind", work)


@needs_bwrap
def test_every_hidden_folder_looks_empty_in_each_nesting(tmp_path):
    """With submissions inside the gradebook's folder, or the same folder for both, does the sandbox start and
    see neither the submissions nor the gradebook?"""
    top = Path(tempfile.mkdtemp(prefix="labkit-layout-", dir="/var/tmp"))
    try:
        course = top / "course" / "lab1"
        (course / "submissions").mkdir(parents=True)
        (course / "submissions" / "alice.ipynb").write_text("{}")
        (course / "gradebook.csv").write_text("student,score\n")
        work = tmp_path / "work"
        work.mkdir()
        code = ("import os, sys\nfor p in sys.argv[1:]:\n"
                "    print(sorted(os.listdir(p)) if os.path.isdir(p) else 'missing')")
        for hide in ([course / "submissions", course], [course, course / "submissions"],
                     [course / "submissions", course / "submissions"]):
            result = sandbox.run([sys.executable, "-I", "-c", code, *map(str, hide)], workdir=work,
                                 env={"PATH": "/usr/bin:/bin"}, limits=sandbox.Limits(deadline_s=30), hide=hide,
                                 expose=sandbox.python_paths())
            assert result.returncode == 0, result.output
            assert set(result.output.split()) <= {"[]", "missing"}, result.output
    finally:
        shutil.rmtree(top)


# --- names, links and hidden files ------------------------------------------------------------------

def test_long_and_unicode_names_get_distinct_feedback_files_that_fit(tmp_path):
    """Does every id (248 bytes, Unicode, dotted, unsafe) get its own feedback file, written without error?"""
    students = ["attack_name_long_" + "x" * 225, "José", "Josè", "李雷", ".carol", "carol", "../../etc/passwd",
                "=cmd"]
    names = [gradebook.feedback_name(s) for s in students]
    assert len(set(names)) == len(students)
    for student, name in zip(students, names):
        assert len(name.encode()) <= 120 and "/" not in name
        gradebook.write_atomically(tmp_path / name, gradebook.feedback_text(
            Outcome(student, "ok", {"Q": 1.0}, 1), lab=1, questions={"Q": 1}))
        assert f"feedback for {student}" in (tmp_path / name).read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def test_links_hidden_entries_and_other_files_are_each_reported(tmp_path):
    """Are links (inside or outside the folder) invalid, hidden notebooks skipped, Jupyter's checkpoints and
    other files listed as not graded, and real notebooks and folders found?"""
    folder = tmp_path / "submissions"
    (folder / "dave").mkdir(parents=True)
    (folder / ".ipynb_checkpoints").mkdir()
    for name in ("alice.ipynb", ".carol.ipynb", "notes.txt"):
        (folder / name).write_text("{}")
    (folder / "bob.ipynb").symlink_to(SOLUTION)
    (folder / "eve.ipynb").symlink_to(folder / "alice.ipynb")
    found, ignored = submission.find(folder)
    by_student = {entry.student: entry for entry in found}
    assert sorted(by_student) == [".carol", "alice", "bob", "dave", "eve"]
    assert by_student["alice"].status is None and by_student["dave"].status is None
    assert by_student[".carol"].status == "skipped" and "carol.ipynb" in by_student[".carol"].note
    assert by_student["bob"].status == "invalid" and "outside the submissions folder" in by_student["bob"].note
    assert by_student["eve"].status == "invalid" and "symbolic link" in by_student["eve"].note
    assert ignored == [".ipynb_checkpoints", "notes.txt"]


def test_a_link_is_never_read_even_when_it_appears_after_the_listing(tmp_path):
    """Is a notebook that became a link (or a link inside a student's folder) refused when it is opened?"""
    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "bob.ipynb").symlink_to(SOLUTION)
    (folder / "carol").mkdir()
    (folder / "carol" / "lab1_dense_autoencoder.ipynb").symlink_to(SOLUTION)
    for name in ("bob.ipynb", "carol"):
        with pytest.raises(submission.SubmissionError, match="symbolic link") as raised:
            submission.load(folder / name, "lab1_dense_autoencoder.ipynb")
        assert raised.value.status == "invalid"
    write_submission(folder / "dave" / "work" / "lab1_dense_autoencoder.ipynb", solution_answers())
    assert submission.load(folder / "dave", "lab1_dense_autoencoder.ipynb").notebook.cells


@needs_bwrap
def test_a_sandbox_that_cannot_start_stops_grading_before_any_row(tmp_path, monkeypatch):
    """When bubblewrap cannot set up the sandbox, does grading stop with bubblewrap's message and no gradebook?"""
    folder = tmp_path / "submissions"
    write_submission(folder / "alice.ipynb", solution_answers())
    monkeypatch.setattr(sandbox, "_BWRAP_BASE", [*sandbox._BWRAP_BASE, "--ro-bind", "/no/such/folder", "/mnt"])
    with pytest.raises(run.GradingError, match="could not start.*bwrap.*/no/such/folder") as raised:
        run.grade_folder(folder, lab=1, out=tmp_path / "out" / "gradebook.csv", solutions=ROOT / "solutions")
    assert "no gradebook was written" in str(raised.value)
    assert not (tmp_path / "out").exists()


def test_a_kernel_that_never_starts_stops_grading_without_blaming_students(tmp_path, monkeypatch):
    """If the sandbox fails for a submission (no kernel ever reported ready), does grading stop with the cause
    instead of writing `crashed` zeros, while rows without a run (a link) stay?"""
    folder = tmp_path / "submissions"
    for name in ("alice", "bob", "carol"):
        write_submission(folder / f"{name}.ipynb", solution_answers())
    (folder / "mallory.ipynb").symlink_to(SOLUTION)
    monkeypatch.setattr(sandbox, "preflight", lambda **kwargs: None)
    monkeypatch.setattr(sandbox, "run", lambda *a, **k: sandbox.RunResult(
        returncode=1, killed_for=None, output="bwrap: Can't mount tmpfs on /newroot/x: No space left on device",
        output_dropped=0, seconds=0.1, peak_memory_mb=0, isolation="bubblewrap", events=[]))
    out = tmp_path / "out" / "gradebook.csv"
    with pytest.raises(run.GradingError, match="grading stopped.*No space left on device"):
        run.grade_folder(folder, lab=1, out=out, solutions=ROOT / "solutions", workers=1)
    assert {name: row["status"] for name, row in rows(out).items()} == {"mallory": "invalid"}


def test_one_submission_failing_in_the_grader_gets_its_row_and_the_run_goes_on(tmp_path, monkeypatch):
    """Does an unexpected error while grading one submission become its `crashed` row, with the others graded?"""
    folder = tmp_path / "submissions"
    for name in ("alice", "bob", "carol"):
        write_submission(folder / f"{name}.ipynb", solution_answers())

    def grade_task(task):
        if task.student == "bob":
            raise OSError(36, "File name too long")
        return Outcome(task.student, "ok", dict.fromkeys(task.template.questions, 1.0), task.template.max_score)

    monkeypatch.setattr(sandbox, "preflight", lambda **kwargs: None)
    monkeypatch.setattr(run, "grade_task", grade_task)
    out = tmp_path / "gradebook.csv"
    outcomes = run.grade_folder(folder, lab=1, out=out, solutions=ROOT / "solutions", workers=2)
    assert sorted(o.student for o in outcomes) == ["alice", "bob", "carol"]
    graded = rows(out)
    assert graded["bob"]["status"] == "crashed" and graded["alice"]["status"] == graded["carol"]["status"] == "ok"
    assert "File name too long" in (tmp_path / "gradebook_feedback" / "bob.md").read_text()


# --- END-TO-END: the solution's answers graded in five course-folder layouts ---------------------------

LONG = "attack_name_long_" + "x" * 225
SECRETS = ("submissions", "another_submission", "gradebook", "gradebook_folder", "solutions")
"""What a graded submission must not see (each prints as `missing` or an empty listing `[]`)."""


def _spy(secrets: dict[str, Path]) -> str:
    """Code that prints what a submission can see of each secret folder or file (it changes no answer)."""
    return ("\nimport os as _os\n"
            f"for _label, _path in {json.dumps({k: str(v) for k, v in secrets.items()})}.items():\n"
            "    if _os.path.isdir(_path):\n"
            "        _seen = sorted(_os.listdir(_path))\n"
            "    else:\n"
            "        try:\n"
            "            _seen = 'read ' + open(_path).read(40)\n"
            "        except OSError:\n"
            "            _seen = 'missing'\n"
            "    print('SPY', _label, _seen)\n")


def _layouts(home: Path, data: Path, tmp: Path) -> dict[str, tuple[Path, Path]]:
    """name: (submissions folder as given to `labkit grade`, gradebook), each in its own course folder."""
    linked = tmp / "linked" / "course"
    (linked / "real-submissions").mkdir(parents=True)
    (linked / "submissions").symlink_to(linked / "real-submissions")
    same = data / "same" / "lab1"
    return {
        "submissions inside the gradebook's folder": (data / "nested" / "lab1" / "submissions",
                                                      data / "nested" / "lab1" / "gradebook.csv"),
        "both under the home folder": (home / "course" / "lab1" / "submissions",
                                       home / "course" / "lab1" / "gradebook.csv"),
        "both in the temporary folder": (tmp / "course" / "lab1" / "submissions",
                                         tmp / "course" / "lab1" / "gradebook.csv"),
        "submissions folder is a link": (linked / "submissions", linked / "marks" / "gradebook.csv"),
        "gradebook in the submissions folder": (same, same / "gradebook.csv"),
    }


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """Each layout graded by `labkit grade` (two at a time): {name: (process, rows, gradebook, log of alice)}."""
    home = Path(tempfile.mkdtemp(prefix="labkit-test-", dir=Path.home()))
    data = Path(tempfile.mkdtemp(prefix="labkit-test-", dir="/var/tmp"))
    tmp = tmp_path_factory.mktemp("layouts")
    try:
        chosen = _layouts(home, data, tmp)
        for name, (folder, out) in chosen.items():
            folder.mkdir(parents=True, exist_ok=True)
            other = folder / "zed.ipynb"
            other.write_text("not a notebook")  # another student's file, which alice must not see
            secrets = dict(zip(SECRETS, (folder.resolve(), other.resolve(), out, out.parent, ROOT / "solutions")))
            answers = solution_answers()
            answers["L1-preprocess"] += _spy(secrets)
            write_submission(folder / "alice.ipynb", answers)
        nested = chosen["submissions inside the gradebook's folder"][0]
        (nested / f"{LONG}.ipynb").write_text("{")
        write_submission(nested / "José-李.ipynb", solution_answers())
        (nested / "bob.ipynb").symlink_to(SOLUTION)
        write_submission(nested / ".carol.ipynb", solution_answers())

        def grade(item):
            name, (folder, out) = item
            process = subprocess.run(
                [sys.executable, "-m", "labkit.cli", "grade", str(folder), "--lab", "1", "--out", str(out),
                 "--workers", "1", "--deadline", "120", "--seed", "3"],
                cwd=ROOT, capture_output=True, text=True, timeout=600)
            log = out.parent / f"{out.stem}_feedback" / "logs" / "alice.log"
            return name, (process, rows(out) if out.exists() else {}, out,
                          log.read_text() if log.exists() else "")

        with ThreadPoolExecutor(max_workers=2) as pool:
            graded = dict(pool.map(grade, chosen.items()))
        yield graded
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(data, ignore_errors=True)


LAYOUTS = ["submissions inside the gradebook's folder", "both under the home folder", "both in the temporary folder",
           "submissions folder is a link", "gradebook in the submissions folder"]


@needs_bwrap
@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_solution_scores_full_marks_in_each_layout(layouts, layout):
    """Does the solution's submission score 9/9 (status ok) in each course-folder layout?"""
    process, graded, _, _ = layouts[layout]
    assert graded.get("alice", {}).get("status") == "ok", process.stderr[-3000:]
    assert float(graded["alice"]["score"]) == 9
    assert graded["zed"]["status"] == "unreadable"


@needs_bwrap
@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_submission_sees_no_gradebook_submission_or_solution_in_each_layout(layouts, layout):
    """Can the graded code see nothing of the submissions, the gradebook (file or folder) or the solutions?"""
    _, _, _, log = layouts[layout]
    seen = dict(line.split(" ", 2)[1:] for line in log.splitlines() if line.startswith("SPY "))
    assert sorted(seen) == sorted(SECRETS), log[-2000:]
    assert {label: seen[label] for label in SECRETS if seen[label] not in ("missing", "[]")} == {}, log[-2000:]


@needs_bwrap
def test_odd_entries_each_get_their_row_and_feedback(layouts):
    """In the course folder: does a 248-byte name, a Unicode name, a link to the solution and a hidden
    notebook each get one row (unreadable, ok 9/9, invalid, skipped) and a feedback file, the run going on?"""
    process, graded, out, _ = layouts["submissions inside the gradebook's folder"]
    assert graded[LONG]["status"] == "unreadable"
    assert graded["José-李"]["status"] == "ok" and float(graded["José-李"]["score"]) == 9
    assert graded["bob"]["status"] == "invalid" and float(graded["bob"]["score"]) == 0
    assert graded[".carol"]["status"] == "skipped"
    feedback = out.parent / "gradebook_feedback"
    assert {path.read_text(encoding="utf-8").splitlines()[0] for path in feedback.glob("*.md")} == {
        f"# Lab 1: feedback for {student}" for student in graded}
    assert "symbolic link" in (feedback / gradebook.feedback_name("bob")).read_text()
    assert "skipped 1" in process.stderr and "invalid 1" in process.stderr
