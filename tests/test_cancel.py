"""Cancelling a load stops it in every phase: reading, applying layers, analysing.

The core polls a plain callable (`check`, which raises `Cancelled`) every few thousand
entries or paths, so a cancel takes effect within a fraction of a second however big the
layer (the GUI's Cancel, Esc and closing the window rely on it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from layerscope.analysis import analyse
from layerscope.errors import Cancelled
from layerscope.load import CancelToken, Progress, load
from layerscope.model.entry import Entry, Kind
from layerscope.model.filesystem import CHECK_EVERY, FileSystem
from layerscope.model.image import Image, ImageConfig, Layer
from tests import builders as b

FILES = 3 * CHECK_EVERY  # enough paths that a phase must poll inside its loops


def many_files(n: int = FILES) -> list[Entry]:
    return [Entry(f"/d{i % 7}/f{i}", Kind.FILE, 10, 0o644) for i in range(n)]


class Raiser:
    """A check that raises on its `after`-th call, counting the calls."""

    def __init__(self, after: int) -> None:
        self.calls = 0
        self.after = after

    def __call__(self) -> None:
        self.calls += 1
        if self.calls >= self.after:
            raise Cancelled()


def test_apply_polls_its_check_and_stops_inside_a_big_layer() -> None:
    fs = FileSystem()
    check = Raiser(after=2)
    with pytest.raises(Cancelled):
        fs.apply(many_files(), check)
    applied = sum(len(d.children or {}) for d in (fs.root.children or {}).values())
    assert applied < FILES  # it stopped inside the loop, not after it


def test_analysis_polls_its_check_throughout() -> None:
    fs = FileSystem()
    entries = many_files()
    fs.apply(entries)
    layer = Layer(0, "sha256:x", "sha256:x", None, None, "none", 10 * FILES, 0, 0, entries, None)
    image = Image(
        0, "a.tar", "docker-archive", 0, [], "sha256:c", None, ImageConfig(), [layer], fs, None
    )
    calls: list[int] = []
    analyse([], [image], check=lambda: calls.append(1))
    # waste walks every path and dive every entry: each polls every CHECK_EVERY steps
    assert len(calls) >= 2 * (FILES // CHECK_EVERY)


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layer = b.layer_tar(b.file(f"d{i % 7}/f{i}", b"x") for i in range(FILES))
    path = tmp_path_factory.mktemp("cancel") / "big.tar"
    b.write_docker_archive(path, [b.Image([b.Layer(layer)])])
    return path


@pytest.mark.parametrize("phase", ["Reading", "Applying", "Analysing"])
def test_load_raises_cancelled_when_cancelled_in_each_phase(big_archive: Path, phase: str) -> None:
    token = CancelToken()
    stages: list[str] = []

    def progress(p: Progress) -> None:
        stages.append(p.stage)
        if p.stage.startswith(phase):
            token.cancel()

    with pytest.raises(Cancelled):
        load([str(big_archive)], progress=progress, cancel=token)
    assert any(s.startswith(phase) for s in stages)
    # nothing after the phase that was cancelled ran
    later = {"Reading": ("Applying", "Analysing"), "Applying": ("Analysing",), "Analysing": ()}
    assert not any(s.startswith(later[phase]) for s in stages), stages
