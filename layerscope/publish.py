"""One report in any of its formats: what `layerscope report` prints and the window exports."""

from __future__ import annotations

import json
import os

from layerscope.analysis import Analysis
from layerscope.report import to_json, to_text

FORMATS = ("text", "json", "html", "markdown")
# list lengths (wasted files, duplicates, package changes) when none is asked for
DEFAULT_TOP = {"text": 10, "json": 0, "html": 100, "markdown": 10}
_EXTENSIONS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown",
               ".json": "json", ".txt": "text"}  # fmt: skip


def format_for_path(path: str, default: str = "html") -> str:
    """The format a file name asks for: report.html, summary.md, report.json, report.txt."""
    return _EXTENSIONS.get(os.path.splitext(path)[1].lower(), default)


def render(
    analysis: Analysis,
    selected: list[int],
    fmt: str,
    *,
    top: int | None = None,
    files: bool = False,
) -> str:
    """The report of the `selected` images as text, JSON, HTML or Markdown. (`layerscope
    report --json` writes the JSON document with its own quick writer, cli/jsonout.py.)"""
    limit = DEFAULT_TOP[fmt] if top is None else top
    if fmt == "json":
        return json.dumps(to_json(analysis, selected, files=files), indent=2) + "\n"
    # the page formats' modules (and Jinja2) are imported by the commands that ask for them
    if fmt == "html":
        from layerscope.html_report import to_html

        return to_html(analysis, selected, top=limit)
    if fmt == "markdown":
        from layerscope.markdown_report import to_markdown

        return to_markdown(analysis, selected, top=limit)
    return to_text(analysis, selected, files=files, top=limit)
