"""Grading Lab 1 (the dense autoencoder): what the notebook exports, and how the grader checks it.

The two halves of one contract live here. **In the kernel**, after each exercise, an export cell calls
:func:`export`, which applies the student's objects to inputs the grader drew at random for this run
(``inputs/*.npy``) and saves plain data under ``export/<grade_id>/``; it then puts a correct value in
place of a missing or broken one, so that each exercise is graded on its own. **In the grader**,
:data:`CHECKS` compare that data with values computed here, from the same inputs and the shipped
MNIST sample. A question scores its points only when every check passes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from labkit.grading.exchange import ExportError, Exported, Mismatch, save_array, save_error, save_json, save_model

NOTEBOOK = "lab1_dense_autoencoder.ipynb"
BATCH_SIZE = 256
LATENT = 32
HIDDEN = 128
PIXELS = 784

SETUP = "import labkit.grading.lab1 as _labkit_grading\nimport labkit, keras, tensorflow"
"""The first cell of every grading run, the only one timed by the deadline alone: it imports TensorFlow
(5-15 s) so that the lab's own cells can be held to the per-cell timeout."""

EXPORTS = {grade_id: f"_labkit_grading.export({grade_id!r}, globals())"
           for grade_id in ("L1-preprocess", "L1-pipeline", "L1-encoder-decoder", "L1-autoencoder", "L1-compile")}
"""The instructor's export cell after each exercise, in notebook order."""

INPUTS, EXPORT = Path("inputs").absolute(), Path("export").absolute()
"""Fixed when the grading run's first cell imports this module, in the run's fresh folder."""
MAX_BATCHES = 400
"""A dataset is read for at most this many batches per pass (an endless one would never finish)."""


