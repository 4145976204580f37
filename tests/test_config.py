import random

import numpy as np
import pytest

import labkit
from labkit import config
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


@pytest.mark.parametrize("name, value, hint", [("LABKIT_QUICK", "maybe", "use 1"), ("LABKIT_SEED", "x", "whole number"),
                                               ("LABKIT_PRECISION", "float16", "mixed_bfloat16")])
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


@pytest.mark.parametrize("flags, models", [
    ("avx512f amx_tile amx_bf16", "mixed_bfloat16"),  # bfloat16 matrix units (AMX)
    ("avx512f avx512_bf16", "mixed_bfloat16"),  # bfloat16 vector units only
    ("avx2 avx512f", "float32"),  # no bfloat16 units
])
def test_auto_precision_follows_the_cpu(monkeypatch, cpu_flags, flags, models):
    """Does LABKIT_PRECISION=auto pick bfloat16 only on a CPU with bfloat16 units, does setup say so, and does a
    named precision always win?"""
    cpu_flags(flags)
    monkeypatch.setenv("LABKIT_PRECISION", "auto")
    assert settings().compute_precision() == models
    assert settings().describe().endswith(f"conv models in {models}")
    for named in ("float32", "Mixed_BFloat16"):
        monkeypatch.setenv("LABKIT_PRECISION", named)
        assert settings().compute_precision() == named.lower()


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    """Is the bfloat16 flag found among the CPU flags, and its absence (or no cpuinfo file) read as no?"""
    cpuinfo = tmp_path / "cpuinfo"
    for flags, expected in (("fpu sse avx512f avx512_bf16 amx_tile", True), ("fpu sse amx_bf16", True),
                            ("fpu sse avx2 avx512f", False)):
        cpuinfo.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n")
        assert config.cpu_has_bfloat16(cpuinfo) is expected
    assert config.cpu_has_bfloat16(tmp_path / "absent") is False


@pytest.mark.parametrize("quick", ["0", "1"])
@pytest.mark.parametrize("flags", ["avx512f amx_bf16", "avx512f avx512_bf16", "avx2"])
def test_setup_line_names_the_data_source_in_short_lines(monkeypatch, cpu_flags, tmp_path, quick, flags):
    """Does setup's report name the data source ("LABKIT_DATA_DIR (full dataset)"), never its path, in
    lines of at most 88 characters, whatever the mode and the CPU?"""
    cpu_flags(flags)
    monkeypatch.setenv("LABKIT_QUICK", quick)
    for data_dir, named in ((None, "Keras cache"), (tmp_path / "datasets", "LABKIT_DATA_DIR (full dataset)")):
        if data_dir is not None:
            monkeypatch.setenv("LABKIT_DATA_DIR", str(data_dir))
        said = settings().describe()
        assert str(tmp_path) not in said
        assert ("data: shipped sample" if quick == "1" else f"data: {named}") in said
        assert max(len(line) for line in said.splitlines()) <= 88, said
