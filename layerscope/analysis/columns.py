"""Long lists of small records, pickled as columns and kept so until a record is asked for.

The cache keeps each image's analysis, and a reopen unpickles it: the benchmark image's
15,500 wasted files took 7.3 ms to unpickle one object at a time (a call each), and take
4.8 ms as six columns made into objects by one map. A report that only reads the records'
fields (`field_values`: the JSON report) does not make the objects at all: they stay
columns (`Records`) until an item is asked for (a reopen's JSON report: 113 -> 109 ms).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields
from operator import attrgetter
from typing import Any, TypeVar, overload

T = TypeVar("T")

Columns = tuple[tuple[Any, ...], ...]


def columns(records: Sequence[object], names: Sequence[str]) -> Columns:
    """The records' fields, a tuple per field (at least two fields)."""
    cols = records._columns if isinstance(records, Records) else None
    if cols is not None:
        return cols
    if not records:
        return ()
    return tuple(zip(*map(attrgetter(*names), records), strict=True))


def rows(make: Callable[..., T], cols: Columns) -> list[T]:
    """The records again: make(*fields) for each."""
    return list(map(make, *cols)) if cols else []


class Records(Sequence[T]):
    """A read-only list of `make(*fields)` records, made from their columns when an item is
    first asked for (its length and `field_values` do not ask)."""

    __slots__ = ("_make", "_columns", "_items")

    def __init__(self, make: Callable[..., T], cols: Columns):
        self._make = make
        self._columns: Columns | None = cols
        self._items: list[T] | None = None

    def _list(self) -> list[T]:
        # The columns are read first: a thread that makes the records sets _items before it
        # lets the columns go, so where _items is still None, `cols` holds them.
        cols = self._columns
        items = self._items
        if items is None:
            items = self._items = rows(self._make, cols or ())
            self._columns = None
        return items

    def __len__(self) -> int:
        cols = self._columns
        if cols is not None:
            return len(cols[0]) if cols else 0
        return len(self._list())

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self._list()[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self._list())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Records | list):
            return self._list() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a list's equality, and so unhashable

    def __repr__(self) -> str:
        return repr(self._list())


def field_values(records: Sequence[Any], record: type[Any]) -> Iterable[tuple[Any, ...]]:
    """Each record's fields as a tuple, in the order `record` declares them: read from the
    columns where the records are still columns."""
    cols = records._columns if isinstance(records, Records) else None
    if cols is not None:
        return zip(*cols, strict=True)
    return map(attrgetter(*[f.name for f in fields(record)]), records)


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
    return cls(**state, **{name: Records(record, cols)})
