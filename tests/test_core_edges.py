"""Edge cases of formats and layer rules, built in fixtures with tests/builders.py."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
import zstandard

from layerscope.analysis import Analysis
from layerscope.archive.compression import open_decompressed
from layerscope.archive.source import declared_compression
from layerscope.errors import (
    CorruptLayer,
    HostileArchive,
    LayerscopeError,
    ManifestError,
    MissingBlob,
    NotAnImageArchive,
)
from layerscope.limits import DEFAULT_LIMITS
from layerscope.load import load
from layerscope.model.entry import Kind
from tests import builders as b

MiB = 1024 * 1024


def image_of(*layers: list[b.Entry], compression: str = "none", **kw) -> b.Image:
    return b.Image([b.Layer(b.layer_tar(entries), compression) for entries in layers], **kw)


def analyse(tmp_path: Path, image: b.Image, how: str = "podman") -> Analysis:
    path = tmp_path / f"{how}.tar"
    if how in ("docker24", "podman", "docker25"):
        b.write_docker_archive(path, [image], style=how)
    elif how == "oci":
        b.write_oci_archive(path, [image])
    elif how == "oci-dir":
        path = tmp_path / "layout"
        b.write_oci_archive(path, [image], as_dir=True)
    elif how == "docker-dir":
        path = tmp_path / "dir"
        b.write_docker_dir(path, image)
    else:
        raise AssertionError(how)
    return load([str(path)])


def final(a: Analysis, image: int = 0) -> dict[str, tuple[str, int]]:
    return {
        node.path: (v.entry.kind.label, v.size)
        for node, v in a.images[image].filesystem.iter_present()
        if v.entry is not None
    }


def counts(a: Analysis, image: int = 0) -> list[list[int]]:
    return [[c.added, c.modified, c.deleted] for c in a.images[image].filesystem.counts]


STACK = [
    [
        b.dir("etc/"),
        b.file("etc/passwd", b"root\n"),
        b.dir("srv/"),
        b.file("srv/a.bin", b"a" * 1000),
        b.dir("srv/cache/"),
        b.file("srv/cache/x", b"x" * 500),
        b.file("srv/cache/y", b"y" * 300),
    ],
    [b.file("etc/passwd", b"root\napp\n"), b.whiteout("srv/cache"), b.file("srv/b.txt", b"bbb")],
    [b.opaque("srv"), b.file("srv/c.txt", b"cc")],
]


@pytest.mark.parametrize("how", ["docker24", "podman", "docker25", "oci", "oci-dir", "docker-dir"])
def test_every_format_family_gives_the_same_analysis(tmp_path, how):
    a = analyse(tmp_path, image_of(*STACK), how)
    assert final(a) == {
        "/etc": ("dir", 0),
        "/etc/passwd": ("file", 9),
        "/srv": ("dir", 0),
        "/srv/c.txt": ("file", 2),
    }
    assert counts(a) == [[4, 0, 0], [1, 1, 2], [1, 0, 2]]
    w = a.waste[0]
    assert w.reclaimable_bytes == 5 + 1000 + 500 + 300 + 3
    assert w.dead_bytes == [5 + 1000 + 500 + 300, 3, 0]
    assert w.overwritten_bytes == 5
    assert w.deleted_bytes == 1803


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
@pytest.mark.parametrize("chunks", [1, 3])
def test_layer_compression_is_found_by_magic_bytes(tmp_path, compression, chunks):
    layers = [b.Layer(b.layer_tar(e), compression, chunks=chunks) for e in STACK]
    a = analyse(tmp_path, b.Image(layers), "oci")
    assert [layer.compression for layer in a.images[0].layers] == [compression] * 3
    assert a.waste[0].reclaimable_bytes == 1808
    assert a.images[0].layers[0].diff_id == b.sha256(b.layer_tar(STACK[0]))


def test_a_corrupt_zstd_stream_is_named_as_such():
    data = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(b"layer " * 5000))
    data[len(data) // 2] ^= 0xFF
    stream, method = open_decompressed(io.BytesIO(bytes(data)), name="blob", limits=DEFAULT_LIMITS)
    assert method == "zstd"
    with pytest.raises(CorruptLayer, match="corrupt zstd stream: .*checksum"):
        stream.read()


def test_gzip_layer_named_as_plain_tar_is_still_decompressed(tmp_path):
    # media type says uncompressed, bytes say gzip: the bytes win
    layer = b.Layer(
        b.layer_tar(STACK[0]), "gzip", media_type="application/vnd.oci.image.layer.v1.tar"
    )
    a = analyse(tmp_path, b.Image([layer]), "oci")
    assert a.images[0].layers[0].compression == "gzip"
    assert a.waste[0].final_files == 4


@pytest.mark.parametrize("outer", ["gzip", "zstd"])
def test_whole_archive_compressed(tmp_path, outer):
    path = b.write_docker_archive(
        tmp_path / "x.tar.gz", [image_of(*STACK)], style="podman", outer=outer
    )
    a = load([str(path)])
    assert a.waste[0].reclaimable_bytes == 1808
    assert a.archives[0].format == "docker-archive"


def test_docker25_quirks_trust_manifest_json(tmp_path):
    for quirk in ("shuffled", "null_manifests"):
        path = b.write_docker_archive(
            tmp_path / f"{quirk}.tar", [image_of(*STACK)], style="docker25", docker25_quirk=quirk
        )
        a = load([str(path)])
        assert counts(a) == [[4, 0, 0], [1, 1, 2], [1, 0, 2]]
        assert a.archives[0].warnings  # the disagreement is reported


def test_docker24_shared_layer_as_relative_symlink(tmp_path):
    base = [b.file("bin/sh", b"#!" * 100)]
    one = image_of(base, [b.file("one", b"1")], tags=["x/one:1"])
    two = image_of(base, [b.file("two", b"22")], tags=["x/two:1"])
    path = b.write_docker_archive(tmp_path / "two.tar", [one, two], style="docker24")
    with tarfile.open(path) as t:
        assert any(m.issym() and m.linkname.startswith("../") for m in t.getmembers())
    a = load([str(path)])
    assert [im.ref for im in a.images] == ["x/one:1", "x/two:1"]
    assert [(s.layer_index, s.images) for s in a.sharing.layers] == [(0, [0, 1])]


def test_nested_multiplatform_index_skips_attestations(tmp_path):
    amd = image_of([b.file("hello", b"amd")], architecture="amd64")
    arm = image_of([b.file("hello", b"arm64")], architecture="arm64", variant="v8")
    path = b.write_oci_archive(
        tmp_path / "multi.tar",
        [amd, arm],
        nested_index=True,
        platforms=["linux/amd64", "linux/arm64/v8"],
        attestation=True,
    )
    a = load([str(path)])
    assert [im.platform for im in a.images] == ["linux/amd64", "linux/arm64/v8"]
    assert not a.sharing.layers  # different content


def test_dot_slash_and_absolute_names(tmp_path):
    a = analyse(
        tmp_path,
        image_of(
            [
                b.dir("./"),
                b.dir("./etc/"),
                b.file("./etc/a", b"1"),
                b.file("/etc/b", b"22"),
                b.file("etc//c", b"333"),
            ]
        ),
    )
    assert final(a) == {
        "/etc": ("dir", 0),
        "/etc/a": ("file", 1),
        "/etc/b": ("file", 2),
        "/etc/c": ("file", 3),
    }
    path = b.write_oci_archive(tmp_path / "dots.tar", [image_of(*STACK)], dot_slash=True)
    assert load([str(path)]).waste[0].reclaimable_bytes == 1808


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_300_char_names_and_long_link_targets(tmp_path, fmt):
    long_dir = "d" * 150 + "/" + "e" * 100
    name = long_dir + "/" + "f" * 48
    target = "/" + "t" * 250
    layer = b.Layer(b.layer_tar([b.file(name, b"x"), b.symlink("link", target)], fmt))
    a = analyse(tmp_path, b.Image([layer]))
    assert len(name) == 300
    assert final(a)["/" + name] == ("file", 1)
    assert a.images[0].filesystem.lookup("/link").current.entry.link == target


def test_opaque_marker_after_new_children_and_at_root(tmp_path):
    a = analyse(
        tmp_path,
        image_of(
            [b.file("a/old", b"1111"), b.file("top", b"22")],
            # the marker comes after the layer's own child: it must not hide it
            [b.file("a/new", b"333"), b.opaque("a")],
            [b.file("z", b"4"), b.opaque("")],
        ),
    )
    assert final(a) == {"/z": ("file", 1)}
    assert counts(a) == [[2, 0, 0], [1, 0, 1], [1, 0, 2]]
    assert a.waste[0].reclaimable_bytes == 4 + 2 + 3


def test_whiteout_of_a_directory_counts_every_file_beneath(tmp_path):
    a = analyse(
        tmp_path,
        image_of(
            [
                b.file("d/1", b"1"),
                b.file("d/sub/2", b"22"),
                b.symlink("d/sub/l", "2"),
                b.file("keep", b"k"),
            ],
            [b.whiteout("d")],
        ),
    )
    assert counts(a)[1] == [0, 0, 3]
    assert a.images[0].filesystem.counts[1].deleted_bytes == 3
    assert final(a) == {"/keep": ("file", 1)}


def test_whiteouts_never_hide_their_own_layer(tmp_path):
    a = analyse(tmp_path, image_of([b.file("x", b"old")], [b.file("x", b"new!"), b.whiteout("x")]))
    assert final(a) == {"/x": ("file", 4)}
    assert counts(a)[1] == [0, 1, 0]


def test_type_flips(tmp_path):
    a = analyse(
        tmp_path,
        image_of(
            [b.file("p", b"file"), b.dir("q/"), b.file("q/child", b"cc"), b.symlink("r", "p")],
            [b.dir("p/"), b.file("p/inner", b"i"), b.file("q", b"now a file"), b.dir("r/")],
        ),
    )
    fs = a.images[0].filesystem
    assert final(a) == {
        "/p": ("dir", 0),
        "/p/inner": ("file", 1),
        "/q": ("file", 10),
        "/r": ("dir", 0),
    }
    assert fs.lookup("/q").current.detail == "type"
    assert fs.lookup("/q/child").versions[-1].detail == "replaced"
    # p: file -> dir (the file is gone), q/child deleted, q dir -> file (modified), r symlink -> dir
    assert counts(a)[1] == [1, 1, 3]


def test_hardlink_keeps_old_bytes_alive_when_its_target_is_rewritten(tmp_path):
    a = analyse(
        tmp_path,
        image_of(
            [b.file("lib/big.so", b"A" * 1000), b.hardlink("lib/big.so.1", "lib/big.so")],
            [b.file("lib/big.so", b"B" * 600)],
        ),
    )
    w = a.waste[0]
    # the first 1000 bytes are still what lib/big.so.1 shows: nothing is reclaimable
    assert w.reclaimable_bytes == 0
    assert a.images[0].layers[0].size_bytes == 1000  # the hardlink ships no bytes
    assert final(a)["/lib/big.so.1"] == ("hardlink", 1000)


def test_hardlink_content_counted_once_and_dead_once(tmp_path):
    a = analyse(
        tmp_path,
        image_of(
            [b.file("a", b"x" * 100), b.hardlink("b", "a")],
            [b.whiteout("a"), b.whiteout("b")],
        ),
    )
    assert a.waste[0].reclaimable_bytes == 100
    assert a.waste[0].dead_bytes == [100, 0]


def test_merged_usr_symlink_parent_is_followed_inside_the_tree(tmp_path):
    a = analyse(
        tmp_path,
        image_of(
            [b.dir("usr/bin/"), b.file("usr/bin/sh", b"sh"), b.symlink("bin", "usr/bin")],
            [b.file("bin/tool", b"tool")],
        ),
    )
    got = final(a)
    assert got["/bin"] == ("symlink", 0)
    assert got["/usr/bin/tool"] == ("file", 4)
    assert "/bin/tool" not in got


def test_duplicate_entries_last_wins_and_the_first_copy_is_waste(tmp_path):
    a = analyse(tmp_path, image_of([b.file("f", b"first"), b.file("f", b"second!")]))
    assert final(a) == {"/f": ("file", 7)}
    assert counts(a) == [[1, 0, 0]]
    assert a.waste[0].reclaimable_bytes == 5
    assert a.waste[0].dead_files[0].killed_by is None


def test_history_with_empty_layers_pairs_and_a_mismatch_is_flagged(tmp_path):
    history = [
        {"created_by": "FROM base"},
        {"created_by": "ENV A=1", "empty_layer": True},
        {"created_by": "RUN make"},
        {"created_by": "CMD run", "empty_layer": True},
    ]
    a = analyse(tmp_path, image_of([b.file("a", b"1")], [b.file("b", b"2")], history=history))
    assert [layer.created_by for layer in a.images[0].layers] == ["FROM base", "RUN make"]
    assert not a.images[0].warnings
    short = [{"created_by": "only one"}]
    a = analyse(tmp_path, image_of([b.file("a", b"1")], [b.file("b", b"2")], history=short))
    assert [layer.created_by for layer in a.images[0].layers] == ["only one", None]
    assert any("history" in w for w in a.images[0].warnings)


def test_an_empty_layer(tmp_path):
    a = analyse(tmp_path, image_of([b.file("a", b"1")], []))
    assert counts(a) == [[1, 0, 0], [0, 0, 0]]
    assert a.images[0].layers[1].size_bytes == 0


def test_rm_rf_of_a_cache_dir_is_reclaimable_though_dive_misses_it(tmp_path):
    blob = bytes(range(256)) * (8 * MiB // 256)
    a = analyse(
        tmp_path,
        image_of(
            [b.file("bin/sh", b"#!/bin/sh\n")],
            [
                b.dir("var/"),
                b.dir("var/cache/"),
                b.dir("var/cache/app/"),
                b.file("var/cache/app/blob", blob),
            ],
            [b.whiteout("var/cache/app")],
        ),
        "docker24",
    )
    assert a.waste[0].reclaimable_bytes == 8 * MiB
    assert a.waste[0].dead_files[0].path == "/var/cache/app/blob"
    # dive sees /var/cache/app/blob once and the whiteout of /var/cache/app once: no path
    # occurs twice, so it reports nothing wasted.
    assert a.dive[0].wasted_bytes == 0
    assert a.dive[0].efficiency == 1.0


def test_diff_id_mismatch_is_an_error(tmp_path):
    image = image_of([b.file("a", b"1")], diff_ids=["sha256:" + "0" * 64])
    with pytest.raises(CorruptLayer, match="diff_id"):
        analyse(tmp_path, image)


@pytest.mark.parametrize(
    ("content", "error", "phrase"),
    [
        (b"hello, this is not a tar at all" * 40, NotAnImageArchive, "not a tar"),
        (b"", NotAnImageArchive, "empty file"),
    ],
)
def test_unusable_files(tmp_path, content, error, phrase):
    path = tmp_path / "bad.tar"
    path.write_bytes(content)
    with pytest.raises(error, match=phrase):
        load([str(path)])


def test_truncated_archive(tmp_path):
    path = b.write_docker_archive(tmp_path / "t.tar", [image_of(*STACK)], style="podman")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LayerscopeError, match="truncated|missing"):
        load([str(path)])


def test_missing_manifest(tmp_path):
    path = b.write_raw_tar(tmp_path / "m.tar", [("repositories", b"{}"), ("abc/layer.tar", b"")])
    with pytest.raises(NotAnImageArchive, match="manifest.json"):
        load([str(path)])


def test_missing_blob(tmp_path):
    layer = b.Layer(b.layer_tar(STACK[0]), omit_blob=True)
    path = b.write_oci_archive(tmp_path / "o.tar", [b.Image([layer])])
    with pytest.raises(MissingBlob, match="missing"):
        load([str(path)])


def test_traversal_name_in_a_layer(tmp_path):
    with pytest.raises(HostileArchive, match="escapes the root"):
        analyse(tmp_path, image_of([b.file("../../etc/cron.d/x", b"evil")]))


def test_malformed_manifest(tmp_path):
    path = b.write_raw_tar(tmp_path / "m.tar", [("manifest.json", b'{"not": "a list"}')])
    with pytest.raises(ManifestError, match="not a list"):
        load([str(path)])


def test_device_and_fifo_entries_are_recorded(tmp_path):
    a = analyse(
        tmp_path,
        image_of([b.fifo("run/pipe"), b.Entry("dev/null", "char", devmajor=1, devminor=3)]),
    )
    kinds = {e.path: e.kind for e in a.images[0].layers[0].entries}
    assert kinds["/run/pipe"] == Kind.FIFO
    assert kinds["/dev/null"] == Kind.CHAR


def test_estargz_bookkeeping_is_indexed_not_applied(tmp_path):
    layer = [
        b.file(".prefetch.landmark", b"\xf0"),
        b.file("app", b"bin"),
        b.file("stargz.index.json", b'{"version":1}'),
    ]
    a = analyse(tmp_path, image_of(layer, compression="gzip"), "oci")
    kinds = {e.path: e.kind for e in a.images[0].layers[0].entries}
    assert kinds["/stargz.index.json"] == Kind.META
    assert kinds["/.prefetch.landmark"] == Kind.META
    assert final(a) == {"/app": ("file", 3)}


@pytest.mark.parametrize(
    ("media_type", "declared"),
    [
        ("application/vnd.oci.image.layer.v1.tar+gzip", "gzip"),
        ("application/vnd.oci.image.layer.v1.tar+zstd", "zstd"),
        ("application/vnd.oci.image.layer.v1.tar", "none"),
        ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "gzip"),
        ("application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"),
        ("application/vnd.docker.image.rootfs.diff.tar", "none"),
        ("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "gzip"),
        ("application/vnd.oci.image.layer.v1.tar+gzip+encrypted", None),
        ("application/vnd.oci.image.layer.v1.tar+bzip2", None),
        ("application/octet-stream", None),
        (None, None),
    ],
)
def test_the_compression_a_media_type_declares(media_type, declared):
    """Used only where a cached layer spares a download: a blob read goes by its bytes."""
    assert declared_compression(media_type) == declared
