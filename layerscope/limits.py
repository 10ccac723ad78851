"""Safety bounds for reading untrusted archives.

The defaults follow what containers/image and containerd enforce, loosened where a real
image legitimately goes further (a 2 GiB layer of a CUDA base image is normal; a 100:1
ratio is not). Every bound can be raised from the command line (`--limit NAME=N`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from layerscope.errors import LayerscopeError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    # bytes of uncompressed layer data over one whole load
    max_total_bytes: int = 64 * GiB
    # one layer's uncompressed stream
    max_layer_bytes: int = 32 * GiB
    # uncompressed / compressed, checked once a stream has produced 64 MiB
    max_ratio: int = 200
    # entries in one layer tar
    max_entries: int = 1_500_000
    # components in one path
    max_path_depth: int = 256
    # bytes of one PAX header block or GNU long name/link
    max_pax_bytes: int = 1 * MiB
    # manifest.json / index.json / OCI manifests
    max_manifest_bytes: int = 4 * MiB
    # image config JSON
    max_config_bytes: int = 16 * MiB
    # nesting of JSON documents and of OCI indexes
    max_json_depth: int = 200
    max_index_depth: int = 8
    # small files whose bytes a layer read keeps (package databases, see read_layer's
    # `capture`): one file, all of one layer, and how many per layer
    max_capture_file_bytes: int = 64 * MiB
    max_capture_bytes: int = 256 * MiB
    max_capture_files: int = 200_000

    def with_overrides(self, overrides: dict[str, int]) -> Limits:
        known = {f.name for f in fields(self)}
        for name in overrides:
            if name not in known:
                raise LayerscopeError(
                    f"unknown limit {name!r}; known limits: {', '.join(sorted(known))}"
                )
        return replace(self, **overrides)


DEFAULT_LIMITS = Limits()


def parse_limit_option(text: str) -> tuple[str, int]:
    """Parse `NAME=N` with optional K/M/G suffix (binary units)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise LayerscopeError(f"--limit expects NAME=N, got {text!r}")
    value = value.strip()
    scale = 1
    if value and value[-1].upper() in "KMG":
        scale = {"K": KiB, "M": MiB, "G": GiB}[value[-1].upper()]
        value = value[:-1]
    try:
        number = int(value) * scale
    except ValueError:
        raise LayerscopeError(f"--limit {name}: {value!r} is not a number") from None
    if number <= 0:
        raise LayerscopeError(f"--limit {name}: must be positive")
    return name.strip().replace("-", "_"), number
