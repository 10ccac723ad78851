"""Image and layer details as rich text: config, digests (copy links), history, warnings."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from layerscope.analysis import Analysis
from layerscope.format import (
    command_lines,
    exact_size,
    human_size,
    percent,
    plural,
    short_command,
    when,
)
from layerscope.gui import theme
from layerscope.gui.text import command_html, escape
from layerscope.gui.widgets.common import copy_text
from layerscope.gui.widgets.pane import Pane
from layerscope.load import SourceOutline
from layerscope.model.image import Image, ImageOutline, Layer, LayerOutline
from layerscope.view.names import image_names

_COPY = "copy:"
_COMPRESSION = {"none": "uncompressed", "gzip": "gzip", "zstd": "zstd"}
READING_NOTE = "Still loading: what the layers hold is shown once every layer is read."


def _copyable(value: str | None) -> str:
    if not value:
        return "<span class='muted'>none</span>"
    return f"<code>{escape(value)}</code>&nbsp;&nbsp;<a href='{_COPY}{escape(value)}'>copy</a>"


def _row(label: str, value: str) -> str:
    return f"<tr><th>{escape(label)}</th><td>{value}</td></tr>"


def _command(words: list[str] | None) -> str:
    if words is None:
        return "<span class='muted'>not set</span>"
    return f"<code>{escape(json.dumps(words))}</code>"


def _style() -> str:
    t = theme.current()
    line = "#30363d" if t.dark else "#d8dee4"
    return f"""
    <style>
      h2 {{ font-size: 13pt; margin: 10px 0 4px 0; }}
      h3 {{ font-size: 11pt; margin: 14px 0 4px 0; }}
      th {{ text-align: left; font-weight: 600; padding: 2px 14px 2px 0;
            white-space: nowrap; vertical-align: top; }}
      td {{ padding: 2px 10px 2px 0; vertical-align: top; }}
      table.grid td, table.grid th {{ border-bottom: 1px solid {line}; padding: 3px 10px 3px 0; }}
      code {{ font-family: 'DejaVu Sans Mono', monospace; }}
      .muted {{ color: {t.muted.name()}; }}
      .warn {{ color: {t.modified.name()}; }}
      .empty {{ color: {t.muted.name()}; font-style: italic; }}
    </style>
    """


class DetailsBrowser(QTextBrowser):
    """A QTextBrowser whose 'copy:' links copy their text instead of navigating."""

    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setAcceptDrops(False)  # files dropped here open as archives (main window)
        # Tab moves to the next pane, not from link to link (the links are for the mouse;
        # selected text copies with Ctrl+C)
        self.setTabChangesFocus(True)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        # digests and long paths wrap instead of widening the pane
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.anchorClicked.connect(self._anchor)

    def _anchor(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith(_COPY):
            value = QUrl.fromPercentEncoding(text[len(_COPY) :].encode())
            copy_text(value)
            self.copied.emit(value)


class ImagePane(Pane):
    """The selected image's config, digests, environment, labels, history and warnings."""

    TITLE = "Image"
    SHOWS_PENDING = True
    ICON = "image"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.browser = DetailsBrowser(self)
        self.browser.copied.connect(lambda value: self.message.emit(f"Copied {value}"))
        layout.addWidget(self.browser)
        self._shown: tuple[Analysis, int] | None = None
        self._pending: tuple[SourceOutline, ImageOutline] | None = None

    def show_image(self, analysis: Analysis, image: int) -> None:
        self._pending = None
        self._shown = (analysis, image) if 0 <= image < len(analysis.images) else None
        self.browser.setHtml(image_html(analysis, image) if self._shown else "")

    def show_pending(self, source: SourceOutline, image: ImageOutline) -> None:
        self._shown = None
        self._pending = (source, image)
        self.browser.setHtml(outline_html(source, image))

    def restyle(self) -> None:
        if self._shown is not None:
            self.show_image(*self._shown)
        elif self._pending is not None:
            self.show_pending(*self._pending)

    def focus_chain(self) -> list[QWidget]:
        return [self.browser]


