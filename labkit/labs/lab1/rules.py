"""Lab 1's exercises: what is observed of each answer, and the one rule that judges it.

The self-checks (:mod:`labkit.labs.lab1.checks`) and the autograder (:mod:`labkit.labs.lab1.grading`)
both call these rules, on the same plain data (:class:`labkit.checks.Exercise`). The observers run in
the student's kernel and may import TensorFlow; the rules import NumPy only.
"""

from __future__ import annotations

import json

import numpy as np

from labkit import checks
from labkit.checks import Exercise, describe, problem
from labkit.labs.lab1 import BATCH_SIZE, HIDDEN, LATENT, PIXELS

MAX_BATCHES = 1000
"""A dataset is read for at most this many batches per pass (an endless one would never finish)."""


def make_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh inputs to apply the student's objects to: drawn at random for each grading run, and with a
    fixed seed by the self-checks."""
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    images[0, 0, :2] = 0, 255
    return {"images": images,
            "probe": rng.random((8, PIXELS), dtype=np.float32),
            "codes": (3 * rng.random((8, LATENT))).astype(np.float32),
            "targets": rng.random((8, PIXELS), dtype=np.float32),
            "projection": rng.uniform(-1, 1, PIXELS)}


def _array_ordescribe(value) -> dict:
    """An exact NumPy array of numbers as itself; anything else as a description of what it is."""
    if type(value) is np.ndarray and value.dtype.kind in "biuf":
        return {"array": value}
    return {"kind": describe(value)}


# --- Exercise 1: preprocess ------------------------------------------------------------------------

def observe_preprocess(objects: dict, inputs: dict) -> dict:
    preprocess = objects.get("preprocess")
    if not callable(preprocess):
        return {"callable": False, "kind": describe(preprocess)}
    images = inputs["images"].copy()
    output = _array_ordescribe(preprocess(images))
    one = _array_ordescribe(preprocess(inputs["images"][:1].copy()))
    observed = {"callable": True, "images_after": images}
    if "array" in output:
        observed["output"] = output["array"]
    else:
        observed["output_kind"] = output["kind"]
    if "array" in one:
        observed["output_one"] = one["array"]
    return observed


def preprocess_rule(observed, inputs: dict, expected: dict) -> list[str]:
    if not observed.value("callable", bool):
        return [problem("preprocess", "a function", str(observed.value("kind", str)),
                        "Define it with def preprocess(images): ...")]
    images = inputs["images"]
    n = len(images)
    if not np.array_equal(observed.array("images_after", dtype=np.uint8, shape=images.shape), images):
        return [problem("preprocess", "the input images left unchanged", "they were modified in place",
                        "Work on a copy, e.g. images.astype('float32') / 255.")]
    if not observed.has("output"):
        return [problem("preprocess(images)", "a NumPy array", str(observed.value("output_kind", str)),
                        "Return the array you computed.")]
    output = observed.array("output")
    if output.shape in ((n, 28, 28), (n, 28, 28, 1)):
        return [problem("preprocess(images) shape", f"({n}, {PIXELS}) for {n} images", str(output.shape),
                        f"Flatten each 28×28 image into {PIXELS} values: images.reshape(len(images), {PIXELS}).")]
    if output.shape != (n, PIXELS):
        return [problem("preprocess(images) shape", f"({n}, {PIXELS}) for {n} images", str(output.shape))]
    if output.dtype != np.float32:
        return [problem("preprocess(images) dtype", "float32", str(output.dtype),
                        "Keras works in float32; use images.astype('float32') before dividing "
                        "(float64 doubles the memory, integers cannot hold fractions).")]
    if output.max() > 1.0 + 1e-6:
        return [problem("preprocess(images) values", "values in [0, 1]", f"a maximum of {output.max():g}",
                        "Divide the pixels by 255, the largest value a uint8 pixel can take.")]
    wanted = images.reshape(n, PIXELS).astype(np.float32) / np.float32(255)
    if not np.allclose(output, wanted, rtol=0, atol=1e-6):
        worst = np.unravel_index(np.argmax(np.abs(output - wanted)), wanted.shape)
        pixel = images.reshape(n, -1)[worst]
        return [problem("preprocess(images) values", "pixel / 255 for every pixel, in the original order",
                        f"{output[worst]:.6g} for a pixel of value {pixel} (expected {wanted[worst]:.6g})",
                        "Divide by 255 (not 256) and do not shuffle or normalise the pixels.")]
    if not observed.has("output_one") or not np.allclose(observed.array("output_one"), wanted[:1], rtol=0,
                                                          atol=1e-6):
        return [problem("preprocess of a single image", "the same values as for that image in a batch",
                        "different values", "Do not use statistics of the whole batch (its mean or maximum).")]
    return []


PREPROCESS = Exercise("L1-preprocess", ("preprocess",), observe_preprocess, preprocess_rule,
                      "preprocess: float32 in [0, 1], shape (n, 784), input untouched.")


# --- Exercise 2: the tf.data pipelines ----------------------------------------------------------------

def _spec(spec) -> object:
    if isinstance(spec, (tuple, list)):
        return [_spec(part) for part in spec]
    if isinstance(spec, dict):
        return {str(key): _spec(value) for key, value in spec.items()}
    shape = getattr(spec, "shape", None)
    return {"shape": None if shape is None or shape.rank is None else list(shape),
            "dtype": getattr(getattr(spec, "dtype", None), "name", type(spec).__name__)}


def observe_pipelines(objects: dict, inputs: dict) -> dict:
    """Each dataset's class, element spec, and two passes: batch sizes and a random projection of every image
    and target (so that order and pairing can be checked without copying the data)."""
    import tensorflow as tf

    observed = {}
    for name, dataset in objects.items():
        if not isinstance(dataset, tf.data.Dataset):
            observed[f"{name}.kind"] = describe(dataset)
            continue
        observed[f"{name}.class"] = type(dataset).__name__
        observed[f"{name}.element_spec"] = _spec(dataset.element_spec)
        passes = []
        for number in range(2):
            xs, ys, sizes = [], [], []
            for batch in dataset.take(MAX_BATCHES):
                if not (isinstance(batch, tuple) and len(batch) == 2):
                    break
                x, y = (np.asarray(part) for part in batch)
                sizes.append(len(x))
                xs.append(x.reshape(len(x), -1).astype(np.float64) @ _fit(inputs["projection"], x))
                ys.append(y.reshape(len(y), -1).astype(np.float64) @ _fit(inputs["projection"], y))
            passes.append(sizes)
            observed[f"{name}.x{number}"] = np.concatenate(xs) if xs else np.zeros(0)
            observed[f"{name}.y{number}"] = np.concatenate(ys) if ys else np.zeros(0)
        observed[f"{name}.batches"] = passes
    return observed


def _fit(projection: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """The projection vector cut or zero-padded to one batch element's size (a wrong shape stays comparable)."""
    size = int(np.prod(batch.shape[1:])) if batch.ndim > 1 else 1
    return np.resize(projection, size) if size != len(projection) else projection


