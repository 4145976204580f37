"""Tests of the autograder (labkit.grading): the sandbox, the untrusted inputs, and the adversarial corpus.

The unit tests are fast and need no TensorFlow. The END-TO-END tests at the bottom grade the whole corpus
in tests/files/submissions/ (made by tests/files/make_submissions.py), copied into a course folder under the
home folder with the gradebook beside it, through `labkit grade` with 2 workers: about 20 runs of Lab 1 that
each import TensorFlow, 1-2 minutes on 2 cores, run once for all of them (a module fixture).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from labkit import labs
from labkit.grading import gradebook, sandbox, submission, template
from labkit.grading.exchange import ExportError, Exported, Mismatch, safe_folder, save_array

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parent / "files" / "submissions"
BWRAP = sandbox.isolation() == "bubblewrap"
needs_bwrap = pytest.mark.skipif(not BWRAP, reason="bubblewrap (bwrap) is not installed here")


def run_python(code: str, tmp_path: Path, limits: sandbox.Limits, **kwargs) -> sandbox.RunResult:
    """Run a small Python program in the sandbox, as the grader runs a kernel."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return sandbox.run([sys.executable, "-I", "-c", code], workdir=work, env={"PATH": "/usr/bin:/bin"},
                       limits=limits, expose=sandbox.python_paths(), **kwargs)


# --- the sandbox -------------------------------------------------------------------------------------

def test_a_loop_that_ignores_signals_is_killed_at_the_deadline(tmp_path):
    """Does a loop that ignores SIGINT, SIGTERM and SIGALRM end at the deadline, not hang the grader?"""
    code = ("import signal\nfor s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):\n"
            "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass")
    result = run_python(code, tmp_path, sandbox.Limits(deadline_s=2))
    assert result.killed_for == "deadline"
    assert result.seconds < 2 + 3


def test_memory_beyond_the_cap_kills_the_run(tmp_path):
    """Is a process that keeps allocating (and touching) memory stopped at the memory cap?"""
    code = "hog = []\nwhile True:\n    hog.append(b'x' * 2**26)"
    result = run_python(code, tmp_path, sandbox.Limits(deadline_s=30, memory_mb=300))
    assert result.killed_for == "memory" or "MemoryError" in result.output
    assert result.seconds < 30


def test_output_beyond_the_cap_is_dropped_and_counted(tmp_path):
    """Is printed output kept up to the cap, the rest counted, and the run left to finish?"""
    result = run_python("print('x' * 5_000_000)\nprint('done')", tmp_path,
                        sandbox.Limits(deadline_s=30, output_bytes=10_000))
    assert result.returncode == 0 and result.killed_for is None
    assert len(result.output) == 10_000 and result.output_dropped > 4_990_000


def test_the_address_space_limit_cannot_be_raised(tmp_path):
    """Can code in the sandbox not lift its memory limit (so a cap set before it starts holds)?"""
    code = ("import resource\nsoft, hard = resource.getrlimit(resource.RLIMIT_AS)\nprint('limit', hard)\n"
            "try:\n    resource.setrlimit(resource.RLIMIT_AS, (hard * 2, hard * 2))\n    print('raised')\n"
            "except (ValueError, OSError):\n    print('refused')")
    result = run_python(code, tmp_path, sandbox.Limits(deadline_s=30, memory_mb=500))
    assert f"limit {(500 + sandbox.ADDRESS_SPACE_HEADROOM_MB) * 2**20}" in result.output
    if BWRAP or os.geteuid() != 0:  # root outside a sandbox keeps CAP_SYS_RESOURCE
        assert "refused" in result.output


@needs_bwrap
def test_the_sandboxed_code_has_no_privileges(tmp_path):
    """Does code in the sandbox run as an unprivileged user without capabilities, even when the grader is root?"""
    code = "import os\nprint(os.getuid(), [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')])"
    assert run_python(code, tmp_path, sandbox.Limits(deadline_s=30)).output.strip() == "65534 ['0000000000000000']"


@needs_bwrap
def test_no_network_inside_the_sandbox(tmp_path):
    """Does the sandbox have no network interface but an empty loopback?"""
    code = "print(sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').readlines()[2:]))"
    assert run_python(code, tmp_path, sandbox.Limits(deadline_s=30)).output.strip() == "['lo']"


