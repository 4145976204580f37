import numpy as np
import pytest

from labkit import latent


class FakeCoder:
    """Stands in for a Keras encoder or decoder: calling it applies a fixed NumPy function."""

    def __init__(self, function):
        self.function = function

    def __call__(self, x, training=False):
        assert training is False
        return self.function(np.asarray(x))


def test_interpolation_runs_straight_from_start_to_end():
    """Does interpolate give both ends and evenly spaced codes between them?"""
    path = latent.interpolate([0, 0], [1, 2], steps=5)
    assert path.shape == (5, 2)
    np.testing.assert_allclose(path[0], [0, 0])
    np.testing.assert_allclose(path[-1], [1, 2])
    np.testing.assert_allclose(np.diff(path, axis=0), np.tile([0.25, 0.5], (4, 1)), atol=1e-6)
    with pytest.raises(ValueError, match="same size"):
        latent.interpolate([0, 0], [1, 2, 3])


def test_plane_points_cover_the_extent_with_the_top_row_first():
    """Does the n×n grid span the extent, with the largest code 2 in the first row (as an image is drawn)?"""
    points = latent.plane_points((-1, 1, -2, 2), n=3)
    assert points.shape == (3, 3, 2)
    np.testing.assert_allclose(points[0, 0], [-1, 2])
    np.testing.assert_allclose(points[-1, -1], [1, -2])
    np.testing.assert_allclose(points[1, 1], [0, 0])


def test_plane_extent_keeps_the_central_codes():
    """Does the extent leave out only the extreme 1 % of codes on each side?"""
    codes = np.random.default_rng(0).normal(size=(10_000, 2))
    codes[0] = [1e6, -1e6]  # one wild outlier must not stretch the plane
    x_min, x_max, y_min, y_max = latent.plane_extent(codes, coverage=0.98)
    assert -3 < x_min < -2 and 2 < x_max < 3 and -3 < y_min < -2 and 2 < y_max < 3
    with pytest.raises(ValueError, match="latent size 2"):
        latent.plane_extent(np.zeros((5, 3)))


def test_decode_plane_decodes_every_grid_point_in_place():
    """Is the image at grid cell (i, j) the one decoded from plane_points(...)[i, j]?"""
    decoder = FakeCoder(lambda z: np.repeat(z[:, :1], 784, axis=1) * 0 + z[:, 0:1] + 10 * z[:, 1:2])
    images = latent.decode_plane(decoder, (0, 1, 0, 1), n=4)
    points = latent.plane_points((0, 1, 0, 1), n=4)
    assert images.shape == (4, 4, 28, 28)
    np.testing.assert_allclose(images[1, 2, 0, 0], points[1, 2, 0] + 10 * points[1, 2, 1], rtol=1e-6)


def test_encode_flattens_codes_to_one_row_per_image():
    """Does encode return float32 codes of shape (n, size)?"""
    encoder = FakeCoder(lambda x: x.reshape(len(x), -1)[:, :3].astype("float64"))
    codes = latent.encode(encoder, np.ones((5, 28, 28, 1)), batch_size=2)
    assert codes.shape == (5, 3) and codes.dtype == np.float32


def test_subsample_is_reproducible_sorted_and_unique():
    """Does subsample draw distinct, sorted indices, the same ones for the same seed?"""
    first, again = latent.subsample(50, 1000, seed=3), latent.subsample(50, 1000, seed=3)
    assert np.array_equal(first, again) and len(np.unique(first)) == 50 and np.all(np.diff(first) > 0)
    assert np.array_equal(latent.subsample(10, 5), np.arange(5))


def test_linear_probe_reads_separable_codes_and_only_fits_training_codes():
    """Does the probe score ~1 on separable clusters, and ~0 when the test labels are permuted?"""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 50)
    centres = np.array([[0, 0], [8, 0], [0, 8]])
    train_codes = centres[labels] + rng.normal(size=(150, 2))
    test_codes = centres[labels] + rng.normal(size=(150, 2))
    assert latent.linear_probe(train_codes, labels, test_codes, labels) > 0.97
    assert latent.linear_probe(train_codes, labels, test_codes, (labels + 1) % 3) < 0.05


def test_tsne_keeps_clusters_apart():
    """Do the t-SNE neighbours of a point come from its own well-separated cluster?"""
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 40)
    codes = np.where(labels[:, None] == 0, 0.0, 20.0) + rng.normal(size=(80, 8))
    embedding = latent.tsne(codes, seed=0)
    assert embedding.shape == (80, 2)
    distances = np.linalg.norm(embedding[:, None] - embedding[None], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert np.all(labels[distances.argmin(axis=1)] == labels)


def test_reconstruct_keeps_the_images_shape():
    """Does reconstruct return one image per input, in the inputs' shape, batch by batch?"""
    autoencoder = FakeCoder(lambda x: 1 - x)
    images = np.random.default_rng(0).random((7, 28, 28, 1)).astype("float32")
    out = latent.reconstruct(autoencoder, images, batch_size=3)
    assert out.shape == images.shape
    np.testing.assert_allclose(out, 1 - images)
