"""Light and dark palettes that follow the system colour scheme, and the change colours.

Qt 6 reports the desktop's scheme through QStyleHints.colorScheme(); we pick the Fusion
style with a palette of our own so both schemes look the same on every platform.
LAYERSCOPE_THEME=light|dark overrides the system (screenshots, testing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from layerscope.model.filesystem import Change


@dataclass(frozen=True)
class Theme:
    dark: bool
    added: QColor
    modified: QColor
    deleted: QColor
    waste_bar: QColor
    size_bar: QColor
    shared: QColor  # background of a layer cell shared by 2+ images
    own: QColor  # background of a layer cell only one image has
    muted: QColor  # secondary text
    card: QColor  # background of summary cards

    def change_color(self, change: Change) -> QColor | None:
        return {
            Change.ADDED: self.added,
            Change.MODIFIED: self.modified,
            Change.DELETED: self.deleted,
        }.get(change)


LIGHT = Theme(
    dark=False,
    added=QColor("#1a7f37"),
    modified=QColor("#9a6700"),
    deleted=QColor("#cf222e"),
    waste_bar=QColor("#e5534b"),
    size_bar=QColor("#6e9fe0"),
    shared=QColor("#d3e8fd"),
    own=QColor("#eef1f5"),
    muted=QColor("#656d76"),
    card=QColor("#f3f5f8"),
)

DARK = Theme(
    dark=True,
    added=QColor("#3fb950"),
    modified=QColor("#d29922"),
    deleted=QColor("#f85149"),
    waste_bar=QColor("#da3633"),
    size_bar=QColor("#388bfd"),
    shared=QColor("#173a5e"),
    own=QColor("#262c36"),
    muted=QColor("#8b949e"),
    card=QColor("#1f242c"),
)


def wants_dark() -> bool:
    forced = os.environ.get("LAYERSCOPE_THEME", "").strip().lower()
    if forced in ("light", "dark"):
        return forced == "dark"
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


_active: Theme | None = None


def current() -> Theme:
    """The theme in force: the one apply() set, else the one matching the palette."""
    if _active is not None:
        return _active
    if QGuiApplication.instance() is None:
        return LIGHT
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return DARK if window.lightness() < 128 else LIGHT


def _dark_palette() -> QPalette:
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colors = {
        role.Window: "#1b1f24",
        role.WindowText: "#e6edf3",
        role.Base: "#0f1318",
        role.AlternateBase: "#161b22",
        role.ToolTipBase: "#2d333b",
        role.ToolTipText: "#e6edf3",
        role.PlaceholderText: "#7d8590",
        role.Text: "#e6edf3",
        role.Button: "#262c34",
        role.ButtonText: "#e6edf3",
        role.BrightText: "#ffffff",
        role.Light: "#3a424d",
        role.Midlight: "#30363d",
        role.Mid: "#2a3038",
        role.Dark: "#0d1117",
        role.Shadow: "#010409",
        role.Highlight: "#1f6feb",
        role.HighlightedText: "#ffffff",
        role.Link: "#4493f8",
        role.LinkVisited: "#a371f7",
    }
    for r, c in colors.items():
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#6e7681"))
    return p


def _light_palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    colors = {
        role.Window: "#f6f7f9",
        role.WindowText: "#1f2328",
        role.Base: "#ffffff",
        role.AlternateBase: "#f6f8fa",
        role.ToolTipBase: "#ffffff",
        role.ToolTipText: "#1f2328",
        role.PlaceholderText: "#8c959f",
        role.Text: "#1f2328",
        role.Button: "#f0f2f5",
        role.ButtonText: "#1f2328",
        role.Highlight: "#0969da",
        role.HighlightedText: "#ffffff",
        role.Link: "#0969da",
    }
    for r, c in colors.items():
        p.setColor(r, QColor(c))
    # setColor() above set the disabled group too: disabled text must look disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor("#8c959f"))
    return p


def apply(app: QApplication) -> Theme:
    """Set Fusion and the palette for the scheme now wanted; returns the theme."""
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    global _active
    dark = wants_dark()
    _active = DARK if dark else LIGHT
    app.setPalette(_dark_palette() if dark else _light_palette())
    return _active
