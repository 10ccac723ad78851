"""The `layerscope` command. Each subcommand lives in its own module (`*_cmd.py`) with an
`add_parser(sub)` that sets `run`; this module builds the parser and keeps the promise of
docs/REPORT.md's exit codes: one line on stderr for any failure, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from layerscope.cli import (
    ci_cmd,
    diff_cmd,
    extract_cmd,
    install_desktop_entry_cmd,
    limits_cmd,
    open_cmd,
    report_cmd,
)
from layerscope.cli.common import EXIT_OK, EXIT_RULE_FAILED, EXIT_UNUSABLE, fail
from layerscope.cli.open_cmd import open_gui, sample_archive
from layerscope.errors import Cancelled, LayerscopeError

__all__ = ["EXIT_OK", "EXIT_RULE_FAILED", "EXIT_UNUSABLE", "main", "open_main", "sample_archive"]

SUBCOMMANDS = (
    report_cmd,
    ci_cmd,
    diff_cmd,
    extract_cmd,
    open_cmd,
    limits_cmd,
    install_desktop_entry_cmd,
)


def _version() -> str:
    try:
        from importlib.metadata import version

        return f"layerscope {version('layerscope')}"
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "layerscope (source tree)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerscope",
        description="Look inside container image archives: layers, changes, wasted space.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in SUBCOMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Non-UTF-8 names from archives are kept as surrogate escapes; never crash printing them.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    try:
        run = getattr(args, "run", None)
        if run is None:  # `layerscope` alone: the desktop app, empty
            return open_gui([])
        return int(run(args))
    except Cancelled:
        return fail("cancelled", 130)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except LayerscopeError as exc:
        return fail(str(exc), EXIT_UNUSABLE)
    except BrokenPipeError:
        # `layerscope report x | head`: the reader left; not an error worth a message
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (OSError, MemoryError, RecursionError) as exc:
        return fail(f"{type(exc).__name__}: {exc}", EXIT_UNUSABLE)
    except Exception as exc:  # noqa: BLE001 - the contract is one line, never a traceback
        if os.environ.get("LAYERSCOPE_DEBUG"):
            raise
        inputs = " ".join(argv[1:])[:200]
        return fail(
            f"unexpected {type(exc).__name__} while reading {inputs}: {exc} "
            "(set LAYERSCOPE_DEBUG=1 for a traceback)",
            EXIT_UNUSABLE,
        )


def open_main() -> int:
    """The `layerscope-gui` script and `python -m layerscope.gui`: `layerscope open ARGS`."""
    return main(["open", *sys.argv[1:]])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
