"""The main window: images and layers on the left, the selected layer's views on the right.

The window assembles the pieces and keeps the selection (image, layer); the pieces live
elsewhere, one room each:

- loader.py      LoadController: the queue, the worker, cancel, a batch's errors;
- actions.py     every command as a QAction, the menus and the toolbar;
- dialogs.py     the error box, the shortcuts list and the About box, each made once;
- settings.py    recent archives and window geometry (kept on screen);
- widgets/       the sidebar and the panes (tabs); a new tab is a Pane subclass listed in
                 _build_panes(), and asks to go somewhere with a Navigate.

What is open is one Analysis; each load is merged into it (view/session.py), so the sharing
analysis always covers every open image. While a load runs, the source it reads is shown
after it as soon as its manifests and configs are read (a SourceOutline, `pending`): its
layers and config at once, its files when the load is done.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QMainWindow,
    QMenu,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QTabWidget,
    QWidget,
)

import layerscope
from layerscope.analysis import Analysis
from layerscope.format import human_size, percent, plural
from layerscope.gui import heap, icons, settings, tasks, theme
from layerscope.gui.actions import Actions, build_menus, build_toolbar
from layerscope.gui.dialogs import AboutDialog, ErrorDialog, ShortcutsDialog
from layerscope.gui.extracting import Extractor
from layerscope.gui.head_start import HeadStart, normalise
from layerscope.gui.loader import LoadController
from layerscope.gui.remote_dialogs import EngineDialog, RegistryDialog
from layerscope.gui.reporting import ReportExporter
from layerscope.gui.widgets.chrome import LoadProgress, WelcomePage
from layerscope.gui.widgets.common import ElidedLabel
from layerscope.gui.widgets.compare import ComparePane
from layerscope.gui.widgets.details import ImagePane
from layerscope.gui.widgets.files import FilesPanel
from layerscope.gui.widgets.packages import PackagesPane
from layerscope.gui.widgets.pane import Navigate, Pane
from layerscope.gui.widgets.shared import SharedPanel
from layerscope.gui.widgets.sidebar import Sidebar
from layerscope.gui.widgets.sizemap import SizeMapPane
from layerscope.gui.widgets.waste import WastePanel
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.load import SourceOutline
from layerscope.model.filesystem import Change, Node
from layerscope.model.image import Image
from layerscope.remote import RemoteOptions
from layerscope.view import session
from layerscope.view.names import image_names
from layerscope.view.tree import TreeMode

SAMPLE = Path(layerscope.__file__).resolve().parent / "data" / "sample-app-docker.tar"
ARCHIVE_FILTER = "Image archives (*.tar *.tar.gz *.tgz *.tar.zst *.oci *.docker);;All files (*)"
DEFAULT_SIZE = (1400, 900)
SIDEBAR_WIDTH, SIDEBAR_SHARE = 560, 0.4  # the left side's width at first: at most 560 px


class Tab:
    """Positions of the built-in panes (see _build_panes)."""

    FILES = 0
    WASTE = 1
    IMAGE = 2
    SHARED = 3
    COMPARE = 4
    PACKAGES = 5
    SIZE_MAP = 6


class MainWindow(QMainWindow):
    loadStarted = Signal(list)  # paths
    loadFinished = Signal()  # the merged analysis is shown
    loadFailed = Signal(str)  # the one-line reason, also shown in the error box
    loadCancelled = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        limits: Limits = DEFAULT_LIMITS,
        verify: bool = False,
        remote: RemoteOptions | None = None,
        head_start: HeadStart | None = None,
    ):
        super().__init__(parent)
        self.analysis: Analysis = session.empty()
        self.image_index = -1
        self.pending: SourceOutline | None = None  # the source the running load reads
        self.pending_image = -1  # the image of `pending` shown (then image_index is -1)
        self._last_image = -1  # the open image shown last, to go back to from `pending`
        self._tabs_pending = False  # the tabs are set for an image still loading
        self.last_error: str | None = None
        self._select_next_load = False  # the first archive of a batch is shown, not the last
        self._panes_balanced = False  # the splitter's first sizes are set once it is shown
        self.setWindowTitle("layerscope")
        self.setWindowIcon(icons.app_icon())
        self.setAcceptDrops(True)
        self.resize(*DEFAULT_SIZE)

        self.loader = LoadController(
            self, limits=limits, verify=verify, remote=remote, head_start=head_start
        )
        self.loader.started.connect(self._on_load_started)
        self.loader.progress.connect(self._on_progress)
        self.loader.outlined.connect(self._on_outlined)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self.loader.cancelled.connect(self._on_cancelled)
        self.loader.idle.connect(self._on_idle)

        self._build_views()
        self.commands = Actions(self)
        for i, pane in enumerate(self.panes):
            self.commands.add_tab(i, pane.TITLE, pane.ICON)
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        build_menus(self, self.commands, self.recent_menu)
        self.toolbar = build_toolbar(self, self.commands)
        self.commands.sample.setEnabled(SAMPLE.exists())

        self.error_dialog = ErrorDialog(self)
        self._shortcuts_dialog: ShortcutsDialog | None = None
        self._about_dialog: AboutDialog | None = None
        self._engine_dialog: EngineDialog | None = None
        self._registry_dialog: RegistryDialog | None = None
        self._apply_icons()
        self._set_tab_order()
        self._restore_settings()
        self._show_analysis(select=None)

    # -- construction --------------------------------------------------------------------

    def _build_panes(self) -> list[Pane]:
        """The tabs on the right, in order. A new view is one more Pane here."""
        self.files = FilesPanel()
        self.waste = WastePanel()
        self.image_pane = ImagePane()
        self.shared = SharedPanel()
        self.compare = ComparePane()
        self.packages = PackagesPane()
        self.size_map = SizeMapPane()
        return [
            self.files,
            self.waste,
            self.image_pane,
            self.shared,
            self.compare,
            self.packages,
            self.size_map,
        ]

    def _build_views(self) -> None:
        self.sidebar = Sidebar()
        self.sidebar.imageSelected.connect(self._image_chosen)
        self.sidebar.pendingSelected.connect(self._show_pending)
        self.sidebar.layerSelected.connect(self._layer_changed)
        self.sidebar.copied.connect(lambda v: self.statusBar().showMessage(f"Copied {v}", 4000))
        self.sidebar.compareRequested.connect(self.compare_sides)
        self.sidebar.saveLayerRequested.connect(self.save_layer)
        self.sidebar.exportLayerRequested.connect(self.export_filesystem)

        self.panes = self._build_panes()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for pane in self.panes:
            self.tabs.addTab(_scrollable(pane), pane.TITLE)
            pane.navigate.connect(self.navigate)
            pane.message.connect(lambda m: self.statusBar().showMessage(m, 5000))
        self.files.modeChanged.connect(self._mode_changed)
        self.size_map.set_mode(self.files.model.mode)
        self.size_map.modeRequested.connect(self.set_mode)
        self.files.limits = self.loader.limits
        self.extractor = Extractor(self, self.loader.limits)
        self.extractor.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.extractor.failed.connect(self.show_error)
        self.files.dragFailed.connect(self.show_error)
        self.reporter = ReportExporter(self)
        self.reporter.exported.connect(
            lambda p: self.statusBar().showMessage(f"Exported the report to {p}", 8000)
        )
        self.reporter.failed.connect(self.show_error)
        self.files.extractRequested.connect(self._extract_requested)
        self.files.changesShownChanged.connect(self._changes_shown_changed)
        self.files.matchesChanged.connect(self.sidebar.show_found)

        main = QSplitter(Qt.Orientation.Horizontal)
        main.setChildrenCollapsible(False)
        main.addWidget(self.sidebar)
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

        self.summary = ElidedLabel()  # plain text: it names refs, which are archive text
        self.summary.setContentsMargins(6, 0, 6, 0)
        self.statusBar().addWidget(self.summary, 1)
        self.progress = LoadProgress()
        self.progress.cancelRequested.connect(self.cancel_load)
        self.statusBar().addPermanentWidget(self.progress)

    def _set_tab_order(self) -> None:
        """Tab walks the panes (images, layers, then the current tab's, then the layer's
        details) and arrows move within each: no table keeps Tab to itself."""
        chain: list[QWidget] = list(self.sidebar.focus_chain())
        for pane in self.panes:
            chain.extend(pane.focus_chain())
        chain.append(self.sidebar.layer_details)
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)
        # Tab bars (and their scroll arrows) take no stop: Ctrl+1.. switch the main tabs
        for bar in self.stack.findChildren(QTabBar):
            for part in (bar, bar.parentWidget(), *bar.findChildren(QWidget)):
                if part is not None:
                    part.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def _apply_icons(self) -> None:
        self.commands.apply_icons()
        for i, pane in enumerate(self.panes):
            self.tabs.setTabIcon(i, icons.icon(pane.ICON))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._apply_icons()
            for pane in self.panes:
                pane.restyle()
            self.welcome.restyle()
            self.sidebar.show_layer_details(self.current_layer())
        super().changeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        settings.fit_to_screen(self)

    def _balance_panes(self) -> None:
        """The left side's first width: a share of the window, at most SIDEBAR_WIDTH."""
        self._panes_balanced = True
        width = self.main_splitter.width()
        left = min(SIDEBAR_WIDTH, round(width * SIDEBAR_SHARE))
        self.main_splitter.setSizes([left, width - left])

    # -- opening -------------------------------------------------------------------------

    @property
    def is_loading(self) -> bool:
        return self.loader.is_loading

    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open Image Archives", settings.last_dir(), ARCHIVE_FILTER
        )
        self.open_paths(paths)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Open OCI Layout or docker-dir Folder", settings.last_dir()
        )
        if path:
            self.open_paths([path])

    def open_engine_dialog(self) -> None:
        """File > Open from Engine: podman's or Docker's images, listed with a filter."""
        if self._engine_dialog is None:
            self._engine_dialog = EngineDialog(self, self.open_paths)
        self._engine_dialog.show_for()

    def open_registry_dialog(self) -> None:
        """File > Open from Registry: a reference and, for a multi-platform tag, a platform."""
        if self._registry_dialog is None:
            self._registry_dialog = RegistryDialog(
                self,
                lambda source, options: self.open_paths([source], remote=options),
                self.loader.remote,
                self.loader.limits,
            )
        self._registry_dialog.open()

    def open_sample(self) -> None:
        self.open_paths([str(SAMPLE)])

    def open_paths(self, paths: Iterable[str], remote: RemoteOptions | None = None) -> None:
        """Load each path (in the background, one after another) and add it to the view.

        A path already open is selected instead of loaded again. `remote`: how to reach
        the registry:// sources among them (else the window's options).
        """
        new: list[str] = []
        for raw in paths:
            if not raw:
                continue
            path = normalise(str(raw))
            open_index = self._archive_index(path)
            if open_index is not None:
                self._select_archive(open_index)
                self.statusBar().showMessage(f"{os.path.basename(path)} is already open", 4000)
                continue
            new.append(path)
        if new and not self.loader.is_loading:
            self._select_next_load = True
        self.loader.open(new, remote)

    def cancel_load(self) -> None:
        if self.loader.is_loading:
            self.loader.cancel()
            self.progress.cancelling()

    def _archive_index(self, path: str) -> int | None:
        for i, archive in enumerate(self.analysis.archives):
            if session.same_path(archive.path, path):
                return i
        return None

    def _on_load_started(self, path: str, position: int, total: int) -> None:
        count = f" ({position} of {total})" if total > 1 else ""
        self.progress.start(f"Opening {os.path.basename(path)}{count}…")
        self.commands.cancel_load.setEnabled(True)
        self.loadStarted.emit([path])

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        if self.loader.is_loading:
            self.progress.update_progress(stage, done, total)
            if self.pending_image >= 0:
                for pane in self.panes:
                    pane.pending_progress(stage, done, total)

    def _on_outlined(self, outline: SourceOutline) -> None:
        """The running load has read its source's manifests and configs: list its images
        (and show the first, if this batch is to be shown) while the layers are read."""
        self._drop_pending()
        self.pending = outline
        self.sidebar.set_pending(outline)
        if outline.images and self._select_next_load:
            self.show_pending_image(0)

    def show_pending_image(self, k: int) -> None:
        """Select the image `k` of the source still loading."""
        self.sidebar.select_pending(k)
        self._show_pending(k)

    def _show_pending(self, k: int) -> None:
        """Show the image `k` of the source still loading: its layers and its config."""
        pending = self.pending
        if pending is None or not 0 <= k < len(pending.images) or k == self.pending_image:
            return
        image = pending.images[k]
        layer = self.current_layer()
        self.stack.setCurrentIndex(1)
        if not self._panes_balanced:
            QTimer.singleShot(0, self, self._balance_panes)
        self.image_index = -1
        self.pending_image = k
        self.sidebar.show_outline(image)
        for pane in self.panes:
            pane.show_image(self.analysis, -1)
            pane.show_pending(pending, image)
        self._set_tabs_available(pending=True)
        c = self.commands
        walk = {c.close, c.close_all, c.next_layer, c.prev_layer, c.first_layer, c.last_layer}
        for act in c.image_actions:
            act.setEnabled(
                act in walk or act in (c.next_image, c.prev_image) and bool(self.analysis.images)
            )
        self.select_layer(min(layer, len(image.layers) - 1))
        self.summary.setText(
            f"{image.name}  ·  {image.platform or 'unknown platform'}  ·  "
            f"{plural(len(image.layers), 'layer')}  ·  {human_size(image.stored_bytes)} stored"
            "  ·  loading…"
        )

    def _set_tabs_available(self, *, pending: bool) -> None:
        """While an image still loading is shown, the tabs with nothing to show for it yet
        are disabled (the Files tab says how far the load is)."""
        if pending == self._tabs_pending:
            return
        self._tabs_pending = pending
        current = self.tabs.currentIndex()
        for i, pane in enumerate(self.panes):
            available = not pending or pane.SHOWS_PENDING
            if not available and i == current:
                self.tabs.setCurrentIndex(Tab.FILES)  # what it has: how far the load is
            self.tabs.setTabEnabled(i, available)
            self.tabs.setTabToolTip(i, "" if available else "Known once every layer is read")

    def _drop_pending(self) -> None:
        """Forget the source of a load that ended; if one of its images was shown, show
        what was shown before (or the welcome page)."""
        if self.pending is None:
            return
        shown = self.pending_image >= 0
        self.pending = None
        self.pending_image = -1
        if shown:
            self._show_analysis(select=self._last_image if self._last_image >= 0 else None)
        else:
            self.sidebar.set_pending(None)

    def _on_loaded(self, analysis: Analysis, paths: list[str]) -> None:
        followed = self.pending_image  # the load's image shown while it loaded, or -1
        self.pending = None
        self.pending_image = -1
        before = len(self.analysis.images)
        reloaded = any(self._archive_index(a.path) is not None for a in analysis.archives)
        self.analysis = session.merge(self.analysis, analysis)
        # A reloaded archive is dropped and appended: its images are the last ones.
        first_new = len(self.analysis.images) - len(analysis.images) if reloaded else before
        select = first_new if analysis.images and self._select_next_load else self.image_index
        if followed >= 0 and followed < len(analysis.images):
            select = first_new + followed  # the image shown while it loaded, now read
        if analysis.images:
            self._select_next_load = False
        self._show_analysis(select=select if select >= 0 else None)
        for path in paths:
            settings.add_recent(path)
        self.welcome.set_recent(settings.recent_paths())
        names = ", ".join(os.path.basename(p) for p in paths)
        self.statusBar().showMessage(f"Opened {names}", 4000)
        self.loadFinished.emit()

    def _on_failed(self, message: str) -> None:
        self._drop_pending()
        self.show_error(message)
        self.loadFailed.emit(message)

    def _on_cancelled(self) -> None:
        self._drop_pending()
        self.statusBar().showMessage("Loading cancelled", 4000)
        self.loadCancelled.emit()

    def _on_idle(self) -> None:
        self._drop_pending()
        self.progress.hide()
        self.commands.cancel_load.setEnabled(False)

    def show_error(self, message: str) -> None:
        """A one-line reason in a window-modal box that does not block the event loop."""
        self.last_error = message
        self.error_dialog.add(message)

    # -- closing -------------------------------------------------------------------------

    def close_archive(self) -> None:
        if self.pending_image >= 0:  # the image shown is still loading: stop it
            self.cancel_load()
            return
        if self.image_index < 0 or not self.analysis.images:
            return
        archive = self.analysis.images[self.image_index].archive_index
        name = os.path.basename(self.analysis.archives[archive].path)
        self.analysis = session.without_archives(self.analysis, [archive])
        self._show_analysis(select=0 if self.analysis.images else None)
        heap.release()
        self.statusBar().showMessage(f"Closed {name}", 4000)

    def close_all(self) -> None:
        if self.pending_image >= 0:
            self.cancel_load()
        self.analysis = session.empty()
        self._show_analysis(select=None)
        heap.release()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel a running load and every task (they stop within milliseconds) and remember
        the layout."""
        self.loader.shutdown()
        tasks.cancel_all()  # a filter, the Size Map, a diff, an extraction, a report
        self.files.drag_folders.cleanup()
        self._save_settings()
        heap.reset()
        super().closeEvent(event)

    # -- drag and drop -------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() and any(url.isLocalFile() for url in mime.urls()):
            event.acceptProposedAction()
            self.statusBar().showMessage("Drop to open", 2000)
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
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

    # -- showing what is open ------------------------------------------------------------

    def _show_analysis(self, select: int | None) -> None:
        a = self.analysis
        self.pending_image = -1
        self.stack.setCurrentIndex(1 if a.archives else 0)
        if a.archives and not self._panes_balanced:
            QTimer.singleShot(0, self, self._balance_panes)  # once the panes are laid out
        self.sidebar.set_analysis(a)
        for i, pane in enumerate(self.panes):
            pane.show_analysis(a)
            self.tabs.setTabText(i, pane.tab_title(a))
        names = [os.path.basename(x.path.rstrip("/")) for x in a.archives]
        if not names:
            self.setWindowTitle("layerscope")
        elif len(names) == 1:
            self.setWindowTitle(f"{names[0]} — layerscope")
        else:
            self.setWindowTitle(f"{names[0]} and {len(names) - 1} more — layerscope")
        self.image_index = -1
        if a.images:
            self.select_image(select if select is not None and 0 <= select < len(a.images) else 0)
        else:
            self._set_image(-1)
        if self.pending is not None:  # a load still runs: its source stays listed
            self.sidebar.set_pending(self.pending)
        self.welcome.set_recent(settings.recent_paths())

    def select_image(self, i: int) -> None:
        self.sidebar.select_image(i)
        self._set_image(i)

    def step_image(self, delta: int) -> None:
        n = len(self.analysis.images)
        if n:
            self.select_image((self.image_index + delta) % n)

    def _select_archive(self, archive: int) -> None:
        for i, image in enumerate(self.analysis.images):
            if image.archive_index == archive:
                self.select_image(i)
                return

    def _image_chosen(self, i: int) -> None:
        """An open image was selected in the list while a load may run: the user chose
        what to look at, so the load's image is not brought forward when it is done."""
        if self.pending is not None and self.pending_image >= 0:
            self._select_next_load = False
        self._set_image(i)

    def _set_image(self, i: int) -> None:
        if i == self.image_index and i >= 0:
            return
        a = self.analysis
        layer = self.current_layer() if i >= 0 else 0
        self.image_index = i
        self.pending_image = -1
        self._set_tabs_available(pending=False)
        if i >= 0:
            self._last_image = i
        self.sidebar.set_image(a, i)
        for pane in self.panes:
            pane.show_image(a, i)
        valid = 0 <= i < len(a.images)
        for act in self.commands.image_actions:
            act.setEnabled(valid)
        if valid:
            self.select_layer(min(layer, len(a.images[i].layers) - 1))
        self._update_summary()

    def _update_summary(self) -> None:
        a = self.analysis
        i = self.image_index
        if not 0 <= i < len(a.images):
            self.summary.setText("")
            return
        image = a.images[i]
        waste = a.waste[i]
        name = image_names(a)[i]
        platform = image.platform or "unknown platform"
        text = (
            f"{name}  ·  {'' if f'({platform})' in name else platform + '  ·  '}"
            f"{plural(len(image.layers), 'layer')}  ·  {human_size(image.size_bytes)}  ·  "
            f"efficiency {percent(waste.efficiency)}  ·  "
            f"{human_size(waste.reclaimable_bytes)} reclaimable"
        )
        self.summary.setText(text)

    # -- layers --------------------------------------------------------------------------

    def current_layer(self) -> int:
        return self.sidebar.current_layer()

    def select_layer(self, layer: int) -> None:
        rows = self.sidebar.layers_model.rowCount()
        if rows == 0:
            return
        layer = max(0, min(layer, rows - 1))
        if not self.sidebar.select_layer(layer):  # already current: no signal came
            self._layer_changed(layer)

    def step_layer(self, delta: int) -> None:
        self.select_layer(self.current_layer() + delta)

    def _layer_changed(self, layer: int) -> None:
        for pane in self.panes:
            pane.show_layer(layer)
        self.sidebar.show_layer_details(layer)
        rows = self.sidebar.layers_model.rowCount()
        self.commands.prev_layer.setEnabled(layer > 0)
        self.commands.next_layer.setEnabled(layer < rows - 1)

    # -- navigation between panes --------------------------------------------------------

    def navigate(self, target: Navigate) -> None:
        """Go where a pane asked: an image, a layer, a path in the tree, the Files tab."""
        if target.image is not None and target.image != self.image_index:
            self.select_image(target.image)
        if target.layer is not None:
            self.select_layer(target.layer)
        if target.path is not None:
            self.reveal(self.current_layer(), target.path)
        if target.show_files:
            self.show_tab(Tab.FILES)
            self.files.tree.setFocus()

    def _extract_requested(self, image: Image, layer: int, node: Node, what: str) -> None:
        if what == "save":
            self.extractor.save_as(image, layer, node)
        else:
            self.extractor.extract_to(image, layer, node.path)

    def save_layer(self, layer: int) -> None:
        """The selected image's layer `layer` as its own tar (File > Save Layer as Tar…)."""
        if 0 <= self.image_index < len(self.analysis.images):
            self.extractor.save_layer(self.analysis.images[self.image_index], layer)

    def export_filesystem(self, layer: int) -> None:
        """The filesystem at `layer` of the selected image, as a tar file."""
        if 0 <= self.image_index < len(self.analysis.images):
            self.extractor.export_filesystem(self.analysis.images[self.image_index], layer)

    def export_report(self) -> None:
        """File > Export Report: the selected image's report as HTML, Markdown or JSON."""
        self.reporter.ask(self, self.analysis, self.image_index)

    def compare_sides(self, image_a: int, layer_a: int, image_b: int, layer_b: int) -> None:
        """Show the Compare tab on A = image_a at layer_a, B = image_b at layer_b."""
        self.compare.compare(image_a, layer_a, image_b, layer_b)
        self.show_tab(Tab.COMPARE)

    def compare_selected(self) -> None:
        """Two selected layers, else two selected images, else this layer and the one below."""
        i = self.image_index
        if i < 0:
            return
        layers = self.sidebar.selected_layers()
        images = self.sidebar.selected_images()
        if len(layers) == 2:
            self.compare_sides(i, layers[0], i, layers[1])
        elif len(images) == 2:
            a, b = (self.analysis.images[n] for n in images)
            self.compare_sides(images[0], len(a.layers) - 1, images[1], len(b.layers) - 1)
        else:
            layer = self.current_layer()
            self.compare_sides(i, max(layer - 1, 0), i, layer)

    def reveal(self, layer: int, path: str) -> None:
        """Select `layer` and show `path` in the file tree."""
        self.select_layer(layer)
        if not self.files.reveal(path):
            self.statusBar().showMessage(f"{path} is not shown at layer {layer}", 4000)

    def show_tab(self, index: int) -> None:
        if self.tabs.isTabEnabled(index):  # not while it has nothing to show (loading)
            self.tabs.setCurrentIndex(index)

    # -- the file tree's commands --------------------------------------------------------

    def set_mode(self, mode: TreeMode) -> None:
        self.files.set_mode(mode)

    def toggle_mode(self) -> None:
        self.files.toggle_mode()

    def _mode_changed(self, mode: TreeMode) -> None:
        target = self.commands.mode_changes if mode is TreeMode.CHANGES else self.commands.mode_fs
        target.setChecked(True)
        self.size_map.set_mode(mode)

    def show_change(self, change: Change, shown: bool) -> None:
        self.files.show_change(change, shown)

    def _changes_shown_changed(self, shown: frozenset[Change]) -> None:
        for change, action in self.commands.show_change.items():
            action.setChecked(change in shown)

    def focus_filter(self) -> None:
        """The filter of the tab shown (Compare, Packages), else the Files tab's."""
        box = self.panes[self.tabs.currentIndex()].filter_box()
        if box is None:
            self.show_tab(Tab.FILES)
            box = self.files.filter_edit
        box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        box.selectAll()

    def expand_all(self) -> None:
        if not self.panes[self.tabs.currentIndex()].expand_all():
            self.files.expand_all()

    def collapse_all(self) -> None:
        if not self.panes[self.tabs.currentIndex()].collapse_all():
            self.files.collapse_all()

    # -- help ----------------------------------------------------------------------------

    def shortcut_rows(self) -> list[tuple[str, list[QKeySequence]]]:
        return self.commands.shortcut_rows()

    def show_shortcuts(self) -> None:
        if self._shortcuts_dialog is None:
            self._shortcuts_dialog = ShortcutsDialog(self)
        self._shortcuts_dialog.set_rows(self.shortcut_rows())
        self._shortcuts_dialog.open()

    def show_about(self) -> None:
        if self._about_dialog is None:
            self._about_dialog = AboutDialog(self)
        self._about_dialog.open()

    # -- recent archives and window state ------------------------------------------------

    def recent_paths(self) -> list[str]:
        return settings.recent_paths()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_paths()
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
        settings.clear_recent()
        self.welcome.set_recent([])

    def _save_settings(self) -> None:
        s = QSettings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/main_splitter", self.main_splitter.saveState())
        s.setValue("window/left_splitter", self.sidebar.saveState())
        s.setValue("tree/mode", self.files.model.mode.value)

    def _restore_settings(self) -> None:
        for key, restore in (
            ("window/geometry", self.restoreGeometry),
            ("window/state", self.restoreState),
            ("window/main_splitter", self.main_splitter.restoreState),
            ("window/left_splitter", self.sidebar.restoreState),
        ):
            value = settings.value_bytes(key)
            if value is not None:
                restore(value)
                self._panes_balanced = True
        settings.fit_to_screen(self)
        if QSettings().value("tree/mode", TreeMode.CHANGES.value) == TreeMode.FILESYSTEM.value:
            self.set_mode(TreeMode.FILESYSTEM)
        # A restored state may hold widths from a bigger screen: re-fit once laid out.
        QTimer.singleShot(0, self, lambda: settings.fit_to_screen(self))


def _scrollable(pane: Pane) -> QScrollArea:
    """A pane in a frameless scroll area: on a screen smaller than the pane's minimum size
    (cards wrap onto rows at 200 %) the pane scrolls instead of growing the window."""
    area = QScrollArea()
    area.setWidget(pane)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the pane's own widgets
    return area


__all__ = ["MainWindow", "SAMPLE", "Tab", "theme"]
