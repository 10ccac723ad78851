"""Compare, look inside files and get them out, in the window (offscreen, real archives)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from guitest_support import SAMPLE, corpus_file
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, QUrl
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from layerscope.gui.extracting import DragOut, describe
from layerscope.gui.main_window import MainWindow, Tab
from layerscope.gui.models.difftree import Col as DiffCol
from layerscope.gui.widgets import viewer as viewer_module
from layerscope.gui.widgets.compare import ComparePane
from layerscope.safewrite import WriteSummary
from layerscope.view.tree import TreeMode
from tests import builders as b

LOAD_TIMEOUT = 60_000


def open_and_wait(qtbot: QtBot, window: MainWindow, *paths: Path | str) -> None:
    with qtbot.waitSignal(window.loadFinished, timeout=LOAD_TIMEOUT):
        window.open_paths([str(p) for p in paths])


def compare_app_layers(qtbot: QtBot, window: MainWindow, layer_a: int, layer_b: int) -> ComparePane:
    """The corpus app image open, the window active, and its Compare tab showing the diff
    of two of its layers."""
    open_and_wait(qtbot, window, corpus_file("podman/app-docker.tar"))
    window.activateWindow()
    window.compare_sides(0, layer_a, 0, layer_b)
    qtbot.waitUntil(lambda: window.compare.result is not None)
    return window.compare


def view(qtbot: QtBot, window: MainWindow, layer: int, path: str) -> viewer_module.FileViewer:
    window.select_layer(layer)
    window.files.set_mode(TreeMode.FILESYSTEM)
    assert window.files.reveal(path)
    viewer = window.files.viewer
    window.files.show_contents_tab()
    qtbot.waitUntil(
        lambda: viewer.page is not None and viewer.current is not None
        and viewer.current.node.path == path,
        timeout=10_000,
    )  # fmt: skip
    return viewer


def png_bytes() -> bytes:
    image = QImage(7, 5, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366cc"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


@pytest.fixture
def mixed_archive(tmp_path: Path) -> Path:
    long_text = "".join(f"line {i}\n" for i in range(60_000))  # over one page
    image = b.Image(
        [
            b.Layer(
                b.layer_tar(
                    [
                        b.file("app/main.py", b"def main():\n    return 1\n"),
                        b.file("app/logo.png", png_bytes()),
                        b.file("app/blob.bin", bytes(range(256)) * 8),
                        b.file("app/long.txt", long_text.encode()),
                        b.file("app/latin.txt", "café crème brûlée\n".encode("latin-1") * 30),
                    ]
                ),
                "gzip",
            ),
            b.Layer(b.layer_tar([b.file("app/main.py", b"def main():\n    return 2\n")]), "gzip"),
        ]
    )
    return b.write_oci_archive(tmp_path / "mixed.tar", [image])


def test_viewer_shows_text_with_syntax_and_a_diff(qtbot, window, mixed_archive):
    open_and_wait(qtbot, window, mixed_archive)
    viewer = view(qtbot, window, 1, "/app/main.py")
    page = viewer.page
    assert page is not None
    assert page.text == "def main():\n    return 2\n"
    assert page.encoding == "utf-8"
    assert page.lexer == "Python"
    assert page.spans  # coloured
    assert viewer.stack.currentIndex() == viewer_module.TEXT
    # The layer modified the file: the diff against layer 0 is there.
    assert viewer.mode_buttons[viewer_module.DIFF].isEnabled()
    viewer.set_mode(viewer_module.DIFF)
    text = viewer.diff.toPlainText()
    assert "-    return 1" in text
    assert "+    return 2" in text


def test_viewer_shows_binary_as_hex_and_pictures_as_pictures(qtbot, window, mixed_archive):
    open_and_wait(qtbot, window, mixed_archive)
    viewer = view(qtbot, window, 1, "/app/blob.bin")
    assert viewer.page is not None
    assert viewer.page.text is None
    assert viewer.stack.currentIndex() == viewer_module.HEX
    assert viewer.hex.toPlainText().startswith("00000000  00 01 02 03")
    assert not viewer.mode_buttons[viewer_module.TEXT].isEnabled()

    viewer = view(qtbot, window, 1, "/app/logo.png")
    assert viewer.page is not None
    assert viewer.page.picture_format == "PNG"
    assert (viewer.page.picture.width(), viewer.page.picture.height()) == (7, 5)
    assert viewer.stack.currentIndex() == viewer_module.PICTURE
    assert "PNG picture, 7×5" in viewer.info.text()


def test_viewer_pages_large_files_and_guesses_encodings(qtbot, window, mixed_archive):
    open_and_wait(qtbot, window, mixed_archive)
    viewer = view(qtbot, window, 1, "/app/long.txt")
    first = viewer.page
    assert first is not None
    assert len(first.data) == viewer_module.PAGE < first.size
    assert viewer.next_button.isVisible()
    assert viewer.next_button.isEnabled()
    with qtbot.waitSignal(viewer.shown, timeout=10_000):
        viewer.next_button.click()
    qtbot.waitUntil(lambda: viewer.page is not None and viewer.page.start > 0)
    second = viewer.page
    assert second.start == viewer_module.PAGE
    # line numbers go on where the first page stopped
    assert viewer.text.first_line == first.text.count("\n") + 1

    viewer = view(qtbot, window, 1, "/app/latin.txt")
    assert viewer.page is not None
    assert "café" in viewer.page.text
    assert not viewer.page.sure


def test_compare_diffs_only_while_its_tab_is_shown(qtbot, window):
    """A diff of a big image is seconds of Python in a worker thread, which slows the GUI
    thread: the tab compares the image's top two layers when it is shown, not before."""
    open_and_wait(qtbot, window, corpus_file("podman/app-docker.tar"))
    compare = window.compare
    qtbot.wait(100)
    assert compare.result is None
    assert not compare.comparing
    with qtbot.waitSignal(compare.compared, timeout=10_000):
        window.show_tab(Tab.COMPARE)
    assert compare.result is not None
    assert (compare.result.a.layer, compare.result.b.layer) == (9, 10)
    assert not compare.comparing


