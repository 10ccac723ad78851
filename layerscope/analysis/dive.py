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
from dataclasses import dataclass, field

from layerscope.model.entry import Entry, Kind
from layerscope.model.image import Image

_WH = ".wh."
_WHWH = ".wh..wh.."


class _DNode:
    __slots__ = ("name", "children", "size", "is_dir", "parent")

    def __init__(self, name: str, parent: _DNode | None, size: int = 0, is_dir: bool = False):
        self.name = name
        self.parent = parent
        self.children: dict[str, _DNode] = {}
        self.size = size
        self.is_dir = is_dir

    def path(self) -> str:
        parts: list[str] = []
        node: _DNode | None = self
        while node is not None and node.parent is not None:
            name = node.name
            if node is self and name.startswith(_WH):
                name = name[len(_WH) :]  # whiteout prefixes are fictitious on leaves
            parts.append(name)
            node = node.parent
        return "/" + "/".join(reversed(parts))


def _add_path(root: _DNode, names: list[str], size: int, is_dir: bool) -> None:
    node = root
    last = len(names) - 1
    for i, name in enumerate(names):
        child = node.children.get(name)
        if child is None:
            if name.startswith(_WHWH):
                return
            child = _DNode(name, node)
            node.children[name] = child
        node = child
        if i == last:
            node.size = size
            node.is_dir = is_dir


def _get(root: _DNode, names: list[str]) -> _DNode | None:
    node = root
    for name in names:
        child = node.children.get(name)
        if child is None:
            return None
        node = child
    return node


def _names(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def _layer_tree(entries: list[Entry]) -> _DNode:
    root = _DNode("", None)
    for e in entries:
        if e.raw_name is not None:
            path = posixpath.normpath("/" + e.raw_name)
        else:
            path = e.path
        _add_path(root, _names(path), e.size, e.kind == Kind.DIR)
    return root


def _walk_children_first(node: _DNode, visit_leaf: list[_DNode]) -> None:
    """Collect leaves in dive's order: depth first, children first, names sorted."""
    stack: list[tuple[_DNode, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if not current.children:
            if current.parent is not None:
                visit_leaf.append(current)
            continue
        if not expanded:
            stack.append((current, True))
            for name in sorted(current.children, reverse=True):
                stack.append((current.children[name], False))


def _stack_onto(lower: _DNode, upper: _DNode) -> None:
    """dive's FileTree.Stack: visit upper children first, sorted; remove whiteouts, add the rest."""
    order: list[_DNode] = []
    stack: list[tuple[_DNode, bool]] = [(upper, False)]
    while stack:
        current, expanded = stack.pop()
        if current.children and not expanded:
            stack.append((current, True))
            for name in sorted(current.children, reverse=True):
                stack.append((current.children[name], False))
            continue
        if current.parent is not None:
            order.append(current)
    for node in order:
        names = _names(node.path())
        if node.name.startswith(_WH):
            target = _get(lower, names)
            if target is not None and target.parent is not None:
                del target.parent.children[target.name]
        else:
            _add_path(lower, names, node.size, node.is_dir)


def _copy(node: _DNode, parent: _DNode | None = None) -> _DNode:
    out = _DNode(node.name, parent, node.size, node.is_dir)
    for name, child in node.children.items():
        out.children[name] = _copy(child, out)
    return out


def _subtree_size(node: _DNode) -> int:
    total = 0
    stack = [node]
    while stack:
        n = stack.pop()
        total += n.size
        stack.extend(n.children.values())
    return total


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


def dive_figures(image: Image) -> DiveFigures:
    trees = [_layer_tree(layer.entries) for layer in image.layers]
    stats: dict[str, list[int]] = {}  # path -> [cumulative, minimum, occurrences]
    stacked = _copy(trees[0]) if trees else _DNode("", None)
    for index, tree in enumerate(trees):
        if index >= 1:
            _stack_onto(stacked, trees[index - 1])
        leaves: list[_DNode] = []
        _walk_children_first(tree, leaves)
        for leaf in leaves:
            path = leaf.path()
            if leaf.name.startswith(_WH):
                below = _get(stacked, _names(path))
                if below is None:
                    break  # dive's visitor returns an error: the rest of this layer is skipped
                size = _subtree_size(below) if below.is_dir else 0
            else:
                size = leaf.size
            s = stats.get(path)
            if s is None:
                stats[path] = [size, size, 1]
            else:
                s[0] += size
                if size < s[1]:
                    s[1] = size
                s[2] += 1

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
