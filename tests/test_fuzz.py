"""Mutation fuzzing of real archives: every outcome is an Analysis or a LayerscopeError.

Seeded mutations of the podman corpus archives (docker-archive, oci-archive with gzip and
zstd layers, gzip-compressed docker-archive), and of the OCI side of a Docker >= 25 archive
built by tests/builders.py (the corpus has none): bytes flipped in outer and layer tar headers
(checksum fixed up or not), header fields overwritten with hostile values, JSON members
flipped byte-wise or rewritten with values of the wrong type (digests fixed up so the
change reaches the readers), compressed bytes flipped, truncation, splicing. Any other
exception (IndexError, KeyError, TypeError, UnicodeDecodeError, zlib.error, EOFError,
RecursionError...) is a bug in the core; the cases that found one are kept below as
regression tests built with tests/builders.py.
"""

from __future__ import annotations

import copy
import functools
import gzip
import hashlib
import io
import json
import random
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from layerscope.analysis import Analysis
from layerscope.errors import LayerscopeError, ManifestError
from layerscope.load import load
from tests import builders as b

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT / ".." / "shared" / "corpus" / "podman").resolve()
ARCHIVES = ["app-docker.tar", "app-oci-gzip.tar", "app-oci-zstd.tar", "app-docker.tar.gz"]
BYTE_CASES = 90  # per archive
JSON_CASES = 30  # per archive

corpus_needed = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")

# The corpus, indexed once ------------------------------------------------------------------


@dataclass
class Target:
    raw: bytes  # the file as stored
    tar: bytes  # the outer tar (decompressed for .tar.gz)
    headers: list[int] = field(default_factory=list)  # outer header offsets
    json: list[tuple[int, int]] = field(default_factory=list)  # (offset, size) of JSON members
    blobs: list[tuple[int, int]] = field(default_factory=list)  # other file members
    inner: list[int] = field(default_factory=list)  # headers inside uncompressed layer tars


@functools.cache
def target(name: str) -> Target:
    raw = (CORPUS / name).read_bytes()
    tar = gzip.decompress(raw) if name.endswith(".gz") else raw
    t = Target(raw, tar)
    with tarfile.open(fileobj=io.BytesIO(tar)) as outer:
        for m in outer.getmembers():
            t.headers.append(m.offset)
            if not m.isfile() or not m.size:
                continue
            start = m.offset_data
            if tar[start : start + 1] in (b"{", b"["):
                t.json.append((start, m.size))
                continue
            t.blobs.append((start, m.size))
            if tar[start + 257 : start + 262] == b"ustar":
                with tarfile.open(fileobj=io.BytesIO(tar[start : start + m.size])) as layer:
                    t.inner += [start + x.offset for x in layer.getmembers()]
    return t


# Byte-level mutations ------------------------------------------------------------------------

_FIELDS = [
    (0, 100),
    (100, 8),
    (108, 8),
    (124, 12),
    (136, 12),
    (156, 1),
    (157, 100),
    (257, 8),
    (345, 155),
    (482, 1),
    (483, 12),
]


def _fix_checksum(buf: bytearray, base: int) -> None:
    header = buf[base : base + 512]
    header[148:156] = b" " * 8
    buf[base + 148 : base + 156] = b"%06o\0 " % sum(header)


def _field_value(rng: random.Random, length: int) -> bytes:
    if length == 1:
        return bytes([rng.choice(b"0125xgLKSD7346VMN\0Z\x80")])
    choices = [
        b"\xff" * length,  # negative base-256
        b"\x80" + b"\xff" * (length - 1),  # huge base-256
        b"7" * length,  # octal without terminator
        bytes(length),
        bytes(rng.randrange(256) for _ in range(length)),
        b"../../etc/x".ljust(length, b"\0")[:length],
        b"/abs/x".ljust(length, b"\0")[:length],
        b"caf\xe9\0".ljust(length, b"\0")[:length],
    ]
    return rng.choice(choices)


