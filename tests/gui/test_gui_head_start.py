"""The first archive's load, begun by `layerscope open` before Qt is imported (head_start).

The head start is held once it has outlined its archive, until the window exists, so
each test checks what the window does with a load that is already under way: take it over
(what it reported so far included), cancel it, report its failure, or drop it for another
path.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from guitest_support import corpus_file
from pytestqt.qtbot import QtBot

import layerscope.gui.head_start as head_start_module
import layerscope.gui.worker as worker_module
from layerscope.analysis import Analysis
from layerscope.cli.open_cmd import open_gui
from layerscope.errors import LayerscopeError
from layerscope.gui.app import create_window
from layerscope.gui.head_start import HeadStart, begin
from layerscope.gui.main_window import MainWindow
from layerscope.limits import DEFAULT_LIMITS
from layerscope.load import Progress, SourceOutline, load
from layerscope.remote import RemoteOptions

APP = ("podman", "app-docker.tar")
MULTIARCH = ("podman", "hello-multiarch-oci.tar")  # linux/amd64 and linux/arm64
ARM64 = RemoteOptions(platform="linux/arm64")
WORKER = ("podman", "worker-docker.tar")


class Held:
    """The head start's load, held once it has outlined its source (before any layer)."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        self.stages: list[str] = []  # every stage the load reported


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[Held]:
    state = Held()
    real = head_start_module.load

    def held_load(paths, *, progress, cancel, outline, **kwargs):  # type: ignore[no-untyped-def]
        def step(p: Progress) -> None:
            state.stages.append(p.stage)
            progress(p)

        def outlined(o: SourceOutline) -> None:
            outline(o)
            state.reached.set()
            deadline = time.monotonic() + 10
            while not state.release.is_set() and not cancel():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)

        return real(paths, progress=step, cancel=cancel, outline=outlined, **kwargs)

    def no_second_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the window loaded the archive again")

    monkeypatch.setattr(head_start_module, "load", held_load)
    monkeypatch.setattr(worker_module, "load", no_second_load)
    yield state
    state.release.set()


def begun(*parts: str) -> HeadStart:
    head = begin([str(corpus_file(*parts))], limits=DEFAULT_LIMITS, verify=False)
    assert head is not None
    return head


def window_on(qtbot: QtBot, paths: list[str], head: HeadStart) -> MainWindow:
    window = create_window(paths, head_start=head)
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_window_takes_over_the_load_begun_before_it(qtbot: QtBot, held: Held) -> None:
    head = begun(*APP)
    assert held.reached.wait(30)  # reading its first layer, with no window yet
    window = window_on(qtbot, [head.path], head)
    stages: list[str] = []
    outlines: list[object] = []
    window.loader.progress.connect(lambda stage, _done, _total: stages.append(stage))
    window.loader.outlined.connect(outlines.append)
    qtbot.waitUntil(lambda: len(outlines) == 1, timeout=5_000)
    # reported before the window existed, replayed to it in order
    assert stages == held.stages == ["Reading app-docker.tar"]
    assert window.is_loading
    assert window.sidebar.layers_view.model().rowCount() > 0  # the outline's layers
    with qtbot.waitSignal(window.loadFinished, timeout=30_000):
        held.release.set()
    assert [image.ref for image in window.analysis.images] == ["localhost/lscorpus/app:1"]
    assert window.files.model.rowCount() > 0
    assert len(stages) > 1  # and what came after, as it came
    window.close()


def test_an_archive_closed_in_the_window_is_not_kept_by_its_head_start(
    qtbot: QtBot, held: Held
) -> None:
    """`layerscope open` holds its head start until the window exits."""
    head = begun(*APP)
    window = window_on(qtbot, [head.path], head)
    loaded: list[weakref.ref[Analysis]] = []
    window.loader.loaded.connect(lambda analysis, _paths: loaded.append(weakref.ref(analysis)))
    with qtbot.waitSignal(window.loadFinished, timeout=30_000):
        held.release.set()
    window.close_all()
    gc.collect()
    assert len(loaded) == 1
    assert loaded[0]() is None
    window.close()


