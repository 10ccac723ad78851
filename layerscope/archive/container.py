"""Where an archive's files live: an outer tar (plain or compressed) or a directory.

A container answers three questions for the format readers: which names exist, what a small
JSON member says, and how to stream a set of blobs. It never extracts anything to disk.
Plain tars on disk are read in place (a bounded view per member); a compressed outer tar
cannot seek, so it is read twice: once to index it and keep its small JSON members, once
to stream the layer blobs in archive order.
"""

from __future__ import annotations

import errno
import io
import os
import posixpath
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO, cast

from layerscope.archive.compression import NONE, open_decompressed, sniff
from layerscope.archive.tarstream import BLOCK, Member, TarSource, iter_members
from layerscope.errors import (
    ArchiveError,
    CorruptLayer,
    HostileArchive,
    LimitExceeded,
    MissingBlob,
    NotAnImageArchive,
)
from layerscope.limits import Limits

_SYMLINK_HOPS = 16
BlobHandler = Callable[[str, BinaryIO], None]


def clean_member_name(name: str, *, archive: str) -> str:
    """Normalise an outer-archive member name ("./blobs//x" -> "blobs/x"); refuse escapes."""
    if "\0" in name:
        raise HostileArchive(f"member name contains NUL: {name[:80]!r}", path=archive)
    cleaned = posixpath.normpath(name.lstrip("/")) if name.strip("/") else "."
    if cleaned == ".." or cleaned.startswith("../"):
        raise HostileArchive(f"member name escapes the archive: {name[:200]!r}", path=archive)
    if name.startswith("/"):
        raise HostileArchive(f"absolute member name: {name[:200]!r}", path=archive)
    return cleaned


@dataclass(slots=True)
class _Item:
    """A name in an archive's table: what it is and where its bytes lie."""

    kind: str  # "file" | "link" (symlink or hardlink, resolved by name)
    size: int
    offset: int
    target: str = ""


class SizedReader(io.RawIOBase):
    """A read-only raw stream of a known size, seekable within [0, size]: a seek past
    either end stops at it. Subclasses set _size and _pos and read."""

    _size: int
    _pos: int

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _target(self, pos: int, whence: int) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        return max(0, min(base + pos, self._size))


class _FileView(SizedReader):
    """A read-only, seekable window [offset, offset+size) of a file: one member of a plain tar."""

    def __init__(self, path: str, offset: int, size: int):
        self._fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._start = offset
        self._size = size
        self._pos = 0
        self._fh.seek(offset)

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        self._pos = self._target(pos, whence)
        self._fh.seek(self._start + self._pos)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        left = self._size - self._pos
        if left <= 0:
            return 0
        n = min(len(buffer), left)
        got = self._fh.readinto(buffer[:n])
        self._pos += got
        return got

    def close(self) -> None:
        self._fh.close()
        super().close()


@dataclass(frozen=True)
class BlobLocation:
    """Where a blob's bytes sit on disk, so that another process can read it on its own."""

    file: str
    offset: int
    size: int


def open_location(location: BlobLocation) -> BinaryIO:
    """A buffered, seekable stream of exactly the blob's bytes."""
    view = _FileView(location.file, location.offset, location.size)
    return cast(BinaryIO, io.BufferedReader(view, 1 << 20))


class Container:
    """Base: a set of named files inside one archive."""

    path: str  # what the user opened
    is_dir: bool = False
    # Its blobs come over a network (a registry): reading one is downloading it.
    fetches_blobs: bool = False

    def names(self) -> set[str]:
        raise NotImplementedError

    def resolve(self, name: str) -> str:
        """The real file a name refers to, following links inside the archive only."""
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        try:
            self.resolve(name)
        except MissingBlob:
            return False
        return True

    def size(self, name: str) -> int:
        raise NotImplementedError

    def read_small(self, name: str, *, limit: int, limit_name: str) -> bytes:
        raise NotImplementedError

    def stream_blobs(self, names: Iterable[str], handler: BlobHandler) -> None:
        """Call handler(name, raw stream) once per distinct real blob among names."""
        raise NotImplementedError

    def open_blob(self, name: str) -> BinaryIO:
        """One blob's stored bytes, to read again after a load (seekable where it can be)."""
        raise NotImplementedError

    def locate(self, name: str) -> BlobLocation | None:
        """Where the blob lies on disk; None when it can only be streamed in archive order."""
        return None

    def close(self) -> None:
        pass


def _too_big(container: Container, name: str, size: int, limit: int, limit_name: str) -> None:
    if size > limit:
        raise LimitExceeded(
            f"{size} bytes, more than the {limit}-byte limit for this kind of file",
            limit=limit_name,
            path=container.path,
            member=name,
        )


