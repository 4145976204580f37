"""Shared fixtures. Tests run offline on the shipped sample; nothing here ever downloads."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def offline_and_clean(monkeypatch, tmp_path):
    """Every test starts without the kit's environment settings, with an empty Keras cache, offline."""
    for name in ("LABKIT_QUICK", "LABKIT_DATA_DIR", "LABKIT_SEED", "LABKIT_PRECISION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))

    def no_network(url):
        raise urllib.error.URLError(f"tests never download ({url})")

    import labkit.data

    monkeypatch.setattr(labkit.data, "_open_url", no_network)


# The README's test command runs the tests on two processes (pytest-xdist, ``-n 2 --dist loadgroup``): most of
# the suite's time is one process waiting on another (a kernel, a sandbox, a browser), so two keep both cores
# busy. A test module runs on one process, whole, so that its module-scoped fixtures are set up once; modules that
# share an expensive result run together, and so do the tests that need one expensive fixture (the rest of their
# modules runs on either process); the slow tests that share nothing are spread one by one.
SHARED_WORK = {"test_book.py": "book", "test_browser.py": "book"}  # each edition of the book built once
SHARED_FIXTURES = {"lab1_corpus_graded": "lab1-corpus", "on_cluster": "lab1-corpus"}  # the Lab 1 corpus graded
"""A test that needs one of these fixtures runs in its group, wherever its module runs."""
SPREAD = {"test_notebooks.py"}
BY_PARAMETER = {"test_exercises.py": "number"}
"""Modules whose tests share an expensive result per value of a parameter (one agreement run per lab): the tests
with the same value run together, the values spread over the processes."""


FIRST = ("test_notebooks.py", "test_cluster.py", "test_grade.py")
"""Collected first. pytest-xdist queues the groups with the most tests first and keeps this order among the rest;
starting the quick-mode notebooks first instead (``--no-loadscope-reorder``) measured no faster (912 s against
907 s), as the notebooks then slow each other down."""


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: FIRST.index(item.path.name) if item.path.name in FIRST else len(FIRST))
    for item in items:
        name = item.path.name
        shared = next((group for fixture, group in SHARED_FIXTURES.items()
                       if fixture in getattr(item, "fixturenames", ())), None)
        if name in BY_PARAMETER and not shared:
            shared = f"{name}-{item.callspec.params[BY_PARAMETER[name]]}"
        if shared or name not in SPREAD:
            item.add_marker(pytest.mark.xdist_group(shared or SHARED_WORK.get(name, name)))


def pytest_collection_finish(session):
    """Fail loudly, not slowly, when pytest-xdist stops honouring the groups above."""
    if (os.environ.get("PYTEST_XDIST_WORKER") and session.config.getoption("dist", None) == "loadgroup"
            and session.items and not any("@" in item.nodeid for item in session.items)):
        raise pytest.UsageError("pytest-xdist ignored the tests' xdist_group marks, so shared fixtures would run on "
                                "both processes; install the versions requirements-dev.txt names (pytest < 9.2, "
                                "see pytest-dev/pytest-xdist#1386)")


def _full_data_dir() -> Path | None:
    configured = os.environ.get("LABKIT_DATA_DIR")
    candidates = [Path(configured)] if configured else []
    candidates.append(ROOT.parent / "shared" / "datasets")
    return next((c for c in candidates if (c / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()), None)


FULL_DATA_DIR = _full_data_dir()


@pytest.fixture
def full_data_dir() -> Path:
    """The folder of the full datasets; the test is skipped (with the reason) when it is absent,
    and fails instead when LABKIT_REQUIRE_FULL_DATA=1 (as in CI, where the data is provided)."""
    if FULL_DATA_DIR is None:
        if os.environ.get("LABKIT_REQUIRE_FULL_DATA") == "1":
            pytest.fail("LABKIT_REQUIRE_FULL_DATA=1 but no full datasets found (set LABKIT_DATA_DIR)")
        pytest.skip("full MNIST/Fashion-MNIST not available: set LABKIT_DATA_DIR to run this test")
    return FULL_DATA_DIR


@pytest.fixture
def cpu_flags(monkeypatch, tmp_path):
    """``cpu_flags("avx512f amx_bf16")``: the kit reads these as this CPU's flags (a fake /proc/cpuinfo)."""
    from labkit import config

    real = config.cpu_has_bfloat16

    def pretend(flags: str) -> None:
        cpuinfo = tmp_path / "cpuinfo"
        cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
        monkeypatch.setattr(config, "cpu_has_bfloat16", lambda **kw: real(cpuinfo, **kw))
    return pretend


LAB1_CORPUS = ROOT / "tests" / "files" / "submissions"
LAB1_CORPUS_ARGS = ("--lab", "1", "--workers", "2", "--deadline", "60", "--cell-timeout", "10", "--memory-mb", "1500",
                    "--seed", "7")
"""How the committed Lab 1 corpus is graded, here and on a cluster (tests/test_cluster.py)."""


@pytest.fixture(scope="session")
def lab1_corpus_graded():
    """The Lab 1 corpus graded once by `labkit grade` (2 workers, short limits) in a course folder under the home
    folder, the gradebook beside the submissions, as an instructor lays it out: the process, the rows, the
    gradebook's folder and the gradebook's text. Shared by the tests of local and cluster grading."""
    home = Path(tempfile.mkdtemp(prefix="labkit-test-", dir=Path.home()))
    try:
        out = home / "course" / "lab1"
        shutil.copytree(LAB1_CORPUS, out / "submissions", symlinks=True)
        process = subprocess.run([sys.executable, "-m", "labkit.cli", "grade", str(out / "submissions"),
                                  "--out", str(out / "gradebook.csv"), *LAB1_CORPUS_ARGS],
                                 cwd=ROOT, capture_output=True, text=True, timeout=900)
        text = (out / "gradebook.csv").read_text(encoding="utf-8")
        with open(out / "gradebook.csv", newline="") as file:
            rows = list(csv.DictReader(file))
        yield process, rows, out, text
    finally:
        shutil.rmtree(home, ignore_errors=True)
