"""Small shared widgets: summary cards, section headers, clipboard and view helpers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from layerscope.gui import theme


def copy_text(text: str) -> None:
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        clipboard.setText(text)


def section_label(text: str, parent: QWidget | None = None) -> QLabel:
    """A small bold caption above a pane."""
    label = QLabel(text, parent)
    font = QFont(label.font())
    font.setBold(True)
    label.setFont(font)
    label.setContentsMargins(2, 4, 2, 2)
    return label


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
    """The look every table here shares: row selection, compact rows, no grid."""
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


def setup_tree(view: QTreeView) -> None:
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