class _IndexedTar(Container):
    """Shared logic of tar containers: an index of members and in-archive link resolution."""

    def __init__(self, path: str):
        self.path = path
        self._items: dict[str, _Item] = {}

    def _index(self, m: Member) -> str | None:
        name = clean_member_name(m.name, archive=self.path)
        if name == ".":
            return None
        if m.typeflag == b"2":
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
            self._items[name] = _Item("link", 0, m.data_offset, target)
        elif m.typeflag == b"1":
            self._items[name] = _Item(
                "link", 0, m.data_offset, clean_member_name(m.linkname, archive=self.path)
            )
        elif m.typeflag in (b"0", b"\0", b"7"):
            self._items[name] = _Item("file", m.size, m.data_offset)
        return name

    def names(self) -> set[str]:
        return set(self._items)

    def resolve(self, name: str) -> str:
        seen = 0
        current = name
        while True:
            item = self._items.get(current)
            if item is None:
                raise MissingBlob(f"{name} is missing from the archive", path=self.path)
            if item.kind == "file":
                return current
            seen += 1
            if seen > _SYMLINK_HOPS:
                raise HostileArchive(f"link loop at {name}", path=self.path)
            target = item.target
            if target == ".." or target.startswith("../") or target.startswith("/"):
                raise HostileArchive(
                    f"{current} links outside the archive (to {target})", path=self.path
                )
            current = target

    def size(self, name: str) -> int:
        return self._items[self.resolve(name)].size


class PlainTar(_IndexedTar):
    """An uncompressed tar on disk: indexed once, members read in place."""

    def __init__(self, path: str, limits: Limits):
        super().__init__(path)
        file_size = os.path.getsize(path)
        with open(path, "rb") as fh:
            src = TarSource(
                fh,
                limit=1 << 62,
                limit_name="max_total_bytes",
                on_bytes=None,
                name=path,
                hash_stream=False,
            )
            for m in iter_members(src, name=path, limits=limits):
                name = self._index(m)
                # Every member, even one that is not indexed: the reader seeks past member
                # data and padding, and a seek beyond the end of the file does not fail: a
                # cut there would pass for a clean end of the archive.
                if m.data_offset + m.size + (-m.size % BLOCK) > file_size:
                    shown = name or m.name[:200]
                    raise CorruptLayer(f"truncated archive: {shown} is cut short", path=path)
        self.warnings = src.warnings

    def read_small(self, name: str, *, limit: int, limit_name: str) -> bytes:
        real = self.resolve(name)
        item = self._items[real]
        _too_big(self, real, item.size, limit, limit_name)
        with open(self.path, "rb") as fh:
            fh.seek(item.offset)
            return fh.read(item.size)

    def stream_blobs(self, names: Iterable[str], handler: BlobHandler) -> None:
        real = {self.resolve(n) for n in names}
        for name in sorted(real, key=lambda n: self._items[n].offset):
            with self.open_blob(name) as blob:
                handler(name, blob)

    def open_blob(self, name: str) -> BinaryIO:
        return open_location(self.locate(name))

    def locate(self, name: str) -> BlobLocation:
        item = self._items[self.resolve(name)]
        return BlobLocation(self.path, item.offset, item.size)


class StreamedTar(_IndexedTar):
    """A compressed tar: indexed in one pass (keeping small JSON members), streamed in another."""

    def __init__(self, path: str, limits: Limits):
        super().__init__(path)
        self._limits = limits
        self._small: dict[str, bytes] = {}
        keep = max(limits.max_manifest_bytes, limits.max_config_bytes)

        def visit(m: Member, src: TarSource) -> None:
            name = self._index(m)
            item = self._items.get(name) if name is not None else None
            if name is None or item is None or item.offset != m.data_offset:
                return  # a member that is not indexed (a directory, a device...)
            self._small.pop(name, None)  # a later member of the same name wins
            if item.kind != "file" or not 0 < m.size <= keep:
                return
            head = src.read_exact(1)
            if head is not None and head in (b"{", b"["):
                rest = src.read_exact(m.size - 1) if m.size > 1 else b""
                self._small[name] = head + (rest or b"")

        self.warnings = self._walk(visit)

    def _outer(self, raw: BinaryIO) -> TarSource:
        """The outer tar, decompressed, as a source of members."""
        stream, _method = open_decompressed(raw, name=self.path, limits=self._limits)
        return TarSource(
            stream,
            limit=self._limits.max_total_bytes,
            limit_name="max_total_bytes",
            on_bytes=None,
            name=self.path,
            hash_stream=False,
        )

    def _walk(self, visit: Callable[[Member, TarSource], None]) -> list[str]:
        with open(self.path, "rb") as raw:
            src = self._outer(raw)
            for m in iter_members(src, name=self.path, limits=self._limits):
                visit(m, src)
            return src.warnings

    def read_small(self, name: str, *, limit: int, limit_name: str) -> bytes:
        real = self.resolve(name)
        _too_big(self, real, self._items[real].size, limit, limit_name)
        data = self._small.get(real)
        if data is None:
            raise ArchiveError(f"{real} is not a JSON document", path=self.path)
        return data

    def stream_blobs(self, names: Iterable[str], handler: BlobHandler) -> None:
        wanted = {self.resolve(n) for n in names}
        if not wanted:
            return

        def visit(m: Member, src: TarSource) -> None:
            name = clean_member_name(m.name, archive=self.path)
            item = self._items.get(name)
            # the member the index kept for this name (the last one, as in a plain tar)
            if name in wanted and item is not None and item.offset == m.data_offset:
                wanted.discard(name)
                handler(name, MemberReader(src, m.size))  # type: ignore[arg-type]

        self._walk(visit)

    def open_blob(self, name: str) -> BinaryIO:
        """The outer stream cannot seek: decompress it up to the member, then read on."""
        wanted = self.resolve(name)
        offset = self._items[wanted].offset
        raw = open(self.path, "rb")  # noqa: SIM115 - closed with the returned reader
        try:
            src = self._outer(raw)
            for m in iter_members(src, name=self.path, limits=self._limits):
                if m.data_offset == offset:
                    return cast(BinaryIO, MemberReader(src, m.size, closing=raw))
        except BaseException:
            raw.close()
            raise
        raw.close()
        raise MissingBlob(f"{wanted} is missing from the archive", path=self.path)