def make_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh inputs for one grading run (the grader writes them to ``inputs/``)."""
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    images[0, 0, :2] = 0, 255
    return {"images": images,
            "probe": rng.random((8, PIXELS), dtype=np.float32),
            "codes": (3 * rng.random((8, LATENT))).astype(np.float32),
            "targets": rng.random((8, PIXELS), dtype=np.float32),
            "projection": rng.uniform(-1, 1, PIXELS)}


# --- in the kernel ---------------------------------------------------------------------------------

def export(grade_id: str, namespace: dict) -> None:
    """The export cell of ``grade_id``: save what the grader needs, record any failure, repair state."""
    folder = EXPORT / grade_id
    folder.mkdir(parents=True, exist_ok=True)
    inputs = {path.stem: np.load(path, allow_pickle=False) for path in INPUTS.glob("*.npy")}
    try:
        _EXPORTERS[grade_id](folder, namespace, inputs)
    except Exception as error:  # the student's objects can fail in any way; that is a wrong answer
        save_error(folder, error)
    finally:
        _REPAIRS.get(grade_id, lambda namespace: None)(namespace)


def _export_preprocess(folder: Path, namespace: dict, inputs: dict) -> None:
    preprocess = namespace.get("preprocess")
    if not callable(preprocess):
        raise TypeError("preprocess is not defined as a function")
    images = inputs["images"].copy()
    save_array(folder, "output", preprocess(images))
    save_array(folder, "images_after", images)
    save_array(folder, "output_one", preprocess(inputs["images"][:1].copy()))


def _repair_preprocess(namespace: dict) -> None:
    from labkit import data

    (x_train, _), (x_test, _) = data.load_mnist(verbose=False)
    namespace["x_train_flat"], namespace["x_test_flat"] = data.preprocess(x_train), data.preprocess(x_test)


def _export_pipeline(folder: Path, namespace: dict, inputs: dict) -> None:
    import tensorflow as tf

    summary = {}
    for name, passes in (("train_ds", 2), ("test_ds", 2)):
        dataset = namespace.get(name)
        if not isinstance(dataset, tf.data.Dataset):
            summary[name] = {"error": f"{name} should be a tf.data.Dataset; it is a {type(dataset).__name__}"}
            continue
        summary[name] = {"class": type(dataset).__name__, "element_spec": _spec(dataset.element_spec),
                         "batches": []}
        for number in range(passes):
            xs, ys, sizes = [], [], []
            for batch in dataset.take(MAX_BATCHES):
                x, y = (np.asarray(part) for part in batch)
                sizes.append([list(x.shape), str(x.dtype), list(y.shape), str(y.dtype)])
                xs.append(x.reshape(len(x), -1).astype(np.float64) @ inputs["projection"])
                ys.append(y.reshape(len(y), -1).astype(np.float64) @ inputs["projection"])
            summary[name]["batches"].append(sizes)
            save_array(folder, f"{name}_x{number}", np.concatenate(xs) if xs else np.zeros(0))
            save_array(folder, f"{name}_y{number}", np.concatenate(ys) if ys else np.zeros(0))
    save_json(folder, "pipeline", summary)


def _spec(spec) -> object:
    if isinstance(spec, (tuple, list)):
        return [_spec(part) for part in spec]
    if isinstance(spec, dict):
        return {str(key): _spec(value) for key, value in spec.items()}
    return {"shape": None if spec.shape.rank is None else list(spec.shape), "dtype": spec.dtype.name}


def _export_models(folder: Path, namespace: dict, inputs: dict) -> None:
    errors = []
    for name, probe in (("encoder", inputs["probe"]), ("decoder", inputs["codes"])):
        try:
            save_model(folder, name, namespace.get(name), probe)
        except Exception as error:
            errors.append(f"{name}: {error}")
    if errors:
        raise RuntimeError("; ".join(errors))


def _repair_models(namespace: dict) -> None:
    import keras

    from labkit import models

    _, encoder, decoder = models.dense_autoencoder(latent=LATENT)
    for name, reference in (("encoder", encoder), ("decoder", decoder)):
        if not isinstance(namespace.get(name), keras.Model):
            namespace[name] = reference


def _export_autoencoder(folder: Path, namespace: dict, inputs: dict) -> None:
    save_model(folder, "autoencoder", namespace.get("autoencoder"), inputs["probe"])
    for name in ("encoder", "decoder"):
        for index, weight in enumerate(namespace[name].get_weights()):
            save_array(folder, f"{name}_w{index}", weight)
    encoder, decoder = namespace["encoder"], namespace["decoder"]
    composed = decoder(encoder(inputs["probe"], training=False), training=False)
    save_array(folder, "composed", np.asarray(composed))


def _repair_autoencoder(namespace: dict) -> None:
    import keras

    from labkit import models

    if not isinstance(namespace.get("autoencoder"), keras.Model):
        namespace["autoencoder"] = models.dense_autoencoder(latent=LATENT)[0]


def _export_compile(folder: Path, namespace: dict, inputs: dict) -> None:
    model = namespace.get("autoencoder")
    optimizer = getattr(model, "optimizer", None)
    save_json(folder, "compiled", {"optimizer": None if optimizer is None else type(optimizer).__name__})
    if optimizer is None or not getattr(model, "compiled", True):
        raise ExportError("autoencoder is not compiled: call autoencoder.compile(optimizer=..., loss=...)")
    loss = model.evaluate(inputs["probe"], inputs["targets"], batch_size=len(inputs["probe"]), verbose=0)
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss
    save_array(folder, "loss", np.asarray(loss, dtype=np.float64).reshape(1))
    save_array(folder, "prediction", np.asarray(model(inputs["probe"], training=False)))


_EXPORTERS = {"L1-preprocess": _export_preprocess, "L1-pipeline": _export_pipeline,
              "L1-encoder-decoder": _export_models, "L1-autoencoder": _export_autoencoder,
              "L1-compile": _export_compile}
_REPAIRS = {"L1-preprocess": _repair_preprocess, "L1-encoder-decoder": _repair_models,
            "L1-autoencoder": _repair_autoencoder}


# --- in the grader ---------------------------------------------------------------------------------

def reference() -> dict[str, np.ndarray]:
    """The preprocessed MNIST sample the kernel uses in quick mode (the grader's own copy)."""
    from labkit import data

    (x_train, _), (x_test, _) = data.load_sample("mnist")
    return {"train": data.preprocess(x_train), "test": data.preprocess(x_test)}


def check_preprocess(exported: Exported, inputs: dict, reference: dict) -> list[str]:
    images = inputs["images"]
    n = len(images)
    failures = []
    output = exported.array("output", dtype=np.float32, shape=(n, PIXELS))
    expected = images.reshape(n, PIXELS).astype(np.float32) / np.float32(255)
    if not np.allclose(output, expected, rtol=0, atol=1e-6):
        worst = np.unravel_index(np.argmax(np.abs(output - expected)), expected.shape)
        pixel = images.reshape(n, -1)[worst]
        failures.append(f"preprocess(images) gave {output[worst]:.6g} for a pixel of value {pixel}; "
                        f"expected {expected[worst]:.6g} (the pixel divided by 255)")
    if not np.array_equal(exported.array("images_after", dtype=np.uint8, shape=images.shape), images):
        failures.append("preprocess(images) changed the images it was given; work on a copy")
    one = exported.array("output_one", dtype=np.float32, shape=(1, PIXELS))
    if not failures and not np.allclose(one, expected[:1], rtol=0, atol=1e-6):
        failures.append("preprocess gave a different result for a single image")
    return failures


def check_pipeline(exported: Exported, inputs: dict, reference: dict) -> list[str]:
    summary = exported.json("pipeline")
    if not isinstance(summary, dict):
        raise Mismatch("pipeline.json is not what the export cell writes")
    failures = []
    for name, shuffled in (("train_ds", True), ("test_ds", False)):
        failures += [f"{name}: {problem}" for problem in _check_dataset(exported, summary.get(name), name, shuffled,
                                                                         reference[name[:-3]] @ inputs["projection"])]
    return failures


def _check_dataset(exported: Exported, info, name: str, shuffled: bool, expected: np.ndarray) -> list[str]:
    if not isinstance(info, dict) or "error" in info:
        return [str(info.get("error") if isinstance(info, dict) else "not exported")]
    problems = []
    spec = [{"shape": [None, PIXELS], "dtype": "float32"}] * 2
    if info.get("element_spec") != spec:
        problems.append(f"each element should be a pair (images, images) of float32 batches of shape "
                        f"(None, {PIXELS}); found {json.dumps(info.get('element_spec'))[:200]}")
    if "Prefetch" not in str(info.get("class")):
        problems.append("it should end with .prefetch(tf.data.AUTOTUNE)")
    n = len(expected)
    sizes = [BATCH_SIZE] * (n // BATCH_SIZE) + ([n % BATCH_SIZE] if n % BATCH_SIZE else [])
    passes = info.get("batches")
    if not isinstance(passes, list) or len(passes) != 2:
        return problems + ["its batches were not exported"]
    found_sizes = [[batch[0][0] if isinstance(batch, list) and batch and isinstance(batch[0], list) and batch[0]
                    else None for batch in one] for one in passes]
    if found_sizes[0] != sizes:
        shown = found_sizes[0][:4] + (["..."] if len(found_sizes[0]) > 4 else [])
        problems.append(f"one pass should give {len(sizes)} batches of {BATCH_SIZE} images (the last one "
                        f"{sizes[-1]}); found {len(found_sizes[0])} batches of {shown}")
        return problems
    orders = []
    for number in range(2):
        x = exported.array(f"{name}_x{number}", dtype=np.float64, shape=(n,))
        y = exported.array(f"{name}_y{number}", dtype=np.float64, shape=(n,))
        if not np.allclose(x, y, rtol=0, atol=1e-6):
            problems.append("the target of each image should be the image itself")
            return problems
        if not np.allclose(np.sort(x), np.sort(expected), rtol=0, atol=1e-6):
            problems.append("one pass should hold every image of the preprocessed data exactly once")
            return problems
        orders.append(x)
    in_order = np.isclose(orders[0], expected, rtol=0, atol=1e-6).mean()
    if shuffled:
        if in_order > 0.5:
            problems.append("the images come in their original order: shuffle them")
        elif np.isclose(orders[0], orders[1], rtol=0, atol=1e-6).mean() > 0.5:
            problems.append("every pass gives the same order: shuffle before batching, with "
                            "reshuffle_each_iteration left on")
    elif in_order < 1 or not np.allclose(orders[0], orders[1], rtol=0, atol=1e-6):
        problems.append("the test images should keep their order: do not shuffle them")
    return problems


def _dense_forward(x: np.ndarray, weights: list[np.ndarray], activations: tuple[str, ...]) -> np.ndarray:
    functions = {"relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v))}
    for (kernel, bias), activation in zip(zip(weights[::2], weights[1::2]), activations):
        x = functions[activation](x.astype(np.float64) @ kernel + bias)
    return x


def _check_model(exported: Exported, name: str, probe: np.ndarray, sizes: tuple[int, ...],
                 activations: tuple[str, ...]) -> list[str]:
    description = exported.json(name)
    if not isinstance(description, dict):
        raise Mismatch(f"{name}.json is not what the export cell writes")
    problems = []
    wanted_in, wanted_out = [[None, sizes[0]]], [[None, sizes[-1]]]
    if description.get("inputs") != wanted_in or description.get("outputs") != wanted_out:
        problems.append(f"{name} should map (None, {sizes[0]}) to (None, {sizes[-1]}); found "
                        f"{description.get('inputs')} → {description.get('outputs')}")
        return problems
    shapes = [shape for a, b in zip(sizes, sizes[1:]) for shape in ((a, b), (b,))]
    if description.get("weights") != len(shapes):
        layers = ", ".join(f"{layer.get('class')}({layer.get('units', '')})" for layer in description.get("layers", [])
                           if isinstance(layer, dict))
        return [f"{name} should be {' → '.join(map(str, sizes))} with Dense layers; found layers {layers}"]
    weights = []
    for index, shape in enumerate(shapes):
        weight = exported.array(f"{name}_w{index}", dtype=np.float32)
        if weight.shape != shape:
            return [f"{name} should be {' → '.join(map(str, sizes))}: its weight {index} has shape "
                    f"{weight.shape}, expected {shape}"]
        weights.append(weight)
    prediction = exported.array(f"{name}_prediction", dtype=np.float32, shape=(len(probe), sizes[-1]))
    if not np.allclose(prediction, _dense_forward(probe, weights, activations), rtol=1e-4, atol=1e-4):
        layers = " → ".join(f"Dense({size}, {activation})" for size, activation in zip(sizes[1:], activations))
        problems.append(f"{name}'s outputs are not those of {layers} with its own weights: check the activations")
    return problems


def check_encoder_decoder(exported: Exported, inputs: dict, reference: dict) -> list[str]:
    return (_check_model(exported, "encoder", inputs["probe"], (PIXELS, HIDDEN, LATENT), ("relu", "relu"))
            + _check_model(exported, "decoder", inputs["codes"], (LATENT, HIDDEN, PIXELS), ("relu", "sigmoid")))


def check_autoencoder(exported: Exported, inputs: dict, reference: dict) -> list[str]:
    description = exported.json("autoencoder")
    if not isinstance(description, dict):
        raise Mismatch("autoencoder.json is not what the export cell writes")
    if description.get("inputs") != [[None, PIXELS]] or description.get("outputs") != [[None, PIXELS]]:
        return [f"autoencoder should map (None, {PIXELS}) to (None, {PIXELS}); found "
                f"{description.get('inputs')} → {description.get('outputs')}"]
    parts = []
    for name in ("encoder", "decoder"):
        index = 0
        while True:
            try:
                parts.append(exported.array(f"{name}_w{index}"))
            except Mismatch:
                break
            index += 1
    count = description.get("weights")
    own = [exported.array(f"autoencoder_w{index}") for index in range(count if isinstance(count, int) else 0)]
    if len(own) != len(parts) or not all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(own, parts)):
        return ["autoencoder should be built from encoder and decoder themselves (their layers and weights), "
                "not from new layers: use decoder(encoder(inputs))"]
    prediction = exported.array("autoencoder_prediction", dtype=np.float32, shape=(len(inputs["probe"]), PIXELS))
    composed = exported.array("composed", shape=(len(inputs["probe"]), PIXELS))
    if not np.allclose(prediction, composed, rtol=1e-4, atol=1e-5):
        return ["autoencoder(x) should equal decoder(encoder(x))"]
    return []


def check_compile(exported: Exported, inputs: dict, reference: dict) -> list[str]:
    compiled = exported.json("compiled")
    failures = []
    if not isinstance(compiled, dict) or compiled.get("optimizer") != "Adam":
        found = compiled.get("optimizer") if isinstance(compiled, dict) else None
        failures.append(f"the optimizer should be Adam; found {found or 'none (not compiled)'}")
    loss = exported.array("loss", dtype=np.float64, shape=(1,))[0]
    prediction = exported.array("prediction", dtype=np.float32, shape=inputs["targets"].shape).astype(np.float64)
    clipped = np.clip(prediction, 1e-7, 1 - 1e-7)
    targets = inputs["targets"].astype(np.float64)
    expected = float(np.mean(-(targets * np.log(clipped) + (1 - targets) * np.log(1 - clipped))))
    if not np.isclose(loss, expected, rtol=1e-3, atol=1e-4):
        failures.append(f"the loss should be binary cross-entropy: on the grader's test batch it should be "
                        f"{expected:.4f}; the model reported {loss:.4f}")
    return failures


CHECKS = {"L1-preprocess": check_preprocess, "L1-pipeline": check_pipeline,
          "L1-encoder-decoder": check_encoder_decoder, "L1-autoencoder": check_autoencoder,
          "L1-compile": check_compile}
