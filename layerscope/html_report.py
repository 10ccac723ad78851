"""`report --format html`: one self-contained page people publish (CI artifacts, reviews).

Everything is inline (CSS, the treemap's script, its data): the page loads nothing from the
network and uses the system's fonts. Every string from an archive (paths, commands, refs,
labels) is escaped by the template engine (autoescape) or, for the treemap's data island,
JSON-encoded with `<`, `>` and `&` as \\u escapes and inserted by the script as text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import jinja2
from markupsafe import Markup

from layerscope.analysis import Analysis
from layerscope.analysis.packages import ImagePackages
from layerscope.analysis.shared import analyse_sharing
from layerscope.format import human_size, plural, ratio_text, short_command, when
from layerscope.model.filesystem import Node
from layerscope.model.image import Image
from layerscope.report import package_change_words, runs_summary
from layerscope.view.tree import FilesystemSizes, LayerView, TreeMode
from layerscope.view.treemap import (
    MORE,
    Colouring,
    hex_colour,
    layer_legend,
    layout,
    tile_colour,
    walk,
)

TREEMAP_WIDTH = 1200.0
TREEMAP_HEIGHT = 640.0
MAX_VIEWS = 80  # directories one can zoom into
TILES_PER_VIEW = 600
MIN_VIEW_SHARE = 0.001  # a directory gets its own view from 0.1% of the image's bytes


def _json_island(value: Any) -> Markup:
    """JSON safe inside <script type="application/json">: no `</script>`, no `<!--`."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))  # noqa: S704


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("layerscope", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["size"] = human_size
    env.filters["plural"] = plural
    env.filters["json_island"] = _json_island
    return env


def _path_of(node: Node) -> str:
    return node.path


def treemap_views(image: Image) -> dict[str, Any]:
    """The final filesystem's treemap: one laid-out view per directory one can zoom into.

    Views are laid out here (the core's squarified layout, the same as the window's), two
    levels deep; the page's script only draws them and switches between them.
    """
    fs = image.filesystem
    last = len(image.layers) - 1
    view = LayerView(fs, last, TreeMode.FILESYSTEM, FilesystemSizes(fs))
    total = view.size(fs.root)
    views: list[dict[str, Any]] = []
    ids: dict[Node, int] = {}
    queue: list[Node] = [fs.root]
    # The largest directories first, so the view budget goes where the bytes are.
    while queue and len(views) < MAX_VIEWS:
        queue.sort(key=lambda n: -view.size(n))
        directory = queue.pop(0)
        ids[directory] = len(views)
        tiles = layout(
            view, directory, TREEMAP_WIDTH, TREEMAP_HEIGHT, depth=8, max_tiles=TILES_PER_VIEW
        )
        views.append({"node": directory, "tiles": tiles})
        for tile in tiles:
            if (
                tile.node is not None
                and tile.is_dir
                and tile.size >= MIN_VIEW_SHARE * total
                and tile.node not in ids
            ):
                queue.append(tile.node)
    out_views = []
    for entry in views:
        directory = entry["node"]
        base = "" if directory.parent is None else _path_of(directory)
        rows = []
        for tile in walk(entry["tiles"]):
            rel = tile.name
            if tile.node is not None:
                rel = _path_of(tile.node)[len(base) + 1 :]
            target = ids.get(tile.node, -1) if tile.node is not None and tile.is_dir else -1
            rows.append(
                [
                    round(tile.x, 1),
                    round(tile.y, 1),
                    round(tile.w, 1),
                    round(tile.h, 1),
                    tile.depth,
                    rel,
                    tile.size,
                    hex_colour(tile_colour(tile, Colouring.LAYER)),
                    1 if tile.is_dir else 0,
                    target,
                    tile.layer if tile.layer is not None else -1,
                    tile.more,
                ]
            )
        parent = directory.parent
        while parent is not None and parent not in ids:
            parent = parent.parent
        out_views.append(
            {
                "path": base or "/",
                "size": view.size(directory),
                "parent": ids[parent] if parent is not None else -1,
                "tiles": rows,
            }
        )
    return {"width": TREEMAP_WIDTH, "height": TREEMAP_HEIGHT, "views": out_views}


def _packages_context(packages: ImagePackages) -> dict[str, Any]:
    layers = []
    for index, lp in enumerate(packages.layers):
        if not lp.changed:
            continue
        layers.append(
            {
                "index": index,
                "added": lp.added,
                "removed": lp.removed,
                "upgraded": lp.upgraded,
                "downgraded": lp.downgraded,
            }
        )
    by_kind: dict[str, int] = {}
    for p in packages.installed:
        by_kind[p.kind] = by_kind.get(p.kind, 0) + 1
    return {
        "found": packages.found,
        "installed": len(packages.installed),
        "by_kind": sorted(by_kind.items()),
        "layers": layers,
        "notes": packages.notes,
    }


def _image_context(
    analysis: Analysis,
    index: int,
    position: int,
    shared_with: list[list[list[int]]],
    top: int,
) -> dict[str, Any]:
    image = analysis.images[index]
    waste = analysis.waste[index]
    dive = analysis.dive[index]
    packages = analysis.packages[index]
    biggest = max((layer.size_bytes for layer in image.layers), default=0) or 1
    layers = []
    for layer in image.layers:
        c = image.filesystem.counts[layer.index]
        dead = waste.dead_bytes[layer.index]
        lp = packages.layers[layer.index]
        layers.append(
            {
                "index": layer.index,
                "size": layer.size_bytes,
                "stored": layer.compressed_bytes,
                "added": c.added,
                "modified": c.modified,
                "deleted": c.deleted,
                "dead": dead,
                "live": layer.size_bytes - dead,
                "live_pct": 100.0 * (layer.size_bytes - dead) / biggest,
                "dead_pct": 100.0 * dead / biggest,
                "command": short_command(layer.created_by) or "",
                "full_command": layer.created_by or "",
                "packages": package_change_words(lp, 3),
                "package_bytes": lp.package_bytes,
                "shared": bool(shared_with[position][layer.index]),
                "unavailable": layer.unavailable,
            }
        )
    return {
        "anchor": f"image-{index}",
        "index": index,
        "title": image.ref or "(untagged) " + image.config_digest[:19],
        "image": image,
        "platform": image.platform or "unknown",
        "created": when(image.config.created, ago=False) or "unknown",
        "runs": runs_summary(image),
        "waste": waste,
        "dive": dive,
        "efficiency": ratio_text(waste.efficiency),
        "dive_efficiency": ratio_text(dive.efficiency),
        "user_wasted": ratio_text(dive.user_wasted_percent),
        "layers": layers,
        "wasted_files": waste.dead_files[:top],
        "wasted_more": max(0, len(waste.dead_files) - top),
        "duplicates": waste.duplicates[:top],
        "packages": _packages_context(packages),
        "treemap": treemap_views(image),
        "legend": [(label, hex_colour(rgb)) for label, rgb in layer_legend(len(image.layers))],
        "warnings": image.warnings,
    }


def _version() -> str:
    try:
        return version("layerscope")
    except PackageNotFoundError:
        return "source tree"


def to_html(
    analysis: Analysis, selected: list[int], *, top: int = 100, now: datetime | None = None
) -> str:
    sharing = analyse_sharing([analysis.images[i] for i in selected])
    images = [
        _image_context(analysis, i, pos, sharing.shared_with, top) for pos, i in enumerate(selected)
    ]
    shared = [
        {
            "layer_index": s.layer_index,
            "chain_id": s.chain_id,
            "size": s.size_bytes,
            "images": [images[i]["title"] for i in s.images],
        }
        for s in sharing.layers
    ]
    template = _environment().get_template("report.html.j2")
    return template.render(
        archives=analysis.archives,
        images=images,
        shared=shared,
        sharing=sharing if len(selected) > 1 else None,
        generated=(now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        version=_version(),
        more_colour=hex_colour(MORE),
    )
