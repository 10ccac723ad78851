"""Packages per layer: what the package managers of an image installed, layer by layer, and
which package owns each file.

The package databases (see `readers.py`, `rpm.py`) are captured by the layer reader as the
layers stream past (`paths.wanted`). Walking the layers in order, each database file is in
force from the layer that shipped it until a later layer replaces or deletes it; after each
layer whose databases changed, the installed set is rebuilt and compared with the one
before: packages added, removed, upgraded and downgraded (dpkg's version ordering).

A file's owner is the last package, in layer order, whose file list named it (so the files
of a package removed later keep their owner in the history); npm packages own their
directory except nested `node_modules`. Everything else is "not from any package".
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from layerscope.analysis.packages.model import (
    DEB,
    NPM,
    Package,
    Parsed,
    compare_versions,
)
from layerscope.analysis.packages.paths import (
    APK_INSTALLED,
    DPKG_INFO,
    DPKG_STATUS,
    DPKG_STATUS_D,
    RPMDB_OTHER,
    RPMDB_SQLITE,
    is_npm_manifest,
)
from layerscope.model.entry import Kind
from layerscope.model.filesystem import CHECK_EVERY, Check, Node
from layerscope.model.image import Image, Layer

__all__ = [
    "ImagePackages",
    "LayerPackages",
    "Package",
    "Upgrade",
    "analyse_packages",
]

NOT_FROM_A_PACKAGE = "not from any package"
PackageKey = tuple[str, str, str, str]
T = TypeVar("T")


@dataclass(frozen=True)
class Upgrade:
    """A package a layer replaced by another version."""

    before: Package
    after: Package


@dataclass
class LayerPackages:
    """What one layer did to the installed packages, and whose bytes it ships."""

    added: list[Package] = field(default_factory=list)
    removed: list[Package] = field(default_factory=list)
    upgraded: list[Upgrade] = field(default_factory=list)
    downgraded: list[Upgrade] = field(default_factory=list)
    package_bytes: int = 0  # file bytes this layer ships that a package owns
    other_bytes: int = 0  # the rest: not from any package

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.upgraded or self.downgraded)


@dataclass
class ImagePackages:
    """The packages of an image: what each layer changed, and who owns each path."""

    layers: list[LayerPackages]
    installed: list[Package]  # after the last layer, sorted by kind and name
    notes: list[str] = field(default_factory=list)  # databases that could not be read
    _owners: dict[str, Package] = field(default_factory=dict, repr=False)
    _npm_dirs: dict[str, Package] = field(default_factory=dict, repr=False)
    _dir_cache: dict[str, Package | None] = field(default_factory=dict, repr=False)

    def owner(self, path: str) -> Package | None:
        """The package that owns `path`, or None: not from any package."""
        found = self._owners.get(path)
        if found is not None or not self._npm_dirs:
            return found
        return self._npm_owner(posixpath.dirname(path), path)

    def _npm_owner(self, directory: str, path: str) -> Package | None:
        own = self._npm_dirs.get(path)
        if own is not None:
            return own
        walked: list[str] = []
        found: Package | None = None
        d = directory
        while True:
            if d in self._dir_cache:
                found = self._dir_cache[d]
                break
            walked.append(d)
            found = self._npm_dirs.get(d)
            if found is not None or d in ("/", ""):
                break
            d = posixpath.dirname(d)
        for w in walked:
            self._dir_cache[w] = found
        return found

    def owner_label(self, path: str) -> str:
        package = self.owner(path)
        return package.label if package is not None else NOT_FROM_A_PACKAGE

    @property
    def found(self) -> bool:
        return bool(self.installed) or any(layer.changed for layer in self.layers)

    def installed_at(self, layer: int) -> list[Package]:
        """The packages installed after `layer`: the layers' changes replayed up to it."""
        current: dict[PackageKey, Package] = {}
        for lp in self.layers[: layer + 1]:
            for p in lp.removed:
                current.pop(p.key, None)
            for p in lp.added:
                current[p.key] = p
            for u in lp.upgraded + lp.downgraded:
                current[u.after.key] = u.after
        return sorted(current.values(), key=lambda p: (p.kind, p.name, p.location))


