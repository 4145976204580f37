import random

import numpy as np
import pytest

import labkit
from labkit.config import QUICK_EPOCHS, SettingsError, settings


def test_defaults_are_full_mode_and_seed_42():
    """Without environment settings, is the kit in full mode with seed 42?"""
    found = settings()
    assert (found.quick, found.seed, found.data_dir) == (False, 42, None)
    assert found.epochs(20) == 20


def test_quick_mode_caps_epochs(monkeypatch):
    """Does LABKIT_QUICK=1 cap every training at QUICK_EPOCHS, never raising a smaller count?"""
    monkeypatch.setenv("LABKIT_QUICK", "1")
    assert settings().epochs(20) == QUICK_EPOCHS
    assert settings().epochs(1) == 1


@pytest.mark.parametrize("name, value, hint", [("LABKIT_QUICK", "maybe", "use 1"), ("LABKIT_SEED", "x", "whole number")])
def test_bad_settings_explain_themselves(monkeypatch, name, value, hint):
    """Is a value the kit cannot use reported with the variable and what to write?"""
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"{name}.*{hint}"):
        settings()


def test_setup_seeds_and_says_what_it_found(monkeypatch, capsys):
    """Does setup() print the mode and seed, and make NumPy and Python draws repeatable?"""
    monkeypatch.setenv("LABKIT_QUICK", "1")
    monkeypatch.setenv("LABKIT_SEED", "7")
    labkit.setup()
    first = (np.random.rand(), random.random())
    labkit.setup(verbose=False)
    assert (np.random.rand(), random.random()) == first
    out = capsys.readouterr().out
    assert "QUICK MODE" in out and "seed 7" in out