def pipelines_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: ``{name: {"images": array, "shuffled": bool, "batch_size": int}}`` for each dataset."""
    problems = []
    for name, wanted in expected.items():
        problems += [f"{name}: {found}" for found in _dataset_problems(observed, name, wanted, inputs)]
    return problems


def _dataset_problems(observed, name: str, wanted: dict, inputs: dict) -> list[str]:
    images, shuffled, batch_size = wanted["images"], wanted["shuffled"], wanted.get("batch_size", BATCH_SIZE)
    if observed.has(f"{name}.kind"):
        return [problem("the pipeline", "a tf.data.Dataset", str(observed.value(f"{name}.kind", str)),
                        "Start from tf.data.Dataset.from_tensor_slices(...).")]
    pixels = int(np.prod(images.shape[1:]))
    spec = observed.value(f"{name}.element_spec")
    pair = [{"shape": [None, pixels], "dtype": "float32"}] * 2
    if not (isinstance(spec, list) and len(spec) == 2):
        return [problem("its elements", "(input, target) pairs of tensors", json.dumps(spec)[:120],
                        "Build it from (x, x): tf.data.Dataset.from_tensor_slices((x, x)).")]
    if spec == [{"shape": [batch_size, pixels], "dtype": "float32"}] * 2:
        return [problem("its batches' shape", f"(None, {pixels}): a last batch may be smaller",
                        f"({batch_size}, {pixels}) always",
                        f"Use .batch({batch_size}) without drop_remainder=True: every image must be seen.")]
    if spec != pair:
        return [problem("its batches", f"pairs of float32 batches of shape (batch, {pixels})",
                        json.dumps(spec)[:160], "Call .batch(...) exactly once, on preprocessed (n, 784) images.")]
    problems = []
    if "Prefetch" not in str(observed.value(f"{name}.class", str)):
        problems.append(problem("its last step", ".prefetch(tf.data.AUTOTUNE)",
                                str(observed.value(f"{name}.class", str)),
                                "End the pipeline with .prefetch(tf.data.AUTOTUNE), so that the next batch is "
                                "ready while the model trains on this one."))
    n = len(images)
    sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    passes = observed.value(f"{name}.batches", list)
    if len(passes) != 2 or not all(isinstance(one, list) for one in passes):
        raise ValueError("batches")
    if passes[0] != sizes:
        shown = passes[0][:3] + (["..."] if len(passes[0]) > 3 else [])
        hint = (f"Use .batch({batch_size}) without drop_remainder: the last, smaller batch must stay."
                if passes[0] == sizes[:-1] else f"Use .batch({batch_size}), once.")
        return problems + [problem("one pass", f"{len(sizes)} batches of {batch_size} images (the last one "
                                   f"{sizes[-1]})", f"{len(passes[0])} batches of {shown}", hint)]
    reference = images.reshape(n, -1).astype(np.float64) @ inputs["projection"]
    orders = []
    for number in range(2):
        x = observed.array(f"{name}.x{number}", dtype=np.float64, shape=(n,))
        y = observed.array(f"{name}.y{number}", dtype=np.float64, shape=(n,))
        if not np.allclose(x, y, rtol=0, atol=1e-6):
            return problems + [problem("each target", "the same image as its input (an autoencoder reproduces "
                                       "its input)", "targets that differ from the inputs",
                                       "Build the dataset from (x, x).")]
        if not np.allclose(np.sort(x), np.sort(reference), rtol=0, atol=1e-6):
            return problems + [problem("one pass", "every image of the data exactly once", "other images",
                                       "Build it from the preprocessed images you were given.")]
        orders.append(x)
    in_order = np.isclose(orders[0], reference, rtol=0, atol=1e-6).mean()
    if shuffled and in_order > 0.5:
        problems.append(problem("the training batches", "shuffled images", "the images in their stored order",
                                "Add .shuffle(buffer_size) before .batch(...), with a buffer as large as the "
                                "data."))
    elif shuffled and np.isclose(orders[0], orders[1], rtol=0, atol=1e-6).mean() > 0.5:
        problems.append(problem("two passes over the training data", "a new order each pass",
                                "the same order every pass",
                                "Shuffle before batching, and leave reshuffle_each_iteration on (its default)."))
    elif not shuffled and (in_order < 1 or not np.allclose(orders[0], orders[1], rtol=0, atol=1e-6)):
        problems.append(problem("the test batches", "the images in their stored order", "a different order",
                                "Do not shuffle the test set: it makes results harder to compare."))
    return problems


PIPELINES = Exercise("L1-pipeline", ("train_ds", "test_ds"), observe_pipelines, pipelines_rule,
                     "pipeline: (image, image) pairs in batches, shuffled anew each pass, prefetched.")


# --- Exercises 3 and 4: the models -------------------------------------------------------------------

def describe_model(model) -> dict:
    """A Keras model as plain data: input and output shapes, and each layer's class and settings."""
    layers = []
    for layer in model.layers:
        config = layer.get_config()
        layers.append({"class": type(layer).__name__,
                       **{key: config[key] for key in ("units", "activation", "use_bias") if key in config}})
    return {"class": type(model).__name__, "inputs": [list(tensor.shape) for tensor in model.inputs],
            "outputs": [list(tensor.shape) for tensor in model.outputs], "layers": layers}