@needs_bwrap
def test_hidden_folders_look_empty_and_the_system_is_read_only(tmp_path):
    """Are the submissions (and other hidden folders) invisible, the system read-only, the work folder writable?"""
    secret = tmp_path / "submissions"
    secret.mkdir()
    (secret / "alice.ipynb").write_text("{}")
    code = (f"import os\np = {str(secret)!r}\nprint('listing', os.listdir(p) if os.path.exists(p) else [])\n"
            "open('mine.txt', 'w').write('ok')\n"
            "try:\n    open('/etc/passwd', 'a')\n    print('system writable')\n"
            "except OSError:\n    print('system read-only')")
    result = run_python(code, tmp_path, sandbox.Limits(deadline_s=30), hide=[secret])
    assert "listing []" in result.output and "system read-only" in result.output
    assert (tmp_path / "work" / "mine.txt").read_text() == "ok"


@needs_bwrap
def test_a_process_that_left_the_session_dies_with_the_run(tmp_path):
    """Does a child started with setsid, whose parent has exited, die when the run ends?"""
    token = f"labkit-orphan-{os.getpid()}-{time.monotonic_ns()}"
    code = ("import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', "
            f"{token!r}], start_new_session=True)\nprint('started')")
    result = run_python(code, tmp_path, sandbox.Limits(deadline_s=30))
    assert "started" in result.output
    time.sleep(0.5)
    alive = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if token.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                alive.append(pid)
        except OSError:
            pass
    assert alive == []


def test_a_cell_timeout_interrupts_the_cell_and_the_run_goes_on(tmp_path):
    """Is a cell past its time interrupted (CellTimeout) while the next cells still run?"""
    work = tmp_path / "work"
    work.mkdir()
    cells = [{"source": "import time", "timeout": 30}, {"source": "while True:\n    pass", "timeout": 1},
             {"source": "print('after the loop')", "timeout": 30}]
    (work / "cells.json").write_text(json.dumps(cells))
    result = sandbox.run([sys.executable, "-I", "-m", "labkit.grading.kernel", "cells.json", "progress.jsonl"],
                         workdir=work, env={"PATH": "/usr/bin:/bin", "HOME": str(work)},
                         limits=sandbox.Limits(deadline_s=60), progress=work / "progress.jsonl",
                         timeouts=[30, 1, 30], expose=[*sandbox.python_paths(), ROOT])
    ends = {e["cell"]: e for e in result.events if e["event"] == "end"}
    assert ends[1]["error"] == "CellTimeout" and ends[2]["error"] is None
    assert "after the loop" in result.output and result.killed_for is None


@pytest.mark.parametrize("first, status", [("memory", "out_of_memory"), ("time", "timeout")])
def test_the_first_limit_a_run_hits_is_its_status(tmp_path, first, status):
    """A cell that runs out of memory, then one that runs out of time (or the other way round): is the run's
    status the first limit it hit? (Time limits were checked first, so a run that ran out of memory, then out of
    time in a later cell, was reported as a timeout.)"""
    from labkit.grading import run

    work = tmp_path / "work"
    work.mkdir()
    memory = {"source": "_hog = bytearray(10**12)", "timeout": 30}  # beyond the address space: MemoryError
    loop = {"source": "while True:\n    pass", "timeout": 1}
    cells = [memory, loop] if first == "memory" else [loop, memory]
    (work / "cells.json").write_text(json.dumps(cells))
    result = sandbox.run([sys.executable, "-I", "-m", "labkit.grading.kernel", "cells.json", "progress.jsonl"],
                         workdir=work, env={"PATH": "/usr/bin:/bin", "HOME": str(work)},
                         limits=sandbox.Limits(deadline_s=60), progress=work / "progress.jsonl",
                         timeouts=[c["timeout"] for c in cells], expose=[*sandbox.python_paths(), ROOT])
    assert sorted(e["error"] for e in result.events if e["event"] == "end") == ["CellTimeout", "MemoryError"]
    assert run._status(result, [], []) == status


