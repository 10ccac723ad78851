"""Build container image archives for tests, byte for byte, without any container tool.

Everything here is deterministic (fixed mtimes, ``gzip`` mtime 0, stable member order), so a
test can build the same archive twice and get the same digests. The shapes are copied from real
archives in ``../shared/corpus`` (podman/skopeo, Docker <= 24, dive's test images) and from the
formats described in ``../shared/docs/FORMATS.md``.

Layer tars::

    tar = layer_tar([dir("etc/"), file("etc/passwd", b"root:x:0:0::/root:/bin/sh\\n"),
                     whiteout("etc/motd"), opaque("opt/tool")])

Archives::

    img = Image([Layer(tar), Layer(tar2, compression="gzip")], tags=["example.com/app:1"])
    write_docker_archive(tmp_path / "a.tar", [img], style="podman")
    write_oci_archive(tmp_path / "o.tar", [img], nested_index=True, attestation=True)

This module must not import layerscope: it is the independent oracle the readers are tested
against.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

__all__ = [
    "DEFAULT_PATH_ENV",
    "ApkPackage",
    "DebPackage",
    "Entry",
    "Image",
    "Layer",
    "chain_ids",
    "compress",
    "dir",
    "fifo",
    "file",
    "hardlink",
    "layer_tar",
    "oci_layout_files",
    "opaque",
    "pax_records",
    "sha256",
    "symlink",
    "whiteout",
    "write_docker_archive",
    "write_docker_dir",
    "write_oci_archive",
    "write_raw_tar",
    "apk_installed",
    "dist_info",
    "dpkg_entries",
    "dpkg_list",
    "dpkg_status",
    "npm_package",
]

DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Media types -------------------------------------------------------------------------------

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_IN_TOTO = "application/vnd.in-toto+json"

_OCI_LAYER = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
_DOCKER_LAYER = {
    "none": "application/vnd.docker.image.rootfs.diff.tar",
    "gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "zstd": "application/vnd.docker.image.rootfs.diff.tar.zstd",
}

# Exactly what podman/skopeo write (note the space after the colon: 31 bytes).
OCI_LAYOUT_BYTES = b'{"imageLayoutVersion": "1.0.0"}'
DOCKER_DIR_VERSION = b"Directory Transport Version: 1.1\n"


# Layer tar entries -------------------------------------------------------------------------

_KINDS = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
    # A PAX *global* header ('g') placed mid-stream; its records come from Entry.pax.
    # Runtimes ignore these, readers should flag them.
    "pax_global": tarfile.XGLTYPE,
}
_DEFAULT_MODES = {"file": 0o644, "dir": 0o755, "symlink": 0o777, "char": 0o666, "block": 0o660}


@dataclass
class Entry:
    """One member of a layer tar, written exactly as described (no name normalisation)."""

    name: str
    kind: str = "file"
    data: bytes = b""
    link: str = ""
    mode: int | None = None
    uid: int = 0
    gid: int = 0
    mtime: int = 1700000000
    pax: dict[str, str] | None = None
    # Extras (not in the brief's API, all optional):
    uname: str = ""
    gname: str = ""
    devmajor: int = 0
    devminor: int = 0

    def tarinfo(self) -> tuple[tarfile.TarInfo, bytes | None]:
        """The header and the payload to write for this entry."""
        if self.kind not in _KINDS:
            raise ValueError(f"unknown entry kind {self.kind!r}")
        info = tarfile.TarInfo(self.name)
        info.type = _KINDS[self.kind]
        info.mode = self.mode if self.mode is not None else _DEFAULT_MODES.get(self.kind, 0o644)
        info.uid, info.gid = self.uid, self.gid
        info.uname, info.gname = self.uname, self.gname
        info.mtime = self.mtime
        payload: bytes | None = None
        if self.kind == "file":
            payload = self.data
            info.size = len(payload)
        elif self.kind in ("symlink", "hardlink"):
            info.linkname = self.link  # hardlinks: size 0, target relative to the layer root
        elif self.kind in ("char", "block"):
            info.devmajor, info.devminor = self.devmajor, self.devminor
        elif self.kind == "pax_global":
            payload = pax_records(self.pax or {})
            info.size = len(payload)
            info.name = self.name or "pax_global_header"
            return info, payload
        if self.pax:
            info.pax_headers = dict(self.pax)
        return info, payload


def file(name: str, data: bytes = b"", **kw: Any) -> Entry:
    return Entry(name, "file", data=data, **kw)


def dir(name: str, **kw: Any) -> Entry:  # shadows the builtin: it is the API name
    return Entry(name, "dir", **kw)


def symlink(name: str, target: str, **kw: Any) -> Entry:
    return Entry(name, "symlink", link=target, **kw)


def hardlink(name: str, target: str, **kw: Any) -> Entry:
    return Entry(name, "hardlink", link=target, **kw)


def fifo(name: str, **kw: Any) -> Entry:
    return Entry(name, "fifo", **kw)


def whiteout(path: str, **kw: Any) -> Entry:
    """``a/b`` -> empty file ``a/.wh.b`` (deletes ``a/b`` and its subtree from lower layers)."""
    head, _, base = path.rstrip("/").rpartition("/")
    return Entry(f"{head}/.wh.{base}" if head else f".wh.{base}", "file", **kw)


def opaque(dirpath: str, **kw: Any) -> Entry:
    """``a/b`` -> ``a/b/.wh..wh..opq``; ``""`` or ``"/"`` -> ``.wh..wh..opq`` at the root."""
    d = dirpath.rstrip("/")
    return Entry(f"{d}/.wh..wh..opq" if d else ".wh..wh..opq", "file", **kw)


def pax_records(headers: dict[str, str]) -> bytes:
    """Encode PAX records ``"<len> <key>=<value>\\n"`` (the length counts itself)."""
    out = bytearray()
    for key, value in headers.items():
        body = f" {key}={value}\n".encode()
        n = len(body) + 1
        while len(str(n)) + len(body) != n:
            n = len(str(n)) + len(body)
        out += str(n).encode() + body
    return bytes(out)


def layer_tar(entries: Iterable[Entry], format: int = tarfile.PAX_FORMAT) -> bytes:
    """Uncompressed tar bytes with the members in the given order (duplicates allowed)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=format) as tar:
        for entry in entries:
            info, payload = entry.tarinfo()
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
    return buf.getvalue()


