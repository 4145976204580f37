import numpy as np
import pytest
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


# --- Lab 3 ---------------------------------------------------------------------------------------

def test_digit_scatters_colour_every_digit():
    """Do the t-SNE and code scatters draw every point with one legend entry per digit?"""
    rng = np.random.default_rng(0)
    points, labels = rng.normal(size=(100, 2)), np.arange(100) % 10
    for fig in (plots.tsne_scatter(points, labels), plots.code_scatter(points, labels)):
        ax = fig.axes[0]
        assert sum(len(c.get_offsets()) for c in ax.collections) == 100
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [str(d) for d in range(10)]


def test_decoded_plane_is_drawn_on_the_codes_axes():
    """Is the n×n grid one image spanning the plane's extent, labelled with the code axes?"""
    images = np.random.default_rng(0).random((5, 5, 28, 28))
    fig = plots.decoded_plane(images, (-1.0, 2.0, -3.0, 4.0))
    ax = fig.axes[0]
    assert ax.images[0].get_array().shape == (140, 140)
    assert tuple(ax.images[0].get_extent()) == (-1.0, 2.0, -3.0, 4.0)
    assert ax.get_xlabel() == "code 1"


def test_latent_sweep_shows_loss_with_floor_and_the_excess():
    """Does the sweep plot draw the losses with the floor, and the excess = loss - floor beside it?"""
    fig = plots.latent_sweep([2, 8, 16, 32], [0.16, 0.11, 0.09, 0.08], floor=0.0581)
    left, right = fig.axes[:2]
    assert len(left.lines) == 2
    np.testing.assert_allclose(right.lines[0].get_ydata(), np.array([0.16, 0.11, 0.09, 0.08]) - 0.0581)
    with pytest.raises(ValueError, match="one loss per latent size"):
        plots.latent_sweep([2, 8], [0.1], floor=0.05)


def test_score_histograms_and_roc_mark_the_threshold():
    """Do the histogram and ROC figures show each group, the threshold and the AUC?"""
    rng = np.random.default_rng(0)
    fig = plots.score_histograms({"0-8": rng.random(50), "9": rng.random(20) + 0.5}, threshold=0.7)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("0-8 (50)") and "threshold 0.7000" in labels
    roc = plots.roc_curve([0, 0.5, 1], [0, 0.8, 1], auc=0.9, point=(0.5, 0.8))
    assert any("0.900" in t.get_text() for t in roc.axes[0].get_legend().get_texts())



def test_roc_curves_label_each_score_with_its_auc():
    """Does each named score get its own curve, labelled with its AUC, beside the diagonal of guessing?"""
    curves = {"ELBO": ([0, 0.3, 1], [0, 0.6, 1], 0.65), "Lab 3": ([0, 0.2, 1], [0, 0.7, 1], 0.75)}
    fig = plots.roc_curves(curves, title="two scores")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["ELBO (AUC 0.650)", "Lab 3 (AUC 0.750)", "guessing (AUC 0.5)"]
    assert len(fig.axes[0].get_lines()) == 3

# --- Lab 2 ---------------------------------------------------------------------------------------

def test_denoising_rows_show_noisy_denoised_clean():
    """Are there three labelled rows of n images?"""
    x = np.random.default_rng(0).random((10, 28, 28, 1))
    fig = plots.denoising_rows(x, x, x, n=5)
    assert len(fig.axes) == 15
    assert [fig.axes[i].get_ylabel() for i in (0, 5, 10)] == ["noisy input", "denoised", "clean original"]


def test_feature_vectors_are_drawn_as_16_row_strips():
    """Is each 6,272-value vector drawn as a 16 × 392 strip, one per image, labelled?"""
    features = np.random.default_rng(0).random((12, 6272))
    fig = plots.feature_vectors(features, n=4, labels=[7, 2, 1, 0])
    strips = [ax for ax in fig.axes if ax.images]
    assert len(strips) == 4 and strips[0].images[0].get_array().shape == (16, 392)
    assert [ax.get_ylabel() for ax in strips] == ["7", "2", "1", "0"]
    with pytest.raises(ValueError, match="divide 6272"):
        plots.feature_vectors(features, rows=10)


