"""JupyterLab as a student starts it: it serves Lab 1, opens it in the project's kernel (the Python of this
environment, where labkit is installed) and runs its first code cells without an error, in quick mode.
With a browser installed, Lab 1 is also opened in JupyterLab's own page and photographed, and the kit's
interactive parts are driven there as a student would: a lab's quiz cell is run, an answer chosen and the
feedback seen; Lab 3's explorer cells are run and their sliders moved until the picture changes."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

from book_site import ROOT, SCREENSHOTS, chromium

LAB = "labs/lab1_dense_autoencoder.ipynb"
FIRST_CODE_CELLS = 3
"""The Colab install cell, the set-up cell and the cell that loads MNIST: they need no student code."""
START_TIMEOUT_S = 90
CELL_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lab:
    """A JupyterLab server on 127.0.0.1 with a token, serving a copy of the student notebooks."""

    def __init__(self, root: Path, home: Path):
        self.root = root
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{_free_port()}/"
        port = self.base.rsplit(":", 1)[1].strip("/")
        env = {**os.environ, "LABKIT_QUICK": "1", "MPLBACKEND": "agg", "JUPYTER_CONFIG_DIR": str(home / "config"),
               "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
               "IPYTHONDIR": str(home / "ipython"), "JUPYTERLAB_SETTINGS_DIR": str(home / "settings")}
        news = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True)
        news.write_text(json.dumps({"fetchNews": "false"}))  # no "get notified about Jupyter news?" pop-up
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={root}", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                   "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: the tests run cells through it
                   "--allow-root"]  # CI runs as root
        self.log = home / "jupyterlab.log"
        self.process = subprocess.Popen(command, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                self.api("GET", "api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"JupyterLab did not start:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.5)

    def api(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(self.base + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return json.loads(raw) if raw and response.headers.get_content_type() == "application/json" else raw

    def run(self, kernel_id: str, code: str) -> tuple[str, list[str], str]:
        """Run ``code`` in the kernel over its websocket, as JupyterLab does: (status, texts shown, error)."""
        import websocket  # websocket-client, a dependency of jupyter_server

        url = f"ws://{self.base[7:]}api/kernels/{kernel_id}/channels?token={self.token}"
        connection = websocket.create_connection(url, timeout=CELL_TIMEOUT_S)
        msg_id = uuid.uuid4().hex
        connection.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                       "session": uuid.uuid4().hex, "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        shown, error, status, idle = [], "", None, False
        try:
            while status is None or not idle:
                message = json.loads(connection.recv())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = message["msg_type"], message["content"]
                if kind == "stream":
                    shown.append(content["text"])
                elif kind in ("display_data", "execute_result"):
                    shown.append(content["data"].get("text/plain", ""))
                elif kind == "error":
                    error = f"{content['ename']}: {content['evalue']}"
                elif kind == "execute_reply":
                    status = content["status"]
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
        finally:
            connection.close()
        return status, shown, error

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a copy of labs/ (so nothing it writes lands in the repository)."""
    root = tmp_path_factory.mktemp("jupyterlab-root")
    shutil.copytree(ROOT / "labs", root / "labs")
    server = Lab(root, tmp_path_factory.mktemp("jupyterlab-home"))
    yield server
    server.stop()


def test_lab1_opens_and_its_first_cells_run_in_the_project_kernel(lab):
    """Does JupyterLab serve Lab 1, open it in a kernel of this environment's Python, and run its first code
    cells (set-up and data) without an error?"""
    served = lab.api("GET", f"api/contents/{LAB}")
    assert served["type"] == "notebook"
    notebook = nbformat.from_dict(served["content"])
    assert notebook.cells[0].source.startswith("# Lab 1 — ")
    assert notebook.metadata["labkit"]["generated_from"] == "solutions/lab1_dense_autoencoder.ipynb"
    kernel_name = notebook.metadata["kernelspec"]["name"]
    session = lab.api("POST", "api/sessions", {"path": LAB, "type": "notebook", "name": Path(LAB).name,
                                               "kernel": {"name": kernel_name}})
    kernel = session["kernel"]["id"]
    try:
        status, shown, error = lab.run(kernel, "import sys; print(sys.prefix)")
        assert (status, error) == ("ok", "")
        assert Path("".join(shown).strip()) == Path(sys.prefix), "the notebook's kernel is not the project's Python"
        cells = [cell for cell in notebook.cells if cell.cell_type == "code"][:FIRST_CODE_CELLS]
        outputs = []
        for number, cell in enumerate(cells, start=1):
            status, shown, error = lab.run(kernel, cell.source)
            assert (status, error) == ("ok", ""), f"code cell {number} of {LAB} failed:\n{cell.source}\n{shown}"
            outputs.append("".join(shown))
        assert outputs[0] == ""  # the Colab cell does nothing off Colab
        assert "QUICK MODE" in outputs[1]
    finally:
        lab.api("DELETE", f"api/sessions/{session['id']}")