def test_a_cell_that_ignores_its_timeout_gets_the_run_killed(tmp_path):
    """Is a cell that ignores SIGALRM killed soon after its timeout, far before the deadline?"""
    work = tmp_path / "work"
    work.mkdir()
    loop = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass"
    (work / "cells.json").write_text(json.dumps([{"source": loop, "timeout": 1}]))
    result = sandbox.run([sys.executable, "-I", "-m", "labkit.grading.kernel", "cells.json", "progress.jsonl"],
                         workdir=work, env={"PATH": "/usr/bin:/bin", "HOME": str(work)},
                         limits=sandbox.Limits(deadline_s=120, grace_s=1), progress=work / "progress.jsonl",
                         timeouts=[1], expose=[*sandbox.python_paths(), ROOT])
    assert result.killed_for == "cell_timeout" and result.seconds < 30


def test_the_kernel_ends_at_its_last_report_with_its_output_and_without_atexit(tmp_path):
    """Does the kernel end as soon as its last cell has run: exit code 0, the cells' unflushed output kept, and
    nothing the cells registered with atexit run after the last export (Python's own shutdown is skipped)?"""
    work = tmp_path / "work"
    work.mkdir()
    cells = [{"source": "import atexit, pathlib, sys\n"
                        "atexit.register(lambda: pathlib.Path('after_the_run.txt').write_text('late'))", "timeout": 30},
             {"source": "sys.stdout.write('unflushed to the end')", "timeout": 30}]
    (work / "cells.json").write_text(json.dumps(cells))
    result = sandbox.run([sys.executable, "-I", "-m", "labkit.grading.kernel", "cells.json", "progress.jsonl"],
                         workdir=work, env={"PATH": "/usr/bin:/bin", "HOME": str(work)},
                         limits=sandbox.Limits(deadline_s=60), progress=work / "progress.jsonl",
                         expose=[*sandbox.python_paths(), ROOT])
    assert result.returncode == 0 and result.killed_for is None
    assert [e["event"] for e in result.events][-1] == "done"
    assert "unflushed to the end" in result.output
    assert not (work / "after_the_run.txt").exists()


def test_a_pipe_in_place_of_the_progress_file_does_not_hang_the_grader(tmp_path):
    """Does the grader go on when the submission swaps its progress file for a named pipe?"""
    work = tmp_path / "work"
    work.mkdir()
    swap = "import os\nos.remove('progress.jsonl')\nos.mkfifo('progress.jsonl')"
    (work / "cells.json").write_text(json.dumps([{"source": swap, "timeout": 30},
                                                 {"source": "print('still here')", "timeout": 30}]))
    result = sandbox.run([sys.executable, "-I", "-m", "labkit.grading.kernel", "cells.json", "progress.jsonl"],
                         workdir=work, env={"PATH": "/usr/bin:/bin", "HOME": str(work)},
                         limits=sandbox.Limits(deadline_s=60), progress=work / "progress.jsonl",
                         expose=[*sandbox.python_paths(), ROOT])
    assert "still here" in result.output and result.killed_for is None and result.returncode == 0


# --- exported data -----------------------------------------------------------------------------------

def test_exports_refuse_objects_that_only_look_like_arrays(tmp_path):
    """Are ndarray subclasses (a custom ==), object arrays and non-arrays refused when exporting?"""
    class AlwaysEqual(np.ndarray):
        def __eq__(self, other):
            return True

    for value in (np.zeros(3).view(AlwaysEqual), np.array([object()]), [1.0, 2.0]):
        with pytest.raises(ExportError):
            save_array(tmp_path, "x", value)


def test_the_grader_reads_only_small_regular_files_of_the_asked_dtype_and_shape(tmp_path):
    """Are links, pipes, pickled arrays and wrong dtypes or shapes refused by the grader's reader?"""
    save_array(tmp_path, "good", np.ones((2, 3), np.float32))
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "link.npy").symlink_to(tmp_path / "good.npy")
    os.mkfifo(tmp_path / "pipe.npy")
    exported = Exported(tmp_path)
    assert exported.array("good", dtype=np.float32, shape=(None, 3)).shape == (2, 3)
    for name, kwargs in [("good", {"dtype": np.float64}), ("good", {"shape": (3, 2)}), ("pickled", {}),
                         ("link", {}), ("pipe", {}), ("absent", {})]:
        with pytest.raises(Mismatch):
            exported.array(name, **kwargs)


def test_an_export_folder_reached_through_a_link_is_not_read(tmp_path):
    """Is an export folder that is a symbolic link (to anywhere) treated as missing?"""
    (tmp_path / "real").mkdir()
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "L1-preprocess").symlink_to(tmp_path / "real")
    assert safe_folder(tmp_path, "export", "L1-preprocess") is None
    assert safe_folder(tmp_path, "real") == tmp_path / "real"


