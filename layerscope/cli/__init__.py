"""The `layerscope` command. Each subcommand lives in its own module (`*_cmd.py`) with an
`add_parser(sub)` that sets `run`; this module builds the parser and keeps the promise of
docs/REPORT.md's exit codes: one line on stderr for any failure, never a traceback.

Only the module of the command being run is imported (all of them for `--help` or a
mistyped command): `report` never pays for the HTTP, YAML or Qt libraries other commands
use, so a reopen from the cache is not dominated by start-up; and a command that reads no
archive (`limits`) does not import the reader: this module takes the exit codes from
exits.py, not from common.py.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn, cast

from layerscope.cli.exits import (
    EXIT_OK,
    EXIT_RULE_FAILED,
    EXIT_UNUSABLE,
    discard_stdout,
    fail,
)
from layerscope.errors import Cancelled, LayerscopeError

__all__ = ["EXIT_OK", "EXIT_RULE_FAILED", "EXIT_UNUSABLE", "main", "open_main"]

# command -> its module in layerscope.cli, in the order `--help` lists them
SUBCOMMANDS = {
    "report": "report_cmd",
    "ci": "ci_cmd",
    "diff": "diff_cmd",
    "extract": "extract_cmd",
    "open": "open_cmd",
    "limits": "limits_cmd",
    "install-desktop-entry": "install_desktop_entry_cmd",
}


class _Version(argparse.Action):
    """--version, looked up only when asked for (see layerscope.__version__)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object):
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, default=argparse.SUPPRESS,
                         help="show the version and exit")  # fmt: skip

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kw: object) -> None:
        import layerscope

        sys.stdout.write(f"layerscope {layerscope.__version__}\n")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    """argparse, with a wrong command line said in one line (the exit-code contract) that
    points at the command's --help instead of printing its usage block."""

    def error(self, message: str) -> NoReturn:
        one_line = " ".join(message.split())
        self.exit(EXIT_UNUSABLE, f"{self.prog}: {one_line} (see {self.prog} --help)\n")


def _parser(
    argv: Sequence[str],
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]:
    """The parser, and its commands (each a parser of its own)."""
    parser = _Parser(
        prog="layerscope",
        description="Look inside container image archives: layers, changes, wasted space. "
        "Without a command, the desktop app opens (as `layerscope open`).",
        epilog="`layerscope COMMAND --help` says what each command takes. Exit codes: 0 ok, "
        "1 a ci rule failed, 2 unusable input or a wrong command line (one line on stderr).",
    )
    parser.add_argument("--version", action=_Version)
    # the commands' parsers are _Parsers too (argparse makes them of the parser's class)
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND"),
    )
    # The command is the first word that is not an option (the top level has no option
    # that takes a value); anything else (no command, --help, a typo) gets every command.
    command = next((a for a in argv if not a.startswith("-")), None)
    wanted = [command] if command in SUBCOMMANDS else list(SUBCOMMANDS)
    for name in wanted:
        importlib.import_module(f"layerscope.cli.{SUBCOMMANDS[name]}").add_parser(sub)
    return parser, sub


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Non-UTF-8 names from archives are kept as surrogate escapes; never crash printing them.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    collecting = gc.isenabled()
    gc.disable()  # the command's modules are imported here: they and theirs live until exit,
    try:  # and gen-0 and gen-1 passes over them were 3 ms of a 0.12 s reopen
        parser, commands = _parser(argv)
    finally:
        gc.freeze()  # out of every later pass too
        if collecting:
            gc.enable()
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the command that was given, whose --help lists what it takes
        command = commands.choices.get(getattr(args, "command", None) or "", parser)
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    collecting = gc.isenabled()  # a command turns the collector off once it has loaded
    try:
        return _run(args, argv)
    finally:
        if collecting:
            gc.enable()  # as it was, for a caller in the same process (tests, scripts)


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    """The command, its failures turned into the exit codes of docs/REPORT.md."""
    try:
        run = getattr(args, "run", None)
        if run is None:  # `layerscope` alone: the desktop app, empty
            from layerscope.cli.open_cmd import open_gui  # not paid by the other commands

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
        discard_stdout()
        return EXIT_OK
    except OSError as exc:
        if exc.strerror and exc.filename:  # as a person reads it: the file and the problem
            return fail(f"{exc.filename}: {exc.strerror}", EXIT_UNUSABLE)
        return fail(f"{type(exc).__name__}: {exc}", EXIT_UNUSABLE)
    except (MemoryError, RecursionError) as exc:
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
