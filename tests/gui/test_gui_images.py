"""Several images, and the small things (issue 7, defects 8 and 11)."""

from __future__ import annotations

from pathlib import Path

from guitest_support import corpus_file
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QMenu, QMessageBox
from pytestqt.qtbot import QtBot

import layerscope
from layerscope.gui.dialogs import ShortcutsDialog
from layerscope.gui.main_window import MainWindow, Tab
from layerscope.gui.models.images import ImageIndexRole
from layerscope.gui.models.shared import FIXED_COLUMNS
from tests import builders as b

LOAD_TIMEOUT = 30_000


def open_all(qtbot: QtBot, window: MainWindow, *paths: Path | str) -> None:
    window.open_paths([str(p) for p in paths])
    qtbot.waitUntil(lambda: len(window.analysis.archives) == len(paths), timeout=LOAD_TIMEOUT)
    qtbot.waitUntil(lambda: not window.is_loading, timeout=LOAD_TIMEOUT)


def image_rows(window: MainWindow) -> list[str]:
    model = window.sidebar.images_model
    names = []
    for a in range(model.rowCount()):
        archive = model.index(a, 0)
        names += [str(model.index(r, 0, archive).data()) for r in range(model.rowCount(archive))]
    return names


def test_images_of_one_ref_are_named_by_platform(qtbot: QtBot, window: MainWindow) -> None:
    open_all(qtbot, window, corpus_file("podman", "hello-multiarch-oci.tar"))
    names = image_rows(window)
    assert len(set(names)) == 2
    assert [n.rsplit("(", 1)[-1] for n in names] == ["linux/amd64)", "linux/arm64)"]


def test_one_image_from_two_archives_counts_once_and_columns_name_the_archive(
    qtbot: QtBot, window: MainWindow
) -> None:
    tar, gz = corpus_file("podman", "app-docker.tar"), corpus_file("podman", "app-docker.tar.gz")
    open_all(qtbot, window, tar, gz)
    names = image_rows(window)
    assert names[0] != names[1]
    assert names[1].endswith("in app-docker.tar.gz")
    window.show_tab(Tab.SHARED)
    shared = window.shared
    assert shared.images_card.value.text() == "1"
    assert shared.saved_card.value.text() == "0 B"
    model = shared.model
    headers = [model.headerData(FIXED_COLUMNS + i, Qt.Orientation.Horizontal) for i in range(2)]
    assert "app-docker.tar\n" in headers[0]
    assert "app-docker.tar.gz\n" in headers[1]


def test_double_click_on_a_shared_layer_goes_to_it(qtbot: QtBot, window: MainWindow) -> None:
    open_all(qtbot, window, corpus_file("podman", "multi-docker.tar"))
    window.select_image(1)
    window.select_layer(3)
    window.show_tab(Tab.SHARED)
    table = window.shared.table
    row = next(r for r in range(window.shared.model.rowCount()) if window.shared.model.is_shared(r))
    table.doubleClicked.emit(window.shared.model.index(row, 1))
    assert window.current_layer() == 0
    assert window.image_index == 1  # the selected image has that layer: it stays
    assert window.tabs.currentIndex() == Tab.FILES


def test_a_batch_selects_its_first_archive(qtbot: QtBot, window: MainWindow) -> None:
    first, second = (
        corpus_file("podman", "worker-docker.tar"),
        corpus_file("podman", "app-docker.tar"),
    )
    open_all(qtbot, window, first, second)
    index = window.sidebar.images_view.currentIndex()
    assert index.data(ImageIndexRole) == 0
    assert window.analysis.images[window.image_index].archive_path == str(first)


