"""Lab 3's exercises: what is observed of each answer, and the one rule that judges it.

The self-checks (:mod:`labkit.labs.lab3.checks`) and the autograder (:mod:`labkit.labs.lab3.grading`)
both call these rules, on the same plain data (:class:`labkit.checks.Exercise`). Every answer is judged by
what it computes on inputs drawn afresh for each grading run (:func:`make_inputs`), against the value the
rule computes itself. The observers run in the student's kernel and may import TensorFlow; the rules import
NumPy only, except the encoder's, which rebuilds the lab's reference encoder with Keras when it runs.
"""

from __future__ import annotations

import contextlib
import json
import math

import numpy as np

from labkit.checks import Exercise, describe, digit_like_images, layers_of, not_a_function, numbers_of, plain, problem
from labkit.labs.lab3 import FALSE_ALARM_RATE, LATENT, PIXELS

IMAGE_SHAPE = (28, 28, 1)
PROBE_CLASSES = 10
"""The probe's toy data has as many clusters as MNIST has digits, in codes of ``LATENT`` numbers."""
NOT_DIVIDING = [k for k in range(3, 33) if PIXELS % k]
"""Code sizes that do not divide 784: integer division gives itself away on them."""


def make_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh inputs to apply the student's objects to: drawn at random for each grading run, and with a
    fixed seed by the self-checks."""
    return {**_ratio_inputs(rng), **_encoder_inputs(rng), **_probe_inputs(rng), **_score_inputs(rng),
            **_threshold_inputs(rng)}


def _number(value) -> dict:
    """A returned number as plain data: ``{"kind": "float" or "int", "value": ...}``, or what it is instead."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return {"kind": describe(value)}
    number = float(value)
    kind = "float" if isinstance(value, (float, np.floating)) else "int"
    return {"kind": kind, "value": number} if math.isfinite(number) else {"kind": kind, "text": repr(number)}



def _as_number(record) -> tuple[float | None, str]:
    """A number recorded by :func:`_number`, read back: ``(value, kind)``; ``value`` is ``None`` when the
    answer gave no finite number (``kind`` then says what it gave)."""
    if not isinstance(record, dict):
        raise ValueError("a result was not recorded as a number")
    kind, value = str(record.get("kind", "?"))[:200], record.get("value")
    if kind in ("float", "int") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), kind
    return None, f"{kind} {str(record.get('text', ''))[:20]}".strip()


def _recorded_numbers(observed, name: str, count: int) -> list[tuple[float | None, str]]:
    records = observed.value(name, list)
    if len(records) != count:
        raise ValueError(f"{name} should hold {count} results")
    return [_as_number(record) for record in records]



# --- Exercise 1: the compression ratio ------------------------------------------------------------------

def _ratio_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    latents = np.array([LATENT, 2, rng.choice(NOT_DIVIDING), rng.integers(1, 129)], dtype=np.int64)
    dims = rng.integers(PIXELS + 1, 4 * PIXELS, size=len(latents)).astype(np.int64)
    while dims[2] % latents[2] == 0:
        dims[2] += 1
    return {"ratio_latents": latents, "ratio_dims": dims}


def observe_ratio(objects: dict, inputs: dict) -> dict:
    """``compression_ratio(latent)`` and ``compression_ratio(latent, input_dim=d)`` on the drawn sizes."""
    compression_ratio = objects.get("compression_ratio")
    if not callable(compression_ratio):
        return {"callable": False, "kind": describe(compression_ratio)}
    latents, dims = (inputs["ratio_latents"].tolist(), inputs["ratio_dims"].tolist())
    return {"callable": True,
            "default": [_number(compression_ratio(latent)) for latent in latents],
            "given": [_number(compression_ratio(latent, input_dim=dim)) for latent, dim in zip(latents, dims)]}


