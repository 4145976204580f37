"""Keras 3 builders for the labs' models, each returning what the lab needs next.

Builders use the functional API, name their sub-models and layers (``"encoder"``, ``"enc_dense"``) so
plots and checks can find them, and take the lab's values as keyword defaults.
"""

from __future__ import annotations

import keras
from keras import layers


def dense_autoencoder(input_dim: int = 784, hidden: int = 128, latent: int = 32, *,
                      activation: str = "relu", latent_activation: str = "relu",
                      output_activation: str = "sigmoid",
                      name: str = "dense_autoencoder") -> tuple[keras.Model, keras.Model, keras.Model]:
    """The dense autoencoder 784-128-32-128-784 as ``(autoencoder, encoder, decoder)``.

    Built by students in Lab 1 (steps 3 and 4); used again in Lab 1's post-lab experiments.
    """
    image = keras.Input(shape=(input_dim,), name="image")
    h = layers.Dense(hidden, activation=activation, name="enc_dense")(image)
    code = layers.Dense(latent, activation=latent_activation, name="code")(h)
    encoder = keras.Model(image, code, name="encoder")

    code_in = keras.Input(shape=(latent,), name="code_in")
    h = layers.Dense(hidden, activation=activation, name="dec_dense")(code_in)
    reconstruction = layers.Dense(input_dim, activation=output_activation, name="reconstruction")(h)
    decoder = keras.Model(code_in, reconstruction, name="decoder")

    autoencoder = keras.Model(image, decoder(encoder(image)), name=name)
    return autoencoder, encoder, decoder
