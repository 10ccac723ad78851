"""What the format readers find in an archive: images, their configs and layer blobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from layerscope.archive.container import Container
from layerscope.archive.jsonutil import load_json
from layerscope.errors import ManifestError
from layerscope.limits import Limits

DOCKER_ARCHIVE = "docker-archive"
OCI_ARCHIVE = "oci-archive"
OCI_LAYOUT = "oci-layout"
DOCKER_DIR = "docker-dir"


@dataclass
class LayerSource:
    """One layer of an image as the archive describes it, before its blob is read."""

    index: int
    blob: str | None  # container name of the stored blob; None when it is absent
    digest: str | None  # blob digest from the descriptor, when the format has one
    media_type: str | None
    size: int | None  # stored size
    unavailable: str | None = None  # why the layer cannot be read (foreign, encrypted)


@dataclass
class ImageSource:
    """One image as the archive describes it: refs, config and layers."""

    refs: list[str]
    config_name: str
    config_bytes: bytes
    config: dict[str, Any]
    layers: list[LayerSource]
    platform: str | None = None  # from the index descriptor, when there is one
    manifest_digest: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class ArchiveSource:
    """An opened archive: its format, its files and the images it holds."""

    path: str
    format: str
    container: Container
    images: list[ImageSource]
    warnings: list[str] = field(default_factory=list)


def read_json_member(
    container: Container, name: str, limits: Limits, *, config: bool = False
) -> tuple[bytes, Any]:
    limit = limits.max_config_bytes if config else limits.max_manifest_bytes
    limit_name = "max_config_bytes" if config else "max_manifest_bytes"
    data = container.read_small(name, limit=limit, limit_name=limit_name)
    return data, load_json(data, what=name, path=container.path, max_depth=limits.max_json_depth)


def require_dict(value: Any, *, what: str, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestError(
            f"expected a JSON object, got {type(value).__name__}", path=path, member=what
        )
    return value


LAYER_MEDIA_TYPES = (
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.foreign.diff.tar",
)


def layer_unavailable_reason(media_type: str | None) -> str | None:
    """Why a layer of this media type cannot be read even when its blob is present."""
    if isinstance(media_type, str) and "+encrypted" in media_type:
        return f"encrypted layer ({media_type}): its content cannot be read without the key"
    return None


def is_foreign(media_type: str | None) -> bool:
    return isinstance(media_type, str) and (
        "foreign" in media_type or "nondistributable" in media_type
    )


def declared_compression(media_type: str | None) -> str | None:
    """The compression a layer's media type declares ("gzip", "zstd" or "none"), or None
    when it does not say (an unknown type, an encrypted layer). Only where no blob is read:
    a blob's own first bytes are what the reader goes by."""
    if not isinstance(media_type, str):
        return None
    base, plus, suffix = media_type.partition("+")
    if plus:
        return {"gzip": "gzip", "zstd": "zstd"}.get(suffix) if base in LAYER_MEDIA_TYPES else None
    for docker_suffix, method in ((".gzip", "gzip"), (".zstd", "zstd")):
        if base.endswith(docker_suffix) and base[: -len(docker_suffix)] in LAYER_MEDIA_TYPES:
            return method
    return "none" if base in LAYER_MEDIA_TYPES else None