def test_compare_two_layers_from_the_layers_table(qtbot, window):
    open_and_wait(qtbot, window, corpus_file("podman/app-docker.tar"))
    window.select_layer(6)
    compare = window.compare
    with qtbot.waitSignal(compare.compared, timeout=10_000):
        window.sidebar.layers_view.selectRow(5)
        window.sidebar.layers_view.selectionModel().select(
            window.sidebar.layers_model.index(6, 0),
            window.sidebar.layers_view.selectionModel().SelectionFlag.Select
            | window.sidebar.layers_view.selectionModel().SelectionFlag.Rows,
        )
        assert window.sidebar.selected_layers() == [5, 6]
        window.commands.compare.trigger()
    assert window.tabs.currentIndex() == Tab.COMPARE
    d = compare.result
    assert d is not None
    assert (d.a.layer, d.b.layer, d.shared_layers) == (5, 6, 6)
    files = [c for c in d.changes if not c.is_dir]
    assert len(files) == 10
    assert all(not c.content_changed and c.metadata for c in files)
    assert "~10 changed" in compare.summary.text()
    assert "10 metadata only" in compare.summary.text()
    assert compare.shared.text().startswith("Shared: layers 0–5")
    # the tree carries each directory's size delta
    index = compare.model.index_for_path("/opt/tool/lib")
    assert index.siblingAtColumn(DiffCol.DELTA).data() == "+256 KiB"


def test_compare_two_images_and_a_text_diff(qtbot, window):
    open_and_wait(qtbot, window, corpus_file("podman/multi-docker.tar"))
    compare = window.compare
    with qtbot.waitSignal(compare.compared, timeout=10_000):
        window.compare_sides(0, 10, 1, 2)
    assert compare.result is not None
    assert compare.result.shared_layers == 1
    index = compare.model.index_for_path("/etc/passwd")
    with qtbot.waitSignal(compare.textShown, timeout=10_000):
        compare.tree.setCurrentIndex(index)
    qtbot.waitUntil(lambda: "-app:x:1000" in compare.text.toPlainText())
    # Ignore timestamps: the mtime-only changes go.
    before = len(compare.result.changes)
    with qtbot.waitSignal(compare.compared, timeout=10_000):
        compare.ignore_times.setChecked(True)
    assert len(compare.result.changes) < before
    # Swap: what was added is now removed.
    with qtbot.waitSignal(compare.compared, timeout=10_000):
        compare.swap()
    changes = {c.path: c.change for c in compare.result.changes}
    assert changes["/srv/worker"] == "removed"


def test_drag_out_writes_the_file_on_drop(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, SAMPLE)
    image = window.analysis.images[0]
    node = image.filesystem.lookup("/etc/passwd")
    data = DragOut(image, 10, node, window.loader.limits, window.files.drag_folders)
    assert "text/uri-list" in data.formats()
    text = data.retrieveData("text/uri-list", None)
    path = QUrl(str(text).split()[0]).toLocalFile()
    assert Path(path).read_bytes().startswith(b"root:x:0:0")
    window.close()  # the dragged copies go with the window
    assert not Path(path).exists()


