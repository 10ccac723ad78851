"""Reading the files of a registry image again after its load (the viewer, extract, Save
As): its layer blobs are fetched again, with HTTP range requests where the registry honours
them, so an uncompressed layer and a gzip layer's seek points are a request away."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import APP, LONGRUN, LONGRUN_TAR, Registries
from fstree import snapshot
from services import FaultyProxy

from layerscope.archive.content import ImageContent
from layerscope.cache import Cache
from layerscope.cli import main
from layerscope.errors import LayerscopeError
from layerscope.load import load
from layerscope.model.entry import Entry, Kind
from layerscope.model.image import Image
from layerscope.remote import RemoteOptions


def registry_image(host: str, repo: str, **kwargs: object) -> Image:
    analysis = load(
        [f"registry://{host}/{repo}"],
        remote=RemoteOptions(insecure_registries=(host,)),
        **kwargs,  # type: ignore[arg-type]
    )
    return analysis.images[0]


def last_file(image: Image, layer: int, min_size: int = 0) -> Entry:
    """The regular file (of `min_size` bytes at least) stored last in a layer's tar: the
    farthest from its start."""
    files = [e for e in image.layers[layer].entries if e.kind == Kind.FILE and e.size >= min_size]
    return max(files, key=lambda e: e.offset)


def archive_bytes(path: Path, layer: int, file_path: str) -> bytes:
    image = load([str(path)], cache=None).images[0]
    entry = next(e for e in image.layers[layer].entries if e.path == file_path)
    with ImageContent(image) as content:
        return content.read(entry)


def ranges_of(proxy: FaultyProxy, digest: str) -> list[str | None]:
    return [r for path, r in proxy.ranges if path.endswith(f"/blobs/{digest}")]


def test_extract_from_a_registry_equals_the_archive(
    registries: Registries, corpus: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    host = registries.open.host
    for source, out in (
        (f"registry://{host}/{APP}", tmp_path / "registry"),
        (str(corpus / "podman" / "app-docker.tar"), tmp_path / "archive"),
    ):
        code = main(["extract", source, "--to", str(out), "-q", "--insecure-registry", host])
        err = capsys.readouterr().err
        assert code == 0, err
    assert snapshot(tmp_path / "registry") == snapshot(tmp_path / "archive")
    assert (tmp_path / "registry" / "srv" / "app" / "site" / "index.html").is_file()

    for source, out in (
        (f"registry://{host}/{APP}@5", tmp_path / "layer-registry.tar"),
        (str(corpus / "podman" / "app-docker.tar") + "@5", tmp_path / "layer-archive.tar"),
    ):
        code = main(["extract", source, "--layer-tar", str(out), "-q", "--insecure-registry", host])
        assert code == 0, capsys.readouterr().err
    assert (tmp_path / "layer-registry.tar").read_bytes() == (
        tmp_path / "layer-archive.tar"
    ).read_bytes()


def test_a_file_deep_in_a_plain_tar_layer_is_one_range_request_away(
    registries: Registries, corpus: Path
) -> None:
    proxy = FaultyProxy(registries.open.host, "pass")
    try:
        image = registry_image(proxy.host, LONGRUN_TAR, cache=None)
        entry = last_file(image, 2, 256 * 1024)
        assert entry.offset > 10 * 1024 * 1024
        blob = image.layers[2].digest
        assert blob is not None
        before = len(ranges_of(proxy, blob))
        with ImageContent(image) as content:
            data = content.read(entry)
        asked = ranges_of(proxy, blob)[before:]
    finally:
        proxy.stop()
    assert data == archive_bytes(corpus / "podman" / "longrun-docker.tar", 2, entry.path)
    assert len(data) == entry.size == 256 * 1024
    # the blob's head (to know its compression), then straight to the member's header
    assert asked == ["bytes=0-", f"bytes={entry.offset}-"]


def test_a_gzip_layer_read_again_starts_at_its_nearest_seek_point(
    registries: Registries, corpus: Path
) -> None:
    proxy = FaultyProxy(registries.open.host, "pass")
    try:
        image = registry_image(proxy.host, LONGRUN, cache=None)
        assert image.layers[2].compression == "gzip"
        entry = last_file(image, 2, 256 * 1024)
        blob = image.layers[2].digest
        assert blob is not None
        before = len(ranges_of(proxy, blob))
        with ImageContent(image) as content:
            first = content.read(entry)  # from the start: seek points are noted on the way
        with ImageContent(image) as content:
            again = content.read(entry)
        asked = ranges_of(proxy, blob)[before:]
    finally:
        proxy.stop()
    assert first == again == archive_bytes(corpus / "podman" / "longrun-docker.tar", 2, entry.path)
    # the first read streams the blob from its start in one request; the second reads
    # its head (the compression), then goes on from a seek point deep in the blob
    assert len(asked) == 3
    assert asked[:2] == ["bytes=0-", "bytes=0-"]
    assert asked[2] is not None
    assert int(asked[2].removeprefix("bytes=").rstrip("-")) > 1024 * 1024


def test_a_registry_that_ignores_ranges_still_serves_files(
    registries: Registries, corpus: Path
) -> None:
    proxy = FaultyProxy(registries.open.host, "norange")
    try:
        image = registry_image(proxy.host, LONGRUN_TAR, cache=None)
        entry = last_file(image, 2, 256 * 1024)
        with ImageContent(image) as content:
            data = content.read(entry)
    finally:
        proxy.stop()
    assert data == archive_bytes(corpus / "podman" / "longrun-docker.tar", 2, entry.path)


def test_a_blob_changed_since_the_load_is_named_not_shown(registries: Registries) -> None:
    proxy = FaultyProxy(registries.open.host, "pass")
    try:
        image = registry_image(proxy.host, APP, cache=None)
        entry = last_file(image, 5)  # in a 260 KiB gzip layer
        proxy.mode = "flip"
        with ImageContent(image) as content, pytest.raises(LayerscopeError) as caught:
            content.read(entry)
    finally:
        proxy.stop()
    # read whole from its start, the blob is checked against its digest, as in the load
    assert f"blob {image.layers[5].digest} does not match its digest" in str(caught.value)


def test_entries_the_cache_lost_are_fetched_again(registries: Registries, tmp_path: Path) -> None:
    host = registries.open.host
    cache = Cache(tmp_path / "cache")
    first = registry_image(host, APP, cache=cache)
    # the figures from the cache, the entries left there until wanted
    again = registry_image(host, APP, cache=Cache(tmp_path / "cache"), need_filesystem=False)
    assert not again.layers[5].lazy_entries.made  # type: ignore[union-attr]
    shutil.rmtree(tmp_path / "cache" / "v1" / "layers")
    assert [e.path for e in again.layers[5].entries] == [e.path for e in first.layers[5].entries]
