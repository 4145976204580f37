"""The check framework's result assertions (labkit.checks.expect_*): strict at full scale, lenient in quick
mode. Each lab's own self-checks are tested in tests/labs/test_labN.py."""

import pytest

from labkit import checks, models, transfer
from labkit.checks import CheckFailed


def test_loss_targets_full_and_quick(monkeypatch):
    """Is the full-scale target enforced, and in quick mode only the mean-image baseline?"""
    checks.expect_loss_at_most(0.087, 0.088, baseline=0.26)
    with pytest.raises(CheckFailed, match="at most 0.088"):
        checks.expect_loss_at_most(0.09, 0.088, baseline=0.26)
    monkeypatch.setenv("LABKIT_QUICK", "1")
    checks.expect_loss_at_most(0.2, 0.088, baseline=0.26)
    with pytest.raises(CheckFailed, match="baseline"):
        checks.expect_loss_at_most(0.27, 0.088, baseline=0.26)


def test_accuracy_target_is_strict_at_full_scale_and_lenient_in_quick_mode(monkeypatch, capsys):
    """Does 88 % miss an 88.97 % target at full scale but pass in quick mode, where only 50 % is asked?"""
    with pytest.raises(CheckFailed, match="88.97%"):
        checks.expect_accuracy_at_least(0.88, 0.8897)
    monkeypatch.setenv("LABKIT_QUICK", "1")
    checks.expect_accuracy_at_least(0.88, 0.8897)
    assert "quick mode" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="not learned"):
        checks.expect_accuracy_at_least(0.2, 0.8897)


def test_expect_frozen_catches_a_changed_weight():
    """Does changing one weight of a 'frozen' encoder fail the assertion?"""
    _, encoder, _ = models.conv_autoencoder((8, 4, 2))
    features = transfer.freeze(transfer.cut_encoder(encoder, "enc_pool1"))
    snapshot = transfer.weight_snapshot(features)
    checks.expect_frozen(features, snapshot)
    kernel = features.get_layer("enc_conv1").kernel
    kernel.assign(kernel.numpy() + 1e-3)
    with pytest.raises(CheckFailed, match="unchanged by training"):
        checks.expect_frozen(features, snapshot)
