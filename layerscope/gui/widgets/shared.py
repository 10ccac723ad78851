"""Layers shared across every open image, and what sharing saves."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHeaderView,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layerscope.analysis import Analysis
from layerscope.format import exact_size, human_size, plural
from layerscope.gui.models.shared import FIXED_COLUMNS, SharedModel
from layerscope.gui.widgets.common import Card, CardRow, Placeholder, setup_table
from layerscope.gui.widgets.pane import Navigate, Pane
from layerscope.view.names import distinct_images

IMAGE_COLUMN_MAX = 260  # px: an image's column fits its ref, platform and archive up to this


class SharedPanel(Pane):
    TITLE = "Shared Layers"
    ICON = "shared"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = SharedModel(self)
        self._image = -1  # the image selected in the window
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget(self)
        outer.addWidget(self.stack)
        self.placeholder = Placeholder(
            "Open two or more images to see which layers they share.\n\n"
            "Open several archives (they add up), or one archive that holds several images, "
            "such as “docker save app worker” or a multi-platform OCI archive."
        )
        self.stack.addWidget(self.placeholder)

        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        self.images_card = Card("Images")
        self.total_card = Card("Total size")
        self.stored_card = Card("Stored once")
        self.saved_card = Card("Saved by sharing")
        self.cards = [self.images_card, self.total_card, self.stored_card, self.saved_card]
        layout.addWidget(CardRow(self.cards, page))

        self.shared_only = QCheckBox("Only layers shared by two or more images", page)
        self.shared_only.toggled.connect(self.model.set_shared_only)
        layout.addWidget(self.shared_only)
        self.table = QTableView(page)
        setup_table(self.table)
        self.table.setModel(self.model)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.model.modelReset.connect(self._resize)
        self.table.activated.connect(self._go_to_layer)
        self.table.doubleClicked.connect(self._go_to_layer)
        self.table.setToolTip("Double-click a layer (or press Enter) to show it")
        layout.addWidget(self.table, 1)
        self.stack.addWidget(page)

    def _resize(self) -> None:
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.resizeSection(0, 122)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(2, 80)
        metrics = header.fontMetrics()
        for col in range(FIXED_COLUMNS, self.model.columnCount()):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            text = str(self.model.headerData(col, Qt.Orientation.Horizontal) or "")
            widest = max((metrics.horizontalAdvance(line) for line in text.splitlines()), default=0)
            header.resizeSection(col, min(max(112, widest + 16), IMAGE_COLUMN_MAX))
        header.setMinimumHeight(self.fontMetrics().height() * 4 + 12)

    def show_analysis(self, analysis: Analysis) -> None:
        self.set_analysis(analysis)

    def show_image(self, analysis: Analysis, image: int) -> None:
        self._image = image

    def _go_to_layer(self, index: QModelIndex) -> None:
        """Show the row's layer: in the selected image if it has it, else the first that does."""
        found = self.model.layer_at(index.row())
        if found is None:
            return
        images, position = found
        image = self._image if self._image in images else images[0]
        self.navigate.emit(Navigate(image=image, layer=position, show_files=True))

    def tab_title(self, analysis: Analysis) -> str:
        if len(analysis.images) < 2:
            return self.TITLE
        return f"{self.TITLE} ({len(analysis.sharing.layers)})"

    def focus_chain(self) -> list[QWidget]:
        return [self.shared_only, self.table]

    def set_analysis(self, analysis: Analysis | None) -> None:
        self.model.set_analysis(analysis)
        if analysis is None or len(analysis.images) < 2:
            self.stack.setCurrentIndex(0)
            return
        self.stack.setCurrentIndex(1)
        s = analysis.sharing
        distinct = distinct_images(analysis)
        twice = len(analysis.images) - distinct
        self.images_card.set(
            str(distinct),
            plural(len(s.layers), "shared layer"),
            f"{plural(twice, 'image')} opened from more than one archive, counted once"
            if twice
            else "",
        )
        self.total_card.set(
            human_size(s.total_bytes), "every image counted in full", exact_size(s.total_bytes)
        )
        self.stored_card.set(
            human_size(s.stored_bytes), "each distinct layer once", exact_size(s.stored_bytes)
        )
        self.saved_card.set(
            human_size(s.saved_bytes),
            "shared layers are stored and pulled once",
            f"{exact_size(s.saved_bytes)} a registry or a host stores only once",
        )

    def restyle(self) -> None:
        for card in self.cards:
            card.restyle()
        self.placeholder.restyle()