class MemberReader(io.RawIOBase):
    """The data of the current member of a streamed tar."""

    def __init__(self, src: TarSource, size: int, closing: BinaryIO | None = None):
        self._src = src
        self._left = size
        self._closing = closing  # the file to close with this reader

    def close(self) -> None:
        if self._closing is not None:
            self._closing.close()
            self._closing = None
        super().close()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if n < 0 or n > self._left:
            n = self._left  # read(-1) is everything that is left, as for a file
        parts: list[bytes] = []
        self._src.feed(n, parts.append)
        self._left -= n
        return b"".join(parts)


class Directory(Container):
    """An OCI layout or docker-dir on disk. Links may not leave the directory."""

    is_dir = True

    def __init__(self, path: str):
        self.path = path
        self._root = os.path.realpath(path)

    def _real(self, name: str) -> str:
        name = clean_member_name(name, archive=self.path)
        full = os.path.realpath(os.path.join(self._root, name))
        if full != self._root and not full.startswith(self._root + os.sep):
            raise HostileArchive(f"{name} points outside the directory", path=self.path)
        try:
            st = os.stat(full)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise HostileArchive(f"link loop at {name}", path=self.path) from None
            raise MissingBlob(f"{name} is missing", path=self.path) from None
        if not stat.S_ISREG(st.st_mode):
            raise MissingBlob(f"{name} is not a regular file", path=self.path)
        return full

    def names(self) -> set[str]:
        out: set[str] = set()
        for dirpath, _dirs, files in os.walk(self._root):
            rel = os.path.relpath(dirpath, self._root)
            for f in files:
                out.add(f if rel == "." else posixpath.join(rel.replace(os.sep, "/"), f))
        return out

    def resolve(self, name: str) -> str:
        self._real(name)
        return clean_member_name(name, archive=self.path)

    def size(self, name: str) -> int:
        return os.path.getsize(self._real(name))

    def read_small(self, name: str, *, limit: int, limit_name: str) -> bytes:
        full = self._real(name)
        _too_big(self, name, os.path.getsize(full), limit, limit_name)
        with open(full, "rb") as fh:
            return fh.read(limit + 1)

    def stream_blobs(self, names: Iterable[str], handler: BlobHandler) -> None:
        for name in sorted({self.resolve(n) for n in names}):
            with self.open_blob(name) as fh:
                handler(name, fh)

    def open_blob(self, name: str) -> BinaryIO:
        return open(self._real(name), "rb")  # noqa: SIM115 - the caller closes it

    def locate(self, name: str) -> BlobLocation:
        full = self._real(name)
        return BlobLocation(full, 0, os.path.getsize(full))


def open_container(path: str, limits: Limits) -> Container:
    """Open what the user named: a directory, a plain tar, or a compressed tar."""
    if os.path.isdir(path):
        return Directory(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except IsADirectoryError:
        return Directory(path)
    except OSError as exc:
        raise ArchiveError(f"cannot read: {exc.strerror or exc}", path=path) from None
    if not head:
        raise NotAnImageArchive("empty file", path=path)
    method = sniff(head)
    if method != NONE:
        return StreamedTar(path, limits)
    if len(head) < 512 or head[257:262] not in (b"ustar",) and not _plausible_v7(head):
        raise NotAnImageArchive("not a tar archive or a directory", path=path)
    return PlainTar(path, limits)


def _plausible_v7(head: bytes) -> bool:
    """An old-style tar header without the ustar magic: check its checksum."""
    try:
        stored = int(head[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(head) - sum(head[148:156]) + 256
