"""Wasted files and duplicate groups of one image, as flat tables that sort themselves.

Big images have 100,000s of wasted files and duplicate groups of 90,000 paths: every cell
is built when a view asks for it, from one row, and a group's paths are listed by their
own lazy model (GroupPathsModel), never joined into one cell or tooltip.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt

from layerscope.analysis.waste import DeadFile, DuplicateGroup, Waste
from layerscope.format import exact_size, human_size, plural
from layerscope.gui import icons, theme
from layerscope.gui.models.table import RIGHT, Index, RowsModel
from layerscope.gui.text import plain_tooltip

DeadFileRole = Qt.ItemDataRole.UserRole + 21
PathRole = Qt.ItemDataRole.UserRole + 22
TOOLTIP_PATHS = 12  # a group's tooltip names this many paths, then counts the rest


class WasteCol(IntEnum):
    PATH = 0
    SIZE = 1
    SHIPPED = 2
    KILLED = 3
    HOW = 4


WASTE_HEADERS = ("Path", "Wasted", "Shipped in", "Killed in", "How")


class WasteModel(RowsModel[DeadFile]):
    """Waste.dead_files: bytes shipped by one layer that the final image never shows.

    The rows come largest first (the analysis' order), which is the view's default sort.
    """

    HEADERS = WASTE_HEADERS
    RIGHT_ALIGNED = frozenset({WasteCol.SIZE})
    TIPS = {
        WasteCol.SHIPPED: "The layer whose tar carries these bytes",
        WasteCol.KILLED: "The layer that overwrote or deleted them",
    }
    SORT_KEYS = {
        WasteCol.PATH: lambda d: d.path,
        WasteCol.SIZE: lambda d: d.size,
        WasteCol.SHIPPED: lambda d: d.layer,
        WasteCol.KILLED: lambda d: -1 if d.killed_by is None else d.killed_by,
        WasteCol.HOW: lambda d: d.fate,
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
    """Final files with the same content stored more than once, most wasted first."""

    HEADERS = DUP_HEADERS
    RIGHT_ALIGNED = frozenset({DupCol.SIZE, DupCol.COPIES, DupCol.WASTED})
    SORT_KEYS = {
        DupCol.SIZE: lambda g: g.size,
        DupCol.COPIES: lambda g: len(g.paths),
        DupCol.WASTED: lambda g: g.wasted,
        DupCol.PATHS: lambda g: g.paths[0] if g.paths else "",
    }

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
            if col == DupCol.SIZE:
                return human_size(g.size)
            if col == DupCol.COPIES:
                return f"{len(g.paths):,}"
            if col == DupCol.WASTED:
                return human_size(g.wasted)
            return _paths_summary(g)
        if role == Qt.ItemDataRole.TextAlignmentRole and col != DupCol.PATHS:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            shown = "\n".join(g.paths[:TOOLTIP_PATHS])
            rest = len(g.paths) - TOOLTIP_PATHS
            more = f"\n… and {plural(rest, 'more path')}" if rest > 0 else ""
            return plain_tooltip(f"{shown}{more}\nSelect the group to list every path.")
        return None


def _paths_summary(group: DuplicateGroup) -> str:
    """The first two paths and how many more: a cell never holds 90,000 of them."""
    first = ", ".join(group.paths[:2])
    rest = len(group.paths) - 2
    return f"{first} and {rest:,} more" if rest > 0 else first


class GroupPathsModel(RowsModel[str]):
    """Every path of one duplicate group, one row each: the view asks for the rows in sight."""

    HEADERS = ("Path",)

    def set_group(self, group: DuplicateGroup | None) -> None:
        self._set_rows(group.paths if group is not None else [])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        path = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, PathRole):
            return path
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(f"{path}\nDouble-click to show it in the file tree.")
        if role == Qt.ItemDataRole.DecorationRole:
            return icons.icon("file")
        return None
