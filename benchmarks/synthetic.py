"""Deterministic, streamed synthetic images for the benchmarks.

Nothing big is held in memory: each layer tar is written member by member to a file next
to the archive (its diff_id hashed on the way), then copied into the outer archive. File
contents are slices of one 64 MiB pool of text-like and binary-like bytes, chosen by a
CRC of the path, so the same path always gets the same bytes (a `chmod -R` re-ship and a
copied doc tree are byte-identical to their originals) and gzip/zstd see realistic ratios.

    big_image(dir)       ~900 MB docker-archive, 180,000 files in five layers (the issue's image)
    oci_forms(docker)    the same layers as oci-archives with gzip and with zstd blobs
    many_files(path, n)  n small files over five layers (the 1,000,000-file scale test)
    sized_image(path, gb) about `gb` GB of layers of mixed file sizes (the streaming test)
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import zstandard

MiB = 1024 * 1024
POOL_BYTES = 64 * MiB
MTIME = 1_767_225_600  # 2026-01-01
_TEXT = (
    "the of and to in is for on with as by at from this that be are or an it not int void "
    "return static const struct include define if else while char unsigned size_t config "
    "package license copyright version usr lib share doc debian python module import def "
    "class self none true false error value data file path name type list dict string"
)
_WORDS = _TEXT.split()

_pool: bytes | None = None


def pool() -> bytes:
    """64 MiB, built once per process: 60% word text (gzip ~3.5:1), 40% random bytes."""
    global _pool
    if _pool is None:
        rng = random.Random(20261129)
        parts: list[bytes] = []
        total = 0
        while total < POOL_BYTES:
            if rng.random() < 0.6:
                words = rng.choices(_WORDS, k=4096)
                chunk = (" ".join(words) + "\n").encode()
            else:
                chunk = rng.randbytes(rng.randint(8_000, 40_000))
            parts.append(chunk)
            total += len(chunk)
        _pool = b"".join(parts)[:POOL_BYTES]
    return _pool


def content(path: str, size: int) -> memoryview:
    data = pool()
    start = (zlib.crc32(path.encode()) * 2654435761) % (len(data) - size)
    return memoryview(data)[start : start + size]


# One member of a layer: (path, kind, arg, mode). kind: f (arg: size, or (size, path whose
# bytes it copies)), d, l (symlink, arg: target), w (whiteout of path).
Member = tuple[str, str, int | str | tuple[int, str], int]


class HashingWriter:
    def __init__(self, fh):  # type: ignore[no-untyped-def]
        self.fh = fh
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data) -> int:  # type: ignore[no-untyped-def]
        self.sha.update(data)
        self.fh.write(data)
        self.size += len(data)
        return len(data)


def write_layer(path: Path, members: Iterable[Member]) -> str:
    """Write one layer tar member by member; return its diff_id."""
    with open(path, "wb") as raw:
        out = HashingWriter(raw)
        for name, kind, arg, mode in members:
            key = None
            if isinstance(arg, tuple):  # (size, the path whose bytes this file copies)
                arg, key = arg
            if kind == "w":
                head, _, base = name.rpartition("/")
                name = f"{head}/.wh.{base}" if head else f".wh.{base}"
            info = tarfile.TarInfo(name + ("/" if kind == "d" else ""))
            info.mtime = MTIME
            info.mode = mode
            if kind == "f":
                info.size = int(arg)
            elif kind == "d":
                info.type = tarfile.DIRTYPE
            elif kind == "l":
                info.type = tarfile.SYMTYPE
                info.linkname = str(arg)
            out.write(info.tobuf(tarfile.GNU_FORMAT))
            if kind == "f" and info.size:
                out.write(content(key or name, info.size))
                out.write(b"\0" * (-info.size % 512))
        out.write(b"\0" * 1024)
        return "sha256:" + out.sha.hexdigest()


def with_dirs(files: Iterable[Member]) -> Iterator[Member]:
    """Emit each parent directory once, before its first child (as builders do)."""
    seen: set[str] = set()
    for m in files:
        parts = m[0].split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in seen:
                seen.add(d)
                yield (d, "d", 0, 0o755)
        yield m


@dataclass
class BuiltLayer:
    tar: Path
    diff_id: str
    created_by: str


def _config(layers: list[BuiltLayer]) -> bytes:
    return json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "created": "2026-01-01T00:00:00Z",
            "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [la.diff_id for la in layers]},
            "history": [
                {"created": "2026-01-01T00:00:00Z", "created_by": la.created_by} for la in layers
            ],
        },
        indent=1,
    ).encode()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = MTIME
    tar.addfile(info, io.BytesIO(data))


def write_docker_archive(path: Path, layers: list[BuiltLayer], tag: str) -> Path:
    config = _config(layers)
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    tmp = path.with_suffix(".part")
    with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as out:
        names = []
        for la in layers:
            name = la.diff_id[7:] + ".tar"
            names.append(name)
            info = out.gettarinfo(str(la.tar), arcname=name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "", ""
            with open(la.tar, "rb") as fh:
                out.addfile(info, fh)
        _add_bytes(out, config_name, config)
        manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": names}]
        _add_bytes(out, "manifest.json", json.dumps(manifest).encode())
    tmp.rename(path)
    return path


def _compress_file(src: Path, dst: Path, method: str) -> tuple[str, int]:
    """Compress src into dst; return (blob digest, blob size)."""
    sha = hashlib.sha256()
    with open(src, "rb") as fh, open(dst, "wb") as raw:
        out = HashingWriter(raw)
        if method == "gzip":
            # mtime=0 and level 6 (the Go default moby and containerd use): deterministic.
            with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) as gz:  # type: ignore[arg-type]
                while chunk := fh.read(4 * MiB):
                    gz.write(chunk)
        else:
            cctx = zstandard.ZstdCompressor(level=3)
            with cctx.stream_writer(out, closefd=False) as zw:  # type: ignore[arg-type]
                while chunk := fh.read(4 * MiB):
                    zw.write(chunk)
        sha = out.sha
    return "sha256:" + sha.hexdigest(), out.size


def write_oci_archive(path: Path, layers: list[BuiltLayer], method: str, tag: str) -> Path:
    media = "application/vnd.oci.image.layer.v1.tar+" + method
    tmp = path.with_suffix(".part")
    descs = []
    with tarfile.open(tmp, "w", format=tarfile.GNU_FORMAT) as out:
        for la in layers:
            blob = la.tar.with_suffix("." + method)
            digest, size = _compress_file(la.tar, blob, method)
            info = out.gettarinfo(str(blob), arcname="blobs/sha256/" + digest[7:])
            info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "", ""
            with open(blob, "rb") as fh:
                out.addfile(info, fh)
            blob.unlink()
            descs.append({"mediaType": media, "digest": digest, "size": size})
        config = _config(layers)
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        _add_bytes(out, "blobs/sha256/" + config_digest[7:], config)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": config_digest,
                    "size": len(config),
                },
                "layers": descs,
            }
        ).encode()
        manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
        _add_bytes(out, "blobs/sha256/" + manifest_digest[7:], manifest)
        index = {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": manifest_digest,
                    "size": len(manifest),
                    "annotations": {"org.opencontainers.image.ref.name": tag},
                }
            ],
        }
        _add_bytes(out, "index.json", json.dumps(index).encode())
        _add_bytes(out, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    tmp.rename(path)
    return path


def _build(
    path: Path, plans: list[tuple[str, Callable[[], Iterable[Member]]]], tag: str
) -> list[BuiltLayer]:
    layers: list[BuiltLayer] = []
    for i, (created_by, members) in enumerate(plans):
        tar = path.parent / f"{path.stem}.layer{i}.tar"
        layers.append(BuiltLayer(tar, write_layer(tar, members()), created_by))
    return layers


def _cleanup(layers: list[BuiltLayer]) -> None:
    for la in layers:
        la.tar.unlink(missing_ok=True)


# -- the image: 180,000 files, ~900 MB ---------------------------------------------


def _sizes(seed: int, median: int, sigma: float, cap: int = 64 * MiB) -> Iterator[int]:
    """File sizes with a log-normal spread (a few big files, many small ones, as in real trees)."""
    rng = random.Random(seed)
    while True:
        yield min(cap, int(rng.lognormvariate(0, sigma) * median))


def _base_os() -> list[Member]:
    files: list[Member] = []
    sizes = _sizes(1, 3_000, 1.8)
    for i in range(700):
        files.append((f"usr/bin/tool{i}", "f", next(sizes) * 4, 0o755))
    for i in range(1600):
        files.append((f"usr/lib/x86_64-linux-gnu/lib{i}.so.1", "f", next(sizes) * 2, 0o644))
    for i in range(2400):
        name = "copyright" if i % 8 == 0 else f"doc{i}.txt"
        files.append((f"usr/share/doc/pkg{i // 8}/{name}", "f", next(sizes), 0o644))
    for i in range(1800):
        files.append((f"usr/share/zoneinfo/Zone{i // 60}/City{i}", "f", 2200, 0o644))
    for i in range(1500):
        files.append((f"var/lib/dpkg/info/pkg{i // 5}.list{i % 5}", "f", next(sizes) // 4, 0o644))
    for i in range(700):
        files.append((f"usr/share/locale/l{i // 20}/LC_MESSAGES/m{i}.mo", "f", next(sizes), 0o644))
    for i in range(300):
        files.append((f"etc/conf{i // 30}/file{i}.conf", "f", next(sizes) // 4, 0o644))
    for i in range(1400):
        files.append((f"usr/share/man/man{i % 8 + 1}/page{i}.gz", "f", next(sizes) // 2, 0o644))
    files.append(("var/lib/dpkg/status", "f", 400_000, 0o644))
    out = list(with_dirs(files))
    out += [(f"bin/sh{i}", "l", f"/usr/bin/tool{i}", 0o777) for i in range(200)]
    return out


def _build_tools() -> list[Member]:
    files: list[Member] = []
    sizes = _sizes(2, 4_000, 1.2)
    big = _sizes(22, 40_000, 1.8)
    for i in range(5200):
        files.append((f"usr/include/sub{i // 200}/h{i}.h", "f", next(sizes), 0o644))
    for i in range(300):
        files.append((f"usr/lib/gcc/x86_64-linux-gnu/12/plugin/p{i}.so", "f", next(big), 0o755))
    for i in range(5500):
        files.append((f"usr/lib/python3.11/pkg{i // 100}/mod{i}.py", "f", next(sizes) * 2, 0o644))
    for i in range(1000):
        files.append((f"usr/libexec/gcc/x86_64-linux-gnu/12/part{i}", "f", next(big), 0o755))
    return list(with_dirs(files))


def _generated() -> Iterator[Member]:
    sizes = _sizes(3, 800, 1.0)
    return with_dirs(
        (
            f"app/generated/part{i // 1000:03d}/mod{i // 50 % 20:02d}/gen{i}.json",
            "f",
            next(sizes),
            0o644,
        )
        for i in range(150_000)
    )


def _chmod_and_rm() -> list[Member]:
    # `chmod -R g+w /usr/include` re-ships every header; `rm -rf` removes ten generated parts
    # and every package's copyright file (one whiteout each).
    tools = [m for m in _build_tools() if m[0].startswith("usr/include")]
    out = [(p, k, a, mode | 0o020) for p, k, a, mode in tools]
    out += [(f"app/generated/part{i:03d}", "w", 0, 0) for i in range(10)]
    out += [(m[0], "w", 0, 0) for m in _base_os() if m[0].endswith("/copyright")]
    return out


def _doc_copy() -> list[Member]:
    # `cp -a /usr/share/doc /opt/docs`: the same bytes at new paths (duplicate content).
    out: list[Member] = [("opt", "d", 0, 0o755)]
    for p, k, a, mode in _base_os():
        if p.startswith("usr/share/doc") and not p.endswith("/copyright"):
            copy = "opt/docs" + p[len("usr/share/doc") :]
            out.append((copy, k, (a, p) if k == "f" else a, mode))
    return out


BIG_PLAN: list[tuple[str, Callable[[], Iterable[Member]]]] = [
    ("/bin/sh -c #(nop) ADD file:debian-like-rootfs in /", _base_os),
    ("/bin/sh -c apt-get install -y build-essential python3", _build_tools),
    ("/bin/sh -c ./generate --count 150000", _generated),
    (
        "/bin/sh -c chmod -R g+w /usr/include && rm -rf /app/generated/part00* "
        "/usr/share/doc/*/copyright",
        _chmod_and_rm,
    ),
    ("/bin/sh -c cp -a /usr/share/doc /opt/docs", _doc_copy),
]
BIG_TAG = "bench/big:1"


def big_image(cache: Path) -> dict[str, Path]:
    """The issue's image and its gzip/zstd oci-archive forms, built once into `cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    forms = {
        "docker": cache / "big-180k-v4-docker.tar",
        "gzip": cache / "big-180k-v4-oci-gzip.tar",
        "zstd": cache / "big-180k-v4-oci-zstd.tar",
    }
    if all(p.exists() for p in forms.values()):
        return forms
    layers = _build(forms["docker"], BIG_PLAN, BIG_TAG)
    try:
        write_docker_archive(forms["docker"], layers, BIG_TAG)
        write_oci_archive(forms["gzip"], layers, "gzip", BIG_TAG)
        write_oci_archive(forms["zstd"], layers, "zstd", BIG_TAG)
    finally:
        _cleanup(layers)
    return forms


