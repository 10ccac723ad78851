"""JSON output that is quick to write and to read: nested as deep as needed, no deeper.

`json.dump(..., indent=2)` runs in pure Python (the C encoder only writes compact JSON), and
a report with tens of thousands of wasted files took over a second to print. Here the C
encoder writes every value that fits on one line, and only the containers that do not are
broken over lines and indented; an object or list of plain values (a wasted file, a
change) stays on one line however long.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import chain
from typing import Any, TextIO

WIDTH = 100
_encode = json.JSONEncoder(separators=(", ", ": ")).encode  # indent=None: the C encoder
# The same, with a NUL between items: the encoder escapes control characters in strings
# (\u0000), so a raw NUL in its output can only be a separator.
_encode_nul_separated = json.JSONEncoder(separators=("\x00", ": ")).encode


def json_text(value: Any) -> str:
    """The document, ending with a newline."""
    parts: list[str] = []
    _write(value, 0, parts.append)
    parts.append("\n")
    return "".join(parts)


def write_json(value: Any, out: TextIO) -> None:
    out.write(json_text(value))


_CONTAINERS = (dict, list)


def _flat(value: dict[str, Any] | list[Any]) -> bool:
    # type() rather than isinstance: twice as fast over 20,000 records, and a subclass
    # taken for a plain value is still written correctly, only on one line
    for item in value.values() if type(value) is dict else value:
        if type(item) in _CONTAINERS and item:
            return False
    return True


def _fits(value: Any, room: int) -> bool:
    """Whether `value` takes at most `room` characters on one line, found without encoding
    a long container whole (each of its items takes three characters at least)."""
    if isinstance(value, dict | list) and value:
        if 3 * len(value) > room:
            return False
        items = value.values() if isinstance(value, dict) else value
        if not all(_fits(item, room) for item in items if isinstance(item, dict | list)):
            return False
    return len(_encode(value)) <= room


def _write(value: Any, level: int, emit: Callable[[str], object]) -> None:
    if not isinstance(value, dict | list) or not value or _flat(value):
        emit(_encode(value))
        return
    if _fits(value, WIDTH - 2 * level):
        emit(_encode(value))
        return
    pad = "\n" + "  " * (level + 1)
    if isinstance(value, dict):
        emit("{")
        for i, (key, item) in enumerate(value.items()):
            emit(("," if i else "") + pad + _encode(key if isinstance(key, str) else str(key)))
            emit(": ")
            _write(item, level + 1, emit)
        emit("\n" + "  " * level + "}")
    elif _all_flat_records(value):
        emit("[" + pad + _records(value, pad) + "\n" + "  " * level + "]")
    else:
        emit("[")
        for i, item in enumerate(value):
            emit(("," if i else "") + pad)
            if isinstance(item, dict) and _flat(item):  # a record: the items of long lists
                emit(_encode(item))
            else:
                _write(item, level + 1, emit)
        emit("\n" + "  " * level + "]")


def _all_flat_records(items: list[Any]) -> bool:
    """Whether every item is a flat dict. The types of all their values are gathered in C
    first (4 ms for 15,000 wasted files, where a loop over them took 7 ms); only a list
    whose values include a container, maybe empty, is looked at one record at a time."""
    if set(map(type, items)) != {dict}:
        return False
    kinds = set(map(type, chain.from_iterable(map(dict.values, items))))
    return kinds.isdisjoint(_CONTAINERS) or all(_flat(item) for item in items)


def _records(records: list[Any], pad: str) -> str:
    """Flat objects (wasted files, changes), one a line, in one call of the C encoder: a
    list of 15,000 took 34 ms encoded one by one, 22 ms whole. Between two records a NUL
    stands between `}` and `{`; inside one, between a value and a key, which starts with
    `"`."""
    text = _encode_nul_separated(records)[1:-1]
    return text.replace("}\x00{", "}," + pad + "{").replace("\x00", ", ")
