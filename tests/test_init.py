"""``import labkit`` in a notebook's kernel keeps TensorFlow's C++ log lines out of the cell outputs, and Keras's
retracing warnings for fresh models out of every run."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from book_site import TF_LOG_LINE

# Lab 2's grid step, reduced: a LeakyReLU denoiser in mixed bfloat16 whose gradient makes TensorFlow's graph
# optimiser log "E0000 ... meta_optimizer.cc:967] remapper failed" on CPUs with bfloat16 units.
TRAIN = """
import keras, numpy as np
from labkit import models
keras.config.set_dtype_policy("mixed_bfloat16")
model, _, _ = models.conv_denoiser(filters=(32, 64, 128), strides=(1, 2, 2), activation="leaky_relu")
model.compile(optimizer="adam", loss="binary_crossentropy")
images = np.random.default_rng(0).random((64, 28, 28, 1), dtype="float32")
model.fit(images, images, epochs=1, batch_size=32, verbose=0)
print("trained")
import time; time.sleep(2)  # the kernel forwards what C++ writes to stderr a moment later
"""


def _outputs(first_cell: str) -> str:
    """Every text a fresh kernel shows for ``first_cell`` followed by the training cell."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(first_cell),
                                               nbformat.v4.new_code_cell(TRAIN)])
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    texts = []
    for cell in notebook.cells:
        for output in cell.outputs:
            texts.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    return "".join(texts)


def test_tensorflow_log_lines_stay_out_of_a_notebook(monkeypatch):
    """Does a kernel that imports labkit first show no TensorFlow C++ log line, where the same training with
    TensorFlow's own error level (TF_CPP_MIN_LOG_LEVEL=2) shows one (so that this test can fail)?"""
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # under pytest, ipykernel does not forward what C++ writes
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # as a student's kernel starts: unset
    loud = _outputs("import os\nos.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'\nimport labkit")
    if not TF_LOG_LINE.search(loud):
        pytest.skip("TensorFlow logs no C++ error for this training on this CPU, so the test cannot tell "
                    f"whether labkit hides them (outputs: {loud[-300:]!r})")
    quiet = _outputs("import labkit")
    assert "trained" in quiet
    assert TF_LOG_LINE.findall(quiet) == []


ROOT = Path(__file__).resolve().parents[1]
RETRACING_PROBE = """
import logging
import keras, numpy as np, tensorflow as tf
import labkit
from labkit import train

logger = logging.getLogger("tensorflow")
(kit_filter,) = [f for f in logger.filters if type(f).__name__ == "_FreshModelsRetracing"]
dropped, shown = [], []
keep = kit_filter.filter
kit_filter.filter = lambda record: keep(record) or dropped.append(record.getMessage())
handler = logging.Handler()
handler.emit = lambda record: shown.append(record.getMessage())
logger.addHandler(handler)
x = np.random.default_rng(0).random((64, 4), dtype=np.float32)
for _ in range(7):  # fresh models in a loop, as Lab 4's label-budget study trains them
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    train.fit(model, x, x, epochs=1, batch_size=32, verbose=0)
print("KERAS", len(dropped), sum("TensorFlowTrainer" in m for m in dropped), sum("retracing" in m for m in shown))

@tf.function
def own(n):
    return n * 2

for n in range(8):
    own(n)  # a Python int: a new trace each call
print("OWN", sum("retracing" in m and "own" in m for m in shown))
"""


def test_keras_retracing_warnings_for_fresh_models_are_dropped_and_a_students_own_are_not():
    """Training fresh models in a loop makes TensorFlow warn that Keras's step function "triggered tf.function
    retracing" (each model traces its own once; TensorFlow warns at most twice per function, so a fresh
    process): does labkit's filter drop that warning, having seen it (so that this test can fail), while a
    student's own tf.function retraced in a loop still warns?"""
    run = subprocess.run([sys.executable, "-c", RETRACING_PROBE], capture_output=True, text=True, timeout=300,
                         cwd=ROOT, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    keras_line = re.search(r"^KERAS (\d+) (\d+) (\d+)$", run.stdout, re.MULTILINE)
    own_line = re.search(r"^OWN (\d+)$", run.stdout, re.MULTILINE)
    assert keras_line and own_line, run.stdout + run.stderr[-2000:]
    dropped, from_keras, shown = map(int, keras_line.groups())
    assert dropped >= 1 and from_keras == dropped, run.stdout  # TensorFlow warned, about Keras's trainer only
    assert shown == 0, run.stdout
    assert int(own_line[1]) >= 1, run.stdout
