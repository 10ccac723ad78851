"""Archives and the images inside them, as a two-level tree (archive > image).

While a load runs, the source it reads can be shown after the open archives, as soon as its
manifests and configs are read (a SourceOutline): its rows say what is known (name,
platform, layers, stored size) and that the rest is still being read.
"""

from __future__ import annotations

import os
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from layerscope.analysis import Analysis, ArchiveInfo
from layerscope.format import exact_size, human_size, percent, plural
from layerscope.gui import icons, theme
from layerscope.gui.text import plain_tooltip
from layerscope.load import SourceOutline
from layerscope.model.image import Image, ImageOutline
from layerscope.view.names import image_names

Index = QModelIndex | QPersistentModelIndex

ImageIndexRole = Qt.ItemDataRole.UserRole + 1  # int index into Analysis.images, or -1
ArchiveIndexRole = Qt.ItemDataRole.UserRole + 2
PendingIndexRole = Qt.ItemDataRole.UserRole + 3  # int index into the outline's images, or -1


class Col(IntEnum):
    NAME = 0
    PLATFORM = 1
    LAYERS = 2
    SIZE = 3
    EFFICIENCY = 4


HEADERS = ("Image", "Platform", "Layers", "Size", "Efficiency")
READING_TIP = (
    "Loading: its layers and config are known; its files, sizes and waste come "
    "once every layer is read"
)


