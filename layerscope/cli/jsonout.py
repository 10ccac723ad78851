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

It is made and written as bytes, a piece at a time: a big report's records are
megabytes, and each copy of them as text (decoded, sliced, joined, encoded again for the
stream) was a fresh buffer the system faulted in, at about 3 us a page here. A long list
of records is encoded a slice at a time, and written before the next is made, so each
slice's buffers are the last one's, reused; given as a generator (report.to_json with
stream=True), its records themselves are made a slice at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from types import GeneratorType
from typing import Any, TextIO

import orjson

WIDTH = 100
_encode_escaped = json.JSONEncoder(separators=(",", ":")).encode  # ensure_ascii=True

Chunk = bytes | memoryview


def _encode(value: Any) -> bytes:
    try:
        data = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _encode_escaped(value).encode("ascii")
    if data.isascii() and b"\x7f" not in data:
        return data
    # Outside strings JSON text is ASCII: these stand in strings, where an escape is theirs.
    return _PAST_TILDE.sub(_escape, data.decode("utf-8")).encode("ascii")


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
    chunks: list[Chunk] = []
    _write(value, 0, chunks.append)
    chunks.append(b"\n")
    return b"".join(chunks).decode("ascii")


def write_json(value: Any, out: TextIO) -> None:
    """Write the document to a text stream: to the bytes under it where it has them."""
    binary = getattr(out, "buffer", None)
    if binary is None:  # a StringIO
        out.write(json_text(value))
        return
    out.flush()  # what was written as text goes first
    _write(value, 0, binary.write)
    binary.write(b"\n")
    binary.flush()


# A generator stands for a list of records, made as it is written (report.to_json(stream=True)).
_CONTAINERS = (dict, list, GeneratorType)


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
    if type(value) is GeneratorType:
        return False  # a long list, or it would not be one
    if isinstance(value, dict | list) and value:
        if 3 * len(value) > room:
            return False
        items = value.values() if isinstance(value, dict) else value
        if not all(_fits(item, room) for item in items if type(item) in _CONTAINERS):
            return False
    return len(_encode(value)) <= room


def _write(value: Any, level: int, emit: Callable[[Chunk], object]) -> None:
    if type(value) is GeneratorType:
        _write_records(value, level, emit)
        return
    if not isinstance(value, dict | list) or not value or _flat(value):
        emit(_encode(value))
        return
    if _fits(value, WIDTH - 2 * level):
        emit(_encode(value))
        return
    pad = b"\n" + b"  " * (level + 1)
    if isinstance(value, dict):
        emit(b"{")
        for i, (key, item) in enumerate(value.items()):
            emit((b"," if i else b"") + pad + _encode(key if isinstance(key, str) else str(key)))
            emit(b": ")
            _write(item, level + 1, emit)
        emit(b"\n" + b"  " * level + b"}")
    else:
        _write_list((value[i : i + _SLICE] for i in range(0, len(value), _SLICE)), level, emit)


def _write_records(items: Iterator[Any], level: int, emit: Callable[[Chunk], object]) -> None:
    """A list of records the document gives as a generator (report.to_json(stream=True)),
    made a slice at a time as it is written, so that a slice's objects are the last one's
    memory, reused (15,500 wasted files' dicts are 4.5 MB): the text the list gives. (A
    generator is never taken to fit on one line: the object or list that holds it is
    broken over lines, where its list could have left it whole. A report's image never
    fits.)"""
    head = list(islice(items, _SLICE))
    if len(head) < _SLICE or _flat(head):  # short (or no records): written as the list is
        _write(head + list(items), level, emit)
        return
    _write_list(chain([head], iter(lambda: list(islice(items, _SLICE)), [])), level, emit)


def _write_list(slices: Iterable[list[Any]], level: int, emit: Callable[[Chunk], object]) -> None:
    """A list that does not fit on one line, given a slice at a time: an item a line."""
    pad = b"\n" + b"  " * (level + 1)
    emit(b"[")
    first = True
    for part in slices:
        records = _records(part, pad)
        if records is not None:
            emit((b"" if first else b",") + pad)
            emit(records)  # on its own: not copied once more
            first = False
            continue
        for item in part:
            emit((b"" if first else b",") + pad)
            first = False
            if isinstance(item, dict) and _flat(item):  # a record: the items of long lists
                emit(_encode(item))
            else:
                _write(item, level + 1, emit)
    emit(b"\n" + b"  " * level + b"]")


# records encoded at once: their text (35 KB of wasted files) and its copy with line breaks
# stay under glibc's mmap threshold (128 KiB), so the heap reuses them slice after slice
_SLICE = 256


def _records(items: list[Any], pad: bytes) -> Chunk | None:
    """A slice of a list of flat objects (wasted files, changes), one a line, encoded in
    one call and split (a big image's 15,500 wasted files and 5,500 inefficient ones: 5 ms,
    where one call each took 37 ms); None for any other list, whose items are then written
    one by one, to the same text. Where the text holds no `{` but the records' own and no
    `[` but the list's, no record nests a container and no string holds a brace, so `},{`
    stands only between two records: the usual case, decided without looking at 100,000
    values one by one."""
    if set(map(type, items)) != {dict} or not _flat(items[0]):
        return None  # (the first record tells the images and layers apart at once)
    data = _encode(items)
    if data.count(b"{") == len(items) and data.find(b"[", 1) == -1:
        # the list's brackets left out by a view, not by a copy
        return memoryview(data.replace(b"},{", b"}," + pad + b"{"))[1:-1]
    return None
