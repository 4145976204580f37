"""How fast the kit is, measured in one run on one machine.

    python benchmarks/speed.py                 # everything
    python benchmarks/speed.py --only models   # just the training comparison
    python benchmarks/speed.py --quick         # fewer images and epochs: a smoke test of the script

It prints:
1. for each lab model, the epoch time of training the way the labs do it (``labkit.data.pipeline`` +
   ``labkit.train.fit``) against plain ``model.fit`` on NumPy arrays, interleaved epoch by epoch after a
   warm-up, as medians and their ratio (above 1: the labs' path is faster);
2. the wall time of the quick-mode notebook suite (nbval);
3. the wall time of a book build;
4. the autograder's seconds per submission, when ``labkit.grading`` and the test corpus are present.
Shared machines are noisy: compare ratios from one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
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
    """(name, builder returning a compiled model, inputs kind, batch size) of each lab's main model."""
    import keras

    from labkit import models

    def dense():
        model, _, _ = models.dense_autoencoder()
        model.compile(optimizer="adam", loss="binary_crossentropy")
        return model

    found = [("Lab 1 dense autoencoder", dense, "flat", 256)]
    for name, builder, batch in (("Lab 2 convolutional denoiser", "conv_denoiser", 128),
                                 ("Lab 4 baseline convolutional autoencoder", "conv_autoencoder", 256)):
        if hasattr(models, builder):
            def build(builder=builder):
                model = getattr(models, builder)()[0]
                model.compile(optimizer="adam", loss="binary_crossentropy")
                return model
            found.append((name, build, "image", batch))
    del keras
    return found


def time_epochs(images: int, epochs: int) -> list[tuple[str, float, float]]:
    import keras

    from labkit import data, train

    (x_train, _), _ = data.load_mnist(verbose=False)
    x_train = x_train[:images]
    rows = []
    for name, build, kind, batch in lab_models():
        x = data.preprocess(x_train, flatten=kind == "flat")
        keras.utils.set_random_seed(0)
        labs_model, plain_model = build(), build()
        stream = data.pipeline(x, batch_size=batch, seed=0)
        labs_times, plain_times = [], []
        for epoch in range(epochs + 1):  # the first epoch of each is a warm-up (tracing) and is dropped
            start = time.perf_counter()
            train.fit(labs_model, stream, epochs=1, verbose=0)
            labs = time.perf_counter() - start
            start = time.perf_counter()
            plain_model.fit(x, x, batch_size=batch, epochs=1, shuffle=True, verbose=0)
            plain = time.perf_counter() - start
            if epoch:
                labs_times.append(labs)
                plain_times.append(plain)
        labs_median, plain_median = statistics.median(labs_times), statistics.median(plain_times)
        rows.append((name, labs_median, plain_median))
        print(f"{name:<42} labs' path {labs_median:6.2f} s/epoch | plain fit {plain_median:6.2f} s/epoch | "
              f"ratio {plain_median / labs_median:4.2f}x  ({len(x)} images, batch {batch}, "
              f"median of {epochs} epochs)", flush=True)
    return rows


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
    args = parser.parse_args(argv)
    chosen = set(args.only or ("models", "notebooks", "book", "grader"))
    bin_dir = Path(sys.executable).parent

    if "models" in chosen:
        print("== Epoch time: the labs' path against plain model.fit on NumPy ==")
        time_epochs(images=5000 if args.quick else 60000, epochs=2 if args.quick else 4)
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