def ratio_rule(observed, inputs: dict, expected: dict) -> list[str]:
    failed = not_a_function(observed, "compression_ratio", "compression_ratio(latent, input_dim=784)")
    if failed:
        return failed
    latents, dims = inputs["ratio_latents"].tolist(), inputs["ratio_dims"].tolist()
    calls = [(f"compression_ratio({latent})", latent, PIXELS, record)
             for latent, record in zip(latents, _recorded_numbers(observed, "default", len(latents)))]
    calls += [(f"compression_ratio({latent}, input_dim={dim})", latent, dim, record)
              for latent, dim, record in zip(latents, dims, _recorded_numbers(observed, "given", len(latents)))]
    for call, latent, dim, (value, kind) in calls:
        wanted = dim / latent
        if value is None:
            return [problem(call, f"a number, {wanted:g} ({dim} input numbers per code number)", kind,
                            "Return input_dim / latent.")]
        if math.isclose(value, wanted, rel_tol=1e-9):
            continue
        if value in (dim // latent, round(wanted)):
            hint = (f"Use true division (/) and keep the result as it is, neither integer division (//) nor "
                    f"rounded: {dim} / {latent} is not a whole number.")
        elif math.isclose(value, latent / dim, rel_tol=1e-9):
            hint = "That is the ratio the other way round: divide the input's size by the code's size."
        elif dim != PIXELS and math.isclose(value, PIXELS / latent, rel_tol=1e-9):
            hint = f"Divide input_dim, the argument, not {PIXELS}: the function must work for any input size."
        else:
            hint = "Divide the input's size (input_dim) by the size of the code (latent)."
        return [problem(call, f"{wanted:.6g} ({dim} input numbers per code number)", f"{value:.6g}", hint)]
    if any(kind == "int" for *_, (_, kind) in calls):
        return [problem("compression_ratio's result", "a float", "an int",
                        "Return input_dim / latent as it is: / always gives a float.")]
    return []


RATIO = Exercise("L3-ratio", ("compression_ratio",), observe_ratio, ratio_rule,
                 "compression_ratio: input_dim / latent as a float (784 / 16 = 49, 784 / 2 = 392).")


# --- Exercise 2: the convolutional encoder with a dense linear code -------------------------------------

MAX_EXPORTED_PARAMS = 20_000_000
"""An encoder with more parameters than this is described, not exported (the lab's has about 2.3 million)."""
LAYER_SETTINGS = ("filters", "kernel_size", "strides", "padding", "units", "activation", "use_bias")
SIXTEEN_BIT = ("mixed_bfloat16", "mixed_float16", "bfloat16", "float16")
POLICIES = ("float32", "float64", *SIXTEEN_BIT)
TOLERANCE = {"float": 1e-3, "16-bit": 2e-2}
"""How far the student's codes may lie from the reference's, relative to the codes' size. Rebuilt under the
student's own precision, the reference computes the very same codes (measured: no difference at all, in float32
and in mixed bfloat16); the tolerance covers a layer whose precision differs from the rest, which the rebuild
does not copy (measured: 0.6 % of the codes' size for a whole float32 reference against a bfloat16 encoder). The
mistakes differ by 15-20 % or more (batch normalisation after the ReLU, pooling instead of strides)."""


def _encoder_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"encoder_probe": rng.random((8, *IMAGE_SHAPE), dtype=np.float32),
            "encoder_statistics_seed": rng.integers(0, 2**31, size=1)}


def describe_model(model) -> dict:
    """A Keras model as plain data: its input and output shapes, and each layer's class, name, precision and
    settings (sub-models' layers included)."""
    import keras

    description: dict = {"class": type(model).__name__}
    try:
        description["inputs"] = [list(tensor.shape) for tensor in model.inputs]
        description["outputs"] = [list(tensor.shape) for tensor in model.outputs]
    except (AttributeError, TypeError, ValueError):
        description["inputs"] = description["outputs"] = None
    layers = []
    for layer in layers_of(model, keras.layers.Layer, exclude=(keras.Model, keras.layers.InputLayer)):
        try:
            config = layer.get_config()
        except Exception:  # noqa: BLE001 - a custom layer without a config is still described by its class
            config = {}
        policy = getattr(getattr(layer, "dtype_policy", None), "name", None)
        layers.append({"class": type(layer).__name__, "name": str(layer.name), "policy": policy,
                       **{key: plain(config[key]) for key in LAYER_SETTINGS if key in config}})
    description["layers"] = layers
    return description