def _kind_of(path: str) -> str | None:
    """Which database a captured path belongs to."""
    if path == DPKG_STATUS:
        return "dpkg-status"
    if path.startswith(DPKG_INFO):
        return "dpkg-list"
    if path.startswith(DPKG_STATUS_D):
        return "dpkg-md5sums" if path.endswith(".md5sums") else "dpkg-status"
    if path == APK_INSTALLED:
        return "apk"
    if path in RPMDB_SQLITE:
        return "rpm"
    base = posixpath.basename(path)
    if base in ("METADATA", "RECORD") and path.rpartition("/")[0].endswith(".dist-info"):
        return "python-" + base.lower()
    if base == "package.json" and is_npm_manifest(path):
        return "npm"
    return None


class _Databases:
    """The database files in force at the current layer, each parsed once per version."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, bytes]] = {}  # path -> (layer shipped, content)
        self.nodes: dict[str, Node] = {}
        self._cache: dict[tuple[str, int, int], object] = {}

    def _cached(self, path: str, extra: int, make: Callable[..., T], *args: object) -> T:
        """make(*args) for the version of `path` in force (and `extra`), computed once."""
        key = (path, self.files[path][0], extra)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = make(*args)
        return cast(T, hit)

    def _parse(self, path: str, kind: str) -> Parsed:
        # The readers (sqlite3, csv) are imported on first use: a report from the cache
        # parses no database and starts 4 ms sooner without them.
        from layerscope.analysis.packages import readers, rpm

        data = self.files[path][1]
        if kind == "dpkg-status":
            return self._cached(path, 0, readers.read_dpkg_status, data)
        if kind == "apk":
            return self._cached(path, 0, readers.read_apk_installed, data)
        if kind == "rpm":
            location = posixpath.dirname(path)
            return self._cached(path, 0, rpm.read_rpmdb_sqlite, data, location)
        if kind == "npm":
            return self._cached(path, 0, readers.read_npm_manifest, path, data)
        if kind == "python-metadata":
            dist_info = posixpath.dirname(path)
            record = self.files.get(dist_info + "/RECORD")
            return self._cached(
                path,
                record[0] if record is not None else -1,
                readers.read_python_metadata,
                dist_info,
                data,
                record[1] if record is not None else None,
            )
        return Parsed()

    def installed(self) -> tuple[dict[PackageKey, Package], Parsed]:
        """Every package the files in force describe, with their file lists."""
        packages: dict[PackageKey, Package] = {}
        merged = Parsed()
        lists: dict[tuple[str, str | None], list[str]] = {}  # dpkg info/NAME[:ARCH].list
        md5sums: dict[str, list[str]] = {}  # distroless status.d/X.md5sums, by X
        from_status_d: dict[str, list[Package]] = {}  # the packages of status.d/X, by X
        from layerscope.analysis.packages import readers  # see _parse

        for path in sorted(self.files):
            kind = _kind_of(path)
            data = self.files[path][1]
            if kind == "dpkg-list":
                lists[readers.dpkg_list_owner(path)] = self._cached(
                    path, 0, readers.read_dpkg_list, data
                )
                continue
            if kind == "dpkg-md5sums":
                stem = posixpath.basename(path).removesuffix(".md5sums")
                md5sums[stem] = self._cached(path, 0, readers.read_md5sums, data)
                continue
            if kind is None or kind == "python-record":
                continue
            parsed = self._parse(path, kind)
            merged.problems.extend(parsed.problems)
            for package in parsed.packages:
                packages[package.key] = package
            merged.files.update(parsed.files)
            if path.startswith(DPKG_STATUS_D):
                from_status_d[posixpath.basename(path)] = parsed.packages
        for key, package in packages.items():
            if package.kind == DEB:
                files = lists.get((package.name, package.arch)) or lists.get((package.name, None))
                if files is not None:
                    merged.files[key] = files
        for stem, described in from_status_d.items():
            if stem in md5sums:
                for package in described:
                    merged.files[package.key] = md5sums[stem]
        return packages, merged


def _diff(
    before: dict[PackageKey, Package],
    after: dict[PackageKey, Package],
    into: LayerPackages,
) -> None:
    for key, package in after.items():
        old = before.get(key)
        if old is None:
            into.added.append(package)
        elif old.version != package.version:
            order = compare_versions(old.version, package.version)
            (into.upgraded if order <= 0 else into.downgraded).append(Upgrade(old, package))
    into.removed.extend(p for k, p in before.items() if k not in after)
    for items in (into.added, into.removed):
        items.sort(key=lambda p: (p.kind, p.name, p.location))
    for pairs in (into.upgraded, into.downgraded):
        pairs.sort(key=lambda u: (u.after.kind, u.after.name, u.after.location))


def _file_in_force(fs_node: Node, layer: int) -> bool:
    state = fs_node.state_at(layer)
    return state is not None and state.entry is not None and state.entry.kind == Kind.FILE


def _split_bytes(packages: ImagePackages, layer: Layer, check: Check | None) -> tuple[int, int]:
    """A layer's file bytes that a package owns, and the rest. Until a database is read
    nothing is owned: all of the layer's file bytes are the rest (180,000 lookups on the
    benchmark image's layers, 57 ms of its report, where there was no database at all)."""
    if not packages._owners and not packages._npm_dirs:
        return 0, layer.size_bytes
    file_kind = Kind.FILE
    owner = packages.owner
    owned = other = 0
    entries = layer.entries
    for start in range(0, len(entries), CHECK_EVERY):
        if check is not None:
            check()
        for e in entries[start : start + CHECK_EVERY]:
            if e.kind == file_kind:
                if owner(e.path) is not None:
                    owned += e.size
                else:
                    other += e.size
    return owned, other