def mutate_bytes(rng: random.Random, t: Target, other: Target) -> tuple[bytes, str]:
    buf = bytearray(t.tar)
    op = rng.choice(["header", "field", "inner", "json", "blob", "truncate", "splice", "flip"])
    if op == "inner" and not t.inner:
        op = "field"
    if op in ("header", "inner"):
        base = rng.choice(t.headers if op == "header" else t.inner)
        for _ in range(rng.randint(1, 4)):
            buf[base + rng.randrange(512)] = rng.randrange(256)
        if rng.random() < 0.7:
            _fix_checksum(buf, base)
    elif op == "field":
        base = rng.choice(t.headers + t.inner)
        offset, length = rng.choice(_FIELDS)
        buf[base + offset : base + offset + length] = _field_value(rng, length)
        if rng.random() < 0.8:
            _fix_checksum(buf, base)
    elif op == "json":
        start, size = rng.choice(t.json)
        for _ in range(rng.randint(1, 6)):
            buf[start + rng.randrange(size)] = rng.choice(b'{}[]":,0123456789-.tfnul \\\0\xff\x80')
    elif op == "blob":
        start, size = rng.choice(t.blobs)
        for _ in range(rng.randint(1, 8)):
            buf[start + rng.randrange(size)] ^= 1 << rng.randrange(8)
    elif op == "truncate":
        cut = rng.choice([rng.randrange(len(buf)), rng.choice(t.headers) + rng.randrange(-8, 520)])
        del buf[max(cut, 0) :]
    elif op == "splice":
        source = rng.choice([t.tar, other.tar])
        n = rng.randint(1, 4096)
        at = rng.randrange(len(source) - n)
        to = rng.randrange(len(buf) - n)
        buf[to : to + n] = source[at : at + n]
    else:
        for _ in range(rng.randint(1, 16)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf), op


def mutate_compressed(rng: random.Random, raw: bytes) -> tuple[bytes, str]:
    """Damage the compressed bytes of a .tar.gz itself."""
    buf = bytearray(raw)
    if rng.random() < 0.5:
        del buf[rng.randrange(len(buf)) :]
        return bytes(buf), "gz-truncate"
    for _ in range(rng.randint(1, 8)):
        buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf), "gz-flip"


# JSON-level mutations ------------------------------------------------------------------------

HOSTILE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    1.5,
    "",
    "x",
    "../../etc/passwd",
    "/abs",
    "sha256:" + "0" * 64,
    "sha256:../../x",
    [],
    {},
    [None],
    [1, 2],
    {"a": None},
    "\0",
    "caf\u00e9",
    [[[]]],
    {"": {}},
]


def _json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _json_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _json_paths(v, (*prefix, i))
    return out


def mutate_document(rng: random.Random, doc: Any) -> Any:
    where = rng.choice(_json_paths(doc))
    if not where:
        return copy.deepcopy(rng.choice(HOSTILE_VALUES))
    parent = doc
    for key in where[:-1]:
        parent = parent[key]
    roll = rng.random()
    if roll < 0.2 and isinstance(parent, dict):
        del parent[where[-1]]
    elif roll < 0.3 and isinstance(parent, list):
        parent.append(copy.deepcopy(rng.choice(HOSTILE_VALUES)))
    elif roll < 0.35 and isinstance(parent, list):
        parent.reverse()
    else:
        parent[where[-1]] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    return doc


def _retarget(value: Any, old: str, new: str, size: int) -> Any:
    """Point descriptors of digest `old` at `new` (and its size)."""
    if isinstance(value, dict):
        out = {k: _retarget(v, old, new, size) for k, v in value.items()}
        if out.get("digest") == old:
            out["digest"], out["size"] = new, size
        return out
    if isinstance(value, list):
        return [_retarget(v, old, new, size) for v in value]
    return value


def _replace_json(members: list[b.Member], k: int, new: bytes) -> bytes:
    """Put `new` in member k and pack the tar. In an OCI layout the blob is renamed to its new
    digest and the documents that point at it are updated, so the change reaches the readers
    instead of stopping at a digest check."""
    info, data = members[k]
    assert data is not None
    members[k] = (info, new)
    if "blobs/sha256/" in info.name:
        old_hex, new_hex = hashlib.sha256(data).hexdigest(), hashlib.sha256(new).hexdigest()
        info.name = info.name.replace(old_hex, new_hex)
        for i, (m, d) in enumerate(members):
            if i != k and d and d[:1] in (b"{", b"[") and old_hex.encode() in d:
                fixed = _retarget(json.loads(d), "sha256:" + old_hex, "sha256:" + new_hex, len(new))
                members[i] = (m, json.dumps(fixed).encode())
    return b.pack_members(members)


