"""MNIST and Fashion-MNIST as Keras users know them, from the best source available.

``load_mnist()`` and ``load_fashion_mnist()`` return ``(x_train, y_train), (x_test, y_test)`` as uint8
arrays, looking in this order:

1. a folder given as ``data_dir`` or by ``LABKIT_DATA_DIR`` that holds the original gzipped IDX files;
2. the Keras cache (``~/.keras/datasets``), downloading into it when the files are not there yet;
3. when both fail (no network), a small real sample shipped inside labkit, with a warning.

In quick mode (``LABKIT_QUICK=1``) the sample is used directly. Every file is checked by SHA-256 before
it is used; the returned value's ``source`` attribute says where the data came from. Used in every lab.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labkit.config import settings
from labkit.idx import IDXFormatError, parse_idx

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MNIST_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
"""SHA-256 of Keras's ``mnist.npz`` (the hash Keras itself pins)."""

SAMPLE_DIR = Path(__file__).parent / "sample"
DOWNLOAD_TIMEOUT_S = 30

SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# SHA-256 of the *decompressed* IDX files: the content, whoever gzipped it and however.
IDX_SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
"""Names of the Fashion-MNIST labels 0-9. Used in Lab 4."""


class DatasetError(RuntimeError):
    """The data could not be loaded; the message says what to do."""


class DatasetIntegrityError(DatasetError):
    """A data file is truncated, corrupted or not the file it claims to be."""

    def __init__(self, path: Path | str, problem: str, fix: str):
        self.path = Path(path)
        super().__init__(f"{path}: {problem}. {fix}")


class DatasetMissingError(DatasetError):
    """A data folder that was asked for does not hold the dataset's files."""


class SampleDataWarning(UserWarning):
    """The small shipped sample is used instead of the full dataset."""


warnings.simplefilter("always", SampleDataWarning)


@dataclass(frozen=True)
class Source:
    """Where a dataset was loaded from.

    ``str()`` names the source, never its path ("LABKIT_DATA_DIR (full dataset)", "Keras cache (full
    dataset)", "shipped sample (not the full dataset)"), so that a notebook's saved output and a results
    record say the same on every machine; ``location`` keeps the path for whoever needs it.
    """

    kind: str  # "directory", "keras-cache", "download" or "sample"
    location: str
    full: bool  # False for the shipped sample
    setting: str = "LABKIT_DATA_DIR"
    """For a directory: what named it, ``LABKIT_DATA_DIR`` or the ``data_dir=`` argument."""

    def __str__(self) -> str:
        names = {"directory": self.setting, "keras-cache": "Keras cache",
                 "download": "Keras cache, downloaded now", "sample": "shipped sample"}
        size = "full dataset" if self.full else "not the full dataset"
        return f"{names.get(self.kind, self.kind)} ({size})"


class LoadedData(tuple):
    """``((x_train, y_train), (x_test, y_test))`` that also knows its :class:`Source`."""

    source: Source

    def __new__(cls, train, test, source: Source):
        loaded = super().__new__(cls, (train, test))
        loaded.source = source
        return loaded


def load_mnist(data_dir: str | os.PathLike | None = None, *, download: bool = True,
               verbose: bool = True) -> LoadedData:
    """MNIST digits as ``(x_train, y_train), (x_test, y_test)``, uint8, images 28×28."""
    return _load("mnist", data_dir, download=download, verbose=verbose)


def load_fashion_mnist(data_dir: str | os.PathLike | None = None, *, download: bool = True,
                       verbose: bool = True) -> LoadedData:
    """Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``, uint8; see :data:`FASHION_CLASSES`."""
    return _load("fashion-mnist", data_dir, download=download, verbose=verbose)


# --- the sources, in the order they are tried ----------------------------------------------------

def _load(name: str, data_dir, *, download: bool, verbose: bool) -> LoadedData:
    config = settings()
    if config.quick:
        loaded = load_sample(name)
        _say(verbose, f"{name}: quick mode, using the {loaded.source}")
        return loaded
    folder = Path(data_dir).expanduser() if data_dir is not None else config.data_dir
    if folder is not None:
        loaded = load_idx_folder(name, folder)
        if data_dir is not None:
            loaded.source = dataclasses.replace(loaded.source, setting="data_dir=")
        _say(verbose, f"{name}: loaded from {loaded.source}")
        return loaded
    try:
        loaded = _load_keras(name, download=download, verbose=verbose)
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        warnings.warn(
            f"Could not download {name} ({reason}); using the small sample shipped with labkit. "
            "Results will not match the lab's full-scale figures. To use the "
            f"full data, connect to the internet and run again, or set LABKIT_DATA_DIR to a folder "
            f"holding {name}/ with the four original .gz files.", SampleDataWarning, stacklevel=3)
        return load_sample(name)
    if loaded is None:
        warnings.warn(
            f"{name} is not in the Keras cache and downloading is switched off; using the small "
            f"sample shipped with labkit. Call with download=True or set LABKIT_DATA_DIR for the full "
            "data.", SampleDataWarning, stacklevel=3)
        return load_sample(name)
    _say(verbose, f"{name}: loaded from {loaded.source}")
    return loaded


