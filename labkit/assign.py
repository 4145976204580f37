"""Generate the student notebooks in ``labs/`` from the solution notebooks in ``solutions/``.

A solution notebook is the single source of its lab. In its code cells, every region between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` (the spelling nbgrader and otter-grader share) becomes
``# YOUR CODE HERE`` and ``raise NotImplementedError()`` at the marker's indentation. Cells tagged
``model-answer`` or ``solution-only`` are left out; outputs and execution counts are stripped; the
self-checks stay. Besides:

* a cell tagged ``answer`` is one the student writes in (a pre-lab or post-lab answer, the lab's results
  and inferences, a setting of their own): in the solution it holds the model answer, which only the
  instructor edition shows; the student notebook keeps the cell, emptied. A markdown answer cell's text
  becomes :data:`ANSWER_PROMPT`; in a code answer cell each marked region becomes ``# YOUR CODE HERE``
  alone, without a ``raise``: the cell is never graded, and the notebook must still run when the student
  leaves it as it is;

* the solution's title, ``# Worked solution — Lab 1 — ...``, becomes the lab's, ``# Lab 1 — ...``;
* a code cell tagged ``quiz`` (``quiz.show(lab=1)``) gets a markdown cell above it holding the quiz as static
  HTML, without the short answers' model answers and rubrics, so that the student book shows the questions
  while the notebook, like every student notebook, carries no outputs;
* the cell tagged ``colab-install`` installs the kit from the repository that the book's ``_config.yml``
  names (``repository.url`` and ``repository.branch``), so a fork sets its address in one place;
* a notebook with exercises opens with a one-line note on how to answer them, and the notebook's metadata
  (``labkit.generated_from``) records its solution, for maintainers.

``labkit assign --check`` fails when ``labs/`` is not what would be generated.
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import nbformat

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
HIDDEN_TAGS = frozenset({"model-answer", "solution-only"})
"""Cells with one of these tags appear only in the solution (and the instructor's book)."""
SOLUTION_TITLE = "# Worked solution — "
"""How a solution's title starts; the student notebook's title is the rest (``# Lab 1 — ...``)."""
ANSWER_TAG = "answer"
"""Cells the student writes in; the solution's text is the model answer (see the module's docstring)."""
ANSWER_PROMPT = "✍️ **Your answer:** *double-click this cell and write here, in your own words.*"
"""What a markdown cell tagged ``answer`` says in the student notebook."""
QUIZ_TAG = "quiz"
QUIZ_COPY_TAG = "quiz-copy"
"""The markdown cell ``labkit assign`` puts above a quiz cell in the student notebook (:func:`static_quiz`)."""
QUIZ_COPY_NOTE = "*The quiz to read. In JupyterLab, run the cell below it to answer and get feedback.*"
COLAB_TAG = "colab-install"
KIT_SPEC = re.compile(r"git\+https?://[^\s\"'@]+(?:@[\w./-]+)?")
"""The pip requirement of the Colab cell: ``git+https://github.com/OWNER/REPO@BRANCH``."""

_MARKER = re.compile(r"^(?P<indent>[ \t]*)# (?P<kind>BEGIN|END) SOLUTION\s*$")
_LOOSE_MARKER = re.compile(r"#+\s*(BEGIN|END)\s+SOLUTION", re.IGNORECASE)
_KEEP_CELL_METADATA = ("tags", "labkit")


class MarkerError(ValueError):
    """Solution markers are nested, unclosed, unopened or misspelled in a notebook cell."""

    def __init__(self, notebook: str, cell: int, line: int, problem: str):
        self.notebook, self.cell, self.line = notebook, cell, line
        super().__init__(f"{notebook}, cell {cell}, line {line}: {problem}")


class AnswerCellError(ValueError):
    """A cell tagged ``answer`` cannot be emptied for the student (graded, hidden, or no marked region)."""

    def __init__(self, notebook: str, cell: int, problem: str):
        self.notebook, self.cell = notebook, cell
        super().__init__(f"{notebook}, cell {cell}: {problem}")


class GradeMetadataError(ValueError):
    """A graded cell's ``labkit`` metadata is malformed, or two graded cells share a ``grade_id``."""

    def __init__(self, notebook: str, cell: int, problem: str):
        self.notebook, self.cell = notebook, cell
        super().__init__(f"{notebook}, cell {cell}: {problem}")


_GRADE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def graded_cells(notebook: nbformat.NotebookNode, *, name: str = "<notebook>") -> dict[str, tuple[int, float]]:
    """``{grade_id: (cell index, points)}`` of every cell with ``labkit`` metadata, in notebook order.

    Each must be a code cell whose metadata is exactly ``{"grade_id": "...", "points": N}`` (N > 0),
    with ids unique in the notebook. Used by ``labkit assign`` and by the autograder (labkit.grading).
    """
    found: dict[str, tuple[int, float]] = {}
    for index, cell in enumerate(notebook.cells):
        meta = cell.metadata.get("labkit")
        if meta is None:
            continue
        if cell.cell_type != "code":
            raise GradeMetadataError(name, index, "only code cells can be graded; move the 'labkit' "
                                     "metadata to the exercise's code cell")
        if not isinstance(meta, dict) or set(meta) != {"grade_id", "points"}:
            raise GradeMetadataError(name, index, 'graded cells need exactly {"grade_id": "...", '
                                     f'"points": N}} as their labkit metadata; found {meta!r}')
        grade_id, points = meta["grade_id"], meta["points"]
        if not isinstance(grade_id, str) or not _GRADE_ID.match(grade_id):
            raise GradeMetadataError(name, index, f"grade_id {grade_id!r} should be a short name of "
                                     "letters, digits, '-', '_' or '.', such as 'L1-preprocess'")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not points > 0:
            raise GradeMetadataError(name, index, f"points of {grade_id!r} should be a positive number; "
                                     f"found {points!r}")
        if grade_id in found:
            raise GradeMetadataError(name, index, f"grade_id {grade_id!r} is already used by cell "
                                     f"{found[grade_id][0]}; every graded cell needs its own id")
        found[grade_id] = (index, points)
    return found


PLACEHOLDER = ("# YOUR CODE HERE", "raise NotImplementedError()")
"""What a solution region of an exercise becomes, at the marker's indentation."""


def strip_solutions(source: str, *, notebook: str = "<notebook>", cell: int = 0,
                    placeholder: tuple[str, ...] = PLACEHOLDER) -> str:
    """``source`` with each marked solution region replaced by ``placeholder``."""
    out: list[str] = []
    opened: int | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        marker = _MARKER.match(line)
        if marker is None:
            if _LOOSE_MARKER.search(line):
                raise MarkerError(notebook, cell, number, f"write the marker exactly as '{BEGIN}' or "
                                  f"'{END}' on a line of its own; found {line.strip()!r}")
            if opened is None:
                out.append(line)
            continue
        indent = marker["indent"]
        if marker["kind"] == "BEGIN":
            if opened is not None:
                raise MarkerError(notebook, cell, number, f"'{BEGIN}' inside the region opened on line "
                                  f"{opened}; close it with '{END}' first (regions cannot nest)")
            opened = number
            out += [f"{indent}{line}" for line in placeholder]
        else:
            if opened is None:
                raise MarkerError(notebook, cell, number, f"'{END}' without a '{BEGIN}' before it")
            opened = None
    if opened is not None:
        raise MarkerError(notebook, cell, opened, f"'{BEGIN}' is never closed; add '{END}' after "
                          "the solution lines")
    return "\n".join(out)


class QuizCellError(ValueError):
    """A cell tagged ``quiz`` is not a single ``quiz.show(...)`` call with literal arguments."""


def student_notebook(solution: nbformat.NotebookNode, *, name: str,
                     kit: str | None = None) -> nbformat.NotebookNode:
    """The student version of one solution notebook (``name`` is used in messages and the metadata).

    ``kit``: the pip requirement the ``colab-install`` cell installs (see :func:`book_kit`); None keeps the
    solution's."""
    graded_cells(solution, name=name)
    student = copy.deepcopy(solution)
    student.metadata.pop("widgets", None)
    student.metadata["labkit"] = {"generated_from": f"solutions/{name}",
                                  "generated_by": "labkit assign: edit the solution, not this notebook"}
    cells = []
    for index, cell in enumerate(solution.cells):
        tags = set(cell.metadata.get("tags", []))
        if ANSWER_TAG in tags:
            placeholder = answer_placeholder(cell, notebook=name, index=index)
        if HIDDEN_TAGS & tags:
            continue
        cell = copy.deepcopy(cell)
        cell.metadata = {key: cell.metadata[key] for key in _KEEP_CELL_METADATA if key in cell.metadata}
        if ANSWER_TAG in tags:
            cell.source = placeholder
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        elif cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, notebook=name, cell=index)
            cell.outputs, cell.execution_count = [], None
            if QUIZ_TAG in tags:
                cells.append(static_quiz(cell.source, notebook=name, cell=index))
            if COLAB_TAG in tags and kit is not None:
                cell.source = KIT_SPEC.sub(kit, cell.source)
        elif _LOOSE_MARKER.search(cell.source):
            raise MarkerError(name, index, 1, "solution markers belong in code cells; tag a markdown "
                              "cell 'model-answer' to keep it out of the student notebook")
        elif not cells and cell.source.startswith(SOLUTION_TITLE):
            cell.source = "# " + cell.source[len(SOLUTION_TITLE):]
        cells.append(cell)
    code_to_write = any("# YOUR CODE HERE" in cell.source for cell in cells if cell.cell_type == "code")
    to_answer = any(ANSWER_TAG in cell.metadata.get("tags", []) for cell in cells)
    if code_to_write or to_answer:
        cells.insert(1 if cells and cells[0].cell_type == "markdown" else 0,
                     _student_note(code_to_write, to_answer))
    student.cells = cells
    return student


