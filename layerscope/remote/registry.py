"""An image in a registry (the OCI distribution API), read like an OCI layout.

A registry serves what an OCI layout holds, by digest: manifests, indexes, configs and layer
blobs. `RegistryContainer` is a `Container` whose `index.json` names the chosen manifests
and whose `blobs/sha256/<hex>` members are fetched on demand, so `oci.read_layout` does all
the walking (nested indexes, attestations, artifacts, digest checks) exactly as for a file.
Manifests and configs are small and fetched at once; layer blobs stream through the reader
in chunks, hashed on the way, and a blob that ends early or hashes wrong stops the load.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO, cast

import httpx

from layerscope.archive.container import BlobHandler, Container, SizedReader
from layerscope.archive.jsonutil import load_json
from layerscope.archive.oci import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    _is_attestation,
    _platform,
    read_layout,
)
from layerscope.archive.source import ArchiveSource, is_foreign
from layerscope.errors import (
    ArchiveError,
    CorruptLayer,
    LayerscopeError,
    LimitExceeded,
    ManifestError,
    MissingBlob,
    plain_reason,
)
from layerscope.jsonvalues import ascii_int
from layerscope.limits import Limits
from layerscope.remote.auth import (
    RegistryAuth,
    Secrets,
    find_credentials,
    paced,
    read_small_answer,
    stalled_message,
)
from layerscope.remote.options import RemoteOptions, host_platform_name, platform_matches
from layerscope.remote.reference import RegistryReference

REGISTRY = "registry"  # the format name of an image read from a registry
_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
_CHUNK = 1 << 20
_TIMEOUT = httpx.Timeout(60.0, connect=15.0)


class RegistryClient:
    """One repository of one registry: manifests and blobs by digest, auth handled."""

    def __init__(self, ref: RegistryReference, options: RemoteOptions, what: str):
        self.ref = ref
        self.what = what
        self.secrets = Secrets()
        credentials = find_credentials(ref.host, ref.repository, self.secrets, options.authfile)
        self.insecure = options.insecure(ref.host)
        self._auth = RegistryAuth(credentials, self.secrets, what)
        self._client = httpx.Client(
            verify=not self.insecure,
            timeout=_TIMEOUT,
            follow_redirects=True,
            auth=self._auth,
            headers={"User-Agent": "layerscope"},
        )
        self._scheme = "https"

    def close(self) -> None:
        self._client.close()

    def _url(self, kind: str, reference: str) -> str:
        return f"{self._scheme}://{self.ref.api_host}/v2/{self.ref.repository}/{kind}/{reference}"

    def open(
        self, kind: str, reference: str, accept: str | None = None, start: int | None = None
    ) -> httpx.Response:
        """GET a manifest or blob, streaming; plain HTTP only for an insecure registry.
        `start`: ask for the blob from that byte on (the answer may be 206 or a whole 200)."""
        headers = {"Accept": accept} if accept else {}
        if start is not None:
            headers["Range"] = f"bytes={start}-"
        try:
            try:
                request = self._client.build_request(
                    "GET", self._url(kind, reference), headers=headers
                )
                response = self._client.send(request, stream=True)
            except httpx.ConnectError:
                if not self.insecure or self._scheme == "http":
                    raise
                self._scheme = "http"  # podman's --tls-verify=false falls back the same way
                request = self._client.build_request(
                    "GET", self._url(kind, reference), headers=headers
                )
                response = self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise ArchiveError(self._transport_message(exc), path=self.what) from None
        if response.status_code != 200 and not (start is not None and response.status_code == 206):
            try:
                read_small_answer(response, self.what)
                message = self._status_message(response, kind, reference)
            finally:
                response.close()
            error = MissingBlob if response.status_code == 404 else ArchiveError
            raise error(message, path=self.what)
        return response

    def _transport_message(self, exc: httpx.HTTPError) -> str:
        host = self.ref.api_host
        if isinstance(exc, httpx.ConnectError):
            text = str(exc)
            if "WRONG_VERSION_NUMBER" in text:
                return (
                    f"{host} does not answer HTTPS (a plain-HTTP registry?); to allow "
                    f"plain HTTP pass --insecure-registry {self.ref.host}"
                )
            if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
                return (
                    f"TLS with {host} failed ({self.secrets.redact(text)[:160]}); "
                    f"for a registry without a valid certificate pass "
                    f"--insecure-registry {self.ref.host}"
                )
            reason = plain_reason(self.secrets.redact(text))[:160]
            return f"cannot reach the registry at {host}: {reason}"
        if isinstance(exc, httpx.TimeoutException):
            return f"the registry at {host} did not answer in time"
        return f"talking to {host}: {type(exc).__name__}: {self.secrets.redact(str(exc))[:160]}"

    def _status_message(self, response: httpx.Response, kind: str, reference: str) -> str:
        detail = ""
        try:
            errors = response.json().get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                first = errors[0]
                detail = f": {first.get('code', '')} {first.get('message', '')}".rstrip()
        except (ValueError, AttributeError):
            pass
        detail = self.secrets.redact(detail)[:200]
        what = "manifest" if kind == "manifests" else "blob"
        if response.status_code == 404:
            return f"{what} {reference} not found in {self.ref.host}/{self.ref.repository}{detail}"
        if response.status_code in (401, 403):
            return f"access denied to {self.ref.host}/{self.ref.repository}{detail}"
        return f"the registry answered {response.status_code} for {what} {reference}{detail}"

    def read_small(
        self, kind: str, reference: str, limit: int, limit_name: str, accept: str | None = None
    ) -> tuple[bytes, httpx.Headers]:
        """A manifest or config, read whole but never past `limit` bytes."""
        response = self.open(kind, reference, accept)
        try:
            parts: list[bytes] = []
            size = 0
            for chunk in self._chunks(response, reference):
                size += len(chunk)
                if size > limit:
                    raise LimitExceeded(
                        f"{reference}: more than the {limit}-byte limit for this kind of file",
                        limit=limit_name,
                        path=self.what,
                    )
                parts.append(chunk)
            return b"".join(parts), response.headers
        finally:
            response.close()

    def _chunks(self, response: httpx.Response, reference: str) -> Iterator[bytes]:
        """The body in pieces of about _CHUNK, its pace checked as each read arrives."""
        stalled = stalled_message(self.what, self.ref.api_host)
        parts: list[bytes] = []
        size = 0
        try:
            for piece in paced(response.iter_bytes(), stalled):
                parts.append(piece)
                size += len(piece)
                if size >= _CHUNK:
                    yield b"".join(parts)
                    parts, size = [], 0
            if parts:
                yield b"".join(parts)
        except httpx.HTTPError as exc:
            raise ArchiveError(
                f"the connection to {self.ref.api_host} broke while reading {reference[:19]}: "
                f"{type(exc).__name__}",
                path=self.what,
            ) from None

    def blob_stream(self, digest: str, size: int | None) -> VerifiedBlob:
        response = self.open("blobs", digest)
        return VerifiedBlob(self, response, digest, size)

    def blob_reader(self, digest: str) -> BinaryIO:
        """A blob to read again after a load (a file's bytes): seekable with HTTP Range
        requests when the registry honours them, else a stream from its start."""
        response = self.open("blobs", digest, start=0)
        try:
            _check_served(self, response, digest)
            if response.status_code == 206:
                total = _range_total(self, response, 0, digest)
                ranged = RangedBlob(self, digest, total, response)
                return cast(BinaryIO, io.BufferedReader(ranged, _CHUNK))
            length = response.headers.get("content-length")
            size = ascii_int(length)
            return cast(BinaryIO, VerifiedBlob(self, response, digest, size))
        except BaseException:
            response.close()
            raise


def _check_served(client: RegistryClient, response: httpx.Response, digest: str) -> None:
    """A registry names the blob it serves: it must be the one asked for."""
    served = response.headers.get("docker-content-digest")
    if served and served.startswith("sha256:") and served != digest:
        raise CorruptLayer(f"asked for blob {digest}, the registry served {served}",
                           path=client.what)  # fmt: skip


def _range_total(client: RegistryClient, response: httpx.Response, start: int, digest: str) -> int:
    """The blob's size from a 206's Content-Range, which must start where asked."""
    unit, _sep, rest = response.headers.get("content-range", "").partition(" ")
    span, _sep, total = rest.partition("/")
    first = span.partition("-")[0]
    if unit != "bytes" or ascii_int(first) != start or ascii_int(total) is None:
        raise ArchiveError(
            f"the registry answered a range request for blob {digest[:19]} with "
            f"Content-Range {response.headers.get('content-range', '(none)')!r}",
            path=client.what,
        )
    return int(total)


class RangedBlob(SizedReader):
    """A blob in a registry as a seekable file: each read from a new place is a request
    for the rest of the blob from there (HTTP Range), read as far as the reader goes.

    Read whole from its start without a seek, its digest is checked at the end, as while
    loading; a file read from the middle of a layer cannot be (nothing before it was).
    """

    def __init__(
        self, client: RegistryClient, digest: str, size: int, response: httpx.Response
    ) -> None:
        self._client = client
        self._digest = digest
        self._size = size
        self._pos = 0
        self._response: httpx.Response | None = response
        self._chunks: Iterator[bytes] | None = client._chunks(response, digest)
        self._buffer = b""
        self._sha: Any = hashlib.sha256()  # while read from 0 in one run; None once not

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        target = self._target(pos, whence)
        if target != self._pos:
            self._drop()
            self._sha = None
            self._pos = target
        return self._pos

    def _drop(self) -> None:
        if self._response is not None:
            self._response.close()
        self._response, self._chunks, self._buffer = None, None, b""

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size:
            return 0
        if self._chunks is None:
            response = self._client.open("blobs", self._digest, start=self._pos)
            self._response = response
            _check_served(self._client, response, self._digest)
            if (
                response.status_code != 206
                or _range_total(self._client, response, self._pos, self._digest) != self._size
            ):
                raise ArchiveError(
                    f"the registry stopped honouring range requests for blob {self._digest[:19]}",
                    path=self._client.what,
                )
            self._chunks = self._client._chunks(response, self._digest)
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                raise CorruptLayer(
                    f"blob {self._digest} ended after {self._pos} of {self._size} bytes",
                    path=self._client.what,
                )
            self._buffer = chunk
        n = min(len(buffer), len(self._buffer), self._size - self._pos)
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        buffer[:n] = data
        self._pos += n
        if self._sha is not None:
            self._sha.update(data)
            if self._pos == self._size and "sha256:" + self._sha.hexdigest() != self._digest:
                raise CorruptLayer(
                    f"blob {self._digest} does not match its digest", path=self._client.what
                )
        return n

    def close(self) -> None:
        self._drop()
        super().close()


class VerifiedBlob:
    """A layer blob as a forward-only stream: hashed as it is read, checked at the end."""

    def __init__(
        self, client: RegistryClient, response: httpx.Response, digest: str, size: int | None
    ):
        self._client = client
        self._response = response
        self._digest = digest
        self._size = size
        self._chunks = client._chunks(response, digest)
        self._buffer = b""
        self._sha = hashlib.sha256()
        self.count = 0
        self._ended = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while not self._ended and (n < 0 or len(self._buffer) < n):
            chunk = next(self._chunks, None)
            if chunk is None:
                self._ended = True
                self._check()
                break
            self._sha.update(chunk)
            self.count += len(chunk)
            if self._size is not None and self.count > self._size:
                raise CorruptLayer(
                    f"blob {self._digest} is longer than the {self._size} bytes its "
                    "descriptor says",
                    path=self._client.what,
                )
            self._buffer += chunk
        if n < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def _check(self) -> None:
        if self._size is not None and self.count != self._size:
            raise CorruptLayer(
                f"blob {self._digest} ended after {self.count} of {self._size} bytes",
                path=self._client.what,
            )
        actual = "sha256:" + self._sha.hexdigest()
        if actual != self._digest:
            raise CorruptLayer(
                f"blob {self._digest} does not match its digest (the registry sent {actual})",
                path=self._client.what,
            )

    def seekable(self) -> bool:
        return False

    def finish(self) -> None:
        """Read what the reader left (padding after a tar's end) and check the digest."""
        while not self._ended:
            self._buffer = b""
            self.read(_CHUNK)

    def close(self) -> None:
        self._response.close()


class RegistryContainer(Container):
    """The chosen manifests of one repository, as the members of an OCI layout."""

    fetches_blobs = True

    def __init__(
        self,
        client: RegistryClient,
        limits: Limits,
        index: bytes,
        documents: dict[str, bytes],
        manifests: set[str],
    ):
        self.path = client.what
        self.client = client
        self._limits = limits
        self._index = index
        self._documents = documents  # hex -> bytes of manifests and configs already fetched
        self._manifests = manifests  # hex of digests known to be manifests or indexes
        self._sizes: dict[str, int] = {}
        self._foreign: set[str] = set()
        self._known: set[str] = set(documents) | set(manifests)

    def names(self) -> set[str]:
        return {"index.json"} | {"blobs/sha256/" + h for h in self._known}

    def _hex(self, name: str) -> str:
        if not name.startswith("blobs/sha256/"):
            raise MissingBlob(f"{name} is not in a registry", path=self.path)
        return name[len("blobs/sha256/") :]

    def resolve(self, name: str) -> str:
        if name != "index.json" and self._hex(name) not in self._known:
            raise MissingBlob(f"{name} is not referenced by the image", path=self.path)
        return name

    def exists(self, name: str) -> bool:
        if name == "index.json":
            return True
        return self._hex(name) in self._known and self._hex(name) not in self._foreign

    def size(self, name: str) -> int:
        size = self._sizes.get(self._hex(name))
        if size is None:
            raise ManifestError(f"the descriptor of {name} has no size", path=self.path)
        return size

    def read_small(self, name: str, *, limit: int, limit_name: str) -> bytes:
        if name == "index.json":
            return self._index
        hexdigest = self._hex(name)
        data = self._documents.get(hexdigest)
        if data is None:
            kind = "manifests" if hexdigest in self._manifests else "blobs"
            data, _headers = self.client.read_small(
                kind, "sha256:" + hexdigest, limit, limit_name, _ACCEPT
            )
            if hashlib.sha256(data).hexdigest() != hexdigest:
                raise CorruptLayer(
                    f"{'manifest' if kind == 'manifests' else 'config'} sha256:{hexdigest} "
                    "does not match its digest",
                    path=self.path,
                )
            self._documents[hexdigest] = data
        if hexdigest in self._manifests:
            self._learn(data, name)
        return data

    def _learn(self, data: bytes, name: str) -> None:
        """Note what a manifest or index refers to: what to fetch as manifests, blob sizes."""
        try:
            document = json.loads(data)
        except ValueError:
            return  # the walker names the broken document
        if not isinstance(document, dict):
            return
        for child in document.get("manifests") or []:
            if isinstance(child, dict) and isinstance(child.get("digest"), str):
                self._remember(child["digest"], child.get("size"), manifest=True)
        config = document.get("config")
        if isinstance(config, dict) and isinstance(config.get("digest"), str):
            self._remember(config["digest"], config.get("size"), manifest=False)
        for layer in document.get("layers") or []:
            if isinstance(layer, dict) and isinstance(layer.get("digest"), str):
                hexdigest = self._remember(layer["digest"], layer.get("size"), manifest=False)
                if hexdigest and is_foreign(layer.get("mediaType")) and layer.get("urls"):
                    self._foreign.add(hexdigest)  # fetched from its URLs at pull time, not here

    def _remember(self, digest: str, size: Any, *, manifest: bool) -> str | None:
        if not digest.startswith("sha256:"):
            return None
        hexdigest = digest[len("sha256:") :]
        self._known.add(hexdigest)
        if manifest:
            self._manifests.add(hexdigest)
        if isinstance(size, int) and size >= 0:
            self._sizes[hexdigest] = size
        return hexdigest

    def stream_blobs(self, names: Iterable[str], handler: BlobHandler) -> None:
        for name in dict.fromkeys(names):  # the manifest's order, each blob once
            hexdigest = self._hex(name)
            blob = self.client.blob_stream("sha256:" + hexdigest, self._sizes.get(hexdigest))
            try:
                handler(name, blob)  # type: ignore[arg-type]
                blob.finish()
            finally:
                blob.close()

    def open_blob(self, name: str) -> BinaryIO:
        """A blob by its digest, to read again after the load (seekable where the registry
        honours range requests). Any blob of the repository: the names come from the load."""
        hexdigest = self._hex(name)
        if len(hexdigest) != 64 or not all(c in "0123456789abcdef" for c in hexdigest):
            raise MissingBlob(f"{name} is not a blob digest", path=self.path)
        return self.client.blob_reader("sha256:" + hexdigest)

    def close(self) -> None:
        self.client.close()


def open_registry_blobs(
    ref: RegistryReference, options: RemoteOptions, limits: Limits, what: str
) -> RegistryContainer:
    """A repository's blobs by digest, to read an image's layers again after its load (no
    manifest is fetched: the load named the blobs)."""
    client = RegistryClient(ref, options, what)
    return RegistryContainer(client, limits, b'{"manifests": []}', {}, set())


def _choose(
    index: dict[str, Any], wanted: str | None, what: str, warnings: list[str]
) -> list[dict[str, Any]]:
    """The index entries to read: one platform (the host's by default) or all of them."""
    children = [
        c
        for c in index.get("manifests") or []
        if isinstance(c, dict) and not _is_attestation(c) and not c.get("artifactType")
    ]
    if not children:
        raise ArchiveError("the index lists no image (only attestations or artifacts)", path=what)
    if wanted == "all":
        return children
    available = [_platform(c) or "?" for c in children]
    if wanted is None and len(children) == 1:
        return children
    target = wanted or host_platform_name()
    chosen = [c for c in children if platform_matches(_platform(c), target)]
    if not chosen:
        raise ArchiveError(
            f"no image for {target} in this index (it has {', '.join(available)}); "
            "choose one with --platform, or --platform all",
            path=what,
        )
    if wanted is None:
        others = [p for p in available if p != _platform(chosen[0])]
        warnings.append(
            f"the index also holds {', '.join(others)}; read {_platform(chosen[0])}, this "
            "machine's platform (--platform chooses, --platform all reads every one)"
        )
    return chosen[:1]


def open_registry(
    ref: RegistryReference, options: RemoteOptions, limits: Limits, what: str
) -> ArchiveSource:
    """Fetch the manifest (and, for an index, the chosen platforms') and list the images."""
    client = RegistryClient(ref, options, what)
    try:
        data, headers = client.read_small(
            "manifests", ref.reference, limits.max_manifest_bytes, "max_manifest_bytes", _ACCEPT
        )
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        claimed = headers.get("docker-content-digest")
        if (
            ref.digest
            and digest != ref.digest
            or (claimed and claimed.startswith("sha256:") and claimed != digest)
        ):
            raise CorruptLayer(
                f"the manifest does not match its digest {ref.digest or claimed}", path=what
            )
        document = load_json(data, what="manifest", path=what, max_depth=limits.max_json_depth)
        if not isinstance(document, dict):
            raise ArchiveError("the registry's manifest is not a JSON object", path=what)
        media_type = document.get("mediaType") or headers.get("content-type", "").split(";")[0]
        if document.get("schemaVersion") == 1:
            raise ArchiveError(
                "a schema 1 manifest (deprecated since 2017): not supported", path=what
            )
        warnings: list[str] = []
        annotations = {"org.opencontainers.image.ref.name": ref.name}
        if media_type in INDEX_TYPES or "manifests" in document:
            entries = [
                {**child, "annotations": annotations}
                for child in _choose(document, options.platform, what, warnings)
            ]
        elif media_type in MANIFEST_TYPES or "layers" in document:
            entries = [
                {
                    "mediaType": media_type,
                    "digest": digest,
                    "size": len(data),
                    "annotations": annotations,
                }
            ]
        else:
            raise ArchiveError(
                f"not an image manifest ({media_type or 'no media type'})", path=what
            )
        index = json.dumps({"schemaVersion": 2, "manifests": entries}).encode()
        manifests = {
            e["digest"][len("sha256:") :]
            for e in entries
            if isinstance(e.get("digest"), str) and e["digest"].startswith("sha256:")
        }
        container = RegistryContainer(client, limits, index, {digest[7:]: data}, manifests)
        images = read_layout(container, limits, warnings)
    except BaseException:
        client.close()
        raise
    return ArchiveSource(what, REGISTRY, container, images, warnings)


__all__ = [
    "REGISTRY",
    "LayerscopeError",
    "RegistryContainer",
    "open_registry",
    "open_registry_blobs",
]


def registry_platforms(
    ref: RegistryReference, options: RemoteOptions, limits: Limits, what: str
) -> list[str]:
    """The platforms a tag offers (empty for a single-platform image): the window's list."""
    client = RegistryClient(ref, options, what)
    try:
        data, _headers = client.read_small(
            "manifests", ref.reference, limits.max_manifest_bytes, "max_manifest_bytes", _ACCEPT
        )
    finally:
        client.close()
    document = load_json(data, what="manifest", path=what, max_depth=limits.max_json_depth)
    if not isinstance(document, dict) or "manifests" not in document:
        return []
    children = [
        c
        for c in document.get("manifests") or []
        if isinstance(c, dict) and not _is_attestation(c) and not c.get("artifactType")
    ]
    return [p for p in (_platform(c) for c in children) if p]
