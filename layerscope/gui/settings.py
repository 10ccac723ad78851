"""What the app remembers between runs (QSettings): recent archives, the last folder, and
window geometry, restored only as far as it fits the screen the window opens on."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QRect, QSettings
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

from layerscope.view.session import same_path

MAX_RECENT = 10


def recent_paths() -> list[str]:
    """Recent archives, newest first; ones that no longer exist are forgotten."""
    value = QSettings().value("recent", [])
    if isinstance(value, str):
        value = [value]
    paths = [str(v) for v in value] if isinstance(value, list) else []
    existing = [p for p in paths if os.path.exists(p)]
    if existing != paths:
        QSettings().setValue("recent", existing)
    return existing[:MAX_RECENT]


def add_recent(path: str) -> None:
    recent = [p for p in recent_paths() if not same_path(p, path)]
    recent.insert(0, path)
    QSettings().setValue("recent", recent[:MAX_RECENT])
    QSettings().setValue("last_dir", os.path.dirname(path.rstrip("/")))


def clear_recent() -> None:
    QSettings().setValue("recent", [])


def last_dir() -> str:
    value = QSettings().value("last_dir", "")
    return str(value) if value and os.path.isdir(str(value)) else str(Path.home())


def value_bytes(key: str) -> QByteArray | None:
    value = QSettings().value(key)
    return value if isinstance(value, QByteArray) else None


def screen_of(widget: QWidget) -> QScreen | None:
    return widget.screen() or QGuiApplication.primaryScreen()


def fit_to_screen(widget: QWidget) -> None:
    """Move and shrink a top-level window so its frame lies inside the available area.

    Restored geometry may come from a bigger screen or another scale factor; a window
    must never open partly off-screen or wider than the screen.
    """
    screen = screen_of(widget)
    if screen is None:
        return
    area: QRect = screen.availableGeometry()
    frame = widget.frameGeometry()
    extra_w = frame.width() - widget.width()  # window decorations, if any
    extra_h = frame.height() - widget.height()
    width = min(widget.width(), area.width() - extra_w)
    height = min(widget.height(), area.height() - extra_h)
    if (width, height) != (widget.width(), widget.height()):
        widget.resize(max(width, 1), max(height, 1))
        frame = widget.frameGeometry()
    x = min(max(frame.x(), area.left()), area.right() + 1 - frame.width())
    y = min(max(frame.y(), area.top()), area.bottom() + 1 - frame.height())
    if (x, y) != (frame.x(), frame.y()):
        widget.move(x, y)
