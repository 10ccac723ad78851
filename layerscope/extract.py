"""Getting files out of an image: a file, a directory, or the whole filesystem at a layer,
into a directory or a tar file; or one layer's tar as it is.

The plan comes from the model (what the filesystem holds at that layer), the bytes from the
archive (`archive/content.py`, one forward pass per layer), and the writing is done by
`safewrite.SafeWriter` (nothing outside the destination, nothing half-written) or by a tar
writer that builds a temporary file and renames it into place.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from layerscope.archive.compression import open_decompressed
from layerscope.archive.content import ImageContent, open_again
from layerscope.errors import Cancelled, LayerscopeError
from layerscope.format import plural
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.model.entry import Entry, Kind
from layerscope.model.filesystem import FileSystem, Node, Version
from layerscope.model.image import Image
from layerscope.safewrite import (
    ExtractError,
    SafeWriter,
    WriteSummary,
    check_component,
    open_part,
)

_CHUNK = 1 << 20
ProgressFn = Callable[[int, int], None]  # (bytes written, bytes to write)


@dataclass
class Item:
    """One path to write: what the image shows there at the chosen layer."""

    path: str  # absolute image path, "/etc/passwd"
    entry: Entry  # the entry the path shows (its own header: mode, owner, times)
    content: Entry | None  # files and hardlinks: the file entry whose bytes it shows

    @property
    def is_dir(self) -> bool:
        return self.entry.kind == Kind.DIR


def _where_else(node: Node | None) -> str:
    """Which layers ship a path missing at the layer asked for, for the error that says so:
    a file a later layer deleted is one @LAYER away."""
    shipped = (
        sorted({v.layer for v in node.versions if v.entry is not None and v.layer >= 0})
        if node
        else []
    )
    if not shipped:
        return ""
    shown = ", ".join(map(str, shipped[:5])) + (", ..." if len(shipped) > 5 else "")
    return f"; layer{'s' * (len(shipped) > 1)} {shown} ship{'s' * (len(shipped) == 1)} it (@LAYER)"


def _through_symlink(fs: FileSystem, wanted: str, layer: int) -> str:
    """Why a path is missing when one of its directories is a symlink: paths are taken
    literally, as the image's symlinks may lead anywhere and are never followed."""
    parts = [p for p in wanted.split("/") if p]
    for depth in range(1, len(parts)):
        prefix = "/" + "/".join(parts[:depth])
        node = fs.lookup(prefix)
        state = node.state_at(layer) if node is not None else None
        if state is None or state.entry is None:
            return ""
        if state.entry.kind == Kind.SYMLINK:
            return f"; {prefix} is a symlink to {state.entry.link}: name the path it leads to"
    return ""


def plan(image: Image, layer: int, paths: Iterable[str]) -> list[Item]:
    """Every path at or below `paths` present after `layer`, with their parent directories,
    sorted by path (parents first)."""
    fs = image.filesystem
    items: dict[str, Item] = {}
    for wanted in paths:
        node = fs.lookup(wanted)
        top = node.state_at(layer) if node is not None else None
        if node is None or top is None or top.entry is None:
            why = _where_else(node) or _through_symlink(fs, wanted, layer)
            raise LayerscopeError(f"{wanted}: no such path at layer {layer}{why}")
        parent = node.parent
        while parent is not None and parent.parent is not None:  # the parents, for their modes
            state = parent.state_at(layer)
            if state is not None and state.entry is not None:
                items.setdefault(parent.path, Item(parent.path, state.entry, None))
            parent = parent.parent
        below: list[tuple[Node, Version]]
        if node.parent is None:  # "/": its children, the root itself is the destination
            below = list(fs.iter_present(layer))
        else:
            below = [(node, top)]
            if node.children and top.entry.kind == Kind.DIR:
                below.extend(_present_below(node, layer))
        for n, v in below:
            assert v.entry is not None
            path = n.path
            if path not in items:
                items[path] = Item(path, v.entry, v.content)
    return [items[p] for p in sorted(items)]


