"""Images that are not files yet: in a registry, in podman's store, in Docker's.

`open_source` is what the loader calls for every input: a path goes to the archive readers,
`registry://...` to the registry reader, `podman://...` and `docker://...` to an engine
export. Each returns the same `ArchiveSource`, so everything after it is shared.

The registry and engine readers (and their HTTP library) are imported only when a source
needs them: reading a file does not pay for them.
"""

from __future__ import annotations

from collections.abc import Callable

from layerscope.archive import ArchiveSource, ImageSource, open_archive
from layerscope.archive.container import Container
from layerscope.errors import LayerscopeError
from layerscope.limits import Limits
from layerscope.remote.options import ALL_PLATFORMS, RemoteOptions, platform_matches
from layerscope.remote.schemes import REGISTRY, is_remote

__all__ = [
    "RemoteOptions",
    "is_remote",
    "open_blobs",
    "open_source",
    "platforms_of",
    "registry_host",
]

OnProgress = Callable[[str, int, int], None]


def open_source(
    text: str,
    limits: Limits,
    options: RemoteOptions,
    on_progress: OnProgress,
    cancel: Callable[[], bool],
) -> ArchiveSource:
    """Open an archive path or a remote image and list its images (layers not read yet)."""
    if not is_remote(text):
        source = open_archive(text, limits)
    else:
        from layerscope.remote.reference import parse_source, registry_reference

        ref = parse_source(text)
        if ref.scheme == REGISTRY:
            from layerscope.remote.registry import open_registry

            source = open_registry(registry_reference(ref), options, limits, text)
        else:
            from layerscope.remote.engine import open_engine

            source = open_engine(ref, limits, on_progress, cancel)
    if options.platform not in (None, ALL_PLATFORMS):
        _keep_platform(source, options.platform)
    return source


def open_blobs(text: str, options: RemoteOptions, limits: Limits) -> Container:
    """A registry image's blobs by digest, to read its files again after the load, with
    the TLS and auth options it was loaded with."""
    from layerscope.remote.reference import parse_source, registry_reference
    from layerscope.remote.registry import open_registry_blobs

    return open_registry_blobs(registry_reference(parse_source(text)), options, limits, text)


def _platform_of(image: ImageSource) -> str | None:
    if image.platform:
        return image.platform
    config = image.config
    if not isinstance(config.get("os"), str) or not isinstance(config.get("architecture"), str):
        return None
    parts = [config["os"], config["architecture"]]
    if isinstance(config.get("variant"), str) and config["variant"]:
        parts.append(config["variant"])
    return "/".join(parts)


def _keep_platform(source: ArchiveSource, wanted: str) -> None:
    """--platform: keep only the images of that platform, before any layer is read."""
    kept = [im for im in source.images if platform_matches(_platform_of(im), wanted)]
    if not kept:
        found = sorted({_platform_of(im) or "unknown platform" for im in source.images})
        source.container.close()
        raise LayerscopeError(
            f"no image for {wanted} (it holds {', '.join(found)})", path=source.path
        )
    source.images = kept


def platforms_of(text: str, options: RemoteOptions, limits: Limits) -> list[str]:
    """The platforms a registry:// tag offers; empty for a single-platform image."""
    from layerscope.remote.reference import parse_source, registry_reference
    from layerscope.remote.registry import registry_platforms

    return registry_platforms(registry_reference(parse_source(text)), options, limits, text)


def registry_host(text: str) -> str:
    """The registry host of a registry:// source (docker.io for short names)."""
    from layerscope.remote.reference import parse_source, registry_reference

    return registry_reference(parse_source(text)).host
