"""Reading layer blobs in worker processes: layers decode independently, so each core reads one.

Only blobs that lie on disk (a plain tar's members, a directory's files) can be read this way;
each worker opens the file itself and reads its window. What comes back is the picklable
BlobContents (a ParsedLayer's entries as columns), so the transfer costs little next to the
reading. Progress and cancellation cross through shared memory: each job counts its stored
and expanded bytes in slots of its own, and a shared event tells every worker to stop.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar, cast

from layerscope import malloc
from layerscope.archive.compression import NONE, ReadTap, sniff
from layerscope.archive.container import BlobLocation, open_location
from layerscope.archive.tarstream import BLOCK, LayerPart, Window, read_part
from layerscope.errors import Cancelled
from layerscope.limits import Limits

POLL_SECONDS = 0.05
T = TypeVar("T")


@dataclass(frozen=True)
class BlobJob:
    label: str  # "archive: member", named in errors
    location: BlobLocation
    # A part of an uncompressed layer: the window its members' headers lie in
    # (tarstream.read_part); None: the whole blob, whatever its compression.
    part: Window | None = None

    @property
    def cost(self) -> int:
        """Bytes it reads: the first part reads the whole blob (for the diff_id)."""
        part = self.part
        if part is None or part.start == 0:
            return self.location.size
        return (self.location.size if part.stop is None else part.stop) - part.start


# A part of a layer is worth a job of its own from this size on. Parts let both cores read
# one big layer: the benchmark image's 150,000 small files are a third of its bytes and
# took 1.2 s to parse in one worker while the other was done with the rest at 0.8 s.
PART_MIN_BYTES = 32 * 1024 * 1024
PARTS_PER_WORKER = 8  # parts of the whole archive's bytes per worker: the last ones even out


def split(jobs: Sequence[BlobJob], workers: int, limits: Limits) -> list[BlobJob]:
    """Each job whose blob is an uncompressed tar big enough, cut into parts (in order).
    A blob past max_layer_bytes is read whole: one pass names that limit where it is
    crossed, and the first part would only find out reading the rest for the diff_id."""
    total = sum(job.location.size for job in jobs)
    per_part = max(PART_MIN_BYTES, total // (PARTS_PER_WORKER * workers))
    out: list[BlobJob] = []
    for job in jobs:
        size = job.location.size
        count = size // per_part
        if count < 2 or size > limits.max_layer_bytes or not _plain_tar(job.location):
            out.append(job)
            continue
        step = size // count // BLOCK * BLOCK
        starts = [i * step for i in range(count)]
        stops: list[int | None] = [*starts[1:], None]
        out.extend(
            BlobJob(job.label, job.location, Window(start, stop, count))
            for start, stop in zip(starts, stops, strict=True)
        )
    return out


def _plain_tar(location: BlobLocation) -> bool:
    """Whether a blob is an uncompressed tar starting with a ustar header (read_part needs
    the magic to find headers; a v7 tar without it is read whole). A compressed stream
    can hold "ustar" there too (a gzip header's file name): its magic is looked at first."""
    try:
        with open_location(location) as raw:
            head = raw.read(BLOCK)
    except OSError:
        return False
    return len(head) == BLOCK and sniff(head) == NONE and head[257:262] == b"ustar"


def start_method() -> str:
    """fork in a process with one thread (the CLI); beside other threads (the window), a
    fork server's.

    A forked worker starts at once with the modules the loader has, and needs no resource
    tracker process (spawn's semaphores do: 12 MiB the whole run). But fork copies the
    locks of every other thread in whatever state they are in, so a process with more
    than one thread (Qt's, a GUI load in a pool thread) forks its workers from a fork
    server instead: a clean process of one thread, started once (start_fork_server) with
    the reader's modules imported. A fresh interpreter per worker (spawn) is the fallback
    where there is none.
    """
    try:
        alone = len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc (not Linux): no way to know
        alone = False
    methods = multiprocessing.get_all_start_methods()
    if alone and "fork" in methods:
        return "fork"
    return "forkserver" if "forkserver" in methods and not _fork_server_failed else "spawn"


# What a worker imports to read a blob: the fork server imports it once, before forking.
WORKER_MODULES = ["layerscope.archive", "layerscope.archive.parallel",
                  "layerscope.analysis.packages.paths"]  # fmt: skip


_fork_server_failed = False  # it could not start here (its socket, its process): spawn


def start_fork_server() -> None:
    """Start the fork server now, with the reader's modules imported: the window calls this
    before it imports Qt, so the server's start-up runs beside Qt's instead of delaying the
    first load's workers (a spawned worker is a fresh interpreter importing the reader
    while the window waits). Where it cannot start, workers are spawned instead."""
    global _fork_server_failed
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(WORKER_MODULES)
    try:
        forkserver.ensure_running()
    except OSError:
        _fork_server_failed = True


def run_apart(
    fn: Callable[..., T], *args: Any, nice: int = 0
) -> tuple[ProcessPoolExecutor, Future[T]] | None:
    """fn(*args) in a process of its own (`nice` steps below this one), beside this one;
    None where that would cost more than it saves. The process is forked from the fork
    server (or, in a process of one thread, from this one); a fresh interpreter (spawn)
    would spend the time it saves starting. The caller shuts the pool down once it has the
    result (or gives up on it). `fn` and the arguments cross by pickle."""
    method = start_method()
    if method == "spawn":
        return None
    pool = ProcessPoolExecutor(
        1,
        mp_context=multiprocessing.get_context(method),
        initializer=lower_priority,
        initargs=(nice,),
    )
    try:
        return pool, pool.submit(fn, *args)
    except (OSError, BrokenProcessPool):  # it cannot start here
        pool.shutdown(wait=False)
        return None


def worker_count(jobs: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, jobs))


