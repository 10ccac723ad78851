"""Images and layers as the rest of layerscope sees them: configs parsed, history paired."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from layerscope.format import plural
from layerscope.jsonvalues import as_dict, as_list, as_str
from layerscope.model.entry import Entry
from layerscope.model.filesystem import FileSystem


@dataclass
class HistoryItem:
    created: str | None
    created_by: str | None
    comment: str | None
    empty_layer: bool
    layer_index: int | None  # the layer this entry made, None for empty_layer entries


@dataclass
class ImageConfig:
    """The parts of the image config JSON that people look at. Any field may be absent."""

    architecture: str | None = None
    os: str | None = None
    variant: str | None = None
    created: str | None = None
    author: str | None = None
    env: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    working_dir: str | None = None
    user: str | None = None
    exposed_ports: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)
    stop_signal: str | None = None
    healthcheck: dict[str, Any] | None = None
    diff_ids: list[str] = field(default_factory=list)
    rootfs_type: str | None = None
    history: list[HistoryItem] = field(default_factory=list)

    @property
    def platform(self) -> str | None:
        if not self.os and not self.architecture:
            return None
        parts = [self.os or "?", self.architecture or "?"]
        if self.variant:
            parts.append(self.variant)
        return "/".join(parts)


def _str_list(value: Any) -> list[str] | None:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str):
        return [value]
    return None


def parse_config(raw: dict[str, Any]) -> ImageConfig:
    """Read a config JSON tolerantly: nulls and missing keys are normal."""
    conf = as_dict(raw.get("config")) or as_dict(raw.get("container_config"))
    rootfs = as_dict(raw.get("rootfs"))
    labels = as_dict(conf.get("Labels"))
    ports = as_dict(conf.get("ExposedPorts"))
    volumes = as_dict(conf.get("Volumes"))
    diff_ids = as_list(rootfs.get("diff_ids"))
    history: list[HistoryItem] = []
    for item in as_list(raw.get("history")):
        if isinstance(item, dict):
            history.append(
                HistoryItem(
                    as_str(item.get("created")),
                    as_str(item.get("created_by")),
                    as_str(item.get("comment")),
                    item.get("empty_layer") is True,
                    None,
                )
            )
    return ImageConfig(
        architecture=as_str(raw.get("architecture")),
        os=as_str(raw.get("os")),
        variant=as_str(raw.get("variant")),
        created=as_str(raw.get("created")),
        author=as_str(raw.get("author")),
        env=_str_list(conf.get("Env")) or [],
        entrypoint=_str_list(conf.get("Entrypoint")),
        cmd=_str_list(conf.get("Cmd")),
        working_dir=as_str(conf.get("WorkingDir")) or None,
        user=as_str(conf.get("User")) or None,
        exposed_ports=sorted(str(p) for p in ports),
        labels={str(k): str(v) for k, v in labels.items()},
        volumes=sorted(str(v) for v in volumes),
        stop_signal=as_str(conf.get("StopSignal")),
        healthcheck=as_dict(conf.get("Healthcheck")) or None,
        diff_ids=[str(d) for d in diff_ids],
        rootfs_type=as_str(rootfs.get("type")),
        history=history,
    )


def pair_history(
    config: ImageConfig, layer_count: int
) -> tuple[list[HistoryItem | None], list[str]]:
    """Give each layer its history entry: each entry without empty_layer takes the next layer.

    Returns the per-layer entries (None where history runs out) and warnings when the
    history does not add up.
    """
    per_layer: list[HistoryItem | None] = [None] * layer_count
    warnings: list[str] = []
    index = 0
    for item in config.history:
        if item.empty_layer:
            continue
        if index < layer_count:
            item.layer_index = index
            per_layer[index] = item
        index += 1
    if config.history and index != layer_count:
        warnings.append(
            f"history lists {plural(index, 'non-empty entry', 'non-empty entries')} for "
            f"{plural(layer_count, 'layer')}; "
            "entries paired from the bottom"
        )
    return per_layer, warnings


def chain_ids(diff_ids: list[str]) -> list[str]:
    """C0 = diff_id0; Cn = sha256(Cn-1 + " " + diff_idn) (OCI image spec)."""
    out: list[str] = []
    for diff_id in diff_ids:
        if not out:
            out.append(diff_id)
        else:
            text = f"{out[-1]} {diff_id}".encode()
            out.append("sha256:" + hashlib.sha256(text).hexdigest())
    return out


@dataclass
class Layer:
    index: int
    diff_id: str
    chain_id: str
    digest: str | None
    media_type: str | None
    compression: str
    size_bytes: int  # sum of regular-file sizes in the tar
    tar_bytes: int  # size of the uncompressed tar stream
    compressed_bytes: int  # blob as stored
    entries: list[Entry]
    history: HistoryItem | None
    unavailable: str | None = None  # why its content could not be read
    warnings: list[str] = field(default_factory=list)
    # The bytes of the package databases this layer ships (ParsedLayer.captured)
    captured: dict[str, bytes] = field(default_factory=dict)
    blob: str | None = None  # where the archive stores it (a container name), to read it again

    @property
    def created_by(self) -> str | None:
        return self.history.created_by if self.history else None

    @property
    def dive_size(self) -> int:
        """dive's layer size: the sum of every tar header's size field."""
        return sum(e.size for e in self.entries)


@dataclass
class Image:
    """One image of an archive, with its layers applied."""

    archive_index: int
    archive_path: str
    archive_format: str
    index_in_archive: int
    refs: list[str]
    config_digest: str
    manifest_digest: str | None
    config: ImageConfig
    layers: list[Layer]
    filesystem: FileSystem
    platform: str | None
    warnings: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str | None:
        return self.refs[0] if self.refs else None

    @property
    def name(self) -> str:
        """A short label: the ref, or the config digest."""
        return self.ref or self.config_digest[7:19]

    @property
    def size_bytes(self) -> int:
        return sum(layer.size_bytes for layer in self.layers)

    @property
    def compressed_bytes(self) -> int:
        return sum(layer.compressed_bytes for layer in self.layers)
