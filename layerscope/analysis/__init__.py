"""Figures computed from the stacked model: waste, dive's block, sharing across images."""

from __future__ import annotations

from dataclasses import dataclass, field

from layerscope.analysis.dive import DiveFigures, dive_figures
from layerscope.analysis.packages import ImagePackages, analyse_packages
from layerscope.analysis.shared import Sharing, analyse_sharing
from layerscope.analysis.waste import Waste, analyse_waste
from layerscope.model.filesystem import Check
from layerscope.model.image import Image


@dataclass
class ArchiveInfo:
    """An archive that was opened, and what it warned about."""

    path: str
    format: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class Analysis:
    """Everything one load produced: the CLI prints it, the GUI shows it."""

    archives: list[ArchiveInfo]
    images: list[Image]
    waste: list[Waste]
    dive: list[DiveFigures]
    sharing: Sharing
    packages: list[ImagePackages]  # per image, like waste and dive


def analyse(
    archives: list[ArchiveInfo], images: list[Image], check: Check | None = None
) -> Analysis:
    """`check`, if given, is polled throughout (every few thousand paths); it cancels by raising."""
    return Analysis(
        archives=archives,
        images=images,
        waste=[analyse_waste(image, check) for image in images],
        dive=[dive_figures(image, check) for image in images],
        sharing=analyse_sharing(images),
        packages=[analyse_packages(image, check) for image in images],
    )


__all__ = [
    "Analysis",
    "ArchiveInfo",
    "DiveFigures",
    "ImagePackages",
    "Sharing",
    "Waste",
    "analyse",
]
