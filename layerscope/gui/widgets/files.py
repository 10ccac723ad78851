"""The file tree of the selected layer: mode switch, filter, change toggles, file details.

The tree model resets when the layer, mode or filter changes; this panel remembers which
directories are expanded and which path is current (by Node, which is stable across
layers) and restores them after each reset, so walking the layers keeps your place.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QItemSelection,
    QMimeData,
    QModelIndex,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QDrag, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.analysis import Analysis
from layerscope.errors import Cancelled
from layerscope.format import human_size, plural, short_command
from layerscope.gui import icons, theme
from layerscope.gui.extracting import DragFolders, DragOut
from layerscope.gui.models.filetree import ALL_CHANGES, Col, FileTreeModel
from layerscope.gui.models.versions import Col as VersionCol
from layerscope.gui.models.versions import LayerRole, VersionsModel
from layerscope.gui.tasks import Latest, Task
from layerscope.gui.text import command_html
from layerscope.gui.widgets.chrome import LoadingNote
from layerscope.gui.widgets.common import (
    EXPAND_ALL_LIMIT,
    ElidedLabel,
    FilterEdit,
    StretchColumn,
    bold,
    copy_text,
    setup_table,
    setup_tree,
    tool_button,
    warning_style,
)
from layerscope.gui.widgets.pane import Navigate, Pane
from layerscope.gui.widgets.viewer import FileViewer
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.load import SourceOutline
from layerscope.model.filesystem import Change, FileSystem, Node
from layerscope.model.image import Image, ImageOutline
from layerscope.view.tree import FilterMatches, TreeMode, make_matcher

FILTER_DELAY_MS = 180  # typing pauses this long before the tree is filtered
VIEW_DELAY_MS = 120  # the viewer follows the selection once it rests this long
FILTER_IN_WORKER = 20_000  # paths; a filter over more is matched in a worker thread
REEXPAND_LIMIT = 3_000  # directories re-expanded after a layer switch
AUTO_EXPAND_LIMIT = 400  # CHANGES mode opens every directory when a layer changed this few

_TOGGLES = (
    (Change.ADDED, "Added", "added"),
    (Change.MODIFIED, "Modified", "modified"),
    (Change.DELETED, "Deleted", "deleted"),
    (Change.UNCHANGED, "Unchanged", "file"),
)


class DragTree(QTreeView):
    """A tree whose rows drag out as files: `make_drag(index)` builds the data to drop."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.make_drag: Callable[[QModelIndex], QMimeData | None] | None = None
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        index = self.currentIndex()
        data = self.make_drag(index) if self.make_drag is not None else None
        if data is None:
            return
        drag = QDrag(self)
        drag.setMimeData(data)
        drag.exec(Qt.DropAction.CopyAction)


