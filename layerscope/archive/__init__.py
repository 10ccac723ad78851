"""Reading image archives: no Qt, no extraction, every input untrusted.

`open_archive` finds the format and the images; `read_blob` turns one layer blob into
entries in a single pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, cast

from layerscope.archive import docker_archive, oci
from layerscope.archive.compression import NONE, ReadTap, open_decompressed
from layerscope.archive.container import open_container
from layerscope.archive.source import (
    DOCKER_ARCHIVE,
    DOCKER_DIR,
    OCI_ARCHIVE,
    OCI_LAYOUT,
    ArchiveSource,
    ImageSource,
    LayerSource,
)
from layerscope.archive.tarstream import ParsedLayer, read_layer
from layerscope.errors import NotAnImageArchive
from layerscope.limits import Limits

__all__ = [
    "ArchiveSource",
    "ImageSource",
    "LayerSource",
    "BlobContents",
    "open_archive",
    "read_blob",
]


def open_archive(path: str, limits: Limits) -> ArchiveSource:
    """Detect the format of `path` and list its images (configs read, layers not yet)."""
    container = open_container(path, limits)
    try:
        names = container.names()
        warnings: list[str] = list(getattr(container, "warnings", []))
        if oci.looks_like_docker_dir(container, names):
            fmt, images = DOCKER_DIR, oci.read_docker_dir(container, limits, warnings)
        elif docker_archive.looks_like(container, names):
            fmt, images = DOCKER_ARCHIVE, docker_archive.read(container, limits, warnings)
        elif oci.looks_like_layout(names):
            fmt = OCI_LAYOUT if container.is_dir else OCI_ARCHIVE
            images = oci.read_layout(container, limits, warnings)
        else:
            what = "directory" if container.is_dir else "tar archive"
            raise NotAnImageArchive(
                f"a {what} without manifest.json or index.json: not an image archive",
                path=path,
            )
    except BaseException:
        container.close()
        raise
    return ArchiveSource(path, fmt, container, images, warnings)


@dataclass
class BlobContents:
    """A layer blob read: its parsed layer and how it was stored."""

    parsed: ParsedLayer
    compression: str
    stored_digest: str | None  # sha256 of the stored blob, when it was computed
    stored_bytes: int


def read_blob(
    raw: BinaryIO,
    *,
    name: str,
    limits: Limits,
    on_bytes: Callable[[int], None] | None = None,
    verify: bool = False,
    capture: Callable[[str], bool] | None = None,
) -> BlobContents:
    """Decompress (by magic bytes) and parse one layer blob in a single pass.

    The stored digest of a compressed blob costs a second hash over the compressed bytes,
    so it is only computed with `verify`; for an uncompressed blob it is the diff_id.
    `capture` picks the small files whose bytes to keep (`read_layer`).
    """
    sha = hashlib.sha256()
    hashing = ReadTap(raw, sha.update) if verify else None
    stream, method = open_decompressed(cast(BinaryIO, hashing or raw), name=name, limits=limits)
    parsed = read_layer(stream, layer=name, limits=limits, on_bytes=on_bytes, capture=capture)
    if hashing is not None:
        while hashing.read(1 << 20):  # trailing bytes after the compressed stream
            pass
        stored = "sha256:" + sha.hexdigest()
        stored_bytes = hashing.count
    elif method == NONE:
        stored, stored_bytes = parsed.diff_id, parsed.stream_bytes
    else:
        stored, stored_bytes = None, -1
    return BlobContents(parsed, method, stored, stored_bytes)
