"""Writing files out of an untrusted image into a directory the user chose, safely.

Nothing is written outside the destination, whatever the archive says:

- every operation goes through directory file descriptors opened with O_NOFOLLOW, so no
  symlink is ever followed — neither one already in the destination nor one just written;
- names are single path components (no '', '.', '..', '/', NUL), checked again here even
  though the model normalises them;
- symlinks are written as symlinks with their targets as they are (an absolute target
  points into the host when *someone else* follows it later, so they are counted and named
  in the summary), never followed while extracting;
- hardlinks link only to files this extraction wrote;
- device nodes and FIFOs are not created (listed as skipped);
- modes lose setuid, setgid, sticky and group/other write bits, as Python's tarfile
  'data' filter does; the owner can always read and write; ownership is not applied;
- a file is written to a temporary name and renamed into place, so a failure leaves no
  half-written file; nothing existing is replaced unless `force` is given, and a directory
  is never replaced by anything.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

from layerscope.errors import LayerscopeError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class ExtractError(LayerscopeError):
    """The extraction cannot go on (a conflict, a refused name, a write error)."""


@dataclass
class WriteSummary:
    files: int = 0
    bytes: int = 0
    directories: int = 0
    symlinks: int = 0
    hardlinks: int = 0
    skipped: list[str] = field(default_factory=list)  # "path: why"
    outward_links: list[str] = field(default_factory=list)  # symlinks pointing out of dest


def check_component(name: str, where: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ExtractError(f"refusing an unsafe name {name!r} in {where!r}")


def file_mode(mode: int) -> int:
    """tarfile's data filter: no high bits, no group/other write, owner read+write."""
    mode &= 0o755
    if not mode & 0o100:
        mode &= ~0o111
    return mode | 0o600


def dir_mode(mode: int) -> int:
    return (mode & 0o755) | 0o700


def _split(rel: str) -> list[str]:
    parts = [p for p in rel.strip("/").split("/") if p]
    for p in parts:
        check_component(p, rel)
    return parts


