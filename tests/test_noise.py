import subprocess
import sys

import numpy as np
import pytest

from labkit import noise

IMAGES = np.random.default_rng(0).random((20, 28, 28, 1), dtype=np.float32)


@pytest.mark.parametrize("corrupt", [noise.gaussian, noise.salt_and_pepper])
def test_noise_never_modifies_its_input(corrupt):
    """Are the caller's images left exactly as they were?"""
    before = IMAGES.copy()
    out = corrupt(IMAGES, seed=0)
    assert np.array_equal(IMAGES, before) and out is not IMAGES


@pytest.mark.parametrize("corrupt", [noise.gaussian, noise.salt_and_pepper])
def test_noise_keeps_shape_dtype_and_range(corrupt):
    """Does the noisy copy keep the images' shape and float dtype, with every value in [0, 1]?"""
    for images in (IMAGES, IMAGES.reshape(20, 784).astype(np.float64)):
        out = corrupt(images, seed=0)
        assert out.shape == images.shape and out.dtype == images.dtype
        assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("corrupt", [noise.gaussian, noise.salt_and_pepper])
def test_same_seed_same_noise_other_seed_other_noise(corrupt):
    """Does a seed make the noise repeat, and another seed change it?"""
    assert np.array_equal(corrupt(IMAGES, seed=3), corrupt(IMAGES, seed=3))
    assert not np.array_equal(corrupt(IMAGES, seed=3), corrupt(IMAGES, seed=4))


def test_a_generator_continues_where_it_left_off():
    """Does passing rng= draw fresh noise on each call, and match seed= on the first call?"""
    rng = np.random.default_rng(5)
    first, second = noise.gaussian(IMAGES, rng=rng), noise.gaussian(IMAGES, rng=rng)
    assert not np.array_equal(first, second)
    assert np.array_equal(first, noise.gaussian(IMAGES, seed=5))


def test_gaussian_factor_is_the_standard_deviation():
    """On mid-grey images, where clipping is rare, is the noise's spread the factor and its mean 0?"""
    grey = np.full((50, 28, 28, 1), 0.5, dtype=np.float32)
    added = noise.gaussian(grey, 0.1, seed=0) - grey
    assert added.std() == pytest.approx(0.1, rel=0.02)
    assert abs(added.mean()) < 0.002


def test_gaussian_clips_at_both_ends():
    """Are black pixels pushed below 0 and white ones above 1 clipped back, about half of each?"""
    black = noise.gaussian(np.zeros((10, 784), dtype=np.float32), 0.5, seed=0)
    white = noise.gaussian(np.ones((10, 784), dtype=np.float32), 0.5, seed=0)
    assert black.min() == 0 and 0.45 < np.mean(black == 0) < 0.55
    assert white.max() == 1 and 0.45 < np.mean(white == 1) < 0.55


def test_gaussian_factor_zero_changes_nothing():
    """Does factor 0 return the images unchanged?"""
    assert np.array_equal(noise.gaussian(IMAGES, 0.0, seed=0), IMAGES)


def test_salt_and_pepper_hits_the_amount_of_pixels():
    """Does amount 0.2 set about 20 % of the pixels to 0 or 1, half each, and leave the rest alone?"""
    grey = np.full((50, 784), 0.5, dtype=np.float32)
    out = noise.salt_and_pepper(grey, 0.2, seed=0)
    salt, pepper = np.mean(out == 1), np.mean(out == 0)
    assert salt + pepper == pytest.approx(0.2, abs=0.005)
    assert salt == pytest.approx(0.1, abs=0.005)
    assert np.all((out == 0) | (out == 1) | (out == 0.5))


def test_salt_ratio_one_gives_only_salt():
    """Does salt_ratio=1 turn every hit pixel white and none black?"""
    grey = np.full((10, 784), 0.5, dtype=np.float32)
    out = noise.salt_and_pepper(grey, 0.3, salt_ratio=1.0, seed=0)
    assert not np.any(out == 0) and np.any(out == 1)


def test_uint8_pixels_are_refused_with_the_fix():
    """Do raw 0-255 pixels get an error that says to call preprocess() first?"""
    raw = np.zeros((2, 28, 28), dtype=np.uint8)
    for corrupt in (noise.gaussian, noise.salt_and_pepper):
        with pytest.raises(ValueError, match=r"uint8.*preprocess\(\)"):
            corrupt(raw, seed=0)


def test_float_pixels_out_of_range_are_refused():
    """Are float images with values up to 255 refused, with a hint to divide by 255?"""
    with pytest.raises(ValueError, match="divide by 255"):
        noise.gaussian(IMAGES * 255, seed=0)


@pytest.mark.parametrize("call, message", [
    (lambda: noise.gaussian(IMAGES, -0.1), "factor must be 0 or more"),
    (lambda: noise.gaussian(IMAGES, float("nan")), "factor must be 0 or more"),
    (lambda: noise.gaussian(IMAGES, "0.5x"), "factor must be a number"),
    (lambda: noise.salt_and_pepper(IMAGES, 1.5), "amount must be between 0 and 1"),
    (lambda: noise.salt_and_pepper(IMAGES, 0.1, salt_ratio=-1), "salt_ratio must be between 0 and 1"),
    (lambda: noise.gaussian(IMAGES, seed=0, rng=np.random.default_rng(0)), "not both"),
    (lambda: noise.gaussian(IMAGES, seed=0.5), "whole number"),
    (lambda: noise.gaussian(IMAGES, rng=0), "numpy.random.Generator"),
    (lambda: noise.gaussian(np.zeros((0, 784), dtype=np.float32)), "empty"),
])
def test_bad_arguments_are_explained(call, message):
    """Does each bad argument get an error naming it and what is allowed?"""
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_noise_imports_only_numpy():
    """Can labkit.noise be imported without TensorFlow, Keras or scikit-learn?"""
    code = ("import sys, labkit.noise; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
