import numpy as np

from labkit import models
from labkit.checks import count_dense_params


def test_dense_autoencoder_has_the_lab_shapes_and_parameters():
    """Is the default model 784-128-32-128-784 with 209,968 parameters and named parts?"""
    autoencoder, encoder, decoder = models.dense_autoencoder()
    assert encoder.input_shape == (None, 784) and encoder.output_shape == (None, 32)
    assert decoder.input_shape == (None, 32) and decoder.output_shape == (None, 784)
    assert autoencoder.count_params() == 209_968 == count_dense_params(784, 128, 32, 128, 784)
    assert (encoder.name, decoder.name) == ("encoder", "decoder")
    assert encoder.get_layer("code").units == 32


def test_latent_size_is_a_keyword():
    """Does latent=2 change only the code's size?"""
    autoencoder, encoder, _ = models.dense_autoencoder(latent=2)
    assert encoder.output_shape == (None, 2)
    assert autoencoder.count_params() == count_dense_params(784, 128, 2, 128, 784)


def test_reconstructions_are_probabilities():
    """Does the sigmoid output keep every reconstructed pixel in [0, 1]?"""
    autoencoder, _, _ = models.dense_autoencoder()
    out = np.asarray(autoencoder(np.random.default_rng(0).random((3, 784), dtype=np.float32) * 50))
    assert out.shape == (3, 784) and out.min() >= 0 and out.max() <= 1
