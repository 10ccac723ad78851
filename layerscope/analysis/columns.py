"""Long lists of small records, pickled as columns.

The cache keeps each image's analysis, and a reopen unpickles it: the benchmark image's
15,500 wasted files took 7.3 ms to unpickle one object at a time (a call each), and take
4.8 ms as six columns made into objects by one map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
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


def reduce_with_columns(
    value: Any, name: str, record: type[Any]
) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """`__reduce__` for a dataclass whose field `name` is a long list of `record`s: the
    other fields as they are, that list as columns (Waste's dead files, DiveFigures'
    inefficient files)."""
    state = {f.name: getattr(value, f.name) for f in fields(value) if f.name != name}
    names = [f.name for f in fields(record)]
    return _from_columns, (type(value), state, name, record, columns(getattr(value, name), names))


def _from_columns(
    cls: type[T], state: dict[str, Any], name: str, record: type[Any], cols: Columns
) -> T:
    return cls(**state, **{name: rows(record, cols)})
