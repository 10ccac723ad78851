"""One member of a layer tar, reduced to what the analysis needs.

Images hold hundreds of thousands of these, so an Entry is a slotted object holding no file
content: only the metadata and a digest of the content (for duplicate detection).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable
from enum import IntEnum


class Kind(IntEnum):
    FILE = 0
    DIR = 1
    SYMLINK = 2
    HARDLINK = 3
    CHAR = 4
    BLOCK = 5
    FIFO = 6
    # overlay markers, not filesystem objects
    WHITEOUT = 7  # `DIR/.wh.NAME`: path is DIR/NAME, the thing deleted
    OPAQUE = 8  # `DIR/.wh..wh..opq`: path is DIR
    META = 9  # other `.wh..wh.*` names, eStargz landmarks: indexed, never applied

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Kind.FILE: "file",
    Kind.DIR: "dir",
    Kind.SYMLINK: "symlink",
    Kind.HARDLINK: "hardlink",
    Kind.CHAR: "char",
    Kind.BLOCK: "block",
    Kind.FIFO: "fifo",
    Kind.WHITEOUT: "whiteout",
    Kind.OPAQUE: "opaque",
    Kind.META: "meta",
}


class Entry:
    """A tar member of one layer, with its name normalised to an absolute path."""

    __slots__ = (
        "path",
        "kind",
        "size",
        "mode",
        "uid",
        "gid",
        "mtime",
        "link",
        "digest",
        "raw_name",
        "offset",
    )

    def __init__(
        self,
        path: str,
        kind: Kind,
        size: int = 0,
        mode: int = 0,
        uid: int = 0,
        gid: int = 0,
        mtime: int = 0,
        link: str | None = None,
        digest: bytes | None = None,
        raw_name: str | None = None,
        offset: int = -1,
    ):
        self.path = path  # "/etc/passwd"; for whiteouts the path deleted
        self.kind = kind
        self.size = size  # bytes of content shipped in the tar (0 for everything but files)
        self.mode = mode  # permission bits (and setuid/setgid/sticky), no type bits
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.link = link  # symlink target as written; hardlink target as an absolute path
        # 128-bit xxh3 of the content (files only): with the size, what tells equal content
        self.digest = digest
        self.raw_name = raw_name  # the tar name when it differs from the path in more than "/"
        # Where the member's headers start in the uncompressed layer stream (-1: unknown),
        # so that its content and full header (xattrs) can be read again later.
        self.offset = offset

    def __repr__(self) -> str:
        return f"Entry({self.path!r}, {self.kind.label}, size={self.size})"

    def same_metadata(self, other: Entry) -> bool:
        return (
            self.mode == other.mode
            and self.uid == other.uid
            and self.gid == other.gid
            and self.link == other.link
        )

    def same_content(self, other: Entry) -> bool:
        return self.kind == other.kind and self.size == other.size and self.digest == other.digest

    @property
    def mode_string(self) -> str:
        return f"{self.mode & 0o7777:04o}"


_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_NO_DIGEST = bytes(16)


class EntryTable:
    """A layer's entries as columns: how a parsed layer travels from a reader process and
    sits in the persistent cache. Numbers live in typed arrays (8 bytes each, not an int
    object each) and digests in one byte string, so a million-entry layer stays small and
    pickles and loads at C speed; sparse columns are dicts by row."""

    __slots__ = (
        "paths", "kinds", "sizes", "modes", "uids", "gids", "mtimes", "offsets",
        "digests", "links", "raw_names",
    )  # fmt: skip

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.kinds = bytearray()
        self.sizes = array("q")
        self.modes = array("H")  # permission bits only: they fit
        self.uids = array("q")
        self.gids = array("q")
        self.mtimes = array("q")
        self.offsets = array("q")
        self.digests = bytearray()  # 16 bytes a row; zeros: no digest
        self.links: dict[int, str] = {}  # row -> link target
        self.raw_names: dict[int, str] = {}  # row -> tar name (whiteouts, metadata entries)

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> tuple[object, ...]:
        # The paths travel as one string, NUL between them: 150,000 paths as a list took
        # 23 ms to pickle and 17 ms to load, joined 10 ms and 16 ms with the join and the
        # split. Where a path holds a NUL (a pax record can) or there are none, the list.
        paths: str | list[str] = self.paths
        if paths:
            joined = "\0".join(paths)
            if joined.count("\0") == len(paths) - 1:
                paths = joined
        return (paths, *(getattr(self, name) for name in self.__slots__[1:]))

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)
        if isinstance(self.paths, str):
            self.paths = self.paths.split("\0")

    def adder(self) -> Callable[[str, Kind, int, int, int, int, int, int, str | None,
                                 bytes | None, str | None], None]:  # fmt: skip
        """add(path, kind, size, mode, uid, gid, mtime, offset, link, digest, raw_name): a
        row at the end. Made once per table, with each column's append method bound: a parse
        adds a row per tar member (150,000 for the benchmark image's big layer), and
        looking the columns up on every call was a third of the add."""
        paths, sizes, uids, gids = self.paths, self.sizes, self.uids, self.gids
        mtimes, offsets = self.mtimes, self.offsets
        paths_append, kinds_append = paths.append, self.kinds.append
        modes_append = self.modes.append
        sizes_append, uids_append, gids_append = sizes.append, uids.append, gids.append
        mtimes_append, offsets_append = mtimes.append, offsets.append
        digests_extend, links, raw_names = self.digests.extend, self.links, self.raw_names

        def add(
            path: str,
            kind: Kind,
            size: int,
            mode: int,
            uid: int,
            gid: int,
            mtime: int,
            offset: int,
            link: str | None,
            digest: bytes | None,
            raw_name: str | None,
        ) -> None:
            row = len(paths)
            paths_append(path)
            kinds_append(kind)
            modes_append(mode & 0o7777)
            try:
                sizes_append(size)
                uids_append(uid)
                gids_append(gid)
                mtimes_append(mtime)
                offsets_append(offset)
            except OverflowError:  # a pax header's absurd number: kept as the nearest one
                for column, value in (
                    (sizes, size), (uids, uid), (gids, gid), (mtimes, mtime), (offsets, offset)
                ):  # fmt: skip
                    del column[row:]
                    column.append(min(max(value, _I64_MIN), _I64_MAX))
            digests_extend(digest if digest is not None else _NO_DIGEST)
            if link is not None:
                links[row] = link
            if raw_name is not None:
                raw_names[row] = raw_name

        return add

    def extend(self, other: EntryTable) -> None:
        """Append other's rows after these (the next part of the same layer)."""
        rows = len(self.paths)
        self.paths += other.paths
        self.kinds += other.kinds
        for name in ("sizes", "modes", "uids", "gids", "mtimes", "offsets"):
            getattr(self, name).extend(getattr(other, name))
        self.digests += other.digests
        self.links.update((rows + row, link) for row, link in other.links.items())
        self.raw_names.update((rows + row, raw) for row, raw in other.raw_names.items())

    def file_bytes(self, all_bytes: int | None = None) -> int:
        """The sizes of the regular files summed: all the sizes (`all_bytes`, where the
        caller has summed them already), less the few rows that are not files, found by
        one regex over the kinds. (BlobRecord.of summed with a generator over the rows:
        9.8 ms of the loader's serial time for the benchmark image's big layer, 3.5 ms
        so, with the sum of all the sizes it needs anyway.)"""
        sizes = self.sizes
        total = sum(sizes) if all_bytes is None else all_bytes
        return total - sum(sizes[m.start()] for m in _NOT_A_FILE.finditer(self.kinds))

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> EntryTable:
        table = cls()
        add = table.adder()
        for e in entries:
            add(e.path, e.kind, e.size, e.mode, e.uid, e.gid, e.mtime, e.offset, e.link,
                e.digest, e.raw_name)  # fmt: skip
        return table

    def entries(self) -> list[Entry]:
        """New Entry objects, one per row.

        Every column is made whole first, in C loops (map, re), so that the
        only Python code run per row is Entry's __init__: the benchmark image's 153,152-row
        layer took 123 ms with a loop that unpacked and looked up each row, 112 ms so.
        """
        n = len(self.paths)
        kinds = list(map(_KINDS.__getitem__, self.kinds))
        digests: list[bytes | None] = list(_DIGEST.findall(self.digests))
        for not_a_file in _NOT_A_FILE.finditer(self.kinds):  # only files have a digest
            digests[not_a_file.start()] = None
        row = -1
        try:  # a file read without one: zeros (found by index(), in C: files have one)
            while True:
                row = digests.index(_NO_DIGEST, row + 1)
                digests[row] = None
        except ValueError:
            pass
        links: list[str | None] = [None] * n
        for row, link in self.links.items():
            links[row] = link
        raw_names: list[str | None] = [None] * n
        for row, raw_name in self.raw_names.items():
            raw_names[row] = raw_name
        return list(
            map(
                Entry, self.paths, kinds, _shared(self.sizes), _shared(self.modes),
                _shared(self.uids), _shared(self.gids), _shared(self.mtimes), links, digests,
                raw_names, self.offsets,
            )
        )  # fmt: skip


_KINDS = list(Kind)
_DIGEST = re.compile(rb"(?s).{16}")
_NOT_A_FILE = re.compile(b"[^%c]" % Kind.FILE)


def _shared(column: array[int]) -> list[int]:
    """The column's numbers as ints, equal values one object: much less memory, as most
    entries of a layer share their mode, owner and time (and many their size)."""
    if len(column) < 2:
        return column.tolist()
    first = column[0]
    if column.count(first) == len(column):  # one owner, one time: the usual case
        return [first] * len(column)
    # the first object of each value, found and kept in one pass in C (a set of the values,
    # then a lookup of each: 12 ms for the benchmark image's 153,152 sizes, 8 ms so)
    canonical: dict[int, int] = {}
    return list(map(canonical.setdefault, column, column))
