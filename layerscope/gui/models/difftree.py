"""A lazy Qt tree model over a diff (view/difftree.py): the compare view's tree."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont

from layerscope.analysis.diff import ADDED, CHANGED, REMOVED, PathDiff
from layerscope.format import exact_size, human_size
from layerscope.gui import icons, theme
from layerscope.model.entry import Kind
from layerscope.model.filesystem import Change
from layerscope.view.difftree import DiffNode, DiffSort, DiffTree

Index = QModelIndex | QPersistentModelIndex


class Col(IntEnum):
    NAME = 0
    CHANGE = 1
    SIZE_A = 2
    SIZE_B = 3
    DELTA = 4


_HEADERS = {
    Col.NAME: "Name",
    Col.CHANGE: "Change",
    Col.SIZE_A: "Size in A",
    Col.SIZE_B: "Size in B",
    Col.DELTA: "Δ Size",
}
_SORTS = {Col.NAME: DiffSort.NAME, Col.CHANGE: DiffSort.CHANGE}
_AS_CHANGE = {ADDED: Change.ADDED, REMOVED: Change.DELETED, CHANGED: Change.MODIFIED}
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
PathRole = Qt.ItemDataRole.UserRole + 1


def signed_size(n: int) -> str:
    if n == 0:
        return ""
    return ("+" if n > 0 else "−") + human_size(abs(n))


class DiffTreeModel(QAbstractItemModel):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.tree: DiffTree | None = None
        self._order = DiffSort.DELTA
        self._descending = True
        self._sort_column = Col.DELTA

    def set_tree(self, tree: DiffTree | None) -> None:
        self.beginResetModel()
        self.tree = tree
        self.endResetModel()

    def node_at(self, index: Index) -> DiffNode | None:
        if not index.isValid():
            return None
        node: DiffNode = index.internalPointer()
        return node

    def _node(self, index: Index) -> DiffNode | None:
        if not index.isValid():
            return self.tree.root if self.tree is not None else None
        node: DiffNode = index.internalPointer()
        return node

    def _kids(self, node: DiffNode) -> list[DiffNode]:
        return node.sorted_children(self._order, self._descending)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        node = self._node(parent)
        if node is None:
            return QModelIndex()
        kids = self._kids(node)
        if 0 <= row < len(kids) and 0 <= column < len(Col):
            return self.createIndex(row, column, kids[row])
        return QModelIndex()

    def parent(self, child: Index | None = None) -> QModelIndex:  # type: ignore[override]
        if child is None:
            return super().parent()  # type: ignore[return-value]  # QObject.parent()
        if not child.isValid() or self.tree is None:
            return QModelIndex()
        node: DiffNode = child.internalPointer()
        up = node.parent
        if up is None or up is self.tree.root:
            return QModelIndex()
        assert up.parent is not None
        self._kids(up.parent)  # places up.row in the current order
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.column() > 0:
            return 0
        node = self._node(parent)
        return 0 if node is None else len(node.children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(Col)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.column() > 0:
            return False
        node = self._node(parent)
        return node is not None and bool(node.children)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        nodes = [self.node_at(i) for i in old]
        self._sort_column = Col(column)
        self._order = _SORTS.get(Col(column), DiffSort.DELTA)
        self._descending = order == Qt.SortOrder.DescendingOrder
        new = [
            self.index_for(n, i.column()) if n is not None else QModelIndex()
            for n, i in zip(nodes, old, strict=True)
        ]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def index_for(self, node: DiffNode, column: int = 0) -> QModelIndex:
        if self.tree is None or node is self.tree.root:
            return QModelIndex()
        chain = []
        n: DiffNode | None = node
        while n is not None and n is not self.tree.root:
            chain.append(n)
            n = n.parent
        for n in reversed(chain):
            assert n.parent is not None
            self._kids(n.parent)
        return self.createIndex(node.row, column, node)

    def index_for_path(self, path: str) -> QModelIndex:
        node = self.tree.find(path) if self.tree is not None else None
        return self.index_for(node) if node is not None else QModelIndex()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _HEADERS.get(Col(section))
        horizontal_tip = (
            orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole
        )
        if horizontal_tip and section == Col.DELTA:
            return "How much bigger B is than A here (hardlinked content counted once)"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node_at(index)
        if node is None:
            return None
        col = Col(index.column())
        d = node.diff
        if role == Qt.ItemDataRole.DisplayRole:
            if col == Col.NAME:
                return node.name + ("/" if _is_dir(node) else "")
            if col == Col.CHANGE:
                return d.description if d is not None else ""
            if col == Col.SIZE_A:
                return _size(d.size_a) if d is not None and not d.is_dir else ""
            if col == Col.SIZE_B:
                return _size(d.size_b) if d is not None and not d.is_dir else ""
            if col == Col.DELTA:
                return signed_size(node.delta)
            return None
        if role == PathRole:
            return node.path
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= Col.SIZE_A:
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and d is not None and col <= Col.CHANGE:
            color = theme.current().change_color(_AS_CHANGE[d.change])
            return QBrush(color) if color is not None else None
        if (
            role == Qt.ItemDataRole.FontRole
            and d is not None
            and d.change == REMOVED
            and col <= Col.CHANGE
        ):
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.DecorationRole and col == Col.NAME:
            return icons.icon("folder" if _is_dir(node) else _icon(d))
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(node)
        return None


def _is_dir(node: DiffNode) -> bool:
    return bool(node.children) or (node.diff is not None and node.diff.is_dir)


def _size(n: int | None) -> str:
    return "" if n is None else human_size(n)


def _icon(d: PathDiff | None) -> str:
    if d is not None:
        if d.kind == Kind.SYMLINK:
            return "symlink"
        if d.kind == Kind.HARDLINK:
            return "hardlink"
        if d.kind in (Kind.CHAR, Kind.BLOCK, Kind.FIFO):
            return "device"
    return "file"


def _tooltip(node: DiffNode) -> str:
    d = node.diff
    lines = [node.path]
    if d is not None:
        lines.append(d.description)
        if d.size_a is not None and d.size_b is not None and d.size_a != d.size_b:
            lines.append(f"{exact_size(d.size_a)} → {exact_size(d.size_b)}")
        if d.link is not None:
            lines.append(f"→ {d.link}")
    if node.delta:
        lines.append(f"Δ {'+' if node.delta > 0 else '−'}{exact_size(abs(node.delta))}")
    return "\n".join(lines)
