"""What the file tree shows for one layer of one image, computed from the core's FileSystem.

No Qt here: the Qt model (gui/models/filetree.py) asks these objects which children a directory
shows, in which state, and how big they are. Everything is computed on demand and cached
per layer, so opening a 150,000-file image costs nothing until a directory is expanded.

Two modes, as in dive:
- CHANGES: only the paths layer k changed (fs.changes[k]) and the directories above them;
- FILESYSTEM: every path present after layer k, plus what layer k deleted (struck through).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Container, Iterable
from enum import Enum
from weakref import WeakKeyDictionary

from layerscope.model.entry import Entry, Kind
from layerscope.model.filesystem import CHECK_EVERY, Change, Check, FileSystem, Node, Version

Matcher = Callable[[str, str], bool]  # (full path, name) -> matches


class TreeMode(Enum):
    CHANGES = "changes"
    FILESYSTEM = "filesystem"

    @property
    def label(self) -> str:
        return "Layer changes" if self is TreeMode.CHANGES else "Filesystem at layer"

    @property
    def short_label(self) -> str:
        return "Changes" if self is TreeMode.CHANGES else "Filesystem"


def make_matcher(text: str) -> Matcher | None:
    """A substring, or a glob when the text has * ? or [.

    Smart case: case-insensitive unless the pattern has an upper-case letter. A glob with
    a '/' is matched against the full path, otherwise against the name.
    """
    text = text.strip()
    if not text:
        return None
    flags = 0 if any(c.isupper() for c in text) else re.IGNORECASE
    if any(c in text for c in "*?["):
        rx = re.compile(fnmatch.translate(text), flags)
        if "/" in text:
            return lambda path, _name: rx.match(path) is not None
        return lambda _path, name: rx.match(name) is not None
    if flags == 0:
        return lambda path, _name: text in path
    folded = text.casefold()
    return lambda path, _name: folded in path.casefold()


def _depth(node: Node) -> int:
    depth = 0
    while node.parent is not None:
        node = node.parent
        depth += 1
    return depth


def _roll_up(pending: dict[Node, int], sizes: dict[Node, int]) -> None:
    """Add each directory's pending delta to it and to all its ancestors.

    Deepest directories go first and pass their delta to their parent, so N changed files
    cost O(N + directories) rather than O(N * depth).
    """
    depth: dict[Node, int] = {}
    while pending:
        for d in pending:
            if d not in depth:
                depth[d] = _depth(d)
        deepest = max(depth[d] for d in pending)
        for d in [d for d in pending if depth[d] == deepest]:
            delta = pending.pop(d)
            sizes[d] = sizes.get(d, 0) + delta
            if d.parent is not None:
                pending[d.parent] = pending.get(d.parent, 0) + delta


def _present(node: Node, layer: int) -> bool:
    """node.state_at(layer) is not None, in one call: the hot test of every walk."""
    for v in reversed(node.versions):
        if v.layer <= layer:
            return v.entry is not None
    return False


def _file_size(version: Version | None) -> int:
    """Bytes a version shows: files and hardlinks (their content's), not directories."""
    shown = _non_dir(version)
    return 0 if shown is None else shown.size


def _shown(version: Version | None) -> Entry | None:
    """The content (Version.content, the inode) a non-directory version shows, if any."""
    shown = _non_dir(version)
    return None if shown is None else shown.content


def _shown_around(node: Node, k: int) -> tuple[Version | None, Version | None]:
    """What `node` shows after layer k and after layer k - 1: the non-directory versions in
    force then (None for a directory or no path), in one pass over its versions instead of
    two state_at calls, for the hot loop of moving the directory sizes a layer."""
    at: Version | None = None
    found = False
    for v in reversed(node.versions):
        if v.layer > k:
            continue
        if not found:
            at, found = v, True
            if v.layer < k:  # k did not touch the path: the same version both times
                break
        elif v.layer < k:
            return _non_dir(at), _non_dir(v)
    shown = _non_dir(at)
    return shown, (shown if found and at is not None and at.layer < k else None)


def _non_dir(version: Version | None) -> Version | None:
    """The version, if it shows a path that is there and is not a directory."""
    entry = None if version is None else version.entry
    return None if entry is None or entry.kind == _DIR else version


_DIR = Kind.DIR  # looked up once: on the enum, 80 ns a lookup, in the hot loops above


def _ancestors(nodes: Iterable[Node]) -> set[Node]:
    """Every directory above any of `nodes`, the root included."""
    out: set[Node] = set()
    for node in nodes:
        parent = node.parent
        while parent is not None and parent not in out:
            out.add(parent)
            parent = parent.parent
    return out


class _DistinctSizes:
    """Per directory, the bytes of the distinct contents that paths below it show.

    A directory counts each content once, as `du` does for it: 56 hardlinks to one 256 KiB
    binary make 256 KiB in every directory above any of them. Contents only one path shows
    (the rest) roll up path by path.
    """

    __slots__ = ("_linked", "pending", "_groups")

    def __init__(self, linked: Container[Entry]):
        self._linked = linked
        # per parent directory, the bytes of contents only one path shows, not yet rolled
        # up (a hot loop adds to it directly: what add does for such a content)
        self.pending: dict[Node, int] = {}
        self._groups: dict[Entry, list[Node]] = {}  # a content hardlinks show: its paths

    def add(self, node: Node, content: Entry) -> None:
        """`node` shows `content`."""
        if content in self._linked:
            self._groups.setdefault(content, []).append(node)
        elif content.size and node.parent is not None:
            pending = self.pending
            pending[node.parent] = pending.get(node.parent, 0) + content.size

    def sizes(self) -> dict[Node, int]:
        sizes: dict[Node, int] = {}
        _roll_up(self.pending, sizes)
        for content, nodes in self._groups.items():
            for directory in _ancestors(nodes):
                sizes[directory] = sizes.get(directory, 0) + content.size
        return sizes


class FilesystemSizes:
    """Rolled-up directory sizes of the filesystem at one layer, moved layer by layer.

    Going from layer k-1 to k only applies the size deltas of fs.changes[k] to the
    ancestors of each changed path (and back again by subtracting), so switching layers
    costs what the layers changed, not a walk of the whole tree.

    A directory counts each content once (see _DistinctSizes). Only contents that
    hardlinks show at several paths need care: when a layer changes one of their paths,
    the directories above any path showing the content before and after are compared,
    and the content's size is added to those that gained it and taken from those that
    lost it.
    """

    def __init__(self, fs: FileSystem):
        self.fs = fs
        self.layer = -1
        self.sizes: dict[Node, int] = {}

    def _apply(self, k: int, sign: int) -> None:
        pending: dict[Node, int] = {}
        linked = self.fs.hardlinked
        affected: set[Entry] = set()
        dir_kind = Kind.DIR
        for node in self.fs.changes[k]:
            versions = node.versions
            parent = node.parent
            if parent is not None and len(versions) == 1:
                # A path this layer added and nothing changed since (most of a big layer's):
                # its one version against nothing below, without the general walk.
                only = versions[0]
                entry = only.entry
                if entry is None or entry.kind == dir_kind:
                    continue
                content = only.content
                if content is None:
                    size = entry.size
                elif content in linked:
                    affected.add(content)
                    continue
                else:
                    size = content.size
                if size:
                    pending[parent] = pending.get(parent, 0) + size * sign
                continue
            delta = 0
            shown_now, shown_before = _shown_around(node, k)
            for version, direction in ((shown_now, 1), (shown_before, -1)):
                if version is None:
                    continue
                content = version.content
                if content is not None and content in linked:
                    affected.add(content)
                else:
                    delta += direction * version.size
            if delta and node.parent is not None:
                pending[node.parent] = pending.get(node.parent, 0) + delta * sign
        _roll_up(pending, self.sizes)
        sizes = self.sizes
        for content in affected:
            names = linked[content]
            before = _ancestors(n for n in names if _shown(n.state_at(k - 1)) is content)
            after = _ancestors(n for n in names if _shown(n.state_at(k)) is content)
            step = content.size * sign
            for directory in after - before:
                sizes[directory] = sizes.get(directory, 0) + step
            for directory in before - after:
                sizes[directory] = sizes.get(directory, 0) - step

    def move_to(self, layer: int) -> None:
        layer = min(layer, len(self.fs.changes) - 1)
        while self.layer < layer:
            self.layer += 1
            self._apply(self.layer, +1)
        while self.layer > layer:
            self._apply(self.layer, -1)
            self.layer -= 1

    def get(self, node: Node) -> int:
        return self.sizes.get(node, 0)

    def copy(self) -> FilesystemSizes:
        other = FilesystemSizes(self.fs)
        other.layer = self.layer
        other.sizes = dict(self.sizes)
        return other


class LayerSummary:
    """What one layer changed, summed up once: the directories above its changes, the file
    entries it ships and frees, and per directory the distinct bytes of each below it."""

    __slots__ = ("context", "shipped", "freed", "live", "dead")

    def __init__(self, fs: FileSystem, k: int, check: Check | None = None):
        changes = fs.changes[k]
        context: set[Node] = set()
        shipped: set[Entry] = set()
        freed: set[Entry] = set()
        # A content counts where this layer ships it (or frees it), as the header counts.
        # A file's own bytes are counted at once, in this one pass over the changes; a
        # hardlink's content only once every change is seen: it may be shipped later on.
        linked = fs.hardlinked
        live, dead = _DistinctSizes(linked), _DistinctSizes(linked)
        add_live, add_dead = live.add, dead.add
        live_pending = live.pending  # a file's own bytes go straight in (add, inlined)
        linked_live: list[tuple[Node, Entry]] = []
        linked_dead: list[tuple[Node, Entry]] = []
        deleted_change, file_kind, dir_kind = Change.DELETED, Kind.FILE, Kind.DIR
        for i, (node, change) in enumerate(changes.items()):
            if check is not None and not i % CHECK_EVERY:
                check()
            directory = node.parent
            parent = directory
            while parent is not None and parent not in context:
                context.add(parent)
                parent = parent.parent
            deleted = change is deleted_change
            # what the path showed before a deletion, else after the layer (state_at,
            # inlined: this loop runs once per change, 150,000 times on a big layer; its
            # last version, the one a layer's addition has, is looked at first)
            upto = k - 1 if deleted else k
            versions = node.versions
            version = versions[-1]  # (a changed path has one at least)
            if version.layer > upto:
                for version in reversed(versions):
                    if version.layer <= upto:
                        break
                else:
                    continue  # none yet
            entry, content = version.entry, version.content
            if entry is None or content is None:
                continue
            kind = entry.kind
            if kind == file_kind:
                if deleted:
                    freed.add(entry)
                    if content is entry:
                        add_dead(node, entry)
                        continue
                else:
                    shipped.add(entry)
                    if content is entry and entry not in linked:
                        if entry.size and directory is not None:
                            live_pending[directory] = live_pending.get(directory, 0) + entry.size
                        continue
            elif kind == dir_kind:
                continue
            (linked_dead if deleted else linked_live).append((node, content))
        for node, content in linked_live:
            if content in shipped:
                add_live(node, content)
        for node, content in linked_dead:
            if content in freed:
                add_dead(node, content)
        self.context = context
        self.shipped = shipped
        self.freed = freed
        self.live = live.sizes()
        self.dead = dead.sizes()


SNAPSHOT_BUDGET = 2_000_000  # directory sizes kept in all the per-layer snapshots together


class TreeCache:
    """The per-layer summaries of one filesystem and its directory sizes at each layer,
    computed once: in the load's worker thread (prepare), or on first use.

    Directory sizes are kept as a snapshot per layer when they fit SNAPSHOT_BUDGET, else
    every few layers; a layer between snapshots moves from the one below by deltas.
    """

    def __init__(self, fs: FileSystem):
        self.fs = fs
        self._layers: list[LayerSummary | None] = [None] * len(fs.changes)
        self._snapshots: dict[int, FilesystemSizes] = {}

    def _current(self) -> None:
        """A FileSystem still being built (tests do) may have gained layers: start over."""
        if len(self._layers) != len(self.fs.changes):
            self._layers = [None] * len(self.fs.changes)
            self._snapshots = {}

    def layer(self, k: int) -> LayerSummary:
        self._current()
        summary = self._layers[k]
        if summary is None:
            summary = self._layers[k] = LayerSummary(self.fs, k)
        return summary

    def sizes_at(self, k: int) -> FilesystemSizes:
        """Directory sizes at layer k. Shared when a snapshot: do not move it elsewhere."""
        self._current()
        if not self._snapshots:
            self._take_snapshots(None)
        exact = self._snapshots.get(k)
        if exact is not None:
            return exact
        below = max((s for s in self._snapshots if s <= k), default=None)
        sizes = self._snapshots[below].copy() if below is not None else FilesystemSizes(self.fs)
        sizes.move_to(k)
        return sizes

    def _take_snapshots(self, check: Check | None) -> None:
        layers = len(self.fs.changes)
        sizes = FilesystemSizes(self.fs)
        snapshots: dict[int, FilesystemSizes] = {}
        stride = 1
        for k in range(layers):
            if check is not None:
                check()
            sizes.move_to(k)
            if k == 0:  # the base layer holds most directories: budget from it
                stride = max(1, -(-len(sizes.sizes) * layers // SNAPSHOT_BUDGET))
            if k % stride == 0 or k == layers - 1:
                snapshots[k] = sizes.copy()
        self._snapshots = snapshots

    def prepare(self, check: Check | None = None) -> None:
        """Compute everything now (a worker thread does this after a load)."""
        self._current()
        for k, summary in enumerate(self._layers):
            if summary is None:
                self._layers[k] = LayerSummary(self.fs, k, check)
        if not self._snapshots:
            self._take_snapshots(check)


_CACHES: WeakKeyDictionary[FileSystem, TreeCache] = WeakKeyDictionary()


def tree_cache(fs: FileSystem) -> TreeCache:
    cache = _CACHES.get(fs)
    if cache is None:
        cache = _CACHES[fs] = TreeCache(fs)
    return cache


def prepare(fs: FileSystem, check: Check | None = None) -> None:
    """Sum up every layer of `fs` now, so that showing one costs nothing on the GUI thread."""
    tree_cache(fs).prepare(check)


class LayerView:
    """Visibility, state and sizes of paths for one (filesystem, layer, mode)."""

    def __init__(
        self,
        fs: FileSystem,
        layer: int,
        mode: TreeMode,
        fs_sizes: FilesystemSizes | None = None,
    ):
        self.fs = fs
        self.layer = layer
        self.mode = mode
        valid = 0 <= layer < len(fs.changes)
        self.changes: dict[Node, Change] = fs.changes[layer] if valid else {}
        self._summary = tree_cache(fs).layer(layer) if valid else None
        self._sizes: dict[Node, int] = {}
        self._fs_sizes = fs_sizes
        if mode is TreeMode.FILESYSTEM and fs_sizes is not None:
            fs_sizes.move_to(layer)

    # -- which paths show ----------------------------------------------------------------

    @property
    def context(self) -> set[Node]:
        """CHANGES mode: the directories above changed paths (shown to give them a place)."""
        return self._summary.context if self._summary is not None else set()

    def visible(self, node: Node) -> bool:
        if node in self.changes:
            return True
        if self.mode is TreeMode.CHANGES:
            return node in self.context
        return _present(node, self.layer)

    def status(self, node: Node) -> Change:
        return self.changes.get(node, Change.UNCHANGED)

    def changed_below(self, node: Node) -> bool:
        """FILESYSTEM mode: an unchanged directory holding paths this layer changed (a
        collapsed folder would hide them; dive marks such folders too)."""
        return (
            self.mode is TreeMode.FILESYSTEM
            and node not in self.changes
            and node.parent is not None
            and node in self.context
        )

    def version(self, node: Node) -> Version | None:
        """The version to display: for a path this layer deleted, what it deleted."""
        if self.changes.get(node) is Change.DELETED:
            return node.state_at(self.layer - 1)
        return node.state_at(self.layer)

    def is_dir(self, node: Node) -> bool:
        if node.parent is None:
            return True
        v = self.version(node)
        return v is not None and v.entry is not None and v.entry.kind == Kind.DIR

    def may_have_children(self, node: Node) -> bool:
        """Cheap answer for the expand arrow; exact except for very odd trees."""
        if not node.children:
            return False
        if self.mode is TreeMode.CHANGES:
            return node.parent is None or node in self.context
        if not self.is_dir(node):
            return False
        return any(self.visible(child) for child in node.children.values())

    def children(self, node: Node) -> list[Node]:
        if not node.children:
            return []
        if self.mode is TreeMode.CHANGES:
            context, changes = self.context, self.changes
            return [c for c in node.children.values() if c in changes or c in context]
        layer, changes = self.layer, self.changes
        return [c for c in node.children.values() if c in changes or _present(c, layer)]

    # -- sizes ---------------------------------------------------------------------------

    def size(self, node: Node) -> int:
        """A file's size (a hardlink's is its content's); a directory's size of the distinct
        contents shown below it, each counted once as `du` counts it.

        FILESYSTEM mode: a live directory counts what is present below it, a deleted one
        what it deleted. CHANGES mode counts what the layer ships (live) or frees (deleted)
        below it: the bytes its header counts, so the tree, the header and `layerscope
        report` agree; a hardlink to content a lower layer shipped ships no bytes.
        """
        cached = self._sizes.get(node)
        if cached is not None:
            return cached
        if not self.is_dir(node):
            return _file_size(self.version(node))
        deleted = self.status(node) is Change.DELETED
        if self.mode is TreeMode.CHANGES:
            live, dead = self._change_sizes()
            total = (dead if deleted else live).get(node, 0)
        elif not deleted and self._fs_sizes is not None and self._fs_sizes.layer == self.layer:
            total = self._fs_sizes.get(node)
        else:
            total = self._du(node, deleted)
        self._sizes[node] = total
        return total

    def ships_bytes(self, node: Node) -> bool:
        """False for a CHANGES-mode row that only names content another layer shipped:
        a hardlink this layer adds (or deletes) to a file a lower layer shipped (or kept)."""
        if self.mode is not TreeMode.CHANGES or self.is_dir(node):
            return True
        content = _shown(self.version(node))
        if content is None:
            return True
        shipped, freed = self._layer_contents()
        return content in (freed if self.status(node) is Change.DELETED else shipped)

    def deleted_below(self, node: Node) -> int:
        """CHANGES mode: bytes of the files this layer deleted below a live directory."""
        if self.mode is not TreeMode.CHANGES:
            return 0
        return self._change_sizes()[1].get(node, 0)

    def _du(self, top: Node, deleted: bool) -> int:
        """Distinct contents below `top` that are present (or that this layer deleted)."""
        seen: set[int] = set()
        total = 0
        stack = [top]
        while stack:
            for child in self.children(stack.pop()):
                if (self.status(child) is Change.DELETED) != deleted:
                    continue
                version = self.version(child)
                content = _shown(version)
                if content is None:
                    total += _file_size(version)
                elif id(content) not in seen:
                    seen.add(id(content))
                    total += content.size
                if child.children:
                    stack.append(child)
        return total

    def _layer_contents(self) -> tuple[set[Entry], set[Entry]]:
        """CHANGES mode: the file entries this layer ships, and those its deletions free
        (a deleted hardlink frees nothing unless the file it names goes too)."""
        if self._summary is None:
            return set(), set()
        return self._summary.shipped, self._summary.freed

    def _change_sizes(self) -> tuple[dict[Node, int], dict[Node, int]]:
        """CHANGES mode: per directory, the distinct bytes shipped and freed below it."""
        if self._summary is None:
            return {}, {}
        return self._summary.live, self._summary.dead

    # -- filtering -----------------------------------------------------------------------

    def matching(self, matcher: Matcher | None, shown: Iterable[Change]) -> set[Node]:
        """Paths that pass the filter and the change toggles, plus their ancestors.

        One walk over the visible tree carrying the path string, so no path is rebuilt
        from its parents; in CHANGES mode the walk stays within the changed subtree.
        """
        shown_set = frozenset(shown)
        keep: set[Node] = set()
        stack: list[tuple[Node, str]] = [(self.fs.root, "")]
        changes, layer, unchanged = self.changes, self.layer, Change.UNCHANGED
        context = self.context if self.mode is TreeMode.CHANGES else None
        while stack:
            node, path = stack.pop()
            for name, child in node.children.items():  # type: ignore[union-attr]
                status = changes.get(child)
                if status is None:
                    if context is not None:
                        if child not in context:
                            continue
                    elif not _present(child, layer):
                        continue
                    status = unchanged
                child_path = f"{path}/{name}"
                if status in shown_set and (matcher is None or matcher(child_path, name)):
                    n: Node | None = child
                    while n is not None and n not in keep:
                        keep.add(n)
                        n = n.parent
                if child.children:
                    stack.append((child, child_path))
        return keep


class FilterMatches:
    """Every path a filter matches, in any layer, and how many each layer's view shows.

    One walk over every path the image ever had (the path string carried down, never
    rebuilt); the layers table then shows a count per layer, and each layer's tree keeps
    its matches and their directories without walking again.
    """

    def __init__(self, fs: FileSystem, matcher: Matcher, check: Check | None = None):
        self.fs = fs
        nodes: list[Node] = []
        stack: list[tuple[Node, str]] = [(fs.root, "")]
        walked = 0
        while stack:
            node, path = stack.pop()
            for name, child in node.children.items():  # type: ignore[union-attr]
                child_path = f"{path}/{name}"
                if matcher(child_path, name):
                    nodes.append(child)
                if child.children:
                    stack.append((child, child_path))
            walked += 1
            if check is not None and not walked % CHECK_EVERY:
                check()
        self.nodes = nodes
        self._counts: dict[TreeMode, list[int]] = {}

    def counts(self, mode: TreeMode) -> list[int]:
        """Per layer: the matching paths that layer's tree shows in `mode` (not counting
        the directories shown only to hold them)."""
        cached = self._counts.get(mode)
        if cached is not None:
            return cached
        layers = len(self.fs.changes)
        counts = [0] * (layers + 1)  # a difference array: +1 where shown from, -1 where not
        changes = self.fs.changes
        for node in self.nodes:
            touched = sorted({v.layer for v in node.versions if 0 <= v.layer < layers})
            if mode is TreeMode.CHANGES:
                for k in touched:
                    if node in changes[k]:
                        counts[k] += 1
                        counts[k + 1] -= 1
                continue
            # FILESYSTEM: shown while present, and by the layer that deletes it; between
            # the layers that touch it, a path stays as it was
            for i, k in enumerate(touched):
                end = touched[i + 1] if i + 1 < len(touched) else layers
                if node.state_at(k) is not None:
                    counts[k] += 1
                    counts[end] -= 1
                elif changes[k].get(node) is Change.DELETED:
                    counts[k] += 1
                    counts[k + 1] -= 1
        running = 0
        out = []
        for k in range(layers):
            running += counts[k]
            out.append(running)
        self._counts[mode] = out
        return out

    def keep(self, view: LayerView, shown: Iterable[Change]) -> set[Node]:
        """The matches `view` shows with a change in `shown`, and their directories."""
        shown_set = frozenset(shown)
        keep: set[Node] = set()
        for node in self.nodes:
            if node in keep or not view.visible(node) or view.status(node) not in shown_set:
                continue
            n: Node | None = node
            while n is not None and n not in keep:
                keep.add(n)
                n = n.parent
        return keep

    def shown_in(self, view: LayerView, shown: Iterable[Change]) -> int:
        """How many matches `view` shows as themselves: what the layer changed (CHANGES
        mode; a directory shown only to hold changes is not one), or what is there."""
        shown_set = frozenset(shown)
        changes_only = view.mode is TreeMode.CHANGES
        return sum(
            1
            for node in self.nodes
            if (node in view.changes if changes_only else view.visible(node))
            and view.status(node) in shown_set
        )
