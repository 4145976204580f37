"""Lab 2: a convolutional denoising autoencoder and the features it learns
(solutions/lab2_denoising_autoencoder.ipynb).

The lab's constants, shown again in the notebook's setup cell (a test keeps the two the same).
"""

TITLE = "A convolutional denoising autoencoder and the features it learns"
NOTEBOOK = "lab2_denoising_autoencoder.ipynb"

EPOCHS = 10
BATCH_SIZE = 128
NOISE_FACTOR = 0.5
FILTERS = (32, 64, 128)
STRIDES = (1, 2, 2)
TARGET_BCE = 0.095
"""The lab's target for the validation binary cross-entropy at full scale (10 epochs)."""

FIGURES = {
    "val_bce": "the denoiser's validation binary cross-entropy after step 5's training",
    "probe_features": "the linear probe's accuracy on the encoder's features (step 8)",
    "probe_pixels": "the linear probe's accuracy on the raw pixels (step 8)",
    "probe_untrained": "the linear probe's accuracy on an untrained encoder's features (step 8)",
}
"""The figures the solution states with ``labkit.figures.show`` (see Lab 1's)."""
