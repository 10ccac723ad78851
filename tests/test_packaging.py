"""The app as people install it (issue #8): a wheel that carries everything it needs, a
freedesktop menu entry and AppStream metainfo that validate, and the command that puts the
entry in the current user's menu."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from layerscope.cli import main
from layerscope.desktop import entry

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "layerscope"


def _version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def _run(*command: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=300, **kw
    )
    assert proc.returncode == 0, proc
    return proc


# The wheel -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the project (the checkout is never written)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(PACKAGE, src / "layerscope", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    _run(*pip_wheel, "-w", out, src, env=env)
    (built,) = out.glob("layerscope-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; its dependencies come from this venv's
    site-packages (a .pth after its own), so nothing is downloaded. Returns its bin/."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    pip_install = [sys.executable, "-m", "pip", "--python", python, "install", "-q"]
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    _run(*pip_install, "--no-deps", "--no-index", wheel, env=env)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(_run(python, "-c", purelib).stdout.strip())
    (site / "zz-test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv / "bin"


def in_venv(*command: str | Path, cwd: Path, **env: str) -> str:
    """Run in the installed venv from an empty folder: the checkout is not on sys.path."""
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return _run(*command, cwd=cwd, env={**clean, **env}).stdout


def test_the_wheel_carries_the_data_the_icons_and_the_desktop_files(wheel: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    assert "layerscope/data/sample-app-docker.tar" in names
    shipped_icons = {n for n in names if n.startswith("layerscope/resources/icons/")}
    assert len(shipped_icons) == len(list((PACKAGE / "resources" / "icons").glob("*.svg")))
    assert f"layerscope/resources/{entry.APP_ID}.desktop" in names
    assert f"layerscope/resources/{entry.APP_ID}.metainfo.xml" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "scripts/")) for n in names)


def test_the_installed_wheel_reports_and_loads_every_icon(installed: Path, tmp_path: Path) -> None:
    python = installed / "python"
    package = in_venv(python, "-c", "import layerscope; print(layerscope.__file__)", cwd=tmp_path)
    assert Path(package).is_relative_to(installed.parent), package  # the wheel, not the checkout

    sample = Path(package).parent / "data" / "sample-app-docker.tar"
    report = in_venv(installed / "layerscope", "report", sample, cwd=tmp_path)
    assert "Image 0: localhost/lscorpus/app:1" in report
    assert "in 11 layers" in report

    check_icons = (
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from layerscope.gui import icons\n"
        "names = icons.names()\n"
        "null = [n for n in names if icons.icon(n).isNull()]\n"
        "assert not null, null\n"
        "assert not icons.app_icon().isNull()\n"
        "print(len(names))\n"
    )
    offscreen = {"QT_QPA_PLATFORM": "offscreen"}
    count = in_venv(python, "-W", "error", "-c", check_icons, cwd=tmp_path, **offscreen)
    assert int(count) == len(list((PACKAGE / "resources" / "icons").glob("*.svg"))) > 20


def test_the_installed_wheel_installs_its_menu_entry(installed: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    script = installed / "layerscope"
    out = in_venv(script, "install-desktop-entry", cwd=tmp_path, XDG_DATA_HOME=str(data))
    desktop = data / "applications" / f"{entry.APP_ID}.desktop"
    assert f"installed {desktop}" in out
    assert read_entry(desktop)["Exec"] == f"{installed / 'layerscope'} open %F"
    # what the menu would run starts this installation
    assert "layerscope 0" in in_venv(installed / "layerscope", "--version", cwd=tmp_path)


# The menu entry ------------------------------------------------------------------------------


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys keep their case
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data: Path, *args: str
) -> str:
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    assert main(["install-desktop-entry", *args]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def test_install_desktop_entry_and_uninstall(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    out = install_command(monkeypatch, capsys, data)
    desktop = data / "applications" / f"{entry.APP_ID}.desktop"
    icon = data / "icons" / "hicolor" / "scalable" / "apps" / f"{entry.APP_ID}.svg"
    assert out.splitlines() == [
        f"installed {desktop} (runs {' '.join(entry.launcher())} open)",
        f"installed {icon}",
    ]
    values = read_entry(desktop)
    launcher = entry.launcher()
    assert Path(launcher[0]).is_absolute()
    assert values["Exec"] == " ".join(launcher) + " open %F"
    assert values["TryExec"] == launcher[0]
    assert values["Icon"] == entry.APP_ID
    assert "application/x-tar" in values["MimeType"].split(";")
    assert icon.read_bytes() == entry.APP_ICON.read_bytes()

    again = install_command(monkeypatch, capsys, data)  # installing twice: same files
    assert again == out
    assert sorted(p.name for p in (data / "applications").glob("*.desktop")) == [desktop.name]

    out = install_command(monkeypatch, capsys, data, "--uninstall")
    assert out.splitlines() == [f"removed {desktop}", f"removed {icon}"]
    assert not desktop.exists()
    assert not icon.exists()
    out = install_command(monkeypatch, capsys, data, "--uninstall")
    assert "nothing to remove" in out


def test_exec_quotes_a_launcher_path_with_spaces_and_percent_signs(tmp_path: Path) -> None:
    text = entry.entry_text(["/opt/my apps/50%/layerscope"])
    path = tmp_path / "x.desktop"
    path.write_text(text)
    values = read_entry(path)
    assert values["Exec"] == '"/opt/my apps/50%%/layerscope" open %F'
    assert values["TryExec"] == "/opt/my apps/50%/layerscope"


def test_data_home_follows_the_xdg_spec(tmp_path: Path) -> None:
    assert entry.data_home({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path
    default = Path.home() / ".local" / "share"
    assert entry.data_home({}) == default
    assert entry.data_home({"XDG_DATA_HOME": "relative/path"}) == default  # ignored, per spec


# Validators (when installed: desktop-file-utils, appstream) ----------------------------------


def _validator(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def test_desktop_entry_validates(tmp_path: Path) -> None:
    validate = _validator("desktop-file-validate")
    shipped = PACKAGE / "resources" / f"{entry.APP_ID}.desktop"
    installed = tmp_path / shipped.name
    installed.write_text(entry.entry_text(["/opt/my apps/layerscope"]))
    for path in (shipped, installed):
        proc = _run(validate, path)
        assert proc.stdout == "", proc.stdout  # not even a hint


def test_metainfo_validates() -> None:
    validate = _validator("appstreamcli")
    metainfo = PACKAGE / "resources" / f"{entry.APP_ID}.metainfo.xml"
    proc = _run(validate, "validate", "--no-net", "--pedantic", metainfo)
    assert "Validation was successful" in proc.stdout
    assert "pedantic:" not in proc.stdout  # no remark at all


def test_metainfo_agrees_with_the_project() -> None:
    root = ET.parse(PACKAGE / "resources" / f"{entry.APP_ID}.metainfo.xml").getroot()
    assert root.findtext("id") == entry.APP_ID
    assert root.findtext("launchable") == f"{entry.APP_ID}.desktop"
    releases = root.find("releases")
    assert releases is not None
    assert releases[0].get("version") == _version()  # the newest release is this version
    desktop = read_entry(PACKAGE / "resources" / f"{entry.APP_ID}.desktop")
    mediatypes = {m.text for m in root.iter("mediatype")}
    assert mediatypes == set(filter(None, desktop["MimeType"].split(";")))
