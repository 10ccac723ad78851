"""A squarified treemap of a directory at one layer: where the bytes are, at a glance.

No Qt here: the window's treemap widget and the HTML report both draw the tiles this module
lays out (squarify's layout, Bruls, Huizing and van Wijk's "Squarified Treemaps") and
colour them with `tile_colour`. A directory's tile holds its children's tiles below a
header strip, down to `depth` levels or until tiles get too small to see; the smallest
children of a directory share one "N more" tile so a directory of 100,000 files costs
no more than one of 100.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from enum import Enum

import squarify

from layerscope.analysis.waste import Waste
from layerscope.model.filesystem import Change, Check, FileSystem, Node
from layerscope.view.tree import LayerView, TreeMode

MAX_CHILDREN = 120  # tiles per directory before the rest share a "N more" tile
HEADER = 14.0  # height of a directory tile's name strip, in layout units
PAD = 2.0  # space between a directory's edge and its children


class Colouring(Enum):
    CHANGE = "change"  # added / modified / deleted at this layer, or unchanged
    WASTE = "waste"  # the share of a tile's bytes that the final image does not show
    LAYER = "layer"  # the layer that shipped the bytes (a palette of distinct hues)

    @property
    def label(self) -> str:
        return {
            Colouring.CHANGE: "By change",
            Colouring.WASTE: "By wasted bytes",
            Colouring.LAYER: "By layer",
        }[self]


@dataclass
class Tile:
    """One rectangle: a file, a directory (with tiles inside) or the rest of a directory."""

    node: Node | None  # None for the "N more" tile
    name: str
    size: int
    x: float
    y: float
    w: float
    h: float
    depth: int  # 0 for the children of the root laid out
    is_dir: bool
    status: Change
    wasted: int = 0  # bytes below that the final image does not show
    layer: int | None = None  # the layer that shipped a file's bytes
    more: int = 0  # for the "N more" tile: how many children it stands for
    children: list[Tile] = field(default_factory=list)

    @property
    def area(self) -> float:
        return self.w * self.h

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.x + self.w and self.y <= y < self.y + self.h


def wasted_sizes(fs: FileSystem, waste: Waste, layer: int, mode: TreeMode) -> dict[Node, int]:
    """Per path (files and the directories above them), the bytes shown at `layer` that
    the final image does not show: in FILESYSTEM mode the dead files present at that
    layer, in CHANGES mode the dead files the layer ships."""
    out: dict[Node, int] = {}
    for dead in waste.dead_files:
        if mode is TreeMode.CHANGES:
            if dead.layer != layer:
                continue
        else:
            until = dead.killed_by if dead.killed_by is not None else dead.layer
            if not dead.layer <= layer < until:
                continue
        node = fs.lookup(dead.path)
        while node is not None:
            out[node] = out.get(node, 0) + dead.size
            node = node.parent
    return out


def _shipped_by(view: LayerView, node: Node) -> int | None:
    version = view.version(node)
    content = version.content if version is not None else None
    if content is None or version is None:
        return version.layer if version is not None else None
    # the layer whose entry holds these bytes: the latest version showing this content
    for v in reversed(node.versions):
        if v.content is content and v.entry is content:
            return v.layer
    return version.layer


def layout(
    view: LayerView,
    root: Node,
    width: float,
    height: float,
    *,
    depth: int = 3,
    min_area: float = 36.0,
    wasted: dict[Node, int] | None = None,
    max_tiles: int = 5000,
    check: Check | None = None,
) -> list[Tile]:
    """The tiles of `root`'s children in a `width` x `height` box, nested `depth` levels.

    Children too small to be seen (area below `min_area`) join the directory's "N more"
    tile. Directories are opened largest first (breadth first by area), each only when its
    box can show children, until `max_tiles` tiles are placed: the budget goes where the
    bytes are, and the top level is always complete. `check`, if given, is called before
    each directory is laid out; it cancels by raising.
    """
    if check is not None:
        check()
    top = _place(view, root, 0.0, 0.0, width, height, 0, min_area, wasted, max(max_tiles, 1))
    budget = max_tiles - len(top)
    queue: list[tuple[float, int, Tile]] = []
    counter = 0

    def offer(tiles: list[Tile]) -> None:
        nonlocal counter
        for tile in tiles:
            if tile.is_dir and tile.node is not None and tile.depth + 1 < depth:
                counter += 1
                heapq.heappush(queue, (-tile.area, counter, tile))

    offer(top)
    while queue and budget > 0:
        _, _, tile = heapq.heappop(queue)
        inner_w, inner_h = tile.w - 2 * PAD, tile.h - HEADER - PAD
        if inner_w * inner_h < 4 * min_area:
            continue
        if check is not None:
            check()
        assert tile.node is not None
        tile.children = _place(
            view, tile.node, tile.x + PAD, tile.y + HEADER, inner_w, inner_h,
            tile.depth + 1, min_area, wasted, budget,
        )  # fmt: skip
        budget -= len(tile.children)
        offer(tile.children)
    return top


def _place(
    view: LayerView,
    directory: Node,
    x: float,
    y: float,
    w: float,
    h: float,
    level: int,
    min_area: float,
    wasted: dict[Node, int] | None,
    budget: int,
) -> list[Tile]:
    """`directory`'s children in the box (one level): at most `budget` tiles, the smallest
    sharing one "N more" tile."""
    if w <= 0 or h <= 0 or budget <= 0:
        return []
    children = view.children(directory)
    if view.mode is TreeMode.FILESYSTEM:  # the filesystem as it stands: nothing deleted
        children = [c for c in children if view.status(c) is not Change.DELETED]
    sized = [(view.size(c), c) for c in children]
    sized = [(s, c) for s, c in sized if s > 0]
    if not sized:
        return []
    sized.sort(key=lambda item: (-item[0], item[1].name))
    total = sum(s for s, _ in sized)
    scale = (w * h) / total
    shown = sized[: min(MAX_CHILDREN, budget)]
    while shown and shown[-1][0] * scale < min_area and len(shown) > 1:
        shown.pop()
    if len(shown) < len(sized) and len(shown) >= budget:
        shown.pop()  # room for the "N more" tile
    rest = sized[len(shown) :]
    values = [s for s, _ in shown]
    rest_size = sum(s for s, _ in rest)
    if rest_size:
        values.append(rest_size)
    order = sorted(range(len(values)), key=lambda i: -values[i])
    rects = squarify.squarify(
        squarify.normalize_sizes([values[i] for i in order], w, h), x, y, w, h
    )
    placed: list[dict[str, float]] = [{}] * len(values)
    for i, rect in zip(order, rects, strict=True):
        placed[i] = rect
    tiles: list[Tile] = []
    for (size, node), rect in zip(shown, placed, strict=False):
        is_dir = view.is_dir(node)
        tiles.append(
            Tile(
                node,
                node.name,
                size,
                rect["x"],
                rect["y"],
                rect["dx"],
                rect["dy"],
                level,
                is_dir,
                view.status(node),
                wasted.get(node, 0) if wasted else 0,
                None if is_dir else _shipped_by(view, node),
            )
        )
    if rest_size:
        rect = placed[-1]
        tiles.append(
            Tile(
                None,
                f"{len(rest):,} more",
                rest_size,
                rect["x"],
                rect["y"],
                rect["dx"],
                rect["dy"],
                level,
                False,
                Change.UNCHANGED,
                sum(wasted.get(n, 0) for _, n in rest) if wasted else 0,
                more=len(rest),
            )
        )
    return tiles


def walk(tiles: list[Tile]) -> list[Tile]:
    """Every tile, parents before their children."""
    out: list[Tile] = []
    stack = list(reversed(tiles))
    while stack:
        tile = stack.pop()
        out.append(tile)
        stack.extend(reversed(tile.children))
    return out


def tile_at(tiles: list[Tile], x: float, y: float) -> Tile | None:
    """The deepest tile under a point."""
    found: Tile | None = None
    level = tiles
    while True:
        hit = next((t for t in level if t.contains(x, y)), None)
        if hit is None:
            return found
        found = hit
        level = hit.children


# -- colours ------------------------------------------------------------------------------
# RGB triples; the window and the HTML report use the same ones, so a legend reads the same.

CHANGE_COLOURS: dict[Change, tuple[int, int, int]] = {
    Change.ADDED: (76, 175, 80),
    Change.MODIFIED: (255, 179, 0),
    Change.DELETED: (229, 57, 53),
    Change.UNCHANGED: (120, 144, 156),
}
LIVE = (76, 175, 80)
WASTED = (229, 57, 53)
MORE = (178, 178, 178)  # the "N more" tile: grey, a hue no layer has
# distinct hues for layers (Tableau 20 without its two greys, which mean "the rest"),
# repeated past 18 layers
LAYER_COLOURS: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (174, 199, 232),
    (255, 187, 120), (152, 223, 138), (255, 152, 150), (197, 176, 213), (196, 156, 148),
    (247, 182, 210), (219, 219, 141), (158, 218, 229),
)  # fmt: skip


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    t = min(1.0, max(0.0, t))
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def tile_colour(tile: Tile, colouring: Colouring) -> tuple[int, int, int]:
    """The fill of a tile; directories are a lighter shade of what they hold."""
    if tile.more:
        return MORE
    if colouring is Colouring.WASTE:
        colour = _mix(LIVE, WASTED, tile.wasted / tile.size if tile.size else 0.0)
    elif colouring is Colouring.LAYER:
        colour = (
            LAYER_COLOURS[tile.layer % len(LAYER_COLOURS)]
            if tile.layer is not None and tile.layer >= 0
            else CHANGE_COLOURS[Change.UNCHANGED]
        )
    else:
        colour = CHANGE_COLOURS[tile.status]
    return _mix(colour, (255, 255, 255), 0.55) if tile.is_dir else colour


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def layer_legend(layers: int) -> list[tuple[str, tuple[int, int, int]]]:
    return [(f"layer {i}", LAYER_COLOURS[i % len(LAYER_COLOURS)]) for i in range(layers)]
