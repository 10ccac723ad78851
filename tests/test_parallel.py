"""Reading layers in worker processes gives exactly what reading them in the loader gives.

Big archives are read by worker processes (layers decode independently); the suite's inputs
are small, so these tests lower the threshold to send them through the workers too.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from layerscope import load as load_module
from layerscope.analysis import dive as dive_module
from layerscope.archive import parallel
from layerscope.archive.container import BlobLocation
from layerscope.cache import Cache
from layerscope.errors import Cancelled, CorruptLayer, LimitExceeded
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.load import load
from layerscope.model.entry import EntryTable
from layerscope.report import to_json
from tests import builders as b


@pytest.fixture
def in_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_module, "PARALLEL_MIN_BYTES", 0)


def report(path: Path) -> dict[str, object]:
    a = load([str(path)], cache=None)
    return to_json(a, list(range(len(a.images))), files=True)


@pytest.mark.corpus
@pytest.mark.parametrize(
    "rel", ["podman/multi-docker.tar", "podman/app-oci-zstd.tar", "podman/app-oci-layout"]
)
def test_workers_and_loader_agree_on_real_archives(
    corpus: Path, rel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = report(corpus / rel)
    monkeypatch.setattr(load_module, "PARALLEL_MIN_BYTES", 0)
    calls: list[int] = []
    real = parallel.read_in_processes

    def counting(jobs, **kw):  # type: ignore[no-untyped-def]
        calls.append(len(jobs))
        return real(jobs, **kw)

    monkeypatch.setattr(parallel, "read_in_processes", counting)
    assert report(corpus / rel) == here
    assert len(calls) == 1
    assert calls[0] > 1  # the workers read more than one layer


def test_an_error_in_a_worker_is_the_loader_error(tmp_path: Path, in_workers: None) -> None:
    good = b.Layer(b.layer_tar([b.file("a", b"x" * 3000)]))
    tar = b.layer_tar([b.file("b", b"y" * 5000)])
    path = b.write_docker_archive(
        tmp_path / "cut.tar", [b.Image([good, b.Layer(tar)])], style="podman"
    )
    # cut the second layer's data short inside the archive: rewrite its blob in place
    data = bytearray(path.read_bytes())
    start = data.index(b"y" * 5000)
    data[start + 100 : start + 5000] = b"\0" * 4900  # still a tar, wrong diff_id
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptLayer, match="has diff_id"):
        load([str(path)], cache=None)


def test_the_load_budget_and_cancel_reach_the_workers(tmp_path: Path, in_workers: None) -> None:
    layers = [b.Layer(b.layer_tar([b.file(f"f{i}", bytes(20_000))])) for i in range(3)]
    path = b.write_docker_archive(tmp_path / "three.tar", [b.Image(layers)], style="podman")
    small = dataclasses.replace(DEFAULT_LIMITS, max_total_bytes=30_000)
    with pytest.raises(LimitExceeded, match="expand past 30000 bytes in all"):
        load([str(path)], limits=small, cache=None)
    polls: list[int] = []

    def cancel() -> bool:
        polls.append(1)
        return len(polls) > 3  # the first checks pass, then the user cancels

    with pytest.raises(Cancelled):
        load([str(path)], cancel=cancel, cache=None)


def test_workers_fork_in_a_process_with_one_thread_else_from_a_fork_server() -> None:
    from layerscope.archive.parallel import start_method

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert start_method() == "forkserver"  # fork would copy the other thread's locks
    finally:
        stop.set()
        other.join()


@pytest.mark.corpus
def test_a_load_in_a_thread_reads_in_workers_of_the_fork_server(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window's case: the load runs in a pool thread, the workers come from the fork
    server (started first, as `layerscope open` does), and read what the loader reads."""
    path = corpus / "podman/multi-docker.tar"
    here = report(path)
    parallel.start_fork_server()
    monkeypatch.setattr(load_module, "PARALLEL_MIN_BYTES", 0)
    methods: list[str] = []
    real = parallel.read_in_processes

    def noting(jobs, **kw):  # type: ignore[no-untyped-def]
        methods.append(parallel.start_method())
        return real(jobs, **kw)

    monkeypatch.setattr(parallel, "read_in_processes", noting)
    out: list[dict[str, object]] = []
    thread = threading.Thread(target=lambda: out.append(report(path)))
    thread.start()
    thread.join(timeout=120)
    assert methods == ["forkserver"]
    assert out == [here]