class SafeWriter:
    """Creates entries below `dest`, relative paths given as '/a/b' or 'a/b'."""

    def __init__(self, dest: str, *, force: bool = False):
        os.makedirs(dest, exist_ok=True)
        self.dest = dest
        self.force = force
        self.summary = WriteSummary()
        self._root = os.open(dest, _DIR_FLAGS & ~os.O_NOFOLLOW)  # the user's choice may be a link
        self._dirs: dict[tuple[str, ...], int] = {(): self._root}
        self._dir_modes: list[tuple[tuple[str, ...], int, int | None]] = []
        self._created: set[tuple[str, ...]] = set()  # directories this writer made
        self._written: dict[int, tuple[tuple[str, ...], str]] = {}  # content id -> where
        self._links: dict[tuple[str, ...], tuple[str, str]] = {}  # symlink -> (rel, target)
        self._outward: list[tuple[str, ...]] = []  # the symlinks leading out, once finished

    # -- context management --------------------------------------------------------------

    def __enter__(self) -> SafeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for fd in self._dirs.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self._dirs.clear()

    # -- checks before writing -----------------------------------------------------------

    def conflicts(self, paths: Iterable[tuple[str, bool]]) -> list[str]:
        """Which of (path, is_dir) would replace something that exists and may not be.

        Without force: anything existing, except a directory where a directory goes. With
        force: still a directory where a non-directory goes. The destination is walked a
        name at a time without following symlinks, as the writing does: a file or symlink
        where a directory goes is replaced with force (as the writer does), named without.
        """
        out: list[str] = []
        dest = os.path.realpath(self.dest)
        for rel, is_dir in paths:
            parts = _split(rel)
            where = dest
            for depth, name in enumerate(parts, 1):
                where = os.path.join(where, name)
                try:
                    st = os.lstat(where)
                except FileNotFoundError:
                    break  # nothing here, nor below
                last = depth == len(parts)
                if stat.S_ISDIR(st.st_mode):
                    if last and not is_dir:
                        out.append(f"{rel}: a directory is in the way")
                    continue
                if not self.force:
                    what = rel if last else "/" + "/".join(parts[:depth])
                    out.append(f"{what}: exists (use --force to replace it)")
                break
        return list(dict.fromkeys(out))

    # -- directories ---------------------------------------------------------------------

    def _dir_fd(self, parts: tuple[str, ...]) -> int:
        """An fd for the directory `parts`, creating missing directories (never following)."""
        fd = self._dirs.get(parts)
        if fd is not None:
            return fd
        parent = self._dir_fd(parts[:-1])
        name = parts[-1]
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            os.mkdir(name, 0o700, dir_fd=parent)
            self.summary.directories += 1
            self._created.add(parts)
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise ExtractError(f"{'/'.join(parts)}: {exc.strerror}") from None
            # A symlink (ELOOP) or a file (ENOTDIR) sits where a directory goes.
            if not self.force or not self._replaceable(parent, name):
                raise ExtractError(
                    f"{'/'.join(parts)}: not a directory in the destination ({exc.strerror})"
                ) from None
            os.unlink(name, dir_fd=parent)
            os.mkdir(name, 0o700, dir_fd=parent)
            self.summary.directories += 1
            self._created.add(parts)
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        self._dirs[parts] = fd
        return fd

    def directory(self, rel: str, mode: int = 0o755, mtime: int | None = None) -> None:
        parts = tuple(_split(rel))
        if parts:
            self._dir_fd(parts)
            self._dir_modes.append((parts, dir_mode(mode), mtime))

    def finish(self) -> None:
        """Give the directories this writer made their modes and times, deepest first (after
        their contents were written); directories that existed before keep theirs. Name the
        symlinks that lead out of the destination, through others written here or not."""
        targets = {parts: target for parts, (_rel, target) in self._links.items()}
        self._outward = [p for p, target in targets.items() if _leads_out(p[:-1], target, targets)]
        self.summary.outward_links = [
            f"{self._links[p][0]} -> {self._links[p][1]}" for p in self._outward
        ]
        for parts, mode, mtime in sorted(self._dir_modes, key=lambda d: -len(d[0])):
            fd = self._dirs.get(parts)
            if fd is None or parts not in self._created:
                continue
            os.fchmod(fd, mode)
            if mtime is not None:
                os.utime(fd, ns=(mtime * 10**9, mtime * 10**9))

    def remove_outward_links(self) -> int:
        """Delete the symlinks that lead out of the destination (after finish): for a copy
        handed to another program that follows links, such as a drop target; how many."""
        for parts in self._outward:
            os.unlink(parts[-1], dir_fd=self._dirs[parts[:-1]])
        removed, self._outward = len(self._outward), []
        return removed

    # -- files and links -----------------------------------------------------------------

    def _place(self, rel: str) -> tuple[int, str, tuple[str, ...]]:
        parts = _split(rel)
        if not parts:
            raise ExtractError("refusing to write over the destination itself")
        parent = tuple(parts[:-1])
        return self._dir_fd(parent), parts[-1], parent

    def _replaceable(self, dir_fd: int, name: str) -> bool:
        """True when nothing is at name, or force is on and it is not a directory."""
        try:
            st = os.lstat(name, dir_fd=dir_fd)
        except FileNotFoundError:
            return True
        return self.force and not stat.S_ISDIR(st.st_mode)

    def _claim(self, dir_fd: int, name: str, rel: str) -> None:
        if not self._replaceable(dir_fd, name):
            raise ExtractError(f"{rel}: exists in the destination (use --force to replace it)")

    def file(
        self,
        rel: str,
        chunks: Iterable[bytes],
        *,
        mode: int = 0o644,
        mtime: int | None = None,
        content_id: int | None = None,
    ) -> None:
        """Write a regular file from `chunks`, atomically."""
        fd_dir, name, parent = self._place(rel)
        self._claim(fd_dir, name, rel)
        fd, tmp = open_part(name, 0o600, dir_fd=fd_dir)
        size = 0
        try:
            with os.fdopen(fd, "wb", closefd=True) as out:
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
                out.flush()  # before the time is set: a later flush would move it
                os.fchmod(out.fileno(), file_mode(mode))
                if mtime is not None:
                    os.utime(out.fileno(), ns=(mtime * 10**9, mtime * 10**9))
            os.rename(tmp, name, src_dir_fd=fd_dir, dst_dir_fd=fd_dir)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=fd_dir)
            except OSError:
                pass
            raise
        self.summary.files += 1
        self.summary.bytes += size
        if content_id is not None:
            self._written.setdefault(content_id, (parent, name))

    def written(self, content_id: int) -> bool:
        return content_id in self._written

    def hardlink(self, rel: str, content_id: int) -> None:
        """Link `rel` to the file this extraction wrote for `content_id`."""
        where = self._written.get(content_id)
        if where is None:
            raise ExtractError(f"{rel}: hardlink to a file this extraction did not write")
        src_parent, src_name = where
        fd_dir, name, _parent = self._place(rel)
        self._claim(fd_dir, name, rel)
        self._unlink_if_there(fd_dir, name)
        os.link(
            src_name,
            name,
            src_dir_fd=self._dirs[src_parent],
            dst_dir_fd=fd_dir,
            follow_symlinks=False,
        )
        self.summary.hardlinks += 1

    def symlink(self, rel: str, target: str) -> None:
        if "\0" in target:
            raise ExtractError(f"{rel}: symlink target contains NUL")
        fd_dir, name, parent = self._place(rel)
        self._claim(fd_dir, name, rel)
        self._unlink_if_there(fd_dir, name)
        os.symlink(target, name, dir_fd=fd_dir)
        self.summary.symlinks += 1
        self._links[(*parent, name)] = (rel, target)

    def skip(self, rel: str, why: str) -> None:
        self.summary.skipped.append(f"{rel}: {why}")

    @staticmethod
    def _unlink_if_there(dir_fd: int, name: str) -> None:
        try:
            os.unlink(name, dir_fd=dir_fd)
        except FileNotFoundError:
            pass


