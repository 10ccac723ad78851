"""podman:// (the podman CLI) and docker:// (the Docker Engine API, served here by podman's
Docker-compatible service on a unix socket in the test's temp dir) on a throwaway store."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import leftovers
from test_registry import comparable, one_line, run

from layerscope.errors import Cancelled
from layerscope.load import Progress, load
from layerscope.remote.engine import engine_images

IMAGE = "localhost/lscorpus/app:1"


@pytest.fixture
def podman_store(podman_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("CONTAINERS_STORAGE_CONF", "CONTAINERS_CONF"):
        monkeypatch.setenv(key, podman_env[key])


@pytest.fixture(scope="session")
def docker_socket(
    podman_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`podman system service` on a unix socket: the Docker Engine API, without Docker."""
    socket = tmp_path_factory.mktemp("docker-api") / "docker.sock"
    proc = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        env=podman_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not socket.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.skip("podman system service did not start")
            time.sleep(0.05)
        yield f"unix://{socket}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def engine_report(capsys: pytest.CaptureFixture[str], source: str, *args: str) -> dict:
    code, out, err = run(capsys, "report", source, "--json", "--files", "-q", *args)
    assert code == 0, err
    return json.loads(out)


def file_report(capsys: pytest.CaptureFixture[str], corpus: Path) -> dict:
    return engine_report(capsys, str(corpus / "podman" / "app-docker.tar"))


def test_podman_report_equals_the_saved_archive(
    podman_store: None, corpus: Path, capsys: pytest.CaptureFixture[str], clean_dirs: list[Path]
) -> None:
    remote = engine_report(capsys, f"podman://{IMAGE}")
    local = file_report(capsys, corpus)
    assert remote["archives"][0]["path"] == f"podman://{IMAGE}"
    assert remote["archives"][0]["format"] == "docker-archive"
    assert remote["images"][0]["refs"] == [IMAGE]
    assert comparable(json.dumps(remote)) == comparable(json.dumps(local))
    # layers exactly as in the file: same blobs, digests and stored sizes
    assert remote["images"][0]["layers"] == local["images"][0]["layers"]
    assert leftovers(clean_dirs) == [], "the temporary export must be removed"


def test_docker_api_report_equals_the_saved_archive(
    docker_socket: str,
    corpus: Path,
    capsys: pytest.CaptureFixture[str],
    clean_dirs: list[Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_socket)
    remote = engine_report(capsys, f"docker://{IMAGE}")
    local = file_report(capsys, corpus)
    assert remote["archives"][0]["path"] == f"docker://{IMAGE}"
    assert comparable(json.dumps(remote)) == comparable(json.dumps(local))
    assert leftovers(clean_dirs) == []


def test_engine_listing_for_the_dialog(
    podman_store: None, docker_socket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_socket)
    for scheme in ("podman", "docker"):
        images = engine_images(scheme)
        app = next(im for im in images if IMAGE in im.refs)
        assert app.source == f"{scheme}://{IMAGE}"
        assert app.size > 3_000_000
        assert app.created is not None
        assert app.created > 1.7e9
        assert app.id.startswith("sha256:297196d5d0e1")


def test_diff_across_engine_and_file(
    podman_store: None, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = corpus / "podman" / "app-docker.tar"
    code, out, err = run(capsys, "diff", f"podman://{IMAGE}@9", f"{archive}@10", "--json", "-q")
    assert code == 0, err
    assert json.loads(out)["summary"]


def test_missing_engines_say_so_in_one_line(
    capsys: pytest.CaptureFixture[str],
    clean_dirs: list[Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-such.sock")
    code, _out, err = run(capsys, "report", "docker://alpine", "-q")
    assert code == 2
    assert "no Docker engine" in one_line(err)

    monkeypatch.setenv("PATH", str(tmp_path))  # no podman here
    code, _out, err = run(capsys, "ci", "podman://alpine", "-q", "--lowest-efficiency", "0.5")
    assert code == 2
    assert "podman is not installed" in one_line(err)
    assert leftovers(clean_dirs) == []


def test_unknown_image_and_failures_leave_nothing(
    podman_store: None, capsys: pytest.CaptureFixture[str], clean_dirs: list[Path]
) -> None:
    code, _out, err = run(capsys, "report", "podman://localhost/nope:1", "-q")
    assert code == 2
    assert "image not known" in one_line(err)

    # a failure while reading the export: the temporary file goes too
    code, _out, err = run(capsys, "report", f"podman://{IMAGE}", "-q", "--limit", "max_entries=3")
    assert code == 2
    assert one_line(err).startswith(f"layerscope: podman://{IMAGE}")
    assert leftovers(clean_dirs) == []


def test_cancel_during_the_export_removes_the_file(
    podman_store: None, clean_dirs: list[Path]
) -> None:
    seen: list[Progress] = []

    def cancel() -> bool:
        return any(p.stage.startswith("Exporting") and p.done for p in seen)

    with pytest.raises(Cancelled):
        load([f"podman://{IMAGE}"], progress=seen.append, cancel=cancel)
    assert any(p.total > 3_000_000 for p in seen)
    assert leftovers(clean_dirs) == []


def test_extract_names_what_it_cannot_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _out, err = run(
        capsys, "extract", f"podman://{IMAGE}", "/etc", "--to", str(tmp_path / "x")
    )
    assert code == 2
    assert "extract reads saved archives and registry images" in one_line(err)
    assert not (tmp_path / "x").exists()
