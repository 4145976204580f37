"""Grade a folder of submissions: rebuild, run in a sandbox, score from exported data, write the gradebook.

``labkit grade SUBMISSIONS --lab 1 --out gradebook.csv`` calls :func:`main`. Each submission gets a
fresh temporary folder and a fresh Python process (the kernel, :mod:`labkit.grading.kernel`) in the
sandbox (:mod:`labkit.grading.sandbox`); the marks are decided here, in the grader, by the rules of the
lab's exercises (``labkit/labs/labN/rules.py``) applied to the data its answers exported. A plain process rather than a Jupyter kernel: nothing
to connect to over sockets (the sandbox has no network at all), and one process tree that a kill
ends for certain.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import labkit
from labkit import labs
from labkit.checks import judge
from labkit.grading import gradebook, sandbox, submission, template
from labkit.grading.exchange import Exported, safe_folder
from labkit.grading.gradebook import Outcome

KERNEL = "labkit.grading.kernel"
EXPOSE = [*sandbox.python_paths(), *sandbox.kit_paths()]
"""What a grading kernel sees even where it lies in a hidden folder: Python and the kit."""


class GradingError(Exception):
    """The grading run itself cannot start (unknown lab, no solution, no submissions folder)."""


@dataclass
class Lab:
    """One lab's grading: its number, grading module, template, and the grader's reference data."""

    number: int
    module: object
    template: template.Template
    reference: dict

    @property
    def questions(self) -> dict[str, float]:
        return self.template.questions


def load_lab(number: int, solutions: Path) -> Lab:
    """The grading of lab ``number``: its package's ``grading`` module (see :mod:`labkit.labs`) and its solution."""
    try:
        info = labs.get(number)
    except labs.UnknownLab as error:
        raise GradingError(str(error)) from None
    if not info.has("grading"):
        gradable = ", ".join(str(lab.number) for lab in labs.with_part("grading"))
        raise GradingError(f"Lab {number} has no grading (labkit/labs/lab{number}/grading.py); labs that can be "
                           f"graded: {gradable}")
    module = info.part("grading")
    try:
        built = template.load(Path(solutions) / info.notebook, lab=number, exercises=list(module.EXERCISES))
    except template.TemplateError as error:
        raise GradingError(str(error)) from None
    return Lab(number, module, built, module.reference())


