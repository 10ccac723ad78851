"""glibc's malloc thresholds: set on Linux with glibc, left alone elsewhere."""

from __future__ import annotations

import platform
import sys

import pytest

from layerscope import malloc

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt")
def test_thresholds_are_set_with_glibc() -> None:
    # the loader sets the same threshold in every load
    assert malloc.set_thresholds(mmap=malloc.MMAP_THRESHOLD) is True


def test_thresholds_are_left_alone_elsewhere(monkeypatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")  # where ctypes.CDLL(None) raises TypeError
    assert malloc.set_thresholds(mmap=malloc.MMAP_THRESHOLD, trim=1 << 26) is False


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc_trim")
def test_free_pages_are_handed_back_with_glibc() -> None:
    assert malloc.trim() is True


def test_free_pages_are_left_alone_elsewhere(monkeypatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert malloc.trim() is False
