"""A streaming tar reader for layer tars: one pass, bounded, no extraction.

Why not `tarfile`? Layers are untrusted and large. We need to bound every header
(PAX blocks, GNU long names), count entries, hash each file's content and the whole
stream (the diff_id) in the same pass, and do it for hundreds of thousands of members
per layer. A small header parser over a buffered stream does all of that with less
per-member work than `tarfile`'s TarInfo machinery.

Formats understood: v7, ustar, GNU (long names `L`/`K`, sparse `S`, base-256 numbers),
POSIX pax (`x` per-file and `g` global headers, GNU sparse keys).
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import queue
import re
import threading
import urllib.parse
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import BinaryIO

import xxhash

from layerscope.errors import CorruptLayer, HostileArchive, LimitExceeded
from layerscope.limits import Limits
from layerscope.model.entry import Entry, EntryTable, Kind

BLOCK = 512
# File contents are hashed only to find equal content (duplicates), never to prove identity
# (the layer's diff_id, a SHA-256 of the whole stream, does that). xxh3-128 runs at memory
# speed; with the size as part of the key, two different files collide by chance with a
# probability of about n^2 / 2^129 (1e-25 for ten million files). It is not collision
# resistant against a crafted pair, and the price of one is a wrong duplicate figure for the
# image that carries the pair: nothing is trusted, deleted or skipped on this digest. (A
# byte compare on collision would mean reading both files again from their layers; it buys
# nothing at these odds.)
content_hash = xxhash.xxh3_128
content_digest = xxhash.xxh3_128_digest
_EMPTY_DIGEST = content_digest(b"")
_READ_CHUNK = 1 << 20
_SMALL_FILE = 64 * 1024  # read whole and hashed in one call; larger files stream through

WHITEOUT_PREFIX = ".wh."
OPAQUE_NAME = ".wh..wh..opq"
META_PREFIX = ".wh..wh."
# eStargz bookkeeping entries: index them, never apply them.
ESTARGZ_META = {"stargz.index.json", ".prefetch.landmark", ".no.prefetch.landmark"}

_TYPE_KIND = {
    b"0": Kind.FILE,
    b"\0": Kind.FILE,
    b"7": Kind.FILE,  # contiguous file: a regular file everywhere that matters
    b"1": Kind.HARDLINK,
    b"2": Kind.SYMLINK,
    b"3": Kind.CHAR,
    b"4": Kind.BLOCK,
    b"5": Kind.DIR,
    b"D": Kind.DIR,  # GNU dumpdir
    b"6": Kind.FIFO,
}


@dataclass
class ParsedLayer:
    """What one pass over a layer stream produced: picklable, and what the cache keeps
    (every field, so what a reader adds here persists with the rest)."""

    table: EntryTable  # the entries, as columns
    diff_id: str  # "sha256:<hex>" of the whole uncompressed stream
    stream_bytes: int  # bytes of the uncompressed stream
    warnings: list[str] = field(default_factory=list)
    # The bytes of the regular files `capture` asked for, by normalised path (the last
    # entry of a path wins, as in the filesystem). Bounded by the max_capture_* limits.
    captured: dict[str, bytes] = field(default_factory=dict)

    @property
    def entries(self) -> list[Entry]:
        """The entries as objects: new ones on each call."""
        return self.table.entries()


# What octal number fields hold in a header whose numbers int() may read directly: int()
# alone would also take "0o17", "1_0", "+7" or a tab, which Go's archive/tar (what the
# container runtimes read layers with) refuses.
_OCTAL_TEXT = b"01234567 \0"
_NUL_AS_SPACE = bytes.maketrans(b"\0", b" ")


def _octal(field_bytes: bytes, what: str, offset: int, path: str) -> int:
    """Parse a numeric header field: octal text, or GNU base-256 when the top bit is set.

    Octal text is read as Go's archive/tar reads it: spaces and NULs trimmed from both
    ends, cut at the first NUL left, then octal digits only."""
    if field_bytes and field_bytes[0] & 0x80:
        value = int.from_bytes(field_bytes[1:], "big")
        if field_bytes[0] == 0xFF:  # negative base-256
            value -= 1 << (8 * (len(field_bytes) - 1))
        elif field_bytes[0] != 0x80:
            raise CorruptLayer(f"bad base-256 {what} in tar header at offset {offset}", path=path)
        return value
    text = field_bytes.strip(b" \0").split(b"\0", 1)[0]
    if not text:
        return 0
    if text.translate(None, b"01234567"):
        raise CorruptLayer(
            f"bad {what} field {text[:20]!r} in tar header at offset {offset}", path=path
        )
    return int(text, 8)


def _cstr(field_bytes: bytes) -> bytes:
    return field_bytes.split(b"\0", 1)[0]


def _decode(raw: bytes) -> str:
    # Non-UTF-8 names are kept byte-exact (surrogateescape) so two distinct names never
    # collapse into one; printers escape them.
    return raw.decode("utf-8", "surrogateescape")


def _is_utf8(text: str) -> bool:
    """False for names decoded with surrogate escapes (bytes that are not UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean_name(name: str, depth_limit: int) -> str | None:
    """normalize_name's usual case, quickly: a relative name with no ".", "..", "//" or NUL
    ("usr/bin/x", "./usr/bin/x/") within the depth limit. None for anything else."""
    plain = (name[2:] if name.startswith("./") else name).rstrip("/")
    if (
        plain
        and plain[0] not in "./"
        and "//" not in plain
        and "/." not in plain
        and "\0" not in plain
        and plain.count("/") < depth_limit
    ):
        return "/" + plain
    return None


def normalize_name(name: str, *, depth_limit: int, layer: str, what: str = "entry name") -> str:
    """Return an absolute, normalised path ("/" for the root); refuse escapes.

    `what` says which name it is in errors ("entry name", "hardlink target").
    """
    clean = _clean_name(name, depth_limit)  # the usual name: no normpath needed
    if clean is not None:
        return clean
    if "\0" in name:
        raise HostileArchive(f"{what} contains NUL: {name[:80]!r}", path=layer)
    path = posixpath.normpath("/" + name)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    # normpath("/" + "../x") gives "/x": it silently clamps. Detect the escape on the
    # relative form so a traversal attempt is named rather than hidden.
    rel = posixpath.normpath(name.lstrip("/")) if name.strip("/") else "."
    if rel == ".." or rel.startswith("../"):
        raise HostileArchive(f"{what} escapes the root: {name[:200]!r}", path=layer)
    if path.count("/") > depth_limit:
        raise LimitExceeded(
            f"{what} deeper than {depth_limit} directories: {name[:80]!r}...",
            limit="max_path_depth",
            path=layer,
        )
    return path


def _xattrs(pax: dict[str, bytes]) -> dict[str, bytes] | None:
    """Extended attributes as GNU tar (SCHILY.xattr.NAME) or libarchive (base64) write them."""
    out: dict[str, bytes] = {}
    for key, value in pax.items():
        if key.startswith("SCHILY.xattr."):
            out[key[len("SCHILY.xattr.") :]] = value
        elif key.startswith("LIBARCHIVE.xattr."):
            try:
                out[urllib.parse.unquote(key[len("LIBARCHIVE.xattr.") :])] = base64.b64decode(value)
            except ValueError:
                out[key[len("LIBARCHIVE.xattr.") :]] = value
    return out or None


_PAX_TIME = re.compile(rb"-?[0-9]+(?:\.[0-9]*)?")


def pax_int(value: bytes) -> int:
    """A pax number: ASCII digits only. Python's int() also takes " 12" and "1_0", which
    tar and Go's archive/tar refuse: an archive could show us a size others do not see."""
    if not value.isdigit():  # bytes.isdigit: ASCII digits only
        raise ValueError(value)
    return int(value)


def pax_time(value: bytes) -> int:
    """A pax time: [-]seconds[.fraction], in whole seconds."""
    if _PAX_TIME.fullmatch(value) is None:
        raise ValueError(value)
    return int(value.partition(b".")[0])


def _parse_pax(data: bytes, offset: int, layer: str) -> dict[str, bytes]:
    records: dict[str, bytes] = {}
    pos = 0
    n = len(data)
    while pos < n:
        if data[pos] == 0:  # NUL padding after the last record
            break
        space = data.find(b" ", pos)
        if space < 0:
            raise CorruptLayer(f"malformed pax header at offset {offset}", path=layer)
        try:
            length = pax_int(data[pos:space])
        except ValueError:
            raise CorruptLayer(
                f"malformed pax record length at offset {offset}", path=layer
            ) from None
        if length <= space - pos or pos + length > n:
            raise CorruptLayer(f"malformed pax record at offset {offset}", path=layer)
        record = data[space + 1 : pos + length]
        if not record.endswith(b"\n") or b"=" not in record:
            raise CorruptLayer(f"malformed pax record at offset {offset}", path=layer)
        key, _, value = record[:-1].partition(b"=")
        records[key.decode("utf-8", "replace")] = value
        pos += length
    return records


class _StreamHash:
    """The SHA-256 of a stream, hashed in a thread beside the parse from its second chunk
    on: hashlib lets go of the interpreter lock while it hashes a chunk, so a big layer's
    parse and its diff_id use two cores. A layer of one chunk is hashed in line and starts
    no thread, and so is every chunk where no thread can be had. `close()` (also on an
    error) ends the thread."""

    __slots__ = ("_sha", "_chunks", "_thread", "_in_line", "_failed")

    IN_FLIGHT = 8  # chunks queued for the thread at most: a bound on the memory it holds

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._chunks: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._in_line: bool | None = None  # None until the first chunk went by
        self._failed: BaseException | None = None  # what the thread raised (MemoryError)

    def update(self, chunk: bytes) -> None:
        if self._chunks is None and self._in_line is False:
            self._start()
        if self._chunks is not None:
            self._chunks.put(chunk)
            return
        if self._in_line is None:
            self._in_line = False  # the next chunk starts the thread
        self._sha.update(chunk)

    def _start(self) -> None:
        chunks: queue.Queue[bytes | None] = queue.Queue(self.IN_FLIGHT)
        thread = threading.Thread(
            target=self._run, args=(chunks,), name="layerscope-hash", daemon=True
        )
        try:
            thread.start()
        except RuntimeError:  # "can't start new thread" (a process or thread limit)
            self._in_line = True
            return
        self._chunks, self._thread = chunks, thread

    def _run(self, chunks: queue.Queue[bytes | None]) -> None:
        sha = self._sha
        try:
            while (chunk := chunks.get()) is not None:
                sha.update(chunk)
        except BaseException as exc:  # noqa: BLE001 - raised by hexdigest()
            self._failed = exc
            while chunks.get() is not None:  # so that a full queue never blocks the parse
                pass

    def close(self) -> None:
        if self._chunks is not None and self._thread is not None:
            self._chunks.put(None)
            self._thread.join()
            self._chunks = self._thread = None
            self._in_line = True  # what comes after, if anything, in line

    def hexdigest(self) -> str:
        self.close()
        if self._failed is not None:
            raise self._failed
        return self._sha.hexdigest()


class TarSource:
    """Buffered reads over a (decompressed) tar stream, hashing every byte (the diff_id)."""

    __slots__ = (
        "_stream",
        "_buf",
        "_pos",
        "_hash",
        "consumed",
        "_base",
        "_limit",
        "_limit_name",
        "_on_bytes",
        "_layer",
        "warnings",
        "warning_keys",
        "stopped_at",
        "_seek_past",
    )

    def __init__(
        self,
        stream: BinaryIO,
        *,
        limit: int,
        limit_name: str,
        on_bytes: Callable[[int], None] | None,
        name: str,
        hash_stream: bool = True,
        base: int = 0,
        seek_past: bool = True,
    ):
        self._stream = stream
        self._buf = b""
        self._pos = 0
        self._base = base  # stream offset of _buf[0] (a part of a layer starts further on)
        # skip unread data by seeking (an outer archive's members); else read through it
        self._seek_past = seek_past
        self._hash = _StreamHash() if hash_stream else None
        self.consumed = 0  # bytes pulled from the stream (and hashed)
        self._limit = limit
        self._limit_name = limit_name
        self._on_bytes = on_bytes
        self._layer = name
        self.warnings: list[str] = []
        self.warning_keys: list[object] = []  # what each warning is about (see warn_once)
        # where iter_members stopped at its `stop`: the next member's first header
        self.stopped_at: int | None = None

    def warn_once(self, key: object, text: str) -> None:
        """A warning said once per layer whatever repeats it (a member type, a header)."""
        if key not in self.warning_keys:
            self.warning_keys.append(key)
            self.warnings.append(text)

    @property
    def position(self) -> int:
        return self._base + self._pos

    def _fill(self) -> bool:
        chunk = self._stream.read(_READ_CHUNK)
        if not chunk:
            return False
        if self._hash is not None:
            self._hash.update(chunk)
        self.consumed += len(chunk)
        if self.consumed > self._limit:
            raise LimitExceeded(
                f"stream expands past {self._limit} bytes",
                limit=self._limit_name,
                path=self._layer,
            )
        if self._on_bytes is not None:
            self._on_bytes(len(chunk))
        self._base += self._pos
        self._buf = self._buf[self._pos :] + chunk if self._pos < len(self._buf) else chunk
        self._pos = 0
        return True

    def read_exact(self, n: int) -> bytes | None:
        """n bytes, or None at a clean end of stream (no bytes at all)."""
        while len(self._buf) - self._pos < n:
            if not self._fill():
                if self._pos == len(self._buf):
                    return None
                raise CorruptLayer("truncated tar stream", path=self._layer)
        out = self._buf[self._pos : self._pos + n]
        self._pos += n
        return out

    def feed(self, n: int, sink: Callable[[bytes], None] | None) -> None:
        """Consume n bytes, passing them to sink (e.g. a content hash) when given."""
        if sink is None and n <= len(self._buf) - self._pos:  # padding: the usual skip
            self._pos += n
            return
        if (
            sink is None
            and self._hash is None
            and self._seek_past
            and n > len(self._buf) - self._pos
        ):
            seek = getattr(self._stream, "seek", None)
            if seek is not None and self._stream.seekable():
                # Skipping unread data of an outer archive: seek instead of reading it.
                n -= len(self._buf) - self._pos
                self._base += len(self._buf)
                self._buf, self._pos = b"", 0
                try:
                    seek(n, 1)
                except (ValueError, OverflowError):  # a size past any offset (base-256)
                    raise CorruptLayer(
                        "truncated tar stream (member data cut short)", path=self._layer
                    ) from None
                self._base += n
                return
        while n > 0:
            avail = len(self._buf) - self._pos
            if avail == 0:
                if not self._fill():
                    raise CorruptLayer(
                        "truncated tar stream (member data cut short)", path=self._layer
                    )
                avail = len(self._buf) - self._pos
            take = avail if avail < n else n
            if sink is not None:
                sink(self._buf[self._pos : self._pos + take])
            self._pos += take
            n -= take

    def drain(self) -> None:
        """Read what follows the end-of-archive blocks: it is part of the diff_id."""
        self._pos = len(self._buf)
        while self._fill():
            self._pos = len(self._buf)

    def digest(self) -> str:
        assert self._hash is not None
        return "sha256:" + self._hash.hexdigest()

    def close(self) -> None:
        """Stop hashing (the stream is done with, read or not)."""
        if self._hash is not None:
            self._hash.close()


# Headers that describe the member after them: pax (per file, global), GNU long name, link.
_META_TYPES = frozenset({b"x", b"g", b"L", b"K"})


def _padding(size: int) -> int:
    return -size % BLOCK


_ZERO_BLOCK = bytes(BLOCK)
_adler32 = zlib.adler32  # (a global, not the module's attribute: once per member)


def _checksum_matches(stored: int | None, block: bytes) -> bool:
    """Whether a header's stored checksum is the sum of its bytes, its checksum field
    counted as 8 spaces (256), or the sum old writers made of signed chars.

    The sum at C speed: Adler-32's low half is 1 plus the sum of the bytes modulo 65521,
    which is exact for 256 bytes (at most 65,280). One call per member, on the hot path.
    """
    # (in one expression: the halves, less the checksum field's own bytes, plus 8 spaces;
    # each low half is one more than its sum)
    computed = (
        (_adler32(block[:256]) & 0xFFFF)
        + (_adler32(block[256:]) & 0xFFFF)
        - (_adler32(block[148:156]) & 0xFFFF)
        + 255
    )
    return stored == computed or stored == computed - 256 * sum(1 for b in block if b > 127)


@dataclass(slots=True)
class Member:
    """One tar member's header, after pax / GNU extensions are applied."""

    name: str  # as written (decoded), not normalised
    typeflag: bytes
    size: int  # bytes of data that follow the header in the stream
    real_size: int  # logical size (differs for sparse files)
    mode: int
    uid: int
    gid: int
    mtime: int
    linkname: str
    data_offset: int  # where the data starts in the stream
    header_offset: int  # where its first header (pax / GNU long name included) starts
    xattrs: dict[str, bytes] | None = None  # from pax SCHILY.xattr.* / LIBARCHIVE.xattr.*
    sparse: bool = False  # the data that follows is a sparse map's pieces, not the file


def iter_members(
    src: TarSource, *, name: str, limits: Limits, stop: int | None = None, at_start: bool = True
) -> Iterator[Member]:
    """Yield each member; the consumer may read the member's data with `src.feed`.

    With `stop`, end before the first member whose first header starts at or past that
    offset, and leave that offset in `src.stopped_at` (a part of a layer, see read_part);
    `at_start` False: the stream starts further on in a tar (its first header is not the
    tar's, nor its end the end of an empty stream).
    """
    for fields in _member_fields(src, name=name, limits=limits, stop=stop, at_start=at_start):
        yield Member(*fields)


# A member's fields, in Member's order: what _member_fields yields (a layer's parse unpacks
# them into its locals: a Member made and its fields read, for each of a layer's 150,000
# members, was 5% of the parse).
MemberFields = tuple[
    str, bytes, int, int, int, int, int, int, str, int, int, "dict[str, bytes] | None", bool
]


def _member_fields(
    src: TarSource, *, name: str, limits: Limits, stop: int | None, at_start: bool
) -> Iterator[MemberFields]:
    """iter_members' members, as the tuples of their fields."""
    pax: dict[str, bytes] = {}
    gnu_name: bytes | None = None
    gnu_link: bytes | None = None
    max_pax = limits.max_pax_bytes
    first = at_start
    zero_blocks = 0
    member_start: int | None = None  # offset of the pending member's first extended header

    while True:
        # This loop runs once per member (hundreds of thousands per layer): the usual cases
        # are inlined (a header already in the buffer, plain octal numbers), and the
        # general code (read_exact, _octal) takes everything else.
        buf, pos = src._buf, src._pos
        offset = src._base + pos
        if pos + BLOCK <= len(buf):
            header: bytes | None = buf[pos : pos + BLOCK]
            src._pos = pos + BLOCK
        else:
            header = src.read_exact(BLOCK)
        if header is None:
            if first:
                raise CorruptLayer("empty stream where a tar was expected", path=name)
            break  # end of stream without end-of-archive blocks: accepted, as tar does
        if header == _ZERO_BLOCK:
            zero_blocks += 1
            if zero_blocks == 2:
                break
            continue
        zero_blocks = 0  # a lone zero block between members is tolerated (GNU tar does)
        if stop is not None and offset >= stop:
            # A member is the part's whose window holds its own header; the headers that
            # describe it (pax, GNU long names) go with it, from wherever they start.
            src._pos -= BLOCK  # the header just read, left to whoever reads on from here
            src.stopped_at = offset if member_start is None else member_start
            pax, gnu_name, gnu_link = {}, None, None
            break

        # mode, uid, gid, size, mtime and checksum: plain octal text (digits, spaces, NULs) is
        # read by int() at C speed, its NULs made spaces (which int() skips around a
        # number, as _octal trims them); anything else (an empty field, a NUL between
        # digits) by _octal
        numbers = header[100:156]
        plain = not numbers.translate(None, _OCTAL_TEXT)
        stored: int | None = None
        if plain:
            numbers = numbers.translate(_NUL_AS_SPACE)
            try:
                stored = int(numbers[48:56], 8)
            except ValueError:
                plain = False
        if not plain:
            try:
                stored = _octal(header[148:156], "checksum", offset, name)
            except CorruptLayer:
                stored = None  # an unparsable checksum field is a checksum mismatch
        if not _checksum_matches(stored, header):
            if first:
                raise CorruptLayer("not a tar stream (bad first header)", path=name)
            raise CorruptLayer(f"bad tar header checksum at offset {offset}", path=name)
        first = False

        typeflag = header[156:157]
        if plain:
            try:
                size = int(numbers[24:36], 8)
            except ValueError:
                plain = False
        if not plain:
            size = _octal(header[124:136], "size", offset, name)
        if size < 0:
            raise CorruptLayer(f"negative member size at offset {offset}", path=name)

        # Meta headers that describe the next member.
        if typeflag in _META_TYPES:
            if member_start is None and typeflag != b"g":
                member_start = offset
            if size > max_pax:
                kind = "pax" if typeflag in (b"x", b"g") else "GNU long name"
                raise LimitExceeded(
                    f"{kind} header of {size} bytes at offset {offset}",
                    limit="max_pax_bytes",
                    path=name,
                )
            data = src.read_exact(size) if size else b""
            if data is None:
                raise CorruptLayer("truncated tar stream (in a header)", path=name)
            src.feed(_padding(size), None)
            if typeflag == b"x":
                pax.update(_parse_pax(data, offset, name))
            elif typeflag == b"g":  # once: a stream of them must not grow the list
                src.warn_once(b"g", "global pax header ignored (runtimes ignore it too)")
            elif typeflag == b"L":
                gnu_name = _cstr(data)
            else:
                gnu_link = _cstr(data)
            continue

        if gnu_name is not None:
            raw_name = gnu_name
        else:
            end = header.find(0, 0, 100)
            raw_name = header[: end if end >= 0 else 100]
            if header[345] and header[257:263] == b"ustar\x00":  # POSIX ustar: prefix field
                raw_name = _cstr(header[345:500]) + b"/" + raw_name
        if gnu_link is not None:
            raw_link = gnu_link
        else:
            raw_link = _cstr(header[157:257]) if header[157] else b""
        if plain:  # the common case in one go; odd fields take the careful path
            try:
                mode = int(numbers[0:8], 8) & 0o7777
                uid = int(numbers[8:16], 8)
                gid = int(numbers[16:24], 8)
                mtime = int(numbers[36:48], 8)
            except ValueError:
                plain = False
        if not plain:
            mode = _octal(header[100:108], "mode", offset, name) & 0o7777
            uid = _octal(header[108:116], "uid", offset, name)
            gid = _octal(header[116:124], "gid", offset, name)
            mtime = _octal(header[136:148], "mtime", offset, name)
        real_size = size
        xattrs: dict[str, bytes] | None = None
        sparse = typeflag == b"S"

        if pax:
            xattrs = _xattrs(pax)
            sparse = sparse or any(k.startswith("GNU.sparse.") for k in pax)
            raw_name = pax.get("GNU.sparse.name", pax.get("path", raw_name))
            raw_link = pax.get("linkpath", raw_link)
            try:
                if "size" in pax:
                    size = pax_int(pax["size"])
                real_size = size
                if "uid" in pax:
                    uid = pax_int(pax["uid"])
                if "gid" in pax:
                    gid = pax_int(pax["gid"])
                if "mtime" in pax:
                    mtime = pax_time(pax["mtime"])
                if "GNU.sparse.realsize" in pax:
                    real_size = pax_int(pax["GNU.sparse.realsize"])
                elif "GNU.sparse.size" in pax:
                    real_size = pax_int(pax["GNU.sparse.size"])
            except ValueError:
                raise CorruptLayer(
                    f"bad number in pax header at offset {offset}", path=name
                ) from None
            if size < 0 or real_size < 0:
                raise CorruptLayer(f"negative member size at offset {offset}", path=name)
            pax = {}
        gnu_name = gnu_link = None
        if typeflag == b"S":  # old GNU sparse: the real size lives in the header extension
            real_size = _octal(header[483:495], "sparse size", offset, name)
            extended = header[482]
            while extended:  # extension blocks of the sparse map follow the header
                ext = src.read_exact(BLOCK)
                if ext is None:
                    raise CorruptLayer("truncated GNU sparse header", path=name)
                extended = ext[504]

        data_offset = src._base + src._pos
        fields = (
            raw_name.decode("utf-8", "surrogateescape"),  # as _decode, inlined
            typeflag,
            size,
            real_size,
            mode,
            uid,
            gid,
            mtime,
            _decode(raw_link) if raw_link else "",
            data_offset,
            offset if member_start is None else member_start,
            xattrs,
            sparse,
        )
        member_start = None
        yield fields
        # Skip whatever data the consumer left unread, and the padding.
        pos = src._pos
        skip = data_offset + size - (src._base + pos)
        if skip < 0:
            raise AssertionError("tar consumer read past the member")  # a bug, not bad input
        skip += -size % BLOCK
        if pos + skip <= len(src._buf):
            src._pos = pos + skip  # feed()'s first case, inlined
        else:
            src.feed(skip, None)

    if pax or gnu_name is not None or gnu_link is not None:
        raise CorruptLayer("tar stream ends after an extended header", path=name)


def read_layer(
    stream: BinaryIO,
    *,
    layer: str,
    limits: Limits,
    on_bytes: Callable[[int], None] | None = None,
    hash_contents: bool = True,
    capture: Callable[[str], bool] | None = None,
) -> ParsedLayer:
    """Read one uncompressed layer tar stream to the end.

    `layer` names the layer in errors. `on_bytes(n)` is called as data arrives (progress,
    cancellation, global byte budget); it may raise to stop the read. `capture(path)` is
    asked for each regular file (normalised path); where it says yes the file's bytes are
    kept in `captured`, within the max_capture_* limits (a file past them is skipped with
    a warning, never an error: the figures do not depend on it).
    """
    src = TarSource(
        stream,
        limit=limits.max_layer_bytes,
        limit_name="max_layer_bytes",
        on_bytes=on_bytes,
        name=layer,
    )
    try:
        table, tally = _parse_layer(
            src, layer=layer, limits=limits, hash_contents=hash_contents, capture=capture
        )
        src.drain()
        return ParsedLayer(
            table, src.digest(), src.position, src.warnings + tally.warnings(), tally.captured
        )
    finally:
        src.close()


@dataclass
class _Tally:
    """What a parse counts beside its entries: the odd names it reports once per layer
    with a count and an example, and the files it kept. Parts of a layer add theirs up."""

    absolute: int = 0
    absolute_example: str = ""
    not_utf8: int = 0
    not_utf8_example: str = ""
    captured: dict[str, bytes] = field(default_factory=dict)
    capture_skipped: int = 0
    capture_skipped_example: str = ""
    # Every file kept, replaced ones included, in bytes and in number; and whether one
    # was skipped for the whole layer's limits, not its own size (see join_parts).
    capture_total: int = 0
    capture_count: int = 0
    capture_full: bool = False

    def warnings(self) -> list[str]:
        out = []
        if self.absolute:
            out.append(
                f"{self.absolute} entry name(s) are absolute, e.g. "
                f"{self.absolute_example[:80]!r}: read relative to the layer root"
            )
        if self.not_utf8:
            example = self.not_utf8_example[:80].encode("utf-8", "surrogateescape")
            out.append(
                f"{self.not_utf8} entry name(s) or link target(s) are not valid UTF-8, e.g. "
                f"{example!r}: kept byte for byte, shown with escapes"
            )
        if self.capture_skipped:
            out.append(
                f"{self.capture_skipped} package database file(s) not read, e.g. "
                f"{self.capture_skipped_example[:80]!r}: past max_capture_file_bytes, "
                "max_capture_bytes or max_capture_files (raise with --limit)"
            )
        return out


def _too_many_entries(max_entries: int, layer: str) -> LimitExceeded:
    return LimitExceeded(
        f"layer has more than {max_entries} entries", limit="max_entries", path=layer
    )


def _parse_layer(
    src: TarSource,
    *,
    layer: str,
    limits: Limits,
    hash_contents: bool,
    capture: Callable[[str], bool] | None,
    stop: int | None = None,
    table: EntryTable | None = None,
    at_start: bool = True,
) -> tuple[EntryTable, _Tally]:
    table = EntryTable() if table is None else table
    add = table.adder()
    entries = 0
    max_entries = limits.max_entries
    depth = limits.max_path_depth
    tally = _Tally()
    # Odd but readable names: counted here (locals: this loop runs once per member).
    absolute = not_utf8 = 0
    absolute_example = not_utf8_example = ""
    captured = tally.captured
    captured_bytes = 0
    capture_skipped = 0
    capture_skipped_example = ""

    # the enum's members, looked up once (80 ns each time on the enum)
    file_kind, dir_kind, link_kind, symlink_kind = Kind.FILE, Kind.DIR, Kind.HARDLINK, Kind.SYMLINK
    members = _member_fields(src, name=layer, limits=limits, stop=stop, at_start=at_start)
    for (
        name, typeflag, stored_size, real_size, mode, uid, gid, mtime, linkname, _data_offset,
        header_offset, _xattrs, _sparse,
    ) in members:  # fmt: skip
        kind = _TYPE_KIND.get(typeflag)
        if kind is None:
            if typeflag == b"S":
                kind = Kind.FILE
            elif typeflag in (b"V", b"M", b"N"):
                # volume labels / multi-volume continuations: not filesystem content
                src.warn_once(typeflag, f"tar member type {typeflag!r} skipped: {name[:80]}")
                continue
            else:
                src.warn_once(
                    typeflag, f"unknown tar member type {typeflag!r} read as a file: {name[:80]}"
                )
                kind = Kind.FILE
        if not (name.isascii() and linkname.isascii()):
            bad = [t for t in (name, linkname) if not _is_utf8(t)]
            if bad:
                not_utf8 += 1
                not_utf8_example = not_utf8_example or bad[0]
        if kind == file_kind and typeflag in (b"0", b"\0") and name.endswith("/"):
            kind = dir_kind  # v7 tars mark directories only by the trailing slash

        # normalize_name's usual case first: a call less for most of a layer's names
        path = _clean_name(name, depth) or normalize_name(name, depth_limit=depth, layer=layer)
        if name.startswith("/") and path != "/":  # kaniko's "/" root entry is not odd
            absolute += 1
            absolute_example = absolute_example or name
        if path == "/":
            if kind != dir_kind:
                raise HostileArchive(f"a non-directory entry names the root: {name!r}", path=layer)
            continue  # the "./" root entry

        # Only regular files have content; hardlinks carry size 0 (stored once, at the target).
        size = real_size if kind == file_kind else 0
        parent, base = path.rsplit("/", 1)
        parent = parent or "/"
        link: str | None = None
        digest: bytes | None = None
        raw_name: str | None = None
        if base.startswith(WHITEOUT_PREFIX):
            raw_name = name
            size = 0
            if base == OPAQUE_NAME:
                kind, path = Kind.OPAQUE, parent
            elif base.startswith(META_PREFIX):
                kind = Kind.META
            else:
                target = base[len(WHITEOUT_PREFIX) :]
                if target in ("", ".", ".."):
                    raise HostileArchive(f"whiteout names no file: {name[:200]!r}", path=layer)
                kind = Kind.WHITEOUT
                path = parent.rstrip("/") + "/" + target
        elif parent == "/" and base in ESTARGZ_META:
            kind = Kind.META
            raw_name = name
        elif kind == link_kind:
            if not linkname:
                raise CorruptLayer(f"hardlink without a target: {name[:200]!r}", path=layer)
            link = normalize_name(linkname, depth_limit=depth, layer=layer, what="hardlink target")
        elif kind == symlink_kind:
            link = linkname
            if "\0" in link:
                raise HostileArchive(
                    f"symlink target contains NUL: {name[:200]!r} -> {link[:200]!r}", path=layer
                )

        keep = (
            capture is not None
            and kind == file_kind
            and raw_name is None
            and stored_size == real_size  # sparse data is not the file's bytes
            and capture(path)
        )
        if keep and (
            stored_size > limits.max_capture_file_bytes
            or captured_bytes + stored_size > limits.max_capture_bytes
            or len(captured) >= limits.max_capture_files
        ):
            keep = False
            capture_skipped += 1
            capture_skipped_example = capture_skipped_example or path
            if stored_size <= limits.max_capture_file_bytes:
                tally.capture_full = True
        if keep:
            tally.capture_total += stored_size
            tally.capture_count += 1
            data = src.read_exact(stored_size) if stored_size else b""
            if data is None:
                raise CorruptLayer("truncated tar stream (member data cut short)", path=layer)
            captured_bytes += stored_size - len(captured.get(path, b""))
            captured[path] = data
            digest = content_digest(data)
        elif kind == file_kind and hash_contents:
            stored = stored_size
            if stored > _SMALL_FILE:
                h = content_hash()
                src.feed(stored, h.update)
                digest = h.digest()
            elif stored:
                buf, pos = src._buf, src._pos
                if pos + stored <= len(buf):  # read_exact's usual case, inlined
                    data = buf[pos : pos + stored]
                    src._pos = pos + stored
                else:
                    data = src.read_exact(stored)
                if data is None:
                    raise CorruptLayer("truncated tar stream (member data cut short)", path=layer)
                digest = content_digest(data)
            else:
                digest = _EMPTY_DIGEST

        add(path, kind, size, mode, uid, gid, mtime, header_offset, link, digest,
            raw_name)  # fmt: skip
        entries += 1
        if entries > max_entries:
            raise _too_many_entries(max_entries, layer)

    tally.absolute, tally.absolute_example = absolute, absolute_example
    tally.not_utf8, tally.not_utf8_example = not_utf8, not_utf8_example
    tally.capture_skipped, tally.capture_skipped_example = capture_skipped, capture_skipped_example
    return table, tally


# -- parts of a layer, read side by side ----------------------------------------------------
#
# A tar is a chain: where a member's header lies follows from the sizes before it. Yet a
# part of an uncompressed layer can be read on its own from a header found by its look (the
# ustar magic and a checksum that adds up), as long as that look is checked afterwards: a
# part ends where the next part's header is, so each boundary is found twice, once by the
# part before (by walking the chain) and once by the part after (by its look). Where the
# two agree the parts join into the very layer one reader would have parsed; where they do
# not (a file holding a tar of its own, a header that is not ustar) that window is read
# again from the header the part before reached (join_parts, reread).


@dataclass(frozen=True)
class Window:
    """A part of a layer: the members whose own header starts in [start, stop) (stop None:
    to the end), read by one of `of` parts."""

    start: int
    stop: int | None
    of: int


@dataclass
class LayerPart:
    """What one part of an uncompressed layer tar held (read_part)."""

    window: Window
    table: EntryTable
    tally: _Tally
    warnings: list[str]
    warning_keys: list[object]
    start: int | None  # where its first header is; None: no header before its stop
    end: int | None  # the first header it left to the next part; None: the tar ended
    diff_id: str = ""  # the first part hashes the whole stream
    stream_bytes: int = 0
    # What the part met, and after how many entries. It is the layer's error only if the
    # part starts where the part before it ended; else the part began inside some file.
    error: Exception | None = None
    entries_before_error: int = 0


def _header_adds_up(block: bytes) -> bool:
    """Whether a block's checksum field matches its bytes (as iter_members checks it)."""
    try:
        stored = _octal(block[148:156], "checksum", 0, "")
    except CorruptLayer:
        return False
    return _checksum_matches(stored, block)


def _find_header(stream: BinaryIO, start: int, stop: int | None) -> int | None:
    """The offset of the first block from `start` (a multiple of BLOCK) on that looks like a
    ustar header, if one starts before `stop`."""
    stream.seek(start)
    offset = start
    while stop is None or offset < stop:
        chunk = stream.read(_READ_CHUNK)  # a multiple of BLOCK, but at the end
        i = chunk.find(b"ustar", 257)
        while i != -1:
            block = i - 257
            if block % BLOCK == 0 and _header_adds_up(chunk[block : block + BLOCK]):
                found = offset + block
                if stop is not None and found >= stop:
                    return None
                return _chain_start(stream, found)
            i = chunk.find(b"ustar", i + 1)
        if len(chunk) < _READ_CHUNK:
            return None
        offset += len(chunk)
    return None


_EXTENDED = (b"x", b"L", b"K")  # headers that belong to the member after them
_LOOK_BACK = 16  # blocks: the pax records and long names of almost every member


def _chain_start(stream: BinaryIO, offset: int) -> int:
    """Where the member whose header is at `offset` starts: at the pax or GNU long-name
    headers right before it, if any (as iter_members' member_start)."""
    while offset >= BLOCK:
        back = min(_LOOK_BACK, offset // BLOCK)
        stream.seek(offset - back * BLOCK)
        before = stream.read(back * BLOCK)
        for blocks in range(1, back + 1):  # the extended header `blocks` blocks back
            header = before[len(before) - blocks * BLOCK :][:BLOCK]
            if (
                header[156:157] in _EXTENDED
                and header[257:262] == b"ustar"
                and _header_adds_up(header)
                and _data_blocks(header) == blocks - 1
            ):
                offset -= blocks * BLOCK
                break
        else:
            return offset
    return offset


def _data_blocks(header: bytes) -> int:
    """The blocks of data after a header; -1 where its size field is not a size."""
    try:
        size = _octal(header[124:136], "size", 0, "")
    except CorruptLayer:
        return -1
    return -(-size // BLOCK) if size >= 0 else -1


def read_part(
    stream: BinaryIO,
    window: Window,
    *,
    layer: str,
    limits: Limits,
    exact: bool = False,
    on_bytes: Callable[[int], None] | None = None,
    on_rest: Callable[[int], None] | None = None,
    capture: Callable[[str], bool] | None = None,
) -> LayerPart:
    """Parse the members of an uncompressed layer tar (`stream`, seekable) in `window`.

    The part from 0 reads the stream from its first header, as read_layer does, and then
    reads the rest of it for the diff_id; what it meets is raised. A part from further on
    starts at the first header it finds there (_find_header), or, `exact`, at
    window.start itself (a header the part before reached); what it meets is kept in
    `error`. It keeps at most its share of the files the capture limits allow, so that
    the parts together hold no more than one pass. `on_bytes(n)` is called as the part's
    members are read, `on_rest(n)` as the first part reads the rest. The caller cuts only
    blobs within max_layer_bytes (parallel.split): the first part would cross that limit
    reading the rest for the diff_id, ahead of what later parts met before it.
    """
    first = window.start == 0
    found = 0
    if exact:
        found = window.start
    elif not first:
        header = _find_header(stream, window.start, window.stop)
        if header is None:
            return LayerPart(window, EntryTable(), _Tally(), [], [], None, None)
        found = header
    if found:
        stream.seek(found)
    share = replace(
        limits,
        max_capture_bytes=limits.max_capture_bytes // window.of,
        max_capture_files=limits.max_capture_files // window.of,
    )
    src = TarSource(
        stream,
        limit=limits.max_layer_bytes,
        limit_name="max_layer_bytes",
        on_bytes=on_bytes,
        name=layer,
        hash_stream=first,
        base=found,
        seek_past=False,  # read through what it skips, as one pass does (errors alike)
    )
    table = EntryTable()
    try:
        try:
            table, tally = _parse_layer(
                src,
                layer=layer,
                limits=share,
                hash_contents=True,
                capture=capture,
                stop=window.stop,
                table=table,
                at_start=first,
            )
        except (CorruptLayer, HostileArchive, LimitExceeded) as exc:
            if first:
                raise
            return LayerPart(
                window, EntryTable(), _Tally(), [], [], found, None, error=exc,
                entries_before_error=len(table),
            )  # fmt: skip
        part = LayerPart(
            window, table, tally, src.warnings, src.warning_keys, found, src.stopped_at
        )
        if first:
            src._on_bytes = on_rest
            src.drain()
            part.diff_id, part.stream_bytes = src.digest(), src.position
        return part
    finally:
        src.close()


def join_parts(
    parts: list[LayerPart],
    *,
    layer: str,
    limits: Limits,
    reread: Callable[[Window], LayerPart] | None = None,
) -> ParsedLayer | None:
    """The layer its parts make, as read_layer would have parsed it in one pass.

    Where a part did not start where the one before ended (it began inside some file:
    a tar in the layer), `reread(window)` reads that window again from the right header
    (read_part, exact); without `reread` the result is None. None too where the files
    kept may differ from one pass's (past the capture limits, a pass skips files by what
    it kept before them). Errors and the entry limit are raised in stream order, as one
    pass raises them. The first part's table is extended in place.
    """
    too_many = _too_many_entries(limits.max_entries, layer)
    joined = [parts[0]]
    count = len(parts[0].table)
    rest = parts[1:]
    while True:
        end = joined[-1].end
        if end is None:
            break  # the tar ended: what follows is not read (as in one pass)
        if rest:
            part = rest.pop(0)
            stop = part.window.stop
            if part.start is None and stop is not None and end >= stop:
                continue  # no header in its window: the part before reached past it
        else:  # the parts ran out before the tar ended: read on from `end`
            tail = Window(end, None, len(parts))
            part = LayerPart(tail, EntryTable(), _Tally(), [], [], None, None)
        if part.start != end:
            if reread is None:
                return None
            part = reread(Window(end, part.window.stop, part.window.of))
        if part.error is not None:
            if count + part.entries_before_error > limits.max_entries:
                raise too_many  # one pass stops at the entry limit first
            raise part.error
        count += len(part.table)
        if count > limits.max_entries:
            raise too_many
        joined.append(part)
    if (
        any(p.tally.capture_full for p in joined)
        or sum(p.tally.capture_total for p in joined) > limits.max_capture_bytes
        or sum(p.tally.capture_count for p in joined) > limits.max_capture_files
    ):
        return None
    table = joined[0].table
    tally = _Tally()
    warnings: dict[object, str] = {}
    for p in joined:
        if p is not joined[0]:
            table.extend(p.table)
        for key, text in zip(p.warning_keys, p.warnings, strict=True):
            warnings.setdefault(key, text)
        t = p.tally
        tally.absolute += t.absolute
        tally.absolute_example = tally.absolute_example or t.absolute_example
        tally.not_utf8 += t.not_utf8
        tally.not_utf8_example = tally.not_utf8_example or t.not_utf8_example
        tally.capture_skipped += t.capture_skipped
        tally.capture_skipped_example = tally.capture_skipped_example or t.capture_skipped_example
        tally.captured.update(t.captured)
    return ParsedLayer(
        table,
        parts[0].diff_id,
        parts[0].stream_bytes,
        list(warnings.values()) + tally.warnings(),
        tally.captured,
    )
