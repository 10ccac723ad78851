"""What a file holds, as a person wants to see it: text with its encoding and syntax, a hex
dump, or a picture; and the text diff of two versions. No Qt: the window's viewer draws what
this module decides, and the same decisions serve the command line.

Files are read a page at a time (`PAGE` bytes); nothing here needs a whole file.
"""

from __future__ import annotations

import codecs
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pygments.lexer import Lexer
    from pygments.token import _TokenType

# charset_normalizer and pygments' lexers are imported where they are used: 20 ms of
# imports the window would otherwise pay at start-up, while its load reads.

PAGE = 256 * 1024  # bytes of a file shown at once (as text or as a hex dump)
DIFF_LIMIT = 4 * 1024 * 1024  # larger versions are compared on their first DIFF_LIMIT bytes
HIGHLIGHT_LIMIT = 512 * 1024  # longer text is shown without syntax colours

TEXT = "text"
BINARY = "binary"
IMAGE = "image"

_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "ICO"),
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def image_format(head: bytes, name: str = "") -> str | None:
    """The picture format of a file from its first bytes (SVG from its text), else None."""
    for magic, fmt in _IMAGE_MAGIC:
        if head.startswith(magic):
            if fmt == "BMP" and len(head) >= 14 and head[6:10] != b"\0\0\0\0":
                continue  # "BM" text, not a bitmap header (reserved bytes are zero)
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if name.lower().endswith(".svg") and b"<svg" in head[:4096]:
        return "SVG"
    return None


@dataclass
class Decoded:
    text: str
    encoding: str  # what the bytes were read as ("utf-8", "utf-16", "windows-1252"...)
    sure: bool  # False when the encoding is a guess


def looks_binary(head: bytes) -> bool:
    """NUL bytes outside a UTF-16/32 BOM, or mostly control bytes: not text."""
    if not head:
        return False
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\0" in head:
        return True
    controls = sum(1 for b in head[:8192] if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls * 20 > min(len(head), 8192)


WESTERN = "cp1252"  # Latin-1 as most files labelled so are written (as browsers read it)


def decode(data: bytes, *, complete: bool = True) -> Decoded | None:
    """Text from bytes, with the encoding it was read as; None when it is not text.

    `complete=False` for a page cut from a longer file: a character cut at the end is
    left out rather than taken as a sign of another encoding.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return Decoded(data.decode(name, errors="replace"), name, True)
    if looks_binary(data):
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        return Decoded(decoder.decode(data, final=complete), "utf-8", True)
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return Decoded(mostly, "utf-8", False)
    import charset_normalizer

    matches = charset_normalizer.from_bytes(data[:65536])
    best = matches.best()
    if best is None:
        return None
    encoding = best.encoding
    # On a few bytes many code pages fit equally well and the first by name wins (cp1006,
    # Urdu, for Latin-1 "café"): among the equals, the Western one is the likeliest.
    tied = (m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence))
    if any(WESTERN in m.could_be_from_charset for m in tied):
        encoding = WESTERN
    return Decoded(data.decode(encoding, errors="replace"), encoding, False)


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 text with a few bad bytes (a file cut inside its last character, one Latin-1
    byte in a UTF-8 file), with the bad bytes replaced: guessing another encoding for all
    of it turns every other non-ASCII character into mojibake. None when the bytes hold
    far fewer good UTF-8 characters than bad bytes (another encoding, or binary)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    good = sum(1 for c in text if c > "\x7f") - text.count("\ufffd")
    return text if good >= 10 * bad else None


def hex_lines(data: bytes, offset: int = 0, width: int = 16) -> Iterator[str]:
    """`00000010  68 65 6c 6c 6f 0a ...  |hello.|` lines, offsets counted from `offset`."""
    for i in range(0, len(data), width):
        row = data[i : i + width]
        hexes = " ".join(f"{b:02x}" for b in row)
        half = width // 2 * 3
        if len(row) > width // 2:
            hexes = hexes[:half] + " " + hexes[half:]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        yield f"{offset + i:08x}  {hexes:<{width * 3}}  |{text}|"


def lexer_for(name: str, head: str) -> Lexer:
    """Pygments' lexer for a file name (and its first lines for `#!` scripts), else plain."""
    from pygments.lexers import get_lexer_for_filename, guess_lexer
    from pygments.lexers.special import TextLexer
    from pygments.util import ClassNotFound

    base = name.rsplit("/", 1)[-1]
    try:
        return get_lexer_for_filename(base, stripnl=False, ensurenl=False)
    except ClassNotFound:
        pass
    if head.startswith("#!"):  # a script without an extension: pygments reads the #! line
        try:
            return guess_lexer(head[:4096], stripnl=False, ensurenl=False)
        except ClassNotFound:
            pass
    return TextLexer(stripnl=False, ensurenl=False)


def token_spans(text: str, lexer: Lexer) -> Iterator[tuple[int, int, _TokenType]]:
    """(start, length, token type) over `text`, for a highlighter to colour."""
    from pygments.lexers.special import TextLexer

    if isinstance(lexer, TextLexer) or len(text) > HIGHLIGHT_LIMIT:
        return
    pos = 0
    for token, value in lexer.get_tokens(text):
        if value:
            yield pos, len(value), token
            pos += len(value)


def text_diff(
    old: bytes, new: bytes, old_name: str, new_name: str, context: int = 3
) -> list[str] | None:
    """A unified diff of two versions' text, or None when either is not text."""
    a, b = decode(old[:DIFF_LIMIT]), decode(new[:DIFF_LIMIT])
    if a is None or b is None:
        return None
    return list(
        difflib.unified_diff(
            a.text.splitlines(),
            b.text.splitlines(),
            old_name,
            new_name,
            n=context,
            lineterm="",
        )
    )
