"""Lab 4: transfer learning, an MNIST encoder on Fashion-MNIST (solutions/lab4_transfer_learning.ipynb).

The lab's constants, shown again in the notebook's setup cell (a test keeps the two the same).
"""

TITLE = "Transfer learning: an MNIST encoder on Fashion-MNIST"
NOTEBOOK = "lab4_transfer_learning.ipynb"

EPOCHS = 10
BASELINE = {"filters": (32, 16, 8), "batch": 256}
IMPROVED = {"filters": (64, 32, 16), "batch": 128}
CUT = "enc_pool1"
REPORT_CUT = "code"
"""The report's set-up freezes the whole encoder, up to its 7×7×16 code."""
BATCH = 32
SCRATCH_BATCH = 128
LEARNING_RATE = 1e-3
FINE_TUNE_RATE = 1e-4
PATIENCE = 3
BUDGETS = [100, 1_000, 10_000]
SEEDS = 3
"""Seeds per label budget (the lab's seed and the next ones): each draws other labels and starts the
classifiers from other weights."""
VALIDATION_FRACTION = 0.1
"""The share of Fashion-MNIST's training images held out for validation (the notebook's validation_split)."""

FIGURES = {
    "baseline_bce": "the baseline autoencoder's MNIST test binary cross-entropy (step 1)",
    "improved_bce": "the improved autoencoder's MNIST test binary cross-entropy (step 2)",
    "fashion_bce": "the improved autoencoder's Fashion-MNIST test binary cross-entropy (step 3)",
    "frozen_accuracy": "the frozen MNIST encoder's Fashion-MNIST test accuracy (step 4)",
    "fine_tuned_accuracy": "the fine-tuned classifier's Fashion-MNIST test accuracy (step 5)",
    "scratch_accuracy": "the CNN from scratch's Fashion-MNIST test accuracy (step 6)",
    "whole_frozen_accuracy": "the report's set-up, the whole MNIST encoder frozen: test accuracy (step 4)",
    "random_frozen_accuracy": "the control, random frozen filters at the lab's cut: test accuracy (step 4)",
}
"""The figures the solution states with ``labkit.figures.show`` (see Lab 1's)."""
