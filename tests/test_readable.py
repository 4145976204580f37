"""What a reader reads in the repository's notebooks, results and book pages names no machine, carries no
TensorFlow log line, and fits the book's column: code and printed lines of at most 88 characters.
(test_browser.py checks the same on the built pages, in a browser.)"""

import json

import nbformat
import pytest

from book_site import (KNOWN_LONG_OUTPUT, LINE_LIMIT, ROOT, code_blocks, machine_text, output_texts,
                       too_long, toc_pages)

NOTEBOOKS = sorted((ROOT / "solutions").glob("*.ipynb")) + sorted((ROOT / "labs").glob("*.ipynb"))
PAGES = sorted({ROOT / f"{doc}.md" for edition in ("student", "instructor") for doc in toc_pages(edition)
                if (ROOT / f"{doc}.md").is_file()})
RESULTS = sorted([*(ROOT / "results").rglob("results.json"), *(ROOT / "results").rglob("results.md")])


def _name(path):
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_names_no_machine_and_shows_no_tensorflow_log(path):
    """Do a notebook's cells and committed outputs hold no absolute path of the machine that ran them
    (the data source is named instead: "LABKIT_DATA_DIR (full dataset)") and no TensorFlow C++ log line?"""
    notebook = nbformat.read(path, as_version=4)
    found = {}
    for index, cell in enumerate(notebook.cells):
        texts = [cell.source] + [text for _, text in output_texts(cell)]
        hits = [hit for text in texts for hit in machine_text(text)]
        if hits:
            found[index] = hits
    assert found == {}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_code_and_printed_lines_fit_the_column(path):
    """Is every line of code (code cells and code blocks of markdown cells) and every printed line of a
    notebook at most 88 characters long?"""
    notebook = nbformat.read(path, as_version=4)
    long = {}
    for index, cell in enumerate(notebook.cells):
        lines = cell.source.splitlines() if cell.cell_type == "code" else code_blocks(cell.source)
        lines += [line for kind, text in output_texts(cell) if kind == "printed" for line in text.splitlines()]
        if too_long(lines):
            long[index] = too_long(lines)
    assert long == {}, f"lines over {LINE_LIMIT} characters, by cell"


@pytest.mark.parametrize("path", PAGES, ids=_name)
def test_page_code_blocks_fit_the_column_and_name_no_machine(path):
    """Are the code blocks of every Markdown page of the book at most 88 characters wide, and does the page
    name no machine path?"""
    text = path.read_text(encoding="utf-8")
    assert too_long(code_blocks(text), known={}) == []
    assert machine_text(text) == []


@pytest.mark.parametrize("path", RESULTS, ids=_name)
def test_results_name_their_data_source_not_a_path(path):
    """Do the committed results (every record of results.json, the tables) name their data source
    ("LABKIT_DATA_DIR (full dataset)") rather than the folder of the machine that ran them?"""
    text = path.read_text(encoding="utf-8")
    assert machine_text(text) == []
    if path.suffix == ".json":
        sources = {record["data"]["source"] for record in json.loads(text) if record.get("data")}
        assert sources == {"LABKIT_DATA_DIR (full dataset)"}


def test_machine_paths_and_log_lines_are_recognised():
    """Does the check find what it must (a data folder, a Windows home, a TensorFlow log line) and leave
    alone what a reader is meant to see (an example path, a URL, the Keras cache under ~)?"""
    assert machine_text("data: /work/shared/datasets · seed 42") == ["/work/shared/datasets"]
    assert machine_text(r"C:\Users\ana\datasets") == [r"C:\Users\ana\datasets"]
    log = "E0000 00:00:1796096512.321606   21423 util.cc:131] oneDNN supports DT_INT32 only on platforms"
    assert machine_text(f"epoch 1\n{log}\nepoch 2") == [log[:120]]
    assert machine_text("export LABKIT_DATA_DIR=/path/to/datasets; see https://github.com/a/b/tree/main "
                        "and ~/.keras/datasets/mnist.npz") == []


def test_known_long_lines_are_still_there():
    """Is every allowed long line (KNOWN_LONG_OUTPUT) still printed in a committed output? Once it is fixed,
    its entry must go, so that the allowance cannot hide a new problem."""
    printed = {line.strip() for path in NOTEBOOKS for cell in nbformat.read(path, as_version=4).cells
               for kind, text in output_texts(cell) if kind == "printed" for line in text.splitlines()}
    assert sorted(set(KNOWN_LONG_OUTPUT) - printed) == []
