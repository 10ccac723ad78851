"""The Wasted Space tab on an image with two groups of 90,000 identical files (issue 7,
defect 3): it used to freeze the window for 15 s, joining every path into one cell.

The event loop's longest stall is measured with a QTimer heartbeat while the tab is shown,
its cells and tooltips are asked for, a group is selected and its paths are scrolled.
The waste figures are built directly (the table's input), not from a 180 MB archive.
"""

from __future__ import annotations

import pytest
from heartbeat import Heartbeat
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QTabWidget, QWidget
from pytestqt.qtbot import QtBot

from layerscope.analysis import Analysis, ImagePackages
from layerscope.analysis.dive import DiveFigures
from layerscope.analysis.shared import analyse_sharing
from layerscope.analysis.waste import DeadFile, DuplicateGroup, Waste
from layerscope.gui.models.waste import DupCol, DuplicatesModel, WasteCol
from layerscope.gui.widgets.waste import WastePanel
from layerscope.model.filesystem import FileSystem
from layerscope.model.image import Image, ImageConfig

COPIES = 90_000
STALL_MS = 100


def duplicates_image() -> Analysis:
    groups = [
        DuplicateGroup(
            size, [f"/data/g{g}/d{i // 1000:03d}/copy{i % 1000:04d}.bin" for i in range(COPIES)]
        )
        for g, size in enumerate((300, 100))
    ]
    dead = [
        DeadFile(f"/cache/f{i:06d}.o", 4096 - i % 4000, 0, 1, "deleted", "deleted")
        for i in range(COPIES)
    ]
    waste = Waste(
        reclaimable_bytes=sum(d.size for d in dead),
        overwritten_bytes=0,
        deleted_bytes=sum(d.size for d in dead),
        duplicate_bytes=sum(g.wasted for g in groups),
        efficiency=0.5,
        dead_bytes=[sum(d.size for d in dead)],
        dead_files=dead,
        duplicates=groups,
    )
    image = Image(
        0,
        "dups.tar",
        "docker-archive",
        0,
        ["bench/dups:1"],
        "sha256:" + "0" * 64,
        None,
        ImageConfig(),
        [],
        FileSystem(),
        "linux/amd64",
    )
    dive = DiveFigures(1.0, 0, None, 0, 0, [])
    return Analysis([], [image], [waste], [dive], analyse_sharing([image]), [ImagePackages([], [])])


@pytest.fixture(scope="module")
def dups() -> Analysis:
    return duplicates_image()


def visit_and_use(qtbot: QtBot, analysis: Analysis) -> dict[str, float]:
    """Each step's longest stall, on a fresh tab (the first visit is the costly one)."""
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.addTab(QWidget(), "Files")
    panel = WastePanel()
    tabs.addTab(panel, "Wasted Space")
    tabs.resize(1000, 700)
    tabs.show()
    heart = Heartbeat()

    def visit() -> None:
        panel.show_image(analysis, 0)  # the window does this for every image it selects
        tabs.setCurrentIndex(1)

    stalls = {"first visit": heart.measure(visit)}
    assert panel.duplicates.rowCount() == 2
    assert panel.model.rowCount() == COPIES
    paths_cell = panel.duplicates.index(0, DupCol.PATHS)
    stalls["cells and tooltips"] = heart.measure(
        lambda: [
            paths_cell.data(),
            paths_cell.data(Qt.ItemDataRole.ToolTipRole),
            panel.model.index(COPIES - 1, WasteCol.PATH).data(Qt.ItemDataRole.ToolTipRole),
        ]
    )
    assert len(paths_cell.data()) < 200
    assert "89,998 more" in paths_cell.data()
    assert len(paths_cell.data(Qt.ItemDataRole.ToolTipRole)) < 2000
    stalls["select the other group"] = heart.measure(lambda: panel.dup_table.selectRow(1))
    assert panel.group_paths.rowCount() == COPIES
    stalls["scroll its paths"] = heart.measure(panel.paths_view.scrollToBottom)
    stalls["leave the tab"] = heart.measure(lambda: tabs.setCurrentIndex(0))
    stalls["come back"] = heart.measure(lambda: tabs.setCurrentIndex(1))
    return stalls


