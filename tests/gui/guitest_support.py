"""Paths the GUI tests share (imported by the tests; conftest.py holds the fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
SAMPLE = REPO / "layerscope" / "data" / "sample-app-docker.tar"


def corpus_file(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus not available: {path}")
    return path
