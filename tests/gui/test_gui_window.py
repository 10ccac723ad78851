"""The main window end to end: real worker, real corpus archives, offscreen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from guitest_support import SAMPLE, corpus_file
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QThreadPool, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from layerscope.gui.main_window import MainWindow, Tab
from layerscope.gui.models.filetree import ChangeRole, Col
from layerscope.gui.models.shared import FIXED_COLUMNS
from layerscope.gui.models.waste import WasteCol
from layerscope.model.filesystem import Change
from layerscope.view.tree import TreeMode

LOAD_TIMEOUT = 60_000


def open_and_wait(qtbot: QtBot, window: MainWindow, *paths: Path | str) -> None:
    with qtbot.waitSignal(window.loadFinished, timeout=LOAD_TIMEOUT):
        window.open_paths([str(p) for p in paths])


def change_of(window: MainWindow, path: str) -> Change | None:
    index = window.files.model.index_for_path(path)
    return None if not index.isValid() else Change(index.data(ChangeRole))


def test_the_window_fits_a_small_screen_at_200_percent(qtbot: QtBot, window: MainWindow) -> None:
    """1280x800 at 200 % is 640x400: the welcome page's own height (~420 px with six
    recent files) was the window's minimum even with an image shown, and put the menus
    above the screen."""
    window.welcome.set_recent([f"/images/app-{i}.tar" for i in range(6)])
    assert window.minimumSizeHint().height() <= 400  # the welcome page
    open_and_wait(qtbot, window, corpus_file("podman/longrun-docker.tar"))
    for layer in range(len(window.analysis.images[0].layers)):
        window.select_layer(layer)
        hint = window.minimumSizeHint()
        assert hint.width() <= 640, (layer, hint)
        assert hint.height() <= 400, (layer, hint)


def test_empty_window_shows_the_welcome_page(window: MainWindow) -> None:
    assert window.stack.currentWidget() is window.welcome
    assert not window.commands.close.isEnabled()
    assert window.windowTitle() == "layerscope"


def test_open_app_docker_layer_3_deletes_the_build_cache(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "app-docker.tar"))
    assert window.stack.currentIndex() == 1
    assert window.sidebar.images_model.rowCount() == 1
    assert window.sidebar.layers_model.rowCount() == 11
    window.select_layer(3)
    assert window.files.model.layer == 3
    assert change_of(window, "/tmp/build-cache.bin") is Change.DELETED
    index = window.files.model.index_for_path("/tmp/build-cache.bin")
    assert index.siblingAtColumn(Col.CHANGE).data() == "deleted (whiteout)"
    # a layer with few changes opens them all in the view
    assert window.files.tree.isExpanded(index.parent())
    assert "build-cache.bin" in window.files.title.text()


def test_layer_7_shows_the_opaque_deletion(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "app-docker.tar"))
    window.select_layer(7)
    for name in ("libbig.so", "libbig.so.1", "libbig.so.link"):
        path = f"/opt/tool/lib/{name}"
        assert change_of(window, path) is Change.DELETED, path
        index = window.files.model.index_for_path(path, Col.CHANGE)
        assert index.data() == "deleted (opaque)"
    assert change_of(window, "/opt/tool/lib/README") is Change.ADDED
    assert window.sidebar.layers_model.index(7, 6).data() == "3"  # deleted count


def test_tree_mode_and_layer_keys(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "app-docker.tar"))
    window.select_layer(2)
    window.commands.next_layer.trigger()
    assert window.current_layer() == 3
    window.commands.prev_layer.trigger()
    window.commands.prev_layer.trigger()
    assert window.current_layer() == 1
    window.commands.toggle_mode.trigger()
    assert window.files.model.mode is TreeMode.FILESYSTEM
    assert window.commands.mode_fs.isChecked()
    # at layer 1, the filesystem holds the base layer's files too
    assert change_of(window, "/etc/passwd") is Change.UNCHANGED
    assert change_of(window, "/srv/app/site/index.html") is Change.ADDED
    rows = window.shortcut_rows()
    keys = {name: [k.toString() for k in ks] for name, ks in rows}
    assert len(keys) == len(rows)  # no two rows named alike ("Compare" was Ctrl+D and Ctrl+5)
    assert keys["Next Layer"] == ["Alt+Down", "Ctrl+]"]
    assert keys["Switch Tree Mode"] == ["Ctrl+T"]
    assert "Ctrl+O" in keys["Open"]
    assert keys["Compare"] == ["Ctrl+D"]
    assert keys["Compare Tab"] == ["Ctrl+5"]
    # the file tree's own keys are listed too (Space and F3 were not)
    assert keys["View Contents (file tree)"] == ["Space", "F3"]
    assert keys["Copy Path (file tree)"] == ["Ctrl+C"]


def test_layer_switch_keeps_the_selected_path(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "app-docker.tar"))
    window.files.set_mode(TreeMode.FILESYSTEM)
    window.select_layer(4)
    assert window.files.reveal("/etc/passwd")
    window.select_layer(8)
    node = window.files.current_node()
    assert node is not None
    assert node.path == "/etc/passwd"
    assert window.files.versions.rowCount() == 2  # layer 0 added it, layer 4 modified it


def test_filter_narrows_the_tree(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "app-docker.tar"))
    window.files.set_mode(TreeMode.FILESYSTEM)
    window.select_layer(2)
    window.commands.filter.trigger()
    window.files.filter_edit.setText("build-cache")
    qtbot.waitUntil(lambda: window.files.model.filter_text == "build-cache", timeout=2000)
    model = window.files.model
    assert model.index_for_path("/tmp/build-cache.bin").isValid()
    assert not model.index_for_path("/etc/passwd").isValid()
    window.files.clear_filter()
    assert model.index_for_path("/etc/passwd").isValid()
    window.files.toggles[Change.UNCHANGED].setChecked(False)
    assert not model.index_for_path("/etc/passwd").isValid()
    assert model.index_for_path("/tmp/build-cache.bin").isValid()


def test_waste_table_lists_the_build_cache_and_reveals_it(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "app-docker.tar"))
    window.tabs.setCurrentIndex(Tab.WASTE)
    table = window.waste.table
    proxy = window.waste.model
    rows = {
        proxy.index(r, WasteCol.PATH).data(): r
        for r in range(proxy.rowCount())
        if proxy.index(r, WasteCol.SHIPPED).data() == "layer 2"
    }
    row = rows["/tmp/build-cache.bin"]
    assert proxy.index(row, WasteCol.KILLED).data() == "layer 3"
    assert proxy.index(row, WasteCol.HOW).data() == "deleted"
    assert proxy.index(row, WasteCol.SIZE).data() == "512 KiB"
    assert window.waste.reclaimable.value.text() == "1.25 MiB"

    rect = table.visualRect(proxy.index(row, WasteCol.PATH))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.current_layer() == 2
    node = window.files.current_node()
    assert node is not None
    assert node.path == "/tmp/build-cache.bin"
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tabs.currentIndex() == Tab.FILES


def test_shared_view_shows_the_shared_base_layer(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "multi-docker.tar"))
    assert len(window.analysis.images) == 2
    window.tabs.setCurrentIndex(Tab.SHARED)
    shared = window.shared
    assert shared.stack.currentIndex() == 1
    model = shared.model
    assert model.index(0, FIXED_COLUMNS).data() == "shared"
    assert model.index(0, FIXED_COLUMNS + 1).data() == "shared"
    assert window.analysis.sharing.saved_bytes > 0
    assert shared.saved_card.value.text() == "1.89 MiB"
    assert window.tabs.tabText(Tab.SHARED) == "Shared Layers (1)"
    # the layer table marks it too
    tip = window.sidebar.layers_model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "shared with" in tip


def test_opening_adds_archives_and_sharing_covers_them_all(
    qtbot: QtBot, window: MainWindow
) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "app-docker.tar"))
    assert window.shared.stack.currentIndex() == 0  # one image: nothing to compare
    open_and_wait(qtbot, window, corpus_file("podman", "worker-docker.tar"))
    assert [a.path for a in window.analysis.archives] == [
        str(corpus_file("podman", "app-docker.tar")),
        str(corpus_file("podman", "worker-docker.tar")),
    ]
    assert len(window.analysis.sharing.layers) == 1
    assert window.image_index == 1  # the new archive's image is selected
    window.close_archive()
    assert len(window.analysis.images) == 1
    assert window.analysis.images[0].archive_index == 0
    assert window.analysis.sharing.layers == []
    window.close_all()
    assert window.stack.currentWidget() is window.welcome


def test_broken_archive_shows_an_error_and_the_window_stays_usable(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.tar"
    broken.write_bytes(os.urandom(4096))
    with qtbot.waitSignal(window.loadFailed, timeout=LOAD_TIMEOUT) as blocker:
        window.open_paths([str(broken)])
    assert "broken.tar" in blocker.args[0]
    assert window.last_error == blocker.args[0]
    assert "\n" not in window.last_error
    assert window.error_dialog is not None
    assert window.error_dialog.isVisible()
    assert window.error_dialog.informativeText() == blocker.args[0]
    assert not window.is_loading
    window.error_dialog.accept()
    open_and_wait(qtbot, window, corpus_file("podman", "app-docker.tar"))
    assert len(window.analysis.images) == 1


def test_cancel_during_a_load(qtbot: QtBot, window: MainWindow, slow_load: None) -> None:
    path = corpus_file("podman", "app-docker.tar")
    with qtbot.waitSignal(window.loadStarted):
        window.open_paths([str(path)])
    assert window.is_loading
    assert window.progress.isVisible()
    with qtbot.waitSignal(window.loadCancelled, timeout=LOAD_TIMEOUT):
        QTimer.singleShot(150, window.cancel_load)
    assert not window.is_loading
    assert not window.progress.isVisible()
    assert window.analysis.images == []
    QThreadPool.globalInstance().waitForDone()
    open_and_wait(qtbot, window, path)  # still usable


def test_progress_reaches_the_status_bar(qtbot: QtBot, window: MainWindow, slow_load: None) -> None:
    with qtbot.waitSignal(window.loadFinished, timeout=LOAD_TIMEOUT):
        window.open_paths([str(corpus_file("podman", "app-docker.tar"))])
        qtbot.waitUntil(lambda: "Read" in window.progress.label.text(), timeout=LOAD_TIMEOUT)


def test_closing_the_window_during_a_load_leaves_no_thread(qtbot: QtBot, slow_load: None) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.open_paths([str(corpus_file("podman", "app-docker.tar"))])
    assert w.is_loading
    w.close()
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def test_drop_files_onto_the_window_opens_them(qtbot: QtBot, window: MainWindow) -> None:
    path = corpus_file("podman", "hello-multiarch-oci.tar")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        QPoint(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.loadFinished, timeout=LOAD_TIMEOUT):
        QApplication.sendEvent(window, drop)
    assert drop.isAccepted()
    assert [image.platform for image in window.analysis.images] == ["linux/amd64", "linux/arm64"]


def test_drop_of_text_is_refused(window: MainWindow) -> None:
    mime = QMimeData()
    mime.setText("hello")
    enter = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_recent_files_are_remembered(qtbot: QtBot, window: MainWindow) -> None:
    path = corpus_file("podman", "worker-docker.tar")
    open_and_wait(qtbot, window, path)
    assert window.recent_paths()[0] == str(path)
    window._fill_recent_menu()
    assert window.recent_menu.actions()[0].text() == "worker-docker.tar"
    # opening it again selects it instead of loading it twice
    window.open_paths([str(path)])
    assert not window.is_loading


def test_image_details_and_copyable_digests(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "app-docker.tar"))
    text = window.image_pane.browser.toPlainText()
    image = window.analysis.images[0]
    assert image.config_digest in text
    assert "APP_HOME" in text
    assert "8080/tcp" in text
    assert "httpd" in text
    assert "EXPOSE 8080 (no layer)" in text  # empty-layer history entries are listed
    window.image_pane.browser.anchorClicked.emit(QUrl("copy:" + image.config_digest))
    assert QGuiApplication.clipboard().text() == image.config_digest


def test_copy_path_from_the_tree(qtbot: QtBot, window: MainWindow) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "app-docker.tar"))
    window.select_layer(4)
    assert window.files.reveal("/etc/passwd")
    window.files.copy_action.trigger()
    assert QGuiApplication.clipboard().text() == "/etc/passwd"


def test_shortcuts_dialog_lists_the_keys(window: MainWindow) -> None:
    window.show_shortcuts()
    table = window._shortcuts_dialog.table
    names = {table.item(r, 0).text() for r in range(table.rowCount())}
    assert {
        "Open",
        "Next Layer",
        "Previous Layer",
        "Switch Tree Mode",
        "Filter",
        "Close Archive",
        "Quit",
    } <= names
    window._shortcuts_dialog.close()


def test_sample_opens(qtbot: QtBot, window: MainWindow) -> None:
    if not SAMPLE.exists():
        pytest.skip("no bundled sample")
    with qtbot.waitSignal(window.loadFinished, timeout=LOAD_TIMEOUT):
        window.commands.sample.trigger()
    assert len(window.analysis.images[0].layers) == 11


def test_main_runs_the_event_loop_and_returns(qtbot: QtBot) -> None:
    from layerscope.gui import app as app_module

    def close_windows() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                widget.close()

    QTimer.singleShot(300, close_windows)
    watchdog = QTimer()
    watchdog.setSingleShot(True)
    watchdog.timeout.connect(lambda: QApplication.instance().exit(3))
    watchdog.start(20_000)
    assert app_module.main([]) == 0
    watchdog.stop()


def test_several_files_at_once_and_a_layout_folder(qtbot: QtBot, window: MainWindow) -> None:
    files = [corpus_file("podman", "app-docker.tar"), corpus_file("podman", "app-oci-layout")]
    window.open_paths([str(p) for p in files])
    qtbot.waitUntil(lambda: len(window.analysis.archives) == 2, timeout=LOAD_TIMEOUT)
    qtbot.waitUntil(lambda: not window.is_loading, timeout=LOAD_TIMEOUT)
    formats = [a.format for a in window.analysis.archives]
    assert formats[0] == "docker-archive"
    assert "oci" in formats[1]
    # the same image in two formats: every layer is shared
    assert len(window.analysis.sharing.layers) == 11
