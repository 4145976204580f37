"""The book's two editions, built once per test session and served on localhost, headless Chromium to read
them (used by test_book.py, test_browser.py and test_jupyterlab.py), the solution text that must never
reach the student edition, and what no reader should see anywhere: machine paths, TensorFlow's log lines,
lines longer than the book's column (used by test_readable.py and test_browser.py)."""

from __future__ import annotations

import atexit
import functools
import html
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOCS = {"student": ROOT / "_toc.yml", "instructor": ROOT / "_toc_instructor.yml"}
SCREENSHOTS = ROOT / "_build" / "screenshots"
"""Where the browser test leaves its screenshots for a person to look at."""


@dataclass(frozen=True)
class Edition:
    name: str
    html: Path  # the built site
    seconds: float  # how long `jupyter-book build` took
    log: str


def toc_pages(edition: str) -> list[str]:
    """The documents of an edition's table of contents, in reading order (``labs/lab1_dense_autoencoder``)."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    site = parse_toc_yaml(TOCS[edition])
    pages = [site.root.docname]
    for docname in pages:  # breadth-first over parts and chapters
        pages += [child for child in site[docname].child_files() if child not in pages]
    return pages


@functools.cache
def build(edition: str) -> Edition:
    """The edition built into a fresh temporary folder with warnings as errors (once per session)."""
    out = Path(tempfile.mkdtemp(prefix=f"book-{edition}-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT), "--path-output", str(out),
               "--toc", str(TOCS[edition]), "-W", "-n", "--keep-going"]
    start = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log = f"{run.stdout[-5000:]}\n{run.stderr[-3000:]}"
    if run.returncode != 0:
        raise AssertionError(f"the {edition} edition failed to build (`{' '.join(command)}`):\n{log}")
    return Edition(edition, out / "_build" / "html", seconds, log)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A browser that moves on before a file is sent is no error of the site."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 at a free port, in a thread; yields the base URL ("http://127.0.0.1:N/")."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the browser ----------------------------------------------------------------------------------------------

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,900",
                  # nothing leaves the machine: every host but the local server fails to resolve
                  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
NO_BROWSER = ("no headless Chromium here (need `chromium` and `chromedriver` on PATH): install Debian's with "
              "`apt-get install -y chromium chromium-driver`")


def find_chromium() -> tuple[str, str] | None:
    """The paths of Chromium and of its chromedriver, or None when either is missing."""
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def chromium():
    """Headless Chromium through chromedriver (Selenium), with a fresh profile, logging the browser console.
    Skips the test without a browser, and fails instead when LABKIT_REQUIRE_BROWSER=1 (as in CI)."""
    found = find_chromium()
    if found is None:
        if os.environ.get("LABKIT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"LABKIT_REQUIRE_BROWSER=1 but {NO_BROWSER}")
        pytest.skip(NO_BROWSER)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is missing: pip install -r requirements-dev.txt")
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for anything online
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=found[1]))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# --- solution text -------------------------------------------------------------------------------------------

WINDOW = 8
"""Words in a row that count as a quoted model answer."""


def words(text: str) -> str:
    """Lower-case words and numbers separated by single spaces: markup, quotes and dashes gone, so that a
    notebook's markdown and the rendered page compare equal."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def page_text(path: Path) -> str:
    """What a file of the site says, tags stripped (for .html) and reduced with :func:`words`."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return words(text)


def _prose(markdown: str) -> str:
    """A model-answer cell's text without HTML tags and math (which renders differently)."""
    markdown = re.sub(r"<summary>.*?</summary>", " ", markdown, flags=re.S)
    markdown = re.sub(r"<[^>]+>", " ", markdown)
    markdown = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", " | ", markdown, flags=re.S)
    markdown = re.sub(r"\{[\w:-]+\}`[^`]*`", " | ", markdown)  # a MyST role ({doc}`...`) renders as its target
    markdown = re.sub(r"^```\{[\w:-]+\}.*$|^:[\w-]+:.*$", " | ", markdown, flags=re.M)  # directive lines
    markdown = re.sub(r"^\s*(\d+[.)]|[-*+])\s+", " ", markdown, flags=re.M)  # list numbers are not text
    return markdown


def _student_text() -> str:
    """Everything the student edition's sources say on purpose: the student notebooks' cells and the markdown
    pages (the question bank shows the answers of the marked questions, collapsed, by design). A notebook is
    read cell by cell, not as JSON, whose escaped line breaks would split a phrase that the page shows whole."""
    parts = []
    for doc in toc_pages("student"):
        notebook, page = ROOT / f"{doc}.ipynb", ROOT / f"{doc}.md"
        if notebook.is_file():
            parts += [cell.source for cell in nbformat.read(notebook, as_version=4).cells]
        if page.is_file():
            parts.append(page.read_text(encoding="utf-8"))
    return words("\n".join(parts))


@dataclass(frozen=True)
class Needle:
    notebook: str
    cell: int
    kind: str  # "solution code" or "model answer"
    text: str  # reduced with words()


