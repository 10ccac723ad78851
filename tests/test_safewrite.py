"""The safe writer: nothing lands outside the destination, whatever the names and links."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from layerscope.safewrite import ExtractError, SafeWriter, file_mode
from tests.fstree import digest, snapshot


def test_writes_files_dirs_links(tmp_path: Path):
    dest = tmp_path / "out"
    with SafeWriter(str(dest)) as w:
        w.directory("/etc", 0o755, 1700000000)
        w.file("/etc/passwd", [b"root:", b"x\n"], mode=0o4755, mtime=1700000000, content_id=1)
        w.hardlink("/etc/passwd-", 1)
        w.symlink("/etc/link", "passwd")
        w.symlink("/etc/host", "/etc/hostname")
        w.finish()
    assert snapshot(dest) == {
        "etc": "dir",
        "etc/passwd": digest(b"root:x\n"),
        "etc/passwd-": digest(b"root:x\n"),
        "etc/link": "-> passwd",
        "etc/host": "-> /etc/hostname",
    }
    st = os.stat(dest / "etc/passwd")
    assert st.st_mode & 0o7777 == 0o755  # setuid dropped
    assert st.st_nlink == 2
    assert int(st.st_mtime) == 1700000000
    assert w.summary.outward_links == ["/etc/host -> /etc/hostname"]


@pytest.mark.parametrize("name", ["../x", "/a/../../x", "a/./b", "a//..//b", "a/\0b"])
def test_unsafe_names_are_refused(tmp_path: Path, name: str):
    dest = tmp_path / "out"
    with SafeWriter(str(dest)) as w, pytest.raises(ExtractError, match="unsafe name"):
        w.file(name, [b"x"])
    assert not (tmp_path / "x").exists()


def test_a_symlink_in_the_destination_is_never_followed(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "etc").symlink_to(outside)
    with SafeWriter(str(dest)) as w, pytest.raises(ExtractError, match="not a directory"):
        w.file("/etc/passwd", [b"x"])
    assert list(outside.iterdir()) == []
    # --force replaces the link by a real directory, still writing nothing outside
    with SafeWriter(str(dest), force=True) as w:
        w.file("/etc/passwd", [b"x"])
    assert list(outside.iterdir()) == []
    assert (dest / "etc").is_dir()
    assert not (dest / "etc").is_symlink()


def test_a_symlink_written_earlier_is_never_followed(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    with SafeWriter(str(dest)) as w:
        w.symlink("/a", str(outside))
        with pytest.raises(ExtractError):
            w.file("/a/evil", [b"x"])
        with pytest.raises(ExtractError):
            w.file("/a", [b"x"])  # nor replaced without --force
    assert list(outside.iterdir()) == []


def test_existing_files_need_force(tmp_path: Path):
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "f").write_text("mine")
    with SafeWriter(str(dest)) as w:
        assert w.conflicts([("/f", False), ("/g", False)]) == [
            "/f: exists (use --force to replace it)"
        ]
        with pytest.raises(ExtractError, match="exists"):
            w.file("/f", [b"theirs"])
    assert (dest / "f").read_text() == "mine"
    with SafeWriter(str(dest), force=True) as w:
        w.file("/f", [b"theirs"])
    assert (dest / "f").read_text() == "theirs"


def test_a_directory_is_never_replaced(tmp_path: Path):
    dest = tmp_path / "out"
    (dest / "d").mkdir(parents=True)
    (dest / "d" / "keep").write_text("k")
    with SafeWriter(str(dest), force=True) as w:
        assert w.conflicts([("/d", False)]) == ["/d: a directory is in the way"]
        with pytest.raises(ExtractError):
            w.file("/d", [b"x"])
        with pytest.raises(ExtractError):
            w.symlink("/d", "x")
    assert (dest / "d" / "keep").read_text() == "k"


def test_a_failure_leaves_no_half_written_file(tmp_path: Path):
    dest = tmp_path / "out"

    def chunks():
        yield b"partial"
        raise OSError("stream broke")

    with SafeWriter(str(dest)) as w, pytest.raises(OSError, match="stream broke"):
        w.file("/big", chunks())
    assert os.listdir(dest) == []


def test_hardlinks_only_to_what_was_written(tmp_path: Path):
    with SafeWriter(str(tmp_path / "out")) as w, pytest.raises(ExtractError, match="did not"):
        w.hardlink("/x", 99)


def test_file_modes_follow_the_data_filter():
    assert file_mode(0o4755) == 0o755
    assert file_mode(0o666) == 0o644
    assert file_mode(0o000) == 0o600
    assert file_mode(0o2775) == 0o755


@pytest.mark.parametrize("name", ["中" * 85, "n" * 255, "é" * 127], ids=["cjk", "ascii", "latin"])
def test_the_longest_names_the_filesystem_takes_are_written(tmp_path: Path, name: str):
    # 255 bytes: the temporary name beside it must be cut by bytes, not characters
    dest = tmp_path / "out"
    with SafeWriter(str(dest)) as w:
        w.file("/" + name, [b"x"])
    assert snapshot(dest) == {name: digest(b"x")}


def test_force_replaces_a_file_where_a_directory_goes(tmp_path: Path):
    # A file in one layer, a directory with files in a later one: extract the first, then
    # the later one over it with --force.
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "a").write_text("file a")
    wanted = [("/a", True), ("/a/b", False)]
    with SafeWriter(str(dest)) as w:
        assert w.conflicts(wanted) == ["/a: exists (use --force to replace it)"]
    with SafeWriter(str(dest), force=True) as w:
        assert w.conflicts(wanted) == []
        w.directory("/a")
        w.file("/a/b", [b"b"])
    assert snapshot(dest) == {"a": "dir", "a/b": digest(b"b")}


def test_conflicts_name_a_symlink_in_the_way_not_what_it_points_to(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("host")
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "etc").symlink_to(outside)
    with SafeWriter(str(dest)) as w:
        assert w.conflicts([("/etc", True), ("/etc/passwd", False)]) == [
            "/etc: exists (use --force to replace it)"
        ]
    assert (outside / "passwd").read_text() == "host"


def test_symlinks_leading_out_through_other_symlinks_are_named(tmp_path: Path):
    with SafeWriter(str(tmp_path / "out")) as w:
        w.symlink("/b", "/etc/ssh/keys")
        w.symlink("/a", "b/..")  # b/.. is /etc/ssh on the host, whatever it looks like
        w.symlink("/d", "e/f")
        w.symlink("/c", "d/../..")  # e/f/../.. : the top, inside
        w.symlink("/g", "d/../../..")  # one level above the top
        w.symlink("/loop1", "loop2")
        w.symlink("/loop2", "loop1")
        w.finish()
    assert sorted(w.summary.outward_links) == [
        "/a -> b/..",
        "/b -> /etc/ssh/keys",
        "/g -> d/../../..",
    ]
