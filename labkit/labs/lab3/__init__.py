"""Lab 3: how small can the code be? Latent space and anomaly detection (solutions/lab3_latent_space.ipynb).

The lab's constants, shown again in the notebook's setup cell (a test keeps the two the same).
"""

TITLE = "How small can the code be? Latent space and anomaly detection"
NOTEBOOK = "lab3_latent_space.ipynb"

PIXELS = 784
"""The numbers of an MNIST image: ``compression_ratio``'s default ``input_dim`` (Exercise 1)."""
LATENT_SIZES = [2, 8, 16, 32]
VALIDATION_IMAGES = 10_000
"""The last training images: the validation split the sweep's recipe was chosen on. The sweep trains on the
others (50,000) and reports its loss on them beside the test loss; the shipped sample holds out a sixth."""
EPOCHS = 12
BATCH_SIZE = 512
LEARNING_RATE = 6e-3
"""Adam's starting rate in the sweep, decayed along a cosine to 1 % of it by the last step. The sweep's recipe
(the lean decoder, ``conv_bottleneck_autoencoder(full_resolution=False)``, 12 epochs in batches of 512) was
chosen on the validation split (``VALIDATION_IMAGES``) with ``benchmarks/lab3_recipe.py``, training on the
other 50,000 images as the sweep does: the fewest epochs at which a 2-number code beat
the report's 0.1669 by at least 0.002 for two seeds (0.1635, 0.1645; at 10 epochs 0.1645 and 0.1668, and a
full-scale run at 10 missed on the test set by 0.0001)."""
LATENT = 16
"""The code size of the encoder students build (Exercise 2)."""
UNSEEN_DIGIT = 9
DETECTOR_LATENT = 16
DETECTOR_EPOCHS = 5
FALSE_ALARM_RATE = 0.05
CODE_NEIGHBOURS = 10
REFERENCE_CODES = 10_000
"""The code-space anomaly score: mean distance to the 10 nearest of 10,000 codes of normal training images."""
PUBLISHED_BCE = {2: 0.1669, 16: 0.1141}
"""The report's test binary cross-entropy for codes of 2 and 16 numbers."""
REPORT_EPOCHS = 10
REPORT_BATCH = 256
"""The report's own recipe for the 2-number code, trained beside the kit's: its baseline convolutional
autoencoder with a linear Dense(2) code between encoder and decoder (``labkit.models.conv_dense_bottleneck``),
Adam at its constant default rate, 10 epochs in batches of 256."""

FIGURES = {**{f"bce_latent_{size}": f"the test binary cross-entropy of the sweep's code of {size}"
              for size in LATENT_SIZES},
           "report_bce_latent_2": "the test binary cross-entropy of the report's own recipe for a code of 2 (step 4)",
           "anomaly_auc": "the test AUC of the anomaly score chosen on the validation split (step 8)"}
"""The figures the solution states with ``labkit.figures.show`` (see Lab 1's)."""
