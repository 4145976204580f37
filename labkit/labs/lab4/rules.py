"""Lab 4's exercises: what is observed of each answer, and the one rule that judges it.

The self-checks (:mod:`labkit.labs.lab4.checks`) and the autograder (:mod:`labkit.labs.lab4.grading`)
both call these rules, on the same plain data (:class:`labkit.checks.Exercise`). The observers run in
the student's kernel and use Keras; the rules use NumPy, and Keras only inside the functions that rebuild
the reference architecture (:func:`reference_conv_output`) and split the data as the lab does (:func:`decay_steps`).

Models are judged by what they compute: the student's model, with its own weights, on the grader's
fresh probe, against what the lab's architecture computes with those weights. Where the lab trains, the
rule judges what the answer sets up (trainable weights, loss, optimiser, learning-rate schedule) and
three training steps of a copy of the model on one small batch: the frozen features must not move, the
rest must learn.

Precision: the kit's convolutional models (``labkit.models``) compute in mixed bfloat16 on a CPU with
bfloat16 units (``LABKIT_PRECISION``), a student's own layers in Keras's global policy (float32 in this
lab). Each layer's policy is observed; the reference is rebuilt under the same policies, and outputs
that went through a bfloat16 layer are compared within a few bfloat16 rounding steps (:data:`BF16_TOLERANCE`).
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np

from labkit.checks import Exercise, describe, plain, problem
from labkit.labs.lab4 import BASELINE, BATCH, CUT, EPOCHS, FINE_TUNE_RATE, LEARNING_RATE, VALIDATION_FRACTION

CLASSES = 10
PROBES = 8
"""Images in the grader's probe (and in the one batch a classifier trains on)."""
TRAINING_STEPS = 3
"""Training steps a copy of a classifier takes on the probe batch."""
FLOAT32_TOLERANCE = 1e-4
"""Largest difference, relative to the output's largest value, between float32 computations of the same model (the
order of the sums may differ between processes and thread counts)."""
BF16_TOLERANCE = 2**-5
"""The same where a layer computes in bfloat16: it keeps 8 significant bits (a rounding step is 2**-8 of the
value), so one cut or model that rounds a little differently stays within a few steps; a wrong layer does not."""
POLICIES = ("float32", "mixed_bfloat16", "mixed_float16", "bfloat16", "float16", "float64")
LAYER_SETTINGS = ("filters", "kernel_size", "strides", "padding", "activation", "pool_size", "size", "interpolation",
                  "units", "use_bias")


