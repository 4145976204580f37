import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from labkit import assign
from labkit.assign import MarkerError, strip_solutions, student_notebook

ROOT = Path(__file__).resolve().parents[1]
FILES = Path(__file__).parent / "files"


def student_of(name):
    return student_notebook(nbformat.read(FILES / name, as_version=4), name=name)


def test_solution_region_becomes_placeholder_at_its_indentation():
    """Is a region inside a function replaced by the placeholder, indented like the marker?"""
    source = "def f(x):\n    # BEGIN SOLUTION\n    y = x\n    return y\n    # END SOLUTION\n\nprint(1)"
    assert strip_solutions(source) == ("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n"
                                       "print(1)")


def test_student_notebook_keeps_checks_and_drops_hidden_material():
    """Are model answers, solution-only cells, outputs and execution counts gone, and checks kept?"""
    student = student_of("well_formed.ipynb")
    text = nbformat.writes(student)
    for secret in ("SECRET MODEL ANSWER", "secret_line", "answer = 42", "instructor only", "SOLUTION"):
        assert secret not in text
    code = [c for c in student.cells if c.cell_type == "code"]
    assert [c.source for c in code][1] == "check(f)"
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert code[0].metadata == {"tags": ["keep-me"], "labkit": {"grade_id": "T-f", "points": 2}}
    assert student.cells[1].metadata["tags"] == ["generated-note"]


@pytest.mark.parametrize("name, cell, problem", [
    ("nested_markers.ipynb", 1, "cannot nest"),
    ("unclosed_marker.ipynb", 1, "never closed"),
    ("unopened_marker.ipynb", 0, "without a"),
    ("misspelled_marker.ipynb", 0, "exactly as"),
])
def test_bad_markers_name_the_notebook_and_cell(name, cell, problem):
    """Are nested, unclosed, unopened and misspelled markers errors naming notebook and cell?"""
    with pytest.raises(MarkerError, match=rf"{re.escape(name)}, cell {cell}, line \d+: .*{problem}"):
        student_of(name)


def test_labs_are_in_sync_with_solutions():
    """Is every notebook in labs/ exactly what `labkit assign` generates from solutions/?"""
    generated = assign.generate(ROOT / "solutions", ROOT / "labs")
    on_disk = set((ROOT / "labs").glob("*.ipynb"))
    assert on_disk == set(generated), "labs/ and solutions/ hold different notebooks: run `labkit assign`"
    for path, text in generated.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `labkit assign`"


def _solution_lines(solution):
    for cell in solution.cells:
        inside = False
        for line in cell.source.splitlines():
            if line.strip() in (assign.BEGIN, assign.END):
                inside = line.strip() == assign.BEGIN
            elif inside and len(line.strip()) > 12:
                yield line.strip()


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_no_solution_leaks_into_the_student_notebook(path):
    """Does no solution line, marker, model answer (hidden, or in a cell the student writes in) or stored
    output reach the student notebook?"""
    solution = nbformat.read(path, as_version=4)
    student_text = (ROOT / "labs" / path.name).read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in student_text and "END SOLUTION" not in student_text
    leaked = [line for line in _solution_lines(solution) if line in student_text]
    assert leaked == []
    hidden = [c.source for c in solution.cells if assign.HIDDEN_TAGS & set(c.metadata.get("tags", []))
              or (assign.ANSWER_TAG in c.metadata.get("tags", []) and c.cell_type == "markdown")]
    assert all(text not in student_text for text in hidden)
    cells = nbformat.reads(student_text, as_version=4).cells
    for above, cell in zip([None, *cells], cells, strict=False):
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
        if assign.QUIZ_TAG in cell.metadata.get("tags", []):  # its static questions stand above it
            assert above is not None and above.source == assign.static_quiz(cell.source).source


def test_cli_check_reports_stale_labs(tmp_path):
    """Does `labkit assign --check` exit 1 on a stale lab, and 0 once `labkit assign` has run?"""
    solutions, labs = tmp_path / "solutions", tmp_path / "labs"
    solutions.mkdir()
    shutil.copy(FILES / "well_formed.ipynb", solutions)
    run = [sys.executable, "-m", "labkit.cli", "assign", "--solutions", str(solutions), "--labs", str(labs)]
    assert subprocess.run([*run, "--check"], capture_output=True).returncode == 1
    assert subprocess.run(run, capture_output=True).returncode == 0
    checked = subprocess.run([*run, "--check"], capture_output=True, text=True)
    assert checked.returncode == 0 and "matches" in checked.stdout


