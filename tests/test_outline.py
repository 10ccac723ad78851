"""load(outline=...): the images' structure, reported before any layer blob is read."""

from __future__ import annotations

from pathlib import Path

import builders as b
import pytest

from layerscope.analysis import Analysis
from layerscope.errors import ManifestError
from layerscope.load import Progress, SourceOutline, load


def _events(paths: list[str]) -> tuple[list[object], Analysis]:
    """Outlines and progress reports in the order load() made them, and its result."""
    events: list[object] = []
    analysis = load(paths, outline=events.append, progress=events.append, cache=None)
    return events, analysis


def test_the_outline_comes_before_any_blob_byte_and_matches_the_result(corpus: Path) -> None:
    path = str(corpus / "podman" / "multi-docker.tar")
    events, analysis = _events([path])
    outlines = [e for e in events if isinstance(e, SourceOutline)]
    assert len(outlines) == 1
    before = events[: events.index(outlines[0])]
    # nothing of a layer blob was read before the outline
    assert all(isinstance(e, Progress) and e.done == 0 for e in before)
    assert any(isinstance(e, Progress) and e.done > 0 for e in events[events.index(outlines[0]) :])

    outline = outlines[0]
    assert outline.path == path
    assert outline.format == "docker-archive"
    assert len(outline.images) == len(analysis.images) == 2
    for shown, image in zip(outline.images, analysis.images, strict=True):
        assert shown.refs == image.refs
        assert shown.name == image.name
        assert shown.platform == image.platform
        assert shown.config_digest == image.config_digest
        assert shown.config.history == image.config.history
        assert [la.index for la in shown.layers] == [la.index for la in image.layers]
        assert [la.diff_id for la in shown.layers] == [la.diff_id for la in image.layers]
        assert [la.digest for la in shown.layers] == [la.digest for la in image.layers]
        assert [la.created_by for la in shown.layers] == [la.created_by for la in image.layers]
        assert [la.stored_bytes for la in shown.layers] == [
            la.compressed_bytes for la in image.layers
        ]
        assert shown.stored_bytes == image.compressed_bytes


def test_a_registry_like_layout_outlines_descriptor_sizes(tmp_path: Path) -> None:
    """An OCI archive with gzip layers: the stored sizes are the descriptors' (the blobs')."""
    image = b.Image(
        [
            b.Layer(b.layer_tar([b.file("a", b"x" * 5000)]), compression="gzip"),
            b.Layer(b.layer_tar([b.file("b", b"y" * 7000)]), compression="zstd"),
        ]
    )
    path = b.write_oci_archive(tmp_path / "img.tar", [image])
    events, _analysis = _events([str(path)])
    (outline,) = [e for e in events if isinstance(e, SourceOutline)]
    layers = outline.images[0].layers
    assert [la.stored_bytes for la in layers] == [len(la.blob()) for la in image.layers]
    assert [la.digest for la in layers] == [la.digest for la in image.layers]
    assert [la.created_by for la in layers] == ["layer 0", "layer 1"]


def test_one_outline_per_source_in_order(corpus: Path) -> None:
    paths = [str(corpus / "podman" / n) for n in ("worker-docker.tar", "app-oci.tar")]
    events, _analysis = _events(paths)
    outlines = [e for e in events if isinstance(e, SourceOutline)]
    assert [o.path for o in outlines] == paths
    assert [o.format for o in outlines] == ["docker-archive", "oci-archive"]


def test_a_config_that_does_not_fit_is_refused_before_any_blob_is_read(tmp_path: Path) -> None:
    image = b.Image(
        [b.Layer(b.layer_tar([b.file("a", b"1")]))], diff_ids=["sha256:" + "0" * 64] * 2
    )
    path = b.write_docker_archive(tmp_path / "bad.tar", [image])
    events: list[object] = []
    with pytest.raises(ManifestError, match="2 diff_ids for 1 layer"):
        load([str(path)], outline=events.append, progress=events.append, cache=None)
    assert not any(isinstance(e, SourceOutline) for e in events)
    assert all(isinstance(e, Progress) and e.done == 0 for e in events)
