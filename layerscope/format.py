"""Text shown to people, by the CLI and the GUI alike: sizes, dates, shortened commands."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import humanize


def human_size(n: int | None) -> str:
    """Binary units, three significant digits: '512 KiB', '1.25 MiB', '300 B'."""
    if n is None:
        return ""
    if -1024 < n < 1024:
        return f"{n} B"  # humanize says "300 Bytes"; tables want the short unit
    return str(humanize.naturalsize(n, binary=True, format="%.3g"))


def exact_size(n: int) -> str:
    """'524,288 bytes' for tooltips, where the rounded figure is not enough."""
    return f"{n:,} byte" + ("" if n == 1 else "s")


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """'1 layer', '2 layers', '90,001 files'."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"


def percent(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    return f"{ratio * 100:.1f} %"


_SHELL_PREFIX = re.compile(r"^(?:RUN\s+)?/bin/(?:ba)?sh\s+-c\s+")
_NOP = re.compile(r"^#\(nop\)\s*")
_SPACE = re.compile(r"\s+")


def short_command(created_by: str | None) -> str:
    """A history command as a person reads it: no shell wrapper, no '#(nop)', one line.

    Buildah/docker write `/bin/sh -c #(nop) ENV X=1` for metadata steps and
    `/bin/sh -c CMD` for RUN steps; BuildKit writes `RUN /bin/sh -c CMD # buildkit`.
    """
    if not created_by:
        return ""
    text = created_by.strip()
    shell = _SHELL_PREFIX.match(text)
    if shell:
        text = text[shell.end() :]
        nop = _NOP.match(text)
        text = text[nop.end() :] if nop else "RUN " + text
    text = text.removesuffix("# buildkit").strip()
    return _SPACE.sub(" ", text)


def short_digest(digest: str | None, length: int = 12) -> str:
    if not digest:
        return ""
    _algo, _, hex_part = digest.partition(":")
    return (hex_part or digest)[:length]


def when(created: str | None) -> str:
    """'2026-11-28 01:44:47 UTC (3 days ago)' from an RFC 3339 timestamp; as-is if odd."""
    if not created:
        return ""
    text = created.strip()
    try:
        # Python 3.11 parses 'Z' and up to 6 fractional digits; configs carry 9.
        trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text)
        stamp = datetime.fromisoformat(trimmed)
    except ValueError:
        return text
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    stamp = stamp.astimezone(UTC)
    ago = humanize.naturaltime(datetime.now(UTC) - stamp)
    return f"{stamp:%Y-%m-%d %H:%M:%S} UTC ({ago})"
