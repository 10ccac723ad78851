"""One member of a layer tar, reduced to what the analysis needs.

Images hold hundreds of thousands of these, so an Entry is a slotted object holding no file
content: only the metadata and a digest of the content (for duplicate detection).
"""

from __future__ import annotations

from collections.abc import Iterable
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


class EntryTable:
    """A layer's entries as columns: how a parsed layer travels from a reader process and
    sits in the persistent cache (lists of strings and integers pickle and load at C
    speed; a list of objects does not). Sparse columns are dicts by row."""

    __slots__ = (
        "paths", "kinds", "sizes", "modes", "uids", "gids", "mtimes", "offsets",
        "links", "digests", "raw_names",
    )  # fmt: skip

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.kinds = bytearray()
        self.sizes: list[int] = []
        self.modes: list[int] = []
        self.uids: list[int] = []
        self.gids: list[int] = []
        self.mtimes: list[int] = []
        self.offsets: list[int] = []
        self.links: dict[int, str] = {}  # row -> link target
        self.digests: dict[int, bytes] = {}  # row -> content digest (regular files)
        self.raw_names: dict[int, str] = {}  # row -> tar name (whiteouts, metadata entries)

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)

    def append(self, e: Entry) -> None:
        row = len(self.paths)
        self.paths.append(e.path)
        self.kinds.append(e.kind)
        self.sizes.append(e.size)
        self.modes.append(e.mode)
        self.uids.append(e.uid)
        self.gids.append(e.gid)
        self.mtimes.append(e.mtime)
        self.offsets.append(e.offset)
        if e.link is not None:
            self.links[row] = e.link
        if e.digest is not None:
            self.digests[row] = e.digest
        if e.raw_name is not None:
            self.raw_names[row] = e.raw_name

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> EntryTable:
        table = cls()
        for e in entries:
            table.append(e)
        return table

    def entries(self) -> list[Entry]:
        """New Entry objects, one per row."""
        kinds = list(Kind)
        links, digests, raw_names = self.links, self.digests, self.raw_names
        # Equal small values (modes, ids, times) share one int object: much less memory.
        shared: dict[int, int] = {}
        share = shared.setdefault
        return [
            Entry(
                path,
                kinds[kind],
                size,
                share(mode, mode),
                share(uid, uid),
                share(gid, gid),
                share(mtime, mtime),
                links.get(row),
                digests.get(row),
                raw_names.get(row),
                offset,
            )
            for row, (path, kind, size, mode, uid, gid, mtime, offset) in enumerate(
                zip(
                    self.paths, self.kinds, self.sizes, self.modes, self.uids, self.gids,
                    self.mtimes, self.offsets, strict=True,
                )
            )
        ]  # fmt: skip
