"""Small shared widgets: summary cards, section headers, clipboard and view helpers."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QTableView,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.gui import theme
from layerscope.gui.text import plain_tooltip


def tool_button(parent: QWidget, icon_name: str, tip: str) -> QToolButton:
    """A flat icon button. It takes no Tab stop: the same command has a key or a menu entry
    (Tab walks the panes, not every button)."""
    button = QToolButton(parent)
    button.setProperty("icon_name", icon_name)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


def copy_text(text: str) -> None:
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        clipboard.setText(text)


def bold(label: QLabel) -> QLabel:
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    return label


# Rows Ctrl+E opens at once in a tree (Files, Compare); past it only the first levels
# open (a full expansion of more took over ~70 ms on the GUI thread).
EXPAND_ALL_LIMIT = 5_000


def warning_style() -> str:
    """The style of a note that the filter or the toggles leave nothing to show."""
    return f"color: {theme.current().modified.name()}; font-weight: 600;"


def section_label(text: str, parent: QWidget | None = None) -> QLabel:
    """A small bold caption above a pane."""
    label = bold(QLabel(text, parent))
    label.setContentsMargins(2, 4, 2, 2)
    return label


class ElidedLabel(QLabel):
    """One line of plain text that never sets a minimum width (archive text may be 3 KB).

    The text is elided to the width the layout gives it, in `mode` (the right end for a
    command, the middle for a path or a ref); the whole text is in the tooltip. text()
    returns the whole text.
    """

    PREFERRED_CHARS = 60  # what it asks for when there is room (it never insists)

    def __init__(
        self,
        text: str = "",
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = " ".join(text.split()) if "\n" in text else text
        self.setToolTip(plain_tooltip(text))
        self._elide()
        self.updateGeometry()

    def text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance("…") + margins.left() + margins.right()
        return QSize(width, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        width = min(
            metrics.horizontalAdvance(self._full),
            metrics.averageCharWidth() * self.PREFERRED_CHARS,
        )
        return QSize(width + margins.left() + margins.right(), super().sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, self._mode, max(width, 0))
        if shown != super().text():
            super().setText(shown)


class CardRow(QWidget):
    """Summary cards side by side, wrapping onto more rows when the pane is narrow.

    Its minimum width is that of two cards, so a row of five never sets the window's
    minimum width; the cards share each row's width evenly.
    """

    MIN_COLUMNS = 2

    def __init__(self, cards: list[Card], parent: QWidget | None = None):
        super().__init__(parent)
        self.cards = cards
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(8)
        self._columns = 0
        self._place(len(cards))

    def _card_width(self) -> int:
        return max(card.minimumSizeHint().width() for card in self.cards)

    def _columns_for(self, width: int) -> int:
        step = self._card_width() + self._grid.horizontalSpacing()
        return max(self.MIN_COLUMNS, min(len(self.cards), (width + 8) // max(step, 1)))

    def _place(self, columns: int) -> None:
        if columns == self._columns:
            return
        self._columns = columns
        for card in self.cards:
            self._grid.removeWidget(card)
        for i, card in enumerate(self.cards):
            self._grid.addWidget(card, i // columns, i % columns)
        for c in range(len(self.cards)):
            self._grid.setColumnStretch(c, 1 if c < columns else 0)

    def minimumSizeHint(self) -> QSize:
        columns = min(self.MIN_COLUMNS, len(self.cards))
        spacing = self._grid.horizontalSpacing() * (columns - 1)
        return QSize(self._card_width() * columns + spacing, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place(self._columns_for(event.size().width()))


class Card(QFrame):
    """A figure with a caption: 'Reclaimable / 1.25 MiB / of 3.14 MiB shipped'."""

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(2)
        self.title = QLabel(title)
        self.value = QLabel("–")
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        big = QFont(self.value.font())
        big.setPointSizeF(big.pointSizeF() * 1.7)
        big.setBold(True)
        self.value.setFont(big)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for w in (self.title, self.value, self.caption):
            layout.addWidget(w)
        layout.addStretch(1)
        self.restyle()

    def set(self, value: str, caption: str = "", tooltip: str = "") -> None:
        self.value.setText(value)
        self.caption.setText(caption)
        self.setToolTip(tooltip)

    def set_accent(self, color_name: str | None) -> None:
        self.value.setStyleSheet(f"color: {color_name};" if color_name else "")

    def restyle(self) -> None:
        t = theme.current()
        muted = t.muted.name()
        self.setStyleSheet(
            f"QFrame#card {{ background: {t.card.name()}; border: 1px solid "
            f"{'#30363d' if t.dark else '#d8dee4'}; border-radius: 8px; }}"
        )
        self.title.setStyleSheet(f"color: {muted}; font-weight: 600;")
        self.caption.setStyleSheet(f"color: {muted};")


def setup_table(view: QTableView, *, stretch_column: int | None = None) -> None:
    """The look every table here shares: row selection, compact rows, no grid; Tab leaves
    the table for the next pane (arrows move between rows)."""
    view.setTabKeyNavigation(False)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    vh = view.verticalHeader()
    vh.setVisible(False)
    vh.setDefaultSectionSize(view.fontMetrics().height() + 8)
    vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    if stretch_column is not None:
        header.setStretchLastSection(False)
        header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)


class StretchColumn(QObject):
    """One column takes the width the others leave, but never less than `minimum`.

    QHeaderView's Stretch mode squeezes a column to nothing when the others are wide (a
    file name read 'h…e' at 2x scale); here the view scrolls sideways instead.
    """

    def __init__(self, view: QAbstractItemView, header: QHeaderView, column: int, minimum: int):
        super().__init__(view)
        self._view = view
        self._header = header
        self._column = column
        self._minimum = minimum
        header.setStretchLastSection(False)
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.sectionResized.connect(self._other_resized)
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def _other_resized(self, section: int, _old: int, _new: int) -> None:
        if section != self._column:  # the user widened another column
            self.fit()

    def fit(self) -> None:
        header = self._header
        others = sum(
            header.sectionSize(c)
            for c in range(header.count())
            if c != self._column and not header.isSectionHidden(c)
        )
        width = max(self._minimum, self._view.viewport().width() - others)
        if header.sectionSize(self._column) != width:
            header.resizeSection(self._column, width)


def setup_tree(view: QTreeView) -> None:
    view.setTabKeyNavigation(False)  # Tab moves to the next pane
    view.setUniformRowHeights(True)  # lets a 10,000-row directory lay out at once
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.header().setHighlightSections(False)


class Placeholder(QLabel):
    """Centred grey text shown instead of an empty pane."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setMargin(24)
        self.restyle()

    def restyle(self) -> None:
        self.setStyleSheet(f"color: {theme.current().muted.name()}; font-size: 11pt;")


class FilterEdit(QLineEdit):
    """A filter box. Esc clears it (`escaped` tells the owner, which clears it) when there
    is text; otherwise Esc is the window's, which cancels a load. The window's Ctrl+E /
    Ctrl+Shift+E still expand and collapse while it has the focus, instead of moving the
    cursor."""

    escaped = Signal()
    PASS_THROUGH = (QKeySequence("Ctrl+E"), QKeySequence("Ctrl+Shift+E"))

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_Escape:
                if self.text():
                    event.accept()  # ours: keyPressEvent clears the text
                    return True
                event.ignore()
                return False
            if QKeySequence(event.keyCombination()) in self.PASS_THROUGH:
                event.ignore()  # the window's shortcut, not QLineEdit's end-of-line
                return False
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.escaped.emit()
            event.accept()
            return
        super().keyPressEvent(event)
