"""Text shown to people, by the CLI and the GUI alike: sizes, dates, shortened commands."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Archive text (a path, a link target, a ref) on one terminal line: control characters
    shown as escapes, so a name holding a newline cannot pass for another line of output."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)


def human_size(n: int | None) -> str:
    """Binary units, three significant digits: '512 KiB', '1.25 MiB', '300 B'."""
    if n is None:
        return ""
    if -1024 < n < 1024:
        return f"{n} B"  # humanize says "300 Bytes"; tables want the short unit
    value = n / 1024
    unit = 0
    while abs(value) >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    # three significant digits, but never '1.02e+03': 1000..1023 of a unit stay whole
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return f"{text} {_UNITS[unit]}"


def exact_size(n: int) -> str:
    """'524,288 bytes' for tooltips, where the rounded figure is not enough."""
    return plural(n, "byte")


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """'1 layer', '2 layers', '90,001 files'."""
    return f"{n:,} {noun if n == 1 else nouns or noun + 's'}"


def ratio_text(ratio: float | None) -> str:
    """'60.2%' for the reports; 'n/a' for None. A ratio that is not exactly 1 or 0 never
    reads as 100.0% or 0.0%: more digits until it does not ('99.97%'), so the text agrees
    with the JSON it rounds."""
    if ratio is None:
        return "n/a"
    for digits in range(1, 5):
        text = f"{ratio:.{digits}%}"
        shown = float(text[:-1])
        if not ((shown == 100 and ratio != 1) or (shown == 0 and ratio != 0)):
            break
    return text


def percent(ratio: float | None) -> str:
    """'60.2 %' for the window: the report's figure (ratio_text), and a space that does
    not break, so a wrapped caption never leaves '%' alone on a line."""
    text = ratio_text(ratio)
    return text if ratio is None else f"{text[:-1]}\u00a0%"


_SHELL_PREFIX = re.compile(r"^(?:RUN\s+)?/bin/(?:ba)?sh\s+-c\s+")
_NOP = re.compile(r"^#\(nop\)\s*")
_SPACE = re.compile(r"\s+")
_CONTINUED = re.compile(r"\\\r?\n")  # a backslash ending a line of a RUN


def short_command(created_by: str | None) -> str:
    """A history command as a person reads it: no shell wrapper, no '#(nop)', one line.

    Buildah/docker write `/bin/sh -c #(nop) ENV X=1` for metadata steps and
    `/bin/sh -c CMD` for RUN steps; BuildKit writes `RUN /bin/sh -c CMD # buildkit`.
    """
    return _SPACE.sub(" ", _CONTINUED.sub(" ", command_text(created_by))).strip()


def short_created_by(text: str | None, width: int = 60) -> str:
    """The history command as a person reads it, cut to `width` characters."""
    short = short_command(text) or "-"
    return short if len(short) <= width else short[: width - 1] + "…"


def command_text(created_by: str | None) -> str:
    """The command without its shell wrapper, as written (newlines and spacing kept)."""
    if not created_by:
        return ""
    text = created_by.strip()
    shell = _SHELL_PREFIX.match(text)
    if shell:
        text = text[shell.end() :]
        nop = _NOP.match(text)
        text = text[nop.end() :] if nop else "RUN " + text
    return text.removesuffix("# buildkit").rstrip()


CONTINUATION = "    "  # indent of the lines after the first


def command_lines(created_by: str | None) -> list[str]:
    r"""A long shell command as a person reads it: one line per step.

    Lines break after `;`, before `&&` and `||`, and where the command had a `\`
    continuation or a newline; quoted text is never broken. Runs of spaces collapse,
    except inside quotes. Continuation lines are indented by four spaces.
    """
    text = command_text(created_by)
    if not text:
        return []
    lines: list[str] = []
    current: list[str] = []
    quote = ""
    i, n = 0, len(text)

    def end_line() -> None:
        line = "".join(current).strip()
        if line in ("&&", "||"):  # `cmd && \` then the next command: keep them together
            if current[-1] != " ":
                current.append(" ")
            return
        if line:
            lines.append(line)
        current.clear()

    while i < n:
        c = text[i]
        if quote:
            current.append(c)
            if c == "\\" and quote == '"' and i + 1 < n:
                current.append(text[i + 1])
                i += 1
            elif c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
            current.append(c)
        elif c == "\\" and i + 1 < n and text[i + 1] in "\r\n":
            end_line()  # a continuation: the author's own line break
            i += 1
        elif c == "\\" and i + 1 < n:
            current.extend((c, text[i + 1]))
            i += 1
        elif c in "\r\n":
            end_line()
        elif c == ";" and text[i + 1 : i + 2] != ";" and (i == 0 or text[i - 1] != ";"):
            current.append(c)
            end_line()
        elif text.startswith(("&&", "||"), i):
            end_line()
            current.append(text[i : i + 2])
            i += 1
        elif c in " \t":
            if current and current[-1] != " ":
                current.append(" ")
        else:
            current.append(c)
        i += 1
    end_line()
    return [lines[0], *(CONTINUATION + line for line in lines[1:])] if lines else []


def short_digest(digest: str | None, length: int = 12) -> str:
    if not digest:
        return ""
    _algo, _, hex_part = digest.partition(":")
    return (hex_part or digest)[:length]


def when(created: str | None, *, ago: bool = True) -> str:
    """'2026-11-28 01:44:47 UTC (3 days ago)' from an RFC 3339 timestamp; as-is if odd.

    `ago=False` leaves out the relative part: a report is a record and must not change
    with the clock; the window shows it.
    """
    if not created:
        return ""
    import humanize  # here: 3 ms of imports that a JSON report does not need

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
    absolute = f"{stamp:%Y-%m-%d %H:%M:%S} UTC"
    if not ago:
        return absolute
    return f"{absolute} ({humanize.naturaltime(datetime.now(UTC) - stamp)})"