def image_html(analysis: Analysis, i: int) -> str:
    image: Image = analysis.images[i]
    archive = analysis.archives[image.archive_index]
    waste = analysis.waste[i]
    out = _image_head(image_names(analysis)[i], image, archive.path, archive.format)
    out.append(
        _row(
            "Size",
            f"{human_size(image.size_bytes)} in files, "
            f"{human_size(image.compressed_bytes)} stored, "
            f"{plural(len(image.layers), 'layer')}",
        )
    )
    out.append(
        _row(
            "Efficiency",
            f"{percent(waste.efficiency)} ({human_size(waste.reclaimable_bytes)} reclaimable)",
        )
    )
    out.append("</table>")
    out += _config_sections(image)
    warnings = list(archive.warnings) + list(image.warnings)
    out += _warnings_section(warnings)
    return "".join(out)


def outline_html(source: SourceOutline, image: ImageOutline) -> str:
    """An image still loading: what its manifest and config say, the rest to come."""
    out = _image_head(image.name, image, source.path, source.format)
    out.append(
        _row(
            "Size",
            f"{human_size(image.stored_bytes)} stored, {plural(len(image.layers), 'layer')}",
        )
    )
    out.append(_row("Files", f"<span class='muted'>{escape(READING_NOTE)}</span>"))
    out.append("</table>")
    out += _config_sections(image)
    out += _warnings_section(list(source.warnings) + list(image.warnings))
    return "".join(out)


def _image_head(name: str, image: Image | ImageOutline, path: str, fmt: str) -> list[str]:
    """The title and the first rows of the image's table (left open for more)."""
    c = image.config
    out = [_style(), f"<h2>{escape(name)}</h2>", "<table>"]
    if len(image.refs) > 1:
        out.append(_row("Tags", "<br>".join(escape(r) for r in image.refs)))
    out.append(_row("Platform", escape(image.platform or "unknown")))
    out.append(_row("Created", escape(when(c.created)) or "<span class='muted'>unknown</span>"))
    if c.author:
        out.append(_row("Author", escape(c.author)))
    out.append(_row("Archive", f"{escape(path)} <span class='muted'>({escape(fmt)})</span>"))
    return out


def _config_sections(image: Image | ImageOutline) -> list[str]:
    """Digests, config, environment, labels and history: all from the config."""
    c = image.config
    out = ["<h3>Digests</h3><table>"]
    out.append(_row("Config", _copyable(image.config_digest)))
    out.append(_row("Manifest", _copyable(image.manifest_digest)))
    out.append("</table><h3>Config</h3><table>")
    out.append(_row("Entrypoint", _command(c.entrypoint)))
    out.append(_row("Cmd", _command(c.cmd)))
    out.append(
        _row(
            "WorkingDir",
            escape(c.working_dir) if c.working_dir else "<span class='muted'>not set</span>",
        )
    )
    out.append(
        _row("User", escape(c.user) if c.user else "<span class='muted'>root (not set)</span>")
    )
    out.append(
        _row(
            "Exposed ports", escape(", ".join(c.exposed_ports)) or "<span class='muted'>none</span>"
        )
    )
    if c.volumes:
        out.append(_row("Volumes", escape(", ".join(c.volumes))))
    if c.stop_signal:
        out.append(_row("Stop signal", escape(c.stop_signal)))
    if c.healthcheck:
        out.append(_row("Healthcheck", f"<code>{escape(json.dumps(c.healthcheck))}</code>"))
    out.append("</table>")
    out.append("<h3>Environment</h3>")
    if c.env:
        out.append("<table class='grid'>")
        for item in c.env:
            name, _, value = item.partition("=")
            out.append(
                f"<tr><th><code>{escape(name)}</code></th><td><code>{escape(value)}</code></td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p class='muted'>none</p>")
    out.append("<h3>Labels</h3>")
    if c.labels:
        out.append("<table class='grid'>")
        for key, value in sorted(c.labels.items()):
            out.append(f"<tr><th><code>{escape(key)}</code></th><td>{escape(value)}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p class='muted'>none</p>")
    out.append("<h3>History</h3>")
    if c.history:
        out.append(
            "<table class='grid'><tr><th>Layer</th><th>Created</th><th>Command</th>"
            "<th>Comment</th></tr>"
        )
        for entry in c.history:
            layer_text = str(entry.layer_index) if entry.layer_index is not None else "—"
            cls = " class='empty'" if entry.empty_layer else ""
            created = escape((entry.created or "")[:19].replace("T", " "))
            if len(command_lines(entry.created_by)) > 1:
                command = command_html(entry.created_by)
            else:
                command = f"<code>{escape(short_command(entry.created_by))}</code>"
            if not entry.created_by:
                command = "<span class='muted'>none</span>"
            if entry.empty_layer:
                command += " <span class='muted'>(no layer)</span>"
            out.append(
                f"<tr{cls}><td>{layer_text}</td><td>{created}</td><td>{command}</td>"
                f"<td class='muted'>{escape(entry.comment or '')}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p class='muted'>The config has no history.</p>")
    return out


