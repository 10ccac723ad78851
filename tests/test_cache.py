"""The persistent cache: reopening is instant, results never change, a broken cache is harmless.

Every test has an empty cache directory of its own (tests/conftest.py: LAYERSCOPE_CACHE_DIR).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from layerscope import cache as cache_module
from layerscope import load as load_module
from layerscope.cache import Cache
from layerscope.cli import main
from layerscope.load import load
from layerscope.model.entry import Entry, EntryTable, Kind
from layerscope.report import to_json

pytestmark = pytest.mark.corpus

APP = "podman/app-docker.tar"
WORKER = "podman/worker-docker.tar"  # shares app's base layer


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The layer blobs the loader reads from archives (not from the cache)."""
    names: list[str] = []
    real = load_module.read_blob

    def counting(raw: Any, **kw: Any) -> Any:
        names.append(kw["name"])
        return real(raw, **kw)

    monkeypatch.setattr(load_module, "read_blob", counting)
    return names


def report(path: Path, cache: Cache | None) -> dict[str, Any]:
    a = load([str(path)], cache=cache)
    return to_json(a, list(range(len(a.images))), files=True)


def files(directory: Path) -> list[Path]:
    """The cache's records (not its usage ledger)."""
    kinds = ("layers", "blobs", "images")
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.parent.name in kinds)


def test_reopen_reads_nothing_and_reports_the_same(
    corpus: Path, private_cache: Path, reads: list[str]
) -> None:
    uncached = report(corpus / APP, None)
    assert len(reads) == 11
    first = report(corpus / APP, Cache())
    assert len(reads) == 22  # read, then kept
    assert files(private_cache)
    reads.clear()
    again = report(corpus / APP, Cache())
    assert reads == []
    assert again == first == uncached


def test_an_image_sharing_its_base_reads_only_its_new_layers(
    corpus: Path, reads: list[str]
) -> None:
    expected = report(corpus / WORKER, None)
    layers = load([str(corpus / WORKER)], cache=None).images[0].layers
    report(corpus / APP, Cache())
    reads.clear()
    assert report(corpus / WORKER, Cache()) == expected
    read_now = list(reads)
    assert len(read_now) == len(layers) - 1  # all but the base
    assert not any(layers[0].diff_id[7:] in name for name in read_now)


def test_the_tree_of_a_reopened_image_is_made_when_asked_for(corpus: Path) -> None:
    load([str(corpus / APP)], cache=Cache())
    a = load([str(corpus / APP)], cache=Cache(), need_filesystem=False)
    image = a.images[0]
    assert not image.lazy_filesystem.made  # the figures came from the cache
    b = load([str(corpus / APP)], cache=None)

    def counts(fs: Any) -> list[tuple[int, ...]]:
        return [tuple(getattr(c, name) for name in c.__slots__) for c in fs.counts]

    assert counts(image.filesystem) == counts(b.images[0].filesystem)
    assert counts(image) == counts(b.images[0])
    assert sorted(n.path for n, _v in image.filesystem.iter_present()) == sorted(
        n.path for n, _v in b.images[0].filesystem.iter_present()
    )


