"""dive's efficiency figures, reproduced exactly so teams keep their CI thresholds.

This mirrors dive 0.13 (`filetree.Efficiency`, `image.Analyze`) including its quirks, which
is the point: the `waste` block is the truth, this block is what dive would have printed.

- Each layer is a tree of its own tar paths; intermediate directories without a tar entry
  are implied nodes of size 0 that are *not* directories. `.wh..wh.*` names add their
  parents only (opaque markers are otherwise ignored).
- Every leaf of every layer tree is an occurrence of its path with the tar header size;
  a whiteout leaf `.wh.X` counts the summed sizes of X's subtree in the stack of the layers
  below if X is a directory there, else 0. If X is not in that stack, dive aborts the rest
  of that layer's walk (children first, names sorted).
- The stack dive consults is tree0, then trees 0..k-1 stacked onto it, where stacking
  replaces a node's data (even with an implied node's empty data) and keeps its children.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field

from layerscope.model.entry import Entry, Kind
from layerscope.model.filesystem import CHECK_EVERY, Check
from layerscope.model.image import Image

_WH = ".wh."
_WHWH = ".wh..wh.."


class _DNode:
    __slots__ = ("name", "path", "children", "size", "is_dir", "parent")

    def __init__(
        self, name: str, path: str, parent: _DNode | None, size: int = 0, is_dir: bool = False
    ):
        self.name = name
        self.path = path  # as dive builds it: "/a/.wh.b" for a whiteout node
        self.parent = parent
        self.children: dict[str, _DNode] = {}
        self.size = size
        self.is_dir = is_dir

    def dive_path(self) -> str:
        """dive's FileNode.Path(): a whiteout prefix is fictitious on the node itself."""
        if self.name.startswith(_WH):
            head = self.path[: len(self.path) - len(self.name)]
            return head + self.name[len(_WH) :]
        return self.path


class _Tree:
    """A dive FileTree with a path index, so adding a path costs a dict lookup, not a walk."""

    def __init__(self) -> None:
        self.root = _DNode("", "", None)
        self.index: dict[str, _DNode] = {"": self.root}

    def node(self, path: str) -> _DNode | None:
        return self.index.get(path)

    def add(self, path: str, size: int, is_dir: bool) -> None:
        """dive's AddPath: implied parents get empty data; `.wh..wh.*` names stop the walk."""
        node = self.index.get(path)
        if node is None:
            head, _, name = path.rpartition("/")
            parent = self.index.get(head)
            if parent is None:
                parent = self._implied(head)
                if parent is None:
                    return
            if name.startswith(_WHWH):
                return
            node = _DNode(name, path, parent)
            parent.children[name] = node
            self.index[path] = node
        node.size = size
        node.is_dir = is_dir

    def _implied(self, path: str) -> _DNode | None:
        # A loop, not recursion: paths can be deeper than Python's recursion limit when
        # max_path_depth is raised.
        missing: list[str] = []
        while path not in self.index:
            missing.append(path)
            path = path.rpartition("/")[0]
        parent = self.index[path]
        for implied in reversed(missing):  # top down
            name = implied.rpartition("/")[2]
            if name.startswith(_WHWH):
                return None
            node = _DNode(name, implied, parent)
            parent.children[name] = node
            self.index[implied] = node
            parent = node
        return parent

    def remove(self, path: str) -> None:
        node = self.index.get(path)
        if node is None or node.parent is None:
            return
        del node.parent.children[node.name]
        stack = [node]
        while stack:
            n = stack.pop()
            self.index.pop(n.path, None)
            stack.extend(n.children.values())


def _layer_tree(entries: list[Entry], check: Check | None) -> _Tree:
    tree = _Tree()
    for i, e in enumerate(entries):
        if check is not None and not i % CHECK_EVERY:
            check()
        path = posixpath.normpath("/" + e.raw_name) if e.raw_name is not None else e.path
        if path == "/":
            continue
        tree.add(path, e.size, e.kind == Kind.DIR)
    return tree


def _stack_onto(lower: _Tree, upper: _Tree) -> None:
    """dive's FileTree.Stack: upper's whiteouts remove, every other upper node is (re)set.

    dive visits upper children first in sorted order; a whiteout `.wh.X` sorts before `X`
    for every name not starting with a character below '.', so removing first and then
    adding gives the same tree.
    """
    nodes = list(upper.index.values())
    for node in nodes:
        if node.name.startswith(_WH):
            lower.remove(node.dive_path())
    for node in nodes:
        if node.parent is not None and not node.name.startswith(_WH):
            lower.add(node.path, node.size, node.is_dir)