@pytest.mark.corpus
def test_forked_workers_read_what_the_loader_reads(corpus: Path) -> None:
    """The CLI's case (one thread: the workers fork), in a process of its own."""
    path = corpus / "podman/multi-docker.tar"
    code = (
        "import json, sys\n"
        "from layerscope import load as load_module\n"
        "from layerscope.archive import parallel\n"
        "from layerscope.archive.parallel import start_method\n"
        "from layerscope.report import to_json\n"
        "assert start_method() == 'fork'\n"
        "load_module.PARALLEL_MIN_BYTES = 0\n"
        "calls = []\n"
        "real = parallel.read_in_processes\n"
        "parallel.read_in_processes = lambda jobs, **kw: calls.append(1) or real(jobs, **kw)\n"
        "a = load_module.load([sys.argv[1]], cache=None)\n"
        "assert calls\n"
        "json.dump(to_json(a, list(range(len(a.images))), files=True), sys.stdout)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == json.loads(json.dumps(report(path)))


@pytest.mark.corpus
@pytest.mark.parametrize("when", ["at start", "at the first load"])
def test_a_fork_server_that_cannot_start_is_not_an_error(
    corpus: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """No socket for the fork server (a full or odd temp dir): the window's loads still
    read, spawned or in the loader, and say nothing about it."""
    import multiprocessing.forkserver as forkserver

    def cannot(_self: object) -> None:
        raise OSError(28, "No space left on device")

    path = corpus / "podman/multi-docker.tar"
    here = report(path)
    monkeypatch.setattr(forkserver.ForkServer, "ensure_running", cannot)
    monkeypatch.setattr(forkserver, "ensure_running", forkserver._forkserver.ensure_running)
    monkeypatch.setattr(parallel, "_fork_server_failed", False)
    monkeypatch.setattr(load_module, "PARALLEL_MIN_BYTES", 0)
    if when == "at start":
        parallel.start_fork_server()
    out: list[object] = []

    def read() -> None:
        try:
            out.append(report(path))
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            out.append(exc)
        out.append(parallel.start_method())  # beside this thread: not a fork

    thread = threading.Thread(target=read)
    thread.start()
    thread.join(timeout=120)
    assert out == [here, "spawn"]  # read, and the next load does not try the server again


@pytest.fixture
def in_parts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Workers read every archive, and cut its uncompressed layers in parts of 2 KiB on."""
    monkeypatch.setattr(load_module, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "PART_MIN_BYTES", 2048)
    parts: list[int] = []
    real = parallel.split

    def noting(jobs, workers, limits):  # type: ignore[no-untyped-def]
        out = real(jobs, workers, limits)
        parts.append(sum(1 for job in out if job.part is not None))
        return out

    monkeypatch.setattr(parallel, "split", noting)
    return parts


@pytest.mark.corpus
@pytest.mark.parametrize(
    "rel",
    ["podman/longrun-docker.tar", "podman/multi-docker.tar", "podman/app-oci-uncompressed.tar"],
)
def test_layers_read_in_parts_are_the_layers_read_whole(
    corpus: Path, rel: str, in_parts: list[int]
) -> None:
    parted = report(corpus / rel)
    assert len(in_parts) == 1
    assert in_parts[0] > 2  # some layers were cut
    in_parts.clear()
    load_module.PARALLEL_MIN_BYTES = 1 << 62  # (monkeypatch puts it back)
    assert report(corpus / rel) == parted
    assert not in_parts  # read in the loader, whole


def test_a_layer_holding_a_tar_is_read_again_where_its_parts_do_not_join(
    tmp_path: Path, in_parts: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file holding a tar: a part that starts in it takes its headers for the layer's;
    the boundary check catches it, and that window is read again from the header the
    part before reached. The layer is the one a single pass reads."""
    inner = b.layer_tar([b.file(f"inner/{i}", b"i" * 900) for i in range(40)])
    layer = b.layer_tar([b.file("a", b"a" * 700), b.file("image.tar", inner), b.file("z", b"z")])
    other = b.layer_tar([b.file("b", b"b")])
    path = b.write_docker_archive(
        tmp_path / "nested.tar", [b.Image([b.Layer(layer), b.Layer(other)])], style="podman"
    )
    rereads: list[int] = []
    real = load_module.read_part

    def noting(stream, window, **kw):  # type: ignore[no-untyped-def]
        rereads.append(window.start)
        return real(stream, window, **kw)

    monkeypatch.setattr(load_module, "read_part", noting)
    parted = report(path)
    assert len(in_parts) == 1
    assert in_parts[0] > 2
    assert rereads  # windows read again, in the loader
    load_module.PARALLEL_MIN_BYTES = 1 << 62  # (monkeypatch puts it back)
    assert report(path) == parted


def test_only_uncompressed_tars_within_the_layer_limit_are_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gzip stream whose header spells "ustar" where a tar's magic is, and a tar past
    max_layer_bytes, are read whole (review findings)."""
    from layerscope.archive.container import BlobLocation

    monkeypatch.setattr(parallel, "PART_MIN_BYTES", 4096)
    tar = b.layer_tar([b.file(f"f{i}", b"x" * 5000) for i in range(40)])
    tricky = io.BytesIO()
    with gzip.GzipFile(filename="a" * 247 + "ustar", mode="wb", fileobj=tricky, mtime=0) as gz:
        gz.write(tar)
    assert tricky.getvalue()[257:262] == b"ustar"

    def parts(blob: bytes, limits: Limits = DEFAULT_LIMITS) -> int:
        path = tmp_path / "blob"
        path.write_bytes(blob)
        jobs = [parallel.BlobJob("blob", BlobLocation(str(path), 0, len(blob)))]
        return len(parallel.split(jobs, 2, limits))

    assert parts(tar) > 2
    assert parts(tricky.getvalue()) == 1
    assert parts(tar, dataclasses.replace(DEFAULT_LIMITS, max_layer_bytes=len(tar) - 1)) == 1


def test_a_blob_two_layers_share_gives_each_its_own_entries(
    tmp_path: Path, in_workers: None
) -> None:
    """Entries made while the workers read go to the first layer that has the blob; the
    second gets entries of its own (the model tells shipments apart by Entry identity)."""
    same = b.Layer(b.layer_tar([b.file("a", b"a" * 3000)]))
    other = b.Layer(b.layer_tar([b.file("b", b"b" * 3000)]))
    path = b.write_docker_archive(
        tmp_path / "twice.tar", [b.Image([same, other, same])], style="podman"
    )
    image = load([str(path)], cache=None).images[0]
    first, third = image.layers[0].entries, image.layers[2].entries
    assert [e.path for e in first] == [e.path for e in third] == ["/a"]
    assert first[0] is not third[0]
    assert image.filesystem.counts[2].modified == 1  # the same bytes shipped again


def test_progress_moves_with_the_parts_and_adds_up_to_the_blobs(
    corpus: Path, in_parts: list[int]
) -> None:
    """Each part counts what it parses, up to its window: the first part's reading of the
    rest (for the diff_id) is not counted again, and the bytes add up to the stored size."""
    from layerscope.load import Progress

    seen: list[Progress] = []
    load([str(corpus / "podman/longrun-docker.tar")], cache=None, progress=seen.append)
    assert in_parts[0] > 2
    reading = [p for p in seen if p.stage.startswith("Reading") and p.total]
    assert reading
    assert all(p.done <= p.total for p in reading)
    assert [p.done for p in reading] == sorted(p.done for p in reading)
    assert reading[-1].done == reading[-1].total


def test_a_first_part_counts_its_window_not_the_whole_blob(tmp_path: Path) -> None:
    """The first part reads the whole blob (for the diff_id) but counts only its window:
    the rest is the other parts' to count, as they parse it."""
    import multiprocessing

    from layerscope.archive.container import BlobLocation
    from layerscope.archive.tarstream import Window

    tar = b.layer_tar([b.file(f"f{i}", b"x" * 5000) for i in range(40)])
    path = tmp_path / "blob.tar"
    path.write_bytes(tar)
    job = parallel.BlobJob("blob", BlobLocation(str(path), 0, len(tar)))
    counters = multiprocessing.Array("q", 4, lock=False)
    parallel._init(counters, multiprocessing.Event())
    half = len(tar) // 2 // 512 * 512
    first = parallel._read_part(0, job, Window(0, half, 2), DEFAULT_LIMITS, None)
    second = parallel._read_part(1, job, Window(half, None, 2), DEFAULT_LIMITS, None)
    assert (first.end, second.start) == (second.start, first.end)
    assert list(counters) == [half, half, len(tar) - half, len(tar) - half]


@pytest.mark.corpus
def test_layers_read_in_parts_come_back_from_the_cache_as_they_were_read(
    corpus: Path, in_parts: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table the parts join into is the one the cache keeps: read back, it is the very
    table one pass makes."""
    path = corpus / "podman/longrun-docker.tar"
    load([str(path)], cache=Cache())
    assert in_parts
    assert in_parts[0] > 2
    load_module.PARALLEL_MIN_BYTES = 1 << 62  # (monkeypatch puts it back)
    whole = load([str(path)], cache=None)

    def not_read(*_args: object, **_kw: object) -> None:
        raise AssertionError("read again, not taken from the cache")

    monkeypatch.setattr(load_module, "read_blob", not_read)
    cached = load([str(path)], cache=Cache())
    for read, kept in zip(whole.images[0].layers, cached.images[0].layers, strict=True):
        columns = EntryTable.of(read.entries).__getstate__()
        assert EntryTable.of(kept.entries).__getstate__() == columns


# -- a window's load: dive's figures in a process of their own, its processes niced ---------


def _dive_that_dies(*_args: object) -> None:
    os._exit(3)  # the process is killed mid-way


def _dive_that_takes_long(*_args: object) -> None:
    time.sleep(2)


@pytest.fixture
def apart(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Every image's dive figures made apart, and a note of each process started (True:
    started, below the window)."""
    monkeypatch.setattr(load_module, "DIVE_APART_MIN_ENTRIES", 0)
    started: list[bool] = []
    real = parallel.run_apart

    def noting(fn, *args, nice=0):  # type: ignore[no-untyped-def]
        out = real(fn, *args, nice=nice)
        started.append(out is not None and nice == load_module.WINDOW_NICE)
        return out

    monkeypatch.setattr(parallel, "run_apart", noting)
    return started


def _in_a_thread(fn):  # type: ignore[no-untyped-def]
    """fn() in a thread (the window's loads run in one: the processes then come from the
    fork server); what it returned or raised."""
    out: list[object] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    return out[0]


@pytest.mark.corpus
@pytest.mark.parametrize(
    "rel", ["podman/app-docker.tar", "podman/multi-docker.tar", "podman/longrun-oci-zstd.tar"]
)
def test_dive_figures_made_apart_are_the_figures_made_here(
    corpus: Path, rel: str, apart: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """app's layers hold whiteouts and an opaque directory (dive reads their tar names),
    multi's archive two images, longrun hardlinks."""
    path = str(corpus / rel)
    here = load([path], cache=None)
    parallel.start_fork_server()
    made_here: list[object] = []  # the figures computed in this process
    real = dive_module._figures

    def noting(*args, **kw):  # type: ignore[no-untyped-def]
        made_here.append(args)
        return real(*args, **kw)

    monkeypatch.setattr(dive_module, "_figures", noting)
    there = _in_a_thread(lambda: load([path], cache=None, for_window=True))
    assert there.dive == here.dive  # type: ignore[attr-defined]
    assert apart == [True] * len(here.images)
    assert not made_here
    assert to_json(there, [0]) == to_json(here, [0])  # type: ignore[arg-type]


@pytest.mark.corpus
def test_a_dive_process_that_dies_leaves_the_figures_to_the_loader(
    corpus: Path, apart: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(corpus / "podman/app-docker.tar")
    here = load([path], cache=None)
    monkeypatch.setattr(load_module, "dive_figures_of_tables", _dive_that_dies)
    there = _in_a_thread(lambda: load([path], cache=None, for_window=True))
    assert apart == [True]
    assert there.dive == here.dive  # type: ignore[attr-defined]


@pytest.mark.corpus
def test_a_load_waiting_for_its_dive_process_is_cancelled_at_once(
    corpus: Path, apart: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load_module, "dive_figures_of_tables", _dive_that_takes_long)
    cancelled = threading.Event()
    real = load_module.analyse_packages

    def then_cancel(*args, **kw):  # type: ignore[no-untyped-def]
        cancelled.set()  # the last step before the load waits for the figures
        return real(*args, **kw)

    monkeypatch.setattr(load_module, "analyse_packages", then_cancel)
    path = str(corpus / "podman/app-docker.tar")
    start = time.monotonic()
    out = _in_a_thread(lambda: load([path], cache=None, for_window=True, cancel=cancelled.is_set))
    assert isinstance(out, Cancelled)
    assert apart == [True]
    assert time.monotonic() - start < 1.5  # not the 2 s the process takes


@pytest.mark.corpus
def test_small_images_and_images_read_from_the_cache_keep_their_figures_here(
    corpus: Path, tmp_path: Path, apart: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(corpus / "podman/app-docker.tar")
    cache = Cache(tmp_path)
    load([path], cache=cache)  # the layers go into the cache
    # the image's figures are not: they are made again, here, from the cached layers
    cache.get_image = lambda _key: None  # type: ignore[method-assign]
    again = _in_a_thread(lambda: load([path], cache=cache, for_window=True))
    assert apart == []
    assert again.dive  # type: ignore[attr-defined]
    monkeypatch.setattr(load_module, "DIVE_APART_MIN_ENTRIES", 10**9)
    _in_a_thread(lambda: load([path], cache=None, for_window=True))
    assert apart == []


def _niceness(*_args: object) -> int:
    return os.nice(0)


def test_a_windows_processes_run_below_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window's readers and its dive process yield the cores to the window's threads
    (the readers' job is replaced by one that says the process's niceness)."""
    here = os.nice(0)
    below = min(here + load_module.WINDOW_NICE, 19)
    for nice, expected in ((0, here), (load_module.WINDOW_NICE, below)):
        started = parallel.run_apart(_niceness, nice=nice)
        assert started is not None
        pool, future = started
        try:
            assert future.result(timeout=60) == expected
        finally:
            pool.shutdown()
    monkeypatch.setattr(parallel, "_read", _niceness)  # (the workers fork: they have it)
    location = BlobLocation("/dev/null", 0, 0)
    jobs = [parallel.BlobJob("a", location), parallel.BlobJob("b", location)]
    for nice, expected in ((0, here), (load_module.WINDOW_NICE, below)):
        results = parallel.read_in_processes(
            jobs, limits=DEFAULT_LIMITS, verify=False, capture=None,
            on_poll=lambda _s, _e: None, nice=nice,
        )  # fmt: skip
        assert results == [expected, expected]
