"""The one entry point from files to an Analysis, shared by the CLI and the GUI.

Progress and cancellation are plain Python: `progress(Progress)` is called as bytes are read,
and `cancel()` returning True stops the load with `Cancelled` at the next chunk.
"""

from __future__ import annotations

import gc
import hashlib
import os
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Literal, cast

from layerscope import malloc
from layerscope.analysis import Analysis, ArchiveInfo
from layerscope.analysis.dive import DiveFigures, dive_figures, dive_figures_of_tables
from layerscope.analysis.packages import ImagePackages, analyse_packages
from layerscope.analysis.packages.paths import wanted as package_file_wanted
from layerscope.analysis.shared import analyse_sharing
from layerscope.analysis.waste import Waste, analyse_waste
from layerscope.archive import ArchiveSource, BlobContents, ImageSource, read_blob
from layerscope.archive.compression import NONE, ReadTap
from layerscope.archive.container import BlobLocation, Container, open_location
from layerscope.archive.jsonutil import valid_digest
from layerscope.archive.source import declared_compression
from layerscope.archive.tarstream import LayerPart, Window, join_parts, read_part
from layerscope.cache import BlobRecord, Cache, ImageRecord, default_cache, key_hash, layer_key
from layerscope.errors import Cancelled, CorruptLayer, LayerscopeError, LimitExceeded, ManifestError
from layerscope.format import plural
from layerscope.jsonvalues import as_dict, as_list
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.model.entry import Entry, EntryTable
from layerscope.model.filesystem import FileSystem
from layerscope.model.image import (
    Image,
    ImageOutline,
    Layer,
    LayerOutline,
    Lazy,
    chain_ids,
    pair_history,
    parse_config,
)
from layerscope.remote import RemoteOptions, open_blobs, open_source

if TYPE_CHECKING:  # (concurrent.futures is 17 ms of imports a reopen does not need)
    from concurrent.futures import Future, ProcessPoolExecutor


@dataclass
class Progress:
    """Where a load is: a stage and the bytes read of those to read."""

    stage: str  # what is happening, for a status line
    done: int  # bytes read so far
    total: int  # bytes to read (stored sizes), 0 when unknown