def answer_placeholder(cell: nbformat.NotebookNode, *, notebook: str, index: int) -> str:
    """What a cell tagged ``answer`` holds in the student notebook: :data:`ANSWER_PROMPT` for markdown; for
    code, the cell with each marked region replaced by ``# YOUR CODE HERE`` alone."""
    tags = set(cell.metadata.get("tags", []))
    if "labkit" in cell.metadata:
        raise AnswerCellError(notebook, index, f"a cell tagged '{ANSWER_TAG}' is the student's to write and "
                              "is never graded; remove its 'labkit' grading metadata or the tag")
    if HIDDEN_TAGS & tags:
        raise AnswerCellError(notebook, index, f"a cell tagged '{ANSWER_TAG}' is kept for the student, "
                              f"one tagged {' and '.join(sorted(HIDDEN_TAGS & tags))} is left out; "
                              "keep one of the tags")
    if cell.cell_type != "code":
        return ANSWER_PROMPT
    if not any(_MARKER.match(line) for line in cell.source.splitlines()):
        raise AnswerCellError(notebook, index, f"a code cell tagged '{ANSWER_TAG}' needs its model answer "
                              f"between '{BEGIN}' and '{END}'; without them the student would get it")
    return strip_solutions(cell.source, notebook=notebook, cell=index, placeholder=PLACEHOLDER[:1])


