"""registry:// against a real registry (Debian's docker-registry), images pushed by skopeo."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from conftest import APP, APP_OCI, MULTI, PASSWORD, USER, Registries, leftovers
from services import FaultyProxy

from layerscope.cli import main
from layerscope.errors import Cancelled
from layerscope.load import Progress, load
from layerscope.remote import RemoteOptions
from layerscope.remote.options import host_platform_name

BLOB_FIELDS = ("digest", "media_type", "compressed_bytes", "compression")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def comparable(out: str, *, recompressed: bool = False) -> dict[str, Any]:
    """A report without what names the source; `recompressed`: skopeo gzipped the layers on
    the way into the registry, so blob digests, media types and stored sizes differ."""
    doc = json.loads(out)
    for image in doc["images"]:
        for key in ("archive", "ref", "refs", "manifest_digest"):
            image.pop(key, None)
        if recompressed:
            image.pop("compressed_bytes")
            for layer in image["layers"]:
                for key in BLOB_FIELDS:
                    layer.pop(key)
    return {"images": doc["images"], "shared_layers": doc["shared_layers"]}


def file_report(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> str:
    code, out, err = run(capsys, "report", str(path), "--json", "--files", "-q", *args)
    assert code == 0, err
    return out


def registry_report(
    capsys: pytest.CaptureFixture[str], host: str, repo: str, *args: str
) -> tuple[int, str, str]:
    return run(
        capsys,
        "report",
        f"registry://{host}/{repo}",
        "--json",
        "--files",
        "-q",
        "--insecure-registry",
        host,
        *args,
    )


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_report_from_registry_equals_the_docker_archive(
    registries: Registries, corpus: Path, capsys: pytest.CaptureFixture[str], clean_dirs: list[Path]
) -> None:
    code, out, err = registry_report(capsys, registries.open.host, APP)
    assert code == 0, err
    expected = file_report(capsys, corpus / "podman" / "app-docker.tar")
    assert comparable(out, recompressed=True) == comparable(expected, recompressed=True)
    doc = json.loads(out)
    assert doc["archives"][0]["path"] == f"registry://{registries.open.host}/{APP}"
    assert doc["archives"][0]["format"] == "registry"
    assert doc["images"][0]["refs"] == [f"{registries.open.host}/{APP}"]
    assert doc["images"][0]["layers"][0]["media_type"].endswith("gzip")
    assert leftovers(clean_dirs) == []


def test_report_from_registry_equals_the_oci_archive_blob_for_blob(
    registries: Registries, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = registry_report(capsys, registries.open.host, APP_OCI)
    assert code == 0, err
    expected = file_report(capsys, corpus / "podman" / "app-oci.tar")
    assert comparable(out) == comparable(expected)


def test_text_report_and_digest_reference(
    registries: Registries, capsys: pytest.CaptureFixture[str]
) -> None:
    host = registries.open.host
    code, out, err = registry_report(capsys, host, APP_OCI)
    digest = json.loads(out)["images"][0]["manifest_digest"]
    repo = APP_OCI.split(":")[0]
    code, by_digest, err = run(
        capsys, "report", f"registry://{host}/{repo}@{digest}", "-q", "--insecure-registry", host
    )
    assert code == 0, err
    assert "reclaimable 1.25 MiB" in by_digest
    assert f"{host}/{repo}@{digest}" in by_digest


def test_multi_platform_index(
    registries: Registries, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host, archive = registries.open.host, corpus / "podman" / "hello-multiarch-oci.tar"
    code, out, err = registry_report(capsys, host, MULTI, "--platform", "all")
    assert code == 0, err
    assert [im["platform"] for im in json.loads(out)["images"]] == ["linux/amd64", "linux/arm64"]
    assert comparable(out) == comparable(file_report(capsys, archive))

    code, out, err = registry_report(capsys, host, MULTI, "--platform", "linux/arm64")
    assert code == 0, err
    assert comparable(out) == comparable(file_report(capsys, archive, "--image", "linux/arm64"))
    # --platform works on files too, and reads only that platform
    assert comparable(out) == comparable(file_report(capsys, archive, "--platform", "linux/arm64"))

    if host_platform_name() in ("linux/amd64", "linux/arm64"):
        code, out, err = registry_report(capsys, host, MULTI)
        assert code == 0, err
        images = json.loads(out)["images"]
        assert [im["platform"] for im in images] == [host_platform_name()]
        assert "the index also holds" in json.dumps(json.loads(out)["archives"])

    code, out, err = registry_report(capsys, host, MULTI, "--platform", "linux/s390x")
    assert code == 2
    assert "no image for linux/s390x" in one_line(err)
    assert "linux/amd64, linux/arm64" in err


def test_diff_between_registry_layers_equals_the_file_diff(
    registries: Registries, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = registries.open.host
    source = f"registry://{host}/{APP}"
    code, out, err = run(
        capsys, "diff", f"{source}@5", f"{source}@6", "--json", "-q", "--insecure-registry", host
    )
    assert code == 0, err
    archive = str(corpus / "podman" / "app-docker.tar")
    code, expected, err = run(capsys, "diff", f"{archive}@5", f"{archive}@6", "--json", "-q")
    assert code == 0, err
    remote, local = json.loads(out), json.loads(expected)
    assert remote["a"]["archive"] == source
    assert remote["a"]["layer"] == 5
    for side in ("a", "b"):
        for key in ("archive", "image"):
            remote[side].pop(key), local[side].pop(key)
    assert remote == local
    assert remote["changes"]


def _auth_file(path: Path, host: str, password: str) -> Path:
    token = base64.b64encode(f"{USER}:{password}".encode()).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": {host: {"auth": token}}}))
    return path


def _no_secret(password: str, outputs: list[str], dirs: list[Path]) -> None:
    for text in outputs:
        assert password not in text
    for d in dirs:
        for p in d.rglob("*"):
            if p.is_file():
                assert password.encode() not in p.read_bytes(), p


def test_basic_auth_from_podman_auth_file(
    registries: Registries, corpus: Path, capsys: pytest.CaptureFixture[str], clean_dirs: list[Path]
) -> None:
    registry = registries.basic()
    code, out, err = registry_report(capsys, registry.host, APP_OCI)
    assert code == 2
    assert "user name and password" in one_line(err)

    _auth_file(
        Path(os.environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json", registry.host, PASSWORD
    )
    code, out, err = registry_report(capsys, registry.host, APP_OCI)
    assert code == 0, err
    assert comparable(out) == comparable(file_report(capsys, corpus / "podman" / "app-oci.tar"))
    outputs = [out, err]

    wrong = _auth_file(clean_dirs[0].parent / "wrong.json", registry.host, "not-the-password")
    code, out, err = registry_report(capsys, registry.host, APP_OCI, "--authfile", str(wrong))
    assert code == 2
    assert "refused the credentials" in one_line(err)
    assert "not-the-password" not in err
    _no_secret(PASSWORD, [*outputs, out, err], clean_dirs)
    assert leftovers(clean_dirs) == []


def test_token_flow_with_docker_config(
    registries: Registries, corpus: Path, capsys: pytest.CaptureFixture[str], clean_dirs: list[Path]
) -> None:
    registry = registries.token()
    assert registries.token_server is not None
    code, out, err = registry_report(capsys, registry.host, APP_OCI)
    assert code == 2, "anonymous pull must be refused"
    assert "access denied" in one_line(err)

    _auth_file(Path(os.environ["HOME"]) / ".docker" / "config.json", registry.host, PASSWORD)
    before = len(registries.token_server.requests)
    code, out, err = registry_report(capsys, registry.host, APP_OCI)
    assert code == 0, err
    assert comparable(out) == comparable(file_report(capsys, corpus / "podman" / "app-oci.tar"))
    # one token for the repository, reused for the manifest, the config and every blob
    asked = registries.token_server.requests[before:]
    assert len(asked) == 1
    assert "scope=repository%3Alscorpus%2Fapp-oci%3Apull" in asked[0]

    wrong = _auth_file(clean_dirs[0].parent / "wrong.json", registry.host, "wrong-pass")
    code, out2, err2 = registry_report(capsys, registry.host, APP_OCI, "--authfile", str(wrong))
    assert code == 2
    assert "refused the credentials" in one_line(err2)
    _no_secret(PASSWORD, [out, err, out2, err2], clean_dirs)


def test_credential_helper(
    registries: Registries,
    capsys: pytest.CaptureFixture[str],
    clean_dirs: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = registries.basic()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-lstest"
    asked = tmp_path / "asked"
    helper.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = get ] || exit 1\ncat > {asked}\n'
        f'printf \'{{"ServerURL":"%s","Username":"{USER}",'
        f'"Secret":"{PASSWORD}"}}\' "$(cat {asked})"\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    config = Path(os.environ["HOME"]) / ".docker" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"credHelpers": {registry.host: "lstest"}}))
    code, out, err = registry_report(capsys, registry.host, APP_OCI)
    assert code == 0, err
    assert asked.read_text() == registry.host
    _no_secret(PASSWORD, [out, err], clean_dirs)


@pytest.mark.parametrize(
    ("mode", "min_size", "message"),
    [
        # the digest check, or the gzip check when the damage reaches the reader first
        ("flip", 64 * 1024, "does not match its digest|corrupt gzip stream"),
        ("flip", 1024, "config sha256:297196d5d0e1"),
        ("cut", 64 * 1024, "broke while reading"),
    ],
)
def test_damaged_blob_stops_the_load(
    registries: Registries,
    capsys: pytest.CaptureFixture[str],
    clean_dirs: list[Path],
    mode: str,
    min_size: int,
    message: str,
) -> None:
    proxy = FaultyProxy(registries.open.host, mode, min_size)
    try:
        code, out, err = registry_report(capsys, proxy.host, APP)
    finally:
        proxy.stop()
    assert code == 2
    line = one_line(err)
    assert any(part in line for part in message.split("|")), line
    assert out == ""
    assert leftovers(clean_dirs) == []


def test_a_layer_cached_from_an_archive_is_not_downloaded(
    registries: Registries, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """worker-docker.tar shares app's base layer as an uncompressed tar; the registry holds
    it gzipped (another digest). Once the archive is read, the registry's copy of that layer
    is not asked for: the config names its diff_id, and the cache holds that layer."""
    worker = corpus / "podman" / "worker-docker.tar"
    code, _out, err = run(capsys, "report", str(worker), "-q")
    assert code == 0, err
    proxy = FaultyProxy(registries.open.host, "pass")
    try:
        code, out, err = registry_report(capsys, proxy.host, APP)
        assert code == 0, err
        fetched = proxy.blob_requests()
        proxy.requests.clear()
        code, verified, err = registry_report(capsys, proxy.host, APP, "--verify")
        assert code == 0, err
        fetched_verified = proxy.blob_requests()
    finally:
        proxy.stop()
    doc = json.loads(out)
    layers = [layer["digest"] for layer in doc["images"][0]["layers"]]
    assert len(layers) == 11
    base = layers[0]
    assert base not in fetched  # the shared base layer: not downloaded
    assert sorted(fetched) == sorted([doc["images"][0]["config_digest"], *layers[1:]])
    assert base in fetched_verified  # --verify reads every blob
    assert set(layers) <= set(fetched_verified)
    # the same report as a load that reads every blob, the blob's own fields included
    code, fresh, err = registry_report(capsys, registries.open.host, APP, "--no-cache")
    assert code == 0, err
    assert comparable(out) == comparable(fresh) == comparable(verified)


def test_every_layer_read_from_the_docker_archive_serves_the_registrys_oci_image(
    registries: Registries, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The OCI image's gzip layers, found from the docker archive's tars: only the config
    is fetched, and the report is the oci-archive's, compression from the media types."""
    code, _out, err = run(capsys, "report", str(corpus / "podman" / "app-docker.tar"), "-q")
    assert code == 0, err
    proxy = FaultyProxy(registries.open.host, "pass")
    try:
        code, out, err = registry_report(capsys, proxy.host, APP_OCI)
    finally:
        proxy.stop()
    assert code == 0, err
    doc = json.loads(out)
    assert [layer["compression"] for layer in doc["images"][0]["layers"]] == ["gzip"] * 11
    assert proxy.blob_requests() == [doc["images"][0]["config_digest"]]
    assert comparable(out) == comparable(file_report(capsys, corpus / "podman" / "app-oci.tar"))