# -- scale inputs, built on the fly and deleted by the caller ------------------------------


def many_files(path: Path, count: int) -> Path:
    """`count` small files over five layers, ~200 bytes each."""
    per = count // 5

    def layer(k: int) -> Callable[[], Iterable[Member]]:
        return lambda: with_dirs(
            (f"data{k}/d{i // 1000:04d}/f{i}.txt", "f", 64 + i % 300, 0o644) for i in range(per)
        )

    plans = [(f"/bin/sh -c make-files {k}", layer(k)) for k in range(5)]
    layers = _build(path, plans, "bench/many:1")
    try:
        return write_docker_archive(path, layers, "bench/many:1")
    finally:
        _cleanup(layers)


def sized_image(path: Path, gigabytes: float) -> Path:
    """About `gigabytes` GB of layers (1 GB each) of mixed file sizes, 64 B .. 4 MiB."""
    total = int(gigabytes * 1e9)
    per_layer = int(1e9)
    plans = []
    for k in range((total + per_layer - 1) // per_layer):
        budget = min(per_layer, total - k * per_layer)

        def members(k: int = k, budget: int = budget) -> Iterator[Member]:
            rng = random.Random(k)
            left, i = budget, 0
            while left > 0:
                size = min(left, int(64 + 4 * MiB * rng.random() ** 4))
                yield (f"layer{k}/dir{i // 500}/file{i}.bin", "f", size, 0o644)
                left -= size
                i += 1

        plans.append((f"/bin/sh -c fill {k}", lambda m=members: with_dirs(m())))
    layers = _build(path, plans, "bench/sized:1")
    try:
        return write_docker_archive(path, layers, "bench/sized:1")
    finally:
        _cleanup(layers)
