"""The size map: a chart of the layers' live and dead bytes, and a squarified treemap of the
selected layer (its changes, or the filesystem at it).

The layout and the colours are the core's (view/treemap.py, shared with the HTML report);
this module only paints them and turns clicks into navigation: a click on a directory zooms
into it, a click on a file selects it, and either selects the path in the file tree;
a double-click (or Enter) also shows the Files tab. Layouts are computed when the pane is
shown and after the window rests from resizing, and only as many tiles as can be seen,
off the GUI thread (a directory of 100,000 files takes a while to size up): the map
shows the tiles it has until the new ones are laid out.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from layerscope.analysis import Analysis
from layerscope.analysis.waste import Waste
from layerscope.errors import Cancelled
from layerscope.format import exact_size, human_size, short_command
from layerscope.gui import icons, theme
from layerscope.gui.tasks import Latest, Task
from layerscope.gui.text import plain_tooltip
from layerscope.gui.widgets.common import ElidedLabel
from layerscope.gui.widgets.pane import Navigate, Pane
from layerscope.model.filesystem import Change, FileSystem, Node
from layerscope.model.image import Image
from layerscope.view.tree import LayerView, TreeMode, tree_cache
from layerscope.view.treemap import (
    CHANGE_COLOURS,
    LIVE,
    MORE,
    WASTED,
    Colouring,
    Tile,
    hex_colour,
    layer_legend,
    layout,
    tile_at,
    tile_colour,
    walk,
    wasted_sizes,
)

RELAYOUT_DELAY_MS = 60  # a resize rests this long before the tiles are laid out again
MAX_TILES = 1500  # painted tiles, whatever the window's size
DEPTH = 4  # directory levels shown inside each other (as the tile budget allows)
MIN_TILE_AREA = 48.0  # pixels: smaller children join their directory's "N more" tile


LEGEND = {
    Colouring.CHANGE: [
        ("added", CHANGE_COLOURS[Change.ADDED]),
        ("modified", CHANGE_COLOURS[Change.MODIFIED]),
        ("deleted", CHANGE_COLOURS[Change.DELETED]),
        ("unchanged", CHANGE_COLOURS[Change.UNCHANGED]),
    ],
    Colouring.WASTE: [("kept in the final image", LIVE), ("never shown by it", WASTED)],
}


def _qcolor(rgb: tuple[int, int, int]) -> QColor:
    return QColor(*rgb)


class LayerChart(QWidget):
    """One bar per layer, its live bytes under its dead ones; a click selects the layer."""

    layerClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bars: list[tuple[int, int]] = []  # (live, dead) per layer
        self.commands: list[str] = []
        self.current = -1
        self.setMouseTracking(True)
        self.setMinimumHeight(64)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Each layer's file bytes: live (still in the final image) and dead")

    def sizeHint(self) -> QSize:
        return QSize(400, 96)

    def set_image(self, image: Image | None, waste: Waste | None) -> None:
        if image is None or waste is None:
            self.bars, self.commands = [], []
        else:
            self.bars = [
                (layer.size_bytes - waste.dead_bytes[layer.index], waste.dead_bytes[layer.index])
                for layer in image.layers
            ]
            self.commands = [short_command(layer.created_by) for layer in image.layers]
        self.update()

    def set_current(self, layer: int) -> None:
        self.current = layer
        self.update()

    def _geometry(self) -> tuple[float, float, float]:
        """(left margin, bar slot width, plot height)."""
        n = max(len(self.bars), 1)
        return 4.0, (self.width() - 8.0) / n, self.height() - 16.0

    def layer_at(self, x: float) -> int:
        left, slot, _ = self._geometry()
        i = int((x - left) // slot) if slot > 0 else -1
        return i if 0 <= i < len(self.bars) else -1

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        t = theme.current()
        painter.fillRect(self.rect(), self.palette().base())
        if not self.bars:
            painter.end()
            return
        left, slot, plot = self._geometry()
        top = max((live + dead for live, dead in self.bars), default=0) or 1
        gap = min(6.0, slot * 0.2)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.8))
        painter.setFont(small)
        for i, (live, dead) in enumerate(self.bars):
            x = left + i * slot
            if i == self.current:
                painter.fillRect(
                    QRectF(x, 0, slot, plot + 16),
                    self.palette().highlight().color().lighter(170)
                    if not t.dark
                    else self.palette().highlight().color().darker(200),
                )
            total_h = plot * (live + dead) / top
            live_h = plot * live / top
            if live + dead and total_h < 1.5:
                total_h = 1.5  # a layer with any bytes shows
                live_h = total_h if live else 0
            bar = QRectF(x + gap / 2, plot - total_h + 2, max(slot - gap, 1.0), total_h)
            painter.fillRect(
                QRectF(bar.x(), bar.y(), bar.width(), total_h - live_h), _qcolor(WASTED)
            )
            painter.fillRect(
                QRectF(bar.x(), bar.y() + total_h - live_h, bar.width(), live_h), _qcolor(LIVE)
            )
            if slot >= 14:
                painter.setPen(t.muted)
                painter.drawText(
                    QRectF(x, plot + 2, slot, 14), Qt.AlignmentFlag.AlignCenter, str(i)
                )
        painter.end()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            i = self.layer_at(e.position().x() if hasattr(e, "position") else e.pos().x())
            if i >= 0:
                live, dead = self.bars[i]
                text = (
                    f"Layer {i}: {human_size(live + dead)}\n"
                    f"live {human_size(live)}, dead {human_size(dead)}\n{self.commands[i]}"
                )
                QToolTip.showText(e.globalPos(), plain_tooltip(text), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(e)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        i = self.layer_at(event.position().x())
        if i >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.layerClicked.emit(i)


class TreemapWidget(QWidget):
    """Paints the tiles of one directory of a LayerView; zooms and selects on click."""

    rootChanged = Signal(object)  # Node
    pathSelected = Signal(str)  # a click: select it in the tree
    pathActivated = Signal(str)  # a double-click or Enter: show it in the tree
    hovered = Signal(object)  # Tile | None
    laidOut = Signal()  # the tiles of the current view, root and size are shown

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view: LayerView | None = None
        self.root: Node | None = None
        self.colouring = Colouring.CHANGE
        # the WASTE colouring's bytes per path, computed with the layout (off the GUI thread)
        self.wasted: Callable[[], dict[Node, int]] | None = None
        self.tiles: list[Tile] = []
        self.selected: Node | None = None
        self._hover: Tile | None = None
        self._stale = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RELAYOUT_DELAY_MS)
        self._timer.timeout.connect(self.relayout)
        self._layout_task = Latest()
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(120, 80)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # -- what is shown -------------------------------------------------------------------

    def set_view(
        self, view: LayerView | None, wasted: Callable[[], dict[Node, int]] | None = None
    ) -> None:
        if view is None or self.view is None or view.fs is not self.view.fs:
            self.tiles = []  # another image's tiles: not shown, not clicked, meanwhile
            self.update()
        self.view = view
        self.wasted = wasted
        if view is None:
            self.root = None
        elif self.root is None:
            self.root = view.fs.root
        self._mark_stale()

    def set_colouring(
        self, colouring: Colouring, wasted: Callable[[], dict[Node, int]] | None
    ) -> None:
        self.colouring = colouring
        self.wasted = wasted
        self._mark_stale()

    def set_root(self, node: Node) -> None:
        if node is not self.root:
            self.root = node
            self._mark_stale()
            self.rootChanged.emit(node)

    def zoom_out(self) -> None:
        if self.root is not None and self.root.parent is not None:
            self.set_root(self.root.parent)

    def zoom_top(self) -> None:
        if self.view is not None:
            self.set_root(self.view.fs.root)

    def _mark_stale(self) -> None:
        self._stale = True
        if self.isVisible():
            self._timer.start(0)

    @property
    def laying_out(self) -> bool:
        """The map is on screen with the tiles before while new ones are laid out."""
        return (self._stale and self.isVisible()) or self._layout_task.running

    def _shown_root(self) -> Node | None:
        """The root, or its nearest ancestor the layer shows (a directory it deleted)."""
        view, node = self.view, self.root
        if view is None:
            return None
        while (
            node is not None
            and node.parent is not None
            and not (view.visible(node) and view.is_dir(node))
        ):
            node = node.parent
        return node or view.fs.root

    def relayout(self) -> None:
        """Lay the tiles out again, in a worker thread; they replace the shown ones when done."""
        self._timer.stop()
        self._stale = False
        view = self.view
        root = self._shown_root()
        if view is None or root is None or self.width() < 8 or self.height() < 8:
            self._layout_task.cancel()
            self._show_tiles([])
            return
        if root is not self.root:
            self.root = root
            self.rootChanged.emit(root)
        width, height = float(self.width()), float(self.height())
        wasted = self.wasted if self.colouring is Colouring.WASTE else None

        def lay_out(task: Task) -> list[Tile]:
            def check() -> None:
                if task.cancelled():
                    raise Cancelled()

            return layout(
                view, root, width, height, depth=DEPTH, min_area=MIN_TILE_AREA,
                wasted=wasted() if wasted is not None else None, max_tiles=MAX_TILES,
                check=check,
            )  # fmt: skip

        self._layout_task.start(lay_out, self._show_tiles, lambda _message: self._show_tiles([]))

    def _show_tiles(self, tiles: list[Tile]) -> None:
        self.tiles = tiles
        self._hover = None
        self.update()
        self.laidOut.emit()

    # -- events --------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._timer.start(0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._stale = True
        self._timer.start()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        t = theme.current()
        painter.fillRect(self.rect(), self.palette().base())
        if not self.tiles:
            painter.setPen(t.muted)
            text = "Nothing to show: no file bytes here" if self.view else "No image"
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, text)
            painter.end()
            return
        dark_text = QColor(20, 20, 20)
        border = QPen(QColor(0, 0, 0, 90))
        border.setWidthF(1.0)
        bold = QFont(self.font())
        bold.setBold(True)
        normal = QFont(self.font())
        metrics_height = self.fontMetrics().height()
        clip = QRectF(event.rect())
        for tile in walk(self.tiles):
            rect = QRectF(tile.x, tile.y, tile.w, tile.h)
            if not rect.intersects(clip):
                continue
            painter.fillRect(rect, _qcolor(tile_colour(tile, self.colouring)))
            painter.setPen(border)
            painter.drawRect(rect.adjusted(0, 0, -0.5, -0.5))
            if tile.w < 30 or tile.h < metrics_height:
                continue
            painter.setPen(dark_text)
            painter.setFont(bold if tile.is_dir else normal)
            label = tile.name + (f"  {human_size(tile.size)}" if tile.is_dir or tile.more else "")
            if tile.status is Change.DELETED:
                label = "✕ " + label
            text_rect = rect.adjusted(3, 1, -3, 0)
            text_rect.setHeight(metrics_height)
            shown = painter.fontMetrics().elidedText(
                label, Qt.TextElideMode.ElideRight, int(text_rect.width())
            )
            painter.drawText(
                text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown
            )
        marks: list[tuple[Tile | None, QColor, float]] = [
            (self._hover, self.palette().highlight().color(), 2.0),
            (self._selected_tile(), QColor(0, 0, 0), 3.0),
        ]
        for marked, colour, width in marks:
            if marked is not None:
                pen = QPen(colour)
                pen.setWidthF(width)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(
                    QRectF(marked.x, marked.y, marked.w, marked.h).adjusted(1, 1, -1, -1)
                )
        painter.end()

    def _selected_tile(self) -> Tile | None:
        if self.selected is None:
            return None
        return next((t for t in walk(self.tiles) if t.node is self.selected), None)

    def tile_at(self, point: QPointF | QPoint) -> Tile | None:
        return tile_at(self.tiles, float(point.x()), float(point.y()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        tile = self.tile_at(event.position())
        if tile is not self._hover:
            self._hover = tile
            self.hovered.emit(tile)
            self.update()

    def leaveEvent(self, event: QEvent) -> None:
        self._hover = None
        self.hovered.emit(None)
        self.update()
        super().leaveEvent(event)

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            tile = self.tile_at(e.pos())
            if tile is not None:
                QToolTip.showText(e.globalPos(), plain_tooltip(self.describe(tile)), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(e)

    def describe(self, tile: Tile) -> str:
        if tile.node is None:
            return f"{tile.name}: the smallest items here, {exact_size(tile.size)} in all"
        lines = [tile.node.path + ("/" if tile.is_dir else ""), exact_size(tile.size)]
        if tile.status is not Change.UNCHANGED:
            lines.append(f"{tile.status.label} in this layer")
        if tile.wasted:
            lines.append(f"{exact_size(tile.wasted)} of it never reach the final image")
        if tile.layer is not None and tile.layer >= 0:
            lines.append(f"bytes shipped by layer {tile.layer}")
        lines.append("click to zoom in" if tile.is_dir else "double-click to show in the tree")
        return "\n".join(lines)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        tile = self.tile_at(event.position())
        if tile is None or tile.node is None:
            return
        self.selected = tile.node
        self.pathSelected.emit(tile.node.path)
        if tile.is_dir:
            self.set_root(tile.node)
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        tile = self.tile_at(event.position())
        if tile is not None and tile.node is not None and not tile.is_dir:
            self.pathActivated.emit(tile.node.path)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Arrows select the tile beside the selected one, Enter does what a click on a
        directory or a double-click on a file does, Backspace or Esc zoom out, Home to /.
        (Alt+Up stays the window's Previous Layer.)"""
        key = event.key()
        if key in (Qt.Key.Key_Backspace, Qt.Key.Key_Escape):
            self.zoom_out()
        elif key == Qt.Key.Key_Home:
            self.zoom_top()
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Up):
            self._step(1 if key in (Qt.Key.Key_Right, Qt.Key.Key_Down) else -1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected is not None:
            if self.selected.children and self.selected is not self.root:
                self.set_root(self.selected)
            else:
                self.pathActivated.emit(self.selected.path)
        else:
            super().keyPressEvent(event)

    def _step(self, step: int) -> None:
        """Select the next (or previous) tile beside the selected one; the first if none is."""
        level = [t.node for t in _siblings(self.tiles, self.selected) if t.node is not None]
        if not level:
            return
        at = level.index(self.selected) if self.selected in level else None
        node = level[0] if at is None else level[max(0, min(len(level) - 1, at + step))]
        self.selected = node
        self.pathSelected.emit(node.path)
        self.update()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        tile = self.tile_at(event.pos())
        menu = QMenu(self)
        if tile is not None and tile.node is not None:
            path = tile.node.path
            menu.addAction("Show in File Tree", lambda: self.pathActivated.emit(path))
            if tile.is_dir:
                node = tile.node
                menu.addAction("Zoom In", lambda: self.set_root(node))
        up = menu.addAction("Zoom Out", self.zoom_out)
        up.setEnabled(self.root is not None and self.root.parent is not None)
        menu.addAction("Zoom to /", self.zoom_top)
        menu.exec(event.globalPos())


def _siblings(tiles: list[Tile], node: Node | None) -> list[Tile]:
    """The tiles laid out beside `node`'s (the top ones when it is not shown)."""
    levels = [tiles]
    while node is not None and levels:
        level = levels.pop()
        if any(t.node is node for t in level):
            return level
        levels.extend(t.children for t in level if t.children)
    return tiles


class SizeMapPane(Pane):
    TITLE = "Size Map"
    ICON = "treemap"

    modeRequested = Signal(object)  # TreeMode: the window keeps one mode for tree and map

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._image: Image | None = None
        self._waste: Waste | None = None
        self._fs: FileSystem | None = None
        self.layer = 0
        self.mode = TreeMode.FILESYSTEM
        self._wasted_cache: dict[tuple[int, TreeMode], dict[Node, int]] = {}
        layout_ = QVBoxLayout(self)
        layout_.setContentsMargins(6, 6, 6, 6)
        layout_.setSpacing(4)

        self.chart = LayerChart(self)
        self.chart.layerClicked.connect(lambda i: self.navigate.emit(Navigate(layer=i)))
        chart_label = QLabel("Layer sizes: live bytes (green) and dead bytes (red); click a "
                             "layer to select it")  # fmt: skip
        chart_label.setStyleSheet("color: palette(mid);")
        self.chart_label = chart_label
        layout_.addWidget(chart_label)
        layout_.addWidget(self.chart)

        bar = QHBoxLayout()
        self.top_button = QToolButton(self)
        self.top_button.setText("/")
        self.top_button.setToolTip("The whole filesystem (Home)")
        self.top_button.clicked.connect(self._zoom_top)
        self.up_button = QToolButton(self)
        self.up_button.setProperty("icon_name", "layer-up")
        self.up_button.setToolTip("Zoom out to the parent directory (Backspace)")
        self.up_button.clicked.connect(self._zoom_out)
        self.crumbs = QLabel(self)
        self.crumbs.setTextFormat(Qt.TextFormat.RichText)  # names are escaped (html.escape)
        self.crumbs.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.crumbs.linkActivated.connect(self._crumb_clicked)
        self.crumbs.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.mode_box = QComboBox(self)
        self.mode_box.addItem("Filesystem at this layer", TreeMode.FILESYSTEM)
        self.mode_box.addItem("This layer's changes", TreeMode.CHANGES)
        self.mode_box.setToolTip("The same as the file tree's mode (Ctrl+T)")
        self.mode_box.activated.connect(
            lambda i: self.modeRequested.emit(self.mode_box.itemData(i))
        )
        self.colour_box = QComboBox(self)
        for colouring in (Colouring.CHANGE, Colouring.WASTE, Colouring.LAYER):
            self.colour_box.addItem(colouring.label, colouring)
        self.colour_box.setToolTip(
            "By change: added green, modified amber, deleted red. By wasted bytes: green "
            "for bytes the final image keeps, red for bytes it never shows. By layer: the "
            "layer that shipped the bytes."
        )
        self.colour_box.currentIndexChanged.connect(lambda _i: self._colouring_changed())
        bar.addWidget(self.top_button)
        bar.addWidget(self.up_button)
        bar.addWidget(self.crumbs, 1)
        bar.addWidget(self.mode_box)
        bar.addWidget(self.colour_box)
        layout_.addLayout(bar)

        self.treemap = TreemapWidget(self)
        self.treemap.rootChanged.connect(self._root_changed)
        self.treemap.pathSelected.connect(lambda p: self.navigate.emit(Navigate(path=p)))
        self.treemap.pathActivated.connect(
            lambda p: self.navigate.emit(Navigate(path=p, show_files=True))
        )
        self.treemap.hovered.connect(self._hovered)
        layout_.addWidget(self.treemap, 1)
        foot = QHBoxLayout()
        self.info = ElidedLabel("", Qt.TextElideMode.ElideMiddle)
        self.legend = QLabel(self)
        self.legend.setTextFormat(Qt.TextFormat.RichText)  # our words and colours only
        foot.addWidget(self.info, 1)
        foot.addWidget(self.legend)
        layout_.addLayout(foot)
        self.refresh_icons()

    # -- Pane hooks ----------------------------------------------------------------------

    def show_image(self, analysis: Analysis, image: int) -> None:
        valid = 0 <= image < len(analysis.images)
        self._image = analysis.images[image] if valid else None
        self._waste = analysis.waste[image] if valid else None
        self._fs = self._image.filesystem if self._image is not None else None
        self._wasted_cache = {}
        self.treemap.root = None
        self.treemap.selected = None
        self.chart.set_image(self._image, self._waste)
        self.layer = 0
        self._update_view()
        self._update_legend()

    def show_layer(self, layer: int) -> None:
        self.layer = layer
        self.chart.set_current(layer)
        self._update_view()

    def set_mode(self, mode: TreeMode) -> None:
        """The window's tree mode (the file tree and the map show the same)."""
        if mode is not self.mode:
            self.mode = mode
            self.mode_box.setCurrentIndex(self.mode_box.findData(mode))
            self._update_view()

    def focus_chain(self) -> list[QWidget]:
        return [self.mode_box, self.colour_box, self.treemap]

    def restyle(self) -> None:
        self.refresh_icons()
        self.chart.update()
        self.treemap.update()

    def refresh_icons(self) -> None:
        self.up_button.setIcon(icons.icon("layer-up"))

    # -- what is shown -------------------------------------------------------------------

    @property
    def colouring(self) -> Colouring:
        value = self.colour_box.currentData()
        return value if isinstance(value, Colouring) else Colouring.CHANGE

    def _wasted(self) -> Callable[[], dict[Node, int]] | None:
        """What the WASTE colouring needs at this layer and mode, made (once) when the map
        is laid out, off the GUI thread."""
        fs, waste = self._fs, self._waste
        if self.colouring is not Colouring.WASTE or fs is None or waste is None:
            return None
        layer, mode, cache = self.layer, self.mode, self._wasted_cache

        def sizes() -> dict[Node, int]:
            found = cache.get((layer, mode))
            if found is None:
                found = cache[(layer, mode)] = wasted_sizes(fs, waste, layer, mode)
            return found

        return sizes

    def _update_view(self) -> None:
        fs = self._fs
        if fs is None or not 0 <= self.layer < fs.layers:
            self.treemap.set_view(None)
            self._root_changed(None)
            return
        sizes = tree_cache(fs).sizes_at(self.layer) if self.mode is TreeMode.FILESYSTEM else None
        view = LayerView(fs, self.layer, self.mode, sizes)
        self.treemap.set_view(view, self._wasted())
        self._root_changed(self.treemap.root)

    def _colouring_changed(self) -> None:
        self.treemap.set_colouring(self.colouring, self._wasted())
        self._update_legend()

    def _update_legend(self) -> None:
        if self.colouring is Colouring.LAYER:
            count = len(self._image.layers) if self._image is not None else 0
            items = layer_legend(min(count, 12))
            if count > 12:
                items.append((f"… {count - 12} more", MORE))
        else:
            items = LEGEND[self.colouring]
        self.legend.setText(
            "&nbsp;&nbsp;".join(
                f"<span style='color:{hex_colour(rgb)}'>■</span>&nbsp;{html.escape(label)}"
                for label, rgb in items
            )
        )

    def _root_changed(self, node: Node | None) -> None:
        if node is None:
            self.crumbs.setText("")
            self.up_button.setEnabled(False)
            return
        chain: list[Node] = []
        n: Node | None = node
        while n is not None and n.parent is not None:
            chain.append(n)
            n = n.parent
        chain.reverse()
        links = ['<a href="0">/</a>']
        for depth, part in enumerate(chain, start=1):
            name = html.escape(part.name)
            links.append(name if part is node else f'<a href="{depth}">{name}</a>')
        self.crumbs.setText(" › ".join(links) if chain else "/")
        self.crumbs.setToolTip(plain_tooltip(node.path))
        self.up_button.setEnabled(node.parent is not None)

    def _crumb_clicked(self, href: str) -> None:
        node = self.treemap.root
        if node is None or not href.isdigit():
            return
        chain: list[Node] = []
        n: Node | None = node
        while n is not None:
            chain.append(n)
            n = n.parent
        chain.reverse()  # root first
        depth = int(href)
        if 0 <= depth < len(chain):
            self.treemap.set_root(chain[depth])

    def _zoom_top(self) -> None:
        self.treemap.zoom_top()

    def _zoom_out(self) -> None:
        self.treemap.zoom_out()

    def _hovered(self, tile: Tile | None) -> None:
        if tile is None:
            self.info.setText("")
            return
        self.info.setText(self.treemap.describe(tile).replace("\n", "  ·  "))