def _present_below(node: Node, layer: int) -> Iterator[tuple[Node, Version]]:
    stack = [node]
    while stack:
        n = stack.pop()
        for child in (n.children or {}).values():
            state = child.state_at(layer)
            if state is not None:
                yield child, state
                if child.children:
                    stack.append(child)


class Output(Protocol):
    """Where extracted entries go: a directory (SafeWriter) or a tar file (TarOutput)."""

    summary: WriteSummary

    def conflicts(self, paths: Iterable[tuple[str, bool]]) -> list[str]: ...
    def directory(self, rel: str, mode: int = 0o755, mtime: int | None = None) -> None: ...
    def file(
        self,
        rel: str,
        chunks: Iterable[bytes],
        *,
        mode: int = 0o644,
        mtime: int | None = None,
        content_id: int | None = None,
    ) -> None: ...
    def hardlink(self, rel: str, content_id: int) -> None: ...
    def symlink(self, rel: str, target: str) -> None: ...
    def skip(self, rel: str, why: str) -> None: ...
    def finish(self) -> None: ...
    def close(self) -> None: ...


def extract(
    image: Image,
    layer: int,
    paths: Iterable[str],
    output: Output,
    *,
    under: str = "/",
    top_name: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: ProgressFn | None = None,
    cancel: Callable[[], bool] | None = None,
) -> WriteSummary:
    """Write `paths` (and everything below them) as they stand after `layer` to `output`.

    Paths are written relative to the image directory `under` ("/": full paths); with
    `top_name`, the one path given is written under that name (a "Save As…").
    """
    items = _relocate(plan(image, layer, paths), under, top_name)
    clashes = output.conflicts((i.path, i.is_dir) for i in items)
    if clashes:
        others = len(clashes) - 1
        more = f", and {plural(others, 'other path')} too" if others else ""
        raise ExtractError(f"{clashes[0]}{more}; nothing was written")

    def check() -> None:
        if cancel is not None and cancel():
            raise Cancelled()

    first_path: dict[int, Item] = {}  # content -> the path that gets its bytes
    links: list[Item] = []
    for item in items:
        kind = item.entry.kind
        if kind == Kind.DIR:
            output.directory(item.path, item.entry.mode, item.entry.mtime)
        elif kind in (Kind.FILE, Kind.HARDLINK):
            if item.content is None:
                output.skip(item.path, "hardlink to a file the image does not have")
            elif id(item.content) in first_path:
                links.append(item)
            else:
                first_path[id(item.content)] = item
    total = sum(i.content.size for i in first_path.values() if i.content is not None)
    counter = _Counter(total, progress, check)
    not_written: dict[int, str] = {}  # content skipped -> the path it was skipped at
    with ImageContent(image, limits) as content:
        contents = [i.content for i in first_path.values() if i.content is not None]
        for entry, opened in content.iter_files(contents):
            check()
            item = first_path[id(entry)]
            if opened.member.sparse:
                output.skip(item.path, "sparse file (its holes are not rebuilt)")
                not_written[id(entry)] = item.path
                continue

            output.file(
                item.path,
                _chunks(opened.data, opened.size, item.path, counter),
                mode=item.entry.mode,
                mtime=item.entry.mtime,
                content_id=id(entry),
            )
    for item in links:
        assert item.content is not None
        skipped_at = not_written.get(id(item.content))
        if skipped_at is not None:  # nothing to link to: skipped as its first path was
            output.skip(item.path, f"hardlink to {skipped_at}, which was skipped")
        else:
            output.hardlink(item.path, id(item.content))
    for item in items:
        kind = item.entry.kind
        if kind == Kind.SYMLINK:
            output.symlink(item.path, item.entry.link or "")
        elif kind in (Kind.CHAR, Kind.BLOCK, Kind.FIFO):
            output.skip(item.path, f"{kind.label} device nodes are not created")
    output.finish()
    return output.summary


