import keras
import numpy as np
import pytest

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


# --- Lab 3 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("latent", [2, 16])
def test_conv_bottleneck_maps_images_to_a_linear_code_and_back(latent):
    """Does the Lab 3 model map (n, 28, 28, 1) images to a linear code of the asked size and back?"""
    autoencoder, encoder, decoder = models.conv_bottleneck_autoencoder(latent=latent)
    assert encoder.input_shape == (None, 28, 28, 1) and encoder.output_shape == (None, latent)
    assert decoder.input_shape == (None, latent) and decoder.output_shape == (None, 28, 28, 1)
    code = encoder.get_layer("code")
    assert code.units == latent and code.activation.__name__ == "linear"
    out = np.asarray(autoencoder(np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)))
    assert out.shape == (3, 28, 28, 1) and out.min() >= 0 and out.max() <= 1


def test_conv_bottleneck_differs_between_sizes_only_in_the_code():
    """Do two latent sizes differ only in the weights that touch the code (same architecture otherwise)?"""
    small, _, _ = models.conv_bottleneck_autoencoder(latent=2)
    large, _, _ = models.conv_bottleneck_autoencoder(latent=32)
    _, encoder, decoder = models.conv_bottleneck_autoencoder()
    before, after = encoder.layers[-2].output.shape[-1], decoder.get_layer("code_in").output.shape[-1]
    width = decoder.layers[1].units
    # the code layer has before*k + k weights, the decoder's first layer k*width (no bias: batch norm follows)
    assert after == 16 and large.count_params() - small.count_params() == (32 - 2) * (before + 1 + width)


def test_conv_bottleneck_without_full_resolution_layers_keeps_the_encoder_and_drops_the_28x28_ones():
    """With full_resolution=False, is the encoder the same, and does the decoder go from its 14×14 maps straight
    to the sigmoid image, holding no 28×28 hidden layer and the multiply-adds counted by hand fewer?"""
    full, full_encoder, _ = models.conv_bottleneck_autoencoder(latent=2)
    lean, lean_encoder, lean_decoder = models.conv_bottleneck_autoencoder(latent=2, full_resolution=False)
    assert [layer.name for layer in lean_encoder.layers] == [layer.name for layer in full_encoder.layers]
    assert lean_encoder.count_params() == full_encoder.count_params()
    assert lean_decoder.output_shape == (None, 28, 28, 1)
    assert lean_decoder.get_layer("reconstruction").activation.__name__ == "sigmoid"
    assert {layer.output.shape[1:3] for layer in lean_decoder.layers[:-1] if len(layer.output.shape) == 4} == {
        (7, 7), (14, 14)}
    # dropped: dec_deconv2 (14·14 positions × 3·3 × 32 → 16) and the 3×3 convolution 16 → 1 at 28·28;
    # added: a transposed convolution 14·14 × 3·3 × 32 → 1
    dropped, added = 14 * 14 * 9 * 32 * 16 + 28 * 28 * 9 * 16, 14 * 14 * 9 * 32
    assert models.multiply_adds(full) - models.multiply_adds(lean) == dropped - added
    out = np.asarray(lean(np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)))
    assert out.shape == (3, 28, 28, 1) and out.min() >= 0 and out.max() <= 1


def test_conv_bottleneck_refuses_an_empty_code():
    """Is a latent size of 0 refused with a message?"""
    with pytest.raises(ValueError, match="positive"):
        models.conv_bottleneck_autoencoder(latent=0)


def test_the_reports_plain_bottleneck_is_the_baseline_with_one_dense_code_between():
    """Is the report's plain recipe Lab 4's baseline encoder, Flatten (392), a linear Dense code, Dense(392)
    and the baseline decoder: no hidden Dense layer, no batch normalisation?"""
    autoencoder, encoder, decoder = models.conv_dense_bottleneck(latent=2)
    assert encoder.get_layer("enc_flatten").output.shape[-1] == 392
    assert encoder.get_layer("code").units == 2 and encoder.get_layer("code").activation.__name__ == "linear"
    assert decoder.get_layer("dec_dense").units == 392 and decoder.output_shape == (None, 28, 28, 1)
    kinds = {type(layer).__name__ for layer in models.leaf_layers(autoencoder)}
    assert "BatchNormalization" not in kinds
    assert [layer.name for layer in encoder.layers if type(layer).__name__ == "Dense"] == ["code"]
    baseline, _, _ = models.conv_autoencoder((32, 16, 8))
    dense_weights = (392 * 2 + 2) + (2 * 392 + 392)
    assert autoencoder.count_params() == baseline.count_params() + dense_weights
    with pytest.raises(ValueError, match="positive"):
        models.conv_dense_bottleneck(latent=0)


# --- Lab 2 ---------------------------------------------------------------------------------------