def test_unreachable_registry_and_missing_image(
    registries: Registries, capsys: pytest.CaptureFixture[str]
) -> None:
    from services import free_port

    dead = f"127.0.0.1:{free_port()}"
    code, out, err = registry_report(capsys, dead, APP)
    assert code == 2
    assert f"cannot reach the registry at {dead}" in one_line(err)

    code, out, err = registry_report(capsys, registries.open.host, "lscorpus/nope:1")
    assert code == 2
    assert "not found" in one_line(err)

    code, out, err = run(capsys, "report", f"registry://{registries.open.host}/{APP}", "-q")
    assert code == 2
    assert f"--insecure-registry {registries.open.host}" in one_line(err)


def test_progress_counts_blob_bytes_and_cancel_stops(registries: Registries) -> None:
    host = registries.open.host
    options = RemoteOptions(insecure_registries=(host,))
    seen: list[Progress] = []
    load([f"registry://{host}/{APP}"], remote=options, progress=seen.append)
    reading = [p for p in seen if p.total]
    assert reading
    assert reading[-1].done == reading[-1].total > 2_000_000

    def cancel() -> bool:
        return any(p.done > 0 for p in seen)

    seen.clear()
    with pytest.raises(Cancelled):  # (no cache: it would serve the blobs the first load kept)
        load(
            [f"registry://{host}/{APP}"],
            remote=options,
            progress=seen.append,
            cancel=cancel,
            cache=None,
        )
    assert max(p.done for p in seen) < 2_000_000