def test_cli_reports_bad_markers_without_a_traceback(tmp_path):
    """Does a marker error end `labkit assign` with exit 2 and one clear line?"""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    shutil.copy(FILES / "nested_markers.ipynb", solutions)
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "assign", "--solutions", str(solutions),
                          "--labs", str(tmp_path / "labs")], capture_output=True, text=True)
    assert out.returncode == 2
    assert "nested_markers.ipynb, cell 1" in out.stdout and "Traceback" not in out.stderr


@pytest.mark.parametrize("name, cell, problem", [
    ("duplicate_grade_id.ipynb", 1, "already used by cell 0"),
    ("bad_points.ipynb", 1, "positive number"),
])
def test_bad_grade_metadata_names_the_notebook_and_cell(name, cell, problem):
    """Are a duplicated grade_id and non-numeric points errors naming notebook and cell?"""
    with pytest.raises(assign.GradeMetadataError, match=rf"{re.escape(name)}, cell {cell}: .*{problem}"):
        student_of(name)


def test_graded_cells_lists_ids_and_points_in_order():
    """Does graded_cells give each grade_id with its cell index and points, as the grader reads them?"""
    solution = nbformat.read(ROOT / "solutions" / "lab1_dense_autoencoder.ipynb", as_version=4)
    graded = assign.graded_cells(solution)
    assert {gid: points for gid, (_, points) in graded.items()} == {
        "L1-preprocess": 2, "L1-pipeline": 2, "L1-encoder-decoder": 3, "L1-autoencoder": 1, "L1-compile": 1}
    assert list(graded) == sorted(graded, key=lambda gid: graded[gid][0])


def _solution(*cells, title="# Worked solution — Lab 9 — A lab\nIntro."):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(title), *cells])
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    return notebook


def _tagged(source, tag):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = {"tags": [tag]}
    return cell


def test_the_solution_title_becomes_the_lab_title():
    """Does "# Worked solution — Lab 9 — A lab" become "# Lab 9 — A lab" in the student notebook?"""
    student = student_notebook(_solution(nbformat.v4.new_code_cell("x = 1")), name="lab9.ipynb")
    assert student.cells[0].source == "# Lab 9 — A lab\nIntro."


def test_every_solution_is_titled_worked_solution_and_its_lab_is_not():
    """Is every solution titled "Worked solution — Lab N ...", every lab "Lab N ..." with the rest the
    same, so that no solution title repeats a lab title?"""
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        solution_title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
        lab_title = nbformat.read(ROOT / "labs" / path.name, as_version=4).cells[0].source.splitlines()[0]
        assert solution_title.startswith("# Worked solution — Lab "), path.name
        assert lab_title == "# " + solution_title.removeprefix(assign.SOLUTION_TITLE), path.name


def test_provenance_is_metadata_and_the_note_only_where_there_is_code_to_write():
    """Does the student notebook record its solution in its metadata, not in a cell that points students at
    the solutions, and does it tell students to fill in `# YOUR CODE HERE` only when it has one?"""
    with_exercise = student_notebook(_solution(nbformat.v4.new_code_cell("# BEGIN SOLUTION\nx = 1\n# END SOLUTION")),
                                     name="lab9.ipynb")
    without = student_notebook(_solution(nbformat.v4.new_code_cell("print(1)")), name="lab9.ipynb")
    for student in (with_exercise, without):
        assert student.metadata["labkit"]["generated_from"] == "solutions/lab9.ipynb"
        assert not any("solutions/" in cell.source for cell in student.cells)
    assert [cell.metadata.get("tags") for cell in with_exercise.cells] == [None, ["generated-note"], None]
    assert "# YOUR CODE HERE" in with_exercise.cells[1].source
    assert not any("YOUR CODE HERE" in cell.source for cell in without.cells)
    lab5 = (ROOT / "labs" / "lab5_viva_practice.ipynb").read_text(encoding="utf-8")
    assert "YOUR CODE HERE" not in lab5  # it has no exercise to fill in (issue #23)


