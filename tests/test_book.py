"""The book's configuration is what we mean, and both editions build with warnings as errors."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# jupyter-book silently ignores keys it does not know: every key we use is listed here, so a typo fails.
KNOWN_KEYS = {
    "title": None, "author": None, "copyright": None, "logo": None, "only_build_toc_files": None,
    "exclude_patterns": None, "execute": {"execute_notebooks"},
    "parse": {"myst_enable_extensions"},
    "html": {"use_repository_button", "use_issues_button", "home_page_in_navbar"},
    "repository": {"url", "branch", "path_to_book"},
    "sphinx": {"recursive_update", "config"},
}


def load_config():
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_config_passes_the_jupyter_book_schema():
    """Does _config.yml validate against jupyter-book's own schema?"""
    from jupyter_book.config import validate_yaml

    validate_yaml(load_config(), raise_on_errors=True)


def test_config_uses_only_known_keys():
    """Is every key of _config.yml one we know jupyter-book reads (so none is silently ignored)?"""
    config = load_config()
    unknown = [key for key in config if key not in KNOWN_KEYS]
    for key, allowed in KNOWN_KEYS.items():
        if allowed is not None and isinstance(config.get(key), dict):
            unknown += [f"{key}.{sub}" for sub in config[key] if sub not in allowed]
    assert unknown == []


def test_notebooks_are_never_executed_at_build_time():
    """Is execution off (the string 'off', not YAML false) and only the TOC built?"""
    config = load_config()
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True
    assert config["sphinx"]["recursive_update"] is True
    assert config["sphinx"]["config"]["html_copy_source"] is False


@pytest.mark.parametrize("toc", ["_toc.yml", "_toc_instructor.yml"])
def test_toc_parses_and_every_entry_exists(toc):
    """Does each TOC parse, and does every file it names exist?"""
    from sphinx_external_toc.parsing import parse_toc_yaml

    site = parse_toc_yaml(ROOT / toc)
    missing = [doc for doc in site if not any((ROOT / f"{doc}{ext}").is_file() for ext in (".md", ".ipynb"))]
    assert missing == []


def test_student_toc_holds_no_solutions():
    """Does the student edition's TOC leave the solutions out?"""
    assert "solutions/" not in (ROOT / "_toc.yml").read_text(encoding="utf-8")


def build(tmp_path, *extra):
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--path-output",
               str(tmp_path), "-W", "-n", "--keep-going", *extra]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, f"book build failed:\n{run.stdout[-5000:]}\n{run.stderr[-3000:]}"
    return tmp_path / "_build" / "html"


@pytest.mark.book
def test_student_edition_builds_and_links_lab1(tmp_path):
    """Does the student edition build with warnings as errors, link Lab 1, and hold no solution code?"""
    html = build(tmp_path)
    index = (html / "index.html").read_text(encoding="utf-8")
    assert "labs/lab1_dense_autoencoder.html" in index
    assert not (html / "_sources").exists()
    assert not (html / "solutions").exists()
    pages = "\n".join(p.read_text(encoding="utf-8") for p in html.rglob("*.html"))
    assert "BEGIN SOLUTION" not in pages and "Model answers" not in pages
    assert re.search(r"YOUR CODE HERE", pages)


@pytest.mark.book
def test_instructor_edition_builds_with_the_solutions(tmp_path):
    """Does the instructor edition build and show the solution with its stored figures?"""
    html = build(tmp_path, "--toc", str(ROOT / "_toc_instructor.yml"))
    solution = (html / "solutions" / "lab1_dense_autoencoder.html").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" in solution
    assert solution.count("<img") >= 3
