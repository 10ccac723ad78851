"""docker-archive: `docker save` (<= 24 and >= 25), `podman save`, skopeo `docker-archive:`.

`manifest.json` is the truth for layer order: Docker 25.0.x wrote OCI manifests with
shuffled layers or `"manifests": null`, so the OCI side of a Docker 25 archive is only
cross-checked, never trusted over manifest.json + the config's diff_ids.
"""

from __future__ import annotations

import re

from layerscope.archive.container import Container, clean_member_name
from layerscope.archive.jsonutil import valid_digest
from layerscope.archive.source import (
    ImageSource,
    LayerSource,
    is_foreign,
    layer_unavailable_reason,
    read_json_member,
    require_dict,
)
from layerscope.errors import LayerscopeError, ManifestError, MissingBlob
from layerscope.jsonvalues import as_dict, as_list, as_str
from layerscope.limits import Limits

_BLOB_NAME = re.compile(r"^blobs/sha256/([a-f0-9]{64})$")
_PODMAN_LAYER = re.compile(r"^([a-f0-9]{64})\.tar$")


def looks_like(container: Container, names: set[str]) -> bool:
    return "manifest.json" in names and not (container.is_dir and "version" in names)


def _blob_digest(name: str) -> str | None:
    for pattern in (_BLOB_NAME, _PODMAN_LAYER):
        m = pattern.match(name)
        if m:
            return "sha256:" + m.group(1)
    return None


def read(container: Container, limits: Limits, warnings: list[str]) -> list[ImageSource]:
    path = container.path
    _data, manifest = read_json_member(container, "manifest.json", limits)
    if not isinstance(manifest, list):
        raise ManifestError("manifest.json is not a list of images", path=path)
    if not manifest:
        raise ManifestError("manifest.json lists no images", path=path)
    images: list[ImageSource] = []
    for i, item in enumerate(manifest):
        what = f"manifest.json[{i}]"
        item = require_dict(item, what=what, path=path)
        config_name = item.get("Config")
        layers = item.get("Layers")
        if not isinstance(config_name, str) or not config_name:
            raise ManifestError(f"{what} has no Config", path=path)
        if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
            raise ManifestError(f"{what} has no Layers list", path=path)
        tags = item.get("RepoTags") or []
        if not isinstance(tags, list):
            tags = []
        refs = [t for t in tags if isinstance(t, str)]
        config_name = clean_member_name(config_name, archive=path)
        config_bytes, config = read_json_member(container, config_name, limits, config=True)
        config = require_dict(config, what=config_name, path=path)
        diff_ids = as_list(as_dict(config.get("rootfs")).get("diff_ids"))
        foreign = as_dict(item.get("LayerSources"))
        layer_sources: list[LayerSource] = []
        for index, layer_name in enumerate(layers):
            layer_name = clean_member_name(layer_name, archive=path)
            diff_id = as_str(diff_ids[index]) if index < len(diff_ids) else None
            descriptor = as_dict(foreign.get(diff_id)) if diff_id else {}
            media_type = as_str(descriptor.get("mediaType"))
            if container.exists(layer_name):
                real = container.resolve(layer_name)
                layer_sources.append(
                    LayerSource(
                        index,
                        real,
                        _blob_digest(real),
                        media_type,
                        container.size(real),
                        layer_unavailable_reason(media_type),
                    )
                )
            elif is_foreign(media_type):
                digest = descriptor.get("digest")
                size = descriptor.get("size")
                layer_sources.append(
                    LayerSource(
                        index,
                        None,
                        digest if valid_digest(digest) else None,
                        media_type,
                        size if isinstance(size, int) else None,
                        "foreign layer: its blob is not in the archive (it is fetched from "
                        "its URL at pull time)",
                    )
                )
            else:
                raise MissingBlob(f"layer {index} ({layer_name}) is missing", path=path)
        images.append(
            ImageSource(
                refs=refs,
                config_name=config_name,
                config_bytes=config_bytes,
                config=config,
                layers=layer_sources,
            )
        )
    if "oci-layout" in container.names() and "index.json" in container.names():
        _cross_check_oci(container, limits, images, warnings)
    return images


def _cross_check_oci(
    container: Container, limits: Limits, images: list[ImageSource], warnings: list[str]
) -> None:
    """Docker >= 25 also writes an OCI layout; say when it disagrees with manifest.json."""
    try:
        _data, index = read_json_member(container, "index.json", limits)
        manifests = require_dict(index, what="index.json", path=container.path).get("manifests")
        if manifests is not None and not isinstance(manifests, list):
            # read as untrusted as the rest: a wrong type is named, not a TypeError
            raise ManifestError(
                f'"manifests" is {type(manifests).__name__}, not a list',
                path=container.path,
                member="index.json",
            )
        if not manifests:
            warnings.append("index.json lists no manifests (a Docker 25.0 bug); manifest.json used")
            return
        layer_lists: list[list[str | None]] = []
        for desc in manifests:
            digest = desc.get("digest") if isinstance(desc, dict) else None
            if not valid_digest(digest) or not container.exists("blobs/sha256/" + digest[7:]):
                continue
            _b, manifest = read_json_member(container, "blobs/sha256/" + digest[7:], limits)
            if isinstance(manifest, dict) and isinstance(manifest.get("layers"), list):
                layer_lists.append(
                    [d.get("digest") for d in manifest["layers"] if isinstance(d, dict)]
                )
        for image in images:
            mine: list[str | None] = [layer.digest for layer in image.layers]
            if all(mine) and layer_lists and mine not in layer_lists:
                label = image.refs[0] if image.refs else image.config_name
                warnings.append(
                    f"the OCI index disagrees with manifest.json about {label} "
                    "(layer order or set); manifest.json used"
                )
    except LayerscopeError as exc:
        where = f"{exc.member}: " if exc.member else ""
        warnings.append(
            f"OCI side of the archive unreadable, manifest.json used: {where}{exc.message}"
        )
