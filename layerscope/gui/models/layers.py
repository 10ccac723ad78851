"""The layers of one image: a flat table in stack order (bottom layer first).

An image still loading shows its outline: the number, command and stored size of each
layer, known from the manifest and the config; the rest stays empty until it is read.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont, QGuiApplication

from layerscope.analysis import Analysis
from layerscope.format import exact_size, human_size, short_command, when
from layerscope.gui import icons, theme
from layerscope.gui.models.table import RIGHT, Index, RowsModel
from layerscope.gui.text import command_html, plain_tooltip
from layerscope.model.image import Image, ImageOutline, Layer, LayerOutline
from layerscope.view.names import image_names

BarRole = Qt.ItemDataRole.UserRole + 10  # float 0..1 for the bar delegate
BarColorRole = Qt.ItemDataRole.UserRole + 11


def _command_cell(layer: Layer | LayerOutline) -> str:
    """The Command column: the instruction on one line, or why there is none."""
    if layer.unavailable:
        return f"(not in the archive) {short_command(layer.created_by)}".strip()
    return short_command(layer.created_by) or "(no history)"


class Col(IntEnum):
    INDEX = 0
    COMMAND = 1
    SIZE = 2
    COMPRESSED = 3
    ADDED = 4
    MODIFIED = 5
    DELETED = 6
    WASTED = 7
    FOUND = 8  # shown only while the file filter is on


HEADERS = ("#", "Command", "Size", "Stored", "+", "~", "−", "Wasted", "Found")
TIPS = {
    Col.SIZE: "Bytes of the regular files the layer ships",
    Col.COMPRESSED: "Bytes of the layer blob as stored in the archive",
    Col.ADDED: "Files and links added (directories not counted)",
    Col.MODIFIED: "Files and links modified, content or metadata",
    Col.DELETED: "Files and links deleted",
    Col.WASTED: "Bytes this layer ships that a later layer overwrites or deletes",
    Col.FOUND: "Paths the file filter matches in this layer (in the tree's mode)",
}


class LayersModel(RowsModel[Layer | LayerOutline]):
    HEADERS = HEADERS
    TIPS = TIPS  # type: ignore[assignment]
    RIGHT_ALIGNED = frozenset(c for c in Col if c >= Col.SIZE)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._analysis: Analysis | None = None
        self._image_index = -1
        self._image: Image | None = None
        self._max_dead = 0
        self._max_size = 0
        self._italic = QFont(QGuiApplication.font())
        self._italic.setItalic(True)
        self._bold = QFont(QGuiApplication.font())
        self._bold.setBold(True)
        self._found: list[int] | None = None  # per layer, while a filter is on
        self._outline: ImageOutline | None = None  # an image still loading, shown instead

    @property
    def image(self) -> Image | None:
        return self._image

    @property
    def outline(self) -> ImageOutline | None:
        return self._outline

    def set_outline(self, outline: ImageOutline) -> None:
        """Show an image still loading: what its manifest and config say of its layers."""
        self.beginResetModel()
        self._analysis, self._image, self._image_index = None, None, -1
        self._outline = outline
        self._found = None
        self._rows = list(outline.layers)
        self.endResetModel()

    @property
    def image_index(self) -> int:
        return self._image_index

    def set_image(self, analysis: Analysis | None, image_index: int) -> None:
        self.beginResetModel()
        self._outline = None
        self._analysis = analysis
        valid = analysis is not None and 0 <= image_index < len(analysis.images)
        self._image_index = image_index if valid else -1
        self._image = analysis.images[image_index] if valid and analysis else None
        if self._image is not None and analysis is not None:
            self._max_dead = max(analysis.waste[image_index].dead_bytes, default=0)
            self._max_size = max((layer.size_bytes for layer in self._image.layers), default=0)
        self._rows = list(self._image.layers) if self._image is not None else []
        self.endResetModel()

    def set_found(self, counts: list[int] | None) -> None:
        """The file filter's matches per layer (None: no filter)."""
        if counts == self._found:
            return
        self._found = counts
        if self._rows:
            self.dataChanged.emit(
                self.index(0, Col.FOUND), self.index(len(self._rows) - 1, Col.FOUND)
            )

    def layer(self, row: int) -> Layer | None:
        layer = self.row_object(row)
        return layer if isinstance(layer, Layer) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and self._outline is not None:
            return self._outline_data(self._outline.layers[index.row()], index.column(), role)
        if not index.isValid() or self._image is None or self._analysis is None:
            return None
        layer = self._image.layers[index.row()]
        col = index.column()
        counts = self._image.filesystem.counts[layer.index]
        dead = self._analysis.waste[self._image_index].dead_bytes[layer.index]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(layer, col, counts, dead)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col == Col.COMMAND:
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(layer, col, dead)
        if role == Qt.ItemDataRole.ForegroundRole:
            t = theme.current()
            if layer.unavailable:
                return t.muted
            if col == Col.ADDED and counts.added:
                return t.added
            if col == Col.MODIFIED and counts.modified:
                return t.modified
            if col == Col.DELETED and counts.deleted:
                return t.deleted
            if col in (Col.ADDED, Col.MODIFIED, Col.DELETED):
                return t.muted
            if col == Col.FOUND:
                found = self._found
                hit = found is not None and layer.index < len(found) and found[layer.index]
                return t.added if hit else t.muted
            return None
        if role == Qt.ItemDataRole.FontRole and layer.unavailable:
            return self._italic
        if role == Qt.ItemDataRole.FontRole and col == Col.FOUND and self._found is not None:
            found = self._found
            return self._bold if layer.index < len(found) and found[layer.index] else None
        if role == Qt.ItemDataRole.DecorationRole and col == Col.INDEX:
            if layer.unavailable or layer.warnings:
                return icons.icon("warning")
            if self._shared_with(layer):
                return icons.icon("shared")
            return None
        if role == BarRole:
            if col == Col.WASTED:
                return dead / self._max_dead if self._max_dead else 0.0
            if col == Col.SIZE:
                return layer.size_bytes / self._max_size if self._max_size else 0.0
            return None
        if role == BarColorRole:
            t = theme.current()
            return t.waste_bar if col == Col.WASTED else t.size_bar
        return None

    def _shared_with(self, layer: Layer) -> list[int]:
        assert self._analysis is not None
        shared = self._analysis.sharing.shared_with
        if self._image_index < len(shared) and layer.index < len(shared[self._image_index]):
            return shared[self._image_index][layer.index]
        return []

    def _display(self, layer: Layer, col: int, counts: Any, dead: int) -> str:
        if col == Col.INDEX:
            return str(layer.index)
        if col == Col.COMMAND:
            return _command_cell(layer)
        if col == Col.SIZE:
            return human_size(layer.size_bytes)
        if col == Col.COMPRESSED:
            return human_size(layer.compressed_bytes)
        if col == Col.ADDED:
            return str(counts.added)
        if col == Col.MODIFIED:
            return str(counts.modified)
        if col == Col.DELETED:
            return str(counts.deleted)
        if col == Col.WASTED:
            return human_size(dead) if dead else ""
        if col == Col.FOUND:
            found = self._found
            if found is None or layer.index >= len(found):
                return ""
            return f"{found[layer.index]:,}" if found[layer.index] else "–"
        return ""

    def _tooltip(self, layer: Layer, col: int, dead: int) -> str | None:
        if col == Col.COMMAND or col == Col.INDEX:
            lines: list[str] = [] if layer.created_by else ["(no history entry)"]
            if layer.history is not None and layer.history.created:
                lines.append(f"created {when(layer.history.created)}")
            if layer.unavailable:
                lines.append(f"unavailable: {layer.unavailable}")
            lines += [f"warning: {w}" for w in layer.warnings]
            others = self._shared_with(layer)
            if others and self._analysis is not None:
                names = image_names(self._analysis)
                lines.append(f"shared with {', '.join(names[i] for i in others)}")
            return command_html(layer.created_by) + plain_tooltip("\n".join(lines))
        if col == Col.SIZE:
            return exact_size(layer.size_bytes)
        if col == Col.COMPRESSED:
            return f"{exact_size(layer.compressed_bytes)} ({layer.compression})"
        if col == Col.WASTED:
            return f"{exact_size(dead)} shipped here that the final image never shows"
        return None

    def _outline_data(self, layer: LayerOutline, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if col == Col.INDEX:
                return str(layer.index)
            if col == Col.COMMAND:
                return _command_cell(layer)
            if col == Col.COMPRESSED:
                return human_size(layer.stored_bytes) if layer.stored_bytes is not None else ""
            if col == Col.SIZE:
                return "…"
            return ""
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col == Col.COMMAND:
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            if col in (Col.COMMAND, Col.INDEX):
                lines: list[str] = [] if layer.created_by else ["(no history entry)"]
                if layer.history is not None and layer.history.created:
                    lines.append(f"created {when(layer.history.created)}")
                if layer.unavailable:
                    lines.append(f"unavailable: {layer.unavailable}")
                return command_html(layer.created_by) + plain_tooltip("\n".join(lines))
            if col == Col.COMPRESSED and layer.stored_bytes is not None:
                return exact_size(layer.stored_bytes)
            return "Known once the layer is read"
        if role == Qt.ItemDataRole.ForegroundRole and (layer.unavailable or col != Col.COMMAND):
            return theme.current().muted
        if role == Qt.ItemDataRole.FontRole and layer.unavailable:
            return self._italic
        if role == Qt.ItemDataRole.DecorationRole and col == Col.INDEX and layer.unavailable:
            return icons.icon("warning")
        return None
