"""Does every lab in the registry (labkit.labs) have all it needs, and nothing of it live elsewhere?

A new lab is its package (labkit/labs/labN/), its solution and student notebooks and its bank file. These tests
fail with a message that names what a lab still lacks.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from labkit import bank, checks, labs, reproduce
from labkit.assign import graded_cells
from labkit.grading.agreement import self_check_calls

ROOT = Path(__file__).resolve().parents[1]
ALL = labs.all_labs()
EXERCISE_PARTS = ("rules", "checks", "grading", "mistakes", "experiments")


def solution(lab: labs.Lab) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "solutions" / lab.notebook, as_version=4)


def test_the_registry_finds_the_labs_in_order_without_tensorflow():
    """Are the labs found in order, with titles, by code that imports neither TensorFlow nor Keras?"""
    code = ("import sys\nfrom labkit import labs\n"
            "found = [(lab.number, lab.title, [p for p in labs.PARTS if lab.has(p)]) for lab in labs.all_labs()]\n"
            "for lab in labs.all_labs():\n    lab.constants\n    lab.has('rules') and lab.part('rules')\n"
            "print(found)\nprint(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    found, heavy = run.stdout.strip().splitlines()[-2:]
    assert heavy == "[]", f"the registry or a lab's constants or rules imported {heavy}"
    assert [number for number, _, _ in ast.literal_eval(found)] == sorted(labs.numbers())
    assert labs.numbers()[:5] == [1, 2, 3, 4, 5]


def test_an_unknown_lab_is_refused_with_the_known_ones():
    """Does asking for a lab that does not exist name the labs there are?"""
    with pytest.raises(labs.UnknownLab, match="the labs are 1, 2, 3, 4"):
        labs.get(99)


@pytest.mark.parametrize("lab", ALL, ids=lambda lab: f"lab{lab.number}")
def test_each_lab_has_its_notebooks_and_bank(lab):
    """Does the lab have its solution, its generated student notebook and its question bank for its number?"""
    missing = [str(path.relative_to(ROOT)) for path in (ROOT / "solutions" / lab.notebook,
                                                        ROOT / "labs" / lab.notebook, lab.bank)
               if not path.is_file()]
    assert missing == [], f"Lab {lab.number} lacks {', '.join(missing)}"
    assert bank.load_file(lab.bank).lab == lab.number


@pytest.mark.parametrize("lab", ALL, ids=lambda lab: f"lab{lab.number}")
def test_a_lab_with_exercises_has_every_part_and_grades_exactly_its_exercises(lab):
    """Does a lab whose solution has graded cells have rules, checks, grading, mistakes and experiments, and do its
    grading's exercises equal the solution's grade_ids, in order?"""
    graded = list(graded_cells(solution(lab), name=lab.notebook))
    if not graded:
        return
    missing = [f"labkit/labs/lab{lab.number}/{part}.py" for part in EXERCISE_PARTS if not lab.has(part)]
    assert missing == [], f"Lab {lab.number} has graded exercises {graded} but lacks {', '.join(missing)}"
    assert list(lab.part("grading").EXERCISES) == graded, \
        f"Lab {lab.number}'s grading checks {list(lab.part('grading').EXERCISES)}; its solution grades {graded}"
    assert set(lab.part("mistakes").MISTAKES) == set(graded), f"Lab {lab.number}'s mistakes cover other exercises"
    assert any(e.lab == lab.number for e in reproduce.experiments().values()), \
        f"Lab {lab.number} has no experiment in labkit/labs/lab{lab.number}/experiments.py"


@pytest.mark.parametrize("lab", ALL, ids=lambda lab: f"lab{lab.number}")
def test_the_notebook_shows_the_lab_constants_the_kit_uses(lab):
    """Does every constant the notebook's setup cell sets, that the lab's package also has, hold the same value?"""
    constants = vars(lab.constants)
    differ = {}
    for cell in solution(lab).cells:
        if cell.cell_type != "code" or "labkit.setup()" not in cell.source:
            continue
        for statement in ast.parse(cell.source).body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                    and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id in constants:
                try:
                    value = ast.literal_eval(statement.value)
                except ValueError:
                    continue
                name = statement.targets[0].id
                if value != constants[name]:
                    differ[name] = (value, constants[name])
    assert differ == {}, f"Lab {lab.number}: notebook value vs labkit/labs/lab{lab.number}: {differ}"


def test_each_self_check_name_belongs_to_one_lab_and_every_call_in_a_solution_exists():
    """Is every `checks.check_*` a solution calls found (in exactly one lab's checks)?"""
    owners: dict[str, list[int]] = {}
    for lab in labs.with_part("checks"):
        for name in lab.part("checks").__all__:
            owners.setdefault(name, []).append(lab.number)
    assert {name: found for name, found in owners.items() if len(found) > 1} == {}
    for lab in ALL:
        for grade_id, calls in self_check_calls(solution(lab)).items():
            for call in calls:
                name = call.split("(")[0].removeprefix("checks.")
                assert callable(getattr(checks, name)), f"{lab.notebook} calls {call} for {grade_id}"
