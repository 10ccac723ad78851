"""`layerscope diff` and the diff analysis: corpus pins, specs, and properties over random
stacks (the shared-layer shortcut against a full walk, sizes against the final bytes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layerscope.analysis.diff import ADDED, CHANGED, REMOVED, Side, diff
from layerscope.cli import main
from layerscope.cli.specs import parse_image_spec
from layerscope.load import load
from layerscope.model.entry import Kind
from tests import builders as b
from tests.test_properties import SETTINGS, build_image, raw_stacks, sanitize


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def diff_doc(capsys, *args: str) -> dict:
    code, out, err = run(capsys, "diff", "--json", *args)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.corpus
def test_chmod_layer_changes_metadata_only(corpus, capsys):
    app = str(corpus / "podman/app-docker.tar")
    doc = diff_doc(capsys, f"{app}@5", f"{app}@6")
    assert doc["schema"] == "layerscope.diff/1"
    assert (doc["a"]["layer"], doc["b"]["layer"]) == (5, 6)
    assert [s["index"] for s in doc["shared_layers"]] == [0, 1, 2, 3, 4, 5]
    files = [c for c in doc["changes"] if c["type"] != "dir"]
    assert len(files) == 10
    assert {c["path"] for c in files} == {
        "/opt/tool/lib/libbig.so",
        "/opt/tool/lib/libbig.so.1",
        *(f"/opt/tool/share/doc{i}.txt" for i in range(1, 9)),
    }
    for c in files:
        assert c["change"] == "changed"
        assert c["content_changed"] is False
        assert c["metadata_changed"] is True
        assert "mode" in c["metadata"]
        assert c["size_a"] == c["size_b"]
    # The chmod broke the hardlink: the second name now holds a copy of its own.
    link = next(c for c in files if c["path"] == "/opt/tool/lib/libbig.so.1")
    assert link["type_a"] == "hardlink"
    assert link["type"] == "file"
    assert "links" in link["metadata"]
    summary = doc["summary"]
    assert summary["changed"]["count"] == 10
    assert summary["added"] == summary["removed"] == {"count": 0, "bytes": 0}
    assert summary["size_delta"] == 262144


@pytest.mark.corpus
def test_two_images_on_one_base(corpus, capsys):
    app, worker = corpus / "podman/app-docker.tar", corpus / "podman/worker-docker.tar"
    doc = diff_doc(capsys, str(app), str(worker))
    analysis = load([str(app), str(worker)])
    base = analysis.images[0].layers[0]
    assert doc["shared_layers"] == [
        {"index": 0, "chain_id": base.chain_id, "diff_id": base.diff_id,
         "created_by": base.created_by}
    ]  # fmt: skip
    changes = {c["path"]: c for c in doc["changes"]}
    assert changes["/srv/worker"]["change"] == "added"
    assert changes["/srv/app/site/index.html"]["change"] == "removed"
    assert changes["/etc/passwd"]["change"] == "changed"
    assert changes["/etc/passwd"]["content_changed"] is True
    assert doc["summary"]["size_delta"] == (
        analysis.waste[1].final_bytes - analysis.waste[0].final_bytes
    )
    code, out, _err = run(capsys, "diff", str(app), str(worker))
    assert code == 0
    assert "Shared: layer 0 (same chain ids)" in out
    assert "busybox-static rootfs" in out
    assert "+ /srv/worker/job1.txt" in out
    assert "- /srv/app/site/index.html" in out


@pytest.mark.corpus
def test_images_of_one_archive_by_index_and_ref(corpus, capsys):
    multi = str(corpus / "podman/multi-docker.tar")
    by_index = diff_doc(capsys, f"{multi}:0", f"{multi}:1")
    by_ref = diff_doc(capsys, f"{multi}:localhost/lscorpus/app:1", f"{multi}:worker")
    apart = diff_doc(
        capsys, str(corpus / "podman/app-docker.tar"), str(corpus / "podman/worker-docker.tar")
    )
    assert by_index["changes"] == by_ref["changes"] == apart["changes"]
    assert by_index["b"]["image"] == "localhost/lscorpus/worker:1"


@pytest.mark.corpus
def test_two_platforms_of_one_index(corpus, capsys):
    hello = str(corpus / "podman/hello-multiarch-oci.tar")
    doc = diff_doc(capsys, f"{hello}:linux/amd64", f"{hello}:linux/arm64")
    assert doc["a"]["platform"] == "linux/amd64"
    assert doc["b"]["platform"] == "linux/arm64"
    # hello-multiarch's two platforms share their layer (corpus README)
    assert len(doc["shared_layers"]) == 1


@pytest.mark.corpus
def test_ignore_timestamps(corpus, capsys):
    app, worker = corpus / "podman/app-docker.tar", corpus / "podman/worker-docker.tar"
    with_times = diff_doc(capsys, str(app), str(worker))
    without = diff_doc(capsys, str(app), str(worker), "--ignore-timestamps")
    assert any(c["metadata"] == ["mtime"] for c in with_times["changes"])
    assert not any(c["metadata"] == ["mtime"] and not c["content_changed"]
                   for c in without["changes"])  # fmt: skip
    assert without["ignore_timestamps"] is True
    assert {c["path"] for c in without["changes"]} < {c["path"] for c in with_times["changes"]}


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ("podman/multi-docker.tar", "podman/app-docker.tar", "holds 2 images; name one"),
        ("podman/app-docker.tar@11", "podman/app-docker.tar", "layer 11 does not exist"),
        ("podman/app-docker.tar:nope", "podman/app-docker.tar", "'nope' matches no image"),
        ("podman/app-docker.tar:3", "podman/app-docker.tar", "there is 1 image"),
        ("podman/missing.tar", "podman/app-docker.tar", "no such file or directory"),
        # digits that are not ASCII are neither image indexes nor layer numbers
        ("podman/app-docker.tar:²", "podman/app-docker.tar", "'²' matches no image"),
        ("podman/app-docker.tar@١", "podman/app-docker.tar", "'@١' is not a layer"),
    ],
)
def test_bad_specs_exit_2_with_one_line(corpus, capsys, a, b, message):
    code, out, err = run(capsys, "diff", str(corpus / a), str(corpus / b))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


def test_spec_parsing(tmp_path: Path):
    odd = tmp_path / "odd:name@2.tar"
    odd.write_bytes(b"")
    assert parse_image_spec(str(odd)) == parse_image_spec(str(odd)).__class__(str(odd), None, None)
    spec = parse_image_spec(f"{odd}:example.com/app:1@3")
    assert (spec.archive, spec.image, spec.layer) == (str(odd), "example.com/app:1", 3)
    spec = parse_image_spec(f"{odd}@7")
    assert (spec.archive, spec.image, spec.layer) == (str(odd), None, 7)
    spec = parse_image_spec(f"{odd}:app@sha256:abc")
    assert (spec.image, spec.layer) == ("app@sha256:abc", None)


def test_hardlinked_content_counts_once(tmp_path: Path):
    """Ten names for one 1000-byte file are 1000 bytes; removing the name that held the bytes
    moves them to another name, and the total stays exact."""
    big = b"x" * 1000
    base = [b.file("bin/tool", big)] + [b.hardlink(f"bin/t{i}", "bin/tool") for i in range(9)]
    image = b.Image([
        b.Layer(b.layer_tar(base)),
        b.Layer(b.layer_tar([b.whiteout("bin/tool"), b.file("etc/x", b"1")])),
    ])  # fmt: skip
    path = b.write_docker_archive(tmp_path / "links.tar", [image], style="podman")
    analysis = load([str(path)])
    im = analysis.images[0]
    d = diff(Side(im, 0), Side(im, 1))
    assert d.size_delta == 1
    removed = [c for c in d.changes if c.change == REMOVED]
    assert [(c.path, c.owned_a) for c in removed] == [("/bin/tool", 1000)]
    moved = next(c for c in d.changes if c.path == "/bin/t0")
    assert (moved.change, moved.owned_a, moved.owned_b, moved.metadata) == (
        CHANGED, 0, 1000, ["links"]
    )  # fmt: skip


def _visible_bytes(side: Side) -> int:
    shown = {}
    for _node, v in side.fs.iter_present(side.layer):
        if v.entry is not None and v.entry.kind in (Kind.FILE, Kind.HARDLINK) and v.content:
            shown[id(v.content)] = v.content.size
    return sum(shown.values())


def _present(side: Side) -> dict[str, tuple[Kind, int, str | None]]:
    out = {}
    for node, v in side.fs.iter_present(side.layer):
        e = v.entry
        assert e is not None
        kind = Kind.FILE if e.kind == Kind.HARDLINK else e.kind
        out[node.path] = (kind, v.size, e.link if e.kind == Kind.SYMLINK else None)
    return out


@settings(SETTINGS, max_examples=80)
@given(raw=raw_stacks, pick=st.tuples(st.integers(0, 4), st.integers(0, 4)))
def test_diff_matches_a_plain_comparison(
    tmp_path_factory: pytest.TempPathFactory, raw, pick
) -> None:
    stack, _ref = sanitize(raw)
    folder = tmp_path_factory.mktemp("diff")
    path = b.write_docker_archive(folder / "s.tar", [build_image(stack)], style="podman")
    im = load([str(path)]).images[0]
    i, j = (min(p, len(stack) - 1) for p in pick)
    a, bb = Side(im, i), Side(im, j)
    d = diff(a, bb)
    # Skipping the shared layers loses nothing.
    full = diff(a, bb, compare_all=True)
    assert [(c.path, c.change, c.metadata, c.delta) for c in d.changes] == [
        (c.path, c.change, c.metadata, c.delta) for c in full.changes
    ]
    # Sizes add up to the change of the image's bytes.
    assert d.size_delta == _visible_bytes(bb) - _visible_bytes(a)
    # Added, removed and changed agree with the two present-path maps.
    pa, pb = _present(a), _present(bb)
    by_path = {c.path: c for c in d.changes}
    assert {p for p, c in by_path.items() if c.change == ADDED} == pb.keys() - pa.keys()
    assert {p for p, c in by_path.items() if c.change == REMOVED} == pa.keys() - pb.keys()
    for p in pa.keys() & pb.keys():
        if pa[p] != pb[p]:
            assert p in by_path
            assert by_path[p].change == CHANGED
    assert diff(a, a).changes == []
