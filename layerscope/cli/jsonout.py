"""JSON output that is quick to write and to read: nested as deep as needed, no deeper.

`json.dump(..., indent=2)` runs in pure Python, and a report with tens of thousands of
wasted files took over a second to print. Here every value that fits on one line is encoded
whole, by orjson (the 21,000 records of a big image's report, 15,500 wasted files and 5,500
inefficient ones: 1.3 ms, where the standard library's C encoder took 24 ms), and only the
containers that do not are broken over lines and indented; an object or list of plain
values (a wasted file, a change) stays on one line however long.

The text is ASCII whatever the values hold, as the standard library writes it: characters
past `~` are written as \\u escapes. A value orjson refuses (a name that is not UTF-8,
kept as surrogate escapes; an integer past 64 bits) is encoded by the standard library,
with the same compact separators. A report holds no NaN or infinity (JSON has none);
orjson would write null.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TextIO

import orjson

WIDTH = 100
_encode_escaped = json.JSONEncoder(separators=(",", ":")).encode  # ensure_ascii=True


def _encode(value: Any) -> str:
    try:
        data = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _encode_escaped(value)
    if data.isascii() and b"\x7f" not in data:
        return data.decode("ascii")
    # Outside strings JSON text is ASCII: these stand in strings, where an escape is theirs.
    return _PAST_TILDE.sub(_escape, data.decode("utf-8"))


# negated: the same characters, compiled in 0.07 ms where the range [\x7f-\U0010ffff] took 4.5
_PAST_TILDE = re.compile("[^\x00-\x7e]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # past the BMP: a UTF-16 surrogate pair, as JSON writes it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


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
    else:
        records = _records(value, pad)
        if records is not None:
            emit("[" + pad)
            emit(records)  # on its own: megabytes, not copied once more
            emit("\n" + "  " * level + "]")
            return
        emit("[")
        for i, item in enumerate(value):
            emit(("," if i else "") + pad)
            if isinstance(item, dict) and _flat(item):  # a record: the items of long lists
                emit(_encode(item))
            else:
                _write(item, level + 1, emit)
        emit("\n" + "  " * level + "]")


def _records(items: list[Any], pad: str) -> str | None:
    """A list of flat objects (wasted files, changes), one a line, encoded in one call and
    split (a big image's 15,500 wasted files and 5,500 inefficient ones: 5 ms, where one
    call each took 37 ms); None for any other list. Where the text holds no `{` but the
    records' own and no `[` but the list's, no record nests a container and no string
    holds a brace, so `},{` stands only between two records: the usual case, decided
    without looking at 100,000 values one by one."""
    if set(map(type, items)) != {dict} or not _flat(items[0]):
        return None  # (the first record tells the images and layers apart at once)
    text = _encode(items)
    if text.count("{") == len(items) and text.count("[") == 1:
        return text[1:-1].replace("},{", "}," + pad + "{")
    if not all(_flat(item) for item in items):
        return None
    return ("," + pad).join(map(_encode, items))