def _student_note(code_to_write: bool = True, to_answer: bool = False) -> nbformat.NotebookNode:
    parts = []
    if code_to_write:
        parts.append("Write your code in place of each `# YOUR CODE HERE`, then run the check below "
                     "it: it answers with ✅ or says what to fix.")
    if to_answer:
        parts.append("Write your own answers in the cells marked ✍️.")
    note = nbformat.v4.new_markdown_cell("*" + " ".join(parts) + "*")
    note.id = "generated-note"
    note.metadata = {"tags": ["generated-note"]}
    return note


def static_quiz(source: str, *, notebook: str = "<notebook>", cell: int = 0) -> nbformat.NotebookNode:
    """The markdown cell that stands above a ``quiz`` cell in the student notebook: the quiz of
    ``quiz.show(...)`` as static HTML, the short answers without their model answers and rubrics (those stay
    in the instructor edition), for the book and for reading; running the quiz cell shows the live quiz."""
    from labkit import quiz

    try:
        call = ast.parse(source.strip(), mode="eval").body
        if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "quiz.show" and not call.args):
            raise ValueError
        arguments = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    except (SyntaxError, ValueError):
        raise QuizCellError(f"{notebook}, cell {cell}: a cell tagged '{QUIZ_TAG}' must be one call "
                            f"quiz.show(...) with literal arguments, such as quiz.show(lab=2); found "
                            f"{source.strip()[:60]!r}") from None
    shown = quiz.show(**arguments)
    # one HTML block: in Markdown, a blank line would end it and read what follows as text
    html = re.sub(r"\n\s*\n", "\n", quiz.static_html(shown.questions, shown.title, model_answers=False))
    copy_cell = nbformat.v4.new_markdown_cell(f"{QUIZ_COPY_NOTE}\n\n{html}")
    copy_cell.id, copy_cell.metadata = f"{QUIZ_COPY_TAG}-{cell}", {"tags": [QUIZ_COPY_TAG]}
    return copy_cell