def _copy(tree: _Tree) -> _Tree:
    out = _Tree()
    for path, node in tree.index.items():
        if node.parent is not None:
            out.add(path, node.size, node.is_dir)
    return out


def _subtree_size(node: _DNode) -> int:
    total = 0
    stack = [node]
    while stack:
        n = stack.pop()
        total += n.size
        stack.extend(n.children.values())
    return total


def _leaf_key(node: _DNode) -> list[str]:
    return node.path.split("/")


@dataclass
class DiveFile:
    path: str
    count: int
    wasted_bytes: int  # dive's cumulative size of every occurrence


@dataclass
class DiveFigures:
    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float | None  # a ratio; None where dive prints NaN (or Inf)
    size_bytes: int
    user_size_bytes: int
    layer_size_bytes: list[int]
    inefficient_files: list[DiveFile] = field(default_factory=list)


def _occurrences(leaves: list[_DNode], stacked: _Tree) -> list[tuple[str, int]] | None:
    """Each leaf's (path, size); None when a whiteout names nothing below (dive aborts)."""
    out: list[tuple[str, int]] = []
    for leaf in leaves:
        if leaf.name.startswith(_WH):
            path = leaf.dive_path()
            below = stacked.node(path)
            if below is None:
                return None
            out.append((path, _subtree_size(below) if below.is_dir else 0))
        else:
            out.append((leaf.path, leaf.size))
    return out


def dive_figures(
    image: Image, check: Check | None = None, ignore: Callable[[str], bool] | None = None
) -> DiveFigures:
    """dive's figures. `check`, if given, is called every CHECK_EVERY entries; it cancels
    by raising. `ignore(path)` drops every occurrence of a path (`ci --ignore`): efficiency,
    wasted_bytes and the inefficient files are dive's arithmetic over the paths left; the
    sizes (and so user_wasted_percent's denominator) stay as they are. A directory whiteout
    is an occurrence of the directory's own path.
    """
    trees = [_layer_tree(layer.entries, check) for layer in image.layers]
    stats: dict[str, list[int]] = {}  # path -> [cumulative, minimum, occurrences]
    # The stack dive consults for layer k is tree0, then trees 0..k-1 stacked onto it.
    stacked = _copy(trees[0]) if trees else _Tree()
    for index, tree in enumerate(trees):
        if index >= 1:
            if check is not None:
                check()
            _stack_onto(stacked, trees[index - 1])
        leaves = [n for n in tree.index.values() if not n.children and n.parent is not None]
        found = _occurrences(leaves, stacked)
        if found is None:
            # dive's visitor returns an error at that whiteout and the rest of this layer's
            # walk (children first, names sorted) is skipped: replay it in that order.
            leaves.sort(key=_leaf_key)
            found = []
            for leaf in leaves:
                one = _occurrences([leaf], stacked)
                if one is None:
                    break
                found.extend(one)
        if check is not None:
            check()
        for path, size in found:
            st = stats.get(path)
            if st is None:
                stats[path] = [size, size, 1]
            else:
                st[0] += size
                if size < st[1]:
                    st[1] = size
                st[2] += 1

    if ignore is not None:
        stats = {path: st for path, st in stats.items() if not ignore(path)}
    minimum = sum(s[1] for s in stats.values())
    discovered = sum(s[0] for s in stats.values())
    efficiency = minimum / discovered if discovered else 1.0
    inefficient = [DiveFile(p, s[2], s[0]) for p, s in stats.items() if s[2] >= 2]
    inefficient.sort(key=lambda f: (-f.wasted_bytes, f.path))
    wasted = sum(f.wasted_bytes for f in inefficient)
    layer_sizes = [layer.dive_size for layer in image.layers]
    size = sum(layer_sizes)
    user_size = size - (layer_sizes[0] if layer_sizes else 0)
    ratio: float | None
    if user_size:
        ratio = wasted / user_size
    else:
        ratio = None  # dive divides by zero: NaN or +Inf
    if ratio is not None and (math.isnan(ratio) or math.isinf(ratio)):
        ratio = None
    return DiveFigures(efficiency, wasted, ratio, size, user_size, layer_sizes, inefficient)
