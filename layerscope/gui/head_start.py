"""The window's loads, without Qt: `load_for_window`, and the head start of the first one.

`layerscope open ARCHIVE` spends about 0.35 s importing PySide6 and the window's modules and
building the window before the window could ask for a load, while a load spends most of its
first second waiting on its reader processes. So `begin()`, called before Qt is imported,
starts the first archive's load in a plain thread (no Qt in this module: nothing here may
import it). The load keeps what it reports until the window's LoadController adopts it for
the same path (`HeadStart.join`), which replays that and forwards the rest as it comes.

Once its blobs are read, a load is all Python, and beside it the window's start-up got the
interpreter lock only half the time: an archive reopened from the cache (nothing to read)
kept the window from showing for 1.2 s instead of 0.4 s. So the head start waits there,
at the APPLYING stage, until the window has taken it over; a big archive read from its file
is still reading when the window comes, and does not wait.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence

from layerscope.analysis import Analysis
from layerscope.archive.parallel import start_fork_server
from layerscope.errors import Cancelled
from layerscope.gui import heap
from layerscope.limits import Limits
from layerscope.load import APPLYING, CancelToken, Progress, SourceOutline, load
from layerscope.remote import RemoteOptions, is_remote
from layerscope.view.tree import prepare

ProgressFn = Callable[[Progress], None]
OutlineFn = Callable[[SourceOutline], None]
STOP_WAIT_SECONDS = 5.0  # a cancelled load stops within milliseconds; never hang on exit
WINDOW_WAIT_SECONDS = 10.0  # the longest a head start waits for the window (see above)


def load_for_window(
    paths: Sequence[str],
    *,
    progress: ProgressFn,
    outline: OutlineFn,
    cancel: CancelToken,
    limits: Limits,
    verify: bool,
    remote: RemoteOptions | None,
    loader: Callable[..., Analysis] = load,
) -> Analysis:
    """The load (for a window: see load's `for_window`), then the sums the tree shows,
    with the collector off (gui.heap)."""

    def check() -> None:
        if cancel():
            raise Cancelled()

    with heap.loading():
        analysis = loader(
            paths,
            progress=progress,
            cancel=cancel,
            limits=limits,
            verify=verify,
            remote=remote,
            outline=outline,
            for_window=True,
        )
        for image in analysis.images:
            prepare(image.filesystem, check)
        heap.keep()  # before the collector runs again and walks all of it
    return analysis


class HeadStart:
    """The load of one local archive, running in its own thread before the window exists."""

    def __init__(self, path: str, *, limits: Limits, verify: bool, remote: RemoteOptions):
        self.path = path
        self.limits = limits
        self.verify = verify
        self.remote = remote  # its --platform picks the images of a local index too
        self.token = CancelToken()
        self._lock = threading.Lock()
        # what the load reported before anyone listened, in order
        self._kept: list[Progress | SourceOutline] = []
        self._progress: ProgressFn | None = None
        self._outline: OutlineFn | None = None
        self._result: Analysis | None = None
        self._error: BaseException | None = None
        self._taken = threading.Event()  # the window took it over, or it was cancelled
        # a daemon: a load nobody wants any more never keeps the app from exiting
        self._thread = threading.Thread(target=self._run, name="layerscope-head-start", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def serves(self, path: str, limits: Limits, verify: bool, remote: RemoteOptions) -> bool:
        """Whether this is the load the window would start for `path` with these options."""
        return (path, limits, verify, remote) == (self.path, self.limits, self.verify, self.remote)

    def join(self, progress: ProgressFn, outline: OutlineFn) -> Analysis:
        """Wait for the load (in a pool thread); what it reported so far is replayed to the
        callbacks first. Raises what the load raised."""
        with self._lock:  # held while calling back, so nothing overtakes the replay
            for event in self._kept:
                if isinstance(event, Progress):
                    progress(event)
                else:
                    outline(event)
            self._kept.clear()
            self._progress, self._outline = progress, outline
        self._taken.set()
        self._thread.join()
        # handed over, not kept: `layerscope open` holds this object as long as the
        # window runs, and an archive closed there must be freed
        result, self._result = self._result, None
        error, self._error = self._error, None
        self._progress = self._outline = None  # the worker's, done with
        if error is not None:
            try:
                raise error
            finally:
                # no cycle through this frame: the traceback holds the failed load's
                # frames, and the collector is off while the next load runs
                del error
        assert result is not None
        return result

    def cancel(self) -> None:
        self.token.cancel()
        self._taken.set()  # nothing to wait for any more

    def stop(self) -> None:
        """Cancel the load if it still runs, and wait (briefly) for its thread."""
        self.cancel()
        if self._thread.is_alive():
            self._thread.join(STOP_WAIT_SECONDS)

    def _on_progress(self, event: Progress) -> None:
        if event.stage.startswith(APPLYING) and not self._taken.is_set():
            self._taken.wait(WINDOW_WAIT_SECONDS)  # see the module's docstring
        with self._lock:
            if self._progress is None:
                self._kept.append(event)
            else:
                self._progress(event)

    def _on_outline(self, event: SourceOutline) -> None:
        with self._lock:
            if self._outline is None:
                self._kept.append(event)
            else:
                self._outline(event)

    def _run(self) -> None:
        try:
            self._result = load_for_window(
                [self.path],
                progress=self._on_progress,
                outline=self._on_outline,
                cancel=self.token,
                limits=self.limits,
                verify=self.verify,
                remote=self.remote,
                loader=load,  # looked up now, so tests can hold the load by patching it
            )
        except BaseException as exc:  # noqa: BLE001 - handed to the window's worker
            self._error = exc


def normalise(path: str) -> str:
    """The absolute path a user meant ('~' expanded); a registry:// or engine source as is."""
    if is_remote(path):
        return path
    return os.path.abspath(os.path.expanduser(path))


def begin(
    paths: Sequence[str], *, limits: Limits, verify: bool, remote: RemoteOptions | None = None
) -> HeadStart | None:
    """Before Qt is imported, when there are paths: start the readers' fork server (beside
    this thread and Qt's, the loads' workers fork from it), and the first path's load if it
    is a local file or directory (a registry's or an engine's is bound by the network or
    the engine, not by the start-up this hides)."""
    first = next((p for p in paths if p), None)
    if first is None:
        return None
    start_fork_server()
    if is_remote(first):
        return None
    head = HeadStart(
        normalise(first), limits=limits, verify=verify, remote=remote or RemoteOptions()
    )
    head.start()
    return head
