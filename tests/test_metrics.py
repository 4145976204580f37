import math
import subprocess
import sys

import numpy as np
import pytest

from labkit import metrics
from labkit.data import load_fashion_mnist, load_mnist


def test_black_and_white_targets_have_a_floor_of_zero():
    """Do all-0/1 targets give a floor of (almost exactly) zero, as Keras's clipping allows?"""
    targets = np.array([[0.0, 1.0, 1.0, 0.0]])
    assert metrics.bce_floor(targets) == pytest.approx(0.0, abs=1e-6)


def test_constant_grey_has_a_floor_of_log_two():
    """Does an image of 0.5 everywhere have the floor log 2, the entropy of a fair coin?"""
    assert metrics.bce_floor(np.full((3, 784), 0.5)) == pytest.approx(math.log(2), rel=1e-9)


def test_no_prediction_beats_the_floor():
    """Is the floor below the loss of any other prediction of the same targets?"""
    rng = np.random.default_rng(0)
    targets = rng.random((20, 784))
    floor = metrics.bce_floor(targets)
    for _ in range(5):
        guess = np.clip(targets + rng.normal(0, 0.05, targets.shape), 0, 1)
        assert metrics.binary_crossentropy(targets, guess) > floor


def test_binary_crossentropy_matches_keras():
    """Does our NumPy BCE give Keras's number for the same targets and predictions?"""
    import keras

    rng = np.random.default_rng(1)
    targets, predictions = rng.random((8, 784)), rng.random((8, 784))
    predictions[0, :3] = [0.0, 1.0, 1e-9]
    expected = float(np.mean(keras.losses.binary_crossentropy(targets, predictions)))
    assert metrics.binary_crossentropy(targets, predictions) == pytest.approx(expected, rel=1e-5)


def test_excess_is_loss_minus_floor():
    """Is the excess of the floor's own value zero, and of a larger loss the difference?"""
    targets = np.full((2, 4), 0.25)
    floor = metrics.bce_floor(targets)
    assert metrics.excess_over_floor(floor + 0.01, targets) == pytest.approx(0.01)


def test_targets_outside_unit_range_are_refused():
    """Do raw 0-255 pixels get an error that says to scale them?"""
    with pytest.raises(ValueError, match="1/255"):
        metrics.bce_floor(np.full((1, 784), 255.0))


def test_psnr_and_mse():
    """Is PSNR infinite-free for perfect copies and 20 dB for an error of 0.1 everywhere?"""
    clean = np.zeros((2, 784))
    assert metrics.mse(clean, clean + 0.1) == pytest.approx(0.01)
    assert metrics.psnr(clean, clean + 0.1) == pytest.approx(20.0)
    assert metrics.psnr(clean, clean) == pytest.approx(120.0)
    with pytest.raises(ValueError, match="shape"):
        metrics.psnr(clean, clean[:1])


def test_floors_of_the_full_test_sets(full_data_dir):
    """Are the floors of the full test sets 0.0581 (MNIST) and 0.2422 (Fashion-MNIST)?"""
    (_, _), (mnist_test, _) = load_mnist(full_data_dir, verbose=False)
    (_, _), (fashion_test, _) = load_fashion_mnist(full_data_dir, verbose=False)
    assert metrics.bce_floor(mnist_test / 255.0) == pytest.approx(0.0581, abs=5e-5)
    assert metrics.bce_floor(fashion_test / 255.0) == pytest.approx(0.2422, abs=5e-5)


def test_numpy_only_modules_do_not_import_tensorflow():
    """Do idx and metrics import without TensorFlow, so they load and test fast?"""
    code = "import labkit.idx, labkit.metrics, sys; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
