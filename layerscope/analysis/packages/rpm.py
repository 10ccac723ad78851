"""RPM's database: `rpmdb.sqlite` (rpm >= 4.16; Fedora 33+, RHEL 9, UBI 9, openSUSE).

The `Packages` table holds one RPM header per installed package, in rpm's binary header
format (as stored in the database, without the lead and magic of a package file):

    int32 il, int32 dl                 big-endian: index entries, data bytes
    il x (int32 tag, type, offset, count)
    dl bytes of data, each entry's value at its offset

Read here: NAME (1000), VERSION (1001), RELEASE (1002), EPOCH (1003), SIZE (1009, int32) or
LONGSIZE (5009, int64), ARCH (1022), and the file list DIRINDEXES (1116, int32[]), BASENAMES
(1117, string[]), DIRNAMES (1118, string[]) or the older OLDFILENAMES (1027). Every offset
and count is checked against the blob; a header that does not add up is skipped and named.

Not read: the Berkeley DB `Packages` (RHEL <= 8, CentOS 7) and NDB `Packages.db` (SUSE)
formats, which need rpm's own libraries; a WAL file (`rpmdb.sqlite-wal`) that still holds
changes not yet written back to the database.

The SQLite file is untrusted: it is opened from memory (never written), read-only, with
`Packages` required to be a plain table and a step budget that stops any query that runs
long.
"""

from __future__ import annotations

import sqlite3
import struct

from layerscope.analysis.packages.model import RPM, Package, Parsed

RPMDB_LOCATION = "/var/lib/rpm"  # or /usr/lib/sysimage/rpm: the path found is kept

TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH = 1000, 1001, 1002, 1003
TAG_SIZE, TAG_ARCH, TAG_OLDFILENAMES = 1009, 1022, 1027
TAG_DIRINDEXES, TAG_BASENAMES, TAG_DIRNAMES = 1116, 1117, 1118
TAG_LONGSIZE = 5009
T_INT32, T_INT64, T_STRING, T_STRING_ARRAY, T_I18NSTRING = 4, 5, 6, 8, 9

_MAX_INDEX = 100_000  # index entries in one header (rpm's own cap is 0xffff)
_MAX_HEADERS = 100_000
_SQLITE_STEPS = 20_000_000  # VM instructions a query may run before it is stopped


class HeaderError(ValueError):
    pass


class Header:
    """One RPM header blob, its entries read on demand with bounds checks."""

    def __init__(self, blob: bytes):
        if len(blob) < 8:
            raise HeaderError("shorter than its 8-byte preamble")
        il, dl = struct.unpack_from(">II", blob, 0)
        if il > _MAX_INDEX or 8 + 16 * il + dl != len(blob):
            raise HeaderError(f"index of {il} entries and {dl} data bytes do not add up")
        self.data = blob[8 + 16 * il :]
        self.entries: dict[int, tuple[int, int, int]] = {}
        for i in range(il):
            tag, kind, offset, count = struct.unpack_from(">iiii", blob, 8 + 16 * i)
            if offset < 0 or count < 0 or offset > dl:
                raise HeaderError(f"tag {tag}: offset {offset} outside the data")
            self.entries.setdefault(tag, (kind, offset, count))

    def _strings(self, tag: int) -> list[str] | None:
        entry = self.entries.get(tag)
        if entry is None:
            return None
        kind, offset, count = entry
        if kind not in (T_STRING, T_STRING_ARRAY, T_I18NSTRING):
            raise HeaderError(f"tag {tag} is of type {kind}, not a string")
        out: list[str] = []
        data = self.data
        pos = offset
        for _ in range(count if kind != T_STRING else 1):
            end = data.find(b"\0", pos)
            if end < 0:
                raise HeaderError(f"tag {tag}: string runs past the data")
            out.append(data[pos:end].decode("utf-8", "replace"))
            pos = end + 1
        return out

    def string(self, tag: int) -> str | None:
        values = self._strings(tag)
        return values[0] if values else None

    def strings(self, tag: int) -> list[str]:
        return self._strings(tag) or []

    def ints(self, tag: int) -> list[int]:
        entry = self.entries.get(tag)
        if entry is None:
            return []
        kind, offset, count = entry
        width = {T_INT32: 4, T_INT64: 8}.get(kind)
        if width is None:
            raise HeaderError(f"tag {tag} is of type {kind}, not an integer")
        if offset + width * count > len(self.data):
            raise HeaderError(f"tag {tag}: {count} integers run past the data")
        fmt = ">" + ("I" if width == 4 else "Q") * count
        return list(struct.unpack_from(fmt, self.data, offset))

    def files(self) -> list[str]:
        names = self.strings(TAG_BASENAMES)
        if names:
            dirs = self.strings(TAG_DIRNAMES)
            indexes = self.ints(TAG_DIRINDEXES)
            if len(indexes) != len(names) or any(i >= len(dirs) for i in indexes):
                raise HeaderError("file list: dirindexes do not match basenames and dirnames")
            return [dirs[i] + name for i, name in zip(indexes, names, strict=True)]
        return self.strings(TAG_OLDFILENAMES)