# --- submissions and the template ----------------------------------------------------------------------

@pytest.mark.parametrize("name, status", [("invalid_json.ipynb", "unreadable"), ("non_utf8.ipynb", "unreadable"),
                                          ("wrong_nbformat.ipynb", "invalid"), ("schema_invalid.ipynb", "invalid")])
def test_broken_files_are_refused_with_their_status(name, status):
    """Are truncated JSON, non-UTF-8 bytes, format 3 and schema-invalid notebooks refused, each with its status?"""
    with pytest.raises(submission.SubmissionError) as raised:
        submission.read(CORPUS / name)
    assert raised.value.status == status and name in str(raised.value)


def test_a_folder_without_a_notebook_is_unreadable():
    """Does a student folder holding no notebook give status unreadable, naming the lab's notebook?"""
    with pytest.raises(submission.SubmissionError, match="lab1_dense_autoencoder.ipynb") as raised:
        submission.load(CORPUS / "missing_notebook", labs.get(1).notebook)
    assert raised.value.status == "unreadable"


def test_only_answer_cells_are_kept_from_a_submission():
    """Are outputs, tags, edited points and cells without a grade_id dropped, and copied cells joined?"""
    notebook = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("x = 1", metadata={"labkit": {"grade_id": "Q1", "points": 100},
                                                          "tags": ["skip-execution"]})
    answer.outputs = [nbformat.v4.new_output("stream", text="✅")]
    copy = nbformat.v4.new_code_cell("y = 2", metadata={"labkit": {"grade_id": "Q1", "points": 1}})
    extra = nbformat.v4.new_code_cell("import os")
    notebook.cells = [answer, extra, copy]
    found = submission.answers(notebook, ["Q1", "Q2"])
    assert found.sources == {"Q1": "x = 1\n\ny = 2"}
    assert any("2 cells" in note for note in found.notes) and any("1 code cell" in note for note in found.notes)


def test_a_cell_the_lab_asks_the_student_to_write_in_is_not_reported_as_changed():
    """Is a code cell tagged answer (the Lab 2 tuning study's own setting), changed as the lab asks, neither run
    nor reported among the changed cells, while another changed cell still is?"""
    notebook = nbformat.v4.new_notebook()
    own = nbformat.v4.new_code_cell('MY_SETTINGS["wide"] = {}', metadata={"tags": ["answer"]})
    notebook.cells = [own, nbformat.v4.new_code_cell("import os")]
    found = submission.answers(notebook, ["Q1"])
    assert found.sources == {} and [note for note in found.notes if "1 code cell" in note]


def test_the_rebuilt_run_prepares_and_exports_around_each_answer_and_runs_nothing_else():
    """Is the run the setup, the lab's first cells, then prepare, answer, export for each exercise in order, with
    no self-check or training cell?"""
    grading = labs.get(1).part("grading")
    lab = template.load(ROOT / "solutions" / labs.get(1).notebook, lab=1, exercises=list(grading.EXERCISES))
    cells = lab.rebuild({"L1-pipeline": "train_ds = test_ds = None"})
    kinds = [(c.kind, c.grade_id) for c in cells if c.kind != "template"]
    assert kinds[0] == ("grading", None)
    assert kinds[1:] == [(kind, gid) for gid in grading.EXERCISES for kind in ("grading", "answer", "grading")]
    assert next(c.source for c in cells if c.grade_id == "L1-pipeline" and c.kind == "answer") == \
        "train_ds = test_ds = None"
    assert not any(".fit(" in c.source or "checks." in c.source for c in cells)
    assert [c.kind for c in cells[1:3]] == ["template", "template"]  # the setup cell and the data cell


def test_gradebook_is_written_atomically_and_names_are_not_formulas(tmp_path):
    """Is the CSV replaced whole (no leftover temporary file), with a student named '=cmd' kept as text?"""
    path = tmp_path / "gradebook.csv"
    outcome = gradebook.Outcome("=cmd", "ok", {"Q1": 2.0}, 2)
    gradebook.write_csv(path, [outcome], {"Q1": 2}, lab=1, kit="0.1.0+test")
    assert path.read_text().splitlines() == ["student,score,max,Q1,status,seconds,sha256,lab,kit",
                                             "'=cmd,2,2,2,ok,0.0,,1,0.1.0+test"]
    assert [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]
    assert gradebook.feedback_name("alice") == "alice.md"
    assert gradebook.feedback_name("../../etc/passwd").startswith("_.._etc_passwd-")
    assert "/" not in gradebook.feedback_name("../../etc/passwd")


