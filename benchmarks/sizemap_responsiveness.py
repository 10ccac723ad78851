"""Does the Size Map, the Packages tab or File > Export Report stall the window on a big
image? Prints medians; never asserts.

    QT_QPA_PLATFORM=offscreen python benchmarks/sizemap_responsiveness.py [--runs 3]

On the 180,000-file benchmark image (synthetic.big_image, built once under
benchmarks/.cache/), a 5 ms QTimer heartbeat runs while each action happens; the longest gap
between two ticks (less the 5 ms) is how long the window could not repaint or take a key.
Below ~100 ms a user does not notice. The baseline is the idle heartbeat, measured in the
same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import synthetic  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from layerscope.gui.app import configure  # noqa: E402
from layerscope.gui.main_window import MainWindow, Tab  # noqa: E402
from layerscope.view.tree import TreeMode  # noqa: E402
from layerscope.view.treemap import Colouring, walk  # noqa: E402
from tests.gui.heartbeat import Heartbeat, spin  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"


def one_run(path: Path, heart: Heartbeat, results: dict[str, list[float]]) -> None:
    def measure(name: str, action: Callable[[], object], **kw: object) -> None:
        kw.setdefault("until", laid_out)  # the map is laid out in a worker: until it is shown
        results.setdefault(name, []).append(heart.measure(action, **kw))  # type: ignore[arg-type]

    def laid_out() -> bool:
        return not window.size_map.treemap.laying_out

    measure("baseline: idle event loop for 1 s", lambda: None, settle_ms=1000, until=None)
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    spin(200)
    loaded: list[bool] = []
    window.loadFinished.connect(lambda: loaded.append(True))
    window.open_paths([str(path)])
    while not loaded:
        spin(50)
    pane = window.size_map
    measure("show the Size Map tab", lambda: window.show_tab(Tab.SIZE_MAP), settle_ms=300)
    layers = len(window.analysis.images[0].layers)
    for mode in (TreeMode.FILESYSTEM, TreeMode.CHANGES):
        window.set_mode(mode)
        spin(300)
        worst = max(
            heart.measure(lambda k=k: window.select_layer(k), until=laid_out, settle_ms=300)
            for k in [*range(layers), 0]
        )
        results.setdefault(f"switch layer, {mode.value} (worst of {layers + 1})", []).append(worst)
    window.set_mode(TreeMode.FILESYSTEM)
    window.select_layer(layers - 1)
    spin(300)
    for colouring in (Colouring.WASTE, Colouring.LAYER, Colouring.CHANGE):
        box = pane.colour_box
        measure(
            f"colour {colouring.label.lower()}",
            lambda c=colouring, b=box: b.setCurrentIndex(b.findData(c)),
            settle_ms=300,
        )
    biggest = max(
        (t for t in walk(pane.treemap.tiles) if t.is_dir and t.node is not None),
        key=lambda t: t.size,
    )
    measure("zoom into the largest directory", lambda: pane.treemap.set_root(biggest.node))
    measure("zoom back to /", pane.treemap.zoom_top, settle_ms=300)
    measure("resize the window", lambda: window.resize(1100, 760), settle_ms=400)
    measure("show the Packages tab", lambda: window.show_tab(Tab.PACKAGES))
    exported: list[str] = []
    window.reporter.exported.connect(exported.append)
    target = Path(tempfile.mkdtemp()) / "report.html"
    measure(
        "export the HTML report (rendered off the GUI thread)",
        lambda: window.reporter.export(str(target), window.analysis, [0], "html"),
        until=lambda: bool(exported),
    )
    sys.stdout.write(f"  (report: {target.stat().st_size / 1e6:.1f} MB)\n")
    window.close()
    window.deleteLater()
    spin(100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = QApplication(sys.argv[:1])
    configure(app)
    t = time.perf_counter()
    path = synthetic.big_image(CACHE)["docker"]
    print(f"image ready in {time.perf_counter() - t:.1f}s: {path}")
    heart = Heartbeat()
    results: dict[str, list[float]] = {}
    for _ in range(args.runs):
        one_run(path, heart, results)
    baseline = statistics.median(results.pop("baseline: idle event loop for 1 s"))
    width = max(len(name) for name in results)
    print(f"longest event-loop stall per action, median of {args.runs} run(s), in ms")
    print(f"{'baseline (idle loop, timer jitter)':<{width}}  {baseline:8.1f}")
    for name, stalls in results.items():
        median = statistics.median(stalls)
        print(f"{name:<{width}}  {median:8.1f}   {median / max(baseline, 0.1):7.0f}x baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