def open_part(name: str, mode: int, *, dir_fd: int | None = None) -> tuple[int, str]:
    """A new file to write `name` under until it is complete: an fd and its name (beside
    `name`, in `dir_fd` or the directory `name` gives). The name is new, made with O_EXCL,
    so no file already there (the image's own `.x.layerscope-part`, one of the user's, a
    symlink) is removed or written through. Cut by bytes: any name the filesystem takes
    (255 bytes, as 85 three-byte characters) leaves room for the suffix."""
    folder, base = os.path.split(name)
    head = "." + os.fsdecode(os.fsencode(base)[:200])
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for _attempt in range(100):
        part = os.path.join(folder, f"{head}.{secrets.token_hex(4)}.layerscope-part")
        try:
            return os.open(part, flags, mode, dir_fd=dir_fd), part
        except FileExistsError:
            continue
    raise ExtractError(f"{name}: no free temporary name beside it")


def _leads_out(parent: tuple[str, ...], target: str, links: dict[tuple[str, ...], str]) -> bool:
    """True when a symlink in `parent` with this target, followed as the kernel would
    (through the other symlinks in `links`), leaves the destination: an absolute target,
    '..' past the top, or a chain such as `a -> b/..` with `b -> /etc/ssh`."""
    where = list(parent)
    pending = target.split("/")
    if target.startswith("/"):
        return True
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not where:
                return True
            where.pop()
            continue
        where.append(part)
        link = links.get(tuple(where))
        if link is not None:
            hops += 1
            if hops > 40:  # a loop: it leads nowhere (ELOOP)
                return False
            where.pop()
            if link.startswith("/"):
                return True
            pending = link.split("/") + pending
    return False
