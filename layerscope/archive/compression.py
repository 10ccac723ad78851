"""Find a stream's compression from its magic bytes and open it decompressed.

Media types and file names lie (Docker 25 writes `.tar` names for gzip blobs in some paths,
registries mislabel zstd); the first bytes do not.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from typing import BinaryIO, cast

from layerscope.errors import CorruptLayer, LimitExceeded, UnsupportedLayer
from layerscope.limits import Limits

GZIP = "gzip"
ZSTD = "zstd"
XZ = "xz"
BZIP2 = "bzip2"
NONE = "none"

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# what a codec raises on corrupt input (_ZstdReader raises OSError); zlib-ng's error joins
# when a gzip stream is opened: its import (5 ms) is not paid by uncompressed archives
_CODEC_ERRORS: tuple[type[Exception], ...] = (OSError, zlib.error)


def sniff(head: bytes) -> str:
    """Name the compression of a stream from its first bytes (at least 6 of them)."""
    if head.startswith(b"\x1f\x8b\x08"):
        return GZIP
    if head.startswith(_ZSTD_MAGIC):
        return ZSTD
    if len(head) >= 4:
        magic = int.from_bytes(head[:4], "little")
        if 0x184D2A50 <= magic <= 0x184D2A5F:  # zstd skippable frame (zstd:chunked)
            return ZSTD
    if head.startswith(b"\xfd7zXZ\x00"):
        return XZ
    if head.startswith(b"BZh"):
        return BZIP2
    return NONE


class _Prefixed:
    """A forward-only stream with its first bytes (already read to sniff it) put back.

    A plain read() pass-through rather than a BufferedReader: uncompressed layers are read
    in 1 MiB chunks, and an extra buffer would copy every byte once more.
    """

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if not self._head:
            return self._rest.read(n)
        head, self._head = (
            (self._head, b"")
            if n < 0 or n >= len(self._head)
            else (
                self._head[:n],
                self._head[n:],
            )
        )
        more = self._rest.read(-1 if n < 0 else n - len(head)) if n != len(head) else b""
        return head + more


class ReadTap:
    """Passes reads through, counting the bytes and showing each chunk to `on_data`.

    One wrapper for every observer of a stream on its way: the compressed-byte count that
    bounds the ratio, the zstd frame tracker, the blob digest, the loader's progress.
    """

    def __init__(self, raw: BinaryIO, on_data: Callable[[bytes], object] | None = None):
        self._raw = raw
        self._on_data = on_data
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.count += len(data)
        if self._on_data is not None:
            self._on_data(data)
        return data

    def readinto(self, buffer: memoryview) -> int:  # zlib-ng's gzip reader reads this way
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


class _Decompressed(io.RawIOBase):
    """Decompressed view that turns codec errors into CorruptLayer and bounds the ratio."""

    _RATIO_FLOOR = 64 * 1024 * 1024  # ratios are only judged past this much output

    def __init__(
        self,
        inner: BinaryIO,
        counter: ReadTap,
        method: str,
        name: str,
        limits: Limits,
        errors: tuple[type[Exception], ...],  # what the codec raises on corrupt input
    ):
        self._inner = inner
        self._errors = errors
        self._counter = counter
        self._method = method
        self._name = name
        self._limits = limits
        self._out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except EOFError:
            raise CorruptLayer(f"truncated {self._method} stream", path=self._name) from None
        except self._errors as exc:
            raise CorruptLayer(f"corrupt {self._method} stream: {exc}", path=self._name) from None
        n = len(data)
        buffer[:n] = data
        self._out += n
        if self._out > self._RATIO_FLOOR:
            ratio = self._out / max(self._counter.count, 1)
            if ratio > self._limits.max_ratio:
                raise LimitExceeded(
                    f"{self._method} stream expands more than {self._limits.max_ratio}:1 "
                    "(a decompression bomb?)",
                    limit="max_ratio",
                    path=self._name,
                )
        return n


class _ZstdFrames:
    """Follows the frame structure of a zstd stream as its compressed bytes go by.

    python-zstandard's stream reader ends silently when its input stops in the middle of a
    frame; this tells a complete stream (it ended between frames) from a truncated one.
    Only headers are parsed: block and skippable-frame contents are skipped by length.
    """

    _MAGIC = 0xFD2FB528

    def __init__(self) -> None:
        self._part = "magic"  # what the next bytes are
        self._need = 4  # bytes still missing from the current part
        self._head = b""  # the current part's bytes (headers only)
        self._checksum = False  # the current frame ends with a 4-byte checksum
        self._lost = False  # not a structure we know: the decoder will say what is wrong

    def complete(self) -> bool:
        """True when the bytes so far end exactly between two frames."""
        return self._lost or (self._part == "magic" and not self._head)

    def _enter(self, part: str, need: int) -> None:
        self._part, self._need, self._head = part, need, b""

    def feed(self, data: bytes) -> None:
        pos, n = 0, len(data)
        while pos < n and not self._lost:
            take = min(self._need, n - pos)
            if self._part.startswith("skip"):
                self._need -= take  # block data, skippable frame data, frame header rest
            else:
                self._head += data[pos : pos + take]
                self._need -= take
            pos += take
            while self._need == 0 and not self._lost:
                self._advance()

    def _advance(self) -> None:
        part, head = self._part, self._head
        if part == "magic":
            magic = int.from_bytes(head, "little")
            if magic == self._MAGIC:
                self._enter("descriptor", 1)
            elif 0x184D2A50 <= magic <= 0x184D2A5F:
                self._enter("skippable size", 4)
            else:
                self._lost = True
        elif part == "skippable size":
            self._enter("skip to magic", int.from_bytes(head, "little"))
        elif part == "skip to magic":
            self._enter("magic", 4)
        elif part == "descriptor":
            d = head[0]
            single_segment = (d >> 5) & 1
            self._checksum = bool((d >> 2) & 1)
            rest = (0 if single_segment else 1) + (0, 1, 2, 4)[d & 3]
            rest += ((1 if single_segment else 0), 2, 4, 8)[d >> 6]
            self._enter("skip to block", rest)
        elif part in ("skip to block", "skip to next block"):
            self._enter("block", 3)
        elif part == "block":
            h = int.from_bytes(head, "little")
            last, kind, size = h & 1, (h >> 1) & 3, h >> 3
            if kind == 3:  # reserved block type: corrupt, the decoder reports it
                self._lost = True
                return
            size = 1 if kind == 1 else size  # an RLE block stores one byte
            if not last:
                self._enter("skip to next block", size)
            else:
                self._enter("skip to end", size + (4 if self._checksum else 0))
        elif part == "skip to end":
            self._enter("magic", 4)


class _ZstdReader(io.RawIOBase):
    """python-zstandard's reader does not report truncation; detect it here. Its errors
    are raised as OSError."""

    def __init__(self, counter: ReadTap):
        # imported here: a run that meets no zstd layer (a report from the cache, most
        # archives) does not pay the 2 ms it takes
        import zstandard

        self._error = zstandard.ZstdError
        self._frames = _ZstdFrames()
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            cast(BinaryIO, ReadTap(cast(BinaryIO, counter), self._frames.feed)),
            read_across_frames=True,
            read_size=1 << 17,
        )

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        try:
            data: bytes = self._reader.read(n)
        except self._error as exc:
            raise OSError(str(exc)) from None
        if not data and n != 0 and not self._frames.complete():
            raise EOFError("zstd stream ends inside a frame")
        return data


def open_decompressed(raw: BinaryIO, *, name: str, limits: Limits) -> tuple[BinaryIO, str]:
    """Return (decompressed stream, compression name) for a blob stream."""
    head = raw.read(6)
    method = sniff(head)
    stream = cast(BinaryIO, _Prefixed(head, raw))
    if method == NONE:
        return stream, method
    if method in (XZ, BZIP2):
        raise UnsupportedLayer(f"{method}-compressed stream is not a format images use", path=name)
    counter = ReadTap(stream)
    inner: BinaryIO
    errors = _CODEC_ERRORS
    if method == GZIP:
        from zlib_ng import gzip_ng, zlib_ng

        errors += (cast(type[Exception], zlib_ng.error),)
        # zlib-ng inflates about five times faster than zlib (measured on the benchmark
        # image's layers; isal's reader, the other candidate, about twice). Its GzipFile is
        # the standard library's, so it reads every member of a multi-member stream
        # (eStargz) and fails the same way on truncated or corrupt input.
        inner = cast(BinaryIO, gzip_ng.GzipFile(fileobj=counter, mode="rb"))  # type: ignore[no-untyped-call]
    else:
        inner = cast(BinaryIO, _ZstdReader(counter))
    return _Decompressed(inner, counter, method, name, limits, errors), method  # type: ignore[return-value]
