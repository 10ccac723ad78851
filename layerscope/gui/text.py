"""Archive text made safe to show: escaped rich text for tooltips and details views.

Qt renders any string that looks like markup as rich text, so every piece of archive text
(refs, paths, commands) that goes into a tooltip or a QTextBrowser passes through here.
"""

from __future__ import annotations

import html

from layerscope.format import command_lines

MONO = "'DejaVu Sans Mono', monospace"


def escape(text: object) -> str:
    return html.escape(str(text))


def command_html(created_by: str | None) -> str:
    """A layer's command broken into steps, monospace, wrapping long steps (rich text)."""
    lines = command_lines(created_by)
    if not lines:
        return ""
    body = escape("\n".join(lines))
    return f"<pre style='white-space: pre-wrap; font-family: {MONO}; margin: 0'>{body}</pre>"


def plain_tooltip(text: str) -> str:
    """Plain text for a tooltip, even when it looks like markup; long lines wrap."""
    if not text:
        return ""
    return f"<p style='white-space: pre-wrap'>{escape(text)}</p>"