def test_entries_the_cache_lost_are_read_again_from_the_archive(
    corpus: Path, private_cache: Path, reads: list[str]
) -> None:
    load([str(corpus / APP)], cache=Cache())
    a = load([str(corpus / APP)], cache=Cache(), need_filesystem=False)
    for path in (private_cache / f"v{cache_module.FORMAT}" / "layers").iterdir():
        path.write_bytes(b"damaged")  # evicted or damaged while the image is open
    reads.clear()
    b = load([str(corpus / APP)], cache=None)
    expected = sorted(n.path for n, _v in b.images[0].filesystem.iter_present())
    reads.clear()
    assert sorted(n.path for n, _v in a.images[0].filesystem.iter_present()) == expected
    assert len(reads) == 11  # each layer read again from the archive


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped byte", "other version"])
def test_a_damaged_cache_is_ignored_and_rebuilt(
    corpus: Path, private_cache: Path, reads: list[str], damage: str
) -> None:
    first = report(corpus / APP, Cache())
    for path in files(private_cache):
        data = path.read_bytes()
        if damage == "garbage":
            data = os.urandom(len(data))
        elif damage == "truncated":
            data = data[: len(data) // 2]
        elif damage == "flipped byte":
            data = data[:-1] + bytes([data[-1] ^ 1])
        else:  # written by another version of the cache format
            data = data[:7] + bytes([data[7] + 1]) + data[8:]
        path.write_bytes(data)
    reads.clear()
    assert report(corpus / APP, Cache()) == first
    assert len(reads) == 11  # nothing usable: everything read again
    reads.clear()
    assert report(corpus / APP, Cache()) == first
    assert reads == []  # and rebuilt


def test_a_full_cache_stays_within_its_bound(corpus: Path, private_cache: Path) -> None:
    expected = report(corpus / APP, None)
    small = 64 * 1024
    for rel in (APP, WORKER, "podman/multi-docker.tar"):
        report(corpus / rel, Cache(max_bytes=small))
        assert sum(p.stat().st_size for p in files(private_cache)) <= small
    assert report(corpus / APP, Cache(max_bytes=small)) == expected


def test_least_recently_used_files_go_first(private_cache: Path) -> None:
    table = EntryTable.of(Entry(f"/f{i}", Kind.FILE, i) for i in range(2000))
    writer = Cache()
    for name in ("old", "used", "new"):
        writer.put_entries(f"sha256:{name}", table)
    layers = private_cache / f"v{cache_module.FORMAT}" / "layers"
    size = (layers / "old").stat().st_size
    for age, name in enumerate(("new", "used", "old")):
        os.utime(layers / name, (1e9 - age * 100, 1e9 - age * 100))
    assert Cache().get_entries("sha256:used") is not None  # reading it makes it recent
    bounded = Cache(max_bytes=int(2.6 * size))  # trims down to 80%: two files
    bounded.put_entries("sha256:newest", table)  # over the bound: trim at the end of a load
    bounded.trim()
    assert sorted(p.name for p in layers.iterdir()) == ["newest", "used"]


def test_two_processes_writing_at_once(corpus: Path, private_cache: Path, tmp_path: Path) -> None:
    env = {**os.environ, "LAYERSCOPE_CACHE_DIR": str(private_cache)}
    command = [sys.executable, "-m", "layerscope", "report", "--json", "-q", str(corpus / APP)]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert [err for _out, err in outputs] == [b"", b""]
    assert outputs[0][0] == outputs[1][0]
    assert not [p for p in files(private_cache) if p.name.startswith(".tmp-")]
    third = subprocess.run(command, env=env, capture_output=True, check=True)
    assert third.stdout == outputs[0][0]


def test_an_unwritable_cache_directory_gives_one_warning(
    corpus: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Permission bits do not stop root, who runs CI: a cache directory under a regular file
    # cannot be created or written by anyone, which is what a read-only directory is here.
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    monkeypatch.setenv("LAYERSCOPE_CACHE_DIR", str(blocker / "cache"))
    assert main(["report", "--json", "-q", str(corpus / APP)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == json.loads(_cli_json(corpus, ["--no-cache"], capsys))
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("layerscope: warning: cache directory ")
    assert "is not writable" in lines[0]


def _cli_json(corpus: Path, extra: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["report", "--json", "-q", *extra, str(corpus / APP)]) == 0
    return capsys.readouterr().out


def test_no_cache_neither_reads_nor_writes(
    corpus: Path, private_cache: Path, reads: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with_cache = _cli_json(corpus, [], capsys)
    before = {p: p.stat().st_mtime_ns for p in files(private_cache)}
    reads.clear()
    assert _cli_json(corpus, ["--no-cache"], capsys) == with_cache
    assert len(reads) == 11
    assert {p: p.stat().st_mtime_ns for p in files(private_cache)} == before


def test_verify_reads_every_blob_again(corpus: Path, reads: list[str]) -> None:
    report(corpus / APP, Cache())
    reads.clear()
    load([str(corpus / APP)], cache=Cache(), verify=True)
    assert len(reads) == 11


def test_the_cache_lives_where_the_environment_says(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Cache().directory == private_cache
    monkeypatch.setenv(cache_module.NO_CACHE_ENV, "1")
    assert cache_module.default_cache() is None


def test_a_ledger_claiming_a_negative_usage_does_not_stop_the_bound(private_cache: Path) -> None:
    table = EntryTable.of(Entry(f"/f{i}", Kind.FILE, i) for i in range(2000))
    root = private_cache / f"v{cache_module.FORMAT}"
    writer = Cache()
    writer.put_entries("sha256:first", table)
    size = (root / "layers" / "first").stat().st_size
    (root / "usage").write_text("-99999999999999999999")
    bounded = Cache(max_bytes=int(1.5 * size))
    bounded.put_entries("sha256:second", table)
    bounded.trim()
    assert sum(p.stat().st_size for p in files(private_cache)) <= 1.5 * size


def test_a_fifo_in_place_of_a_record_is_a_miss_not_a_hang(private_cache: Path) -> None:
    table = EntryTable.of(Entry(f"/f{i}", Kind.FILE, i) for i in range(10))
    Cache().put_entries("sha256:layer", table)
    record = private_cache / f"v{cache_module.FORMAT}" / "layers" / "layer"
    record.unlink()
    os.mkfifo(record)
    answers: list[object] = []

    def read() -> None:
        answers.append(Cache().has_entries("sha256:layer"))
        answers.append(Cache().get_entries("sha256:layer"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    try:
        assert answers == [False, None]
    finally:
        if reader.is_alive():  # the old way: blocked opening the FIFO; let it go
            os.close(os.open(record, os.O_WRONLY | os.O_NONBLOCK))


def test_the_analysis_records_pickle_to_equal_objects() -> None:
    """DeadFile, DuplicateGroup and DiveFile pickle on their own too, not only as columns."""
    import pickle

    from layerscope.analysis.dive import DiveFile
    from layerscope.analysis.waste import DeadFile, DuplicateGroup

    records = [
        DeadFile("/a", 3, 0, None, "overwritten", "deleted"),
        DeadFile("/b\udcff", 5, 1, 2, "deleted", "overwritten"),
        DuplicateGroup(7, ["/x", "/y"]),
        DiveFile("/c", 2, 9),
    ]
    again = pickle.loads(pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == records
    assert [type(r) for r in again] == [type(r) for r in records]


@pytest.mark.parametrize(
    "paths",
    [[], ["/a"], ["/a", "/b\udcff", "/c d"], ["/a", "/b\x00c", "/d"], ["/a", "", "/b"]],
    ids=["none", "one", "several", "a NUL in a pax name", "an empty name"],
)
def test_an_entry_table_pickles_to_the_same_paths(paths: list[str]) -> None:
    """The paths travel joined by NULs (a quicker transfer and cache write), but never when
    that would change them."""
    import pickle

    table = EntryTable.of(Entry(path, Kind.FILE, i) for i, path in enumerate(paths))
    again = pickle.loads(pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL))
    assert again.paths == paths
    assert list(again.sizes) == list(range(len(paths)))


@pytest.mark.parametrize("count", [0, 1, 3])
def test_analysis_records_come_back_equal_from_their_columns(count: int) -> None:
    """Waste and DiveFigures pickle their long record lists as columns (analysis.columns):
    what comes back is equal, field for field, None and all."""
    import pickle

    from layerscope.analysis.dive import DiveFigures, DiveFile
    from layerscope.analysis.waste import DeadFile, DuplicateGroup, Waste

    dead = [DeadFile(f"/p{i}", 10 + i, i, None if i % 2 else i + 1, "deleted", "overwritten")
            for i in range(count)]  # fmt: skip
    waste = Waste(5, 3, 2, 0, 0.5, [5], dead, [DuplicateGroup(4, ["/a", "/b"])], 7, 70)
    dive = DiveFigures(
        0.9, 12, None, 100, 90, [10, 90], [DiveFile(f"/d{i}", 2, i) for i in range(count)]
    )

    def round_trip(value: object) -> object:
        return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    for value in (waste, dive):
        back = round_trip(value)
        again = round_trip(back)  # pickled again while its records are still columns
        assert back == value  # (comparing makes them)
        assert type(back) is type(value)
        assert again == value
        assert round_trip(back) == value  # and once they are made


@pytest.mark.parametrize("count", [0, 1, 3])
def test_records_read_from_their_columns_are_the_records(count: int) -> None:
    """A report reads unpickled records' fields from the columns (field_values), without
    making the records: the same values, in the order the record declares them; and the
    list itself is the list of records, by length, item, slice and equality."""
    import pickle
    from operator import attrgetter

    from layerscope.analysis.columns import field_values
    from layerscope.analysis.waste import DeadFile, Waste

    dead = [DeadFile(f"/p{i}", 10 + i, i, None if i % 2 else i + 1, "deleted", "overwritten")
            for i in range(count)]  # fmt: skip
    names = ("path", "size", "layer", "killed_by", "fate", "how")
    expected = [attrgetter(*names)(d) for d in dead]
    assert list(field_values(dead, DeadFile)) == expected  # from the objects
    waste = Waste(5, 3, 2, 0, 0.5, [5], dead)
    records = pickle.loads(pickle.dumps(waste, protocol=pickle.HIGHEST_PROTOCOL)).dead_files
    assert len(records) == count
    assert bool(records) == bool(count)
    assert list(field_values(records, DeadFile)) == expected  # from the columns
    assert records[:2] == dead[:2]
    assert records == dead
    assert dead == records
    assert records != [*dead, DeadFile("/q", 1, 0, None, "deleted", "deleted")]
    assert list(records) == dead
    assert list(field_values(records, DeadFile)) == expected  # from the objects, now made


def test_a_layer_record_sums_the_sizes_of_its_regular_files_only() -> None:
    from layerscope.archive import BlobContents
    from layerscope.archive.tarstream import ParsedLayer
    from layerscope.cache import BlobRecord

    rows = [("/d", Kind.DIR, 4096), ("/f", Kind.FILE, 10), ("/l", Kind.SYMLINK, 7),
            ("/g", Kind.FILE, 5), ("/w", Kind.WHITEOUT, 3)]  # fmt: skip
    table = EntryTable.of(Entry(path, kind, size) for path, kind, size in rows)
    record = BlobRecord.of(BlobContents(ParsedLayer(table, "sha256:x", 0), "none", None, 0))
    assert record.size_bytes == 15
    assert record.dive_size == 4096 + 10 + 7 + 5 + 3
    assert table.file_bytes() == 15


def test_a_record_past_the_bound_is_stopped_and_leaves_nothing(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record is pickled into its file as it is made: one that would pass the cache's
    bound is stopped there, not written whole and then deleted."""
    table = EntryTable.of(Entry(f"/f{i}", Kind.FILE, i) for i in range(2000))
    Cache().put_entries("sha256:whole", table)
    size = (private_cache / f"v{cache_module.FORMAT}" / "layers" / "whole").stat().st_size
    written: list[int] = []
    real = cache_module._Checksummed.write

    def noting(self: Any, data: bytes) -> None:
        real(self, data)
        written.append(len(data))

    monkeypatch.setattr(cache_module._Checksummed, "write", noting)
    bounded = Cache(max_bytes=size // 2)
    bounded.put_entries("sha256:half", table)
    assert bounded.get_entries("sha256:half") is None
    assert sum(written) <= size // 2  # stopped at the bound
    layers = private_cache / f"v{cache_module.FORMAT}" / "layers"
    assert sorted(p.name for p in layers.iterdir()) == ["whole"]  # no temporary file left
    assert not bounded.warnings