def test_save_as_and_layer_tar(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    open_and_wait(qtbot, window, SAMPLE)
    image = window.analysis.images[0]
    target = tmp_path / "saved-passwd"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(window.extractor.finished, timeout=10_000):
        window.extractor.save_as(image, 4, image.filesystem.lookup("/etc/passwd"))
    assert target.read_bytes().endswith(b"app:x:1000:1000::/srv/app:/bin/sh\n")
    layer_tar = tmp_path / "layer2.tar"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(layer_tar), ""))
    with qtbot.waitSignal(window.extractor.finished, timeout=10_000):
        window.save_layer(2)
    assert layer_tar.stat().st_size == image.layers[2].tar_bytes
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    with qtbot.waitSignal(window.extractor.finished, timeout=10_000):
        window.extractor.extract_to(image, 10, "/srv/app/site")
    assert sorted(os.listdir(folder / "site")) == [
        "app.js",
        "index-copy.html",
        "index.html",
        "style.css",
    ]


def test_viewer_names_extended_attributes(qtbot, window, tmp_path):
    tar = b.layer_tar(
        [
            b.file(
                "bin/ping",
                b"#!/bin/sh\necho ping\n",
                pax={"SCHILY.xattr.security.capability": "x", "SCHILY.xattr.user.note": "hi"},
            )
        ]
    )
    path = b.write_docker_archive(tmp_path / "x.tar", [b.Image([b.Layer(tar)])], style="podman")
    open_and_wait(qtbot, window, path)
    viewer = view(qtbot, window, 0, "/bin/ping")
    assert viewer.page is not None
    assert viewer.page.xattrs == {"security.capability": b"x", "user.note": b"hi"}
    assert "xattrs: security.capability, user.note" in viewer.info.text()
    assert "-rw-r--r--  ·  0:0" in viewer.meta.text()


def test_a_note_in_the_viewer_keeps_no_line_of_the_file_shown_before(qtbot, window, mixed_archive):
    # A folder after main.py read "utf-8 · Python" above "/app/ is a directory".
    open_and_wait(qtbot, window, mixed_archive)
    viewer = view(qtbot, window, 1, "/app/main.py")
    assert viewer.info.text() == "utf-8 · Python"
    assert window.files.reveal("/app")
    with qtbot.waitSignal(viewer.shown, timeout=10_000):
        window.files.show_contents_tab()
    assert viewer.stack.currentIndex() == viewer_module.NOTE
    assert viewer.note.text() == "/app/ is a directory"
    assert viewer.info.text() == ""


def test_an_empty_file_is_said_to_be_empty(qtbot, window, tmp_path):
    # It showed an empty text view with the line number 1 and "utf-8", "Text" pressed.
    tar = b.layer_tar([b.file("etc/machine-id", b""), b.file("etc/hostname", b"box\n")])
    path = b.write_docker_archive(tmp_path / "e.tar", [b.Image([b.Layer(tar)])], style="podman")
    open_and_wait(qtbot, window, path)
    viewer = view(qtbot, window, 0, "/etc/hostname")
    assert viewer.mode_buttons[viewer_module.TEXT].isChecked()
    assert window.files.reveal("/etc/machine-id")
    with qtbot.waitSignal(viewer.shown, timeout=10_000):
        window.files.show_contents_tab()
    assert viewer.stack.currentIndex() == viewer_module.NOTE
    assert viewer.note.text() == "/etc/machine-id is empty: it holds no bytes"
    assert not any(button.isChecked() for button in viewer.mode_buttons.values())
    assert viewer.save_button.isEnabled()  # an empty file can still be saved


def test_compare_at_layer_0_says_there_is_nothing_to_compare(qtbot, window):
    # Compare (Ctrl+D) on layer 0 set both sides to layer 0: an empty tree and "+0 added
    # −0 removed ~0 changed", as if two layers had matched.
    open_and_wait(qtbot, window, corpus_file("podman/app-docker.tar"))
    window.select_layer(0)
    window.commands.compare.trigger()
    assert window.tabs.currentIndex() == Tab.COMPARE
    compare = window.compare
    qtbot.waitUntil(lambda: not compare.comparing)
    assert compare.summary.text() == (
        "A and B are the same, layer 0: pick another layer or image for one side."
    )
    assert compare.model.rowCount() == 0
    compare.side_a.set(0, 3)  # what the pickers offer is compared
    compare.recompute()
    qtbot.waitUntil(lambda: compare.result is not None)


