"""Lab 2's exercises: what is observed of each answer, and the one rule that judges it.

The self-checks (:mod:`labkit.labs.lab2.checks`) and the autograder (:mod:`labkit.labs.lab2.grading`)
both call these rules, on the same plain data (:class:`labkit.checks.Exercise`). The observers run in
the student's kernel and may import TensorFlow; the rules import NumPy only. The models are judged by
what they compute: a NumPy forward pass of the lab's architecture, with the student's own weights, must
give what the student's model gives on the grader's random probe.
"""

from __future__ import annotations

import json
import math

import numpy as np

from labkit import checks
from labkit.checks import Exercise, describe, layers_of, plain, problem
from labkit.labs.lab1.rules import compiled_rule, observe_compiled, observe_pipelines
from labkit.labs.lab2 import BATCH_SIZE, FILTERS, STRIDES

IMAGE = (28, 28, 1)
FEATURES = 7 * 7 * FILTERS[-1]
"""The encoder's feature vector: 7 × 7 maps of its last convolution's filters, flattened (6,272)."""
KERNEL = 3

TOLERANCE = {"float32": 1e-3, "16-bit": 5e-2}
"""How far a model's output may lie from the float64 NumPy forward pass of the same weights, as a share of the
range of the reference outputs. In float32 the kit's models stay within 2e-5 of it; a model whose layers compute
in bfloat16 (``mixed_bfloat16``, 8 significant bits) within 0.7 % (Lab 2's encoder, decoder and autoencoder on
eight seeds); a wrong architecture or activation is off by far more than 5 %."""


