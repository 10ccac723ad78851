"""The window's remote sources: Open from Engine on a real podman store, Open from Registry
on the real registry, and a registry:// load through the window's loader."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from conftest import APP, APP_OCI, MULTI, Registries  # noqa: E402

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QCoreApplication, QSettings, QThreadPool  # noqa: E402

from layerscope.remote import RemoteOptions  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, qapp: object) -> Iterator[None]:
    QCoreApplication.setOrganizationName("layerscope-tests")
    QCoreApplication.setApplicationName("layerscope-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    yield
    QThreadPool.globalInstance().waitForDone(10_000)


def test_open_from_engine_lists_filters_and_opens(
    qtbot, podman_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from layerscope.gui.remote_dialogs import EngineDialog

    for key in ("CONTAINERS_STORAGE_CONF", "CONTAINERS_CONF"):
        monkeypatch.setenv(key, podman_env[key])
    opened: list[list[str]] = []
    dialog = EngineDialog(None, opened.append)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.listed, timeout=20_000):
        dialog.show_for()
    assert dialog.proxy.rowCount() >= 1
    refs = [dialog.proxy.index(r, 0).data() for r in range(dialog.proxy.rowCount())]
    assert "localhost/lscorpus/app:1" in refs
    assert dialog.proxy.index(0, 2).data().endswith("MiB")

    dialog.filter.setText("no-such-image")
    assert dialog.proxy.rowCount() == 0
    dialog.filter.setText("LSCORPUS/APP")  # case-insensitive, any column
    assert dialog.proxy.rowCount() == 1
    dialog.table.selectRow(0)
    dialog.accept()
    assert opened == [["podman://localhost/lscorpus/app:1"]]


def test_engine_dialog_shows_a_missing_engine(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from layerscope.gui.remote_dialogs import EngineDialog

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    dialog = EngineDialog(None, lambda sources: None)
    qtbot.addWidget(dialog)
    dialog.engine.blockSignals(True)
    dialog.engine.setCurrentIndex(1)  # Docker
    dialog.engine.blockSignals(False)
    with qtbot.waitSignal(dialog.listed, timeout=10_000):
        dialog.refresh()
    assert "no Docker engine" in dialog.status.text()
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Open).isEnabled()


def test_open_from_registry_offers_the_platforms(qtbot, registries: Registries) -> None:  # type: ignore[no-untyped-def]
    from layerscope.gui.remote_dialogs import RegistryDialog

    chosen: list[tuple[str, RemoteOptions]] = []
    dialog = RegistryDialog(None, lambda source, options: chosen.append((source, options)))
    qtbot.addWidget(dialog)
    host = registries.open.host
    dialog.reference.setText(f"{host}/{MULTI}")
    dialog.insecure.setChecked(True)
    with qtbot.waitSignal(dialog.platforms_listed, timeout=10_000):
        dialog.list_platforms()
    items = [dialog.platform.itemData(i) for i in range(dialog.platform.count())]
    assert items == [None, "linux/amd64", "linux/arm64", "all"]
    dialog.platform.setCurrentIndex(items.index("linux/arm64"))
    dialog.accept()
    source, options = chosen[0]
    assert source == f"registry://{host}/{MULTI}"
    assert options.platform == "linux/arm64"
    assert options.insecure(host)


def test_window_loads_a_registry_image(qtbot, registries: Registries) -> None:  # type: ignore[no-untyped-def]
    from layerscope.gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    host = registries.open.host
    source = f"registry://{host}/{APP_OCI}"
    with qtbot.waitSignal(window.loadFinished, timeout=30_000):
        window.open_paths([source], remote=RemoteOptions(insecure_registries=(host,)))
    assert [a.path for a in window.analysis.archives] == [source]
    assert window.analysis.images[0].refs == [f"{host}/{APP_OCI}"]
    assert len(window.analysis.images[0].layers) == 11
    window.close()


def test_the_viewer_reads_a_file_of_a_registry_image(qtbot, registries: Registries) -> None:  # type: ignore[no-untyped-def]
    """Its layer blob is fetched again (with the options it was loaded with) to show it."""
    from layerscope.gui.main_window import MainWindow, Tab

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    host = registries.open.host
    with qtbot.waitSignal(window.loadFinished, timeout=30_000):
        window.open_paths(
            [f"registry://{host}/{APP}"], remote=RemoteOptions(insecure_registries=(host,))
        )
    window.select_layer(1)
    window.show_tab(Tab.FILES)
    assert window.files.reveal("/srv/app/site/index.html")
    viewer = window.files.viewer
    window.files.show_contents_tab()
    qtbot.waitUntil(
        lambda: viewer.page is not None or "Could not" in viewer.note.text(), timeout=10_000
    )
    assert viewer.page is not None, viewer.note.text()
    assert viewer.page.size == 224
    assert viewer.page.text is not None
    assert "<html" in viewer.page.text.lower()
    window.close()
