"""The adversarial corpus of any gradable lab, written from its solution and its plausible mistakes.

Each case is the lab's student notebook with its exercise cells filled in: honestly (right, wrong, partly, not
at all), with a trick that forges a pass in the student's own kernel, or with code that breaks the run. Each
comes with the exact score and status the grader must give it, computed from the exercises' points: a trick
scores what the honest-but-wrong answers beneath it score, and no more. Used by tests/test_grade_labs.py for
every lab with grading but Lab 1, whose corpus is committed (tests/files/submissions/).

The honest-but-wrong answer to each exercise is its first mistake in ``labkit/labs/labN/mistakes.py``; every
answer is right in the last exercise, which is what the honest-wrong submission scores.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labkit import labs
from labkit.grading.agreement import solution_answers

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    answers: dict[str, str]
    score: float
    status: str


def cases(number: int) -> list[Case]:
    """The corpus of lab ``number``: at least the twelve cases every gradable lab is held to."""
    lab = labs.get(number)
    solution = nbformat.read(ROOT / "solutions" / lab.notebook, as_version=4)
    right = solution_answers(solution)
    points = {cell.metadata["labkit"]["grade_id"]: float(cell.metadata["labkit"]["points"])
              for cell in solution.cells if cell.metadata.get("labkit")}
    grading = lab.part("grading")
    mistakes = lab.part("mistakes").MISTAKES
    ids = list(points)
    first, second, last = ids[0], ids[1], ids[-1]
    wrong = {gid: next(iter(mistakes[gid].values())) for gid in ids}
    wrong[last] = right[last]
    student = nbformat.read(ROOT / "labs" / lab.notebook, as_version=4)
    blank = {cell.metadata["labkit"]["grade_id"]: cell.source for cell in student.cells
             if cell.cell_type == "code" and cell.metadata.get("labkit")}

    def with_code(base: dict, gid: str, code: str, *, before: bool = False) -> dict:
        answers = dict(base)
        answers[gid] = f"{code}\n{answers[gid]}" if before else f"{answers[gid]}\n\n{code}"
        return answers

    def then(code: str) -> dict:
        """The first exercise right, then ``code`` as the second exercise's cell, the rest not answered."""
        return {**blank, first: right[first], second: code}

    half = ids[:(len(ids) + 1) // 2]
    everything_but_first = [name for name in ids if name != first]
    names = grading.EXERCISES[first].names
    return [
        Case("control", "the solution's answers", right, sum(points.values()), "ok"),
        Case("honest_blank", "nothing answered", blank, 0, "missing_answer"),
        Case("honest_wrong", "every answer a plausible mistake but the last", wrong, points[last], "ok"),
        Case("partly_done", "the first half right, the rest not answered",
             {**blank, **{gid: right[gid] for gid in half}}, sum(points[gid] for gid in half), "missing_answer"),
        Case("redefined_checks", "honest-wrong; every self-check replaced by one that always passes", with_code(
            wrong, first, "import labkit.checks\n"
            "for _name in [n for n in dir(labkit.checks) if n.startswith(('check_', 'expect_'))]:\n"
            "    setattr(labkit.checks, _name, lambda *a, **k: print('✅ all good'))\n"
            "import labkit.labs\n"
            "for _lab in labkit.labs.with_part('checks'):\n"
            "    for _name in _lab.part('checks').__all__:\n"
            "        setattr(_lab.part('checks'), _name, lambda *a, **k: print('✅ all good'))\n"
            "checks = labkit.checks"), points[last], "ok"),
        Case("always_equal", "honest-wrong; the first exercise's objects replaced by ones equal to anything",
             with_code(wrong, first, "class _Anything(np.ndarray):\n"
                       "    def __eq__(self, other): return np.ones(np.shape(self), bool).view(_Anything)\n"
                       "    def __ne__(self, other): return np.zeros(np.shape(self), bool)\n"
                       "class _Whatever:\n"
                       "    def __eq__(self, other): return True\n"
                       "    def __getattr__(self, name): return self\n"
                       "    def __call__(self, *args, **kwargs): return np.zeros((1, 784), 'float32').view(_Anything)\n"
                       + "".join(f"{name} = _Whatever()\n" for name in names)), points[last], "ok"),
        Case("patched_numpy", "honest-wrong; numpy's comparisons patched to always agree", with_code(
            wrong, first, "np.allclose = lambda *a, **k: True\n"
            "np.array_equal = lambda *a, **k: True\n"
            "np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)\n"
            "np.testing.assert_allclose = lambda *a, **k: None"), points[last], "ok"),
        Case("forged_exports", "honest-wrong; writes fake export, score and gradebook files for every exercise",
             with_code(wrong, first, "import json as _json, pathlib as _pathlib\n"
                       f"for _gid in {everything_but_first + [first]!r}:\n"
                       "    _folder = _pathlib.Path('export', _gid)\n"
                       "    _folder.mkdir(parents=True, exist_ok=True)\n"
                       "    (_folder / 'observed.json').write_text(_json.dumps({'callable': True, 'passed': True}))\n"
                       "    (_folder / 'result.json').write_text(_json.dumps({'points': 100}))\n"
                       "_pathlib.Path('gradebook.csv').write_text('student,score\\nforged_exports,100\\n')"),
             points[last], "ok"),
        Case("os_exit", "the first exercise right, then os._exit(0)", then("import os\nos._exit(0)"),
             points[first], "crashed"),
        Case("infinite_loop", "the first exercise right, then a loop that never ends", then("while True:\n    pass"),
             points[first], "timeout"),
        Case("ignores_interrupts", "the first exercise right, then a loop that ignores every interruption", then(
            "import signal, time\n"
            "for _s in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM):\n"
            "    signal.signal(_s, signal.SIG_IGN)\n"
            "while True:\n"
            "    try:\n"
            "        time.sleep(0.5)\n"
            "    except BaseException:\n"
            "        pass"), points[first], "timeout"),
        # np.empty reserves memory without writing it, so the run reaches its limit at once however busy the
        # machine is: filling it (np.ones) took more than the 10 s cell timeout under CI's load twice.
        Case("memory_exhaustion", "the first exercise right, then memory allocated until the run fails", then(
            "_hog = []\nwhile True:\n    _hog.append(np.empty(2**25))"), points[first], "out_of_memory"),
    ]


HONEST = {"control", "honest_blank", "honest_wrong", "partly_done"}


def write(number: int, folder: Path, *, copies_of_control: int = 0) -> dict[str, Case]:
    """Write lab ``number``'s corpus into ``folder`` (plus copies of the control); the cases by student id."""
    lab = labs.get(number)
    student = nbformat.read(ROOT / "labs" / lab.notebook, as_version=4)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for case in cases(number):
        names = [case.name] + ([f"control_{index:02d}" for index in range(copies_of_control)]
                               if case.name == "control" else [])
        for name in names:
            notebook = copy.deepcopy(student)
            for cell in notebook.cells:
                grade_id = (cell.metadata.get("labkit") or {}).get("grade_id")
                if grade_id:
                    cell.source = case.answers[grade_id]
            notebook.cells.insert(0, nbformat.v4.new_markdown_cell(f"**Test submission `{name}`:** "
                                                                   f"{case.description}."))
            for index, cell in enumerate(notebook.cells):
                cell.id = f"{name[:40]}-{index}"
            nbformat.write(notebook, folder / f"{name}.ipynb")
            written[name] = case
    return written
