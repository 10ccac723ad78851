"""Images and layers as the rest of layerscope sees them: configs parsed, history paired."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from layerscope.format import plural
from layerscope.jsonvalues import as_dict, as_list, as_str
from layerscope.model.entry import Entry
from layerscope.model.filesystem import FileSystem, LayerCounts

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value made on first use, once, by whichever thread asks first.

    A reopened image takes its figures from the cache; its entries and its tree are made
    only when something looks at them (the window, `--files`, path rules). Copies of an
    Image share the holder, so the value is made once for all of them.
    """

    def __init__(self, make: Callable[[], T]):
        self._make: Callable[[], T] | None = make
        self._value: T | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, value: T) -> Lazy[T]:
        made: Lazy[T] = cls(lambda: value)
        made._value, made._make = value, None
        return made

    def get(self) -> T:
        if self._make is not None:
            with self._lock:
                if self._make is not None:
                    self._value = self._make()
                    self._make = None
        return self._value  # type: ignore[return-value]

    @property
    def made(self) -> bool:
        return self._make is None


@dataclass
class HistoryItem:
    """One entry of the config's history: the step that made a layer, or an empty one."""

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
    """One layer of an image: its identity, sizes, the step that made it and its entries."""

    index: int
    diff_id: str
    chain_id: str
    digest: str | None
    media_type: str | None
    compression: str
    size_bytes: int  # sum of regular-file sizes in the tar
    tar_bytes: int  # size of the uncompressed tar stream
    compressed_bytes: int  # blob as stored
    # The entries, or what makes them on first use (a reopened layer's are in the cache).
    lazy_entries: Lazy[list[Entry]] | list[Entry] = field(repr=False, compare=False)
    history: HistoryItem | None
    unavailable: str | None = None  # why its content could not be read
    warnings: list[str] = field(default_factory=list)
    # The bytes of the package databases this layer ships (ParsedLayer.captured)
    captured: dict[str, bytes] = field(default_factory=dict)
    blob: str | None = None  # where the archive stores it (a container name), to read it again
    # Figures known without the entries (from the cache); None: counted from the entries.
    known_dive_size: int | None = None
    known_entry_count: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.lazy_entries, Lazy):
            self.lazy_entries = Lazy.of(self.lazy_entries)

    @property
    def entries(self) -> list[Entry]:
        return self.lazy_entries.get()  # type: ignore[union-attr]

    @property
    def entry_count(self) -> int:
        if self.known_entry_count is not None:
            return self.known_entry_count
        return len(self.entries)

    @property
    def dive_size(self) -> int:
        """dive's layer size: the sum of every tar header's size field."""
        if self.known_dive_size is not None:
            return self.known_dive_size
        return sum(e.size for e in self.entries)

    @property
    def created_by(self) -> str | None:
        return self.history.created_by if self.history else None


@dataclass(frozen=True)
class LayerOutline:
    """A layer as its image's manifest and config describe it, before its blob is read."""

    index: int
    diff_id: str  # as the config lists it (the read checks the blob against it)
    digest: str | None
    media_type: str | None
    stored_bytes: int | None  # the blob as stored; None when the archive does not say
    history: HistoryItem | None
    unavailable: str | None = None

    @property
    def created_by(self) -> str | None:
        return self.history.created_by if self.history else None


@dataclass(frozen=True)
class ImageOutline:
    """An image as its manifest and config describe it: what a load knows before it reads
    any layer blob (the window shows it while the blobs stream)."""

    archive_path: str
    archive_format: str
    index_in_archive: int
    refs: list[str]
    config_digest: str
    manifest_digest: str | None
    config: ImageConfig
    layers: list[LayerOutline]
    platform: str | None
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """A short label, as Image.name: the ref, or the config digest."""
        return self.refs[0] if self.refs else self.config_digest[7:19]

    @property
    def stored_bytes(self) -> int:
        return sum(layer.stored_bytes or 0 for layer in self.layers)


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
    # The stacked tree, or what makes it on first use (a reopened image's figures come from
    # the cache; its tree is made only when something looks at it).
    lazy_filesystem: Lazy[FileSystem] | FileSystem = field(repr=False, compare=False)
    platform: str | None
    warnings: list[str] = field(default_factory=list)
    # Per layer, what it added, modified and deleted, when known without the tree.
    known_counts: list[LayerCounts] | None = None
    # Opens the archive again (its Container) to read files after the load, for a source
    # that is not a file (a registry: with the load's TLS and auth options); None: by path.
    reopen: Callable[[], Any] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.lazy_filesystem, Lazy):
            self.lazy_filesystem = Lazy.of(self.lazy_filesystem)

    @property
    def filesystem(self) -> FileSystem:
        """Every layer applied, with the history of every path."""
        return self.lazy_filesystem.get()  # type: ignore[union-attr]

    @property
    def counts(self) -> list[LayerCounts]:
        """Per layer: what it added, modified and deleted."""
        if self.known_counts is not None:
            return self.known_counts
        return self.filesystem.counts

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
