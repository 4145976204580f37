"""A lab's key figures (labkit.figures): printed, read back, and compared with results/results.json (issue #23).

The last tests compare what each solution states, in the outputs of its committed full-scale run, with the same
experiment in results/results.json: a loss within 2 % of the record, an accuracy within 0.5 points. A solution
whose cells that state figures have not been run since they changed is skipped, with the reason; once the
solutions are re-run at full scale, these tests compare whatever they then state.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from labkit import figures, labs, reproduce
from labkit.figures import FigureError

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "results.json"


def test_show_prints_one_line_per_figure_that_parse_reads_back(capsys):
    """Does show print `📌 name = value` lines, four decimals for a fraction, that parse reads back?"""
    figures.show(test_bce=0.087146, frozen_accuracy=0.8996000123, epochs=10)
    out = capsys.readouterr().out
    assert out.splitlines() == ["📌 test_bce = 0.0871", "📌 frozen_accuracy = 0.8996", "📌 epochs = 10"]
    assert figures.parse(out) == {"test_bce": 0.0871, "frozen_accuracy": 0.8996, "epochs": 10.0}


@pytest.mark.parametrize("name, value, problem", [
    ("Test BCE", 0.1, "short lower-case word"),
    ("test_bce", "0.1 or so", "must be a number"),
    ("test_bce", float("nan"), "finite"),
])
def test_a_name_that_is_not_a_word_or_a_value_that_is_not_a_number_is_refused(name, value, problem):
    """Are a name with spaces or capitals, text for a value and NaN refused with a message?"""
    with pytest.raises(FigureError, match=problem):
        figures.show(**{name: value})


def test_only_whole_well_formed_lines_of_standard_output_count():
    """Are lines with text after the value, markdown cells and standard error ignored, and does a figure stated
    twice keep its last value?"""
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("📌 val_bce = 7"),
        nbformat.v4.new_code_cell("", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="📌 val_bce = 0.0950\n📌 val_bce = 1; rm -rf\n"),
            nbformat.v4.new_output("stream", name="stderr", text="📌 val_bce = 9\n")]),
        nbformat.v4.new_code_cell("", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="note\n  📌 val_bce = 0.0940  \n")]),
    ])
    assert figures.from_notebook(notebook) == {"val_bce": 0.094}


def test_agreement_is_relative_for_losses_and_in_points_for_accuracies():
    """Do 0.0871 and 0.0866 agree (0.6 %), 0.0891 and 0.0866 not (2.9 %), 89.96 % and 89.92 % agree, 89.0 % and
    89.92 % not?"""
    assert figures.agree(0.0871, 0.0866, metric="val_bce")
    assert not figures.agree(0.0891, 0.0866, metric="val_bce")
    assert figures.agree(0.8996, 0.8992, metric="test_accuracy")
    assert not figures.agree(0.8900, 0.8992, metric="test_accuracy")


def test_the_results_page_states_the_tolerances_the_test_applies():
    """Does the book's Results page give the same tolerances as labkit.figures (the page must say why figures
    may differ, and by how much)?"""
    page = " ".join((ROOT / "results.md").read_text(encoding="utf-8").split())
    for metric in ("val_bce", "test_accuracy"):
        assert f"within {figures.tolerance_text(metric)}" in page, figures.tolerance_text(metric)


def test_every_experiment_names_a_figure_of_its_lab():
    """Does each experiment that names a figure name one of its lab's FIGURES, and is each name used once?"""
    named = [(e.lab, e.figure) for e in reproduce.experiments().values() if e.figure]
    assert len(set(named)) == len(named)
    for lab, figure in named:
        assert figure in labs.get(lab).constants.FIGURES, (lab, figure)


# --- each solution's stated figures against results/results.json ------------------------------------------------

CASES = [e for e in reproduce.experiments().values() if e.figure]


def _records() -> dict[str, dict]:
    return {record["name"]: record for record in json.loads(RESULTS.read_text(encoding="utf-8"))}


def _stating_cells_not_run(notebook) -> list[int]:
    return [index for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and "figures.show(" in cell.source and not cell.outputs]


@pytest.mark.parametrize("experiment", CASES, ids=lambda e: e.name)
def test_each_solution_states_what_results_json_records(experiment):
    """Does the solution's committed full-scale run state the experiment's figure, and does it agree with the
    same experiment in results/results.json (a loss within 2 %, an accuracy within 0.5 points)?"""
    lab = labs.get(experiment.lab)
    notebook = nbformat.read(ROOT / "solutions" / lab.notebook, as_version=4)
    record = _records()[experiment.name]
    assert not record["quick"] and "full dataset" in record["data"]["source"], record
    stated = figures.from_notebook(notebook)
    if experiment.figure not in stated:
        waiting = _stating_cells_not_run(notebook)
        if waiting:
            pytest.skip(f"solutions/{lab.notebook}: cells {waiting} state figures but have no outputs (changed "
                        "since the last full-scale run); re-run the solution at full scale to compare "
                        f"{experiment.figure}")
        pytest.fail(f"solutions/{lab.notebook} states no 📌 {experiment.figure} although every cell that states "
                    "figures has outputs: the cell must call labkit.figures.show")
    outputs = "".join(str(output) for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)
    assert "QUICK MODE" not in outputs and "shipped sample" not in outputs, \
        f"solutions/{lab.notebook} holds outputs of a run on the sample: commit a full-scale run"
    value = stated[experiment.figure]
    assert figures.agree(value, record["value"], metric=experiment.metric), (
        f"solutions/{lab.notebook} states {experiment.figure} = {value} but results/results.json records "
        f"{record['value']:.4f} for {experiment.name}: more than {figures.tolerance_text(experiment.metric)} "
        "apart; re-run one of them, or find what differs in the recipe")


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_the_committed_run_raised_nothing_and_every_check_it_ran_passed(path):
    """Does no cell of a committed solution hold an error, and does every cell that calls a check and has outputs
    show a ✅ (the full-scale targets, met on the full data)?"""
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], f"{path.name}, cell {index} raised"
        if cell.outputs and ("checks.check_" in cell.source or "checks.expect_" in cell.source):
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert "✅" in text, f"{path.name}, cell {index}: its check printed no ✅"
