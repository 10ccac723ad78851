"""Names that tell open images apart, wherever they are listed.

An image is named by its first ref (or its short config digest). When several open images
would read the same, the platform is added if theirs differ; when they still read the same
(the same image opened from two archives), the archive's file name is added.
"""

from __future__ import annotations

import os
from collections import Counter

from layerscope.analysis import Analysis
from layerscope.model.image import Image


def archive_name(path: str) -> str:
    return os.path.basename(path.rstrip("/")) or path


def image_names(analysis: Analysis) -> list[str]:
    """One name per image of `analysis`, unique wherever the inputs allow."""
    images = analysis.images
    base = [image.name for image in images]
    platforms: dict[str, set[str | None]] = {}
    for image, name in zip(images, base, strict=True):
        platforms.setdefault(name, set()).add(image.platform)
    named = [  # the platform only where it tells them apart ("app:1 (linux/amd64)" twice did not)
        _with_platform(image, name) if len(platforms[name]) > 1 else name
        for image, name in zip(images, base, strict=True)
    ]
    counts = Counter(named)
    return [
        f"{name} in {archive_name(image.archive_path)}" if counts[name] > 1 else name
        for image, name in zip(images, named, strict=True)
    ]


def _with_platform(image: Image, name: str) -> str:
    return f"{name} ({image.platform})" if image.platform else name


def distinct_images(analysis: Analysis) -> int:
    """Open images counted once per config digest (one image opened twice is one image)."""
    return len({image.config_digest for image in analysis.images})