@pytest.mark.book
def test_lab1_opens_in_jupyterlabs_page(lab):
    """Does JupyterLab's own page, in a real browser, show Lab 1 with its cells (screenshot saved)?"""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium() as browser:
        browser.get(f"{lab.base}lab/tree/{LAB}?token={lab.token}")
        panel = WebDriverWait(browser, START_TIMEOUT_S).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel"))[0]
        WebDriverWait(browser, START_TIMEOUT_S).until(lambda d: "Lab 1" in panel.text)
        # the kernel of the notebook's kernelspec started and is idle (JupyterLab shows its name)
        WebDriverWait(browser, START_TIMEOUT_S).until(lambda d: "Python 3" in d.find_element(
            By.CSS_SELECTOR, ".jp-NotebookPanel-toolbar").text)
        # JupyterLab renders a notebook's cells in batches after its first one: on a busy machine the page can
        # show the title cell alone for a while, so wait for the next cells rather than look once
        WebDriverWait(browser, START_TIMEOUT_S).until(
            lambda d: "Pre-lab questions" in panel.text or len(panel.find_elements(By.CSS_SELECTOR, ".jp-Cell")) >= 2,
            message="JupyterLab showed Lab 1's first cell but none after it")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / "jupyterlab-lab1.png"
        assert browser.save_screenshot(str(shot))
        print(f"screenshot: {shot}")


# --- the interactive parts, driven in JupyterLab's page ----------------------------------------------------

QUIZ_LAB = "labs/lab1_dense_autoencoder.ipynb"
EXPLORER_LAB = "labs/lab3_latent_space.ipynb"
WIDGET_TIMEOUT_S = 240
"""Seconds to wait for a kernel to import TensorFlow and draw a widget: minutes on a busy 2-core machine."""

# Stand-ins for what Lab 3 has trained by its explorer cells (real sample digits, a blurred copy for the
# 2-number code, a decoder that draws a blob where the sliders point), so that its own explorer cells run in
# seconds instead of after the sweep.
EXPLORER_SETUP = """
import numpy as np
from labkit import data, widgets

(_, _), (test_images, y_test) = data.load_sample("mnist")
x_test = test_images[..., None] / 255.0
LATENT_SIZES = [2, 16]
blurred = (x_test[:10] + np.roll(x_test[:10], 1, axis=1) + np.roll(x_test[:10], 1, axis=2)) / 3
rows, cols = np.mgrid[0:28, 0:28]


def blob(point):
    x, y = np.asarray(point, dtype="float32")[0]
    return np.exp(-((rows - 14 - 4 * y) ** 2 + (cols - 14 - 4 * x) ** 2) / 18.0)[None, ..., None]


trained = {2: {"reconstructions": blurred, "decoder": blob}, 16: {"reconstructions": x_test[:10]}}
extent = (-2.0, 2.0, -2.0, 2.0)
"""


def _lab_cells(path: str, tag: str | None = None, contains: str | None = None) -> list:
    """Code cells of a student notebook of this repository: those tagged ``tag`` or holding ``contains``."""
    cells = nbformat.read(ROOT / path, as_version=4).cells
    return [cell for cell in cells if cell.cell_type == "code"
            and (tag is None or tag in cell.metadata.get("tags", []))
            and (contains is None or contains in cell.source)]


def _write_notebook(lab: Lab, name: str, cells: list) -> str:
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    nbformat.write(notebook, lab.root / name)
    return name


_RUN_ALL = """
const done = arguments[arguments.length - 1];
const app = window.jupyterapp;
const panel = app.shell.currentWidget;
panel.sessionContext.ready
  .then(() => app.commands.execute("notebook:run-all-cells"))
  .then(() => done("ok"), error => done(String(error)));
"""


