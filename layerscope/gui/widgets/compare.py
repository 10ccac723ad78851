"""The Compare tab: the difference between two layers of one image, or two images.

Pick A and B (an image and a layer each; the layers table and the images list can fill
them in), and the tree shows every added, removed and changed path, each directory with
the size delta below it, largest first. A changed text file shows its text diff below.
The diff and the file contents are computed off the GUI thread, and the diff only while
the tab is on screen: it is seconds of Python on a big image, and a busy worker thread
slows every call the GUI thread makes (they share the interpreter lock).
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QFont,
    QKeySequence,
    QShowEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.analysis import Analysis
from layerscope.analysis.diff import ADDED, CHANGED, REMOVED, FsDiff, PathDiff, Side, diff
from layerscope.archive.content import ImageContent
from layerscope.errors import Cancelled
from layerscope.format import human_size, plural, short_command
from layerscope.gui import theme
from layerscope.gui.models.difftree import Col, DiffTreeModel, PathRole, signed_size
from layerscope.gui.tasks import Latest, Task
from layerscope.gui.widgets.common import (
    EXPAND_ALL_LIMIT,
    FilterEdit,
    StretchColumn,
    copy_text,
    section_label,
    setup_tree,
    warning_style,
)
from layerscope.gui.widgets.pane import Navigate, Pane
from layerscope.model.entry import Entry, Kind
from layerscope.preview import DIFF_LIMIT, text_diff
from layerscope.view.difftree import DiffTree
from layerscope.view.names import image_names

FILTER_DELAY_MS = 180
AUTO_EXPAND_LIMIT = 300  # a diff this small opens completely


class SidePicker(QWidget):
    """`A: [image ▾] at [layer ▾]`: one side of a comparison."""

    changed = Signal()

    def __init__(self, label: str, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        caption = QLabel(label)
        bold = caption.font()
        bold.setBold(True)
        caption.setFont(bold)
        self.image = QComboBox(self)
        self.layer = QComboBox(self)
        for combo in (self.image, self.layer):
            # Archive text must never widen the window: elide, full text in the tooltip.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(6)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.image.setToolTip(f"The image on side {label}")
        self.layer.setToolTip(f"The layer of side {label}: the filesystem once it is applied")
        layout.addWidget(caption)
        layout.addWidget(self.image, 3)
        layout.addWidget(QLabel("at"))
        layout.addWidget(self.layer, 2)
        self._analysis: Analysis | None = None
        self.image.currentIndexChanged.connect(self._image_changed)
        self.layer.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def set_analysis(self, analysis: Analysis) -> None:
        self._analysis = analysis
        self.image.blockSignals(True)
        self.image.clear()
        for name in image_names(analysis):
            self.image.addItem(name)
            self.image.setItemData(self.image.count() - 1, name, Qt.ItemDataRole.ToolTipRole)
        self.image.blockSignals(False)
        self._fill_layers()

    def _image_changed(self, _index: int) -> None:
        self._fill_layers()
        self.changed.emit()

    def _fill_layers(self, layer: int | None = None) -> None:
        self.layer.blockSignals(True)
        self.layer.clear()
        analysis, i = self._analysis, self.image.currentIndex()
        if analysis is not None and 0 <= i < len(analysis.images):
            layers = analysis.images[i].layers
            for layer_ in layers:
                last = " (final)" if layer_.index == len(layers) - 1 else ""
                command = short_command(layer_.created_by) or "-"
                self.layer.addItem(f"layer {layer_.index}{last} · {command}", layer_.index)
                self.layer.setItemData(
                    self.layer.count() - 1, layer_.created_by or "", Qt.ItemDataRole.ToolTipRole
                )
            self.layer.setCurrentIndex(len(layers) - 1 if layer is None else layer)
        self.layer.blockSignals(False)

    def set(self, image: int, layer: int) -> None:
        self.image.blockSignals(True)
        self.image.setCurrentIndex(image)
        self.image.blockSignals(False)
        self._fill_layers(layer)

    def value(self) -> tuple[int, int] | None:
        i, layer = self.image.currentIndex(), self.layer.currentData()
        if i < 0 or not isinstance(layer, int):
            return None
        return i, layer


class DiffHighlighter(QSyntaxHighlighter):
    """Colours a unified diff: additions, removals, hunk headers."""

    def highlightBlock(self, text: str) -> None:
        t = theme.current()
        fmt = QTextCharFormat()
        if text.startswith(("+++", "---")):
            fmt.setFontWeight(QFont.Weight.Bold)
        elif text.startswith("+"):
            fmt.setForeground(t.added)
        elif text.startswith("-"):
            fmt.setForeground(t.deleted)
        elif text.startswith("@@"):
            fmt.setForeground(t.muted)
        else:
            return
        self.setFormat(0, len(text), fmt)


def monospace_editor(parent: QWidget | None = None) -> QPlainTextEdit:
    editor = QPlainTextEdit(parent)
    editor.setReadOnly(True)
    editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    editor.setFont(_mono())
    editor.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    return editor


def _mono() -> QFont:
    font = QFont("monospace")
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


class ComparePane(Pane):
    TITLE = "Compare"
    ICON = "compare"

    compared = Signal()  # a diff is shown (for tests and screenshots)
    textShown = Signal()  # a text diff (or why there is none) is shown

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._analysis: Analysis | None = None
        self.result: FsDiff | None = None
        self._stale = False  # sides were set while the tab was hidden: compare when shown
        self._diff_task = Latest()
        self._text_task = Latest()
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self._rebuild_tree)
        self._build()

    # -- construction --------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        # A over B, so that the pane stays narrow on a small screen.
        self.side_a = SidePicker("A", self)
        self.side_b = SidePicker("B", self)
        self.swap_button = QToolButton(self)
        self.swap_button.setText("⇅")
        self.swap_button.setToolTip("Swap A and B")
        self.swap_button.setAutoRaise(True)
        self.swap_button.clicked.connect(self.swap)
        sides = QHBoxLayout()
        pickers = QVBoxLayout()
        pickers.setSpacing(2)
        pickers.addWidget(self.side_a)
        pickers.addWidget(self.side_b)
        sides.addLayout(pickers, 1)
        sides.addWidget(self.swap_button)
        layout.addLayout(sides)
        self.side_a.changed.connect(self.recompute)
        self.side_b.changed.connect(self.recompute)

        bar = QHBoxLayout()
        self.ignore_times = QCheckBox("Ignore timestamps", self)
        self.ignore_times.setToolTip(
            "Modification times alone do not make a change (reproducible-build diffs)"
        )
        self.ignore_times.toggled.connect(lambda _on: self.recompute())
        self.filter_edit = FilterEdit(self)  # Esc clears it, as in the Files tab
        self.filter_edit.escaped.connect(self.filter_edit.clear)
        self.filter_edit.setPlaceholderText("Filter paths: text, or a glob like *.so  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMinimumWidth(120)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        bar.addWidget(self.ignore_times)
        bar.addWidget(self.filter_edit, 1)
        layout.addLayout(bar)

        self.summary = QLabel(self)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setMinimumWidth(1)
        self.shared = QLabel(self)
        self.shared.setTextFormat(Qt.TextFormat.PlainText)
        self.shared.setWordWrap(True)
        self.shared.setMinimumWidth(1)
        self.filter_note = QLabel(self)  # when the filter leaves no change
        self.filter_note.setTextFormat(Qt.TextFormat.PlainText)  # it quotes the filter
        self.filter_note.setWordWrap(True)
        self.filter_note.hide()
        layout.addWidget(self.summary)
        layout.addWidget(self.shared)
        layout.addWidget(self.filter_note)

        self.model = DiffTreeModel(self)
        self.tree = QTreeView(self)
        setup_tree(self.tree)
        copy = QAction("Copy Path", self.tree)  # the whole path, as in the file tree
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self._copy_path)
        self.tree.addAction(copy)
        self.tree.setModel(self.model)
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(Col.DELTA, Qt.SortOrder.DescendingOrder)
        header = self.tree.header()
        for col, width in ((Col.CHANGE, 140), (Col.SIZE_A, 76), (Col.SIZE_B, 76), (Col.DELTA, 84)):
            header.resizeSection(col, width)
        # Names keep room on a narrow window: the view scrolls sideways instead.
        self._name_column = StretchColumn(self.tree, header, Col.NAME, 220)
        self.tree.selectionModel().selectionChanged.connect(self._on_selection)
        self.tree.activated.connect(self._activated)

        text_box = QWidget(self)
        tl = QVBoxLayout(text_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(2)
        self.text_title = section_label("Select a changed text file to see its text diff")
        self.text_title.setTextFormat(Qt.TextFormat.PlainText)
        self.text_title.setMinimumWidth(1)
        self.text = monospace_editor(text_box)
        self._highlighter = DiffHighlighter(self.text.document())
        tl.addWidget(self.text_title)
        tl.addWidget(self.text, 1)

        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.tree)
        split.addWidget(text_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)

    def focus_chain(self) -> list[QWidget]:
        return [self.side_a.image, self.side_a.layer, self.side_b.image, self.side_b.layer,
                self.filter_edit, self.tree, self.text]  # fmt: skip

    def restyle(self) -> None:
        self._highlighter.rehighlight()
        self._show_summary()

    # -- what is open --------------------------------------------------------------------

    def show_analysis(self, analysis: Analysis) -> None:
        previous = (self.side_a.value(), self.side_b.value())
        self._analysis = analysis
        for picker in (self.side_a, self.side_b):
            picker.blockSignals(True)
            picker.set_analysis(analysis)
            picker.blockSignals(False)
        a, b = previous
        n = len(analysis.images)
        if a is not None and b is not None and a[0] < n and b[0] < n:
            self.compare(a[0], a[1], b[0], b[1])
        elif n:
            self._clear("Pick two layers or two images to compare.")
        else:
            self._clear("")

    def show_image(self, analysis: Analysis, image: int) -> None:
        """Until asked for something else, compare the image's layer with the one below."""
        if self.result is None and 0 <= image < len(analysis.images):
            last = len(analysis.images[image].layers) - 1
            if last >= 0:
                self.compare(image, max(last - 1, 0), image, last)

    def tab_title(self, analysis: Analysis) -> str:
        return self.TITLE

    def filter_box(self) -> QLineEdit:
        return self.filter_edit

    def _copy_path(self) -> None:
        path = self.tree.currentIndex().data(PathRole)
        if path:
            copy_text(str(path))
            self.message.emit(f"Copied {path}")

    def expand_all(self) -> bool:
        tree = self.model.tree
        if tree is not None and tree.count <= EXPAND_ALL_LIMIT:
            self.tree.expandAll()
        elif tree is not None:
            self.tree.expandToDepth(1)
            self.message.emit("Expanded two levels only: too many paths to expand all at once.")
        return True

    def collapse_all(self) -> bool:
        self.tree.collapseAll()
        return True

    # -- comparing -----------------------------------------------------------------------

    def compare(self, image_a: int, layer_a: int, image_b: int, layer_b: int) -> None:
        """Show the diff of image_a at layer_a (A) against image_b at layer_b (B)."""
        for picker, image, layer in (
            (self.side_a, image_a, layer_a),
            (self.side_b, image_b, layer_b),
        ):
            picker.blockSignals(True)
            picker.set(image, layer)
            picker.blockSignals(False)
        self.recompute()

    def swap(self) -> None:
        a, b = self.side_a.value(), self.side_b.value()
        if a is not None and b is not None:
            self.compare(b[0], b[1], a[0], a[1])

    def recompute(self) -> None:
        analysis = self._analysis
        a, b = self.side_a.value(), self.side_b.value()
        if analysis is None or a is None or b is None:
            return
        if a == b:  # an empty diff would look like two sides that match
            names = image_names(analysis) if len(analysis.images) > 1 else None
            side = f"{names[a[0]]} at layer {a[1]}" if names else f"layer {a[1]}"
            self._clear(f"A and B are the same, {side}: pick another layer or image for one side.")
            return
        if not self.isVisible():
            self._stale = True
            self._diff_task.cancel()
            return
        self._stale = False
        side_a = Side(analysis.images[a[0]], a[1])
        side_b = Side(analysis.images[b[0]], b[1])
        ignore = self.ignore_times.isChecked()
        self.summary.setText("Comparing…")
        self.shared.setText("")
        self._diff_task.start(
            lambda _task: diff(side_a, side_b, ignore_timestamps=ignore),
            self._show_diff,
            lambda message: self._clear(f"Could not compare: {message}"),
        )

    def _show_diff(self, result: FsDiff) -> None:
        self.result = result
        self._rebuild_tree()
        self._show_summary()
        self.compared.emit()

    def _rebuild_tree(self) -> None:
        self._filter_timer.stop()
        if self.result is None:
            self.model.set_tree(None)
            return
        text = self.filter_edit.text()
        tree = DiffTree(self.result, text)
        self.model.set_tree(tree)
        matched_none = bool(text.strip()) and tree.count == 0 and bool(self.result.changes)
        self.filter_note.setText(
            f"No changed path matches “{text.strip()}”." if matched_none else ""
        )
        self.filter_note.setStyleSheet(warning_style())
        self.filter_note.setVisible(matched_none)
        if tree.count <= AUTO_EXPAND_LIMIT:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(0)
        self._show_text(None)

    def _show_summary(self) -> None:
        d = self.result
        if d is None:
            return
        t = theme.current()
        added, removed, changed = d.tally(ADDED), d.tally(REMOVED), d.tally(CHANGED)
        metadata_only = sum(
            1 for c in d.changes if c.change == CHANGED and not c.is_dir and not c.content_changed
        )
        self.summary.setText(
            f"<span style='color:{t.added.name()}'>+{added.count} added "
            f"({human_size(added.bytes)})</span> &nbsp; "
            f"<span style='color:{t.deleted.name()}'>−{removed.count} removed "
            f"({human_size(removed.bytes)})</span> &nbsp; "
            f"<span style='color:{t.modified.name()}'>~{changed.count} changed</span> "
            f"({metadata_only} metadata only) &nbsp; · &nbsp; "
            f"<span style='font-weight:600'>size {signed_size(d.size_delta) or '±0 B'}</span>"
        )
        if d.shared_layers:
            last = d.shared_layers - 1
            span = "layer 0" if last == 0 else f"layers 0–{last}"
            self.shared.setText(
                f"Shared: {span} ({plural(d.shared_layers, 'layer')} with the same chain ids); "
                "only what follows them is compared."
            )
        else:
            self.shared.setText("Shared: no layer; every path is compared.")

    @property
    def comparing(self) -> bool:
        """The tab is on screen and its diff is due or being computed."""
        return (self._stale and self.isVisible()) or self._diff_task.running

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.recompute()

    def _clear(self, message: str) -> None:
        self.filter_note.hide()
        self._stale = False
        self._diff_task.cancel()
        self.result = None
        self.model.set_tree(None)
        self.summary.setText(message)
        self.shared.setText("")
        self._show_text(None)

    # -- the text diff of one file -------------------------------------------------------

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        node = self.model.node_at(self.tree.currentIndex())
        self._show_text(node.diff if node is not None else None)

    def _activated(self, index: QModelIndex) -> None:
        """Enter or double-click: show the path in the Files tab, at B's layer."""
        node = self.model.node_at(index)
        b = self.side_b.value()
        if node is not None and b is not None and node.diff is not None:
            path = node.path
            if node.diff.change == REMOVED:
                a = self.side_a.value()
                if a is not None:
                    self.navigate.emit(Navigate(image=a[0], layer=a[1], path=path, show_files=True))
                return
            self.navigate.emit(Navigate(image=b[0], layer=b[1], path=path, show_files=True))

    def _show_text(self, change: PathDiff | None) -> None:
        self._text_task.cancel()
        if change is None or self.result is None:
            self.text_title.setText("Select a changed text file to see its text diff")
            self.text.setPlainText("")
            return
        a, b = self.result.a, self.result.b
        title = f"{change.path}: {change.description}"
        self.text_title.setText(title)
        self.text_title.setToolTip(title)
        if change.is_dir or Kind.SYMLINK in (change.kind, change.kind_a):
            self.text.setPlainText(_not_text(change))
            self.textShown.emit()
            return
        if not change.content_changed:
            self.text.setPlainText("The content is the same on both sides.")
            self.textShown.emit()
            return
        self.text.setPlainText("Reading both versions…")
        self._text_task.start(
            lambda task: _read_and_diff(task, a, b, change),
            self._text_ready,
            self._text_failed,
        )

    def _text_ready(self, lines: list[str] | None) -> None:
        if lines is None:
            self.text.setPlainText("Not text on both sides: no text diff.")
        else:
            self.text.setPlainText("\n".join(lines) or "No text difference.")
        self.textShown.emit()

    def _text_failed(self, message: str) -> None:
        self.text.setPlainText(f"Could not read the file: {message}")
        self.textShown.emit()


def _not_text(change: PathDiff) -> str:
    if change.is_dir:
        return "A directory: " + change.description
    old = change.entry_a.link if change.entry_a is not None else None
    new = change.entry_b.link if change.entry_b is not None else None
    return f"Symlink: {old or '(none)'} → {new or '(none)'}"


def _read_and_diff(task: Task, a: Side, b: Side, change: PathDiff) -> list[str] | None:
    def read(side: Side, entry: Entry | None) -> bytes:
        if entry is None:
            return b""
        if task.cancelled():
            raise Cancelled()
        with ImageContent(side.image) as content:
            return content.read(entry, length=DIFF_LIMIT)

    old = read(a, change.content_a)
    new = read(b, change.content_b)
    return text_diff(old, new, f"A: {change.path}", f"B: {change.path}")


__all__ = ["ComparePane", "DiffHighlighter", "SidePicker", "monospace_editor"]
