"""Starting the GUI: the QApplication, its identity (for QSettings), palette and window.

`main(paths)` is what `layerscope`, `layerscope open FILE...`, the `layerscope-gui` script
and `python -m layerscope.gui` call.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from layerscope.desktop.entry import APP_ID
from layerscope.gui import icons, theme
from layerscope.gui.head_start import HeadStart
from layerscope.gui.main_window import SAMPLE, MainWindow
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.remote import RemoteOptions

ORGANIZATION = "layerscope"
# The GUI thread shares the interpreter lock with the threads that load and compute. A
# thread that wants the lock gets it only after waiting this long (Python's default is
# 5 ms), and the GUI thread gives it up and waits again at every system call and at each
# call from Qt into Python (a view's data(), a paint): beside a busy loader, showing a
# 180,000-file image held the window 250 ms at 5 ms; opening it again from the cache (its
# load all Python, no reader processes to wait on) held it 170-270 ms at 1 ms and 60-70 ms
# at 0.1 ms. A thread running alone is not interrupted more often.
GIL_SWITCH_INTERVAL = 0.0001
APPLICATION = "layerscope"


def configure(app: QApplication) -> None:
    """Name, style, palette and icon; the palette follows the system's colour scheme."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QGuiApplication.setApplicationDisplayName("layerscope")
    QGuiApplication.setDesktopFileName(APP_ID)  # ties the window to its menu entry
    theme.apply(app)
    app.setWindowIcon(icons.app_icon())
    hints = QGuiApplication.styleHints()
    if hints is not None and not app.property("layerscope_follows_scheme"):
        hints.colorSchemeChanged.connect(lambda _scheme: theme.apply(app))
        app.setProperty("layerscope_follows_scheme", True)


def create_window(
    paths: Sequence[str] = (),
    *,
    limits: Limits = DEFAULT_LIMITS,
    verify: bool = False,
    remote: RemoteOptions | None = None,
    head_start: HeadStart | None = None,
) -> MainWindow:
    """The window, loading `paths`; `head_start`: the first one's load, begun already."""
    window = MainWindow(limits=limits, verify=verify, remote=remote, head_start=head_start)
    if paths:
        # after show(), so the window is up and responsive while the first load runs
        QTimer.singleShot(0, lambda: window.open_paths(list(paths)))
    return window


def main(
    paths: Sequence[str] | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    verify: bool = False,
    remote: RemoteOptions | None = None,
    head_start: HeadStart | None = None,
) -> int:
    """Open a window on `paths` (none: an empty window) and run the event loop."""
    if paths is None:
        paths = sys.argv[1:]
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    configure(app)
    window = create_window(
        list(paths), limits=limits, verify=verify, remote=remote, head_start=head_start
    )
    window.show()
    return app.exec()


def open_sample() -> int:
    """Open the bundled sample image (what the README's run command does)."""
    return main([str(SAMPLE)])


if __name__ == "__main__":
    sys.exit(main())