def _warnings_section(warnings: list[str]) -> list[str]:
    out = ["<h3>Warnings</h3>"]
    if warnings:
        out.append(
            "<ul>" + "".join(f"<li class='warn'>{escape(w)}</li>" for w in warnings) + "</ul>"
        )
    else:
        out.append("<p class='muted'>none</p>")
    return out


def layer_html(analysis: Analysis, i: int, layer: Layer) -> str:
    image = analysis.images[i]
    counts = image.filesystem.counts[layer.index]
    dead = analysis.waste[i].dead_bytes[layer.index]
    out = _layer_head(layer)
    out.append(
        _row(
            "Size",
            f"{human_size(layer.size_bytes)} in files "
            f"({exact_size(layer.size_bytes)}), "
            f"{human_size(layer.compressed_bytes)} stored "
            f"({escape(_COMPRESSION.get(layer.compression, layer.compression))})",
        )
    )
    out.append(_row("Changes", f"+{counts.added} ~{counts.modified} −{counts.deleted}"))
    if dead:
        out.append(_row("Wasted", f"{human_size(dead)} shipped here and never shown"))
    others = (
        analysis.sharing.shared_with[i][layer.index]
        if i < len(analysis.sharing.shared_with)
        else []
    )
    if others:
        names = image_names(analysis)
        out.append(_row("Shared with", "<br>".join(escape(names[o]) for o in others)))
    out.append(_row("Digest", _copyable(layer.digest)))
    out.append(_row("Diff id", _copyable(layer.diff_id)))
    out.append(_row("Chain id", _copyable(layer.chain_id)))
    out += _blob_rows(layer)
    for w in layer.warnings:
        out.append(_row("Warning", f"<span class='warn'>{escape(w)}</span>"))
    out.append("</table>")
    return "".join(out)


def outline_layer_html(layer: LayerOutline) -> str:
    """A layer of an image still loading: its command, history and descriptor."""
    out = _layer_head(layer)
    if layer.stored_bytes is not None:
        out.append(_row("Size", f"{human_size(layer.stored_bytes)} stored"))
    out.append(_row("Files", f"<span class='muted'>{escape(READING_NOTE)}</span>"))
    out.append(_row("Digest", _copyable(layer.digest)))
    out.append(_row("Diff id", _copyable(layer.diff_id)))
    out += _blob_rows(layer)
    out.append("</table>")
    return "".join(out)


def _layer_head(layer: Layer | LayerOutline) -> list[str]:
    """The layer's number, its command first and full width (a RUN line can run to
    kilobytes), then the table its details go in, opened with its history's."""
    command = command_html(layer.created_by) or "<p class='muted'>no history entry</p>"
    out = [_style(), f"<p><b>Layer {layer.index}</b></p>", command, "<table>"]
    if layer.history is not None and layer.history.created:
        out.append(_row("Created", escape(when(layer.history.created))))
    if layer.history is not None and layer.history.comment:
        out.append(_row("Comment", escape(layer.history.comment)))
    return out


def _blob_rows(layer: Layer | LayerOutline) -> list[str]:
    out = []
    if layer.media_type:
        out.append(_row("Media type", f"<code>{escape(layer.media_type)}</code>"))
    if layer.unavailable:
        out.append(_row("Unavailable", f"<span class='warn'>{escape(layer.unavailable)}</span>"))
    return out
