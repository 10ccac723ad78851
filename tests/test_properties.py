"""Properties of layer stacking and waste over random layer stacks (Hypothesis).

Stacks mix files, directories, symlinks, hardlinks, FIFOs, file and directory whiteouts,
opaque markers (also at the root), type flips and duplicate entries over a small set of
paths, so that every rule of FORMATS.md "Applying a layer" meets every other one. The
final filesystem is checked against a plain reference implementation written here, and
the waste figures against their definitions in REPORT.md. Entries are never generated
under a path that is a symlink when they apply (the model follows such links inside the
tree; the reference does not try to).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerscope.analysis import Analysis
from layerscope.load import load
from tests import builders as b

NAMES = ("a", "b", "c")
PATHS = ["/".join(p) for depth in (1, 2, 3) for p in itertools.product(NAMES, repeat=depth)]
LINK_TARGETS = ("x", "../a", "/etc/passwd", "a/b", "../../../..", "")
CONTENTS = (b"", b"x", b"hello\n", b"y" * 100, b"z" * 1000)

SETTINGS = settings(
    deadline=None,
    derandomize=True,  # the same examples on every run
    database=None,  # and nothing written to .hypothesis/
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Generation --------------------------------------------------------------------------------

Spec = tuple[str, str, Any]  # (kind, path, payload)

_paths = st.sampled_from(PATHS)
_specs = st.one_of(
    st.tuples(st.just("file"), _paths, st.sampled_from(CONTENTS) | st.binary(max_size=64)),
    st.tuples(st.just("file"), _paths, st.sampled_from(CONTENTS)),
    st.tuples(st.just("dir"), _paths, st.none()),
    st.tuples(st.just("symlink"), _paths, st.sampled_from(LINK_TARGETS)),
    st.tuples(st.just("hardlink"), _paths, st.sampled_from(PATHS[:12])),  # shallow: often files
    st.tuples(st.just("fifo"), _paths, st.none()),
    st.tuples(st.just("whiteout"), _paths, st.none()),
    st.tuples(st.just("opaque"), st.sampled_from(["", *PATHS]), st.none()),
)
raw_stacks = st.lists(st.lists(_specs, max_size=14), min_size=1, max_size=5)


# The reference -------------------------------------------------------------------------------


@dataclass
class Ref:
    kind: str  # file, dir, symlink, hardlink, fifo
    size: int  # bytes the path shows (a hardlink shows its target's)
    content: int | None  # the shipment (file entry) whose bytes the path shows


class Reference:
    """FORMATS.md's rules, the plain way: a dict from path to what is there."""

    def __init__(self) -> None:
        self.state: dict[str, Ref] = {}  # "a/b" -> Ref; the root is implied
        self.shipments: dict[int, int] = {}  # shipment id -> size
        self._next = 0

    @staticmethod
    def _ancestors(path: str) -> list[str]:
        parts = path.split("/")
        return ["/".join(parts[:i]) for i in range(1, len(parts))]

    def _under_symlink(self, path: str) -> bool:
        return any(
            (r := self.state.get(a)) is not None and r.kind == "symlink"
            for a in self._ancestors(path)
        )

    def _drop(self, path: str, *, itself: bool) -> None:
        prefix = path + "/" if path else ""
        for p in [p for p in self.state if p.startswith(prefix) or (itself and p == path)]:
            del self.state[p]

    def apply(self, layer: list[Spec]) -> list[Spec]:
        """Apply one layer; return its entries minus those that would apply under a
        symlink (dropped before they are applied, so they change nothing)."""
        keep = [True] * len(layer)
        # Markers first, wherever they sit: opaque markers, then whiteouts.
        for i, (kind, path, _payload) in enumerate(layer):
            if kind == "opaque":
                if self._under_symlink(path):
                    keep[i] = False
                else:
                    self._drop(path, itself=False)
        for i, (kind, path, _payload) in enumerate(layer):
            if kind == "whiteout":
                if self._under_symlink(path):
                    keep[i] = False
                else:
                    self._drop(path, itself=True)
        for i, (kind, path, payload) in enumerate(layer):
            if kind in ("opaque", "whiteout"):
                continue
            if self._under_symlink(path) or (kind == "hardlink" and self._under_symlink(payload)):
                keep[i] = False
                continue
            for parent in self._ancestors(path):  # implied parents replace non-directories
                cur = self.state.get(parent)
                if cur is None or cur.kind != "dir":
                    self._drop(parent, itself=True)
                    self.state[parent] = Ref("dir", 0, None)
            if kind == "file":
                self._next += 1
                self.shipments[self._next] = len(payload)
                new = Ref("file", len(payload), self._next)
            elif kind == "hardlink":
                target = self.state.get(payload)
                if target is not None and target.kind in ("file", "hardlink"):
                    new = Ref("hardlink", target.size, target.content)
                else:
                    new = Ref("hardlink", 0, None)  # no such file: shows nothing
            else:
                new = Ref(kind, 0, None)
            old = self.state.get(path)
            if kind == "dir" and old is not None and old.kind == "dir":
                continue  # dir over dir keeps the children
            self._drop(path, itself=True)
            self.state[path] = new
        return [spec for spec, k in zip(layer, keep, strict=True) if k]

    def final(self) -> dict[str, tuple[str, int]]:
        return {"/" + p: (r.kind, r.size) for p, r in self.state.items()}

    def visible_bytes(self) -> int:
        shown = {r.content for r in self.state.values() if r.content is not None}
        return sum(self.shipments[c] for c in shown)


def sanitize(stack: list[list[Spec]]) -> tuple[list[list[Spec]], Reference]:
    ref = Reference()
    return [ref.apply(layer) for layer in stack], ref