def test_conv_denoiser_has_the_lab_architecture():
    """Is the default denoiser Conv 32/64s2/128s2 -> 6,272 features -> ConvT 64/32 s2 -> Conv 1 sigmoid?"""
    autoencoder, encoder, decoder = models.conv_denoiser()
    assert encoder.input_shape == (None, 28, 28, 1) and encoder.output_shape == (None, 6272)
    assert decoder.input_shape == (None, 6272) and autoencoder.output_shape == (None, 28, 28, 1)
    convs = [encoder.get_layer(f"enc_conv{i}") for i in (1, 2, 3)]
    assert [(c.filters, c.strides) for c in convs] == [(32, (1, 1)), (64, (2, 2)), (128, (2, 2))]
    transposed = [decoder.get_layer(f"dec_convT{i}") for i in (1, 2)]
    assert [(c.filters, c.strides) for c in transposed] == [(64, (2, 2)), (32, (2, 2))]
    assert decoder.get_layer("dec_reshape").output.shape[1:] == (7, 7, 128)
    assert decoder.get_layer("reconstruction").activation.__name__ == "sigmoid"
    assert autoencoder.count_params() == 185_217


def test_conv_denoiser_variants_keep_the_image_shape():
    """Do a bottleneck, fewer or more layers and regularisation still map 28×28 images to 28×28 images?"""
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    for settings, features in [({"code_size": 32}, 32), ({"filters": (64, 128), "strides": (2, 2)}, 6272),
                               ({"filters": (32, 64, 64, 128), "strides": (1, 2, 1, 2)}, 6272),
                               ({"activation": "tanh", "l1": 1e-6, "l2": 1e-5, "dropout": 0.2}, 6272)]:
        autoencoder, encoder, _ = models.conv_denoiser(**settings)
        assert encoder.output_shape == (None, features), settings
        out = np.asarray(autoencoder(x))
        assert out.shape == (2, 28, 28, 1) and out.min() >= 0 and out.max() <= 1


def test_conv_denoiser_regularisation_adds_losses_and_dropout_layers():
    """Do l2 add a penalty per kernel and dropout a layer after each encoder convolution?"""
    autoencoder, encoder, _ = models.conv_denoiser(l2=1e-4, dropout=0.1)
    autoencoder(np.zeros((1, 28, 28, 1), dtype=np.float32))
    assert len(autoencoder.losses) == 6  # 3 Conv2D, 2 Conv2DTranspose and the output Conv2D
    assert [layer.name for layer in encoder.layers if "dropout" in layer.name] == [
        "enc_dropout1", "enc_dropout2", "enc_dropout3"]


@pytest.mark.parametrize("settings, message", [
    ({"filters": (32, 64), "strides": (1, 2, 2)}, "one stride per convolution"),
    ({"strides": (1, 2, 3)}, "cannot enlarge"),
    ({"dropout": 1.0}, "dropout"),
])
def test_conv_denoiser_refuses_impossible_settings(settings, message):
    """Are mismatched strides, shapes the decoder cannot rebuild and dropout 1 refused with a reason?"""
    with pytest.raises(ValueError, match=message):
        models.conv_denoiser(**settings)


# --- Lab 4 ---------------------------------------------------------------------------------------

def test_conv_autoencoder_has_a_7x7_code_and_named_parts():
    """Does the baseline 32-16-8 model squeeze 28×28×1 images to a 7×7×8 code and draw them back?"""
    autoencoder, encoder, decoder = models.conv_autoencoder()
    assert encoder.output_shape == (None, 7, 7, 8) and decoder.input_shape == (None, 7, 7, 8)
    assert autoencoder.output_shape == (None, 28, 28, 1)
    assert [encoder.get_layer(n).filters for n in ("enc_conv1", "enc_conv2", "code")] == [32, 16, 8]
    assert [decoder.get_layer(n).filters for n in ("dec_conv1", "dec_conv2", "reconstruction")] == [16, 32, 1]
    # 3×3 kernels with biases: encoder 1→32→16→8, decoder 8→16→32→1
    conv = lambda a, b: 9 * a * b + b
    assert encoder.count_params() == conv(1, 32) + conv(32, 16) + conv(16, 8)
    assert decoder.count_params() == conv(8, 16) + conv(16, 32) + conv(32, 1)


def test_conv_autoencoder_widths_are_a_keyword():
    """Does filters=(64, 32, 16) give the improved model with a 7×7×16 code?"""
    _, encoder, decoder = models.conv_autoencoder((64, 32, 16))
    assert encoder.output_shape == (None, 7, 7, 16)
    assert decoder.get_layer("dec_conv2").filters == 64


def test_conv_autoencoder_outputs_probabilities():
    """Does the sigmoid keep every reconstructed pixel in [0, 1]?"""
    autoencoder, _, _ = models.conv_autoencoder((4, 4, 2))
    out = np.asarray(autoencoder(np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32) * 40))
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("settings, message", [
    ({"filters": (32, 16)}, "three encoder convolutions"),
    ({"input_shape": (30, 30, 1)}, "divisible by 4"),
])
def test_conv_autoencoder_refuses_impossible_settings(settings, message):
    """Are a wrong number of widths and images that two poolings cannot halve refused with a reason?"""
    with pytest.raises(ValueError, match=message):
        models.conv_autoencoder(**settings)