# Blobs ---------------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _hex(digest: str) -> str:
    return digest.split(":", 1)[1]


def compress(data: bytes, method: str, *, chunks: int = 1) -> bytes:
    """Compress ``data``; with ``chunks > 1`` as several gzip members / zstd frames.

    Multi-member gzip is what eStargz produces, multi-frame zstd what zstd:chunked produces;
    both decompress to the concatenation of the parts.
    """
    if method == "none":
        return data
    if chunks < 1:
        raise ValueError("chunks must be >= 1")
    step = -(-len(data) // chunks) if data else 0
    parts = [data[i * step : (i + 1) * step] for i in range(chunks)]
    if method == "gzip":
        # mtime=0 keeps the header (and so the digest) stable across runs.
        return b"".join(gzip.compress(p, compresslevel=6, mtime=0) for p in parts)
    if method == "zstd":
        cctx = zstandard.ZstdCompressor(level=3, write_content_size=True)
        return b"".join(cctx.compress(p) for p in parts)
    raise ValueError(f"unknown compression {method!r}")


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """``C0 = d0``, ``Cn = sha256(Cn-1 + " " + dn)``."""
    out: list[str] = []
    for d in diff_ids:
        out.append(d if not out else sha256(f"{out[-1]} {d}".encode()))
    return out


def _go_escape(text: str) -> str:
    # Go's encoding/json escapes these even inside strings; matching it keeps our digests
    # equal to what real tools produce for the same content.
    for char, esc in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, esc)
    return text


def _json(obj: Any) -> bytes:
    """Compact JSON, keys in insertion order, like Go's encoder on structs."""
    return _go_escape(json.dumps(obj, separators=(",", ":"), ensure_ascii=False)).encode()


def _go_map_json(obj: dict[str, Any]) -> bytes:
    """Go's encoder on a ``map[string]any``: top-level keys sorted, values as given (nested
    ``json.RawMessage`` values keep their own key order)."""
    items = (_json(k) + b":" + _json(obj[k]) for k in sorted(obj))
    return b"{" + b",".join(items) + b"}"


def _config_or_empty(image: Image) -> dict[str, Any]:
    try:
        cfg = json.loads(image.config_bytes())
    except ValueError:
        return {}
    return cfg if isinstance(cfg, dict) else {}


@dataclass
class Layer:
    tar: bytes
    compression: str = "none"
    chunks: int = 1
    media_type: str | None = None
    # Extras: leave the blob out of the archive (foreign layers, other platforms' blobs),
    # and foreign-layer URLs for the descriptor.
    omit_blob: bool = False
    urls: list[str] | None = None

    def blob(self) -> bytes:
        """The layer as stored in the archive."""
        return compress(self.tar, self.compression, chunks=self.chunks)

    @property
    def diff_id(self) -> str:
        return sha256(self.tar)

    @property
    def digest(self) -> str:
        return sha256(self.blob())

    def oci_media_type(self) -> str:
        return self.media_type or _OCI_LAYER[self.compression]

    def docker_media_type(self) -> str:
        return self.media_type or _DOCKER_LAYER[self.compression]

    def descriptor(self, media_type: str) -> dict[str, Any]:
        blob = self.blob()
        desc: dict[str, Any] = {"mediaType": media_type, "digest": sha256(blob), "size": len(blob)}
        if self.urls:
            desc["urls"] = list(self.urls)
        return desc


