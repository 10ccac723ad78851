"""What the viewer decides from bytes: text and its encoding, binary, pictures, diffs."""

from __future__ import annotations

import pytest
from pygments.token import Keyword

from layerscope.preview import (
    decode,
    hex_lines,
    image_format,
    lexer_for,
    looks_binary,
    text_diff,
    token_spans,
)


def test_utf8_and_a_cut_character_at_a_page_end():
    text = "héllo wörld\n" * 10
    data = text.encode()
    assert decode(data).encoding == "utf-8"
    cut = data[:-2]  # "ö\n" cut inside the "ö"? no: cut the newline and half of nothing
    assert decode(cut, complete=False).text == text[:-2]
    half = "é".encode()[:1]
    assert decode(b"abc" + half, complete=False).text == "abc"


def test_other_encodings_are_detected():
    latin = ("Dès Noël où un zéphyr haï me vêt de glaçons würmiens " * 20).encode("latin-1")
    d = decode(latin)
    assert d is not None
    assert not d.sure
    assert "Noël" in d.text
    utf16 = "hello\n".encode("utf-16")
    assert decode(utf16).encoding == "utf-16"
    assert decode(utf16).text == "hello\n"


def test_binary_is_not_text():
    assert looks_binary(b"\x7fELF\x02\x01\x01\0\0\0")
    assert decode(b"\x7fELF\x02\x01\x01\0\0\0") is None
    assert not looks_binary(b"plain\ttext\r\n")


def test_hex_dump():
    lines = list(hex_lines(b"hello\nworld\x00\x01abcdefgh", offset=0x100))
    assert (
        lines[0] == "00000100  68 65 6c 6c 6f 0a 77 6f  72 6c 64 00 01 61 62 63  |hello.world..abc|"
    )
    assert lines[1].startswith("00000110  64 65 66 67 68")
    assert lines[1].endswith("|defgh|")


def test_pictures_by_magic():
    assert image_format(b"\x89PNG\r\n\x1a\n....") == "PNG"
    assert image_format(b"\xff\xd8\xff\xe0") == "JPEG"
    assert image_format(b'<?xml version="1.0"?><svg xmlns=', "logo.svg") == "SVG"
    assert image_format(b"BM is not a bitmap here", "x") is None
    assert image_format(b"plain") is None


def test_syntax_by_name_and_shebang():
    assert lexer_for("/usr/lib/x.py", "").name == "Python"
    assert lexer_for("/etc/nginx/nginx.conf", "").name.lower().startswith("nginx")
    assert lexer_for("/usr/local/bin/run", "#!/bin/sh\necho hi\n").name.lower() in (
        "bash",
        "shell",
        "sh",
    )
    spans = list(token_spans("def f():\n    return 1\n", lexer_for("a.py", "")))
    assert spans[0][:2] == (0, 3)
    assert spans[0][2] in Keyword
    assert list(token_spans("anything", lexer_for("README", "anything"))) == []


def test_text_diff():
    diff = text_diff(b"a\nb\nc\n", b"a\nB\nc\n", "/x (layer 1)", "/x (layer 2)")
    assert diff[:2] == ["--- /x (layer 1)", "+++ /x (layer 2)"]
    assert "-b" in diff
    assert "+B" in diff
    assert text_diff(b"\0\1\2", b"text", "a", "b") is None


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("café crème\n", "latin-1"),
        ("Grüße aus München\n", "latin-1"),
        ("naïve “quotes” – déjà vu\n", "cp1252"),
        ("Привет мир, как дела?\n", "cp1251"),
        ("Ελληνικά κείμενο\n", "iso8859-7"),
    ],  # fmt: skip
)
def test_a_short_non_utf8_file_reads_as_the_likeliest_code_page(text: str, encoding: str) -> None:
    # "café crème" in Latin-1 read as cp1006 (Urdu): "caf⅃ cr⅃me". charset_normalizer finds
    # many code pages equally good on a few bytes and picks the first by name.
    d = decode(text.encode(encoding))
    assert d is not None
    assert not d.sure
    assert d.text == text


def test_utf8_with_a_few_bad_bytes_stays_utf8():
    # One Latin-1 byte in a UTF-8 file, or a file cut inside its last character: the rest
    # is still read as UTF-8 (no other encoding is guessed for the whole file).
    spanish = ("nombre = José\nciudad = Medellín\n" * 20).encode() + b"pa\xeds = Colombia\n"
    d = decode(spanish)
    assert d.encoding == "utf-8"
    assert not d.sure
    assert d.text.startswith("nombre = José\n")
    assert d.text.endswith("pa\ufffds = Colombia\n")
    cut = ("é" * 1000).encode()[:-1]
    assert decode(cut).text == "é" * 999 + "\ufffd"
    # A Latin-1 file holds no good UTF-8: still detected as what it is.
    assert "Noël" in decode(("Dès Noël où un zéphyr " * 20).encode("latin-1")).text
