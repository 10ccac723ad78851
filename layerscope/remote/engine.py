"""Images in a local engine: Docker through its Engine API, podman through its CLI.

Both export a docker-archive as a stream (`GET /images/{name}/get`, `podman image save`).
The archive readers need to seek (manifest.json comes last in an export), so the stream is
written to a temporary directory in the temp directory (TMPDIR), read in place like any
saved archive, and removed when the load ends, whether it succeeds, fails or is cancelled.

Why not the `docker` or `podman` Python packages: three GET requests on a unix socket are
all layerscope needs, httpx (already here for registries) does them with a unix-socket
transport, and the packages would add requests, urllib3 and their own socket adapters.
podman is daemonless: its CLI is always there when podman is, its API service is not (and
podman's Docker-compatible service is reachable as `docker://` with DOCKER_HOST).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote, urlparse

import httpx

from layerscope.archive import open_archive
from layerscope.archive.container import BlobHandler, Container
from layerscope.archive.source import ArchiveSource
from layerscope.errors import Cancelled, LayerscopeError, plain_reason
from layerscope.limits import Limits
from layerscope.remote.reference import Reference
from layerscope.remote.schemes import DOCKER, PODMAN

_CHUNK = 1 << 20
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


class EngineError(LayerscopeError):
    """The engine is missing, unreachable, or refused the request."""


@dataclass(frozen=True)
class EngineImage:
    """One image in an engine's store, as the Open-from-engine dialog lists it."""

    engine: str  # "podman" | "docker"
    id: str  # sha256:... (the config digest)
    refs: tuple[str, ...]  # repository:tag names; empty for an untagged image
    size: int  # bytes, as the engine counts them (uncompressed layers)
    created: float | None  # seconds since the epoch

    @property
    def ref(self) -> str:
        """The name to open it by: its first tag, else its short id."""
        return self.refs[0] if self.refs else self.id.removeprefix("sha256:")[:12]

    @property
    def source(self) -> str:
        return f"{self.engine}://{self.ref}"


OnChunk = Callable[[int], None]


class Engine:
    name: str

    def images(self) -> list[EngineImage]:
        raise NotImplementedError

    def image_size(self, image: str) -> int:
        """The image's size; raises EngineError when the engine does not have it."""
        raise NotImplementedError

    def export(self, image: str, out: IO[bytes], on_chunk: OnChunk, workdir: str) -> None:
        """Write the image's docker-archive to `out`; `workdir` is for the engine's own
        temporary files (removed with it)."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _created(value: Any) -> float | None:
    if isinstance(value, int | float) and value > 0:
        return float(value)
    return None


def _refs(names: Any) -> tuple[str, ...]:
    if not isinstance(names, list):
        return ()
    return tuple(n for n in names if isinstance(n, str) and n and "<none>" not in n)


class DockerEngine(Engine):
    """The Docker Engine API on DOCKER_HOST (unix:// or tcp:// without TLS)."""

    name = DOCKER

    def __init__(self, host: str | None = None):
        self.host = host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
        parsed = urlparse(self.host)
        if parsed.scheme == "unix":
            socket_path = parsed.path
            if not os.path.exists(socket_path):
                raise EngineError(
                    f"no Docker engine: {socket_path} does not exist (is Docker running? "
                    "DOCKER_HOST names another socket)"
                )
            transport = httpx.HTTPTransport(uds=socket_path)
            base = "http://docker"
        elif parsed.scheme in ("tcp", "http"):
            if os.environ.get("DOCKER_TLS_VERIFY"):
                raise EngineError(
                    "DOCKER_TLS_VERIFY is set: layerscope talks to Docker over its unix socket "
                    "or plain tcp:// only"
                )
            transport = httpx.HTTPTransport()
            base = f"http://{parsed.netloc}"
        else:
            raise EngineError(f"DOCKER_HOST={self.host}: only unix:// and tcp:// are supported")
        self._client = httpx.Client(
            transport=transport, base_url=base, timeout=httpx.Timeout(120.0, connect=10.0)
        )

    def _get(self, path: str) -> Any:
        response = self._send(path)
        try:
            response.read()
            return response.json()
        except ValueError:
            raise EngineError(f"Docker at {self.host} sent something other than JSON") from None
        finally:
            response.close()

    def _send(self, path: str) -> httpx.Response:
        try:
            response = self._client.send(self._client.build_request("GET", path), stream=True)
        except httpx.HTTPError as exc:
            reason = plain_reason(str(exc)) or type(exc).__name__
            raise EngineError(f"cannot reach Docker at {self.host}: {reason}") from None
        if response.status_code != 200:
            response.read()
            response.close()
            try:
                message = str(response.json().get("message", ""))
            except (ValueError, AttributeError):
                message = response.text
            raise EngineError(f"Docker: {' '.join(message.split())[:200] or response.status_code}")
        return response

    @staticmethod
    def _path(image: str, tail: str) -> str:
        return f"/images/{quote(image, safe='/:@')}/{tail}"

    def images(self) -> list[EngineImage]:
        listed = self._get("/images/json")
        return [
            EngineImage(
                DOCKER,
                str(item.get("Id", "")),
                _refs(item.get("RepoTags")),
                int(item.get("Size") or 0),
                _created(item.get("Created")),
            )
            for item in (listed if isinstance(listed, list) else [])
            if isinstance(item, dict)
        ]

    def image_size(self, image: str) -> int:
        info = self._get(self._path(image, "json"))
        size = info.get("Size") if isinstance(info, dict) else None
        return int(size) if isinstance(size, int) else 0

    def close(self) -> None:
        self._client.close()

    def export(self, image: str, out: IO[bytes], on_chunk: OnChunk, workdir: str) -> None:
        response = self._send(self._path(image, "get"))
        try:
            for chunk in response.iter_bytes(_CHUNK):
                out.write(chunk)
                on_chunk(len(chunk))
        except httpx.HTTPError as exc:
            raise EngineError(
                f"the export from Docker at {self.host} broke off: {type(exc).__name__}"
            ) from None
        finally:
            response.close()


class PodmanEngine(Engine):
    """podman's CLI (it honours CONTAINERS_STORAGE_CONF, CONTAINER_HOST and its config)."""

    name = PODMAN

    def __init__(self) -> None:
        program = shutil.which("podman")
        if program is None:
            raise EngineError("podman is not installed (no `podman` on PATH)")
        self.program = program

    def _json(self, *args: str) -> Any:
        try:
            done = subprocess.run(
                [self.program, *args], capture_output=True, timeout=120, check=False
            )
        except subprocess.TimeoutExpired:
            raise EngineError(f"podman {args[0]} {args[1]}: no answer in 120 s") from None
        except OSError as exc:
            raise EngineError(f"podman {args[0]} {args[1]}: {exc.strerror or exc}") from None
        if done.returncode != 0:
            raise EngineError(_podman_error(done.stderr))
        try:
            return json.loads(done.stdout or b"null")
        except ValueError:
            raise EngineError(
                f"podman {args[0]} {args[1]} printed something other than JSON"
            ) from None

    def images(self) -> list[EngineImage]:
        listed = self._json("images", "--format", "json")
        return [
            EngineImage(
                PODMAN,
                "sha256:" + str(item.get("Id", "")).removeprefix("sha256:"),
                _refs(item.get("Names")),
                int(item.get("Size") or 0),
                _created(item.get("Created")),
            )
            for item in (listed if isinstance(listed, list) else [])
            if isinstance(item, dict)
        ]

    def image_size(self, image: str) -> int:
        found = self._json("image", "inspect", "--format", "json", "--", image)
        if not isinstance(found, list) or not found or not isinstance(found[0], dict):
            raise EngineError(f"podman has no image {image}")
        size = found[0].get("Size")
        return int(size) if isinstance(size, int) else 0

    def export(self, image: str, out: IO[bytes], on_chunk: OnChunk, workdir: str) -> None:
        # podman stages the archive under TMPDIR; a private one is removed even if it is killed
        with subprocess.Popen(
            [self.program, "image", "save", "--format", "docker-archive", "--", image],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "TMPDIR": workdir},
        ) as proc:
            assert proc.stdout is not None
            assert proc.stderr is not None
            try:
                while chunk := proc.stdout.read(_CHUNK):
                    out.write(chunk)
                    on_chunk(len(chunk))
            except BaseException:
                proc.kill()  # cancelled: stop the export we started
                raise
            errors = proc.stderr.read()
            if proc.wait() != 0:
                raise EngineError(_podman_error(errors))


