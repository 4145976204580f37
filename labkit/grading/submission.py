"""Read a submitted notebook as untrusted input and keep only the student's answer cells.

A submission is a file ``STUDENT.ipynb`` or a folder ``STUDENT/`` holding one notebook, read without
following symbolic links (:func:`load`). Everything but
the source of the code cells whose ``labkit`` metadata names a graded question is thrown away:
outputs, other metadata, tags (``skip-execution``, ``raises-exception``), the kernelspec, the points
a student may have edited, and every extra cell.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat


MAX_NOTEBOOK_BYTES = 20 * 2**20


class SubmissionError(Exception):
    """A submission cannot be graded; ``status`` is ``"unreadable"`` or ``"invalid"``."""

    def __init__(self, status: str, message: str):
        self.status = status
        super().__init__(message)


@dataclass
class Answers:
    """The student's source for each graded question found, and notes for the feedback."""

    sources: dict[str, str]
    notes: list[str] = field(default_factory=list)


def student_name(path: Path) -> str:
    """The student's id: the notebook's name without ``.ipynb``, or the folder's name.

    A name that is not valid UTF-8 on disk keeps its undecodable bytes as ``\\xNN`` escapes, so that it can
    be written to the gradebook.
    """
    name = Path(path).name
    name = name[:-len(".ipynb")] if name.endswith(".ipynb") and name != ".ipynb" else name
    return os.fsencode(name).decode("utf-8", "backslashreplace")


@dataclass(frozen=True)
class Found:
    """One entry of the submissions folder: a submission to grade, or one that gets a row without a run.

    ``status`` is ``None`` for a submission to grade, ``"invalid"`` for a symbolic link (never followed)
    and ``"skipped"`` for a hidden one (its name starts with a dot); ``note`` says why, for the row.
    """

    path: Path
    status: str | None = None
    note: str = ""

    @property
    def student(self) -> str:
        return student_name(self.path)


CHECKPOINTS = ".ipynb_checkpoints"
"""Jupyter's autosave folder: never a submission."""


def find(folder: Path, *, exclude: tuple[Path, ...] = ()) -> tuple[list[Found], list[str]]:
    """Every submission in ``folder`` (its ``*.ipynb`` files and sub-folders, sorted by name), and the names
    of the other entries, which are not graded (the summary lists them, so that nothing vanishes silently).

    Links are reported, not followed: a link to the solution must not score. Hidden entries get a
    ``skipped`` row. ``exclude``: the grader's own outputs (a gradebook written into the folder).
    """
    found, ignored = [], []
    exclude, real = {Path(p).resolve() for p in exclude}, Path(folder).resolve()
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        path = Path(folder) / entry.name
        if real / entry.name in exclude:
            continue
        looks_like = entry.name.endswith(".ipynb") or entry.is_dir(follow_symlinks=False)
        if entry.is_symlink():
            target = "the submissions folder" if _inside(path, folder) else "outside the submissions folder"
            found.append(Found(path, "invalid", f"{entry.name} is a symbolic link (to {target}); the grader reads "
                               "only real files: submit the notebook itself"))
        elif entry.name == CHECKPOINTS or not looks_like:
            ignored.append(entry.name)
        elif entry.name.startswith("."):
            found.append(Found(path, "skipped", f"{entry.name} is hidden (its name starts with a dot) and was not "
                               f"graded; if it is a student's work, rename it to {entry.name.lstrip('.')} and "
                               "grade again"))
        else:
            found.append(Found(path))
    return found, ignored


def _inside(link: Path, folder: Path) -> bool:
    try:
        return Path(os.path.realpath(link)).is_relative_to(Path(folder).resolve())
    except OSError:
        return False


_NOFOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


@dataclass(frozen=True)
class Loaded:
    """A submission's notebook, and the SHA-256 of the file's bytes (what a resumed run compares)."""

    notebook: nbformat.NotebookNode
    digest: str


