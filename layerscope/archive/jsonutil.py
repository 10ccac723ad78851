"""Bounded JSON parsing for manifests, indexes and configs from untrusted archives."""

from __future__ import annotations

import json
import re
from typing import Any, TypeGuard

from layerscope.errors import LimitExceeded, ManifestError

DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")


def _depth(value: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in item)
    return deepest


def load_json(data: bytes, *, what: str, path: str, max_depth: int) -> Any:
    """Parse JSON bytes; errors name the archive and the member."""
    try:
        value = json.loads(data)
    except RecursionError:
        # deeper than the parser's own recursion bound, which is above any sane max_depth
        raise LimitExceeded(
            f"JSON nested deeper than {max_depth} levels",
            limit="max_json_depth",
            path=path,
            member=what,
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"not valid JSON ({exc})", path=path, member=what) from None
    if _depth(value) > max_depth:
        raise LimitExceeded(
            f"JSON nested deeper than {max_depth} levels",
            limit="max_json_depth",
            path=path,
            member=what,
        )
    return value


def valid_digest(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and DIGEST_RE.match(value) is not None


def digest_hex(value: Any, *, path: str, member: str) -> str:
    """The hex part of a sha256 digest, validated before it is used as a file name."""
    if not valid_digest(value):
        shown = value if isinstance(value, str) else type(value).__name__
        raise ManifestError(f"invalid digest {str(shown)[:100]!r}", path=path, member=member)
    return str(value)[7:]