def test_cnn_classifier_is_conv32_pool_conv64_pool_dense128():
    """Is the default CNN the lab's scratch model, 421,642 parameters ending in 10 probabilities?"""
    cnn = models.cnn_classifier()
    assert cnn.output_shape == (None, 10)
    assert [cnn.get_layer(n).filters for n in ("conv1", "conv2")] == [32, 64]
    assert cnn.get_layer("dense").units == 128
    assert cnn.count_params() == (9 * 32 + 32) + (9 * 32 * 64 + 64) + (7 * 7 * 64 * 128 + 128) + (128 * 10 + 10)
    out = np.asarray(cnn(np.zeros((2, 28, 28, 1), dtype="float32")))
    assert np.allclose(out.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("builder", ["conv_bottleneck_autoencoder", "conv_denoiser", "conv_autoencoder",
                                     "cnn_classifier", "conv_dense_bottleneck"])
def test_conv_models_compute_in_bfloat16_but_keep_float32_weights_and_outputs(monkeypatch, builder):
    """With LABKIT_PRECISION=mixed_bfloat16, do hidden layers compute in bfloat16 while weights, codes and
    outputs stay float32, and is Keras's global policy left as it was for the student's own models?"""
    monkeypatch.setenv("LABKIT_PRECISION", "mixed_bfloat16")
    built = getattr(models, builder)()
    model = built[0] if isinstance(built, tuple) else built
    assert keras.config.dtype_policy().name == "float32"
    inner = [layer for layer in models.leaf_layers(model) if layer.weights]
    assert any(layer.compute_dtype == "bfloat16" for layer in inner)
    assert all(weight.dtype == "float32" for weight in model.weights)
    assert model.output.dtype == "float32"
    if isinstance(built, tuple):
        assert built[1].output.dtype == "float32"  # the code (Lab 3) or features, as the encoder gives them
    monkeypatch.setenv("LABKIT_PRECISION", "float32")
    built = getattr(models, builder)()
    model = built[0] if isinstance(built, tuple) else built
    assert {layer.compute_dtype for layer in models.leaf_layers(model) if layer.weights} == {"float32"}


@pytest.mark.parametrize("flags, expected", [("avx512f avx512_bf16 amx_tile amx_bf16", {"bfloat16", "float32"}),
                                             ("avx512f avx512_bf16", {"bfloat16", "float32"}),
                                             ("avx2 avx512f", {"float32"})])
def test_the_denoiser_computes_in_bfloat16_on_bfloat16_units(monkeypatch, cpu_flags, flags, expected):
    """Under LABKIT_PRECISION=auto, is Lab 2's denoiser bfloat16 (its output layer float32) on a CPU with bfloat16
    matrix or vector units, and float32 without them, as Lab 3's model is?"""
    cpu_flags(flags)
    monkeypatch.setenv("LABKIT_PRECISION", "auto")
    autoencoder, _, _ = models.conv_denoiser()
    assert {layer.compute_dtype for layer in models.leaf_layers(autoencoder) if layer.weights} == expected
    assert autoencoder.output.dtype == "float32"
    lab3, _, _ = models.conv_bottleneck_autoencoder()
    assert {layer.compute_dtype for layer in models.leaf_layers(lab3) if layer.weights} == expected


def test_multiply_adds_count_each_layers_arithmetic_by_hand():
    """Does the count add a Dense layer's inputs × units, a convolution's kernel × channels × filters at each
    output position and a transposed convolution's at each input position, through nested models?"""
    image = keras.Input(shape=(8, 8, 1))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same")(image)        # 3·3·1·4 at 4×4 outputs = 576
    x = keras.layers.Conv2DTranspose(2, 3, strides=2, padding="same")(x)   # 3·3·2·4 at 4×4 inputs = 1,152
    inner = keras.Model(image, x)
    outer_input = keras.Input(shape=(8, 8, 1))
    flat = keras.layers.Flatten()(inner(outer_input))                      # 8·8·2 = 128 numbers
    outer = keras.Model(outer_input, keras.layers.Dense(10)(flat))         # 128·10 = 1,280
    assert models.multiply_adds(inner) == 576 + 1152
    assert models.multiply_adds(outer) == 576 + 1152 + 1280


def test_lab1s_dense_autoencoder_costs_its_weights_in_multiply_adds():
    """A dense network does one multiply-add per weight for each image: 784·128 + 128·32 + 32·128 + 128·784."""
    autoencoder, _, _ = models.dense_autoencoder()
    assert models.multiply_adds(autoencoder) == 2 * (784 * 128 + 128 * 32)
