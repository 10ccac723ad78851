"""What a package database says: packages with versions, sizes and files; versions compared.

Database files come from untrusted archives: every parser takes bytes, never raises on bad
content (it reads what it can and says what it could not), and bounds what it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from layerscope.jsonvalues import ascii_int

# Package kinds, as the JSON names them
DEB = "deb"
APK = "apk"
RPM = "rpm"
PYTHON = "python"
NPM = "npm"


@dataclass(frozen=True)
class Package:
    """One installed package, as its database records it."""

    kind: str  # deb | apk | rpm | python | npm
    name: str
    version: str
    arch: str | None = None
    installed_bytes: int | None = None  # as the database records it; None when it does not
    location: str = ""  # the database (dpkg, apk, rpm) or install directory (python, npm)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """One install of one package: the same name in two places is two installs."""
        return (self.kind, self.location, self.name, self.arch or "")

    @property
    def label(self) -> str:
        """`deb:curl`, `python:requests`: how the owner column and the JSON name it."""
        return f"{self.kind}:{self.name}"


@dataclass
class Parsed:
    """One database file's packages, the files each owns, and what could not be read."""

    packages: list[Package] = field(default_factory=list)
    files: dict[tuple[str, str, str, str], list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def deb822(text: str) -> list[dict[str, str]]:
    """Stanzas of `Key: value` lines separated by blank lines; continuation lines start with
    a space or a tab (dpkg's status, distroless' status.d). Keys are case-insensitive."""
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key: str | None = None
    for line in text.splitlines():
        if not line.strip():
            if current:
                stanzas.append(current)
            current, key = {}, None
        elif line[0] in " \t":
            if key is not None:
                current[key] += "\n" + line[1:]
        else:
            name, sep, value = line.partition(":")
            if sep:
                key = name.strip().lower()
                current[key] = value.strip()
            else:
                key = None
    if current:
        stanzas.append(current)
    return stanzas


def to_int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


# -- versions -----------------------------------------------------------------------------
# dpkg's ordering (deb-version(7)): [epoch:]upstream[-revision]; within each part runs of
# non-digits compare with letters before non-letters and `~` before everything (even the
# end), then runs of digits numerically. rpm's and apk's orderings agree with it on
# ordinary versions (1.2.3-r4, 7.88.1-10+deb12u5, 2.28-1.el9).

_ASCII_DIGITS = frozenset("0123456789")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _order(ch: str) -> int:
    if ch == "~":
        return -1
    if ch in _ASCII_LETTERS:
        return ord(ch)
    return ord(ch) + 256


def _compare_part(a: str, b: str) -> int:
    digit = _ASCII_DIGITS.__contains__
    i = j = 0
    while i < len(a) or j < len(b):
        # a run of non-digits (dpkg's verrevcmp: letters < non-letters, ~ < the end)
        while (i < len(a) and not digit(a[i])) or (j < len(b) and not digit(b[j])):
            ca = _order(a[i]) if i < len(a) and not digit(a[i]) else 0
            cb = _order(b[j]) if j < len(b) and not digit(b[j]) else 0
            if ca != cb:
                return -1 if ca < cb else 1
            i += 1
            j += 1
        # a run of digits, as a number
        si = i
        while i < len(a) and digit(a[i]):
            i += 1
        sj = j
        while j < len(b) and digit(b[j]):
            j += 1
        na = int(a[si:i]) if i > si else 0
        nb = int(b[sj:j]) if j > sj else 0
        if na != nb:
            return -1 if na < nb else 1
    return 0


def _split(version: str) -> tuple[int, str, str]:
    epoch = 0
    head, sep, rest = version.partition(":")
    epoch_digits = ascii_int(head) if sep else None
    if epoch_digits is not None:
        epoch, version = epoch_digits, rest
    upstream, dash, revision = version.rpartition("-")
    if not dash:
        upstream, revision = version, ""
    return epoch, upstream, revision


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as dpkg orders the two versions."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)
