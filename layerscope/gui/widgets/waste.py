"""Wasted space of one image: the figures, the dead files and the duplicates.

The tables fill when the tab is first shown for an image (cards are cheap, tables of
100,000s of rows are not worth building for a tab nobody looks at), sort themselves in
their models, and list a duplicate group's paths in a lazy list beside the groups.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layerscope.analysis import Analysis
from layerscope.format import exact_size, human_size, percent, plural
from layerscope.gui import theme
from layerscope.gui.models.waste import (
    DeadFileRole,
    DupCol,
    DuplicatesModel,
    GroupPathsModel,
    PathRole,
    WasteCol,
    WasteModel,
)
from layerscope.gui.widgets.common import (
    Card,
    CardRow,
    StretchColumn,
    section_label,
    setup_table,
)
from layerscope.gui.widgets.pane import Navigate, Pane


class WastePanel(Pane):
    """A click on a wasted file selects the layer that shipped it and the path in the tree;
    a double-click (or Enter) also brings the Files tab to the front."""

    TITLE = "Wasted Space"
    ICON = "waste"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = WasteModel(self)
        self.duplicates = DuplicatesModel(self)
        self._pending: tuple[Analysis, int] | None = None  # what the tables show when seen
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)

        self.efficiency = Card("Efficiency")
        self.reclaimable = Card("Reclaimable")
        self.overwritten = Card("Overwritten")
        self.deleted = Card("Deleted")
        self.duplicate = Card("Duplicates")
        self.cards = [
            self.efficiency,
            self.reclaimable,
            self.overwritten,
            self.deleted,
            self.duplicate,
        ]
        layout.addWidget(CardRow(self.cards, self))

        self.table = QTableView(self)
        self.table.setModel(self.model)
        setup_table(self.table, stretch_column=WasteCol.PATH)  # after setModel: sections exist
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(WasteCol.SIZE, Qt.SortOrder.DescendingOrder)
        header = self.table.horizontalHeader()
        # Wide enough for the widest value each column can show (measuring 100,000 rows
        # would stall the window).
        metrics = self.table.fontMetrics()
        for col, widest in (
            (WasteCol.SIZE, "1023 MiB"),
            (WasteCol.SHIPPED, "layer 1000"),
            (WasteCol.KILLED, "same layer"),
            (WasteCol.HOW, "duplicate entry"),
        ):
            header.resizeSection(col, metrics.horizontalAdvance(widest) + 24)
        # the path takes the width the others leave, but scrolls sideways rather than
        # shrink to "/us…NTS" on a narrow pane (2x scale)
        chars = metrics.averageCharWidth()
        self._path_column = StretchColumn(self.table, header, WasteCol.PATH, chars * 36)
        self.table.clicked.connect(self._clicked)
        self.table.activated.connect(self._activated)
        self.table.selectionModel().currentRowChanged.connect(self._clicked)

        self.dup_table = QTableView(self)
        self.dup_table.setModel(self.duplicates)
        setup_table(self.dup_table, stretch_column=DupCol.PATHS)
        self.dup_table.setSortingEnabled(True)
        self.dup_table.sortByColumn(DupCol.WASTED, Qt.SortOrder.DescendingOrder)
        dh = self.dup_table.horizontalHeader()
        for section, width in ((DupCol.SIZE, 90), (DupCol.COPIES, 70), (DupCol.WASTED, 90)):
            dh.resizeSection(section, width)
        self._paths_column = StretchColumn(self.dup_table, dh, DupCol.PATHS, chars * 30)
        self.dup_table.selectionModel().selectionChanged.connect(self._group_selected)

        self.group_paths = GroupPathsModel(self)
        # A table, not a QListView: a list lays out every row (90,000 Python calls), a
        # table of fixed-height rows only asks for those in sight.
        self.paths_view = QTableView(self)
        self.paths_view.setModel(self.group_paths)
        setup_table(self.paths_view, stretch_column=0)
        self.paths_view.activated.connect(self._path_activated)
        self.paths_view.doubleClicked.connect(self._path_activated)

        self.files_label = section_label("Wasted files")
        self.files_label.setWordWrap(True)
        self.dup_label = section_label("Duplicate files")
        top = QWidget(self)
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.files_label)
        tl.addWidget(self.table, 1)
        self.paths_label = section_label("Paths of the selected group")
        self.paths_label.setWordWrap(True)
        groups = QWidget(self)
        gl = QVBoxLayout(groups)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.addWidget(self.dup_label)
        gl.addWidget(self.dup_table, 1)
        paths = QWidget(self)
        pl = QVBoxLayout(paths)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.paths_label)
        pl.addWidget(self.paths_view, 1)
        bottom = QSplitter(Qt.Orientation.Horizontal, self)
        bottom.addWidget(groups)
        bottom.addWidget(paths)
        bottom.setSizes([500, 300])
        bottom.setChildrenCollapsible(False)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([500, 160])
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)

    def show_image(self, analysis: Analysis, image: int) -> None:
        self.set_image(analysis, image)

    def focus_chain(self) -> list[QWidget]:
        return [self.table, self.dup_table, self.paths_view]

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fill_tables()

    def set_image(self, analysis: Analysis | None, image_index: int) -> None:
        """Show the cards now; the tables when the tab is (or next becomes) visible."""
        valid = analysis is not None and 0 <= image_index < len(analysis.images)
        self._pending = (analysis, image_index) if valid and analysis is not None else None
        self.model.set_waste(None)
        self.duplicates.set_waste(None)
        self.group_paths.set_group(None)
        if not valid or analysis is None:
            for card in self.cards:
                card.set("–")
            self.files_label.setText("Wasted files")
            self.dup_label.setText("Duplicate files")
            return
        waste = analysis.waste[image_index]
        dive = analysis.dive[image_index]
        image = analysis.images[image_index]
        t = theme.current()
        self.efficiency.set(
            percent(waste.efficiency),
            f"dive reports {percent(dive.efficiency)}",
            "Share of the file bytes the layers ship that the final image shows.\n"
            f"dive's figure for the same image: {dive.efficiency:.4f} "
            f"(wasted {exact_size(dive.wasted_bytes)}, counted dive's way)",
        )
        self.efficiency.set_accent(
            t.added.name()
            if waste.efficiency >= 0.95
            else t.modified.name()
            if waste.efficiency >= 0.8
            else t.deleted.name()
        )
        self.reclaimable.set(
            human_size(waste.reclaimable_bytes),
            f"of {human_size(image.size_bytes)} shipped",
            f"{exact_size(waste.reclaimable_bytes)} that squashing the image would drop",
        )
        self.overwritten.set(
            human_size(waste.overwritten_bytes),
            "at paths the final image still has",
            exact_size(waste.overwritten_bytes),
        )
        self.deleted.set(
            human_size(waste.deleted_bytes),
            "at paths gone from the final image",
            exact_size(waste.deleted_bytes),
        )
        self.duplicate.set(
            human_size(waste.duplicate_bytes),
            f"{plural(len(waste.duplicates), 'group')} of identical files",
            "Final files whose content is stored more than once (not counted as reclaimable)",
        )
        n = len(waste.dead_files)
        self.files_label.setText(
            f"Wasted files ({n:,}) — click to find one in the layers, double-click to open it"
            if n
            else "Wasted files: none — every file the layers ship is in the final image"
        )
        groups = len(waste.duplicates)
        self.dup_label.setText(
            f"Duplicate files ({plural(groups, 'group')})"
            if groups
            else "Duplicate files: none — no content is stored at two paths"
        )
        if self.isVisible():
            self._fill_tables()

    def _fill_tables(self) -> None:
        if self._pending is None:
            return
        analysis, image_index = self._pending
        self._pending = None
        waste = analysis.waste[image_index]
        self.model.set_waste(waste)  # in the analysis' order: largest first
        self.duplicates.set_waste(waste)  # most wasted first
        for view, default in ((self.table, WasteCol.SIZE), (self.dup_table, DupCol.WASTED)):
            header = view.horizontalHeader()
            column, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
            if (column, order) != (default, Qt.SortOrder.DescendingOrder):
                view.sortByColumn(column, order)  # the order the user chose last
        if self.duplicates.rowCount():
            self.dup_table.selectRow(0)

    def restyle(self) -> None:
        for card in self.cards:
            card.restyle()

    def _row(self, index: QModelIndex) -> tuple[int, str] | None:
        if not index.isValid():
            return None
        dead = self.model.data(index.siblingAtColumn(0), DeadFileRole)
        return (dead.layer, dead.path) if dead is not None else None

    def _group_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.dup_table.selectionModel().selectedRows()
        group = self.duplicates.group(rows[0].row()) if rows else None
        self.group_paths.set_group(group)
        if group is None:
            self.paths_label.setText("Paths of the selected group")
        else:
            self.paths_label.setText(
                f"{plural(len(group.paths), 'path')} with the same {human_size(group.size)}"
                " — double-click one to show it"
            )

    def _path_activated(self, index: QModelIndex) -> None:
        path = self.group_paths.data(index, PathRole)
        if isinstance(path, str):
            self.navigate.emit(Navigate(layer=10**9, path=path, show_files=True))

    def _clicked(self, index: QModelIndex, _previous: QModelIndex | None = None) -> None:
        row = self._row(index)
        if row is not None:
            self.navigate.emit(Navigate(layer=row[0], path=row[1]))

    def _activated(self, index: QModelIndex) -> None:
        row = self._row(index)
        if row is not None:
            self.navigate.emit(Navigate(layer=row[0], path=row[1], show_files=True))
