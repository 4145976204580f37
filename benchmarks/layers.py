"""Where a lab's model spends a training step, layer by layer, in float32 and in mixed bfloat16.

    python benchmarks/layers.py --lab 2               # Lab 2's denoiser, batches of its lab (128)
    python benchmarks/layers.py --lab 3 --batch 512

For each layer of the lab's main model (``BENCHMARK`` in ``labkit/labs/labN/experiments.py``), those without
weights included (pooling, upsampling), built once in float32 and once in ``mixed_bfloat16``, it times one forward
and backward pass of that layer alone (the gradients of a sum of its outputs with respect to its input and its
weights, as a ``tf.function``) on a batch of random inputs of the layer's own input shape: the median of
``--repeats`` after a warm-up, in milliseconds, the ratio float32 / bfloat16 (above 1: bfloat16 is faster), and
the sums. A layer that is slow in bfloat16 shows as a ratio below 1. Below the sum, one whole training step of
the compiled model (``train_on_batch``: forward, loss, backward and the optimizer) on a random batch, timed the
same way: where it is well below the sum, the layers overlap or share work; where above, the time lies between
them (casts, the loss, the optimizer). A layer with several inputs (a VAE's sampling) is named, not timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

POLICIES = ("float32", "mixed_bfloat16")


def median_milliseconds(call, repeats: int) -> float:
    """Median milliseconds of ``call()`` over ``repeats`` runs after one warm-up (``call`` waits for its result)."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def step_milliseconds(layer, batch: int, repeats: int) -> float:
    """Median milliseconds of one forward and backward pass of ``layer`` alone on a random batch."""
    import tensorflow as tf

    inputs = tf.cast(tf.random.uniform((batch, *layer.input.shape[1:])), layer.compute_dtype)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(tf.cast(layer(x), "float32"))
        return tape.gradient(total, [x, *layer.trainable_weights])

    return median_milliseconds(lambda: [gradient.numpy() for gradient in step(inputs)], repeats)


def whole_step_milliseconds(model, shape: tuple[int, ...], batch: int, repeats: int) -> float:
    """Median milliseconds of one training step of the compiled autoencoder ``model`` on a random batch of
    images of ``shape``."""
    import numpy as np

    images = np.random.default_rng(0).random((batch, *shape), dtype=np.float32)
    return median_milliseconds(lambda: model.train_on_batch(images, images), repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lab", type=int, required=True, help="the lab whose main model to time")
    parser.add_argument("--batch", type=int, help="batch size (default: the lab's)")
    parser.add_argument("--repeats", type=int, default=15, help="timed passes per layer (default 15)")
    args = parser.parse_args(argv)

    from benchmarks.speed import built_in, lab_models
    from labkit import labs, models

    try:
        labs.get(args.lab)
    except labs.UnknownLab as error:
        parser.error(str(error))
    declared = [entry for entry in lab_models() if entry[0] == args.lab]
    if not declared:
        parser.error(f"Lab {args.lab} declares no BENCHMARK model (labkit/labs/lab{args.lab}/experiments.py); "
                     f"these do: {', '.join(sorted({str(entry[0]) for entry in lab_models()}))}")
    _, name, build, kind, lab_batch = declared[0]  # its main model (BENCHMARK), not a side-by-side group
    batch = args.batch or lab_batch
    shape = (784,) if kind == "flat" else (28, 28, 1)
    timed: dict[str, dict[str, tuple[float, str]]] = {}
    whole, untimed = {}, {}
    for policy in POLICIES:
        with built_in(policy):
            model = build()
        for layer in models.leaf_layers(model):
            if isinstance(layer.input, (list, tuple, dict)):
                untimed[layer.name] = f"{len(layer.input)} inputs"
                continue
            timed.setdefault(layer.name, {})[policy] = (step_milliseconds(layer, batch, args.repeats),
                                                        layer.compute_dtype)
        whole[policy] = whole_step_milliseconds(model, shape, batch, args.repeats)

    print(f"{name}: one forward and backward pass per layer, batch {batch}, median of {args.repeats} (ms)")
    sums = dict.fromkeys(POLICIES, 0.0)
    for layer, by_policy in timed.items():
        (f32, f32_dtype), (bf16, bf16_dtype) = (by_policy[policy] for policy in POLICIES)
        sums["float32"] += f32
        sums["mixed_bfloat16"] += bf16
        print(f"{layer:<18} {f32_dtype:<9} {f32:8.2f} | {bf16_dtype:<9} {bf16:8.2f} | ratio {f32 / bf16:4.2f}x")
    for label, times in (("sum", sums), ("whole step", whole)):
        print(f"{label:<18} {'':<9} {times['float32']:8.2f} | {'':<9} {times['mixed_bfloat16']:8.2f} | "
              f"ratio {times['float32'] / times['mixed_bfloat16']:4.2f}x")
    for layer, why in untimed.items():
        print(f"not timed: {layer} ({why})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