class CancelToken:
    """Thread-safe flag a GUI sets and the loader polls."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True)
class SourceOutline:
    """What one archive or remote image holds, known once its manifests and configs are
    read and before any layer blob is: the refs, configs, history and layer digests and
    stored sizes of its images. `load(outline=...)` reports it so a window can show the
    layers at once while the blobs stream."""

    path: str
    format: str
    images: list[ImageOutline]
    warnings: list[str]


ProgressFn = Callable[[Progress], None]
OutlineFn = Callable[[SourceOutline], None]


class _Budget:
    """Progress, cancellation and the total-bytes bound of one load."""

    def __init__(
        self,
        limits: Limits,
        total: int,
        progress: ProgressFn | None,
        cancel: Callable[[], bool] | None,
    ):
        self.limits = limits
        self.total = total  # stored bytes of every layer blob to read
        self.done = 0
        self.stage = ""
        self.progress = progress
        self.cancel = cancel
        self.expanded = 0  # uncompressed bytes read so far
        self.path: str | None = None  # the blob being read, named in errors

    def on_bytes(self, n: int) -> None:
        """Called for each chunk of uncompressed layer data."""
        self.expanded += n
        self.check_total()

    def check_total(self) -> None:
        if self.expanded > self.limits.max_total_bytes:
            raise LimitExceeded(
                f"the archives expand past {self.limits.max_total_bytes} bytes in all",
                limit="max_total_bytes",
                path=self.path,
            )
        self.check_cancel()

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled()

    def report(self, stage: str) -> None:
        self.stage = stage
        self.advance(0)

    def advance(self, n: int) -> None:
        """Called for each chunk of stored blob bytes read."""
        self.done += n
        self.check_cancel()
        if self.progress is not None:
            self.progress(Progress(self.stage, self.done, self.total))


# The stage that starts once every layer blob is read (from the archive or the cache):
# what follows is the loader's own Python work (gui/head_start waits for the window here).
APPLYING = "Applying layers of"

_heap_fixed = False


def _fix_the_heap_threshold() -> None:
    """Ask glibc's malloc for a fixed mmap threshold instead of its sliding one (once).

    glibc raises the threshold to the size of every big block freed (up to 32 MiB), and
    the heap's trim threshold with it: once a reader's 15 MB result was freed, all the
    dict tables and lists below that size came from the heap, and what the analysis
    freed there (dive's trees, the waste walk's index) stayed in the process until it
    ended: 30 MiB of the 180,000-file image's peak. Fixed, blocks of 4 MiB and more are
    returned when freed and a free heap top is trimmed. Nothing happens without glibc.
    """
    global _heap_fixed
    if not _heap_fixed:
        _heap_fixed = True
        malloc.set_thresholds(mmap=malloc.MMAP_THRESHOLD)


# Below this many stored bytes, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 64 * 1024 * 1024

# A window's loads run their processes this much below the window (os.nice): two readers
# kept both cores busy while the window filled itself with the outline, and its event
# loop's longest stall was 32-96 ms there; so, 34-48 ms (4 runs each, the benchmark
# image), and the load ends as soon: the cores the readers yield are the window's for a
# moment at a time. A CLI's readers keep their priority (a CI job's report is wanted now,
# beside other jobs).
WINDOW_NICE = 5


def _read_blobs(
    source: ArchiveSource,
    sizes: dict[str, int],
    budget: _Budget,
    limits: Limits,
    verify: bool,
    nice: int,
) -> dict[str, BlobContents]:
    """Parse every layer blob of one archive once: in worker processes when the blobs lie
    on disk and are worth it, else here, in the order the archive stores them."""
    if sizes:
        _fix_the_heap_threshold()  # before the tables: a load from the cache may make none
    locations = {name: source.container.locate(name) for name in sizes}
    if len(sizes) > 1 and sum(sizes.values()) >= PARALLEL_MIN_BYTES and all(locations.values()):
        # here, not at the top: multiprocessing and concurrent.futures are 17 ms of imports
        # a load from the cache (a reopen) does not need
        from concurrent.futures.process import BrokenProcessPool

        from layerscope.archive.parallel import worker_count

        if worker_count(len(sizes)) > 1:
            try:
                return _read_in_workers(source, locations, budget, limits, verify, nice)  # type: ignore[arg-type]
            except BrokenProcessPool:
                pass  # workers cannot start here (a script without a __main__ guard): read here
    parsed: dict[str, BlobContents] = {}
    base = os.path.basename(source.path)
    count = len(sizes)

    def handle(name: str, raw: BinaryIO) -> None:
        budget.stage = f"Reading {base}: layer {len(parsed) + 1} of {count}"
        budget.path = f"{source.path}: {name}"
        parsed[name] = read_blob(
            cast(BinaryIO, ReadTap(raw, lambda data: budget.advance(len(data)))),
            name=f"{source.path}: {name}",
            limits=limits,
            on_bytes=budget.on_bytes,
            verify=verify,
            capture=package_file_wanted,
        )

    source.container.stream_blobs(list(sizes), handle)
    return parsed


def _read_in_workers(
    source: ArchiveSource,
    locations: dict[str, BlobLocation],
    budget: _Budget,
    limits: Limits,
    verify: bool,
    nice: int,
) -> dict[str, BlobContents]:
    from concurrent.futures.process import BrokenProcessPool

    from layerscope.archive.parallel import BlobJob, read_in_processes, split, worker_count

    names = {f"{source.path}: {name}": name for name in locations}  # by the jobs' labels
    jobs = split(
        [BlobJob(label, locations[name]) for label, name in names.items()],
        worker_count(len(names)),
        limits,
    )
    budget.stage = f"Reading {os.path.basename(source.path)}: {len(names)} layers"
    budget.path = source.path
    seen = [0, 0]  # stored and expanded bytes already counted

    def on_poll(stored: int, expanded: int) -> None:
        budget.expanded += expanded - seen[1]
        seen[1] = expanded
        budget.check_total()
        budget.advance(stored - seen[0])
        seen[0] = stored

    try:
        results = read_in_processes(
            jobs,
            limits=limits,
            verify=verify,
            capture=package_file_wanted,
            on_poll=on_poll,
            nice=nice,
        )
    except BrokenProcessPool:
        budget.done -= seen[0]  # read again here: count it once
        budget.expanded -= seen[1]
        raise
    read: dict[str, BlobContents] = {}
    parts: dict[str, list[LayerPart]] = {}
    for job, result in zip(jobs, results, strict=True):
        if job.part is None:
            read[names[job.label]] = result
        else:
            parts.setdefault(job.label, []).append(result)
    for label, pieces in parts.items():
        name = names[label]

        def reread(
            window: Window, location: BlobLocation = locations[name], label: str = label
        ) -> LayerPart:
            # a window whose part began inside some file (a tar in the layer): read again
            # here, from the header the part before it reached
            with open_location(location) as raw:
                return read_part(
                    raw,
                    window,
                    layer=label,
                    limits=limits,
                    exact=True,
                    on_bytes=lambda _n: budget.check_cancel(),
                    capture=package_file_wanted,
                )

        layer = join_parts(pieces, layer=label, limits=limits, reread=reread)
        if layer is not None:
            read[name] = BlobContents(layer, NONE, layer.diff_id, layer.stream_bytes)
            continue
        # The files the parts kept may not be one pass's (past the capture limits): read
        # the layer whole, here; its bytes were counted once.
        with open_location(locations[name]) as raw:
            read[name] = read_blob(
                raw,
                name=label,
                limits=limits,
                on_bytes=lambda _n: budget.check_cancel(),
                verify=verify,
                capture=package_file_wanted,
            )
    return {name: read[name] for name in locations}


def _layer_blob_stats(source: ArchiveSource) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for image in source.images:
        for layer in image.layers:
            if layer.blob is not None and layer.unavailable is None:
                sizes[layer.blob] = (
                    layer.size if layer.size is not None else source.container.size(layer.blob)
                )
    return sizes


@dataclass
class _Blob:
    """One layer blob's results: just read (its entries in memory) or from the cache."""

    record: BlobRecord
    table: EntryTable | None  # None: in the cache, loaded when the entries are wanted

    def lazy_entries(
        self, cache: Cache | None, reread: Callable[[], EntryTable]
    ) -> Lazy[list[Entry]]:
        table = self.table
        if table is not None:
            # New Entry objects for every layer, even when one blob serves two layers of a
            # stack (identical layers, stored once): each layer ships its own bytes, and the
            # model and the waste analysis tell shipments apart by Entry identity.
            return Lazy(table.entries)
        diff_id = self.record.diff_id

        def from_cache() -> list[Entry]:
            _fix_the_heap_threshold()  # the entries and the tree come next
            found = cache.get_entries(diff_id) if cache is not None else None
            # gone since (evicted, damaged): read the blob again from its archive
            return (found if found is not None else reread()).entries()

        return Lazy(from_cache)


