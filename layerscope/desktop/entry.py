"""The app in the desktop's menu: a freedesktop entry and its icon, for the current user.

The entry, the AppStream metainfo and the icons ship inside the package
(layerscope/resources/), so a wheel or pipx install can install its own entry. Installing
writes under $XDG_DATA_HOME (default ~/.local/share):

    applications/<APP_ID>.desktop               Exec= the absolute path of this install
    icons/hicolor/scalable/apps/<APP_ID>.svg

and refreshes the desktop's MIME cache when update-desktop-database is there, so a file
manager offers layerscope for .tar archives.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

APP_ID = "io.github.layerscope.layerscope"

RESOURCES: Traversable = resources.files("layerscope") / "resources"
ICONS: Traversable = RESOURCES / "icons"
DESKTOP_ENTRY: Traversable = RESOURCES / f"{APP_ID}.desktop"
METAINFO: Traversable = RESOURCES / f"{APP_ID}.metainfo.xml"
APP_ICON: Traversable = ICONS / "app.svg"


def data_home(env: dict[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME, or ~/.local/share when it is unset or not absolute (as the spec says)."""
    env = dict(os.environ) if env is None else env
    value = env.get("XDG_DATA_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".local" / "share"


@dataclass(frozen=True)
class Installed:
    entry: Path
    icon: Path

    @classmethod
    def under(cls, home: Path) -> Installed:
        return cls(
            entry=home / "applications" / f"{APP_ID}.desktop",
            icon=home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
        )


def launcher() -> list[str]:
    """The command that starts this installation: the `layerscope` script beside this
    Python (a venv's or pipx's bin/), else this Python running the package."""
    script = Path(sys.executable).parent / "layerscope"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "layerscope"]


def _exec_quote(arg: str) -> str:
    """One argument of an Exec= key (Desktop Entry spec, "The Exec key")."""
    arg = arg.replace("%", "%%")  # a literal percent sign; %F is the field code
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def _desktop_value(arg: str) -> str:
    """A string value of a .desktop file escapes its backslashes once more."""
    return arg.replace("\\", "\\\\")


def entry_text(command: list[str]) -> str:
    """The shipped entry with Exec= and TryExec= pointing at `command`."""
    lines = []
    for line in DESKTOP_ENTRY.read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            exec_line = " ".join(_exec_quote(a) for a in command) + " open %F"
            line = "Exec=" + _desktop_value(exec_line)
        elif line.startswith("TryExec="):
            line = "TryExec=" + _desktop_value(command[0])
        lines.append(line)
    return "\n".join(lines) + "\n"


def _write(path: Path, data: bytes) -> None:
    """Write whole or not at all: a half-written entry is worse than none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        temporary.chmod(0o644)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _refresh_caches(home: Path) -> None:
    """Let the desktop see the change now; harmless where the tools are missing. An icon
    cache is only refreshed, never created: a user's icons are read without one, and a
    cache nobody refreshes would hide the icons other apps add later."""
    commands = [["update-desktop-database", "-q", str(home / "applications")]]
    hicolor = home / "icons" / "hicolor"
    if (hicolor / "icon-theme.cache").exists():
        commands.append(["gtk-update-icon-cache", "-q", "-t", str(hicolor)])
    for command in commands:
        if shutil.which(command[0]) is None:
            continue
        try:
            subprocess.run(command, check=False, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            pass


def install(home: Path | None = None, command: list[str] | None = None) -> Installed:
    home = home or data_home()
    target = Installed.under(home)
    _write(target.entry, entry_text(command or launcher()).encode())
    _write(target.icon, APP_ICON.read_bytes())
    _refresh_caches(home)
    return target


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove what install() wrote; returns the files that were there."""
    home = home or data_home()
    target = Installed.under(home)
    removed = []
    for path in (target.entry, target.icon):
        if path.exists():
            path.unlink()
            removed.append(path)
    if removed:
        _refresh_caches(home)
    return removed
