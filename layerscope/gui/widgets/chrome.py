"""Window chrome: the welcome page and the load progress in the status bar."""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from layerscope.format import human_size
from layerscope.gui import icons, theme
from layerscope.gui.text import plain_tooltip
from layerscope.gui.widgets.common import ElidedLabel

RECENT_TEXT_WIDTH = 480  # px: a recent archive's name and path, elided in the middle


class WelcomePage(QScrollArea):
    """What an empty window shows: how to open something, and the recent files.

    It scrolls when the window is smaller than it: a page in the window's stack sets the
    window's minimum height even while hidden, and this one's (about 420 px) put the
    menus of a 1280x800 screen at 200 % (640x400) above the top of the screen."""

    openFiles = Signal()
    openFolder = Signal()
    openSample = Signal()
    openRecent = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.addStretch(2)
        column = QVBoxLayout()
        column.setSpacing(10)
        self.logo = QLabel()
        self.logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.logo.setPixmap(icons.app_icon().pixmap(96, 96))
        column.addWidget(self.logo)
        title = QLabel("layerscope")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(title)
        self.subtitle = QLabel(
            "See inside container images: layers, what each one changed, the space it wastes "
            "and the layers images share."
        )
        self.subtitle.setWordWrap(True)
        self.subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        column.addWidget(self.subtitle)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.open_button = QPushButton(icons.icon("open"), "Open Archive…")
        self.open_button.setDefault(True)
        self.folder_button = QPushButton(icons.icon("open-folder"), "Open Folder…")
        self.sample_button = QPushButton(icons.icon("sample"), "Open Sample Image")
        for b in (self.open_button, self.folder_button, self.sample_button):
            b.setMinimumHeight(34)
            b.setMinimumWidth(150)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.open_button.clicked.connect(self.openFiles)
        self.folder_button.clicked.connect(self.openFolder)
        self.sample_button.clicked.connect(self.openSample)
        column.addLayout(buttons)
        self.hint = QLabel(
            "or drop files here: docker save / podman save tars (.tar, .tar.gz), OCI archives, "
            "OCI layout and docker-dir folders"
        )
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        column.addWidget(self.hint)
        self.recent_title = QLabel("Recent")
        self.recent_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        rf = QFont(self.recent_title.font())
        rf.setBold(True)
        self.recent_title.setFont(rf)
        column.addSpacing(12)
        column.addWidget(self.recent_title)
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(0)
        column.addLayout(self.recent_box)
        row = QHBoxLayout()
        row.addStretch(1)
        holder = QWidget()
        holder.setLayout(column)
        holder.setMaximumWidth(720)
        row.addWidget(holder, 4)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)
        self.setWidget(page)
        self.restyle()

    def set_sample_available(self, available: bool) -> None:
        self.sample_button.setVisible(available)

    def set_recent(self, paths: Sequence[str]) -> None:
        while self.recent_box.count():
            item = self.recent_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.recent_title.setVisible(bool(paths))
        metrics = self.fontMetrics()
        for path in paths[:6]:
            button = QToolButton()
            text = f"{os.path.basename(path.rstrip('/'))}   —   {path}"
            button.setText(
                metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, RECENT_TEXT_WIDTH)
            )
            button.setToolTip(plain_tooltip(path))
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setIcon(icons.icon("archive"))
            button.setSizePolicy(
                button.sizePolicy().horizontalPolicy(), button.sizePolicy().verticalPolicy()
            )
            button.clicked.connect(lambda _=False, p=path: self.openRecent.emit(p))
            self.recent_box.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)

    def restyle(self) -> None:
        muted = theme.current().muted.name()
        self.subtitle.setStyleSheet(f"color: {muted}; font-size: 11pt;")
        self.hint.setStyleSheet(f"color: {muted};")
        self.open_button.setIcon(icons.icon("open"))
        self.folder_button.setIcon(icons.icon("open-folder"))
        self.sample_button.setIcon(icons.icon("sample"))


class LoadProgress(QWidget):
    """Stage text, a bar and a Cancel button, shown in the status bar while loading."""

    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.setSpacing(6)
        self.label = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)  # stages name archives
        self.label.setMaximumWidth(520)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(200)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(14)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop loading (Esc)")
        self.cancel_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.cancel_button.setIcon(icons.icon("cancel"))
        self.cancel_button.clicked.connect(self.cancelRequested)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.bar.setRange(0, 0)  # busy until a total is known
        self.cancel_button.setEnabled(True)
        self.show()

    def update_progress(self, stage: str, done: int, total: int) -> None:
        self.label.setText(
            f"{stage}  {human_size(done)} of {human_size(total)}" if total else stage
        )
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(min(1000, int(done * 1000 / total)))
        else:
            self.bar.setRange(0, 0)

    def cancelling(self) -> None:
        self.label.setText("Cancelling…")
        self.cancel_button.setEnabled(False)


class LoadingNote(QWidget):
    """What a pane shows for an image still loading: how far the load is, and what comes."""

    def __init__(self, what: str, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.addStretch(1)
        self.stage = ElidedLabel(mode=Qt.TextElideMode.ElideMiddle)  # stages name images
        self.stage.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = QFont(self.stage.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.stage.setFont(font)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(420)
        self.bar.setMaximumHeight(14)
        self.amount = QLabel()
        self.amount.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.what = QLabel(what)
        self.what.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.what.setWordWrap(True)
        layout.addWidget(self.stage)
        layout.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.amount)
        layout.addSpacing(12)
        layout.addWidget(self.what)
        layout.addStretch(2)
        self.restyle()
        self.update_progress("Reading the layers", 0, 0)

    def update_progress(self, stage: str, done: int, total: int) -> None:
        self.stage.setText(f"{stage}…")
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(min(1000, int(done * 1000 / total)))
            self.amount.setText(f"{human_size(done)} of {human_size(total)}")
        else:
            self.bar.setRange(0, 0)
            self.amount.setText("")

    def restyle(self) -> None:
        muted = theme.current().muted.name()
        self.amount.setStyleSheet(f"color: {muted};")
        self.what.setStyleSheet(f"color: {muted};")
