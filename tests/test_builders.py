"""Self-test of tests/builders.py, checked with tarfile/json/hashlib only (never layerscope)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import posixpath
import tarfile
import zlib
from pathlib import Path
from typing import Any

import pytest
import zstandard

from tests import builders as b

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DIGEST_HEX = 64


# Helpers -------------------------------------------------------------------------------------


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class TarView:
    """An outer archive read into memory; resolves symlinks inside it (a few hops)."""

    def __init__(self, data: bytes) -> None:
        if data[:3] == b"\x1f\x8b\x08":
            data = gzip.decompress(data)
        elif data[:4] == b"\x28\xb5\x2f\xfd":
            data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
        self.raw = data
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            self.members = tar.getmembers()
            self.data = {
                m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in self.members
                if m.isfile()
            }
        self.by_name = {m.name: m for m in self.members}

    @classmethod
    def of(cls, path: Path) -> TarView:
        return cls(path.read_bytes())

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.members]

    def read(self, name: str, hops: int = 5) -> bytes:
        member = self.by_name[name]
        if member.issym():
            assert hops > 0, f"symlink loop at {name}"
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
            assert not target.startswith(".."), f"{name} escapes the archive"
            return self.read(target, hops - 1)
        return self.data[name]

    def json(self, name: str) -> Any:
        return json.loads(self.read(name))


def layer_members(tar_bytes: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        return tar.getmembers()


def two_images() -> list[b.Image]:
    base = b.Layer(
        b.layer_tar([b.dir("etc/"), b.file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")])
    )
    app = b.Layer(b.layer_tar([b.dir("app/"), b.file("app/run", b"#!/bin/sh\n", mode=0o755)]))
    worker = b.Layer(b.layer_tar([b.file("worker", b"w" * 100)]))
    return [
        b.Image([base, app], tags=["example.com/app:1", "example.com/app:latest"]),
        b.Image([base, worker], tags=["example.com/worker:1"], config={"Cmd": ["/worker"]}),
    ]


def check_oci_layout(read: Any, names: set[str]) -> list[dict[str, Any]]:
    """Walk index.json, verify every descriptor against its blob; return image manifests."""
    assert json.loads(read("oci-layout")) == {"imageLayoutVersion": "1.0.0"}

    def blob(desc: dict[str, Any]) -> bytes:
        data: bytes = read("blobs/sha256/" + desc["digest"].split(":")[1])
        assert sha(data) == desc["digest"]
        assert len(data) == desc["size"]
        return data

    manifests: list[dict[str, Any]] = []

    def walk(descs: list[dict[str, Any]]) -> None:
        for desc in descs:
            doc = json.loads(blob(desc))
            assert doc["mediaType"] == desc["mediaType"]
            if desc["mediaType"] == b.MT_OCI_INDEX:
                walk(doc["manifests"])
                continue
            blob(doc["config"])
            for layer in doc["layers"]:
                blob(layer)
            manifests.append(doc)

    walk(json.loads(read("index.json"))["manifests"])
    assert all(n.startswith("blobs/sha256/") or n in ("index.json", "oci-layout") for n in names)
    return manifests


# Entries and layer tars ----------------------------------------------------------------------


def test_entry_helpers_names() -> None:
    assert b.whiteout("a/b").name == "a/.wh.b"
    assert b.whiteout("top").name == ".wh.top"
    assert b.opaque("a/b").name == "a/b/.wh..wh..opq"
    assert b.opaque("").name == b.opaque("/").name == ".wh..wh..opq"
    assert b.whiteout("a/b").data == b""


def test_layer_tar_keeps_order_names_and_kinds() -> None:
    entries = [
        b.dir("./etc/"),
        b.file("/abs", b"x"),
        b.file("etc/passwd", b"one"),
        b.symlink("etc/link", "passwd"),
        b.hardlink("etc/hard", "etc/passwd"),
        b.Entry("dev/null", "char", devmajor=1, devminor=3),
        b.Entry("dev/sda", "block", devmajor=8),
        b.fifo("run/fifo"),
        b.whiteout("a/b"),
        b.opaque("d"),
        b.file("etc/passwd", b"two", uid=1000, gid=1000, mode=0o600),
        b.file("x", b"", pax={"SCHILY.xattr.user.x": "1"}),
    ]
    data = b.layer_tar(entries)
    assert data == b.layer_tar(entries), "deterministic"
    members = layer_members(data)
    assert [m.name for m in members] == [
        "./etc",  # tarfile strips a directory's trailing slash when reading
        "/abs",
        "etc/passwd",
        "etc/link",
        "etc/hard",
        "dev/null",
        "dev/sda",
        "run/fifo",
        "a/.wh.b",
        "d/.wh..wh..opq",
        "etc/passwd",
        "x",
    ]
    assert data[:512].startswith(b"./etc/")  # written verbatim, with the slash
    etc, _, pw, link, hard, null, sda, fifo, _, _, pw2, x = members
    assert etc.isdir()
    assert etc.mode == 0o755
    assert etc.mtime == 1700000000
    assert pw.isfile()
    assert pw.mode == 0o644
    assert pw.size == 3
    assert link.issym()
    assert link.linkname == "passwd"
    assert link.mode == 0o777
    assert hard.islnk()
    assert hard.linkname == "etc/passwd"
    assert hard.size == 0
    assert null.ischr()
    assert (null.devmajor, null.devminor) == (1, 3)
    assert sda.isblk()
    assert sda.devmajor == 8
    assert fifo.isfifo()
    assert (pw2.uid, pw2.gid, pw2.mode) == (1000, 1000, 0o600)
    assert x.pax_headers["SCHILY.xattr.user.x"] == "1"


def test_layer_tar_long_names_and_formats() -> None:
    long = "d" * 120 + "/" + "f" * 120
    for fmt in (tarfile.PAX_FORMAT, tarfile.GNU_FORMAT):
        (m,) = layer_members(b.layer_tar([b.file(long, b"z")], format=fmt))
        assert m.name == long


def test_pax_global_header_entry() -> None:
    data = b.layer_tar([b.Entry("", "pax_global", pax={"comment": "hi"}), b.file("a", b"1")])
    assert data[156:157] == b"g"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert [m.name for m in tar.getmembers()] == ["a"]
        assert tar.pax_headers == {"comment": "hi"}


def test_pax_records_length_includes_itself() -> None:
    rec = b.pax_records({"k": "v" * 95})
    length, _, _ = rec.partition(b" ")
    assert int(length) == len(rec)


# Compression -------------------------------------------------------------------------------


def count_gzip_members(data: bytes) -> int:
    n = 0
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        d.decompress(data)
        data = d.unused_data
        n += 1
    return n


def count_zstd_frames(data: bytes) -> int:
    n = 0
    while data:
        d = zstandard.ZstdDecompressor().decompressobj()
        d.decompress(data)
        data = d.unused_data
        n += 1
    return n


@pytest.mark.parametrize("chunks", [1, 3, 7])
def test_compress_round_trips(chunks: int) -> None:
    data = b.layer_tar([b.file(f"f{i}", bytes([i]) * 3000) for i in range(5)])
    assert b.compress(data, "none") == data
    gz = b.compress(data, "gzip", chunks=chunks)
    assert gz[:3] == b"\x1f\x8b\x08"
    assert gzip.decompress(gz) == data
    assert count_gzip_members(gz) == chunks
    zs = b.compress(data, "zstd", chunks=chunks)
    assert zs[:4] == b"\x28\xb5\x2f\xfd"
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(zs), read_across_frames=True)
    assert reader.read() == data
    assert count_zstd_frames(zs) == chunks
    assert b.compress(data, "gzip", chunks=chunks) == gz, "deterministic"


def test_compress_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="unknown compression"):
        b.compress(b"x", "xz")


# Images --------------------------------------------------------------------------------------


def test_image_config() -> None:
    layers = [b.Layer(b.layer_tar([b.file("a", b"1")])), b.Layer(b.layer_tar([b.file("b")]))]
    img = b.Image(layers, config={"Cmd": ["sh"]}, variant="v8", architecture="arm64")
    cfg = json.loads(img.config_bytes())
    assert cfg["architecture"] == "arm64"
    assert cfg["os"] == "linux"
    assert cfg["variant"] == "v8"
    assert cfg["created"] == "2026-01-01T00:00:00Z"
    assert cfg["config"]["Cmd"] == ["sh"]
    assert cfg["config"]["Env"] == [b.DEFAULT_PATH_ENV]
    assert cfg["rootfs"] == {"type": "layers", "diff_ids": [sha(x.tar) for x in layers]}
    assert [h["created_by"] for h in cfg["history"]] == ["layer 0", "layer 1"]
    assert img.config_digest == sha(img.config_bytes())

    bad = b.Image(layers, diff_ids=["sha256:" + "0" * 64], history=[{"empty_layer": True}])
    cfg = json.loads(bad.config_bytes())
    assert cfg["rootfs"]["diff_ids"] == ["sha256:" + "0" * 64]
    assert cfg["history"] == [{"empty_layer": True}]
    assert b.Image(layers, raw_config=b"{nope").config_bytes() == b"{nope"


def test_chain_ids() -> None:
    d = ["sha256:" + "a" * 64, "sha256:" + "b" * 64]
    c = b.chain_ids(d)
    assert c[0] == d[0]
    assert c[1] == sha(f"{d[0]} {d[1]}".encode())


# Docker archives -----------------------------------------------------------------------------


def check_docker_manifest(view: TarView, images: list[b.Image]) -> list[dict[str, Any]]:
    manifest = view.json("manifest.json")
    assert isinstance(manifest, list)
    assert len(manifest) == len(images)
    for item, image in zip(manifest, images, strict=True):
        assert item["RepoTags"] == image.tags
        config = view.read(item["Config"])
        assert config == image.config_bytes()
        assert sha(config).split(":")[1] in item["Config"]
        diff_ids = json.loads(config)["rootfs"]["diff_ids"]
        assert [sha(view.read(p)) for p in item["Layers"]] == diff_ids
    return manifest  # type: ignore[no-any-return]


def test_docker24_shape_and_shared_layer_symlink(tmp_path: Path) -> None:
    images = two_images()
    path = b.write_docker_archive(tmp_path / "d.tar", images)
    view = TarView.of(path)
    manifest = check_docker_manifest(view, images)
    # <v1id>/ directory entries with VERSION, json, layer.tar
    for item in manifest:
        for p in item["Layers"]:
            v1id = p.split("/")[0]
            assert len(v1id) == DIGEST_HEX
            assert p.endswith("/layer.tar")
            assert view.by_name[v1id].isdir()
            assert view.read(f"{v1id}/VERSION") == b"1.0"
            assert view.json(f"{v1id}/json")["id"] == v1id
    # the base layer is shared: the second image's copy is a relative symlink
    shared = view.by_name[manifest[1]["Layers"][0]]
    assert shared.issym()
    assert shared.linkname == "../" + manifest[0]["Layers"][0]
    links = [m for m in view.members if m.issym()]
    assert len(links) == 1
    top_ids = {p.split("/")[0] for p in (manifest[0]["Layers"][-1], manifest[1]["Layers"][-1])}
    repos = view.json("repositories")
    assert set(repos["example.com/app"]) == {"1", "latest"}
    assert {repos["example.com/app"]["1"], repos["example.com/worker"]["1"]} == top_ids
    # walk order: each directory right before its children
    for i, m in enumerate(view.members):
        if m.isdir():
            assert view.members[i + 1].name.startswith(m.name + "/")
    assert path.read_bytes() == b.write_docker_archive(tmp_path / "e.tar", images).read_bytes()


def test_docker24_share_v1_dirs_like_moby(tmp_path: Path) -> None:
    images = two_images()
    view = TarView.of(b.write_docker_archive(tmp_path / "d.tar", images, share_v1_dirs=True))
    manifest = check_docker_manifest(view, images)
    assert manifest[0]["Layers"][0] == manifest[1]["Layers"][0]
    assert not [m for m in view.members if m.issym()]


def test_docker24_same_diff_id_twice_in_one_image(tmp_path: Path) -> None:
    empty = b.Layer(b.layer_tar([]))
    image = b.Image([empty, empty])
    view = TarView.of(b.write_docker_archive(tmp_path / "d.tar", [image]))
    (item,) = check_docker_manifest(view, [image])
    assert view.by_name[item["Layers"][1]].linkname == "../" + item["Layers"][0]


def test_docker24_untagged_and_compressed_layer(tmp_path: Path) -> None:
    tar = b.layer_tar([b.file("a", b"abc" * 100)])
    image = b.Image([b.Layer(tar, compression="gzip")], tags=[])
    view = TarView.of(b.write_docker_archive(tmp_path / "d.tar", [image]))
    (item,) = view.json("manifest.json")
    assert item["RepoTags"] is None
    stored = view.read(item["Layers"][0])
    assert stored[:2] == b"\x1f\x8b"
    assert gzip.decompress(stored) == tar


def test_podman_shape(tmp_path: Path) -> None:
    images = two_images()
    view = TarView.of(b.write_docker_archive(tmp_path / "p.tar", images, style="podman"))
    manifest = check_docker_manifest(view, images)
    diff_ids = [layer.diff_id.split(":")[1] for layer in images[0].layers]
    # the first image's layers come first, then its config, then the legacy dirs
    assert view.names[:3] == [f"{diff_ids[0]}.tar", f"{diff_ids[1]}.tar", manifest[0]["Config"]]
    assert manifest[0]["Layers"] == [f"{h}.tar" for h in diff_ids]
    assert view.names[-2:] == ["manifest.json", "repositories"]
    assert not any(m.isdir() for m in view.members)
    links = [m for m in view.members if m.issym()]
    assert links
    assert all(m.name.endswith("/layer.tar") for m in links)
    for m in links:
        assert m.linkname.startswith("../")
        assert m.linkname.endswith(".tar")
        assert sha(view.read(m.name)) == "sha256:" + m.linkname[3:-4]
    for m in view.members:
        if m.isfile():
            assert (m.mode, m.mtime, m.uname) == (0o444, 0, "")
    # the shared base layer is stored once, its legacy dir (same chain) too
    assert len(links) == 3
    assert view.names.count(f"{diff_ids[0]}.tar") == 1


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["app-docker.tar", "multi-docker.tar", "worker-docker.tar"])
def test_podman_rebuilds_corpus_byte_for_byte(tmp_path: Path, name: str) -> None:
    source = CORPUS / "podman" / name
    if not source.exists():
        pytest.skip("../shared/corpus not available")
    real = TarView.of(source)
    images = [
        b.Image(
            [b.Layer(real.read(p)) for p in item["Layers"]],
            tags=item["RepoTags"],
            raw_config=real.read(item["Config"]),
        )
        for item in real.json("manifest.json")
    ]
    built = b.write_docker_archive(tmp_path / name, images, style="podman")
    assert built.read_bytes() == source.read_bytes()


def test_docker25_shape(tmp_path: Path) -> None:
    images = two_images()
    view = TarView.of(b.write_docker_archive(tmp_path / "d.tar", images, style="docker25"))
    manifest = check_docker_manifest(view, images)
    for item in manifest:
        assert item["Config"].startswith("blobs/sha256/")
        for p in item["Layers"]:
            assert p.startswith("blobs/sha256/")
            assert sha(view.read(p)) == "sha256:" + p.split("/")[-1]  # blob digest == diff_id
    oci = check_oci_layout(view.read, {n for n in view.data if n not in _DOCKER25_EXTRA})
    assert [m["layers"] for m in oci] == [
        [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": x.diff_id,
                "size": len(x.tar),
            }
            for x in i.layers
        ]
        for i in images
        for _ in i.tags
    ]
    index = view.json("index.json")
    refs = [d["annotations"] for d in index["manifests"]]
    assert refs[0] == {
        "io.containerd.image.name": "example.com/app:1",
        "org.opencontainers.image.ref.name": "1",
    }
    assert len(refs) == 3  # one descriptor per tag
    assert {"blobs", "blobs/sha256"} <= set(view.names)
    # unreferenced legacy v1 json blobs are there too
    referenced = {m["config"]["digest"] for m in oci} | {d["digest"] for d in index["manifests"]}
    referenced |= {x["digest"] for m in oci for x in m["layers"]}
    extra = [
        n for n in view.data if n.startswith("blobs/") and "sha256:" + n[13:] not in referenced
    ]
    assert extra
    assert all("id" in view.json(n) for n in extra)


_DOCKER25_EXTRA = {"manifest.json", "repositories"}


def test_docker25_quirks(tmp_path: Path) -> None:
    (image, _) = two_images()
    view = TarView.of(
        b.write_docker_archive(
            tmp_path / "s.tar", [image], style="docker25", docker25_quirk="shuffled"
        )
    )
    (item,) = check_docker_manifest(view, [image])
    desc = view.json("index.json")["manifests"][0]
    oci = view.json("blobs/sha256/" + desc["digest"][7:])
    assert [x["digest"] for x in oci["layers"]] == [x.diff_id for x in reversed(image.layers)]
    view = TarView.of(
        b.write_docker_archive(
            tmp_path / "n.tar", [image], style="docker25", docker25_quirk="null_manifests"
        )
    )
    assert view.json("index.json")["manifests"] is None
    check_docker_manifest(view, [image])


@pytest.mark.parametrize("outer", ["gzip", "zstd"])
@pytest.mark.parametrize("style", ["docker24", "podman", "docker25"])
def test_docker_outer_compression(tmp_path: Path, outer: str, style: str) -> None:
    images = two_images()
    path = b.write_docker_archive(tmp_path / "x.tar", images, style=style, outer=outer)
    assert path.name == "x.tar"
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b" if outer == "gzip" else raw[:4] == b"\x28\xb5\x2f\xfd"
    check_docker_manifest(TarView(raw), images)


# OCI -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
def test_oci_archive(tmp_path: Path, compression: str) -> None:
    images = two_images()
    for image in images:
        for layer in image.layers:
            layer.compression = compression
    path = b.write_oci_archive(tmp_path / "o.tar", images)
    view = TarView.of(path)
    manifests = check_oci_layout(view.read, set(view.data))
    assert view.names[:2] == ["blobs", "blobs/sha256"]
    assert view.names[-2:] == ["index.json", "oci-layout"]
    assert view.read("oci-layout") == b'{"imageLayoutVersion": "1.0.0"}'
    index = view.json("index.json")
    assert [d["annotations"]["org.opencontainers.image.ref.name"] for d in index["manifests"]] == [
        "example.com/app:1",
        "example.com/worker:1",
    ]
    suffix = {"none": "", "gzip": "+gzip", "zstd": "+zstd"}[compression]
    for manifest, image in zip(manifests, images, strict=True):
        assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
        assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
        assert {x["mediaType"] for x in manifest["layers"]} == {
            "application/vnd.oci.image.layer.v1.tar" + suffix
        }
        config = json.loads(view.read("blobs/sha256/" + manifest["config"]["digest"][7:]))
        assert config["rootfs"]["diff_ids"] == [x.diff_id for x in image.layers]
    # shared base blob stored once
    assert len(view.names) == len(set(view.names))
    assert path.read_bytes() == b.write_oci_archive(tmp_path / "p.tar", images).read_bytes()


def test_oci_dir_matches_archive(tmp_path: Path) -> None:
    images = two_images()
    root = b.write_oci_archive(tmp_path / "layout", images, as_dir=True)
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    check_oci_layout(lambda n: files[n], set(files))
    view = TarView.of(b.write_oci_archive(tmp_path / "o.tar", images))
    assert files == view.data


def test_oci_nested_index_platforms_and_attestation(tmp_path: Path) -> None:
    tar = b.layer_tar([b.file("hello", b"hi")])
    images = [
        b.Image([b.Layer(tar, compression="gzip")], tags=["example.com/hello:multi"]),
        b.Image([b.Layer(tar, compression="gzip")], architecture="arm64", variant="v8"),
    ]
    path = b.write_oci_archive(
        tmp_path / "m.tar",
        images,
        nested_index=True,
        attestation=True,
        platforms=["linux/amd64", "linux/arm64/v8"],
    )
    view = TarView.of(path)
    manifests = check_oci_layout(view.read, set(view.data))
    assert len(manifests) == 3
    (top,) = view.json("index.json")["manifests"]
    assert top["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert top["annotations"] == {"org.opencontainers.image.ref.name": "example.com/hello:multi"}
    nested = view.json("blobs/sha256/" + top["digest"][7:])
    plats = [d["platform"] for d in nested["manifests"]]
    assert plats == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
        {"architecture": "unknown", "os": "unknown"},
    ]
    att = nested["manifests"][2]
    assert att["annotations"] == {
        "vnd.docker.reference.digest": nested["manifests"][0]["digest"],
        "vnd.docker.reference.type": "attestation-manifest",
    }
    att_manifest = manifests[2]
    (layer,) = att_manifest["layers"]
    assert layer["mediaType"] == "application/vnd.in-toto+json"
    statement = view.json("blobs/sha256/" + layer["digest"][7:])
    assert (
        statement["subject"][0]["digest"]["sha256"]
        == att["annotations"]["vnd.docker.reference.digest"].split(":")[1]
    )

    # without explicit platforms the Image's own os/arch/variant are used
    view = TarView.of(b.write_oci_archive(tmp_path / "n.tar", images, nested_index=True))
    (top,) = view.json("index.json")["manifests"]
    nested = view.json("blobs/sha256/" + top["digest"][7:])
    assert [d["platform"] for d in nested["manifests"]] == plats[:2]


def test_oci_attestation_without_nesting(tmp_path: Path) -> None:
    view = TarView.of(b.write_oci_archive(tmp_path / "a.tar", two_images(), attestation=True))
    descs = view.json("index.json")["manifests"]
    assert len(descs) == 3
    assert descs[2]["annotations"]["vnd.docker.reference.type"] == "attestation-manifest"
    assert descs[2]["annotations"]["vnd.docker.reference.digest"] == descs[0]["digest"]


def test_oci_dot_slash_and_outer(tmp_path: Path) -> None:
    path = b.write_oci_archive(tmp_path / "o.tar.zst", two_images(), dot_slash=True, outer="zstd")
    raw = path.read_bytes()
    assert raw[:4] == b"\x28\xb5\x2f\xfd"
    view = TarView(raw)
    assert view.names[0] == "."
    assert all(n == "." or n.startswith("./") for n in view.names)
    check_oci_layout(lambda n: view.read("./" + n), {n[2:] for n in view.data})


def test_layer_media_type_override_and_omitted_blob(tmp_path: Path) -> None:
    tar = b.layer_tar([b.file("secret", b"s")])
    enc = "application/vnd.oci.image.layer.v1.tar+gzip+encrypted"
    foreign = b.Layer(
        tar,
        media_type="application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        omit_blob=True,
        urls=["https://example.com/layer"],
    )
    image = b.Image([b.Layer(tar, compression="gzip", media_type=enc), foreign])
    view = TarView.of(b.write_oci_archive(tmp_path / "o.tar", [image]))
    (desc,) = view.json("index.json")["manifests"]
    manifest = view.json("blobs/sha256/" + desc["digest"][7:])
    assert manifest["layers"][0]["mediaType"] == enc
    assert manifest["layers"][1]["urls"] == ["https://example.com/layer"]
    assert "blobs/sha256/" + manifest["layers"][1]["digest"][7:] not in view.data


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name",
    ["app-oci.tar", "app-oci-zstd.tar", "app-oci-uncompressed.tar", "hello-multiarch-oci.tar"],
)
def test_oci_rebuilds_corpus_files(name: str) -> None:
    source = CORPUS / "podman" / name
    if not source.exists():
        pytest.skip("../shared/corpus not available")
    real = TarView.of(source)

    def image(desc: dict[str, Any], tag: str) -> b.Image:
        m = real.json("blobs/sha256/" + desc["digest"][7:])
        # stored blobs as-is: compression "none" + the real media type
        layers = [
            b.Layer(real.read("blobs/sha256/" + x["digest"][7:]), media_type=x["mediaType"])
            for x in m["layers"]
        ]
        cfg = real.read("blobs/sha256/" + m["config"]["digest"][7:])
        return b.Image(layers, tags=[tag], raw_config=cfg, annotations=m.get("annotations"))

    (top,) = real.json("index.json")["manifests"]
    tag = top["annotations"]["org.opencontainers.image.ref.name"]
    if top["mediaType"] == b.MT_OCI_INDEX:
        descs = real.json("blobs/sha256/" + top["digest"][7:])["manifests"]
        images = [image(d, tag) for d in descs]
        plats = [f"{d['platform']['os']}/{d['platform']['architecture']}" for d in descs]
        files = b.oci_layout_files(images, nested_index=True, platforms=plats)
    else:
        files = b.oci_layout_files([image(top, tag)])
    assert files == real.data


# docker-dir ----------------------------------------------------------------------------------


def test_docker_dir(tmp_path: Path) -> None:
    image = two_images()[0]
    image.layers[1].compression = "gzip"
    root = b.write_docker_dir(tmp_path / "dd", image)
    assert (root / "version").read_bytes() == b"Directory Transport Version: 1.1\n"
    manifest = json.loads((root / "manifest.json").read_bytes())
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    assert [x["mediaType"] for x in manifest["layers"]] == [
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ]
    for desc in [manifest["config"], *manifest["layers"]]:
        data = (root / desc["digest"][7:]).read_bytes()
        assert sha(data) == desc["digest"]
        assert len(data) == desc["size"]
    assert len(list(root.iterdir())) == 5


@pytest.mark.corpus
def test_docker_dir_rebuilds_corpus(tmp_path: Path) -> None:
    source = CORPUS / "podman" / "app-docker-dir"
    if not source.exists():
        pytest.skip("../shared/corpus not available")
    real = json.loads((source / "manifest.json").read_bytes())
    image = b.Image(
        [b.Layer((source / x["digest"][7:]).read_bytes()) for x in real["layers"]],
        raw_config=(source / real["config"]["digest"][7:]).read_bytes(),
    )
    root = b.write_docker_dir(tmp_path / "dd", image)
    for p in source.iterdir():
        assert (root / p.name).read_bytes() == p.read_bytes(), p.name


# Raw tars ------------------------------------------------------------------------------------


def test_write_raw_tar(tmp_path: Path) -> None:
    info = tarfile.TarInfo("blobs/")
    info.type = tarfile.DIRTYPE
    custom = tarfile.TarInfo("x/custom")
    custom.mode = 0o600
    path = b.write_raw_tar(
        tmp_path / "r.tar",
        [
            ("../evil", b"boom"),
            info,
            (custom, b"abc"),
            b.file("entry", b"e"),
            ("manifest.json", b"["),
        ],
        symlinks={"link": "/etc/passwd"},
    )
    view = TarView.of(path)
    assert view.names == ["../evil", "blobs", "x/custom", "entry", "manifest.json", "link"]
    assert view.data["../evil"] == b"boom"
    assert view.data["x/custom"] == b"abc"
    assert view.by_name["x/custom"].mode == 0o600
    assert view.by_name["link"].linkname == "/etc/passwd"
