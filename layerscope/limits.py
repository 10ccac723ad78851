"""Safety bounds for reading untrusted archives.

The defaults follow what containers/image and containerd enforce, loosened where a real
image legitimately goes further (a 2 GiB layer of a CUDA base image is normal; a 100:1
ratio is not). Every bound can be raised from the command line (`--limit NAME=N`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from layerscope.errors import LayerscopeError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def _limit(default: int, meaning: str) -> int:
    """A limit's default and what it bounds (`layerscope limits` prints both)."""
    return field(default=default, metadata={"meaning": meaning})


@dataclass(frozen=True)
class Limits:
    """Bounds on what one load may read, keep and expand (every one can be raised)."""

    max_total_bytes: int = _limit(64 * GiB, "bytes of uncompressed layer data over one whole load")
    max_layer_bytes: int = _limit(32 * GiB, "bytes of one layer's uncompressed tar stream")
    max_ratio: int = _limit(
        200, "uncompressed / compressed size of a stream, checked once it has made 64 MiB"
    )
    max_entries: int = _limit(1_500_000, "entries in one layer tar")
    max_path_depth: int = _limit(256, "directories in one entry's path")
    max_pax_bytes: int = _limit(1 * MiB, "bytes of one PAX header block or GNU long name/link")
    max_manifest_bytes: int = _limit(
        4 * MiB, "bytes of manifest.json, index.json or an OCI manifest"
    )
    max_config_bytes: int = _limit(16 * MiB, "bytes of one image config JSON")
    max_json_depth: int = _limit(200, "nesting of a JSON document")
    max_index_depth: int = _limit(8, "OCI indexes nested in indexes")
    # small files whose bytes a layer read keeps (package databases, see read_layer's
    # `capture`): one file, all of one layer, and how many per layer
    max_capture_file_bytes: int = _limit(
        64 * MiB, "bytes of one package-database file kept from a layer"
    )
    max_capture_bytes: int = _limit(
        256 * MiB, "bytes of package-database files kept from one layer"
    )
    max_capture_files: int = _limit(200_000, "package-database files kept from one layer")

    def with_overrides(self, overrides: dict[str, int]) -> Limits:
        known = {f.name for f in fields(self)}
        for name in overrides:
            if name not in known:
                raise LayerscopeError(
                    f"unknown limit {name!r}; known limits: {', '.join(sorted(known))} "
                    "(`layerscope limits` says what each bounds)"
                )
        return replace(self, **overrides)


DEFAULT_LIMITS = Limits()

_SUFFIXES = (("G", GiB), ("M", MiB), ("K", KiB))


def limit_value(name: str, value: int) -> str:
    """A limit as --limit takes it: byte limits with a binary suffix when exact ('64G')."""
    if name.endswith("_bytes"):
        for suffix, scale in _SUFFIXES:
            if value % scale == 0:
                return f"{value // scale}{suffix}"
    return str(value)


def describe(limits: Limits = DEFAULT_LIMITS) -> list[tuple[str, str, str]]:
    """(name, value as --limit takes it, what it bounds) for every limit, in order."""
    return [
        (f.name, limit_value(f.name, getattr(limits, f.name)), f.metadata["meaning"])
        for f in fields(limits)
    ]


def parse_limit_option(text: str) -> tuple[str, int]:
    """Parse `NAME=N` with optional K/M/G suffix (binary units)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise LayerscopeError(f"--limit expects NAME=N, got {text!r}")
    given = value = value.strip()
    scale = 1
    if value and value[-1].upper() in "KMG":
        scale = {"K": KiB, "M": MiB, "G": GiB}[value[-1].upper()]
        value = value[:-1]
    try:
        number = int(value) * scale
    except ValueError:
        raise LayerscopeError(
            f"--limit {name}: {given!r} is not a whole number "
            "(e.g. 200, or 64G: K, M and G are binary units)"
        ) from None
    if number <= 0:
        raise LayerscopeError(f"--limit {name}: must be positive")
    return name.strip().lower().replace("-", "_"), number
