"""The left side of the window: open images, the selected image's layers, the layer's details.

It reports what the user selects (imageSelected, layerSelected) and shows what the window
selects (select_image, select_layer); the window decides what a selection means.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QSplitter,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.analysis import Analysis
from layerscope.gui.models.images import Col as ImageCol
from layerscope.gui.models.images import ImageIndexRole, ImagesModel, PendingIndexRole
from layerscope.gui.models.layers import Col as LayerCol
from layerscope.gui.models.layers import LayersModel
from layerscope.gui.widgets.common import StretchColumn, section_label, setup_table, setup_tree
from layerscope.gui.widgets.delegates import BarDelegate
from layerscope.gui.widgets.details import DetailsBrowser, layer_html, outline_layer_html
from layerscope.load import SourceOutline
from layerscope.model.image import ImageOutline
from layerscope.view.names import image_names

_SELECT_ROW = (
    QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
)


class Sidebar(QSplitter):
    imageSelected = Signal(int)  # an image row (or an archive row: its first image)
    pendingSelected = Signal(int)  # an image of the source still loading (its outline)
    layerSelected = Signal(int)
    copied = Signal(str)  # a digest copied from the details
    # (image A, layer A, image B, layer B): Ctrl/Shift-click two rows, then the context menu
    compareRequested = Signal(int, int, int, int)
    saveLayerRequested = Signal(int)  # the layer's own tar
    exportLayerRequested = Signal(int)  # the filesystem at that layer

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setChildrenCollapsible(False)
        self._analysis: Analysis | None = None
        self._image = -1

        self.images_model = ImagesModel(self)
        self.images_view = QTreeView()
        setup_tree(self.images_view)
        self.images_view.setModel(self.images_model)
        self.images_view.setRootIsDecorated(True)
        self.images_view.setAllColumnsShowFocus(True)
        ih = self.images_view.header()
        for col in (ImageCol.PLATFORM, ImageCol.LAYERS, ImageCol.SIZE, ImageCol.EFFICIENCY):
            ih.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        chars = self.fontMetrics().averageCharWidth()
        self._name_column = StretchColumn(self.images_view, ih, ImageCol.NAME, chars * 20)
        self.images_view.selectionModel().currentChanged.connect(self._image_row_changed)
        # Two rows can be selected (Ctrl/Shift-click) to compare them; the current row is
        # still the one shown.
        self.images_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.images_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.images_view.customContextMenuRequested.connect(self._images_menu)

        self.layers_model = LayersModel(self)
        self.layers_view = QTableView()
        self.layers_view.setModel(self.layers_model)
        setup_table(self.layers_view, stretch_column=LayerCol.COMMAND)  # after setModel
        self.layers_view.setTextElideMode(Qt.TextElideMode.ElideRight)  # commands read left first
        self._bar = BarDelegate(self.layers_view)
        self.layers_view.setItemDelegateForColumn(LayerCol.SIZE, self._bar)
        self.layers_view.setItemDelegateForColumn(LayerCol.WASTED, self._bar)
        lh = self.layers_view.horizontalHeader()
        for layer_col in LayerCol:  # numbers are never elided: their columns fit them
            if layer_col is not LayerCol.COMMAND:
                lh.setSectionResizeMode(layer_col, QHeaderView.ResizeMode.ResizeToContents)
        chars = self.fontMetrics().averageCharWidth()
        self._command_column = StretchColumn(self.layers_view, lh, LayerCol.COMMAND, chars * 16)
        self.layers_view.selectionModel().currentRowChanged.connect(self._layer_row_changed)
        self.layers_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.layers_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.layers_view.customContextMenuRequested.connect(self._layers_menu)
        self.layers_view.setColumnHidden(LayerCol.FOUND, True)
        lh.moveSection(lh.visualIndex(LayerCol.FOUND), 1)  # beside the number: always in sight

        self.layer_details = DetailsBrowser()
        self.layer_details.copied.connect(self.copied)

        self.addWidget(_titled("Images", self.images_view))
        self.addWidget(_titled("Layers", self.layers_view))
        self.addWidget(_titled("Selected layer", self.layer_details))
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 4)
        self.setStretchFactor(2, 2)
        self.setSizes([150, 420, 230])

    # -- images ----------------------------------------------------------------------------

    def set_analysis(self, analysis: Analysis) -> None:
        self._analysis = analysis
        self._image = -1
        self.images_model.set_analysis(analysis)
        self.images_view.expandAll()
        self._fit_images_pane()

    def select_image(self, i: int) -> None:
        index = self.images_model.image_index(i)
        if index.isValid():
            self.images_view.selectionModel().setCurrentIndex(index, _SELECT_ROW)
            self.images_view.scrollTo(index)

    def set_pending(self, outline: SourceOutline | None) -> None:
        """Show the source a load is reading after the open images (None: no more)."""
        self.images_model.set_pending(outline)
        if outline is not None:
            self.images_view.expand(self.images_model.pending_index(0).parent())
        self._fit_images_pane()

    def select_pending(self, k: int) -> None:
        index = self.images_model.pending_index(k)
        if index.isValid():
            self.images_view.selectionModel().setCurrentIndex(index, _SELECT_ROW)
            self.images_view.scrollTo(index)

    def _image_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and self.images_model.rowCount(current.siblingAtColumn(0)):
            current = self.images_model.index(0, 0, current.siblingAtColumn(0))  # its first
        i = self.images_model.data(current, ImageIndexRole)
        k = self.images_model.data(current, PendingIndexRole)
        if isinstance(i, int) and i >= 0:
            self.imageSelected.emit(i)
        elif isinstance(k, int) and k >= 0:
            self.pendingSelected.emit(k)

    def _fit_images_pane(self) -> None:
        """Give the images list the height its rows need (up to ~8), the layers the rest."""
        analysis, pending = self._analysis, self.images_model.pending
        rows = len(analysis.archives) + len(analysis.images) if analysis is not None else 0
        rows += 1 + len(pending.images) if pending is not None else 0
        row_height = self.images_view.sizeHintForRow(0) if rows else 20
        row_height = max(row_height, self.fontMetrics().height() + 4)
        wanted = self.images_view.header().height() + row_height * min(max(rows, 3), 8) + 40
        sizes = self.sizes()
        if len(sizes) == 3 and sum(sizes) > 0:
            delta = wanted - sizes[0]
            self.setSizes([wanted, max(200, sizes[1] - delta), sizes[2]])

    # -- layers ----------------------------------------------------------------------------

    def set_image(self, analysis: Analysis, i: int) -> None:
        self._analysis = analysis
        self._image = i
        self.layers_model.set_image(analysis, i)
        if i < 0:
            self.layer_details.setHtml("")

    def show_outline(self, image: ImageOutline) -> None:
        """The layers of an image still loading, as its manifest and config list them."""
        self._image = -1
        self.layers_model.set_outline(image)
        self.layers_view.setColumnHidden(LayerCol.FOUND, True)

    def show_found(self, counts: list[int] | None) -> None:
        """The file filter's matches per layer, in a column shown only while it is on."""
        self.layers_model.set_found(counts)
        self.layers_view.setColumnHidden(LayerCol.FOUND, counts is None)

    def current_layer(self) -> int:
        index = self.layers_view.currentIndex()
        return index.row() if index.isValid() else 0

    def select_layer(self, layer: int) -> bool:
        """Make `layer` current; False when it already was (no signal is emitted then)."""
        if self.layers_view.currentIndex().row() == layer:
            return False
        index = self.layers_model.index(layer, LayerCol.COMMAND)
        self.layers_view.selectionModel().setCurrentIndex(index, _SELECT_ROW)
        self.layers_view.scrollTo(index)
        return True

    def show_layer_details(self, layer: int) -> None:
        outline = self.layers_model.outline
        if outline is not None and 0 <= layer < len(outline.layers):
            self.layer_details.setHtml(outline_layer_html(outline.layers[layer]))
            return
        analysis, image = self._analysis, self.layers_model.image
        if analysis is None or image is None or not 0 <= layer < len(image.layers):
            self.layer_details.setHtml("")
            return
        self.layer_details.setHtml(layer_html(analysis, self._image, image.layers[layer]))

    def _layer_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.layerSelected.emit(current.row())

    def focus_chain(self) -> list[QWidget]:
        return [self.images_view, self.layers_view]

    # -- comparing and saving --------------------------------------------------------------

    def selected_layers(self) -> list[int]:
        rows = {i.row() for i in self.layers_view.selectionModel().selectedRows()}
        return sorted(rows)

    def selected_images(self) -> list[int]:
        out = []
        for index in self.images_view.selectionModel().selectedRows():
            i = self.images_model.data(index, ImageIndexRole)
            if isinstance(i, int) and i >= 0:
                out.append(i)
        return sorted(set(out))

    def _layers_menu(self, pos: QPoint) -> None:
        image = self._image
        row = self.layers_view.indexAt(pos).row()
        if image < 0 or row < 0:
            return
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # not one more per click
        chosen = self.selected_layers()
        pair = menu.addAction(
            "Compare the Two Selected Layers",
            lambda: self.compareRequested.emit(image, chosen[0], image, chosen[-1]),
        )
        pair.setEnabled(len(chosen) == 2)
        below = menu.addAction(
            f"Compare Layer {row} with Layer {row - 1}",
            lambda: self.compareRequested.emit(image, row - 1, image, row),
        )
        below.setEnabled(row > 0)
        menu.addSeparator()
        menu.addAction(f"Save Layer {row} as Tar…", lambda: self.saveLayerRequested.emit(row))
        menu.addAction(
            f"Export the Filesystem at Layer {row}…", lambda: self.exportLayerRequested.emit(row)
        )
        menu.exec(self.layers_view.viewport().mapToGlobal(pos))

    def _images_menu(self, pos: QPoint) -> None:
        analysis = self._analysis
        if analysis is None or self._image < 0:
            return
        current = self._image
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # not one more per click
        chosen = self.selected_images()
        names = image_names(analysis)
        last = [len(im.layers) - 1 for im in analysis.images]
        pair = menu.addAction(
            "Compare the Two Selected Images",
            lambda: self.compareRequested.emit(
                chosen[0], last[chosen[0]], chosen[-1], last[chosen[-1]]
            ),
        )
        pair.setEnabled(len(chosen) == 2)
        others = QMenu(f"Compare {names[current]} with", menu)
        for i, name in enumerate(names):
            if i != current and last[i] >= 0:
                action = others.addAction(name)
                action.triggered.connect(
                    lambda _=False, i=i: self.compareRequested.emit(
                        current, last[current], i, last[i]
                    )
                )
        others.setEnabled(not others.isEmpty())
        menu.addMenu(others)
        menu.exec(self.images_view.viewport().mapToGlobal(pos))


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 4, 2, 2)
    layout.setSpacing(2)
    layout.addWidget(section_label(title))
    layout.addWidget(widget, 1)
    return box
