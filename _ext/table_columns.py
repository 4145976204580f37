"""The book's ``table-columns`` directive: some columns of a Markdown table kept in another file.

    ```{table-columns} results/results.md
    :columns: Experiment, Ours, Published, Verdict
    :names-only: Experiment
    ```

shows the named columns, in that order, of the file's first pipe table, parsed as Markdown where the
directive stands. ``names-only`` keeps only the leading ``code`` span of a column's cells (the experiment's
name without its description). A column the file lacks stops the build with a message naming it.

Used by the Results page: ``labkit reproduce`` writes one table with every column, too wide for the book's
column, and the page shows the essentials in one table and the details in a second, folded one, both read
from the file at build time so they always agree with it. Loaded through ``sphinx.local_extensions`` in
``_config.yml``; it needs nothing but Sphinx (the Pages workflow installs only jupyter-book).
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

_CODE_SPAN = re.compile(r"^`[^`]+`")


def split_row(line: str) -> list[str]:
    """The cells of one pipe-table row; a ``|`` inside a ``code`` span does not split."""
    cells, current, in_code = [], "", False
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code:
            cells.append(current.strip())
            current = ""
        else:
            current += char
    cells.append(current.strip())
    return cells


def first_table(text: str) -> list[str]:
    """The lines of the first pipe table in ``text`` (header, separator, rows)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("|")), None)
    if start is None:
        return []
    end = next((i for i in range(start, len(lines)) if not lines[i].lstrip().startswith("|")), len(lines))
    return lines[start:end]


def select(table: list[str], columns: list[str], names_only: set[str] = frozenset()) -> list[str]:
    """The pipe table ``table`` with only ``columns``; raises KeyError naming a column it lacks."""
    header, separator, rows = split_row(table[0]), split_row(table[1]), [split_row(r) for r in table[2:]]
    missing = [column for column in columns if column not in header]
    if missing:
        raise KeyError(f"no column {', '.join(map(repr, missing))}; the table has {', '.join(header)}")
    keep = [header.index(column) for column in columns]

    def cell(row: list[str], index: int) -> str:
        value = row[index] if index < len(row) else ""
        if header[index] in names_only and (match := _CODE_SPAN.match(value)):
            return match.group(0)
        return value

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(separator[i] for i in keep) + "|"]
    lines += ["| " + " | ".join(cell(row, i) for i in keep) + " |" for row in rows]
    return lines


class TableColumns(SphinxDirective):
    required_arguments = 1
    option_spec = {"columns": directives.unchanged_required, "names-only": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        relative, absolute = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(relative)
        try:
            table = first_table(Path(absolute).read_text(encoding="utf-8"))
        except OSError as error:
            raise self.error(f"table-columns: cannot read {self.arguments[0]}: {error}") from None
        if len(table) < 2:
            raise self.error(f"table-columns: {self.arguments[0]} holds no Markdown table")
        columns = [name.strip() for name in self.options["columns"].split(",") if name.strip()]
        names_only = {name.strip() for name in self.options.get("names-only", "").split(",") if name.strip()}
        try:
            lines = select(table, columns, names_only)
        except KeyError as error:
            raise self.error(f"table-columns: {self.arguments[0]}: {error.args[0]}") from None
        container = nodes.container(classes=["table-columns"])
        self.state.nested_parse(StringList(lines, source=absolute), self.content_offset, container)
        return container.children


def setup(app):
    app.add_directive("table-columns", TableColumns)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
