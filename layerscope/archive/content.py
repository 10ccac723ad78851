"""Reading what a layer holds again, after a load: file contents for the viewer, the text diff
of a modified file and extraction.

A load keeps no file content, only where each member's headers start in its layer's
uncompressed stream (`Entry.offset`) and where the archive stores the layer (`Layer.blob`).
To read a member, the layer blob is opened again: an uncompressed layer in a plain tar or a
directory is a seek away; a gzip one starts from the nearest seek point earlier reads
remembered (seekgz.py); anything else is decompressed from its start, under the same
limits as the load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, cast

from layerscope.archive.compression import GZIP, NONE, open_decompressed
from layerscope.archive.container import Container, MemberReader, open_container
from layerscope.archive.seekgz import REGISTRY, IndexedGzipReader, blob_key
from layerscope.archive.tarstream import Member, TarSource, iter_members, normalize_name
from layerscope.errors import CorruptLayer, LayerscopeError
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.model.entry import Entry, Kind
from layerscope.model.image import Image, Layer

_CHUNK = 1 << 20


@dataclass
class OpenMember:
    """One member, positioned at its data: `data.read(n)` gives its stored bytes."""

    member: Member
    data: BinaryIO

    @property
    def size(self) -> int:
        return self.member.size


class _LayerStream:
    """The uncompressed stream of one layer blob, read forward from where it is put."""

    def __init__(self, container: Container, blob: str, limits: Limits):
        self.name = f"{container.path}: {blob}"
        self.limits = limits
        self._raw = container.open_blob(blob)
        self._indexed: IndexedGzipReader | None = None
        try:
            stream, method = open_decompressed(self._raw, name=self.name, limits=limits)
            if method == GZIP and self._raw.seekable():
                # A gzip blob read in place: seek points remembered from earlier reads.
                index = REGISTRY.get(
                    (container.path, blob)  # a registry's blob: named by its digest
                    if container.fetches_blobs
                    else blob_key(container.path, blob)
                )
                self._indexed = IndexedGzipReader(
                    self._raw, index, name=self.name, limit=limits.max_layer_bytes
                )
                stream = cast(BinaryIO, self._indexed)
        except BaseException:
            self._raw.close()
            raise
        # An uncompressed blob that can seek is read in place: skipping costs nothing.
        self._seekable = method == NONE and self._raw.seekable()
        if self._seekable:
            self._raw.seek(0)
        self._stream = self._raw if self._seekable else stream
        self._position = 0

    def skip_to(self, offset: int) -> None:
        if self._seekable:
            self._raw.seek(offset)
            self._position = offset
            return
        if self._indexed is not None:
            self._indexed.seek_to(offset)
            self._position = offset
            return
        while self._position < offset:
            got = len(self._stream.read(min(_CHUNK, offset - self._position)))
            if not got:
                raise CorruptLayer("the layer ends before the member", path=self.name)
            self._position += got

    def members(self) -> Iterator[OpenMember]:
        """The members from the current position on, each positioned at its data.

        Their offsets count from where the walk started. Read a member's data (or not)
        before asking for the next: the walk skips what was left unread.
        """
        src = TarSource(
            self._stream,
            limit=self.limits.max_layer_bytes,
            limit_name="max_layer_bytes",
            on_bytes=None,
            name=self.name,
            hash_stream=False,
        )
        for m in iter_members(src, name=self.name, limits=self.limits):
            yield OpenMember(m, cast(BinaryIO, MemberReader(src, m.size)))

    def close(self) -> None:
        self._raw.close()


def open_again(
    archive_path: str, limits: Limits, reopen: Callable[[], Container] | None = None
) -> Container:
    """The container of a loaded image's archive, to read its layers again: by its path,
    or by `reopen` (Image.reopen) for a source that is not a file."""
    if reopen is not None:
        return reopen()
    scheme, sep, _rest = archive_path.partition("://")
    if sep and scheme.isalpha():
        # podman:// docker://: an export read once while loading, then removed
        raise LayerscopeError(
            f"files of a {scheme}:// image are not kept after loading; save the image "
            "to an archive (podman save, docker save, skopeo copy) to look inside files",
            path=archive_path,
        )
    try:
        return open_container(archive_path, limits)
    except FileNotFoundError:
        raise LayerscopeError(
            "the archive is gone (moved or deleted since it was opened)", path=archive_path
        ) from None


class LayerContent:
    """Opens members of the layers of one archive; reuse one for many reads, then close.

    `reopen`: what opens the archive again when it is not a file by its path (a registry
    image: its blobs fetched again, with range requests where the registry allows)."""

    def __init__(
        self,
        archive_path: str,
        limits: Limits = DEFAULT_LIMITS,
        reopen: Callable[[], Container] | None = None,
    ):
        self.archive_path = archive_path
        self.limits = limits
        self._reopen = reopen
        self._container: Container | None = None

    def _open(self) -> Container:
        if self._container is None:
            self._container = open_again(self.archive_path, self.limits, self._reopen)
        return self._container

    def iter_members(self, blob: str, offsets: Iterable[int]) -> Iterator[tuple[int, OpenMember]]:
        """(offset, member) for the members whose headers start at `offsets` of one layer,
        in one forward pass. Each member comes positioned at its data; read it (or not)
        before asking for the next.
        """
        wanted = set(offsets)
        if not wanted:
            return
        if min(wanted) < 0:
            raise LayerscopeError("where a member lies in its layer is unknown")
        stream = _LayerStream(self._open(), blob, self.limits)
        try:
            first = min(wanted)
            stream.skip_to(first)
            for opened in stream.members():
                at = first + opened.member.header_offset
                if at in wanted:
                    wanted.discard(at)
                    yield at, opened
                    if not wanted:
                        return
            raise CorruptLayer("the layer holds no member where the index says", path=stream.name)
        finally:
            stream.close()

    def read(self, blob: str, offset: int, *, start: int = 0, length: int = -1) -> bytes:
        """`length` bytes (all with -1) of the data of the member at `offset`, from `start`."""
        return self.read_member(blob, offset, start=start, length=length)[1]

    def read_member(
        self, blob: str, offset: int, *, start: int = 0, length: int = -1
    ) -> tuple[Member, bytes]:
        """The member's header (xattrs included) and `length` bytes of its data from `start`."""
        for _offset, opened in self.iter_members(blob, [offset]):
            _discard(opened.data, start)
            left = max(opened.size - start, 0)
            data = _read_exactly(opened.data, left if length < 0 else min(length, left))
            return opened.member, data
        raise AssertionError("unreachable: iter_members yields or raises")

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> LayerContent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _discard(stream: BinaryIO, n: int) -> None:
    while n > 0:
        got = len(stream.read(min(_CHUNK, n)))
        if not got:
            return
        n -= got


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    parts = []
    while n > 0:
        chunk = stream.read(min(_CHUNK, n))
        if not chunk:
            break
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


