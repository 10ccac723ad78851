"""Icons drawn as small SVGs in layerscope/resources/icons/, tinted for the palette.

They ship inside the package (read with importlib.resources), so an installed wheel has
them as much as a checkout does.

The SVGs stroke with `currentColor`, which we replace by the palette's text colour before
rendering, so one file serves the light and the dark scheme. The change badges use fixed
colours that we swap for the dark theme's brighter ones.
"""

from __future__ import annotations

import warnings
from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from layerscope.desktop.entry import ICONS
from layerscope.gui import theme

_SIZES = (16, 20, 24, 32, 48, 64)

# Light-theme badge colours in the SVGs -> their dark-theme equivalents.
_DARK_SWAPS = {"#1a7f37": "#2ea043", "#bf8700": "#d29922", "#cf222e": "#f85149"}


def names() -> list[str]:
    """Every icon the package ships."""
    return sorted(p.name.removesuffix(".svg") for p in ICONS.iterdir() if p.name.endswith(".svg"))


def svg_text(name: str) -> str | None:
    try:
        return (ICONS / f"{name}.svg").read_text(encoding="utf-8")
    except OSError:
        return None


@cache
def _icon(name: str, foreground: str, dark: bool) -> QIcon:
    text = svg_text(name)
    if text is None:
        # a name with no SVG is a bug: say so (the tests turn warnings into failures)
        warnings.warn(f"no icon {name!r} in layerscope/resources/icons", stacklevel=3)
        return QIcon()
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
