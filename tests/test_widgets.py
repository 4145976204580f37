import numpy as np
import pytest

from labkit import widgets


def test_size_slider_swaps_the_reconstructions():
    """Does moving the latent-size slider redraw the picture, and moving it back restore the first?"""
    rng = np.random.default_rng(0)
    originals = rng.random((10, 784))
    explorer = widgets.SizeExplorer(originals, {16: originals * 0.5, 2: np.zeros((10, 784))}, n=4)
    assert list(explorer.slider.options) == [2, 16] and explorer.slider.value == 2
    first = explorer.image.value
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    explorer.slider.value = 16
    assert explorer.image.value != first
    explorer.slider.value = 2
    assert explorer.image.value == first


def test_plane_sliders_decode_the_chosen_point():
    """Do the two sliders send their point to the decoder, which draws the picture?"""
    seen = []

    def decoder(point):
        seen.append(point.copy())
        return np.full((1, 28, 28, 1), float(point[0, 0] > 0))

    explorer = widgets.PlaneExplorer(decoder, (-2, 2, -1, 3))
    np.testing.assert_allclose(seen[-1], [[0.0, 1.0]])
    dark = explorer.image.value
    explorer.x.value = 1.5
    np.testing.assert_allclose(seen[-1], [[1.5, 1.0]])
    assert explorer.decode().mean() == 1.0 and explorer.image.value != dark


def test_static_viewers_get_a_picture_and_a_note():
    """Does the output carry the widget for Jupyter and a static PNG and note for the book?"""
    explorer = widgets.PlaneExplorer(lambda p: np.zeros((1, 784)), (0, 1, 0, 1))
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert '<img src="data:image/png;base64,' in bundle["text/html"]
    assert "Interactive in Jupyter" in bundle["text/plain"]


def test_bad_arguments_are_explained():
    """Are an empty set of sizes and an empty plane refused with a message?"""
    with pytest.raises(ValueError, match="empty"):
        widgets.SizeExplorer(np.zeros((3, 784)), {})
    with pytest.raises(ValueError, match="min < max"):
        widgets.PlaneExplorer(lambda p: p, (1, 1, 0, 1))
