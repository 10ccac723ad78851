"""The diff_id is hashed in a thread beside the parse (tarstream._StreamHash): it must be the
SHA-256 of every byte of the stream whatever its length, and a read that stops early (a
corrupt stream, a cancel) must not leave the thread behind."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import threading

import pytest

from layerscope.archive.tarstream import _READ_CHUNK, _StreamHash, read_layer
from layerscope.errors import Cancelled, CorruptLayer
from layerscope.limits import DEFAULT_LIMITS


def layer_tar(content_bytes: int) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for i, size in enumerate((content_bytes // 2, content_bytes - content_bytes // 2)):
            info = tarfile.TarInfo(f"dir/file{i}")
            info.size = size
            tar.addfile(info, io.BytesIO(os.urandom(size)))
    return out.getvalue()


def hashing_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "layerscope-hash"]


@pytest.mark.parametrize(
    "content_bytes",
    [1000, _READ_CHUNK, (_StreamHash.IN_FLIGHT + 3) * _READ_CHUNK],
    ids=["one chunk", "two chunks", "more chunks than the queue holds"],
)
def test_the_diff_id_is_the_sha256_of_every_byte(content_bytes: int) -> None:
    data = layer_tar(content_bytes) + b"after the end-of-archive blocks"
    parsed = read_layer(io.BytesIO(data), layer="layer", limits=DEFAULT_LIMITS)
    assert parsed.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert len(parsed.table) == 2  # the two files (their directory is implied)
    assert hashing_threads() == []


def test_a_corrupt_stream_leaves_no_hashing_thread() -> None:
    data = layer_tar(6 * _READ_CHUNK)
    with pytest.raises(CorruptLayer, match="truncated"):
        read_layer(io.BytesIO(data[: 4 * _READ_CHUNK]), layer="layer", limits=DEFAULT_LIMITS)
    assert hashing_threads() == []


def test_a_cancelled_read_leaves_no_hashing_thread() -> None:
    data = layer_tar(6 * _READ_CHUNK)
    seen = [0]

    def on_bytes(n: int) -> None:
        seen[0] += n
        if seen[0] > 3 * _READ_CHUNK:
            raise Cancelled()

    with pytest.raises(Cancelled):
        read_layer(io.BytesIO(data), layer="layer", limits=DEFAULT_LIMITS, on_bytes=on_bytes)
    assert hashing_threads() == []


def test_a_hash_that_fails_in_its_thread_is_raised_not_hung(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The thread's queue is bounded: were the thread to die, the parse must not block."""

    class FailingSha:
        def update(self, chunk: bytes) -> None:
            raise MemoryError("no room to hash")

        def hexdigest(self) -> str:
            raise AssertionError("never asked for")

    stream_hash = _StreamHash()
    stream_hash.update(b"first chunk, hashed in line")
    monkeypatch.setattr(stream_hash, "_sha", FailingSha())
    fed = threading.Event()

    def parse() -> None:
        for _ in range(3 * _StreamHash.IN_FLIGHT):  # more than the queue holds
            stream_hash.update(b"x" * 4096)
        fed.set()

    threading.Thread(target=parse, daemon=True).start()
    assert fed.wait(10), "the parse blocked behind a dead hashing thread"
    with pytest.raises(MemoryError, match="no room"):
        stream_hash.hexdigest()
    assert hashing_threads() == []


def test_where_no_thread_can_be_had_the_stream_is_hashed_in_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process or thread limit: the read goes on as it did before the thread."""

    def cannot_start(_thread: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", cannot_start)
    data = layer_tar(3 * _READ_CHUNK)
    parsed = read_layer(io.BytesIO(data), layer="layer", limits=DEFAULT_LIMITS)
    assert parsed.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
