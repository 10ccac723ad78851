"""Reading fields of untrusted JSON documents (manifests, indexes, configs).

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