def observe_model(name: str, model, probe: np.ndarray) -> dict:
    """A model's description, weights (``name.w0``, ...) and its output on ``probe``, or what it is instead."""
    return checks.observe_model(name, model, probe, describe_model)


def observe_encoder_decoder(objects: dict, inputs: dict) -> dict:
    observed = {}
    for name, probe in (("encoder", inputs["probe"]), ("decoder", inputs["codes"])):
        if name in objects:
            observed.update(observe_model(name, objects[name], _resize_columns(probe, objects[name])))
    return observed


def _resize_columns(probe: np.ndarray, model) -> np.ndarray:
    """``probe`` with as many columns as ``model`` takes (a decoder for another code size still runs)."""
    shape = getattr(model, "input_shape", None)
    width = shape[-1] if isinstance(shape, tuple) and shape and isinstance(shape[-1], int) else probe.shape[1]
    return np.resize(probe, (len(probe), width)).astype(np.float32)


def dense_forward(x: np.ndarray, weights: list[np.ndarray], activations: tuple[str, ...]) -> np.ndarray:
    functions = {"relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v))}
    for (kernel, bias), activation in zip(zip(weights[::2], weights[1::2]), activations):
        x = functions[activation](x.astype(np.float64) @ kernel + bias)
    return x


def dense_model_problems(observed, name: str, probe: np.ndarray, sizes: tuple[int, ...],
                         activations: tuple[str, ...]) -> list[str]:
    """The problems of a dense model that should be ``sizes`` with ``activations``, judged by computing its
    output from its own weights."""
    if observed.has(f"{name}.kind"):
        return [problem(f"the {name}", "a keras.Model", str(observed.value(f"{name}.kind", str)),
                        "Build it with keras.Model(inputs, outputs, name=...).")]
    description = observed.value(f"{name}.model", dict)
    wanted_in, wanted_out = [[None, sizes[0]]], [[None, sizes[-1]]]
    if description.get("inputs") != wanted_in:
        return [problem(f"the {name}'s input shape", f"(None, {sizes[0]})", _shape(description.get("inputs")),
                        f"Start with keras.Input(shape=({sizes[0]},)).")]
    if description.get("outputs") != wanted_out:
        return [problem(f"the {name}'s output shape", f"(None, {sizes[-1]})", _shape(description.get("outputs")),
                        f"The {name}'s last layer should be Dense({sizes[-1]}).")]
    shapes = [shape for a, b in zip(sizes, sizes[1:]) for shape in ((a, b), (b,))]
    count = observed.value(f"{name}.weights", int)
    weights = [observed.array(f"{name}.w{index}") for index in range(min(count, len(shapes) + 2))]
    if count != len(shapes) or [w.shape for w in weights] != shapes:
        units = [w.shape[1] for w in weights if w.ndim == 2]
        return [problem(f"the {name}'s Dense layers", f"units {list(sizes[1:])} ({' → '.join(map(str, sizes))})",
                        f"units {units}", "Check each layer's size; model.summary() lists them.")]
    if observed.has(f"{name}.prediction_error"):
        return [f"the {name} could not be applied to a batch: {observed.value(f'{name}.prediction_error', str)}"]
    prediction = observed.array(f"{name}.prediction", shape=(len(probe), sizes[-1]))
    if not np.allclose(prediction, dense_forward(probe, weights, activations), rtol=1e-4, atol=1e-4):
        layers = ", ".join(f"Dense({size}, {activation})" for size, activation in zip(sizes[1:], activations))
        found = [layer.get("activation") for layer in description.get("layers", []) if isinstance(layer, dict)
                 and "units" in layer]
        return [problem(f"the {name}'s outputs", f"those of {layers} with its own weights",
                        f"other outputs (activations {found})",
                        "Check each layer's activation: ReLU inside the network"
                        + (", sigmoid for the pixels." if activations[-1] == "sigmoid" else "."))]
    return []


def _shape(shapes) -> str:
    if isinstance(shapes, list) and len(shapes) == 1 and isinstance(shapes[0], list):
        return "(" + ", ".join("None" if s is None else str(s) for s in shapes[0]) + ")"
    return json.dumps(shapes)[:80]


def encoder_decoder_rule(observed, inputs: dict, expected: dict) -> list[str]:
    """``expected``: the names to judge, each with its ``sizes`` (default: the lab's 784-128-32 encoder and
    32-128-784 decoder)."""
    latent = expected.get("latent", LATENT)
    models = {"encoder": ("probe", (PIXELS, HIDDEN, latent), ("relu", "relu")),
              "decoder": ("codes", (latent, HIDDEN, PIXELS), ("relu", "sigmoid"))}
    problems = []
    for name in expected.get("models", ("encoder", "decoder")):
        probe_name, sizes, activations = models[name]
        probe = np.resize(inputs[probe_name], (len(inputs[probe_name]), sizes[0])).astype(np.float32)
        problems += dense_model_problems(observed, name, probe, sizes, activations)
    return problems


ENCODER_DECODER = Exercise("L1-encoder-decoder", ("encoder", "decoder"), observe_encoder_decoder,
                           encoder_decoder_rule, "encoder 784 → 128 → 32 and decoder 32 → 128 → 784 (sigmoid).")


def observe_autoencoder(objects: dict, inputs: dict) -> dict:
    observed = observe_model("autoencoder", objects.get("autoencoder"), inputs["probe"])
    import keras

    parts = [objects.get("encoder"), objects.get("decoder")]
    if all(isinstance(part, keras.Model) for part in parts):
        weights = [w for part in parts for w in part.get_weights()]
        observed["parts.weights"] = len(weights)
        for index, weight in enumerate(weights):
            observed[f"parts.w{index}"] = np.asarray(weight)
        try:
            composed = parts[1](parts[0](inputs["probe"], training=False), training=False)
            observed["composed"] = np.asarray(composed, dtype=np.float32)
        except Exception:  # noqa: BLE001 - encoder and decoder that do not fit together
            pass
    return observed


def autoencoder_rule(observed, inputs: dict, expected: dict) -> list[str]:
    sizes = tuple(expected.get("sizes", (PIXELS, HIDDEN, LATENT, HIDDEN, PIXELS)))
    if observed.has("autoencoder.kind"):
        return [problem("the autoencoder", "a keras.Model", str(observed.value("autoencoder.kind", str)),
                        "Build it with keras.Model(inputs, decoder(encoder(inputs))).")]
    description = observed.value("autoencoder.model", dict)
    if description.get("inputs") != [[None, sizes[0]]] or description.get("outputs") != [[None, sizes[-1]]]:
        return [problem("the autoencoder's shapes", f"(None, {sizes[0]}) → (None, {sizes[-1]})",
                        f"{_shape(description.get('inputs'))} → {_shape(description.get('outputs'))}",
                        "Feed the encoder's output into the decoder: decoder(encoder(x)).")]
    wanted = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    found = observed.value("autoencoder.params", int)
    if found != wanted:
        return [problem("the number of parameters", f"{wanted:,} for {'-'.join(map(str, sizes))}", f"{found:,}",
                        "Check each layer's size; model.summary() lists them.")]
    count = observed.value("autoencoder.weights", int)
    parts = observed.value("parts.weights", int) if observed.has("parts.weights") else -1
    own = [observed.array(f"autoencoder.w{index}") for index in range(count)]
    theirs = [observed.array(f"parts.w{index}") for index in range(max(parts, 0))]
    if len(own) != len(theirs) or not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(own, theirs)):
        return ["the autoencoder should be built from encoder and decoder themselves (their layers and weights), "
                "not from new layers: use decoder(encoder(inputs))"]
    prediction = observed.array("autoencoder.prediction", shape=(len(inputs["probe"]), sizes[-1]))
    if not observed.has("composed") or not np.allclose(prediction, observed.array("composed"), rtol=1e-4,
                                                       atol=1e-5):
        return [problem("autoencoder(x)", "decoder(encoder(x))", "other values",
                        "Feed the encoder's output into the decoder: decoder(encoder(x)).")]
    if prediction.min() < 0 or prediction.max() > 1:
        return [problem("the reconstructions", "values in [0, 1]",
                        f"values from {prediction.min():g} to {prediction.max():g}")]
    return []