def test_a_quiz_cell_gets_its_questions_above_it_but_no_model_answer():
    """Does a cell tagged quiz get, in a markdown cell above it, the lab's quiz as static HTML (every
    question, the marked answers folded) without any short answer's model answer or rubric, and no output?"""
    from labkit import bank

    student = student_notebook(_solution(_tagged("quiz.show(lab=1)", assign.QUIZ_TAG)), name="lab9.ipynb")
    above, quiz_cell = student.cells[-2:]
    assert quiz_cell.source == "quiz.show(lab=1)" and quiz_cell.outputs == []
    assert above.cell_type == "markdown" and above.metadata["tags"] == [assign.QUIZ_COPY_TAG]
    shown = above.source
    assert not re.search(r"\n\s*\n", shown.split("\n\n", 1)[1]), "one HTML block, no blank line in it"
    for question in bank.load_bank(1):
        assert bank.inline_html(question.question) in shown
        if question.kind == "short-answer":
            assert bank.inline_html(question.answer) not in shown
            assert bank.inline_html(question.rubric.full) not in shown
    assert "<details" in shown and "Short answer: write yours" in shown


def test_a_quiz_cell_that_is_not_a_literal_call_names_the_notebook_and_cell():
    """Is a quiz-tagged cell that is not one quiz.show(...) call with literal arguments an error that names
    the notebook and the cell?"""
    with pytest.raises(assign.QuizCellError, match=r"lab9\.ipynb, cell 1: .*quiz\.show"):
        student_notebook(_solution(_tagged("quiz.show(questions=viva)", assign.QUIZ_TAG)), name="lab9.ipynb")


COLAB_CELL = """import subprocess
import sys

if "google.colab" in sys.modules:
    KIT = "git+https://github.com/someone/somewhere@main"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", KIT], check=True)"""


def test_the_colab_cell_installs_the_repository_the_book_config_names(tmp_path):
    """Does `labkit assign` write the repository and branch of the book's _config.yml into the colab-install
    cell of every student notebook, so that a fork sets its address in one place?"""
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://github.com/a-fork/the-kit/\n"
                                          "  branch: autumn\n")
    (tmp_path / "solutions").mkdir()
    nbformat.write(_solution(_tagged(COLAB_CELL, assign.COLAB_TAG)), tmp_path / "solutions" / "lab9.ipynb")
    (text,) = assign.generate(tmp_path / "solutions", tmp_path / "labs").values()
    cell = nbformat.reads(text, as_version=4).cells[-1]
    assert 'KIT = "git+https://github.com/a-fork/the-kit@autumn"' in cell.source
    assert "someone/somewhere" not in text


def _run_colab_cell(source, *, on_colab):
    """What the cell asks pip to do, run in a fresh Python with or without a google.colab module."""
    script = (f"import subprocess, sys, types\n"
              f"calls = []\nsubprocess.run = lambda *a, **k: calls.append(a[0])\n"
              + ("sys.modules['google.colab'] = types.ModuleType('google.colab')\n" if on_colab else "")
              + source + "\nprint(calls)")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return run.stdout.strip()


def test_the_colab_cell_installs_the_kit_on_colab_and_does_nothing_elsewhere():
    """Does every lab's first code cell install the kit, from the repository of _config.yml, when it runs on
    Colab, and do nothing anywhere else?"""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]
    kit = f"git+{config['url']}@{config['branch']}"
    for path in sorted((ROOT / "labs").glob("*.ipynb")):
        first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert first.metadata.get("tags") == [assign.COLAB_TAG], path.name
        assert _run_colab_cell(first.source, on_colab=False) == "[]", path.name
        called = _run_colab_cell(first.source, on_colab=True)
        assert called == str([[sys.executable, "-m", "pip", "install", "--quiet", kit]]), path.name


# --- cells the student writes in (tag `answer`) ------------------------------------------------------

def _answer(source, cell_type="markdown", **metadata):
    cell = (nbformat.v4.new_markdown_cell if cell_type == "markdown" else nbformat.v4.new_code_cell)(source)
    cell.metadata = {"tags": [assign.ANSWER_TAG], **metadata}
    return cell