def to_entry(spec: Spec) -> b.Entry:
    kind, path, payload = spec
    if kind == "file":
        return b.file(path, payload)
    if kind == "dir":
        return b.dir(path + "/")
    if kind == "symlink":
        return b.symlink(path, payload)
    if kind == "hardlink":
        return b.hardlink(path, payload)
    if kind == "fifo":
        return b.fifo(path)
    if kind == "whiteout":
        return b.whiteout(path)
    return b.opaque(path)


def build_image(stack: list[list[Spec]], compression: str = "none") -> b.Image:
    layers = [b.Layer(b.layer_tar([to_entry(s) for s in layer]), compression) for layer in stack]
    return b.Image(layers)


# Reading what the model says -------------------------------------------------------------------


def model_final(a: Analysis) -> dict[str, tuple[str, int]]:
    return {
        node.path: (v.entry.kind.label, v.size)
        for node, v in a.images[0].filesystem.iter_present()
        if v.entry is not None
    }


def summary(a: Analysis) -> dict[str, Any]:
    """Everything that must not depend on how the archive stores the same stack."""
    image, waste, dive = a.images[0], a.waste[0], a.dive[0]
    return {
        "diff_ids": [layer.diff_id for layer in image.layers],
        "reclaimable": waste.reclaimable_bytes,
        "overwritten": waste.overwritten_bytes,
        "deleted": waste.deleted_bytes,
        "duplicate": waste.duplicate_bytes,
        "dead": waste.dead_bytes,
        "counts": [
            (c.added, c.added_bytes, c.modified, c.modified_bytes, c.deleted, c.deleted_bytes)
            for c in image.filesystem.counts
        ],
        "dive": asdict(dive),
        "final": model_final(a),
    }


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


# Properties -----------------------------------------------------------------------------------


@pytest.mark.slow
@settings(SETTINGS, max_examples=1000)
@given(raw=raw_stacks)
def test_final_filesystem_and_waste_match_the_reference(
    workdir: Path, raw: list[list[Spec]]
) -> None:
    stack, ref = sanitize(raw)
    path = b.write_docker_archive(workdir / "stack.tar", [build_image(stack)], style="podman")
    a = load([str(path)], cache=None)  # every example parsed, not served from the cache
    image, waste = a.images[0], a.waste[0]

    assert model_final(a) == ref.final()

    shipped = sum(len(p) for layer in stack for kind, _path, p in layer if kind == "file")
    assert image.size_bytes == shipped
    assert waste.reclaimable_bytes == shipped - ref.visible_bytes()
    assert sum(waste.dead_bytes) == waste.reclaimable_bytes
    assert waste.overwritten_bytes + waste.deleted_bytes == waste.reclaimable_bytes
    assert sum(d.size for d in waste.dead_files) == waste.reclaimable_bytes
    for dead, layer in zip(waste.dead_bytes, image.layers, strict=True):
        assert 0 <= dead <= layer.size_bytes
    assert waste.final_bytes == ref.visible_bytes()


@pytest.mark.slow
@settings(SETTINGS, max_examples=200)
@given(raw=raw_stacks)
def test_every_storage_of_one_stack_gives_the_same_analysis(
    workdir: Path, raw: list[list[Spec]]
) -> None:
    stack, _ref = sanitize(raw)
    plain = build_image(stack)
    paths = [
        b.write_docker_archive(workdir / "docker.tar", [plain], style="podman"),
        b.write_docker_archive(workdir / "docker.tar.gz", [plain], style="podman", outer="gzip"),
        b.write_oci_archive(workdir / "oci-gzip.tar", [build_image(stack, "gzip")]),
        b.write_oci_archive(workdir / "oci-zstd.tar", [build_image(stack, "zstd")]),
    ]
    # no cache: each storage is parsed, not served the first one's entries by diff_id
    summaries = [summary(load([str(p)], cache=None)) for p in paths]
    for other in summaries[1:]:
        assert other == summaries[0]


def test_reference_sanity() -> None:
    """The reference itself on a hand-checked stack (a type flip, a whiteout, an opaque dir)."""
    stack = [
        [("file", "a/b/c", b"123"), ("file", "b", b"1"), ("hardlink", "c", "a/b/c")],
        [("whiteout", "a/b", None), ("file", "a/x", b"22"), ("dir", "b", None)],
        [("opaque", "a", None), ("symlink", "c/a", "x"), ("file", "c/a/b", b"no")],
    ]
    kept, ref = sanitize(stack)
    assert kept[2] == [("opaque", "a", None), ("symlink", "c/a", "x")]
    assert ref.final() == {
        "/a": ("dir", 0),
        "/b": ("dir", 0),
        "/c": ("dir", 0),
        "/c/a": ("symlink", 0),
    }
    assert ref.visible_bytes() == 0


@pytest.mark.parametrize("how", ["podman", "oci"])
def test_regression_identical_layers_each_ship_their_bytes(tmp_path: Path, how: str) -> None:
    """Found by the first property: two identical layers are one stored blob, and the second
    layer's entries were the very same objects as the first's, so the first layer's copy of
    a file counted as visible: reclaimable 1 byte, dead bytes [0, 0]."""
    tar = b.layer_tar([b.file("a", b""), b.file("a", b"x")])
    image = b.Image([b.Layer(tar), b.Layer(tar)])
    path = tmp_path / "same.tar"
    if how == "podman":
        b.write_docker_archive(path, [image], style="podman")
    else:
        b.write_oci_archive(path, [image])
    waste = load([str(path)]).waste[0]
    assert waste.reclaimable_bytes == 1
    assert waste.dead_bytes == [1, 0]
    assert [(d.path, d.layer, d.killed_by) for d in waste.dead_files] == [("/a", 0, 1)]
