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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import filterfalse
from typing import Any

from layerscope.analysis.columns import reduce_with_columns
from layerscope.model.entry import Entry, EntryTable, Kind
from layerscope.model.filesystem import CHECK_EVERY, Check
from layerscope.model.image import Image, Layer

_WH = ".wh."
_DIR = int(Kind.DIR)  # (an int: its __eq__ is int's, in C)
_WHWH = ".wh..wh.."


class _Tree:
    """A dive FileTree as dicts (a million paths cost a dict entry each, not an object each).

    A node is its path ("" for the root, "/a/.wh.b" for a whiteout node, as dive builds
    them): `size` holds every node's size in creation order, `dirs` the directories, `kids`
    each parent's children in creation order.
    """

    __slots__ = ("size", "dirs", "kids")

    def __init__(self) -> None:
        self.size: dict[str, int] = {"": 0}
        self.dirs: set[str] = set()
        self.kids: dict[str, dict[str, None]] = {}

    def add(self, path: str, size: int, is_dir: bool) -> None:
        """dive's AddPath: implied parents get empty data; `.wh..wh.*` names stop the walk."""
        sizes = self.size
        if path not in sizes:
            head, _, name = path.rpartition("/")
            if head not in sizes and not self._implied(head):
                return
            if name.startswith(_WHWH):
                return
            self._attach(head, path)
        sizes[path] = size
        if is_dir:
            self.dirs.add(path)
        else:
            self.dirs.discard(path)

    def add_all(self, items: Iterable[tuple[str, int, bool]]) -> None:
        """add() for each (path, size, is_dir): the usual case (a new path under a parent in
        the tree, or a path set again) inlined, every other through add(). A layer's
        paths and a stack's are hundreds of thousands of calls."""
        sizes, dirs, kids = self.size, self.dirs, self.kids
        # A tar lists siblings together: the parent of the path before, and its children,
        # are kept (a string compare, where looking the new head up hashed it twice).
        last_head: str | None = None
        siblings: dict[str, None] = {}
        for path, size, is_dir in items:
            if path in sizes:  # set again
                sizes[path] = size
                if is_dir:
                    dirs.add(path)
                else:
                    dirs.discard(path)
                continue
            head, _, name = path.rpartition("/")
            if _WHWH in name and name.startswith(_WHWH):
                self.add(path, size, is_dir)  # not added (its parents may be implied)
                continue
            if head != last_head:
                if head not in sizes:
                    self.add(path, size, is_dir)  # its parent implied
                    continue
                found = kids.get(head)
                if found is None:
                    found = kids[head] = {}
                last_head, siblings = head, found
            siblings[path] = None
            sizes[path] = size
            if is_dir:  # (a new path is in no set yet: nothing to discard)
                dirs.add(path)

    def _attach(self, head: str, path: str) -> None:
        kids = self.kids.get(head)
        if kids is None:
            kids = self.kids[head] = {}
        kids[path] = None

    def _implied(self, path: str) -> bool:
        # A loop, not recursion: paths can be deeper than Python's recursion limit when
        # max_path_depth is raised.
        missing: list[str] = []
        while path not in self.size:
            missing.append(path)
            path = path.rpartition("/")[0]
        for implied in reversed(missing):  # top down
            head, _, name = implied.rpartition("/")
            if name.startswith(_WHWH):
                return False
            self._attach(head, implied)
            self.size[implied] = 0
        return True

    def remove(self, path: str) -> None:
        if not path or path not in self.size:
            return
        head = path.rpartition("/")[0]
        siblings = self.kids[head]
        del siblings[path]
        if not siblings:
            del self.kids[head]  # a leaf again (see leaves)
        stack = [path]
        while stack:
            p = stack.pop()
            del self.size[p]
            self.dirs.discard(p)
            kids = self.kids.pop(p, None)
            if kids:
                stack.extend(kids)

    def subtree_size(self, path: str) -> int:
        total = 0
        stack = [path]
        while stack:
            p = stack.pop()
            total += self.size[p]
            kids = self.kids.get(p)
            if kids:
                stack.extend(kids)
        return total

    def copy(self) -> _Tree:
        out = _Tree()
        out.size = dict(self.size)
        out.dirs = set(self.dirs)
        out.kids = {head: dict(kids) for head, kids in self.kids.items()}
        return out

    def leaves(self) -> list[str]:
        """The nodes without children, in creation order (the root left out). A node with
        children is a key of `kids` (remove() drops a dict it empties): filtered in C."""
        leaves = list(filterfalse(self.kids.__contains__, self.size))
        if leaves and leaves[0] == "":  # the root, first in `size`: a tree of nothing else
            del leaves[0]
        return leaves


