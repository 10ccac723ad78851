"""Layers (rows, by chain id) against images (columns): which image has which layer.

A chain id names a layer together with everything below it, so two images that list the
same chain id store that layer once. Rows follow stack position, then first image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QGuiApplication

from layerscope.analysis import Analysis
from layerscope.format import exact_size, human_size, short_command, short_digest
from layerscope.gui import theme
from layerscope.gui.text import plain_tooltip
from layerscope.view.names import archive_name, image_names

Index = QModelIndex | QPersistentModelIndex

_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
FIXED_COLUMNS = 3  # layer, command, size; then one column per image


@dataclass
class _Row:
    chain_id: str
    position: int
    size_bytes: int
    command: str
    images: list[int]  # image indexes that have this layer


class SharedModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._analysis: Analysis | None = None
        self._rows: list[_Row] = []
        self._shared_only = False
        self._bold = QFont(QGuiApplication.font())
        self._bold.setBold(True)

    @property
    def shared_only(self) -> bool:
        return self._shared_only

    def set_analysis(self, analysis: Analysis | None, shared_only: bool | None = None) -> None:
        self.beginResetModel()
        self._analysis = analysis
        if shared_only is not None:
            self._shared_only = shared_only
        self._rows = self._build() if analysis is not None else []
        self.endResetModel()

    def set_shared_only(self, on: bool) -> None:
        self.set_analysis(self._analysis, on)

    def _build(self) -> list[_Row]:
        assert self._analysis is not None
        by_chain: dict[str, _Row] = {}
        for i, image in enumerate(self._analysis.images):
            for layer in image.layers:
                row = by_chain.get(layer.chain_id)
                if row is None:
                    row = _Row(
                        layer.chain_id,
                        layer.index,
                        layer.size_bytes,
                        short_command(layer.created_by),
                        [],
                    )
                    by_chain[layer.chain_id] = row
                if i not in row.images:
                    row.images.append(i)
        rows = list(by_chain.values())
        if self._shared_only:
            rows = [r for r in rows if len(r.images) > 1]
        rows.sort(key=lambda r: (r.position, -len(r.images), r.images))
        return rows

    def layer_at(self, row: int) -> tuple[list[int], int] | None:
        """The images that have the row's layer, and its position in their stacks."""
        if not 0 <= row < len(self._rows):
            return None
        return self._rows[row].images, self._rows[row].position

    def is_shared(self, row: int) -> bool:
        return len(self._rows[row].images) > 1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self._analysis is None:
            return 0
        return FIXED_COLUMNS + len(self._analysis.images)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or self._analysis is None:
            return None
        if not 0 <= section < self.columnCount():
            return None
        if section < FIXED_COLUMNS:
            if role == Qt.ItemDataRole.DisplayRole:
                return ("Layer", "Command", "Size")[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section == 2:
                return _RIGHT
            return None
        i = section - FIXED_COLUMNS
        image = self._analysis.images[i]
        if role == Qt.ItemDataRole.DisplayRole:
            # ref, platform and archive: one image from two archives makes two columns
            own = human_size(self._analysis.sharing.own_bytes[i])
            short = image.name.rsplit("/", 1)[-1]  # "app:1"; the full ref is in the tooltip
            archive = archive_name(image.archive_path)
            return f"{short}\n{image.platform or ''}\n{archive}\nown: {own}"
        if role == Qt.ItemDataRole.ToolTipRole:
            own_bytes = self._analysis.sharing.own_bytes[i]
            return plain_tooltip(
                f"{', '.join(image.refs) or image.config_digest}\n"
                f"{image.platform or 'unknown platform'}, in {image.archive_path}\n"
                f"{human_size(own_bytes)} in layers no other open image has"
            )
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _CENTER
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._analysis is None:
            return None
        row = self._rows[index.row()]
        col = index.column()
        shared = len(row.images) > 1
        if col < FIXED_COLUMNS:
            if role == Qt.ItemDataRole.DisplayRole:
                if col == 0:
                    return f"{row.position}  {short_digest(row.chain_id)}"
                if col == 1:
                    return row.command
                return human_size(row.size_bytes)
            if role == Qt.ItemDataRole.ToolTipRole:
                return (
                    f"chain id {row.chain_id}\nposition {row.position} in the stack\n"
                    f"{exact_size(row.size_bytes)}\n{row.command}"
                )
            if role == Qt.ItemDataRole.TextAlignmentRole and col == 2:
                return _RIGHT
            if role == Qt.ItemDataRole.FontRole and shared:
                return self._bold
            return None
        i = col - FIXED_COLUMNS
        has = i in row.images
        if role == Qt.ItemDataRole.DisplayRole:
            if not has:
                return ""
            return "shared" if shared else "own"
        if role == Qt.ItemDataRole.BackgroundRole and has:
            t = theme.current()
            return t.shared if shared else t.own
        if role == Qt.ItemDataRole.ForegroundRole and has and not shared:
            return theme.current().muted
        if role == Qt.ItemDataRole.FontRole and has and shared:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _CENTER
        if role == Qt.ItemDataRole.ToolTipRole and has:
            names = image_names(self._analysis)
            others = [names[o] for o in row.images if o != i]
            if others:
                return plain_tooltip(f"stored once, shared with {', '.join(others)}")
            return "only this image has this layer"
        return None
