"""`ARCHIVE[:IMAGE][@LAYER]`: one image of an archive, optionally at one of its layers.

IMAGE is a 0-based index within the archive, a ref (or a unique part of one), the start of
the config digest, or a platform such as `linux/arm64`; LAYER is a layer index. The archive
part is the longest prefix that exists on disk, so names holding `:` or `@` still work.
A remote ARCHIVE (`registry://host:5000/app:1@3`) is an image reference, tag and digest
included; an IMAGE after it follows the tag: `registry://host/app:latest:linux/arm64@2`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from layerscope.analysis import Analysis
from layerscope.errors import LayerscopeError
from layerscope.model.image import Image
from layerscope.remote import is_remote
from layerscope.remote.reference import split_spec
from layerscope.report import image_choices, match_images

_LAYER_SUFFIX = re.compile(r"@([0-9]+)$")  # ASCII digits: \d takes "١" and "²" too


@dataclass(frozen=True)
class ImageSpec:
    archive: str
    image: str | None  # as written after ':', None when not given
    layer: int | None  # None: the image's final filesystem

    def __str__(self) -> str:
        text = self.archive
        if self.image is not None:
            text += f":{self.image}"
        if self.layer is not None:
            text += f"@{self.layer}"
        return text


def parse_image_spec(text: str) -> ImageSpec:
    if is_remote(text):
        m = _LAYER_SUFFIX.search(text)
        source, image = split_spec(text[: m.start()] if m else text)
        return ImageSpec(source, image, int(m.group(1)) if m else None)
    if os.path.exists(text):
        return ImageSpec(text, None, None)
    base, layer = text, None
    m = _LAYER_SUFFIX.search(text)
    if m:
        base, layer = text[: m.start()], int(m.group(1))
    if os.path.exists(base):
        return ImageSpec(base, None, layer)
    # The longest prefix before a ':' that exists names the archive.
    for pos in reversed([i for i, ch in enumerate(base) if ch == ":"]):
        if pos and os.path.exists(base[:pos]):
            image = base[pos + 1 :]
            if not image:
                raise LayerscopeError(f"{text}: nothing after ':' (give an image index or ref)")
            return ImageSpec(base[:pos], image, layer)
    at = text.rfind("@")
    if at > 0 and _names_an_archive(text[:at]):  # `app.tar@top`, `app.tar:1@-1`
        raise LayerscopeError(
            f"{text}: {text[at:]!r} is not a layer: write @ and its index, e.g. @0"
        )
    raise LayerscopeError(f"{base.split(':', 1)[0]}: no such file or directory")


def _names_an_archive(text: str) -> bool:
    """Whether `text`, or a part of it before a ':', is a file or directory."""
    return os.path.exists(text) or any(
        os.path.exists(text[:pos]) for pos, ch in enumerate(text) if ch == ":" and pos
    )


@dataclass(frozen=True)
class ResolvedSpec:
    spec: ImageSpec
    image_index: int  # in the analysis
    layer: int  # index of the last layer applied

    def image(self, analysis: Analysis) -> Image:
        return analysis.images[self.image_index]


def resolve(spec: ImageSpec, analysis: Analysis, archive_index: int) -> ResolvedSpec:
    """The one image and layer `spec` names among the images of archive `archive_index`."""
    positions = [i for i, im in enumerate(analysis.images) if im.archive_index == archive_index]
    images = [analysis.images[i] for i in positions]
    if not images:
        raise LayerscopeError(f"{spec.archive}: the archive holds no image")
    if spec.image is None:
        if len(images) > 1:
            raise LayerscopeError(
                f"{spec.archive} holds {len(images)} images; name one as "
                f"{spec.archive}:INDEX, :REF or :PLATFORM ({image_choices(images)})"
            )
        chosen = 0
    else:
        try:
            found = match_images(images, spec.image, f"{spec.archive}:")
        except LookupError as exc:
            raise LayerscopeError(str(exc)) from None
        if len(found) > 1:
            names = ", ".join(images[n].name for n in found)
            raise LayerscopeError(f"{spec}: {spec.image!r} matches {len(found)} images ({names})")
        chosen = found[0]
    image = images[chosen]
    count = len(image.layers)
    if count == 0:
        raise LayerscopeError(f"{spec}: {image.name} has no layers")
    layer = count - 1 if spec.layer is None else spec.layer
    if not 0 <= layer < count:
        has = "only layer 0" if count == 1 else f"layers 0 to {count - 1}"
        raise LayerscopeError(f"{spec}: layer {layer} does not exist ({image.name} has {has})")
    return ResolvedSpec(spec, positions[chosen], layer)
