"""The schemes that name an image not in a file: `registry://`, `podman://`, `docker://`.

Apart from the reference parser (reference.py), so that telling a path from a remote image,
which every load does, does not import the parser's patterns and classes.
"""

from __future__ import annotations

REGISTRY = "registry"
PODMAN = "podman"
DOCKER = "docker"
SCHEMES = (REGISTRY, PODMAN, DOCKER)


def scheme_of(text: str) -> str | None:
    """`registry`, `podman` or `docker` when `text` names a remote image, else None."""
    head, sep, _rest = text.partition("://")
    return head if sep and head in SCHEMES else None


def is_remote(text: str) -> bool:
    return scheme_of(text) is not None
