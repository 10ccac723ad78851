"""`report --format markdown`: GitHub-flavoured Markdown for a pull-request comment or a CI
step summary ($GITHUB_STEP_SUMMARY). Sized for a comment: the figures, the layers, and the
top items of each list, with the rest counted.

Archive text (paths, commands, refs) is untrusted: each piece is a code span (`code`), so no
name can close a table cell (`|`), open a tag (`<script>`), a link or an image, mention a
user, start emphasis, or break the table with a newline.
"""

from __future__ import annotations

import re

from layerscope.analysis import Analysis
from layerscope.analysis.shared import analyse_sharing
from layerscope.format import human_size as size
from layerscope.format import ratio_text, short_command, when
from layerscope.report import package_change_words, runs_summary

MAX_LAYER_ROWS = 40
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_TICKS = re.compile(r"`+")


def code(text: object, limit: int = 0) -> str:
    """Archive text as a literal code span in a table cell: one line, nothing interpreted.

    A code span shows `<script>`, `*`, `[x](y)`, `@user` and URLs as they are (no tags, no
    emphasis, no links, no mentions); its fence is longer than any run of backticks inside;
    `|` is escaped, as GitHub's tables require even in code spans.
    """
    s = _CONTROL.sub(" ", str(text))
    if limit and len(s) > limit:
        s = s[: limit - 1] + "…"
    if not s:
        return ""
    fence = "`" * (max((len(m) for m in _TICKS.findall(s)), default=0) + 1)
    return f"{fence} {s.replace('|', chr(92) + '|')} {fence}"


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def to_markdown(analysis: Analysis, selected: list[int], *, top: int = 10) -> str:
    lines: list[str] = []
    sharing = analyse_sharing([analysis.images[i] for i in selected])
    for pos, i in enumerate(selected):
        image, waste, dive = analysis.images[i], analysis.waste[i], analysis.dive[i]
        packages = analysis.packages[i]
        title = image.ref or "(untagged) " + image.config_digest[:19]
        lines.append(f"### Image {i}: {code(title)}")
        lines.append("")
        facts = [
            f"{code(image.platform or 'unknown')}",
            f"created {code(when(image.config.created, ago=False) or 'unknown')}",
        ]
        runs = runs_summary(image)
        if runs:
            facts.append(f"runs {code(runs, 120)}")
        lines.append(" · ".join(facts))
        lines.append("")
        lines.append(_row("size", "layers", "efficiency", "reclaimable", "dive efficiency",
                          "dive wasted", "dive user-wasted"))  # fmt: skip
        lines.append("|---:|---:|---:|---:|---:|---:|---:|")
        lines.append(
            _row(
                size(image.size_bytes),
                len(image.layers),
                ratio_text(waste.efficiency),
                size(waste.reclaimable_bytes),
                ratio_text(dive.efficiency),
                size(dive.wasted_bytes),
                ratio_text(dive.user_wasted_percent),
            )
        )
        lines.append("")
        lines.append("<details open><summary>Layers</summary>")
        lines.append("")
        with_packages = packages.found
        head = ["#", "size", "dead", "+add", "~mod", "−del"]
        head += ["packages", "created by"] if with_packages else ["created by"]
        lines.append(_row(*head))
        lines.append("|---:|---:|---:|---:|---:|---:|" + ("---|" * (len(head) - 6)))
        for layer in image.layers[:MAX_LAYER_ROWS]:
            c = image.filesystem.counts[layer.index]
            dead = waste.dead_bytes[layer.index]
            shared = " (shared)" if sharing.shared_with[pos][layer.index] else ""
            cells: list[object] = [
                f"{layer.index}{shared}",
                size(layer.size_bytes),
                size(dead) if dead else "–",
                c.added,
                c.modified,
                c.deleted,
            ]
            if with_packages:
                words = package_change_words(packages.layers[layer.index], 2)
                cells.append(code(", ".join(words), 80) if words else "")
            cells.append(code(short_command(layer.created_by) or "–", 90))
            lines.append(_row(*cells))
        if len(image.layers) > MAX_LAYER_ROWS:
            lines.append("")
            lines.append(f"… and {len(image.layers) - MAX_LAYER_ROWS} more layers")
        lines.append("")
        lines.append("</details>")
        lines.append("")
        if waste.dead_files:
            lines.append(f"**Largest wasted files** ({len(waste.dead_files)} in all)")
            lines.append("")
            lines.append(_row("bytes", "path", "shipped by", "why"))
            lines.append("|---:|---|---:|---|")
            for d in waste.dead_files[:top]:
                why = (
                    "shipped twice in that layer"
                    if d.killed_by is None
                    else f"{d.fate} in layer {d.killed_by}"
                )
                lines.append(_row(size(d.size), code(d.path, 120), f"layer {d.layer}", why))
            if len(waste.dead_files) > top:
                lines.append("")
                lines.append(f"… and {len(waste.dead_files) - top} more")
            lines.append("")
        if packages.found:
            changed = [(k, lp) for k, lp in enumerate(packages.layers) if lp.changed]
            lines.append(f"**Packages** ({len(packages.installed)} installed at the end)")
            lines.append("")
            lines.append(_row("layer", "changes"))
            lines.append("|---:|---|")
            for k, lp in changed:
                words = package_change_words(lp, top)
                lines.append(_row(k, code(", ".join(words), 400)))
            lines.append("")
        for note in packages.notes:
            lines.append(f"> note: {code(note, 200)}")
            lines.append("")
    if len(selected) > 1:
        lines.append("**Shared layers**")
        lines.append("")
        if sharing.layers:
            lines.append(_row("layer", "size", "images"))
            lines.append("|---:|---:|---|")
            for s in sharing.layers[:top]:
                names = ", ".join(str(selected[i]) for i in s.images)
                lines.append(_row(s.layer_index, size(s.size_bytes), names))
            lines.append("")
            lines.append(
                f"{size(sharing.total_bytes)} in all, {size(sharing.stored_bytes)} stored once: "
                f"sharing saves {size(sharing.saved_bytes)}"
            )
        else:
            lines.append("None: the images share no layer.")
        lines.append("")
    lines.append("<sub>layerscope report</sub>")
    return "\n".join(lines) + "\n"
