"""Getting files out from the window: Save As, Extract To, a layer's tar, the filesystem at a
layer, and dragging a file out. The work runs off the GUI thread through extract.py (the
safe writer: nothing outside the chosen place, nothing half-written); progress goes to the
status bar, errors to the window's error box.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QObject, QUrl, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from layerscope.errors import LayerscopeError
from layerscope.extract import TarOutput, extract, plan, save_layer_tar
from layerscope.format import human_size, plural, printable
from layerscope.gui.tasks import Task, start
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.model.entry import Kind
from layerscope.model.image import Image
from layerscope.safewrite import SafeWriter, WriteSummary

if TYPE_CHECKING:
    from layerscope.model.filesystem import Node

DRAG_LIMIT = 64 * 1024 * 1024  # bytes a drag may write out (larger: use Extract To…)


class Extractor(QObject):
    """Runs one extraction at a time and reports on it."""

    message = Signal(str)  # for the status bar
    failed = Signal(str)  # for the error box
    finished = Signal(str)  # where it was written

    def __init__(self, parent: QWidget, limits: Limits = DEFAULT_LIMITS):
        super().__init__(parent)
        self._parent = parent
        self.limits = limits
        self._task: Task | None = None
        self._last_dir = os.path.expanduser("~")

    @property
    def busy(self) -> bool:
        return self._task is not None

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    # -- the commands --------------------------------------------------------------------

    def save_as(self, image: Image, layer: int, node: Node) -> None:
        """A file or a directory, under a name the user picks (a directory: a folder)."""
        version = node.state_at(layer)
        if version is None or version.entry is None:
            return
        if version.entry.kind == Kind.DIR:
            self.extract_to(image, layer, node.path)
            return
        target, _ = QFileDialog.getSaveFileName(
            self._parent, f"Save {node.name}", os.path.join(self._last_dir, node.name)
        )
        if not target:
            return
        self._remember(os.path.dirname(target))
        parent = node.path.rsplit("/", 1)[0] or "/"
        # The dialog asked about replacing an existing file: --force semantics.
        self._run(
            f"Saving {node.path}",
            target,
            lambda task: _extract(
                image, layer, [node.path], SafeWriter(os.path.dirname(target), force=True),
                task, self.limits, under=parent, top_name=os.path.basename(target),
            ),
        )  # fmt: skip

    def extract_to(self, image: Image, layer: int, path: str) -> None:
        folder = QFileDialog.getExistingDirectory(
            self._parent, f"Extract {path} to folder", self._last_dir
        )
        if not folder:
            return
        self._remember(folder)
        parent = path.rsplit("/", 1)[0] or "/"
        self._run(
            f"Extracting {path}",
            folder,
            lambda task: _extract(
                image, layer, [path], SafeWriter(folder), task, self.limits, under=parent
            ),
        )

    def export_filesystem(self, image: Image, layer: int) -> None:
        """The whole filesystem at `layer`, as a tar file."""
        target = self._ask_tar(
            f"Export the filesystem at layer {layer}", f"{_stem(image)}-layer{layer}-rootfs.tar"
        )
        if not target:
            return
        self._run(
            f"Exporting the filesystem at layer {layer}",
            target,
            lambda task: _extract(
                image, layer, ["/"], TarOutput(target, force=True), task, self.limits
            ),
        )

    def save_layer(self, image: Image, layer: int) -> None:
        """The layer's own tar, whiteouts included."""
        target = self._ask_tar(f"Save layer {layer} as tar", f"{_stem(image)}-layer{layer}.tar")
        if not target:
            return

        def work(task: Task) -> str:
            size = save_layer_tar(
                image, layer, target, force=True, limits=self.limits, cancel=task.cancelled
            )
            return f"Saved layer {layer} ({human_size(size)} tar) to {target}"

        self._run(f"Saving layer {layer}", target, work)

    # -- running -------------------------------------------------------------------------

    def _remember(self, folder: str) -> None:
        self._last_dir = folder

    def _ask_tar(self, title: str, name: str) -> str:
        """A tar file name from a save dialog ("" when cancelled); its folder is remembered."""
        target, _ = QFileDialog.getSaveFileName(
            self._parent, title, os.path.join(self._last_dir, name), "Tar archives (*.tar)"
        )
        if target:
            self._remember(os.path.dirname(target))
        return target

    def _run(self, what: str, target: str, work: Callable[[Task], str]) -> None:
        if self._task is not None:
            self.failed.emit("Another extraction is still running; wait for it or cancel it")
            return
        task = Task(work)
        self._task = task
        task.signals.progress.connect(
            lambda done, total: self.message.emit(
                f"{what}: {human_size(done)} of {human_size(total)}"
            )
        )
        task.signals.done.connect(lambda text: self._done(str(text), target))
        task.signals.failed.connect(self._failed)
        task.signals.cancelled.connect(lambda: self._end(f"{what}: cancelled"))
        self.message.emit(f"{what}…")
        start(task)

    def _done(self, text: str, target: str) -> None:
        self._end(text)
        self.finished.emit(target)

    def _failed(self, message: str) -> None:
        self._task = None
        self.failed.emit(message)

    def _end(self, text: str) -> None:
        self._task = None
        self.message.emit(text)