def package_from_header(blob: bytes, location: str) -> tuple[Package, list[str]]:
    header = Header(blob)
    name = header.string(TAG_NAME)
    if not name:
        raise HeaderError("no NAME")
    version = header.string(TAG_VERSION) or ""
    release = header.string(TAG_RELEASE)
    epoch = header.ints(TAG_EPOCH)
    full = (f"{epoch[0]}:" if epoch and epoch[0] else "") + version
    if release:
        full += f"-{release}"
    sizes = header.ints(TAG_LONGSIZE) or header.ints(TAG_SIZE)
    package = Package(
        RPM, name, full, header.string(TAG_ARCH), sizes[0] if sizes else None, location
    )
    return package, header.files()


def _open(data: bytes) -> sqlite3.Connection:
    image = bytearray(data)
    if len(image) >= 20 and image[18:20] == b"\x02\x02":
        image[18:20] = b"\x01\x01"  # WAL mode: read the main file as a rollback-journal one
    conn = sqlite3.connect(":memory:")
    conn.deserialize(bytes(image))
    steps = [0]

    def budget() -> int:
        steps[0] += 1
        return 1 if steps[0] > _SQLITE_STEPS // 1000 else 0

    conn.set_progress_handler(budget, 1000)
    conn.execute("PRAGMA query_only = ON")
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute("PRAGMA cell_size_check = ON")
    return conn


def read_rpmdb_sqlite(data: bytes, location: str) -> Parsed:
    """The packages of an rpmdb.sqlite, or what kept them from being read."""
    out = Parsed()
    where = f"{location}/rpmdb.sqlite"
    if not data.startswith(b"SQLite format 3\0") or len(data) < 512:
        out.problems.append(f"{where}: not a readable SQLite database (no SQLite header)")
        return out
    try:
        conn = _open(data)
    except (sqlite3.Error, OverflowError, MemoryError) as exc:
        out.problems.append(f"{where}: not a readable SQLite database ({exc})")
        return out
    try:
        kind = conn.execute("SELECT type FROM sqlite_master WHERE name = 'Packages'").fetchone()
        if kind is None or kind[0] != "table":
            out.problems.append(f"{where}: has no Packages table; not an rpm database")
            return out
        rows = conn.execute("SELECT hnum, blob FROM Packages LIMIT ?", (_MAX_HEADERS + 1,))
        for count, (hnum, blob) in enumerate(rows):
            if count >= _MAX_HEADERS:
                out.problems.append(f"{where}: more than {_MAX_HEADERS} packages; the rest unread")
                break
            if not isinstance(blob, bytes):
                out.problems.append(f"{where}: package {hnum}: not a header blob")
                continue
            try:
                package, files = package_from_header(blob, location)
            except HeaderError as exc:
                out.problems.append(f"{where}: package {hnum}: unreadable header ({exc})")
                continue
            out.packages.append(package)
            out.files[package.key] = files
    except (sqlite3.Error, OverflowError, MemoryError) as exc:
        out.problems.append(f"{where}: not a readable SQLite database ({exc})")
    finally:
        conn.close()
    return out