# --- END-TO-END: the adversarial corpus through `labkit grade` (slow: 2-4 minutes) ---------------------

EXPECTED = {
    # name: (score out of 9, status)
    "honest_correct": (9, "ok"),
    "honest_wrong": (1, "ok"),
    "honest_error": (1, "error"),
    "partly_done": (4, "missing_answer"),
    "copied_cell": (9, "ok"),
    "redefined_checks": (1, "ok"),
    "always_equal": (1, "ok"),
    "patched_numpy": (1, "ok"),
    "patched_kernel": (1, "ok"),
    "edited_expected": (1, "ok"),
    "skip_execution_tags": (1, "ok"),
    "deleted_graded_cells": (0, "missing_answer"),
    "prebaked_outputs": (1, "ok"),
    "fake_score_files": (1, "ok"),
    "infinite_loop": (1, "timeout"),
    "ignores_interrupts": (1, "timeout"),
    "os_exit": (1, "crashed"),
    "sys_exit": (1, "error"),
    "memory_exhaustion": (1, "out_of_memory"),
    "huge_output": (1, "ok"),
    "invalid_json": (0, "unreadable"),
    "non_utf8": (0, "unreadable"),
    "wrong_nbformat": (0, "invalid"),
    "schema_invalid": (0, "invalid"),
    "missing_notebook": (0, "unreadable"),
}
HONEST = {"honest_correct", "honest_wrong", "honest_error", "partly_done", "copied_cell"}
DEADLINE_S = 60


@pytest.fixture(scope="module")
def graded(lab1_corpus_graded):
    """The corpus graded once by `labkit grade` (see conftest.py): exit code, rows, the gradebook's folder."""
    process, rows, out, _ = lab1_corpus_graded
    return process, rows, out, None


def test_corpus_has_every_case():
    """Does the corpus on disk hold exactly the cases this test expects (and at least 20)?"""
    found, ignored = submission.find(CORPUS)
    names = {entry.student for entry in found}
    assert ignored == [] and all(entry.status is None for entry in found)
    assert names == set(EXPECTED) and len(names) >= 20


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_submission_gets_its_exact_score_and_status(graded, name):
    """Does each submission of the corpus get exactly its expected score and status?"""
    _, rows, _, _ = graded
    row = next(r for r in rows if r["student"] == name)
    assert (float(row["score"]), row["status"]) == EXPECTED[name]
    assert float(row["max"]) == 9


def test_corpus_no_trick_scores_above_honest_wrong(graded):
    """Does no adversarial submission score more than the honest but wrong one?"""
    _, rows, _, _ = graded
    scores = {r["student"]: float(r["score"]) for r in rows}
    assert max(score for name, score in scores.items() if name not in HONEST) <= scores["honest_wrong"]


def test_corpus_one_row_each_and_a_feedback_file_each(graded):
    """Is there exactly one row and one feedback file per submission, and a failing exit code?"""
    process, rows, out, _ = graded
    assert sorted(r["student"] for r in rows) == sorted(EXPECTED)
    assert process.returncode == 1, process.stderr[-2000:]
    assert "could not be graded" in process.stderr
    feedback = out / "gradebook_feedback"
    assert sorted(p.stem for p in feedback.glob("*.md")) == sorted(EXPECTED)
    text = (feedback / "honest_wrong.md").read_text()
    assert "**Score: 1 / 9**" in text and "shuffle" in text and "Adam" in text


def test_corpus_each_run_ends_within_its_deadline_plus_10_s(graded):
    """Does every submission take at most its deadline plus 10 s, however it misbehaves?"""
    _, rows, _, _ = graded
    assert max(float(r["seconds"]) for r in rows) <= DEADLINE_S + 10


def test_corpus_fake_gradebooks_never_reach_the_real_one(graded):
    """Do fake gradebook or score files written by a submission leave the grader's gradebook alone?"""
    _, rows, out, _ = graded
    assert {p.name for p in out.iterdir()} == {"gradebook.csv", "gradebook_feedback", "submissions"}
    assert [r["score"] for r in rows if r["student"] == "fake_score_files"] == ["1"]