def test_feature_maps_show_the_image_and_the_chosen_channels():
    """Does the figure hold the input and one 7×7 panel per chosen channel, and refuse missing channels?"""
    maps = np.random.default_rng(0).random((7, 7, 128))
    fig = plots.feature_maps(maps, [0, 5, 127], image=np.zeros((28, 28, 1)), cols=4)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == ["input", "channel 0", "channel 5", "channel 127"]
    assert shown[1].images[0].get_array().shape == (7, 7)
    with pytest.raises(ValueError, match="channels 0 to 127"):
        plots.feature_maps(maps, [128])
    with pytest.raises(ValueError, match="reshape"):
        plots.feature_maps(maps.reshape(-1), [0])


def test_metric_vs_level_draws_a_line_per_noise_and_the_reference():
    """Is there one panel per metric, one line per noise type, plus dashed reference lines?"""
    table = {"noise": ["gaussian"] * 3 + ["salt"] * 3, "level": [0.5, 0.1, 0.3] * 2,
             "BCE": [0.1, 0.08, 0.09, 0.2, 0.1, 0.15], "PSNR": [20, 24, 22, 15, 21, 18],
             "PSNR noisy": [10, 20, 14, 8, 15, 11]}
    fig = plots.metric_vs_level(table, metrics=["BCE", "PSNR"], reference={"PSNR": "PSNR noisy"})
    bce, psnr = fig.axes
    assert len(bce.lines) == 2 and len(psnr.lines) == 4
    assert list(bce.lines[0].get_xdata()) == [0.1, 0.3, 0.5]  # sorted by level
    assert bce.get_ylabel() == "BCE"


def test_setting_bars_mark_the_baseline():
    """Is there a bar per run in each metric's panel, the baseline in its own colour?"""
    table = {"setting": ["baseline", "tanh", "batch 512"], "accuracy": [0.9, 0.85, 0.88], "excess": [0.04, 0.05, 0.045]}
    fig = plots.setting_bars(table, metrics=["accuracy", "excess"], baseline="baseline")
    first = fig.axes[0]
    assert len(first.patches) == 3 and len(fig.axes) == 2
    assert first.patches[0].get_facecolor() != first.patches[1].get_facecolor()
    assert [t.get_text() for t in first.get_yticklabels()] == ["baseline", "tanh", "batch 512"]


# --- Lab 4 ---------------------------------------------------------------------------------------

CLASSES = ("a", "b", "c")


def test_confusion_heatmap_rows_are_percent_of_each_true_class():
    """Does each cell show the share of its true class, named by class on both axes?"""
    fig = plots.confusion_heatmap([0, 0, 0, 0, 1, 2], [0, 0, 0, 1, 1, 0], CLASSES)
    ax = fig.axes[0]
    cells = ax.collections[0].get_array().reshape(3, 3)
    assert np.allclose(cells[0], [75, 25, 0]) and np.allclose(cells[2], [100, 0, 0])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(CLASSES)
    assert ax.get_ylabel() == "true" and ax.get_xlabel() == "predicted"


def test_confusion_heatmap_refuses_labels_beyond_the_names():
    """Is a label without a class name refused, saying how many names were given?"""
    with pytest.raises(ValueError, match="only 3 class names"):
        plots.confusion_heatmap([0, 3], [0, 1], CLASSES)


def test_confusion_heatmaps_draw_one_matrix_per_model():
    """Does every model get its own titled heatmap?"""
    fig = plots.confusion_heatmaps({"frozen": [0, 1], "scratch": [1, 1]}, [0, 1], CLASSES)
    assert [ax.get_title() for ax in fig.axes] == ["frozen", "scratch"]


def test_learning_curves_draw_training_and_validation_per_model():
    """Are there two lines per model (training dashed) and one legend entry per model?"""
    histories = {"m1": {"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.55]},
                 "m2": {"accuracy": [0.7, 0.8, 0.85], "val_accuracy": [0.6, 0.7, 0.72]}}
    ax = plots.learning_curves(histories).axes[0]
    assert len(ax.lines) == 4 and ax.lines[0].get_linestyle() == "--"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["m1", "m2"]


def test_learning_curves_name_a_missing_metric():
    """Does asking for a metric a history lacks say which metrics it has?"""
    with pytest.raises(ValueError, match="has no 'accuracy'"):
        plots.learning_curves({"m": {"loss": [1.0]}})


def test_label_budget_plots_percent_on_a_log_axis():
    """Is accuracy drawn in percent against the budgets on a log scale, one line per model?"""
    fig = plots.label_budget([100, 1000, 54000], {"frozen": [0.7, 0.8, 0.9], "scratch": [0.6, 0.8, 0.91]})
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.lines) == 2
    assert np.allclose(ax.lines[0].get_ydata(), [70, 80, 90])


