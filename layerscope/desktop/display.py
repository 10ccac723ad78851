"""Can a Qt window open here? Asked before Qt is imported, because Qt's own answer is an
abort (exit 134) with a message that points the wrong way ("reinstalling the application
may fix this problem").

Three causes are found in advance, each named in one line with its fix: no display at all,
a system library that Qt's xcb platform plugin links against is missing, and an X display
that does not accept a connection. Whatever this does not recognise is left to Qt.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
from collections.abc import Mapping
from pathlib import Path

SYSTEM_DEPS_HINT = (
    "on Debian/Ubuntu install the system libraries: "
    "sudo scripts/install-system-deps.sh in the source, or sudo apt-get install {packages}"
)

# Debian names a library's package after its soname; a few differ.
_DEBIAN_PACKAGES = {"libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0"}

_MISSING_SONAME = re.compile(r"(lib[\w.+-]+?\.so(?:\.\d+)*): cannot open shared object file")


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that usually ships a library: libxcb-cursor.so.0 ->
    libxcb-cursor0, libxkbcommon-x11.so.0 -> libxkbcommon-x11-0."""
    if soname in _DEBIAN_PACKAGES:
        return _DEBIAN_PACKAGES[soname]
    name, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    joiner = "-" if name[-1:].isdigit() and version else ""
    return f"{name}{joiner}{version}".lower()


def missing_library(error: str) -> str | None:
    """The soname in a loader error ('libGL.so.1: cannot open shared object file ...')."""
    match = _MISSING_SONAME.search(error)
    return match.group(1) if match else None


def missing_library_message(soname: str) -> str:
    return f"the system library {soname} is missing; " + SYSTEM_DEPS_HINT.format(
        packages=debian_package(soname)
    )


def _qt_platform_plugin(name: str) -> Path | None:
    """PySide6's platform plugin file, found without importing Qt."""
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        plugin = Path(location, "Qt", "plugins", "platforms", f"libq{name}.so")
        if plugin.is_file():
            return plugin
    return None


def _xcb_plugin_problem() -> str | None:
    """Load the xcb plugin the way Qt will: a missing library shows up here, not as an abort."""
    plugin = _qt_platform_plugin("xcb")
    if plugin is None:
        return None  # not a PySide6 layout we know: let Qt speak
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        soname = missing_library(str(exc))
        if soname is None:
            return f"Qt's xcb platform plugin cannot be loaded: {exc}"
        return missing_library_message(soname)
    return None


def _x_connection_problem(display: str) -> str | None:
    """Connect to the X server the way Qt will (libxcb) and hang up."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return missing_library_message("libxcb.so.1")
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        failed = xcb.xcb_connection_has_error(connection)
    finally:
        xcb.xcb_disconnect(connection)
    if failed:
        return (
            f"the X display {display!r} (DISPLAY) refuses the connection; is the X server "
            "running and is this user allowed (xauth)? Without a screen: "
            "xvfb-run layerscope open ..."
        )
    return None


def display_problem(env: Mapping[str, str] | None = None) -> str | None:
    """Why a window cannot open in this environment, in one line with the fix; None if it
    can as far as we can tell."""
    env = os.environ if env is None else env
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if platform and platform != "xcb":
        return None  # offscreen, wayland, vnc...: chosen on purpose, Qt reports on it
    if not platform and env.get("WAYLAND_DISPLAY"):
        return None  # a Wayland session: Qt's wayland plugin needs no X libraries
    display = env.get("DISPLAY", "")
    if not display:
        return (
            "no screen (DISPLAY and WAYLAND_DISPLAY are unset); run it in a desktop session, "
            "over ssh -X, or on a virtual screen: xvfb-run layerscope open ..."
        )
    return _xcb_plugin_problem() or _x_connection_problem(display)