class FilesPanel(Pane):
    TITLE = "Files"
    SHOWS_PENDING = True
    ICON = "folder"

    COMPACT_WIDTH = 90  # characters: below this the mode buttons show their icons only

    modeChanged = Signal(object)  # TreeMode
    changesShownChanged = Signal(object)  # frozenset[Change]: the toggles now on
    # (image, layer, node, what): "save" (Save As…) or "extract" (Extract To…) asked for
    extractRequested = Signal(object, int, object, str)
    dragRequested = Signal(object)  # (image, layer, node) -> the window sets drag_data
    dragFailed = Signal(str)  # why a drop got nothing (the file could not be written)
    matchesChanged = Signal(object)  # per layer, how many paths the filter matches; or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = FileTreeModel(self)
        self.versions = VersionsModel(self)
        self._analysis: Analysis | None = None
        self._image_index = -1
        self.limits: Limits = DEFAULT_LIMITS  # the window's, for reading files again
        self.drag_folders = DragFolders()  # emptied when the window closes
        self._expanded: set[Node] = set()
        self._current: Node | None = None
        self._restoring = False
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filter)
        self._filter_task = Latest()  # matching a big image's paths, off the GUI thread
        self._build()

    # -- construction --------------------------------------------------------------------

    def _build(self) -> None:
        # Two pages: the layer's files, or how far the load of an image still loading is.
        self.pages = QStackedWidget(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)
        content = QWidget(self.pages)
        self.pages.addWidget(content)
        self.loading = LoadingNote(
            "Its layers and config are shown already; the files each layer added, modified "
            "and deleted appear here once every layer is read.",
            self.pages,
        )
        self.pages.addWidget(self.loading)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        # The layer's command, cut to one line: the Selected layer pane shows all of it.
        self.title = ElidedLabel()
        bold(self.title)
        self.counts = QLabel()
        self.counts.setTextFormat(Qt.TextFormat.RichText)
        self.counts.setToolTip(  # the tree beside it lists the directories too
            "Files and links this layer added, modified and deleted, and their bytes; "
            "directories are not counted (as in the layers table and the report)"
        )
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.counts)
        layout.addLayout(head)

        bar = QHBoxLayout()
        bar.setSpacing(4)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[TreeMode, QToolButton] = {}
        for mode, icon_name, tip in (
            (TreeMode.CHANGES, "mode-changes", "Only what this layer changed (Ctrl+T)"),
            (
                TreeMode.FILESYSTEM,
                "mode-filesystem",
                "Everything present after this layer, plus what it deleted (Ctrl+T)",
            ),
        ):
            button = tool_button(self, icon_name, tip)
            button.setText(mode.short_label)
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            bar.addWidget(button)
            button.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
        self.mode_buttons[TreeMode.CHANGES].setChecked(True)
        bar.addSpacing(8)

        self.filter_edit = FilterEdit(self)
        self.filter_edit.setPlaceholderText("Filter paths: text, or a glob like *.so  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAcceptDrops(False)
        self._search_action = self.filter_edit.addAction(
            icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition
        )
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.filter_edit.escaped.connect(self.clear_filter)
        bar.addWidget(self.filter_edit, 1)

        self.toggles: dict[Change, QToolButton] = {}
        for change, label, icon_name in _TOGGLES:
            button = tool_button(self, icon_name, f"Show {label.lower()} paths (click to hide)")
            button.setText(label)
            button.setCheckable(True)
            button.setChecked(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            button.toggled.connect(self._toggles_changed)
            self.toggles[change] = button
            bar.addWidget(button)
        bar.addSpacing(8)
        self.expand_button = tool_button(self, "expand", "Expand all (Ctrl+E)")
        self.expand_button.clicked.connect(lambda: self.expand_all())
        self.collapse_button = tool_button(self, "collapse", "Collapse all (Ctrl+Shift+E)")
        self.collapse_button.clicked.connect(self.collapse_all)
        bar.addWidget(self.expand_button)
        bar.addWidget(self.collapse_button)
        layout.addLayout(bar)

        # While a filter is on: how many paths match here, and where else they are.
        self.filter_note = QLabel(self)
        self.filter_note.setTextFormat(Qt.TextFormat.PlainText)  # it quotes the filter
        self.filter_note.setWordWrap(True)
        self.filter_note.hide()
        layout.addWidget(self.filter_note)

        self.tree = DragTree(self)
        self.tree.make_drag = self._drag_data
        setup_tree(self.tree)
        self.tree.setModel(self.model)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(Col.NAME, Qt.SortOrder.AscendingOrder)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.context_menu = QMenu(self)
        self.tree.expanded.connect(self._on_expanded)
        self.tree.collapsed.connect(self._on_collapsed)
        self.tree.selectionModel().selectionChanged.connect(self._on_selection)
        header = self.tree.header()
        self.tree.setIndentation(self.tree.fontMetrics().averageCharWidth() * 2 + 2)
        self._name_column = StretchColumn(
            self.tree, header, Col.NAME, self.tree.fontMetrics().averageCharWidth() * 36
        )
        # The columns fit what the rows in sight show (numbers are never elided), and the
        # name takes the rest; only the rows in sight are measured, so it costs nothing.
        header.setResizeContentsPrecision(0)
        for col in (Col.SIZE, Col.CHANGE, Col.WASTE, Col.PACKAGE, Col.MODE, Col.OWNER):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.resizeSection(Col.LINK, self.tree.fontMetrics().averageCharWidth() * 24)
        self.model.modelAboutToBeReset.connect(self._before_reset)
        self.model.modelReset.connect(self._after_reset)

        self.copy_action = QAction("Copy Path", self.tree)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(self.copy_path)
        self.tree.addAction(self.copy_action)

        details = QWidget(self)
        dl = QVBoxLayout(details)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.setSpacing(2)
        path_row = QHBoxLayout()
        self.path_label = ElidedLabel("No file selected", Qt.TextElideMode.ElideMiddle)
        bold(self.path_label)
        self.path_label.setContentsMargins(2, 4, 2, 2)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = tool_button(self, "copy", "Copy path (Ctrl+C in the tree)")
        self.copy_button.clicked.connect(self.copy_path)
        path_row.addWidget(self.path_label, 1)
        path_row.addWidget(self.copy_button)
        dl.addLayout(path_row)
        self.history = QTableView(details)
        setup_table(self.history)
        self.history.setModel(self.versions)
        self.history.setToolTip("Every layer that changed this path. Double-click to go there.")
        self.history.activated.connect(self._history_activated)
        self.history.doubleClicked.connect(self._history_activated)
        hh = self.history.horizontalHeader()
        hh.setStretchLastSection(True)
        for section in VersionCol:  # a few rows: every column fits what it shows
            if section is not VersionCol.WASTE:
                hh.setSectionResizeMode(section, QHeaderView.ResizeMode.ResizeToContents)
        dl.addWidget(self.history, 1)

        # Below the tree: the path's history, or what the selected file holds.
        self.viewer = FileViewer(self)
        self.viewer.saveRequested.connect(lambda: self._request_extract("save"))
        self.bottom = QTabWidget(self)
        self.bottom.setDocumentMode(True)
        self.bottom.addTab(details, "History")
        self.bottom.addTab(self.viewer, "Contents")
        self.bottom.currentChanged.connect(lambda _i: self._view_later())
        self._view_timer = QTimer(self)
        self._view_timer.setSingleShot(True)
        self._view_timer.setInterval(VIEW_DELAY_MS)
        self._view_timer.timeout.connect(self._show_contents)
        self.view_action = QAction("View Contents", self.tree)
        self.view_action.setShortcuts([QKeySequence(Qt.Key.Key_Space), QKeySequence("F3")])
        self.view_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.view_action.triggered.connect(self.show_contents_tab)
        self.tree.addAction(self.view_action)
        self.tree.activated.connect(self._tree_activated)  # double-click or Enter

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.tree)
        split.addWidget(self.bottom)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        split.setSizes([600, 170])
        split.setChildrenCollapsible(False)
        self.splitter = split
        layout.addWidget(split, 1)
        self.refresh_icons()

    def refresh_icons(self) -> None:
        """Re-tint the icons for the palette now in force."""
        for button in self.findChildren(QToolButton):
            name = button.property("icon_name")
            if name:
                button.setIcon(icons.icon(str(name)))
        self._search_action.setIcon(icons.icon("search"))
        self.tree.viewport().update()

    # -- what is shown -------------------------------------------------------------------

    def show_image(self, analysis: Analysis, image: int) -> None:
        self.set_image(analysis, image, self.model.layer)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """On a narrow pane the mode buttons keep their icons and lose their text."""
        super().resizeEvent(event)
        style = (
            Qt.ToolButtonStyle.ToolButtonIconOnly
            if event.size().width() < self.COMPACT_WIDTH * self.fontMetrics().averageCharWidth()
            else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        )
        for button in self.mode_buttons.values():
            button.setToolButtonStyle(style)

    def show_layer(self, layer: int) -> None:
        if self.model.layer != layer:
            self.set_layer(layer)

    def restyle(self) -> None:
        self.refresh_icons()
        self._update_title()
        self.loading.restyle()

    def focus_chain(self) -> list[QWidget]:
        return [self.filter_edit, self.tree, self.history, *self.viewer.focus_chain()]

    def show_pending(self, source: SourceOutline, image: ImageOutline) -> None:
        self.pages.setCurrentWidget(self.loading)

    def pending_progress(self, stage: str, done: int, total: int) -> None:
        self.loading.update_progress(stage, done, total)

    @property
    def is_pending(self) -> bool:
        """Whether the page of an image still loading is shown."""
        return self.pages.currentWidget() is self.loading

    def set_image(self, analysis: Analysis | None, image_index: int, layer: int = 0) -> None:
        self.pages.setCurrentIndex(0)
        self._analysis = analysis
        self._image_index = image_index
        self._expanded.clear()
        self._current = None
        valid = analysis is not None and 0 <= image_index < len(analysis.images)
        if valid and analysis is not None:
            image = analysis.images[image_index]
            layer = max(0, min(layer, len(image.layers) - 1))
            self.model.set_filesystem(
                image.filesystem,
                analysis.waste[image_index].dead_files,
                layer,
                analysis.packages[image_index],
            )
        else:
            self.model.set_filesystem(None)
        self._update_title()
        self._show_details(None)

    def set_layer(self, layer: int) -> None:
        self.model.set_layer(layer)
        self._update_title()
        self._show_details(self._current)

    def set_mode(self, mode: TreeMode) -> None:
        self.mode_buttons[mode].setChecked(True)
        if mode is not self.model.mode:
            self.model.set_mode(mode)
            self._update_title()
            self.modeChanged.emit(mode)

    def toggle_mode(self) -> None:
        self.set_mode(
            TreeMode.FILESYSTEM if self.model.mode is TreeMode.CHANGES else TreeMode.CHANGES
        )

    def _update_title(self) -> None:
        fs = self.model.filesystem
        analysis = self._analysis
        if fs is None or analysis is None or not 0 <= self._image_index < len(analysis.images):
            self.title.setText("No image")
            self.counts.setText("")
            return
        image = analysis.images[self._image_index]
        k = self.model.layer
        command = short_command(image.layers[k].created_by) if k < len(image.layers) else ""
        self.title.setText(f"Layer {k}  ·  {command}")
        self.title.setToolTip(command_html(image.layers[k].created_by))
        c = fs.counts[k] if k < len(fs.counts) else None
        if c is None:
            self.counts.setText("")
            return
        t = theme.current()
        self.counts.setText(
            f"<span style='color:{t.added.name()}'>+{c.added} ({human_size(c.added_bytes)})</span>"
            f"&nbsp;&nbsp;<span style='color:{t.modified.name()}'>~{c.modified} "
            f"({human_size(c.modified_bytes)})</span>&nbsp;&nbsp;"
            f"<span style='color:{t.deleted.name()}'>−{c.deleted} "
            f"({human_size(c.deleted_bytes)})</span>"
        )

    # -- filter and toggles --------------------------------------------------------------

    def filter_box(self) -> QLineEdit:
        return self.filter_edit

    def clear_filter(self) -> None:
        self.filter_edit.clear()
        self.apply_filter()

    def apply_filter(self) -> None:
        """Filter the tree by the box's text. On a big image the matches are found in a
        worker thread (one walk over every path), and the tree changes when they are."""
        self._filter_timer.stop()
        text = self.filter_edit.text()
        self._filter_task.cancel()
        if text == self.model.filter_text:
            return
        fs = self.model.filesystem
        matcher = make_matcher(text)
        if fs is None or matcher is None or self.model.paths < FILTER_IN_WORKER:
            self.model.set_filter(text)  # the reset expands to the matches and says how many
            return

        def find(task: Task) -> FilterMatches:
            def check() -> None:
                if task.cancelled():
                    raise Cancelled()

            return FilterMatches(fs, matcher, check)

        self.filter_note.setText(f"Looking for “{text.strip()}” in every layer…")
        self.filter_note.setStyleSheet("")
        self.filter_note.show()
        self._filter_task.start(
            find,
            lambda matches: self._filter_found(fs, text, matches),
            lambda message: self.message.emit(f"Filter failed: {message}"),
        )

    def _filter_found(self, fs: FileSystem, text: str, matches: FilterMatches) -> None:
        if fs is self.model.filesystem and text == self.filter_edit.text():
            self.model.set_filter(text, matches)

    def show_change(self, change: Change, shown: bool) -> None:
        """Show or hide the paths with this change (the toggle buttons, or the View menu)."""
        self.toggles[change].setChecked(shown)

    def _toggles_changed(self) -> None:
        shown = frozenset(c for c, button in self.toggles.items() if button.isChecked())
        self.model.set_shown_changes(shown)
        self.changesShownChanged.emit(shown)

    def show_all_changes(self) -> None:
        for button in self.toggles.values():
            button.blockSignals(True)
            button.setChecked(True)
            button.blockSignals(False)
        self.model.set_shown_changes(ALL_CHANGES)
        self.changesShownChanged.emit(ALL_CHANGES)

    def _expand_matches(self) -> None:
        """A filter that leaves few paths opens them all: the matches are what you want,
        in this layer and in the next one you move to."""
        if self.model.is_filtered and self.model.filter_text:
            self.expand_all(quiet=True)

    def _update_filter_note(self) -> None:
        """Say how many paths match here, and in which other layers when none do."""
        counts = self.model.match_counts()
        here = self.model.matches_here()
        self.matchesChanged.emit(counts)
        if counts is None or here is None:
            self._update_toggles_note()
            return
        text = self.model.filter_text.strip()
        k = self.model.layer
        where = "in this layer's changes" if self.model.mode is TreeMode.CHANGES else "here"
        elsewhere = [(layer, n) for layer, n in enumerate(counts) if n and layer != k]
        if here:
            note = f"{plural(here, 'path')} {where} match “{text}”"
            hidden = counts[k] - here if 0 <= k < len(counts) else 0
            if hidden > 0:
                note += f" ({hidden:,} more hidden by the change toggles)"
        else:
            note = f"No path {where} matches “{text}”"
            if 0 <= k < len(counts) and counts[k]:
                note += f" among the changes shown; {counts[k]:,} are hidden by the toggles"
        if elsewhere:
            listed = ", ".join(f"{layer} ({n:,})" for layer, n in elsewhere[:8])
            more = "…" if len(elsewhere) > 8 else ""
            note += f". Other layers with matches: {listed}{more}."
        elif not here:
            note += ", nor in any other layer."
        else:
            note += "."
        self.filter_note.setText(note)
        self.filter_note.setStyleSheet("" if here else warning_style())
        self.filter_note.show()

    def _update_toggles_note(self) -> None:
        """Without a filter: say so when the change toggles leave the tree empty."""
        view = self.model.layer_view
        hidden = [change.label for change, b in self.toggles.items() if not b.isChecked()]
        has_paths = view is not None and (view.mode is TreeMode.FILESYSTEM or bool(view.changes))
        if not (hidden and has_paths and self.model.rowCount() == 0):
            self.filter_note.hide()
            return
        self.filter_note.setText(
            f"The change toggles hide every path here ({', '.join(hidden)}). "
            "Turn them back on beside the filter, or in the View menu."
        )
        self.filter_note.setStyleSheet(warning_style())
        self.filter_note.show()

    # -- expansion kept across resets ----------------------------------------------------

    def _on_expanded(self, index: QModelIndex) -> None:
        if not self._restoring:
            node = self.model.node_at(index)
            if node is not None:
                self._expanded.add(node)

    def _on_collapsed(self, index: QModelIndex) -> None:
        node = self.model.node_at(index)
        if node is not None:
            self._expanded.discard(node)

    def _before_reset(self) -> None:
        current = self.tree.currentIndex()
        node = self.model.node_at(current)
        if node is not None:
            self._current = node

    def _after_reset(self) -> None:
        self._restore_view()
        self._expand_matches()
        self._update_filter_note()

    def _restore_view(self) -> None:
        self._restoring = True
        try:
            nodes = sorted(self._expanded, key=_depth)[:REEXPAND_LIMIT]
            for node in nodes:
                index = self.model.index_for_node(node)
                if index.isValid():
                    self.tree.expand(index)
        finally:
            self._restoring = False
        self._expand_small_changes()
        if self._current is not None:
            index = self.model.index_for_node(self._current)
            if index.isValid():
                self.tree.setCurrentIndex(index)
                self.tree.scrollTo(index)
        self._show_details(self._current)

    def _expand_small_changes(self) -> None:
        """A layer that changed a few paths shows them all at once, like `git show`."""
        view = self.model.layer_view
        if view is None or view.mode is not TreeMode.CHANGES or self.model.is_filtered:
            return
        if len(view.changes) + len(view.context) <= AUTO_EXPAND_LIMIT:
            self._restoring = True
            try:
                self.tree.expandAll()
            finally:
                self._restoring = False

    def expand_all(self, quiet: bool = False) -> bool:
        view = self.model.layer_view
        if view is None:
            return True
        if self.model.is_filtered:
            total = self.model.match_count or 0
        elif view.mode is TreeMode.CHANGES:
            total = len(view.changes) + len(view.context)
        else:
            total = EXPAND_ALL_LIMIT + 1  # the whole filesystem: never all at once
        if total <= EXPAND_ALL_LIMIT:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(0)
            if not quiet:
                self.message.emit(
                    "Expanded the first level only: too many paths to expand all at once. "
                    "Filter first, or expand directories one by one."
                )
        return True

    def collapse_all(self) -> bool:
        self.tree.collapseAll()
        self._expanded.clear()
        return True

    # -- selection, details, reveal ------------------------------------------------------

    def current_node(self) -> Node | None:
        return self.model.node_at(self.tree.currentIndex())

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        node = self.current_node()
        if node is not None:
            self._current = node
        self._show_details(node)

    def _show_details(self, node: Node | None) -> None:
        fs = self.model.filesystem
        dead = None
        if self._analysis is not None and 0 <= self._image_index < len(self._analysis.waste):
            dead = self._analysis.waste[self._image_index].dead_files
        self.versions.set_node(fs, node, dead)
        if node is None:
            self.path_label.setText("Select a path to see every layer that touched it")
        else:
            view = self.model.layer_view
            owner = "" if view is None or view.is_dir(node) else self.model.package_text(node)
            self.path_label.setText(f"{node.path}  ·  {owner}" if owner else node.path)
        self.copy_button.setEnabled(node is not None)
        self._view_later()

    # -- the file's contents -------------------------------------------------------------

    def _image(self) -> Image | None:
        analysis = self._analysis
        if analysis is None or not 0 <= self._image_index < len(analysis.images):
            return None
        return analysis.images[self._image_index]

    def _view_later(self) -> None:
        if self.bottom.currentWidget() is self.viewer:
            self._view_timer.start()

    def _tree_activated(self, index: QModelIndex) -> None:
        """A file opens in the viewer; a directory only opens or closes (Qt does that)."""
        node = self.model.node_at(index)
        if node is not None and not node.children and not self.model.hasChildren(index):
            self.show_contents_tab()

    def show_contents_tab(self) -> None:
        self.bottom.setCurrentWidget(self.viewer)
        self._show_contents()

    def _show_contents(self) -> None:
        self._view_timer.stop()
        image, node = self._image(), self.current_node() or self._current
        if image is None or node is None:
            self.viewer.clear()
            return
        shown = self.viewer.current
        layer = self.model.layer
        deleted = self.model.layer_view is not None and (
            self.model.layer_view.status(node) is Change.DELETED
        )
        if shown is not None and shown.node is node and shown.layer == layer:
            return
        self.viewer.show_path(image, layer, node, deleted=deleted)

    def _request_extract(self, what: str, node: Node | None = None) -> None:
        image = self._image()
        node = node or self.current_node()
        if image is not None and node is not None:
            self.extractRequested.emit(image, self.model.layer, node, what)

    def _drag_data(self, index: QModelIndex) -> QMimeData | None:
        image, node = self._image(), self.model.node_at(index)
        if image is None or node is None or node.state_at(self.model.layer) is None:
            return None
        return DragOut(
            image, self.model.layer, node, self.limits, self.drag_folders, self.dragFailed.emit
        )

    def _history_activated(self, index: QModelIndex) -> None:
        layer = self.versions.data(index, LayerRole)
        if isinstance(layer, int):
            self.navigate.emit(Navigate(layer=layer))

    def reveal(self, path: str) -> bool:
        """Select `path` in the tree, expanding its parents; clears a hiding filter."""
        fs = self.model.filesystem
        node = fs.lookup(path) if fs is not None else None
        if node is None:
            return False
        index = self.model.index_for_node(node)
        if not index.isValid() and (self.model.filter_text or self.model.is_filtered):
            self.filter_edit.blockSignals(True)
            self.filter_edit.clear()
            self.filter_edit.blockSignals(False)
            self.model.set_filter("")
            self.show_all_changes()
            index = self.model.index_for_node(node)
        if not index.isValid() and self.model.mode is TreeMode.CHANGES:
            self.set_mode(TreeMode.FILESYSTEM)
            index = self.model.index_for_node(node)
        if not index.isValid():
            return False
        parent = index.parent()
        chain = []
        while parent.isValid():
            chain.append(parent)
            parent = parent.parent()
        for p in reversed(chain):
            self.tree.expand(p)
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def copy_path(self) -> None:
        node = self.current_node() or self.versions.node
        if node is not None:
            copy_text(node.path)
            self.message.emit(f"Copied {node.path}")

    def _context_menu(self, pos: QPoint) -> None:
        """One menu, filled afresh for the row under the pointer each time."""
        index = self.tree.indexAt(pos)
        node = self.model.node_at(index)
        menu = self.context_menu
        menu.clear()
        if node is not None:
            present = node.state_at(self.model.layer) is not None
            view = menu.addAction(icons.icon("view"), "View Contents", self.show_contents_tab)
            view.setShortcut(QKeySequence(Qt.Key.Key_Space))
            save = menu.addAction(
                icons.icon("save"), "Save As…", lambda: self._request_extract("save", node)
            )
            extract = menu.addAction(
                "Extract To Folder…", lambda: self._request_extract("extract", node)
            )
            for action in (save, extract):
                action.setEnabled(present)
            menu.addSeparator()
            menu.addAction(icons.icon("copy"), "Copy Path", lambda: copy_text(node.path))
            menu.addAction("Copy Name", lambda: copy_text(node.name))
            if node.children:
                menu.addAction("Expand All Below", lambda: self.tree.expandRecursively(index))
            menu.addSeparator()
        other = TreeMode.FILESYSTEM if self.model.mode is TreeMode.CHANGES else TreeMode.CHANGES
        menu.addAction(f"Show {other.label}", lambda: self.set_mode(other))
        menu.addAction(icons.icon("expand"), "Expand All", lambda: self.expand_all())
        menu.addAction(icons.icon("collapse"), "Collapse All", self.collapse_all)
        menu.popup(self.tree.viewport().mapToGlobal(pos))


def _depth(node: Node) -> int:
    depth = 0
    n = node.parent
    while n is not None:
        depth += 1
        n = n.parent
    return depth
