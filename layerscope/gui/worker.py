"""Loading archives off the GUI thread: a QRunnable plus a separate signals QObject.

The runnable never raises into Qt: the Analysis, the error message or the cancellation
travel back as signal data (queued to the GUI thread, since the signals object lives
there). Progress is throttled so a fast reader cannot flood the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QRunnable, Signal

from layerscope.analysis import Analysis
from layerscope.errors import Cancelled, LayerscopeError
from layerscope.gui.head_start import HeadStart, load_for_window
from layerscope.gui.tasks import tell
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.load import CancelToken, Progress, SourceOutline, load
from layerscope.remote import RemoteOptions

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.05  # seconds: at most ~20 progress signals a second


class LoadSignals(QObject):
    """Signals of one load. Created in the GUI thread, emitted from the pool thread."""

    progress = Signal(str, int, int)  # stage, done bytes, total bytes
    outlined = Signal(object)  # SourceOutline: a source's images, before its blobs are read
    finished = Signal(object)  # Analysis
    failed = Signal(str)  # one-line reason
    cancelled = Signal()


class LoadWorker(QRunnable):
    """Runs layerscope.load.load(paths) once, in a QThreadPool thread; or, given the
    head start of the same load (begun before the window), waits for that one."""

    def __init__(
        self,
        paths: Sequence[str],
        token: CancelToken | None = None,
        loader: Callable[..., Analysis] | None = None,
        limits: Limits = DEFAULT_LIMITS,
        verify: bool = False,
        remote: RemoteOptions | None = None,
        head_start: HeadStart | None = None,
    ):
        super().__init__()
        self.paths = list(paths)
        self.limits = limits
        self.verify = verify
        self.remote = remote  # registry:// options (platform, TLS, auth file)
        self._head_start = head_start
        self.token = head_start.token if head_start is not None else token or CancelToken()
        self.signals = LoadSignals()
        # Looked up at run time so tests can slow the loader down by patching `load`.
        self._loader = loader
        self._last_emit = 0.0
        self._last_stage = ""
        self.setAutoDelete(True)

    def cancel(self) -> None:
        self.token.cancel()

    def _on_progress(self, p: Progress) -> None:
        """Throttled, but a new stage always goes through: the window says which layer is
        read, and a slow one must not stay hidden behind the last of the one before."""
        now = time.monotonic()
        if now - self._last_emit >= PROGRESS_INTERVAL or p.stage != self._last_stage:
            self._last_emit = now
            self._last_stage = p.stage
            tell(self.signals.progress, p.stage, p.done, p.total)

    def _on_outline(self, outline: SourceOutline) -> None:
        if not self.token():
            tell(self.signals.outlined, outline)

    def run(self) -> None:
        try:
            if self._head_start is not None:
                analysis = self._head_start.join(self._on_progress, self._on_outline)
            else:
                analysis = load_for_window(
                    self.paths,
                    progress=self._on_progress,
                    outline=self._on_outline,
                    cancel=self.token,
                    limits=self.limits,
                    verify=self.verify,
                    remote=self.remote,
                    loader=self._loader or load,
                )
        except Cancelled:
            tell(self.signals.cancelled)
        except LayerscopeError as exc:
            tell(self.signals.failed, str(exc))
        except MemoryError:
            tell(self.signals.failed, f"{', '.join(self.paths)}: out of memory while loading")
        except Exception as exc:  # a bug in a reader must not kill the app or the thread
            log.exception("unexpected error loading %s", self.paths)
            name = ", ".join(self.paths)
            tell(self.signals.failed, f"{name}: unexpected error: {type(exc).__name__}: {exc}")
        else:
            if self.token():
                tell(self.signals.cancelled)
            else:
                tell(self.signals.finished, analysis)
