"""Interactive explorers of Lab 3: a slider over latent sizes and two sliders over the 2-D code plane.

In JupyterLab each explorer is a small ipywidgets form whose picture changes as the sliders move. The
drawing is plain Python (:meth:`SizeExplorer.render`, :meth:`PlaneExplorer.render`), so tests drive it
without a browser. The same output carries a static ``text/html`` version (the picture of the first
setting and a note), which the static book shows instead of the widget; the lab also draws the static
figures themselves. Used in Lab 3.
"""

from __future__ import annotations

import base64
import io

import ipywidgets as widgets
import numpy as np

from labkit import plots


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    return buffer.getvalue()


class _Explorer:
    """The parts both explorers share: a picture, the controls above it, and the static fallback."""

    note = ""

    def __init__(self, controls: list):
        self.image = widgets.Image(format="png", value=self.render())
        self.widget = widgets.VBox([*controls, self.image])

    def render(self) -> bytes:
        raise NotImplementedError

    def update(self, change=None) -> None:
        """Redraw the picture for the sliders' current values (the sliders' callback)."""
        self.image.value = self.render()

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """The widget for JupyterLab, plus a static picture and note for the book and other viewers."""
        data = self.widget._repr_mimebundle_(**kwargs)
        picture = base64.b64encode(self.image.value).decode("ascii")
        data["text/html"] = (f'<p><em>{self.note}</em></p>'
                             f'<img src="data:image/png;base64,{picture}" alt="{self.note}"/>')
        data["text/plain"] = self.note
        return data


class SizeExplorer(_Explorer):
    """A slider over the trained latent sizes that swaps the reconstructions shown under the originals."""

    note = ("Interactive in Jupyter: move the slider to swap latent sizes. "
            "The static figure above shows every size at once.")

    def __init__(self, originals, reconstructions: dict[int, np.ndarray], *, labels=None, n: int = 10):
        if not reconstructions:
            raise ValueError("reconstructions is empty: give {latent size: reconstructed images}.")
        self.originals, self.reconstructions = originals, dict(sorted(reconstructions.items()))
        self.labels, self.n = labels, n
        sizes = list(self.reconstructions)
        self.slider = widgets.SelectionSlider(options=sizes, value=sizes[0], description="latent size",
                                              continuous_update=False)
        super().__init__([self.slider])
        self.slider.observe(self.update, names="value")

    def render(self) -> bytes:
        size = self.slider.value
        fig = plots.reconstruction_grid(self.originals, self.reconstructions[size], n=self.n, labels=self.labels,
                                        title=f"latent size {size} (compression {784 / size:g}×)")
        return _png(fig)


class PlaneExplorer(_Explorer):
    """Two sliders that pick a point of a 2-D code plane and show the image the decoder draws there."""

    note = ("Interactive in Jupyter: move the two sliders to decode any point of the plane. "
            "The static grid above shows the plane decoded at evenly spaced points.")

    def __init__(self, decoder, extent, *, steps: int = 50):
        x_min, x_max, y_min, y_max = (float(v) for v in extent)
        if not (x_min < x_max and y_min < y_max):
            raise ValueError(f"extent must be (x_min, x_max, y_min, y_max) with min < max; got {extent}.")
        self.decoder = decoder
        self.x = widgets.FloatSlider(value=(x_min + x_max) / 2, min=x_min, max=x_max,
                                     step=(x_max - x_min) / steps, description="code 1", readout_format=".2f")
        self.y = widgets.FloatSlider(value=(y_min + y_max) / 2, min=y_min, max=y_max,
                                     step=(y_max - y_min) / steps, description="code 2", readout_format=".2f")
        super().__init__([self.x, self.y])
        for slider in (self.x, self.y):
            slider.observe(self.update, names="value")

    def decode(self) -> np.ndarray:
        """The 28×28 image the decoder draws at the sliders' point."""
        point = np.array([[self.x.value, self.y.value]], dtype=np.float32)
        return np.asarray(self.decoder(point)).reshape(28, 28)

    def render(self) -> bytes:
        fig = plots.Figure(figsize=(2.6, 2.8), layout="constrained")
        ax = fig.subplots()
        ax.imshow(self.decode(), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"code ({self.x.value:.2f}, {self.y.value:.2f})", fontsize=9)
        return _png(fig)
