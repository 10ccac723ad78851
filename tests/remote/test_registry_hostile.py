"""registry:// against a server that answers as no registry should: bodies of a gigabyte
where a registry says a few words, a manifest sent a byte at a time. Each gets one line on
stderr, soon, without reading on."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import cast

import httpx
import pytest
from services import HostileRegistry

from layerscope.cli import main
from layerscope.errors import ArchiveError
from layerscope.remote import auth, registry


def report_from(server: HostileRegistry) -> int:
    """`layerscope report` of the server's app:1, then the server stopped; the exit code."""
    try:
        source = f"registry://{server.host}/app:1"
        return main(["report", source, "-q", "--no-cache", "--insecure-registry", server.host])
    finally:
        server.stop()


@pytest.mark.parametrize("mode", ["big404", "big401", "bigtoken"])
def test_a_huge_error_or_token_answer_is_not_read(
    mode: str, capsys: pytest.CaptureFixture[str]
) -> None:
    server = HostileRegistry(mode)
    code = report_from(server)
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "with more than 64 KiB" in err
    assert server.sent < 16 << 20  # not the 256 MiB it offered


def test_a_manifest_dripped_a_byte_at_a_time_is_given_up_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each byte comes well within the read timeout; only the pace tells it is stalled.
    monkeypatch.setattr(auth, "STALL_SECONDS", 0.5)
    monkeypatch.setattr(auth, "STALL_BYTES", 1024)
    server = HostileRegistry("trickle")
    started = time.monotonic()
    code = report_from(server)
    err = capsys.readouterr().err
    assert code == 2
    assert f"{server.host} sent less than 1 KiB in 0.5 s" in err
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("header", ["bytes ²-9/10", "bytes 0-9/¹⁰", "bytes 0-9/", "items 0-9/10"])
def test_a_content_range_not_in_ascii_digits_is_named(header: str) -> None:
    response = httpx.Response(206, headers=[(b"content-range", header.encode())])
    client = cast(registry.RegistryClient, SimpleNamespace(what="registry://h/app:1"))
    with pytest.raises(ArchiveError, match="answered a range request"):
        registry._range_total(client, response, 0, "sha256:" + "0" * 64)


def test_a_reader_that_pauses_is_not_a_stalled_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "STALL_SECONDS", 0.2)
    monkeypatch.setattr(auth, "STALL_BYTES", 16 * 1024)
    got = []
    for chunk in auth.paced((b"x" * 1024 for _ in range(3)), "stalled"):
        got.append(chunk)
        time.sleep(0.25)  # the reader is busy; the server answers at once
    assert len(got) == 3
