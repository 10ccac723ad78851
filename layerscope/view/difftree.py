"""A diff (analysis/diff.py) as a tree of directories, for the compare view. No Qt here.

Every directory above a change is a node carrying the size delta of the changes below it,
so sorting by delta answers "what made the image bigger" one level at a time. Children
are sorted lazily, on first look, by the order the view asks for.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from layerscope.analysis.diff import ADDED, CHANGED, REMOVED, FsDiff, PathDiff
from layerscope.view.tree import make_matcher


class DiffSort(Enum):
    NAME = "name"
    DELTA = "delta"  # by absolute size delta, largest first
    CHANGE = "change"


class DiffNode:
    __slots__ = ("name", "path", "parent", "diff", "delta", "children", "_sorted", "row")

    def __init__(self, name: str, path: str, parent: DiffNode | None):
        self.name = name
        self.path = path
        self.parent = parent
        self.diff: PathDiff | None = None  # None: a directory shown only to hold changes
        self.delta = 0  # the size delta of this path and everything below it
        self.children: dict[str, DiffNode] = {}
        self._sorted: tuple[DiffSort, bool, list[DiffNode]] | None = None
        self.row = 0  # position among its parent's sorted children (kept by the view)

    @property
    def change(self) -> str | None:
        return None if self.diff is None else self.diff.change

    def sorted_children(self, order: DiffSort, descending: bool) -> list[DiffNode]:
        cached = self._sorted
        if cached is not None and cached[0] is order and cached[1] is descending:
            return cached[2]
        kids = list(self.children.values())
        key: Callable[[DiffNode], object]
        if order is DiffSort.DELTA:
            key = lambda n: (abs(n.delta), n.delta, n.name)  # noqa: E731
        elif order is DiffSort.CHANGE:
            key = lambda n: (_CHANGE_ORDER.get(n.change or "", 9), n.name)  # noqa: E731
        else:
            key = lambda n: (not n.children, n.name)  # noqa: E731 - folders first
        kids.sort(key=key, reverse=descending)
        for row, kid in enumerate(kids):
            kid.row = row
        self._sorted = (order, descending, kids)
        return kids


_CHANGE_ORDER = {ADDED: 0, REMOVED: 1, CHANGED: 2}


class DiffTree:
    """The changes of one diff under a root, optionally filtered by a path pattern."""

    def __init__(self, diff: FsDiff, text_filter: str = "", kinds: frozenset[str] | None = None):
        self.diff = diff
        self.root = DiffNode("", "/", None)
        self.count = 0  # changes shown
        matcher = make_matcher(text_filter)
        for change in diff.changes:
            if kinds is not None and change.change not in kinds:
                continue
            name = change.path.rsplit("/", 1)[1]
            if matcher is not None and not matcher(change.path, name):
                continue
            node = self._node(change.path)
            node.diff = change
            self.count += 1
            delta = change.delta
            if delta:
                n: DiffNode | None = node
                while n is not None:
                    n.delta += delta
                    n = n.parent

    def _node(self, path: str) -> DiffNode:
        node = self.root
        built = ""
        for part in path.strip("/").split("/"):
            built += "/" + part
            child = node.children.get(part)
            if child is None:
                child = DiffNode(part, built, node)
                node.children[part] = child
            node = child
        return node

    def find(self, path: str) -> DiffNode | None:
        node = self.root
        for part in path.strip("/").split("/"):
            if not part:
                continue
            child = node.children.get(part)
            if child is None:
                return None
            node = child
        return node


__all__ = ["ADDED", "CHANGED", "REMOVED", "DiffNode", "DiffSort", "DiffTree"]
