"""``import labkit`` in a notebook's kernel keeps TensorFlow's C++ log lines out of the cell outputs."""

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
