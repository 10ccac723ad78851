"""The window under awkward use (issue 4): broken inputs in a batch, repeats, many archives,
cancel and close mid-load. No crash, no thread left behind, the event loop keeps running."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from guitest_support import corpus_file
from PySide6.QtCore import QThreadPool, QTimer
from pytestqt.qtbot import QtBot

from layerscope.gui.main_window import MainWindow

LOAD_TIMEOUT = 120_000

TEN = [
    ("podman", "app-docker.tar"),
    ("podman", "app-docker.tar.gz"),
    ("podman", "app-oci.tar"),
    ("podman", "app-oci-zstd.tar"),
    ("podman", "app-oci-layout"),
    ("podman", "app-docker-dir"),
    ("podman", "multi-docker.tar"),
    ("podman", "worker-docker.tar"),
    ("podman", "hello-multiarch-oci.tar"),
    ("peer-dive", "test-docker-image.tar"),
]


def wait_idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.is_loading, timeout=LOAD_TIMEOUT)
    QThreadPool.globalInstance().waitForDone(10_000)


def test_a_broken_archive_in_a_batch_does_not_stop_the_others(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.tar"
    broken.write_bytes(os.urandom(8192))
    good = [corpus_file("podman", "app-docker.tar"), corpus_file("podman", "worker-docker.tar")]
    window.open_paths([str(good[0]), str(broken), str(good[1])])
    wait_idle(qtbot, window)
    assert [a.path for a in window.analysis.archives] == [str(p) for p in good]
    assert "broken.tar" in window.last_error
    assert window.error_dialog is not None
    assert len(window.analysis.sharing.layers) == 1  # the two good ones were analysed together


def test_opening_the_same_file_twice_keeps_one_copy(qtbot: QtBot, window: MainWindow) -> None:
    path = corpus_file("podman", "app-docker.tar")
    same = os.path.join(os.path.dirname(path), ".", os.path.basename(path))
    window.open_paths([str(path), str(path)])  # twice in one call
    wait_idle(qtbot, window)
    window.open_paths([same])  # again, spelt differently
    wait_idle(qtbot, window)
    assert len(window.analysis.archives) == 1
    assert len(window.analysis.images) == 1
    assert "already open" in window.statusBar().currentMessage()


def test_ten_archives_load_while_the_event_loop_keeps_running(
    qtbot: QtBot, window: MainWindow
) -> None:
    paths = [str(corpus_file(*p)) for p in TEN]
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    window.open_paths(paths)
    wait_idle(qtbot, window)
    timer.stop()
    assert [a.path for a in window.analysis.archives] == paths
    assert len(window.analysis.images) == 12  # multi-docker and hello-multiarch hold two each
    assert len(ticks) > 5  # the window's event loop ran throughout the batch
    # sharing covers every open image: the busybox base is in six app/worker images
    base = max(window.analysis.sharing.layers, key=lambda s: len(s.images))
    assert len(base.images) >= 6


def test_cancel_in_the_middle_of_a_batch(
    qtbot: QtBot, window: MainWindow, slow_load: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [str(corpus_file(*p)) for p in TEN[:3]]
    with qtbot.waitSignal(window.loadCancelled, timeout=LOAD_TIMEOUT):
        window.open_paths(paths)
        QTimer.singleShot(100, window.cancel_load)
    wait_idle(qtbot, window)
    assert len(window.analysis.archives) < 3
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    monkeypatch.undo()  # the loader at full speed again (slowed, this load took 18 s)
    window.open_paths([paths[2]])  # still usable
    wait_idle(qtbot, window)
    assert window.analysis.archives[-1].path == paths[2]


def test_closing_in_the_middle_of_a_batch_leaves_no_thread(qtbot: QtBot, slow_load: None) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.open_paths([str(corpus_file(*p)) for p in TEN[:4]])
    qtbot.wait(120)
    w.close()
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def test_every_failure_of_a_batch_is_listed(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.tar", tmp_path / "second.tar"
    first.write_bytes(b"not an archive" * 100)
    second.write_bytes(b"")
    window.open_paths([str(first), str(second)])
    wait_idle(qtbot, window)
    assert window.error_dialog is not None
    lines = window.error_dialog.informativeText().splitlines()
    assert len(lines) == 2
    assert "first.tar" in lines[0]
    assert "second.tar: empty file" in lines[1]


def test_limits_given_to_the_window_bound_its_loads(qtbot: QtBot) -> None:
    from layerscope.limits import Limits

    w = MainWindow(limits=Limits(max_entries=5))
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loadFailed, timeout=LOAD_TIMEOUT) as blocker:
        w.open_paths([str(corpus_file("podman", "app-docker.tar"))])
    assert "more than 5 entries" in blocker.args[0]
    assert "--limit max_entries=N" in blocker.args[0]
    w.close()
