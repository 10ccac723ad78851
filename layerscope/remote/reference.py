"""Where an image lives when it is not a file: `registry://`, `podman://` and `docker://`.

Image references are read the way the container tools read them (containers/image,
distribution/reference): the first path component is a registry host only if it holds a
`.` or a `:` or is `localhost`; otherwise the image is on Docker Hub, whose API host is
`registry-1.docker.io` and whose one-component names live under `library/`; no tag and no
digest means `:latest`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from layerscope.errors import LayerscopeError
from layerscope.remote.schemes import scheme_of

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
# NAME[:TAG][@DIGEST][:REST]. Only NAME's first component may hold a ':' (a registry's port,
# and then a '/' follows), so `host:5000/app:1` is a host with a port and a tag, and in
# `host/app:latest:linux/arm64` the platform after the tag is REST.
_SPEC = re.compile(
    r"^(?P<name>(?:[^/:@]+(?::\d+)?/)?[^/:@]+(?:/[^/:@]+)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[a-z0-9]+:[a-zA-Z0-9]+))?"
    r"(?::(?P<rest>.+))?$"
)


@dataclass(frozen=True)
class Reference:
    scheme: str
    name: str  # as written (engines resolve short names themselves)
    tag: str | None
    digest: str | None

    @property
    def image(self) -> str:
        """What to hand an engine: the name with its tag or digest."""
        return _tagged(self.name, self.tag, self.digest)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.image}"


def _tagged(name: str, tag: str | None, digest: str | None) -> str:
    """`name:tag@digest`, each part only when there is one."""
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


@dataclass(frozen=True)
class RegistryReference:
    host: str  # as people write it: docker.io, quay.io, 127.0.0.1:5000
    repository: str  # library/alpine
    tag: str | None
    digest: str | None

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.host == DOCKER_HUB else self.host

    @property
    def reference(self) -> str:
        """What the manifest endpoint takes: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def name(self) -> str:
        """The fully qualified name, as podman shows it: docker.io/library/alpine:latest."""
        return _tagged(f"{self.host}/{self.repository}", self.tag, self.digest)

    def __str__(self) -> str:
        return f"registry://{self.name}"


def _split(text: str, *, allow_rest: bool) -> tuple[Reference, str | None]:
    scheme = scheme_of(text)
    if scheme is None:
        raise LayerscopeError(f"{text}: not a registry://, podman:// or docker:// source")
    body = text[len(scheme) + 3 :]
    m = _SPEC.match(body)
    if not body or m is None:
        raise LayerscopeError(f"{text}: not an image reference (NAME[:TAG][@sha256:DIGEST])")
    digest = m.group("digest")
    if digest is not None and not _DIGEST.match(digest):
        raise LayerscopeError(f"{text}: {digest!r} is not a sha256 digest")
    rest = m.group("rest")
    if rest is not None and not allow_rest:
        raise LayerscopeError(f"{text}: not an image reference (unexpected ':{rest}')")
    return Reference(scheme, m.group("name"), m.group("tag"), digest), rest


def parse_source(text: str) -> Reference:
    """`registry://HOST/REPO:TAG`, `podman://IMAGE`, `docker://IMAGE` (nothing after)."""
    return _split(text, allow_rest=False)[0]


def split_spec(text: str) -> tuple[str, str | None]:
    """A remote source followed by `:IMAGE` (diff specs): (the source, IMAGE or None).

    A tag is part of the reference, so `registry://host/app:1` is the tag 1; to pick an image
    of a multi-platform tag, write the tag first: `registry://host/app:latest:linux/arm64`.
    """
    ref, rest = _split(text, allow_rest=True)
    return str(ref), rest


def registry_reference(ref: Reference) -> RegistryReference:
    """Normalise a registry:// reference as the container tools do."""
    parts = ref.name.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        host, path = first, parts[1:]
    else:
        host, path = DOCKER_HUB, parts
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
        if len(path) == 1:
            path = ["library", *path]
    for component in path:
        if not _COMPONENT.match(component):
            raise LayerscopeError(
                f"{ref}: {component!r} is not a valid repository name component "
                "(lowercase letters, digits, '.', '_', '-')"
            )
    if ref.tag is not None and not _TAG.match(ref.tag):
        raise LayerscopeError(f"{ref}: {ref.tag!r} is not a valid tag")
    tag = ref.tag if ref.tag or ref.digest else "latest"
    return RegistryReference(host, "/".join(path), tag, ref.digest)
