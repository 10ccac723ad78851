"""Keep Python's cyclic garbage collector from stalling the window on big images.

An image of 180,000 files is over a million Python objects, many in reference cycles
(a tree node and its parent). A full collection walks them all: 0.8 s with the GIL held,
so the window freezes whenever the collector decides to run. A load therefore runs with the
collector off, and what it built is frozen (gc.freeze: never walked again) once it is
done; closing an archive unfreezes, collects the archive's cycles once, and freezes what
is still open.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def loading() -> Iterator[None]:
    """No collection while a load builds its objects (in the worker thread)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def keep() -> None:
    """Everything alive now lives as long as it is open: the collector skips it from now on."""
    gc.freeze()


def release() -> None:
    """Something was closed: collect its cycles, and freeze again what is still open."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def reset() -> None:
    """The window is gone: the collector walks everything again, as normal."""
    gc.unfreeze()
