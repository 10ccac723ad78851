"""The persistent cache: what reading an archive produced, kept so reopening it is instant.

Three kinds of record, each in a file of its own under `<cache dir>/v<FORMAT>/`:

  layers/<diff_id hex>   a layer's entries (as columns): layers are content-addressed, so
                         any image with the layer, stored in any form, reuses them
  blobs/<key hash>       what a stored blob is: its diff_id, the layer's summary figures and
                         every other field of its ParsedLayer (warnings, captured files...).
                         Keyed by the blob's digest when the archive names it by digest
                         (content addressing: the same digest is the same blob anywhere),
                         else by the archive file's identity (path, inode, size, mtime,
                         ctime) and the blob's place in it; and once more by the layer's
                         diff_id, for another blob of the same layer (a registry's gzipped
                         copy of an archive's tar): all but its compression and stored
                         digest and size describe the layer, whatever blob holds it
  images/<key hash>      an image's analysis (waste, dive figures, change counts), keyed by
                         its config digest and its chain of diff_ids

Every file starts with a header (a magic, the format version, a fingerprint of the code
that made it: the reader, the model and the analysis) and a 128-bit checksum of its
payload; a file that is corrupt, truncated or from another version is ignored, deleted and
rebuilt. Files are written to a temporary name
and renamed, so two processes writing at once each leave a whole file. The cache is
bounded: past `max_bytes`, the least recently used files go. A cache directory that cannot
be written is reported once, in `warnings`, and the load goes on without keeping anything.

The payload is a pickle. The cache directory belongs to the user; whoever can write there
can already run code as the user, so its files are trusted as the user's own, but a file
that does not match its checksum is never unpickled.
"""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
import stat
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, BinaryIO

import xxhash

from layerscope.analysis.dive import DiveFigures
from layerscope.analysis.packages import ImagePackages
from layerscope.analysis.waste import Waste
from layerscope.archive import BlobContents, tarstream
from layerscope.archive.tarstream import ParsedLayer
from layerscope.model import entry, filesystem
from layerscope.model.entry import EntryTable
from layerscope.model.filesystem import LayerCounts

FORMAT = 1
ENV_DIR = "LAYERSCOPE_CACHE_DIR"
NO_CACHE_ENV = "LAYERSCOPE_NO_CACHE"  # set (`open --no-cache`): loads use no cache
DEFAULT_MAX_BYTES = 4 * 1024**3
_MAGIC = b"LSCACHE"
_KINDS = ("layers", "blobs", "images")


def _code_fingerprint() -> bytes:
    """Changes whenever the code whose results are cached changes (parsing, model, analysis)."""
    from layerscope import analysis

    h = xxhash.xxh3_64()
    files = [Path(str(m.__file__)) for m in (tarstream, entry, filesystem)]
    files += sorted(Path(str(analysis.__file__)).parent.rglob("*.py"))
    for path in files:
        h.update(path.read_bytes())
    return h.digest()


_HEADER = _MAGIC + bytes([FORMAT]) + _code_fingerprint()


@dataclass
class BlobRecord:
    """What a stored layer blob is and holds, without its entries (they are in layers/)."""

    diff_id: str
    compression: str
    stored_digest: str | None
    stored_bytes: int
    size_bytes: int  # regular-file bytes
    dive_size: int  # every header's size field (dive's layer size)
    entry_count: int
    # Every ParsedLayer field but the table (stream size, warnings, captured files, and
    # whatever a reader adds), so a reopen has them without loading the entries.
    layer_fields: dict[str, Any]

    @classmethod
    def of(cls, contents: BlobContents) -> BlobRecord:
        parsed = contents.parsed
        table = parsed.table
        header_bytes = sum(table.sizes)
        return cls(
            diff_id=parsed.diff_id,
            compression=contents.compression,
            stored_digest=contents.stored_digest,
            stored_bytes=contents.stored_bytes,
            size_bytes=table.file_bytes(header_bytes),
            dive_size=header_bytes,
            entry_count=len(table),
            layer_fields={
                f.name: getattr(parsed, f.name) for f in fields(parsed) if f.name != "table"
            },
        )

    def stored_as(
        self, compression: str, stored_digest: str | None, stored_bytes: int
    ) -> BlobRecord:
        """The same layer held in another blob: the layer's fields, that blob's own."""
        return replace(
            self, compression=compression, stored_digest=stored_digest, stored_bytes=stored_bytes
        )

    def parsed(self, table: EntryTable) -> ParsedLayer:
        return ParsedLayer(table=table, **self.layer_fields)


@dataclass
class ImageRecord:
    """An image's analysis: what the report needs without the entries or the tree."""

    waste: Waste
    dive: DiveFigures
    packages: ImagePackages
    counts: list[LayerCounts]
    filesystem_warnings: list[str]


def default_dir() -> Path:
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    import platformdirs  # (here, as tempfile in _write: a reopen's start-up is its time)

    return Path(platformdirs.user_cache_dir("layerscope"))


def default_cache() -> Cache | None:
    """The user's cache, or None when LAYERSCOPE_NO_CACHE is set."""
    return None if os.environ.get(NO_CACHE_ENV) else Cache()


