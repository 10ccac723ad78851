"""Registry credentials found where podman, skopeo and docker keep them, and the auth flow.

Auth files are read in containers/image's order: `--authfile` (or `REGISTRY_AUTH_FILE`),
else `${XDG_RUNTIME_DIR}/containers/auth.json`, then `$XDG_CONFIG_HOME/containers/auth.json`;
then `$DOCKER_CONFIG/config.json` (`~/.docker/config.json`) and `~/.dockercfg`. In each,
`credHelpers[host]` names a `docker-credential-<name>` helper; `auths` keys may be a host or
a host with a repository prefix (the most specific wins); a `credsStore` is the helper of
last resort. Secrets never leave this module except in an Authorization header: every
message built from a server's answer goes through `Secrets.redact`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx

from layerscope.errors import LayerscopeError
from layerscope.remote.reference import DOCKER_HUB

_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io")
_HELPER_TIMEOUT = 30


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str  # a password, or an identity (refresh) token when username is "<token>"

    @property
    def identity_token(self) -> str | None:
        return self.password if self.username == "<token>" else None

    def __repr__(self) -> str:  # never print the secret, even in a debugger or a traceback
        return f"Credentials(username={self.username!r}, password=***)"


@dataclass
class Secrets:
    """Every secret this process has handled, scrubbed from anything shown to people."""

    values: set[str] = field(default_factory=set)

    def add(self, value: str | None) -> None:
        if value and len(value) >= 3:
            self.values.add(value)

    def redact(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, "***")
        return text


class AuthError(LayerscopeError):
    """Credentials were refused, or an auth file or helper is unusable."""


SMALL_ANSWER_BYTES = 64 * 1024  # an error, a 401 or a token answer: a few KiB when honest
# Less than STALL_BYTES in STALL_SECONDS is a stalled answer. The read timeout alone does not
# catch a server that drips a byte now and then: it would hold a load, and its cancel, forever.
STALL_SECONDS = 60.0
STALL_BYTES = 16 * 1024


def paced(chunks: Iterable[bytes], message: str) -> Iterator[bytes]:
    """`chunks` as they arrive, stopped with `message` once the answer stalls. Only the
    time spent waiting for the server counts: a reader that pauses is not a slow server."""
    pieces = iter(chunks)
    waited = 0.0
    got = 0
    while True:
        asked = time.monotonic()
        chunk = next(pieces, None)
        if chunk is None:
            return
        waited += time.monotonic() - asked
        got += len(chunk)
        if waited >= STALL_SECONDS:
            if got < STALL_BYTES:
                raise LayerscopeError(message)
            waited, got = 0.0, 0
        yield chunk


def stalled_message(what: str, server: str) -> str:
    return (
        f"{what}: {server} sent less than {STALL_BYTES // 1024} KiB in {STALL_SECONDS:g} s "
        "(a stalled or deliberately slow answer); stopped waiting"
    )


class _Capped(httpx.SyncByteStream):
    """A response body that stops with an error past `limit` bytes as they arrive."""

    def __init__(self, stream: httpx.SyncByteStream, limit: int, message: str, stalled: str):
        self._stream = stream
        self._limit = limit
        self._message = message
        self._stalled = stalled

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in paced(self._stream, self._stalled):
            seen += len(chunk)
            if seen > self._limit:
                raise LayerscopeError(self._message)
            yield chunk

    def close(self) -> None:
        self._stream.close()


def read_small_answer(response: httpx.Response, what: str) -> bytes:
    """The body of an answer that carries no image data (an error, a 401, a token), read
    whole but never past SMALL_ANSWER_BYTES (as sent; decoded, at most ~1000 times that):
    a registry answering a 404 or a 401 with a gigabyte must not fill the memory."""
    if not isinstance(response.stream, httpx.SyncByteStream):
        return response.read()  # already read, or not a network stream
    server = response.request.url.netloc.decode("ascii", "replace")
    response.stream = _Capped(
        response.stream,
        SMALL_ANSWER_BYTES,
        f"{what}: {server} answered {response.status_code} with more than "
        f"{SMALL_ANSWER_BYTES // 1024} KiB (a registry's errors and tokens take a few); "
        "stopped reading it",
        stalled_message(what, server),
    )
    return response.read()


def auth_file_paths(authfile: str | None = None) -> list[str]:
    home = os.path.expanduser("~")
    paths: list[str] = []
    chosen = authfile or os.environ.get("REGISTRY_AUTH_FILE")
    if chosen:
        paths.append(chosen)
    else:
        runtime = os.environ.get("XDG_RUNTIME_DIR") or (
            f"/run/containers/{os.getuid()}" if os.getuid() == 0 else ""
        )
        if runtime:
            paths.append(os.path.join(runtime, "containers", "auth.json"))
        config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        paths.append(os.path.join(config_home, "containers", "auth.json"))
    docker_config = os.environ.get("DOCKER_CONFIG") or os.path.join(home, ".docker")
    paths.append(os.path.join(docker_config, "config.json"))
    paths.append(os.path.join(home, ".dockercfg"))
    return paths


def _normalise_key(key: str) -> str:
    """`https://quay.io/v1/` -> `quay.io`; `index.docker.io` -> `docker.io`."""
    if "://" in key:
        parsed = urlparse(key)
        key = (parsed.netloc + parsed.path).rstrip("/")
        if key.endswith("/v1") or key.endswith("/v2"):
            key = key[:-3]
    if key in _HUB_KEYS or key.split("/", 1)[0] in _HUB_KEYS:
        key = DOCKER_HUB + key[len(key.split("/", 1)[0]) :]
    return key


def _decode_entry(entry: object, path: str) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("identitytoken"), str) and entry["identitytoken"]:
        return Credentials("<token>", entry["identitytoken"])
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            user, sep, password = base64.b64decode(encoded, validate=False).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise AuthError(f"{path}: an `auth` entry is not base64 user:password") from None
        return Credentials(user, password) if sep else None
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str) and name:
        return Credentials(name, secret)
    return None


def _helper(name: str, host: str, secrets: Secrets) -> Credentials | None:
    """Ask `docker-credential-<name> get` (the docker-credential-helpers protocol)."""
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        return None
    server = "https://index.docker.io/v1/" if host == DOCKER_HUB else host
    try:
        done = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=_HELPER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        raise AuthError(f"credential helper docker-credential-{name} did not answer") from None
    if done.returncode != 0:
        return None  # "credentials not found in native keychain"
    try:
        answer = json.loads(done.stdout)
        user, secret = answer["Username"], answer["Secret"]
    except (ValueError, KeyError, TypeError):
        raise AuthError(f"credential helper docker-credential-{name} gave no credentials") from None
    if not isinstance(user, str) or not isinstance(secret, str):
        return None
    secrets.add(secret)
    return Credentials(user, secret)


def find_credentials(
    host: str, repository: str, secrets: Secrets, authfile: str | None = None
) -> Credentials | None:
    """The credentials the container tools would use for host/repository, or None."""
    wanted = [f"{host}/{repository}"]
    parts = repository.split("/")
    wanted += [f"{host}/{'/'.join(parts[:i])}" for i in range(len(parts) - 1, 0, -1)]
    wanted.append(host)
    stores: list[str] = []
    for path in auth_file_paths(authfile):
        try:
            with open(path, "rb") as fh:
                document = json.loads(fh.read(4 << 20))
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            raise AuthError(f"{path}: unreadable auth file ({type(exc).__name__})") from None
        if not isinstance(document, dict):
            continue
        helpers = document.get("credHelpers")
        if isinstance(helpers, dict):
            for key, name in helpers.items():
                if isinstance(name, str) and _normalise_key(key) == host:
                    found = _helper(name, host, secrets)
                    if found is not None:
                        return found
        auths = document.get("auths")
        if isinstance(auths, dict):
            by_key = {_normalise_key(k): v for k, v in auths.items() if isinstance(k, str)}
            for key in wanted:
                if key in by_key:
                    found = _decode_entry(by_key[key], path)
                    if found is not None:
                        secrets.add(found.password)
                        return found
        if isinstance(document.get("credsStore"), str):
            stores.append(document["credsStore"])
    for name in stores:
        found = _helper(name, host, secrets)
        if found is not None:
            return found
    return None


_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="..."` -> ("bearer", {"realm": ..., "service": ...})."""
    scheme, _sep, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(rest)}
    return scheme.lower(), params