def _reread(
    path: str, blob: str, diff_id: str, limits: Limits, remote: RemoteOptions | None
) -> Callable[[], EntryTable]:
    """Reads one layer blob again, after the load (when the cache lost its entries)."""

    def read() -> EntryTable:
        source = open_source(path, limits, remote or RemoteOptions(), _no_progress, _never)
        try:
            with source.container.open_blob(blob) as raw:
                parsed = read_blob(
                    raw, name=f"{path}: {blob}", limits=limits, capture=package_file_wanted
                ).parsed
        finally:
            source.container.close()
        if parsed.diff_id != diff_id:
            raise CorruptLayer(f"{blob} changed since it was read (diff_id {parsed.diff_id})",
                               path=path)  # fmt: skip
        return parsed.table

    return read


def _reopen(path: str, limits: Limits, remote: RemoteOptions | None) -> Callable[[], Container]:
    """Opens a registry image's blobs again, to read its files after the load."""
    return lambda: open_blobs(path, remote or RemoteOptions(), limits)


def _no_progress(_stage: str, _done: int, _total: int) -> None:
    pass


def _blob_keys(source: ArchiveSource) -> dict[str, str]:
    """The cache key of each layer blob: its digest where the archive names one (content
    addressing), else the archive file's identity and the blob's place in it."""
    keys: dict[str, str] = {}
    identity: tuple[object, ...] | None = None
    try:
        st = os.stat(source.path)
        identity = (os.path.realpath(source.path), st.st_dev, st.st_ino, st.st_size,
                    st.st_mtime_ns, st.st_ctime_ns)  # fmt: skip
    except OSError:
        pass  # not a file (a registry or an engine): only digests identify its blobs
    for image in source.images:
        for layer in image.layers:
            if layer.blob is None or layer.unavailable is not None:
                continue
            if valid_digest(layer.digest):
                keys[layer.blob] = key_hash("digest", layer.digest)
            elif identity is not None:
                location = source.container.locate(layer.blob)
                keys[layer.blob] = key_hash("file", identity, layer.blob, location)
    return keys