AUTOENCODER = Exercise("L1-autoencoder", ("autoencoder", "encoder", "decoder"), observe_autoencoder,
                       autoencoder_rule, "autoencoder: decoder(encoder(x)), built from them.")


# --- Exercise 5: compiling ---------------------------------------------------------------------------

def observe_compiled(objects: dict, inputs: dict) -> dict:
    import keras

    model = objects.get("autoencoder")
    if not isinstance(model, keras.Model):
        return {"kind": describe(model)}
    optimizer = getattr(model, "optimizer", None)
    observed = {"optimizer": None if optimizer is None else type(optimizer).__name__,
                "compiled": bool(getattr(model, "compiled", optimizer is not None))}
    if optimizer is None or not observed["compiled"]:
        return observed
    probe = np.resize(inputs["probe"], (len(inputs["probe"]), *model.input_shape[1:])).astype(np.float32)
    targets = np.resize(inputs["targets"], (len(probe), *model.output_shape[1:])).astype(np.float32)
    loss = model.evaluate(probe, targets, batch_size=len(probe), verbose=0)
    observed["loss"] = np.asarray(loss[0] if isinstance(loss, (list, tuple)) else loss, dtype=np.float64).reshape(1)
    observed["prediction"] = np.asarray(model(probe, training=False), dtype=np.float32)
    return observed


