"""A download button on every notebook page, for that page's own notebook, and nothing else to download.

The theme's own download button links to ``_sources/``, a copy of every page's source, which the book
turns off (``html_copy_source: false``): in the instructor edition it would serve the worked solutions to
anyone with the address. Instead, each page made from a notebook gets a header button that downloads
``_notebooks/<page>.ipynb``, a copy of exactly that notebook: on the student edition's lab pages the
student notebook in ``labs/`` (tests/test_browser.py checks it byte for byte). Loaded through
``sphinx.local_extensions`` in ``_config.yml``; it needs nothing but Sphinx.
"""

from __future__ import annotations

import shutil
from pathlib import Path

FOLDER = "_notebooks"


def _notebook_source(app, docname: str) -> Path | None:
    source = Path(app.env.doc2path(docname))
    return source if source.suffix == ".ipynb" else None


def add_button(app, pagename, templatename, context, doctree) -> None:
    """Add the page's download button (after the theme has made its list of header buttons)."""
    if _notebook_source(app, pagename) is None or "header_buttons" not in context:
        return
    url = context["pathto"](f"{FOLDER}/{pagename}.ipynb", 1)
    context["header_buttons"].append({"type": "link", "url": url, "tooltip": "Download this notebook",
                                      "icon": "fas fa-download", "label": "download-notebook-button"})


def copy_notebooks(app, exception) -> None:
    """Copy each notebook page's source into the site, where its button points."""
    if exception is not None or app.builder.format != "html":
        return
    for docname in app.env.found_docs:
        source = _notebook_source(app, docname)
        if source is not None:
            target = Path(app.outdir) / FOLDER / f"{docname}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def setup(app):
    app.connect("html-page-context", add_button, priority=502)  # the theme fills header_buttons at 501
    app.connect("build-finished", copy_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
