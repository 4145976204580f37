"""Rebuild the small real data sample shipped in labkit/sample/ from the full datasets.

    python tools/make_sample.py ../shared/datasets

Takes a class-balanced, seeded subset of each split (test images come only from the test set), writes
them as gzipped IDX files with a fixed gzip header, and records their SHA-256 in SHA256SUMS.txt.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
from pathlib import Path

import numpy as np

from labkit.data import SAMPLE_DIR, SPLITS, load_idx_folder
from labkit.idx import encode_idx

PER_CLASS = {"mnist": {"train": 500, "test": 100}, "fashion-mnist": {"train": 400, "test": 100}}
SEED = 2024


def balanced_subset(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in np.unique(labels)]
    return rng.permutation(np.concatenate(picks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, help="folder holding mnist/ and fashion-mnist/")
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    sums = []
    for name, sizes in PER_CLASS.items():
        loaded = load_idx_folder(name, args.datasets)
        for (split, (images_file, labels_file)), (images, labels) in zip(SPLITS.items(), loaded):
            keep = balanced_subset(labels, sizes[split], rng)
            for file, array in ((images_file, images[keep]), (labels_file, labels[keep])):
                raw = encode_idx(array)
                target = SAMPLE_DIR / name / file
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
                sums.append(f"{hashlib.sha256(raw).hexdigest()}  {name}/{file}")
                print(f"{target}: {array.shape}, {target.stat().st_size / 1e6:.2f} MB")
    (SAMPLE_DIR / "SHA256SUMS.txt").write_text("\n".join(sums) + "\n")


if __name__ == "__main__":
    main()
