"""The instructor's template of a lab, and what is rebuilt from it for each submission.

The template is the student notebook that ``labkit assign`` makes from the solution (solution regions
stripped, hidden cells left out) plus the instructor's grading cells from the lab's grading module
(``labkit/grading/labN.py``). For a submission, the graded cells' sources are replaced by the student's
answers; every other cell is the template's own. After each question's cells (its exercise cell, its
self-check and any cells up to the next exercise), the lab's export cell for that question writes plain
data for the grader. The run stops after the last question's export: no training is needed to grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from labkit.assign import graded_cells, student_notebook


class TemplateError(Exception):
    """The lab's solution notebook and its grading module do not fit together."""


@dataclass(frozen=True)
class Cell:
    """One cell of a grading run: ``kind`` is ``"template"``, ``"answer"`` or ``"grading"``; ``grade_id`` is
    the question it belongs to (a template cell belongs to the exercise before it)."""

    kind: str
    source: str
    grade_id: str | None = None


@dataclass(frozen=True)
class Template:
    notebook: str
    questions: dict[str, float]
    """Each question's grade_id and points, in notebook order, read from the solution's metadata."""
    cells: tuple[tuple[str | None, str], ...]
    """The student notebook's code cells up to the grading stop: ``(grade_id or None, source)``."""
    setup: str
    exports: dict[str, str]
    lab_cells: frozenset[str] = frozenset()
    """Every code cell of the student notebook, whitespace removed: a submission's copies are not extra."""

    @property
    def max_score(self) -> float:
        return sum(self.questions.values())

    def placeholder(self, grade_id: str) -> str:
        return next(source for gid, source in self.cells if gid == grade_id)

    def rebuild(self, answers: dict[str, str]) -> list[Cell]:
        """The cells to run for one submission: template cells, the student's answers, export cells."""
        cells = [Cell("grading", self.setup)]
        pending: str | None = None
        for grade_id, source in self.cells:
            if grade_id is not None:
                if pending is not None:
                    cells.append(Cell("grading", self.exports[pending], pending))
                pending = grade_id
                cells.append(Cell("answer", answers.get(grade_id, source), grade_id))
            else:
                cells.append(Cell("template", source, pending))
        if pending is not None:
            cells.append(Cell("grading", self.exports[pending], pending))
        return cells


def load(solution: Path, *, setup: str, exports: dict[str, str], cells_after_last: int = 1) -> Template:
    """The template of one lab from its solution notebook and its grading module's cells."""
    solution = Path(solution)
    if not solution.is_file():
        raise TemplateError(f"solution notebook {solution} not found; pass --solutions (the folder of "
                            "the lab's solution notebooks)")
    notebook = nbformat.read(solution, as_version=4)
    graded = graded_cells(notebook, name=solution.name)
    if list(graded) != list(exports):
        raise TemplateError(f"{solution.name} grades {list(graded)} but its grading module exports "
                            f"{list(exports)}; make them the same questions, in the same order")
    student = student_notebook(notebook, name=solution.name)
    code = [((cell.metadata.get("labkit") or {}).get("grade_id"), cell.source)
            for cell in student.cells if cell.cell_type == "code"]
    last = max(index for index, (grade_id, _) in enumerate(code) if grade_id is not None)
    return Template(notebook=solution.name,
                    questions={grade_id: points for grade_id, (_, points) in graded.items()},
                    cells=tuple(code[:last + 1 + cells_after_last]), setup=setup, exports=dict(exports),
                    lab_cells=frozenset(_squeeze(source) for _, source in code))


def _squeeze(source: str) -> str:
    return "".join(source.split())