def binary_crossentropy(targets: np.ndarray, predictions: np.ndarray) -> float:
    clipped = np.clip(predictions.astype(np.float64), 1e-7, 1 - 1e-7)
    targets = targets.astype(np.float64)
    return float(np.mean(-(targets * np.log(clipped) + (1 - targets) * np.log(1 - clipped))))


def compiled_rule(observed, inputs: dict, expected: dict) -> list[str]:
    if observed.has("kind"):
        return [problem("the model", "a keras.Model", str(observed.value("kind", str)))]
    if observed.value("optimizer") is None or not observed.value("compiled", bool):
        return [problem("the model", "compiled", "not compiled yet", "Call model.compile(optimizer=..., loss=...).")]
    problems = []
    optimizer = observed.value("optimizer", str)
    if optimizer.lower() != expected.get("optimizer", "adam"):
        problems.append(problem("the optimizer", "Adam", optimizer, 'Use optimizer="adam".'))
    loss = observed.array("loss", dtype=np.float64, shape=(1,))[0]
    prediction = observed.array("prediction", dtype=np.float32)
    wanted = binary_crossentropy(np.resize(inputs["targets"], prediction.shape), prediction)
    if not np.isclose(loss, wanted, rtol=1e-3, atol=1e-4):
        problems.append(problem("the loss", f"binary cross-entropy ({wanted:.4f} on a test batch)",
                                f"a loss of {loss:.4f} on that batch",
                                'Pixels in [0, 1] behave like probabilities; loss="binary_crossentropy" compares '
                                "them as such."))
    return problems


COMPILED = Exercise("L1-compile", ("autoencoder",), observe_compiled, compiled_rule,
                    "compiled with Adam and binary cross-entropy.")

EXERCISES = (PREPROCESS, PIPELINES, ENCODER_DECODER, AUTOENCODER, COMPILED)