def make_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh inputs to apply the student's objects to: drawn at random for each grading run, and with a
    fixed seed by the self-checks."""
    per_class = int(rng.integers(5, 10))
    # Each class has 1-3 images more than a draw takes: a draw with replacement repeats an index, and two
    # seeds still have several subsets to choose from.
    sizes = per_class + rng.integers(1, 4, size=CLASSES)
    return {"images": rng.random((PROBES, 28, 28, 1), dtype=np.float32),
            "codes": (3 * rng.random((PROBES, 7, 7, BASELINE["filters"][-1]))).astype(np.float32),
            "labels": rng.integers(0, CLASSES, size=PROBES),
            "subset_labels": rng.permutation(np.repeat(np.arange(CLASSES), sizes)),
            "budgets": np.array([CLASSES * per_class, CLASSES * int(rng.integers(2, per_class))]),
            "seeds": rng.choice(2**31, size=2, replace=False)}


# --- observing Keras models ----------------------------------------------------------------------------

def _policy(layer) -> str:
    return str(getattr(getattr(layer, "dtype_policy", None), "name", "float32"))


def describe_layers(model) -> list[dict]:
    """Each layer of ``model`` (its input aside) as plain data: class, name, dtype policy, output shape, settings."""
    found = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        entry = {"class": type(layer).__name__, "name": str(layer.name), "policy": _policy(layer)}
        try:
            config = layer.get_config()
            entry.update({key: plain(config[key]) for key in LAYER_SETTINGS if key in config})
            entry["output"] = plain(list(layer.output.shape))
        except Exception:  # noqa: BLE001 - a layer without a config or a single output is described by its class
            pass
        found.append(entry)
    return found


def _fit(probe: np.ndarray, model) -> np.ndarray:
    """``probe`` reshaped (values repeated or cut) to what ``model`` takes, so that a model of the wrong shape
    still runs and its shape can be reported."""
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, tuple) and len(shape) > 1 and all(isinstance(size, int) for size in shape[1:]):
        return np.resize(probe, (len(probe), *shape[1:])).astype(np.float32)
    return probe


def observe_model(name: str, model, probe: np.ndarray) -> dict:
    """A model's shapes, layers, weights (``name.w0``, ...) with which of them are trainable, and its output on
    ``probe``; or what it is instead of a model."""
    import keras

    if not isinstance(model, keras.Model):
        return {f"{name}.kind": describe(model)}
    try:
        observed = {f"{name}.model": {"inputs": [plain(list(tensor.shape)) for tensor in model.inputs],
                                      "outputs": [plain(list(tensor.shape)) for tensor in model.outputs],
                                      "layers": describe_layers(model)}}
    except Exception:  # noqa: BLE001 - a subclassed model has no graph of inputs and outputs to read
        return {f"{name}.kind": f"{describe(model)} without inputs and outputs to read (a subclassed model?)"}
    trainable = {id(variable) for variable in model.trainable_weights}
    observed[f"{name}.trainable"] = [id(variable) in trainable for variable in model.weights]
    weights = model.get_weights()
    observed[f"{name}.weights"] = len(weights)
    for index, weight in enumerate(weights):
        observed[f"{name}.w{index}"] = np.array(weight)
    try:
        observed[f"{name}.prediction"] = np.asarray(model(_fit(probe, model), training=False), dtype=np.float32)
    except Exception as error:  # noqa: BLE001 - a model of the wrong shape cannot take the probe
        observed[f"{name}.prediction_error"] = f"{type(error).__name__}: {str(error)[:200]}"
    return observed


def _shape(shapes) -> str:
    if isinstance(shapes, list) and len(shapes) == 1 and isinstance(shapes[0], list):
        return "(" + ", ".join("None" if size is None else str(size) for size in shapes[0]) + ")"
    return json.dumps(shapes)[:80]


def _layers(observed, name: str) -> list[dict]:
    layers = observed.value(f"{name}.model", dict).get("layers")
    return [layer for layer in layers if isinstance(layer, dict)] if isinstance(layers, list) else []


def _chain(layers: list[dict]) -> str:
    """The layers as a student reads them: ``Conv2D 32 relu → AveragePooling2D → ...``."""
    parts = []
    for layer in layers[:12]:
        settings = [str(layer[key]) for key in ("filters", "units") if key in layer]
        if layer.get("activation") not in (None, "linear"):
            settings.append(str(layer["activation"]))
        if "Conv" in str(layer.get("class")) and layer.get("strides") not in (None, [1, 1]):
            settings.append(f"strides {layer['strides']}")
        parts.append(" ".join([str(layer.get("class"))] + settings))
    return " → ".join(parts) + (" → ..." if len(layers) > 12 else "")


def _weights(observed, name: str) -> list[np.ndarray]:
    count = observed.value(f"{name}.weights", int)
    if not 0 <= count <= 1000:
        raise ValueError(f"{name} has {count} weights")
    return [observed.array(f"{name}.w{index}") for index in range(count)]


def _difference(found: np.ndarray, wanted: np.ndarray) -> float:
    """The largest difference relative to the largest value of ``wanted`` (infinite for another shape or NaN)."""
    if found.shape != wanted.shape:
        return math.inf
    if not wanted.size:
        return 0.0
    scale = max(float(np.max(np.abs(wanted))), 1e-6)
    difference = float(np.max(np.abs(found.astype(np.float64) - wanted)))
    return difference / scale if math.isfinite(difference) else math.inf


def _tolerance(layers: list[dict]) -> float:
    return FLOAT32_TOLERANCE if all(layer.get("policy") == "float32" for layer in layers) else BF16_TOLERANCE


# --- Exercise 1: the convolutional encoder and decoder ------------------------------------------------

def observe_conv_models(objects: dict, inputs: dict) -> dict:
    observed = {}
    for name, probe in (("encoder", inputs["images"]), ("decoder", inputs["codes"])):
        if name in objects:
            observed.update(observe_model(name, objects[name], probe))
    return observed


def conv_spec(part: str, filters: tuple[int, int, int]) -> dict:
    """What the lab's encoder or decoder with ``filters`` looks like (``labkit.models.conv_autoencoder``)."""
    first, second, third = filters
    if part == "encoder":
        return {"probe": "images", "input": [None, 28, 28, 1], "output": [None, 7, 7, third],
                "kernels": [(3, 3, 1, first), (3, 3, first, second), (3, 3, second, third)],
                "activations": ["relu"] * 3, "sizes": [28, 14, 7], "resizing": "MaxPooling2D",
                "text": f"Conv2D {first} → MaxPooling2D → Conv2D {second} → MaxPooling2D → Conv2D {third} "
                        "(ReLU)"}
    return {"probe": "codes", "input": [None, 7, 7, third], "output": [None, 28, 28, 1],
            "kernels": [(3, 3, third, second), (3, 3, second, first), (3, 3, first, 1)],
            "activations": ["relu", "relu", "sigmoid"], "sizes": [14, 28, 28], "resizing": "UpSampling2D",
            "text": f"UpSampling2D → Conv2D {second} → UpSampling2D → Conv2D {first} → Conv2D 1 (sigmoid)"}


def reference_conv_output(part: str, filters: tuple[int, int, int], weights: list[np.ndarray],
                          probe: np.ndarray, layers_found: list[dict]) -> np.ndarray:
    """What the lab's encoder or decoder (``labkit.models.conv_autoencoder(filters)``) computes on ``probe`` with
    ``weights``, each layer in the dtype policy of the student's layer of the same kind and rank."""
    import keras

    from labkit import models

    _, encoder, decoder = models.conv_autoencoder(tuple(filters))
    policies: dict[str, list[str]] = {}
    for layer in layers_found:
        policies.setdefault(str(layer.get("class")), []).append(str(layer.get("policy")))
    common = Counter(policy for found in policies.values() for policy in found).most_common(1)
    fallback = common[0][0] if common and common[0][0] in POLICIES else "float32"
    rank: Counter = Counter()

    def rebuild(layer):
        kind = type(layer).__name__
        found = policies.get(kind, [])
        policy = found[rank[kind]] if rank[kind] < len(found) else fallback
        rank[kind] += 1
        config = layer.get_config()
        config["dtype"] = policy if policy in POLICIES else fallback
        return layer.__class__.from_config(config)

    twin = keras.models.clone_model(encoder if part == "encoder" else decoder, clone_function=rebuild)
    twin.set_weights([weight.astype(np.float32) for weight in weights])
    return np.asarray(twin(probe, training=False), dtype=np.float32)


