"""Write the adversarial corpus of Lab 1 submissions in tests/files/submissions/ (used by tests/test_grade.py).

Each submission is the student notebook (labs/lab1_dense_autoencoder.ipynb) with its exercise cells
filled in: honestly (right or wrong), or with a trick that forges a pass in the student's own kernel,
breaks the run, or breaks the file. Its first cell says what it does. Run from the repository root:

    python tests/files/make_submissions.py

``--many N FOLDER`` writes N copies of the honest submissions (right, wrong, partly done) to FOLDER
instead, for measuring throughput.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent / "submissions"
LAB = "lab1_dense_autoencoder.ipynb"
QUESTIONS = ("L1-preprocess", "L1-pipeline", "L1-encoder-decoder", "L1-autoencoder", "L1-compile")


def solution_answers() -> dict[str, str]:
    """The solution's exercise cells, markers removed: the honest, correct answers."""
    solution = nbformat.read(ROOT / "solutions" / LAB, as_version=4)
    answers = {}
    for cell in solution.cells:
        grade_id = cell.metadata.get("labkit", {}).get("grade_id")
        if grade_id:
            answers[grade_id] = "\n".join(line for line in cell.source.splitlines()
                                          if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION"))
    return answers


CORRECT = solution_answers()

WRONG = {
    "L1-preprocess": ("def preprocess(images):\n"
                      "    return images.reshape(len(images), -1).astype('float32')  # forgot / 255"),
    "L1-pipeline": ("train_ds = tf.data.Dataset.from_tensor_slices((x_train_flat, x_train_flat)).batch(BATCH_SIZE)"
                    ".prefetch(tf.data.AUTOTUNE)  # not shuffled\n"
                    "test_ds = tf.data.Dataset.from_tensor_slices((x_test_flat, x_test_flat)).batch(BATCH_SIZE)"
                    ".prefetch(tf.data.AUTOTUNE)"),
    "L1-encoder-decoder": CORRECT["L1-encoder-decoder"].replace(
        'layers.Dense(LATENT, activation="relu"', 'layers.Dense(LATENT, activation="sigmoid"'),
    "L1-autoencoder": CORRECT["L1-autoencoder"],
    "L1-compile": 'autoencoder.compile(optimizer="sgd", loss="mse")',
}
"""An honest attempt with four mistakes: only the autoencoder (1 point) is right. No trick may score more."""
assert WRONG["L1-encoder-decoder"] != CORRECT["L1-encoder-decoder"]

PLACEHOLDER = "# YOUR CODE HERE\nraise NotImplementedError()"


def with_cheat(cheat: str, where: str = "L1-preprocess", base: dict | None = None) -> dict[str, str]:
    answers = dict(base or WRONG)
    answers[where] = answers[where] + "\n\n" + cheat
    return answers


def at_the_end(code: str) -> dict[str, str]:
    """The honest-wrong answers, with ``code`` run in the last exercise cell before compiling."""
    answers = dict(WRONG)
    answers["L1-compile"] = code + "\n" + WRONG["L1-compile"]
    return answers


CASES = {
    "honest_correct": ("the solution's answers", CORRECT),
    "honest_wrong": ("an honest attempt with four mistakes (only the autoencoder is right)", WRONG),
    "honest_error": ("honest-wrong, but the pipeline cell has a typo (NameError)",
                     {**WRONG,
                      "L1-pipeline": "train_ds = tf.data.Dataset.from_tensor_slices((x_train_flt, x_train_flat))"}),
    "partly_done": ("preprocess and pipeline right, the rest left as the placeholder",
                    {**{gid: PLACEHOLDER for gid in QUESTIONS}, "L1-preprocess": CORRECT["L1-preprocess"],
                     "L1-pipeline": CORRECT["L1-pipeline"]}),
    "copied_cell": ("correct answers, with the preprocess exercise split over two cells with the same id",
                    CORRECT),
    "redefined_checks": ("honest-wrong answers; every self-check replaced by one that always passes", with_cheat(
        "import labkit.checks\n"
        "for _name in [n for n in dir(labkit.checks) if n.startswith('check_') or n.startswith('expect_')]:\n"
        "    setattr(labkit.checks, _name, lambda *a, **k: print('✅ all good'))\n"
        "checks = labkit.checks")),
    "always_equal": ("preprocess returns objects equal to anything; the encoder is one too", with_cheat(
        "class Anything(np.ndarray):\n"
        "    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "class Whatever:\n"
        "    shape, dtype = (3, 784), np.dtype('float32')\n"
        "    def __eq__(self, other): return True\n"
        "    def __getattr__(self, name): return self\n"
        "    def __call__(self, *args, **kwargs): return self\n"
        "    def __array__(self, *args, **kwargs): return np.zeros((1, 784), 'float32').view(Anything)\n"
        "def preprocess(images):\n"
        "    return np.zeros((len(images), 784), 'float32').view(Anything)\n"
        "_real_encoder = None",
        base={**WRONG, "L1-encoder-decoder": WRONG["L1-encoder-decoder"] + "\nencoder = Whatever()"})),
    "patched_numpy": ("honest-wrong answers; numpy's comparisons patched to always agree", with_cheat(
        "np.allclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\n"
        "np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)\n"
        "np.testing.assert_allclose = lambda *a, **k: None")),
    "patched_kernel": ("honest-wrong answers; the shell's run_cell and traceback display replaced", with_cheat(
        "import IPython\n"
        "from IPython.core.interactiveshell import ExecutionResult, ExecutionInfo, InteractiveShell\n"
        "def _pretend(self, raw_cell, *args, **kwargs):\n"
        "    print('✅ cell ran'); return ExecutionResult(ExecutionInfo(raw_cell, False, False, False, None))\n"
        "InteractiveShell.run_cell = _pretend\n"
        "get_ipython().run_cell = _pretend.__get__(get_ipython())\n"
        "InteractiveShell.showtraceback = lambda *a, **k: None\n"
        "import sys; sys.excepthook = lambda *a: None")),
    "edited_expected": ("honest-wrong answers with a 16-number code; LATENT, the points and the checks edited "
                        "to match", {**WRONG, "L1-encoder-decoder": CORRECT["L1-encoder-decoder"].replace(
                            "LATENT", "16")}),
    "skip_execution_tags": ("honest-wrong answers; skip-execution and raises-exception tags on every cell", WRONG),
    "deleted_graded_cells": ("honest-wrong answers; the encoder and autoencoder exercise cells deleted "
                             "(their code moved to plain cells)", WRONG),
    "prebaked_outputs": ("honest-wrong answers; every cell carries outputs claiming success", WRONG),
    "fake_score_files": ("honest-wrong answers; writes fake gradebooks, scores and exports", at_the_end(
        "import json, os, pathlib\n"
        "for _place in ['.', os.path.expanduser('~')]:\n"
        "    for _name, _text in [('gradebook.csv', 'student,score\\nfake_score_files,9\\n'),\n"
        "                         ('score.json', json.dumps({'score': 9, 'max': 9}))]:\n"
        "        try:\n"
        "            pathlib.Path(_place, _name).write_text(_text)\n"
        "        except OSError:\n"
        "            pass\n"
        "_out = pathlib.Path('export/L1-preprocess')\n"
        "np.save(_out / 'output.npy', np.zeros((7, 784), 'float32'))\n"
        "(_out / 'error.json').unlink(missing_ok=True)\n"
        "pathlib.Path('export/L1-pipeline/pipeline.json').write_text(json.dumps({'train_ds': {'class': 'Prefetch'}}))\n"
        "for _q in ['L1-encoder-decoder', 'L1-compile']:\n"
        "    pathlib.Path('export', _q).mkdir(parents=True, exist_ok=True)\n"
        "    pathlib.Path('export', _q, 'result.json').write_text(json.dumps({'passed': True, 'points': 9}))")),
    "infinite_loop": ("honest-wrong answers; the compile cell loops forever", at_the_end(
        "while True:\n    pass")),
    "ignores_interrupts": ("honest-wrong answers; the compile cell loops forever, ignoring signals and "
                           "exceptions", at_the_end(
        "import signal, time\n"
        "for _s in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM):\n"
        "    signal.signal(_s, signal.SIG_IGN)\n"
        "while True:\n"
        "    try:\n"
        "        time.sleep(0.5)\n"
        "    except BaseException:\n"
        "        pass")),
    "os_exit": ("honest-wrong answers; the compile cell calls os._exit(0)", at_the_end("import os\nos._exit(0)")),
    "sys_exit": ("honest-wrong answers; the compile cell calls sys.exit(0)", at_the_end("import sys\nsys.exit(0)")),
    "memory_exhaustion": ("honest-wrong answers; the compile cell allocates memory until it fails", at_the_end(
        "_hog = []\nwhile True:\n    _hog.append(np.ones(2**25))")),
    "huge_output": ("honest-wrong answers; the compile cell prints 60 MB", at_the_end(
        "print('x' * 50_000_000)\nfor _i in range(200_000):\n    print('line', _i, 'of output' * 5)")),
}
"""name: (what the submission does, its exercise answers)."""


def _note(name: str, description: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(f"**Test submission `{name}`:** {description}.")


def build(name: str, description: str, answers: dict[str, str], lab: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(lab)
    cells = [_note(name, description)]
    for cell in notebook.cells:
        grade_id = cell.metadata.get("labkit", {}).get("grade_id")
        if grade_id:
            cell.source = answers[grade_id]
        cells.append(cell)
    notebook.cells = cells
    _twist(name, notebook)
    for number, cell in enumerate(notebook.cells):
        cell.id = f"{name[:40]}-{number}"
    return notebook


def _graded(notebook, grade_id):
    return next(c for c in notebook.cells if c.metadata.get("labkit", {}).get("grade_id") == grade_id)


def _twist(name: str, notebook: nbformat.NotebookNode) -> None:
    """The changes beyond the answers that some cases make to the notebook itself."""
    code = [c for c in notebook.cells if c.cell_type == "code"]
    if name == "copied_cell":
        first = _graded(notebook, "L1-preprocess")
        helper = copy.deepcopy(first)
        helper.source = ("def _scale(images):\n"
                         "    return np.asarray(images).reshape(len(images), -1).astype('float32') / 255.0")
        first.source = "def preprocess(images):\n    return _scale(images)"
        notebook.cells.insert(notebook.cells.index(first), helper)
    elif name == "edited_expected":
        for cell in code:
            if "LATENT = 32" in cell.source:
                cell.source = cell.source.replace("LATENT = 32", "LATENT = 16")
            if cell.source.startswith("checks."):
                cell.source = "pass  # checks removed"
            if "labkit" in cell.metadata:
                cell.metadata["labkit"]["points"] = 100
    elif name == "skip_execution_tags":
        for cell in code:
            cell.metadata["tags"] = ["skip-execution", "raises-exception"]
    elif name == "deleted_graded_cells":
        for grade_id in ("L1-encoder-decoder", "L1-autoencoder"):
            del _graded(notebook, grade_id).metadata["labkit"]
    elif name == "prebaked_outputs":
        for number, cell in enumerate(code, start=1):
            cell.execution_count = number
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="✅ all checks passed\n"),
                            nbformat.v4.new_output("execute_result", {"text/plain": "9 / 9"}, execution_count=number)]
        notebook.metadata["labkit"] = {"score": 9}
        notebook.metadata["kernelspec"] = {"name": "evil", "display_name": "evil", "language": "python"}


def _broken_files(out: Path, lab: nbformat.NotebookNode) -> None:
    text = nbformat.writes(build("invalid_json", "a notebook cut off in the middle", CORRECT, lab))
    (out / "invalid_json.ipynb").write_text(text[: len(text) // 2], encoding="utf-8")
    latin = nbformat.writes(build("non_utf8", "a notebook saved as Latin-1 (é as one byte)", CORRECT, lab))
    (out / "non_utf8.ipynb").write_bytes(latin.replace("Latin-1", "Latin-1 café").encode("latin-1", "replace"))
    old = json.loads(nbformat.writes(build("wrong_nbformat", "a notebook claiming format 3", CORRECT, lab)))
    old["nbformat"], old["nbformat_minor"] = 3, 0
    (out / "wrong_nbformat.ipynb").write_text(json.dumps(old, indent=1), encoding="utf-8")
    bad = json.loads(nbformat.writes(build("schema_invalid", "format 4, but a code cell has no source", CORRECT, lab)))
    del next(c for c in bad["cells"] if c["cell_type"] == "code")["source"]
    (out / "schema_invalid.ipynb").write_text(json.dumps(bad, indent=1), encoding="utf-8")
    folder = out / "missing_notebook"
    folder.mkdir()
    (folder / "notes.txt").write_text("Test submission: a folder without a notebook (the student uploaded "
                                      "only this note).\n", encoding="utf-8")


def write_corpus(out: Path = OUT) -> list[Path]:
    lab = nbformat.read(ROOT / "labs" / LAB, as_version=4)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name, (description, answers) in CASES.items():
        nbformat.write(build(name, description, answers, lab), out / f"{name}.ipynb")
    _broken_files(out, lab)
    return sorted(out.iterdir())


def write_many(count: int, out: Path) -> None:
    """``count`` honest submissions (right, wrong, partly done, in turn), for timing the grader."""
    lab = nbformat.read(ROOT / "labs" / LAB, as_version=4)
    out.mkdir(parents=True, exist_ok=True)
    kinds = ["honest_correct", "honest_wrong", "partly_done"]
    for number in range(count):
        kind = kinds[number % len(kinds)]
        description, answers = CASES[kind]
        nbformat.write(build(kind, description, answers, lab), out / f"student{number:03d}_{kind}.ipynb")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--many"]:
        write_many(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        for path in write_corpus():
            print(path.relative_to(ROOT))