def test_esc_clears_the_compare_filter_as_it_does_the_files_filter(qtbot, window):
    # Help > Keyboard Shortcuts says Esc clears the filter; in the Compare tab it did not.
    compare = compare_app_layers(qtbot, window, 5, 6)
    compare.filter_edit.setFocus()
    qtbot.keyClicks(compare.filter_edit, "doc1")
    qtbot.keyClick(compare.filter_edit, Qt.Key.Key_Escape)
    assert compare.filter_edit.text() == ""


def test_ctrl_f_and_ctrl_e_work_on_the_tab_shown(qtbot, window):
    # On the Compare tab Ctrl+F jumped to the Files tab, and Ctrl+E / Ctrl+Shift+E expanded
    # and collapsed the (hidden) file tree: nothing happened where the user looked.
    compare = compare_app_layers(qtbot, window, 5, 6)
    qtbot.waitUntil(lambda: window.isActiveWindow())
    compare.tree.setFocus()
    qtbot.keyClick(compare.tree, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == Tab.COMPARE
    assert compare.filter_edit.hasFocus()
    top = compare.model.index(0, 0)
    assert compare.tree.isExpanded(top)  # a small diff opens completely
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(compare.filter_edit, Qt.Key.Key_E, ctrl_shift)
    assert not compare.tree.isExpanded(top)
    qtbot.keyClick(compare.filter_edit, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert compare.tree.isExpanded(top)
    # on a tab without a filter, Ctrl+F still goes to the Files tab's
    window.show_tab(Tab.IMAGE)
    qtbot.keyClick(window.image_pane, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == Tab.FILES
    assert window.files.filter_edit.hasFocus()


def test_turning_a_page_keeps_the_mode(qtbot, window, mixed_archive):
    # In Hex, "Next page" on a long text file showed the next page as text.
    open_and_wait(qtbot, window, mixed_archive)
    viewer = view(qtbot, window, 1, "/app/long.txt")
    viewer.set_mode(viewer_module.HEX)
    with qtbot.waitSignal(viewer.shown, timeout=10_000):
        viewer.next_button.click()
    qtbot.waitUntil(lambda: viewer.page is not None and viewer.page.start > 0)
    assert viewer.stack.currentIndex() == viewer_module.HEX
    assert viewer.mode_buttons[viewer_module.HEX].isChecked()
    assert viewer.hex.toPlainText().startswith(f"{viewer_module.PAGE:08x}")


def test_double_click_or_enter_on_a_file_shows_what_it_holds(qtbot, window):
    # A double-click on a file in the tree did nothing; Space and F3 were the only way.
    open_and_wait(qtbot, window, corpus_file("podman/app-docker.tar"))
    window.activateWindow()
    window.select_layer(4)
    files, viewer = window.files, window.files.viewer
    assert files.reveal("/etc/passwd")
    assert files.bottom.currentWidget() is not viewer
    rect = files.tree.visualRect(files.tree.currentIndex())
    qtbot.mouseClick(files.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(viewer.shown, timeout=10_000):  # a press first, as a mouse does
        qtbot.mouseDClick(files.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert files.bottom.currentWidget() is viewer
    assert viewer.current.node.path == "/etc/passwd"
    files.bottom.setCurrentIndex(0)
    assert files.reveal("/etc")  # a folder opens and closes, as before
    files.tree.setFocus()
    qtbot.keyClick(files.tree, Qt.Key.Key_Return)
    assert files.bottom.currentWidget() is not viewer
    assert files.reveal("/etc/passwd")
    qtbot.keyClick(files.tree, Qt.Key.Key_Return)
    assert files.bottom.currentWidget() is viewer


def test_the_status_after_an_extraction_names_links_leading_out() -> None:
    summary = WriteSummary(files=2, bytes=10, symlinks=1, hardlinks=1)
    summary.outward_links = ["/etc/abs -> /etc/conf"]
    summary.skipped = ["/dev/null\nx: char device nodes are not created"]
    assert describe(summary, "/home/me/out") == (
        "Wrote 2 files (10 B), 1 symlink, 1 hardlink to /home/me/out; "
        "skipped 1 (e.g. /dev/null\\nx: char device nodes are not created); "
        "1 symlink points outside it, never followed (e.g. /etc/abs -> /etc/conf)"
    )


def test_a_drag_whose_file_cannot_be_written_says_why_in_the_window(qtbot, window, tmp_path):
    archive = tmp_path / "gone.tar"
    archive.write_bytes(SAMPLE.read_bytes())
    open_and_wait(qtbot, window, archive)
    image = window.analysis.images[0]
    node = image.filesystem.lookup("/etc/passwd")
    archive.unlink()  # moved away after it was opened
    window.select_layer(10)
    window.files.set_mode(TreeMode.FILESYSTEM)
    data = window.files._drag_data(window.files.model.index_for_node(node))
    text = data.retrieveData("text/uri-list", None)
    assert str(text).strip() == ""
    assert window.last_error.startswith("/etc/passwd: ")
    assert "gone.tar" in window.last_error


def test_a_drag_hands_out_no_symlink_leading_out_of_the_image(qtbot, window, tmp_path):
    # Dragged into a mail or chat window, "config.yml -> /home/me/.ssh/id_rsa" would attach
    # the user's key: links leading out are not handed to the drop target.
    tar = b.layer_tar(
        [
            b.symlink("app/config.yml", "/home/me/.ssh/id_rsa"),
            b.file("app/main.py", b"print(1)\n"),
            b.symlink("app/up", "../../../../etc/passwd"),
            b.symlink("app/local", "main.py"),
        ]
    )
    path = b.write_docker_archive(tmp_path / "l.tar", [b.Image([b.Layer(tar)])], style="podman")
    open_and_wait(qtbot, window, path)
    image = window.analysis.images[0]
    folders = window.files.drag_folders
    errors: list[str] = []
    limits = window.loader.limits
    link = DragOut(
        image, 0, image.filesystem.lookup("/app/config.yml"), limits, folders, errors.append
    )
    assert str(link.retrieveData("text/uri-list", None)).strip() == ""
    assert errors == [
        "/app/config.yml is a symlink that points outside the image: dragging it out would "
        "hand over a file of this computer"
    ]
    folder = DragOut(image, 0, image.filesystem.lookup("/app"), limits, folders, errors.append)
    written = Path(QUrl(str(folder.retrieveData("text/uri-list", None)).split()[0]).toLocalFile())
    assert sorted(p.name for p in written.iterdir()) == ["local", "main.py"]
    assert len(errors) == 1


def test_ctrl_c_in_the_compare_tree_copies_the_whole_path(qtbot, window):
    # It copied the cell's text, "passwd"; Ctrl+C in the file tree copies "/etc/passwd".
    from PySide6.QtGui import QGuiApplication

    compare = compare_app_layers(qtbot, window, 3, 4)
    compare.tree.setCurrentIndex(compare.model.index_for_path("/etc/passwd"))
    compare.tree.setFocus()
    qtbot.keyClick(compare.tree, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "/etc/passwd"


def test_a_long_source_file_is_coloured_as_it_comes_into_view(qtbot, window, tmp_path):
    """Colouring a whole 256 KiB page at once held the window for half a second: only the
    lines on screen are coloured, and the others when scrolled to."""
    source = "".join(f"def f{i}(x):\n    return x + {i}  # n\n" for i in range(8_000))
    image = b.Image([b.Layer(b.layer_tar([b.file("app/big.py", source.encode())]), "gzip")])
    open_and_wait(qtbot, window, b.write_oci_archive(tmp_path / "big.tar", [image]))
    viewer = view(qtbot, window, 0, "/app/big.py")
    assert viewer.page is not None
    assert viewer.page.lexer == "Python"
    editor = viewer.text
    document = editor.document()

    def coloured(line: int) -> bool:
        return bool(document.findBlockByNumber(line).layout().formats())

    qtbot.waitUntil(lambda: coloured(0), timeout=5_000)
    assert not coloured(12_000)
    editor.verticalScrollBar().setValue(12_000)
    qtbot.waitUntil(lambda: coloured(12_000), timeout=5_000)
    assert sum(map(coloured, range(document.blockCount()))) < 1_000


def test_a_compare_filter_that_matches_nothing_says_so(qtbot, window):
    # The tree went empty without a word; the Files tab says "No path … matches".
    compare = compare_app_layers(qtbot, window, 5, 6)
    assert not compare.filter_note.isVisible()
    compare.filter_edit.setText("zzz")
    qtbot.waitUntil(lambda: compare.model.rowCount() == 0)
    assert compare.filter_note.isVisible()
    assert compare.filter_note.text() == "No changed path matches “zzz”."
    compare.filter_edit.setText("doc1")
    qtbot.waitUntil(lambda: compare.model.rowCount() > 0)
    assert not compare.filter_note.isVisible()
