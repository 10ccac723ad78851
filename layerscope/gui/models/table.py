"""The part every flat table model here shares: rows in a list, fixed headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

Index = QModelIndex | QPersistentModelIndex
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

Row = TypeVar("Row")


class RowsModel(QAbstractTableModel, Generic[Row]):
    """A table of `self._rows`; subclasses name the columns and implement data()."""

    HEADERS: ClassVar[tuple[str, ...]] = ()
    RIGHT_ALIGNED: ClassVar[frozenset[int]] = frozenset()  # numeric columns
    TIPS: ClassVar[dict[int, str]] = {}
    # column -> sort key of a row; a model with keys sorts itself (a view's header click),
    # with one Python sort of its list: no proxy asks data() of every row
    SORT_KEYS: ClassVar[dict[int, Callable[[Any], Any]]] = {}

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: list[Row] = []

    def _set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row_object(self, row: int) -> Row | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self.SORT_KEYS.get(column)
        if key is None:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        kept = [(index, self._rows[index.row()]) for index in old]
        self._rows.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        where = {id(row): i for i, row in enumerate(self._rows)} if kept else {}
        self.changePersistentIndexList(
            old, [self.index(where[id(row)], index.column()) for index, row in kept]
        )
        self.layoutChanged.emit()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.TIPS.get(section)
        if role == Qt.ItemDataRole.TextAlignmentRole and section in self.RIGHT_ALIGNED:
            return RIGHT
        return None
