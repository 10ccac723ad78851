"""The window on real-world text and screens (issue 7, defects 1, 9 and 10).

No archive text sets a widget's minimum size: a 3,000-character multi-line RUN command is
elided in one line (whole in the tooltip and in the wrapping details view), the window never
grows on its own and fits its screen, also at QT_SCALE_FACTOR=2 on a 1680x1050 screen.
Numbers are never elided; archive text in labels is plain text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from guitest_support import REPO, corpus_file
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QStyle, QWidget
from pytestqt.qtbot import QtBot

from layerscope.format import command_lines
from layerscope.gui.main_window import MainWindow
from layerscope.gui.models.filetree import Col as TreeCol
from layerscope.gui.models.layers import Col as LayerCol
from tests import builders as b

LOAD_TIMEOUT = 30_000


def long_command() -> str:
    """A 3,000-character RUN line of an official image: `set -eux; ... \\` continuations."""
    steps = [
        f"apt-get install -y --no-install-recommends package-number-{i:03d}-with-a-long-name"
        for i in range(40)
    ]
    joined = " && \\\n    ".join(steps)
    body = f"set -eux; \\\n    {joined}; \\\n    rm -rf /var/lib/apt/lists/*"
    assert len(body) > 3000
    return f"RUN /bin/sh -c {body} # buildkit"


@pytest.fixture(scope="module")
def long_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layers = [
        [b.file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")],
        [b.file("usr/bin/tool", b"x" * 100, uid=65534, gid=65534)],
        [b.file("usr/bin/tool", b"y" * 30), b.file("srv/<b>markup</b>.txt", b"z")],
    ]
    history = [
        {"created": "2026-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:abc in /"},
        {"created": "2026-01-01T00:00:00Z", "created_by": long_command()},
        {"created": "2026-01-01T00:00:00Z", "created_by": "/bin/sh -c " + "x" * 1400},
    ]
    image = b.Image(
        [b.Layer(b.layer_tar(entries)) for entries in layers],
        tags=["example.com/<b>team</b>/app:1"],
        history=history,
    )
    return b.write_docker_archive(tmp_path_factory.mktemp("long") / "long.tar", [image])


def open_and_wait(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.loadFinished, timeout=LOAD_TIMEOUT):
        window.open_paths([str(path)])


def inside(outer: QRect, inner: QRect) -> bool:
    return outer.contains(inner)


def test_a_3000_character_command_never_widens_a_small_window(
    qtbot: QtBot, window: MainWindow, long_archive: Path
) -> None:
    window.resize(640, 480)
    qtbot.waitUntil(lambda: window.size().width() == 640)
    open_and_wait(qtbot, window, long_archive)
    for _ in range(2):  # down and up again: nothing accumulates
        for layer in [0, 1, 2, 1, 0]:
            window.select_layer(layer)
            qtbot.wait(5)
            assert (window.width(), window.height()) == (640, 480), layer
            assert window.minimumSizeHint().width() <= 640
            for pane in (window.sidebar, window.tabs):
                assert pane.width() >= pane.minimumSizeHint().width(), (layer, pane)
    window.select_layer(1)
    title = window.files.title
    assert title.text().startswith("Layer 1  ·  RUN set -eux;")  # the whole text, one line
    shown = QLabel.text(title)  # what the label paints
    assert shown.endswith("…")
    assert len(shown) < 200
    assert "package-number-039" in title.toolTip()  # the whole command in the tooltip
    details = window.sidebar.layer_details.toPlainText()
    for line in command_lines(long_command()):  # broken at && ; and \ as a person reads it
        assert line.strip() in details
    assert "monospace" in window.sidebar.layer_details.toHtml()


def test_restored_geometry_from_a_bigger_screen_is_clamped(qtbot: QtBot) -> None:
    big = MainWindow()
    qtbot.addWidget(big)
    big.setGeometry(0, 0, 2800, 1800)
    QSettings().setValue("window/geometry", big.saveGeometry())
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    area = w.screen().availableGeometry()
    assert inside(area, w.frameGeometry()), (area, w.frameGeometry())
    w.close()


@pytest.mark.parametrize("scale", ["1", "2"])
def test_the_window_fits_a_1680x1050_screen_at_any_scale(
    tmp_path: Path, long_archive: Path, scale: str
) -> None:
    screen = tmp_path / "screen.json"
    screen.write_text(
        json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1680, "height": 1050}]})
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": f"offscreen:configfile={screen}",
        "QT_SCALE_FACTOR": scale,
        "PYTHONPATH": str(REPO),
    }
    longrun = corpus_file("podman", "longrun-docker.tar")
    probe = Path(__file__).with_name("fit_probe.py")
    run = subprocess.run(
        [sys.executable, str(probe), "--geometry", "2800", "1800", str(long_archive), str(longrun)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    x, y, width, height = result["available"]
    assert (width, height) == (1680 // int(scale), 1050 // int(scale))
    assert result["layers"]
    for layer in result["layers"]:
        frame = QRect(*layer["frame"])
        assert inside(QRect(x, y, width, height), frame), layer
        for name, (pane_width, minimum) in layer["panes"].items():
            assert pane_width >= minimum, (name, layer)
    assert len(result["tabs"]) >= 7
    for tab in result["tabs"]:
        assert inside(QRect(x, y, width, height), QRect(*tab["frame"])), tab


def section_fits(view: QAbstractItemView, text: str, width: int) -> bool:
    """The text fits without eliding in a cell `width` wide (the style's text margins off)."""
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    return view.fontMetrics().horizontalAdvance(text) <= width - 2 * margin


def test_numbers_are_never_elided(qtbot: QtBot, window: MainWindow, long_archive: Path) -> None:
    open_and_wait(qtbot, window, long_archive)
    fs = window.analysis.images[0].filesystem
    fs.counts[1].added = 90_001  # as a layer of a big image would have
    window.sidebar.layers_model.set_image(window.analysis, 0)
    window.select_layer(1)
    qtbot.wait(10)
    view = window.sidebar.layers_view
    header = view.horizontalHeader()
    for col in (LayerCol.INDEX, LayerCol.SIZE, LayerCol.COMPRESSED, LayerCol.ADDED):
        text = str(view.model().index(1, col).data())
        assert section_fits(view, text, header.sectionSize(col)), (col, text)
    window.files.reveal("/usr/bin/tool")
    tree = window.files.tree
    owner = window.files.model.index_for_path("/usr/bin/tool", TreeCol.OWNER)
    assert owner.data() == "65534:65534"
    assert section_fits(tree, owner.data(), tree.header().sectionSize(TreeCol.OWNER))
    # refs and paths elide in the middle, where two refs of one repository differ
    assert window.sidebar.images_view.textElideMode() == Qt.TextElideMode.ElideMiddle


def test_archive_text_in_labels_is_plain_text(
    qtbot: QtBot, window: MainWindow, long_archive: Path
) -> None:
    open_and_wait(qtbot, window, long_archive)
    window.select_layer(2)
    window.files.reveal("/srv/<b>markup</b>.txt")
    assert "<b>team</b>" in window.summary.text()
    labels = [w for w in window.findChildren(QLabel) if "<b>" in w.text()]
    assert window.summary in labels
    assert window.files.path_label in labels
    for label in labels:
        assert label.textFormat() == Qt.TextFormat.PlainText, label


def test_every_pane_keeps_a_usable_width_at_the_default_size(
    qtbot: QtBot, window: MainWindow
) -> None:
    open_and_wait(qtbot, window, corpus_file("podman", "longrun-docker.tar"))
    window.select_layer(1)
    qtbot.wait(10)
    widgets: list[QWidget] = [window.sidebar, window.tabs, window.files.tree]
    for widget in widgets:
        assert widget.width() >= widget.minimumSizeHint().width()
    # the Name column keeps room for names, the Size column is on screen
    tree = window.files.tree
    header = tree.header()
    assert header.sectionSize(TreeCol.NAME) >= tree.fontMetrics().averageCharWidth() * 20
    assert header.sectionViewportPosition(TreeCol.SIZE) < tree.viewport().width()
