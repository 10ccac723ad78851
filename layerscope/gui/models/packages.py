"""The packages of one layer: what it added, upgraded, downgraded and removed, or everything
installed after it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Qt

from layerscope.analysis.packages import ImagePackages, Package
from layerscope.format import exact_size, human_size
from layerscope.gui import icons, theme
from layerscope.gui.models.table import RIGHT, Index, RowsModel
from layerscope.gui.text import plain_tooltip


class Col(IntEnum):
    CHANGE = 0
    NAME = 1
    VERSION = 2
    SIZE = 3
    KIND = 4
    LOCATION = 5


CHANGES = ("added", "upgraded", "downgraded", "removed")
_ORDER = {c: i for i, c in enumerate((*CHANGES, "installed"))}
_ICONS = {"added": "added", "upgraded": "modified", "downgraded": "modified", "removed": "deleted"}


@dataclass(frozen=True)
class PackageRow:
    change: str  # added | upgraded | downgraded | removed | installed
    package: Package  # as it is after the layer (as it was, for removed)
    before: Package | None = None  # upgraded / downgraded: as it was

    @property
    def version_text(self) -> str:
        if self.before is not None:
            return f"{self.before.version} → {self.package.version}"
        return self.package.version


def rows_for(packages: ImagePackages | None, layer: int, changes_only: bool) -> list[PackageRow]:
    if packages is None or not 0 <= layer < len(packages.layers):
        return []
    if not changes_only:
        return [PackageRow("installed", p) for p in packages.installed_at(layer)]
    lp = packages.layers[layer]
    rows = [PackageRow("added", p) for p in lp.added]
    rows += [PackageRow("upgraded", u.after, u.before) for u in lp.upgraded]
    rows += [PackageRow("downgraded", u.after, u.before) for u in lp.downgraded]
    rows += [PackageRow("removed", p) for p in lp.removed]
    return rows


class PackagesModel(RowsModel[PackageRow]):
    HEADERS = ("Change", "Package", "Version", "Installed size", "Type", "Location")
    RIGHT_ALIGNED = frozenset({Col.SIZE})
    TIPS: ClassVar[dict[int, str]] = {
        Col.SIZE: "What the package database records (dpkg's Installed-Size, apk's I:, rpm's "
        "SIZE, the sizes in a Python RECORD); npm records none",
        Col.LOCATION: "The database (deb, apk, rpm) or the install directory (python, npm): "
        "one name in two places is two installs",
    }
    SORT_KEYS: ClassVar[dict[int, Any]] = {
        Col.CHANGE: lambda r: (_ORDER[r.change], r.package.name),
        Col.NAME: lambda r: (r.package.name.casefold(), r.package.name),
        Col.VERSION: lambda r: r.version_text,
        Col.SIZE: lambda r: r.package.installed_bytes or -1,
        Col.KIND: lambda r: (r.package.kind, r.package.name),
        Col.LOCATION: lambda r: (r.package.location, r.package.name),
    }

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.packages: ImagePackages | None = None
        self.layer = 0
        self.changes_only = True

    def show(
        self, packages: ImagePackages | None, layer: int, changes_only: bool, text: str = ""
    ) -> None:
        """The rows for `layer`; `text` keeps the packages whose name holds it (any case)."""
        self.packages, self.layer, self.changes_only = packages, layer, changes_only
        rows = rows_for(packages, layer, changes_only)
        folded = text.strip().casefold()
        if folded:
            rows = [r for r in rows if folded in r.package.name.casefold()]
        self._set_rows(rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        p = row.package
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == Col.CHANGE:
                return row.change
            if col == Col.NAME:
                return p.name
            if col == Col.VERSION:
                return row.version_text
            if col == Col.SIZE:
                return human_size(p.installed_bytes) if p.installed_bytes is not None else "–"
            if col == Col.KIND:
                return p.kind + (f" ({p.arch})" if p.arch else "")
            if col == Col.LOCATION:
                return p.location
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and col == Col.SIZE:
            return RIGHT
        if role == Qt.ItemDataRole.DecorationRole and col == Col.CHANGE:
            name = _ICONS.get(row.change)
            return icons.icon(name) if name else None
        if role == Qt.ItemDataRole.ForegroundRole and col == Col.CHANGE:
            t = theme.current()
            return {
                "added": t.added,
                "upgraded": t.modified,
                "downgraded": t.modified,
                "removed": t.deleted,
            }.get(row.change)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"{p.kind} package {p.name} {row.version_text}"]
            if p.installed_bytes is not None:
                lines.append(f"installed size {exact_size(p.installed_bytes)}")
                if row.before is not None and row.before.installed_bytes is not None:
                    lines.append(f"before: {exact_size(row.before.installed_bytes)}")
            lines.append(f"from {p.location}")
            return plain_tooltip("\n".join(lines))
        return None
