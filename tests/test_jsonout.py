"""The CLI's JSON writer: any value reads back equal; long lists of records, one a line."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from layerscope.cli.jsonout import WIDTH, json_text

# Strings that look like the writer's own seams: separators, braces, NULs, non-ASCII.
tricky = st.sampled_from(["}, {", "}\x00{", "\x00", '"', "\\", ", ", "é", "\u2028", ""])
text = st.one_of(st.text(max_size=20), tricky)
scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text)
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
def test_any_value_reads_back_equal(v: Any) -> None:
    assert json.loads(json_text(v)) == v


def test_a_long_list_of_records_is_one_record_a_line() -> None:
    records = [
        {"path": f"/usr/share/doc/pkg{i}/copyright", "bytes": i, "how": "}, {\x00"}
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
