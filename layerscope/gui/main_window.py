"""The main window: images and layers on the left, the selected layer's views on the right.

Opening adds to what is open: each path loads in a QThreadPool worker, one at a time, and
its Analysis is merged into the session's (session.py), so the sharing analysis always
covers every open image. Errors come back as signal data and show in a message box; the
window stays usable, and closing it cancels a load and waits for the worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

import layerscope
from layerscope.analysis import Analysis
from layerscope.format import human_size, percent
from layerscope.gui import icons, theme
from layerscope.gui.models.images import ImageIndexRole, ImagesModel
from layerscope.gui.models.layers import Col as LayerCol
from layerscope.gui.models.layers import LayersModel
from layerscope.gui.widgets.chrome import LoadProgress, ShortcutsDialog, WelcomePage
from layerscope.gui.widgets.common import section_label, setup_table, setup_tree
from layerscope.gui.widgets.delegates import BarDelegate
from layerscope.gui.widgets.details import DetailsBrowser, image_html, layer_html
from layerscope.gui.widgets.files import FilesPanel
from layerscope.gui.widgets.shared import SharedPanel
from layerscope.gui.widgets.waste import WastePanel
from layerscope.gui.worker import LoadWorker
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.view import session
from layerscope.view.tree import TreeMode

SAMPLE = Path(layerscope.__file__).resolve().parent / "data" / "sample-app-docker.tar"
MAX_RECENT = 10
ARCHIVE_FILTER = "Image archives (*.tar *.tar.gz *.tgz *.tar.zst *.oci *.docker);;All files (*)"


class Tab:
    FILES = 0
    WASTE = 1
    IMAGE = 2
    SHARED = 3


class MainWindow(QMainWindow):
    loadStarted = Signal(list)  # paths
    loadFinished = Signal()  # the merged analysis is shown
    loadFailed = Signal(str)  # the one-line reason, also shown in a message box
    loadCancelled = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        limits: Limits = DEFAULT_LIMITS,
        verify: bool = False,
    ):
        super().__init__(parent)
        self.limits = limits  # safety bounds of every load (`layerscope open --limit`)
        self.verify = verify
        self.analysis: Analysis = session.empty()
        self.image_index = -1
        self.last_error: str | None = None
        self.error_box: QMessageBox | None = None
        self._worker: LoadWorker | None = None
        self._queue: list[str] = []
        self._batch_total = 0
        self._closing = False
        self.setWindowTitle("layerscope")
        self.setWindowIcon(icons.app_icon())
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self._build_views()
        self._build_actions()
        self._build_menus()
        self._restore_settings()
        self._show_analysis(select=None)

    # -- construction --------------------------------------------------------------------

    def _build_views(self) -> None:
        self.images_model = ImagesModel(self)
        self.images_view = QTreeView()
        setup_tree(self.images_view)
        self.images_view.setModel(self.images_model)
        self.images_view.setRootIsDecorated(True)
        self.images_view.setAllColumnsShowFocus(True)
        ih = self.images_view.header()
        ih.setStretchLastSection(False)
        ih.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 100), (2, 70), (3, 80), (4, 80)):
            ih.resizeSection(col, width)
        self.images_view.selectionModel().currentChanged.connect(self._image_row_changed)

        self.layers_model = LayersModel(self)
        self.layers_view = QTableView()
        self.layers_view.setModel(self.layers_model)
        setup_table(self.layers_view, stretch_column=LayerCol.COMMAND)  # after setModel
        self.layers_view.setTextElideMode(Qt.TextElideMode.ElideRight)  # commands read left first
        self._bar = BarDelegate(self.layers_view)
        self.layers_view.setItemDelegateForColumn(LayerCol.SIZE, self._bar)
        self.layers_view.setItemDelegateForColumn(LayerCol.WASTED, self._bar)
        lh = self.layers_view.horizontalHeader()
        for col, width in (
            (LayerCol.INDEX, 40),
            (LayerCol.SIZE, 76),
            (LayerCol.COMPRESSED, 72),
            (LayerCol.ADDED, 38),
            (LayerCol.MODIFIED, 38),
            (LayerCol.DELETED, 38),
            (LayerCol.WASTED, 82),
        ):
            lh.resizeSection(col, width)
        self.layers_view.selectionModel().currentRowChanged.connect(self._layer_row_changed)

        self.layer_details = DetailsBrowser()
        self.layer_details.copied.connect(
            lambda v: self.statusBar().showMessage(f"Copied {v}", 4000)
        )

        left = QSplitter(Qt.Orientation.Vertical)
        left.setChildrenCollapsible(False)
        left.addWidget(_titled("Images", self.images_view))
        left.addWidget(_titled("Layers", self.layers_view))
        left.addWidget(_titled("Selected layer", self.layer_details))
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 4)
        left.setStretchFactor(2, 2)
        left.setSizes([150, 420, 230])
        self.left_splitter = left

        self.files = FilesPanel()
        self.files.layerRequested.connect(self.select_layer)
        self.files.message.connect(lambda m: self.statusBar().showMessage(m, 5000))
        self.files.modeChanged.connect(self._mode_changed)
        self.waste = WastePanel()
        self.waste.revealRequested.connect(self.reveal)
        self.waste.showRequested.connect(self._show_in_tree)
        self.image_details = DetailsBrowser()
        self.image_details.copied.connect(
            lambda v: self.statusBar().showMessage(f"Copied {v}", 4000)
        )
        self.shared = SharedPanel()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.files, "Files")
        self.tabs.addTab(self.waste, "Wasted Space")
        self.tabs.addTab(self.image_details, "Image")
        self.tabs.addTab(self.shared, "Shared Layers")

        main = QSplitter(Qt.Orientation.Horizontal)
        main.setChildrenCollapsible(False)
        main.addWidget(left)
        main.addWidget(self.tabs)
        main.setStretchFactor(0, 0)
        main.setStretchFactor(1, 1)
        main.setSizes([560, 840])
        self.main_splitter = main

        self.welcome = WelcomePage()
        self.welcome.set_sample_available(SAMPLE.exists())
        self.welcome.openFiles.connect(self.open_dialog)
        self.welcome.openFolder.connect(self.open_folder_dialog)
        self.welcome.openSample.connect(self.open_sample)
        self.welcome.openRecent.connect(lambda p: self.open_paths([p]))
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(main)
        self.setCentralWidget(self.stack)

        self.summary = QLabel()
        self.summary.setContentsMargins(6, 0, 6, 0)
        self.statusBar().addWidget(self.summary, 1)
        self.progress = LoadProgress()
        self.progress.cancelRequested.connect(self.cancel_load)
        self.statusBar().addPermanentWidget(self.progress)
        self._apply_icons()

    def _action(
        self,
        text: str,
        slot: Callable[..., object],
        keys: Sequence[str | QKeySequence | QKeySequence.StandardKey] = (),
        icon: str | None = None,
        tip: str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        if icon:
            action.setProperty("icon_name", icon)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.act_open = a(
            "&Open…",
            self.open_dialog,
            [QKeySequence.StandardKey.Open],
            "open",
            "Open image archives (docker/podman save tars, OCI archives)",
        )
        self.act_open_folder = a(
            "Open &Folder…",
            self.open_folder_dialog,
            ["Ctrl+Shift+O"],
            "open-folder",
            "Open an OCI layout or docker-dir folder",
        )
        self.act_sample = a("Open &Sample Image", self.open_sample, [], "sample")
        self.act_sample.setEnabled(SAMPLE.exists())
        self.act_close = a(
            "&Close Archive",
            self.close_archive,
            ["Ctrl+W"],
            "close",
            "Close the archive of the selected image",
        )
        self.act_close_all = a("Close &All", self.close_all, ["Ctrl+Shift+W"])
        self.act_quit = a("&Quit", self.close, [QKeySequence.StandardKey.Quit])
        self.act_quit.setShortcuts([QKeySequence("Ctrl+Q")])
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)

        self.mode_group = QActionGroup(self)
        self.act_mode_changes = a(
            "&Layer Changes", lambda: self.set_mode(TreeMode.CHANGES), [], "mode-changes"
        )
        self.act_mode_fs = a(
            "&Filesystem at Layer",
            lambda: self.set_mode(TreeMode.FILESYSTEM),
            [],
            "mode-filesystem",
        )
        for act in (self.act_mode_changes, self.act_mode_fs):
            act.setCheckable(True)
            self.mode_group.addAction(act)
        self.act_mode_changes.setChecked(True)
        self.act_toggle_mode = a("&Switch Tree Mode", self.files.toggle_mode, ["Ctrl+T"])
        self.act_next_layer = a(
            "&Next Layer", lambda: self.step_layer(1), ["Alt+Down", "Ctrl+]"], "layer-down"
        )
        self.act_prev_layer = a(
            "&Previous Layer", lambda: self.step_layer(-1), ["Alt+Up", "Ctrl+["], "layer-up"
        )
        self.act_first_layer = a("First Layer", lambda: self.select_layer(0), ["Alt+Home"])
        self.act_last_layer = a("Last Layer", lambda: self.select_layer(10**9), ["Alt+End"])
        self.act_next_image = a("Next &Image", lambda: self.step_image(1), ["Alt+PgDown"])
        self.act_prev_image = a("Previous I&mage", lambda: self.step_image(-1), ["Alt+PgUp"])
        self.act_filter = a(
            "&Filter Files", self.focus_filter, [QKeySequence.StandardKey.Find], "filter"
        )
        self.act_expand = a("&Expand All", self.files.expand_all, ["Ctrl+E"], "expand")
        self.act_collapse = a(
            "C&ollapse All", self.files.collapse_all, ["Ctrl+Shift+E"], "collapse"
        )
        self.tab_actions = []
        for i, (name, icon) in enumerate(
            (
                ("Files", "file"),
                ("Wasted Space", "waste"),
                ("Image Details", "image"),
                ("Shared Layers", "shared"),
            )
        ):
            act = a(
                name, lambda _=False, t=i: self.tabs.setCurrentIndex(t), [f"Ctrl+{i + 1}"], icon
            )
            self.tab_actions.append(act)
        self.act_shortcuts = a("&Keyboard Shortcuts", self.show_shortcuts, ["F1"], "keyboard")
        self.act_about = a("&About layerscope", self.show_about, [], "info")
        self._apply_icons()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.act_open, self.act_open_folder, self.act_sample])
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.act_close, self.act_close_all])
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)

        view = bar.addMenu("&View")
        view.addActions([self.act_mode_changes, self.act_mode_fs, self.act_toggle_mode])
        view.addSeparator()
        view.addActions(
            [self.act_next_layer, self.act_prev_layer, self.act_first_layer, self.act_last_layer]
        )
        view.addSeparator()
        view.addActions([self.act_next_image, self.act_prev_image])
        view.addSeparator()
        view.addActions([self.act_filter, self.act_expand, self.act_collapse])
        view.addSeparator()
        view.addActions(self.tab_actions)

        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.act_shortcuts, self.act_about])

        tools = self.addToolBar("Main")
        tools.setObjectName("main-toolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tools.addActions([self.act_open, self.act_open_folder, self.act_close])
        tools.addSeparator()
        tools.addActions([self.act_prev_layer, self.act_next_layer])
        self.toolbar = tools

    def _apply_icons(self) -> None:
        for action in self.findChildren(QAction):
            name = action.property("icon_name")
            if name:
                action.setIcon(icons.icon(str(name)))
        if hasattr(self, "tabs"):
            for i, name in enumerate(("folder", "waste", "image", "shared")):
                self.tabs.setTabIcon(i, icons.icon(name))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_icons()
            self.files.refresh_icons()
            self.waste.restyle()
            self.shared.restyle()
            self.welcome.restyle()
            self._show_details()
        super().changeEvent(event)

    # -- opening -------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self._worker is not None

    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open Image Archives", self._last_dir(), ARCHIVE_FILTER
        )
        self.open_paths(paths)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Open OCI Layout or docker-dir Folder", self._last_dir()
        )
        if path:
            self.open_paths([path])

    def open_sample(self) -> None:
        self.open_paths([str(SAMPLE)])

    def open_paths(self, paths: Iterable[str]) -> None:
        """Load each path (in the background, one after another) and add it to the view."""
        new: list[str] = []
        for raw in paths:
            if not raw:
                continue
            path = os.path.abspath(os.path.expanduser(str(raw)))
            open_index = self._archive_index(path)
            if open_index is not None:
                self._select_archive(open_index)
                self.statusBar().showMessage(f"{os.path.basename(path)} is already open", 4000)
                continue
            if path not in new and path not in self._queue:
                new.append(path)
        if not new:
            return
        self._queue.extend(new)
        if self._worker is None:
            self._batch_total = len(self._queue)
            self._start_next()
        else:
            self._batch_total += len(new)

    def _archive_index(self, path: str) -> int | None:
        for i, archive in enumerate(self.analysis.archives):
            if session.same_path(archive.path, path):
                return i
        return None

    def _start_next(self) -> None:
        if not self._queue or self._closing:
            self._queue.clear()
            return
        path = self._queue.pop(0)
        worker = LoadWorker([path], limits=self.limits, verify=self.verify)
        signals = worker.signals
        signals.progress.connect(self._on_progress)
        signals.finished.connect(self._on_loaded)
        signals.failed.connect(self._on_failed)
        signals.cancelled.connect(self._on_cancelled)
        self._worker = worker
        done = self._batch_total - len(self._queue)
        count = f" ({done} of {self._batch_total})" if self._batch_total > 1 else ""
        self.progress.start(f"Opening {os.path.basename(path)}{count}…")
        self.loadStarted.emit([path])
        QThreadPool.globalInstance().start(worker)

    def cancel_load(self) -> None:
        self._queue.clear()
        if self._worker is not None:
            self._worker.cancel()
            self.progress.cancelling()

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        if self._worker is not None:
            self.progress.update_progress(stage, done, total)

    def _finish_worker(self) -> list[str]:
        paths = self._worker.paths if self._worker is not None else []
        self._worker = None
        self.progress.hide()
        return paths

    def _on_loaded(self, analysis: Analysis) -> None:
        paths = self._finish_worker()
        first_new = len(self.analysis.images)
        before = {a.path for a in self.analysis.archives}
        self.analysis = session.merge(self.analysis, analysis)
        # A reloaded archive is dropped and appended: its images are the last ones.
        if any(a.path in before for a in analysis.archives):
            first_new = len(self.analysis.images) - len(analysis.images)
        self._show_analysis(select=first_new if analysis.images else None)
        for path in paths:
            self._add_recent(path)
        names = ", ".join(os.path.basename(p) for p in paths)
        self.statusBar().showMessage(f"Opened {names}", 4000)
        self.loadFinished.emit()
        self._start_next()

    def _on_failed(self, message: str) -> None:
        self._finish_worker()
        self.show_error(message)
        self.loadFailed.emit(message)
        self._start_next()

    def _on_cancelled(self) -> None:
        self._finish_worker()
        self._queue.clear()
        self.statusBar().showMessage("Loading cancelled", 4000)
        self.loadCancelled.emit()

    def show_error(self, message: str) -> None:
        """A one-line reason in a window-modal box that does not block the event loop."""
        self.last_error = message
        if self._closing:
            return
        if self.error_box is not None and self.error_box.isVisible():
            # Several inputs of one batch failed: list them all in the open box.
            self.error_box.setText("layerscope could not open these inputs.")
            self.error_box.setInformativeText(f"{self.error_box.informativeText()}\n{message}")
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Could not open")
        box.setText("layerscope could not open this input.")
        box.setInformativeText(message)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_box = box
        box.open()

    # -- closing -------------------------------------------------------------------------

    def close_archive(self) -> None:
        if self.image_index < 0 or not self.analysis.images:
            return
        archive = self.analysis.images[self.image_index].archive_index
        name = os.path.basename(self.analysis.archives[archive].path)
        self.analysis = session.without_archives(self.analysis, [archive])
        self._show_analysis(select=0 if self.analysis.images else None)
        self.statusBar().showMessage(f"Closed {name}", 4000)

    def close_all(self) -> None:
        self.analysis = session.empty()
        self._show_analysis(select=None)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel a running load and wait for the pool, so no thread outlives the window."""
        self._closing = True
        self._queue.clear()
        if self._worker is not None:
            self._worker.cancel()
        QThreadPool.globalInstance().waitForDone()
        self._save_settings()
        super().closeEvent(event)

    # -- drag and drop -------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() and any(url.isLocalFile() for url in mime.urls()):
            event.acceptProposedAction()
            self.statusBar().showMessage("Drop to open", 2000)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # type: ignore[override]
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        paths = [url.toLocalFile() for url in urls if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)
        else:
            event.ignore()

    # -- showing an analysis -------------------------------------------------------------

    def _show_analysis(self, select: int | None) -> None:
        a = self.analysis
        has_images = bool(a.images)
        self.stack.setCurrentIndex(1 if a.archives else 0)
        self.images_model.set_analysis(a)
        self.images_view.expandAll()
        self._fit_images_pane()
        self.shared.set_analysis(a)
        n_shared = len(a.sharing.layers)
        self.tabs.setTabText(
            Tab.SHARED, f"Shared Layers ({n_shared})" if len(a.images) > 1 else "Shared Layers"
        )
        for act in (self.act_close, self.act_close_all):
            act.setEnabled(bool(a.archives))
        names = [os.path.basename(x.path.rstrip("/")) for x in a.archives]
        if not names:
            self.setWindowTitle("layerscope")
        elif len(names) == 1:
            self.setWindowTitle(f"{names[0]} — layerscope")
        else:
            self.setWindowTitle(f"{names[0]} and {len(names) - 1} more — layerscope")
        self.image_index = -1
        if has_images:
            self.select_image(select if select is not None and select < len(a.images) else 0)
        else:
            self._set_image(-1)
        self.welcome.set_recent(self.recent_paths())

    def _fit_images_pane(self) -> None:
        """Give the images list the height its rows need (up to ~8), the layers the rest."""
        rows = len(self.analysis.archives) + len(self.analysis.images)
        row_height = self.images_view.sizeHintForRow(0) if rows else 20
        row_height = max(row_height, self.fontMetrics().height() + 4)
        wanted = self.images_view.header().height() + row_height * min(max(rows, 3), 8) + 40
        sizes = self.left_splitter.sizes()
        if len(sizes) == 3 and sum(sizes) > 0:
            delta = wanted - sizes[0]
            self.left_splitter.setSizes([wanted, max(200, sizes[1] - delta), sizes[2]])

    def select_image(self, i: int) -> None:
        index = self.images_model.image_index(i)
        if index.isValid():
            self.images_view.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.images_view.scrollTo(index)
        self._set_image(i)

    def _image_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        i = self.images_model.data(current, ImageIndexRole)
        if isinstance(i, int) and i >= 0:
            self._set_image(i)
        elif current.isValid() and self.images_model.rowCount(current.siblingAtColumn(0)):
            # an archive row: show its first image
            child = self.images_model.index(0, 0, current.siblingAtColumn(0))
            j = self.images_model.data(child, ImageIndexRole)
            if isinstance(j, int):
                self._set_image(j)

    def _set_image(self, i: int) -> None:
        if i == self.image_index and i >= 0:
            return
        a = self.analysis
        self.image_index = i
        layer = self.files.model.layer if i >= 0 else 0
        self.layers_model.set_image(a, i)
        self.files.set_image(a, i, layer)
        self.waste.set_image(a, i)
        valid = 0 <= i < len(a.images)
        for act in (
            self.act_next_layer,
            self.act_prev_layer,
            self.act_first_layer,
            self.act_last_layer,
            self.act_expand,
            self.act_collapse,
            self.act_filter,
        ):
            act.setEnabled(valid)
        if valid:
            self.select_layer(min(layer, len(a.images[i].layers) - 1))
        self._show_details()
        self._update_summary()

    def _show_details(self) -> None:
        a = self.analysis
        i = self.image_index
        if 0 <= i < len(a.images):
            self.image_details.setHtml(image_html(a, i))
            layer = self.layers_model.layer(self.current_layer())
            self.layer_details.setHtml(layer_html(a, i, layer) if layer else "")
        else:
            self.image_details.setHtml("")
            self.layer_details.setHtml("")

    def _update_summary(self) -> None:
        a = self.analysis
        i = self.image_index
        if not 0 <= i < len(a.images):
            self.summary.setText("")
            return
        image = a.images[i]
        waste = a.waste[i]
        self.summary.setText(
            f"{image.name}  ·  {image.platform or 'unknown platform'}  ·  "
            f"{len(image.layers)} layers  ·  {human_size(image.size_bytes)}  ·  "
            f"efficiency {percent(waste.efficiency)}  ·  "
            f"{human_size(waste.reclaimable_bytes)} reclaimable"
        )

    # -- layers --------------------------------------------------------------------------

    def current_layer(self) -> int:
        index = self.layers_view.currentIndex()
        return index.row() if index.isValid() else 0

    def select_layer(self, layer: int) -> None:
        rows = self.layers_model.rowCount()
        if rows == 0:
            return
        layer = max(0, min(layer, rows - 1))
        unchanged = self.layers_view.currentIndex().row() == layer
        index = self.layers_model.index(layer, LayerCol.COMMAND)
        self.layers_view.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.layers_view.scrollTo(index)
        if unchanged:  # otherwise currentRowChanged already did it
            self._layer_changed(layer)

    def step_layer(self, delta: int) -> None:
        self.select_layer(self.current_layer() + delta)

    def step_image(self, delta: int) -> None:
        n = len(self.analysis.images)
        if n:
            self.select_image((self.image_index + delta) % n)

    def _layer_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._layer_changed(current.row())

    def _layer_changed(self, layer: int) -> None:
        if self.files.model.layer != layer or self.files.model.filesystem is None:
            self.files.set_layer(layer)
        image = self.layers_model.image
        if image is not None and 0 <= layer < len(image.layers):
            self.layer_details.setHtml(
                layer_html(self.analysis, self.image_index, image.layers[layer])
            )
        rows = self.layers_model.rowCount()
        self.act_prev_layer.setEnabled(layer > 0)
        self.act_next_layer.setEnabled(layer < rows - 1)

    # -- tree mode, filter, reveal -------------------------------------------------------

    def set_mode(self, mode: TreeMode) -> None:
        self.files.set_mode(mode)

    def _mode_changed(self, mode: TreeMode) -> None:
        target = self.act_mode_changes if mode is TreeMode.CHANGES else self.act_mode_fs
        target.setChecked(True)

    def focus_filter(self) -> None:
        self.tabs.setCurrentIndex(Tab.FILES)
        self.files.focus_filter()

    def reveal(self, layer: int, path: str) -> None:
        """Select `layer` and show `path` in the file tree (from the waste table)."""
        self.select_layer(layer)
        if not self.files.reveal(path):
            self.statusBar().showMessage(f"{path} is not shown at layer {layer}", 4000)

    def _show_in_tree(self, layer: int, path: str) -> None:
        self.reveal(layer, path)
        self.tabs.setCurrentIndex(Tab.FILES)
        self.files.tree.setFocus()

    def _select_archive(self, archive: int) -> None:
        for i, image in enumerate(self.analysis.images):
            if image.archive_index == archive:
                self.select_image(i)
                return

    # -- help ----------------------------------------------------------------------------

    def shortcut_rows(self) -> list[tuple[str, list[QKeySequence]]]:
        rows: list[tuple[str, list[QKeySequence]]] = []
        for action in self.actions():
            keys = action.shortcuts()
            if keys:
                rows.append((action.text().replace("&", "").rstrip("…"), keys))
        rows.append(("Copy the selected path (file tree)", [QKeySequence("Ctrl+C")]))
        rows.append(("Clear the filter (filter box)", [QKeySequence("Esc")]))
        return rows

    def show_shortcuts(self) -> None:
        dialog = ShortcutsDialog(self.shortcut_rows(), self)
        dialog.open()
        self._shortcuts_dialog = dialog

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About layerscope",
            f"<h3>layerscope {layerscope.__version__ if hasattr(layerscope, '__version__') else ''}"
            "</h3><p>Look inside container image archives: layers, file changes, wasted space "
            "and layers shared across images.</p>",
        )

    # -- settings ------------------------------------------------------------------------

    def recent_paths(self) -> list[str]:
        value = QSettings().value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in value][:MAX_RECENT] if isinstance(value, list) else []

    def _add_recent(self, path: str) -> None:
        recent = [p for p in self.recent_paths() if not session.same_path(p, path)]
        recent.insert(0, path)
        QSettings().setValue("recent", recent[:MAX_RECENT])
        QSettings().setValue("last_dir", os.path.dirname(path.rstrip("/")))

    def _last_dir(self) -> str:
        value = QSettings().value("last_dir", "")
        return str(value) if value else str(Path.home())

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_paths()
        for path in recent:
            action = self.recent_menu.addAction(os.path.basename(path.rstrip("/")))
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_paths([p]))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Recent", self._clear_recent)
        else:
            self.recent_menu.addAction("No recent archives").setEnabled(False)

    def _clear_recent(self) -> None:
        QSettings().setValue("recent", [])
        self.welcome.set_recent([])

    def _save_settings(self) -> None:
        s = QSettings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/main_splitter", self.main_splitter.saveState())
        s.setValue("window/left_splitter", self.left_splitter.saveState())
        s.setValue("tree/mode", self.files.model.mode.value)

    def _restore_settings(self) -> None:
        s = QSettings()
        for key, restore in (
            ("window/geometry", self.restoreGeometry),
            ("window/state", self.restoreState),
            ("window/main_splitter", self.main_splitter.restoreState),
            ("window/left_splitter", self.left_splitter.restoreState),
        ):
            value = s.value(key)
            if isinstance(value, QByteArray):
                restore(value)
        mode = s.value("tree/mode", TreeMode.CHANGES.value)
        if mode == TreeMode.FILESYSTEM.value:
            self.set_mode(TreeMode.FILESYSTEM)


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(6, 4, 2, 2)
    layout.setSpacing(2)
    layout.addWidget(section_label(title))
    layout.addWidget(widget, 1)
    return box


__all__ = ["MainWindow", "SAMPLE", "theme"]
