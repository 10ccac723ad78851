"""`layerscope ci`: thresholds on the figures; exit 1 when a rule fails."""

from __future__ import annotations

import argparse
import json
import sys

from layerscope.analysis.rules import RULES, evaluate, make_rule
from layerscope.cli.common import (
    EXIT_OK,
    EXIT_RULE_FAILED,
    add_image_option,
    add_read_options,
    load_archives,
    select,
)
from layerscope.errors import LayerscopeError
from layerscope.report import ci_text


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ci",
        help="check images against size thresholds; exit 1 when a rule fails",
        description="Fail a CI job when an image wastes too much. dive's rule names and "
        "figures (--lowest-efficiency, --highest-wasted-bytes, --highest-user-wasted-percent) "
        "carry .dive-ci thresholds over; --min-efficiency and --max-reclaimable use the exact "
        "figures.",
    )
    p.add_argument("archives", nargs="+", metavar="ARCHIVE")
    for name, (kind, figure) in RULES.items():
        example = "20MB" if kind == "max-bytes" else "0.9"
        p.add_argument(f"--{name}", metavar=example, help=f"threshold on the {figure}")
    add_image_option(p)
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add_read_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rules = []
    for name in RULES:
        value = getattr(args, name.replace("-", "_"))
        if value is not None:
            try:
                rules.append(make_rule(name, value))
            except ValueError as exc:
                raise LayerscopeError(f"--{name}: {exc}") from None
    if not rules:
        raise LayerscopeError("ci: give at least one rule, e.g. --lowest-efficiency 0.9")
    analysis = load_archives(args)
    selected = select(analysis, args.image)
    results = [(i, evaluate(rules, analysis.waste[i], analysis.dive[i])) for i in selected]
    passed = all(o.passed for _i, outcomes in results for o in outcomes)
    if args.json:
        doc = {
            "schema": "layerscope.ci/1",
            "passed": passed,
            "images": [
                {
                    "image": i,
                    "ref": analysis.images[i].ref,
                    "platform": analysis.images[i].platform,
                    "rules": [
                        {
                            "rule": o.rule.name,
                            "figure": o.rule.figure,
                            "limit": o.rule.limit,
                            "actual": o.actual,
                            "passed": o.passed,
                        }
                        for o in outcomes
                    ],
                }
                for i, outcomes in results
            ],
        }
        json.dump(doc, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(ci_text(analysis, results, passed))
    return EXIT_OK if passed else EXIT_RULE_FAILED
