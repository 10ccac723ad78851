"""Where images keep their package databases: the files a layer read captures.

The reader asks `wanted(path)` for every regular file of every layer, so it decides on
the cheap parts first (the base name) and looks at the rest only for a few candidates.
"""

from __future__ import annotations

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_STATUS_D = "/var/lib/dpkg/status.d/"  # distroless: NAME (a stanza), NAME.md5sums (files)
DPKG_INFO = "/var/lib/dpkg/info/"  # <package>[:<arch>].list: the files of a package
APK_INSTALLED = "/lib/apk/db/installed"
RPMDB_SQLITE = ("/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite")
# Berkeley DB and NDB rpm databases: recognised (to say they cannot be read), never captured
RPMDB_OTHER = (
    "/var/lib/rpm/Packages",
    "/var/lib/rpm/Packages.db",
    "/usr/lib/sysimage/rpm/Packages",
    "/usr/lib/sysimage/rpm/Packages.db",
)
_DIST_INFO_FILES = frozenset({"METADATA", "RECORD"})
_EXACT = frozenset({DPKG_STATUS, APK_INSTALLED, *RPMDB_SQLITE})


def is_npm_manifest(path: str) -> bool:
    """`.../node_modules/NAME/package.json` or `.../node_modules/@SCOPE/NAME/package.json`."""
    parts = path.rsplit("/", 4)
    if len(parts) < 3 or parts[-1] != "package.json":
        return False
    if parts[-3] == "node_modules":
        return not parts[-2].startswith(("@", "."))
    return len(parts) >= 4 and parts[-4] == "node_modules" and parts[-3].startswith("@")


# Every path `wanted` keeps ends with one of these or lies in status.d/: two C calls turn
# away the other files of a layer (all but a few of them).
_ENDINGS = ("/package.json", "/METADATA", "/RECORD", ".list", *_EXACT)


def wanted(path: str) -> bool:
    """Should a layer read keep this regular file's bytes (a package database)?"""
    if not path.endswith(_ENDINGS) and not path.startswith(DPKG_STATUS_D):
        return False
    head, _, base = path.rpartition("/")
    if base == "package.json":
        return "/node_modules/" in path and is_npm_manifest(path)
    if base in _DIST_INFO_FILES:
        return head.endswith(".dist-info")
    if base.endswith(".list"):
        return head == DPKG_INFO[:-1]
    return head == DPKG_STATUS_D[:-1] or path in _EXACT