class RegistryAuth(httpx.Auth):
    """Anonymous first; on a 401, the challenge's way: a bearer token or basic auth.

    Written as `sync_auth_flow` so only the small 401 and token answers are read: the flow
    never reads the body of the answer it returns (a layer blob is streamed by the caller).
    """

    def __init__(self, credentials: Credentials | None, secrets: Secrets, what: str):
        self.credentials = credentials
        self.secrets = secrets
        self.what = what  # the source, named in errors
        self._header: str | None = None  # the Authorization that worked last

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        if self._header is not None:
            request.headers["Authorization"] = self._header
        response = yield request
        if response.status_code != 401:
            return
        read_small_answer(response, self.what)
        scheme, params = parse_challenge(response.headers.get("www-authenticate", ""))
        if scheme == "bearer" and params.get("realm"):
            token_response = yield self._token_request(params)
            read_small_answer(token_response, self.what)
            header = "Bearer " + self._token_from(token_response, params["realm"])
        elif scheme == "basic" and self.credentials is not None:
            header = self._basic()
        elif scheme == "basic":
            raise AuthError(
                f"{self.what}: the registry wants a user name and password, and no "
                "auth file has credentials for it (log in with `podman login`)"
            )
        else:
            return  # a 401 we cannot answer; the caller names it
        self._header = header
        request.headers["Authorization"] = header
        retried = yield request
        if retried.status_code == 401:
            read_small_answer(retried, self.what)
            raise AuthError(self._refused())

    def _basic(self) -> str:
        assert self.credentials is not None
        pair = f"{self.credentials.username}:{self.credentials.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def _refused(self) -> str:
        if self.credentials is None:
            return f"{self.what}: access denied (no credentials for this registry; log in first)"
        return (
            f"{self.what}: access denied: the registry refused the credentials "
            f"of user {self.credentials.username!r} (wrong password, or no access)"
        )

    def _token_request(self, params: dict[str, str]) -> httpx.Request:
        realm = params["realm"]
        query = {k: v for k, v in params.items() if k in ("service", "scope") and v}
        token = self.credentials.identity_token if self.credentials else None
        if token is not None:
            # an identity token is an OAuth2 refresh token: POST it (distribution's token spec)
            form = {
                "grant_type": "refresh_token",
                "refresh_token": token,
                "client_id": "layerscope",
                **query,
            }
            return httpx.Request("POST", realm, data=form)
        headers = {"Authorization": self._basic()} if self.credentials is not None else {}
        return httpx.Request("GET", realm, params=query, headers=headers)

    def _token_from(self, response: httpx.Response, realm: str) -> str:
        where = urlparse(realm).netloc or realm
        if response.status_code in (401, 403):
            raise AuthError(self._refused())
        if response.status_code != 200:
            raise AuthError(
                f"{self.what}: the token server at {where} answered {response.status_code}"
            )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        token = None
        if isinstance(answer, dict):
            token = answer.get("token") or answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError(f"{self.what}: the token server at {where} gave no token")
        self.secrets.add(token)
        return token
