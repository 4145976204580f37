import numpy as np

from labkit import models, train
from labkit.config import QUICK_EPOCHS


def test_fit_records_epoch_times_and_honours_quick_mode(monkeypatch, capsys):
    """In quick mode, does fit train QUICK_EPOCHS epochs, say so, and time each one?"""
    monkeypatch.setenv("LABKIT_QUICK", "1")
    model, _, _ = models.dense_autoencoder(input_dim=16, hidden=8, latent=2)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).random((64, 16), dtype=np.float32)
    history = train.fit(model, x, x, epochs=50, batch_size=32, verbose=0)
    assert len(history.history["loss"]) == QUICK_EPOCHS == len(history.epoch_seconds)
    assert history.seconds == sum(history.epoch_seconds) > 0
    assert f"training {QUICK_EPOCHS} epochs instead of 50" in capsys.readouterr().out