def _relocate(items: list[Item], under: str, top_name: str | None) -> list[Item]:
    """Keep the items below `under`, with paths relative to it (and the top one renamed)."""
    base = under.rstrip("/")
    if not base and top_name is None:
        return items
    out: list[Item] = []
    prefix = base + "/"
    for item in items:
        if not item.path.startswith(prefix):
            continue  # a parent above `under`: not written
        rel = item.path[len(base) :]
        if top_name is not None:
            check_component(top_name, top_name)
            first, _, rest = rel[1:].partition("/")
            rel = "/" + top_name + ("/" + rest if rest else "")
        out.append(Item(rel, item.entry, item.content))
    return out


class _Counter:
    """Bytes written so far: progress, and the cancel check between chunks."""

    def __init__(self, total: int, progress: ProgressFn | None, check: Callable[[], None]):
        self.total = total
        self.done = 0
        self.progress = progress
        self.check = check

    def add(self, n: int) -> None:
        self.check()
        self.done += n
        if self.progress is not None:
            self.progress(self.done, self.total)


def _chunks(data: BinaryIO, size: int, path: str, counter: _Counter) -> Iterator[bytes]:
    left = size
    while left > 0:
        chunk = data.read(min(_CHUNK, left))
        if not chunk:
            raise LayerscopeError(f"{path}: the layer ends inside this file")
        left -= len(chunk)
        counter.add(len(chunk))
        yield chunk


