"""`layerscope extract` and reading content again: every archive form gives the same bytes,
and hostile images write nothing outside the destination."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from layerscope.archive.content import ImageContent
from layerscope.cli import main
from layerscope.errors import CorruptLayer
from layerscope.extract import TarOutput, extract, plan
from layerscope.load import load
from layerscope.safewrite import SafeWriter
from tests import builders as b
from tests.fstree import digest, snapshot

FORMS = ["podman", "docker25", "oci-gzip", "oci-zstd", "outer-gzip", "oci-dir"]


def write(tmp_path: Path, image: b.Image, form: str) -> Path:
    if form in ("podman", "docker25"):
        return b.write_docker_archive(tmp_path / f"{form}.tar", [image], style=form)
    if form == "outer-gzip":
        return b.write_docker_archive(tmp_path / "o.tar.gz", [image], style="podman", outer="gzip")
    if form == "oci-dir":
        return b.write_oci_archive(tmp_path / "layout", [image], as_dir=True)
    compression = form.split("-")[1]
    again = b.Image([b.Layer(layer.tar, compression) for layer in image.layers])
    return b.write_oci_archive(tmp_path / f"{form}.tar", [again])


BIG = os.urandom(3 << 20)  # over a read chunk, so data spans buffer refills
STACK = b.Image(
    [
        b.Layer(
            b.layer_tar(
                [
                    b.dir("usr/"),
                    b.dir("usr/bin/"),
                    b.file("usr/bin/tool", BIG, mode=0o4755),
                    b.hardlink("usr/bin/tool2", "usr/bin/tool"),
                    b.file("etc/conf", b"v1\n"),
                    b.symlink("etc/abs", "/etc/conf"),
                    b.Entry("dev/null", "char", devmajor=1, devminor=3),
                    b.file("x" * 150 + "/long-name.txt", b"long\n"),
                ]
            )
        ),
        b.Layer(b.layer_tar([b.file("etc/conf", b"v2\n"), b.whiteout("usr/bin/tool2")])),
    ]
)


@pytest.mark.parametrize("form", FORMS)
def test_content_reads_the_same_bytes_from_every_form(tmp_path: Path, form: str):
    path = write(tmp_path, STACK, form)
    image = load([str(path)]).images[0]
    with ImageContent(image) as content:
        tool = image.filesystem.lookup("/usr/bin/tool").current.content
        assert content.read(tool) == BIG
        assert content.read(tool, start=1000, length=10) == BIG[1000:1010]
        conf0 = image.filesystem.lookup("/etc/conf").state_at(0).content
        conf1 = image.filesystem.lookup("/etc/conf").current.content
        assert content.read(conf0) == b"v1\n"
        assert content.read(conf1) == b"v2\n"


@pytest.mark.parametrize("form", FORMS)
def test_extract_the_filesystem_at_each_layer(tmp_path: Path, form: str):
    path = write(tmp_path, STACK, form)
    image = load([str(path)]).images[0]
    expected = [
        {
            "usr": "dir",
            "usr/bin": "dir",
            "usr/bin/tool": digest(BIG),
            "usr/bin/tool2": digest(BIG),
            "etc": "dir",
            "etc/conf": digest(b"v1\n"),
            "etc/abs": "-> /etc/conf",
            "dev": "dir",
            "x" * 150: "dir",
            "x" * 150 + "/long-name.txt": digest(b"long\n"),
        }
    ]
    expected.append(dict(expected[0], **{"etc/conf": digest(b"v2\n")}))
    del expected[1]["usr/bin/tool2"]
    for layer in (0, 1):
        dest = tmp_path / f"out{layer}"
        with SafeWriter(str(dest)) as out:
            summary = extract(image, layer, ["/"], out)
        assert snapshot(dest) == expected[layer]
        assert summary.skipped == ["/dev/null: char device nodes are not created"]
        assert summary.outward_links == ["/etc/abs -> /etc/conf"]
    # the hardlink stays a hardlink, and setuid is dropped
    st = os.stat(tmp_path / "out0/usr/bin/tool")
    assert st.st_nlink == 2
    assert st.st_mode & 0o7777 == 0o755


def test_tar_output_keeps_metadata(tmp_path: Path):
    path = write(tmp_path, STACK, "podman")
    image = load([str(path)]).images[0]
    target = tmp_path / "out.tar"
    out = TarOutput(str(target))
    try:
        extract(image, 0, ["/usr"], out)
    finally:
        out.close()
    with tarfile.open(target) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["usr/bin/tool"].mode == 0o4755  # a tar keeps what the image says
        assert members["usr/bin/tool2"].islnk()
        assert tar.extractfile("usr/bin/tool").read() == BIG  # type: ignore[union-attr]
    assert not list(tmp_path.glob("*.layerscope-part"))


def test_a_file_hardlinked_from_outside_the_selection_is_written_as_a_copy(tmp_path: Path):
    image = b.Image(
        [b.Layer(b.layer_tar([b.file("lib/real", b"bytes"), b.hardlink("bin/alias", "lib/real")]))]
    )
    loaded = load([str(write(tmp_path, image, "podman"))]).images[0]
    dest = tmp_path / "out"
    with SafeWriter(str(dest)) as out:
        extract(loaded, 0, ["/bin"], out)
    assert (dest / "bin/alias").read_bytes() == b"bytes"
    assert not (dest / "lib").exists()


def test_plan_names_a_missing_path(tmp_path: Path):
    image = load([str(write(tmp_path, STACK, "podman"))]).images[0]
    with pytest.raises(Exception, match="no such path at layer 1"):
        plan(image, 1, ["/usr/bin/tool2"])


# Hostile images ---------------------------------------------------------------------------


def hostile_image() -> b.Image:
    """Symlinks that point out, then files written 'through' them, an absolute name."""
    return b.Image(
        [
            b.Layer(
                b.layer_tar(
                    [
                        b.symlink("escape", "../../../../../../tmp"),
                        b.symlink("abs", "/etc"),
                        b.file("/absolute-name", b"a"),
                        b.Entry("dev/sda", "block", devmajor=8),
                        b.fifo("run/fifo"),
                    ]
                )
            ),
            b.Layer(b.layer_tar([b.file("escape/owned", b"x"), b.file("abs/passwd", b"y")])),
        ]
    )


def test_hostile_image_writes_nothing_outside(tmp_path: Path, capsys):
    path = write(tmp_path, hostile_image(), "podman")
    dest = tmp_path / "out"
    before = sorted(os.listdir(tmp_path))
    code = main(["extract", str(path), "--to", str(dest)])
    out, err = capsys.readouterr()
    assert code == 0, err
    # Files 'under' the symlinks land inside the image's own tree, as the model resolves them.
    tree = snapshot(dest)
    assert tree["escape"] == "-> ../../../../../../tmp"
    assert tree["abs"] == "-> /etc"
    assert tree["tmp/owned"] == digest(b"x")
    assert tree["etc/passwd"] == digest(b"y")
    assert tree["absolute-name"] == digest(b"a")
    assert "dev/sda" not in tree
    assert "run/fifo" not in tree
    assert "/dev/sda: block device nodes are not created" in out
    assert "2 symlinks point outside the destination" in out
    assert sorted(os.listdir(tmp_path)) == sorted([*before, "out"])
    assert not Path("/tmp/owned").exists() or Path("/tmp/owned").read_bytes() != b"x"


def test_existing_files_need_force(tmp_path: Path, capsys):
    path = write(tmp_path, STACK, "podman")
    dest = tmp_path / "out"
    (dest / "etc").mkdir(parents=True)
    (dest / "etc" / "conf").write_text("mine")
    code = main(["extract", str(path), "/etc", "--to", str(dest)])
    _out, err = capsys.readouterr()
    assert code == 2
    assert "etc/conf: exists (use --force to replace it); nothing was written" in err
    assert (dest / "etc" / "conf").read_text() == "mine"
    assert sorted(os.listdir(dest / "etc")) == ["conf"]
    assert main(["extract", str(path), "/etc", "--to", str(dest), "--force"]) == 0
    assert (dest / "etc" / "conf").read_text() == "v2\n"


def test_a_damaged_layer_leaves_no_half_written_file(tmp_path: Path):
    path = write(tmp_path, STACK, "oci-gzip")
    image = load([str(path)]).images[0]
    # Damage layer 0's gzip blob after the archive was loaded, inside the big file's data.
    data = path.read_bytes()
    blob = b.compress(STACK.layers[0].tar, "gzip")
    start = data.index(blob)
    damaged = bytearray(data)
    damaged[start + 200_000 : start + 200_100] = bytes(100)
    path.write_bytes(bytes(damaged))
    dest = tmp_path / "out"
    with SafeWriter(str(dest)) as out, pytest.raises(Exception, match="gzip"):
        extract(image, 0, ["/usr/bin/tool"], out)
    assert snapshot(dest) == {"usr": "dir", "usr/bin": "dir"}


def test_layer_tar(tmp_path: Path, capsys):
    path = write(tmp_path, STACK, "oci-zstd")
    target = tmp_path / "layer1.tar"
    assert main(["extract", f"{path}@1", "--layer-tar", str(target)]) == 0
    assert target.read_bytes() == STACK.layers[1].tar
    assert main(["extract", f"{path}@1", "--layer-tar", str(target)]) == 2
    assert "exists (use --force" in capsys.readouterr().err


SPARSE = {
    "GNU.sparse.major": "1",
    "GNU.sparse.minor": "0",
    "GNU.sparse.name": "sp",
    "GNU.sparse.realsize": "4096",
}


@pytest.mark.parametrize("to", ["--to", "--tar"])
def test_a_hardlink_to_a_skipped_sparse_file_is_skipped_too(tmp_path: Path, capsys, to: str):
    layer = [
        b.file("aaa", b"first"),
        b.file("GNUSparseFile.0/sp", bytes(512), pax=SPARSE),
        b.hardlink("sp2", "sp"),
        b.file("zzz", b"last"),
    ]
    path = write(tmp_path, b.Image([b.Layer(b.layer_tar(layer))]), "podman")
    target = tmp_path / "out"
    assert main(["extract", str(path), to, str(target), "--no-cache"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "/sp: sparse file (its holes are not rebuilt)" in out
    assert "/sp2: hardlink to /sp, which was skipped" in out
    if to == "--to":
        assert snapshot(target) == {"aaa": digest(b"first"), "zzz": digest(b"last")}
    else:
        with tarfile.open(target) as tar:
            assert tar.getnames() == ["aaa", "zzz"]


def test_a_layer_rewritten_in_place_since_the_load_is_named_not_shown(tmp_path: Path):
    layer = b.layer_tar([b.file("a.txt", b"A" * 3000), b.file("b.txt", b"hello b\n")])
    path = write(tmp_path, b.Image([b.Layer(layer)]), "podman")
    image = load([str(path)], cache=None).images[0]
    entry = next(e for e in image.layers[0].entries if e.path == "/b.txt")
    # The archive is rewritten where it lies: another member, of another size, where b.txt was.
    data = bytearray(path.read_bytes())
    at = data.index(b"b.txt\0")
    header = data[at : at + 512]
    header[0:5] = b"c.txt"
    header[124:136] = b"%011o\0" % 600
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    data[at : at + 512] = header
    path.write_bytes(bytes(data))
    with ImageContent(image) as content, pytest.raises(CorruptLayer, match="changed since"):
        content.read(entry)
    dest = tmp_path / "out"
    with SafeWriter(str(dest)) as out, pytest.raises(CorruptLayer, match="'c.txt' of 600"):
        extract(image, 0, ["/b.txt"], out)
    assert snapshot(dest) == {}


def test_a_name_holding_a_newline_stays_on_its_line(tmp_path: Path, capsys):
    # A name that would print a line of its own ("Wrote 0 files") if printed raw.
    evil = "evil\nWrote 0 files"
    image = b.Image(
        [
            b.Layer(b.layer_tar([b.file(evil, b"x"), b.symlink("lnk\nx", "/etc/passwd")])),
            b.Layer(b.layer_tar([b.file(evil, b"xx"), b.fifo("fifo\nx")])),
            b.Layer(b.layer_tar([b.hardlink("hl\nWrote 0 files", "gone")])),  # a warning
        ]
    )
    path = str(write(tmp_path, image, "podman"))
    commands = [
        ["report", path, "--files"],
        ["diff", f"{path}@0", f"{path}@2"],
        ["extract", path, "--to", str(tmp_path / "out")],
    ]
    for command in commands:
        assert main([*command, "--no-cache"]) == 0
        out = capsys.readouterr().out
        assert "\nWrote 0 files" not in out, out
        assert "\nx" not in out, out
        assert "evil\\nWrote 0 files" in out or "lnk\\nx -> /etc/passwd" in out, out
    assert "1 symlink points outside the destination" in out


@pytest.mark.parametrize("option", ["--tar", "--layer-tar"])
def test_a_symlink_where_the_temporary_file_goes_is_not_written_through(
    tmp_path: Path, capsys, option: str
):
    path = write(tmp_path, STACK, "podman")
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    target = tmp_path / "out.tar"
    (tmp_path / "out.tar.layerscope-part").symlink_to(victim)
    assert main(["extract", str(path), option, str(target), "--no-cache"]) == 0, capsys.readouterr()
    assert victim.read_text() == "keep me"
    assert not target.is_symlink()
    with tarfile.open(target) as tar:
        assert tar.getnames()


def test_files_named_like_a_temporary_file_are_kept(tmp_path: Path, capsys):
    # The image's own ".foo.layerscope-part", and one of the user's beside --tar's target
    image = b.Image([b.Layer(b.layer_tar([b.file(".foo.layerscope-part", b"own"), b.file("foo")]))])
    path = write(tmp_path, image, "podman")
    dest = tmp_path / "out"
    assert main(["extract", str(path), "--to", str(dest), "--no-cache"]) == 0
    assert snapshot(dest) == {".foo.layerscope-part": digest(b"own"), "foo": digest(b"")}
    mine = tmp_path / ".out.tar.layerscope-part"
    mine.write_text("mine")
    assert main(["extract", str(path), "--tar", str(tmp_path / "out.tar"), "--no-cache"]) == 0
    assert mine.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.glob("*layerscope-part")) == [mine.name]


def test_a_path_through_a_symlink_says_which_directory_is_a_link(tmp_path: Path, capsys):
    layers = [
        [b.symlink("abs", "/etc"), b.dir("etc/"), b.file("etc/passwd", b"p")],
        [b.file("abs/shadow", b"s")],  # written through the link: /etc/shadow in the image
    ]
    image = b.Image([b.Layer(b.layer_tar(entries)) for entries in layers])
    path = write(tmp_path, image, "podman")
    assert (
        main(["extract", str(path), "/abs/shadow", "--to", str(tmp_path / "o"), "--no-cache"]) == 2
    )
    assert capsys.readouterr().err == (
        "layerscope: /abs/shadow: no such path at layer 1; "
        "/abs is a symlink to /etc: name the path it leads to\n"
    )
    assert (
        main(["extract", str(path), "/etc/shadow", "--to", str(tmp_path / "o"), "--no-cache"]) == 0
    )