def key_hash(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogateescape")).hexdigest()


def layer_key(diff_id: str) -> str:
    """The blobs/ key of the last blob read of a layer, found by the layer's diff_id."""
    return key_hash("diff_id", diff_id)


def _open_record(path: Path) -> BinaryIO:
    """A record's file, if it is a regular file: opening a FIFO put in its place would wait
    for a writer forever (O_NONBLOCK), and a device could be read without end."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class _TooBig(Exception):
    """A record past what the cache may hold: not written to the end."""


class _Checksummed:
    """A file's write(), counting and checksumming what goes through it, and stopping it
    (_TooBig) past `limit` bytes."""

    __slots__ = ("_write", "_hash", "size", "_limit")

    def __init__(self, fh: BinaryIO, limit: int):
        self._write = fh.write
        self._hash = xxhash.xxh3_128()
        self.size = 0
        self._limit = limit

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self.size += len(data)
        if self.size > self._limit:
            raise _TooBig()
        self._write(data)

    def digest(self) -> bytes:
        return self._hash.digest()


def _dump(value: object, fh: BinaryIO, max_bytes: int) -> int:
    """A record into a new file: the header, its payload's checksum, the payload (a pickle).
    The pickle streams into the file as it is made, and the checksum is written last over
    the zeros that held its place: the benchmark image's biggest layer was a 15.6 MB
    payload made whole first. Returns the file's size; _TooBig where it would pass
    `max_bytes`."""
    fh.write(_HEADER + bytes(16))
    payload = _Checksummed(fh, max_bytes - len(_HEADER) - 16)
    pickle.dump(value, payload, protocol=pickle.HIGHEST_PROTOCOL)
    fh.seek(len(_HEADER))
    fh.write(payload.digest())
    return len(_HEADER) + 16 + payload.size


class Cache:
    def __init__(self, directory: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = directory if directory is not None else default_dir()
        self.root = self.directory / f"v{FORMAT}"
        self.max_bytes = max_bytes
        self.warnings: list[str] = []
        self._writable = True
        self._written = 0

    # -- files ----------------------------------------------------------------------------

    def _path(self, kind: str, name: str) -> Path:
        return self.root / kind / name

    def _read(self, kind: str, name: str) -> Any:
        path = self._path(kind, name)
        try:
            with _open_record(path) as fh:
                data = fh.read()
        except OSError:
            return None
        head = len(_HEADER)
        payload = memoryview(data)[head + 16 :]  # not a copy: an image's record is megabytes
        if data[:head] != _HEADER or data[head : head + 16] != xxhash.xxh3_128_digest(payload):
            self._discard(path)  # corrupt, cut short, or written by another version
            return None
        try:
            value = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a payload that cannot be loaded is a miss
            self._discard(path)
            return None
        try:
            os.utime(path)  # recently used: eviction keeps it
        except OSError:
            pass
        return value

    def _discard(self, path: Path) -> None:
        try:
            path.unlink()
        except OSError:
            pass

    def _write(self, kind: str, name: str, value: object) -> None:
        if not self._writable:
            return
        import tempfile

        folder = self.root / kind
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    size = _dump(value, fh, self.max_bytes)
                os.replace(tmp, folder / name)
            except _TooBig:  # it would not fit even in an empty cache
                self._discard(Path(tmp))
                return
            except BaseException:
                self._discard(Path(tmp))
                raise
        except OSError as exc:
            self._writable = False
            reason = exc.strerror or str(exc)
            self.warnings.append(
                f"cache directory {self.directory} is not writable ({reason}): "
                "results are not kept for next time"
            )
            return
        self._written += size

    # -- records --------------------------------------------------------------------------

    def has_entries(self, diff_id: str) -> bool:
        """Whether a layer's entries are here, written by this version (not yet checksummed:
        a damaged file is found when it is read, and the layer read again)."""
        try:
            with _open_record(self._path("layers", diff_id.removeprefix("sha256:"))) as fh:
                return fh.read(len(_HEADER)) == _HEADER
        except OSError:
            return False

    def get_entries(self, diff_id: str) -> EntryTable | None:
        value = self._read("layers", diff_id.removeprefix("sha256:"))
        return value if isinstance(value, EntryTable) else None

    def put_entries(self, diff_id: str, table: EntryTable) -> None:
        self._write("layers", diff_id.removeprefix("sha256:"), table)

    def get_blob(self, key: str) -> BlobRecord | None:
        value = self._read("blobs", key)
        return value if isinstance(value, BlobRecord) else None

    def put_blob(self, key: str, record: BlobRecord) -> None:
        self._write("blobs", key, record)

    def get_image(self, key: str) -> ImageRecord | None:
        value = self._read("images", key)
        return value if isinstance(value, ImageRecord) else None

    def put_image(self, key: str, record: ImageRecord) -> None:
        self._write("images", key, record)

    # -- size -----------------------------------------------------------------------------

    def trim(self) -> None:
        """Past max_bytes, delete the least recently used files down to 80% of it.

        A small ledger file keeps a running total, so a load that wrote a little does not
        list the whole cache; it errs high (rewrites and other processes' evictions are
        not subtracted), and a full listing then puts it right.
        """
        if not self._written or not self._writable:
            return
        written, self._written = self._written, 0
        ledger = self.root / "usage"
        try:
            counted = int(ledger.read_text())
        except (OSError, ValueError):
            counted = -1  # no ledger yet: count
        # A negative count (a damaged or hand-edited ledger) would never reach the bound.
        total = counted + written if counted >= 0 else self.max_bytes + 1
        if total > self.max_bytes:
            total = self._evict()
        try:
            ledger.write_text(str(total))
        except OSError:
            pass

    def _evict(self) -> int:
        files: list[tuple[float, int, Path]] = []
        for kind in _KINDS:
            try:
                with os.scandir(self.root / kind) as it:
                    for item in it:
                        try:
                            st = item.stat()
                        except OSError:
                            continue
                        files.append((st.st_mtime, st.st_size, Path(item.path)))
            except OSError:
                continue
        total = sum(size for _t, size, _p in files)
        if total <= self.max_bytes:
            return total
        files.sort()
        for _mtime, size, path in files:
            if total <= 0.8 * self.max_bytes:
                break
            self._discard(path)
            total -= size
        return total