class ImagesModel(QAbstractItemModel):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._analysis: Analysis | None = None
        self._by_archive: list[list[int]] = []  # archive -> image indexes
        self._names: list[str] = []  # per image, telling open images apart
        self._pending: SourceOutline | None = None  # the source a load is reading

    @property
    def analysis(self) -> Analysis | None:
        return self._analysis

    @property
    def pending(self) -> SourceOutline | None:
        return self._pending

    def _archive_rows(self) -> int:
        return len(self._analysis.archives) if self._analysis is not None else 0

    def set_pending(self, outline: SourceOutline | None) -> None:
        """Show (or, with None, take away) the source a load is reading, after the open
        archives. Rows are inserted and removed, not reset: the selection stays."""
        if self._pending is not None:
            row = self._archive_rows()
            self.beginRemoveRows(QModelIndex(), row, row)
            self._pending = None
            self.endRemoveRows()
        if outline is not None:
            row = self._archive_rows()
            self.beginInsertRows(QModelIndex(), row, row)
            self._pending = outline
            self.endInsertRows()

    def pending_index(self, image: int) -> QModelIndex:
        """The row of the pending source's image `image`."""
        if self._pending is None or not 0 <= image < len(self._pending.images):
            return QModelIndex()
        return self.index(image, 0, self.index(self._archive_rows(), 0))

    def set_analysis(self, analysis: Analysis | None) -> None:
        self.beginResetModel()
        self._analysis = analysis
        self._pending = None
        self._by_archive = []
        self._names = image_names(analysis) if analysis is not None else []
        if analysis is not None:
            self._by_archive = [[] for _ in analysis.archives]
            for i, image in enumerate(analysis.images):
                self._by_archive[image.archive_index].append(i)
        self.endResetModel()

    # Rows carry the core objects themselves as internal pointers; the Analysis keeps
    # them alive for as long as the model shows it.
    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if self._analysis is None or not 0 <= column < len(Col) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            if row < len(self._analysis.archives):
                return self.createIndex(row, column, self._analysis.archives[row])
            if row == len(self._analysis.archives) and self._pending is not None:
                return self.createIndex(row, column, self._pending)
            return QModelIndex()
        obj = parent.internalPointer()
        if isinstance(obj, ArchiveInfo) and parent.column() == 0:
            images = self._by_archive[parent.row()]
            if row < len(images):
                return self.createIndex(row, column, self._analysis.images[images[row]])
        if isinstance(obj, SourceOutline) and parent.column() == 0 and row < len(obj.images):
            return self.createIndex(row, column, obj.images[row])
        return QModelIndex()

    def parent(self, child: Index | None = None) -> QModelIndex:  # type: ignore[override]
        if child is None:
            return super().parent()  # type: ignore[return-value]
        if not child.isValid() or self._analysis is None:
            return QModelIndex()
        obj = child.internalPointer()
        if isinstance(obj, Image):
            archive = obj.archive_index
            return self.createIndex(archive, 0, self._analysis.archives[archive])
        if isinstance(obj, ImageOutline) and self._pending is not None:
            return self.createIndex(self._archive_rows(), 0, self._pending)
        return QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if self._analysis is None:
            return 0
        if not parent.isValid():
            return len(self._analysis.archives) + (self._pending is not None)
        if parent.column() != 0:
            return 0
        obj = parent.internalPointer()
        if isinstance(obj, ArchiveInfo):
            return len(self._by_archive[parent.row()])
        if isinstance(obj, SourceOutline):
            return len(obj.images)
        return 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(Col)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Col):
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section >= Col.LAYERS:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if role == Qt.ItemDataRole.ToolTipRole and section == Col.EFFICIENCY:
                return "Share of the shipped file bytes that the final image shows"
        return None

    def image_index(self, image: int) -> QModelIndex:
        """The row of Analysis.images[image]."""
        if self._analysis is None or not 0 <= image < len(self._analysis.images):
            return QModelIndex()
        archive = self._analysis.images[image].archive_index
        row = self._by_archive[archive].index(image)
        return self.index(row, 0, self.index(archive, 0))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._analysis is None:
            return None
        obj = index.internalPointer()
        col = index.column()
        if isinstance(obj, ArchiveInfo):
            return self._archive_data(obj, index.row(), col, role)
        if isinstance(obj, SourceOutline):
            return self._pending_source_data(obj, col, role)
        if isinstance(obj, ImageOutline):
            return self._pending_image_data(obj, index.row(), col, role)
        image_index = self._by_archive[obj.archive_index][index.row()]
        return self._image_data(obj, image_index, col, role)

    def _pending_source_data(self, source: SourceOutline, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return _archive_cell(source.path, source.format, len(source.images), col)
        if role == Qt.ItemDataRole.DecorationRole and col == Col.NAME:
            return icons.icon("reload")
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(f"{source.path}\n{source.format}\n{READING_TIP}")
        if role == Qt.ItemDataRole.ForegroundRole:
            return theme.current().muted
        if role == ImageIndexRole:
            return -1
        if role == PendingIndexRole:
            return -1
        return None

    def _pending_image_data(self, image: ImageOutline, row: int, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if col == Col.NAME:
                return image.name
            if col == Col.PLATFORM:
                return image.platform or ""
            if col == Col.LAYERS:
                return str(len(image.layers))
            if col == Col.SIZE:
                return "…"
            if col == Col.EFFICIENCY:
                return "reading…"
        if role == Qt.ItemDataRole.DecorationRole and col == Col.NAME:
            return icons.icon("reload")
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= Col.LAYERS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [", ".join(image.refs) or image.config_digest, image.config_digest]
            lines.append(f"{exact_size(image.stored_bytes)} stored")
            lines.append(READING_TIP)
            return plain_tooltip("\n".join(lines))
        if role == Qt.ItemDataRole.ForegroundRole:
            return theme.current().muted
        if role == ImageIndexRole:
            return -1
        if role == PendingIndexRole:
            return row
        return None

    def _archive_data(self, archive: ArchiveInfo, row: int, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return _archive_cell(archive.path, archive.format, len(self._by_archive[row]), col)
        if role == Qt.ItemDataRole.DecorationRole and col == Col.NAME:
            return icons.icon("warning" if archive.warnings else "archive")
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [archive.path, archive.format]
            lines += [f"warning: {w}" for w in archive.warnings]
            return plain_tooltip("\n".join(lines))
        if role == Qt.ItemDataRole.ForegroundRole and col != Col.NAME:
            return theme.current().muted
        if role == ArchiveIndexRole:
            return row
        if role == ImageIndexRole:
            return -1
        if role == PendingIndexRole:
            return -1
        return None

    def _image_data(self, image: Image, i: int, col: int, role: int) -> Any:
        assert self._analysis is not None
        waste = self._analysis.waste[i]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == Col.NAME:
                return self._names[i]
            if col == Col.PLATFORM:
                return image.platform or ""
            if col == Col.LAYERS:
                return str(len(image.layers))
            if col == Col.SIZE:
                return human_size(image.size_bytes)
            if col == Col.EFFICIENCY:
                return percent(waste.efficiency)
        if role == Qt.ItemDataRole.DecorationRole and col == Col.NAME:
            return icons.icon("warning" if image.warnings else "image")
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= Col.LAYERS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [", ".join(image.refs) or image.config_digest, image.config_digest]
            lines.append(
                f"{exact_size(image.size_bytes)} in files, "
                f"{exact_size(image.compressed_bytes)} stored"
            )
            lines.append(f"{human_size(waste.reclaimable_bytes)} reclaimable")
            lines += [f"warning: {w}" for w in image.warnings]
            return plain_tooltip("\n".join(lines))
        if role == Qt.ItemDataRole.ForegroundRole and col == Col.EFFICIENCY:
            if waste.efficiency < 0.9:
                return theme.current().deleted
            return None
        if role == ImageIndexRole:
            return i
        if role == ArchiveIndexRole:
            return image.archive_index
        if role == PendingIndexRole:
            return -1
        return None


def _archive_cell(path: str, archive_format: str, images: int, col: int) -> str | None:
    """An archive's row, read or still loading: its file name, format and image count."""
    if col == Col.NAME:
        return os.path.basename(path.rstrip("/")) or path
    if col == Col.PLATFORM:
        return archive_format
    if col == Col.LAYERS:
        return plural(images, "image")
    return None