def test_cancel_in_the_window_stops_the_head_start(qtbot: QtBot, held: Held) -> None:
    head = begun(*APP)
    assert held.reached.wait(30)
    window = window_on(qtbot, [head.path], head)
    qtbot.waitUntil(lambda: window.is_loading, timeout=5_000)
    with qtbot.waitSignal(window.loadCancelled, timeout=2_000):
        window.cancel_load()
    assert head.token()
    started = time.monotonic()
    head.stop()
    assert time.monotonic() - started < 2
    assert not head._thread.is_alive()
    assert window.analysis.images == []
    assert not any(s.startswith(("Applying", "Analysing")) for s in held.stages)
    window.close()


def test_a_head_start_for_another_path_is_cancelled_and_the_window_loads_its_own(
    qtbot: QtBot, held: Held, monkeypatch: pytest.MonkeyPatch
) -> None:
    head = begun(*APP)
    assert held.reached.wait(30)
    monkeypatch.setattr(worker_module, "load", load)  # the window's own load is wanted here
    other = str(corpus_file(*WORKER))
    window = window_on(qtbot, [other], head)
    with qtbot.waitSignal(window.loadFinished, timeout=30_000):
        pass
    assert head.token()  # dropped the moment the window started its own load
    head.stop()
    assert not head._thread.is_alive()
    assert [image.ref for image in window.analysis.images] == ["localhost/lscorpus/worker:1"]
    window.close()


def test_a_head_start_that_fails_is_reported_once_by_the_window(
    qtbot: QtBot, tmp_path: Path
) -> None:
    missing = tmp_path / "gone.tar"
    head = begin([str(missing)], limits=DEFAULT_LIMITS, verify=False)
    assert head is not None
    failures: list[str] = []
    window = create_window([str(missing)], head_start=head)
    qtbot.addWidget(window)
    window.loadFailed.connect(failures.append)
    window.show()
    qtbot.waitUntil(lambda: bool(failures) and not window.is_loading, timeout=10_000)
    qtbot.wait(50)
    assert len(failures) == 1
    assert "gone.tar" in failures[0]
    assert window.last_error == failures[0]
    window.close()


def test_begin_leaves_empty_lists_and_remote_sources_to_the_window(tmp_path: Path) -> None:
    assert begin([], limits=DEFAULT_LIMITS, verify=False) is None
    assert begin(["", ""], limits=DEFAULT_LIMITS, verify=False) is None
    for remote in ("registry://localhost:5000/app:1", "podman://app:1", "docker://app:1"):
        assert begin([remote, "x.tar"], limits=DEFAULT_LIMITS, verify=False) is None
    head = begin(["", str(tmp_path / "a.tar")], limits=DEFAULT_LIMITS, verify=False)
    assert head is not None
    head.stop()
    assert head.path == str(tmp_path / "a.tar")
    assert head.serves(head.path, DEFAULT_LIMITS, False, RemoteOptions())
    assert not head.serves(head.path, DEFAULT_LIMITS, True, RemoteOptions())
    assert not head.serves(head.path, DEFAULT_LIMITS, False, RemoteOptions(platform="linux/arm64"))


