"""A lab's key figures, printed so that people read them and tools can find them again.

A solution states each result that ``labkit reproduce`` also measures, or that a viva question may ask
a student about, with :func:`show`: ``figures.show(test_bce=test_loss)`` prints the line
``📌 test_bce = 0.0871`` under the cell. The names a lab states are its constants' ``FIGURES``
(``labkit/labs/labN/__init__.py``). Two readers use the lines:

* ``tests/test_figures.py`` compares each solution's stated figures with the same experiment in
  ``results/results.json`` (:func:`agree`, within :data:`LOSS_TOLERANCE` or :data:`ACCURACY_TOLERANCE`);
* ``labkit viva --submissions`` personalises a viva question with the student's own figure, read from the
  outputs of the notebook the student submitted (:func:`from_notebook`: plain text, nothing is run).

Imports only the standard library. Used in Labs 1 to 4.
"""

from __future__ import annotations

import math
import re

MARK = "📌"
_NAME = r"[a-z][a-z0-9_]{0,39}"
_LINE = re.compile(rf"^{MARK} (?P<name>{_NAME}) = (?P<value>[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$")
MAX_OUTPUT_CHARS = 200_000
"""The most characters of one output that :func:`parse` reads (a submission's outputs are untrusted)."""

LOSS_TOLERANCE = 0.02
"""How far a stated loss may lie from ``results.json``'s, relative to it: two runs of one recipe on the same
CPU moved by up to 0.6 % (Lab 1: 0.0871 and 0.0866, its initial weights drawn at another point of the
random stream), on two CPUs by up to 1.5 % (Lab 3's 2-number code: 0.1647 and 0.1672). Within one run of
Lab 1, step 6 and the 32-number run of its sweep (the same recipe, other initial weights) gave 0.0867 and
0.0883: 1.8 %, near the limit."""
ACCURACY_TOLERANCE = 0.005
"""How far a stated accuracy may lie from ``results.json``'s, in absolute terms (0.5 points): two runs of one
recipe moved by up to 0.06 points on the same CPU (Lab 4), 0.2 points on two CPUs."""


class FigureError(ValueError):
    """A figure cannot be stated: a name that is not a short lower-case word, or a value that is no number."""


def format_value(value: float) -> str:
    """How a figure is printed: four decimals for a fraction or a loss, whole numbers as they are."""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) >= 1 else f"{value:.4f}"


def show(**figures: float) -> None:
    """Print each figure on a line of its own, ``📌 name = value``.

    Called by the solutions where they state a result (``figures.show(val_bce=val_loss)``)."""
    for name, value in figures.items():
        if not re.fullmatch(_NAME, name):
            raise FigureError(f"a figure's name is a short lower-case word such as val_bce; got {name!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise FigureError(f"figure {name} must be a number; got {value!r}") from None
        if not math.isfinite(number):
            raise FigureError(f"figure {name} must be a finite number; got {number}")
        print(f"{MARK} {name} = {format_value(number)}")


def parse(text: str) -> dict[str, float]:
    """The figures stated in ``text`` (one output's text), in order; a name stated twice keeps its last value."""
    found = {}
    for line in str(text)[:MAX_OUTPUT_CHARS].splitlines():
        match = _LINE.match(line.strip())
        if match:
            found[match["name"]] = float(match["value"])
    return found


def from_cell(cell) -> dict[str, float]:
    """The figures a code cell's stored outputs state (its standard output only)."""
    found: dict[str, float] = {}
    if cell.get("cell_type") != "code":
        return found
    for output in cell.get("outputs") or []:
        if isinstance(output, dict) and output.get("output_type") == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
            found.update(parse("".join(text) if isinstance(text, list) else text))
    return found


def from_notebook(notebook) -> dict[str, float]:
    """Every figure a notebook's stored outputs state; a name stated in several cells keeps the last one.

    Reads outputs as text only: safe on a student's submitted notebook (nothing in it is run)."""
    found: dict[str, float] = {}
    for cell in notebook.get("cells") or []:
        if isinstance(cell, dict):
            found.update(from_cell(cell))
    return found


def stated_in_code(source: str) -> set[str]:
    """The names a cell's code states through ``figures.show(name=...)`` (read from its syntax, not run)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {keyword.arg for node in ast.walk(tree)
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("figures.show", "show")
            for keyword in node.keywords if keyword.arg}


def agree(stated: float, recorded: float, *, metric: str) -> bool:
    """Whether a solution's stated figure and the same experiment's record in ``results.json`` agree: a loss
    within :data:`LOSS_TOLERANCE` of the record, relative to it; an accuracy within :data:`ACCURACY_TOLERANCE`."""
    if metric == "test_accuracy":
        return abs(stated - recorded) <= ACCURACY_TOLERANCE
    return abs(stated - recorded) <= LOSS_TOLERANCE * abs(recorded)


def tolerance_text(metric: str) -> str:
    """The tolerance of :func:`agree` in words, for messages and the Results page."""
    if metric == "test_accuracy":
        return f"{100 * ACCURACY_TOLERANCE:.1f} points of accuracy"
    return f"{100 * LOSS_TOLERANCE:.0f} % of the loss"
