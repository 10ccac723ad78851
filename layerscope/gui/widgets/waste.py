"""Wasted space of one image: the figures, the dead files and the duplicates."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layerscope.analysis import Analysis
from layerscope.format import exact_size, human_size, percent
from layerscope.gui import theme
from layerscope.gui.models.waste import (
    DeadFileRole,
    DuplicatesModel,
    SortRole,
    WasteCol,
    WasteModel,
)
from layerscope.gui.widgets.common import Card, CardRow, section_label, setup_table
from layerscope.gui.widgets.pane import Navigate, Pane


def _sorted(model: WasteModel | DuplicatesModel, parent: QWidget) -> QSortFilterProxyModel:
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SortRole)
    return proxy


class WastePanel(Pane):
    """A click on a wasted file selects the layer that shipped it and the path in the tree;
    a double-click (or Enter) also brings the Files tab to the front."""

    TITLE = "Wasted Space"
    ICON = "waste"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = WasteModel(self)
        self.duplicates = DuplicatesModel(self)
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
        self.proxy = _sorted(self.model, self)
        self.table.setModel(self.proxy)
        setup_table(self.table, stretch_column=WasteCol.PATH)  # after setModel: sections exist
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(WasteCol.SIZE, Qt.SortOrder.DescendingOrder)
        header = self.table.horizontalHeader()
        for col, width in (
            (WasteCol.SIZE, 90),
            (WasteCol.SHIPPED, 90),
            (WasteCol.KILLED, 90),
            (WasteCol.HOW, 110),
        ):
            header.resizeSection(col, width)
        self.table.clicked.connect(self._clicked)
        self.table.activated.connect(self._activated)
        self.table.selectionModel().currentRowChanged.connect(self._clicked)

        self.dup_table = QTableView(self)
        setup_table(self.dup_table)
        self.dup_proxy = _sorted(self.duplicates, self)
        self.dup_table.setModel(self.dup_proxy)
        self.dup_table.setSortingEnabled(True)
        self.dup_table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
        dh = self.dup_table.horizontalHeader()
        dh.setStretchLastSection(True)
        for section, width in enumerate((90, 70, 90)):
            dh.resizeSection(section, width)
        dh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

        self.files_label = section_label("Wasted files")
        self.files_label.setWordWrap(True)
        self.dup_label = section_label("Duplicate files")
        top = QWidget(self)
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.files_label)
        tl.addWidget(self.table, 1)
        bottom = QWidget(self)
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.dup_label)
        bl.addWidget(self.dup_table, 1)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([500, 160])
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)

    def show_image(self, analysis: Analysis, image: int) -> None:
        self.set_image(analysis, image)

    def focus_chain(self) -> list[QWidget]:
        return [self.table, self.dup_table]

    def set_image(self, analysis: Analysis | None, image_index: int) -> None:
        valid = analysis is not None and 0 <= image_index < len(analysis.images)
        if not valid or analysis is None:
            self.model.set_waste(None)
            self.duplicates.set_waste(None)
            for card in self.cards:
                card.set("–")
            return
        waste = analysis.waste[image_index]
        dive = analysis.dive[image_index]
        image = analysis.images[image_index]
        self.model.set_waste(waste)
        self.duplicates.set_waste(waste)
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
            f"{len(waste.duplicates)} group"
            + ("" if len(waste.duplicates) == 1 else "s")
            + " of identical files",
            "Final files whose content is stored more than once (not counted as reclaimable)",
        )
        n = len(waste.dead_files)
        self.files_label.setText(
            f"Wasted files ({n}) — click to find one in the layers, double-click to open it"
        )
        self.dup_label.setText(f"Duplicate files ({len(waste.duplicates)})")
        self.table.resizeColumnToContents(WasteCol.HOW)

    def restyle(self) -> None:
        for card in self.cards:
            card.restyle()

    def _row(self, index: QModelIndex) -> tuple[int, str] | None:
        if not index.isValid():
            return None
        dead = self.proxy.data(index.siblingAtColumn(0), DeadFileRole)
        return (dead.layer, dead.path) if dead is not None else None

    def _clicked(self, index: QModelIndex, _previous: QModelIndex | None = None) -> None:
        row = self._row(index)
        if row is not None:
            self.navigate.emit(Navigate(layer=row[0], path=row[1]))

    def _activated(self, index: QModelIndex) -> None:
        row = self._row(index)
        if row is not None:
            self.navigate.emit(Navigate(layer=row[0], path=row[1], show_files=True))
