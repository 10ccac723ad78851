"""Loading archives in the background: the queue, the worker, cancel, and a batch's errors.

The window observes a LoadController: it hands it paths and listens to its signals. Each
path loads in its own LoadWorker (a QThreadPool thread), one after another; a failure is
reported and the queue goes on; Cancel stops the running load (the core polls the token
every few thousand entries, so within milliseconds) and drops the queue.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, QThreadPool, Signal

from layerscope.analysis import Analysis
from layerscope.gui.head_start import HeadStart
from layerscope.gui.worker import LoadWorker
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.remote import RemoteOptions


class LoadController(QObject):
    started = Signal(str, int, int)  # path, its position in the batch (1-based), batch size
    progress = Signal(str, int, int)  # stage, done bytes, total bytes
    # SourceOutline: what the running load's source holds, known before its layers are read
    outlined = Signal(object)
    loaded = Signal(object, list)  # Analysis, the paths it came from
    failed = Signal(str)  # one-line reason (also kept in batch_errors)
    cancelled = Signal()
    idle = Signal()  # the queue is empty and nothing runs

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        limits: Limits = DEFAULT_LIMITS,
        verify: bool = False,
        remote: RemoteOptions | None = None,
        head_start: HeadStart | None = None,
    ):
        super().__init__(parent)
        # the first load, begun before the window was (`layerscope open ARCHIVE`)
        self._head_start = head_start
        self.limits = limits  # safety bounds of every load (`layerscope open --limit`)
        self.verify = verify
        self.remote = remote or RemoteOptions()  # `layerscope open --platform ...`
        self._remote_for: dict[str, RemoteOptions] = {}  # per source, from the dialogs
        self.batch_errors: list[str] = []  # failures since the queue was last empty
        self._queue: list[str] = []
        self._worker: LoadWorker | None = None
        self._batch_total = 0
        self._shut = False

    @property
    def is_loading(self) -> bool:
        return self._worker is not None

    @property
    def queued(self) -> list[str]:
        """The paths loading or waiting to load."""
        running = self._worker.paths if self._worker is not None else []
        return running + self._queue

    def open(self, paths: Iterable[str], remote: RemoteOptions | None = None) -> None:
        """Queue each path not already loading or queued; start if idle. `remote`: the
        registry options of these paths (else the controller's)."""
        new = [p for p in paths if p not in self.queued]
        if not new or self._shut:
            return
        if remote is not None:
            self._remote_for.update(dict.fromkeys(new, remote))
        if self._worker is None:
            self._batch_total = 0
            self.batch_errors = []
        self._queue.extend(dict.fromkeys(new))
        self._batch_total += len(dict.fromkeys(new))
        if self._worker is None:
            self._start_next()

    def cancel(self) -> None:
        """Stop the running load and forget the queue."""
        self._queue.clear()
        if self._worker is not None:
            self._worker.cancel()

    def shutdown(self) -> None:
        """The window is closing: cancel and stop listening. The window then waits a moment
        for every pool thread (tasks.cancel_all): the core notices a cancel within
        milliseconds; a worker that does not finishes off-screen and nobody hears from it.
        """
        self._shut = True
        self._drop_head_start()
        worker = self._worker
        self.cancel()
        self._worker = None
        if worker is not None:
            signals = worker.signals
            for signal in (
                signals.progress,
                signals.outlined,
                signals.finished,
                signals.failed,
                signals.cancelled,
            ):
                signal.disconnect()

    def _start_next(self) -> None:
        if not self._queue or self._shut:
            self._queue.clear()
            self.idle.emit()
            return
        path = self._queue.pop(0)
        remote = self._remote_for.pop(path, self.remote)
        head, self._head_start = self._head_start, None  # only ever the first load
        if head is not None and not head.serves(path, self.limits, self.verify, remote):
            head.cancel()
            head = None
        worker = LoadWorker(
            [path], limits=self.limits, verify=self.verify, remote=remote, head_start=head
        )
        signals = worker.signals
        signals.progress.connect(self.progress)
        signals.outlined.connect(self.outlined)
        signals.finished.connect(self._on_finished)
        signals.failed.connect(self._on_failed)
        signals.cancelled.connect(self._on_cancelled)
        self._worker = worker
        position = self._batch_total - len(self._queue)
        self.started.emit(path, position, self._batch_total)
        QThreadPool.globalInstance().start(worker)

    def _drop_head_start(self) -> None:
        """A head start nobody took: stop it (its thread ends within milliseconds)."""
        if self._head_start is not None:
            self._head_start.cancel()
            self._head_start = None

    def _take_worker(self) -> list[str]:
        paths = self._worker.paths if self._worker is not None else []
        self._worker = None
        return paths

    def _on_finished(self, analysis: Analysis) -> None:
        if self._shut:
            return  # posted before shutdown() disconnected the worker
        paths = self._take_worker()
        self.loaded.emit(analysis, paths)
        self._start_next()

    def _on_failed(self, message: str) -> None:
        if self._shut:
            return
        self._take_worker()
        self.batch_errors.append(message)
        self.failed.emit(message)
        self._start_next()

    def _on_cancelled(self) -> None:
        if self._shut:
            return
        self._take_worker()
        self._queue.clear()
        self.cancelled.emit()
        self.idle.emit()