def _podman_error(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines() if ln.strip()]
    last = lines[-1] if lines else "failed"
    return "podman: " + last.removeprefix("Error: ")[:240]


def engine_for(scheme: str) -> Engine:
    return PodmanEngine() if scheme == PODMAN else DockerEngine()


class _ExportedArchive(Container):
    """The container of a temporary export; closing it removes the file."""

    def __init__(self, inner: Container, what: str, workdir: str):
        self.path = what
        self.is_dir = inner.is_dir
        self._inner = inner
        self._workdir = workdir
        self.warnings: list[str] = list(getattr(inner, "warnings", []))

    def names(self) -> set[str]:
        return self._inner.names()

    def resolve(self, name: str) -> str:
        return self._inner.resolve(name)

    def exists(self, name: str) -> bool:
        return self._inner.exists(name)

    def size(self, name: str) -> int:
        return self._inner.size(name)

    def read_small(self, name: str, *, limit: int, limit_name: str) -> bytes:
        return self._inner.read_small(name, limit=limit, limit_name=limit_name)

    def stream_blobs(self, names: Iterable[str], handler: BlobHandler) -> None:
        self._inner.stream_blobs(names, handler)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            shutil.rmtree(self._workdir, ignore_errors=True)


def open_engine(
    ref: Reference,
    limits: Limits,
    on_progress: Callable[[str, int, int], None],
    cancel: Callable[[], bool],
) -> ArchiveSource:
    """Export the image from its engine into a temporary file and read it as an archive."""
    what = str(ref)
    workdir = tempfile.mkdtemp(prefix="layerscope-export-")
    temp_path = os.path.join(workdir, "image.tar")
    try:
        with engine_for(ref.scheme) as engine:
            total = engine.image_size(ref.image)
            stage = f"Exporting {ref.image} from {engine.name}"
            done = 0

            def on_chunk(n: int) -> None:
                nonlocal done
                done += n
                if cancel():
                    raise Cancelled()
                on_progress(stage, done, max(total, done))

            with open(temp_path, "wb") as out:
                engine.export(ref.image, out, on_chunk, workdir)
        on_progress(f"Reading {ref.image}", 0, 0)
        source = open_archive(temp_path, limits)
    except LayerscopeError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        if exc.path in (None, temp_path):
            exc.path = what
        raise
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    source.container = _ExportedArchive(source.container, what, workdir)
    source.path = what
    return source


def engine_images(scheme: str) -> list[EngineImage]:
    """Every image of one engine, newest first (for the Open-from-engine dialog)."""
    with engine_for(scheme) as engine:
        images = engine.images()
    return sorted(images, key=lambda im: -(im.created or 0))


def iter_engines() -> Iterator[str]:
    yield PODMAN
    yield DOCKER
