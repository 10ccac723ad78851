"""Hostile and broken archives (issue #4): every one ends in exit 2 with one clear line on
stderr naming the file and the problem, or in a result that carries a warning. Never a
traceback, never another exception type, never a hang, and nothing is ever written.

Each input is built in tmp_path with tests/builders.py (plus a few hand-made tar headers),
run through the CLI in-process (LAYERSCOPE_DEBUG=1, so an unexpected exception escapes as
itself instead of as the CLI's fallback line) and through `load()` to pin the error class.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import zstandard

from layerscope.analysis import Analysis
from layerscope.cli import common as cli_common
from layerscope.cli import main
from layerscope.errors import (
    CorruptLayer,
    HostileArchive,
    LayerscopeError,
    LimitExceeded,
    ManifestError,
    MissingBlob,
    NotAnImageArchive,
)
from layerscope.limits import DEFAULT_LIMITS, Limits, MiB
from layerscope.load import load
from layerscope.model.entry import Kind
from tests import builders as b

REPO = Path(__file__).resolve().parents[1]

ENCRYPTED = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted"
FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

# Helpers -------------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under root with (mode, size, mtime): detects any write, create or delete."""
    out: dict[str, tuple[int, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            out[os.path.relpath(full, root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


@dataclass
class Run:
    code: int
    out: str
    err: str
    # What the CLI's own call of load() was given and gave back (or raised): one load per
    # run pins both the user's line and the library's exception or Analysis.
    load_kwargs: dict[str, Any] = field(default_factory=dict)
    analysis: Analysis | None = None
    error: BaseException | None = None


@pytest.fixture
def cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Run]:
    """`layerscope report -q ARGS...` in-process, checking that nothing was written."""
    seen: dict[str, Any] = {}

    def spy_load(paths: list[str], **kwargs: Any) -> Analysis:
        seen["kwargs"] = kwargs
        try:
            seen["analysis"] = load(paths, **kwargs)
        except BaseException as exc:
            seen["error"] = exc
            raise
        return seen["analysis"]

    monkeypatch.setattr(cli_common, "load", spy_load)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("LAYERSCOPE_DEBUG", "1")  # unexpected exceptions escape as themselves

    def run(*args: object) -> Run:
        capsys.readouterr()
        seen.clear()
        before = _snapshot(tmp_path)
        code = main(["report", "-q", *(str(a) for a in args)])
        out, err = capsys.readouterr()
        assert _snapshot(tmp_path) == before, "the run wrote to the tmp dir or the cwd"
        return Run(code, out, err, seen.get("kwargs", {}), seen.get("analysis"), seen.get("error"))

    return run


_OUTCOMES: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _outcome_table(pytestconfig: pytest.Config) -> Iterator[None]:
    """What layerscope said to each hostile archive, as a table shown with `pytest -s` only."""
    yield
    if pytestconfig.getoption("capture") == "no" and _OUTCOMES:
        print("\n\nHostile archives and what layerscope said:\n" + "\n".join(_OUTCOMES))
    _OUTCOMES.clear()


def record(path: Path, outcome: str) -> None:
    _OUTCOMES.append(f"[{path.name}] {outcome}")


def expect_error(
    cli: Callable[..., Run],
    path: Path,
    phrase: str,
    cls: type[LayerscopeError],
    *args: str,
    limits: Limits = DEFAULT_LIMITS,
    verify: bool = False,
) -> str:
    """Exit 2, nothing on stdout, exactly one stderr line naming the file and the problem;
    load() raises `cls`. Returns the line."""
    run = cli(path, *args)
    lines = run.err.splitlines()
    assert run.code == 2, run
    assert run.out == ""
    assert len(lines) == 1, run.err
    line = lines[0]
    prefix = f"layerscope: {path}: "
    assert line.startswith(prefix), line
    message = line[len(prefix) :]  # what follows the file name
    assert phrase in message, line
    assert "unexpected" not in line
    assert "Traceback" not in run.err
    # load(), called by the CLI with these limits, raised `cls` with the phrase
    assert run.load_kwargs["limits"] == limits
    assert run.load_kwargs["verify"] == verify
    assert isinstance(run.error, cls), repr(run.error)
    assert phrase in str(run.error)
    if isinstance(run.error, LimitExceeded):
        hint = f"(raise it with --limit {run.error.limit}=N)"
        assert hint in line, line
        assert hasattr(DEFAULT_LIMITS, run.error.limit)
    record(path, line)
    return line


def expect_result(
    cli: Callable[..., Run], path: Path, phrase: str | None, *args: str, **load_kw: Any
) -> tuple[dict[str, Any], Analysis]:
    """Exit 0 with a JSON report; `phrase` (when given) is in one of its warnings."""
    run = cli(path, "--json", *args)
    assert run.code == 0, run
    assert run.err == ""
    report = json.loads(run.out)
    warnings = [w for a in report["archives"] for w in a["warnings"]]
    warnings += [w for im in report["images"] for w in im["warnings"]]
    if phrase is not None:
        hits = [w for w in warnings if phrase in w]
        assert hits, warnings
        record(path, f"warning: {hits[0]}")
    for name, value in load_kw.items():  # the CLI's load() got what the caller expects
        assert run.load_kwargs[name] == value, name
    assert run.analysis is not None
    return report, run.analysis


def image(*layers: b.Layer, **kw: Any) -> b.Image:
    return b.Image(list(layers), **kw)


def tar_layer(*entries: b.Entry, compression: str = "none", **kw: Any) -> b.Layer:
    return b.Layer(b.layer_tar(entries), compression=compression, **kw)


@dataclass
class StoredLayer(b.Layer):
    """A layer whose stored blob is given as is (truncated, recompressed, a bomb...)."""

    stored: bytes = b""

    def blob(self) -> bytes:
        return self.stored


def rewrite_outer(
    src: Path,
    dst: Path,
    edit: Callable[[tarfile.TarInfo, bytes | None], list[tuple[tarfile.TarInfo, bytes | None]]],
    extra: list[tuple[tarfile.TarInfo, bytes | None]] | None = None,
) -> Path:
    """Copy an uncompressed outer tar member by member through `edit` (drop / change /
    replace members), then append `extra`."""
    members = [m for info, data in b.read_members(src) for m in edit(info, data)]
    members += extra or []
    dst.write_bytes(b.pack_members(members))
    return dst


def file_info(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    return info, data


def symlink_info(name: str, target: str) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
    return info, None


def raw_header(
    name: bytes, *, size_field: bytes | None = None, size: int = 0, typeflag: bytes = b"0"
) -> bytes:
    """One ustar header written by hand, with a correct checksum."""
    h = bytearray(512)
    h[0 : len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field if size_field is not None else b"%011o\0" % size
    h[136:148] = b"14524770400\0"
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def podman_archive(path: Path, *layers: b.Layer, **kw: Any) -> Path:
    return b.write_docker_archive(path, [image(*layers, **kw)], style="podman")


def small_layer() -> b.Layer:
    return tar_layer(b.dir("etc/"), b.file("etc/hostname", b"box\n"))


# Zero bombs: gzip members / zstd frames of zeros, each valid on its own, repeated. A 16 MiB
# chunk of zeros is ~16 KiB of gzip and ~0.5 KiB of zstd, so 20 GiB costs ~20 MiB / ~1 MiB.

_CHUNK = 16 * MiB


def _bomb_parts(method: str, prefix: bytes, zeros: int, suffix: bytes) -> Iterator[bytes]:
    assert zeros % _CHUNK == 0
    pack: Callable[[bytes], bytes]
    if method == "gzip":
        pack = functools.partial(gzip.compress, compresslevel=9, mtime=0)
    else:
        pack = zstandard.ZstdCompressor(level=19).compress
    chunk = pack(bytes(_CHUNK))
    yield pack(prefix)
    for _ in range(zeros // _CHUNK):
        yield chunk
    yield pack(suffix)


def bomb_layer_blob(method: str, zeros: int) -> bytes:
    """A compressed layer: one file entry of `zeros` zero bytes (sized with a PAX record)."""
    info = tarfile.TarInfo("zeros.bin")
    info.size, info.mode = zeros, 0o644
    header = info.tobuf(tarfile.PAX_FORMAT)
    return b"".join(_bomb_parts(method, header, zeros, bytes(1024)))


def bomb_archive(path: Path, method: str, zeros: int) -> Path:
    layer = StoredLayer(b"", compression=method, stored=bomb_layer_blob(method, zeros))
    img = image(layer, diff_ids=["sha256:" + "0" * 64])
    return b.write_oci_archive(path, [img])


# Path traversal --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/../x"])
def test_layer_entry_escaping_the_root(cli: Callable[..., Run], tmp_path: Path, name: str) -> None:
    path = podman_archive(tmp_path / "traversal.tar", tar_layer(b.file(name, b"evil")))
    expect_error(cli, path, "entry name escapes the root", HostileArchive)


def test_layer_entry_with_absolute_name(cli: Callable[..., Run], tmp_path: Path) -> None:
    path = podman_archive(
        tmp_path / "absolute.tar", tar_layer(b.file("/x", b"abs"), b.file("/etc/y", b"y"))
    )
    report, analysis = expect_result(cli, path, "absolute")
    paths = {node.path for node, _v in analysis.images[0].filesystem.iter_present()}
    assert {"/x", "/etc/y"} <= paths  # read relative to the layer root, like tar does


@pytest.mark.parametrize(
    ("name", "phrase"),
    [("../evil", "member name escapes the archive"), ("/evil", "absolute member name")],
)
def test_outer_member_escaping_the_archive(
    cli: Callable[..., Run], tmp_path: Path, name: str, phrase: str
) -> None:
    good = podman_archive(tmp_path / "good.tar", small_layer())
    path = rewrite_outer(
        good, tmp_path / "outer-traversal.tar", lambda i, d: [(i, d)], [file_info(name, b"x")]
    )
    expect_error(cli, path, phrase, HostileArchive)


def _layer_tar_as_symlink(tmp_path: Path, name: str, target_of: Callable[[str], str]) -> Path:
    good = b.write_docker_archive(tmp_path / "good24.tar", [image(small_layer())], style="docker24")

    def edit(info: tarfile.TarInfo, data: bytes | None) -> list[Any]:
        if info.name.endswith("/layer.tar"):
            return [symlink_info(info.name, target_of(info.name))]
        return [(info, data)]

    return rewrite_outer(good, tmp_path / name, edit)


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "../../../../../x"])
def test_layer_tar_symlink_out_of_the_archive(
    cli: Callable[..., Run], tmp_path: Path, target: str
) -> None:
    path = _layer_tar_as_symlink(tmp_path, "link-out.tar", lambda _n: target)
    expect_error(cli, path, "links outside the archive", HostileArchive)


def test_layer_tar_symlink_loop(cli: Callable[..., Run], tmp_path: Path) -> None:
    path = _layer_tar_as_symlink(
        tmp_path,
        "link-loop.tar",
        lambda n: "../" + n,  # <id>/layer.tar -> ../<id>/layer.tar
    )
    expect_error(cli, path, "link loop", HostileArchive)


def test_layer_tar_symlink_two_hop_loop(cli: Callable[..., Run], tmp_path: Path) -> None:
    good = b.write_docker_archive(tmp_path / "good24.tar", [image(small_layer())], style="docker24")

    def edit(info: tarfile.TarInfo, data: bytes | None) -> list[Any]:
        if info.name.endswith("/layer.tar"):
            return [symlink_info(info.name, "../loop/b.tar")]
        return [(info, data)]

    path = rewrite_outer(
        good,
        tmp_path / "link-loop2.tar",
        edit,
        [symlink_info("loop/b.tar", "../loop/c.tar"), symlink_info("loop/c.tar", "b.tar")],
    )
    expect_error(cli, path, "link loop", HostileArchive)


def test_layout_directory_blob_symlink_out_and_loop(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    layer = small_layer()
    layout = b.write_oci_archive(tmp_path / "layout", [image(layer)], as_dir=True)
    blob = layout / "blobs" / "sha256" / layer.digest.split(":")[1]
    outside = tmp_path / "outside.tar"
    outside.write_bytes(blob.read_bytes())
    blob.unlink()
    blob.symlink_to(outside)
    expect_error(cli, layout, "points outside the directory", HostileArchive)
    blob.unlink()
    blob.symlink_to(blob.name)  # a link to itself
    expect_error(cli, layout, "link loop", HostileArchive)


# Links inside layers ---------------------------------------------------------------------------


def test_symlinks_pointing_out_of_the_root_are_data(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    sentinel = tmp_path / "sentinel"
    sentinel.write_bytes(b"host file")
    path = podman_archive(
        tmp_path / "symlink-out.tar",
        tar_layer(
            b.symlink("passwd", "../../etc/passwd"),
            b.symlink("host", str(sentinel)),
            b.symlink("up", "../../../../.."),
        ),
        # a later layer writes "through" the link: it lands inside the tree, never outside
        tar_layer(b.file("up/tmp/pwned", b"x")),
    )
    report, analysis = expect_result(cli, path, None)
    fs = analysis.images[0].filesystem
    present = {node.path: v for node, v in fs.iter_present()}
    assert present["/passwd"].entry.kind == Kind.SYMLINK  # type: ignore[union-attr]
    assert present["/passwd"].entry.link == "../../etc/passwd"  # type: ignore[union-attr]
    assert present["/host"].entry.link == str(sentinel)  # type: ignore[union-attr]
    assert present["/host"].size == 0  # the host file was never read
    assert "/tmp/pwned" in present  # clamped at the image root
    assert sentinel.read_bytes() == b"host file"
    assert report["images"][0]["size_bytes"] == 1


@pytest.mark.parametrize("target", ["../../etc/passwd", "a/../../../x"])
def test_hardlink_escaping_the_root(cli: Callable[..., Run], tmp_path: Path, target: str) -> None:
    path = podman_archive(
        tmp_path / "hardlink-out.tar", tar_layer(b.file("a", b"x"), b.hardlink("b", target))
    )
    expect_error(cli, path, "hardlink target escapes the root", HostileArchive)


def test_hardlink_to_absolute_or_missing_target(cli: Callable[..., Run], tmp_path: Path) -> None:
    # An absolute linkname is relative to the layer root (like tar); a missing target is a
    # broken image, not a hostile one: reported, not fatal.
    path = podman_archive(
        tmp_path / "hardlink-missing.tar",
        tar_layer(b.file("etc/a", b"abc"), b.hardlink("b", "/etc/a"), b.hardlink("c", "nope")),
    )
    _report, analysis = expect_result(cli, path, "hardlink /c -> /nope: no such file")
    present = {node.path: v for node, v in analysis.images[0].filesystem.iter_present()}
    assert present["/b"].size == 3


# Missing and mismatched blobs ------------------------------------------------------------------


def test_manifest_names_a_missing_config(cli: Callable[..., Run], tmp_path: Path) -> None:
    img = image(small_layer())
    good = b.write_docker_archive(tmp_path / "good.tar", [img], style="podman")
    config = img.config_digest.split(":")[1] + ".json"
    path = rewrite_outer(
        good, tmp_path / "no-config.tar", lambda i, d: [] if i.name == config else [(i, d)]
    )
    expect_error(cli, path, f"{config} is missing from the archive", MissingBlob)


def test_oci_manifest_names_a_missing_config(cli: Callable[..., Run], tmp_path: Path) -> None:
    img = image(small_layer())
    good = b.write_oci_archive(tmp_path / "good-oci.tar", [img])
    hex_ = img.config_digest.split(":")[1]
    path = rewrite_outer(
        good, tmp_path / "oci-no-config.tar", lambda i, d: [] if i.name.endswith(hex_) else [(i, d)]
    )
    expect_error(cli, path, f"config blob {img.config_digest} is missing", MissingBlob)


def test_missing_layer_blob_docker(cli: Callable[..., Run], tmp_path: Path) -> None:
    layer = small_layer()
    good = podman_archive(tmp_path / "good.tar", layer)
    name = layer.diff_id.split(":")[1] + ".tar"
    path = rewrite_outer(
        good, tmp_path / "no-layer.tar", lambda i, d: [] if i.name == name else [(i, d)]
    )
    expect_error(cli, path, f"layer 0 ({name}) is missing", MissingBlob)


def test_missing_layer_blob_oci(cli: Callable[..., Run], tmp_path: Path) -> None:
    layer = tar_layer(b.file("a", b"a"), compression="gzip")
    img = image(small_layer(), layer)
    good = b.write_oci_archive(tmp_path / "good-oci.tar", [img])
    hex_ = layer.digest.split(":")[1]
    path = rewrite_outer(
        good, tmp_path / "oci-no-layer.tar", lambda i, d: [] if i.name.endswith(hex_) else [(i, d)]
    )
    expect_error(cli, path, f"layer 1 blob {layer.digest} is missing", MissingBlob)


def _replace_blob(src: Path, dst: Path, digest: str, data: bytes) -> Path:
    hex_ = digest.split(":")[1]
    return rewrite_outer(src, dst, lambda i, d: [(i, data)] if i.name.endswith(hex_) else [(i, d)])


def test_oci_config_digest_mismatch(cli: Callable[..., Run], tmp_path: Path) -> None:
    img = image(small_layer())
    good = b.write_oci_archive(tmp_path / "good-oci.tar", [img])
    tampered = img.config_bytes().replace(b'"amd64"', b'"arm64"')
    path = _replace_blob(good, tmp_path / "config-digest.tar", img.config_digest, tampered)
    expect_error(cli, path, f"content does not match its digest {img.config_digest}", ManifestError)


def test_oci_manifest_digest_mismatch(cli: Callable[..., Run], tmp_path: Path) -> None:
    img = image(small_layer())
    good = b.write_oci_archive(tmp_path / "good-oci.tar", [img])
    manifest = img.oci_manifest()
    tampered = manifest.replace(b'"schemaVersion":2', b'"schemaVersion":3')
    path = _replace_blob(good, tmp_path / "manifest-digest.tar", b.sha256(manifest), tampered)
    expect_error(cli, path, "content does not match its digest", ManifestError)


def test_gzip_layer_digest_mismatch_needs_verify(cli: Callable[..., Run], tmp_path: Path) -> None:
    layer = tar_layer(b.file("a", b"hello " * 100), compression="gzip")
    img = image(small_layer(), layer)
    good = b.write_oci_archive(tmp_path / "good-oci.tar", [img])
    # Same uncompressed tar (same diff_id), same size, different stored bytes.
    blob = bytearray(layer.blob())
    blob[4] ^= 0x01  # the gzip header's mtime field
    path = _replace_blob(good, tmp_path / "layer-digest-gzip.tar", layer.digest, bytes(blob))
    # Without --verify the compressed digest is not computed; the diff_id still matches.
    expect_result(cli, path, None)
    expect_error(
        cli,
        path,
        f"layer 1 blob does not match its digest {layer.digest}",
        CorruptLayer,
        "--verify",
        verify=True,
    )


def test_zstd_layer_digest_mismatch_with_verify(cli: Callable[..., Run], tmp_path: Path) -> None:
    tar = b.layer_tar([b.file("a", b"hello " * 100)])
    layer = b.Layer(tar, compression="zstd")
    img = image(small_layer(), layer)
    good = b.write_oci_archive(tmp_path / "good-oci.tar", [img])
    # A different zstd encoding of the same tar, padded to the same size with a skippable frame.
    other = min((zstandard.ZstdCompressor(level=n).compress(tar) for n in range(1, 20)), key=len)
    pad = len(layer.blob()) - len(other) - 8
    assert pad >= 0
    blob = other + (0x184D2A50).to_bytes(4, "little") + pad.to_bytes(4, "little") + bytes(pad)
    assert len(blob) == len(layer.blob())
    path = _replace_blob(good, tmp_path / "layer-digest-zstd.tar", layer.digest, blob)
    expect_result(cli, path, None)
    expect_error(
        cli,
        path,
        f"layer 1 blob does not match its digest {layer.digest}",
        CorruptLayer,
        "--verify",
        verify=True,
    )


def test_uncompressed_layer_digest_mismatch(cli: Callable[..., Run], tmp_path: Path) -> None:
    layer = tar_layer(b.file("a", b"1234"))
    img = image(layer)
    good = b.write_oci_archive(tmp_path / "good-oci.tar", [img])
    swapped = b.layer_tar([b.file("a", b"4321")])  # same size
    path = _replace_blob(good, tmp_path / "tar-digest.tar", layer.digest, swapped)
    expect_error(cli, path, "has diff_id", CorruptLayer)


def test_layer_blob_size_differs_from_descriptor(cli: Callable[..., Run], tmp_path: Path) -> None:
    layer = tar_layer(b.file("a", b"1234"), compression="gzip")
    good = b.write_oci_archive(tmp_path / "good-oci.tar", [image(layer)])
    path = _replace_blob(good, tmp_path / "size.tar", layer.digest, layer.blob() + b"\0")
    expect_error(cli, path, "its descriptor says", ManifestError)


def test_diff_ids_do_not_match_layers(cli: Callable[..., Run], tmp_path: Path) -> None:
    wrong = "sha256:" + "0" * 64
    path = podman_archive(tmp_path / "diff-ids.tar", small_layer(), diff_ids=[wrong])
    expect_error(cli, path, f"but the config says {wrong}", CorruptLayer)
    path = b.write_oci_archive(
        tmp_path / "diff-ids-oci.tar",
        [image(tar_layer(b.file("a", b"x"), compression="zstd"), diff_ids=[wrong])],
    )
    expect_error(cli, path, f"but the config says {wrong}", CorruptLayer)


def test_diff_ids_count_differs(cli: Callable[..., Run], tmp_path: Path) -> None:
    layer = small_layer()
    path = b.write_oci_archive(
        tmp_path / "diff-id-count.tar", [image(layer, diff_ids=[layer.diff_id] * 2)]
    )
    expect_error(cli, path, "the config lists 2 diff_ids for 1 layer", ManifestError)


# Truncation -----------------------------------------------------------------------------------


def test_truncated_outer_tar(cli: Callable[..., Run], tmp_path: Path) -> None:
    big = tar_layer(b.file("big.bin", os.urandom(64 * 1024)))
    good = podman_archive(tmp_path / "good.tar", small_layer(), big)
    data = good.read_bytes()
    # in the middle of the big layer's data
    path = tmp_path / "truncated-outer.tar"
    path.write_bytes(data[: 512 * 4 + 32 * 1024])
    expect_error(cli, path, "truncated archive", CorruptLayer)
    # in the padding after a member's data: the rest of the archive is gone
    path2 = tmp_path / "truncated-outer-padding.tar"
    path2.write_bytes(data[: len(data) - 3 * 1024 - 100])
    expect_error(cli, path2, "truncated archive", CorruptLayer)
    # in the middle of a header
    path3 = tmp_path / "truncated-outer-header.tar"
    with tarfile.open(good) as tar:
        last_header = tar.getmembers()[-1].offset
    path3.write_bytes(data[: last_header + 100])
    expect_error(cli, path3, "truncated tar stream", CorruptLayer)


@pytest.mark.parametrize("outer", ["gzip", "zstd"])
def test_truncated_compressed_outer_tar(
    cli: Callable[..., Run], tmp_path: Path, outer: str
) -> None:
    big = tar_layer(b.file("big.bin", os.urandom(64 * 1024)))
    good = b.write_docker_archive(
        tmp_path / f"good.tar.{outer}", [image(small_layer(), big)], style="podman", outer=outer
    )
    data = good.read_bytes()
    path = tmp_path / f"truncated-outer.tar.{outer}"
    path.write_bytes(data[: len(data) // 2])
    expect_error(cli, path, f"truncated {outer} stream", CorruptLayer)


def test_truncated_layer(cli: Callable[..., Run], tmp_path: Path) -> None:
    tar = b.layer_tar([b.file("a", b"x" * 5000), b.file("b", b"y")])
    layer = StoredLayer(tar, stored=tar[:2000])
    path = podman_archive(tmp_path / "truncated-layer.tar", layer)
    expect_error(cli, path, "truncated tar stream", CorruptLayer)


@pytest.mark.parametrize("method", ["gzip", "zstd"])
@pytest.mark.parametrize("keep", [0.5, 0.9, -4])
def test_truncated_compressed_layer(
    cli: Callable[..., Run], tmp_path: Path, method: str, keep: float
) -> None:
    tar = b.layer_tar([b.file("a", os.urandom(300_000)), b.file("b", b"y" * 1000)])
    blob = b.compress(tar, method)
    cut = int(len(blob) * keep) if keep > 0 else len(blob) + int(keep)
    layer = StoredLayer(tar, compression=method, stored=blob[:cut])
    path = b.write_oci_archive(tmp_path / f"truncated-{method}.tar", [image(layer)])
    expect_error(cli, path, f"truncated {method} stream", CorruptLayer)


# Garbage tar headers ---------------------------------------------------------------------------


def test_bad_checksum_in_first_layer_header(cli: Callable[..., Run], tmp_path: Path) -> None:
    tar = bytearray(b.layer_tar([b.file("a", b"x"), b.file("b", b"y")]))
    tar[0] ^= 0x20  # the name, not the checksum
    path = podman_archive(tmp_path / "bad-first.tar", StoredLayer(bytes(tar), stored=bytes(tar)))
    expect_error(cli, path, "not a tar stream (bad first header)", CorruptLayer)


def test_bad_checksum_later_in_layer(cli: Callable[..., Run], tmp_path: Path) -> None:
    tar = bytearray(b.layer_tar([b.file("a", b"x"), b.file("b", b"y")], format=tarfile.GNU_FORMAT))
    tar[1024] ^= 0x20  # second member's name
    path = podman_archive(tmp_path / "bad-sum.tar", StoredLayer(bytes(tar), stored=bytes(tar)))
    expect_error(cli, path, "bad tar header checksum at offset 1024", CorruptLayer)


def test_negative_size_base256(cli: Callable[..., Run], tmp_path: Path) -> None:
    tar = raw_header(b"neg", size_field=b"\xff" * 12) + bytes(1024)
    path = podman_archive(tmp_path / "negative.tar", StoredLayer(tar, stored=tar))
    expect_error(cli, path, "negative member size at offset 0", CorruptLayer)


def test_bad_base256_marker(cli: Callable[..., Run], tmp_path: Path) -> None:
    tar = raw_header(b"odd", size_field=b"\x81" + bytes(11)) + bytes(1024)
    path = podman_archive(tmp_path / "base256.tar", StoredLayer(tar, stored=tar))
    expect_error(cli, path, "bad base-256 size in tar header at offset 0", CorruptLayer)


@pytest.mark.parametrize(
    "field", [b"0o000001000\0", b"+0000001000\0", b"00000_01000\0", b"\t0000001000\0"]
)
def test_a_number_only_python_reads_is_refused(
    cli: Callable[..., Run], tmp_path: Path, field: bytes
) -> None:
    """int() takes "0o1000", "+1000", "1_000" and a tab; Go's archive/tar, which the
    runtimes read layers with, refuses them: a size others do not see is not read."""
    tar = raw_header(b"odd", size_field=field) + bytes(512) + bytes(1024)
    path = podman_archive(tmp_path / "odd-number.tar", StoredLayer(tar, stored=tar))
    text = field.strip(b" \0")
    expect_error(cli, path, f"bad size field {text!r} in tar header at offset 0", CorruptLayer)


def test_a_number_after_a_nul_is_read_as_go_reads_it(tmp_path: Path) -> None:
    """Go's archive/tar trims NULs and spaces from both ends of a number: a size field
    "\\0 0000001000\\0" is 512 bytes there, so here too (not 0 and a corrupt stream)."""
    tar = raw_header(b"f", size_field=b"\x000000001000\0") + b"x" * 512 + bytes(1024)
    path = podman_archive(tmp_path / "nul-first.tar", StoredLayer(tar, stored=tar))
    analysis = load([str(path)], cache=None)
    (entry,) = analysis.images[0].layers[0].entries
    assert (entry.path, entry.size) == ("/f", 512)


def test_huge_size_base256(cli: Callable[..., Run], tmp_path: Path) -> None:
    huge = b"\x80" + (1 << 80).to_bytes(11, "big")
    tar = raw_header(b"huge", size_field=huge) + b"data" + bytes(1020)
    path = podman_archive(tmp_path / "huge.tar", StoredLayer(tar, stored=tar))
    expect_error(cli, path, "truncated tar stream (member data cut short)", CorruptLayer)


def test_huge_size_in_outer_archive(cli: Callable[..., Run], tmp_path: Path) -> None:
    huge = b"\x80" + (1 << 80).to_bytes(11, "big")
    for name, fname in ((b"./", "huge-outer-root.tar"), (b"junk", "huge-outer.tar")):
        data = raw_header(name, size_field=huge, typeflag=b"5" if name == b"./" else b"0")
        path = tmp_path / fname
        path.write_bytes(data + bytes(4096))
        expect_error(cli, path, "truncated archive", CorruptLayer)


def test_huge_pax_size(cli: Callable[..., Run], tmp_path: Path) -> None:
    entry = b.file("a", b"x", pax={"size": str(10**30)})
    tar = b.layer_tar([entry])
    path = podman_archive(tmp_path / "pax-size.tar", StoredLayer(tar, stored=tar))
    expect_error(cli, path, "truncated tar stream", CorruptLayer)


@pytest.mark.parametrize(
    ("key", "value"),
    [("size", " 1"), ("uid", "1_0"), ("gid", "\u0661"), ("mtime", "1e9"), ("mtime", " 5")],
)
def test_pax_numbers_are_ascii_digits(
    cli: Callable[..., Run], tmp_path: Path, key: str, value: str
) -> None:
    """int() reads " 1", "1_0" and "1e9" (through float); tar and Go's archive/tar refuse
    them, so an archive could show us figures other tools do not see."""
    entry = b.file("a", b"x", pax={key: value})
    tar = b.layer_tar([entry])
    path = podman_archive(tmp_path / "pax-number.tar", StoredLayer(tar, stored=tar))
    expect_error(cli, path, "bad number in pax header", CorruptLayer)


def test_oversized_pax_header(cli: Callable[..., Run], tmp_path: Path) -> None:
    entry = b.file("a", b"x", pax={"comment": "z" * (2 * MiB)})
    tar = b.layer_tar([entry])
    path = podman_archive(tmp_path / "pax-big.tar", StoredLayer(tar, stored=tar))
    expect_error(cli, path, "pax header of", LimitExceeded)


def test_garbage_instead_of_layer(cli: Callable[..., Run], tmp_path: Path) -> None:
    junk = bytes(range(256)) * 8
    path = podman_archive(tmp_path / "junk-layer.tar", StoredLayer(junk, stored=junk))
    expect_error(cli, path, "not a tar stream", CorruptLayer)


# Bombs and sizes -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["gzip", "zstd"])
def test_decompression_bomb_ratio(cli: Callable[..., Run], tmp_path: Path, method: str) -> None:
    path = bomb_archive(tmp_path / f"bomb-{method}.tar", method, 256 * MiB)
    assert path.stat().st_size < 2 * MiB
    start = time.monotonic()
    expect_error(cli, path, f"{method} stream expands more than 200:1", LimitExceeded)
    assert time.monotonic() - start < 20


@pytest.mark.parametrize("method", ["gzip", "zstd"])
def test_decompression_bomb_layer_size(
    cli: Callable[..., Run], tmp_path: Path, method: str
) -> None:
    path = bomb_archive(tmp_path / f"bomb-small-{method}.tar", method, 32 * MiB)
    expect_error(
        cli,
        path,
        "stream expands past 4194304 bytes",
        LimitExceeded,
        "--limit",
        "max_layer_bytes=4M",
        limits=Limits(max_layer_bytes=4 * MiB),
    )


def test_total_bytes_budget_names_the_file(cli: Callable[..., Run], tmp_path: Path) -> None:
    layer = tar_layer(b.file("a", bytes(300_000)), compression="gzip")
    path = b.write_oci_archive(tmp_path / "budget.tar", [image(layer, small_layer())])
    expect_error(
        cli,
        path,
        "expand past 100000 bytes",
        LimitExceeded,
        "--limit",
        "max_total_bytes=100000",
        limits=Limits(max_total_bytes=100_000),
    )


def test_outer_gzip_bomb(cli: Callable[..., Run], tmp_path: Path) -> None:
    info = tarfile.TarInfo("junk")
    info.size = 256 * MiB
    data = b"".join(_bomb_parts("gzip", info.tobuf(tarfile.PAX_FORMAT), 256 * MiB, bytes(1024)))
    path = tmp_path / "outer-bomb.tar.gz"
    path.write_bytes(data)
    expect_error(cli, path, "gzip stream expands more than 200:1", LimitExceeded)


_BOMB_RUNNER = """
import sys
from layerscope.cli import common as cli_common
from layerscope.cli import main
sys.exit(main(["report", "-q", sys.argv[1]]))
"""


def _limit_address_space() -> None:
    limit = int(1.5 * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize("method", ["gzip", "zstd"])
def test_real_size_bomb_in_a_subprocess(tmp_path: Path, method: str) -> None:
    """20 GiB of zeros in ~20 MiB (gzip) / ~1 MiB (zstd), under a 1.5 GiB address space."""
    zeros = 20 * 1024 * MiB
    path = bomb_archive(tmp_path / f"real-bomb-{method}.tar", method, zeros)
    assert path.stat().st_size < 24 * MiB
    before = _snapshot(tmp_path)
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", _BOMB_RUNNER, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        preexec_fn=_limit_address_space,
    )
    elapsed = time.monotonic() - start
    assert proc.returncode == 2, proc
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"layerscope: {path}")
    assert f"{method} stream expands more than 200:1" in lines[0]
    assert "(raise it with --limit max_ratio=N)" in lines[0]
    assert elapsed < 30
    assert _snapshot(tmp_path) == before
    record(path, lines[0])


def _entries_chunks(count: int, per_chunk: int = 10_000) -> Iterator[bytes]:
    """`count` empty files as raw ustar headers, then the end-of-archive blocks, in chunks.

    Each name is 'f', seven digits and their nines' complements ('f' '0000012' '9999987'),
    so every name has the same byte sum: one checksum serves all, and a header is its name
    plus one constant tail. Nothing but the chunk being built is held in memory.
    """
    tail = raw_header(b"f" + b"0" * 7 + b"9" * 7)[15:]
    flip = bytes.maketrans(b"0123456789", b"9876543210")
    for start in range(0, count, per_chunk):
        numbers = (b"%07d" % i for i in range(start, min(start + per_chunk, count)))
        yield b"".join(b"f" + n + n.translate(flip) + tail for n in numbers)
    yield bytes(1024)


@dataclass
class StreamedLayer(StoredLayer):
    """A layer built chunk by chunk: only its compressed blob and its diff_id are kept."""

    streamed_diff_id: str = ""

    @property
    def diff_id(self) -> str:
        return self.streamed_diff_id


def streamed_gzip_layer(chunks: Iterator[bytes]) -> StreamedLayer:
    diff_id = hashlib.sha256()
    blob = io.BytesIO()
    with gzip.GzipFile(fileobj=blob, mode="wb", compresslevel=1, mtime=0) as gz:
        for chunk in chunks:
            diff_id.update(chunk)
            gz.write(chunk)
    return StreamedLayer(
        b"", "gzip", stored=blob.getvalue(), streamed_diff_id="sha256:" + diff_id.hexdigest()
    )


def test_entries_chunks_are_valid_distinct_entries() -> None:
    layer = b"".join(_entries_chunks(25, per_chunk=10))
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        members = tar.getmembers()  # tarfile checks every header's checksum
    names = [m.name for m in members]
    assert len(set(names)) == 25
    assert names[12] == "f00000129999987"
    assert all(m.isfile() and m.size == 0 for m in members)


def test_too_many_entries(cli: Callable[..., Run], tmp_path: Path) -> None:
    tar = b"".join(_entries_chunks(2_000))
    path = podman_archive(tmp_path / "entries.tar", StoredLayer(tar, stored=tar))
    expect_error(
        cli,
        path,
        "layer has more than 1000 entries",
        LimitExceeded,
        "--limit",
        "max_entries=1000",
        limits=Limits(max_entries=1000),
    )


@pytest.mark.slow
def test_two_million_entries(cli: Callable[..., Run], tmp_path: Path) -> None:
    """1 GiB of headers (20 MiB of gzip) streamed into the archive, never held whole."""
    layer = streamed_gzip_layer(_entries_chunks(2_000_000))
    path = b.write_oci_archive(tmp_path / "entries-2m.tar", [image(layer)])
    expect_error(cli, path, "layer has more than 1500000 entries", LimitExceeded)


def test_deep_path(cli: Callable[..., Run], tmp_path: Path) -> None:
    deep = "a/" * 3000
    path = podman_archive(
        tmp_path / "deep.tar",
        tar_layer(b.file(deep + "f", b"x")),
        tar_layer(b.whiteout(deep + "f"), b.file(deep + "g", b"yy")),
    )
    expect_error(cli, path, "entry name deeper than 256 directories", LimitExceeded)
    # Raising the limit as the message says works: nothing recurses per path component.
    report, _analysis = expect_result(
        cli, path, None, "--limit", "max_path_depth=5000", limits=Limits(max_path_depth=5000)
    )
    assert report["images"][0]["waste"]["reclaimable_bytes"] == 1


def _with_manifest(tmp_path: Path, name: str, manifest: bytes, *, outer: str = "none") -> Path:
    good = podman_archive(tmp_path / "good.tar", small_layer())
    path = rewrite_outer(
        good,
        tmp_path / name,
        lambda i, d: [(i, manifest)] if i.name == "manifest.json" else [(i, d)],
    )
    if outer != "none":
        path.write_bytes(b.compress(path.read_bytes(), outer))
    return path


@pytest.mark.parametrize("outer", ["none", "gzip"])
def test_huge_manifest(cli: Callable[..., Run], tmp_path: Path, outer: str) -> None:
    manifest = b"[" + b" " * (50 * 1000 * 1000) + b"]"
    suffix = ".gz" if outer == "gzip" else ""
    path = _with_manifest(tmp_path, f"big-manifest.tar{suffix}", manifest, outer=outer)
    expect_error(
        cli, path, "manifest.json: 50000002 bytes, more than the 4194304-byte limit", LimitExceeded
    )


def test_deeply_nested_manifest(cli: Callable[..., Run], tmp_path: Path) -> None:
    manifest = b"[" * 100_000 + b"]" * 100_000
    path = _with_manifest(tmp_path, "nested-manifest.tar", manifest)
    expect_error(cli, path, "manifest.json: JSON nested deeper than 200 levels", LimitExceeded)


def test_deeply_nested_config(cli: Callable[..., Run], tmp_path: Path) -> None:
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    layer = small_layer()
    path = b.write_oci_archive(tmp_path / "nested-config.tar", [image(layer, raw_config=deep)])
    expect_error(cli, path, "JSON nested deeper than 200 levels", LimitExceeded)


def test_moderately_nested_manifest(cli: Callable[..., Run], tmp_path: Path) -> None:
    manifest = b"[" * 500 + b"]" * 500
    path = _with_manifest(tmp_path, "nested500.tar", manifest)
    expect_error(cli, path, "JSON nested deeper than 200 levels", LimitExceeded)


# Names -----------------------------------------------------------------------------------------


def test_non_utf8_names(cli: Callable[..., Run], tmp_path: Path) -> None:
    bad = b"caf\xe9".decode("utf-8", "surrogateescape")
    tar = b.layer_tar(
        [b.file(bad, b"x"), b.symlink("link", bad), b.file("ok-\u00e9", b"y")],
        format=tarfile.GNU_FORMAT,
    )
    path = podman_archive(tmp_path / "latin1.tar", b.Layer(tar))
    report, analysis = expect_result(cli, path, "not valid UTF-8")
    paths = {node.path for node, _v in analysis.images[0].filesystem.iter_present()}
    assert "/" + bad in paths
    assert "/ok-\u00e9" in paths
    text = cli(path)  # the text report prints the name with escapes
    assert text.code == 0
    assert text.err == ""


@pytest.mark.parametrize(
    ("entry", "phrase"),
    [
        (b.file("x", b"1", pax={"path": "a\x00b"}), "entry name contains NUL"),
        (b.symlink("l", "t", pax={"linkpath": "t\x00u"}), "symlink target contains NUL: 'l'"),
        (b.hardlink("h", "t", pax={"linkpath": "t\x00u"}), "hardlink target contains NUL"),
    ],
)
def test_nul_in_pax_names(
    cli: Callable[..., Run], tmp_path: Path, entry: b.Entry, phrase: str
) -> None:
    path = podman_archive(tmp_path / "nul.tar", tar_layer(b.file("t", b"t"), entry))
    expect_error(cli, path, phrase, HostileArchive)


def test_nul_in_outer_member_name(cli: Callable[..., Run], tmp_path: Path) -> None:
    good = podman_archive(tmp_path / "good.tar", small_layer())
    info, data = file_info("x", b"x")
    info.pax_headers = {"path": "evil\x00name"}
    path = rewrite_outer(good, tmp_path / "outer-nul.tar", lambda i, d: [(i, d)], [(info, data)])
    expect_error(cli, path, "member name contains NUL", HostileArchive)


def test_global_pax_header(cli: Callable[..., Run], tmp_path: Path) -> None:
    layer = tar_layer(
        b.Entry("pax_global_header", "pax_global", pax={"comment": "hello"}),
        b.file("a", b"x"),
    )
    path = podman_archive(tmp_path / "global-pax.tar", layer)
    _report, analysis = expect_result(cli, path, "layer 0: global pax header ignored")
    paths = {node.path for node, _v in analysis.images[0].filesystem.iter_present()}
    assert paths == {"/a"}


def test_global_pax_header_in_outer_archive(cli: Callable[..., Run], tmp_path: Path) -> None:
    good = podman_archive(tmp_path / "good.tar", small_layer())
    raw = good.read_bytes()
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "hi"}
    ):
        pass
    header = buf.getvalue()[:1024]  # the global header and its records
    path = tmp_path / "outer-global-pax.tar"
    path.write_bytes(header + raw)
    expect_result(cli, path, "global pax header ignored")


# Not an image ----------------------------------------------------------------------------------


def test_empty_file(cli: Callable[..., Run], tmp_path: Path) -> None:
    path = tmp_path / "empty.tar"
    path.write_bytes(b"")
    expect_error(cli, path, "empty file", NotAnImageArchive)


def test_directory_that_is_not_a_layout(cli: Callable[..., Run], tmp_path: Path) -> None:
    path = tmp_path / "just-a-dir"
    (path / "sub").mkdir(parents=True)
    (path / "sub" / "file.txt").write_text("hi")
    expect_error(cli, path, "a directory without manifest.json or index.json", NotAnImageArchive)


def test_random_bytes(cli: Callable[..., Run], tmp_path: Path) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(hashlib.sha256(b"seed").digest() * 100)
    expect_error(cli, path, "not a tar archive or a directory", NotAnImageArchive)


def test_tar_without_image(cli: Callable[..., Run], tmp_path: Path) -> None:
    path = b.write_raw_tar(tmp_path / "plain.tar", [("hello.txt", b"hi")])
    expect_error(cli, path, "not an image archive", NotAnImageArchive)


# Layers that cannot be read --------------------------------------------------------------------


def test_encrypted_layer(cli: Callable[..., Run], tmp_path: Path) -> None:
    enc = b.Layer(b.layer_tar([b.file("secret", b"s")]), compression="gzip", media_type=ENCRYPTED)
    path = b.write_oci_archive(tmp_path / "encrypted.tar", [image(small_layer(), enc)])
    report, _analysis = expect_result(cli, path, "layer 1: encrypted layer")
    assert "cannot be read" in " ".join(report["images"][0]["warnings"])
    assert report["images"][0]["layers"][1]["unavailable"].startswith("encrypted layer")


def test_foreign_layer_without_blob(cli: Callable[..., Run], tmp_path: Path) -> None:
    foreign = b.Layer(
        b.layer_tar([b.file("Windows/x", b"w")]),
        compression="gzip",
        media_type=FOREIGN,
        omit_blob=True,
        urls=["https://example.com/layer.tar.gz"],
    )
    path = b.write_oci_archive(tmp_path / "foreign.tar", [image(foreign, small_layer())])
    report, _analysis = expect_result(cli, path, "layer 0: foreign layer")
    assert report["images"][0]["layers"][0]["unavailable"].startswith("foreign layer")
