"""Shared fixtures: the corpus of real archives lives beside the project (../shared/corpus)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Qt must never try to open a display in the test suite.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The text report fits the terminal; pin its width so the tests read the same text in any
# terminal and under pytest-xdist (whose workers set COLUMNS=80).
os.environ["COLUMNS"] = "120"

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first: with pytest-xdist (make test) the other worker runs the rest
    meanwhile, instead of one worker finishing alone on a long test at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


_SESSION_CACHE: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # Module-scoped fixtures load before any function-scoped one sets a cache directory:
    # they share one of this session's, never the user's.
    _SESSION_CACHE.append(tempfile.mkdtemp(prefix="layerscope-test-cache-"))
    os.environ["LAYERSCOPE_CACHE_DIR"] = _SESSION_CACHE[0]


def pytest_unconfigure(config: pytest.Config) -> None:
    for directory in _SESSION_CACHE:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets an empty cache directory of its own: none touches the user's cache."""
    directory = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("LAYERSCOPE_CACHE_DIR", str(directory))
    monkeypatch.delenv("LAYERSCOPE_NO_CACHE", raising=False)
    return directory