def _expected_diff_ids(source: ArchiveSource) -> dict[str, set[str]]:
    expected: dict[str, set[str]] = {}
    for image in source.images:
        diff_ids = as_list(as_dict(image.config.get("rootfs")).get("diff_ids"))
        for layer in image.layers:
            if layer.blob is not None and layer.index < len(diff_ids):
                expected.setdefault(layer.blob, set()).add(str(diff_ids[layer.index]))
    return expected


def _cached_blobs(source: ArchiveSource, keys: dict[str, str], cache: Cache) -> dict[str, _Blob]:
    """The blobs the cache knows, whose layer it still holds and whose diff_id is the one
    the config expects (anything else is read again)."""
    expected = _expected_diff_ids(source)
    found: dict[str, _Blob] = {}
    for blob, key in keys.items():
        record = cache.get_blob(key)
        if (
            record is not None
            and expected.get(blob) == {record.diff_id}
            and cache.has_entries(record.diff_id)
        ):
            found[blob] = _Blob(record, None)
    if source.container.fetches_blobs:
        found.update(_cached_layers(source, expected, set(found), cache))
    return found


def _cached_layers(
    source: ArchiveSource, expected: dict[str, set[str]], found: set[str], cache: Cache
) -> dict[str, _Blob]:
    """Blobs to download whose layer the cache holds from another blob (an archive's tar,
    a registry's gzip of it): found by the diff_id the config gives, so not downloaded.

    Only for a registry: there the config was checked against its digest, and a download
    is what is saved. The blob's own fields come from its descriptor (compression as its
    media type declares; its stored digest stays unchecked, as nothing of it was read).
    """
    reused: dict[str, _Blob] = {}
    for image in source.images:
        for ls in image.layers:
            blob = ls.blob
            if blob is None or blob in found or blob in reused or ls.unavailable is not None:
                continue
            diff_ids = expected.get(blob, set())
            compression = declared_compression(ls.media_type)
            if len(diff_ids) != 1 or compression is None or ls.size is None:
                continue
            (diff_id,) = diff_ids
            if compression == NONE and ls.digest != diff_id:
                continue  # an uncompressed blob is its tar: its digest would be the diff_id
            record = cache.get_blob(layer_key(diff_id))
            if record is None or record.diff_id != diff_id or not cache.has_entries(diff_id):
                continue
            reused[blob] = _Blob(record.stored_as(compression, None, ls.size), None)
    return reused