def _name(path: str) -> str:
    return path.rpartition("/")[2]


def _is_whiteout(path: str) -> bool:
    """A `.wh.` node: the substring test first, as almost no path has one."""
    return _WH in path and _name(path).startswith(_WH)


def _dive_path(path: str) -> str:
    """dive's FileNode.Path(): a whiteout prefix is fictitious on the node itself."""
    head, _, name = path.rpartition("/")
    return head + "/" + name[len(_WH) :] if name.startswith(_WH) else path


def _layer_tree(
    rows: int, paths: Callable[[int, int], Iterator[tuple[str, int, bool]]], check: Check | None
) -> _Tree:
    """A layer's tree from `paths(start, stop)`: its rows' tar paths, CHECK_EVERY at a time."""
    tree = _Tree()
    for start in range(0, rows, CHECK_EVERY):
        if check is not None:
            check()
        tree.add_all(paths(start, start + CHECK_EVERY))
    return tree


def _tar_paths(entries: list[Entry]) -> Iterator[tuple[str, int, bool]]:
    """Each entry's tar path (a whiteout's own name, not the path it deletes), size and
    whether it is a directory; the root entry is left out."""
    dir_kind = Kind.DIR
    for e in entries:
        path = e.path if e.raw_name is None else posixpath.normpath("/" + e.raw_name)
        if path != "/":
            yield path, e.size, e.kind == dir_kind


def _table_paths(table: EntryTable, start: int, stop: int) -> Iterator[tuple[str, int, bool]]:
    """_tar_paths of the rows start:stop of a layer's entry table, read from its columns: in
    C (a zip of the columns) where none of those rows has a tar name of its own."""
    raw_names = table.raw_names
    paths, sizes = table.paths[start:stop], table.sizes[start:stop]
    is_dir = map(_DIR.__eq__, table.kinds[start:stop])
    if not raw_names or not any(start <= row < stop for row in raw_names):
        return zip(paths, sizes, is_dir, strict=True)
    for row in range(start, min(stop, len(table))):
        raw_name = raw_names.get(row)
        if raw_name is not None:
            paths[row - start] = posixpath.normpath("/" + raw_name)
    return ((p, size, d) for p, size, d in zip(paths, sizes, is_dir, strict=True) if p != "/")


def _stack_onto(lower: _Tree, upper: _Tree) -> None:
    """dive's FileTree.Stack: upper's whiteouts remove, every other upper node is (re)set.
    Upper is used up (see _merge).

    dive visits upper children first in sorted order; a whiteout `.wh.X` sorts before `X`
    for every name not starting with a character below '.', so removing first and then
    adding gives the same tree.
    """
    # (the substring first, in line: a call per path was 36 ms over the benchmark image)
    whiteouts = [path for path in upper.size if _WH in path and _name(path).startswith(_WH)]
    if not whiteouts:
        _merge(lower, upper)
        return
    for path in whiteouts:
        lower.remove(_dive_path(path))
    dirs = upper.dirs
    lower.add_all(
        (path, size, path in dirs)
        for path, size in upper.size.items()
        if path and not _is_whiteout(path)
    )


