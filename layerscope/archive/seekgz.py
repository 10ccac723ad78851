"""Random access into a gzip layer: seek points remembered while it is read.

A gzip stream can only be decompressed from its start. To open a file near the end of a
large layer quickly the second time and ever after, the reader remembers, every SPACING
bytes of output, where it stood in the compressed blob together with a copy of zlib's state
(`Decompress.copy()`, the 32 KiB window included), as indexed_gzip and zran.c do. Reading
at an offset then starts at the nearest point before it. Points are kept per blob for the
life of the process, in a bounded registry (about 40 KiB each).

zlib-ng's decompressor is used: it copies its state like zlib's and inflates several times
faster. A multi-member stream (eStargz, pigz) starts a fresh decompressor per member.
"""

from __future__ import annotations

import bisect
import io
import os
import threading
from collections import OrderedDict
from typing import Any, BinaryIO, cast

from zlib_ng import zlib_ng

from layerscope.errors import CorruptLayer, LimitExceeded

SPACING = 8 * 1024 * 1024  # bytes of output between two seek points
_IN_CHUNK = 256 * 1024  # compressed bytes fed at once (output ≤ max_ratio × this)
_REGISTRY_POINTS = 2048  # seek points kept over all blobs (~80 MiB at most)
_GZIP_WBITS = 31  # a gzip header and trailer around deflate data

_ZLIB_ERROR = cast(type[Exception], zlib_ng.error)


class GzipIndex:
    """The seek points of one gzip blob: (compressed offset, output offset, state)."""

    def __init__(self) -> None:
        self._outs: list[int] = [0]
        self._points: list[tuple[int, int, Any]] = [(0, 0, None)]  # None: a fresh member
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._points)

    def before(self, offset: int) -> tuple[int, int, Any]:
        """The last point at or before output `offset` (its state must be copied to use)."""
        with self._lock:
            return self._points[bisect.bisect_right(self._outs, offset) - 1]

    def add(self, in_pos: int, out_pos: int, state: Any) -> None:
        with self._lock:
            if out_pos > self._outs[-1]:
                self._outs.append(out_pos)
                self._points.append((in_pos, out_pos, state))

    @property
    def last_out(self) -> int:
        return self._outs[-1]


class _Registry:
    """Indexes by blob identity, the least recently used dropped past a number of points."""

    def __init__(self) -> None:
        self._indexes: OrderedDict[tuple[Any, ...], GzipIndex] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> GzipIndex:
        with self._lock:
            index = self._indexes.pop(key, None) or GzipIndex()
            self._indexes[key] = index
            while sum(len(i) for i in self._indexes.values()) > _REGISTRY_POINTS:
                if len(self._indexes) == 1:
                    break
                self._indexes.popitem(last=False)
            return index

    def clear(self) -> None:
        with self._lock:
            self._indexes.clear()


REGISTRY = _Registry()


def blob_key(archive: str, blob: str) -> tuple[Any, ...]:
    """Who a blob is: the archive (by path, size and modification time) and the member."""
    st = os.stat(archive)
    return (os.path.realpath(archive), st.st_size, st.st_mtime_ns, blob)


class IndexedGzipReader(io.RawIOBase):
    """The decompressed bytes of a seekable gzip blob, from any offset, forward."""

    def __init__(self, raw: BinaryIO, index: GzipIndex, *, name: str, limit: int):
        self._raw = raw
        self._index = index
        self._name = name
        self._limit = limit  # bytes of output at most (max_layer_bytes)
        self._dec: Any = None
        self._in_pos = 0
        self._out_pos = 0  # output offset of the next byte read() returns
        self._pending = b""  # decompressed bytes of the last chunk...
        self._taken = 0  # ...of which read() already returned this many
        self._eof = False
        self._start(0, 0, None)

    def readable(self) -> bool:
        return True

    def _start(self, in_pos: int, out_pos: int, state: Any) -> None:
        self._raw.seek(in_pos)
        self._in_pos, self._out_pos = in_pos, out_pos
        self._dec = state.copy() if state is not None else zlib_ng.decompressobj(_GZIP_WBITS)
        self._pending, self._taken = b"", 0
        self._eof = False

    @property
    def _left(self) -> int:
        return len(self._pending) - self._taken

    def seek_to(self, offset: int) -> None:
        """Go to output `offset`, from the nearest seek point unless already on the way."""
        in_pos, out_pos, state = self._index.before(offset)
        if not out_pos <= self._out_pos <= offset:
            self._start(in_pos, out_pos, state)
        while self._out_pos + self._left < offset and not self._eof:
            self._out_pos += self._left  # skip what is decompressed, then more
            self._fill()
        skip = offset - self._out_pos
        if skip > self._left:
            raise CorruptLayer("the layer ends before the member", path=self._name)
        self._taken += skip
        self._out_pos = offset

    def _fill(self) -> None:
        """Decompress the next compressed chunk into _pending; remember a seek point."""
        self._pending, self._taken = b"", 0
        data = self._raw.read(_IN_CHUNK)
        if not data:
            if not self._dec.eof:
                raise CorruptLayer("truncated gzip stream", path=self._name)
            self._eof = True
            return
        out: list[bytes] = []
        try:
            out.append(self._dec.decompress(data))
            while self._dec.eof and self._dec.unused_data:
                rest = self._dec.unused_data
                if not rest.startswith(b"\x1f\x8b"):
                    break  # padding after the last member: what follows is not gzip
                self._dec = zlib_ng.decompressobj(_GZIP_WBITS)
                out.append(self._dec.decompress(rest))
        except _ZLIB_ERROR as exc:
            raise CorruptLayer(f"corrupt gzip stream: {exc}", path=self._name) from None
        self._in_pos += len(data)
        self._pending = out[0] if len(out) == 1 else b"".join(out)
        end = self._out_pos + len(self._pending)
        if end > self._limit:
            raise LimitExceeded(
                f"stream expands past {self._limit} bytes", limit="max_layer_bytes",
                path=self._name,
            )  # fmt: skip
        # A point is exact only where all input fed so far is consumed: not at a member's
        # end (unused data belongs to the next member) — the next chunk will do.
        if not self._dec.eof and end - self._index.last_out >= SPACING:
            self._index.add(self._in_pos, end, self._dec.copy())

    def read(self, n: int = -1) -> bytes:
        """Up to n bytes (a short read when what is decompressed runs out); b"" at the end."""
        while not self._left and not self._eof:
            self._fill()
        if n < 0:
            parts = [self._pending[self._taken :]]
            self._out_pos += len(parts[0])
            self._pending, self._taken = b"", 0
            while not self._eof:
                self._fill()
                parts.append(self._pending)
                self._out_pos += len(self._pending)
                self._pending = b""
            return b"".join(parts)
        take = min(n, self._left)
        data = self._pending[self._taken : self._taken + take]
        self._taken += take
        self._out_pos += take
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()