def make_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh inputs to apply the student's objects to: drawn at random for each grading run, and with a
    fixed seed by the self-checks."""
    first = int(rng.integers(0, 2**31 - 1))
    second = (first + int(rng.integers(1, 2**30))) % (2**31 - 1)
    codes = rng.random((6, FEATURES)) * (rng.random((6, FEATURES)) < 0.5)  # sparse and non-negative, like ReLU's
    return {"noise_images": rng.random((40, *IMAGE), dtype=np.float32),
            "noise_grey": np.full((40, *IMAGE), rng.uniform(0.4, 0.6), dtype=np.float32),
            "noise_factors": np.array([rng.uniform(0.05, 0.12), rng.uniform(0.3, 0.7)]),
            "noise_seeds": np.array([first, second], dtype=np.int64),
            "probe": rng.random((6, *IMAGE), dtype=np.float32),
            "codes": codes.astype(np.float32),
            "targets": rng.random((6, *IMAGE), dtype=np.float32),
            "projection": rng.uniform(-1, 1, math.prod(IMAGE))}


# --- Exercise 1: Gaussian noise ---------------------------------------------------------------------

NOISE_CALLS = {"grey": ("noise_grey", 0, 0), "again": ("noise_grey", 0, 0), "other_seed": ("noise_grey", 0, 1),
               "images": ("noise_images", 0, 0), "large": ("noise_images", 1, 0), "zero": ("noise_images", None, 0)}
"""Each call of ``add_noise`` the observer makes: (images, index of the factor or ``None`` for 0, index of the
seed). A grey image shows the noise itself; the same noise must then be what the other images got."""


def observe_noise(objects: dict, inputs: dict) -> dict:
    add_noise = objects.get("add_noise")
    if not callable(add_noise):
        return {"callable": False, "kind": describe(add_noise)}
    copies = {name: inputs[name].copy() for name in ("noise_grey", "noise_images")}
    factors, seeds = inputs["noise_factors"], inputs["noise_seeds"]
    observed = {"callable": True}
    for call, (images, factor, seed) in NOISE_CALLS.items():
        output = add_noise(copies[images], 0.0 if factor is None else float(factors[factor]), int(seeds[seed]))
        if type(output) is np.ndarray and output.dtype.kind in "biuf":
            observed[f"{call}.output"] = output
        else:
            observed[f"{call}.kind"] = describe(output)
    observed.update({f"{name}.after": copy for name, copy in copies.items()})
    return observed


def noise_rule(observed, inputs: dict, expected: dict) -> list[str]:
    if not observed.value("callable", bool):
        return [problem("add_noise", "a function", str(observed.value("kind", str)),
                        "Define it with def add_noise(images, factor, seed): ...")]
    grey, images = inputs["noise_grey"], inputs["noise_images"]
    small, large = (float(factor) for factor in inputs["noise_factors"])
    for name in ("noise_grey", "noise_images"):
        if not np.array_equal(observed.array(f"{name}.after", dtype=np.float32, shape=grey.shape), inputs[name]):
            return [problem("add_noise", "the input images left unchanged", "they were modified in place",
                            "Build a new array: noisy = images + factor * ..., not images += ...")]
    outputs = {}
    for call in NOISE_CALLS:
        if not observed.has(f"{call}.output"):
            return [problem("add_noise(images, factor, seed)", "a NumPy array of numbers",
                            str(observed.value(f"{call}.kind", str)), "Return the noisy images.")]
        output = observed.array(f"{call}.output")
        if output.shape != grey.shape:
            return [problem("the noisy images' shape", f"the input's shape {grey.shape}", str(output.shape),
                            "Draw one noise value per pixel: rng.standard_normal(images.shape).")]
        if output.dtype != np.float32:
            return [problem("the noisy images' dtype", "float32 (what Keras trains on)", str(output.dtype),
                            "Convert the result with .astype('float32').")]
        if not np.isfinite(output).all():
            return [problem("the noisy images", "finite values", "NaN or infinite values")]
        outputs[call] = output.astype(np.float64)
    lowest, highest = min(o.min() for o in outputs.values()), max(o.max() for o in outputs.values())
    if lowest < 0 or highest > 1:
        return [problem("the noisy pixels", "values clipped to [0, 1]", f"values from {lowest:.2f} to {highest:.2f}",
                        "Clip the result: np.clip(noisy, 0.0, 1.0).")]
    if np.array_equal(outputs["grey"], grey) and np.array_equal(outputs["images"], images):
        return [problem(f"add_noise(images, {small:.3f}, seed)", "a different random value added to every pixel",
                        "no noise: the images unchanged", "Add factor * rng.standard_normal(images.shape).")]
    if not np.array_equal(outputs["grey"], outputs["again"]):
        return [problem("two calls with the same seed", "the same noisy images", "different ones",
                        "Make a generator from the seed inside the function: rng = np.random.default_rng(seed).")]
    if np.array_equal(outputs["grey"], outputs["other_seed"]):
        return [problem("two calls with different seeds", "different noise", "the same noise",
                        "Pass the seed to np.random.default_rng(seed) rather than a fixed number.")]
    return _noise_problems(outputs, grey.astype(np.float64), images.astype(np.float64), small, large)


def _noise_problems(outputs: dict, grey: np.ndarray, images: np.ndarray, small: float, large: float) -> list[str]:
    """The noise ``add_noise`` put on a grey image, measured in units of ``small`` (its factor): it must be
    N(0, 1) per pixel, and exactly what the other images got, scaled by their factor and clipped."""
    unclipped = (outputs["grey"] > 0) & (outputs["grey"] < 1)
    what = f"the noise at factor {small:.3f}"
    if unclipped.mean() < 0.99:
        return [problem(what, f"a standard deviation of {small:.3f}",
                        f"noise that pushed {1 - unclipped.mean():.0%} of a grey image's pixels to 0 or 1",
                        "Multiply N(0, 1) noise by factor, and add it to the pixels once.")]
    noise = (outputs["grey"] - grey) / small
    n = len(noise)
    if noise.reshape(n, -1).std(axis=1).mean() < 1e-3:
        return [problem(what, "a different random value for every pixel", "one value per image",
                        "Draw noise of the images' shape, e.g. rng.standard_normal(images.shape).")]
    if noise.reshape(n, -1).std(axis=0).mean() < 1e-3:
        return [problem(what, "independent noise for every image", "the same noise pattern on every image",
                        "Draw noise of the whole batch's shape, images.shape, not of one image's.")]
    values = noise[unclipped]
    spread, centre = float(values.std()), float(values.mean())
    kurtosis = float(np.mean(((values - centre) / spread) ** 4))
    if abs(spread - small) < 0.1 * small:
        return [problem(f"the noise's standard deviation at factor {small:.3f}", f"{small:.3f}",
                        f"{spread * small:.4f}, the factor squared", "The factor is the standard deviation: "
                        "multiply N(0, 1) noise by factor (not factor ** 2).")]
    uniform = abs(spread - 1 / np.sqrt(3)) < 0.05
    if uniform or kurtosis < 2.4:
        found = (f"a standard deviation of {spread * small:.3f}, as uniform noise in [-{small:.3f}, {small:.3f}] "
                 "gives" if uniform else f"a flat, uniform-like distribution (kurtosis {kurtosis:.2f}, not 3)")
        return [problem(f"the noise's distribution at factor {small:.3f}",
                        f"Gaussian, with standard deviation {small:.3f}", found,
                        "Draw from a normal distribution (rng.normal or rng.standard_normal), not a uniform one.")]
    for call, factor in (("zero", 0.0), ("images", small), ("large", large)):
        wanted = np.clip(images + factor * noise, 0.0, 1.0)
        if not np.allclose(outputs[call][unclipped], wanted[unclipped], rtol=0, atol=1e-5):
            return [problem(f"add_noise(images, {factor:.3g}, seed)",
                            "the images unchanged" if factor == 0 else "np.clip(images + factor * noise, 0, 1), "
                            "with the noise the same seed puts on a grey image", "other values",
                            "Add factor times the noise to the pixels (not a multiple of them) and clip the sum to "
                            "[0, 1]; nothing else may change them (no rescaling).")]
    if not 0.95 < spread < 1.05 or abs(centre) > 0.05:
        return [problem(what, f"mean 0 and standard deviation {small:.3f}",
                        f"mean {centre * small:.3f} and standard deviation {spread * small:.3f}",
                        "Add factor * rng.standard_normal(images.shape): mean 0, standard deviation factor.")]
    return []


NOISE = Exercise("L2-noise", ("add_noise",), observe_noise, noise_rule,
                 "add_noise: Gaussian noise of standard deviation factor, clipped to [0, 1], seeded, input untouched.")


# --- Exercises 2 and 3: the encoder and the decoder -----------------------------------------------------

_SETTINGS = ("filters", "kernel_size", "strides", "padding", "activation", "target_shape", "use_bias")


def describe_model(model) -> dict:
    """A Keras model as plain data: shapes, output dtypes, each layer's class and settings (sub-models' layers
    included), and the dtypes its weighted layers compute in."""
    found = []
    for layer in layers_of(model, object):
        try:
            config = layer.get_config()
        except Exception:  # noqa: BLE001 - a layer with a lambda activation has no config
            config = {}
        found.append({"class": type(layer).__name__,
                      **{key: plain(config[key]) for key in _SETTINGS if key in config}})
    inputs, outputs = getattr(model, "inputs", None) or [], getattr(model, "outputs", None) or []
    return {"inputs": [list(tensor.shape) for tensor in inputs],
            "outputs": [list(tensor.shape) for tensor in outputs],
            "output_dtypes": [str(getattr(tensor, "dtype", "?")) for tensor in outputs],
            "compute_dtypes": sorted({str(layer.compute_dtype) for layer in layers_of(model, object)
                                      if layer.weights and not hasattr(layer, "layers")}),
            "layers": found}


def observe_model(name: str, model, probe: np.ndarray) -> dict:
    """A model's description, weights (``name.w0``, ...) and its output on ``probe``, or what it is instead."""
    return checks.observe_model(name, model, probe, describe_model)


