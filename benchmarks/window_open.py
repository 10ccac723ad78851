"""The window on a big image: open-to-interactive time and event-loop stalls. Never asserts.

    QT_QPA_PLATFORM=offscreen python benchmarks/window_open.py ARCHIVE [--started EPOCH]

Run by bench.py as a child process with `--started` set to the wall clock just before it
spawned the process, so the figure covers what `layerscope open ARCHIVE` covers: start-up,
imports, the load, and the first tree. Prints one JSON line:

    interactive_s   from --started to the window showing the image with its file tree filled
    load_gap_ms     the longest the event loop went without running a 10 ms timer while loading
    show_ms         how long the window held the loop taking in the loaded analysis
    actions         per action (layer changes, mode switch, filter, tabs): how long it held
                    the event loop (the call, the events it queued and a repaint)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--started", type=float, default=None)
    args = parser.parse_args()
    started = args.started if args.started is not None else time.time()

    # What `layerscope open ARCHIVE` does (cli/open_cmd.py), in its order: the readers'
    # fork server starts and the archive's load begins, then Qt is imported. (Imported
    # here, not at the top: the fork server runs this file as its __main__ and needs none
    # of it.)
    from layerscope.gui.head_start import begin
    from layerscope.limits import DEFAULT_LIMITS

    head_start = begin([args.archive], limits=DEFAULT_LIMITS, verify=False)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from layerscope.gui.app import configure, create_window
    from layerscope.view.tree import TreeMode

    app = QApplication(sys.argv[:1])
    configure(app)
    window = create_window([args.archive], head_start=head_start)
    window.resize(1400, 900)
    window.show()

    gaps: list[tuple[float, float]] = []  # (gap ms, seconds since the window was shown)
    shown = time.perf_counter()
    last = [shown]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(((now - last[0]) * 1000 - 10, now - shown))
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    result: dict[str, object] = {}

    def loaded() -> None:
        # The window took in the result (merged it, filled its models) in the handler that
        # ends with loadFinished, here: the loop has not run since the last tick. Measured
        # before anything else runs (events processed here would tick the timer first).
        show_ms = (time.perf_counter() - last[0]) * 1000 - 10
        app.processEvents()
        rows = window.files.model.rowCount()
        result["interactive_s"] = time.time() - started
        result["tree_rows"] = rows
        timer.stop()
        result["show_ms"] = round(max(show_ms, 0.0), 1)
        # every earlier gap is the loop during the load
        result["load_gap_ms"] = round(max(gaps, default=(0.0, 0.0))[0], 1)
        QTimer.singleShot(0, run_actions)

    def held(action: object) -> float:
        start = time.perf_counter()
        action()  # type: ignore[operator]
        app.processEvents()
        window.files.tree.viewport().repaint()
        return round((time.perf_counter() - start) * 1000, 1)

    def run_actions() -> None:
        try:
            measure_actions()
        finally:
            app.quit()

    def measure_actions() -> None:
        actions: dict[str, float] = {}
        layers = len(window.analysis.images[0].layers)
        for k in range(layers):
            actions[f"select layer {k}"] = held(lambda k=k: window.select_layer(k))
        actions["switch to filesystem view"] = held(lambda: window.set_mode(TreeMode.FILESYSTEM))
        for k in (0, layers - 1):
            actions[f"filesystem at layer {k}"] = held(lambda k=k: window.select_layer(k))
        window.files.filter_edit.setText("gen1*")
        actions["filter gen1*"] = held(window.files.apply_filter)
        window.files.filter_edit.setText("")
        actions["clear filter"] = held(window.files.apply_filter)
        actions["switch to changes view"] = held(lambda: window.set_mode(TreeMode.CHANGES))
        for tab in range(window.tabs.count()):
            actions[f"tab {window.tabs.tabText(tab)}"] = held(
                lambda tab=tab: window.tabs.setCurrentIndex(tab)
            )
        result["actions"] = actions
        print(json.dumps(result), flush=True)

    window.loadFinished.connect(loaded)
    app.exec()
    return 0 if "actions" in result else 1


if __name__ == "__main__":
    raise SystemExit(main())