class ImageContent:
    """Reads the content of an image's file entries (a version's `content` entry)."""

    def __init__(self, image: Image, limits: Limits = DEFAULT_LIMITS):
        self.image = image
        self._layers = LayerContent(image.archive_path, limits, image.reopen)
        self._where: dict[int, Layer] | None = None

    def layer_of(self, entry: Entry) -> Layer:
        """The layer that shipped a file entry."""
        if self._where is None:
            self._where = {
                id(e): layer
                for layer in self.image.layers
                for e in layer.entries
                if e.kind == Kind.FILE
            }
        layer = self._where.get(id(entry))
        if layer is None:
            raise LayerscopeError(f"{entry.path}: not a file any layer of this image shipped")
        if layer.blob is None:
            raise LayerscopeError(
                f"{entry.path}: layer {layer.index} cannot be read"
                + (f" ({layer.unavailable})" if layer.unavailable else "")
            )
        return layer

    def read(self, entry: Entry, *, start: int = 0, length: int = -1) -> bytes:
        return self.read_member(entry, start=start, length=length)[1]

    def read_member(
        self, entry: Entry, *, start: int = 0, length: int = -1
    ) -> tuple[Member, bytes]:
        """A file entry's full header (xattrs...) and `length` bytes of it from `start`."""
        layer = self.layer_of(entry)
        assert layer.blob is not None
        member, data = self._layers.read_member(
            layer.blob, entry.offset, start=start, length=length
        )
        self._check(entry, member, layer)
        return member, data

    def iter_files(self, entries: Iterable[Entry]) -> Iterator[tuple[Entry, OpenMember]]:
        """Each entry with its data, one forward pass per layer (bottom layer first)."""
        by_layer: dict[int, list[Entry]] = {}
        for e in entries:
            by_layer.setdefault(self.layer_of(e).index, []).append(e)
        for index in sorted(by_layer):
            layer = self.image.layers[index]
            assert layer.blob is not None
            at = {e.offset: e for e in by_layer[index]}
            for offset, opened in self._layers.iter_members(layer.blob, at):
                self._check(at[offset], opened.member, layer)
                yield at[offset], opened

    def _check(self, entry: Entry, member: Member, layer: Layer) -> None:
        """The member found where the load indexed `entry` is that file, by name and size:
        an archive rewritten in place since the load must not show another file's bytes."""
        limits = self._layers.limits
        try:
            path = normalize_name(member.name, depth_limit=limits.max_path_depth, layer="")
        except LayerscopeError:
            path = None
        if path != entry.path or member.real_size != entry.size:
            raise CorruptLayer(
                f"{entry.path}: layer {layer.index} changed since it was loaded (it holds "
                f"{member.name[:200]!r} of {member.real_size} bytes there now); open it again",
                path=self.image.archive_path,
            )

    def close(self) -> None:
        self._layers.close()

    def __enter__(self) -> ImageContent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
