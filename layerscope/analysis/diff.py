"""Compare two filesystem states: two layers of one image, or two images.

A side is an image and a layer index: the filesystem as it stands once that layer is
applied. The diff lists every path whose state differs: added (only in B), removed (only in
A) or changed (in both, with content and/or metadata differing).

Where the two stacks start with the same layers (the same chain ids), those layers cannot
differ, so only the paths the later layers touched are compared: diffing two images built
on one 180,000-file base costs what their own layers changed.

Sizes follow `du`, so that directory deltas add up to the real change of the image's bytes:
a path's bytes are its content's, and content shown at several paths (hardlinks) is counted
once per filesystem, at the first of its paths in sorted order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from layerscope.model.entry import Entry, Kind
from layerscope.model.filesystem import FileSystem, Node, Version
from layerscope.model.image import Image

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"

# A hardlink is a regular file with another name: comparing the two kinds is comparing
# content and metadata, not a change of type.
_FILE_KINDS = (Kind.FILE, Kind.HARDLINK)


@dataclass(frozen=True)
class Side:
    """One filesystem state: `image` with layers 0..`layer` applied."""

    image: Image
    layer: int

    @property
    def fs(self) -> FileSystem:
        return self.image.filesystem

    def state(self, node: Node | None) -> Version | None:
        return None if node is None else node.state_at(self.layer)


@dataclass
class PathDiff:
    path: str
    change: str  # ADDED | REMOVED | CHANGED
    entry_a: Entry | None  # what A has at the path (None when added)
    entry_b: Entry | None  # what B has (None when removed)
    size_a: int | None  # bytes the path shows in A (a hardlink shows its target's); None: absent
    size_b: int | None
    content_changed: bool
    # which metadata differs: mode, uid, gid, mtime, links (a hardlink made or broken)
    metadata: list[str] = field(default_factory=list)
    owned_a: int = 0  # bytes counted at this path in A (du: shared content counted once)
    owned_b: int = 0
    # the regular-file entries whose bytes the path shows (a hardlink's target), to read them
    content_a: Entry | None = None
    content_b: Entry | None = None

    @property
    def kind(self) -> Kind:
        """B's kind, or A's for a removed path."""
        entry = self.entry_b or self.entry_a
        assert entry is not None
        return entry.kind

    @property
    def kind_a(self) -> Kind | None:
        return None if self.entry_a is None else self.entry_a.kind

    @property
    def link(self) -> str | None:
        """The symlink target (B's, or A's for a removed path)."""
        entry = self.entry_b or self.entry_a
        return entry.link if entry is not None and entry.kind == Kind.SYMLINK else None

    @property
    def metadata_changed(self) -> bool:
        return bool(self.metadata)

    @property
    def is_dir(self) -> bool:
        return self.kind == Kind.DIR

    @property
    def delta(self) -> int:
        return self.owned_b - self.owned_a

    @property
    def description(self) -> str:
        """What changed: `content`, `mode, mtime`, `content; was hardlink`, or the change."""
        if self.change != CHANGED:
            return self.change
        parts = []
        if self.content_changed:
            parts.append("content")
        if self.kind_a is not None and self.kind_a != self.kind:
            parts.append(f"was {self.kind_a.label}")
        if self.metadata:
            parts.append(", ".join(self.metadata))
        return "; ".join(parts) or "changed"


@dataclass
class Tally:
    count: int = 0
    bytes: int = 0


@dataclass
class FsDiff:
    a: Side
    b: Side
    shared_layers: int  # bottom layers the two stacks share (same chain id)
    changes: list[PathDiff]  # sorted by path
    ignore_timestamps: bool

    def tally(self, change: str) -> Tally:
        """Non-directory paths with this change, and their bytes (REPORT.md counts files).

        added: B's bytes; removed: A's bytes; changed: B's bytes of the new versions.
        """
        t = Tally()
        for c in self.changes:
            if c.change == change and not c.is_dir:
                t.count += 1
                t.bytes += c.owned_a if change == REMOVED else c.owned_b
        return t

    @property
    def size_delta(self) -> int:
        """How many bytes bigger B's filesystem is than A's."""
        return sum(c.delta for c in self.changes)

    def directory_deltas(self) -> dict[str, int]:
        """Every directory above a change, with the size delta of the changes below it."""
        out: dict[str, int] = {"/": 0}
        for c in self.changes:
            delta = c.delta
            path = c.path
            while path != "/":
                path = path.rsplit("/", 1)[0] or "/"
                out[path] = out.get(path, 0) + delta
        return out


def shared_prefix(a: Side, b: Side) -> int:
    """How many bottom layers both sides have applied with the same chain ids."""
    n = 0
    for la, lb in zip(a.image.layers[: a.layer + 1], b.image.layers[: b.layer + 1], strict=False):
        if la.chain_id != lb.chain_id:
            break
        n += 1
    return n


def diff(a: Side, b: Side, *, ignore_timestamps: bool = False, compare_all: bool = False) -> FsDiff:
    """Every path whose state differs between A and B, sorted by path.

    `compare_all` walks every path even below shared layers (slower; the tests use it to
    check that skipping the shared layers loses nothing).
    """
    for side in (a, b):
        if not 0 <= side.layer < len(side.image.layers):
            raise IndexError(f"layer {side.layer} out of range")
    shared = shared_prefix(a, b)
    owners_a, owners_b = _Owners(a), _Owners(b)
    changes: list[PathDiff] = []
    compared: set[str] = set()
    moved: set[str] = set()  # paths that start or stop counting content shown elsewhere too
    for path, node_a, node_b in _candidates(a, b, 0 if compare_all else shared):
        compared.add(path)
        va, vb = a.state(node_a), b.state(node_b)
        found = _compare(path, va, vb, ignore_timestamps, owners_a, owners_b)
        if found is not None:
            changes.append(found)
        for content in {_content(va), _content(vb)}:
            if content is not None and content.size:
                owner_a, owner_b = owners_a.owner(content), owners_b.owner(content)
                if owner_a != owner_b:
                    moved.update(p for p in (owner_a, owner_b) if p is not None)
    # A hardlinked file's bytes move to another of its names when the name that counted
    # them goes: that name may lie outside the candidates, yet its size changes.
    for path in sorted(moved - compared):
        va, vb = a.state(a.fs.lookup(path)), b.state(b.fs.lookup(path))
        found = _compare(path, va, vb, ignore_timestamps, owners_a, owners_b)
        if found is not None:
            changes.append(found)
    changes.sort(key=lambda c: c.path)
    return FsDiff(a, b, shared, changes, ignore_timestamps)


def _candidates(a: Side, b: Side, shared: int) -> Iterator[tuple[str, Node | None, Node | None]]:
    """(path, A's node, B's node) for every path that may differ."""
    if shared == 0:
        yield from _walk_both(a, b)
        return
    same_tree = a.fs is b.fs
    seen: set[str] = set()
    for side, other in ((a, b), (b, a)):
        for k in range(shared, side.layer + 1):
            for node in side.fs.changes[k]:
                if node.parent is None:
                    continue
                path = node.path
                if path in seen:
                    continue
                seen.add(path)
                mine = node
                theirs = node if same_tree else other.fs.lookup(path)
                yield (path, mine, theirs) if side is a else (path, theirs, mine)


def _walk_both(a: Side, b: Side) -> Iterator[tuple[str, Node | None, Node | None]]:
    """Both trees side by side, by name, below every directory present on either side."""
    stack: list[tuple[str, Node | None, Node | None]] = [("", a.fs.root, b.fs.root)]
    while stack:
        path, na, nb = stack.pop()
        names: set[str] = set()
        for n in (na, nb):
            if n is not None and n.children:
                names.update(n.children)
        for name in names:
            ca = na.child(name) if na is not None else None
            cb = nb.child(name) if nb is not None else None
            if a.state(ca) is None and b.state(cb) is None:
                continue
            child_path = f"{path}/{name}"
            yield child_path, ca, cb
            if (ca is not None and ca.children) or (cb is not None and cb.children):
                stack.append((child_path, ca, cb))


class _Owners:
    """Which path of one side counts a piece of content (du's rule, made deterministic).

    Content shows at several paths only through hardlinks. It is counted at the path the
    tar stored it under while that path still shows it, otherwise at the first path in
    sorted order that does (found by one scan of the side, only when needed).
    """

    def __init__(self, side: Side):
        self._side = side
        self._fallback: dict[int, str] | None = None

    def owner(self, content: Entry) -> str | None:
        """The path that counts `content` on this side, None when no path shows it."""
        side = self._side
        version = side.state(side.fs.lookup(content.path))
        if version is not None and version.content is content:
            return content.path
        if self._fallback is None:
            self._fallback = self._scan()
        return self._fallback.get(id(content))

    def counts_here(self, path: str, version: Version | None) -> bool:
        """True when `path` is where this side counts the content it shows."""
        content = _content(version)
        return content is not None and self.owner(content) == path

    def owned(self, path: str, version: Version | None) -> int:
        content = _content(version)
        return content.size if content is not None and self.owner(content) == path else 0

    def _scan(self) -> dict[int, str]:
        first: dict[int, str] = {}
        for node, version in self._side.fs.iter_present(self._side.layer):
            content = _content(version)
            if content is None:
                continue
            path = node.path
            known = first.get(id(content))
            if known is None or path < known:
                first[id(content)] = path
        return first


def _content(version: Version | None) -> Entry | None:
    """The regular-file entry whose bytes a version shows (None for anything else)."""
    if version is None or version.entry is None or version.entry.kind not in _FILE_KINDS:
        return None
    return version.content


def _compare(
    path: str,
    va: Version | None,
    vb: Version | None,
    ignore_timestamps: bool,
    owners_a: _Owners,
    owners_b: _Owners,
) -> PathDiff | None:
    ea = va.entry if va is not None else None
    eb = vb.entry if vb is not None else None
    owned_a, owned_b = owners_a.owned(path, va), owners_b.owned(path, vb)
    if ea is None or va is None:
        if eb is None or vb is None:
            return None
        return PathDiff(
            path, ADDED, None, eb, None, vb.size, True, [], 0, owned_b, None, _content(vb)
        )  # fmt: skip
    if eb is None or vb is None:
        return PathDiff(
            path, REMOVED, ea, None, va.size, None, True, [], owned_a, 0, _content(va), None
        )  # fmt: skip
    content = _content_differs(va, ea, vb, eb)
    fields = _metadata_fields(ea, eb, ignore_timestamps)
    counts_a, counts_b = owners_a.counts_here(path, va), owners_b.counts_here(path, vb)
    if counts_a != counts_b or (ea.kind != eb.kind and not content):
        fields.append("links")  # a hardlink made or broken: the names sharing it changed
    if not content and not fields:
        return None
    return PathDiff(
        path, CHANGED, ea, eb, va.size, vb.size, content, fields, owned_a, owned_b,
        _content(va), _content(vb),
    )  # fmt: skip


def _content_differs(va: Version, ea: Entry, vb: Version, eb: Entry) -> bool:
    if ea.kind in _FILE_KINDS and eb.kind in _FILE_KINDS:
        ca, cb = va.content, vb.content
        if ca is None or cb is None:
            return ca is not cb
        return ca is not cb and (ca.size != cb.size or ca.digest != cb.digest)
    if ea.kind != eb.kind:
        return True
    if ea.kind == Kind.SYMLINK:
        return ea.link != eb.link
    return False  # directories, devices, fifos: nothing but metadata


def _metadata_fields(ea: Entry, eb: Entry, ignore_timestamps: bool) -> list[str]:
    out = []
    if ea.mode != eb.mode:
        out.append("mode")
    if ea.uid != eb.uid:
        out.append("uid")
    if ea.gid != eb.gid:
        out.append("gid")
    if not ignore_timestamps and ea.mtime != eb.mtime:
        out.append("mtime")
    return out