def _read_layers(
    source: ArchiveSource,
    sizes: dict[str, int],
    budget: _Budget,
    limits: Limits,
    verify: bool,
    cache: Cache | None,
    nice: int,
) -> dict[str, _Blob]:
    """Every layer blob of one archive: from the cache, else read (and then kept there)."""
    keys = _blob_keys(source) if cache is not None else {}
    blobs = _cached_blobs(source, keys, cache) if cache is not None and not verify else {}
    budget.done += sum(sizes[name] for name in blobs)
    to_read = {name: size for name, size in sizes.items() if name not in blobs}
    for name, contents in _read_blobs(source, to_read, budget, limits, verify, nice).items():
        record = BlobRecord.of(contents)
        blobs[name] = _Blob(record, contents.parsed.table)
        if cache is not None and name in keys:
            cache.put_entries(record.diff_id, contents.parsed.table)
            cache.put_blob(keys[name], record)
            cache.put_blob(layer_key(record.diff_id), record)  # for the layer's other blobs
    if to_read:
        # What reading left free inside the heap (the readers' results, unpickled and
        # joined, and their buffers) is handed back before the model is built: else the
        # holes stay resident under it, 1 to 7 MiB of the benchmark report's peak (163-169
        # MiB over three runs, 162 in each with this; it takes 2 ms).
        malloc.trim()
    return blobs


def load(
    paths: Sequence[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    verify: bool = False,
    remote: RemoteOptions | None = None,
    cache: Cache | None | Literal["default"] = "default",
    need_filesystem: bool = True,
    outline: OutlineFn | None = None,
    for_window: bool = False,
) -> Analysis:
    """Read every archive (or registry://, podman://, docker:// image), apply every image's
    layers, and analyse them.

    `cache`: the persistent cache ("default": the user's; None: none). With it, layers and
    analyses seen before are not read or computed again (except with `verify`, which reads
    every blob). `need_filesystem=False` lets an image from the cache leave its tree unmade
    until it is used; the GUI wants it made here, off its thread. `outline(SourceOutline)`
    is called for each source once its manifests and configs are read, before its blobs.
    `for_window`: the load feeds a window on this machine. Its processes run below the
    window's threads (WINDOW_NICE), and a big image's dive figures are made in a
    process of their own while this one builds the model (DIVE_APART_MIN_ENTRIES): the
    window's time to its tree and its event loop count for more than that process's
    memory, which the CLI keeps to itself.
    """
    if cache == "default":
        cache = default_cache()
    # No cyclic garbage collection while the model grows: each full collection walks every
    # object made so far (hundreds of milliseconds on a big image, holding the GIL, so the
    # window would stall), and a load makes next to no cyclic garbage.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _load(
            paths, limits, progress, cancel, verify, remote, cache, need_filesystem, outline,
            for_window,
        )  # fmt: skip
    finally:
        if collecting:
            gc.enable()


