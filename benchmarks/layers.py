"""Where a lab's model spends a training step, layer by layer, in float32 and in mixed bfloat16.

    python benchmarks/layers.py --lab 2               # Lab 2's denoiser, batches of its lab (128)
    python benchmarks/layers.py --lab 3 --batch 512

For each layer with weights of the lab's main model (``BENCHMARK`` in ``labkit/labs/labN/experiments.py``), built
once in float32 and once in ``mixed_bfloat16``, it times one forward and backward pass of that layer alone (the
gradients of a sum of its outputs with respect to its input and its weights, as a ``tf.function``) on a batch of
random inputs of the layer's own input shape: the median of ``--repeats`` after a warm-up, in milliseconds, the
ratio float32 / bfloat16 (above 1: bfloat16 is faster), and the sums. A layer that is slow in bfloat16 shows as a
ratio below 1. The sum leaves out what lies between layers (casts, activations without weights, the optimizer).
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


def layers_with_weights(model):
    """The layers of ``model`` that hold weights, nested models opened, in order."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from layers_with_weights(layer)
        elif layer.weights:
            yield layer


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

    step(inputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        [gradient.numpy() for gradient in step(inputs)]
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lab", type=int, required=True, help="the lab whose main model to time")
    parser.add_argument("--batch", type=int, help="batch size (default: the lab's)")
    parser.add_argument("--repeats", type=int, default=15, help="timed passes per layer (default 15)")
    args = parser.parse_args(argv)

    from benchmarks.speed import built_in, lab_models
    from labkit import labs

    try:
        labs.get(args.lab)
    except labs.UnknownLab as error:
        parser.error(str(error))
    declared = [entry for entry in lab_models() if entry[0] == args.lab]
    if not declared:
        parser.error(f"Lab {args.lab} declares no BENCHMARK model (labkit/labs/lab{args.lab}/experiments.py); "
                     f"these do: {', '.join(sorted({str(entry[0]) for entry in lab_models()}))}")
    _, name, build, _, lab_batch = declared[0]  # its main model (BENCHMARK), not a side-by-side group
    batch = args.batch or lab_batch
    timed: dict[str, dict[str, tuple[float, str]]] = {}
    for policy in POLICIES:
        with built_in(policy):
            model = build()
        for layer in layers_with_weights(model):
            timed.setdefault(layer.name, {})[policy] = (step_milliseconds(layer, batch, args.repeats),
                                                        layer.compute_dtype)

    print(f"{name}: one forward and backward pass per layer, batch {batch}, median of {args.repeats} (ms)")
    sums = dict.fromkeys(POLICIES, 0.0)
    for layer, by_policy in timed.items():
        (f32, f32_dtype), (bf16, bf16_dtype) = (by_policy[policy] for policy in POLICIES)
        sums["float32"] += f32
        sums["mixed_bfloat16"] += bf16
        print(f"{layer:<18} {f32_dtype:<9} {f32:8.2f} | {bf16_dtype:<9} {bf16:8.2f} | ratio {f32 / bf16:4.2f}x")
    print(f"{'sum':<18} {'':<9} {sums['float32']:8.2f} | {'':<9} {sums['mixed_bfloat16']:8.2f} | "
          f"ratio {sums['float32'] / sums['mixed_bfloat16']:4.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
