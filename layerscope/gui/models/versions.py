"""Every layer that touched one path, and how: a table over Node.versions."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QObject, Qt

from layerscope.analysis.waste import DeadFile
from layerscope.format import exact_size, human_size
from layerscope.gui import icons, theme
from layerscope.gui.models.filetree import change_text, dead_text
from layerscope.gui.models.table import Index, RowsModel
from layerscope.model.filesystem import Change, FileSystem, Node, Version

LayerRole = Qt.ItemDataRole.UserRole + 30


class Col(IntEnum):
    LAYER = 0
    CHANGE = 1
    KIND = 2
    SIZE = 3
    MODE = 4
    OWNER = 5
    WASTE = 6


HEADERS = ("Layer", "Change", "Type", "Size", "Mode", "Owner", "Wasted")
_ICONS = {Change.ADDED: "added", Change.MODIFIED: "modified", Change.DELETED: "deleted"}


class VersionsModel(RowsModel[Version]):
    HEADERS = HEADERS

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._node: Node | None = None
        self._dead: dict[int, DeadFile] = {}

    @property
    def node(self) -> Node | None:
        return self._node

    def set_node(
        self, fs: FileSystem | None, node: Node | None, dead_files: Sequence[DeadFile] | None = None
    ) -> None:
        """Show the net change of each layer that changed `node` (fs.changes decides)."""
        self.beginResetModel()
        self._node = node
        self._rows = []
        self._dead = {}
        if fs is not None and node is not None:
            seen: set[int] = set()
            for v in node.versions:
                if v.layer < 0 or v.layer in seen or v.layer >= len(fs.changes):
                    continue
                if node in fs.changes[v.layer]:
                    last = node.last_in_layer(v.layer)
                    if last is not None:
                        seen.add(v.layer)
                        self._rows.append(last)
            path = node.path
            self._dead = {d.layer: d for d in dead_files or () if d.path == path}
        self.endResetModel()

    def version(self, row: int) -> Version | None:
        return self.row_object(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        v = self._rows[index.row()]
        col = index.column()
        entry = v.entry
        dead = self._dead.get(v.layer) if entry is not None else None
        if role == Qt.ItemDataRole.DisplayRole:
            if col == Col.LAYER:
                return str(v.layer)
            if col == Col.CHANGE:
                return change_text(v.change, v.detail)
            if entry is None:
                return ""
            if col == Col.KIND:
                kind = entry.kind.label
                return f"{kind} → {entry.link}" if entry.link else kind
            if col == Col.SIZE:
                return human_size(v.size)
            if col == Col.MODE:
                return entry.mode_string
            if col == Col.OWNER:
                return f"{entry.uid}:{entry.gid}"
            if col == Col.WASTE:
                return f"{human_size(dead.size)} {dead_text(dead)}" if dead else ""
        if role == Qt.ItemDataRole.DecorationRole and col == Col.CHANGE:
            name = _ICONS.get(v.change)
            return icons.icon(name) if name else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == Col.WASTE:
                return theme.current().deleted
            if col == Col.CHANGE:
                return theme.current().change_color(v.change)
        if role == Qt.ItemDataRole.ToolTipRole and col == Col.SIZE and entry is not None:
            return exact_size(v.size)
        if role == LayerRole:
            return v.layer
        return None