@dataclass
class Image:
    layers: list[Layer]
    tags: list[str] = field(default_factory=lambda: ["example.com/test:1"])
    history: list[dict[str, Any]] | None = None
    config: dict[str, Any] | None = None
    architecture: str = "amd64"
    os: str = "linux"
    variant: str | None = None
    created: str = "2026-01-01T00:00:00Z"
    diff_ids: list[str] | None = None
    # Extras: top-level config fields to add or override (``author``, or ``None`` values to
    # test nulls), and raw bytes that replace the whole config (broken JSON etc.).
    extra: dict[str, Any] | None = None
    raw_config: bytes | None = None
    # Extra: annotations of the image's OCI manifest (e.g. org.opencontainers.image.base.name).
    annotations: dict[str, str] | None = None

    def config_object(self) -> dict[str, Any]:
        history = self.history
        if history is None:
            history = [
                {"created": self.created, "created_by": f"layer {i}"}
                for i in range(len(self.layers))
            ]
        cfg: dict[str, Any] = {"created": self.created, "architecture": self.architecture}
        if self.variant is not None:
            cfg["variant"] = self.variant
        cfg["os"] = self.os
        cfg["config"] = {"Env": [DEFAULT_PATH_ENV], **(self.config or {})}
        diff_ids = self.diff_ids if self.diff_ids is not None else self.layer_diff_ids()
        cfg["rootfs"] = {"type": "layers", "diff_ids": list(diff_ids)}
        cfg["history"] = history
        cfg.update(self.extra or {})
        return cfg

    def config_bytes(self) -> bytes:
        """The config JSON exactly as written (podman's key order, compact)."""
        if self.raw_config is not None:
            return self.raw_config
        return _json(self.config_object())

    @property
    def config_digest(self) -> str:
        return sha256(self.config_bytes())

    def layer_diff_ids(self) -> list[str]:
        """The real diff_ids of the layers (ignores the ``diff_ids`` override)."""
        return [layer.diff_id for layer in self.layers]

    def oci_manifest(
        self,
        annotations: dict[str, str] | None = None,
        *,
        layers: Sequence[Layer] | None = None,
    ) -> bytes:
        """The OCI image manifest; ``layers`` overrides the layer order (quirk tests)."""
        cfg = self.config_bytes()
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": MT_OCI_MANIFEST,
            "config": {"mediaType": MT_OCI_CONFIG, "digest": sha256(cfg), "size": len(cfg)},
            "layers": [
                layer.descriptor(layer.oci_media_type())
                for layer in (self.layers if layers is None else layers)
            ],
        }
        merged = {**(self.annotations or {}), **(annotations or {})}
        if merged:
            manifest["annotations"] = merged
        return _json(manifest)

    def docker_manifest(self) -> bytes:
        """A registry (schema 2) manifest, as docker-dir's ``manifest.json``."""
        cfg = self.config_bytes()
        return _json(
            {
                "schemaVersion": 2,
                "mediaType": MT_DOCKER_MANIFEST,
                "config": {"mediaType": MT_DOCKER_CONFIG, "size": len(cfg), "digest": sha256(cfg)},
                "layers": [_docker_desc(layer) for layer in self.layers],
            }
        )


def _docker_desc(layer: Layer) -> dict[str, Any]:
    # Docker registry manifests put size before digest (see corpus app-docker-dir).
    blob = layer.blob()
    desc: dict[str, Any] = {
        "mediaType": layer.docker_media_type(),
        "size": len(blob),
        "digest": sha256(blob),
    }
    if layer.urls:
        desc["urls"] = list(layer.urls)
    return desc


# Outer tar writing ---------------------------------------------------------------------------


