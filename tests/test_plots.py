import numpy as np
from matplotlib.figure import Figure

from labkit import plots


def test_reconstruction_grid_has_two_rows_of_n():
    """Does the grid show n originals over n reconstructions, titled with the labels?"""
    x = np.random.default_rng(0).random((12, 784))
    fig = plots.reconstruction_grid(x, x, n=6, labels=list(range(12)))
    assert isinstance(fig, Figure) and len(fig.axes) == 12
    assert [ax.get_title() for ax in fig.axes[:6]] == ["0", "1", "2", "3", "4", "5"]
    assert fig.axes[0].get_ylabel() == "original" and fig.axes[6].get_ylabel() == "reconstruction"


def test_loss_curves_draw_the_floor():
    """Are training, validation and the floor each drawn, with the floor's value in the legend?"""
    fig = plots.loss_curves({"loss": [0.3, 0.2, 0.1], "val_loss": [0.31, 0.21, 0.12]}, floor=0.0581)
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    assert any("0.0581" in text.get_text() for text in ax.get_legend().get_texts())


def test_figures_show_as_png_in_jupyter():
    """Does a figure give Jupyter PNG bytes to display?"""
    png = plots.loss_curves({"loss": [1.0, 0.5]})._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