def mutate_json(rng: random.Random, t: Target) -> tuple[bytes, str]:
    """Rewrite one JSON member with a value of the wrong type somewhere (see _replace_json)."""
    members = b.read_members(t.tar)
    jsons = [i for i, (_m, d) in enumerate(members) if d and d[:1] in (b"{", b"[")]
    k = rng.choice(jsons)
    info, data = members[k]
    assert data is not None
    doc = json.loads(data)
    for _ in range(rng.randint(1, 3)):
        doc = mutate_document(rng, doc)
    new = json.dumps(doc).encode()
    return _replace_json(members, k, new), f"json:{info.name[-20:]}"


# Running a case ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def outcome(path: Path, *, verify: bool = False) -> Analysis | LayerscopeError:
    """The only two acceptable outcomes; anything else propagates and fails the test."""
    try:
        return load([str(path)], verify=verify)
    except LayerscopeError as exc:
        error = exc
    assert str(error)
    assert "\n" not in str(error)  # one line on stderr
    return error


def _run_case(
    workdir: Path, name: str, make: Callable[[random.Random], tuple[bytes, str]], seed: str
) -> None:
    rng = random.Random(seed)
    data, op = make(rng)
    gz = name.endswith(".gz")
    if gz and not op.startswith("gz-"):
        data = gzip.compress(data, compresslevel=1, mtime=0)
    path = workdir / ("case.tar.gz" if gz else "case.tar")
    path.write_bytes(data)
    try:
        result = outcome(path, verify=rng.random() < 0.3)
    except Exception as exc:  # noqa: BLE001 - reported with the case that made it
        raise AssertionError(f"{seed} ({op}): {type(exc).__name__}: {exc}") from exc
    assert isinstance(result, Analysis | LayerscopeError)


@corpus_needed
@pytest.mark.parametrize("name", ARCHIVES)
@pytest.mark.parametrize("case", range(BYTE_CASES))
def test_byte_mutations(workdir: Path, name: str, case: int) -> None:
    t = target(name)

    def make(rng: random.Random) -> tuple[bytes, str]:
        if name.endswith(".gz") and rng.random() < 0.3:
            return mutate_compressed(rng, t.raw)
        return mutate_bytes(rng, t, target(rng.choice(ARCHIVES)))

    _run_case(workdir, name, make, f"bytes:{name}:{case}")


@corpus_needed
@pytest.mark.parametrize("name", ARCHIVES)
@pytest.mark.parametrize("case", range(JSON_CASES))
def test_json_mutations(workdir: Path, name: str, case: int) -> None:
    t = target(name)
    _run_case(workdir, name, lambda rng: mutate_json(rng, t), f"json:{name}:{case}")


# The OCI side of a Docker >= 25 archive --------------------------------------------------------
#
# Docker >= 25 writes manifest.json and an OCI layout (index.json, OCI manifests) side by side;
# layerscope reads manifest.json and cross-checks the OCI side, which is as untrusted as the
# rest. There is no such archive in the corpus: tests/builders.py makes one (two images, one
# shared base layer) and its OCI documents are mutated.

OCI_SIDE_CASES = 60
WRONG_TYPES: list[Any] = [None, 5, 1.5, "x", [1], {"a": 1}]


