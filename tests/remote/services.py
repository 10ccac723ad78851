"""Real services for the remote-source tests, all on 127.0.0.1 and in the test's temp dir.

- `Registry`: Debian's `docker-registry` (distribution 2.8) with a config written here, open,
  behind htpasswd basic auth, or behind the token flow (its `auth.token` section).
- `TokenServer`: the token endpoint of distribution's token spec, signing RS256 JWTs with a
  key and self-signed certificate made by `openssl` (the registry trusts that certificate).
- `FaultyProxy`: stands between layerscope and a registry, notes every request, and flips
  one byte of every layer blob (a lying digest), cuts the connection halfway through it,
  answers range requests with the whole blob (mode "norange", as a registry that does not
  honour them), or (mode "pass") passes everything as it is.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REGISTRY = shutil.which("docker-registry")
SKOPEO = shutil.which("skopeo")
PODMAN = shutil.which("podman")
HTPASSWD = shutil.which("htpasswd")
OPENSSL = shutil.which("openssl")

ISSUER = "layerscope-test-issuer"
SERVICE = "layerscope-test-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return  # 401: it is up
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Registry:
    def __init__(self, workdir: Path, storage: Path, auth: str = "") -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {storage}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n" + auth
        )
        self._log = open(workdir / "registry.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [REGISTRY or "docker-registry", "serve", str(config)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_for(f"http://{self.host}/v2/")

    def push(self, source: str, repo: str, *extra: str) -> None:
        subprocess.run(
            [
                SKOPEO or "skopeo",
                "copy",
                "-q",
                "--dest-tls-verify=false",
                *extra,
                source,
                f"docker://{self.host}/{repo}",
            ],
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def htpasswd_auth(workdir: Path, user: str, password: str) -> str:
    path = workdir / "htpasswd"
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [HTPASSWD or "htpasswd", "-Bbc", str(path), user, password],
        check=True,
        capture_output=True,
    )
    return f"auth:\n  htpasswd:\n    realm: layerscope-test\n    path: {path}\n"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """GET /token with basic auth -> {"token": JWT}; grants what the scope asks for."""

    def __init__(self, workdir: Path, user: str, password: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.key = workdir / "token.key"
        self.cert = workdir / "token.crt"
        subprocess.run(
            [
                OPENSSL or "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=layerscope-test-token",
                "-keyout",
                str(self.key),
                "-out",
                str(self.cert),
            ],
            check=True,
            capture_output=True,
        )
        der = subprocess.run(
            [OPENSSL or "openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        self.x5c = base64.b64encode(der).decode()
        self.user, self.password = user, password
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.requests.append(self.path)
                expected = (
                    "Basic "
                    + base64.b64encode(f"{server.user}:{server.password}".encode()).decode()
                )
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                body = json.dumps({"token": server.sign(query.get("scope", []))}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the reader had what it wanted (a file's bytes) and hung up

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.httpd.server_address[1]}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def sign(self, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            kind, _sep, rest = scope.partition(":")
            name, _sep, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {
            "iss": ISSUER,
            "sub": self.user,
            "aud": SERVICE,
            "exp": now + 600,
            "nbf": now - 60,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        signature = subprocess.run(
            [OPENSSL or "openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
        ).stdout
        return signing_input + "." + _b64url(signature)

    def registry_auth(self) -> str:
        return (
            "auth:\n  token:\n"
            f"    realm: {self.realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n"
            f"    rootcertbundle: {self.cert}\n"
        )

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FaultyProxy:
    """A registry's front that damages layer blobs: mode "flip" or "cut" ("pass": none)."""

    def __init__(self, upstream: str, mode: str, min_size: int = 64 * 1024) -> None:
        proxy = self
        self.upstream = upstream
        self.mode = mode
        self.min_size = min_size  # configs and small layers pass untouched
        self.requests: list[str] = []  # the path of every GET, in order
        self.ranges: list[tuple[str, str | None]] = []  # (path, its Range header) of each

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                proxy.requests.append(self.path)
                proxy.ranges.append((self.path, self.headers.get("Range")))
                dropped = ("host", "range") if proxy.mode == "norange" else ("host",)
                request = urllib.request.Request(
                    f"http://{proxy.upstream}{self.path}",
                    headers={k: v for k, v in self.headers.items() if k.lower() not in dropped},
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as upstream:
                        status, headers, body = upstream.status, upstream.headers, upstream.read()
                except urllib.error.HTTPError as exc:
                    status, headers, body = exc.code, exc.headers, exc.read()
                damaged = (
                    proxy.mode in ("flip", "cut")
                    and "/blobs/" in self.path
                    and status in (200, 206)
                    and len(body) >= proxy.min_size
                )
                if damaged and proxy.mode == "flip":
                    middle = len(body) // 2
                    body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if damaged and proxy.mode == "cut":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the reader had what it wanted (a file's bytes) and hung up

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def blob_requests(self) -> list[str]:
        """The digests of the blobs asked for, in order."""
        return [p.rsplit("/", 1)[1] for p in self.requests if "/blobs/" in p]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def podman_storage(root: Path) -> dict[str, str]:
    """Environment for a throwaway podman store under `root` (vfs, nothing shared)."""
    root.mkdir(parents=True, exist_ok=True)
    conf = root / "storage.conf"
    conf.write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root / "graph"}"\nrunroot = "{root / "run"}"\n'
    )
    containers_conf = root / "containers.conf"
    containers_conf.write_text('[engine]\nevents_logger = "none"\ncgroup_manager = "cgroupfs"\n')
    env = dict(os.environ)
    env["CONTAINERS_STORAGE_CONF"] = str(conf)
    env["CONTAINERS_CONF"] = str(containers_conf)
    return env


class HostileRegistry:
    """Answers every request but `/v2/` as a registry must not: mode "big404", "big401" (a
    huge body), "bigtoken" (a 401 whose token server sends a huge body), "trickle" (a
    manifest sent a byte at a time). Notes how many body bytes it sent."""

    BIG = 256 << 20

    def __init__(self, mode: str) -> None:
        server = self
        self.mode = mode
        self.sent = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def answer(self, status: int, headers: dict[str, str], size: int, step: int) -> None:
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(size)}.items():
                    self.send_header(key, value)
                self.end_headers()
                chunk = b"x" * step
                try:
                    while server.sent < size:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        server.sent += step
                        if step == 1:
                            time.sleep(0.2)
                except OSError:
                    pass  # the client hung up: what a client should do here

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/v2/":
                    self.answer(200, {}, 0, 1)
                elif server.mode == "big404":
                    self.answer(404, {}, server.BIG, 1 << 16)
                elif server.mode == "big401":
                    self.answer(401, {"WWW-Authenticate": 'Basic realm="r"'}, server.BIG, 1 << 16)
                elif self.path.startswith("/token"):
                    self.answer(200, {}, server.BIG, 1 << 16)
                elif server.mode == "bigtoken":
                    realm = f"http://{server.host}/token"
                    self.answer(401, {"WWW-Authenticate": f'Bearer realm="{realm}"'}, 0, 1)
                else:  # trickle
                    self.answer(200, {}, 1 << 20, 1)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
