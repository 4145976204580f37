"""How fast the kit is, measured in one run on one machine.

    python benchmarks/speed.py                 # everything
    python benchmarks/speed.py --only models   # just the training comparison
    python benchmarks/speed.py --quick         # fewer images and epochs: a smoke test of the script
    python benchmarks/speed.py --only models --images 20000 --epochs 3   # a shorter training comparison
    python benchmarks/speed.py --only models --lab 1 --epochs 8          # one lab's model, more epochs

It prints:
1. for each lab model, the epoch time of training the way the labs do it (``labkit.models`` in the kit's
   compute precision, ``labkit.data.pipeline`` and ``labkit.train.fit``, whose pipelines run without
   tf.data's autotuning model: see ``labkit.data.steady``) against the same model in plain
   float32 Keras trained with ``model.fit`` on NumPy arrays, interleaved epoch by epoch after a warm-up, as
   medians and their ratio (above 1: the labs' path is faster), with the ratio of each path's fastest epoch
   (the arithmetic alone, where a shared or virtual machine stalls some epochs) and the loss each reached;
   then the share of the machine's peak each path achieves: the model's arithmetic per epoch (its
   multiply-adds per image counted from its layers, ``labkit.models.multiply_adds``, × 2 FLOPs × 3 for the
   forward and backward passes × images) over the epoch's time, against a large matrix product's FLOP/s
   measured in the same run (float32, and bfloat16 where the labs' path computes in it);
2. the wall time of the quick-mode notebook suite (nbval);
3. the wall time of a book build;
4. the autograder's seconds per submission, when ``labkit.grading`` and the test corpus are present.
Shared machines are noisy: compare ratios from one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]


def lab_models():
    """(lab, name, build, inputs kind, batch size) of each lab's main model, as each lab's package declares it
    (``BENCHMARK`` in ``labkit/labs/labN/experiments.py``), and of the models a lab trains side by side
    (``SIDE_BY_SIDE_BENCHMARK``: Lab 3's sweep). ``build()`` returns a compiled model, or a list of them to train
    side by side (``labkit.train.join_side_by_side``) on the labs' path and one after another in plain Keras."""
    from labkit import labs, models

    def compiled(builder):
        def build():
            model = builder()[0]  # (autoencoder, encoder, decoder)
            model.compile(optimizer="adam", loss="binary_crossentropy")
            return model
        return build

    def group(builders):
        return lambda: [build() for build in builders]

    found = []
    for lab in labs.with_part("experiments"):
        experiments = lab.part("experiments")
        for attribute in ("BENCHMARK", "SIDE_BY_SIDE_BENCHMARK"):
            declared = getattr(experiments, attribute, None)
            if declared:
                name, builder, kind, batch = declared
                builders = [compiled(b if callable(b) else getattr(models, b))  # a function, or its name in models
                            for b in (builder if isinstance(builder, (list, tuple)) else [builder])]
                build = group(builders) if isinstance(builder, (list, tuple)) else builders[0]
                found.append((lab.number, name, build, kind, batch))
    return found


def matmul_peak(dtype: str = "float32", *, size: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a ``size`` × ``size`` matrix product in TensorFlow, the best of ``repeats`` after a warm-up, with
    the threads the labs train with: the most this machine's arithmetic gives the labs' models in ``dtype``."""
    import tensorflow as tf

    a = tf.random.normal((size, size), dtype=dtype)
    b = tf.random.normal((size, size), dtype=dtype)
    product = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    product().numpy()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        product().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best


def training_flops(model, images: int) -> float:
    """FLOPs of one epoch of training on ``images``: 2 per multiply-add, 3 times the forward pass."""
    from labkit.models import multiply_adds

    return 3 * 2 * multiply_adds(model) * images


def time_epochs(images: int, epochs: int, only: set[int] | None = None, entries=None) -> list[tuple[str, float, float]]:
    """Print and return (name, labs' median, plain median) seconds an epoch for each of ``entries`` (default:
    :func:`lab_models`, those of the labs in ``only``)."""
    import keras

    from labkit import data, train
    from labkit.reproduce import computed_in, trained_with

    peaks = {"float32": matmul_peak("float32")}
    print(f"float32 matrix-product peak: {peaks['float32'] / 1e9:.1f} GFLOP/s", flush=True)

    (x_train, _), _ = data.load_mnist(verbose=False)
    x_train = x_train[:images]
    rows = []
    for lab, name, build, kind, batch in lab_models() if entries is None else entries:
        if only and lab not in only:
            continue
        x = data.preprocess(x_train, flatten=kind == "flat")
        keras.utils.set_random_seed(0)
        labs_models = build()
        keras.utils.set_random_seed(0)
        with built_in("float32"):  # the plain-Keras way: float32 throughout
            plain_models = build()
        stream = data.pipeline(x, batch_size=batch, seed=0)
        if isinstance(labs_models, list):  # trained side by side on the labs' path, one after another in plain Keras
            labs_train, stream = train.join_side_by_side({f"model_{i}": m for i, m in enumerate(labs_models)}, stream)
        else:
            labs_train, labs_models, plain_models = labs_models, [labs_models], [plain_models]
        labs_times, plain_times = [], []
        for epoch in range(epochs + 1):  # the first epoch of each is a warm-up (tracing) and is dropped
            start = time.perf_counter()
            labs_loss = train.fit(labs_train, stream, epochs=1, verbose=0).history["loss"][-1]
            labs = time.perf_counter() - start
            start = time.perf_counter()
            plain_loss = sum(model.fit(x, x, batch_size=batch, epochs=1, shuffle=True, verbose=0).history["loss"][-1]
                             for model in plain_models)
            plain = time.perf_counter() - start
            if epoch:
                labs_times.append(labs)
                plain_times.append(plain)
        labs_median, plain_median = statistics.median(labs_times), statistics.median(plain_times)
        rows.append((name, labs_median, plain_median))
        labs_precision = computed_in(trained_with(labs_models[0]))
        together = f"{len(labs_models)} models side by side vs one after another, " if len(labs_models) > 1 else ""
        print(f"{name:<42} labs' path {labs_median:6.2f} s/epoch | plain fit {plain_median:6.2f} s/epoch | "
              f"ratio {plain_median / labs_median:4.2f}x (fastest epochs {min(plain_times) / min(labs_times):4.2f}x)"
              f" | loss after {epochs + 1} epochs {labs_loss:.4f} vs "
              f"{plain_loss:.4f} ({together}{labs_precision} vs float32, {len(x)} images, "
              f"batch {batch}, median of {epochs} epochs)", flush=True)
        flops = sum(training_flops(model, len(x)) for model in labs_models)
        dtype = "bfloat16" if "bfloat16" in labs_precision else "float32"
        if dtype not in peaks:
            peaks[dtype] = matmul_peak(dtype)
            print(f"{dtype} matrix-product peak: {peaks[dtype] / 1e9:.1f} GFLOP/s", flush=True)
        print(f"{'':<42} {flops / 1e12:.2f} TFLOP an epoch: labs' path {flops / labs_median / 1e9:.1f} GFLOP/s, "
              f"{100 * flops / labs_median / peaks[dtype]:.0f} % of the {dtype} peak | plain fit "
              f"{flops / plain_median / 1e9:.1f} GFLOP/s, {100 * flops / plain_median / peaks['float32']:.0f} % of "
              f"the float32 peak", flush=True)
    return rows


@contextlib.contextmanager
def built_in(precision: str):
    """Build models in ``precision`` (a ``LABKIT_PRECISION`` value), whatever the kit's setting; restored after."""
    previous = os.environ.get("LABKIT_PRECISION")
    os.environ["LABKIT_PRECISION"] = precision
    try:
        yield
    finally:
        if previous is None:
            del os.environ["LABKIT_PRECISION"]
        else:
            os.environ["LABKIT_PRECISION"] = previous


def wall(command: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        print(f"  (failed with exit {run.returncode}: {run.stdout[-500:]}{run.stderr[-500:]})")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("models", "notebooks", "book", "grader"), action="append")
    parser.add_argument("--quick", action="store_true", help="a few thousand images and 2 epochs")
    parser.add_argument("--images", type=int, default=60000, help="training images per epoch (default 60000)")
    parser.add_argument("--epochs", type=int, default=4, help="timed epochs per path, after one warm-up (default 4)")
    parser.add_argument("--lab", type=int, action="append",
                        help="time only this lab's model; repeat for several (default: every lab's)")
    args = parser.parse_args(argv)
    chosen = set(args.only or ("models", "notebooks", "book", "grader"))
    bin_dir = Path(sys.executable).parent

    if "models" in chosen:
        print("== Epoch time: the labs' path against plain model.fit on NumPy ==")
        time_epochs(images=5000 if args.quick else args.images, epochs=2 if args.quick else args.epochs,
                    only=set(args.lab or ()))
    if "notebooks" in chosen:
        seconds = wall([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_notebooks.py"])
        print(f"== Quick-mode notebook suite (nbval): {seconds:.0f} s")
    if "book" in chosen:
        with tempfile.TemporaryDirectory() as out:
            seconds = wall([str(bin_dir / "jupyter-book"), "build", ".", "--path-output", out, "-W", "-n",
                            "--keep-going"])
        print(f"== Book build (student edition): {seconds:.0f} s")
    if "grader" in chosen:
        corpus = ROOT / "tests" / "files" / "submissions"
        if not corpus.is_dir():
            print("== Autograder: skipped (no tests/files/submissions corpus)")
        else:
            submissions = [p for p in corpus.iterdir() if not p.name.startswith(".")]
            with tempfile.TemporaryDirectory() as out:
                seconds = wall([str(bin_dir / "labkit"), "grade", str(corpus), "--lab", "1", "--workers", "2",
                                "--out", str(Path(out) / "gradebook.csv")])
            print(f"== Autograder: {seconds:.0f} s for {len(submissions)} submissions with 2 workers, "
                  f"{seconds / max(len(submissions), 1):.1f} s per submission")
    return 0


if __name__ == "__main__":
    sys.exit(main())