class _OuterTar:
    """Collects outer-archive members, then serialises them as a tar."""

    def __init__(
        self,
        *,
        mtime: int = 0,
        uname: str = "",
        gname: str = "",
        file_mode: int = 0o644,
        prefix: str = "",
    ) -> None:
        self.members: list[tuple[tarfile.TarInfo, bytes | None]] = []
        self.names: set[str] = set()
        self.mtime, self.uname, self.gname = mtime, uname, gname
        self.file_mode = file_mode
        self.prefix = prefix

    def _info(self, name: str, type_: bytes, mode: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(self.prefix + name)
        info.type, info.mode, info.mtime = type_, mode, self.mtime
        info.uname, info.gname = self.uname, self.gname
        self.names.add(name)
        return info

    def dir(self, name: str) -> None:
        self.members.append((self._info(name, tarfile.DIRTYPE, 0o755), None))

    def file(self, name: str, data: bytes, mode: int | None = None) -> None:
        info = self._info(name, tarfile.REGTYPE, self.file_mode if mode is None else mode)
        info.size = len(data)
        self.members.append((info, data))

    def symlink(self, name: str, target: str, mode: int = 0o777) -> None:
        info = self._info(name, tarfile.SYMTYPE, mode)
        info.linkname = target
        self.members.append((info, None))

    def tree(
        self,
        files: dict[str, bytes],
        dirs: Iterable[str] = (),
        symlinks: dict[str, str] | None = None,
    ) -> None:
        """Add members in the order of a sorted directory walk (Go's ``filepath.Walk``, tar of
        a sorted dir): a directory is followed by its subtree, siblings sorted by name."""
        kinds: list[tuple[str, str]] = [(d, "dir") for d in dirs]
        kinds += [(n, "file") for n in files] + [(n, "link") for n in symlinks or {}]
        for name, kind in sorted(kinds, key=lambda item: item[0].rstrip("/").split("/")):
            if kind == "dir":
                self.dir(name)
            elif kind == "file":
                self.file(name, files[name])
            else:
                self.symlink(name, (symlinks or {})[name])

    def getvalue(self) -> bytes:
        return _go_tar(self.members)


def _go_tar(members: Iterable[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """Serialise like Go's ``archive/tar`` (what podman and moby use), so that rebuilding a
    corpus archive from its parts gives the same bytes: devmajor/devminor written as zeros on
    every header, and the stream ends after the two zero blocks (no padding to 10 KiB)."""
    out = bytearray()
    for info, data in members:
        header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        if len(header) == tarfile.BLOCKSIZE:  # no PAX extension block in front
            header = _with_zero_dev_fields(header)
        out += header
        if data:
            out += data + b"\0" * (-len(data) % tarfile.BLOCKSIZE)
    out += b"\0" * (2 * tarfile.BLOCKSIZE)
    return bytes(out)


def _with_zero_dev_fields(header: bytes) -> bytes:
    buf = bytearray(header)
    if buf[329:345] == b"\0" * 16:
        buf[329:345] = b"0000000\x00" * 2
        buf[148:156] = b" " * 8
        buf[148:155] = b"%06o\x00" % sum(buf)
    return bytes(buf)


def _write(path: str | os.PathLike[str], data: bytes, outer: str) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(compress(data, outer))
    return p


def _split_ref(ref: str) -> tuple[str, str]:
    """``repo:tag`` -> (repo, tag); the tag defaults to ``latest``."""
    ref = ref.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1 :]
    return ref, "latest"


def _docker_full_name(ref: str) -> str:
    """Docker's normalised name (``busybox:1`` -> ``docker.io/library/busybox:1``)."""
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return ref
    return "docker.io/" + (ref if rest else "library/" + ref)


def _repositories(entries: Iterable[tuple[str, str]]) -> bytes:
    repos: dict[str, dict[str, str]] = {}
    for ref, top_id in entries:
        repo, tag = _split_ref(ref)
        repos.setdefault(repo, {})[tag] = top_id
    return _json(repos)


# Docker archives -----------------------------------------------------------------------------

_EMPTY_CONTAINER_CONFIG: dict[str, Any] = {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": False,
    "AttachStdout": False,
    "AttachStderr": False,
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "Env": None,
    "Cmd": None,
    "Image": "",
    "Volumes": None,
    "WorkingDir": "",
    "Entrypoint": None,
    "OnBuild": None,
    "Labels": None,
}


@dataclass
class _V1Layer:
    id: str
    json: bytes
    layer: Layer


def _moby_v1_layers(image: Image, *, per_image: bool) -> list[_V1Layer]:
    """Legacy v1 layer ids and ``json`` files as moby's ``tarexport`` makes them.

    Docker derives the id of an intermediate layer from its chain id and parent only, so two
    images with a common base share the ``<id>/`` directories. With ``per_image`` the image's
    config digest is mixed in, so each image gets its own directories and a shared layer is
    written once and then *symlinked* from the other image's directory.
    """
    cfg = _config_or_empty(image)
    out: list[_V1Layer] = []
    parent = ""
    chains = chain_ids(image.layer_diff_ids())
    for i, layer in enumerate(image.layers):
        top = i == len(image.layers) - 1
        v1: dict[str, Any] = {
            "created": image.created if top else "1970-01-01T00:00:00Z",
            "container_config": _EMPTY_CONTAINER_CONFIG,
        }
        if top:
            v1["config"] = cfg.get("config")
            v1["architecture"] = image.architecture
        v1["os"] = image.os
        seed = {"layer_id": chains[i], "parent": parent, **v1}
        if per_image:
            seed["image"] = image.config_digest
        v1_id = hashlib.sha256(_go_map_json(seed)).hexdigest()
        head: dict[str, Any] = {"id": v1_id}
        if parent:
            head["parent"] = parent
        out.append(_V1Layer(v1_id, _json({**head, **v1}), layer))
        parent = v1_id
    return out


def _docker24(images: Sequence[Image], *, share_v1_dirs: bool) -> bytes:
    # moby (<= 24) writes a temp dir, then tars it in walk order with directory entries.
    files: dict[str, bytes] = {}
    dirs: list[str] = []
    symlinks: dict[str, str] = {}
    diff_id_dirs: dict[str, str] = {}
    manifest: list[dict[str, Any]] = []
    repos: list[tuple[str, str]] = []
    for image in images:
        files[f"{_hex(image.config_digest)}.json"] = image.config_bytes()
        layer_paths = []
        v1_layers = _moby_v1_layers(image, per_image=not share_v1_dirs)
        for v1 in v1_layers:
            layer_paths.append(f"{v1.id}/layer.tar")
            if f"{v1.id}/" in dirs:
                continue  # same chain, same id: moby saves the directory once
            dirs.append(f"{v1.id}/")
            files[f"{v1.id}/VERSION"] = b"1.0"
            files[f"{v1.id}/json"] = v1.json
            if v1.layer.omit_blob:
                continue
            seen = diff_id_dirs.get(v1.layer.diff_id)
            if seen is not None:
                # moby: a diff_id already saved under another id becomes a relative symlink.
                symlinks[f"{v1.id}/layer.tar"] = f"../{seen}/layer.tar"
            else:
                files[f"{v1.id}/layer.tar"] = v1.layer.blob()
                diff_id_dirs[v1.layer.diff_id] = v1.id
        manifest.append(
            {
                "Config": f"{_hex(image.config_digest)}.json",
                "RepoTags": list(image.tags) or None,  # Go writes a nil slice as null
                "Layers": layer_paths,
            }
        )
        repos += [(tag, v1_layers[-1].id) for tag in image.tags] if v1_layers else []
    files["manifest.json"] = _json(manifest)
    files["repositories"] = _repositories(repos)
    out = _OuterTar(mtime=1700000000)
    out.tree(files, dirs=dirs, symlinks=symlinks)
    return out.getvalue()


def _podman_v1_layers(image: Image) -> list[_V1Layer]:
    """Legacy ids exactly as containers/image's docker-archive writer computes them."""
    cfg = _config_or_empty(image)
    out: list[_V1Layer] = []
    last = ""
    chain = ""
    for i, layer in enumerate(image.layers):
        layer_cfg: dict[str, Any] = {}
        if last:
            layer_cfg["parent"] = last
        if i == len(image.layers) - 1:
            for attr in (
                "architecture",
                "config",
                "container",
                "container_config",
                "created",
                "docker_version",
                "os",
            ):
                layer_cfg[attr] = cfg.get(attr)
        chain = layer.diff_id if not chain else sha256(f"{chain} {layer.diff_id}".encode())
        layer_id = hashlib.sha256(_go_map_json({**layer_cfg, "layer_id": chain})).hexdigest()
        layer_cfg["id"] = layer_id
        out.append(_V1Layer(layer_id, _go_map_json(layer_cfg), layer))
        last = layer_id
    return out


def _podman(images: Sequence[Image]) -> bytes:
    # containers/image streams members image by image: new layer files, the config, then the
    # legacy <id>/{layer.tar -> ../<diffid>.tar, VERSION, json}; manifest.json and repositories
    # at the end. All files 0444, mtime 0, no directory entries (corpus/podman/*.tar).
    out = _OuterTar(mtime=0, file_mode=0o444)
    manifest: list[dict[str, Any]] = []
    repos: list[tuple[str, str]] = []
    for image in images:
        paths = []
        for layer in image.layers:
            name = f"{_hex(layer.diff_id)}.tar"
            paths.append(name)
            if name not in out.names and not layer.omit_blob:
                out.file(name, layer.blob())
        config_name = f"{_hex(image.config_digest)}.json"
        if config_name not in out.names:
            out.file(config_name, image.config_bytes())
        v1_layers = _podman_v1_layers(image)
        for v1 in v1_layers:
            if f"{v1.id}/json" in out.names:
                continue
            out.symlink(f"{v1.id}/layer.tar", f"../{_hex(v1.layer.diff_id)}.tar", mode=0)
            out.file(f"{v1.id}/VERSION", b"1.0")
            out.file(f"{v1.id}/json", v1.json)
        manifest.append({"Config": config_name, "RepoTags": list(image.tags), "Layers": paths})
        repos += [(tag, v1_layers[-1].id) for tag in image.tags] if v1_layers else []
    out.file("manifest.json", _json(manifest))
    out.file("repositories", _repositories(repos))
    return out.getvalue()


def _docker25(images: Sequence[Image], *, quirk: str | None) -> bytes:
    # moby >= 25: an OCI layout plus manifest.json pointing into blobs/. Layers are stored as
    # they are in the image store (uncompressed: blob digest == diff_id). The legacy v1 json
    # files survive as unreferenced blobs; `repositories` names the top v1 id.
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> str:
        digest = sha256(data)
        blobs[f"blobs/sha256/{_hex(digest)}"] = data
        return f"blobs/sha256/{_hex(digest)}"

    manifest: list[dict[str, Any]] = []
    index: list[dict[str, Any]] = []
    repos: list[tuple[str, str]] = []
    for image in images:
        config_path = put(image.config_bytes())
        v1_layers = _moby_v1_layers(image, per_image=False)
        layer_paths = []
        for v1 in v1_layers:
            put(v1.json)
            blob = v1.layer.blob()
            layer_paths.append(f"blobs/sha256/{_hex(sha256(blob))}")
            if not v1.layer.omit_blob:
                put(blob)
        # 25.0.x bug: OCI manifest layers out of order (here: reversed).
        m = image.oci_manifest(layers=image.layers[::-1] if quirk == "shuffled" else None)
        put(m)
        desc = {"mediaType": MT_OCI_MANIFEST, "digest": sha256(m), "size": len(m)}
        for tag in image.tags:
            annotations = {
                "io.containerd.image.name": _docker_full_name(tag),
                "org.opencontainers.image.ref.name": _split_ref(tag)[1],
            }
            index.append({**desc, "annotations": annotations})
        if not image.tags:
            index.append(desc)
        manifest.append(
            {"Config": config_path, "RepoTags": list(image.tags) or None, "Layers": layer_paths}
        )
        repos += [(tag, v1_layers[-1].id) for tag in image.tags] if v1_layers else []
    files = dict(blobs)
    files["index.json"] = _json(
        {
            "schemaVersion": 2,
            "mediaType": MT_OCI_INDEX,
            "manifests": None if quirk == "null_manifests" else index,
        }
    )
    files["manifest.json"] = _json(manifest)
    files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
    files["repositories"] = _repositories(repos)
    out = _OuterTar(mtime=0)
    out.tree(files, dirs=["blobs/", "blobs/sha256/"])
    return out.getvalue()


def write_docker_archive(
    path: str | os.PathLike[str],
    images: list[Image],
    *,
    style: str = "docker24",
    outer: str = "none",
    share_v1_dirs: bool = False,
    docker25_quirk: str | None = None,
) -> Path:
    """Write a ``docker save`` / ``podman save`` archive.

    style: ``docker24`` (``<v1id>/layer.tar`` directories), ``podman`` (``<diffid>.tar`` at the
    root, ``<id>/layer.tar`` symlinks) or ``docker25`` (OCI layout + ``manifest.json``).
    share_v1_dirs (docker24): compute v1 ids exactly like moby, so images with a common base
    share ``<id>/`` directories; by default each image gets its own, and every repeated layer is
    a relative symlink ``../<id>/layer.tar``.
    docker25_quirk: ``"shuffled"`` (OCI manifest layers reversed) or ``"null_manifests"``
    (``index.json`` ``"manifests": null``), bugs of some 25.0.x releases.
    outer: compress the whole finished tar (``none``/``gzip``/``zstd``).
    """
    if style == "docker24":
        data = _docker24(images, share_v1_dirs=share_v1_dirs)
    elif style == "podman":
        data = _podman(images)
    elif style == "docker25":
        data = _docker25(images, quirk=docker25_quirk)
    else:
        raise ValueError(f"unknown docker archive style {style!r}")
    return _write(path, data, outer)


# OCI layouts ---------------------------------------------------------------------------------


def _platform(spec: str | None, image: Image) -> dict[str, str]:
    if spec is None:
        plat = {"architecture": image.architecture, "os": image.os}
        if image.variant:
            plat["variant"] = image.variant
        return plat
    parts = spec.split("/")
    if len(parts) not in (2, 3):
        raise ValueError(f"platform {spec!r} is not os/arch[/variant]")
    plat = {"architecture": parts[1], "os": parts[0]}
    if len(parts) == 3:
        plat["variant"] = parts[2]
    return plat


def _attestation(blobs: dict[str, bytes], subject: str) -> dict[str, Any]:
    """A BuildKit attestation manifest (provenance) for the image manifest ``subject``."""
    statement = _json(
        {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{"name": "_", "digest": {"sha256": _hex(subject)}}],
            "predicate": {
                "builder": {"id": ""},
                "buildType": "https://mobyproject.org/buildkit@v1",
            },
        }
    )
    # BuildKit's attestation config: unknown/unknown, rootfs listing the in-toto layer.
    config = _json(
        {
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [sha256(statement)]},
        }
    )
    manifest = _json(
        {
            "schemaVersion": 2,
            "mediaType": MT_OCI_MANIFEST,
            "config": {"mediaType": MT_OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [
                {
                    "mediaType": MT_IN_TOTO,
                    "digest": sha256(statement),
                    "size": len(statement),
                    "annotations": {
                        "in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"
                    },
                }
            ],
        }
    )
    for data in (statement, config, manifest):
        blobs[_hex(sha256(data))] = data
    return {
        "mediaType": MT_OCI_MANIFEST,
        "digest": sha256(manifest),
        "size": len(manifest),
        "annotations": {
            "vnd.docker.reference.digest": subject,
            "vnd.docker.reference.type": "attestation-manifest",
        },
        "platform": {"architecture": "unknown", "os": "unknown"},
    }


def oci_layout_files(
    images: Sequence[Image],
    *,
    nested_index: bool = False,
    platforms: Sequence[str] | None = None,
    attestation: bool = False,
) -> dict[str, bytes]:
    """The files of an OCI image layout: ``{relative path: bytes}``."""
    blobs: dict[str, bytes] = {}
    descs: list[dict[str, Any]] = []
    for i, image in enumerate(images):
        cfg = image.config_bytes()
        blobs[_hex(sha256(cfg))] = cfg
        for layer in image.layers:
            if not layer.omit_blob:
                blob = layer.blob()
                blobs[_hex(sha256(blob))] = blob
        m = image.oci_manifest()
        blobs[_hex(sha256(m))] = m
        desc: dict[str, Any] = {"mediaType": MT_OCI_MANIFEST, "digest": sha256(m), "size": len(m)}
        if nested_index:
            spec = platforms[i] if platforms and i < len(platforms) else None
            desc["platform"] = _platform(spec, image)
        elif image.tags:
            desc["annotations"] = {"org.opencontainers.image.ref.name": image.tags[0]}
        descs.append(desc)
    if attestation and descs:
        descs.append(_attestation(blobs, descs[0]["digest"]))
    top = descs
    if nested_index:
        nested = _json({"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": descs})
        blobs[_hex(sha256(nested))] = nested
        top = [{"mediaType": MT_OCI_INDEX, "digest": sha256(nested), "size": len(nested)}]
        if images and images[0].tags:
            top[0]["annotations"] = {"org.opencontainers.image.ref.name": images[0].tags[0]}
    files = {f"blobs/sha256/{h}": data for h, data in blobs.items()}
    # podman writes index.json without a top-level mediaType (corpus/podman/app-oci.tar).
    files["index.json"] = _json({"schemaVersion": 2, "manifests": top})
    files["oci-layout"] = OCI_LAYOUT_BYTES
    return files


def write_oci_archive(
    path: str | os.PathLike[str],
    images: list[Image],
    *,
    as_dir: bool = False,
    nested_index: bool = False,
    platforms: list[str] | None = None,
    attestation: bool = False,
    dot_slash: bool = False,
    outer: str = "none",
) -> Path:
    """Write an OCI image layout as a tar (oci-archive) or, with ``as_dir``, a directory.

    ``dot_slash`` prefixes every member with ``./`` and adds the ``./`` root entry, like
    ``tar -C layout -cf x.tar .``.
    """
    files = oci_layout_files(
        images, nested_index=nested_index, platforms=platforms, attestation=attestation
    )
    if as_dir:
        root = Path(path)
        for name, data in files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return root
    # podman's oci-archive: root-owned, sorted walk with directory entries.
    out = _OuterTar(mtime=1700000000, uname="root", gname="root", prefix="./" if dot_slash else "")
    if dot_slash:
        out.dir("")  # the "./" root entry
    out.tree(files, dirs=["blobs/", "blobs/sha256/"])
    return _write(path, out.getvalue(), outer)


# docker-dir ----------------------------------------------------------------------------------


def write_docker_dir(path: str | os.PathLike[str], image: Image) -> Path:
    """``podman save --format docker-dir`` / skopeo ``dir:``: blobs named by hex digest,
    a registry manifest.json and a ``version`` file."""
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    (root / "version").write_bytes(DOCKER_DIR_VERSION)
    (root / "manifest.json").write_bytes(image.docker_manifest())
    cfg = image.config_bytes()
    (root / _hex(sha256(cfg))).write_bytes(cfg)
    for layer in image.layers:
        if not layer.omit_blob:
            blob = layer.blob()
            (root / _hex(sha256(blob))).write_bytes(blob)
    return root


# Raw tars (broken inputs) --------------------------------------------------------------------

RawMember = tuple[str, bytes] | tarfile.TarInfo | tuple[tarfile.TarInfo, bytes] | Entry


Member = tuple[tarfile.TarInfo, bytes | None]


def read_members(tar: bytes | str | os.PathLike[str]) -> list[Member]:
    """Every member of a plain tar with its data (None for dirs and links), in order."""
    fileobj = io.BytesIO(tar) if isinstance(tar, bytes) else open(tar, "rb")  # noqa: SIM115
    with fileobj, tarfile.open(fileobj=fileobj) as t:
        out: list[Member] = []
        for info in t.getmembers():
            fh = t.extractfile(info) if info.isfile() else None
            out.append((info, fh.read() if fh is not None else None))
        return out


def pack_members(members: Iterable[Member]) -> bytes:
    """A plain tar of `(TarInfo, data)` pairs as given (sizes follow the data): the way
    tests edit an archive member by member and write it back."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as out:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            out.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def write_raw_tar(
    path: str | os.PathLike[str],
    members: Sequence[RawMember],
    *,
    symlinks: dict[str, str] | None = None,
    outer: str = "none",
) -> Path:
    """A plain tar with exactly these members, in order, names untouched.

    A member is ``(name, data)`` (regular file, 0644), a ``TarInfo`` (no data: dirs, links),
    ``(TarInfo, data)`` (size is set from data), or an ``Entry``. ``symlinks`` ``{name: target}``
    are appended after the members.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            if isinstance(member, Entry):
                info, payload = member.tarinfo()
            elif isinstance(member, tarfile.TarInfo):
                info, payload = member, None
            elif isinstance(member[0], tarfile.TarInfo):
                info, payload = member[0], member[1]
                info.size = len(payload)
            else:
                info = tarfile.TarInfo(member[0])
                info.mode, info.mtime = 0o644, 0
                payload = member[1]
                info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload) if payload is not None else None)
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
            tar.addfile(info)
    return _write(path, buf.getvalue(), outer)


