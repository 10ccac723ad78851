"""What a directory holds, as a dict a test compares: for the extraction tests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def snapshot(root: Path) -> dict[str, str]:
    """relative path -> "dir", "-> target" for a symlink, or a digest of the content."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            full = Path(dirpath) / name
            rel = str(full.relative_to(root))
            if full.is_symlink():
                out[rel] = "-> " + os.readlink(full)
            elif full.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = digest(full.read_bytes())
    return out