def load(submission: Path, expected_name: str) -> Loaded:
    """The notebook to grade for one submission (a folder must hold exactly one, or the lab's own), read
    without following any symbolic link: a link found at open time is refused, so none can be swapped in
    between looking and reading."""
    submission = Path(submission)
    try:
        parent = os.open(submission.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as error:
        raise SubmissionError("unreadable", f"{submission.name} cannot be read ({error.strerror})") from None
    try:
        try:
            fd = os.open(submission.name, _NOFOLLOW, dir_fd=parent)
        except OSError as error:
            raise _refusal(submission.name, error) from None
        try:
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                return _load_from_folder(fd, submission.name, expected_name)
            return _parsed(_read_regular(fd, submission.name), submission.name)
        finally:
            os.close(fd)
    finally:
        os.close(parent)


def _refusal(name: str, error: OSError) -> SubmissionError:
    if error.errno == errno.ELOOP:
        return SubmissionError("invalid", f"{name} is a symbolic link; the grader reads only real files: "
                               "submit the notebook itself")
    return SubmissionError("unreadable", f"{name} cannot be read ({error.strerror})")


def _parsed(data: bytes, name: str) -> Loaded:
    return Loaded(parse(data, name), hashlib.sha256(data).hexdigest())


def _load_from_folder(folder_fd: int, folder: str, expected_name: str) -> Loaded:
    notebooks, links = [], []
    for top, dirs, files, top_fd in os.fwalk(dir_fd=folder_fd, follow_symlinks=False):
        dirs[:] = sorted(d for d in dirs if d != CHECKPOINTS)
        for name in sorted(files):
            if not name.endswith(".ipynb"):
                continue
            relative = os.path.normpath(os.path.join(top, name))
            is_link = stat.S_ISLNK(os.stat(name, dir_fd=top_fd, follow_symlinks=False).st_mode)
            (links if is_link else notebooks).append(relative)
    chosen = _choose(notebooks + links, folder, expected_name)
    if chosen in links:
        raise SubmissionError("invalid", f"{folder}/{chosen} is a symbolic link; the grader reads only real files: "
                              "submit the notebook itself")
    try:
        fd = os.open(chosen, _NOFOLLOW, dir_fd=folder_fd)
    except OSError as error:
        raise _refusal(f"{folder}/{chosen}", error) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SubmissionError("unreadable", f"{folder}/{chosen} is not a file")
        return _parsed(_read_regular(fd, chosen), Path(chosen).name)
    finally:
        os.close(fd)


def _choose(notebooks: list[str], folder: str, expected_name: str) -> str:
    if not notebooks:
        raise SubmissionError("unreadable", f"no notebook (.ipynb) in the folder {folder}/; submit {expected_name}")
    named = [n for n in notebooks if Path(n).name == expected_name]
    if len(named) == 1:
        return named[0]
    if len(notebooks) > 1:
        raise SubmissionError("invalid", f"{len(notebooks)} notebooks in {folder}/ and none is "
                              f"{expected_name}; submit only that notebook")
    return notebooks[0]


def _read_regular(fd: int, name: str) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise SubmissionError("unreadable", f"{name} is missing or not a file")
    if info.st_size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError("invalid", f"{name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB; "
                              "clear the outputs (Edit > Clear Outputs of All Cells) and save it again")
    try:
        with os.fdopen(os.dup(fd), "rb") as file:
            return file.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as error:
        raise SubmissionError("unreadable", f"{name} cannot be read ({error.strerror})") from None


def read(path: Path) -> nbformat.NotebookNode:
    """The notebook file at ``path`` (not followed if it is a link), validated against the nbformat 4 schema."""
    path = Path(path)
    if path.is_dir():
        raise SubmissionError("unreadable", f"{path.name} is missing or not a file")
    return load(path, path.name).notebook


def parse(data: bytes, name: str) -> nbformat.NotebookNode:
    """The notebook in ``data`` (the bytes of the file ``name``), validated against the nbformat 4 schema."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionError("unreadable", f"{name} is not UTF-8 text (byte {error.start}); a notebook "
                              "is a UTF-8 JSON file: download it again from JupyterLab") from None
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SubmissionError("unreadable", f"{name} is not valid JSON ({str(error)[:120]}); it may "
                              "be truncated or edited by hand: save it again from JupyterLab") from None
    if not isinstance(raw, dict):
        raise SubmissionError("invalid", f"{name} is JSON but not a notebook")
    version = raw.get("nbformat")
    if version != 4:
        raise SubmissionError("invalid", f"{name} has notebook format {version!r}; expected 4: open it "
                              "in JupyterLab 4 or Notebook 7 and save it again")
    import nbformat  # here: it imports jsonschema, seconds on a busy machine, and grading may fail before this

    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several types for malformed notebooks
        message = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise SubmissionError("invalid", f"{name} is not a valid notebook ({message})") from None
    return notebook


def answers(notebook: nbformat.NotebookNode, questions: list[str], lab_cells: frozenset[str] = frozenset()) -> Answers:
    """The source of the code cells that carry each question's ``grade_id``, in notebook order.

    Several cells with the same id (a student copied the cell) are joined in order; other cells are
    not run, and the feedback says so for those that differ from the lab's own (``lab_cells``, each
    with its whitespace removed), except the cells tagged ``answer``, which the lab asks students to change.
    """
    wanted = set(questions)
    sources: dict[str, list[str]] = {}
    extra = 0
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("labkit")
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        tags = cell.get("metadata", {}).get("tags", [])
        if isinstance(grade_id, str) and grade_id in wanted:
            sources.setdefault(grade_id, []).append(cell.get("source", ""))
        elif isinstance(tags, list) and "answer" in tags:
            continue  # a cell the lab asks the student to write in (labkit.assign.ANSWER_TAG): never graded
        elif "".join(cell.get("source", "").split()) not in lab_cells | {""}:
            extra += 1
    notes = []
    for grade_id, parts in sources.items():
        if len(parts) > 1:
            notes.append(f"{grade_id}: {len(parts)} cells carry this exercise's id; they were run together, "
                         "in order")
    if extra:
        notes.append(f"{extra} code cell(s) that are not exercise cells were added or changed; they were not "
                     "run: the grader runs the lab's own cells and your exercise cells only, so put everything "
                     "an exercise needs in its cell")
    return Answers({gid: "\n\n".join(parts) for gid, parts in sources.items()}, notes)


_WHITESPACE = re.compile(r"\s+")


def unanswered(source: str, placeholder: str) -> bool:
    """Whether an answer is still the lab's placeholder (``# YOUR CODE HERE`` / ``raise NotImplementedError()``)."""
    return _WHITESPACE.sub("", source) == _WHITESPACE.sub("", placeholder)
