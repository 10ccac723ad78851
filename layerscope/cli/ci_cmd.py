"""`layerscope ci`: size rules on images; exit 1 when one fails.

With no rule given it runs dive's `--ci` defaults, reads `.dive-ci` like dive does, and adds
layerscope's own rules on the exact figures (see `ci_config` for where settings come from).
"""

from __future__ import annotations

import argparse
import sys

from layerscope.analysis.dive import dive_figures
from layerscope.analysis.rules import SPECS, evaluate
from layerscope.analysis.waste import analyse_waste
from layerscope.ci_report import ImageResult, ci_json, ci_junit, ci_text, passed
from layerscope.cli.ci_config import build_rules, gather
from layerscope.cli.common import (
    add_image_option,
    add_read_options,
    check_output_file,
    load_archives,
    select,
)
from layerscope.cli.exits import EXIT_OK, EXIT_RULE_FAILED, discard_stdout
from layerscope.cli.jsonout import write_json
from layerscope.errors import LayerscopeError

# dive's own flag spellings, so a `dive --ci --lowestEfficiency=0.95` line carries over
_DIVE_FLAGS = {spec.name: spec.dive_key for spec in SPECS if spec.dive_key}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ci",
        help="check images against size rules (dive's --ci and more); exit 1 when one fails",
        description="Fail a CI job when an image wastes too much or ships what it must not. "
        "With no rule given, dive's defaults apply (lowest-efficiency 0.9, "
        "highest-user-wasted-percent 0.1, on dive's figures); .dive-ci, layerscope.toml or "
        "[tool.layerscope] in pyproject.toml in the current directory are read; flags "
        "override them. A rule takes 'disabled' to switch it off. Exit 0 when every rule "
        "passes, 1 when one fails, 2 when the input or the configuration is unusable.",
        epilog="Sizes: 20MB = 20,000,000 bytes, 20MiB = 20,971,520 (dive's syntax). Patterns "
        "(--forbid, --ignore): .gitignore syntax on the image's paths, e.g. '**/.git/**', "
        "'*.pem', '/root/.cache/'; a pattern matching a directory covers everything in it.",
    )
    p.add_argument("archives", nargs="+", metavar="ARCHIVE")
    dive = p.add_argument_group("dive's rules (on dive's figures; .dive-ci sets them too)")
    own = p.add_argument_group("layerscope's rules (on the exact figures; off unless set)")
    for spec in SPECS:
        group = dive if spec.dive_key else own
        names = [f"--{spec.name}"]
        if spec.name in _DIVE_FLAGS:
            names.append(f"--{_DIVE_FLAGS[spec.name]}")
        if spec.name == "forbid":
            group.add_argument(
                *names, action="append", default=[], metavar="PATTERN", help=spec.help
            )
            continue
        metavar = {"max-bytes": "SIZE", "max-count": "N"}.get(spec.kind, "RATIO")
        default = "" if spec.default == "disabled" else f" (dive's default: {spec.default})"
        group.add_argument(
            *names, dest=spec.name.replace("-", "_"), metavar=metavar, help=spec.help + default
        )
    own.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave matching paths out of the waste figures of every rule: their bytes are "
        "not waste (sizes stay as they are); repeatable",
    )
    conf = p.add_argument_group("configuration and output")
    where = conf.add_mutually_exclusive_group()
    where.add_argument(
        "--config",
        "--ci-config",
        metavar="FILE",
        help="read settings from FILE only (.dive-ci YAML, layerscope.toml, or pyproject.toml)",
    )
    where.add_argument(
        "--no-config", action="store_true", help="read no config file, only defaults and flags"
    )
    conf.add_argument(
        "--top", type=int, default=5, metavar="N", help="offenders listed per failing rule (5)"
    )
    conf.add_argument(
        "--junit-xml", metavar="FILE", help="also write the outcome as a JUnit XML report"
    )
    conf.add_argument("--json", action="store_true", help="print the outcome as JSON")
    add_image_option(p)
    add_read_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    flags = {
        spec.name: getattr(args, spec.name.replace("-", "_"))
        for spec in SPECS
        if spec.name != "forbid" and getattr(args, spec.name.replace("-", "_")) is not None
    }
    settings = gather(
        flags, args.forbid, args.ignore, config=args.config, use_files=not args.no_config
    )
    for note in settings.notes:
        sys.stderr.write(f"layerscope: note: {note}\n")
    rules, ignore = build_rules(settings)
    if args.top < 0:
        raise LayerscopeError("--top: must be 0 or more")
    if args.junit_xml is not None:
        check_output_file("--junit-xml", args.junit_xml)

    analysis = load_archives(args)
    results: list[ImageResult] = []
    for i in select(analysis, args.image):
        image, waste, dive = analysis.images[i], analysis.waste[i], analysis.dive[i]
        if ignore is not None:
            waste = analyse_waste(image, ignore=ignore.matches)
            dive = dive_figures(image, ignore=ignore.matches)
        results.append(ImageResult(i, evaluate(rules, image, waste, dive, top=args.top)))

    ignored = [p for p, _ in settings.ignore]
    if args.junit_xml:
        try:
            with open(args.junit_xml, "wb") as f:
                f.write(ci_junit(analysis, results))
        except OSError as exc:
            raise LayerscopeError(
                f"--junit-xml {args.junit_xml}: cannot write it ({exc.strerror or exc})"
            ) from None
    verdict = EXIT_OK if passed(results) else EXIT_RULE_FAILED
    try:
        if args.json:
            write_json(ci_json(analysis, results, settings.files, ignored), sys.stdout)
        else:
            sys.stdout.write(ci_text(analysis, results, settings.files, ignored))
        sys.stdout.flush()
    except BrokenPipeError:  # `layerscope ci ... | head`: the reader left; the verdict stands
        discard_stdout()
    return verdict
