"""Layers shared across images: by chain id (same content on the same stack)."""

from __future__ import annotations

from dataclasses import dataclass, field

from layerscope.model.image import Image


@dataclass
class SharedLayer:
    """A layer that more than one loaded image has."""

    chain_id: str
    diff_id: str
    size_bytes: int
    compressed_bytes: int
    images: list[int]  # image indexes, ascending
    layer_index: int  # position in the stack (the same in every image, by construction)


@dataclass
class SameContent:
    """The same diff_id on different stacks: same bytes, different parents, not shared."""

    diff_id: str
    size_bytes: int
    places: list[tuple[int, int]]  # (image, layer index)


@dataclass
class Sharing:
    """What the loaded images share, and what sharing saves."""

    layers: list[SharedLayer]
    same_content: list[SameContent]
    # per image: bytes of layers no other loaded image has
    own_bytes: list[int] = field(default_factory=list)
    total_bytes: int = 0  # sum of every image's size (one image loaded twice counts once)
    stored_bytes: int = 0  # each distinct chain id counted once
    shared_with: list[list[list[int]]] = field(default_factory=list)  # [image][layer] -> others

    @property
    def saved_bytes(self) -> int:
        return self.total_bytes - self.stored_bytes


def analyse_sharing(images: list[Image]) -> Sharing:
    by_chain: dict[str, list[tuple[int, int]]] = {}
    by_diff: dict[str, list[tuple[int, int]]] = {}
    for i, image in enumerate(images):
        for layer in image.layers:
            by_chain.setdefault(layer.chain_id, []).append((i, layer.index))
            by_diff.setdefault(layer.diff_id, []).append((i, layer.index))

    shared: list[SharedLayer] = []
    shared_with: list[list[list[int]]] = [[[] for _ in image.layers] for image in images]
    for chain_id, places in by_chain.items():
        owners = sorted({i for i, _ in places})
        for i, li in places:
            shared_with[i][li] = [o for o in owners if o != i]
        if len(owners) > 1:
            i0, l0 = places[0]
            layer = images[i0].layers[l0]
            shared.append(
                SharedLayer(
                    chain_id, layer.diff_id, layer.size_bytes, layer.compressed_bytes, owners, l0
                )
            )
    shared.sort(key=lambda s: (s.layer_index, s.images))

    same_content: list[SameContent] = []
    for diff_id, places in by_diff.items():
        chains = {images[i].layers[li].chain_id for i, li in places}
        if len(chains) > 1:
            i0, l0 = places[0]
            same_content.append(SameContent(diff_id, images[i0].layers[l0].size_bytes, places))

    own = [
        sum(layer.size_bytes for layer in image.layers if not shared_with[i][layer.index])
        for i, image in enumerate(images)
    ]
    stored: dict[str, int] = {}
    for image in images:
        for layer in image.layers:
            stored[layer.chain_id] = layer.size_bytes
    return Sharing(
        layers=shared,
        same_content=same_content,
        own_bytes=own,
        # The same image (config digest) from two archives is one image, not sharing.
        total_bytes=sum({i.config_digest: i.size_bytes for i in images}.values()),
        stored_bytes=sum(stored.values()),
        shared_with=shared_with,
    )
