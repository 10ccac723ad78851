"""Reading values of untrusted documents (manifests, indexes, configs, headers, databases).

Any JSON type can stand anywhere: read fields through these, so a list where a string
belongs is "absent" rather than a TypeError deep inside a reader.
"""

from __future__ import annotations

from typing import Any


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def ascii_int(text: str | None) -> int | None:
    """A whole number written in ASCII digits, or None. str.isdigit() is true for '²'
    (which int() refuses) and '١' (which int() reads as 1): neither is a number here."""
    return int(text) if text and text.isascii() and text.isdigit() else None
