"""Open archives in the real window and print, as JSON, how it sits on its screen.

    QT_QPA_PLATFORM=offscreen:configfile=SCREEN.json QT_SCALE_FACTOR=2 \\
        python tests/gui/fit_probe.py [--geometry W H] ARCHIVE...

Run in its own process by test_gui_layout.py: the screen size and the scale factor are fixed
when a QApplication starts. The window steps through every layer of the first image, then
shows every tab; the JSON holds the available screen area, the window's frame after each
layer and each tab, and each pane's width beside its minimum width. Settings live in a
temporary folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from layerscope.gui.app import configure
from layerscope.gui.main_window import MainWindow


def spin(ms: int = 20) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def rect(r: object) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]  # type: ignore[attr-defined]


def panes(window: MainWindow) -> dict[str, list[int]]:
    """name -> [width, minimum width] of each pane the user reads."""
    widgets: dict[str, QWidget] = {
        "sidebar": window.sidebar,
        "tabs": window.tabs,
        "layers": window.sidebar.layers_view,
        "tree": window.files.tree,
        "layer_details": window.sidebar.layer_details,
    }
    return {
        name: [w.width(), max(w.minimumSizeHint().width(), w.minimumWidth())]
        for name, w in widgets.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("archives", nargs="+")
    parser.add_argument("--geometry", nargs=2, type=int, help="saved window size to restore")
    args = parser.parse_args()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QApplication(sys.argv[:1])
    configure(app)
    if args.geometry:
        big = MainWindow()
        big.setGeometry(0, 0, *args.geometry)  # as a bigger screen or scale left it
        QSettings().setValue("window/geometry", big.saveGeometry())
        big.deleteLater()
    window = MainWindow()
    window.show()
    loop = QEventLoop()
    window.loadFinished.connect(loop.quit)
    window.loadFailed.connect(lambda message: sys.exit(f"cannot open: {message}"))
    window.open_paths(args.archives)
    loop.exec()
    spin(50)
    screen = window.screen()
    out: dict[str, object] = {
        "available": rect(screen.availableGeometry()),
        "scale": screen.devicePixelRatio(),
        "minimum": [window.minimumSizeHint().width(), window.minimumSizeHint().height()],
        "layers": [],
    }
    for layer in range(window.sidebar.layers_model.rowCount()):
        window.select_layer(layer)
        spin()
        out["layers"].append(  # type: ignore[attr-defined]
            {"frame": rect(window.frameGeometry()), "panes": panes(window)}
        )
    # Every tab, shown once: a pane taller than the screen must scroll, not grow the window.
    out["tabs"] = []
    for tab in range(window.tabs.count()):
        window.tabs.setCurrentIndex(tab)
        spin()
        out["tabs"].append({"tab": tab, "frame": rect(window.frameGeometry())})  # type: ignore[attr-defined]
    window.close()
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
