"""Directory sizes in the file tree count each hardlinked content once (issue 7, defect 2)."""

from __future__ import annotations

import pytest
from guitest_support import corpus_file
from PySide6.QtCore import Qt

from layerscope.analysis import Analysis
from layerscope.gui.models.filetree import Col, FileTreeModel, SizeRole
from layerscope.load import load
from layerscope.model.entry import Entry, Kind
from layerscope.model.filesystem import FileSystem
from layerscope.view.tree import TreeMode

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def longrun() -> Analysis:
    return load([str(corpus_file("podman", "longrun-docker.tar"))])


def size_text(model: FileTreeModel, path: str) -> str:
    return str(model.index_for_path(path, Col.SIZE).data())


@pytest.mark.parametrize("mode", list(TreeMode))
def test_150_hardlinks_to_a_1_mib_file_show_a_1_mib_directory(mode: TreeMode) -> None:
    fs = FileSystem()
    fs.apply(
        [Entry("/opt/tool", Kind.FILE, MiB, 0o755)]
        + [Entry(f"/opt/bin/t{i}", Kind.HARDLINK, 0, 0o755, link="/opt/tool") for i in range(150)]
    )
    model = FileTreeModel()
    model.set_filesystem(fs, layer=0)
    model.set_mode(mode)
    assert size_text(model, "/opt") == "1 MiB"
    assert size_text(model, "/opt/bin") == "1 MiB"  # the links, whose file is elsewhere
    assert model.index_for_path("/opt/bin", Col.SIZE).data(SizeRole) == MiB
    link = model.index_for_path("/opt/bin/t7", Col.LINK)
    assert link.data() == "link to /opt/tool"


def test_longrun_tool_directories_hold_one_binary_in_both_modes(longrun: Analysis) -> None:
    model = FileTreeModel()
    model.set_filesystem(longrun.images[0].filesystem, longrun.waste[0].dead_files, layer=1)
    for mode in TreeMode:
        model.set_mode(mode)
        for path in ("/usr/local/tool/bin", "/usr/local/tool/lib"):
            assert size_text(model, path) == "256 KiB", (mode, path)
        # layer 1 ships 262,928 bytes: its header, its tree and `report` say so
        tool = model.index_for_path("/usr/local/tool", Col.SIZE)
        assert tool.data(SizeRole) == 262_928
    counts = longrun.images[0].filesystem.counts[1]
    assert counts.added_bytes + counts.modified_bytes == 262_928


def test_a_hardlink_to_a_lower_layers_file_reads_link_in_layer_changes() -> None:
    fs = FileSystem()
    fs.apply([Entry("/usr/bin/busybox", Kind.FILE, MiB, 0o755)])
    fs.apply([Entry("/bin/sh", Kind.HARDLINK, 0, 0o755, link="/usr/bin/busybox")])
    model = FileTreeModel()
    model.set_filesystem(fs, layer=1)
    sh = model.index_for_path("/bin/sh", Col.SIZE)
    assert sh.data() == "link"
    assert "neither ships nor deletes" in sh.data(Qt.ItemDataRole.ToolTipRole)
    assert model.index_for_path("/bin/sh", Col.LINK).data() == "link to /usr/bin/busybox"
    assert size_text(model, "/bin") == "0 B"  # as the layer header: this layer ships nothing
    model.set_mode(TreeMode.FILESYSTEM)
    assert model.index_for_path("/bin/sh", Col.SIZE).data() == "1 MiB"
    assert size_text(model, "/bin") == "1 MiB"
