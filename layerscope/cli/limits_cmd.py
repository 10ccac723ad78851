"""`layerscope limits`: every safety limit, its default and what it bounds."""

from __future__ import annotations

import argparse
import sys

from layerscope.cli.common import EXIT_OK
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
    out += [f"{n:<{name_width}}  {v:>{value_width}}  {m}" for n, v, m in rows]
    out += ["", "Raise one for a command that reads archives with --limit NAME=N."]
    sys.stdout.write("\n".join(out) + "\n")
    return EXIT_OK
