"""The `diff` output: the JSON contract (docs/DIFF.md) and the text a person reads.

As with the report, names and meanings in the JSON are a contract: add fields, never
rename or change one.
"""

from __future__ import annotations

import os
from typing import Any

from layerscope.analysis.diff import ADDED, CHANGED, REMOVED, FsDiff, PathDiff, Side
from layerscope.format import human_size, printable, short_created_by
from layerscope.model.entry import Kind

SCHEMA = "layerscope.diff/1"


def _side_json(side: Side, archive: str) -> dict[str, Any]:
    image = side.image
    return {
        "archive": archive,
        "image": image.ref,
        "image_index": image.index_in_archive,
        "config_digest": image.config_digest,
        "platform": image.platform,
        "layer": side.layer,
        "layers": len(image.layers),
    }


def _change_json(c: PathDiff) -> dict[str, Any]:
    item: dict[str, Any] = {
        "path": c.path,
        "change": c.change,
        "type": c.kind.label,
        "size_a": c.size_a,
        "size_b": c.size_b,
        "content_changed": c.content_changed,
        "metadata_changed": c.metadata_changed,
        "metadata": c.metadata,
        "size_delta": c.delta,
    }
    if c.kind_a is not None and c.kind_a != c.kind:
        item["type_a"] = c.kind_a.label
    if c.link is not None:
        item["link"] = c.link
    if c.change == CHANGED and c.entry_a is not None and c.entry_a.kind == Kind.SYMLINK:
        item["link_a"] = c.entry_a.link
    return item


def diff_json(d: FsDiff) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for change in (ADDED, REMOVED, CHANGED):
        t = d.tally(change)
        summary[change] = {"count": t.count, "bytes": t.bytes}
    summary["size_delta"] = d.size_delta
    return {
        "schema": SCHEMA,
        "a": _side_json(d.a, d.a.image.archive_path),
        "b": _side_json(d.b, d.b.image.archive_path),
        "ignore_timestamps": d.ignore_timestamps,
        "shared_layers": [
            {
                "index": layer.index,
                "chain_id": layer.chain_id,
                "diff_id": layer.diff_id,
                "created_by": layer.created_by,
            }
            for layer in d.a.image.layers[: d.shared_layers]
        ],
        "changes": [_change_json(c) for c in d.changes],
        "summary": summary,
    }


def _signed(n: int) -> str:
    return ("+" if n > 0 else "-" if n < 0 else "±") + human_size(abs(n))


def _side_text(label: str, side: Side) -> str:
    image = side.image
    last = len(image.layers) - 1
    where = (
        f"the final filesystem (layer {last})"
        if side.layer == last
        else f"layer {side.layer} (of layers 0 to {last})"
    )
    name = image.ref or "(untagged) " + image.config_digest[:19]
    platform = f" ({image.platform})" if image.platform else ""
    return f"{label}  {os.path.basename(image.archive_path)}  {name}{platform}  at {where}"


def _size_text(c: PathDiff) -> str:
    if c.is_dir:
        return ""
    if c.kind == Kind.SYMLINK:
        old = c.entry_a.link if c.entry_a is not None and c.entry_a.kind == Kind.SYMLINK else None
        if c.change == CHANGED and old is not None and old != c.link:
            return f"-> {printable(old)} → {printable(c.link or '')}"
        return f"-> {printable(c.link or '')}"
    if c.change == ADDED:
        return human_size(c.size_b)
    if c.change == REMOVED:
        return human_size(c.size_a)
    if c.size_a != c.size_b:
        return f"{human_size(c.size_a)} → {human_size(c.size_b)}"
    return human_size(c.size_b)


def size_tree(d: FsDiff, max_lines: int = 16) -> list[tuple[int, str, int]]:
    """(depth, directory, delta) lines of a `du`-like tree of where the size changed.

    From the root, each directory's children are listed by how much they changed, and only
    those that carry a real part (a twentieth) of their parent's change are opened further.
    """
    deltas = d.directory_deltas()
    children: dict[str, list[str]] = {}
    for path in deltas:
        if path != "/":
            parent = path.rsplit("/", 1)[0] or "/"
            children.setdefault(parent, []).append(path)
    out: list[tuple[int, str, int]] = []
    stack: list[tuple[int, str]] = [(0, "/")]
    while stack and len(out) < max_lines:
        depth, path = stack.pop()
        delta = deltas[path]
        out.append((depth, path, delta))
        kids = [k for k in children.get(path, []) if deltas[k]]
        kids.sort(key=lambda k: (abs(deltas[k]), k), reverse=True)
        big = [k for k in kids if abs(deltas[k]) * 20 >= abs(delta)] if delta else kids[:3]
        stack.extend((depth + 1, k) for k in reversed(big[:5]))
    return out


def diff_text(d: FsDiff) -> str:
    lines = [_side_text("A", d.a), _side_text("B", d.b)]
    if d.shared_layers:
        last = d.shared_layers - 1
        span = "layer 0" if last == 0 else f"layers 0-{last}"
        lines.append(f"Shared: {span} (same chain ids); compared what follows them.")
        for layer in d.a.image.layers[: d.shared_layers]:
            command = short_created_by(layer.created_by, 80)
            lines.append(f"  {layer.index:>3}  {layer.chain_id[:19]}  {command}")
    else:
        lines.append("Shared: no layer (different bases); compared every path.")
    added, removed, changed = d.tally(ADDED), d.tally(REMOVED), d.tally(CHANGED)
    metadata_only = sum(
        1 for c in d.changes if c.change == CHANGED and not c.is_dir and not c.content_changed
    )
    timestamps = ", timestamps ignored" if d.ignore_timestamps else ""
    lines.append(
        f"Files: {added.count} added ({human_size(added.bytes)}), "
        f"{removed.count} removed ({human_size(removed.bytes)}), "
        f"{changed.count} changed ({metadata_only} metadata only){timestamps} · "
        f"size {_signed(d.size_delta)}"
    )
    if not d.changes:
        lines.append("No differences.")
        return "\n".join(lines) + "\n"
    tree = size_tree(d)
    if tree and any(delta for _depth, _path, delta in tree):
        lines.append("")
        lines.append("Where the size changed")
        for depth, path, delta in tree:
            name = printable(path if depth == 0 else path.rsplit("/", 1)[1] + "/")
            lines.append(f"  {_signed(delta):>11}  {'  ' * depth}{name}")
    lines.append("")
    lines.append("Changes")
    sign = {ADDED: "+", REMOVED: "-", CHANGED: "~"}
    width = min(max((len(printable(c.path)) for c in d.changes), default=0) + 1, 72)
    for c in d.changes:
        path = printable(c.path) + ("/" if c.kind == Kind.DIR else "")
        what = c.description if c.change == CHANGED else ""
        detail = "  ".join(x for x in (_size_text(c), what) if x)
        lines.append(f"  {sign[c.change]} {path:<{width}} {detail}".rstrip())
    return "\n".join(lines) + "\n"
