"""`layerscope install-desktop-entry`: the app in the current user's menu, and in a file
manager's "Open with" for .tar archives; `--uninstall` takes it out again."""

from __future__ import annotations

import argparse
import sys

from layerscope.cli.exits import EXIT_OK
from layerscope.desktop import entry


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "install-desktop-entry",
        help="add layerscope to your desktop's menu (for the current user)",
        description="Install a freedesktop menu entry and icon for the current user under "
        "$XDG_DATA_HOME (default ~/.local/share). The entry starts this installation of "
        "layerscope and opens .tar, .tar.gz and .tar.zst archives from a file manager.",
    )
    p.add_argument("--uninstall", action="store_true", help="remove the entry and the icon")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    home = entry.data_home()
    if args.uninstall:
        removed = entry.uninstall(home)
        for path in removed:
            sys.stdout.write(f"removed {path}\n")
        if not removed:
            sys.stdout.write(f"no layerscope menu entry under {home}: nothing to remove\n")
        return EXIT_OK
    command = entry.launcher()
    installed = entry.install(home, command)
    sys.stdout.write(f"installed {installed.entry} (runs {' '.join(command)} open)\n")
    sys.stdout.write(f"installed {installed.icon}\n")
    return EXIT_OK