def test_a_markdown_answer_cell_keeps_its_place_and_tag_but_only_the_prompt():
    """Does a markdown cell tagged answer reach the student as the empty prompt, in its place and with its
    tag (so that the student writes there), while the model answer it holds stays in the solution?"""
    solution = _solution(nbformat.v4.new_markdown_cell("1. Why a sigmoid?"),
                         _answer("**Model answer.** SECRET: it maps to (0, 1)."),
                         nbformat.v4.new_code_cell("print(1)"))
    student = student_notebook(solution, name="lab9.ipynb")
    sources = [cell.source for cell in student.cells]
    assert sources[2:] == ["1. Why a sigmoid?", assign.ANSWER_PROMPT, "print(1)"]
    assert student.cells[3].metadata == {"tags": [assign.ANSWER_TAG]}
    assert "SECRET" not in nbformat.writes(student)
    assert "SECRET" in solution.cells[2].source


def test_a_code_answer_cell_keeps_what_runs_and_drops_the_model_answer_without_a_raise():
    """Does a code cell tagged answer keep its lines outside the markers and lose the model answer, with
    `# YOUR CODE HERE` and no `raise` (not graded: the notebook must still run when it is left as it is)?"""
    source = ('MY_SETTINGS = {}\n# BEGIN SOLUTION\nMY_SETTINGS["wide"] = {"filters": (64,)}\n'
              '# END SOLUTION\nprint(MY_SETTINGS)')
    solved = _answer(source, "code")
    solved.outputs = [nbformat.v4.new_output("stream", text="{'wide': ...}\n")]
    solved.execution_count = 4
    (cell,) = [c for c in student_notebook(_solution(solved), name="lab9.ipynb").cells if c.cell_type == "code"]
    assert cell.source == "MY_SETTINGS = {}\n# YOUR CODE HERE\nprint(MY_SETTINGS)"
    assert cell.outputs == [] and cell.execution_count is None
    namespace = {}
    exec(cell.source, namespace)  # noqa: S102 - it runs as the student gets it
    assert namespace["MY_SETTINGS"] == {}


def test_the_student_note_asks_for_answers_only_where_there_are_answer_cells():
    """Does the note at the top mention the ✍️ cells only in a notebook that has some, and appear in a
    notebook with answer cells but no exercise?"""
    only_answers = student_notebook(_solution(_answer("model")), name="lab9.ipynb")
    assert "✍️" in only_answers.cells[1].source and "YOUR CODE HERE" not in only_answers.cells[1].source
    exercise = student_notebook(_solution(nbformat.v4.new_code_cell("# BEGIN SOLUTION\nx = 1\n# END SOLUTION")),
                                name="lab9.ipynb")
    assert "✍️" not in exercise.cells[1].source


@pytest.mark.parametrize("cell, problem", [
    (_answer("x = 1", "code"), "between '# BEGIN SOLUTION'"),
    (_answer("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", "code", labkit={"grade_id": "T-x", "points": 1}),
     "never graded"),
    (_answer("both", tags=[assign.ANSWER_TAG, "model-answer"]), "keep one of the tags"),
])
def test_an_answer_cell_that_cannot_be_emptied_names_the_notebook_and_cell(cell, problem):
    """Are a code answer cell without markers (its model answer would reach the student), a graded answer
    cell and an answer cell also tagged model-answer errors that name the notebook and the cell?"""
    with pytest.raises(assign.AnswerCellError, match=rf"lab9\.ipynb, cell 1: .*{re.escape(problem)}"):
        student_notebook(_solution(cell), name="lab9.ipynb")



def test_answer_cells_leave_the_graders_template_as_it_was(tmp_path):
    """Does the grader's template (the student notebook's code cells) hold the same preamble and exercise
    placeholders with the answer cells as without them?"""
    from labkit.grading import template

    solution = ROOT / "solutions" / "lab1_dense_autoencoder.ipynb"
    notebook = nbformat.read(solution, as_version=4)
    answers = [i for i, c in enumerate(notebook.cells) if assign.ANSWER_TAG in c.metadata.get("tags", [])]
    assert answers and all(notebook.cells[i].cell_type == "markdown" for i in answers)
    exercises = list(assign.graded_cells(notebook))
    with_answers = template.load(solution, lab=1, exercises=exercises)
    notebook.cells = [c for i, c in enumerate(notebook.cells) if i not in answers]
    nbformat.write(notebook, tmp_path / solution.name)
    plain = template.load(tmp_path / solution.name, lab=1, exercises=exercises)
    assert (with_answers.preamble, with_answers.placeholders) == (plain.preamble, plain.placeholders)
