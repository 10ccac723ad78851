"""The window's Packages tab, the Package column, the Size Map (treemap and layer chart)
and File > Export Report, on a fixture image whose layers install, upgrade and remove
Debian packages."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from layerscope.gui.main_window import Tab
from layerscope.gui.models.filetree import Col as TreeCol
from layerscope.gui.models.filetree import FileTreeModel
from layerscope.gui.models.packages import Col, PackagesModel
from layerscope.load import load
from layerscope.view.tree import TreeMode
from layerscope.view.treemap import Colouring, walk
from tests.test_packages import debian_archive


@pytest.fixture
def debian(tmp_path: Path) -> Path:
    return debian_archive(tmp_path)


@pytest.fixture
def opened(window, qtbot, debian):  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.loadFinished, timeout=20_000):
        window.open_paths([str(debian)])
    return window


def test_packages_model_passes_the_model_tester(qtmodeltester, debian) -> None:
    packages = load([str(debian)]).packages[0]
    model = PackagesModel()
    for layer, changes_only in ((0, True), (3, True), (4, True), (4, False), (2, True)):
        model.show(packages, layer, changes_only)
        qtmodeltester.check(model)
    model.show(packages, 3, True)
    row = [model.index(0, c).data() for c in range(model.columnCount())]
    assert row[:5] == ["upgraded", "libc6", "2.36-9+deb12u3 → 2.36-9+deb12u4", "12.7 MiB",
                       "deb (amd64)"]  # fmt: skip
    model.show(packages, 4, False, text="LIB")
    assert [model.index(r, Col.NAME).data() for r in range(model.rowCount())] == [
        "libc6",
        "libcurl4",
    ]
    model.sort(Col.SIZE, Qt.SortOrder.DescendingOrder)
    assert model.index(0, Col.NAME).data() == "libc6"


def test_file_tree_names_the_package_of_each_file(qtmodeltester, debian) -> None:
    analysis = load([str(debian)])
    image = analysis.images[0]
    model = FileTreeModel()
    model.set_filesystem(image.filesystem, analysis.waste[0].dead_files, 1, analysis.packages[0])
    model.set_mode(TreeMode.FILESYSTEM)
    qtmodeltester.check(model)

    def package(path: str) -> str:
        return model.index_for_path(path, TreeCol.PACKAGE).data()

    assert package("/usr/bin/curl") == "deb:curl"
    assert package("/usr/lib/x86_64-linux-gnu/libc.so.6") == "deb:libc6"
    assert package("/var/cache/apt/archives/curl.deb") == "not from any package"
    assert package("/usr/bin") == ""  # directories: no owner shown
    assert model.headerData(TreeCol.PACKAGE, Qt.Orientation.Horizontal) == "Package"


def test_packages_tab_follows_the_layer(opened) -> None:
    w = opened
    w.show_tab(Tab.PACKAGES)
    pane = w.packages
    w.select_layer(1)
    assert [pane.model.index(r, Col.NAME).data() for r in range(pane.model.rowCount())] == [
        "curl",
        "libcurl4",
    ]
    assert pane.changes_card.value.text() == "+2  ↑0  −0"
    w.select_layer(4)
    assert pane.model.index(0, Col.CHANGE).data() == "removed"
    pane.installed_button.setChecked(True)
    assert pane.model.rowCount() == 3
    pane.filter_edit.setText("curl")
    assert pane.model.rowCount() == 1
    assert pane.empty.text() == "1 package (filtered)"


def _size_map_at_layer_3(w, qtbot):  # type: ignore[no-untyped-def]
    """The Size Map tab of the filesystem at layer 3, laid out: its treemap."""
    w.set_mode(TreeMode.FILESYSTEM)
    w.select_layer(3)
    w.show_tab(Tab.SIZE_MAP)
    treemap = w.size_map.treemap
    qtbot.waitUntil(lambda: bool(treemap.tiles), timeout=5_000)
    return treemap


def _tile_point(w, path: str) -> QPoint:
    tile = next(t for t in walk(w.size_map.treemap.tiles) if t.node is not None
                and t.node.path == path)  # fmt: skip
    return QPoint(int(tile.x + tile.w / 2), int(tile.y + tile.h - 2))


def test_esc_clears_the_packages_filter(opened, qtbot) -> None:
    # Esc cleared the Files tab's filter only; here it left the text in place.
    w = opened
    w.activateWindow()
    w.select_layer(1)
    w.show_tab(Tab.PACKAGES)
    pane = w.packages
    pane.filter_edit.setFocus()
    qtbot.keyClicks(pane.filter_edit, "curl")
    assert pane.model.rowCount() == 2
    qtbot.keyClick(pane.filter_edit, Qt.Key.Key_Escape)
    assert pane.filter_edit.text() == ""


def test_size_map_zooms_selects_in_the_tree_and_shows_files(opened, qtbot) -> None:
    w = opened
    treemap = _size_map_at_layer_3(w, qtbot)
    assert w.size_map.mode_box.currentData() is TreeMode.FILESYSTEM
    names = {t.node.path for t in walk(treemap.tiles) if t.node is not None}
    assert {"/usr", "/var"} <= names
    # a click on a directory zooms into it and selects it in the (hidden) file tree
    qtbot.mouseClick(treemap, Qt.MouseButton.LeftButton, pos=_tile_point(w, "/usr"))
    qtbot.waitUntil(lambda: treemap.root is not None and treemap.root.path == "/usr")
    assert w.tabs.currentIndex() == Tab.SIZE_MAP
    assert w.files.current_node().path == "/usr"
    assert "usr" in w.size_map.crumbs.text()
    qtbot.waitUntil(lambda: any(t.node is not None and t.node.path == "/usr/bin/curl"
                                for t in walk(treemap.tiles)))  # fmt: skip
    # a double-click on a file shows it in the tree
    point = _tile_point(w, "/usr/bin/curl")
    qtbot.mouseDClick(treemap, Qt.MouseButton.LeftButton, pos=point)
    assert w.tabs.currentIndex() == Tab.FILES
    assert w.files.current_node().path == "/usr/bin/curl"
    # Backspace zooms out; the layer chart selects a layer
    w.show_tab(Tab.SIZE_MAP)
    treemap.setFocus()
    qtbot.keyClick(treemap, Qt.Key.Key_Backspace)
    assert treemap.root is w.analysis.images[0].filesystem.root
    chart = w.size_map.chart
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton,
                     pos=QPoint(int(4 + chart.width() / 5 * 1.5), chart.height() // 2))  # fmt: skip
    assert w.current_layer() == 1


def test_size_map_is_usable_from_the_keyboard(opened, qtbot) -> None:
    # Tab reached the map, but no key selected a tile: arrows did nothing, Enter needed a
    # click first, and Alt+Up (a zoom-out key in the code) was the window's Previous Layer.
    w = opened
    treemap = _size_map_at_layer_3(w, qtbot)
    top = [t.node for t in treemap.tiles if t.node is not None]  # largest first
    treemap.setFocus()
    qtbot.keyClick(treemap, Qt.Key.Key_Right)  # nothing selected yet: the first tile
    assert treemap.selected is top[0]
    assert w.files.current_node() is top[0]  # selected in the file tree, as a click does
    qtbot.keyClick(treemap, Qt.Key.Key_Right)
    assert treemap.selected is top[1]
    qtbot.keyClick(treemap, Qt.Key.Key_Left)
    assert treemap.selected is top[0]
    assert top[0].children  # /var: a directory
    qtbot.keyClick(treemap, Qt.Key.Key_Return)  # a directory: zoom into it
    qtbot.waitUntil(lambda: treemap.root is top[0])
    qtbot.waitUntil(lambda: bool(treemap.tiles) and treemap.tiles[0].node.parent is top[0])
    qtbot.keyClick(treemap, Qt.Key.Key_Down)  # the first tile inside
    inner = treemap.selected
    assert inner is not None
    assert inner.parent is top[0]
    qtbot.keyClick(treemap, Qt.Key.Key_Backspace)
    assert treemap.root is w.analysis.images[0].filesystem.root
    assert w.current_layer() == 3


def test_size_map_colours_and_modes(opened, qtbot) -> None:
    w = opened
    w.show_tab(Tab.SIZE_MAP)
    pane = w.size_map
    w.select_layer(1)
    w.set_mode(TreeMode.CHANGES)
    assert pane.mode_box.currentData() is TreeMode.CHANGES
    pane.colour_box.setCurrentIndex(pane.colour_box.findData(Colouring.WASTE))
    qtbot.waitUntil(lambda: not pane.treemap.laying_out and bool(pane.treemap.tiles),
                    timeout=5_000)  # fmt: skip
    curl = next(t for t in walk(pane.treemap.tiles) if t.name == "curl")
    assert curl.wasted == curl.size == 200  # shipped by layer 1, deleted in layer 4
    assert "kept in the final image" in pane.legend.text()
    # the map's mode box sets the window's mode (the tree follows)
    pane.mode_box.setCurrentIndex(pane.mode_box.findData(TreeMode.FILESYSTEM))
    pane.mode_box.activated.emit(pane.mode_box.currentIndex())
    assert w.files.model.mode is TreeMode.FILESYSTEM


@pytest.mark.parametrize(
    ("name", "marker"), [("r.html", "<!DOCTYPE html>"), ("r.md", "### Image 0")]
)
def test_export_report_from_the_window(opened, qtbot, tmp_path, name, marker) -> None:
    w = opened
    target = tmp_path / name
    fmt = "html" if name.endswith(".html") else "markdown"
    with qtbot.waitSignal(w.reporter.exported, timeout=20_000) as blocker:
        w.reporter.export(str(target), w.analysis, [w.image_index], fmt)
    assert blocker.args == [str(target)]
    text = target.read_text()
    assert text.startswith(marker)
    assert "libc6" in text
    with qtbot.waitSignal(w.reporter.failed, timeout=20_000) as failed:
        w.reporter.export(str(tmp_path / "no" / "such" / name), w.analysis, [0], fmt)
    assert "No such file" in failed.args[0]