def book_kit(config: Path) -> str | None:
    """``git+URL@BRANCH`` of the repository that the book's ``_config.yml`` names, or None without one."""
    import yaml

    if not config.is_file():
        return None
    repository = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("repository") or {}
    url = str(repository.get("url", "")).rstrip("/")
    if not url:
        return None
    return f"git+{url}@{repository.get('branch') or 'main'}"


def generate(solutions: Path, labs: Path) -> dict[Path, str]:
    """The text of every student notebook, keyed by its path under ``labs``."""
    files = sorted(Path(solutions).glob("*.ipynb"))
    if not files:
        raise FileNotFoundError(f"no solution notebooks (*.ipynb) in {solutions}; run from the "
                                "repository root or pass --solutions")
    kit = book_kit(Path(solutions).resolve().parent / "_config.yml")
    generated = {}
    for path in files:
        solution = nbformat.read(path, as_version=4)
        student = student_notebook(solution, name=path.name, kit=kit)
        generated[Path(labs) / path.name] = nbformat.writes(student) + "\n"
    return generated


def main(solutions: Path, labs: Path, *, check: bool = False) -> int:
    """Write (or with ``check``, compare) the student notebooks; 0 when all is in order."""
    try:
        generated = generate(solutions, labs)
    except (MarkerError, GradeMetadataError, QuizCellError, AnswerCellError, FileNotFoundError) as error:
        print(f"labkit assign: {error}")
        return 2
    stale = [path for path, text in generated.items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]
    extra = sorted(set(Path(labs).glob("*.ipynb")) - set(generated))
    if check:
        for path in stale:
            print(f"out of date: {path} (run `labkit assign`)")
        for path in extra:
            print(f"no solution for: {path} (every lab is generated from solutions/)")
        if not stale and not extra:
            print(f"labs/ matches solutions/ ({len(generated)} notebooks)")
        return 1 if stale or extra else 0
    Path(labs).mkdir(parents=True, exist_ok=True)
    for path in stale:
        path.write_text(generated[path], encoding="utf-8")
        print(f"wrote {path}")
    for path in extra:
        print(f"warning: {path} has no solution notebook; left as it is")
    print(f"{len(generated)} student notebooks, {len(stale)} rewritten")
    return 0
