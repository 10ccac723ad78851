"""What is open: archives loaded one batch at a time, merged into one Analysis.

Each File > Open loads only the new paths; merging keeps every earlier image (and its waste
and dive figures, which are per image) and recomputes the sharing analysis over all images
so shared layers are found across archives opened separately. No Qt here.
"""

from __future__ import annotations

import dataclasses
import os

from layerscope.analysis import Analysis, ArchiveInfo
from layerscope.analysis.shared import analyse_sharing


def same_path(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def empty() -> Analysis:
    return Analysis(
        archives=[], images=[], waste=[], dive=[], sharing=analyse_sharing([]), packages=[]
    )


def merge(current: Analysis, new: Analysis) -> Analysis:
    """current + new; archives already open in `current` are replaced by their new load."""
    keep = [
        i
        for i, archive in enumerate(current.archives)
        if not any(same_path(archive.path, a.path) for a in new.archives)
    ]
    base = without_archives(current, [i for i in range(len(current.archives)) if i not in keep])
    offset = len(base.archives)
    images = list(base.images) + [
        dataclasses.replace(image, archive_index=image.archive_index + offset)
        for image in new.images
    ]
    return Analysis(
        archives=list(base.archives) + list(new.archives),
        images=images,
        waste=list(base.waste) + list(new.waste),
        dive=list(base.dive) + list(new.dive),
        sharing=analyse_sharing(images),
        packages=list(base.packages) + list(new.packages),
    )


def without_archives(current: Analysis, drop: list[int]) -> Analysis:
    """current less the archives at indexes `drop` and their images."""
    if not drop:
        return current
    dropped = set(drop)
    remap: dict[int, int] = {}
    archives: list[ArchiveInfo] = []
    for i, archive in enumerate(current.archives):
        if i not in dropped:
            remap[i] = len(archives)
            archives.append(archive)
    images, waste, dive, packages = [], [], [], []
    for image, w, d, p in zip(
        current.images, current.waste, current.dive, current.packages, strict=True
    ):
        if image.archive_index in dropped:
            continue
        images.append(dataclasses.replace(image, archive_index=remap[image.archive_index]))
        waste.append(w)
        dive.append(d)
        packages.append(p)
    return Analysis(
        archives=archives,
        images=images,
        waste=waste,
        dive=dive,
        sharing=analyse_sharing(images),
        packages=packages,
    )