# Package databases ---------------------------------------------------------------------------
# The files package managers keep inside an image, written as the tools write them, so a
# layer can "install", "upgrade" and "remove" packages: dpkg's status (deb822 stanzas) and
# info/<name>.list, apk's installed, Python's dist-info METADATA and RECORD, npm manifests.


@dataclass
class DebPackage:
    name: str
    version: str
    files: list[str]  # absolute paths dpkg lists (directories are added, as dpkg does)
    arch: str = "amd64"
    installed_kib: int = 0
    status: str = "install ok installed"
    multi_arch_same: bool = False

    @property
    def list_name(self) -> str:
        return f"{self.name}:{self.arch}" if self.multi_arch_same else self.name


def dpkg_status(packages: Sequence[DebPackage]) -> bytes:
    """/var/lib/dpkg/status: one stanza per package, as dpkg writes it."""
    stanzas = []
    for p in packages:
        lines = [
            f"Package: {p.name}",
            f"Status: {p.status}",
            "Priority: optional",
            "Section: misc",
            f"Installed-Size: {p.installed_kib}",
            "Maintainer: Test <test@example.com>",
            f"Architecture: {p.arch}",
        ]
        if p.multi_arch_same:
            lines.append("Multi-Arch: same")
        lines += [
            f"Version: {p.version}",
            f"Description: {p.name} for layerscope's tests",
            " A second line of the description,",
            " .",
            " and a paragraph after an empty one.",
        ]
        stanzas.append("\n".join(lines) + "\n")
    return "\n".join(stanzas).encode()


