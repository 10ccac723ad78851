"""Seek points in gzip layers: reading anywhere from the nearest point gives exactly what a
plain read from the start gives, for one member and for several (eStargz-style)."""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import pytest

from layerscope.archive import seekgz
from layerscope.archive.content import ImageContent
from layerscope.archive.seekgz import GzipIndex, IndexedGzipReader
from layerscope.errors import CorruptLayer
from layerscope.load import load
from tests import builders as b


@pytest.fixture(autouse=True)
def small_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seekgz, "SPACING", 64 * 1024)
    monkeypatch.setattr(seekgz, "_IN_CHUNK", 4096)
    seekgz.REGISTRY.clear()


def payload(rng: random.Random, size: int) -> bytes:
    words = [rng.randbytes(rng.randint(1, 12)) for _ in range(64)]
    return b"".join(rng.choice(words) for _ in range(size // 6))[:size]


@pytest.mark.parametrize("members", [1, 4])
def test_indexed_reads_equal_a_plain_read(tmp_path: Path, members: int):
    rng = random.Random(members)
    files = {f"data/f{i:03d}": payload(rng, rng.randint(0, 40_000)) for i in range(120)}
    tar = b.layer_tar([b.file(name, data) for name, data in files.items()])
    image = b.Image([b.Layer(tar, "gzip", chunks=members)])
    path = b.write_oci_archive(tmp_path / "g.tar", [image])
    loaded = load([str(path)]).images[0]
    entries = {e.path: e for e in loaded.layers[0].entries if e.kind == 0}
    order = list(files)
    rng.shuffle(order)
    with ImageContent(loaded) as content:
        for name in order:
            assert content.read(entries["/" + name]) == files[name], name
        # ranges inside a file
        big = max(files, key=lambda n: len(files[n]))
        assert content.read(entries["/" + big], start=1234, length=777) == files[big][1234:2011]
    key = seekgz.blob_key(str(path), loaded.layers[0].blob)
    assert len(seekgz.REGISTRY.get(key)) > 4  # the points were remembered and used


def test_reader_against_gzip_module_at_every_point():
    rng = random.Random(7)
    data = payload(rng, 900_000)
    blob = gzip.compress(data[:300_000]) + gzip.compress(data[300_000:])
    index = GzipIndex()
    reader = IndexedGzipReader(io.BytesIO(blob), index, name="x", limit=1 << 30)
    assert reader.read() == data == gzip.decompress(blob)
    assert len(index) > 5
    for offset in (0, 1, 65_535, 299_999, 300_000, 300_001, 777_777, 899_999, 900_000):
        reader.seek_to(offset)
        assert reader.read(1000) == data[offset : offset + 1000], offset
    for offset in rng.sample(range(900_000), 40):
        reader.seek_to(offset)
        assert reader.read(50) == data[offset : offset + 50], offset


def test_truncated_and_corrupt_blobs_are_named():
    data = payload(random.Random(1), 200_000)
    blob = gzip.compress(data)
    with pytest.raises(CorruptLayer, match="truncated gzip stream"):
        IndexedGzipReader(io.BytesIO(blob[:-100]), GzipIndex(), name="x", limit=1 << 30).read()
    broken = bytearray(blob)
    broken[5000:5050] = bytes(50)
    with pytest.raises(CorruptLayer, match="gzip"):
        IndexedGzipReader(io.BytesIO(bytes(broken)), GzipIndex(), name="x", limit=1 << 30).read()
