"""One call off the GUI thread: a QRunnable with a separate signals object.

The call never raises into Qt: its result, its one-line error or its cancellation travel
back as signal data, queued to the GUI thread. A task can be cancelled (the call polls
`task.cancelled`, or passes it as a `cancel` callable) and can report progress. When the
window closes, `cancel_all` stops whatever still runs, so nothing outlives it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QDeadlineTimer, QObject, QRunnable, QThreadPool, Signal, SignalInstance

from layerscope.errors import Cancelled, LayerscopeError

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.05  # seconds between progress signals
SHUTDOWN_WAIT_MS = 800  # closing waits this long at most for cancelled tasks to stop

# The tasks started and not yet finished (a set's add and discard are atomic under the GIL).
_running: set[Task] = set()


class TaskSignals(QObject):
    done = Signal(object)  # the call's result
    failed = Signal(str)  # one line
    cancelled = Signal()
    progress = Signal(int, int)  # done, total


class Task(QRunnable):
    """Runs `call(task)` once in a pool thread."""

    def __init__(self, call: Callable[[Task], object]):
        super().__init__()
        self.call = call
        self.signals = TaskSignals()
        self._cancel = threading.Event()
        self._last_progress = 0.0
        self.setAutoDelete(True)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL or done >= total:
            self._last_progress = now
            tell(self.signals.progress, done, total)

    def run(self) -> None:
        signals = self.signals
        try:
            result = self.call(self)
        except Cancelled:
            tell(signals.cancelled)
        except LayerscopeError as exc:
            tell(signals.failed, str(exc))
        except OSError as exc:
            tell(signals.failed, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        except Exception as exc:  # a bug must not kill the app or the thread
            log.exception("task failed")
            tell(signals.failed, f"unexpected error: {type(exc).__name__}: {exc}")
        else:
            if self.cancelled():
                tell(signals.cancelled)
            else:
                tell(signals.done, result)
        finally:
            _running.discard(self)


def tell(signal: SignalInstance, *args: object) -> None:
    """Emit, unless the signals object is already gone: at exit Qt deletes every QObject
    still alive, and a task that outlived the window has nobody left to tell."""
    try:
        signal.emit(*args)
    except RuntimeError:
        pass


def start(task: Task) -> Task:
    _running.add(task)
    QThreadPool.globalInstance().start(task)
    return task


def cancel_all(wait_ms: int = SHUTDOWN_WAIT_MS) -> bool:
    """The window is closing: cancel every running task and wait up to `wait_ms` for the
    pool's threads. True when they all stopped in time."""
    for task in list(_running):
        task.cancel()
    return QThreadPool.globalInstance().waitForDone(QDeadlineTimer(wait_ms))


class Latest:
    """Keeps only the newest of a series of tasks (a selection that moves on): starting one
    cancels the one before, and only the newest's signals reach the handlers."""

    def __init__(self) -> None:
        self._task: Task | None = None

    def start(
        self,
        call: Callable[[Task], object],
        done: Callable[[Any], None],
        failed: Callable[[str], None],
        progress: Callable[[int, int], None] | None = None,
    ) -> Task:
        self.cancel()
        task = Task(call)
        self._task = task
        task.signals.done.connect(lambda r, t=task: self._if_current(t, done, r))
        task.signals.failed.connect(lambda m, t=task: self._if_current(t, failed, m))
        task.signals.cancelled.connect(lambda t=task: self._finished(t))
        if progress is not None:
            task.signals.progress.connect(
                lambda d, n, t=task: progress(d, n) if t is self._task else None
            )
        return start(task)

    def _if_current(self, task: Task, handler: Callable[[Any], None], value: object) -> None:
        if task is self._task:
            self._task = None
            handler(value)

    def _finished(self, task: Task) -> None:
        if task is self._task:
            self._task = None

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    @property
    def running(self) -> bool:
        return self._task is not None
