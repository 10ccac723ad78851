"""The one entry point from files to an Analysis, shared by the CLI and the GUI.

Progress and cancellation are plain Python: `progress(Progress)` is called as bytes are read,
and `cancel()` returning True stops the load with `Cancelled` at the next chunk.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import BinaryIO, cast

from layerscope.analysis import Analysis, ArchiveInfo, analyse
from layerscope.analysis.packages.paths import wanted as package_file_wanted
from layerscope.archive import ArchiveSource, BlobContents, ImageSource, read_blob
from layerscope.archive.compression import ReadTap
from layerscope.archive.container import BlobLocation
from layerscope.archive.parallel import BlobJob, read_in_processes, worker_count
from layerscope.errors import Cancelled, CorruptLayer, LayerscopeError, LimitExceeded, ManifestError
from layerscope.format import plural
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.model.entry import Kind
from layerscope.model.filesystem import FileSystem
from layerscope.model.image import Image, Layer, chain_ids, pair_history, parse_config
from layerscope.remote import RemoteOptions, open_source


@dataclass
class Progress:
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


ProgressFn = Callable[[Progress], None]


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


# Below this many stored bytes, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 64 * 1024 * 1024


def _read_blobs(
    source: ArchiveSource, sizes: dict[str, int], budget: _Budget, limits: Limits, verify: bool
) -> dict[str, BlobContents]:
    """Parse every layer blob of one archive once: in worker processes when the blobs lie
    on disk and are worth it, else here, in the order the archive stores them."""
    locations = {name: source.container.locate(name) for name in sizes}
    if (
        len(sizes) > 1
        and sum(sizes.values()) >= PARALLEL_MIN_BYTES
        and worker_count(len(sizes)) > 1
        and all(locations.values())
    ):
        return _read_in_workers(source, locations, budget, limits, verify)  # type: ignore[arg-type]
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
) -> dict[str, BlobContents]:
    names = list(locations)
    jobs = [BlobJob(f"{source.path}: {name}", locations[name]) for name in names]
    budget.stage = f"Reading {os.path.basename(source.path)}: {len(jobs)} layers"
    budget.path = source.path
    seen = [0, 0]  # stored and expanded bytes already counted

    def on_poll(stored: int, expanded: int) -> None:
        budget.expanded += expanded - seen[1]
        seen[1] = expanded
        budget.check_total()
        budget.advance(stored - seen[0])
        seen[0] = stored

    results = read_in_processes(
        jobs, limits=limits, verify=verify, capture=package_file_wanted, on_poll=on_poll
    )
    return dict(zip(names, results, strict=True))


def _layer_blob_stats(source: ArchiveSource) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for image in source.images:
        for layer in image.layers:
            if layer.blob is not None and layer.unavailable is None:
                sizes[layer.blob] = (
                    layer.size if layer.size is not None else source.container.size(layer.blob)
                )
    return sizes


def load(
    paths: Sequence[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
    verify: bool = False,
    remote: RemoteOptions | None = None,
) -> Analysis:
    """Read every archive (or registry://, podman://, docker:// image), apply every image's
    layers, and analyse them."""
    sources: list[ArchiveSource] = []

    def on_progress(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(Progress(stage, done, total))

    try:
        for path in paths:
            if cancel is not None and cancel():
                raise Cancelled()
            if progress is not None:
                progress(Progress(f"Reading {os.path.basename(path)}", 0, 0))
            sources.append(
                open_source(path, limits, remote or RemoteOptions(), on_progress, cancel or _never)
            )
        blob_sizes = [_layer_blob_stats(s) for s in sources]
        budget = _Budget(limits, sum(sum(b.values()) for b in blob_sizes), progress, cancel)
        contents = [
            _read_blobs(source, sizes, budget, limits, verify)
            for source, sizes in zip(sources, blob_sizes, strict=True)
        ]

        images: list[Image] = []
        archives: list[ArchiveInfo] = []
        for archive_index, (source, parsed) in enumerate(zip(sources, contents, strict=True)):
            archives.append(ArchiveInfo(source.path, source.format, list(source.warnings)))
            for image_index, image_source in enumerate(source.images):
                budget.report(
                    f"Applying layers of {(image_source.refs or [image_source.config_name])[0]}"
                )
                images.append(
                    _build_image(source, archive_index, image_index, image_source, parsed, budget)
                )
    finally:
        for s in sources:
            s.container.close()
    budget.report("Analysing")
    return analyse(archives, images, budget.check_cancel)


def _never() -> bool:
    return False


def _build_image(
    source: ArchiveSource,
    archive_index: int,
    image_index: int,
    image_source: ImageSource,
    parsed: dict[str, BlobContents],
    budget: _Budget,
) -> Image:
    path = source.path
    config = parse_config(image_source.config)
    if config.rootfs_type not in (None, "layers"):
        raise ManifestError(
            f"rootfs.type is {config.rootfs_type!r}, not 'layers'",
            path=path,
            member=image_source.config_name,
        )
    warnings = list(image_source.warnings)
    layer_count = len(image_source.layers)
    if len(config.diff_ids) != layer_count:
        raise ManifestError(
            f"the config lists {plural(len(config.diff_ids), 'diff_id')} for "
            f"{plural(layer_count, 'layer')}",
            path=path,
            member=image_source.config_name,
        )
    history, history_warnings = pair_history(config, layer_count)
    warnings.extend(history_warnings)
    fs = FileSystem()
    layers: list[Layer] = []
    diff_ids: list[str] = []
    for ls in image_source.layers:
        expected = config.diff_ids[ls.index]
        blob = parsed.get(ls.blob) if ls.blob is not None and ls.unavailable is None else None
        if blob is None:
            entries = []
            diff_id = expected
            size_bytes = tar_bytes = 0
            compression = "unknown"
            digest = ls.digest
            warnings.append(f"layer {ls.index}: {ls.unavailable}")
            layer_warnings: list[str] = []
            captured: dict[str, bytes] = {}
        else:
            # New Entry objects for every layer, even when one blob serves two layers of a
            # stack (identical layers, stored once): each layer ships its own bytes, and the
            # model and the waste analysis tell shipments apart by Entry identity.
            entries = blob.parsed.entries
            diff_id = blob.parsed.diff_id
            if diff_id != expected:
                raise CorruptLayer(
                    f"layer {ls.index} ({ls.blob}) has diff_id {diff_id}, "
                    f"but the config says {expected}",
                    path=path,
                )
            if blob.stored_digest and ls.digest and blob.stored_digest != ls.digest:
                raise CorruptLayer(
                    f"layer {ls.index} blob does not match its digest {ls.digest}",
                    path=path,
                    member=ls.blob,
                )
            digest = ls.digest or blob.stored_digest
            size_bytes = sum(e.size for e in entries if e.kind == Kind.FILE)
            tar_bytes = blob.parsed.stream_bytes
            compression = blob.compression
            layer_warnings = list(blob.parsed.warnings)
            captured = blob.parsed.captured
            warnings.extend(f"layer {ls.index}: {w}" for w in layer_warnings)
        diff_ids.append(diff_id)
        fs.apply(entries, budget.check_cancel)
        layers.append(
            Layer(
                index=ls.index,
                diff_id=diff_id,
                chain_id="",
                digest=digest,
                media_type=ls.media_type or _docker_media_type(compression),
                compression=compression,
                size_bytes=size_bytes,
                tar_bytes=tar_bytes,
                compressed_bytes=ls.size if ls.size is not None else tar_bytes,
                entries=entries,
                history=history[ls.index],
                unavailable=ls.unavailable,
                warnings=layer_warnings,
                captured=captured,
                blob=ls.blob if blob is not None else None,
            )
        )
    for layer, chain in zip(layers, chain_ids(diff_ids), strict=True):
        layer.chain_id = chain
    warnings.extend(fs.warnings)
    return Image(
        archive_index=archive_index,
        archive_path=path,
        archive_format=source.format,
        index_in_archive=image_index,
        refs=image_source.refs,
        config_digest="sha256:" + hashlib.sha256(image_source.config_bytes).hexdigest(),
        manifest_digest=image_source.manifest_digest,
        config=config,
        layers=layers,
        filesystem=fs,
        platform=image_source.platform or config.platform,
        warnings=warnings,
    )


def _docker_media_type(compression: str) -> str | None:
    base = "application/vnd.docker.image.rootfs.diff.tar"
    return {"none": base, "gzip": base + ".gzip", "zstd": base + ".zstd"}.get(compression)


__all__ = ["CancelToken", "LayerscopeError", "Progress", "load"]
