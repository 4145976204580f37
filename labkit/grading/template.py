"""The instructor's template of a lab, and the run rebuilt from it for each submission.

The template is the student notebook that ``labkit assign`` makes from the solution (solution regions
stripped, hidden cells left out). For a submission, the run is: the grader's setup cell, the lab's own
code cells before its first exercise (imports, data), then for each exercise the grader's ``prepare``
cell, the student's answer in place of the exercise cell, and the grader's ``export`` cell
(:mod:`labkit.grading.exports`). No other cell of the student's notebook runs: not the self-checks,
not the training. Each exercise starts from the correct state its lab's ``prepare`` sets up, so it is
graded on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path



class TemplateError(Exception):
    """The lab's solution notebook and its grading module do not fit together."""


@dataclass(frozen=True)
class Cell:
    """One cell of a grading run: ``kind`` is ``"template"``, ``"answer"`` or ``"grading"``; ``grade_id`` is
    the question it belongs to."""

    kind: str
    source: str
    grade_id: str | None = None


@dataclass(frozen=True)
class Template:
    notebook: str
    lab: int
    questions: dict[str, float]
    """Each question's grade_id and points, in notebook order, read from the solution's metadata."""
    preamble: tuple[str, ...]
    """The student notebook's code cells before its first exercise."""
    placeholders: dict[str, str]
    """Each exercise cell as the student notebook has it (the placeholder in place of the solution)."""
    lab_cells: frozenset[str] = frozenset()
    """Every code cell of the student notebook, whitespace removed: a submission's copies are not extra."""

    @property
    def max_score(self) -> float:
        return sum(self.questions.values())

    def placeholder(self, grade_id: str) -> str:
        return self.placeholders[grade_id]

    def setup(self) -> str:
        return ("import labkit.grading.exports as _labkit_grading\n"
                f"_labkit_grading.start({self.lab})\n"
                "import labkit, keras, tensorflow")

    def rebuild(self, answers: dict[str, str]) -> list[Cell]:
        """The cells to run for one submission: setup, the lab's first cells, then prepare, answer and export
        for each exercise."""
        cells = [Cell("grading", self.setup())] + [Cell("template", source) for source in self.preamble]
        for grade_id in self.questions:
            cells += [Cell("grading", f"_labkit_grading.prepare({grade_id!r}, globals())", grade_id),
                      Cell("answer", answers.get(grade_id, self.placeholders[grade_id]), grade_id),
                      Cell("grading", f"_labkit_grading.export({grade_id!r}, globals())", grade_id)]
        return cells


def load(solution: Path, *, lab: int, exercises: list[str]) -> Template:
    """The template of lab ``lab`` from its solution notebook; ``exercises`` are its grading module's."""
    solution = Path(solution)
    if not solution.is_file():
        raise TemplateError(f"solution notebook {solution} not found; pass --solutions (the folder of "
                            "the lab's solution notebooks)")
    import nbformat

    from labkit.assign import book_kit, graded_cells, student_notebook

    notebook = nbformat.read(solution, as_version=4)
    graded = graded_cells(notebook, name=solution.name)
    if list(graded) != list(exercises):
        raise TemplateError(f"{solution.name} grades {list(graded)} but Lab {lab}'s grading checks "
                            f"{list(exercises)}; make them the same questions, in the same order")
    # The student notebook exactly as `labkit assign` makes it (the book's repository in its Colab cell), so
    # that a submission's own cells are recognised as the lab's.
    student = student_notebook(notebook, name=solution.name, kit=book_kit(solution.resolve().parent.parent
                                                                           / "_config.yml"))
    code = [((cell.metadata.get("labkit") or {}).get("grade_id"), cell.source)
            for cell in student.cells if cell.cell_type == "code"]
    first = next(index for index, (grade_id, _) in enumerate(code) if grade_id is not None)
    return Template(notebook=solution.name, lab=lab,
                    questions={grade_id: points for grade_id, (_, points) in graded.items()},
                    preamble=tuple(source for _, source in code[:first]),
                    placeholders={grade_id: source for grade_id, source in code if grade_id is not None},
                    lab_cells=frozenset(_squeeze(source) for _, source in code))


def _squeeze(source: str) -> str:
    return "".join(source.split())
