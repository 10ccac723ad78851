"""What every subcommand that reads archives shares: reading options, loading with
progress, image selection. (The exit codes are in exits.py.)
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

from layerscope.analysis import Analysis
from layerscope.cache import ENV_DIR, Cache, default_dir
from layerscope.cli.remote_options import add_remote_options, remote_options_from
from layerscope.errors import LayerscopeError
from layerscope.limits import DEFAULT_LIMITS, Limits, parse_limit_option
from layerscope.load import Progress, load
from layerscope.report import select_images


class EpilogFormatter(argparse.HelpFormatter):
    """Help whose hand-laid-out texts (an epilog of aligned columns: any text with a line
    break) keep their lines, while one-paragraph texts (descriptions, option groups') are
    wrapped to the terminal as usual."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def add_read_options(p: argparse.ArgumentParser) -> None:
    """Options of every subcommand that reads archives."""
    p.add_argument(
        "--verify", action="store_true", help="also check compressed blobs against their digests"
    )
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=N",
        help="raise a safety limit, e.g. --limit max_layer_bytes=64G "
        "(`layerscope limits` lists them, with their defaults)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="neither use nor fill the cache of layers and analyses read before "
        f"(kept in {default_dir()}; {ENV_DIR} moves it)",
    )
    add_remote_options(p)


def add_image_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--image",
        metavar="REF_OR_INDEX",
        help="only the images this names: an index (0, 1, ...), a ref or part of one, the "
        "start of the config digest, or a platform (linux/arm64)",
    )


def check_output_file(option: str, path: str) -> None:
    """Refuse, before any work, a file destination that cannot be written: one line naming
    the option, instead of an OSError once the archive has been read."""
    if not path:
        raise LayerscopeError(f"{option} needs a path, not an empty name")
    if os.path.isdir(path):
        raise LayerscopeError(f"{option} {path}: is a directory")
    parent = os.path.dirname(path) or "."
    if not os.path.isdir(parent):
        raise LayerscopeError(f"{option} {path}: no such directory {parent}")
    if not os.access(parent, os.W_OK):
        raise LayerscopeError(f"{option} {path}: the directory {parent} is not writable")


def check_output_dir(option: str, path: str) -> None:
    """The same for a directory that is made if missing: what exists of it must be a
    writable directory."""
    if not path:
        raise LayerscopeError(f"{option} needs a path, not an empty name")
    existing = path
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing.rstrip(os.sep)) or "."
    if not os.path.isdir(existing):
        what = path if existing == path else f"{existing} (in {path})"
        raise LayerscopeError(f"{option} {path}: {what} is not a directory")
    if not os.access(existing, os.W_OK):
        raise LayerscopeError(f"{option} {path}: the directory {existing} is not writable")


def limits_from(options: list[str]) -> Limits:
    overrides = dict(parse_limit_option(o) for o in options)
    return DEFAULT_LIMITS.with_overrides(overrides)


class StderrProgress:
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
        # one line that fits the terminal: a wrapped one would not be erased by the next
        import shutil  # (here: a quiet command never draws, and a reopen is 0.1 s)

        room = max(10, shutil.get_terminal_size((80, 24)).columns - 1)
        sys.stderr.write(f"\r\033[K{(pct + p.stage)[:room]}")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def load_archives(args: argparse.Namespace, paths: list[str] | None = None) -> Analysis:
    """Load `paths` (default `args.archives`) with the reading options, showing progress on a
    terminal. A cache that cannot be written is said once on stderr; the load goes on.

    What is loaded lives as long as the command, so the cyclic garbage collector is kept
    from walking it: load() keeps it off while loading, and what it made is frozen here.
    Its first pass over the million objects of a 180,000-file image took 0.13 s, and
    printing the report set off more. It stays off after: what a command makes then (the
    tree it builds when asked for one, the report's records) lives until it exits, and
    the collector would only walk it.
    """
    limits = limits_from(args.limit)
    progress = StderrProgress(not args.quiet)
    cache = cache_for(args)
    try:
        return load(
            args.archives if paths is None else paths,
            limits=limits,
            progress=progress,
            verify=args.verify,
            remote=remote_options_from(args),
            cache=cache,
            need_filesystem=False,
        )
    finally:
        gc.freeze()
        gc.disable()
        progress.done()
        warn_about(cache)


def cache_for(args: argparse.Namespace) -> Cache | None:
    return None if args.no_cache else Cache()


def warn_about(cache: Cache | None) -> None:
    """What went wrong with the cache (it cannot be written...): once each, on stderr."""
    for warning in cache.warnings if cache is not None else []:
        sys.stderr.write(f"layerscope: warning: {warning}\n")


def select(analysis: Analysis, selector: str | None) -> list[int]:
    try:
        return select_images(analysis, selector)
    except LookupError as exc:
        raise LayerscopeError(str(exc)) from None
