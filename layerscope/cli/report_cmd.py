"""`layerscope report`: a readable report, the JSON contract (docs/REPORT.md), a
self-contained HTML page or GitHub-flavoured Markdown, on stdout or in a file."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from layerscope.cli.common import (
    EpilogFormatter,
    add_image_option,
    add_read_options,
    check_output_file,
    load_archives,
    select,
)
from layerscope.cli.exits import EXIT_OK
from layerscope.cli.jsonout import write_json
from layerscope.errors import LayerscopeError
from layerscope.publish import FORMATS, format_for_path, render
from layerscope.report import to_json

EPILOG = """\
figures:
  size         bytes of file content (regular files) the layers ship
  stored       the layers as the archive holds them: compressed, or for an
               uncompressed layer its whole tar, headers and padding included
  reclaimable  file bytes the layers ship that the final filesystem does not
               show: what squashing would save; efficiency = 1 - reclaimable/size
  dead         one layer's part of reclaimable
  dive would say  dive's own figures, so .dive-ci thresholds carry over

formats: text (default); json, the contract; html, one self-contained page
(layers with live and dead bytes, wasted files, packages, shared layers, a
zoomable treemap); markdown, sized for a pull-request comment or
$GITHUB_STEP_SUMMARY. --output FILE writes it to a file (report.html: html).

Every JSON field and figure is defined in docs/REPORT.md in layerscope's
source. The safety limits and their defaults: layerscope limits.
Exit codes: 0 ok, 2 unusable input or a wrong command line (one line on stderr).
"""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="analyse archives and print a report (text, JSON, HTML or Markdown)",
        description="Analyse image archives (docker save / podman save tars, oci-archives, "
        "OCI layout or docker-dir directories, optionally gzip/zstd-compressed).",
        epilog=EPILOG,
        formatter_class=EpilogFormatter,
    )
    p.add_argument("archives", nargs="+", metavar="ARCHIVE")
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="text, json (the contract, docs/REPORT.md), html or markdown (default: text, "
        "or with --output what the file's extension names: html, md, json)",
    )
    p.add_argument(
        "--json", action="store_true", help="the same as --format json (fields: see the end)"
    )
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout"
    )
    p.add_argument(
        "--files",
        action="store_true",
        help="list every changed path per layer, and its package (text and json)",
    )
    add_image_option(p)
    p.add_argument(
        "--top",
        type=int,
        metavar="N",
        help="items per list: text and markdown 10, html 100",
    )
    add_read_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    fmt = args.format or ("json" if args.json else None)
    if fmt is None:  # `-o report.html` asks for the page, as the window's export does
        fmt = format_for_path(args.output, default="text") if args.output else "text"
    if args.json and fmt != "json":
        raise LayerscopeError(f"--json and --format {fmt}: choose one")
    if args.files and fmt not in ("text", "json"):
        raise LayerscopeError(f"--files lists paths in the text and JSON reports, not in {fmt}")
    if args.top is not None and args.top < 0:
        raise LayerscopeError("--top: must be 0 or more")
    if args.output is not None:
        check_output_file("--output", args.output)
    analysis = load_archives(args)
    selected = select(analysis, args.image)
    if fmt == "json":  # the contract, by the CLI's quick writer (cli/jsonout.py)
        document = to_json(analysis, selected, files=args.files, stream=True)

        def write(out: TextIO) -> None:
            write_json(document, out)

    else:
        text = render(analysis, selected, fmt, top=args.top, files=args.files)

        def write(out: TextIO) -> None:
            out.write(text)

    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8", errors="backslashreplace") as f:
                write(f)
        except OSError as exc:
            raise LayerscopeError(
                f"--output {args.output}: cannot write it ({exc.strerror or exc})"
            ) from None
    else:
        write(sys.stdout)
    return EXIT_OK
