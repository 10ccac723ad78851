"""Session-wide services for the remote-source tests: started once, stopped at the end.

One registry storage is filled once with `skopeo copy`; three registries serve it (open,
htpasswd basic auth, token auth). Tests skip with the reason when a tool is missing, so
`make test` passes on a machine without them (`scripts/install-test-services.sh` installs
them; CI runs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from services import (
    HTPASSWD,
    OPENSSL,
    PODMAN,
    REGISTRY,
    SKOPEO,
    Registry,
    TokenServer,
    htpasswd_auth,
    podman_storage,
)

USER = "lsuser"
PASSWORD = "s3cr3t-Pa55-for-layerscope-tests"

APP = "lscorpus/app:1"  # pushed from app-docker.tar (skopeo gzips the layers)
APP_OCI = "lscorpus/app-oci:1"  # pushed from app-oci.tar (blobs as they are)
MULTI = "lscorpus/hello:multi"  # the two-platform index of hello-multiarch-oci.tar
LONGRUN = "lscorpus/longrun:1"  # longrun-docker.tar, its layers gzipped by skopeo
LONGRUN_TAR = "lscorpus/longrun-tar:1"  # the same, its layers kept as the archive's tars


def _need(*tools: tuple[str | None, str]) -> None:
    missing = [name for path, name in tools if path is None]
    if missing:
        pytest.skip(
            f"{', '.join(missing)} not installed (scripts/install-test-services.sh installs them)"
        )


@dataclass
class Registries:
    storage: Path
    open: Registry
    workdir: Path
    _basic: Registry | None = None
    _token: Registry | None = None
    token_server: TokenServer | None = None

    def basic(self) -> Registry:
        _need((HTPASSWD, "htpasswd (apache2-utils)"))
        if self._basic is None:
            auth = htpasswd_auth(self.workdir / "basic", USER, PASSWORD)
            self._basic = Registry(self.workdir / "basic", self.storage, auth)
        return self._basic

    def token(self) -> Registry:
        _need((OPENSSL, "openssl"))
        if self._token is None:
            self.token_server = TokenServer(self.workdir / "token", USER, PASSWORD)
            self._token = Registry(
                self.workdir / "token", self.storage, self.token_server.registry_auth()
            )
        return self._token


@pytest.fixture(scope="session")
def registries(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Iterator[Registries]:
    _need((REGISTRY, "docker-registry"), (SKOPEO, "skopeo"))
    workdir = tmp_path_factory.mktemp("registry")
    storage = workdir / "storage"
    registry = Registry(workdir / "open", storage)
    podman_dir = corpus / "podman"
    state = Registries(storage, registry, workdir)
    try:
        registry.push(f"docker-archive:{podman_dir / 'app-docker.tar'}", APP)
        registry.push(f"oci-archive:{podman_dir / 'app-oci.tar'}", APP_OCI)
        registry.push(f"oci-archive:{podman_dir / 'hello-multiarch-oci.tar'}", MULTI, "--all")
        longrun = f"docker-archive:{podman_dir / 'longrun-docker.tar'}"
        registry.push(longrun, LONGRUN)
        registry.push(longrun, LONGRUN_TAR, "--preserve-digests")
        yield state
    finally:
        for service in (registry, state._basic, state._token, state.token_server):
            if service is not None:
                service.stop()


@pytest.fixture(scope="session")
def podman_env(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> dict[str, str]:
    """A throwaway podman store holding the corpus app image (podman load)."""
    _need((PODMAN, "podman"))
    import subprocess

    env = podman_storage(tmp_path_factory.mktemp("podman"))
    done = subprocess.run(
        ["podman", "load", "-q", "-i", str(corpus / "podman" / "app-docker.tar")],
        env=env,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"podman cannot run here: {done.stderr.decode()[-300:]}")
    return env


@pytest.fixture
def clean_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """TMPDIR and XDG_CACHE_HOME of their own, empty, to check that nothing is left."""
    import tempfile

    dirs = [tmp_path / "tmp", tmp_path / "cache"]
    for d in dirs:
        d.mkdir()
    monkeypatch.setenv("TMPDIR", str(dirs[0]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(dirs[1]))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    # no auth file of this machine may leak into a test
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    for var in ("REGISTRY_AUTH_FILE", "XDG_CONFIG_HOME", "DOCKER_CONFIG", "DOCKER_HOST"):
        monkeypatch.delenv(var, raising=False)
    return dirs


def leftovers(dirs: list[Path]) -> list[str]:
    return [str(p) for d in dirs for p in d.rglob("*")]
