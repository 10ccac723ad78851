"""The `layerscope` command: `report` for terminals and CI, `open` for the desktop app.

Exit codes (REPORT.md): 0 success, 1 a ci rule failed, 2 unusable input or a wrong
command line, always with one line on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from importlib import resources

from layerscope.analysis import Analysis
from layerscope.analysis.rules import RULES, evaluate, make_rule
from layerscope.errors import Cancelled, LayerscopeError
from layerscope.limits import DEFAULT_LIMITS, Limits, parse_limit_option
from layerscope.load import Progress, load
from layerscope.report import ci_text, select_images, to_json, to_text

EXIT_OK = 0
EXIT_RULE_FAILED = 1
EXIT_UNUSABLE = 2


def sample_archive() -> str:
    """The bundled sample: a real podman-written docker-archive."""
    return str(resources.files("layerscope") / "data" / "sample-app-docker.tar")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerscope",
        description="Look inside container image archives: layers, changes, wasted space.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    report = sub.add_parser(
        "report",
        help="analyse archives and print a report (text, or JSON with --json)",
        description="Analyse image archives (docker save / podman save tars, oci-archives, "
        "OCI layout or docker-dir directories, optionally gzip/zstd-compressed).",
    )
    report.add_argument("archives", nargs="+", metavar="ARCHIVE")
    report.add_argument("--json", action="store_true", help="print the JSON report (REPORT.md)")
    report.add_argument("--files", action="store_true", help="list every changed path per layer")
    report.add_argument("--image", metavar="REF_OR_INDEX", help="only this image (index or ref)")
    report.add_argument(
        "--top", type=int, default=10, metavar="N", help="wasted files listed in text (10)"
    )
    _add_read_options(report)

    ci = sub.add_parser(
        "ci",
        help="check images against size thresholds; exit 1 when a rule fails",
        description="Fail a CI job when an image wastes too much. dive's rule names and "
        "figures (--lowest-efficiency, --highest-wasted-bytes, --highest-user-wasted-percent) "
        "carry .dive-ci thresholds over; --min-efficiency and --max-reclaimable use the exact "
        "figures.",
    )
    ci.add_argument("archives", nargs="+", metavar="ARCHIVE")
    for name, (kind, figure) in RULES.items():
        example = "20MB" if kind == "max-bytes" else "0.9"
        ci.add_argument(f"--{name}", metavar=example, help=f"threshold on the {figure}")
    ci.add_argument("--image", metavar="REF_OR_INDEX", help="only this image (index or ref)")
    ci.add_argument("--json", action="store_true", help="print the outcome as JSON")
    _add_read_options(ci)

    open_ = sub.add_parser("open", help="open archives in the desktop app")
    open_.add_argument("archives", nargs="*", metavar="ARCHIVE")
    open_.add_argument("--sample", action="store_true", help="open the bundled sample archive")
    _add_read_options(open_)
    return parser


def _add_read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--verify", action="store_true", help="also check compressed blobs against their digests"
    )
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=N",
        help="raise a safety limit, e.g. --limit max_layer_bytes=64G (see `layerscope/limits.py`)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def _version() -> str:
    try:
        from importlib.metadata import version

        return f"layerscope {version('layerscope')}"
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "layerscope (source tree)"


def _limits(options: list[str]) -> Limits:
    overrides = dict(parse_limit_option(o) for o in options)
    return DEFAULT_LIMITS.with_overrides(overrides)


class _StderrProgress:
    """A one-line progress indicator on stderr, only when stderr is a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.1:
            return
        self._last = now
        pct = f"{p.done / p.total:4.0%} " if p.total else ""
        sys.stderr.write(f"\r\033[K{pct}{p.stage[:70]}")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _report(args: argparse.Namespace) -> int:
    analysis = _load(args)
    selected = _select(analysis, args.image)
    if args.json:
        json.dump(to_json(analysis, selected, files=args.files), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(to_text(analysis, selected, files=args.files, top=args.top))
    return EXIT_OK


def _ci(args: argparse.Namespace) -> int:
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
    analysis = _load(args)
    selected = _select(analysis, args.image)
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


def _load(args: argparse.Namespace) -> Analysis:
    limits = _limits(args.limit)
    progress = _StderrProgress(not args.quiet)
    try:
        return load(args.archives, limits=limits, progress=progress, verify=args.verify)
    finally:
        progress.done()


def _select(analysis: Analysis, selector: str | None) -> list[int]:
    try:
        return select_images(analysis, selector)
    except LookupError as exc:
        raise LayerscopeError(str(exc)) from None


def _open_gui(paths: list[str], limits: Limits = DEFAULT_LIMITS, verify: bool = False) -> int:
    try:
        from layerscope.gui.app import main as gui_main  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:  # Qt runtime libraries missing
        raise LayerscopeError(f"the desktop app cannot start: {exc}") from None
    return int(gui_main(paths, limits=limits, verify=verify))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Non-UTF-8 names from archives are kept as surrogate escapes; never crash printing them.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "report":
            return _report(args)
        if args.command == "ci":
            return _ci(args)
        if args.command == "open":
            paths = list(args.archives)
            if args.sample:
                paths.append(sample_archive())
            return _open_gui(paths, _limits(args.limit), args.verify)
        return _open_gui([])
    except Cancelled:
        return _fail("cancelled", 130)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except LayerscopeError as exc:
        return _fail(str(exc), EXIT_UNUSABLE)
    except BrokenPipeError:
        # `layerscope report x | head`: the reader left; not an error worth a message
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (OSError, MemoryError, RecursionError) as exc:
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_UNUSABLE)
    except Exception as exc:  # noqa: BLE001 - the contract is one line, never a traceback
        if os.environ.get("LAYERSCOPE_DEBUG"):
            raise
        inputs = " ".join(argv[1:])[:200]
        return _fail(
            f"unexpected {type(exc).__name__} while reading {inputs}: {exc} "
            "(set LAYERSCOPE_DEBUG=1 for a traceback)",
            EXIT_UNUSABLE,
        )


def _fail(message: str, code: int) -> int:
    """One line on stderr, whatever the message holds."""
    sys.stderr.write("layerscope: " + " ".join(message.split()) + "\n")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
