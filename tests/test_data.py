import gzip
import io
import shutil
import urllib.error

import numpy as np
import pytest

import labkit.data as data
from labkit.data import (DatasetIntegrityError, DatasetMissingError, SampleDataWarning, load_fashion_mnist,
                         load_mnist, load_sample, preprocess)
from labkit.idx import encode_idx


def copy_sample(tmp_path, name="mnist"):
    """A data folder laid out like ../shared/datasets, holding the shipped sample's files."""
    folder = tmp_path / "datasets" / name
    shutil.copytree(data.SAMPLE_DIR / name, folder)
    return folder.parent


def sample_hashes(name="mnist"):
    sums = data._read_sums(data.SAMPLE_DIR / "SHA256SUMS.txt")
    return {f: sums[f"{name}/{f}"] for f in data.IDX_SHA256[name]}


# --- the shipped sample ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, n_train", [("mnist", 5000), ("fashion-mnist", 4000)])
def test_sample_is_real_balanced_uint8_data(name, n_train):
    """Is the shipped sample a few thousand real, class-balanced 28×28 uint8 images per dataset?"""
    (x_train, y_train), (x_test, y_test) = sample = load_sample(name)
    assert x_train.shape == (n_train, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [n_train // 10] * 10
    assert np.bincount(y_test).tolist() == [100] * 10
    assert 20 < x_train.mean() < 90  # real images: mostly black background, bright strokes
    assert sample.source.kind == "sample" and not sample.source.full


def test_sample_fits_the_size_budget():
    """Does the shipped sample stay within 5 MB in all?"""
    total = sum(p.stat().st_size for p in data.SAMPLE_DIR.rglob("*") if p.is_file())
    assert total <= 5_000_000


# --- a data folder ----------------------------------------------------------------------------------

def test_folder_given_as_argument_is_used_and_reported(tmp_path, monkeypatch):
    """Does load_mnist(data_dir) read that folder and say so in .source?"""
    monkeypatch.setattr(data, "IDX_SHA256", {**data.IDX_SHA256, "mnist": sample_hashes()})
    folder = copy_sample(tmp_path)
    loaded = load_mnist(folder, verbose=False)
    (x_train, y_train), (x_test, y_test) = loaded
    assert x_train.shape == (5000, 28, 28) and y_test.shape == (1000,)
    assert loaded.source.kind == "directory" and loaded.source.location == str(folder / "mnist")
    assert str(loaded.source) == "data_dir= (full dataset)"


def test_sources_are_named_without_their_paths(tmp_path, monkeypatch, capsys):
    """Does a loaded dataset say where it came from by name (LABKIT_DATA_DIR, Keras cache, shipped sample),
    never by a path that would differ on every machine?"""
    monkeypatch.setattr(data, "IDX_SHA256", {**data.IDX_SHA256, "mnist": sample_hashes()})
    folder = copy_sample(tmp_path)
    monkeypatch.setenv("LABKIT_DATA_DIR", str(folder))
    loaded = load_mnist()
    said = capsys.readouterr().out
    assert said == "mnist: loaded from LABKIT_DATA_DIR (full dataset)\n"
    assert str(tmp_path) not in said and str(loaded.source.location).startswith(str(tmp_path))
    assert str(load_sample("mnist").source) == "shipped sample (not the full dataset)"
    cache = data.Source("keras-cache", str(tmp_path / "mnist.npz"), True)
    assert str(cache) == "Keras cache (full dataset)"


def test_folder_from_the_environment_is_used(tmp_path, monkeypatch):
    """Is LABKIT_DATA_DIR honoured when no folder is passed?"""
    monkeypatch.setattr(data, "IDX_SHA256", {**data.IDX_SHA256, "fashion-mnist": sample_hashes("fashion-mnist")})
    monkeypatch.setenv("LABKIT_DATA_DIR", str(copy_sample(tmp_path, "fashion-mnist")))
    loaded = load_fashion_mnist(verbose=False)
    assert loaded.source.kind == "directory"


def test_folder_without_the_files_says_what_is_missing(tmp_path):
    """Does an explicit folder that lacks the files raise an error naming them, not fall back silently?"""
    with pytest.raises(DatasetMissingError, match=r"t10k-images-idx3-ubyte\.gz.*LABKIT_DATA_DIR"):
        load_mnist(tmp_path, verbose=False)


def test_truncated_file_raises_the_typed_error(tmp_path, monkeypatch):
    """Does a file cut short raise DatasetIntegrityError naming the file and the fix?"""
    monkeypatch.setattr(data, "IDX_SHA256", {**data.IDX_SHA256, "mnist": sample_hashes()})
    folder = copy_sample(tmp_path)
    target = folder / "mnist" / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    with pytest.raises(DatasetIntegrityError, match=r"t10k-images-idx3-ubyte\.gz.*truncated.*Delete") as error:
        load_mnist(folder, verbose=False)
    assert error.value.path == target


def test_checksum_mismatch_raises_the_typed_error_with_both_hashes(tmp_path, monkeypatch):
    """Does a well-formed file with other content fail its SHA-256 check, showing both hashes?"""
    hashes = sample_hashes()
    monkeypatch.setattr(data, "IDX_SHA256", {**data.IDX_SHA256, "mnist": hashes})
    folder = copy_sample(tmp_path)
    target = folder / "mnist" / "t10k-labels-idx1-ubyte.gz"
    labels = np.frombuffer(gzip.decompress(target.read_bytes())[8:], dtype=np.uint8).copy()
    labels[0] = (labels[0] + 1) % 10  # one label changed: still a valid gzip and a valid IDX file
    target.write_bytes(gzip.compress(encode_idx(labels)))
    with pytest.raises(DatasetIntegrityError, match="checksum mismatch") as error:
        load_mnist(folder, verbose=False)
    assert hashes["t10k-labels-idx1-ubyte.gz"] in str(error.value)
    assert "t10k-labels-idx1-ubyte.gz" in str(error.value)


def test_corrupted_gzip_raises_the_typed_error(tmp_path, monkeypatch):
    """Is a file with garbage in its compressed stream reported as corrupted?"""
    monkeypatch.setattr(data, "IDX_SHA256", {**data.IDX_SHA256, "mnist": sample_hashes()})
    folder = copy_sample(tmp_path)
    target = folder / "mnist" / "train-labels-idx1-ubyte.gz"
    raw = bytearray(target.read_bytes())
    raw[20:40] = bytes(20)
    target.write_bytes(bytes(raw))
    with pytest.raises(DatasetIntegrityError, match="train-labels-idx1-ubyte.gz"):
        load_mnist(folder, verbose=False)


# --- the Keras cache, download and offline fallback -----------------------------------------------

def test_offline_without_data_gives_the_sample_and_a_warning():
    """With no folder, an empty cache and no network, do we get the sample and a clear warning?"""
    with pytest.warns(SampleDataWarning, match=r"Could not download mnist.*LABKIT_DATA_DIR"):
        loaded = load_mnist(verbose=False)
    assert loaded.source.kind == "sample"
    assert len(loaded[0][0]) == 5000


def test_offline_leaves_no_partial_file_in_the_cache():
    """Does a failed download leave nothing behind in the Keras cache?"""
    with pytest.warns(SampleDataWarning):
        load_mnist(verbose=False)
    cache = data.keras_cache_dir()
    assert not cache.exists() or list(cache.rglob("*")) == []


def test_quick_mode_uses_the_sample_without_touching_the_network(monkeypatch):
    """Does LABKIT_QUICK=1 load the sample directly?"""
    monkeypatch.setenv("LABKIT_QUICK", "1")
    monkeypatch.setattr(data, "_open_url", lambda url: pytest.fail("quick mode must not download"))
    assert load_fashion_mnist(verbose=False).source.kind == "sample"


class FakeResponse(io.BytesIO):
    def __init__(self, payload, fail_after=None):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise urllib.error.URLError("connection reset")
        return super().read(size)


def test_download_gets_its_final_name_only_after_the_checksum(tmp_path, monkeypatch):
    """Does fetch() put a verified file in place, and leave no file at all when the hash is wrong?"""
    import hashlib

    payload = b"x" * 200_000
    monkeypatch.setattr(data, "_open_url", lambda url: FakeResponse(payload))
    target = tmp_path / "cache" / "mnist.npz"
    data.fetch("https://example.invalid/mnist.npz", target, hashlib.sha256(payload).hexdigest(), verbose=False)
    assert target.read_bytes() == payload

    other = tmp_path / "cache" / "other.npz"
    with pytest.raises(DatasetIntegrityError, match="checksum mismatch"):
        data.fetch("https://example.invalid/other.npz", other, "0" * 64, verbose=False)
    assert sorted(p.name for p in other.parent.iterdir()) == ["mnist.npz"]


def test_interrupted_download_leaves_nothing_under_the_final_name(tmp_path, monkeypatch):
    """Does a connection lost half-way leave neither the final file nor a partial one?"""
    monkeypatch.setattr(data, "_open_url", lambda url: FakeResponse(b"y" * 300_000, fail_after=100_000))
    target = tmp_path / "cache" / "mnist.npz"
    with pytest.raises(urllib.error.URLError):
        data.fetch("https://example.invalid/mnist.npz", target, None, verbose=False)
    assert list(target.parent.iterdir()) == []


def test_cached_npz_is_checked_before_use(monkeypatch):
    """Is a corrupted mnist.npz in the Keras cache reported with the fix, not loaded?"""
    cache = data.keras_cache_dir()
    cache.mkdir(parents=True)
    (cache / "mnist.npz").write_bytes(b"not really an npz")
    with pytest.raises(DatasetIntegrityError, match=r"mnist\.npz.*Delete"):
        load_mnist(verbose=False)


def test_valid_keras_cache_is_used(monkeypatch):
    """Is a verified mnist.npz in the Keras cache loaded as the full dataset?"""
    import hashlib

    (x_train, y_train), (x_test, y_test) = load_sample("mnist")
    cache = data.keras_cache_dir()
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    monkeypatch.setattr(data, "MNIST_NPZ_SHA256", hashlib.sha256((cache / "mnist.npz").read_bytes()).hexdigest())
    loaded = load_mnist(verbose=False)
    assert loaded.source.kind == "keras-cache"
    np.testing.assert_array_equal(loaded[1][1], y_test)


def test_full_datasets_match_their_published_sizes(full_data_dir):
    """Do the full datasets load with 60,000/10,000 images and MNIST's published label counts?"""
    (x_train, y_train), (x_test, _) = load_mnist(full_data_dir, verbose=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert round(float(x_train.mean()), 2) == 33.32
    (f_train, _), _ = load_fashion_mnist(full_data_dir, verbose=False)
    assert f_train.shape == (60000, 28, 28)


# --- preprocessing and the pipeline ----------------------------------------------------------------

def test_preprocess_scales_and_flattens():
    """Does preprocess give float32 in [0, 1], flattened or as 28×28×1 images?"""
    images = np.array([[[0] * 28] * 28, [[255] * 28] * 28], dtype=np.uint8)
    flat = preprocess(images)
    assert flat.shape == (2, 784) and flat.dtype == np.float32
    assert flat.min() == 0.0 and flat.max() == 1.0
    assert preprocess(images, flatten=False).shape == (2, 28, 28, 1)


def test_preprocess_refuses_already_scaled_images():
    """Does preprocessing twice fail with an explanation rather than divide by 255 again?"""
    once = preprocess(np.zeros((1, 28, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match="preprocessed already"):
        preprocess(once)


def test_pipeline_batches_pairs_of_the_same_image():
    """Does the autoencoder pipeline yield (x, x) batches of the asked size covering all the data?"""
    x = preprocess(load_sample("mnist")[1][0][:300])
    batches = list(data.pipeline(x, batch_size=128, seed=1))
    assert [len(b[0]) for b in batches] == [128, 128, 44]
    for inputs, targets in batches:
        np.testing.assert_array_equal(inputs.numpy(), targets.numpy())
    seen = np.concatenate([b[0].numpy() for b in batches])
    assert not np.array_equal(seen, x)  # shuffled
    np.testing.assert_array_equal(np.sort(seen.sum(axis=1)), np.sort(x.sum(axis=1)))  # same images


def test_pipeline_shuffle_is_reproducible_with_a_seed():
    """Do two pipelines with the same seed give the same first batch?"""
    x = np.random.default_rng(0).random((500, 784), dtype=np.float32)
    first = [next(iter(data.pipeline(x, batch_size=64, seed=7)))[0].numpy() for _ in range(2)]
    np.testing.assert_array_equal(*first)


def test_pipeline_with_labels_and_repeat():
    """Does a labelled, repeating, unshuffled pipeline cycle through the data in order?"""
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    stream = data.pipeline(x, y, batch_size=4, shuffle=False, repeat=True)
    batches = [b[1].numpy().tolist() for b in stream.take(4)]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9], [0, 1, 2, 3]]


def test_steady_turns_off_autotuning_and_changes_no_batch():
    """Does steady() switch tf.data's autotuning model off, for the kit's pipelines too, and yield the very
    batches of the same pipeline left as it was, epoch after epoch?"""
    import tensorflow as tf

    x = np.arange(120, dtype=np.float32).reshape(30, 4)

    def students_pipeline():
        return (tf.data.Dataset.from_tensor_slices((x, x)).cache().shuffle(30, seed=5)
                .batch(8).prefetch(tf.data.AUTOTUNE))

    as_written, steady = students_pipeline(), data.steady(students_pipeline())
    assert as_written.options().autotune.enabled is not False
    assert steady.options().autotune.enabled is False
    assert data.pipeline(x, batch_size=8).options().autotune.enabled is False
    for _ in range(3):  # each pass reshuffles: the same way in both
        expected = [inputs.numpy() for inputs, _ in as_written]
        got = [inputs.numpy() for inputs, _ in steady]
        assert [len(b) for b in got] == [8, 8, 8, 6]
        for a, b in zip(expected, got):
            np.testing.assert_array_equal(a, b)
