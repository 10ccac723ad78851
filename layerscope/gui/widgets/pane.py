"""The base of every tab on the right of the window, and how a tab asks to go somewhere.

A new view (a tab) subclasses Pane, overrides the hooks it needs, and is listed once in
MainWindow._build_panes(); the window then gives it a tab, a Ctrl+N shortcut, the selection
as it moves, palette changes, and carries out its Navigate requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QWidget

from layerscope.analysis import Analysis
from layerscope.load import SourceOutline
from layerscope.model.image import ImageOutline


@dataclass(frozen=True)
class Navigate:
    """Where a pane wants the window to go. None keeps the current image / layer."""

    image: int | None = None
    layer: int | None = None
    path: str | None = None  # select this path in the file tree
    show_files: bool = False  # and bring the Files tab to the front


class Pane(QWidget):
    """One tab: told what is open and what is selected; asks the window to navigate."""

    TITLE = ""  # the tab's text (tab_title() may add a count)
    ICON = ""  # a name from layerscope/resources/icons
    SHOWS_PENDING = False  # has something to show for an image still loading (show_pending)

    navigate = Signal(object)  # Navigate
    message = Signal(str)  # a short note for the status bar

    def show_analysis(self, analysis: Analysis) -> None:
        """Everything open changed (an archive was opened or closed)."""

    def show_image(self, analysis: Analysis, image: int) -> None:
        """The selected image changed; -1 when none is open."""

    def show_pending(self, source: SourceOutline, image: ImageOutline) -> None:
        """An image still loading is selected (after show_image(analysis, -1)): what its
        manifest and config say. Most panes show their empty state until it is read."""

    def pending_progress(self, stage: str, done: int, total: int) -> None:
        """How far the load of the pending image shown is."""

    def show_layer(self, layer: int) -> None:
        """The selected layer of the selected image changed."""

    def restyle(self) -> None:
        """The palette changed (light/dark): re-tint what is not drawn by the style."""

    def tab_title(self, analysis: Analysis) -> str:
        return self.TITLE

    def focus_chain(self) -> list[QWidget]:
        """The widgets Tab visits in this pane, in order (arrows move within each)."""
        return []

    def filter_box(self) -> QLineEdit | None:
        """The box Ctrl+F (Filter) focuses while this tab is shown; None: the Files tab's."""
        return None

    def expand_all(self) -> bool:
        """Ctrl+E while this tab is shown; False when it has no tree (the Files tab's is
        expanded instead)."""
        return False

    def collapse_all(self) -> bool:
        """Ctrl+Shift+E, as expand_all()."""
        return False