def _output_hint(part: str, found, spec: dict) -> str:
    shape = found[0] if isinstance(found, list) and len(found) == 1 and isinstance(found[0], list) else None
    if part == "decoder":
        return "Two UpSampling2D(2) layers take 7×7 back to 28×28; end with a 1-filter Conv2D."
    if shape and len(shape) == 4 and all(isinstance(size, int) for size in shape[1:3]):
        if shape[1] < 7:
            return "Use padding='same' so that only the pooling layers shrink the image."
        if shape[1] > 7:
            return "Two MaxPooling2D(2) layers halve the image twice: 28 → 14 → 7."
        return f"The last Conv2D has {spec['output'][-1]} filters: the code is 7×7×{spec['output'][-1]}."
    return "Keep the image's shape through the encoder: Conv2D and MaxPooling2D layers, no Flatten or Dense."


def _behaviour_hint(part: str, layers: list[dict], spec: dict) -> str:
    """Why a model with the right shapes and weights computes something else, read from its layers."""
    convs = [layer for layer in layers if layer.get("class") == "Conv2D"]
    resizing = [layer.get("class") for layer in layers if "Pooling" in str(layer.get("class"))
                or "Sampling" in str(layer.get("class"))]
    if resizing != [spec["resizing"]] * 2:
        if part == "encoder":
            return ("Use layers.MaxPooling2D(2) after each of the first two convolutions: it keeps each 2×2 "
                    "block's strongest answer.")
        return "Use layers.UpSampling2D(2) twice, once before each of the first two convolutions."
    if any(layer.get("strides") not in (None, [1, 1]) for layer in convs):
        return "Keep every convolution's strides at 1: the pooling layers shrink the image."
    if any(layer.get("interpolation") not in (None, "nearest") for layer in layers
           if layer.get("class") == "UpSampling2D"):
        return "Use UpSampling2D(2) with its default interpolation='nearest'."
    sizes = [layer["output"][1] for layer in convs if isinstance(layer.get("output"), list)
             and len(layer["output"]) == 4]
    if len(sizes) == 3 and sizes != spec["sizes"]:
        if part == "decoder":
            return ("Upsample first, then convolve: UpSampling2D → Conv2D, so that each convolution works at its "
                    f"encoder twin's size ({', '.join(f'{s}×{s}' for s in spec['sizes'])}).")
        return "Pool after the first and the second convolution only."
    activations = [layer.get("activation") for layer in convs]
    if len(activations) == 3 and activations != spec["activations"]:
        return ("Check each Conv2D's activation: ReLU inside the network"
                + (", sigmoid on the last one: pixels lie in [0, 1], and binary cross-entropy needs "
                   "probabilities." if part == "decoder" else "."))
    return "Compare your layers with the architecture above, one by one; model.summary() lists them."


def conv_part_problems(observed, part: str, filters: tuple[int, int, int], inputs: dict) -> list[str]:
    """The problems of the encoder or decoder of the lab's convolutional autoencoder with ``filters``."""
    spec = conv_spec(part, filters)
    if observed.has(f"{part}.kind"):
        return [problem(f"the {part}", "a keras.Model", str(observed.value(f"{part}.kind", str)),
                        "Build it with keras.Model(inputs, outputs, name=...).")]
    description = observed.value(f"{part}.model", dict)
    if description.get("inputs") != [spec["input"]]:
        hint = ("Start with keras.Input(shape=(28, 28, 1)); convolutions need the image's height and width."
                if part == "encoder" else f"Start with keras.Input(shape={tuple(spec['input'][1:])}), the code.")
        return [problem(f"the {part}'s input shape", _shape([spec["input"]]), _shape(description.get("inputs")),
                        hint)]
    if description.get("outputs") != [spec["output"]]:
        return [problem(f"the {part}'s output shape", _shape([spec["output"]]), _shape(description.get("outputs")),
                        _output_hint(part, description.get("outputs"), spec))]
    layers = _layers(observed, part)
    weights = _weights(observed, part)
    wanted = [shape for kernel in spec["kernels"] for shape in (kernel, kernel[-1:])]
    if [weight.shape for weight in weights] != wanted:
        convs = [layer for layer in layers if layer.get("class") == "Conv2D"]
        widths = [kernel[-1] for kernel in spec["kernels"]]
        return [problem(f"the {part}'s convolutions", f"three Conv2D layers of {widths} filters, 3×3 kernels "
                        "with biases" + (" (the encoder's widths in reverse, then one for the image)"
                                         if part == "decoder" else ""),
                        f"Conv2D filters {[layer.get('filters') for layer in convs]}, kernels "
                        f"{[layer.get('kernel_size') for layer in convs]} (layers: {_chain(layers)})",
                        "Use kernel_size=3 in every Conv2D, with the filters given above.")]
    if observed.has(f"{part}.prediction_error"):
        return [f"the {part} could not be applied to a batch: {observed.value(f'{part}.prediction_error', str)}"]
    probe = inputs[spec["probe"]]
    probe = np.resize(probe, (len(probe), *spec["input"][1:])).astype(np.float32)
    prediction = observed.array(f"{part}.prediction", shape=(len(probe), *spec["output"][1:]))
    wanted_output = reference_conv_output(part, filters, weights, probe, layers)
    difference = _difference(prediction, wanted_output)
    if not difference <= _tolerance(layers):
        return [problem(f"the {part}'s outputs", f"those of {spec['text']} computed with its own weights",
                        f"other values (largest difference {difference:.3g} of their scale; layers: {_chain(layers)})",
                        _behaviour_hint(part, layers, spec))]
    return []


