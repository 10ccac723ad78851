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
from collections.abc import Callable, Iterable
from enum import Enum

from layerscope.model.entry import Kind
from layerscope.model.filesystem import Change, FileSystem, Node, Version

Matcher = Callable[[str, str], bool]  # (full path, name) -> matches


class TreeMode(Enum):
    CHANGES = "changes"
    FILESYSTEM = "filesystem"

    @property
    def label(self) -> str:
        return "Layer changes" if self is TreeMode.CHANGES else "Filesystem at layer"


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
    """Bytes a version contributes to its directory: files and hardlinks, not directories."""
    if version is None or version.entry is None or version.entry.kind == Kind.DIR:
        return 0
    return version.size


class FilesystemSizes:
    """Rolled-up directory sizes of the filesystem at one layer, moved layer by layer.

    Going from layer k-1 to k only applies the size deltas of fs.changes[k] to the
    ancestors of each changed path (and back again by subtracting), so switching layers
    costs what the layers changed, not a walk of the whole tree.
    """

    def __init__(self, fs: FileSystem):
        self.fs = fs
        self.layer = -1
        self.sizes: dict[Node, int] = {}

    def _apply(self, k: int, sign: int) -> None:
        pending: dict[Node, int] = {}
        for node in self.fs.changes[k]:
            delta = _file_size(node.state_at(k)) - _file_size(node.state_at(k - 1))
            if delta and node.parent is not None:
                pending[node.parent] = pending.get(node.parent, 0) + delta * sign
        _roll_up(pending, self.sizes)

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
        self.changes: dict[Node, Change] = fs.changes[layer] if 0 <= layer < len(fs.changes) else {}
        self._context: set[Node] | None = None
        self._sizes: dict[Node, int] = {}
        self._live_dead: tuple[dict[Node, int], dict[Node, int]] | None = None
        self._fs_sizes = fs_sizes
        if mode is TreeMode.FILESYSTEM and fs_sizes is not None:
            fs_sizes.move_to(layer)

    # -- which paths show ----------------------------------------------------------------

    @property
    def context(self) -> set[Node]:
        """CHANGES mode: the directories above changed paths (shown to give them a place)."""
        if self._context is None:
            context: set[Node] = set()
            for node in self.changes:
                parent = node.parent
                while parent is not None and parent not in context:
                    context.add(parent)
                    parent = parent.parent
            self._context = context
        return self._context

    def visible(self, node: Node) -> bool:
        if node in self.changes:
            return True
        if self.mode is TreeMode.CHANGES:
            return node in self.context
        return _present(node, self.layer)

    def status(self, node: Node) -> Change:
        return self.changes.get(node, Change.UNCHANGED)

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
        """A file's size; a directory's rolled-up size of the files shown below it.

        A deleted directory counts what it deleted; a live one counts its live files.
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
            total = 0
            for child in self.children(node):
                if (self.status(child) is Change.DELETED) == deleted:
                    total += self.size(child)
        self._sizes[node] = total
        return total

    def deleted_below(self, node: Node) -> int:
        """CHANGES mode: bytes of the files this layer deleted below a live directory."""
        if self.mode is not TreeMode.CHANGES:
            return 0
        return self._change_sizes()[1].get(node, 0)

    def _change_sizes(self) -> tuple[dict[Node, int], dict[Node, int]]:
        """CHANGES mode: per directory, bytes of the live and of the deleted files below."""
        if self._live_dead is None:
            live: dict[Node, int] = {}
            dead: dict[Node, int] = {}
            pending_live: dict[Node, int] = {}
            pending_dead: dict[Node, int] = {}
            k = self.layer
            for node, change in self.changes.items():
                if node.parent is None:
                    continue
                if change is Change.DELETED:
                    size, pending = _file_size(node.state_at(k - 1)), pending_dead
                else:
                    size, pending = _file_size(node.state_at(k)), pending_live
                if size:
                    pending[node.parent] = pending.get(node.parent, 0) + size
            _roll_up(pending_live, live)
            _roll_up(pending_dead, dead)
            self._live_dead = (live, dead)
        return self._live_dead

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
