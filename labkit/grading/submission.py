"""Read a submitted notebook as untrusted input and keep only the student's answer cells.

A submission is a file ``STUDENT.ipynb`` or a folder ``STUDENT/`` holding one notebook. Everything but
the source of the code cells whose ``labkit`` metadata names a graded question is thrown away:
outputs, other metadata, tags (``skip-execution``, ``raises-exception``), the kernelspec, the points
a student may have edited, and every extra cell.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

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
    """The student's id: the notebook's name without ``.ipynb``, or the folder's name."""
    path = Path(path)
    return path.stem if path.suffix == ".ipynb" else path.name


def find(folder: Path) -> list[Path]:
    """Every submission in ``folder``: its ``*.ipynb`` files and its sub-folders, sorted by name."""
    entries = [p for p in Path(folder).iterdir() if not p.name.startswith(".")]
    return sorted((p for p in entries if p.is_dir() or p.suffix == ".ipynb"), key=lambda p: p.name)


def notebook_path(submission: Path, expected_name: str) -> Path:
    """The notebook to grade for one submission (a folder must hold exactly one, or the lab's own)."""
    submission = Path(submission)
    if not submission.is_dir():
        return submission
    notebooks = sorted(p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        raise SubmissionError("unreadable", f"no notebook (.ipynb) in the folder {submission.name}/; "
                              f"submit {expected_name}")
    named = [p for p in notebooks if p.name == expected_name]
    if len(named) == 1:
        return named[0]
    if len(notebooks) > 1:
        raise SubmissionError("invalid", f"{len(notebooks)} notebooks in {submission.name}/ and none is "
                              f"{expected_name}; submit only that notebook")
    return notebooks[0]


def read(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, validated against the nbformat 4 schema."""
    path = Path(path)
    try:
        if not path.is_file():
            raise SubmissionError("unreadable", f"{path.name} is missing or not a file")
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise SubmissionError("invalid", f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB; "
                                  "clear the outputs (Edit > Clear Outputs of All Cells) and save it again")
        data = path.read_bytes()
    except OSError as error:
        raise SubmissionError("unreadable", f"{path.name} cannot be read ({error.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionError("unreadable", f"{path.name} is not UTF-8 text (byte {error.start}); a notebook "
                              "is a UTF-8 JSON file: download it again from JupyterLab") from None
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise SubmissionError("unreadable", f"{path.name} is not valid JSON ({str(error)[:120]}); it may "
                              "be truncated or edited by hand: save it again from JupyterLab") from None
    if not isinstance(raw, dict):
        raise SubmissionError("invalid", f"{path.name} is JSON but not a notebook")
    version = raw.get("nbformat")
    if version != 4:
        raise SubmissionError("invalid", f"{path.name} has notebook format {version!r}; expected 4: open it "
                              "in JupyterLab 4 or Notebook 7 and save it again")
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several types for malformed notebooks
        message = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise SubmissionError("invalid", f"{path.name} is not a valid notebook ({message})") from None
    return notebook


def answers(notebook: nbformat.NotebookNode, questions: list[str], lab_cells: frozenset[str] = frozenset()) -> Answers:
    """The source of the code cells that carry each question's ``grade_id``, in notebook order.

    Several cells with the same id (a student copied the cell) are joined in order; other cells are
    not run, and the feedback says so for those that differ from the lab's own (``lab_cells``, each
    with its whitespace removed).
    """
    wanted = set(questions)
    sources: dict[str, list[str]] = {}
    extra = 0
    for cell in notebook.cells:
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("labkit")
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if isinstance(grade_id, str) and grade_id in wanted:
            sources.setdefault(grade_id, []).append(cell.get("source", ""))
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