def _stem(image: Image) -> str:
    name = (image.ref or image.config_digest[7:19]).rsplit("/", 1)[-1]
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name)


def _extract(
    image: Image,
    layer: int,
    paths: list[str],
    output: SafeWriter | TarOutput,
    task: Task,
    limits: Limits,
    *,
    under: str = "/",
    top_name: str | None = None,
) -> str:
    try:
        summary = extract(
            image, layer, paths, output, under=under, top_name=top_name, limits=limits,
            progress=task.report, cancel=task.cancelled,
        )  # fmt: skip
    finally:
        output.close()
    target = output.dest if isinstance(output, SafeWriter) else output.target
    return describe(summary, target)


def describe(summary: WriteSummary, target: str) -> str:
    parts = [f"{plural(summary.files, 'file')} ({human_size(summary.bytes)})"]
    if summary.directories:
        parts.append(plural(summary.directories, "directory", "directories"))
    if summary.symlinks:
        parts.append(plural(summary.symlinks, "symlink"))
    if summary.hardlinks:
        parts.append(plural(summary.hardlinks, "hardlink"))
    text = f"Wrote {', '.join(parts)} to {target}"
    if summary.skipped:
        text += f"; skipped {len(summary.skipped)} (e.g. {printable(summary.skipped[0])})"
    if summary.outward_links:
        n = len(summary.outward_links)
        text += (
            f"; {plural(n, 'symlink points', 'symlinks point')} outside it, never followed "
            f"(e.g. {printable(summary.outward_links[0])})"
        )
    return text


class DragFolders:
    """Where dragged-out files are written: one temporary folder per drag, all removed when
    the window closes (a drop target may copy them a while after the drop)."""

    def __init__(self) -> None:
        self._root: tempfile.TemporaryDirectory[str] | None = None

    def new(self) -> str:
        if self._root is None:
            self._root = tempfile.TemporaryDirectory(prefix="layerscope-drag-")
        return tempfile.mkdtemp(dir=self._root.name)

    def cleanup(self) -> None:
        if self._root is not None:
            self._root.cleanup()
            self._root = None


class DragOut(QMimeData):
    """A file or directory of the tree being dragged out: written to a temporary folder only
    when a drop target asks for it (Qt's delayed data), and only up to DRAG_LIMIT bytes."""

    def __init__(
        self,
        image: Image,
        layer: int,
        node: Node,
        limits: Limits,
        folders: DragFolders,
        failed: Callable[[str], None] | None = None,
    ):
        super().__init__()
        self._image, self._layer, self._node, self._limits = image, layer, node, limits
        self._folders = folders
        self._failed = failed  # told why a drop got nothing (the window's error box)
        self._urls: list[QUrl] | None = None

    def formats(self) -> list[str]:
        return ["text/uri-list", "text/plain"]

    def hasFormat(self, mime: str) -> bool:
        return mime in self.formats()

    def retrieveData(self, mime: str, preferred: object) -> object:
        if mime == "text/plain":
            return self._node.path
        if mime != "text/uri-list":
            return None
        urls = self._write()
        return "\r\n".join(u.toString() for u in urls) + "\r\n"

    def _write(self) -> list[QUrl]:
        if self._urls is None:
            self._urls = []
            if drag_size(self._image, self._layer, self._node) <= DRAG_LIMIT:
                folder = self._folders.new()
                parent = self._node.path.rsplit("/", 1)[0] or "/"
                writer = SafeWriter(folder)
                try:
                    extract(self._image, self._layer, [self._node.path], writer, under=parent,
                            limits=self._limits)  # fmt: skip
                    # A drop target follows links: one to /home/me/.ssh/id_rsa named like a
                    # config file would hand it that file. Such links are not given out.
                    writer.remove_outward_links()
                except (LayerscopeError, OSError) as exc:
                    # Called by the drop target through Qt: an exception would only print a
                    # traceback. The drop gets nothing; the window says why.
                    if self._failed is not None:
                        self._failed(f"{self._node.path}: {exc}")
                    return self._urls
                finally:
                    writer.close()
                dropped = os.path.join(folder, self._node.name)
                if not os.path.lexists(dropped):  # the node itself was such a link
                    if self._failed is not None:
                        self._failed(
                            f"{self._node.path} is a symlink that points outside the image: "
                            "dragging it out would hand over a file of this computer"
                        )
                    return self._urls
                self._urls = [QUrl.fromLocalFile(dropped)]
        return self._urls


def drag_size(image: Image, layer: int, node: Node) -> int:
    """Bytes dragging `node` out would write (its files, each content once)."""
    try:
        items = plan(image, layer, [node.path])
    except Exception:  # noqa: BLE001 - not draggable, whatever the reason
        return DRAG_LIMIT + 1
    seen: dict[int, int] = {}
    for item in items:
        if item.content is not None:
            seen[id(item.content)] = item.content.size
    return sum(seen.values())
