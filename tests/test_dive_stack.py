"""dive's stacking of a layer tree without whiteouts is done whole (dive._merge); it must
leave the very tree that adding upper's paths one at a time leaves, orders included (the
order of `size` is the order of the leaves dive walks). And a layer's leaves are counted
whole (dive._Occurrences.count_layer): the same stats as counting them one at a time."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from layerscope.analysis.dive import _WH, _merge, _occurrence, _Occurrences, _Tree

NAMES = ("a", "b", "c", ".wh.a", ".wh..wh..opq")
PATHS = ["/" + "/".join(p) for depth in (1, 2, 3) for p in itertools.product(NAMES, repeat=depth)]
PLAIN = [p for p in PATHS if ".wh." not in p]

nodes = st.tuples(st.sampled_from(PATHS), st.integers(0, 9), st.booleans())
plain_nodes = st.tuples(st.sampled_from(PLAIN), st.integers(0, 9), st.booleans())


def tree_of(items: list[tuple[str, int, bool]]) -> _Tree:
    tree = _Tree()
    tree.add_all(items)
    return tree


def shape(tree: _Tree) -> tuple[object, ...]:
    return (
        list(tree.size.items()),
        sorted(tree.dirs),
        [(head, list(kids)) for head, kids in tree.kids.items()],
    )


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(st.lists(nodes, max_size=40), st.lists(nodes, max_size=40))
def test_adding_paths_together_is_adding_them_one_by_one(
    first: list[tuple[str, int, bool]], then: list[tuple[str, int, bool]]
) -> None:
    """add_all (which keeps the parent of the path before) leaves add()'s very tree, with
    parents implied, paths set again, `.wh..wh.*` names and siblings apart in the list."""
    together, one_by_one = _Tree(), _Tree()
    for items in (first, then):
        together.add_all(items)
        for item in items:
            one_by_one.add(*item)
    assert shape(together) == shape(one_by_one)
    assert all(together.kids.values())  # no parent without children (see leaves)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(nodes, max_size=30), st.lists(plain_nodes, max_size=30))
def test_merging_a_tree_whole_is_adding_its_paths_one_by_one(
    lower_items: list[tuple[str, int, bool]], upper_items: list[tuple[str, int, bool]]
) -> None:
    upper = tree_of(upper_items)
    one_by_one, whole = tree_of(lower_items), tree_of(lower_items)
    one_by_one.add_all(
        (path, size, path in upper.dirs) for path, size in upper.size.items() if path
    )
    _merge(whole, upper)
    assert shape(whole) == shape(one_by_one)


def _count_one_by_one(
    stats: dict[str, int | list[int]], leaves: list[str], tree: _Tree, stacked: _Tree
) -> None:
    """The loop count_layer replaced: each leaf an occurrence, in turn, into one dict of
    a path's size where it occurs once and [cumulative, minimum, count] where more."""
    for leaf in leaves:
        path, size = _occurrence(leaf, tree, stacked) if _WH in leaf else (leaf, tree.size[leaf])
        seen = stats.get(path)
        if seen is None:
            stats[path] = size
        elif isinstance(seen, int):
            stats[path] = [seen + size, min(seen, size), 2]
        else:
            seen[0] += size
            seen[1] = min(seen[1], size)
            seen[2] += 1


def _copy(stats: dict[str, int | list[int]]) -> dict[str, int | list[int]]:
    return {path: list(v) if isinstance(v, list) else v for path, v in stats.items()}


def _occurrences(stats: dict[str, int | list[int]]) -> _Occurrences:
    out = _Occurrences()
    for path, v in stats.items():
        out.sizes[path] = 0 if isinstance(v, list) else v
        if isinstance(v, list):
            out.repeats[path] = list(v)
    return out


def _stats(occurrences: _Occurrences) -> dict[str, int | list[int]]:
    repeats = occurrences.repeats
    return {path: repeats.get(path, size) for path, size in occurrences.sizes.items()}


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(nodes, max_size=30), st.lists(nodes, max_size=30), st.lists(nodes, max_size=30))
def test_counting_a_layer_whole_is_counting_its_leaves_one_by_one(
    below_items: list[tuple[str, int, bool]],
    stacked_items: list[tuple[str, int, bool]],
    layer_items: list[tuple[str, int, bool]],
) -> None:
    stats: dict[str, int | list[int]] = {}
    below, stacked, layer = tree_of(below_items), tree_of(stacked_items), tree_of(layer_items)
    _count_one_by_one(stats, below.leaves(), below, stacked)  # what layers below counted
    _count_one_by_one(stats, below.leaves(), below, stacked)  # paths seen twice already
    whole, merged, one_by_one = _occurrences(stats), _occurrences(stats), _copy(stats)
    whole.count_layer(layer.leaves(), layer, stacked)
    merged.count_layer(layer.leaves(), layer, stacked, every_leaf=True)  # the tree merged
    _count_one_by_one(one_by_one, layer.leaves(), layer, stacked)
    assert _stats(whole) == one_by_one
    assert _stats(merged) == one_by_one
    for counted in (whole, merged):
        assert set(counted.repeats) <= set(counted.sizes)  # (a repeated path's size is 0 there)
        assert all(counted.sizes[path] == 0 for path in counted.repeats)
