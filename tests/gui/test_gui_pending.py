"""An image still loading shows at once: its layers and config from the manifest and the
config, the file tree saying how far the read is; the full analysis replaces it when the
load is done. The load is held at a stage of the real loader, so each test acts mid-load
whatever the machine's speed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from guitest_support import corpus_file
from heartbeat import Heartbeat
from PySide6.QtCore import Qt, QThreadPool
from pytestqt.qtbot import QtBot

import layerscope.gui.worker as worker_module
from layerscope.gui.main_window import MainWindow, Tab
from layerscope.gui.models.images import PendingIndexRole
from layerscope.gui.models.layers import Col
from layerscope.load import Progress


@dataclass
class Stage:
    """Hold the worker at the first progress whose stage contains `text`."""

    text: str = "layer 3 of"
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stage]:
    state = Stage()
    real = worker_module.load

    def held_load(paths, *, progress=None, cancel=None, **kwargs):  # type: ignore[no-untyped-def]
        def step(p: Progress) -> None:
            if progress is not None:
                progress(p)
            if state.text in p.stage and not state.reached.is_set():
                state.reached.set()
                deadline = time.monotonic() + 10
                while not state.release.is_set() and not (cancel is not None and cancel()):
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.005)

        # no cache: every layer is read, so "layer 3 of 11" comes on every run
        return real(paths, progress=step, cancel=cancel, **{**kwargs, "cache": None})

    monkeypatch.setattr(worker_module, "load", held_load)
    yield state
    state.release.set()


def open_and_hold(qtbot: QtBot, window: MainWindow, stage: Stage, name: str) -> None:
    window.open_paths([str(corpus_file("podman", name))])
    qtbot.waitUntil(stage.reached.is_set, timeout=10_000)
    qtbot.waitUntil(lambda: stage.text in window.files.loading.stage.text(), timeout=5000)


def test_the_layers_show_before_the_load_is_done_then_the_analysis_replaces_them(
    qtbot: QtBot, window: MainWindow, stage: Stage
) -> None:
    open_and_hold(qtbot, window, stage, "app-docker.tar")
    assert window.is_loading
    assert window.analysis.images == []  # nothing is analysed yet
    assert window.stack.currentIndex() == 1  # the main view, not the welcome page
    # the images list: the image being read, selected
    images = window.sidebar.images_model
    current = window.sidebar.images_view.currentIndex()
    assert images.data(current, PendingIndexRole) == 0
    assert images.data(current) == "localhost/lscorpus/app:1"
    assert images.data(current.siblingAtColumn(4)) == "reading…"
    # the layers table: every layer, its command and stored size; its files still unknown
    layers = window.sidebar.layers_model
    assert layers.rowCount() == 11
    assert layers.data(layers.index(2, Col.COMMAND)).startswith("RUN dd if=/dev/urandom")
    assert layers.data(layers.index(2, Col.COMPRESSED)) == "520 KiB"
    assert layers.data(layers.index(2, Col.SIZE)) == "…"
    assert layers.data(layers.index(2, Col.ADDED)) == ""
    # the file tree says how far the read is
    assert window.files.is_pending
    assert "layer 3 of 11" in window.files.loading.stage.text()
    assert window.files.loading.bar.maximum() == 1000
    # the Image tab shows the config, the history included
    html = window.image_pane.browser.toPlainText()
    assert "httpd" in html
    assert "RUN rm /tmp/build-cache.bin" in html
    # the selected layer's details: its command and descriptor
    window.select_layer(5)
    details = window.sidebar.layer_details.toPlainText()
    assert "Layer 5" in details
    assert "mkdir -p /opt/tool/lib" in details
    assert not window.commands.export_report.isEnabled()
    # the tabs with nothing to show yet are disabled; Files and Image are not
    assert window.tabs.isTabEnabled(Tab.FILES)
    assert window.tabs.isTabEnabled(Tab.IMAGE)
    assert not window.tabs.isTabEnabled(Tab.WASTE)
    assert "every layer is read" in window.tabs.tabToolTip(Tab.WASTE)
    window.show_tab(Tab.WASTE)
    assert window.tabs.currentIndex() == Tab.FILES

    with qtbot.waitSignal(window.loadFinished, timeout=20_000):
        stage.release.set()
    assert len(window.analysis.images) == 1
    assert window.image_index == 0
    assert not window.files.is_pending
    assert window.sidebar.images_model.rowCount() == 1  # the pending row went with the load
    assert window.current_layer() == 5  # the layer chosen while it loaded stays chosen
    assert layers.data(layers.index(5, Col.ADDED)) == "11"
    assert window.files.model.rowCount() > 0
    assert window.commands.export_report.isEnabled()
    assert all(window.tabs.isTabEnabled(i) for i in range(window.tabs.count()))


def test_cancel_mid_read_takes_the_pending_image_away(
    qtbot: QtBot, window: MainWindow, stage: Stage
) -> None:
    open_and_hold(qtbot, window, stage, "app-docker.tar")
    with qtbot.waitSignal(window.loadCancelled, timeout=2000):
        window.cancel_load()
    assert window.stack.currentIndex() == 0  # nothing open: the welcome page again
    assert window.sidebar.images_model.rowCount() == 0
    assert window.sidebar.layers_model.rowCount() == 0
    assert not window.files.is_pending
    QThreadPool.globalInstance().waitForDone(2000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def test_closing_the_image_still_loading_cancels_its_load(
    qtbot: QtBot, window: MainWindow, stage: Stage
) -> None:
    window.show_tab(Tab.WASTE)
    open_and_hold(qtbot, window, stage, "app-docker.tar")
    assert window.tabs.currentIndex() == Tab.FILES  # the Wasted tab has nothing yet
    assert window.commands.close.isEnabled()
    with qtbot.waitSignal(window.loadCancelled, timeout=2000):
        window.commands.close.trigger()
    assert window.analysis.images == []
    assert window.stack.currentIndex() == 0
    assert window.tabs.isTabEnabled(Tab.WASTE)


def test_an_open_image_chosen_mid_load_stays_chosen(
    qtbot: QtBot, window: MainWindow, stage: Stage
) -> None:
    stage.text = "never"
    with qtbot.waitSignal(window.loadFinished, timeout=20_000):
        window.open_paths([str(corpus_file("podman", "worker-docker.tar"))])
    stage.text = "layer 3 of"
    open_and_hold(qtbot, window, stage, "app-docker.tar")
    assert window.pending_image == 0
    assert window.image_index == -1
    # the user goes back to the image already open, then cancels nothing: the load ends
    window.sidebar.select_image(0)
    assert window.image_index == 0
    assert window.pending_image == -1
    assert not window.files.is_pending
    assert window.sidebar.layers_model.rowCount() == 3
    # the pending image can be chosen again from the list
    window.sidebar.select_pending(0)
    assert window.pending_image == 0
    assert window.files.is_pending
    window.sidebar.select_image(0)
    with qtbot.waitSignal(window.loadFinished, timeout=20_000):
        stage.release.set()
    assert len(window.analysis.images) == 2
    assert window.image_index == 0  # not taken away to the new image
    assert window.analysis.images[0].ref == "localhost/lscorpus/worker:1"


def test_the_pending_image_stalls_nothing(qtbot: QtBot, window: MainWindow, stage: Stage) -> None:
    """The outline arriving and walking its layers keep the event loop free (the long
    image: a 1,374-character command). The best of three tries: a busy machine delays a
    tick now and then, a stall the code causes happens every time."""
    stage.text = "layer 2 of"
    heart = Heartbeat()
    window.show_tab(Tab.FILES)
    tries = []
    for _ in range(3):
        stage.reached.clear()
        stalls = [
            heart.measure(
                lambda: open_and_hold(qtbot, window, stage, "longrun-docker.tar"),
                until=lambda: window.files.is_pending,
            )
        ]
        stalls += [heart.measure(lambda n=n: window.select_layer(n)) for n in (0, 1, 2, 1)]
        tries.append(max(stalls))
        with qtbot.waitSignal(window.loadCancelled, timeout=2000):
            window.cancel_load()
    assert min(tries) < 100, tries


def test_keyboard_walks_the_pending_layers(qtbot: QtBot, window: MainWindow, stage: Stage) -> None:
    open_and_hold(qtbot, window, stage, "app-docker.tar")
    window.sidebar.layers_view.setFocus()
    window.select_layer(0)
    qtbot.keyClick(window.sidebar.layers_view, Qt.Key.Key_Down)
    assert window.current_layer() == 1
    assert "Layer 1" in window.sidebar.layer_details.toPlainText()
    stage.release.set()
    qtbot.waitUntil(lambda: not window.is_loading, timeout=20_000)
    assert window.current_layer() == 1