def drawn_statistics(model, rng: np.random.Generator) -> list[np.ndarray]:
    """Weights for ``model`` with each BatchNormalization layer's scale, offset, mean and variance drawn from
    ``rng`` and every other weight kept. Fresh statistics are the identity (mean 0, variance 1), which would
    hide where batch normalisation sits; drawn ones make it show in the codes."""
    import keras

    draw = {"gamma": lambda shape: rng.uniform(0.5, 1.5, shape), "beta": lambda shape: rng.normal(0, 0.5, shape),
            "moving_mean": lambda shape: rng.normal(0, 0.5, shape),
            "moving_variance": lambda shape: rng.uniform(0.5, 2.0, shape)}
    drawn = {}
    for layer in layers_of(model, keras.layers.BatchNormalization):
        for variable in layer.weights:
            name = str(variable.name).rsplit("/", 1)[-1]
            if name in draw:
                drawn[id(variable)] = draw[name](tuple(variable.shape)).astype(np.float32)
    return [drawn.get(id(variable), np.asarray(variable)) for variable in model.weights]


@contextlib.contextmanager
def weights_set(model, weights: list[np.ndarray]):
    """``model`` with ``weights`` for the time of the block, its own weights back afterwards."""
    own = model.get_weights()
    model.set_weights(weights)
    try:
        yield model
    finally:
        model.set_weights(own)


def observe_encoder(objects: dict, inputs: dict) -> dict:
    """The encoder's description, its weights (``w0``, ``w1``, ...: its own, with drawn batch-normalisation
    statistics) and its codes of the probe images computed with those weights, or what it is instead."""
    import keras

    encoder = objects.get("encoder")
    if not isinstance(encoder, keras.Model):
        return {"kind": describe(encoder)}
    observed = {"model": describe_model(encoder)}
    try:
        observed["params"] = int(encoder.count_params())
    except ValueError as error:  # a subclassed model never called has no weights yet
        observed["params_error"] = str(error)[:200]
        return observed
    if observed["params"] > MAX_EXPORTED_PARAMS:
        return observed
    rng = np.random.default_rng(int(inputs["encoder_statistics_seed"][0]))
    weights = drawn_statistics(encoder, rng)
    observed["weights"] = len(weights)
    for index, weight in enumerate(weights):
        observed[f"w{index}"] = np.asarray(weight, dtype=np.float32)
    try:
        with weights_set(encoder, weights):
            observed["codes"] = np.asarray(encoder(inputs["encoder_probe"], training=False), dtype=np.float32)
    except Exception as error:  # noqa: BLE001 - a model of the wrong shape cannot take the probe
        observed["codes_error"] = f"{type(error).__name__}: {str(error)[:200]}"
    return observed


def reference_encoder(latent: int = LATENT, *, policy: str | None = None, code_policy: str | None = None):
    """The lab's encoder, from the lab's own builder (``labkit.models.conv_bottleneck_autoencoder``); with
    ``policy``, rebuilt with every layer computing in that precision, and its code in ``code_policy``."""
    import keras

    from labkit import models

    encoder = models.conv_bottleneck_autoencoder(latent=latent)[1]
    if policy is None:
        return encoder

    def rebuilt(layer):
        config = layer.get_config()
        config["dtype"] = (code_policy or policy) if layer.name == "code" else policy
        return type(layer).from_config(config)

    return keras.models.clone_model(encoder, clone_function=rebuilt)


def _shape(shapes) -> str:
    if isinstance(shapes, list) and len(shapes) == 1 and isinstance(shapes[0], list):
        return "(" + ", ".join("None" if s is None else str(s) for s in shapes[0]) + ")"
    return json.dumps(shapes)[:80]