class TarOutput:
    """Writes the extracted entries as a tar file (metadata kept as the image has it).

    Built under a temporary name beside the target and renamed into place when complete.
    """

    def __init__(self, target: str, *, force: bool = False):
        self.target = target
        self.force = force
        self.summary = WriteSummary()
        self._tmp = ""  # the file the tar is built in, made when the first entry comes
        self._file: BinaryIO | None = None
        self._tar: tarfile.TarFile | None = None
        self._names: dict[int, str] = {}

    def conflicts(self, paths: Iterable[tuple[str, bool]]) -> list[str]:
        if os.path.isdir(self.target):
            return [f"{self.target}: a directory is in the way"]
        if os.path.lexists(self.target) and not self.force:
            return [f"{self.target}: exists (use --force to replace it)"]
        return []

    def _open(self) -> tarfile.TarFile:
        if self._tar is None:
            fd, self._tmp = open_part(self.target, 0o666)
            self._file = os.fdopen(fd, "wb")
            self._tar = tarfile.open(fileobj=self._file, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        return self._tar

    @staticmethod
    def _info(rel: str, mode: int, mtime: int | None) -> tarfile.TarInfo:
        info = tarfile.TarInfo(rel.lstrip("/"))
        info.mode = mode & 0o7777
        info.mtime = mtime or 0
        return info

    def directory(self, rel: str, mode: int = 0o755, mtime: int | None = None) -> None:
        info = self._info(rel, mode, mtime)
        info.type = tarfile.DIRTYPE
        self._open().addfile(info)
        self.summary.directories += 1

    def file(
        self,
        rel: str,
        chunks: Iterable[bytes],
        *,
        mode: int = 0o644,
        mtime: int | None = None,
        content_id: int | None = None,
    ) -> None:
        # tarfile needs the size first: spool the chunks (to disk past 16 MiB).
        with _Spool() as spool:
            for chunk in chunks:
                spool.write(chunk)
            info = self._info(rel, mode, mtime)
            info.size = spool.tell()
            spool.seek(0)
            self._open().addfile(info, spool)
        self.summary.files += 1
        self.summary.bytes += info.size
        if content_id is not None:
            self._names.setdefault(content_id, rel.lstrip("/"))

    def hardlink(self, rel: str, content_id: int) -> None:
        info = self._info(rel, 0o644, None)
        info.type = tarfile.LNKTYPE
        info.linkname = self._names[content_id]
        self._open().addfile(info)
        self.summary.hardlinks += 1

    def symlink(self, rel: str, target: str) -> None:
        info = self._info(rel, 0o777, None)
        info.type = tarfile.SYMTYPE
        info.linkname = target
        self._open().addfile(info)
        self.summary.symlinks += 1

    def skip(self, rel: str, why: str) -> None:
        self.summary.skipped.append(f"{rel}: {why}")

    def finish(self) -> None:
        self._open()
        self._close_files()
        os.replace(self._tmp, self.target)

    def _close_files(self) -> None:
        if self._tar is not None:
            self._tar.close()  # the end-of-archive blocks; the file stays open
            self._tar = None
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        """Drop the temporary file of an extraction that did not finish."""
        if self._file is not None:
            self._close_files()
            os.unlink(self._tmp)


class StreamTarOutput(TarOutput):
    """The tar written to an open stream (standard output) as it is built: nothing to
    replace, no temporary file. An extraction that fails leaves the stream without the
    end-of-archive blocks, so whatever reads it sees a cut tar, not a complete one."""

    def __init__(self, stream: BinaryIO):
        super().__init__("-")
        self._stream = stream

    def conflicts(self, paths: Iterable[tuple[str, bool]]) -> list[str]:
        return []

    def _open(self) -> tarfile.TarFile:
        if self._tar is None:
            self._tar = tarfile.open(fileobj=self._stream, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        return self._tar

    def finish(self) -> None:
        self._open().close()  # the end-of-archive blocks; the stream stays open
        self._tar = None
        self._stream.flush()

    def close(self) -> None:
        self._tar = None  # unfinished: no end-of-archive blocks


class _Spool:
    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115

    def __enter__(self) -> BinaryIO:
        return self._file  # type: ignore[return-value]

    def __exit__(self, *exc: object) -> None:
        self._file.close()


def save_layer_tar(
    image: Image,
    layer: int,
    target: str,
    *,
    force: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    cancel: Callable[[], bool] | None = None,
) -> int:
    """Write layer `layer`'s uncompressed tar as it is (whiteouts included); its size."""
    if os.path.isdir(target):
        raise ExtractError(f"{target}: a directory is in the way")
    if os.path.lexists(target) and not force:
        raise ExtractError(f"{target}: exists (use --force to replace it)")
    tmp = ""
    part: BinaryIO | None = None

    def to_part() -> BinaryIO:  # made once the blob opens: a layer that cannot leaves none
        nonlocal tmp, part
        fd, tmp = open_part(target, 0o666)
        part = os.fdopen(fd, "wb")
        return part

    try:
        written = copy_layer_tar(image, layer, to_part, limits=limits, cancel=cancel)
        assert part is not None
        part.close()
        os.replace(tmp, target)
    except BaseException:
        if part is not None:
            part.close()
        if tmp:
            os.unlink(tmp)
        raise
    return written


def copy_layer_tar(
    image: Image,
    layer: int,
    out: Callable[[], BinaryIO],
    *,
    limits: Limits = DEFAULT_LIMITS,
    cancel: Callable[[], bool] | None = None,
) -> int:
    """Copy layer `layer`'s uncompressed tar into the stream `out()` gives once the blob is
    open (the caller closes it); its size."""
    the_layer = image.layers[layer]
    if the_layer.blob is None:
        raise LayerscopeError(f"layer {layer} cannot be read ({the_layer.unavailable or 'absent'})")
    container = open_again(image.archive_path, limits, image.reopen)
    written = 0
    try:
        with container.open_blob(the_layer.blob) as raw:
            stream, _method = open_decompressed(raw, name=image.archive_path, limits=limits)
            sink = out()
            while chunk := stream.read(_CHUNK):
                if cancel is not None and cancel():
                    raise Cancelled()
                sink.write(chunk)
                written += len(chunk)
                if written > limits.max_layer_bytes:
                    raise LayerscopeError(f"layer {layer} expands past max_layer_bytes")
            sink.flush()
    finally:
        container.close()
    return written


def directory_output(dest: str, *, force: bool = False) -> SafeWriter:
    return SafeWriter(dest, force=force)


__all__ = [
    "ExtractError",
    "Item",
    "StreamTarOutput",
    "TarOutput",
    "WriteSummary",
    "copy_layer_tar",
    "directory_output",
    "extract",
    "plan",
    "save_layer_tar",
]
