"""Every solution notebook runs top to bottom in quick mode (nbval, lax: any error fails)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", SOLUTIONS, ids=lambda p: p.name)
def test_solution_runs_in_quick_mode(notebook):
    """Does the solution run without error on the shipped sample with few epochs?"""
    env = {**os.environ, "LABKIT_QUICK": "1", "MPLBACKEND": "agg"}
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
               "--nbval-cell-timeout=900", "-p", "no:cacheprovider", "-q", str(notebook)]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, f"{notebook.name} failed in quick mode:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"


def test_there_is_a_solution_per_lab():
    """Is every notebook in the book's student TOC backed by a solution notebook?"""
    labs = {p.name for p in (ROOT / "labs").glob("*.ipynb")}
    assert labs and labs == {p.name for p in SOLUTIONS}
