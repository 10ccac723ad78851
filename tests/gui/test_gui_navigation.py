"""Keyboard, filter feedback and where the changes are (issue 7, defects 5, 6 and 7)."""

from __future__ import annotations

import pytest
from guitest_support import corpus_file
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QToolButton, QWidget
from pytestqt.qtbot import QtBot

from layerscope.gui.main_window import MainWindow
from layerscope.gui.models.filetree import CHANGED_INSIDE, ChangeRole
from layerscope.gui.models.filetree import Col as TreeCol
from layerscope.gui.models.layers import Col as LayerCol
from layerscope.model.filesystem import Change
from layerscope.view.tree import TreeMode

LOAD_TIMEOUT = 30_000


@pytest.fixture
def app_window(qtbot: QtBot, window: MainWindow) -> MainWindow:
    with qtbot.waitSignal(window.loadFinished, timeout=LOAD_TIMEOUT):
        window.open_paths([str(corpus_file("podman", "app-docker.tar"))])
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def tab_through(qtbot: QtBot, start: QWidget, presses: int) -> list[QWidget]:
    start.setFocus(Qt.FocusReason.TabFocusReason)
    seen = [start]
    for _ in range(presses):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    return seen


def test_tab_moves_between_panes_and_leaves_the_tables(
    qtbot: QtBot, app_window: MainWindow
) -> None:
    w = app_window
    w.files.reveal("/etc/passwd")  # the file history has rows
    sidebar, files = w.sidebar, w.files
    order = [
        sidebar.images_view,
        sidebar.layers_view,
        files.filter_edit,
        files.tree,
        files.history,
        sidebar.layer_details,
    ]
    seen = tab_through(qtbot, sidebar.images_view, len(order))
    assert seen == [*order, sidebar.images_view]  # round and back, one stop per pane
    # arrows move within a pane: the layers table keeps the focus and changes the layer
    sidebar.layers_view.setFocus()
    before = w.current_layer()
    qtbot.keyClick(sidebar.layers_view, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is sidebar.layers_view
    assert w.current_layer() == before + 1
    # Shift+Tab goes back the same way
    qtbot.keyClick(sidebar.layers_view, Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is sidebar.images_view


def test_ctrl_e_expands_while_the_filter_has_the_focus(
    qtbot: QtBot, app_window: MainWindow
) -> None:
    w = app_window
    w.set_mode(TreeMode.FILESYSTEM)
    w.files.collapse_all()
    w.files.filter_edit.setFocus()
    qtbot.keyClick(w.files.filter_edit, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    etc = w.files.model.index_for_path("/etc")
    assert w.files.tree.isExpanded(etc)
    assert QApplication.focusWidget() is w.files.filter_edit
    qtbot.keyClick(
        w.files.filter_edit,
        Qt.Key.Key_E,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert not w.files.tree.isExpanded(etc)


def type_filter(qtbot: QtBot, w: MainWindow, text: str) -> None:
    w.focus_filter()
    w.files.filter_edit.setText(text)
    qtbot.keyClick(w.files.filter_edit, Qt.Key.Key_Return)


def test_a_filter_without_matches_says_so_and_where_the_matches_are(
    qtbot: QtBot, app_window: MainWindow
) -> None:
    w = app_window
    w.select_layer(1)
    type_filter(qtbot, w, "build-cache")
    note = w.files.filter_note
    assert note.isVisible()
    assert "No path" in note.text()
    assert "build-cache" in note.text()
    # added by layer 2, deleted by layer 3
    assert "Other layers with matches: 2 (1), 3 (1)." in note.text()
    found = [w.sidebar.layers_model.index(k, LayerCol.FOUND).data() for k in range(11)]
    assert found[1] == "–"
    assert found[2] == "1"
    assert found[3] == "1"
    assert not w.sidebar.layers_view.isColumnHidden(LayerCol.FOUND)
    type_filter(qtbot, w, "")
    assert not note.isVisible()
    assert w.sidebar.layers_view.isColumnHidden(LayerCol.FOUND)


def test_moving_to_another_layer_opens_the_folders_holding_the_matches(
    qtbot: QtBot, app_window: MainWindow
) -> None:
    w = app_window
    w.set_mode(TreeMode.FILESYSTEM)
    w.select_layer(1)
    type_filter(qtbot, w, "libbig")
    assert "No path" in w.files.filter_note.text()
    w.select_layer(5)
    lib = w.files.model.index_for_path("/opt/tool/lib/libbig.so")
    assert lib.isValid()
    assert w.files.tree.isExpanded(lib.parent())
    assert w.files.tree.isExpanded(lib.parent().parent())
    assert "3 paths here match" in w.files.filter_note.text()


def test_folders_holding_changes_are_marked_and_dives_toggles_hide_paths(
    qtbot: QtBot, app_window: MainWindow
) -> None:
    w = app_window
    w.set_mode(TreeMode.FILESYSTEM)
    w.select_layer(4)  # modifies /etc/passwd
    model = w.files.model
    etc = model.index_for_path("/etc", TreeCol.CHANGE)
    assert etc.data() == CHANGED_INSIDE
    assert model.index_for_path("/srv", TreeCol.CHANGE).data() == ""  # nothing changed there
    # View > Show Unchanged off: only what layer 4 changed, and the folders above it
    w.commands.show_change[Change.UNCHANGED].trigger()
    assert not w.files.toggles[Change.UNCHANGED].isChecked()
    assert model.index_for_path("/etc/passwd").isValid()
    assert not model.index_for_path("/srv").isValid()
    assert not model.index_for_path("/etc/group").isValid()
    w.files.toggles[Change.UNCHANGED].click()
    assert w.commands.show_change[Change.UNCHANGED].isChecked()
    w.commands.show_change[Change.MODIFIED].trigger()  # hide modified
    assert not model.index_for_path("/etc/passwd").isValid()
    assert model.index_for_path("/etc/group").data(ChangeRole) == Change.UNCHANGED


def test_a_tree_the_toggles_empty_says_why(qtbot: QtBot, app_window: MainWindow) -> None:
    # Show Added off on layer 5 (which only adds) left an empty tree and no word about it.
    w = app_window
    w.select_layer(5)
    note = w.files.filter_note
    assert not note.isVisible()
    w.commands.show_change[Change.ADDED].trigger()
    assert w.files.model.rowCount() == 0
    assert note.isVisible()
    assert note.text() == (
        "The change toggles hide every path here (added). "
        "Turn them back on beside the filter, or in the View menu."
    )
    w.select_layer(6)  # modified paths: shown again, the note goes
    assert w.files.model.rowCount() > 0
    assert not note.isVisible()
    w.commands.show_change[Change.ADDED].trigger()


def test_on_a_big_image_the_filter_matches_in_a_worker_thread(
    qtbot: QtBot, app_window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    import layerscope.gui.widgets.files as files_module

    monkeypatch.setattr(files_module, "FILTER_IN_WORKER", 0)  # app-docker counts as big
    w = app_window
    w.select_layer(2)
    w.focus_filter()
    w.files.filter_edit.setText("build-cache")
    w.files.apply_filter()
    assert "Looking for" in w.files.filter_note.text()  # the tree waits, the window does not
    qtbot.waitUntil(lambda: w.files.model.filter_text == "build-cache", timeout=10_000)
    assert "1 path in this layer's changes match" in w.files.filter_note.text()
    # typing on cancels the search that is under way; only the last text is applied
    w.files.filter_edit.setText("cache")
    w.files.apply_filter()
    w.files.filter_edit.setText("cache.sha1")
    w.files.apply_filter()
    qtbot.waitUntil(lambda: w.files.model.filter_text == "cache.sha1", timeout=10_000)
    assert w.files.model.index_for_path("/srv/app/cache.sha1").isValid()
    assert not w.files.model.index_for_path("/tmp/build-cache.bin").isValid()


@pytest.mark.parametrize(
    ("layer", "path", "mode"),
    [
        (1, "/srv/app/site/index.html", "text"),
        (0, "/bin/busybox", "hex"),
        (4, "/etc/passwd", "diff"),
    ],
)
def test_tab_from_the_tree_goes_into_the_file_shown_in_any_mode(
    qtbot: QtBot, app_window: MainWindow, layer: int, path: str, mode: str
) -> None:
    # Hex and diff were skipped: Tab went from the tree to the layer's details, then the
    # viewer's buttons, and reached the bytes last, after the details.
    from layerscope.gui.widgets import viewer as viewer_module

    w = app_window
    viewer = w.files.viewer
    w.select_layer(layer)
    assert w.files.reveal(path)
    with qtbot.waitSignal(viewer.shown, timeout=10_000):
        w.files.show_contents_tab()
    qtbot.waitUntil(lambda: viewer.page is not None)
    viewer.set_mode(getattr(viewer_module, mode.upper()))
    content = getattr(viewer, mode)
    seen = tab_through(qtbot, w.files.tree, 12)
    assert seen[1] is content
    details = seen.index(w.sidebar.layer_details)
    # the viewer's own buttons come after what it shows, before the next pane
    assert all(isinstance(x, QToolButton) and viewer.isAncestorOf(x) for x in seen[2:details])
    assert seen[details + 1] is w.sidebar.images_view


def test_the_layer_counts_say_directories_are_not_counted(qtbot: QtBot, window: MainWindow) -> None:
    # dive's layer 2 (mkdir -p) lists three added directories under "+0 (0 B)", unexplained
    with qtbot.waitSignal(window.loadFinished, timeout=LOAD_TIMEOUT):
        window.open_paths([str(corpus_file("peer-dive", "test-docker-image.tar"))])
    window.select_layer(2)
    assert window.files.counts.text().count("+0 (0 B)") == 1
    assert window.files.model.index_for_path("/root/example/really/nested").isValid()
    assert "directories are not counted" in window.files.counts.toolTip()
