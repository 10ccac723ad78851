"""The package databases images ship, read from their bytes.

- Debian: `/var/lib/dpkg/status` (deb822 stanzas; Installed-Size in KiB) and
  `/var/lib/dpkg/info/NAME[:ARCH].list` (one path per line, directories included);
  distroless: `/var/lib/dpkg/status.d/NAME` (a stanza) and `NAME.md5sums` (`md5  path`).
- Alpine: `/lib/apk/db/installed` (`P:` name, `V:` version, `A:` arch, `I:` installed bytes,
  `F:` a directory, then `R:` the files in it).
- Python: `NAME-VERSION.dist-info/METADATA` (`Name:`, `Version:`) and `RECORD` (CSV of
  path, hash, size; paths relative to the directory holding the .dist-info).
- npm: `node_modules/NAME/package.json` (`name`, `version`); the package owns its directory
  except nested `node_modules`.
- RPM: see `rpm.py`.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath

from layerscope.analysis.packages.model import (
    APK,
    DEB,
    NPM,
    PYTHON,
    Package,
    Parsed,
    deb822,
    decode,
    to_int,
)
from layerscope.analysis.packages.paths import DPKG_INFO

DPKG_LOCATION = "/var/lib/dpkg"
APK_LOCATION = "/lib/apk/db"
_KIB = 1024
_INSTALLED_STATES = frozenset(
    {
        "installed",
        "half-installed",
        "unpacked",
        "half-configured",
        "triggers-awaited",
        "triggers-pending",
    }
)  # fmt: skip - dpkg states with files on disk (not config-files, not not-installed)


def _deb_package(stanza: dict[str, str]) -> Package | None:
    name = stanza.get("package", "").strip()
    if not name:
        return None
    status = stanza.get("status", "install ok installed").split()
    if status and status[-1] not in _INSTALLED_STATES:
        return None
    size = to_int(stanza.get("installed-size"))
    return Package(
        DEB,
        name,
        stanza.get("version", "").strip(),
        stanza.get("architecture", "").strip() or None,
        size * _KIB if size is not None else None,
        DPKG_LOCATION,
    )


def read_dpkg_status(data: bytes) -> Parsed:
    out = Parsed()
    for stanza in deb822(decode(data)):
        package = _deb_package(stanza)
        if package is not None:
            out.packages.append(package)
    return out


def dpkg_list_owner(path: str) -> tuple[str, str | None]:
    """`/var/lib/dpkg/info/libc6:amd64.list` -> ("libc6", "amd64")."""
    base = path[len(DPKG_INFO) :].removesuffix(".list")
    name, _, arch = base.partition(":")
    return name, arch or None


def read_dpkg_list(data: bytes) -> list[str]:
    """The paths of a .list file; `/.` (the root) and blank lines dropped."""
    out = []
    for line in decode(data).splitlines():
        path = posixpath.normpath(line.strip()) if line.strip() else ""
        if path.startswith("/") and path not in ("/", "/."):
            out.append(path)
    return out


def read_md5sums(data: bytes) -> list[str]:
    """distroless' `NAME.md5sums`: `<md5>  <path relative to />` per line."""
    out = []
    for line in decode(data).splitlines():
        _digest, _, rel = line.strip().partition(" ")
        rel = rel.strip()
        if rel:
            out.append(posixpath.normpath("/" + rel))
    return out


def read_apk_installed(data: bytes) -> Parsed:
    out = Parsed()
    for block in decode(data).split("\n\n"):
        fields: dict[str, str] = {}
        files: list[str] = []
        directory = ""
        for line in block.splitlines():
            tag, sep, value = line.partition(":")
            if not sep or len(tag) != 1:
                continue
            if tag == "F":
                directory = value.strip("/")
            elif tag == "R":
                files.append(posixpath.normpath(f"/{directory}/{value}"))
            elif tag not in fields:
                fields[tag] = value
        name = fields.get("P", "").strip()
        if not name:
            continue
        package = Package(
            APK,
            name,
            fields.get("V", "").strip(),
            fields.get("A", "").strip() or None,
            to_int(fields.get("I")),
            APK_LOCATION,
        )
        out.packages.append(package)
        out.files[package.key] = files
    return out


def read_python_metadata(dist_info: str, metadata: bytes, record: bytes | None) -> Parsed:
    """One installed distribution: `dist_info` is the .dist-info directory's path."""
    from email.parser import HeaderParser  # here: the email package is slow to import

    out = Parsed()
    headers = HeaderParser().parsestr(decode(metadata), headersonly=True)
    name = (headers.get("Name") or "").strip()
    version = (headers.get("Version") or "").strip()
    if not name:
        base = posixpath.basename(dist_info).removesuffix(".dist-info")
        name, _, version = base.partition("-")
        out.problems.append(f"{dist_info}/METADATA has no Name: named from the directory")
    site = posixpath.dirname(dist_info)
    files: list[str] = []
    size: int | None = None
    if record is not None:
        size = 0
        for row in csv.reader(io.StringIO(decode(record))):
            if not row or not row[0]:
                continue
            files.append(posixpath.normpath(posixpath.join(site, row[0])))
            if len(row) >= 3:
                size += to_int(row[2]) or 0
    package = Package(PYTHON, name, version, None, size, site)
    out.packages.append(package)
    out.files[package.key] = files
    return out


def read_npm_manifest(path: str, data: bytes) -> Parsed:
    """`.../node_modules/NAME/package.json`: the package owns its directory."""
    out = Parsed()
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        out.problems.append(f"{path}: not valid JSON")
        return out
    if not isinstance(doc, dict):
        out.problems.append(f"{path}: not a JSON object")
        return out
    directory = posixpath.dirname(path)
    name = doc.get("name")
    version = doc.get("version")
    if not isinstance(name, str) or not name:
        # the directory says the name (`node_modules/@scope/name`)
        head, base = posixpath.split(directory)
        scope = posixpath.basename(head)
        name = f"{scope}/{base}" if scope.startswith("@") else base
    package = Package(
        NPM,
        name,
        version if isinstance(version, str) else "",
        None,
        None,
        directory.rsplit("/node_modules/", 1)[0] + "/node_modules",
    )
    out.packages.append(package)
    out.files[package.key] = [directory]  # a directory: everything below it, see owners
    return out
