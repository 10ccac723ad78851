"""Work off the GUI thread (gui/tasks.py) ends with the window: cancelled, waited for, silent."""

from __future__ import annotations

import threading
import time

import shiboken6
from PySide6.QtCore import QThreadPool
from pytestqt.qtbot import QtBot

from layerscope.errors import Cancelled
from layerscope.gui import tasks
from layerscope.gui.main_window import MainWindow
from layerscope.gui.tasks import Latest, Task, TaskSignals


def test_closing_the_window_cancels_every_running_task_and_leaves_no_thread(
    qtbot: QtBot,
) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    running = threading.Event()
    stopped_by_cancel: list[bool] = []

    def long_layout(task: Task) -> None:  # like the Size Map's layout: polls its cancel
        running.set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if task.cancelled():
                stopped_by_cancel.append(True)
                raise Cancelled()
            time.sleep(0.005)

    # a pane's Latest, not the window's own loader or extractor
    Latest().start(long_layout, done=lambda _r: None, failed=lambda _m: None)
    assert running.wait(5)
    start = time.monotonic()
    w.close()
    assert time.monotonic() - start < 1.0
    assert stopped_by_cancel == [True]
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    assert not tasks._running


def test_a_task_whose_listener_is_gone_finishes_without_a_word(qtbot: QtBot) -> None:
    """At exit Qt deletes every QObject still alive: the task must not raise into Qt."""
    task = Task(lambda _task: 42)
    shiboken6.delete(task.signals)
    task.run()  # in this thread: anything it raised would fail the test


def test_a_deleted_signals_object_is_really_gone(qtbot: QtBot) -> None:
    """The case above is real: emitting on a deleted signals object raises RuntimeError."""
    signals = TaskSignals()
    shiboken6.delete(signals)
    try:
        signals.done.emit(1)
    except RuntimeError:
        return
    raise AssertionError("emit on a deleted QObject did not raise")