@contextmanager
def _notebook_page(lab: Lab, name: str):
    """The notebook ``name`` opened in JupyterLab's page in Chromium, its kernel idle, every cell run."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium() as browser:
        browser.set_script_timeout(WIDGET_TIMEOUT_S)
        # a workspace of its own, so that no notebook an earlier test opened is restored and run instead
        browser.get(f"{lab.base}lab/workspaces/{uuid.uuid4().hex}/tree/{name}?reset&token={lab.token}")
        wait = WebDriverWait(browser, START_TIMEOUT_S)
        wait.until(lambda d: d.execute_script(
            "const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            "return !!(panel && panel.sessionContext && panel.context && panel.context.path === arguments[0])",
            name))
        wait.until(lambda d: "Idle" in d.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel-toolbar").get_attribute(
            "innerHTML") or d.execute_script(
            "return window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel?.status === 'idle'"))
        assert browser.execute_async_script(_RUN_ALL) == "ok"
        yield browser


def _until(wait, condition, what: str):
    """``wait.until(condition)``; on a timeout, fail with what was awaited and what the outputs show."""
    from selenium.common.exceptions import TimeoutException

    try:
        return wait.until(condition)
    except TimeoutException:
        shown = [e.text[:300] for e in wait._driver.find_elements("css selector", ".jp-OutputArea-output")]
        pytest.fail(f"waited {WIDGET_TIMEOUT_S} s for {what}; the outputs show: {shown}")


def _widget_feedback(browser) -> str:
    return " ".join(e.text for e in browser.find_elements("css selector", ".jp-OutputArea-output .widget-html"))


@pytest.mark.book
def test_a_quiz_answers_in_jupyterlab(lab):
    """Run Lab 1's quiz cell in JupyterLab's page: does it show the live widget under the static copy above
    it, and does choosing an answer (right, then wrong in another question) show the feedback at once?"""
    from labkit import bank
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    (quiz_cell,) = _lab_cells(QUIZ_LAB, tag="quiz")
    (static_copy,) = [cell for cell in nbformat.read(ROOT / QUIZ_LAB, as_version=4).cells
                      if "quiz-copy" in cell.metadata.get("tags", [])]
    assert not quiz_cell.outputs, "a student notebook carries no outputs"
    name = _write_notebook(lab, "quiz_lab1.ipynb",
                           [nbformat.v4.new_code_cell("from labkit import quiz"), static_copy, quiz_cell])
    choices = [q for q in bank.load_bank(1) if q.kind == "multiple-choice"]
    right, wrong = choices[0], choices[1]
    with _notebook_page(lab, name) as browser:
        wait = WebDriverWait(browser, WIDGET_TIMEOUT_S)
        boxes = _until(wait, lambda d: d.find_elements(By.CSS_SELECTOR, ".widget-radio-box"), "the quiz widget")
        assert len(boxes) == len(choices)

        def choose(question, option):
            box = boxes[choices.index(question)]
            label = next(e for e in box.find_elements(By.CSS_SELECTOR, "label") if e.text.strip() == option)
            label.find_element(By.CSS_SELECTOR, "input").click()

        choose(right, right.answer)
        _until(wait, lambda d: "Correct." in _widget_feedback(d), "the feedback on a right answer")
        choose(wrong, next(option for option in wrong.options if option != wrong.answer))
        _until(wait, lambda d: "Not quite" in _widget_feedback(d), "the feedback on a wrong answer")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.execute_script("arguments[0].scrollIntoView()", boxes[choices.index(right)])
        assert browser.save_screenshot(str(SCREENSHOTS / "jupyterlab-quiz.png"))


_IMAGES = """
return Array.from(document.querySelectorAll(".jp-OutputArea-output .widget-image"))
  .map(img => img.src);
"""


@pytest.mark.book
def test_lab3_sliders_change_the_picture_in_jupyterlab(lab):
    """Run Lab 3's two explorer cells in JupyterLab's page (on stand-in models): does moving the latent-size
    slider, then a code-plane slider, change the picture drawn under it?"""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    explorers = (_lab_cells(EXPLORER_LAB, contains="widgets.SizeExplorer(")
                 + _lab_cells(EXPLORER_LAB, contains="widgets.PlaneExplorer("))
    assert len(explorers) == 2, "Lab 3 should have its two explorer cells"
    name = _write_notebook(lab, "explorers_lab3.ipynb",
                           [nbformat.v4.new_code_cell(EXPLORER_SETUP),
                            *[nbformat.v4.new_code_cell(cell.source) for cell in explorers]])
    with _notebook_page(lab, name) as browser:
        wait = WebDriverWait(browser, WIDGET_TIMEOUT_S)
        _until(wait, lambda d: len(d.execute_script(_IMAGES)) == 2 and all(d.execute_script(_IMAGES)),
               "the explorers' pictures to appear")
        handles = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .noUi-handle"))
        assert len(handles) == 3  # the size slider, then the plane's two
        for index, handle in ((0, handles[0]), (1, handles[1])):
            before = browser.execute_script(_IMAGES)[index]
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", handle)
            handle.click()
            handle.send_keys(Keys.ARROW_RIGHT)
            _until(wait, lambda d: d.execute_script(_IMAGES)[index] != before, f"picture {index} to change")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(SCREENSHOTS / "jupyterlab-lab3-explorers.png"))
