"""glibc malloc's thresholds, set by the processes whose allocations call for it.

(Not gui/heap.py, which keeps Python's cyclic garbage collector off the window's loads.)

glibc maps a block of at least the mmap threshold on its own (handed back to the system
when freed) and hands a free heap top back past the trim threshold; by default it slides
both up as big blocks are freed. Setting either stops the sliding of both. The loader
(load.py) and its reader processes (archive/parallel.py) each say why they set what.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

# glibc's malloc hands a freed block of at least this size straight back to the system.
MMAP_THRESHOLD = 4 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)


def _glibc(function: str) -> Callable[..., int] | None:
    """A function of glibc's malloc, or None where there is none (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # here: only a load needs it

    try:
        return getattr(ctypes.CDLL(None), function)  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # a libc without it (musl)
        return None


def set_thresholds(*, mmap: int, trim: int | None = None) -> bool:
    """Fix the mmap threshold (and the trim threshold when given). False where there is
    no glibc: the allocator is left as it is."""
    mallopt = _glibc("mallopt")
    if mallopt is None:
        return False
    mallopt(_M_MMAP_THRESHOLD, mmap)
    if trim is not None:
        mallopt(_M_TRIM_THRESHOLD, trim)
    return True


def trim() -> bool:
    """Hand every free page of the heap back to the system (malloc_trim), not only a free
    top. False where there is no glibc."""
    malloc_trim = _glibc("malloc_trim")
    if malloc_trim is None:
        return False
    malloc_trim(0)
    return True
