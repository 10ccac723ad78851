"""Wasted files and duplicate groups of one image, as flat tables (sorted by a proxy)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt

from layerscope.analysis.waste import DeadFile, DuplicateGroup, Waste
from layerscope.format import exact_size, human_size
from layerscope.gui import icons, theme
from layerscope.gui.models.table import RIGHT, Index, RowsModel
from layerscope.gui.text import plain_tooltip

SortRole = Qt.ItemDataRole.UserRole + 20
DeadFileRole = Qt.ItemDataRole.UserRole + 21


class WasteCol(IntEnum):
    PATH = 0
    SIZE = 1
    SHIPPED = 2
    KILLED = 3
    HOW = 4


WASTE_HEADERS = ("Path", "Wasted", "Shipped in", "Killed in", "How")


class WasteModel(RowsModel[DeadFile]):
    """Waste.dead_files: bytes shipped by one layer that the final image never shows."""

    HEADERS = WASTE_HEADERS
    RIGHT_ALIGNED = frozenset({WasteCol.SIZE})
    TIPS = {
        WasteCol.SHIPPED: "The layer whose tar carries these bytes",
        WasteCol.KILLED: "The layer that overwrote or deleted them",
    }

    def set_waste(self, waste: Waste | None) -> None:
        self._set_rows(list(waste.dead_files) if waste is not None else [])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        d = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == WasteCol.PATH:
                return d.path
            if col == WasteCol.SIZE:
                return human_size(d.size)
            if col == WasteCol.SHIPPED:
                return f"layer {d.layer}"
            if col == WasteCol.KILLED:
                return f"layer {d.killed_by}" if d.killed_by is not None else "same layer"
            if col == WasteCol.HOW:
                return d.fate if d.killed_by is not None else "duplicate entry"
        if role == SortRole:
            killed = d.killed_by if d.killed_by is not None else -1
            return (d.path, d.size, d.layer, killed, d.fate)[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col == WasteCol.SIZE:
            return RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and col == WasteCol.HOW:
            t = theme.current()
            return t.deleted if d.fate == "deleted" else t.modified
        if role == Qt.ItemDataRole.DecorationRole and col == WasteCol.PATH:
            return icons.icon("file")
        if role == Qt.ItemDataRole.ToolTipRole:
            fate = f"{d.fate} by layer {d.killed_by}" if d.killed_by is not None else "duplicated"
            return plain_tooltip(
                f"{d.path}\n{exact_size(d.size)} shipped in layer {d.layer}, {fate}.\n"
                "Double-click to show it in the file tree."
            )
        if role == DeadFileRole:
            return d
        return None


class DupCol(IntEnum):
    SIZE = 0
    COPIES = 1
    WASTED = 2
    PATHS = 3


DUP_HEADERS = ("File size", "Copies", "Wasted", "Paths")


class DuplicatesModel(RowsModel[DuplicateGroup]):
    """Final files with the same content stored more than once."""

    HEADERS = DUP_HEADERS
    RIGHT_ALIGNED = frozenset({DupCol.SIZE, DupCol.COPIES, DupCol.WASTED})

    def set_waste(self, waste: Waste | None) -> None:
        self._set_rows(list(waste.duplicates) if waste is not None else [])

    def group(self, row: int) -> DuplicateGroup | None:
        return self.row_object(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        g = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                human_size(g.size),
                str(len(g.paths)),
                human_size(g.wasted),
                ", ".join(g.paths),
            )[col]
        if role == SortRole:
            return (g.size, len(g.paths), g.wasted, g.paths[0] if g.paths else "")[col]
        if role == Qt.ItemDataRole.TextAlignmentRole and col != DupCol.PATHS:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(g.paths)
        return None