class _RealPaths:
    """List paths as the image's tree holds them: `/lib/x` is `/usr/lib/x` when /lib is a
    symlink to usr/lib (merged /usr), since layers ship the files where they really are."""

    def __init__(self, image: Image):
        self.fs = image.filesystem
        self._dirs: dict[str, str | None] = {}

    def __call__(self, path: str) -> str | None:
        head, _, name = path.rpartition("/")
        real = self._dirs.get(head, "")
        if real == "":
            real = self._dirs[head] = self.fs.real_dir(head)
        if real is None:
            return None
        full = real.rstrip("/") + "/" + name
        return None if full == path else full


def analyse_packages(image: Image, check: Check | None = None) -> ImagePackages:
    fs = image.filesystem
    dbs = _Databases()
    result = ImagePackages(layers=[], installed=[])
    current: dict[PackageKey, Package] = {}
    notes: dict[str, None] = {}  # ordered, without repeats
    owners = result._owners
    real_path = _RealPaths(image)
    for index, layer in enumerate(image.layers):
        if check is not None:
            check()
        changes = fs.changes[index] if index < len(fs.changes) else {}
        dirty = False
        # database files this layer replaced or deleted
        for path in list(dbs.files):
            node = dbs.nodes[path]
            if node in changes and path not in layer.captured:
                del dbs.files[path]
                dirty = True
                if _file_in_force(node, index):
                    notes[f"layer {index}: {path} not read; its packages are left out"] = None
        # database files this layer shipped
        for path, data in layer.captured.items():
            shipped = fs.lookup(path)
            if shipped is None or not _file_in_force(shipped, index):
                continue
            dbs.files[path] = (index, data)
            dbs.nodes[path] = shipped
            dirty = True
        entry = LayerPackages()
        if dirty:
            after, parsed = dbs.installed()
            notes.update(dict.fromkeys(parsed.problems))
            _diff(current, after, entry)
            current = after
            # The packages this layer installed or changed own their files from here on.
            fresh = entry.added + [u.after for u in entry.upgraded + entry.downgraded]
            for package in fresh:
                files = parsed.files.get(package.key, [])
                if package.kind == NPM:
                    result._npm_dirs.update(dict.fromkeys(files, package))
                    result._dir_cache.clear()
                    continue
                for path in files:
                    owners[path] = package
                    real = real_path(path)
                    if real is not None:
                        owners[real] = package
        entry.package_bytes, entry.other_bytes = _split_bytes(result, layer, check)
        result.layers.append(entry)
    for path in RPMDB_OTHER:
        other = fs.lookup(path)
        if other is not None and any(v.entry is not None for v in other.versions):
            notes[
                f"{path}: an rpm database in Berkeley DB or NDB format; layerscope reads only "
                "rpmdb.sqlite, so these rpm packages are not listed"
            ] = None
    result.installed = sorted(current.values(), key=lambda p: (p.kind, p.name, p.location))
    result.notes = list(notes)
    return result