def test_the_wasted_tab_with_90000_file_groups_never_stalls(qtbot: QtBot, dups: Analysis) -> None:
    # The best of three tries: a busy machine delays a tick now and then, a stall the
    # code causes happens every time.
    tries = [visit_and_use(qtbot, dups) for _ in range(3)]
    best = {step: min(t[step] for t in tries) for step in tries[0]}
    assert max(best.values()) < STALL_MS, tries


def test_the_tables_fill_when_first_shown_and_sort_themselves(qtbot: QtBot) -> None:
    analysis = duplicates_image()
    panel = WastePanel()
    qtbot.addWidget(panel)
    panel.show_image(analysis, 0)
    assert panel.model.rowCount() == 0  # hidden: nothing built yet
    assert panel.duplicate.value.text() != "–"  # the cards are
    panel.show()
    assert panel.model.rowCount() == COPIES
    assert panel.model.index(0, WasteCol.SIZE).data() == "4 KiB"  # largest first
    panel.table.sortByColumn(WasteCol.PATH, Qt.SortOrder.AscendingOrder)
    assert panel.model.index(0, WasteCol.PATH).data() == "/cache/f000000.o"
    panel.table.sortByColumn(WasteCol.PATH, Qt.SortOrder.DescendingOrder)
    assert panel.model.index(0, WasteCol.PATH).data() == f"/cache/f{COPIES - 1:06d}.o"


@pytest.mark.parametrize("row", [0, 1])
def test_a_duplicate_path_double_clicked_goes_to_the_file_tree(qtbot: QtBot, row: int) -> None:
    panel = WastePanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_image(duplicates_image(), 0)
    panel.dup_table.selectRow(row)
    index = panel.group_paths.index(5, 0, QModelIndex())
    with qtbot.waitSignal(panel.navigate) as blocker:
        panel.paths_view.doubleClicked.emit(index)
    target = blocker.args[0]
    assert target.path == index.data()
    assert target.show_files


@pytest.mark.parametrize(("copies", "cell"), [(2, "/a0, /a1"), (3, "/a0, /a1 and 1 more"),
                                              (57, "/a0, /a1 and 55 more")])  # fmt: skip
def test_the_paths_cell_counts_the_paths_it_leaves_out_in_plain_english(
    copies: int, cell: str
) -> None:
    # it read "… and 55 mores": the count went through plural() as if "more" were a noun
    model = DuplicatesModel()
    group = DuplicateGroup(7, [f"/a{i}" for i in range(copies)])
    model.set_waste(Waste(0, 0, 0, 0, 1.0, [], duplicates=[group]))
    assert model.index(0, DupCol.PATHS).data() == cell


def test_on_a_narrow_pane_the_paths_scroll_sideways_rather_than_shrink(qtbot: QtBot) -> None:
    # At 2x scale on a laptop the wasted files read "/us…NTS" and "/usr…tool": the Path
    # column got what the fixed columns left, next to nothing.
    panel = WastePanel()
    qtbot.addWidget(panel)
    panel.resize(460, 600)
    panel.show()
    panel.show_image(duplicates_image(), 0)
    chars = panel.table.fontMetrics().averageCharWidth()
    assert panel.table.horizontalHeader().sectionSize(WasteCol.PATH) >= chars * 36
    assert panel.dup_table.horizontalHeader().sectionSize(DupCol.PATHS) >= chars * 30
    panel.resize(1400, 600)  # and on a wide one, they take the room there is
    qtbot.waitUntil(
        lambda: panel.table.horizontalHeader().length() >= panel.table.viewport().width()
    )


def test_an_image_without_waste_says_so_above_its_empty_tables(qtbot: QtBot) -> None:
    # It read "Wasted files (0) — click to find one in the layers, double-click to open it"
    # above an empty table, and "Duplicate files (0 groups)".
    analysis = duplicates_image()
    empty = Waste(0, 0, 0, 0, 1.0, [0])
    analysis = Analysis(
        analysis.archives, analysis.images, [empty], analysis.dive, analysis.sharing,
        analysis.packages,
    )  # fmt: skip
    panel = WastePanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_image(analysis, 0)
    assert panel.model.rowCount() == 0
    assert panel.files_label.text() == (
        "Wasted files: none — every file the layers ship is in the final image"
    )
    assert panel.dup_label.text() == "Duplicate files: none — no content is stored at two paths"
    panel.show_image(duplicates_image(), 0)
    assert panel.files_label.text().startswith("Wasted files (90,000) — click")