# -- in the worker ------------------------------------------------------------------------

_counters: Any = None  # shared array: [stored bytes, expanded bytes] per job
_stop: Any = None  # shared event: stop reading


# A worker reads in 1 MiB chunks, each a new bytes object freed soon after. They must come
# from the heap and stay there once freed: under mmap's default threshold (128 KiB) each
# chunk is mapped and unmapped, and under the default trim threshold (128 KiB) each one
# freed at the top of the heap goes back to the kernel; either way the next chunk is
# faulted in again, page by page (60,000 of the 180,000 page faults of the benchmark
# image's report, 0.12 s of its 2.6 s). A worker lives for one load: it keeps up to
# WORKER_TRIM_THRESHOLD of freed heap (its peak is the same; it is not handed back sooner).
# Both are set: the fork server's workers start with glibc's sliding thresholds, and
# setting the trim threshold alone would keep mmap's at 128 KiB.
WORKER_TRIM_THRESHOLD = 64 * 1024 * 1024


def _init(counters: Any, stop: Any, nice: int = 0) -> None:
    global _counters, _stop
    _counters, _stop = counters, stop
    malloc.set_thresholds(mmap=malloc.MMAP_THRESHOLD, trim=WORKER_TRIM_THRESHOLD)
    lower_priority(nice)


def lower_priority(nice: int) -> None:
    """Run this process `nice` steps below the one that started it (where the system has
    priorities; never an error)."""
    if nice and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError:
            pass


def _read(
    slot: int,
    job: BlobJob,
    limits: Limits,
    verify: bool,
    capture: Callable[[str], bool] | None,
) -> object:
    if job.part is not None:
        return _read_part(slot, job, job.part, limits, capture)
    from layerscope.archive import read_blob  # the package imports this module

    counters, stop = _counters, _stop

    def on_stored(data: bytes) -> None:
        counters[2 * slot] += len(data)

    def on_bytes(n: int) -> None:
        counters[2 * slot + 1] += n
        if stop.is_set():
            raise Cancelled()

    with open_location(job.location) as raw:
        return read_blob(
            cast(BinaryIO, ReadTap(raw, on_stored)),
            name=job.label,
            limits=limits,
            on_bytes=on_bytes,
            verify=verify,
            capture=capture,
        )


def _read_part(
    slot: int,
    job: BlobJob,
    window: Window,
    limits: Limits,
    capture: Callable[[str], bool] | None,
) -> LayerPart:
    counters, stop = _counters, _stop
    # Each part counts the bytes it parses, up to its window's length: so the progress of
    # a blob adds up to its size and moves as the parts parse. (The first part's reading
    # of the rest, for the diff_id, is not counted: it is the other parts' bytes.)
    end = job.location.size if window.stop is None else window.stop
    left = [end - window.start]

    def on_bytes(n: int) -> None:
        n = min(n, left[0])
        left[0] -= n
        counters[2 * slot] += n
        counters[2 * slot + 1] += n
        if stop.is_set():
            raise Cancelled()

    def on_rest(_n: int) -> None:
        if stop.is_set():
            raise Cancelled()

    with open_location(job.location) as raw:
        part = read_part(
            raw,
            window,
            layer=job.label,
            limits=limits,
            on_bytes=on_bytes,
            on_rest=on_rest,
            capture=capture,
        )
    # what it skipped looking for its first header (or all of a window it found none in)
    counters[2 * slot] += left[0]
    counters[2 * slot + 1] += left[0]
    return part


# -- in the loader ------------------------------------------------------------------------


def read_in_processes(
    jobs: Sequence[BlobJob],
    *,
    limits: Limits,
    verify: bool,
    capture: Callable[[str], bool] | None,
    on_poll: Callable[[int, int], None],
    nice: int = 0,
) -> list[Any]:
    """Read every job's blob in worker processes (`nice` steps below this one); return their
    results (BlobContents, or LayerPart for a part) in job order.

    `capture` (see read_layer) must be a module-level function: it crosses by name.

    `on_poll(stored, expanded)` is called about every 50 ms with the bytes read so far over
    all jobs; it may raise (cancellation, the load's byte budget) to stop every worker. The
    first error a worker raises is raised here, once the others have stopped.
    """
    global _fork_server_failed
    method = start_method()
    ctx = multiprocessing.get_context(method)
    counters = ctx.Array("q", 2 * len(jobs), lock=False)
    stop = ctx.Event()
    # Largest first, so that the last job to start is a small one.
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].cost)
    with ProcessPoolExecutor(
        worker_count(len(jobs)), mp_context=ctx, initializer=_init, initargs=(counters, stop, nice)
    ) as pool:
        try:  # the first submit starts the workers
            futures: dict[Future[Any], int] = {
                pool.submit(_read, i, jobs[i], limits, verify, capture): i for i in order
            }
        except OSError as exc:  # they cannot start here: the loader reads the blobs itself
            if method == "forkserver":  # the next load spawns its workers instead
                _fork_server_failed = True
            raise BrokenProcessPool(f"reader processes cannot start: {exc}") from exc
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
                if any(f.exception() is not None for f in done):
                    break
                on_poll(sum(counters[0::2]), sum(counters[1::2]))
        finally:
            if pending:
                stop.set()
                for f in pending:
                    f.cancel()
                wait(pending)
        errors = [f for f in futures if f.done() and not f.cancelled() and f.exception()]
        real = [f for f in errors if not isinstance(f.exception(), Cancelled)]
        if real or errors:
            raise cast(BaseException, (real or errors)[0].exception())
        on_poll(sum(counters[0::2]), sum(counters[1::2]))
        results: list[Any] = [None] * len(jobs)
        for f, i in futures.items():
            results[i] = f.result()
        return results
