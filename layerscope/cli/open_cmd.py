"""`layerscope open`: the desktop app, imported only when asked for (the core has no Qt)."""

from __future__ import annotations

import argparse
import os
from importlib import resources

from layerscope.cache import NO_CACHE_ENV
from layerscope.cli.common import add_read_options, limits_from
from layerscope.cli.remote_options import remote_options_from
from layerscope.errors import LayerscopeError
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.remote import RemoteOptions


def sample_archive() -> str:
    """The bundled sample: a real podman-written docker-archive."""
    return str(resources.files("layerscope") / "data" / "sample-app-docker.tar")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "open",
        help="open archives in the desktop app",
        description="Open ARCHIVEs in the desktop app (several at once; with none, the window "
        "opens empty, as `layerscope` alone does). It needs a screen: without one it says "
        "what is missing in one line and exits 2.",
    )
    p.add_argument("archives", nargs="*", metavar="ARCHIVE")
    p.add_argument("--sample", action="store_true", help="open the bundled sample archive")
    add_read_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    paths = list(args.archives)
    if args.sample:
        paths.append(sample_archive())
    if args.no_cache:
        os.environ[NO_CACHE_ENV] = "1"  # the window's loads run in this process
    return open_gui(paths, limits_from(args.limit), args.verify, remote_options_from(args))


def open_gui(
    paths: list[str],
    limits: Limits = DEFAULT_LIMITS,
    verify: bool = False,
    remote: RemoteOptions | None = None,
) -> int:
    """Run the window on `paths`; one line (exit 2) instead of Qt's abort when it cannot."""
    from layerscope.desktop.display import display_problem, missing_library, missing_library_message

    problem = display_problem()
    if problem is not None:
        raise LayerscopeError(f"cannot open the window: {problem}")
    # The readers' fork server starts, and the first archive's load runs, while Qt is
    # imported and the window is built.
    from layerscope.gui.head_start import begin

    head_start = begin(paths, limits=limits, verify=verify, remote=remote)
    try:
        try:
            from layerscope.gui.app import main as gui_main  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:  # a library Qt links against is missing
            soname = missing_library(str(exc))
            reason = missing_library_message(soname) if soname else str(exc)
            raise LayerscopeError(f"cannot open the window: {reason}") from None
        return int(
            gui_main(paths, limits=limits, verify=verify, remote=remote, head_start=head_start)
        )
    finally:
        if head_start is not None:  # not taken, or still running as the window closed
            head_start.stop()
