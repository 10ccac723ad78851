"""The real archives of ../shared/corpus pin the figures (expected.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerscope.analysis import Analysis
from layerscope.load import load

pytestmark = pytest.mark.corpus

APP_VARIANTS = [
    ("podman/app-docker.tar", 0, "docker-archive"),
    ("podman/app-docker.tar.gz", 0, "docker-archive"),
    ("podman/app-oci.tar", 0, "oci-archive"),
    ("podman/app-oci-gzip.tar", 0, "oci-archive"),
    ("podman/app-oci-zstd.tar", 0, "oci-archive"),
    ("podman/app-oci-uncompressed.tar", 0, "oci-archive"),
    ("podman/app-oci-layout", 0, "oci-layout"),
    ("podman/app-docker-dir", 0, "docker-dir"),
    ("podman/multi-docker.tar", 0, "docker-archive"),
]

DIVE_ARCHIVES = [
    ("podman/app-docker.tar", 0, "podman/app"),
    ("podman/multi-docker.tar", 0, "podman/app"),
    ("podman/multi-docker.tar", 1, "podman/worker"),
    ("podman/worker-docker.tar", 0, "podman/worker"),
    ("peer-dive/test-docker-image.tar", 0, "peer-dive/test-docker-image"),
    ("peer-dive/test-kaniko-image.tar", 0, "peer-dive/test-kaniko-image"),
]

_cache: dict[str, Analysis] = {}


def analysed(corpus: Path, rel: str) -> Analysis:
    if rel not in _cache:
        _cache[rel] = load([str(corpus / rel)])
    return _cache[rel]


@pytest.fixture(scope="module")
def expected(corpus: Path) -> dict:
    return json.loads((corpus / "expected.json").read_text())["images"]


def change_counts(analysis: Analysis, image: int) -> list[list[int]]:
    fs = analysis.images[image].filesystem
    return [[c.added, c.modified, c.deleted] for c in fs.counts]


@pytest.mark.parametrize(("rel", "image", "fmt"), APP_VARIANTS)
def test_every_variant_of_app_gives_the_same_file_figures(corpus, expected, rel, image, fmt):
    want = expected["podman/app"]
    a = analysed(corpus, rel)
    assert a.archives[0].format == fmt
    waste = a.waste[image]
    assert waste.reclaimable_bytes == want["waste"]["reclaimable_bytes"] == 1311033
    assert sum(waste.dead_bytes) == waste.reclaimable_bytes
    assert waste.overwritten_bytes + waste.deleted_bytes == waste.reclaimable_bytes
    assert waste.final_files == want["final_files"]
    assert change_counts(a, image) == want["layer_changes"]
    assert [layer.size_bytes for layer in a.images[image].layers] == want["dive"][
        "layer_size_bytes"
    ]


@pytest.mark.parametrize(("rel", "image", "key"), DIVE_ARCHIVES)
def test_dive_block_equals_dive(corpus, expected, rel, image, key):
    want = expected[key]["dive"]
    dive = analysed(corpus, rel).dive[image]
    assert dive.efficiency == pytest.approx(want["efficiency"], abs=1e-12)
    assert dive.wasted_bytes == want["wasted_bytes"]
    assert dive.size_bytes == want["size_bytes"]
    assert dive.user_size_bytes == want["user_size_bytes"]
    assert dive.user_wasted_percent == pytest.approx(want["user_wasted_percent"], abs=1e-12)
    assert dive.layer_size_bytes == want["layer_size_bytes"]


@pytest.mark.parametrize(("rel", "image", "key"), DIVE_ARCHIVES)
def test_exact_waste_and_changes_of_every_docker_archive(corpus, expected, rel, image, key):
    want = expected[key]
    a = analysed(corpus, rel)
    assert a.images[image].ref == want["ref"]
    assert a.waste[image].reclaimable_bytes == want["waste"]["reclaimable_bytes"]
    assert a.waste[image].final_files == want["final_files"]
    assert change_counts(a, image) == want["layer_changes"]


def test_app_layers_do_what_the_containerfile_says(corpus):
    a = analysed(corpus, "podman/app-docker.tar")
    image, waste = a.images[0], a.waste[0]
    fs = image.filesystem
    cache = fs.lookup("/tmp/build-cache.bin")
    assert [(v.layer, v.change.label) for v in cache.versions] == [(2, "added"), (3, "deleted")]
    # L7: opaque /opt/tool/lib hides the three entries below, README is new
    lib_changes = {
        n.path: c.label for n, c in fs.changes[7].items() if n.path.startswith("/opt/tool/lib/")
    }
    assert lib_changes == {
        "/opt/tool/lib/libbig.so": "deleted",
        "/opt/tool/lib/libbig.so.1": "deleted",
        "/opt/tool/lib/libbig.so.link": "deleted",
        "/opt/tool/lib/README": "added",
    }
    assert {v.detail for v in fs.lookup("/opt/tool/lib/libbig.so").versions[-1:]} == {"opaque"}
    # L6 chmod -R: the same bytes again, metadata only
    doc = fs.lookup("/opt/tool/share/doc1.txt").versions[-1]
    assert (doc.layer, doc.change.label, doc.detail) == (6, "modified", "metadata")
    # the cache file is the largest waste, shipped by L2 and deleted by L3
    top = waste.dead_files[0]
    assert (top.path, top.size, top.layer, top.killed_by, top.fate) == (
        "/tmp/build-cache.bin",
        524288,
        2,
        3,
        "deleted",
    )
    # L8 copies index.html: 224 duplicate bytes in the final filesystem
    assert waste.duplicate_bytes == 224
    assert image.config.user == "app"
    assert image.config.exposed_ports == ["8080/tcp"]
    assert image.layers[1].created_by.startswith("/bin/sh -c #(nop) COPY")
    empty = [h for h in image.config.history if h.empty_layer]
    assert len(empty) == 6


def test_multi_docker_reports_the_one_shared_base_layer(corpus):
    a = analysed(corpus, "podman/multi-docker.tar")
    assert [im.ref for im in a.images] == [
        "localhost/lscorpus/app:1",
        "localhost/lscorpus/worker:1",
    ]
    shared = a.sharing.layers
    assert len(shared) == 1
    assert shared[0].images == [0, 1]
    assert shared[0].layer_index == 0
    assert shared[0].chain_id == shared[0].diff_id == a.images[0].layers[0].diff_id
    assert a.sharing.saved_bytes == a.images[0].layers[0].size_bytes


def test_sharing_across_archives_on_one_command_line(corpus):
    a = load([str(corpus / "podman/app-docker.tar"), str(corpus / "podman/worker-docker.tar")])
    assert [s.images for s in a.sharing.layers] == [[0, 1]]
    assert a.images[1].archive_index == 1


def test_multiarch_index_lists_both_platforms_sharing_their_layer(corpus, expected):
    a = analysed(corpus, "podman/hello-multiarch-oci.tar")
    assert sorted(im.platform for im in a.images) == expected["podman/hello-multiarch"]["platforms"]
    assert [s.images for s in a.sharing.layers] == [[0, 1]]
    assert change_counts(a, 0) == [[1, 0, 0]]


@pytest.mark.parametrize(
    ("rel", "compression"),
    [
        ("test-oci-uncompressed-image.tar", "none"),
        ("test-oci-gzip-image.tar", "gzip"),
        ("test-oci-zstd-image.tar", "zstd"),
    ],
)
def test_buildkit_oci_archives_agree_across_compressions(corpus, rel, compression):
    a = analysed(corpus, "peer-dive/" + rel)
    base = analysed(corpus, "peer-dive/test-oci-uncompressed-image.tar")
    assert len(a.images) == 1
    assert a.images[0].layers[0].compression == compression
    assert a.images[0].layers[0].diff_id == base.images[0].layers[0].diff_id
    assert a.waste[0].final_files == base.waste[0].final_files == 1
