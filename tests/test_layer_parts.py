"""Parts of an uncompressed layer read on their own (tarstream.read_part) join into exactly
the layer one pass reads, or say they cannot (and the layer is read whole)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable

import pytest

from layerscope.analysis.packages.paths import wanted
from layerscope.archive.tarstream import (
    BLOCK,
    LayerPart,
    ParsedLayer,
    Window,
    join_parts,
    read_layer,
    read_part,
)
from layerscope.errors import CorruptLayer, LimitExceeded
from layerscope.limits import DEFAULT_LIMITS, Limits
from tests import builders as b

LONG = "usr/lib/" + "very-long-directory-name/" * 6  # past ustar's 100-byte name field


def _layers() -> dict[str, bytes]:
    nested = b.layer_tar([b.file(f"inner/{i}.txt", b"i" * 700) for i in range(6)])
    members = [
        b.dir("usr"),
        b.file("usr/a.txt", b"a" * 1500),
        b.file(LONG + "x.so", b"x" * 600),  # a pax header (or a GNU long name) first
        b.file("usr/nested.tar", nested),  # tar headers inside a file's content
        b.file("/abs/name", b"n" * 10),
        b.file("caf\udce9.txt", b"c" * 10),  # not UTF-8
        b.Entry("usr/volume", "file"),  # replaced below by an odd type
        b.file("var/lib/dpkg/status", b"Package: x\n" * 40),
        b.whiteout("usr/old"),
        b.hardlink("usr/b.txt", "usr/a.txt"),
        b.file(LONG + "y.so", b"y" * 2000, pax={"SCHILY.xattr.user.k": "v" * 300}),
        b.file("var/lib/dpkg/status", b"Package: y\n" * 50),  # kept again: replaces
    ]
    pax = b.layer_tar(members)
    gnu = b.layer_tar(members, format=tarfile.GNU_FORMAT)
    odd = bytearray(pax)
    _retype(odd, "usr/volume", b"V")
    return {"pax": pax, "gnu": gnu, "odd": bytes(odd)}


def _retype(tar: bytearray, name: str, typeflag: bytes) -> None:
    """Give the member `name` another type, its checksum made right again."""
    for at in range(0, len(tar), BLOCK):
        header = tar[at : at + BLOCK]
        if header[:100].rstrip(b"\0") == name.encode():
            header[156:157] = typeflag
            header[148:156] = b" " * 8
            header[148:156] = b"%06o\0 " % sum(header)
            tar[at : at + BLOCK] = header
            return
    raise AssertionError(name)


def _whole(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedLayer:
    return read_layer(io.BytesIO(data), layer="L", limits=limits, capture=wanted)


def _parts(data: bytes, bounds: list[int], limits: Limits = DEFAULT_LIMITS) -> list[LayerPart]:
    stops: list[int | None] = [*bounds[1:], None]
    return [
        read_part(
            io.BytesIO(data), Window(a, z, len(bounds)), layer="L", limits=limits, capture=wanted
        )
        for a, z in zip(bounds, stops, strict=True)
    ]


def _reread(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Callable[[Window], LayerPart]:
    def reread(window: Window) -> LayerPart:
        rereads.append(window.start)
        return read_part(
            io.BytesIO(data), window, layer="L", limits=limits, exact=True, capture=wanted
        )

    rereads: list[int] = []
    reread.calls = rereads  # type: ignore[attr-defined]
    return reread


def _joined(
    data: bytes, bounds: list[int], limits: Limits = DEFAULT_LIMITS, *, repair: bool = True
) -> ParsedLayer | None:
    reread = _reread(data, limits) if repair else None
    return join_parts(_parts(data, bounds, limits), layer="L", limits=limits, reread=reread)


def _same(a: ParsedLayer, b_: ParsedLayer) -> None:
    for column in a.table.__slots__:
        assert getattr(a.table, column) == getattr(b_.table, column), column
    assert (a.diff_id, a.stream_bytes, a.warnings, a.captured) == (
        b_.diff_id,
        b_.stream_bytes,
        b_.warnings,
        b_.captured,
    )


@pytest.mark.parametrize("form", ["pax", "gnu", "odd"])
def test_two_parts_join_at_every_boundary(form):
    data = _layers()[form]
    whole = _whole(data)
    assert whole.warnings  # absolute, not UTF-8 (and the odd type): what parts must add up
    refused = 0
    for boundary in range(BLOCK, len(data), BLOCK):
        _same(_joined(data, [0, boundary]), whole)  # type: ignore[arg-type]
        refused += _joined(data, [0, boundary], repair=False) is None
    # Without a second read, a boundary inside the nested tar's content is refused (its
    # headers look real), and only there.
    nested = len(b.layer_tar([b.file(f"inner/{i}.txt", b"i" * 700) for i in range(6)]))
    assert 0 < refused <= nested // BLOCK


def test_three_parts_join_or_refuse_never_differ():
    data = _layers()["pax"]
    whole = _whole(data)
    blocks = len(data) // BLOCK
    for first in range(1, blocks, 3):
        for second in range(first + 1, blocks, 5):
            joined = _joined(data, [0, first * BLOCK, second * BLOCK])
            if joined is not None:
                _same(joined, whole)


def test_a_boundary_in_a_nested_tar_is_read_again_from_the_true_header():
    data = _layers()["pax"]
    start = data.index(b"inner/0.txt") // BLOCK * BLOCK  # a header inside usr/nested.tar
    assert _joined(data, [0, start], repair=False) is None
    reread = _reread(data)
    joined = join_parts(_parts(data, [0, start]), layer="L", limits=DEFAULT_LIMITS, reread=reread)
    _same(joined, _whole(data))  # type: ignore[arg-type]
    # once, from the header after usr/nested.tar, where the first part's walk stopped
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    after = members[[m.name for m in members].index("usr/nested.tar") + 1].offset
    assert reread.calls == [after]  # type: ignore[attr-defined]


def test_a_nested_header_with_an_absurd_size_is_no_crash():
    """A part that starts inside a nested tar may meet a base-256 size past any offset:
    it reads on as one pass does, and the layer joins (review finding)."""
    inner = bytearray(b.layer_tar([b.file("inner/a", b"a" * 700), b.dir("inner/dir")],
                                  format=tarfile.GNU_FORMAT))  # fmt: skip
    at = 3 * BLOCK  # inner/dir's header
    inner[at + 124 : at + 136] = b"\x80" + (2**80).to_bytes(11, "big")
    inner[at + 148 : at + 156] = b" " * 8
    inner[at + 148 : at + 156] = b"%06o\0 " % sum(inner[at : at + BLOCK])
    data = b.layer_tar([b.file("a", b"a" * 700), b.file("image.tar", bytes(inner)), b.file("z")])
    whole = _whole(data)
    for boundary in range(BLOCK, len(data), BLOCK):
        _same(_joined(data, [0, boundary]), whole)  # type: ignore[arg-type]


def test_the_entry_limit_counts_every_part():
    data = b.layer_tar([b.file(f"f{i}", b"x" * 600) for i in range(40)])
    limits = Limits(max_entries=30)
    with pytest.raises(LimitExceeded):
        _whole(data, limits)
    with pytest.raises(LimitExceeded, match="more than 30 entries"):
        _joined(data, [0, len(data) // 2 // BLOCK * BLOCK], limits)


def test_kept_files_past_the_limits_send_the_layer_to_one_pass():
    data = _layers()["pax"]
    limits = Limits(max_capture_bytes=500)  # the second status file does not fit
    whole = _whole(data, limits)
    assert "not read" in whole.warnings[-1]
    for boundary in range(BLOCK, len(data), BLOCK):
        joined = _joined(data, [0, boundary], limits)
        if joined is not None:
            _same(joined, whole)


def test_an_error_past_the_boundary_is_the_layers_own():
    data = bytearray(b.layer_tar([b.file(f"f{i}", b"x" * 600) for i in range(8)]))
    bad = 6 * 3 * BLOCK  # the seventh member's header
    data[bad + 148 : bad + 156] = b"0000000\0"  # its checksum no longer adds up
    with pytest.raises(CorruptLayer, match="checksum"):
        _whole(bytes(data))
    with pytest.raises(CorruptLayer, match="checksum"):
        _joined(bytes(data), [0, 3 * 3 * BLOCK])


def test_the_entry_limit_before_a_later_error_is_what_one_pass_says():
    """One pass stops at the entry limit before it reaches a corrupt header further on;
    so do the parts, wherever the boundary (review finding)."""
    data = bytearray(b.layer_tar([b.file(f"f{i}", b"x" * 600) for i in range(40)]))
    bad = 35 * 3 * BLOCK
    data[bad + 148 : bad + 156] = b"0000000\0"
    limits = Limits(max_entries=30)
    with pytest.raises(LimitExceeded, match="more than 30 entries"):
        _whole(bytes(data), limits)
    for boundary in range(BLOCK, 34 * 3 * BLOCK, BLOCK):
        with pytest.raises(LimitExceeded, match="more than 30 entries"):
            _joined(bytes(data), [0, boundary], limits)


def test_parts_keep_no_more_files_than_one_pass_may():
    """Each part keeps at most its share of the capture limits, so the parts together
    hold no more than one pass; past that the layer is read whole (review finding)."""
    files = [b.file(f"app/node_modules/p{i}/package.json", b"{}" + b" " * 1000) for i in range(64)]
    data = b.layer_tar(files)
    limits = Limits(max_capture_bytes=40_000)
    bounds = [i * (len(data) // 8 // BLOCK * BLOCK) for i in range(8)]
    parts = _parts(data, bounds, limits)
    assert sum(sum(map(len, p.tally.captured.values())) for p in parts) <= 40_000
    assert join_parts(parts, layer="L", limits=limits, reread=_reread(data, limits)) is None
    roomy = Limits(max_capture_bytes=200_000)
    _same(_joined(data, bounds, roomy), _whole(data, roomy))  # type: ignore[arg-type]
