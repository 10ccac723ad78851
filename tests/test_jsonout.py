"""The CLI's JSON writer: any value reads back equal; long lists of records, one a line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layerscope.cli.jsonout import WIDTH, json_text

# Strings that look like the writer's own seams: separators, braces, NULs, non-ASCII.
tricky = st.sampled_from(
    ["}, {", "},{", "}\x00{", "\x00", '"', "\\", ", ", "é", "\u2028", "\udcff", ""]
)
text = st.one_of(st.text(max_size=20), tricky)
big = st.integers(min_value=2**64, max_value=2**80)  # past orjson's 64 bits
finite = st.floats(allow_nan=False, allow_infinity=False)  # a report holds no other
scalar = st.one_of(st.none(), st.booleans(), st.integers(), big, finite, text)
record = st.dictionaries(text, st.one_of(scalar, st.just({}), st.just([])), max_size=6)
value = st.recursive(
    st.one_of(scalar, record),
    lambda inner: st.one_of(
        st.lists(inner, max_size=8), st.dictionaries(text, inner, max_size=6),
        st.lists(record, min_size=1, max_size=40),
    ),
    max_leaves=60,
)  # fmt: skip


@given(value)
def test_any_value_reads_back_equal_from_ascii_text(v: Any) -> None:
    text = json_text(v)
    assert text.isascii()
    assert json.loads(text) == v


def test_a_long_list_of_records_is_one_record_a_line() -> None:
    records = [
        {"path": f"/usr/share/doc/pkg{i}/copyright", "bytes": i, "how": "}, {\x00},{"}
        for i in range(50)
    ] + [{}]
    doc = {"images": [{"wasted_files": records, "count": 51}]}
    lines = json_text(doc).splitlines()
    assert len(lines) > WIDTH // 10  # broken over lines, not one long line
    record_lines = [line for line in lines if line.lstrip().startswith('{"path"')]
    assert len(record_lines) == 50
    assert all(line.startswith("        {") for line in record_lines)  # indented under the list
    stripped = [line.strip() for line in lines]
    assert stripped[stripped.index("],") - 1] == "{}"  # the empty record has a line too
    assert json.loads("\n".join(lines)) == doc


def test_names_that_are_not_utf8_or_ascii_are_escaped_and_keep_a_line_each() -> None:
    records = [{"path": "/caf\u00e9/\udcff", "bytes": 1}] + [{"path": "/a", "bytes": 2}] * 40
    text = json_text({"wasted_files": records})
    assert text.isascii()
    assert "\\u00e9" in text
    assert "\\udcff" in text
    assert sum(1 for line in text.splitlines() if line.lstrip().startswith('{"path"')) == 41
    assert json.loads(text) == {"wasted_files": records}


# short, on one line as json.dumps writes it: 6 characters past the BMP are 72 escaped
@given(st.text(max_size=4), st.text(max_size=2))
def test_strings_are_escaped_as_the_standard_library_escapes_them(s: str, key: str) -> None:
    """orjson writes UTF-8 (and DEL) as it is; the text stays what json.dumps would write."""
    value = {key: s, "n": [1, None, True]}
    assert json_text(value) == json.dumps(value, separators=(",", ":")) + "\n"


def test_a_list_longer_than_a_slice_is_written_as_one_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Long lists are encoded a slice at a time (jsonout._SLICE records); the text is the
    one a single slice would give, whatever the slices hold: plain records, a brace in a
    string, a record that nests a list, non-ASCII."""
    from layerscope.cli import jsonout

    records: list[Any] = [{"path": f"/p{i}", "bytes": i} for i in range(3 * jsonout._SLICE)]
    records[5]["path"] = "/a},{b"
    records[jsonout._SLICE + 3]["more"] = [1, {"x": 2}]
    records[2 * jsonout._SLICE] = {"path": "/caf\u00e9"}
    records[-1] = {}
    doc = {"wasted_files": records, "n": 1}
    sliced = json_text(doc)
    monkeypatch.setattr(jsonout, "_SLICE", len(records))
    assert sliced == json_text(doc)
    assert json.loads(sliced) == doc
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(jsonout, "_SLICE", 7)
    jsonout.write_json(doc, stream)
    assert stream.buffer.getvalue().decode() == sliced  # type: ignore[attr-defined]


@pytest.mark.parametrize("count", [0, 1, 255, 256, 257, 700])
@pytest.mark.parametrize("record", [{"path": "/p", "bytes": 1}, {}], ids=["records", "empty"])
def test_records_given_as_a_generator_are_written_as_their_list(
    count: int, record: dict[str, Any]
) -> None:
    """report.to_json(stream=True) gives its long record lists as generators, made as they
    are written: the text is the list's, short or long. (A generator is never taken to fit
    on one line: what holds it is broken over lines, as a report's image always is.)"""
    records = [{**record, "n": i} if record else {} for i in range(count)]

    layers = [{"index": i} for i in range(40)]

    def docs(make: Any) -> list[Any]:  # beside a long list, as in a report's image
        return [{"wasted_files": make(), "layers": layers}, {"a": [make(), layers]}]

    for streamed, listed in zip(
        docs(lambda: (r for r in records)), docs(lambda: records), strict=True
    ):
        assert json_text(streamed) == json_text(listed)


def test_a_streamed_report_is_the_report(corpus: Path) -> None:
    """The CLI writes the report with its record lists streamed: the same text."""
    from layerscope.load import load
    from layerscope.report import to_json

    archive = next(corpus.glob("*/longrun-docker.tar"))
    analysis = load([str(archive)], cache=None)
    assert json_text(to_json(analysis, [0], stream=True)) == json_text(to_json(analysis, [0]))
