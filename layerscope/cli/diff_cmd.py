"""`layerscope diff A B`: what differs between two layers or two images."""

from __future__ import annotations

import argparse
import sys

from layerscope.analysis.diff import Side, diff
from layerscope.cli.common import add_read_options, load_archives
from layerscope.cli.exits import EXIT_OK
from layerscope.cli.jsonout import write_json
from layerscope.cli.specs import parse_image_spec, resolve
from layerscope.diff_report import diff_json, diff_text

SPEC_HELP = (
    "ARCHIVE[:IMAGE][@LAYER]: IMAGE is an index within the archive, a ref or a platform "
    "(linux/arm64); LAYER a layer index. Without @LAYER: the image's final filesystem."
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diff",
        help="compare two layers or two images: added, removed, changed paths",
        description="Compare the filesystems of two layers of one image, or of two images "
        "(from one archive or two). Layers both stacks share are named, and only what "
        "follows them is compared. " + SPEC_HELP + " Example: layerscope diff app.tar@5 "
        "app.tar@6 (what layer 6 changed). Exit codes: 0 ok, 2 unusable input or a wrong "
        "command line.",
    )
    p.add_argument("a", metavar="A", help="the old side, ARCHIVE[:IMAGE][@LAYER]")
    p.add_argument("b", metavar="B", help="the new side, written the same way")
    p.add_argument("--json", action="store_true", help="print the JSON (docs/DIFF.md)")
    p.add_argument(
        "--ignore-timestamps",
        action="store_true",
        help="modification times alone do not make a change (reproducible builds)",
    )
    add_read_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    spec_a, spec_b = parse_image_spec(args.a), parse_image_spec(args.b)
    archives: list[str] = []
    for spec in (spec_a, spec_b):
        if spec.archive not in archives:
            archives.append(spec.archive)
    analysis = load_archives(args, archives)
    a = resolve(spec_a, analysis, archives.index(spec_a.archive))
    b = resolve(spec_b, analysis, archives.index(spec_b.archive))
    result = diff(
        Side(a.image(analysis), a.layer),
        Side(b.image(analysis), b.layer),
        ignore_timestamps=args.ignore_timestamps,
    )
    if args.json:
        write_json(diff_json(result), sys.stdout)
    else:
        sys.stdout.write(diff_text(result))
    return EXIT_OK
