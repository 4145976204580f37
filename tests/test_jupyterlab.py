"""JupyterLab as a student starts it: it serves Lab 1, opens it in the project's kernel (the Python of this
environment, where labkit is installed) and runs its first code cells without an error, in quick mode.
With a browser installed, Lab 1 is also opened in JupyterLab's own page and photographed."""

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
from pathlib import Path

import nbformat
import pytest

from book_site import ROOT, SCREENSHOTS, chromium

LAB = "labs/lab1_dense_autoencoder.ipynb"
FIRST_CODE_CELLS = 2
"""The set-up cell and the cell that loads MNIST: they need no student code."""
START_TIMEOUT_S = 90
CELL_TIMEOUT_S = 180


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lab:
    """A JupyterLab server on 127.0.0.1 with a token, serving a copy of the student notebooks."""

    def __init__(self, root: Path, home: Path):
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
    assert "Student notebook" in notebook.cells[0].source
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
        assert "QUICK MODE" in outputs[0]
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
        assert "Pre-lab questions" in panel.text or len(panel.find_elements(By.CSS_SELECTOR, ".jp-Cell")) >= 2
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / "jupyterlab-lab1.png"
        assert browser.save_screenshot(str(shot))
        print(f"screenshot: {shot}")
