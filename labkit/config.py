"""The kit's settings, read in one place: quick mode, seed and data folder.

Each lab's setup cell calls :func:`setup`, which prints what it found, so a notebook never depends on
hidden state. The settings come from environment variables, so CI and instructors can change them
without editing a notebook:

``LABKIT_QUICK=1``
    quick mode: the shipped sample of real data and very few epochs, so that every notebook runs in
    seconds (CI uses it to prove the solutions still run). The numbers it prints are not the lab's results.
``LABKIT_SEED``
    the seed of every random generator (default 42).
``LABKIT_DATA_DIR``
    a folder holding the original gzipped IDX files (``mnist/`` and ``fashion-mnist/``).
``LABKIT_PRECISION``
    the arithmetic the convolutional models of Labs 2, 3, 4 and 6 compute in: ``auto`` (default),
    ``float32``, ``mixed_bfloat16`` or ``mixed_float16``. ``auto`` picks ``mixed_bfloat16`` on a CPU with
    bfloat16 units (AVX512_BF16 or AMX, where the models of Labs 3 and 4 computed 1.1–1.9× as fast,
    fastest epoch against fastest epoch, and Lab 2's denoiser 1.36× on AVX512_BF16, 1.5× on AMX) and
    ``float32`` everywhere else. Weights and every model's output layer stay in float32 whatever it says.
"""

from __future__ import annotations

import dataclasses
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_SEED = 42
QUICK_EPOCHS = 4
"""Epochs that any training runs for in quick mode, whatever the lab asks for."""
QUICK_BATCH = 128
"""The largest batch a training that asks for it (:meth:`Settings.batch_size`) runs with in quick mode: a few epochs
of the small sample in batches of 512 are 40 steps, too few for Lab 3's codes to beat the mean image."""
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
_BF16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class SettingsError(ValueError):
    """An environment variable of the kit holds a value it cannot use."""


@dataclass(frozen=True)
class Settings:
    quick: bool = False
    seed: int = DEFAULT_SEED
    data_dir: Path | None = None
    precision: str = "auto"

    def epochs(self, full: int) -> int:
        """The epochs to train for: ``full`` normally, at most :data:`QUICK_EPOCHS` in quick mode."""
        return min(full, QUICK_EPOCHS) if self.quick else full

    def batch_size(self, full: int) -> int:
        """The batch size to train with: ``full`` normally, at most :data:`QUICK_BATCH` in quick mode."""
        return min(full, QUICK_BATCH) if self.quick else full

    def describe(self) -> str:
        """What :func:`setup` prints: mode and seed, data source, precision, one line each (at most 88
        characters). The data source is named, not its path, so a saved output reads the same anywhere."""
        if self.quick:
            mode = "QUICK MODE (LABKIT_QUICK=1)"
            data = (f"shipped sample · at most {QUICK_EPOCHS} epochs: the numbers below are not the "
                    "lab's results")
        else:
            mode = "full mode"
            data = ("LABKIT_DATA_DIR (full dataset)" if self.data_dir
                    else "Keras cache (downloaded if missing), or shipped sample offline")
        return f"labkit: {mode} · seed {self.seed}\ndata: {data}\nconv models in {self.compute_precision()}"

    def compute_precision(self) -> str:
        """The Keras dtype policy the kit's convolutional models are built with (``auto`` resolved)."""
        if self.precision != "auto":
            return self.precision
        return "mixed_bfloat16" if cpu_has_bfloat16() else "float32"


def cpu_has_bfloat16(cpuinfo_path: str | Path = "/proc/cpuinfo") -> bool:
    """Whether this CPU has bfloat16 arithmetic units (AVX512_BF16 vector units or AMX matrix units).

    Read from the Linux ``/proc/cpuinfo`` flags; ``False`` where there is no such file.
    """
    try:
        with open(cpuinfo_path, encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return bool(_BF16_CPU_FLAGS & set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return False


def _read_bool(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}={os.environ[name]!r} is not understood; use 1 (on) or 0 (off).")


def _read_seed() -> int:
    value = os.environ.get("LABKIT_SEED", "").strip()
    if not value:
        return DEFAULT_SEED
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"LABKIT_SEED={value!r} is not a whole number; set e.g. LABKIT_SEED=42.") from None


def _read_precision() -> str:
    value = os.environ.get("LABKIT_PRECISION", "").strip().lower() or "auto"
    if value not in PRECISIONS:
        raise SettingsError(f"LABKIT_PRECISION={os.environ['LABKIT_PRECISION']!r} is not understood; "
                            f"use one of {', '.join(PRECISIONS)}.")
    return value


def settings() -> Settings:
    """The settings as the environment gives them now."""
    data_dir = os.environ.get("LABKIT_DATA_DIR", "").strip()
    return Settings(quick=_read_bool("LABKIT_QUICK"), seed=_read_seed(),
                    data_dir=Path(data_dir).expanduser().resolve() if data_dir else None,
                    precision=_read_precision())


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (if it is imported) Keras/TensorFlow."""
    random.seed(seed)
    np.random.seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    try:
        import keras
    except ImportError:  # the NumPy-only parts of the kit work without Keras
        return
    keras.utils.set_random_seed(seed)


def setup(seed: int | None = None, *, verbose: bool = True) -> Settings:
    """Read the settings, seed every generator and print one line that says what was found.

    Called in the setup cell of every lab.
    """
    found = settings()
    if seed is not None:
        found = dataclasses.replace(found, seed=seed)
    seed_everything(found.seed)
    if verbose:
        print(found.describe())
    return found