def test_a_window_that_cannot_open_stops_the_head_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Qt cannot be imported: `layerscope open` says so, and leaves no load running."""
    import layerscope.desktop.display as display

    monkeypatch.setattr(display, "display_problem", lambda: None)
    monkeypatch.setitem(sys.modules, "layerscope.gui.app", None)  # its import fails
    with pytest.raises(LayerscopeError, match="cannot open the window"):
        open_gui([str(corpus_file(*APP))])
    assert not [t for t in threading.enumerate() if t.name == "layerscope-head-start"]


def platforms_loaded(qtbot: QtBot, window: MainWindow) -> list[str | None]:
    with qtbot.waitSignal(window.loadFinished, timeout=30_000):
        pass
    return [image.platform for image in window.analysis.images]


def test_the_head_start_loads_the_platform_asked_for(qtbot: QtBot, held: Held) -> None:
    """`layerscope open --platform linux/arm64 INDEX.tar`: only that image, and the
    window takes the load begun before it (the held fixture fails a second load)."""
    path = str(corpus_file(*MULTIARCH))
    head = begin([path], limits=DEFAULT_LIMITS, verify=False, remote=ARM64)
    assert head is not None
    held.release.set()
    window = create_window([path], remote=ARM64, head_start=head)
    qtbot.addWidget(window)
    window.show()
    assert platforms_loaded(qtbot, window) == ["linux/arm64"]
    window.close()


def test_a_head_start_with_other_options_is_not_taken(
    qtbot: QtBot, held: Held, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(corpus_file(*MULTIARCH))
    head = begin([path], limits=DEFAULT_LIMITS, verify=False)  # every platform
    assert head is not None
    monkeypatch.setattr(worker_module, "load", load)  # the window's own load is wanted here
    window = create_window([path], remote=ARM64, head_start=head)
    qtbot.addWidget(window)
    window.show()
    assert platforms_loaded(qtbot, window) == ["linux/arm64"]
    assert head.token()
    head.stop()
    window.close()


def test_layerscope_open_gives_its_head_start_the_command_line_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import layerscope.desktop.display as display
    import layerscope.gui.app as app_module

    given: list[HeadStart | None] = []

    def no_window(paths: list[str], **kwargs: object) -> int:
        given.append(kwargs["head_start"])  # type: ignore[arg-type]
        return 0

    monkeypatch.setattr(display, "display_problem", lambda: None)
    monkeypatch.setattr(app_module, "main", no_window)
    path = str(corpus_file(*MULTIARCH))
    assert open_gui([path], verify=True, remote=ARM64) == 0
    (head,) = given
    assert head is not None
    assert head.serves(path, DEFAULT_LIMITS, True, ARM64)


def test_a_failed_head_start_leaves_nothing_for_the_collector(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The window loads with the collector off: what a failed load's frames held must go
    when its error has been reported, not wait for a collection."""

    class LayersRead:  # stands for what the failed load had read
        pass

    held_by_the_load: list[weakref.ref[LayersRead]] = []

    def failing_load(paths: list[str], **kwargs: object) -> None:
        layers_read = LayersRead()
        held_by_the_load.append(weakref.ref(layers_read))
        raise LayerscopeError(f"{paths[0]}: broken")

    monkeypatch.setattr(head_start_module, "load", failing_load)
    head = begin([str(tmp_path / "x.tar")], limits=DEFAULT_LIMITS, verify=False)
    assert head is not None
    gc.disable()
    try:
        try:
            head.join(lambda _progress: None, lambda _outline: None)
        except LayerscopeError:
            pass  # as the worker reports it
        assert held_by_the_load[0]() is None
    finally:
        gc.enable()
    assert head._progress is None  # the worker's callbacks are not kept
    assert head._outline is None


@pytest.fixture
def quick_load(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A load with nothing to read (as from the cache): it reaches APPLYING at once."""
    from layerscope.load import APPLYING
    from layerscope.view.session import empty

    steps: list[str] = []

    def load_from_cache(paths: list[str], *, progress, **kwargs):  # type: ignore[no-untyped-def]
        progress(Progress("Reading x.tar", 0, 0))
        steps.append("read")
        progress(Progress(f"{APPLYING} x", 0, 0))
        steps.append("applied")
        return empty()

    monkeypatch.setattr(head_start_module, "load", load_from_cache)
    return steps


def test_the_head_start_waits_for_the_window_before_its_python_work(
    quick_load: list[str], tmp_path: Path
) -> None:
    """Else it takes the interpreter lock from the window's start-up (a warm reopen kept
    the window from showing for 1.2 s instead of 0.4 s)."""
    head = begin([str(tmp_path / "x.tar")], limits=DEFAULT_LIMITS, verify=False)
    assert head is not None
    time.sleep(0.3)
    assert quick_load == ["read"]
    head.join(lambda _progress: None, lambda _outline: None)  # the window takes it
    assert quick_load == ["read", "applied"]


def test_a_head_start_cancelled_before_the_window_does_not_wait_for_it(
    quick_load: list[str], tmp_path: Path
) -> None:
    head = begin([str(tmp_path / "x.tar")], limits=DEFAULT_LIMITS, verify=False)
    assert head is not None
    time.sleep(0.1)
    started = time.monotonic()
    head.stop()
    assert time.monotonic() - started < 1
    assert not head._thread.is_alive()