def conv_autoencoder_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: ``filters`` (default the baseline's) and the ``models`` to judge (default both)."""
    filters = tuple(int(width) for width in expected.get("filters", BASELINE["filters"]))
    problems = []
    for part in expected.get("models", ("encoder", "decoder")):
        problems += conv_part_problems(observed, part, filters, inputs)
    return problems


CONV_AUTOENCODER = Exercise("L4-conv-autoencoder", ("encoder", "decoder"), observe_conv_models,
                            conv_autoencoder_rule, "encoder Conv2D → pool → Conv2D → pool → Conv2D to a 7×7 code, "
                            "and its mirrored decoder.")


# --- Exercise 2: the frozen feature extractor --------------------------------------------------------------

def observe_features(objects: dict, inputs: dict) -> dict:
    """The feature extractor as a model, whether it shares weights with the MNIST encoder, and the encoder's own
    weights and outputs after each of its layers on the same probe."""
    import keras

    features, encoder = objects.get("features"), objects.get("mnist_encoder")
    observed = observe_model("features", features, inputs["images"])
    if not isinstance(encoder, keras.Model):
        observed["encoder.kind"] = describe(encoder)
        return observed
    layers = [layer for layer in encoder.layers if type(layer).__name__ != "InputLayer"]
    observed["encoder.layers"] = [str(layer.name) for layer in layers]
    weights = encoder.get_weights()
    observed["encoder.weights"] = len(weights)
    for index, weight in enumerate(weights):
        observed[f"encoder.w{index}"] = np.array(weight)
    try:
        outputs = keras.Model(encoder.input, [layer.output for layer in layers])(inputs["images"], training=False)
        for index, output in enumerate(outputs):
            observed[f"encoder.out{index}"] = np.asarray(output, dtype=np.float32)
    except Exception as error:  # noqa: BLE001 - an encoder that is not a chain of layers
        observed["encoder.out_error"] = f"{type(error).__name__}: {str(error)[:200]}"
    if isinstance(features, keras.Model):
        shared = {id(variable) for variable in encoder.weights}
        observed["features.shared"] = sum(id(variable) in shared for variable in features.weights)
    return observed


def freeze_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: the ``layer`` the encoder is cut after (default the lab's ``CUT``)."""
    layer = str(expected.get("layer", CUT))
    cut = f"keras.Model(mnist_copy.input, mnist_copy.get_layer({layer!r}).output)"
    if observed.has("features.kind"):
        return [problem("features", "a keras.Model", str(observed.value("features.kind", str)), f"Build {cut}.")]
    if observed.has("encoder.kind"):
        return [problem("mnist_encoder", "the MNIST encoder (a keras.Model)", str(observed.value("encoder.kind", str)),
                        "Do not assign to mnist_encoder; cut its copy, mnist_copy.")]
    names = observed.value("encoder.layers", list)
    if layer not in names:
        return [problem("the MNIST encoder", f"a layer named {layer!r}", f"the layers {names}")]
    if observed.has("encoder.out_error"):
        return [f"the MNIST encoder could not be applied to a batch: {observed.value('encoder.out_error', str)}"]
    outputs = [observed.array(f"encoder.out{index}") for index in range(len(names))]
    wanted_shape = [None, *outputs[names.index(layer)].shape[1:]]
    description = observed.value("features.model", dict)
    if description.get("inputs") != [[None, 28, 28, 1]] or description.get("outputs") != [wanted_shape]:
        found = description.get("outputs")
        after = [name for name, output in zip(names, outputs)
                 if isinstance(found, list) and found and found[0] == [None, *output.shape[1:]]]
        return [problem("the feature extractor's shapes", f"(None, 28, 28, 1) → {_shape([wanted_shape])} (the "
                        f"output of {layer!r})", f"{_shape(description.get('inputs'))} → {_shape(found)}"
                        + (f" (the output of {after[0]!r})" if after else ""), f"Cut after {layer!r}: {cut}.")]
    weights, encoder_weights = _weights(observed, "features"), _weights(observed, "encoder")
    if len(weights) > len(encoder_weights) or not all(mine.shape == theirs.shape and not np.any(mine != theirs)
                                                      for mine, theirs in zip(weights, encoder_weights)):
        return [problem("the feature extractor's weights", "those the MNIST autoencoder learned", "different weights",
                        "Cut the trained encoder's copy, mnist_copy; do not build new, random layers.")]
    shared = observed.value("features.shared", int)
    if shared:
        return [problem("the feature extractor", "a cut of mnist_copy, sharing no weights with mnist_encoder",
                        f"{shared} weight tensors shared with mnist_encoder",
                        "Cut mnist_copy, the copy made at the top of the cell: freezing or fine-tuning a cut of "
                        "mnist_encoder itself would change the MNIST encoder too.")]
    trainable = observed.value("features.trainable", list)
    if any(trainable):
        return [problem("the feature extractor", "frozen (no trainable weights)",
                        f"{sum(map(bool, trainable))} trainable weight tensors", "Set features.trainable = False.")]
    if observed.has("features.prediction_error"):
        return [f"the feature extractor could not be applied to a batch: "
                f"{observed.value('features.prediction_error', str)}"]
    wanted = outputs[names.index(layer)]
    difference = _difference(observed.array("features.prediction", shape=wanted.shape), wanted)
    if not difference <= BF16_TOLERANCE:
        return [problem("the feature extractor's outputs", f"the MNIST encoder's own outputs after {layer!r}",
                        f"other values (largest difference {difference:.3g} of their scale)", f"Build {cut}.")]
    return []


FREEZE = Exercise("L4-freeze", ("features", "mnist_encoder"), observe_features, freeze_rule,
                  f"features: a copy of the MNIST encoder up to {CUT!r}, frozen.")


# --- Exercises 3 and 4: the classifiers --------------------------------------------------------------------

def _rate_steps(decay_steps) -> list[int]:
    steps = {0, 1, 10, 100, 1_000, 10_000, 100_000}
    if isinstance(decay_steps, int) and 0 < decay_steps < 10**9:
        steps |= {decay_steps // 4, decay_steps // 2, 3 * decay_steps // 4, decay_steps, decay_steps + 1}
    return sorted(steps)


def observe_rates(name: str, optimizer) -> dict:
    """The optimizer's learning rate at several training steps (its schedule's own decay steps included)."""
    import keras

    try:
        rate = optimizer.get_config().get("learning_rate")
        if isinstance(rate, dict):
            schedule = keras.optimizers.schedules.deserialize(rate)
            steps = _rate_steps((rate.get("config") or {}).get("decay_steps"))
            rates = [float(schedule(step)) for step in steps]
        else:
            steps = _rate_steps(None)
            rates = [float(rate)] * len(steps)
    except Exception as error:  # noqa: BLE001 - an optimizer whose rate cannot be read
        return {f"{name}.rates_error": f"{type(error).__name__}: {str(error)[:200]}"}
    return {f"{name}.rate_steps": np.array(steps, dtype=np.int64), f"{name}.rates": np.array(rates, dtype=np.float64)}


def _scores(results) -> dict:
    return {str(key): float(value) for key, value in dict(results).items() if np.ndim(value) == 0}


def observe_training(name: str, model, inputs: dict) -> dict:
    """A copy of ``model`` (compiled as it is: same optimizer, loss and metrics) evaluated on the probe batch,
    trained :data:`TRAINING_STEPS` steps on it, and evaluated again; how far each weight moved. The student's
    model itself is left as it was."""
    import keras

    x, y = inputs["images"], inputs["labels"]
    try:
        copy = keras.models.clone_model(model)  # compiled from the model's own compile configuration
        copy.set_weights(model.get_weights())
        copy.run_eagerly = True
    except Exception as error:  # noqa: BLE001 - a model Keras cannot copy
        return {f"{name}.copy_error": f"{type(error).__name__}: {str(error)[:300]}"}
    try:
        start = copy.get_weights()
        observed = {f"{name}.before": _scores(copy.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True))}
        moved = [[0.0] * len(start)]
        for _ in range(TRAINING_STEPS if copy.trainable_weights else 0):
            copy.train_on_batch(x, y)
            moved.append([float(np.max(np.abs(now - then))) if now.size else 0.0
                          for now, then in zip(copy.get_weights(), start)])
        observed[f"{name}.after"] = _scores(copy.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True))
        observed[f"{name}.first_step"] = np.array(moved[min(1, len(moved) - 1)], dtype=np.float64)
        observed[f"{name}.moved"] = np.array(moved[-1], dtype=np.float64)
        return observed
    except Exception as error:  # noqa: BLE001 - a loss that does not fit the labels
        return {f"{name}.training_error": f"{type(error).__name__}: {str(error)[:300]}"}


def observe_classifier(name: str, model, inputs: dict) -> dict:
    """A classifier as a model, how it is compiled, and a few training steps of its copy."""
    observed = observe_model(name, model, inputs["images"])
    if f"{name}.kind" in observed:
        return observed
    optimizer = getattr(model, "optimizer", None)
    observed[f"{name}.compiled"] = bool(getattr(model, "compiled", False)) and optimizer is not None
    if observed[f"{name}.compiled"]:
        observed[f"{name}.optimizer"] = type(optimizer).__name__
        observed.update(observe_rates(name, optimizer))
        observed.update(observe_training(name, model, inputs))
    return observed


def observe_head(objects: dict, inputs: dict) -> dict:
    import keras

    frozen, features = objects.get("frozen"), objects.get("features")
    observed = observe_classifier("frozen", frozen, inputs)
    if not isinstance(features, keras.Model):
        observed["features.kind"] = describe(features)
        return observed
    try:
        observed["features.output"] = np.asarray(features(_fit(inputs["images"], features), training=False),
                                                 dtype=np.float32)
    except Exception as error:  # noqa: BLE001 - features replaced by something that cannot take an image
        observed["features.output_error"] = f"{type(error).__name__}: {str(error)[:200]}"
    if isinstance(frozen, keras.Model):
        position = {id(variable): index for index, variable in enumerate(frozen.weights)}
        observed["frozen.features_weights"] = [position.get(id(variable), -1) for variable in features.weights]
    return observed


def decay_steps(fashion_labels: np.ndarray) -> int:
    """The length of the head's cosine schedule, ``EPOCHS × steps_per_epoch``, for Fashion-MNIST's training labels
    as loaded: the lab trains on them without its validation split, in batches of ``BATCH``."""
    from labkit import transfer

    (kept, _), _ = transfer.validation_split(fashion_labels, fashion_labels, fraction=VALIDATION_FRACTION)
    return EPOCHS * -(-len(kept) // BATCH)


def sparse_crossentropy(labels: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """The mean of −log p(label) as Keras can compute it, as ``(low, high)``: exact (``low == high``) where
    every p(label) lies above the clip at 1e-7. Where the softmax saturated below it, Keras computes from the
    softmax layer's logits when it can, and an image then costs anything from −log 1e-7 ≈ 16.1 up to about 104
    (−log of float32's smallest positive number), which the probabilities alone cannot tell apart."""
    picked = probabilities.astype(np.float64)[np.arange(len(labels)), labels]
    clipped = -np.log(np.clip(picked, 1e-7, 1 - 1e-7))
    saturated = picked <= 1e-7
    return float(np.mean(clipped)), float(np.mean(np.where(saturated, 104.0, clipped)))


def cosine_rates(steps: np.ndarray, start: float, decay_steps: int) -> np.ndarray:
    """Keras's ``CosineDecay(start, decay_steps)`` (down to 0, no warm-up) at ``steps``."""
    done = np.minimum(steps.astype(np.float64), decay_steps) / decay_steps
    return start * 0.5 * (1 + np.cos(np.pi * done))


def _compile_problems(observed, name: str, probabilities: np.ndarray, labels: np.ndarray, compile_hint: str
                      ) -> list[str]:
    """The loss (sparse categorical cross-entropy, judged by its value) and the accuracy metric, from the copy's
    evaluation on the probe batch."""
    if observed.has(f"{name}.copy_error"):
        return [problem(f"a copy of {name} (keras.models.clone_model), to try a few training steps", "to work",
                        f"an error ({observed.value(f'{name}.copy_error', str)[:200]})",
                        "Build the classifier with the functional API, from Keras layers: "
                        "keras.Model(image, probabilities).")]
    if observed.has(f"{name}.training_error"):
        return [problem(f"evaluating and training {name} on a batch of integer labels 0-9", "to work",
                        f"an error ({observed.value(f'{name}.training_error', str)[:200]})",
                        "Use loss='sparse_categorical_crossentropy': the labels are integers, not one-hot vectors.")]
    before = observed.value(f"{name}.before", dict)
    low, high = sparse_crossentropy(labels, probabilities)
    loss = before.get("loss")
    if not isinstance(loss, (int, float)) or not low * (1 - 1e-3) - 1e-4 <= loss <= high * (1 + 1e-3) + 1e-4:
        wanted = f"{low:.4f}" if high == low else f"{low:.4f} to {high:.4f}, its softmax saturated"
        return [problem("the loss", f"sparse categorical cross-entropy ({wanted} on a test batch)",
                        f"a loss of {loss} on that batch",
                        "The labels are integers 0-9: use loss='sparse_categorical_crossentropy'. " + compile_hint)]
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == labels))
    metrics = {key: value for key, value in before.items() if key != "loss"}
    if not any(isinstance(value, (int, float)) and abs(value - accuracy) < 1e-6 for value in metrics.values()):
        return [problem("the metrics", "accuracy", f"{sorted(metrics) or 'none'}",
                        "Add metrics=['accuracy']: the lab reads each classifier's test accuracy from evaluate().")]
    return []


def _classifier_basics(observed, name: str, classes: int) -> list[str]:
    if observed.has(f"{name}.kind"):
        return [problem(name, "a keras.Model", str(observed.value(f"{name}.kind", str)),
                        "Build it with keras.Model(image, probabilities, name=...).")]
    description = observed.value(f"{name}.model", dict)
    if description.get("inputs") != [[None, 28, 28, 1]] or description.get("outputs") != [[None, classes]]:
        return [problem(f"{name}'s shapes", f"(None, 28, 28, 1) → (None, {classes}): one probability per class",
                        f"{_shape(description.get('inputs'))} → {_shape(description.get('outputs'))}")]
    return []


def head_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: ``classes``, and the schedule's ``learning_rate`` and ``decay_steps``."""
    classes = int(expected.get("classes", CLASSES))
    compile_hint = ("Compile with keras.optimizers.Adam(schedule), loss='sparse_categorical_crossentropy' and "
                    "metrics=['accuracy'].")
    found = _classifier_basics(observed, "frozen", classes)
    if found:
        return found
    if observed.has("features.kind") or observed.has("features.output_error"):
        return [problem("features", "the frozen feature extractor of exercise 2 (a keras.Model)",
                        str(observed.value("features.kind", str)) if observed.has("features.kind")
                        else str(observed.value("features.output_error", str)))]
    weights = _weights(observed, "frozen")
    trainable = observed.value("frozen.trainable", list)
    inside = observed.value("frozen.features_weights", list)
    if len(trainable) != len(weights) or not all(isinstance(index, int) and -1 <= index < len(weights)
                                                 for index in inside):
        raise ValueError("frozen.trainable")
    if not inside or -1 in inside:
        return [problem("the classifier", "built on features: x = features(image, training=False)",
                        "a model without features' weights",
                        "Call features on the input image; do not build or copy another encoder.")]
    head = [weight for index, weight in enumerate(weights) if trainable[index]]
    features_output = observed.array("features.output")
    flat = int(np.prod(features_output.shape[1:]))
    wanted = [(flat, classes), (classes,)]
    head_size = flat * classes + classes
    if any(trainable[index] for index in inside):
        return [problem("the parameters training will change", f"only the head's {head_size:,}",
                        f"{sum(weight.size for weight in head):,}, the features' included",
                        "Keep features frozen (features.trainable = False) when you compile.")]
    if not head:
        return [problem("the classifier's head", "trainable", "no trainable weights at all",
                        "Freeze only features; do not set frozen.trainable = False.")]
    if [weight.shape for weight in head] != wanted:
        dense = [layer for layer in _layers(observed, "frozen") if layer.get("class") == "Dense"]
        return [problem("the head", f"a single Dense({classes}, activation='softmax') after Flatten: {flat:,} × "
                        f"{classes} + {classes} = {head_size:,} parameters to train",
                        f"{_chain(dense) or 'no Dense layer'} ({sum(weight.size for weight in head):,} parameters "
                        "to train)", "Put Flatten and one Dense(10, activation='softmax') on the features, with no "
                        "hidden layer: the frozen features are what we measure.")]
    if observed.has("frozen.prediction_error"):
        return [f"the classifier could not be applied to a batch: {observed.value('frozen.prediction_error', str)}"]
    probabilities = observed.array("frozen.prediction", shape=(len(inputs["images"]), classes))
    logits = features_output.reshape(len(features_output), -1).astype(np.float64) @ head[0] + head[1]
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    difference = _difference(probabilities, softmax)
    if not difference <= _tolerance(_layers(observed, "frozen")[-1:]):
        sums = probabilities.astype(np.float64).sum(axis=1)
        found = (f"outputs that sum to {sums.min():.3g}-{sums.max():.3g}" if not np.allclose(sums, 1, atol=1e-3)
                 else f"other probabilities (largest difference {difference:.3g})")
        return [problem("the classifier's outputs", "softmax(Dense(Flatten(features(x)))): probabilities that sum "
                        "to 1", found, "Use activation='softmax' on the Dense layer, right after Flatten.")]
    if not observed.value("frozen.compiled", bool):
        return [problem("the classifier", "compiled", "not compiled yet", compile_hint)]
    problems = []
    optimizer = observed.value("frozen.optimizer", str)
    if optimizer != "Adam":
        problems.append(problem("the optimizer", "Adam", optimizer, compile_hint))
    problems += _schedule_problems(observed, "frozen", float(expected.get("learning_rate", LEARNING_RATE)),
                                   expected.get("decay_steps"))
    found = _compile_problems(observed, "frozen", probabilities, inputs["labels"], compile_hint)
    if found:
        return problems + found
    moved = observed.array("frozen.moved", shape=(len(weights),))
    if np.any(moved[inside] != 0):
        problems.append(problem("the features after training steps", "unchanged", "changed weights",
                                "Set features.trainable = False before compiling, and compile again after changing "
                                "it."))
    before, after = observed.value("frozen.before", dict).get("loss"), observed.value("frozen.after", dict).get("loss")
    learned = [index for index in range(len(weights)) if trainable[index]]
    if not np.all(moved[learned] > 0) or not (isinstance(after, float) and after < before):
        problems.append(problem(f"{TRAINING_STEPS} training steps on one batch", "a head that learns (a lower loss)",
                                f"a loss from {before} to {after}", compile_hint))
    return problems


def _schedule_problems(observed, name: str, start: float, decay_steps) -> list[str]:
    """Whether ``name``'s learning rate follows ``CosineDecay(start, decay_steps)``, judged at the observed steps."""
    hint = "Pass the schedule defined at the top of the cell: keras.optimizers.Adam(schedule)."
    if observed.has(f"{name}.rates_error"):
        return [problem("the learning rate", "a cosine schedule", observed.value(f"{name}.rates_error", str), hint)]
    steps = observed.array(f"{name}.rate_steps", dtype=np.int64)
    rates = observed.array(f"{name}.rates", dtype=np.float64, shape=steps.shape)
    if not isinstance(decay_steps, int):
        raise ValueError("decay_steps")
    wanted = cosine_rates(steps, start, decay_steps)
    if not np.allclose(rates, wanted, rtol=1e-3, atol=1e-9):
        found = (f"a constant {rates[0]:g}" if np.all(rates == rates[0])
                 else ", ".join(f"{rate:.3g} at step {step:,}" for step, rate in list(zip(steps, rates))[::3]))
        return [problem("the learning rate", f"a cosine from {start:g} down to 0 over {decay_steps:,} steps "
                        f"(EPOCHS × steps_per_epoch)", found, hint)]
    return []


HEAD = Exercise("L4-head", ("frozen", "features"), observe_head, head_rule,
                "classifier: frozen features → Flatten → Dense(10, softmax), Adam on the cosine schedule; "
                "a training step moves only the head.")


def observe_fine_tuned(objects: dict, inputs: dict) -> dict:
    return observe_classifier("fine_tuned", objects.get("fine_tuned"), inputs)


def fine_tune_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: ``max_learning_rate`` (default the lab's ``FINE_TUNE_RATE``) and ``classes``."""
    rate = float(expected.get("max_learning_rate", FINE_TUNE_RATE))
    classes = int(expected.get("classes", CLASSES))
    compile_hint = ("Compile again with keras.optimizers.Adam(fine_schedule), the same loss and metrics: a copy "
                    "keeps its original's optimizer until you do.")
    found = _classifier_basics(observed, "fine_tuned", classes)
    if found:
        return found
    weights = _weights(observed, "fine_tuned")
    trainable = observed.value("fine_tuned.trainable", list)
    if len(trainable) != len(weights):
        raise ValueError("fine_tuned.trainable")
    frozen = len(trainable) - sum(map(bool, trainable))
    if frozen:
        return [problem("the classifier", "every weight trainable (the encoder unfrozen)",
                        f"{frozen} frozen weight tensors", "Set fine_tuned.get_layer('mnist_features').trainable = "
                        "True (the copy's own layer, not features), then compile again.")]
    if not observed.value("fine_tuned.compiled", bool):
        return [problem("the classifier", "compiled again after unfreezing", "no optimizer", compile_hint)]
    optimizer = observed.value("fine_tuned.optimizer", str)
    if optimizer != "Adam":
        return [problem("the optimizer", "Adam", optimizer, compile_hint)]
    if observed.has("fine_tuned.rates_error"):
        return [problem("the learning rate", f"at most {rate:g}", observed.value("fine_tuned.rates_error", str))]
    steps = observed.array("fine_tuned.rate_steps", dtype=np.int64)
    rates = observed.array("fine_tuned.rates", dtype=np.float64, shape=steps.shape)
    if not (rates[0] > 0 and rates.max() <= rate * (1 + 1e-6)):
        return [problem("the learning rate", f"small: above 0 and at most {rate:g}",
                        f"{rates[0]:g} at the first step" + (f", up to {rates.max():g}" if rates.max() > rates[0]
                                                             else ""),
                        "Large steps would wreck the pretrained features in the first batches. " + compile_hint)]
    if observed.has("fine_tuned.prediction_error"):
        return [f"the classifier could not be applied to a batch: "
                f"{observed.value('fine_tuned.prediction_error', str)}"]
    probabilities = observed.array("fine_tuned.prediction", shape=(len(inputs["images"]), classes))
    found = _compile_problems(observed, "fine_tuned", probabilities, inputs["labels"], compile_hint)
    if found:
        return found
    first, moved = (observed.array(f"fine_tuned.{key}", shape=(len(weights),)) for key in ("first_step", "moved"))
    if not np.all(moved > 0):
        return [problem(f"{TRAINING_STEPS} training steps on one batch", "every weight, the encoder's included, "
                        "moving", f"{int(np.sum(moved == 0))} weight tensors unchanged", compile_hint)]
    if not first.max() <= rate * 1.05:
        return [problem("the first training step", f"weights moving by at most about {rate:g} (Adam's first step)",
                        f"a step of {first.max():.3g}", compile_hint)]
    return []


FINE_TUNE = Exercise("L4-fine-tune", ("fine_tuned",), observe_fine_tuned, fine_tune_rule,
                     f"fine-tuning: every weight trainable, Adam with a learning rate of at most {FINE_TUNE_RATE:g}.")


# --- Exercise 5: a balanced subset of labels ------------------------------------------------------------------

def _calls(inputs: dict) -> list[tuple[int, int]]:
    """The ``(n, seed)`` of each call: the larger budget twice with the same seed, once with another, then the
    smaller budget."""
    (large, small), (seed, other) = (int(n) for n in inputs["budgets"]), (int(s) for s in inputs["seeds"])
    return [(large, seed), (large, seed), (large, other), (small, seed)]


def observe_budget(objects: dict, inputs: dict) -> dict:
    function = objects.get("balanced_subset")
    if not callable(function):
        return {"callable": False, "kind": describe(function)}
    labels = inputs["subset_labels"].copy()
    observed = {"callable": True}
    for index, (n, seed) in enumerate(_calls(inputs)):
        result = function(labels, n, seed)
        array = np.array(result) if isinstance(result, (list, tuple, np.ndarray)) else None
        if array is not None and array.dtype.kind in "biuf":
            observed[f"call{index}"] = array
        else:
            observed[f"call{index}.kind"] = describe(result)
    observed["labels_after"] = labels
    return observed


def budget_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: the number of ``classes`` (default 10)."""
    classes = int(expected.get("classes", CLASSES))
    if not observed.value("callable", bool):
        return [problem("balanced_subset", "a function", str(observed.value("kind", str)),
                        "Define it with def balanced_subset(labels, n, seed): ...")]
    labels = inputs["subset_labels"]
    if np.any(observed.array("labels_after", shape=labels.shape) != labels):
        return [problem("balanced_subset", "the labels left unchanged", "they were modified in place",
                        "Work on np.asarray(labels) without assigning into it.")]
    picks = []
    for index, (n, _) in enumerate(_calls(inputs)):
        what = f"balanced_subset(labels, {n}, seed)"
        if observed.has(f"call{index}.kind"):
            return [problem(what, f"a NumPy array of {n} indices", str(observed.value(f"call{index}.kind", str)),
                            "Return np.concatenate(...) of the indices you drew.")]
        picked = observed.array(f"call{index}")
        if picked.ndim != 1 or picked.dtype.kind not in "iu":
            return [problem(what, f"{n} integer indices", describe(picked),
                            "Return positions into labels (np.flatnonzero, rng.choice), not the labels themselves.")]
        if len(picked) != n:
            return [problem(what, f"{n} indices ({n // classes} of each of the {classes} classes)",
                            f"{len(picked)} indices", f"Draw n // {classes} indices from each class: n in all.")]
        if picked.min() < 0 or picked.max() >= len(labels):
            return [problem("the indices", f"positions from 0 to {len(labels) - 1} in labels",
                            f"values from {picked.min()} to {picked.max()}")]
        distinct = len(np.unique(picked))
        if distinct != n:
            hint = ("Return positions into labels (np.flatnonzero, rng.choice), not the labels themselves."
                    if picked.max() < classes else "Draw without replacement: rng.choice(..., replace=False).")
            return [problem("the indices", f"{n} different images", f"{distinct} different ones", hint)]
        counts = np.bincount(labels[picked], minlength=classes)
        if np.any(counts != n // classes):
            return [problem("the classes of the subset", f"{n // classes} of each class", f"counts {counts.tolist()}",
                            "Draw n // 10 indices from each class separately: np.flatnonzero(labels == c) lists "
                            "class c's positions.")]
        picks.append(np.sort(picked))
    if np.any(picks[0] != picks[1]):
        return [problem("two draws with the same seed", "the same subset", "different subsets",
                        "Make the generator from the seed: rng = np.random.default_rng(seed).")]
    if not np.any(picks[0] != picks[2]):
        return [problem("draws with different seeds", "different subsets", "the same subset",
                        "Use the seed you are given: np.random.default_rng(seed).")]
    return []


BUDGET = Exercise("L4-budget", ("balanced_subset",), observe_budget, budget_rule,
                  "balanced_subset: n / 10 images of every class, without repeats, the same for the same seed.")

EXERCISES = (CONV_AUTOENCODER, FREEZE, HEAD, FINE_TUNE, BUDGET)
