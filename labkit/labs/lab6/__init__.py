"""Lab 6: the variational autoencoder, read against the loss floor
(solutions/lab6_variational_autoencoder.ipynb).

The lab's constants, shown again in the notebook's setup cell (a test keeps the two the same).
"""

TITLE = "The variational autoencoder, read against the loss floor"
NOTEBOOK = "lab6_variational_autoencoder.ipynb"
PRACTISED = False
"""Lab 5's practice viva draws from Labs 1 to 4, the course it rehearses (its notebook's committed draws and
text say so); Lab 6's questions reach examiners through its own viva sheets (``labkit viva --lab 6``)."""

LATENT_SIZES = [2, 16]
FILTERS = (16, 32)
DENSE = (256,)
"""Lab 3's encoder and decoder made lean: its two convolutions, one Dense layer of 256 on each side of the
code instead of 1024, 512 and 128, so that the lab's eight models train in minutes on 2 cores (14 minutes in
all in the kit's full-scale run on a 2-core AMD EPYC)."""
EPOCHS = 5
BATCH_SIZE = 128
LEARNING_RATE = 3e-3
"""Lab 3's recipe: Adam, its rate decayed along a cosine to 1 % of it by the last step."""
BETAS = [0.1, 1.0, 4.0]
SWEEP_LATENT = 16
ACTIVE_THRESHOLD = 0.01
"""A code number is active when its mean varies across the test images with a variance above this."""
GRID = 15
"""The prior grid of Exercise 4 is GRID × GRID points."""
SAMPLES = 2_000
"""Prior samples (and random codes of the plain autoencoder) the fixed classifier judges."""
CONFIDENT = 0.9
"""A decoded image counts as a clear digit when the fixed classifier gives one digit at least this."""
POST_EPOCHS = 3
"""Epochs of the post-lab models (the Fashion-MNIST β-VAE and the detector trained on 0-8)."""
FASHION_BETA = 4.0
UNSEEN_DIGIT = 9
LAB3_PLAIN_BCE = {2: 0.1647, 16: 0.0806}
"""Lab 3's plain autoencoder (12 epochs of its larger model), test BCE per pixel: the records
lab3-latent-2 and lab3-latent-16 of results/results.json, the kit's committed full-scale run."""
LAB3_ANOMALY_AUC = 0.6657
"""The AUC of Lab 3's own detector of the unseen 9s (record lab3-anomaly of results/results.json)."""
TARGET_RECONSTRUCTION = {2: 0.185, 16: 0.099}
"""The lab's targets for the VAE's test reconstruction term per pixel at full scale, set from the kit's own
full-scale run (AMD EPYC, 2 cores: 0.1796 and 0.0965) with a margin for the way results move between CPUs
(Lab 3's 2-number code moved by 0.0025 between two CPUs)."""
TARGET_CONFIDENT = 0.45
"""The lab's target for the share of the code-16 VAE's prior samples that the fixed classifier calls a clear
digit, set from the kit's own full-scale run (48.5 % ± 1.1 %; the plain autoencoder's random codes: 44.1 %)."""