def test_label_budget_with_seeds_draws_means_their_range_and_a_panel_of_differences():
    """With one accuracy per seed, is the line the seeds' mean, a bar their range, and does the panel below draw
    each difference with its interval around a line of no difference?"""
    seeds = {"frozen": [[0.70, 0.72, 0.74], [0.80, 0.81, 0.82]],
             "scratch": [[0.69, 0.70, 0.71], [0.82, 0.82, 0.83]]}
    fig = plots.label_budget([100, 1000], seeds, against="scratch",
                             differences={"frozen": [(0.02, -0.01, 0.05), (-0.01, -0.02, 0.0)]})
    top, bottom = fig.axes
    assert np.allclose(top.lines[0].get_ydata(), [72, 81])
    assert "mean of 3 seeds" in top.get_legend_handles_labels()[1][0]
    bars, dots = top.collections[0], top.collections[1]
    assert [tuple(segment[:, 1]) for segment in bars.get_segments()] == [(70, 74), (80, 82)]
    assert np.allclose(sorted(dots.get_offsets()[:, 1]), sorted([70, 72, 74, 80, 81, 82]))
    assert "minus scratch" in bottom.get_ylabel() and bottom.get_xscale() == "log"
    assert any(np.allclose(line.get_ydata(), [2, -1]) for line in bottom.lines)
    with pytest.raises(ValueError, match="one \\(estimate, low, high\\) per budget"):
        plots.label_budget([100, 1000], seeds, differences={"frozen": [(0.02, -0.01, 0.05)]})


def test_label_budget_needs_one_accuracy_per_budget():
    """Is a model with too few accuracies refused?"""
    with pytest.raises(ValueError, match="2 accuracies for 3 budgets"):
        plots.label_budget([1, 2, 3], {"frozen": [0.5, 0.6]})


COLUMN_PX = 676
"""The width of the book's content column at 1280 px, where a figure shows at full size (100 dpi)."""


def test_confusion_matrices_stack_so_that_the_book_shows_them_at_full_size():
    """Do several confusion matrices stand one above the other, in a figure no wider than the book's column,
    so that their numbers are not shrunk?"""
    fig = plots.confusion_heatmaps({"frozen": [0, 1, 2], "tuned": [0, 1, 1], "scratch": [1, 1, 2]}, [0, 1, 2],
                                   CLASSES[:3])
    assert [ax.get_title() for ax in fig.axes] == ["frozen", "tuned", "scratch"]
    lefts = {round(ax.get_position().x0, 3) for ax in fig.axes}
    assert len(lefts) == 1, "the matrices should share one column"
    assert fig.get_figwidth() * 100 <= COLUMN_PX


def _records():
    record = {"lab": 4, "quick": False, "seed": 0, "environment": {}}
    return [{**record, "name": "dense", "metric": "val_bce", "value": 0.0866, "published": None,
             "lab_target": 0.088},
            {**record, "name": "frozen", "metric": "test_accuracy", "value": 0.8992, "published": 0.8897},
            {**record, "name": "scratch", "metric": "test_accuracy", "value": 0.9178, "published": 0.909}]


def test_results_figure_is_readable_and_starts_accuracy_at_zero():
    """Does the Results figure fit the book's column, label every bar with its value in 9-point type, and
    draw accuracies on an axis from 0 to 100 % (so that no gap is inflated)?"""
    fig = plots.results_comparison(_records())
    losses, accuracies = fig.axes
    assert fig.get_figwidth() * 100 <= COLUMN_PX
    assert accuracies.get_xlim() == (0, 100) and losses.get_xlim()[0] == 0
    labels = [text for ax in fig.axes for text in ax.texts]
    assert sorted(text.get_text() for text in labels) == sorted(["0.0866", "0.0880", "89.92", "88.97", "91.78",
                                                                 "90.90"])
    assert min(text.get_fontsize() for text in labels) >= 9
    assert min(label.get_fontsize() for ax in fig.axes for label in ax.get_yticklabels()) >= 9


def test_committed_results_figure_fits_the_column():
    """Is the committed results/results.png (written by `labkit reproduce`) no wider than the book's column,
    so that the page shows it unshrunk?"""
    from pathlib import Path

    from PIL import Image

    width, _ = Image.open(Path(__file__).resolve().parents[1] / "results" / "results.png").size
    assert width <= COLUMN_PX