def dpkg_list(package: DebPackage) -> bytes:
    """/var/lib/dpkg/info/<name>.list: "/." then every directory and file, one per line."""
    paths: list[str] = []
    seen = {"/"}
    for f in package.files:
        parts = f.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "/" + "/".join(parts[:i])
            if d not in seen:
                seen.add(d)
                paths.append(d)
        paths.append(f)
    return ("/.\n" + "\n".join(paths) + "\n").encode()


def dpkg_entries(
    packages: Sequence[DebPackage], lists: Sequence[DebPackage] | None = None
) -> list[Entry]:
    """The status file and the .list files of `lists` (None: every package's)."""
    out = [file("var/lib/dpkg/status", dpkg_status(packages))]
    for p in packages if lists is None else lists:
        out.append(file(f"var/lib/dpkg/info/{p.list_name}.list", dpkg_list(p)))
    return out


@dataclass
class ApkPackage:
    name: str
    version: str
    files: list[str]  # absolute paths
    arch: str = "x86_64"
    installed_bytes: int = 0


def apk_installed(packages: Sequence[ApkPackage]) -> bytes:
    """/lib/apk/db/installed: blocks of `X:value` lines; files as F: (dir) then R: (names)."""
    blocks = []
    for p in packages:
        lines = [
            "C:Q1" + sha256(p.name.encode())[7:35],
            f"P:{p.name}",
            f"V:{p.version}",
            f"A:{p.arch}",
            "S:1000",
            f"I:{p.installed_bytes}",
            f"T:{p.name} for layerscope's tests",
            "L:MIT",
            "o:" + p.name,
            "m:Test <test@example.com>",
        ]
        by_dir: dict[str, list[str]] = {}
        for f in p.files:
            head, _, name = f.strip("/").rpartition("/")
            by_dir.setdefault(head, []).append(name)
        for head, names in by_dir.items():
            lines.append(f"F:{head}")
            for name in names:
                lines += [f"R:{name}", "Z:Q1" + sha256(name.encode())[7:35]]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks).encode() + b"\n"


