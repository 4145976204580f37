"""Lab 3: how small can the code be? Latent space and anomaly detection (solutions/lab3_latent_space.ipynb).

The lab's constants, shown again in the notebook's setup cell (a test keeps the two the same).
"""

TITLE = "How small can the code be? Latent space and anomaly detection"
NOTEBOOK = "lab3_latent_space.ipynb"

PIXELS = 784
"""The numbers of an MNIST image: ``compression_ratio``'s default ``input_dim`` (Exercise 1)."""
LATENT_SIZES = [2, 8, 16, 32]
EPOCHS = 15
BATCH_SIZE = 128
LEARNING_RATE = 3e-3
"""Adam's starting rate in the sweep, decayed along a cosine to 1 % of it by the last step."""
LATENT = 16
"""The code size of the encoder students build (Exercise 2)."""
UNSEEN_DIGIT = 9
FALSE_ALARM_RATE = 0.05
PUBLISHED_BCE = {2: 0.1669, 16: 0.1141}
"""The report's test binary cross-entropy for codes of 2 and 16 numbers."""

FIGURES = {f"bce_latent_{size}": f"the test binary cross-entropy of the sweep's code of {size}"
           for size in LATENT_SIZES}
"""The figures the solution states with ``labkit.figures.show`` (see Lab 1's)."""