def _merge(lower: _Tree, upper: _Tree) -> None:
    """lower.add_all() of every node of upper, which has no whiteout, done with whole-dict
    operations: a layer of 150,000 paths took 0.15 s one path at a time.

    It is the same tree, orders included: upper creates a parent before its children, so
    each new path's parent is in lower when its turn comes; a new path is added at the end
    of `size` and of its parent's `kids`, where update() puts it; a path lower has keeps its
    place and takes upper's size; and it is a directory after if it is one in upper.

    Upper is used up: a parent new to lower takes upper's dict of its children itself, not
    a copy (the benchmark image's 153,000 children in 3,153 dicts: 2 ms of copying, warm).
    """
    root = lower.size[""]
    lower.size.update(upper.size)
    lower.size[""] = root
    for head, kids in upper.kids.items():
        siblings = lower.kids.get(head)
        if siblings is None:
            lower.kids[head] = kids
        else:
            siblings.update(kids)
    # lower's directories that upper sets to something else: found among lower's few
    # directories, not in a set of all of upper's paths (25 ms for 150,000 of them)
    sizes, dirs = upper.size, upper.dirs
    lower.dirs -= {p for p in lower.dirs if p in sizes and p not in dirs and p}
    lower.dirs |= dirs


def _leaf_key(path: str) -> list[str]:
    return path.split("/")


@dataclass(slots=True)  # as waste.DeadFile
class DiveFile:
    """A path dive lists as inefficient: how often it occurs and the bytes of them all."""

    path: str
    count: int
    wasted_bytes: int  # dive's cumulative size of every occurrence


@dataclass
class DiveFigures:
    """What `dive --ci` reports for an image, figure for figure."""

    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float | None  # a ratio; None where dive prints NaN (or Inf)
    size_bytes: int
    user_size_bytes: int
    layer_size_bytes: list[int]
    inefficient_files: Sequence[DiveFile] = field(default_factory=list)

    def __reduce__(self) -> tuple[Callable[..., DiveFigures], tuple[Any, ...]]:
        return reduce_with_columns(self, "inefficient_files", DiveFile)


def _names_nothing(leaf: str, stacked: _Tree) -> bool:
    """A whiteout leaf whose path is not in the stack below: dive aborts its walk there."""
    return _WH in leaf and _name(leaf).startswith(_WH) and _dive_path(leaf) not in stacked.size


def _occurrence(leaf: str, tree: _Tree, stacked: _Tree) -> tuple[str, int]:
    """A leaf's path and size; a whiteout's is its path's subtree in the stack below."""
    if _WH in leaf and _name(leaf).startswith(_WH):
        path = _dive_path(leaf)
        return path, stacked.subtree_size(path) if path in stacked.dirs else 0
    return leaf, tree.size[leaf]


class _Occurrences:
    """Every path's occurrences over the layers: `sizes` holds each path's one occurrence,
    or 0 once it occurs again, and `repeats` those paths' [cumulative, minimum, count].

    Most paths occur once: an int each, summed at C speed at the end (a list each would
    double the walk's memory, and telling the two apart path by path took 35 ms of the
    benchmark image's 180,000)."""

    __slots__ = ("sizes", "repeats")

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}
        self.repeats: dict[str, list[int]] = {}

    def add(self, path: str, size: int) -> None:
        repeat = self.repeats.get(path)
        if repeat is not None:
            repeat[0] += size
            if size < repeat[1]:
                repeat[1] = size
            repeat[2] += 1
            return
        first = self.sizes.get(path)
        if first is None:
            self.sizes[path] = size
        else:
            self.repeats[path] = [first + size, min(first, size), 2]
            self.sizes[path] = 0

    def count_layer(
        self, leaves: list[str], tree: _Tree, stacked: _Tree, every_leaf: bool = False
    ) -> None:
        """Count each leaf of a layer's tree as an occurrence of its path (a whiteout: of
        the path it deletes); `every_leaf`: the leaves are all of the tree's. The figures
        are sums, minima and counts, so the order does not matter: a path's first
        occurrence with its own size, most leaves, goes in whole, the rest one by one.
        (Straight into `sizes`: a dict of the layer's leaves beside it was 7 MiB of the
        report's peak.)"""
        sizes, nodes = self.sizes, tree.size
        if every_leaf:
            # Every node but the root and the few with children is a leaf: the whole tree
            # goes in with one merge, sized once, and those few come out again (153,000
            # leaves: 55 ms a leaf at a time, growing the dict as they came).
            below = {path: sizes[path] for path in sizes.keys() & nodes.keys()}
            sizes.update(nodes)
            del sizes[""]  # the root: never an occurrence
            for path in tree.kids:
                size = below.pop(path, None)
                if size is None:
                    sizes.pop(path, None)  # (the root's again)
                else:
                    sizes[path] = size  # counted below, and no occurrence here
        else:
            below = {path: sizes[path] for path in sizes.keys() & leaves}
            sizes.update(zip(leaves, map(nodes.__getitem__, leaves), strict=True))
        others: list[tuple[str, int]] = []
        for leaf in [leaf for leaf in leaves if _WH in leaf]:
            if _name(leaf).startswith(_WH):  # its occurrence is what it deletes
                del sizes[leaf]
                others.append(_occurrence(leaf, tree, stacked))
        for path, size in below.items():  # put back, and count again
            others.append((path, sizes[path]))
            sizes[path] = size
        for path, size in others:
            self.add(path, size)

    def drop(self, ignore: Callable[[str], bool]) -> None:
        """Forget every occurrence of the paths `ignore` names."""
        self.sizes = {path: size for path, size in self.sizes.items() if not ignore(path)}
        self.repeats = {path: r for path, r in self.repeats.items() if not ignore(path)}


