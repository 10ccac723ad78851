"""The layer reader keeps the bytes of the small files the package analysis asks for."""

from __future__ import annotations

import io
from pathlib import Path

from layerscope.analysis.packages.paths import wanted
from layerscope.archive.tarstream import content_hash, read_layer
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.load import load
from tests import builders as b

STATUS = b"Package: base-files\nStatus: install ok installed\nVersion: 12.4\n\n"


def read(entries: list[b.Entry], limits: Limits = DEFAULT_LIMITS, capture=wanted):
    return read_layer(
        io.BytesIO(b.layer_tar(entries)), layer="test", limits=limits, capture=capture
    )


def test_wanted_paths_are_the_package_databases():
    yes = [
        "/var/lib/dpkg/status",
        "/var/lib/dpkg/info/libc6:amd64.list",
        "/var/lib/dpkg/status.d/base",
        "/var/lib/dpkg/status.d/base.md5sums",
        "/lib/apk/db/installed",
        "/var/lib/rpm/rpmdb.sqlite",
        "/usr/lib/sysimage/rpm/rpmdb.sqlite",
        "/usr/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA",
        "/usr/lib/python3.11/site-packages/six-1.16.0.dist-info/RECORD",
        "/app/node_modules/left-pad/package.json",
        "/app/node_modules/@types/node/package.json",
        "/app/node_modules/a/node_modules/b/package.json",
    ]
    no = [
        "/var/lib/dpkg/status-old",
        "/var/lib/dpkg/info/bash.md5sums",
        "/var/lib/dpkg/info/sub/bash.list",
        "/etc/apt/sources.list",
        "/app/package.json",
        "/app/node_modules/left-pad/lib/package.json",
        "/app/node_modules/@types/package.json",
        "/app/node_modules/.bin/package.json",
        "/usr/lib/python3/six-1.16.0.dist-info/LICENSE",
        "/usr/lib/python3/METADATA",
        "/var/lib/rpm/Packages",
    ]
    assert [p for p in yes if not wanted(p)] == []
    assert [p for p in no if wanted(p)] == []


def test_captured_bytes_and_digests_in_one_pass():
    parsed = read(
        [
            b.dir("var/lib/dpkg/"),
            b.file("var/lib/dpkg/status", b"old"),
            b.file("var/lib/dpkg/status", STATUS),  # the last entry of a path wins
            b.file("var/lib/dpkg/info/base-files.list", b"/etc/debian_version\n"),
            b.file("etc/debian_version", b"12.4\n"),
            b.whiteout("var/lib/dpkg/info/gone.list"),
            b.symlink("lib/apk/db/installed", "/elsewhere"),
        ]
    )
    assert parsed.captured == {
        "/var/lib/dpkg/status": STATUS,
        "/var/lib/dpkg/info/base-files.list": b"/etc/debian_version\n",
    }
    status = [e for e in parsed.entries if e.path == "/var/lib/dpkg/status"]
    assert [e.digest for e in status] == [
        content_hash(b"old").digest(),
        content_hash(STATUS).digest(),
    ]
    assert parsed.warnings == []


def test_capture_is_bounded_and_says_what_it_skipped():
    entries = [
        b.file("var/lib/dpkg/status", STATUS),
        b.file("var/lib/dpkg/info/big.list", b"x" * 5000),
        b.file("var/lib/dpkg/info/a.list", b"/a\n"),
        b.file("var/lib/dpkg/info/b.list", b"/b\n"),
    ]
    parsed = read(entries, Limits(max_capture_file_bytes=1000))
    assert set(parsed.captured) == {
        "/var/lib/dpkg/status",
        "/var/lib/dpkg/info/a.list",
        "/var/lib/dpkg/info/b.list",
    }
    assert len(parsed.warnings) == 1
    assert "/var/lib/dpkg/info/big.list" in parsed.warnings[0]
    assert "--limit" in parsed.warnings[0]
    parsed = read(entries, Limits(max_capture_files=2))
    assert list(parsed.captured) == ["/var/lib/dpkg/status", "/var/lib/dpkg/info/big.list"]
    assert "2 package database file(s) not read" in parsed.warnings[0]
    parsed = read(entries, Limits(max_capture_bytes=len(STATUS) + 4))
    assert list(parsed.captured) == ["/var/lib/dpkg/status", "/var/lib/dpkg/info/a.list"]
    # the figures never depend on the capture: same entries and diff_id either way
    plain = read(entries, capture=None)
    assert plain.captured == {}
    assert plain.diff_id == parsed.diff_id
    assert [(e.path, e.digest) for e in plain.entries] == [
        (e.path, e.digest) for e in parsed.entries
    ]


def test_sparse_members_are_never_captured():
    sparse = b.file(
        "var/lib/dpkg/status",
        b"data",
        pax={"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": "9000"},
    )
    assert read([sparse]).captured == {}


def test_load_hands_captured_files_to_each_layer(tmp_path: Path):
    image = b.Image(
        [
            b.Layer(b.layer_tar([b.file("var/lib/dpkg/status", STATUS)])),
            b.Layer(b.layer_tar([b.file("lib/apk/db/installed", b"P:musl\n")]), "gzip"),
            b.Layer(b.layer_tar([b.file("etc/hostname", b"x\n")])),
        ]
    )
    path = tmp_path / "a.tar"
    b.write_docker_archive(path, [image], style="podman")
    layers = load([str(path)]).images[0].layers
    assert [layer.captured for layer in layers] == [
        {"/var/lib/dpkg/status": STATUS},
        {"/lib/apk/db/installed": b"P:musl\n"},
        {},
    ]
