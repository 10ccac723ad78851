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