def load_idx_folder(name: str, folder: str | os.PathLike, *, expected: dict[str, str] | None = None,
                    source_kind: str = "directory", full: bool = True) -> LoadedData:
    """Load the four gzipped IDX files of ``name`` from ``folder`` or ``folder/name``."""
    folder = Path(folder)
    expected = expected if expected is not None else IDX_SHA256[name]
    candidates = [folder / name, folder]
    found = next((c for c in candidates if all((c / f).is_file() for f in expected)), None)
    if found is None:
        missing = [f for f in expected if not (folder / name / f).is_file()]
        raise DatasetMissingError(
            f"{folder} does not hold the {name} files (missing in {folder / name}: "
            f"{', '.join(missing)}). Point LABKIT_DATA_DIR (or data_dir=) at a folder with a "
            f"{name}/ subfolder holding the four original .gz files, or unset it to download.")
    arrays = {file: read_idx_gz(found / file, expected[file]) for file in expected}
    train, test = ((arrays[images], arrays[labels]) for images, labels in SPLITS.values())
    _check_pairs(found, train, test)
    return LoadedData(train, test, Source(source_kind, str(found), full))


def load_sample(name: str) -> LoadedData:
    """The small real sample of ``name`` shipped inside labkit (used offline and in quick mode)."""
    sums = _read_sums(SAMPLE_DIR / "SHA256SUMS.txt")
    expected = {file: sums[f"{name}/{file}"] for pair in SPLITS.values() for file in pair}
    return load_idx_folder(name, SAMPLE_DIR, expected=expected, source_kind="sample", full=False)


def read_idx_gz(path: Path, sha256: str) -> np.ndarray:
    """Decompress, checksum and parse one gzipped IDX file."""
    fix = (f"Delete {path.name} and fetch it again (or restore it from the original distribution); "
           "the SHA-256 of every file is checked before use")
    try:
        raw = gzip.decompress(path.read_bytes())
    except EOFError:
        raise DatasetIntegrityError(path, "the gzip stream ends early: the file is truncated "
                                    "(an interrupted download or copy)", fix) from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise DatasetIntegrityError(path, f"not a valid gzip file ({error}): it is corrupted", fix) from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        raise DatasetIntegrityError(
            path, f"checksum mismatch: the content has SHA-256 {digest}, expected {sha256}", fix)
    try:
        return parse_idx(raw, name=str(path))
    except IDXFormatError as error:
        raise DatasetIntegrityError(path, str(error), fix) from None


def _check_pairs(folder: Path, *splits) -> None:
    for images, labels in splits:
        if len(images) != len(labels):
            raise DatasetIntegrityError(folder, f"{len(images)} images but {len(labels)} labels",
                                        "The folder mixes files of different datasets or samples")


def _read_sums(path: Path) -> dict[str, str]:
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, file = line.split()
            sums[file] = digest
    return sums


# --- the Keras cache and download ----------------------------------------------------------------

