"""Measure how long the event loop stalls: a QTimer ticks every few milliseconds and the
longest gap between two ticks, less the interval, is the longest the loop was blocked.

Used by the GUI tests (a stall over 100 ms on a big input is a bug) and by
benchmarks/gui_responsiveness.py. It measures the loop, not a wall-clock bound on a whole
action: a long action that keeps the loop running (work in a worker, in slices) is fine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, Qt, QTimer

INTERVAL_MS = 5


class Heartbeat:
    def __init__(self, interval_ms: int = INTERVAL_MS):
        self.interval_ms = interval_ms
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.longest_ms = 0.0
        self.ticks = 0

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000 - self.interval_ms
        self.longest_ms = max(self.longest_ms, gap)
        self._last = now
        self.ticks += 1

    def start(self) -> None:
        self.longest_ms = 0.0
        self.ticks = 0
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        self._tick()  # a stall at the very end counts too
        return self.longest_ms

    def measure(
        self,
        action: Callable[[], object],
        *,
        until: Callable[[], bool] | None = None,
        settle_ms: int = 150,
        timeout_s: float = 120.0,
    ) -> float:
        """Run `action` from the event loop, keep the loop running until `until()` holds
        (if given) and then `settle_ms` more (layouts, repaints, deferred work), and return
        the longest stall in milliseconds."""
        self.start()
        QTimer.singleShot(0, action)
        deadline = time.monotonic() + timeout_s
        while until is not None and not until():
            if time.monotonic() > deadline:
                raise TimeoutError("the action did not finish")
            spin(10)
        spin(settle_ms)
        return self.stop()


def spin(ms: int) -> None:
    """Run the event loop for `ms` milliseconds."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
