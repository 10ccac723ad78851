"""Cancel and close while a load runs, in each of its phases (issue 7, defect 4).

The worker is held at the first progress report of a phase until the test has acted (or
the load is cancelled), so each test acts in the phase it names, whatever the machine's
speed. The core must then notice the cancel at its next poll: nothing of a later phase
may run, and the window hears of it within a second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from guitest_support import corpus_file
from PySide6.QtCore import Qt, QThreadPool
from pytestqt.qtbot import QtBot

import layerscope.gui.worker as worker_module
from layerscope.gui.main_window import MainWindow
from layerscope.load import Progress

PHASES = ("Reading", "Applying", "Analysing")
LATER = {"Reading": ("Applying", "Analysing"), "Applying": ("Analysing",), "Analysing": ()}


@dataclass
class Hold:
    phase: str = ""
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    stages: list[str] = field(default_factory=list)

    def later_stages(self) -> list[str]:
        return [s for s in self.stages if s.startswith(LATER[self.phase])]


@pytest.fixture
def hold(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hold]:
    """Hold the worker at the first progress of `hold.phase` until released or cancelled."""
    state = Hold()
    real = worker_module.load

    def held_load(paths, *, progress=None, cancel=None, **kwargs):  # type: ignore[no-untyped-def]
        def step(p: Progress) -> None:
            state.stages.append(p.stage)
            if progress is not None:
                progress(p)
            if p.stage.startswith(state.phase) and not state.reached.is_set():
                state.reached.set()
                deadline = time.monotonic() + 10
                while not state.release.is_set() and not (cancel is not None and cancel()):
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.005)

        return real(paths, progress=step, cancel=cancel, **kwargs)

    monkeypatch.setattr(worker_module, "load", held_load)
    yield state
    state.release.set()


def start_and_hold(qtbot: QtBot, window: MainWindow, hold: Hold, phase: str) -> None:
    hold.phase = phase
    window.open_paths([str(corpus_file("podman", "app-docker.tar"))])
    qtbot.waitUntil(hold.reached.is_set, timeout=10_000)
    assert window.is_loading


def timed(action: Callable[[], object]) -> float:
    start = time.monotonic()
    action()
    return time.monotonic() - start


@pytest.mark.parametrize("phase", PHASES)
def test_escape_cancels_a_load_in_each_phase(
    qtbot: QtBot, window: MainWindow, hold: Hold, phase: str
) -> None:
    window.activateWindow()
    start_and_hold(qtbot, window, hold, phase)
    assert window.commands.cancel_load.isEnabled()
    with qtbot.waitSignal(window.loadCancelled, timeout=1000):
        qtbot.keyClick(window.sidebar.layers_view, Qt.Key.Key_Escape)
    assert hold.later_stages() == []  # the core stopped in the phase it was cancelled in
    assert window.analysis.images == []
    assert not window.progress.isVisible()
    assert not window.commands.cancel_load.isEnabled()
    QThreadPool.globalInstance().waitForDone(2000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0


@pytest.mark.parametrize("phase", ["Applying", "Analysing"])
def test_closing_during_a_load_returns_at_once_and_leaves_no_thread(
    qtbot: QtBot, hold: Hold, phase: str
) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    start_and_hold(qtbot, w, hold, phase)
    assert timed(w.close) < 1.0
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    assert hold.later_stages() == []


def test_the_cancel_button_promises_esc_and_esc_clears_the_filter_first(
    qtbot: QtBot, window: MainWindow, hold: Hold
) -> None:
    assert "Esc" in window.progress.cancel_button.toolTip()
    window.activateWindow()
    hold.phase = "never"
    with qtbot.waitSignal(window.loadFinished, timeout=10_000):
        window.open_paths([str(corpus_file("podman", "worker-docker.tar"))])
    start_and_hold(qtbot, window, hold, "Reading")
    window.files.filter_edit.setFocus()
    window.files.filter_edit.setText("passwd")
    qtbot.keyClick(window.files.filter_edit, Qt.Key.Key_Escape)
    assert window.files.filter_edit.text() == ""  # the first Esc clears what you typed
    assert window.is_loading
    with qtbot.waitSignal(window.loadCancelled, timeout=1000):
        qtbot.keyClick(window.files.filter_edit, Qt.Key.Key_Escape)


@pytest.mark.parametrize("ending", ["cancelled", "failed", "finished"])
def test_a_load_that_outlives_its_window_tells_nobody(ending: str) -> None:
    """At exit Qt deletes the signals of a load still running (one stuck in a phase that
    does not poll the cancel): its end must not print a traceback."""
    import shiboken6

    from layerscope.analysis import Analysis
    from layerscope.errors import Cancelled, LayerscopeError
    from layerscope.gui.worker import LoadWorker
    from layerscope.view.session import empty

    def ends(paths: list[str], **kwargs: object) -> Analysis:
        if ending == "cancelled":
            raise Cancelled()
        if ending == "failed":
            raise LayerscopeError("x.tar: broken")
        return empty()

    worker = LoadWorker(["x.tar"], loader=ends)
    worker.setAutoDelete(False)
    shiboken6.delete(worker.signals)
    worker.run()  # raised RuntimeError: Signal source has been deleted
