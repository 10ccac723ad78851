"""`layerscope report`: the JSON contract (REPORT.md) or a readable report."""

from __future__ import annotations

import argparse
import json
import sys

from layerscope.cli.common import (
    EXIT_OK,
    add_image_option,
    add_read_options,
    load_archives,
    select,
)
from layerscope.report import to_json, to_text


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="analyse archives and print a report (text, or JSON with --json)",
        description="Analyse image archives (docker save / podman save tars, oci-archives, "
        "OCI layout or docker-dir directories, optionally gzip/zstd-compressed).",
    )
    p.add_argument("archives", nargs="+", metavar="ARCHIVE")
    p.add_argument("--json", action="store_true", help="print the JSON report (REPORT.md)")
    p.add_argument("--files", action="store_true", help="list every changed path per layer")
    add_image_option(p)
    p.add_argument(
        "--top", type=int, default=10, metavar="N", help="wasted files listed in text (10)"
    )
    add_read_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    analysis = load_archives(args)
    selected = select(analysis, args.image)
    if args.json:
        json.dump(to_json(analysis, selected, files=args.files), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(analysis, selected, files=args.files, top=args.top))
    return EXIT_OK