def test_dialogs_and_menus_are_made_once(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    for _ in range(3):
        window.show_shortcuts()
        window.findChild(ShortcutsDialog).close()
    assert len(window.findChildren(ShortcutsDialog)) == 1
    bad = [tmp_path / f"bad{i}.tar" for i in range(3)]
    for path in bad:
        path.write_bytes(b"not an archive")
    for path in bad:  # one at a time: each failure on its own
        with qtbot.waitSignal(window.loadFailed, timeout=LOAD_TIMEOUT):
            window.open_paths([str(path)])
        window.error_dialog.accept()
    boxes = [
        box for box in window.findChildren(QMessageBox) if box.windowTitle() == "Could not open"
    ]
    assert boxes == [window.error_dialog]
    open_all(qtbot, window, corpus_file("podman", "app-docker.tar"))
    tree = window.files.tree
    for _ in range(3):
        tree.customContextMenuRequested.emit(QPoint(10, 10))
        window.files.context_menu.close()
    assert len(window.files.findChildren(QMenu)) == 1
    window.show_about()
    text = window._about_dialog.text() if window._about_dialog else ""
    assert layerscope.__version__ in text
    assert "MIT" in text
    window.show_about()
    assert len([b for b in window.findChildren(QMessageBox) if "About" in b.windowTitle()]) == 1


def test_one_layer_and_missing_recent_files(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    one = b.write_docker_archive(
        tmp_path / "one.tar", [b.Image([b.Layer(b.layer_tar([b.file("a", b"1")]))])]
    )
    gone = tmp_path / "gone.tar"
    gone.write_bytes(b"")
    QSettings().setValue("recent", [str(gone), str(one)])
    gone.unlink()
    assert window.recent_paths() == [str(one)]
    open_all(qtbot, window, one)
    assert "1 layer  ·" in window.summary.text()
    assert "layers" not in window.summary.text()


def test_the_status_bar_names_the_platform_once(qtbot: QtBot, window: MainWindow) -> None:
    # "localhost/lscorpus/hello:multi (linux/amd64)  ·  linux/amd64  ·  1 layer ..."
    open_all(qtbot, window, corpus_file("podman", "hello-multiarch-oci.tar"))
    window.select_image(1)
    summary = window.summary.text()
    assert summary.count("linux/arm64") == 1
    assert summary.startswith("localhost/lscorpus/hello:multi (linux/arm64)  ·  1 layer  ·  ")
    with qtbot.waitSignal(window.loadFinished, timeout=LOAD_TIMEOUT):
        window.open_paths([str(corpus_file("podman", "app-docker.tar"))])
    window.select_image(2)
    assert window.summary.text().startswith("localhost/lscorpus/app:1  ·  linux/amd64  ·  ")


def test_empty_panes_explain_themselves_in_plain_text(window: MainWindow) -> None:
    # The Shared Layers pane read "such as `docker save app worker`": Markdown backticks.
    from layerscope.gui.widgets.common import Placeholder

    placeholders = window.findChildren(Placeholder)
    assert placeholders
    for placeholder in placeholders:
        assert placeholder.text()
        assert "`" not in placeholder.text()


def test_the_window_shows_the_reports_efficiency_never_a_false_100_percent(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    # 724 B of 1.45 MiB wasted read "efficiency 100.0 %" in the window while `report`
    # says 99.95%; and "dive reports 13.1 %" wrapped with its "%" alone on a line.
    from layerscope.format import ratio_text
    from layerscope.gui.models.images import Col as ImageCol

    big = b.file("srv/big.bin", bytes(1_500_000))
    layers = [
        b.Layer(b.layer_tar([big, b.file("srv/small.txt", b"x" * 724)])),
        b.Layer(b.layer_tar([b.file("srv/small.txt", b"y" * 700)])),
    ]
    path = b.write_docker_archive(tmp_path / "w.tar", [b.Image(layers)], style="podman")
    open_all(qtbot, window, path)
    waste = window.analysis.waste[0]
    assert ratio_text(waste.efficiency) == "99.95%"
    assert "efficiency 99.95\u00a0%  ·  " in window.summary.text()
    model = window.sidebar.images_model
    row = model.index(0, ImageCol.EFFICIENCY, model.index(0, 0))
    assert row.data() == "99.95\u00a0%"
    caption = window.waste.efficiency.caption.text()
    assert caption.startswith("dive reports ")
    assert caption.endswith("\u00a0%")
