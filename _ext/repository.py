"""The book's repository, named once, in ``_config.yml`` (``repository.url`` and ``repository.branch``).

The theme builds its GitHub button and every launch link (Colab, Binder, JupyterHub) from it, and
``labkit assign`` writes it into each lab's Colab cell. This extension gives the pages the same address:

* ``{{ repository }}`` in a page's text (a MyST substitution) is the repository's address;
* a ``repository-code`` block is a code block in which ``{repository}``, ``{branch}`` and ``{folder}``
  (the folder ``git clone`` makes) are filled in::

      ```{repository-code} bash
      git clone {repository}
      cd {folder}
      ```

So a fork changes the address in ``_config.yml`` only. Loaded through ``sphinx.local_extensions``; it needs
nothing but Sphinx (the Pages workflow installs only jupyter-book).
"""

from __future__ import annotations

from sphinx.directives.code import CodeBlock


def repository(config) -> dict[str, str]:
    """``{"repository": URL, "branch": ..., "folder": ...}`` from the theme options jupyter-book sets."""
    options = config.html_theme_options or {}
    url = str(options.get("repository_url", "")).rstrip("/")
    return {"repository": url, "branch": str(options.get("repository_branch") or "main"),
            "folder": url.rsplit("/", 1)[-1].removesuffix(".git")}


class RepositoryCode(CodeBlock):
    """A code block with ``{repository}``, ``{branch}`` and ``{folder}`` filled in."""

    def run(self):
        values = repository(self.env.config)
        if not values["repository"]:
            raise self.error("repository-code: _config.yml names no repository (repository.url)")
        self.content = [line.format(**values) for line in self.content]
        return super().run()


def _add_substitution(app, config) -> None:
    url = repository(config)["repository"]
    if url:
        config.myst_substitutions = {"repository": url, **(config.myst_substitutions or {})}


def setup(app):
    app.connect("config-inited", _add_substitution)
    app.add_directive("repository-code", RepositoryCode)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
