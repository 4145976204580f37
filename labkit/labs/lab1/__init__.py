"""Lab 1: a dense autoencoder on MNIST, 784-128-32-128-784 (solutions/lab1_dense_autoencoder.ipynb).

The lab's constants, shown again in the notebook's setup cell (a test keeps the two the same).
"""

TITLE = "A dense autoencoder on MNIST"
NOTEBOOK = "lab1_dense_autoencoder.ipynb"

PIXELS = 784
HIDDEN = 128
LATENT = 32
EPOCHS = 20
BATCH_SIZE = 256
TARGET_BCE = 0.088
"""The lab's target for the test binary cross-entropy at full scale (20 epochs)."""

FIGURES = {"test_bce": "the test binary cross-entropy after step 6's training"}
"""The figures the solution states with ``labkit.figures.show`` (``📌 name = value``): the experiment of
``labkit reproduce`` that measures the same (``experiments.py``) and the viva questions may use them."""