def dist_info(site: str, name: str, version: str, files: dict[str, bytes]) -> list[Entry]:
    """An installed Python distribution: its files (relative to `site`, may start with
    ../) and NAME-VERSION.dist-info/METADATA and RECORD (path,sha256=...,size)."""
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    metadata = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        f"Summary: {name} for layerscope's tests\n\nA long description.\n"
    ).encode()
    out: list[Entry] = []
    rows = []
    for rel, data in files.items():
        out.append(file(os.path.normpath(f"{site.strip('/')}/{rel}"), data))
        rows.append(f"{rel},sha256={sha256(data)[7:]},{len(data)}")
    out.append(file(f"{site.strip('/')}/{info}/METADATA", metadata))
    rows.append(f"{info}/METADATA,sha256={sha256(metadata)[7:]},{len(metadata)}")
    rows.append(f"{info}/RECORD,,")
    out.append(file(f"{site.strip('/')}/{info}/RECORD", ("\n".join(rows) + "\n").encode()))
    return out


def npm_package(node_modules: str, name: str, version: str, files: dict[str, bytes]) -> list[Entry]:
    """node_modules/NAME/package.json and the package's files (relative to its directory)."""
    base = f"{node_modules.strip('/')}/{name}"
    manifest = json.dumps({"name": name, "version": version, "main": "index.js"}).encode()
    return [file(f"{base}/package.json", manifest)] + [
        file(f"{base}/{rel}", data) for rel, data in files.items()
    ]
