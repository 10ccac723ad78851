"""The window's dialogs, each made once and reused: errors, keyboard shortcuts, About."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import layerscope
from layerscope.gui import icons

if TYPE_CHECKING:
    from importlib.metadata import PackageMetadata


class ErrorDialog(QMessageBox):
    """A window-modal box that lists every input of a batch that could not be opened.

    open() does not block the event loop; while the box is up, later failures are added
    to it instead of stacking more boxes.
    """

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Critical)
        self.setWindowTitle("Could not open")
        self.setStandardButtons(QMessageBox.StandardButton.Ok)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        if not self.isVisible():
            self.messages = []
        self.messages.append(message)
        many = len(self.messages) > 1
        self.setText(f"layerscope could not open {'these inputs' if many else 'this input'}.")
        self.setInformativeText("\n".join(self.messages))
        if not self.isVisible():
            self.open()


class ShortcutsDialog(QDialog):
    """Help > Keyboard Shortcuts: every action with a shortcut, read from the actions."""

    def __init__(self, parent: QWidget | None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(560, 620)
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Action", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def set_rows(self, rows: Sequence[tuple[str, Sequence[QKeySequence]]]) -> None:
        self.table.setRowCount(len(rows))
        for r, (name, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(name))
            text = "   or   ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
            self.table.setItem(r, 1, QTableWidgetItem(text))


def _project_links() -> list[tuple[str, str]]:
    """(label, url) from the installed package's metadata (Project-URL, Home-page)."""
    from importlib import metadata  # here: 10 ms of imports the window's start need not pay

    try:
        meta = metadata.metadata("layerscope")
    except metadata.PackageNotFoundError:
        return []
    links: list[tuple[str, str]] = []
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if url.strip():
            links.append((label.strip(), url.strip()))
    home = _first(meta, "Home-page")
    if home and home != "UNKNOWN" and all(url != home for _, url in links):
        links.insert(0, ("Home page", home))
    return links


def _licence() -> str:
    from importlib import metadata

    try:
        meta = metadata.metadata("layerscope")
    except metadata.PackageNotFoundError:
        return "MIT"
    return _first(meta, "License-Expression") or _first(meta, "License") or "MIT"


def _first(meta: PackageMetadata, key: str) -> str | None:
    values = meta.get_all(key)
    return str(values[0]) if values else None


class AboutDialog(QMessageBox):
    """Help > About: version, licence, links, and the Qt it runs on."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setWindowTitle("About layerscope")
        self.setIconPixmap(icons.app_icon().pixmap(64, 64))
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setStandardButtons(QMessageBox.StandardButton.Close)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        links = "".join(f"<br><a href='{url}'>{label}</a>" for label, url in _project_links())
        self.setText(
            f"<h3>layerscope {layerscope.__version__}</h3>"
            "<p>Look inside container image archives: layers, file changes, wasted space "
            f"and layers shared across images.</p><p>Licence: {_licence()}{links}</p>"
            f"<p style='color:gray'>Qt {qVersion()} · PySide6 {pyside_version}</p>"
        )
