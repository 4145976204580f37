import json
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
    assert student.cells[0].metadata["tags"] == ["generated-note"]


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
    """Does no solution line, marker, model answer or stored output reach the student notebook?"""
    solution = nbformat.read(path, as_version=4)
    student_text = (ROOT / "labs" / path.name).read_text(encoding="utf-8")
    student = json.loads(student_text)
    assert "BEGIN SOLUTION" not in student_text and "END SOLUTION" not in student_text
    leaked = [line for line in _solution_lines(solution) if line in student_text]
    assert leaked == []
    hidden = [c.source for c in solution.cells if assign.HIDDEN_TAGS & set(c.metadata.get("tags", []))]
    assert all(text not in student_text for text in hidden)
    assert all(not c.get("outputs") for c in student["cells"] if c["cell_type"] == "code")


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
