"""`layerscope limits`: every safety limit, its default and what it bounds."""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap

from layerscope.cli.exits import EXIT_OK
from layerscope.limits import describe

INTRO = (
    "Archives are untrusted: every size layerscope reads is bounded. When a real archive "
    "goes past a bound, raise it for one command with --limit NAME=N (K, M and G are "
    "binary units: 64G is 64 GiB), e.g. layerscope report big.tar --limit max_layer_bytes=64G."
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "limits",
        help="list the safety limits, their defaults and what they bound",
        description=INTRO,
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rows = describe()
    name_width = max(len(name) for name, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    out = [f"{'limit':<{name_width}}  {'default':>{value_width}}  what it bounds"]
    # the meaning wraps in its own column on a narrow terminal, never under the names
    indent = name_width + 2 + value_width + 2
    room = max(20, shutil.get_terminal_size((120, 24)).columns - 1 - indent)
    for name, value, meaning in rows:
        first, *rest = textwrap.wrap(meaning, room) or [""]
        out.append(f"{name:<{name_width}}  {value:>{value_width}}  {first}")
        out += [" " * indent + line for line in rest]
    out += ["", *textwrap.wrap("Raise one for a command that reads archives with --limit NAME=N.",
                                room + indent)]  # fmt: skip
    sys.stdout.write("\n".join(out) + "\n")
    return EXIT_OK
