"""dive's stacking of a layer tree without whiteouts is done whole (dive._merge); it must
leave the very tree that adding upper's paths one at a time leaves, orders included (the
order of `size` is the order of the leaves dive walks)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from layerscope.analysis.dive import _merge, _Tree

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
