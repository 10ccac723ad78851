"""A new user's first commands (issue #8): the system step says what to run when it cannot
install, and `layerscope open` names why a window cannot open instead of letting Qt abort."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from layerscope.cli import main
from layerscope.desktop import display

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "install-system-deps.sh"


# The system step, with fake dpkg-query / apt-get / id / sudo on a PATH of their own -----------


def _fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def run_system_step(
    tmp_path: Path, *, uid: int, installed: bool, sudo: str | None
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run the script from the project directory as make does; returns it and apt-get's log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "grep", "env"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    log = tmp_path / "apt.log"
    status = "install ok installed" if installed else "unknown ok not-installed"
    _fake(bin_dir, "dpkg-query", f"printf '{status}'")
    _fake(bin_dir, "apt-get", f'echo "$@" >> {log}')
    _fake(bin_dir, "id", f"echo {uid}")
    if sudo is not None:
        _fake(bin_dir, "sudo", sudo)
    proc = subprocess.run(
        ["./scripts/install-system-deps.sh"],
        cwd=ROOT,
        env={"PATH": str(bin_dir)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return proc, log.read_text() if log.exists() else ""


@pytest.mark.parametrize("sudo", [None, "exit 1"], ids=["no-sudo", "sudo-needs-a-password"])
def test_without_root_the_system_step_says_what_to_run(tmp_path: Path, sudo: str | None) -> None:
    proc, apt = run_system_step(tmp_path, uid=1000, installed=False, sudo=sudo)
    assert proc.returncode == 1
    assert apt == ""
    lines = proc.stderr.splitlines()
    assert "libxcb-cursor0" in lines[0]
    assert "xvfb" in lines[0]
    assert lines[-1].endswith("then try again: sudo scripts/install-system-deps.sh")


def test_as_root_the_system_step_installs_what_is_missing(tmp_path: Path) -> None:
    proc, apt = run_system_step(tmp_path, uid=0, installed=False, sudo=None)
    assert proc.returncode == 0, proc.stderr
    update, install = apt.splitlines()
    assert update.startswith("-o DPkg::Lock::Timeout=600 ")
    assert update.endswith(" update")
    assert "install -y --no-install-recommends" in install
    assert "libxcb-cursor0" in install.split()
    assert "xvfb" in install.split()


def test_with_passwordless_sudo_the_system_step_uses_it(tmp_path: Path) -> None:
    proc, apt = run_system_step(tmp_path, uid=1000, installed=False, sudo='[ "$1" = -n ] || "$@"')
    assert proc.returncode == 0, proc.stderr
    assert "install -y" in apt


def test_the_system_step_is_silent_when_nothing_is_missing(tmp_path: Path) -> None:
    proc, apt = run_system_step(tmp_path, uid=1000, installed=True, sudo=None)
    assert (proc.returncode, proc.stdout, proc.stderr, apt) == (0, "", "", "")


# A window that cannot open: one line, exit 2, before Qt is asked ------------------------------


def open_without_qt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> tuple[int, str]:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["open", "--sample"])
    out, err = capsys.readouterr()
    assert out == ""
    return code, err


def test_open_without_a_screen_names_the_cause_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = open_without_qt(monkeypatch, capsys, {})
    assert code == 2
    assert err.count("\n") == 1
    assert "DISPLAY and WAYLAND_DISPLAY are unset" in err
    assert "xvfb-run layerscope open" in err


def test_open_with_a_display_nobody_serves(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = open_without_qt(monkeypatch, capsys, {"DISPLAY": ":4711"})  # no X server
    assert code == 2
    assert err.count("\n") == 1
    assert "refuses the connection" in err


def test_open_with_the_xcb_plugin_missing_a_library(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """What a fresh machine without libxcb-cursor0 looks like to the loader."""
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    monkeypatch.setattr(display, "_qt_platform_plugin", lambda name: plugin)

    def cdll(path: str) -> None:
        assert path == str(plugin)
        raise OSError("libxcb-cursor.so.0: cannot open shared object file: No such file")

    monkeypatch.setattr(display.ctypes, "CDLL", cdll)
    code, err = open_without_qt(monkeypatch, capsys, {"DISPLAY": ":0"})
    assert code == 2
    assert err.count("\n") == 1
    assert "the system library libxcb-cursor.so.0 is missing" in err
    assert "sudo scripts/install-system-deps.sh" in err
    assert "apt-get install libxcb-cursor0" in err


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libGL.so.1", "libgl1"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
    ],
)
def test_debian_package_of_a_library(soname: str, package: str) -> None:
    assert display.debian_package(soname) == package


@pytest.mark.parametrize(
    "env",
    [
        {"QT_QPA_PLATFORM": "offscreen"},
        {"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"},
        {"WAYLAND_DISPLAY": "wayland-0"},
    ],
)
def test_platforms_chosen_on_purpose_are_left_to_qt(env: dict[str, str]) -> None:
    assert display.display_problem(env) is None