@pytest.fixture(scope="module")
def docker25(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = b.Layer(b.layer_tar([b.dir("etc/"), b.file("etc/os-release", b"ID=test\n")]))
    images = [
        b.Image([base, b.Layer(b.layer_tar([b.file(f"app/{n}", n.encode() * 40)]))], tags=[tag])
        for n, tag in (("a", "example.com/a:1"), ("b", "example.com/b:1"))
    ]
    path = tmp_path_factory.mktemp("docker25") / "d25.tar"
    return b.write_docker_archive(path, images, style="docker25")


def oci_side(members: list[b.Member]) -> list[int]:
    """index.json and the OCI manifests it lists: what manifest.json does not cover."""
    index = json.loads(next(d for m, d in members if m.name == "index.json") or b"{}")
    listed = {d["digest"].split(":")[1] for d in index["manifests"]}
    return [
        i
        for i, (m, _d) in enumerate(members)
        if m.name == "index.json" or m.name.rsplit("/", 1)[-1] in listed
    ]


def mutate_oci_side(rng: random.Random, tar: bytes) -> tuple[bytes, str]:
    """Values of the wrong type anywhere in one OCI document (see _replace_json)."""
    members = b.read_members(tar)
    k = rng.choice(oci_side(members))
    info, data = members[k]
    assert data is not None
    doc = json.loads(data)
    for _ in range(rng.randint(1, 3)):
        doc = mutate_document(rng, doc)
    return _replace_json(members, k, json.dumps(doc).encode()), f"oci:{info.name[-20:]}"


def test_the_docker25_archive_has_an_oci_side_that_agrees(docker25: Path) -> None:
    assert len(oci_side(b.read_members(docker25))) == 3  # index.json, two OCI manifests
    analysis = load([str(docker25)])
    assert [im.ref for im in analysis.images] == ["example.com/a:1", "example.com/b:1"]
    assert analysis.archives[0].warnings == []


@pytest.mark.parametrize("case", range(OCI_SIDE_CASES))
def test_oci_side_mutations(workdir: Path, docker25: Path, case: int) -> None:
    tar = docker25.read_bytes()
    _run_case(workdir, "docker25.tar", lambda rng: mutate_oci_side(rng, tar), f"oci:{case}")


def _set(doc: Any, where: tuple[Any, ...], value: Any) -> Any:
    if not where:
        return value
    doc = copy.deepcopy(doc)
    parent = doc
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    return doc


def doc_value(doc: Any, where: tuple[Any, ...]) -> Any:
    for key in where:
        doc = doc[key]
    return doc


@pytest.mark.parametrize("value", WRONG_TYPES, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("document", [0, 1, 2], ids=["index", "manifest-a", "manifest-b"])
def test_every_oci_field_of_every_wrong_type(
    workdir: Path, docker25: Path, document: int, value: Any
) -> None:
    """Each field of one OCI document in turn (the document itself too) given `value`."""
    members = b.read_members(docker25)
    k = oci_side(members)[::-1][document]  # index.json comes last in the tar
    data = members[k][1]
    assert data is not None
    doc = json.loads(data)
    path = workdir / f"oci-field-{document}-{type(value).__name__}.tar"
    for where in _json_paths(doc):
        if where and doc_value(doc, where) == value:
            continue
        new = json.dumps(_set(doc, where, value)).encode()
        path.write_bytes(_replace_json(b.read_members(docker25), k, new))
        try:
            outcome(path)
        except Exception as exc:  # noqa: BLE001 - reported with the field that made it
            raise AssertionError(f"{members[k][0].name} {where}: {type(exc).__name__}") from exc


@corpus_needed
def test_unmutated_corpus_still_loads() -> None:
    for name in ARCHIVES:
        assert load([str(CORPUS / name)]).waste[0].reclaimable_bytes == 1311033


# Regression tests: the crashes the fuzzer found, rebuilt small ----------------------------------


def _small_image(**kw: Any) -> b.Image:
    return b.Image([b.Layer(b.layer_tar([b.file("a", b"x")]), compression="gzip")], **kw)


def _rewrite_json(tar: bytes, name_part: str, edit: Callable[[Any], Any]) -> bytes:
    """Edit the JSON member whose name contains `name_part`; keep OCI digests consistent."""
    members = b.read_members(tar)
    k = next(i for i, (m, _d) in enumerate(members) if name_part in m.name)
    info, data = members[k]
    assert data is not None
    new = json.dumps(edit(json.loads(data))).encode()
    return _replace_json(members, k, new)


def _oci_manifest_name(image: b.Image) -> str:
    return hashlib.sha256(image.oci_manifest()).hexdigest()


@pytest.mark.parametrize("bad", [1.5, ["x"], {"a": 1}, None])
def test_regression_layer_media_type_of_the_wrong_type(tmp_path: Path, bad: Any) -> None:
    # TypeError: argument of type 'float' is not iterable (source.layer_unavailable_reason)
    image = _small_image()
    tar = b.write_oci_archive(tmp_path / "o.tar", [image]).read_bytes()

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["layers"][0]["mediaType"] = bad
        return doc

    path = tmp_path / "bad-layer-type.tar"
    path.write_bytes(_rewrite_json(tar, _oci_manifest_name(image), edit))
    a = load([str(path)])
    assert a.waste[0].reclaimable_bytes == 0
    assert a.images[0].layers[0].media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip"


@pytest.mark.parametrize("bad", [["x"], {"a": 1}])
def test_regression_config_media_type_unhashable(tmp_path: Path, bad: Any) -> None:
    # TypeError: unhashable type: 'list' (oci._Walker.image_from_manifest)
    image = _small_image()
    tar = b.write_oci_archive(tmp_path / "o.tar", [image]).read_bytes()

    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["config"]["mediaType"] = bad
        return doc

    path = tmp_path / "bad-config-type.tar"
    path.write_bytes(_rewrite_json(tar, _oci_manifest_name(image), edit))
    assert len(load([str(path)]).images) == 1


def _nested_index_name(tar: bytes) -> str:
    return next(
        m.name for m, d in b.read_members(tar) if d and b'"manifests"' in d and "blobs/" in m.name
    )


@pytest.mark.parametrize("bad", [["x"], {"a": 1}, 5])
def test_regression_index_media_type_and_manifests_of_the_wrong_type(
    tmp_path: Path, bad: Any
) -> None:
    # TypeError: unhashable type: 'list' (oci._Walker.walk: a descriptor's mediaType, used
    # when the document has none); TypeError: 'int' object is not iterable ("manifests": 5)
    image = _small_image()
    tar = b.write_oci_archive(tmp_path / "o.tar", [image], nested_index=True).read_bytes()
    untyped = _rewrite_json(
        tar, _nested_index_name(tar), lambda doc: {k: v for k, v in doc.items() if k != "mediaType"}
    )

    def edit_top(doc: dict[str, Any]) -> dict[str, Any]:
        doc["manifests"][0]["mediaType"] = bad
        return doc

    path = tmp_path / "bad-index-type.tar"
    path.write_bytes(_rewrite_json(untyped, "index.json", edit_top))
    assert len(load([str(path)]).images) == 1

    path.write_bytes(_rewrite_json(tar, _nested_index_name(tar), lambda d: {**d, "manifests": 5}))
    with pytest.raises(ManifestError, match="no image"):
        load([str(path)])


@pytest.mark.parametrize(
    "rootfs", ["layers", [1], {"type": "layers", "diff_ids": 7}, {"diff_ids": [["x"]]}]
)
def test_regression_docker_config_rootfs_of_the_wrong_type(tmp_path: Path, rootfs: Any) -> None:
    # AttributeError: 'str' object has no attribute 'get'; TypeError: unhashable type: 'list'
    # (docker_archive.read, with LayerSources present)
    image = _small_image(extra={"rootfs": rootfs})
    tar = b.write_docker_archive(tmp_path / "d.tar", [image], style="podman").read_bytes()

    def edit(doc: list[dict[str, Any]]) -> list[dict[str, Any]]:
        doc[0]["LayerSources"] = {"x": {"mediaType": 3}}
        return doc

    path = tmp_path / "bad-rootfs.tar"
    path.write_bytes(_rewrite_json(tar, "manifest.json", edit))
    with pytest.raises(LayerscopeError, match="diff_id"):
        load([str(path)])


@pytest.mark.parametrize(
    ("edit", "warning"),
    [
        (lambda doc: {**doc, "manifests": 5}, 'index.json: "manifests" is int, not a list'),
        (lambda doc: [doc], "index.json: expected a JSON object, got list"),
    ],
)
def test_regression_docker25_index_of_the_wrong_type(
    tmp_path: Path, edit: Callable[[Any], Any], warning: str
) -> None:
    # TypeError: 'int' object is not iterable (docker_archive._cross_check_oci): the CLI said
    # "unexpected TypeError". manifest.json is what counts; the OCI side gets a warning.
    tar = b.write_docker_archive(tmp_path / "d.tar", [_small_image()], style="docker25")
    path = tmp_path / "bad-index.tar"
    path.write_bytes(_rewrite_json(tar.read_bytes(), "index.json", edit))
    analysis = load([str(path)])
    assert len(analysis.images) == 1
    assert analysis.archives[0].warnings == [
        f"OCI side of the archive unreadable, manifest.json used: {warning}"
    ]


def test_regression_directory_member_in_a_compressed_archive(tmp_path: Path) -> None:
    # KeyError in StreamedTar: a member that is not indexed (here a directory) passed to
    # the small-JSON visitor; found by flipping a typeflag in app-docker.tar.gz.
    image = _small_image()
    tar = b.write_docker_archive(tmp_path / "d.tar", [image], style="podman").read_bytes()
    members = b.read_members(tar)
    config = image.config_digest.split(":")[1] + ".json"
    extra = tarfile.TarInfo(config)
    extra.type = tarfile.DIRTYPE  # the same name again, as a directory
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as out:
        out.addfile(extra)
        for m, d in members:
            out.addfile(m, io.BytesIO(d) if d is not None else None)
    path = tmp_path / "dir-member.tar.gz"
    path.write_bytes(gzip.compress(buf.getvalue(), mtime=0))
    assert len(load([str(path)]).images) == 1
