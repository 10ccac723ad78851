"""The errors layerscope raises for input it cannot use.

Every error names the file (and, where known, the member inside it) so that one line on
stderr or in a dialog tells the user what is wrong. Nothing here prints or exits: the CLI
and the GUI decide how to show an error.
"""

from __future__ import annotations

import re

_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")


def plain_reason(text: str) -> str:
    """An OS or network error's text as a person reads it: 'Connection refused', not
    '[Errno 111] Connection refused'."""
    return _ERRNO.sub("", text)


class LayerscopeError(Exception):
    """Base class: something about the input or the request is unusable."""

    def __init__(self, message: str, *, path: str | None = None, member: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.member = member

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross from reader processes to the loader: rebuild them field for field
        # (the keyword-only arguments defeat the default pickling of exceptions).
        return (_restore, (type(self), self.args, self.__dict__))

    def __str__(self) -> str:
        where = self.path or ""
        if self.member:
            where = f"{where}: {self.member}" if where else self.member
        return f"{where}: {self.message}" if where else self.message


class ArchiveError(LayerscopeError):
    """The archive cannot be read as an image archive."""


class NotAnImageArchive(ArchiveError):
    """The file or directory is not any image archive format layerscope knows."""


class ManifestError(ArchiveError):
    """A manifest, index or config is missing, malformed or inconsistent."""


class MissingBlob(ArchiveError):
    """A manifest names a blob (layer or config) that the archive does not hold."""


class CorruptLayer(ArchiveError):
    """A layer stream is truncated, not a tar, or does not match its digest."""


class HostileArchive(ArchiveError):
    """The archive tries something no honest tool writes: path traversal, link escapes."""


class LimitExceeded(ArchiveError):
    """A safety bound was hit (decompressed size, ratio, entries, JSON size...)."""

    def __init__(
        self,
        message: str,
        *,
        limit: str,
        path: str | None = None,
        member: str | None = None,
    ):
        hint = f" (raise it with --limit {limit}=N)"
        super().__init__(message + hint, path=path, member=member)
        self.limit = limit


class UnsupportedLayer(ArchiveError):
    """A layer that cannot be read at all, e.g. an encrypted one."""


class Cancelled(LayerscopeError):
    """The user cancelled a load."""

    def __init__(self) -> None:
        super().__init__("cancelled")


def _restore(
    cls: type[LayerscopeError], args: tuple[object, ...], state: dict[str, object]
) -> LayerscopeError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error