def _layers(description: dict, kind: str) -> list[dict]:
    layers = description.get("layers")
    if not isinstance(layers, list):
        raise ValueError("the encoder's layers were not described")
    return [layer for layer in layers if isinstance(layer, dict) and layer.get("class") == kind]


def _conv(layer: dict) -> str:
    strides = layer.get("strides")
    strides = strides[0] if isinstance(strides, list) and len(set(strides)) == 1 else strides
    return f"Conv2D({layer.get('filters')}, {_size(layer.get('kernel_size'))}, strides={strides}, " \
           f"padding='{layer.get('padding')}')"


def _size(value) -> str:
    return str(value[0]) if isinstance(value, list) and len(set(value)) == 1 else str(value)


def encoder_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: ``{"latent": code size}`` (default: the lab's ``LATENT``)."""
    latent = int(expected.get("latent", LATENT))
    if observed.has("kind"):
        return [problem("the encoder", "a keras.Model", str(observed.value("kind", str)),
                        "Build it with keras.Model(image, code, name='encoder').")]
    described = observed.value("model", dict)
    if described.get("inputs") != [[None, *IMAGE_SHAPE]]:
        return [problem("the encoder's input shape", "(None, 28, 28, 1): images, not flat vectors",
                        _shape(described.get("inputs")), "Start with keras.Input(shape=(28, 28, 1)).")]
    if described.get("outputs") != [[None, latent]]:
        return [problem("the encoder's output shape", f"(None, {latent}): the code",
                        _shape(described.get("outputs")), f"End with layers.Dense({latent}, name='code').")]
    codes = [layer for layer in described["layers"] if isinstance(layer, dict) and layer.get("name") == "code"]
    if not codes:
        return [problem("the code layer", "a Dense layer named 'code'", "no layer of that name",
                        "Give the last layer name='code' so the lab can find it.")]
    code = codes[0]
    if code.get("class") != "Dense" or code.get("units") != latent:
        return [problem("the 'code' layer", f"Dense({latent})", f"{code.get('class')}({code.get('units', '')})",
                        f"Make the code layers.Dense({latent}, name='code').")]
    if code.get("activation") not in ("linear", None):
        return [problem("the code's activation", "none (linear)", str(code.get("activation")),
                        "A ReLU code of size 2 can die: a unit that is negative for every image outputs 0 and "
                        "never learns again. Leave the code layer without an activation.")]
    policies = _policies(described)
    if not set(policies.values()) <= set(POLICIES):
        return [problem("the encoder's precision", f"one of {', '.join(POLICIES)}",
                        " and ".join(sorted({str(policy)[:40] for policy in policies.values()})),
                        "Build the encoder without a dtype policy of your own (float32), or in mixed_bfloat16.")]
    reference = reference_encoder(latent, **policies)
    wanted = describe_model(reference)
    found_convs, wanted_convs = _layers(described, "Conv2D"), _layers(wanted, "Conv2D")
    if [_conv(layer) for layer in found_convs] != [_conv(layer) for layer in wanted_convs]:
        return [problem("the convolutions", " then ".join(_conv(layer) for layer in wanted_convs),
                        " then ".join(_conv(layer) for layer in found_convs) or "none",
                        "Two convolutions of stride 2 with padding='same' halve the image twice "
                        "(28 → 14 → 7), without pooling layers.")]
    widths = [layer.get("units") for layer in _layers(wanted, "Dense")][:-1]
    found = [layer.get("units") for layer in _layers(described, "Dense") if layer is not code]
    if found != widths:
        return [problem("the Dense layers before the code", f"units {widths}", f"units {found}",
                        f"After Flatten: {', '.join(f'Dense({units})' for units in widths)}, each followed by "
                        "batch normalisation and ReLU, then the code.")]
    if observed.has("params_error"):
        return [problem("the encoder", "a model with its weights", "a model that has no weights yet",
                        "Build it with the functional API, from keras.Input(shape=(28, 28, 1)).")]
    shapes = [tuple(variable.shape) for variable in reference.weights]
    params = observed.value("params", int)
    count = observed.value("weights", int) if observed.has("weights") else -1
    weights = [observed.array(f"w{index}", dtype=np.float32) for index in range(min(count, len(shapes) + 1))]
    if params != reference.count_params():
        return [problem("the encoder's parameters", f"{reference.count_params():,}", f"{params:,}",
                        _parameter_hint(described, wanted))]
    if [w.shape for w in weights] != shapes:
        return [problem("the encoder's weights", "the shapes of the lab's encoder's weights, layer by layer",
                        "as many parameters in other shapes", _parameter_hint(described, wanted))]
    if observed.has("codes_error"):
        return [f"the encoder could not encode a batch of images: {observed.value('codes_error', str)}"]
    probe = inputs["encoder_probe"]
    codes = observed.array("codes", dtype=np.float32, shape=(len(probe), latent))
    reference.set_weights(weights)
    reference_codes = np.asarray(reference(probe, training=False), dtype=np.float32)
    scale = max(1.0, float(np.abs(reference_codes).max()))
    tolerance = TOLERANCE["16-bit" if set(policies.values()) & set(SIXTEEN_BIT) else "float"]
    difference = float(np.abs(codes - reference_codes).max()) if np.isfinite(codes).all() else math.inf
    if not difference <= tolerance * scale:
        return [problem("the encoder's codes", "the codes the lab's encoder computes with your encoder's own "
                        "weights (and drawn batch-normalisation statistics)",
                        f"codes that differ by up to {difference:.3g} (the codes reach {scale:.3g})",
                        "Check the order in each hidden layer: Conv2D or Dense without activation, then "
                        "BatchNormalization, then ReLU; and that nothing else changes the values on the way.")]
    return []


def _policies(described: dict) -> dict[str, str]:
    """The precision the encoder computes in (its first convolution's) and its code's, to rebuild the
    reference in."""
    layers = [layer for layer in described["layers"] if isinstance(layer, dict)]
    convs = [layer for layer in layers if layer.get("class") == "Conv2D"] or layers
    policy = convs[0].get("policy") if convs else "float32"
    code = next((layer.get("policy") for layer in layers if layer.get("name") == "code"), policy)
    return {"policy": policy, "code_policy": code}


def _parameter_hint(described: dict, wanted: dict) -> str:
    hidden = [layer for layer in described["layers"] if isinstance(layer, dict)
              and layer.get("class") in ("Conv2D", "Dense") and layer.get("name") != "code"]
    if len(_layers(described, "BatchNormalization")) < len(_layers(wanted, "BatchNormalization")):
        return ("Follow each convolution and each hidden Dense layer with BatchNormalization, then ReLU (and "
                "give those layers use_bias=False).")
    if any(layer.get("use_bias") for layer in hidden):
        return ("A layer followed by BatchNormalization needs no bias (the normalisation's offset replaces it): "
                "give each Conv2D and hidden Dense use_bias=False.")
    return "Compare with the lab's description layer by layer; encoder.summary() lists each layer's parameters."


def recipe(latent: int = LATENT) -> str:
    """The lab's encoder in one line, read from its builder: ``28×28 → 14×14×16 → ... → a linear code``."""
    import keras

    steps = ["28×28"]
    for layer in layers_of(reference_encoder(latent), (keras.layers.Conv2D, keras.layers.Dense)):
        shape = tuple(layer.output.shape[1:])
        steps.append("×".join(map(str, shape)) if len(shape) > 1 else str(shape[0]))
    return " → ".join(steps[:-1]) + f" → a linear code of {latent}"


ENCODER = Exercise("L3-encoder", ("encoder",), observe_encoder, encoder_rule,
                   "encoder: the lab's convolutions and Dense layers, batch normalisation after every hidden "
                   f"layer, a linear code of {LATENT}.")


# --- Exercise 3: the linear probe -----------------------------------------------------------------------

PROBE_CASES = ("noisy", "relabelled", "xor")
"""The probe's three toy data sets: test labels partly changed; every test label changed; and two classes
no straight boundary separates."""


def _probe_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    centres = rng.normal(0, 4, (PROBE_CLASSES, LATENT))
    train_labels = rng.permutation(np.repeat(np.arange(PROBE_CLASSES), 20))
    clusters = rng.permutation(np.repeat(np.arange(PROBE_CLASSES), 30))
    changed = rng.permutation(len(clusters)) < int(rng.uniform(0.2, 0.4) * len(clusters))
    shifts = rng.integers(1, PROBE_CLASSES, len(clusters))
    corners = 4.0 * np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]])
    xor_train, xor_test = (rng.permutation(np.repeat(np.arange(4), 25)) for _ in range(2))

    def xor_codes(corner):  # codes of 2 numbers, as the sweep's smallest code
        return corners[corner] + rng.normal(0, 1, (len(corner), 2))

    return {"probe_train_codes": centres[train_labels] + rng.normal(size=(len(train_labels), LATENT)),
            "probe_train_labels": train_labels,
            "probe_test_codes": centres[clusters] + rng.normal(size=(len(clusters), LATENT)),
            "probe_test_clusters": clusters,
            "probe_test_labels": np.where(changed, (clusters + shifts) % PROBE_CLASSES, clusters),
            "probe_relabelled": (clusters + 1) % PROBE_CLASSES,
            "xor_train_codes": xor_codes(xor_train), "xor_train_labels": xor_train // 2,
            "xor_test_codes": xor_codes(xor_test), "xor_test_labels": xor_test // 2}


def _probe_data(inputs: dict, case: str) -> tuple[np.ndarray, ...]:
    if case == "xor":
        parts = ("train_codes", "train_labels", "test_codes", "test_labels")
        return tuple(inputs[f"xor_{part}"] for part in parts)
    labels = inputs["probe_relabelled"] if case == "relabelled" else inputs["probe_test_labels"]
    return inputs["probe_train_codes"], inputs["probe_train_labels"], inputs["probe_test_codes"], labels


def observe_probe(objects: dict, inputs: dict) -> dict:
    """``probe_accuracy`` on each toy data set (copies, so the grader's data stays as drawn)."""
    probe_accuracy = objects.get("probe_accuracy")
    if not callable(probe_accuracy):
        return {"callable": False, "kind": describe(probe_accuracy)}
    observed = {"callable": True}
    for case in PROBE_CASES:
        observed[case] = _number(probe_accuracy(*(part.copy() for part in _probe_data(inputs, case))))
    return observed


def probe_rule(observed, inputs: dict, expected: dict) -> list[str]:
    failed = not_a_function(observed, "probe_accuracy", "probe_accuracy(train_codes, train_labels, test_codes, "
                                                       "test_labels)")
    if failed:
        return failed
    found = {case: _as_number(observed.value(case, dict)) for case in PROBE_CASES}
    for case, (value, kind) in found.items():
        if value is None or kind != "float":
            return [problem("probe_accuracy(...)", "an accuracy: one float between 0 and 1", kind,
                            "Return float(probe.score(test_codes, test_labels)).")]
        if not 0 <= value <= 1:
            return [problem("probe_accuracy(...)", "an accuracy: a fraction between 0 and 1", f"{value:g}",
                            "Return the fraction of test codes classified right, not a percentage.")]
    accuracy = float(np.mean(inputs["probe_test_labels"] == inputs["probe_test_clusters"]))
    value = found["noisy"][0]
    if abs(value - accuracy) > 0.03:
        if value > 0.99:
            hint = "1.0 is the accuracy on the training codes: score the probe on test_codes and test_labels."
        elif abs(value - (1 - accuracy)) <= 0.03:
            hint = "That is the error rate: return the accuracy, the fraction classified right."
        else:
            hint = "Fit on the training codes and labels, then return probe.score(test_codes, test_labels)."
        return [problem("the accuracy on separate clusters whose test labels were partly changed",
                        f"{accuracy:.3f}, the share of test labels left as they were", f"{value:.3f}", hint)]
    value = found["relabelled"][0]
    if value > 0.1:
        return [problem("the accuracy when every test label differs from the training labels of its cluster",
                        "close to 0 (a probe fitted on the training codes predicts their labels)", f"{value:.3f}",
                        "The probe must be fitted on the training codes only, never on the test codes: use "
                        "test_codes and test_labels only to score it.")]
    value = found["xor"][0]
    if value > 0.8:
        return [problem("the accuracy on two classes that no straight boundary separates (an XOR pattern)",
                        "at most 0.75 for a linear probe", f"{value:.3f}",
                        "Use LogisticRegression, a linear classifier: a probe that draws curved boundaries "
                        "(nearest neighbours, trees, a neural network) measures what it can compute itself, "
                        "not what the code makes plain.")]
    return []


PROBE = Exercise("L3-probe", ("probe_accuracy",), observe_probe, probe_rule,
                 "probe_accuracy: a linear probe fitted on the training codes, scored on the test codes.")


# --- Exercise 4: the anomaly scores ---------------------------------------------------------------------

def _score_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Digit-like images (black background, a different amount of grey in each, some pixels exactly 1) and
    imperfect reconstructions, with some pixels exactly 0 or 1 as a float32 sigmoid gives them."""
    count = 6
    images = digit_like_images(rng, count, ink=(0.1, 0.5))
    noise = rng.normal(0, 0.15, images.shape)
    reconstructions = np.clip(images + noise, 0.001, 0.999).astype(np.float32)
    flat = reconstructions.reshape(count, -1)
    for index in range(count):
        grey = np.flatnonzero((images.reshape(count, -1)[index] > 0.2) & (images.reshape(count, -1)[index] < 0.8))
        flat[index, grey[:2]] = 0.0
        flat[index, grey[2:4]] = 1.0
    return {"score_images": images, "score_reconstructions": reconstructions}


def observe_scores(objects: dict, inputs: dict) -> dict:
    anomaly_scores = objects.get("anomaly_scores")
    if not callable(anomaly_scores):
        return {"callable": False, "kind": describe(anomaly_scores)}
    scores = numbers_of(anomaly_scores(inputs["score_images"].copy(), inputs["score_reconstructions"].copy()))
    if "array" in scores:
        return {"callable": True, "scores": scores["array"]}
    return {"callable": True, "scores_kind": scores["kind"]}


def scores_rule(observed, inputs: dict, expected: dict) -> list[str]:
    from labkit import anomaly

    failed = not_a_function(observed, "anomaly_scores", "anomaly_scores(images, reconstructions)")
    if failed:
        return failed
    images, reconstructions = inputs["score_images"], inputs["score_reconstructions"]
    n = len(images)
    if not observed.has("scores"):
        return [problem("anomaly_scores(images, reconstructions)",
                        f"one score per image, an array of shape ({n},)", str(observed.value("scores_kind", str)),
                        "Return the NumPy array of the scores.")]
    scores = observed.array("scores", dtype=np.float64)
    if scores.shape != (n,):
        hint = ("That is one number for the whole batch: average over every axis but the first, e.g. "
                ".reshape(len(images), -1).mean(axis=1)." if scores.size <= 1 else
                "Average over every axis but the first, e.g. .reshape(len(images), -1).mean(axis=1).")
        return [problem("anomaly_scores(images, reconstructions)", f"one score per image, shape ({n},) for {n} "
                        "images", f"shape {scores.shape}", hint)]
    if not np.isfinite(scores).all():
        return [problem("the scores", "finite numbers", "NaN or infinite values",
                        "log(0) is -inf: clip the reconstructions to [1e-7, 1 - 1e-7] before taking logarithms, "
                        "and clip the image too where you compute its own floor (0 × log 0 is NaN in NumPy).")]
    wanted = anomaly.reconstruction_errors(images, reconstructions, kind="excess")
    if np.allclose(scores, wanted, rtol=1e-4, atol=1e-5):
        return []
    plain = anomaly.reconstruction_errors(images, reconstructions, kind="bce")
    own_floor = plain - wanted
    explained = [
        (plain, "each image's BCE, with nothing subtracted",
         "Subtract each image's own floor (its BCE against itself), so that images with more grey pixels are "
         "not flagged for that alone."),
        (plain - own_floor.mean(), "each image's BCE minus one floor for the whole batch",
         "Subtract each image's own floor (its BCE against itself), not the floor of the whole batch."),
        (anomaly.reconstruction_errors(images, reconstructions, kind="mse"), "each image's mean squared error",
         "The score is binary cross-entropy, as the model was trained with, minus the image's own floor."),
    ]
    for values, what, hint in explained:
        if np.allclose(scores, values, rtol=1e-4, atol=1e-5):
            return [problem("the scores", "each image's BCE minus its own floor", what, hint)]
    return [problem("the scores", f"{np.round(wanted, 4).tolist()}", f"{np.round(scores, 4).tolist()}",
                    "Clip the reconstructions to [1e-7, 1 - 1e-7] before taking logarithms, as Keras does, "
                    "and average over each image's pixels.")]


SCORES = Exercise("L3-scores", ("anomaly_scores",), observe_scores, scores_rule,
                  "anomaly_scores: each image's excess over its own floor.")


# --- Exercise 5: the threshold --------------------------------------------------------------------------

def _threshold_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"normal_scores": rng.gamma(2.0, 0.01, size=1000),
            "false_alarm_rates": np.array([FALSE_ALARM_RATE, rng.uniform(0.1, 0.3)])}


def observe_threshold(objects: dict, inputs: dict) -> dict:
    choose_threshold = objects.get("choose_threshold")
    if not callable(choose_threshold):
        return {"callable": False, "kind": describe(choose_threshold)}
    return {"callable": True, "thresholds": [_number(choose_threshold(inputs["normal_scores"].copy(), float(rate)))
                                             for rate in inputs["false_alarm_rates"]]}


def threshold_rule(observed, inputs: dict, expected: dict) -> list[str]:
    failed = not_a_function(observed, "choose_threshold", "choose_threshold(normal_scores, false_alarm_rate)")
    if failed:
        return failed
    normal, rates = inputs["normal_scores"], inputs["false_alarm_rates"].tolist()
    for rate, (value, kind) in zip(rates, _recorded_numbers(observed, "thresholds", len(rates))):
        call = f"choose_threshold(normal_scores, {rate:.3g})"
        if value is None:
            return [problem(call, "one number (a float)", kind,
                            "Return float(np.quantile(normal_scores, 1 - false_alarm_rate)).")]
        share = float(np.mean(normal >= value))
        if abs(share - rate) > 2 / len(normal):
            if abs(value - np.quantile(normal, rate)) < 1e-12:
                hint = ("That is the false-alarm rate used as the quantile: take the (1 - false_alarm_rate) "
                        "quantile.")
            elif abs(value - np.quantile(normal, (1 - rate) / 100)) < 1e-12:
                hint = "np.percentile takes percentages (0-100); np.quantile takes fractions (0-1)."
            else:
                hint = ("Take the (1 - false_alarm_rate) quantile of the normal scores: "
                        "np.quantile(scores, 1 - rate).")
            return [problem(f"the share of {len(normal)} normal scores at or above the threshold for a rate of "
                            f"{rate:.3g}", f"about {rate:.3g}", f"{share:.3f}", hint)]
        if kind != "float":
            return [problem(call, "a float", "an int", "Return float(...) of the quantile.")]
    return []


THRESHOLD = Exercise("L3-threshold", ("choose_threshold",), observe_threshold, threshold_rule,
                     "choose_threshold: flags the chosen share of normal images, using normal images only.")

EXERCISES = (RATIO, ENCODER, PROBE, SCORES, THRESHOLD)
