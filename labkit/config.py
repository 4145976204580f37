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
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_SEED = 42
QUICK_EPOCHS = 5
"""Epochs that any training runs for in quick mode, whatever the lab asks for."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class SettingsError(ValueError):
    """An environment variable of the kit holds a value it cannot use."""


@dataclass(frozen=True)
class Settings:
    quick: bool = False
    seed: int = DEFAULT_SEED
    data_dir: Path | None = None

    def epochs(self, full: int) -> int:
        """The epochs to train for: ``full`` normally, at most :data:`QUICK_EPOCHS` in quick mode."""
        return min(full, QUICK_EPOCHS) if self.quick else full

    def describe(self) -> str:
        mode = (f"QUICK MODE (LABKIT_QUICK=1): shipped data sample, at most {QUICK_EPOCHS} epochs; "
                "the numbers below are not the lab's results" if self.quick else "full mode")
        data = str(self.data_dir) if self.data_dir else "Keras cache or download, else the shipped sample"
        return f"labkit: {mode} · seed {self.seed} · data: {data}"


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


def settings() -> Settings:
    """The settings as the environment gives them now."""
    data_dir = os.environ.get("LABKIT_DATA_DIR", "").strip()
    return Settings(quick=_read_bool("LABKIT_QUICK"), seed=_read_seed(),
                    data_dir=Path(data_dir).expanduser().resolve() if data_dir else None)


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
        found = Settings(quick=found.quick, seed=seed, data_dir=found.data_dir)
    seed_everything(found.seed)
    if verbose:
        print(found.describe())
    return found