def _environment(workdir: Path, threads: int) -> dict[str, str]:
    """A clean environment for the kernel: quick mode, fixed seed, nothing of the grader's own."""
    home = workdir / "home"
    home.mkdir()
    (workdir / "tmp").mkdir()
    return {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
            "HOME": str(home), "TMPDIR": str(workdir / "tmp"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "LABKIT_QUICK": "1", "LABKIT_SEED": "42", "KERAS_HOME": str(home / ".keras"),
            "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0",
            "OMP_NUM_THREADS": str(threads), "TF_NUM_INTRAOP_THREADS": str(threads),
            "TF_NUM_INTEROP_THREADS": "1"}


@dataclass(frozen=True)
class Task:
    """What grading one submission needs, as plain data: sent to a worker, which returns an :class:`Outcome`."""

    student: str
    lab: int
    template: template.Template
    answers: dict[str, str]
    missing: tuple[str, ...]
    notes: tuple[str, ...]
    limits: sandbox.Limits
    hide: tuple[Path, ...] = ()
    seed: int | None = None
    threads: int = 1
    digest: str = ""


def read_submission(path: Path, lab: Lab, *, limits: sandbox.Limits, hide: list[Path] = (),
                    seed: int | None = None, threads: int = 1) -> Outcome | Task:
    """The client's half of grading one submission: read it (never following a link) and keep its answers.

    Returns the :class:`Task` a worker runs, or the finished :class:`Outcome` when nothing needs running
    (the file cannot be read, or no exercise is answered).
    """
    student = submission.student_name(path)
    outcome = Outcome(student, "ok", dict.fromkeys(lab.questions, 0.0), lab.template.max_score)
    try:
        loaded = submission.load(path, lab.template.notebook)
    except submission.SubmissionError as error:
        outcome.status, outcome.notes = error.status, [str(error)]
        return outcome
    outcome.digest = loaded.digest
    answers = submission.answers(loaded.notebook, list(lab.questions), lab.template.lab_cells)
    missing = [gid for gid in lab.questions if gid not in answers.sources
               or submission.unanswered(answers.sources[gid], lab.template.placeholder(gid))]
    if len(missing) == len(lab.questions):  # nothing to run: no answer can score
        outcome.status, outcome.notes = "missing_answer", [f"not answered: {', '.join(missing)}"] + answers.notes
        outcome.feedback = {gid: ["not answered: the cell is missing or still holds the placeholder"]
                            for gid in lab.questions}
        return outcome
    return Task(student, lab.number, lab.template, answers.sources, tuple(missing), tuple(answers.notes), limits,
                tuple(Path(p) for p in hide), seed, threads, loaded.digest)


@functools.lru_cache(maxsize=None)
def _grading(number: int) -> tuple[object, dict]:
    """A lab's grading module and the grader's reference data, loaded once per grading process."""
    module = labs.get(number).part("grading")
    return module, module.reference()


def grade_task(task: Task) -> Outcome:
    """The worker's half: run the answers in the sandbox and score what they exported. Never raises for what the
    submission does; raises :class:`sandbox.SandboxError` when the sandbox itself fails."""
    started = time.monotonic()
    module, reference = _grading(task.lab)
    lab = Lab(task.lab, module, task.template, reference)
    outcome = Outcome(task.student, "ok", dict.fromkeys(lab.questions, 0.0), lab.template.max_score,
                      digest=task.digest)
    cells = lab.template.rebuild(task.answers)
    workdir = Path(tempfile.mkdtemp(prefix="labkit-grade-"))
    try:
        rng = np.random.default_rng(None if task.seed is None else [task.seed, zlib.crc32(task.student.encode())])
        inputs = module.make_inputs(rng)
        (workdir / "inputs").mkdir()
        for name, value in inputs.items():
            np.save(workdir / "inputs" / f"{name}.npy", value, allow_pickle=False)
        limits = task.limits
        # The first cell, the lab's imports (TensorFlow: 5-15 s), is bounded by the deadline only.
        timeouts = [limits.deadline_s] + [limits.cell_timeout_s] * (len(cells) - 1)
        (workdir / "cells.json").write_text(json.dumps([{"source": c.source, "timeout": t}
                                                        for c, t in zip(cells, timeouts)]), encoding="utf-8")
        progress = workdir / "progress.jsonl"
        result = sandbox.run([sys.executable, "-I", "-m", KERNEL, "cells.json", str(progress)], workdir=workdir,
                             env=_environment(workdir, task.threads), limits=limits, progress=progress,
                             timeouts=timeouts, hide=list(task.hide), expose=EXPOSE)
        if not result.started and result.killed_for is None:
            raise sandbox.SandboxError(f"the grading kernel did not start for {task.student} on "
                                       f"{platform.node()} (exit code {result.returncode}): "
                                       f"{result.output.strip()[-600:] or 'no output'}")
        for gid in lab.questions:
            outcome.points[gid], outcome.feedback[gid] = _score(lab, workdir, gid, inputs, gid in task.missing)
        outcome.status = _status(result, cells, list(task.missing))
        outcome.notes = _notes(result, cells, limits) + list(task.notes)
        outcome.log = result.output
        if task.missing:
            outcome.notes.insert(0, f"not answered: {', '.join(task.missing)}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    outcome.seconds = time.monotonic() - started
    return outcome


def grade_one(path: Path, lab: Lab, *, limits: sandbox.Limits, hide: list[Path] = (),
              seed: int | None = None, threads: int = 1) -> Outcome:
    """Grade one submission (a notebook, or a folder holding one), here. Never raises for what it contains."""
    started = time.monotonic()
    work = read_submission(path, lab, limits=limits, hide=hide, seed=seed, threads=threads)
    outcome = grade_task(work) if isinstance(work, Task) else work
    outcome.seconds = time.monotonic() - started
    return outcome


def _score(lab: Lab, workdir: Path, gid: str, inputs: dict, unanswered: bool) -> tuple[float, list[str]]:
    if unanswered:
        return 0.0, ["not answered: the cell is missing or still holds the placeholder"]
    folder = safe_folder(workdir, "export", gid)
    if folder is None:
        return 0.0, ["not graded: the run stopped before this exercise's results were exported"]
    try:
        expected = lab.module.expected(gid, lab.reference)
    except Exception as error:  # noqa: BLE001 - a grader bug: this exercise cannot be scored, the others can
        return 0.0, [f"the grader could not score this exercise ({type(error).__name__}: {error})"]
    failures = judge(lab.module.EXERCISES[gid], Exported(folder), inputs, expected)
    return (0.0, failures) if failures else (float(lab.questions[gid]), [])


def _status(result: sandbox.RunResult, cells: list[template.Cell], missing: list[str]) -> str:
    ends = [e for e in result.events if e.get("event") == "end"]
    errors = {e.get("cell"): e.get("error") for e in ends if e.get("error")}
    # The first limit a cell hit is the cause: a cell that runs out of memory leaves the kernel holding it, and a
    # later cell that then runs out of time does not make that run a timeout.
    first_limit = next((e["error"] for e in ends if e.get("error") in ("MemoryError", "CellTimeout")), None)
    if first_limit == "MemoryError":
        return "out_of_memory"
    if result.killed_for in ("deadline", "cell_timeout") or first_limit == "CellTimeout":
        return "timeout"
    if result.killed_for == "memory" or result.returncode in (-9, 137):
        return "out_of_memory"
    if not any(e.get("event") == "done" for e in result.events) or result.returncode != 0:
        return "crashed"
    if missing:
        return "missing_answer"
    if any(cells[i].kind == "answer" for i in errors if isinstance(i, int) and 0 <= i < len(cells)):
        return "error"
    return "ok"


def _notes(result: sandbox.RunResult, cells: list[template.Cell], limits: sandbox.Limits) -> list[str]:
    notes = []
    for event in result.events:
        cell = event.get("cell")
        if event.get("event") != "end" or not event.get("error"):
            continue
        if not isinstance(cell, int) or not 0 <= cell < len(cells):
            continue
        where = cells[cell]
        label = {"answer": f"your {where.grade_id} cell", "grading": "the grader's export cell",
                 "template": f"the lab's cell after your {where.grade_id} cell (its self-check)" if where.grade_id
                 else "a cell of the lab"}[where.kind]
        if where.kind != "grading":
            notes.append(f"{label} raised {event['error']}: {str(event.get('message'))[:300]}")
    if result.killed_for == "deadline":
        notes.append(f"the whole run was stopped after {limits.deadline_s:g} s")
    elif result.killed_for == "cell_timeout":
        notes.append(f"a cell ran longer than {limits.cell_timeout_s:g} s and ignored the interruption; "
                     "the run was stopped")
    elif result.killed_for == "memory":
        notes.append(f"the run used more than {limits.memory_mb} MB of memory and was stopped")
    elif not any(e.get("event") == "done" for e in result.events):
        notes.append(f"the notebook's process ended early (exit code {result.returncode})")
    if result.output_dropped:
        notes.append(f"{result.output_dropped:,} bytes of printed output were dropped (limit {limits.output_bytes:,})")
    return notes


class _Progress:
    """A one-line progress bar on a terminal; one line per submission otherwise."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.counts: dict[str, int] = {}
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.lock = threading.Lock()

    def update(self, outcome: Outcome) -> None:
        with self.lock:
            self.done += 1
            self.counts[outcome.status] = self.counts.get(outcome.status, 0) + 1
            if self.tty:
                filled = int(30 * self.done / self.total)
                counts = " ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
                self.stream.write(f"\rgrading [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {counts} ")
                if self.done == self.total:
                    self.stream.write("\n")
            else:
                self.stream.write(f"[{self.done}/{self.total}] {outcome.student}: {outcome.score:g}/"
                                  f"{outcome.maximum:g} {outcome.status} ({outcome.seconds:.1f} s)\n")
            self.stream.flush()


def grading_code(number: int) -> str:
    """A digest of the code that decides lab ``number``'s marks, as installed here: its rules and grading, and the
    grading run's own cells. A worker compares it with the client's."""
    digest = hashlib.sha256()
    package = Path(labs.get(number).constants.__file__).parent
    for path in (package / "rules.py", package / "grading.py", *(Path(__file__).parent / name for name in
                                                                   ("exports.py", "template.py", "kernel.py"))):
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:8]


def kit_version(lab: Lab) -> str:
    """``VERSION+CODE.TEMPLATE``: the kit's version, :func:`grading_code` and a digest of the lab's template. A
    row graded by other rules or another template is graded again when a run resumes."""
    template_digest = hashlib.sha256(json.dumps([lab.template.questions, lab.template.placeholders,
                                                 lab.template.preamble], sort_keys=True).encode()).hexdigest()
    return f"{labkit.__version__}+{grading_code(lab.number)}.{template_digest[:6]}"


class _Recorder:
    """Writes the gradebook (all rows so far) and one submission's feedback, as each outcome arrives."""

    def __init__(self, out: Path, feedback: Path, lab: Lab, kit: str):
        self.out, self.feedback, self.lab, self.kit = out, feedback, lab, kit
        self.outcomes: list[Outcome] = []

    def __call__(self, outcome: Outcome, *, kept: bool = False) -> None:
        """Record one outcome; a ``kept`` row of an earlier run keeps the feedback it has."""
        try:
            if not kept:
                name = gradebook.feedback_name(outcome.student)
                gradebook.write_atomically(self.feedback / name, gradebook.feedback_text(
                    outcome, lab=self.lab.number, questions=self.lab.questions))
                if outcome.log:
                    gradebook.write_atomically(self.feedback / "logs" / f"{name[:-3]}.log", outcome.log)
        except Exception as error:  # this submission's problem: its row says so, and the run goes on
            outcome.status = "crashed"
            outcome.notes.append(f"the grader could not write this submission's feedback ({type(error).__name__}: "
                                 f"{error}); its points stand, but grade it again")
        self.outcomes.append(outcome)
        try:
            gradebook.write_csv(self.out, self.outcomes, self.lab.questions, lab=self.lab.number, kit=self.kit)
        except OSError as error:
            raise GradingError(f"the gradebook {self.out} cannot be written ({error.strerror or error}); "
                               "choose another --out") from None


class _Local:
    """Grades tasks in this process, ``workers`` at a time (threads, each waiting on its sandboxed kernel)."""

    def __init__(self, workers: int, hide: list[Path]):
        self.workers = workers
        try:
            sandbox.preflight(hide=hide, expose=EXPOSE)
        except sandbox.SandboxError as error:
            raise GradingError(f"{error}. Nothing was graded: no gradebook was written. Check the folders given "
                               "and that bubblewrap works here (`bwrap --ro-bind / / true`).") from None

    def results(self, tasks: list[Task]):
        """``(task, outcome or the exception it raised)`` as each finishes."""
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            jobs = {pool.submit(grade_task, task): task for task in tasks}
            try:
                for job in as_completed(jobs):
                    try:
                        yield jobs[job], job.result()
                    except Exception as error:  # noqa: BLE001 - handed to the caller, which decides
                        yield jobs[job], error
            finally:
                for job in jobs:
                    job.cancel()

    def close(self) -> None:
        pass


def _crashed(task: Task, lab: Lab, note: str) -> Outcome:
    return Outcome(task.student, "crashed", dict.fromkeys(lab.questions, 0.0), lab.template.max_score,
                   notes=[note], digest=task.digest)


def grade_folder(folder: Path, *, lab: int, out: Path, feedback: Path | None = None, workers: int = 2,
                 limits: sandbox.Limits | None = None, solutions: Path = Path("solutions"),
                 seed: int | None = None, scheduler: str | None = None, regrade: bool = False,
                 stream=sys.stderr) -> list[Outcome]:
    """Grade every submission in ``folder``; the gradebook is rewritten after each one.

    Every entry that looks like a submission gets exactly one row: links (``invalid``) and hidden entries
    (``skipped``) without being run. A row of an earlier run of the same gradebook is kept when its
    submission's bytes, the lab and the kit's grading are unchanged (``regrade`` grades everything again).
    With ``scheduler`` (a Dask scheduler's address, or ``local:K``) the submissions are graded by that
    cluster's workers (:mod:`labkit.grading.cluster`); the gradebook and feedback are written here only.
    Raises :class:`GradingError` when grading cannot start, or must stop because the sandbox itself fails
    (the rows written until then stay).
    """
    folder, limits = Path(folder), limits or sandbox.Limits()
    if workers < 1 or limits.deadline_s <= 0 or limits.cell_timeout_s <= 0 or limits.memory_mb <= 0:
        raise GradingError("--workers, --deadline, --cell-timeout and --memory-mb must be positive")
    if not folder.is_dir():
        raise GradingError(f"{folder} is not a folder of submissions")
    if scheduler:  # first: an address that cannot be reached is said at once
        from labkit.grading import cluster

        pool = cluster.connect(scheduler)
        try:
            return _grade_folder(pool, folder, lab, out, feedback, limits, solutions, seed, regrade, stream)
        finally:
            pool.close()
    return _grade_folder(None, folder, lab, out, feedback, limits, solutions, seed, regrade, stream, workers)


def _grade_folder(pool, folder: Path, lab: int, out: Path, feedback: Path | None, limits: sandbox.Limits,
                  solutions: Path, seed: int | None, regrade: bool, stream, workers: int = 1) -> list[Outcome]:
    out = Path(out).resolve()
    feedback = Path(feedback).resolve() if feedback else out.parent / f"{out.stem}_feedback"
    found, ignored = submission.find(folder, exclude=(out, feedback))
    if not found:
        raise GradingError(f"{folder} holds no submissions (STUDENT.ipynb files or STUDENT/ folders)"
                           + (f"; it holds only {', '.join(ignored[:5])}" if ignored else ""))
    students = [entry.student for entry in found]
    duplicated = sorted({s for s in students if students.count(s) > 1})
    if duplicated:
        raise GradingError(f"two submissions for {', '.join(duplicated)} (a notebook and a folder?): keep one")
    graded = load_lab(lab, solutions)
    kit = kit_version(graded)
    hide = [folder.resolve(), out.parent, feedback, Path(solutions).resolve()]
    if pool is not None:
        pool.check(hide=hide, kit=kit, lab=lab, expose=EXPOSE)
        threads = pool.threads
    else:
        if sandbox.isolation() != "bubblewrap":
            print(f"warning: {sandbox.FALLBACK_WARNING}", file=stream)
        pool = _Local(workers, hide)
        threads = max(1, (os.cpu_count() or 1) // workers)
    return _grade(pool, found, ignored, graded, kit, out, feedback, limits, hide, seed, threads, regrade, stream)


def _grade(pool, found, ignored, graded: Lab, kit: str, out: Path, feedback: Path, limits: sandbox.Limits,
           hide: list[Path], seed: int | None, threads: int, regrade: bool, stream) -> list[Outcome]:
    earlier = {} if regrade else gradebook.read_csv(out, graded.questions, lab=graded.number, kit=kit)
    record = _Recorder(out, feedback, graded, kit)
    progress = _Progress(len(found), stream)
    started = time.monotonic()
    tasks, kept = [], 0
    for entry in found:
        if entry.status:
            outcome = Outcome(entry.student, entry.status, dict.fromkeys(graded.questions, 0.0),
                              graded.template.max_score, notes=[entry.note])
        else:
            outcome = read_submission(entry.path, graded, limits=limits, hide=hide, seed=seed, threads=threads)
        if isinstance(outcome, Task):
            prior = earlier.get(outcome.student)
            if prior is None or prior.digest != outcome.digest:
                tasks.append(outcome)
                continue
            record(prior, kept=True)
            kept += 1
            outcome = prior
        else:
            record(outcome)
        progress.update(outcome)
    stopped = None
    for task, result in pool.results(tasks):
        if isinstance(result, sandbox.SandboxError):  # the grader's problem: stop, and blame no student
            stopped = result
            break
        if isinstance(result, Exception):  # a grader bug or a lost worker must still leave a row
            result = _crashed(task, graded, getattr(result, "note", None)
                              or f"the grader failed: {type(result).__name__}: {result}")
        record(result)
        progress.update(result)
    if stopped is not None:
        raise GradingError(f"grading stopped: {stopped}. {len(record.outcomes)} of {len(found)} submissions have "
                           f"their row in {out}; the others have none. Fix the cause and grade again: the rows "
                           "written are kept.")
    print(gradebook.summary(record.outcomes, seconds=time.monotonic() - started, workers=pool.workers,
                            graded=len(tasks)), file=stream)
    if kept:
        print(f"kept {kept} row(s) graded earlier (same submission, lab and kit; --regrade grades them again)",
              file=stream)
    if ignored:
        print(f"not submissions, not graded: {', '.join(ignored)}", file=stream)
    print(f"gradebook: {out} · feedback: {feedback}/ · isolation: {sandbox.isolation()}", file=stream)
    return record.outcomes


def main(folder: Path, *, lab: int, out: Path, feedback: Path | None = None, workers: int = 2,
         limits: sandbox.Limits | None = None, solutions: Path = Path("solutions"),
         seed: int | None = None, scheduler: str | None = None, regrade: bool = False) -> int:
    """``labkit grade``: 0 when every submission was graded to its end, 1 otherwise, 2 when nothing could start."""
    try:
        outcomes = grade_folder(folder, lab=lab, out=out, feedback=feedback, workers=workers, limits=limits,
                                solutions=solutions, seed=seed, scheduler=scheduler, regrade=regrade)
    except GradingError as error:
        print(f"labkit grade: error: {error}", file=sys.stderr)
        return 2
    failed = [o.student for o in outcomes if o.status in gradebook.UNGRADED]
    if failed:
        print(f"labkit grade: {len(failed)} submission(s) could not be graded to the end: {', '.join(sorted(failed))}",
              file=sys.stderr)
    return 1 if failed else 0