def keras_cache_dir() -> Path:
    """``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``), where Keras keeps its downloads."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets"


def _load_keras(name: str, *, download: bool, verbose: bool) -> LoadedData | None:
    cache = keras_cache_dir()
    if name == "mnist":
        path = cache / "mnist.npz"
        kind = "keras-cache" if path.is_file() else "download"
        if not path.is_file():
            if not download:
                return None
            fetch(KERAS_ORIGIN + "mnist.npz", path, MNIST_NPZ_SHA256, verbose=verbose)
        _verify_file(path, MNIST_NPZ_SHA256)
        with np.load(path) as npz:
            train, test = (npz["x_train"], npz["y_train"]), (npz["x_test"], npz["y_test"])
        return LoadedData(train, test, Source(kind, str(path), True))
    folder = cache / name
    files = list(IDX_SHA256[name])
    kind = "keras-cache" if all((folder / f).is_file() for f in files) else "download"
    for file in files:
        if not (folder / file).is_file():
            if not download:
                return None
            fetch(KERAS_ORIGIN + file, folder / file, None, verbose=verbose,
                  check=lambda part, file=file: read_idx_gz(part, IDX_SHA256[name][file]))
    loaded = load_idx_folder(name, folder.parent)
    return LoadedData(*loaded, Source(kind, str(folder), True))


def _verify_file(path: Path, sha256: str) -> None:
    digest = _sha256_file(path)
    if digest != sha256:
        raise DatasetIntegrityError(
            path, f"checksum mismatch: SHA-256 {digest}, expected {sha256}",
            f"Delete {path} and run again to download it afresh")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _open_url(url: str):
    """Open ``url`` for reading (the one place the kit touches the network; tests replace it)."""
    return urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S)


def fetch(url: str, target: Path, sha256: str | None, *, verbose: bool = True, check=None) -> Path:
    """Download ``url`` to ``target`` through a temporary file in the same folder.

    The file gets its final name only after its SHA-256 (or ``check(path)``) has passed, so an
    interrupted or corrupted download never leaves a file under the final name.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, part_name = tempfile.mkstemp(prefix=f".part_{target.name}.", dir=target.parent)
    part = Path(part_name)
    try:
        with os.fdopen(handle, "wb") as out, _open_url(url) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                done += len(block)
                if verbose:
                    _progress(target.name, done, total)
        if verbose:
            print(file=sys.stderr)
        if sha256 is not None:
            _verify_file(part, sha256)
        if check is not None:
            check(part)
        shutil.move(part, target)
    finally:
        part.unlink(missing_ok=True)
    return target


def _progress(name: str, done: int, total: int) -> None:
    shown = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
    print(f"\rdownloading {name}: {shown}", end="", file=sys.stderr, flush=True)


def _say(verbose: bool, message: str) -> None:
    if verbose:
        print(message)


# --- preprocessing and the tf.data pipeline (Lab 1) ----------------------------------------------

def preprocess(images: np.ndarray, *, flatten: bool = True) -> np.ndarray:
    """uint8 images (n, 28, 28) as float32 in [0, 1], flattened to (n, 784) or shaped (n, 28, 28, 1).

    Defined in Lab 1 (where students write it themselves); used by every later lab.
    """
    images = np.asarray(images)
    if images.ndim not in (2, 3) or images.shape[0] == 0:
        raise ValueError(f"expected a stack of images of shape (n, 28, 28) or (n, 784); got {images.shape}")
    if images.dtype != np.uint8:
        raise ValueError(f"expected raw uint8 pixels 0-255; got dtype {images.dtype}. "
                         "These images look preprocessed already.")
    scaled = images.astype("float32") / 255.0
    n = len(scaled)
    return scaled.reshape(n, -1) if flatten else scaled.reshape(n, 28, 28, 1)


def pipeline(inputs: np.ndarray, targets: np.ndarray | None = None, *, batch_size: int = 256,
             shuffle: bool = True, repeat: bool = False, seed: int | None = None):
    """A ``tf.data`` pipeline of (input, target) batches: cache, shuffle, batch, repeat, prefetch.

    It is :func:`steady`: tf.data's autotuning model is off.

    ``targets`` default to the inputs, which is what an autoencoder learns to reproduce. With
    ``repeat=True`` the data never ends: pass ``steps_per_epoch`` to ``fit``. Defined in Lab 1.
    """
    import tensorflow as tf

    inputs = np.asarray(inputs)
    if targets is None:
        data = tf.data.Dataset.from_tensor_slices(inputs).map(lambda x: (x, x))
    else:
        data = tf.data.Dataset.from_tensor_slices((inputs, np.asarray(targets)))
    data = data.cache()
    if shuffle:
        seed = settings().seed if seed is None else seed
        data = data.shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    if repeat:
        data = data.repeat()
    return steady(data.prefetch(tf.data.AUTOTUNE))


def steady(dataset):
    """``dataset`` with tf.data's autotuning model turned off, so that no epoch starts late.

    With it on (TensorFlow's default), a background thread re-tunes the pipeline at intervals that double
    from 10 ms up to a minute, and the start of an epoch sometimes waited for it with the CPU idle: on a
    2-core cloud VM, Lab 3's model ran 30 s epochs, and 2 epochs in 6 began 10-11 s late (timed per batch,
    the wait lay between the start of the epoch and its first batch); with the model off, no epoch was
    late, and every loss was the same to the last digit. A pipeline of cache, shuffle, batch
    and prefetch has no parallel work for the model to tune, so turning it off changes no batch.
    :func:`labkit.train.fit` applies this to every pipeline it trains or validates on.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)
