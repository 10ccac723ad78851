"""pytest-qt fixtures for the GUI tests: offscreen platform, isolated settings, the corpus."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QCoreApplication, QSettings, QThreadPool  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory, qapp: object) -> Iterator[None]:
    """Never read or write the user's real settings (recent files, window state)."""
    folder = tmp_path_factory.mktemp("settings")
    QCoreApplication.setOrganizationName("layerscope-tests")
    QCoreApplication.setApplicationName("layerscope-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield
    QThreadPool.globalInstance().waitForDone(10_000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    # Collect Qt wrappers caught in reference cycles while the QApplication is alive:
    # left to interpreter shutdown, PySide 6.12 can abort on them (bool_dealloc).
    gc.collect()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete what is pending while Qt is still up (see the note in the fixture above)."""
    from PySide6.QtCore import QEvent

    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def window(qtbot):  # type: ignore[no-untyped-def]
    """A shown main window, closed (and its loads cancelled) at the end of the test."""
    from layerscope.gui.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


@pytest.fixture
def slow_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every progress step of the real loader take 50 ms, so a load can be caught."""
    import time

    import layerscope.gui.worker as worker_module

    real = worker_module.load

    def slow(paths, *, progress=None, cancel=None, **kwargs):  # type: ignore[no-untyped-def]
        def step(p):  # type: ignore[no-untyped-def]
            time.sleep(0.05)
            if progress is not None:
                progress(p)

        return real(paths, progress=step, cancel=cancel, **kwargs)

    monkeypatch.setattr(worker_module, "load", slow)