def dive_figures(
    image: Image, check: Check | None = None, ignore: Callable[[str], bool] | None = None
) -> DiveFigures:
    """dive's figures. `check`, if given, is called every CHECK_EVERY entries; it cancels
    by raising. `ignore(path)` drops every occurrence of a path (`ci --ignore`): efficiency,
    wasted_bytes and the inefficient files are dive's arithmetic over the paths left; the
    sizes (and so user_wasted_percent's denominator) stay as they are. A directory whiteout
    is an occurrence of the directory's own path.
    """

    def tree(layer: Layer) -> _Tree:
        entries = layer.entries
        return _layer_tree(len(entries), lambda start, stop: _tar_paths(entries[start:stop]), check)

    trees = [partial(tree, layer) for layer in image.layers]
    return _figures(trees, [layer.dive_size for layer in image.layers], check, ignore)


def dive_figures_of_tables(
    tables: Sequence[EntryTable], layer_sizes: list[int], check: Check | None = None
) -> DiveFigures:
    """dive_figures of the image whose layers hold these entry tables and dive sizes, read
    from the tables' columns: where there are no Entry objects yet (a load, before it
    applies the layers) or none at all (a process of its own: load's `for_window`)."""
    trees = [
        partial(_layer_tree, len(table), partial(_table_paths, table), check) for table in tables
    ]
    return _figures(trees, layer_sizes, check, None)


def _figures(
    trees: Sequence[Callable[[], _Tree]],
    layer_sizes: list[int],
    check: Check | None,
    ignore: Callable[[str], bool] | None,
) -> DiveFigures:
    """The figures over each layer's tree, made by `trees[k]()` when its turn comes."""
    occurrences = _Occurrences()
    # The stack dive consults for layer k is tree0, then trees 0..k-1 stacked onto it.
    # Each layer's tree is made when its turn comes and kept for one more layer only.
    stacked = below = _Tree()
    for index, make_tree in enumerate(trees):
        tree = make_tree()
        if index == 0:
            stacked = tree.copy()
        else:
            if check is not None:
                check()
            _stack_onto(stacked, below)
        below = tree
        leaves = tree.leaves()
        every_leaf = True
        if any(_names_nothing(leaf, stacked) for leaf in leaves if _WH in leaf):
            # dive's visitor returns an error at that whiteout and the rest of this layer's
            # walk (children first, names sorted) is skipped: replay it in that order.
            leaves.sort(key=_leaf_key)
            del leaves[next(i for i, leaf in enumerate(leaves) if _names_nothing(leaf, stacked)) :]
            every_leaf = False
        if check is not None:
            check()
        occurrences.count_layer(leaves, tree, stacked, every_leaf)

    if ignore is not None:
        occurrences.drop(ignore)
    once = sum(occurrences.sizes.values())  # (a repeated path's is 0 there)
    repeats = occurrences.repeats
    minimum = once + sum(r[1] for r in repeats.values())
    discovered = once + sum(r[0] for r in repeats.values())
    inefficient = [DiveFile(path, r[2], r[0]) for path, r in repeats.items()]
    efficiency = minimum / discovered if discovered else 1.0
    inefficient.sort(key=lambda f: (-f.wasted_bytes, f.path))
    wasted = sum(f.wasted_bytes for f in inefficient)
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
