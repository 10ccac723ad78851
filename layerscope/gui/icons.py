"""Icons drawn as small SVGs in the top-level resources/icons/, tinted for the palette.

The SVGs stroke with `currentColor`, which we replace by the palette's text colour before
rendering, so one file serves the light and the dark scheme. The change badges use fixed
colours that we swap for the dark theme's brighter ones.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from layerscope.gui import theme

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ICON_DIR = RESOURCES / "icons"

_SIZES = (16, 20, 24, 32, 48, 64)

# Light-theme badge colours in the SVGs -> their dark-theme equivalents.
_DARK_SWAPS = {"#1a7f37": "#2ea043", "#bf8700": "#d29922", "#cf222e": "#f85149"}


def svg_text(name: str) -> str | None:
    path = ICON_DIR / f"{name}.svg"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


@cache
def _icon(name: str, foreground: str, dark: bool) -> QIcon:
    text = svg_text(name)
    if text is None:
        return QIcon()  # an installed copy without resources/: text-only buttons
    text = text.replace("currentColor", foreground)
    if dark:
        for light, darker in _DARK_SWAPS.items():
            text = text.replace(light, darker)
    renderer = QSvgRenderer(QByteArray(text.encode()))
    icon = QIcon()
    for size in _SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        icon.addPixmap(pixmap)
    return icon


def icon(name: str) -> QIcon:
    """The named icon tinted for the current palette (cached per palette)."""
    t = theme.current()
    foreground = "#c9d1d9" if t.dark else "#424a53"
    return _icon(name, foreground, t.dark)


def app_icon() -> QIcon:
    return _icon("app", "#000000", False)