def _load(
    paths: Sequence[str],
    limits: Limits,
    progress: ProgressFn | None,
    cancel: Callable[[], bool] | None,
    verify: bool,
    remote: RemoteOptions | None,
    cache: Cache | None,
    need_filesystem: bool,
    outline: OutlineFn | None,
    for_window: bool,
) -> Analysis:
    nice = WINDOW_NICE if for_window else 0
    sources: list[ArchiveSource] = []
    blob_sizes: list[dict[str, int]] = []  # per source: each layer blob's stored size
    outlines: list[SourceOutline] = []

    def on_progress(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(Progress(stage, done, total))

    try:
        for path in paths:
            if cancel is not None and cancel():
                raise Cancelled()
            if progress is not None:
                progress(Progress(f"Reading {os.path.basename(path)}", 0, 0))
            source = open_source(
                path, limits, remote or RemoteOptions(), on_progress, cancel or _never
            )
            sources.append(source)
            blob_sizes.append(_layer_blob_stats(source))
            outlines.append(_outline(source, blob_sizes[-1]))
            if outline is not None:
                outline(outlines[-1])
        budget = _Budget(limits, sum(sum(b.values()) for b in blob_sizes), progress, cancel)
        contents = [
            _read_layers(source, sizes, budget, limits, verify, cache, nice)
            for source, sizes in zip(sources, blob_sizes, strict=True)
        ]

        images: list[Image] = []
        archives: list[ArchiveInfo] = []
        figures: list[tuple[Waste, DiveFigures, ImagePackages]] = []
        for archive_index, (source, blobs) in enumerate(zip(sources, contents, strict=True)):
            archives.append(ArchiveInfo(source.path, source.format, list(source.warnings)))
            # how many layers still to build use each blob: its table goes after the last
            uses = Counter(ls.blob for image in source.images for ls in image.layers)
            for image_source, image_outline in zip(
                source.images, outlines[archive_index].images, strict=True
            ):
                budget.report(f"{APPLYING} {image_outline.name}")
                image, waste, dive, packages = _build_image(
                    source, archive_index, image_source, image_outline, blobs, uses, budget,
                    cache, limits, remote, for_window, nice,
                )  # fmt: skip
                images.append(image)
                figures.append((waste, dive, packages))
        del contents  # the entry tables: each image holds what it needs
        if need_filesystem:
            for image in images:
                budget.report(f"{APPLYING} {image.name}")
                image.filesystem  # noqa: B018 - made here, not where it is first shown
    finally:
        for s in sources:
            s.container.close()
        if cache is not None:
            cache.trim()
    budget.report("Analysing")
    return Analysis(
        archives=archives,
        images=images,
        waste=[w for w, _d, _p in figures],
        dive=[d for _w, d, _p in figures],
        sharing=analyse_sharing(images),
        packages=[p for _w, _d, p in figures],
    )


def _never() -> bool:
    return False


def _outline(source: ArchiveSource, stored: dict[str, int]) -> SourceOutline:
    """The source's images as their manifests and configs describe them; a config that
    does not fit its manifest is refused here, before any blob is read."""
    images = [
        _outline_image(source, index, image_source, stored)
        for index, image_source in enumerate(source.images)
    ]
    return SourceOutline(source.path, source.format, images, list(source.warnings))


def _outline_image(
    source: ArchiveSource, image_index: int, image_source: ImageSource, stored: dict[str, int]
) -> ImageOutline:
    path = source.path
    config = parse_config(image_source.config)
    if config.rootfs_type not in (None, "layers"):
        raise ManifestError(
            f"rootfs.type is {config.rootfs_type!r}, not 'layers'",
            path=path,
            member=image_source.config_name,
        )
    layer_count = len(image_source.layers)
    if len(config.diff_ids) != layer_count:
        raise ManifestError(
            f"the config lists {plural(len(config.diff_ids), 'diff_id')} for "
            f"{plural(layer_count, 'layer')}",
            path=path,
            member=image_source.config_name,
        )
    history, history_warnings = pair_history(config, layer_count)
    layers = [
        LayerOutline(
            index=ls.index,
            diff_id=config.diff_ids[ls.index],
            digest=ls.digest,
            media_type=ls.media_type,
            stored_bytes=stored.get(ls.blob, ls.size) if ls.blob is not None else ls.size,
            history=history[ls.index],
            unavailable=ls.unavailable,
        )
        for ls in image_source.layers
    ]
    return ImageOutline(
        archive_path=path,
        archive_format=source.format,
        index_in_archive=image_index,
        refs=list(image_source.refs),
        config_digest="sha256:" + hashlib.sha256(image_source.config_bytes).hexdigest(),
        manifest_digest=image_source.manifest_digest,
        config=config,
        layers=layers,
        platform=image_source.platform or config.platform,
        warnings=list(image_source.warnings) + history_warnings,
    )


def _build_image(
    source: ArchiveSource,
    archive_index: int,
    image_source: ImageSource,
    outline: ImageOutline,
    blobs: dict[str, _Blob],
    uses: Counter[str | None],
    budget: _Budget,
    cache: Cache | None,
    limits: Limits,
    remote: RemoteOptions | None,
    dive_apart: bool,
    nice: int,
) -> tuple[Image, Waste, DiveFigures, ImagePackages]:
    """An image with its layers, and its waste, dive and package figures: from the cache when it
    holds this config over these layers, else computed (and then kept there)."""
    path = source.path
    config = outline.config
    warnings = list(outline.warnings)
    layers: list[Layer] = []
    diff_ids: list[str] = []
    tables: list[EntryTable | None] = []  # each layer's, where it was just read
    for ls in image_source.layers:
        expected = config.diff_ids[ls.index]
        blob = blobs.get(ls.blob) if ls.blob is not None and ls.unavailable is None else None
        if blob is None:
            diff_id = expected
            digest = ls.digest
            warnings.append(f"layer {ls.index}: {ls.unavailable}")
            layer = Layer(
                index=ls.index,
                diff_id=diff_id,
                chain_id="",
                digest=digest,
                media_type=ls.media_type or _docker_media_type("unknown"),
                compression="unknown",
                size_bytes=0,
                tar_bytes=0,
                compressed_bytes=ls.size if ls.size is not None else 0,
                lazy_entries=[],
                history=outline.layers[ls.index].history,
                unavailable=ls.unavailable,
            )
        else:
            record = blob.record
            diff_id = record.diff_id
            if diff_id != expected:
                raise CorruptLayer(
                    f"layer {ls.index} ({ls.blob}) has diff_id {diff_id}, "
                    f"but the config says {expected}",
                    path=path,
                )
            if record.stored_digest and ls.digest and record.stored_digest != ls.digest:
                raise CorruptLayer(
                    f"layer {ls.index} blob does not match its digest {ls.digest}",
                    path=path,
                    member=ls.blob,
                )
            fields = record.layer_fields
            layer_warnings = list(fields["warnings"])
            warnings.extend(f"layer {ls.index}: {w}" for w in layer_warnings)
            layer = Layer(
                index=ls.index,
                diff_id=diff_id,
                chain_id="",
                digest=ls.digest or record.stored_digest,
                media_type=ls.media_type or _docker_media_type(record.compression),
                compression=record.compression,
                size_bytes=record.size_bytes,
                tar_bytes=fields["stream_bytes"],
                compressed_bytes=ls.size if ls.size is not None else fields["stream_bytes"],
                lazy_entries=blob.lazy_entries(
                    cache,
                    _reread(path, ls.blob, diff_id, limits, remote),  # type: ignore[arg-type]
                ),
                history=outline.layers[ls.index].history,
                unavailable=ls.unavailable,
                warnings=layer_warnings,
                captured=fields["captured"],
                blob=ls.blob,
                known_dive_size=record.dive_size,
                known_entry_count=record.entry_count,
            )
        diff_ids.append(diff_id)
        layers.append(layer)
        tables.append(blob.table if blob is not None else None)
    for layer, chain in zip(layers, chain_ids(diff_ids), strict=True):
        layer.chain_id = chain
    for ls in image_source.layers:
        uses[ls.blob] -= 1
        if not uses[ls.blob] and ls.blob in blobs:
            # the layers hold it now, until they make their entries from it
            blobs[ls.blob].table = None
    config_digest = outline.config_digest
    key = key_hash("image", config_digest, [(la.diff_id, la.unavailable) for la in layers])
    known = cache.get_image(key) if cache is not None else None

    def apply_layers() -> FileSystem:
        fs = FileSystem()
        for layer in layers:
            fs.apply(layer.entries, budget.check_cancel)
        return fs

    image = Image(
        archive_index=archive_index,
        archive_path=path,
        archive_format=source.format,
        index_in_archive=outline.index_in_archive,
        refs=image_source.refs,
        config_digest=config_digest,
        manifest_digest=image_source.manifest_digest,
        config=config,
        layers=layers,
        lazy_filesystem=Lazy(apply_layers),
        platform=outline.platform,
        warnings=warnings,
        reopen=_reopen(path, limits, remote) if source.container.fetches_blobs else None,
    )
    if known is not None:
        image.known_counts = known.counts
        warnings.extend(known.filesystem_warnings)
        return image, known.waste, known.dive, known.packages
    apart = _start_dive_apart(tables, layers, nice) if dive_apart else None
    if apart is None:
        # dive's figures need only the entries: made before the stacked tree, their
        # per-layer trees are gone when it grows, and the two never take memory at once.
        # From the tables where the layers were just read: the Entry objects come after
        # the trees are gone, into the memory they leave.
        if all(table is not None for table in tables):
            sizes = [layer.dive_size for layer in layers]
            dive = dive_figures_of_tables(
                cast(list[EntryTable], tables), sizes, budget.check_cancel
            )
        else:
            dive = dive_figures(image, budget.check_cancel)
    del tables
    fs = image.filesystem
    warnings.extend(fs.warnings)
    budget.report(f"Analysing {image.name}")
    waste = analyse_waste(image, budget.check_cancel)
    packages = analyse_packages(image, budget.check_cancel)
    if apart is not None:
        dive = _finish_dive_apart(apart, image, budget)
    if cache is not None:
        cache.put_image(key, ImageRecord(waste, dive, packages, fs.counts, list(fs.warnings)))
    return image, waste, dive, packages


# From this many entries an image's dive figures are worth a process of their own (with
# `for_window`): 0.25 s of the benchmark image's 180,000 run beside the model, for 20 ms
# of pickling the tables (17.6 MiB) here. (The bound is a judgment, not a measurement:
# below it, the figures take tens of milliseconds and a process's start is not free.)
# The process holds the tables and dive's trees while it runs (82 MiB at its peak for
# that image, its interpreter included): the window asks for it (its time to a tree
# counts most), the CLI does not (its peak memory does).
DIVE_APART_MIN_ENTRIES = 50_000


def _start_dive_apart(
    tables: list[EntryTable | None], layers: list[Layer], nice: int
) -> tuple[ProcessPoolExecutor, Future[DiveFigures]] | None:
    """dive's figures from the layers' tables in a process of their own, when every layer
    was just read (a cached layer's table is not in memory) and the image is big enough."""
    if any(table is None for table in tables):
        return None
    ready = cast(list[EntryTable], tables)
    if sum(len(table) for table in ready) < DIVE_APART_MIN_ENTRIES:
        return None
    from layerscope.archive.parallel import run_apart

    sizes = [layer.dive_size for layer in layers]
    return run_apart(dive_figures_of_tables, ready, sizes, nice=nice)


def _finish_dive_apart(
    apart: tuple[ProcessPoolExecutor, Future[DiveFigures]], image: Image, budget: _Budget
) -> DiveFigures:
    """The figures from their process (cancellable while it runs); computed here instead
    where the process failed (it could not start, or was killed)."""
    from concurrent.futures import wait

    from layerscope.archive.parallel import POLL_SECONDS

    pool, future = apart
    try:
        while not wait([future], timeout=POLL_SECONDS).done:
            budget.check_cancel()
        return future.result()
    except Cancelled:
        raise
    except Exception:  # noqa: BLE001 - whatever stopped the process: the figures are made here
        return dive_figures(image, budget.check_cancel)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _docker_media_type(compression: str) -> str | None:
    base = "application/vnd.docker.image.rootfs.diff.tar"
    return {"none": base, "gzip": base + ".gzip", "zstd": base + ".zstd"}.get(compression)


__all__ = ["CancelToken", "LayerscopeError", "Progress", "SourceOutline", "load"]