def _windows(text: str):
    tokens = words(text).split()
    for start in range(0, max(len(tokens) - WINDOW + 1, 0), WINDOW // 2):
        yield " ".join(tokens[start:start + WINDOW])


@functools.cache
def solution_needles() -> tuple[Needle, ...]:
    """Phrases only the solutions and the instructors hold: each line of code between the solution markers,
    each run of WINDOW words of a cell tagged model-answer or solution-only or of a markdown cell tagged answer
    (the model answer the student's ✍️ cell replaces), and of each short answer's model
    answer and rubric in the question bank (issue #23), less whatever the student sources also say."""
    from labkit import bank
    from labkit.assign import ANSWER_TAG, BEGIN, END, HIDDEN_TAGS

    public = _student_text()
    needles: dict[str, Needle] = {}
    for question in bank.load_bank():
        if question.kind == "short-answer":
            for text in (question.answer, question.rubric.full, question.rubric.partial, question.rubric.poor):
                for phrase in _windows(text):
                    needles.setdefault(phrase, Needle(f"bank/lab{question.lab}.yaml", 0, "viva answer", phrase))
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            tags = set(cell.metadata.get("tags", []))
            if HIDDEN_TAGS & tags or (ANSWER_TAG in tags and cell.cell_type == "markdown"):
                text = _prose(cell.source) if cell.cell_type == "markdown" else cell.source  # "<=" is no tag
                for piece in text.split("|"):
                    tokens = words(piece).split()
                    for start in range(0, max(len(tokens) - WINDOW + 1, 0), WINDOW // 2):
                        phrase = " ".join(tokens[start:start + WINDOW])
                        needles.setdefault(phrase, Needle(path.name, index, "model answer", phrase))
            elif cell.cell_type == "code":
                inside = False
                for line in cell.source.splitlines():
                    if line.strip() in (BEGIN, END):
                        inside = line.strip() == BEGIN
                    elif inside and len(words(line).split()) >= 3 and not line.strip().startswith("#"):
                        phrase = words(line)
                        needles.setdefault(phrase, Needle(path.name, index, "solution code", phrase))
    return tuple(n for n in needles.values() if f" {n.text} " not in f" {public} ")


def leaks(text: str, needles=None) -> list[Needle]:
    """The solution phrases found in ``text`` (already reduced with :func:`words`)."""
    padded = f" {text} "
    return [n for n in (needles or solution_needles()) if f" {n.text} " in padded]


# --- what no reader should see --------------------------------------------------------------------------------

LINE_LIMIT = 88
"""Characters of a line of code, or of a printed line, that the book's content column shows without scrolling
at 1280 px (the browser test measures it)."""

MACHINE_PATH = re.compile(
    r"(?<![\w.~/:$-])/(?:home|root|work|tmp|Users|usr|opt|var|mnt|srv|scratch|data|content|private|nfs|gpfs)"
    r"(?:/[^\s'\"<>()\[\],;|]+)+"
    r"|(?<![\w])[A-Za-z]:\\(?:Users|Documents and Settings)\\\S+")
"""An absolute path of the machine that ran something (``/home/ana/datasets/mnist``, ``C:\\Users\\ana``).
Example paths written for a reader (``/path/to/datasets``) and URLs are not machine paths."""

TF_LOG_LINE = re.compile(r"^\s*[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\].*$"
                         r"|^.*All log messages before absl::InitializeLog.*$", re.M)
"""A line of TensorFlow's C++ log: ``E0000 00:00:1796097866.844927   24403 meta_optimizer.cc:967] ...``."""

KNOWN_LONG_OUTPUT = {
    "✅ add_noise: Gaussian noise of standard deviation factor, clipped to [0, 1], seeded, input untouched.":
        "Lab 2's self-check message, printed by labkit/checks.py (not this branch's file): shorten it there",
    "✅ classifier: frozen features → Flatten → Dense(10, softmax), Adam on the cosine schedule; training steps "
    "move only the head.":
        "Lab 4's self-check message, now printed on two lines (labkit/labs/lab4/checks.py); the committed run "
        "printed it before that change: re-run Lab 4 at full scale and remove this entry",
}
"""Printed lines over LINE_LIMIT that this repository still holds, each with the reason and the fix. A test
fails when one of them is no longer there, so that the list cannot outlive the problem."""


def machine_text(text: str) -> list[str]:
    """The machine paths and TensorFlow log lines in ``text``."""
    return MACHINE_PATH.findall(text) + [line.strip()[:120] for line in TF_LOG_LINE.findall(text)]


def too_long(lines, known=KNOWN_LONG_OUTPUT) -> list[str]:
    """The lines over LINE_LIMIT characters, less the known ones."""
    return [line for line in lines if len(line) > LINE_LIMIT and line.strip() not in known]


def output_texts(cell) -> list[tuple[str, str]]:
    """``(kind, text)`` of each output of a code cell: "printed" for streams and plain-text results (shown in
    a code block), "rich" for HTML and Markdown (data URIs left out)."""
    texts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            texts.append(("printed", output.text))
        elif output.output_type == "error":
            texts.append(("printed", "\n".join(output.traceback)))
        else:
            data = output.get("data", {})
            rich = [data[kind] for kind in ("text/html", "text/markdown") if kind in data]
            if rich:
                texts += [("rich", re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", "data:…", text))
                          for text in rich]
            elif "text/plain" in data and not any(kind.startswith("image/") for kind in data):
                texts.append(("printed", data["text/plain"]))
    return texts


def code_blocks(markdown: str) -> list[str]:
    """The lines inside the fenced code blocks of a Markdown text (MyST directives other than code left out)."""
    lines, fence = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        opening = re.match(r"^(`{3,}|~{3,})(.*)$", stripped)
        if fence is None and opening:
            info = opening[2].strip()
            is_code = not info.startswith("{") or info.startswith(("{code-block}", "{code}", "{code-cell}"))
            fence = (opening[1], is_code)
        elif fence is not None and stripped.startswith(fence[0]) and stripped.strip("`~") == "":
            fence = None
        elif fence is not None and fence[1]:
            lines.append(line)
    return lines