def conv2d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """Keras's ``Conv2D(padding="same")`` on (n, height, width, channels) maps; ``kernel`` is (k, k, in, out)."""
    _, height, width, _ = x.shape
    k = kernel.shape[0]
    out_height, out_width = -(-height // stride), -(-width // stride)
    pad_h, pad_w = max((out_height - 1) * stride + k - height, 0), max((out_width - 1) * stride + k - width, 0)
    padded = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    out = np.zeros((len(x), out_height, out_width, kernel.shape[3]))
    for i in range(k):
        for j in range(k):
            out += padded[:, i:i + stride * (out_height - 1) + 1:stride,
                          j:j + stride * (out_width - 1) + 1:stride, :] @ kernel[i, j]
    return out + bias


def conv2d_transpose(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """Keras's ``Conv2DTranspose(padding="same")``: ``kernel`` is (k, k, out, in); the maps grow ``stride`` times."""
    _, height, width, _ = x.shape
    k = kernel.shape[0]
    out_height, out_width = height * stride, width * stride
    full = np.zeros((len(x), (height - 1) * stride + k, (width - 1) * stride + k, kernel.shape[2]))
    for i in range(k):
        for j in range(k):
            full[:, i:i + stride * (height - 1) + 1:stride, j:j + stride * (width - 1) + 1:stride, :] += \
                x @ kernel[i, j].T
    top, left = max((height - 1) * stride + k - out_height, 0) // 2, max((width - 1) * stride + k - out_width, 0) // 2
    return full[:, top:top + out_height, left:left + out_width, :] + bias


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def encoder_shapes(filters: tuple[int, ...] = FILTERS) -> list[tuple[int, ...]]:
    """The weights of the lab's encoder: a 3×3 kernel and a bias per convolution."""
    shapes, channels = [], IMAGE[-1]
    for units in filters:
        shapes += [(KERNEL, KERNEL, channels, units), (units,)]
        channels = units
    return shapes


def decoder_shapes(channels: int = FILTERS[-1]) -> list[tuple[int, ...]]:
    """The weights of the lab's decoder: Conv2DTranspose 64 and 32 (kernels (3, 3, out, in)), then Conv2D 1."""
    shapes = []
    for units in FILTERS[-2::-1]:
        shapes += [(KERNEL, KERNEL, units, channels), (units,)]
        channels = units
    return shapes + [(KERNEL, KERNEL, channels, IMAGE[-1]), (IMAGE[-1],)]


def encoder_forward(images: np.ndarray, weights: list[np.ndarray], strides: tuple[int, ...] = STRIDES) -> np.ndarray:
    """What the lab's encoder computes with ``weights``: ReLU convolutions, 'same' padding, then Flatten."""
    x = images.astype(np.float64)
    for kernel, bias, stride in zip(weights[::2], weights[1::2], strides):
        x = _relu(conv2d(x, kernel, bias, stride))
    return x.reshape(len(x), -1)


def decoder_forward(features: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """What the lab's decoder computes with ``weights``: Reshape to 7×7 maps, ReLU Conv2DTranspose layers of
    stride 2, then a sigmoid Conv2D to one channel."""
    x = features.astype(np.float64).reshape(len(features), 7, 7, -1)
    for kernel, bias in zip(weights[:-2:2], weights[1:-2:2]):
        x = _relu(conv2d_transpose(x, kernel, bias, 2))
    return _sigmoid(conv2d(x, weights[-2], weights[-1], 1))


def _shape(shapes) -> str:
    if isinstance(shapes, list) and len(shapes) == 1 and isinstance(shapes[0], list):
        return "(" + ", ".join("None" if s is None else str(s) for s in shapes[0]) + ")"
    return json.dumps(shapes)[:80]


def _tolerance(description: dict) -> float:
    """The share of the outputs' range a model may be off by, from the dtypes its layers compute in."""
    dtypes = description.get("compute_dtypes")
    half = isinstance(dtypes, list) and any(dtype in ("bfloat16", "float16") for dtype in dtypes)
    return TOLERANCE["16-bit" if half else "float32"]


def _layers(description: dict, *classes: str) -> list[dict]:
    layers = description.get("layers")
    return [layer for layer in layers if isinstance(layer, dict) and layer.get("class") in classes] \
        if isinstance(layers, list) else []


def model_problems(observed, name: str, *, inputs: tuple, outputs: tuple, last_layer: str, shapes: list[tuple],
                   forward, probe: np.ndarray, layers: str, explain, weights_hint: str = "") -> list[str]:
    """The problems of the model ``name``: its shapes and output dtype, its weights' shapes, then what it computes
    on ``probe`` against ``forward(probe, weights)``; ``explain(description)`` words a wrong computation."""
    if observed.has(f"{name}.kind"):
        return [problem(f"the {name}", "a keras.Model", str(observed.value(f"{name}.kind", str)),
                        "Build it with keras.Model(inputs, outputs, name=...).")]
    description = observed.value(f"{name}.model", dict)
    wanted_in, wanted_out = [[None, *inputs]], [[None, *outputs]]
    if description.get("inputs") != wanted_in:
        return [problem(f"the {name}'s input shape", _shape(wanted_in), _shape(description.get("inputs")),
                        f"Start with keras.Input(shape={tuple(inputs)}).")]
    if description.get("outputs") != wanted_out:
        return [explain_shape(name, description.get("outputs"), outputs)]
    dtypes = description.get("output_dtypes")
    if dtypes != ["float32"]:
        found = ", ".join(map(str, dtypes)) if isinstance(dtypes, list) else "?"
        return [problem(f"the {name}'s output dtype", "float32", found,
                        "This notebook computes in mixed precision (see Setup), so give the last layer "
                        f'dtype="float32": {last_layer}.')]
    count = observed.value(f"{name}.weights", int)
    weights = [observed.array(f"{name}.w{index}") for index in range(min(count, len(shapes) + 2))]
    if count != len(shapes) or [w.shape for w in weights] != shapes:
        params = observed.value(f"{name}.params", int)
        wanted = sum(math.prod(shape) for shape in shapes)
        found = f"{params:,} parameters"
        if params == wanted:
            kernels = [shape for shape in shapes if len(shape) == 4]
            found += f", but kernels of shapes {[w.shape for w in weights if w.ndim == 4]}, not {kernels}"
        return [problem(f"the {name}'s weights", f"{wanted:,} parameters ({layers})", found,
                        "Use 3×3 kernels (kernel_size=3), the filters asked for, and no extra layers; "
                        "model.summary() lists them." + (f" {weights_hint}" if weights_hint else ""))]
    if observed.has(f"{name}.prediction_error"):
        return [f"the {name} could not be applied to a batch: {observed.value(f'{name}.prediction_error', str)}"]
    prediction = observed.array(f"{name}.prediction", shape=(len(probe), *outputs))
    reference = forward(probe, weights).reshape(prediction.shape)
    scale = max(float(reference.max() - reference.min()), 1e-6)
    if not np.abs(prediction - reference).max() <= _tolerance(description) * scale:
        return [explain(description)]
    return []


def explain_shape(name: str, found, outputs: tuple) -> str:
    if name == "encoder" and found == [[None, 7, 7, FILTERS[-1]]]:
        return problem("the encoder's output shape", f"(None, {FEATURES}): one feature vector per image",
                       _shape(found), "End the encoder with layers.Flatten().")
    hint = ("Use padding='same' in every convolution, strides=2 in the second and third, so that the maps go "
            "28 → 14 → 7." if name == "encoder" else "Use padding='same' in every layer, and strides=2 in both "
            "Conv2DTranspose layers, so that the maps go 7 → 14 → 28.")
    return problem(f"the {name}'s output shape", _shape([[None, *outputs]]), _shape(found), hint)


def _explain_encoder(strides: tuple[int, ...]):
    def explain(description: dict) -> str:
        convs = _layers(description, "Conv2D")
        found = [layer.get("strides") for layer in convs]
        if len(convs) == len(strides) and found != [[s, s] for s in strides]:
            return problem("the convolutions' strides",
                           f"{list(strides)} (the last two halve the maps: 28 → 14 → 7)",
                           str([s[0] if isinstance(s, list) and s else s for s in found]),
                           "Pass strides=2 to the second and third Conv2D only.")
        activations = [layer.get("activation") for layer in convs]
        return problem("the encoder's outputs", "those of ReLU convolutions with its own weights",
                       f"other values (activations {activations})",
                       'Give every Conv2D activation="relu", and nothing between the last one and Flatten.')
    return explain


def _explain_decoder(description: dict) -> str:
    activations = [layer.get("activation") for layer in _layers(description, "Conv2D", "Conv2DTranspose")]
    if activations and activations[-1] != "sigmoid":
        return problem("the output activation", "sigmoid", str(activations[-1]),
                       "Pixels lie in [0, 1] and binary cross-entropy needs probabilities: use sigmoid.")
    return problem("the decoder's outputs", "those of Reshape (7, 7, 128), Conv2DTranspose 64 and 32 (ReLU, "
                   "stride 2), Conv2D 1 (sigmoid) with its own weights", f"other values (activations {activations})",
                   "Check the Reshape's target shape (7, 7, 128) and each layer's activation.")


def observe_encoder(objects: dict, inputs: dict) -> dict:
    return observe_model("encoder", objects.get("encoder"), inputs["probe"])


def encoder_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: ``filters`` and ``strides`` (default: the lab's 32, 64, 128 and 1, 2, 2)."""
    filters, strides = tuple(expected.get("filters", FILTERS)), tuple(expected.get("strides", STRIDES))
    size = IMAGE[0] // math.prod(strides)
    return model_problems(observed, "encoder", inputs=IMAGE, outputs=(size * size * filters[-1],),
                          last_layer='layers.Flatten(dtype="float32")', shapes=encoder_shapes(filters),
                          forward=lambda x, weights: encoder_forward(x, weights, strides), probe=inputs["probe"],
                          layers=f"Conv2D {', '.join(map(str, filters))}, 3×3", explain=_explain_encoder(strides))


ENCODER = Exercise("L2-encoder", ("encoder",), observe_encoder, encoder_rule,
                   "encoder: 32 → 64 → 128 filters, strides [1, 2, 2], 6,272 features per image.")


def observe_decoder(objects: dict, inputs: dict) -> dict:
    return observe_model("decoder", objects.get("decoder"), inputs["codes"])


def decoder_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: ``features``, the size of the vectors it decodes (default 6,272 = 7 × 7 × 128)."""
    features = int(expected.get("features", FEATURES))
    codes = np.resize(inputs["codes"], (len(inputs["codes"]), features))
    return model_problems(observed, "decoder", inputs=(features,), outputs=IMAGE,
                          last_layer='layers.Conv2D(1, 3, ..., dtype="float32")',
                          shapes=decoder_shapes(features // 49), forward=decoder_forward, probe=codes,
                          layers="Conv2DTranspose 64 and 32, Conv2D 1, 3×3", explain=_explain_decoder,
                          weights_hint="Enlarge the maps with Conv2DTranspose(filters, 3, strides=2, padding='same'), "
                                       "not UpSampling2D and Conv2D.")


DECODER = Exercise("L2-decoder", ("decoder",), observe_decoder, decoder_rule,
                   "decoder: 6,272 → 7×7×128 → 14×14×64 → 28×28×32 → 28×28×1, sigmoid output.")


def observe_denoiser(objects: dict, inputs: dict) -> dict:
    return observe_model("autoencoder", objects.get("autoencoder"), inputs["probe"])


def denoiser_rule(observed, inputs: dict, expected: dict) -> list[str]:
    def explain(description: dict) -> str:
        return problem("autoencoder(x)", "decoder(encoder(x)) with its own weights", "other values",
                       "Feed the encoder's output into the decoder: decoder(encoder(image)).")

    def forward(images: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
        split = len(encoder_shapes())
        return decoder_forward(encoder_forward(images, weights[:split]), weights[split:])

    if observed.has("autoencoder.model"):
        found = observed.value("autoencoder.model", dict)
        if found.get("inputs") != [[None, *IMAGE]] or found.get("outputs") != [[None, *IMAGE]]:
            return [problem("the autoencoder's shapes", "(None, 28, 28, 1) → (None, 28, 28, 1)",
                            f"{_shape(found.get('inputs'))} → {_shape(found.get('outputs'))}",
                            "Feed the encoder's output into the decoder: decoder(encoder(image)).")]
    return model_problems(observed, "autoencoder", inputs=IMAGE, outputs=IMAGE,
                          last_layer='the decoder\'s layers.Conv2D(1, 3, ..., dtype="float32")',
                          shapes=encoder_shapes() + decoder_shapes(), forward=forward, probe=inputs["probe"],
                          layers="the encoder's and the decoder's", explain=explain)


# Not graded: the self-check after Step 3 (check_denoiser), on the model the notebook composes from the encoder
# and the decoder of exercises 2 and 3.
DENOISER = Exercise("L2-denoiser", ("autoencoder",), observe_denoiser, denoiser_rule,
                    "denoising autoencoder: decoder(encoder(image)), 185,217 parameters.")


# --- Exercise 4: (noisy, clean) pairs and the compiled model ----------------------------------------

PAIR_NAMES = ("train_ds", "val_ds")


def observe_train_pairs(objects: dict, inputs: dict) -> dict:
    """Each dataset as Lab 1's pipelines are observed (two passes, a random projection of every input and target),
    and the model's optimizer and loss on the grader's batch as Lab 1's compile is."""
    observed = observe_pipelines({name: objects[name] for name in PAIR_NAMES if name in objects}, inputs)
    if "autoencoder" in objects:
        observed.update(observe_compiled({"autoencoder": objects["autoencoder"]}, inputs))
    return observed


def train_pairs_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: ``datasets``, ``{name: {"inputs": noisy, "targets": clean, "shuffled": bool, "batch_size": int}}``,
    and ``compiled``, what Lab 1's compile rule expects, when the model is judged too."""
    problems = []
    for name, wanted in expected.get("datasets", {}).items():
        problems += [f"{name}: {found}" for found in _pairs_problems(observed, name, wanted, inputs)]
    if "compiled" in expected:
        problems += compiled_rule(observed, inputs, expected["compiled"])
    return problems


def _projected(images: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """Each image's dot product with ``projection`` in float64, computed in chunks (60,000 images fit)."""
    flat = images.reshape(len(images), -1)
    return np.concatenate([flat[start:start + 4096].astype(np.float64) @ projection
                           for start in range(0, len(flat), 4096)])


def _find(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """For each value, the index of the equal key (to 1e-6), or -1."""
    order = np.argsort(keys)
    at = order[np.clip(np.searchsorted(keys[order], values), 0, len(keys) - 1)]
    below = order[np.clip(np.searchsorted(keys[order], values) - 1, 0, len(keys) - 1)]
    at = np.where(np.abs(keys[below] - values) < np.abs(keys[at] - values), below, at)
    return np.where(np.isclose(keys[at], values, rtol=0, atol=1e-6), at, -1)


def _pairs_problems(observed, name: str, wanted: dict, inputs: dict) -> list[str]:
    noisy, clean = wanted["inputs"], wanted["targets"]
    shuffled, batch_size = wanted["shuffled"], wanted.get("batch_size", BATCH_SIZE)
    if observed.has(f"{name}.kind"):
        return [problem("the pipeline", "a tf.data.Dataset", str(observed.value(f"{name}.kind", str)),
                        "Build it with data.pipeline(noisy, clean, batch_size=...).")]
    spec = observed.value(f"{name}.element_spec")
    shape = list(clean.shape[1:])
    if not (isinstance(spec, list) and len(spec) == 2 and all(isinstance(part, dict) for part in spec)):
        return [problem("its elements", "(input, target) pairs of tensors", json.dumps(spec)[:120],
                        "Build it from (noisy, clean): data.pipeline(noisy, clean, batch_size=...).")]
    for part, found in zip(("input", "target"), spec):
        if found != {"shape": [None, *shape], "dtype": "float32"}:
            hint = ("Use preprocess(..., flatten=False) images and batch them once." if found.get("shape") != [
                batch_size, *shape] else "Batch without drop_remainder=True: every image must be seen.")
            return [problem(f"the {part} batches", f"float32 of shape (batch, {', '.join(map(str, shape))})",
                            json.dumps(found)[:120], hint)]
    n = len(clean)
    sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    passes = observed.value(f"{name}.batches", list)
    if len(passes) != 2 or not all(isinstance(one, list) for one in passes):
        raise ValueError("batches")
    if passes[0] != sizes:
        shown = passes[0][:3] + (["..."] if len(passes[0]) > 3 else [])
        return [problem("one pass", f"{len(sizes)} batches of {batch_size} pairs (the last one {sizes[-1]})",
                        f"{len(passes[0])} batches of {shown}", f"Use batch_size={batch_size}.")]
    projection = inputs["projection"]
    keys = {"noisy": _projected(noisy, projection), "clean": _projected(clean, projection)}
    orders = []
    for number in range(2):
        x = observed.array(f"{name}.x{number}", dtype=np.float64, shape=(n,))
        y = observed.array(f"{name}.y{number}", dtype=np.float64, shape=(n,))
        x_at, y_at = _find(x, keys["noisy"]), _find(y, keys["clean"])
        if (y_at < 0).any():
            swapped = (_find(y, keys["noisy"]) >= 0).all()
            return [problem("the targets", "the clean images", "the noisy images" if swapped else "images that are "
                            "not the clean ones given", "A denoiser learns noisy → clean: pass the noisy images as "
                            "inputs and the clean images as targets.")]
        if (x_at < 0).any():
            return [problem("the inputs", "the noisy images", "clean images" if (_find(x, keys["clean"]) >= 0).all()
                            else "images that are not the noisy ones given", "Feed the noisy images to the model.")]
        if not np.array_equal(x_at, y_at):
            return [problem("each (input, target) pair", "a noisy image with its own clean original",
                            "noisy and clean images of different digits",
                            "Shuffle the pairs together: build one dataset from (noisy, clean), not two shuffled "
                            "ones.")]
        if not np.array_equal(np.sort(x_at), np.arange(n)):
            return [problem("one pass", "every pair of the data exactly once", "some pairs missing or repeated",
                            "Build it from the whole arrays, and batch them once.")]
        orders.append(x_at)
    in_order = np.mean(orders[0] == np.arange(n))
    if shuffled and in_order > 0.5:
        return [problem("the training batches", "shuffled pairs", "the pairs in their stored order",
                        "Use shuffle=True (data.pipeline's default) for the training data.")]
    if shuffled and np.mean(orders[0] == orders[1]) > 0.5:
        return [problem("two passes over the training data", "a new order each pass", "the same order every pass",
                        "Shuffle with reshuffle_each_iteration on (data.pipeline does).")]
    if not shuffled and not (in_order == 1 and np.array_equal(orders[0], orders[1])):
        return [problem("the validation batches", "the pairs in their stored order", "a different order",
                        "Pass shuffle=False for the validation data.")]
    return []


TRAIN_PAIRS = Exercise("L2-train-pairs", (*PAIR_NAMES, "autoencoder"), observe_train_pairs, train_pairs_rule,
                       "training set-up: (noisy, clean) pairs in batches, training shuffled anew each pass, "
                       "validation in order; compiled with Adam and binary cross-entropy.")

EXERCISES = (NOISE, ENCODER, DECODER, TRAIN_PAIRS)
