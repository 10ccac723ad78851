"""The `report` output: the JSON contract of docs/REPORT.md, and the text a person reads.

Names and meanings in the JSON are a contract other programs depend on: add fields, never
rename or change one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any

from layerscope.analysis import Analysis
from layerscope.analysis.columns import field_values
from layerscope.analysis.dive import DiveFile
from layerscope.analysis.packages import ImagePackages, LayerPackages, Package, Upgrade
from layerscope.analysis.shared import Sharing, analyse_sharing
from layerscope.analysis.waste import DeadFile
from layerscope.format import human_size as size
from layerscope.format import plural, printable, ratio_text, short_created_by, when
from layerscope.jsonvalues import ascii_int
from layerscope.model.entry import Kind
from layerscope.model.filesystem import Change, FileSystem
from layerscope.model.image import Image, Layer

SCHEMA = "layerscope.report/1"


def _counts(image: Image, layer: Layer) -> dict[str, dict[str, int]]:
    c = image.counts[layer.index]
    return {
        "added": {"count": c.added, "bytes": c.added_bytes},
        "modified": {"count": c.modified, "bytes": c.modified_bytes},
        "deleted": {"count": c.deleted, "bytes": c.deleted_bytes},
    }


def layer_changes(
    fs: FileSystem, layer: int, packages: ImagePackages | None = None
) -> Iterator[dict[str, Any]]:
    """The `--files` list: every path the layer changed, directories included, sorted by
    path, each made as it is taken (the benchmark image's big layer has 153,000: all at
    once, their dicts were 60 MB). With `packages`, each non-directory path carries its
    owner (`deb:curl`, or null)."""
    changed = sorted(
        ((node.path, node, change) for node, change in fs.changes[layer].items()),
        key=itemgetter(0),
    )
    for path, node, change in changed:
        version = node.last_in_layer(layer)
        shown = (
            version
            if version is not None and version.entry is not None
            else node.state_at(layer - 1)
        )
        entry = shown.entry if shown is not None else None
        item: dict[str, Any] = {
            "path": path,
            "change": change.label,
            "type": entry.kind.label if entry is not None else None,
            "size": shown.size if shown is not None else 0,
            "mode": entry.mode_string if entry is not None else None,
            "link": entry.link if entry is not None else None,
        }
        if version is not None and version.detail:
            item["detail"] = version.detail
        if packages is not None and item["type"] != Kind.DIR.label:
            owner = packages.owner(path)
            item["owner"] = owner.label if owner is not None else None
        yield item


def package_json(p: Package) -> dict[str, Any]:
    return {
        "type": p.kind,
        "name": p.name,
        "version": p.version,
        "arch": p.arch,
        "installed_bytes": p.installed_bytes,
        "location": p.location,
    }


def _upgrade_json(u: Upgrade) -> dict[str, Any]:
    return {
        **package_json(u.after),
        "from": u.before.version,
        "to": u.after.version,
        "from_installed_bytes": u.before.installed_bytes,
    }


def layer_packages_json(lp: LayerPackages) -> dict[str, Any]:
    return {
        "added": [package_json(p) for p in lp.added],
        "removed": [package_json(p) for p in lp.removed],
        "upgraded": [_upgrade_json(u) for u in lp.upgraded],
        "downgraded": [_upgrade_json(u) for u in lp.downgraded],
        "package_bytes": lp.package_bytes,
        "other_bytes": lp.other_bytes,
    }


def _image_json(
    analysis: Analysis,
    index: int,
    out_index: dict[int, int],
    sharing: Sharing,
    files: bool,
    records: Callable[[Iterator[dict[str, Any]]], Iterable[dict[str, Any]]],
) -> dict[str, Any]:
    image = analysis.images[index]
    waste = analysis.waste[index]
    dive = analysis.dive[index]
    packages = analysis.packages[index]
    my = out_index[index]
    layers = []
    for layer in image.layers:
        item: dict[str, Any] = {
            "index": layer.index,
            "diff_id": layer.diff_id,
            "chain_id": layer.chain_id,
            "digest": layer.digest,
            "media_type": layer.media_type,
            "created_by": layer.created_by,
            "size_bytes": layer.size_bytes,
            "compressed_bytes": layer.compressed_bytes,
            **_counts(image, layer),
            "dead_bytes": waste.dead_bytes[layer.index],
            "shared_with": sharing.shared_with[my][layer.index],
            "compression": layer.compression,
            "entries": layer.entry_count,
        }
        if layer.unavailable:
            item["unavailable"] = layer.unavailable
        if files:
            item["changes"] = records(layer_changes(image.filesystem, layer.index, packages))
        item["packages"] = layer_packages_json(packages.layers[layer.index])
        layers.append(item)
    return {
        "archive": image.archive_index,
        "ref": image.ref,
        "refs": image.refs,
        "config_digest": image.config_digest,
        "manifest_digest": image.manifest_digest,
        "platform": image.platform,
        "created": image.config.created,
        "size_bytes": image.size_bytes,
        "compressed_bytes": image.compressed_bytes,
        "waste": {
            "reclaimable_bytes": waste.reclaimable_bytes,
            "overwritten_bytes": waste.overwritten_bytes,
            "deleted_bytes": waste.deleted_bytes,
            "duplicate_bytes": waste.duplicate_bytes,
            "efficiency": waste.efficiency,
        },
        "dive": {
            "efficiency": dive.efficiency,
            "wasted_bytes": dive.wasted_bytes,
            "user_wasted_percent": dive.user_wasted_percent,
            "size_bytes": dive.size_bytes,
            "user_size_bytes": dive.user_size_bytes,
        },
        "layers": layers,
        # the records' fields in the order their class declares them: from the cache, read
        # straight from its columns, the records themselves not made (columns.field_values)
        "inefficient_files": records(
            {"path": path, "count": count, "wasted_bytes": wasted_bytes}
            for path, count, wasted_bytes in field_values(dive.inefficient_files, DiveFile)
        ),
        "wasted_files": records(
            {
                "path": path,
                "bytes": shipped,
                "layer": layer,
                "removed_in": killed_by,
                "removed_how": fate,
                "counted_as": how,
            }
            for path, shipped, layer, killed_by, fate, how in field_values(
                waste.dead_files, DeadFile
            )
        ),
        "final_files": waste.final_files,
        "config": {
            "env": image.config.env,
            "entrypoint": image.config.entrypoint,
            "cmd": image.config.cmd,
            "working_dir": image.config.working_dir,
            "user": image.config.user,
            "exposed_ports": image.config.exposed_ports,
            "labels": image.config.labels,
            "volumes": image.config.volumes,
        },
        "history": [
            {
                "created": h.created,
                "created_by": h.created_by,
                "comment": h.comment,
                "empty_layer": h.empty_layer,
                "layer": h.layer_index,
            }
            for h in image.config.history
        ],
        "warnings": image.warnings,
        "packages": {
            "installed": [package_json(p) for p in packages.installed],
            "notes": packages.notes,
        },
    }


def select_images(analysis: Analysis, selector: str | None) -> list[int]:
    """Image indexes matching --image: an index, an exact ref, or a unique substring."""
    if selector is None:
        return list(range(len(analysis.images)))
    return match_images(analysis.images, selector, "--image")


def match_images(images: list[Image], selector: str, what: str) -> list[int]:
    """Positions in `images` that `selector` names: a 0-based index, an exact ref, else a
    part of a ref, the start of the config digest, or the platform (`linux/arm64`).

    `what` names the selector in errors (LookupError), e.g. "--image" or "app.tar:".
    """
    n = ascii_int(selector)
    if n is not None:
        if n < len(images):
            return [n]
        count = plural(len(images), "image")
        raise LookupError(f"{what} {n}: there {'is' if len(images) == 1 else 'are'} {count}")
    exact = [i for i, im in enumerate(images) if selector in im.refs]
    if exact:
        return exact
    partial = [
        i
        for i, im in enumerate(images)
        if any(selector in r for r in im.refs)
        or im.config_digest.startswith(selector)
        or selector == im.platform
    ]
    if not partial:
        raise LookupError(f"{what} {selector!r} matches no image ({image_choices(images)})")
    return partial


def image_choices(images: list[Image]) -> str:
    """'0=app:1 (linux/amd64), 1=app:1 (linux/arm64)': what an image selector can name,
    the platform telling apart the images of one multi-platform tag."""
    return ", ".join(
        f"{n}={im.name}" + (f" ({im.platform})" if im.platform else "")
        for n, im in enumerate(images)
    )


def to_json(
    analysis: Analysis, selected: list[int], *, files: bool = False, stream: bool = False
) -> dict[str, Any]:
    """The JSON report (docs/REPORT.md) of the `selected` images. With `stream`, the long
    lists of records (wasted and inefficient files, and --files' changes) are generators,
    each record made as a writer takes it (cli/jsonout.py's, a slice at a time): the
    document is then for that writer only, and for one use."""
    out_index = {img: pos for pos, img in enumerate(selected)}
    sharing = analyse_sharing([analysis.images[i] for i in selected])
    records = iter if stream else list  # (iter gives the generator itself)
    return {
        "schema": SCHEMA,
        "archives": [
            {"path": a.path, "format": a.format, "warnings": a.warnings} for a in analysis.archives
        ],
        "images": [_image_json(analysis, i, out_index, sharing, files, records) for i in selected],
        "shared_layers": [
            {
                "chain_id": s.chain_id,
                "diff_id": s.diff_id,
                "size_bytes": s.size_bytes,
                "images": s.images,
                "layer_index": s.layer_index,
            }
            for s in sharing.layers
        ],
        "sharing": {
            "total_bytes": sharing.total_bytes,
            "stored_bytes": sharing.stored_bytes,
            "saved_bytes": sharing.saved_bytes,
            "own_bytes": sharing.own_bytes,
        },
    }


# -- text -------------------------------------------------------------------------------------


def _stored_as(image: Image) -> str:
    """What the 'stored' figure counts, which is more than the files in an uncompressed tar."""
    kinds = {layer.compression for layer in image.layers if not layer.unavailable}
    if len(image.layers) == 1:
        if kinds == {"none"}:
            return "the layer as an uncompressed tar (its headers and padding count)"
        if "none" not in kinds:
            return f"the layer {'- and '.join(sorted(kinds))}-compressed"
    if kinds == {"none"}:
        return "the layers as uncompressed tars (their headers and padding count)"
    if "none" not in kinds:
        return f"the layers {'- and '.join(sorted(kinds))}-compressed"
    return "the layers compressed, or as tars with their headers and padding"


def runs_summary(image: Image) -> str:
    """`ENTRYPOINT + CMD as USER in WORKDIR, ports ...`: what starting the image does."""
    conf = image.config
    argv = (conf.entrypoint or []) + (conf.cmd or [])
    parts = []
    if argv:
        parts.append(" ".join(argv)[:80])
    elif conf.user or conf.working_dir or conf.exposed_ports:
        parts.append("no command")  # not 'runs in /', as if a command were missing
    if conf.user:
        parts.append(f"as {conf.user}")
    if conf.working_dir:
        parts.append(f"in {conf.working_dir}")
    if conf.exposed_ports:
        parts.append("· ports " + ", ".join(conf.exposed_ports))
    return " ".join(parts)


def package_change_words(lp: LayerPackages, top: int) -> list[str]:
    """`+ curl 7.88.1-10`, `↑ libc6 2.36-9 → 2.36-10`, `- wget 1.21`: a layer's package
    changes as a person reads them, at most `top` of each kind (then `… 12 more`)."""
    words: list[str] = []
    groups: list[tuple[str, list[str]]] = [
        ("+", [f"{p.name} {p.version}" for p in lp.added]),
        ("↑", [f"{u.after.name} {u.before.version} → {u.after.version}" for u in lp.upgraded]),
        ("↓", [f"{u.after.name} {u.before.version} → {u.after.version}" for u in lp.downgraded]),
        ("-", [f"{p.name} {p.version}" for p in lp.removed]),
    ]
    for sign, items in groups:
        words.extend(f"{sign} {item}" for item in items[:top])
        if len(items) > top:
            words.append(f"{sign} … {len(items) - top} more")
    return words


def _whole_percent(ratio: float) -> str:
    """'56%'; a share that is not none or all never reads as 0% or 100% ('<1%', '>99%')."""
    text = f"{ratio:.0%}"
    if text == "0%" and ratio > 0:
        return "<1%"
    if text == "100%" and ratio < 1:
        return ">99%"
    return text


def _packages_text(packages: ImagePackages, top: int) -> list[str]:
    if not packages.found and not packages.notes:
        return []
    lines = ["", f"  Packages ({len(packages.installed)} installed at the end)"]
    for index, lp in enumerate(packages.layers):
        shipped = lp.package_bytes + lp.other_bytes
        if not lp.changed and not lp.package_bytes:
            continue
        share = _whole_percent(lp.package_bytes / shipped) if shipped else "-"
        lines.append(
            f"  layer {index}: {share} of its {size(shipped)} from packages"
            + (":" if lp.changed else "")
        )
        lines.extend(f"    {w}" for w in package_change_words(lp, top))
    lines.extend(f"  note: {n}" for n in packages.notes)
    return lines


_SIZE_WITH_UNIT = re.compile(r"(\d) (B|KiB|MiB|GiB|TiB|PiB|EiB)\b")


def wrap_prose(text: str, width: int) -> list[str]:
    """A sentence of the report wrapped to `width` columns, indented by two and continued
    by four: broken between its ' · ' parts where they fit, else between words, never
    inside a size ('302 B')."""
    lines: list[str] = []
    for part in text.strip().split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
            continue
        first = "  " if not lines else "    · "
        kept = _SIZE_WITH_UNIT.sub("\\1\xa0\\2", part)  # one word to textwrap
        import textwrap  # (here, as shutil below: only the text report needs them)

        wrapped = textwrap.wrap(
            kept,
            width=width,
            initial_indent=first,
            subsequent_indent="    ",
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines.extend(line.replace("\xa0", " ") for line in wrapped)
    return lines


def to_text(analysis: Analysis, selected: list[int], *, files: bool = False, top: int = 10) -> str:
    import shutil

    columns = shutil.get_terminal_size((120, 24)).columns
    width = max(80, min(columns, 160))  # the layer table's: narrower, a command is unreadable

    def prose(text: str) -> list[str]:
        return wrap_prose(text, max(40, columns - 1))

    lines: list[str] = []
    for a in analysis.archives:
        lines.append(f"{a.path}  ({a.format})")
        lines.extend(f"  warning: {printable(w)}" for w in a.warnings)
    sharing = analyse_sharing([analysis.images[i] for i in selected])
    for pos, i in enumerate(selected):
        image, waste, dive = analysis.images[i], analysis.waste[i], analysis.dive[i]
        lines.append("")
        title = f"Image {i}: {image.ref or '(untagged) ' + image.config_digest[:19]}"
        lines.append(title)
        lines.append("=" * min(len(title), width))
        created = when(image.config.created, ago=False) or "unknown"
        # with several archives, two images can carry one name: say which file each is from
        if len(analysis.archives) > 1:
            lines.append(f"  from {analysis.archives[image.archive_index].path}")
        lines += prose(f"platform {image.platform or 'unknown'} · created {created}")
        runs = runs_summary(image)
        if runs:
            lines += prose(f"runs {runs}")
        lines += prose(
            f"{size(image.size_bytes)} of files in {plural(len(image.layers), 'layer')} · "
            f"{plural(waste.final_files, 'file')} in the final filesystem"
        )
        lines += prose(f"{size(image.compressed_bytes)} stored: {_stored_as(image)}")
        lines += prose(
            f"efficiency {ratio_text(waste.efficiency)} · "
            f"reclaimable {size(waste.reclaimable_bytes)} "
            f"(overwritten {size(waste.overwritten_bytes)}, deleted {size(waste.deleted_bytes)})"
            f" · duplicate content {size(waste.duplicate_bytes)}"
        )
        lines += prose(
            f"dive would say: efficiency {ratio_text(dive.efficiency)}, "
            f"wasted {size(dive.wasted_bytes)}, "
            f"user-wasted {ratio_text(dive.user_wasted_percent)}"
        )
        lines.extend(f"  warning: {printable(w)}" for w in image.warnings)
        lines.append("")
        header = (
            f"  {'#':>3}  {'size':>9}  {'stored':>9}  "
            f"{'+add':>5} {'~mod':>5} {'-del':>5}  {'dead':>9}  "
        )
        cb_width = max(20, width - len(header) - 2)
        lines.append(header + "created by")
        for layer in image.layers:
            c = image.counts[layer.index]
            mark = "*" if sharing.shared_with[pos][layer.index] else " "
            dead = waste.dead_bytes[layer.index]
            cb = short_created_by(layer.created_by, cb_width)
            if layer.unavailable:
                cb = f"[{layer.unavailable[:40]}] {cb}"
            lines.append(
                f" {mark}{layer.index:>3}  {size(layer.size_bytes):>9}  "
                f"{size(layer.compressed_bytes):>9}  "
                f"{c.added:>5} {c.modified:>5} {c.deleted:>5}  "
                f"{size(dead) if dead else '-':>9}  {cb}"
            )
        lines += prose(
            "(size: the layer's file bytes · stored: as the archive holds it · "
            "dead: shipped, not in the final filesystem)"
        )
        if any(sharing.shared_with[pos]):
            lines.append("  (* shared with another image loaded)")
        if waste.dead_files:
            lines.append("")
            lines.append("  Largest wasted files")
            for d in waste.dead_files[:top]:
                if d.killed_by is None:
                    where = f"layer {d.layer} (shipped twice in that layer)"
                else:
                    where = f"layer {d.layer}, {d.fate} in layer {d.killed_by}"
                lines.append(f"  {size(d.size):>10}  {printable(d.path)}  — {where}")
            if len(waste.dead_files) > top:
                lines.append(
                    f"  … and {len(waste.dead_files) - top} more (--top N, or --json for all)"
                )
        if waste.duplicates:
            lines.append("")
            lines.append("  Same content at several paths")
            for g in waste.duplicates[:top]:
                more = f" … and {len(g.paths) - 4} more" if len(g.paths) > 4 else ""
                paths = ", ".join(printable(p) for p in g.paths[:4])
                lines.append(f"  {size(g.wasted):>10}  {paths}{more}")
            if len(waste.duplicates) > top:
                lines.append(f"  … and {len(waste.duplicates) - top} more (--top N)")
        lines.extend(_packages_text(analysis.packages[i], top))
        if files:
            for layer in image.layers:
                lines.append("")
                lines.append(f"  Layer {layer.index} changes")
                owners = analysis.packages[i] if analysis.packages[i].found else None
                for item in layer_changes(image.filesystem, layer.index, owners):
                    sign = {"added": "+", "modified": "~", "deleted": "-"}[item["change"]]
                    link = ""
                    if item["link"]:  # a hardlink names the path it shares content with
                        hard = item["type"] == Kind.HARDLINK.label
                        shown = printable(item["link"])
                        link = f" (hardlink to {shown})" if hard else f" -> {shown}"
                    owner = f"  [{item['owner']}]" if item.get("owner") else ""
                    lines.append(
                        f"    {sign} {printable(item['path'])}"
                        f"{'/' if item['type'] == Kind.DIR.label else ''}{link}{owner}"
                    )
    if len(selected) > 1:
        lines.append("")
        lines.append("Shared layers")
        if sharing.layers:
            for s in sharing.layers:
                names = ", ".join(str(selected[i]) for i in s.images)
                lines.append(
                    f"  layer {s.layer_index}  {s.chain_id[:19]}  "
                    f"{size(s.size_bytes):>9}  images {names}"
                )
            lines.append(
                f"  {size(sharing.total_bytes)} in all, {size(sharing.stored_bytes)} stored once: "
                f"sharing saves {size(sharing.saved_bytes)}"
            )
        else:
            lines.append("  none: the images share no layer")
        for sc in sharing.same_content:
            where = ", ".join(f"image {selected[i]} layer {li}" for i, li in sc.places)
            lines.append(
                f"  same content on different stacks (not shared): {sc.diff_id[:19]} at {where}"
            )
    return "\n".join(lines) + "\n"


__all__ = ["Change", "select_images", "short_created_by", "to_json", "to_text"]
