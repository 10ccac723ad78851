"""One member of a layer tar, reduced to what the analysis needs.

Images hold hundreds of thousands of these, so an Entry is a slotted object holding no file
content: only the metadata and a digest of the content (for duplicate detection).
"""

from __future__ import annotations

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
        self.digest = digest  # sha256 of the content (files only)
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
