"""`layerscope report`: the JSON contract (docs/REPORT.md) or a readable report."""

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

EPILOG = """\
figures:
  size         bytes of file content (regular files) the layers ship
  stored       the layers as the archive holds them: compressed, or for an
               uncompressed layer its whole tar, headers and padding included
  reclaimable  file bytes the layers ship that the final filesystem does not
               show: what squashing would save; efficiency = 1 - reclaimable/size
  dead         one layer's part of reclaimable
  dive would say  dive's own figures, so .dive-ci thresholds carry over

Every JSON field and figure is defined in docs/REPORT.md in layerscope's
source. The safety limits and their defaults: layerscope limits.
Exit codes: 0 ok, 2 unusable input or a wrong command line (one line on stderr).
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="analyse archives and print a report (text, or JSON with --json)",
        description="Analyse image archives (docker save / podman save tars, oci-archives,\n"
        "OCI layout or docker-dir directories, optionally gzip/zstd-compressed).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("archives", nargs="+", metavar="ARCHIVE")
    p.add_argument(
        "--json", action="store_true", help="print the JSON report (fields: see the end)"
    )
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
