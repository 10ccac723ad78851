"""OCI image layouts (directories and oci-archive tars) and docker-dir directories.

Indexes are walked recursively (nested and multi-platform); every platform's image is
listed. BuildKit attestation manifests and artifacts are skipped. Names come only from
the annotations of descriptors in the top-level `index.json`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from layerscope.archive.container import Container
from layerscope.archive.jsonutil import digest_hex, valid_digest
from layerscope.archive.source import (
    ImageSource,
    LayerSource,
    is_foreign,
    layer_unavailable_reason,
    read_json_member,
    require_dict,
)
from layerscope.errors import LimitExceeded, ManifestError, MissingBlob
from layerscope.jsonvalues import as_list, as_str
from layerscope.limits import Limits

INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
}
IMAGE_CONFIG_TYPES = {
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
}
REF_ANNOTATIONS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


def looks_like_layout(names: set[str]) -> bool:
    return "index.json" in names and (
        "oci-layout" in names or any(n.startswith("blobs/") for n in names)
    )


def looks_like_docker_dir(container: Container, names: set[str]) -> bool:
    return container.is_dir and "manifest.json" in names and "version" in names


def _platform(desc: dict[str, Any]) -> str | None:
    platform = desc.get("platform")
    if not isinstance(platform, dict):
        return None
    parts = [str(platform.get("os") or "?"), str(platform.get("architecture") or "?")]
    if platform.get("variant"):
        parts.append(str(platform["variant"]))
    return "/".join(parts)


def _is_attestation(desc: dict[str, Any]) -> bool:
    annotations = desc.get("annotations") or {}
    if isinstance(annotations, dict) and "vnd.docker.reference.type" in annotations:
        return True
    platform = desc.get("platform") or {}
    return (
        isinstance(platform, dict)
        and platform.get("os") == "unknown"
        and platform.get("architecture") == "unknown"
    )


def _ref_of(desc: dict[str, Any]) -> list[str]:
    annotations = desc.get("annotations") or {}
    if not isinstance(annotations, dict):
        return []
    return [str(annotations[k]) for k in REF_ANNOTATIONS if isinstance(annotations.get(k), str)]


class _Walker:
    def __init__(self, container: Container, limits: Limits, warnings: list[str], blob_dir: str):
        self.container = container
        self.limits = limits
        self.warnings = warnings
        self.blob_dir = blob_dir  # "blobs/sha256/" for layouts, "" for docker-dir
        self.images: list[ImageSource] = []
        self.path = container.path

    def blob_name(self, digest: Any, what: str) -> str:
        return self.blob_dir + digest_hex(digest, path=self.path, member=what)

    def walk(self, desc: dict[str, Any], refs: list[str], depth: int, nested: bool) -> None:
        if depth > self.limits.max_index_depth:
            raise LimitExceeded(
                f"image indexes nested more than {self.limits.max_index_depth} deep",
                limit="max_index_depth",
                path=self.path,
            )
        media_type = as_str(desc.get("mediaType"))
        digest = desc.get("digest")
        what = f"descriptor {str(digest)[:19]}"
        if _is_attestation(desc) or desc.get("artifactType"):
            return
        name = self.blob_name(digest, what)
        if not self.container.exists(name):
            if nested:
                # containerd exports keep only the platforms that were pulled.
                self.warnings.append(
                    f"{_platform(desc) or 'an image'} manifest {digest} "
                    "is not in the archive: skipped"
                )
                return
            raise MissingBlob(f"manifest blob {digest} is missing", path=self.path)
        data, doc = read_json_member(self.container, name, self.limits)
        self.check_digest(data, digest, name)
        doc = require_dict(doc, what=name, path=self.path)
        media_type = as_str(doc.get("mediaType")) or media_type
        if media_type in INDEX_TYPES or "manifests" in doc:
            for child in as_list(doc.get("manifests")):
                if isinstance(child, dict):
                    self.walk(child, refs, depth + 1, nested=True)
            return
        if media_type not in MANIFEST_TYPES and "layers" not in doc:
            self.warnings.append(f"skipped {name}: not an image manifest ({media_type})")
            return
        image = self.image_from_manifest(doc, name, refs, _platform(desc), str(digest))
        if image is not None:
            self.images.append(image)

    def check_digest(self, data: bytes, digest: Any, name: str) -> None:
        if valid_digest(digest) and "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise ManifestError(
                f"content does not match its digest {digest}", path=self.path, member=name
            )

    def image_from_manifest(
        self,
        manifest: dict[str, Any],
        name: str,
        refs: list[str],
        platform: str | None,
        manifest_digest: str | None,
    ) -> ImageSource | None:
        config_desc = manifest.get("config")
        if not isinstance(config_desc, dict):
            raise ManifestError("manifest has no config", path=self.path, member=name)
        config_type = as_str(config_desc.get("mediaType"))
        if (
            manifest.get("artifactType")
            or manifest.get("subject")
            or (config_type and config_type not in IMAGE_CONFIG_TYPES)
        ):
            self.warnings.append(f"skipped {name}: an artifact, not an image ({config_type})")
            return None
        config_name = self.blob_name(config_desc.get("digest"), f"{name} config")
        if not self.container.exists(config_name):
            raise MissingBlob(f"config blob {config_desc.get('digest')} is missing", path=self.path)
        config_bytes, config = read_json_member(
            self.container, config_name, self.limits, config=True
        )
        self.check_digest(config_bytes, config_desc.get("digest"), config_name)
        config = require_dict(config, what=config_name, path=self.path)
        layers: list[LayerSource] = []
        raw_layers = manifest.get("layers")
        if not isinstance(raw_layers, list):
            raise ManifestError("manifest has no layers list", path=self.path, member=name)
        for index, desc in enumerate(raw_layers):
            desc = require_dict(desc, what=f"{name} layer {index}", path=self.path)
            digest = desc.get("digest")
            media_type = as_str(desc.get("mediaType"))
            size = desc.get("size")
            blob = self.blob_name(digest, f"{name} layer {index}")
            reason = layer_unavailable_reason(media_type)
            if not self.container.exists(blob):
                if is_foreign(media_type):
                    blob_or_none = None
                    reason = reason or (
                        "foreign layer: its blob is not in the archive (it is fetched from "
                        "its URL at pull time)"
                    )
                else:
                    raise MissingBlob(f"layer {index} blob {digest} is missing", path=self.path)
            else:
                blob_or_none = blob
                actual = self.container.size(blob)
                if isinstance(size, int) and size != actual:
                    raise ManifestError(
                        f"layer {index} blob is {actual} bytes, its descriptor says {size}",
                        path=self.path,
                        member=blob,
                    )
                size = actual
            layers.append(
                LayerSource(
                    index,
                    blob_or_none,
                    str(digest),
                    media_type,
                    size if isinstance(size, int) else None,
                    reason,
                )
            )
        return ImageSource(
            refs=list(refs),
            config_name=config_name,
            config_bytes=config_bytes,
            config=config,
            layers=layers,
            platform=platform,
            manifest_digest=manifest_digest,
        )


def read_layout(container: Container, limits: Limits, warnings: list[str]) -> list[ImageSource]:
    layout_names = container.names()
    if "oci-layout" in layout_names:
        _d, layout = read_json_member(container, "oci-layout", limits)
        version = layout.get("imageLayoutVersion") if isinstance(layout, dict) else None
        if not isinstance(version, str) or not version.startswith("1."):
            warnings.append(f"oci-layout version {version!r} is not 1.x; reading it anyway")
    _data, index = read_json_member(container, "index.json", limits)
    index = require_dict(index, what="index.json", path=container.path)
    manifests = index.get("manifests")
    if not isinstance(manifests, list) or not manifests:
        raise ManifestError("index.json lists no manifests", path=container.path)
    walker = _Walker(container, limits, warnings, "blobs/sha256/")
    for desc in manifests:
        if isinstance(desc, dict):
            walker.walk(desc, _ref_of(desc), 0, nested=False)
    if not walker.images:
        raise ManifestError(
            "the index holds no image (only attestations or artifacts)", path=container.path
        )
    return walker.images


def read_docker_dir(container: Container, limits: Limits, warnings: list[str]) -> list[ImageSource]:
    """skopeo `dir:` / podman `--format docker-dir`: one registry manifest, blobs by hex."""
    data, manifest = read_json_member(container, "manifest.json", limits)
    manifest = require_dict(manifest, what="manifest.json", path=container.path)
    walker = _Walker(container, limits, warnings, "")
    if manifest.get("manifests"):
        for desc in as_list(manifest["manifests"]):
            if isinstance(desc, dict):
                walker.walk(desc, [], 1, nested=True)
        return walker.images
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    image = walker.image_from_manifest(manifest, "manifest.json", [], None, digest)
    if image is None:
        raise ManifestError(
            "manifest.json describes an artifact, not an image", path=container.path
        )
    return [image]
