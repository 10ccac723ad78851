"""A lazy tree model over the core's FileSystem nodes, for one layer in one mode.

Rows are the core's Node objects themselves (index.internalPointer() is the Node, kept
alive by the FileSystem), so a row costs one list slot and one dict entry for its row
number, created only when its directory is first expanded. Children are sorted when a
directory is first asked for its rows: directories first, then by name or size.

Changing layer, mode or filter resets the model (cheap: caches are dropped, nothing is
walked); the view keeps its expanded directories by Node identity (widgets/files.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QFont, QGuiApplication, QIcon

from layerscope.analysis.packages import NOT_FROM_A_PACKAGE, ImagePackages
from layerscope.analysis.waste import DeadFile
from layerscope.format import exact_size, human_size
from layerscope.gui import icons, theme
from layerscope.gui.text import plain_tooltip
from layerscope.model.entry import Kind
from layerscope.model.filesystem import Change, FileSystem, Node, Version
from layerscope.view.tree import (
    FilterMatches,
    LayerView,
    TreeMode,
    make_matcher,
    tree_cache,
)

Index = QModelIndex | QPersistentModelIndex

NodeRole = Qt.ItemDataRole.UserRole + 1
ChangeRole = Qt.ItemDataRole.UserRole + 2
SizeRole = Qt.ItemDataRole.UserRole + 3

ALL_CHANGES = frozenset(Change)

# Rows can be dragged out of the window (the Files panel writes them out on a drop).
_ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
)
_NO_FLAGS = Qt.ItemFlag.NoItemFlags


class Col(IntEnum):
    NAME = 0
    SIZE = 1
    CHANGE = 2
    WASTE = 3
    PACKAGE = 4
    MODE = 5
    OWNER = 6
    LINK = 7


_COLUMNS = len(Col)

HEADERS = {
    Col.NAME: "Name",
    Col.SIZE: "Size",
    Col.CHANGE: "Change",
    Col.WASTE: "Wasted",
    Col.PACKAGE: "Package",
    Col.MODE: "Mode",
    Col.OWNER: "Owner",
    Col.LINK: "Link target",
}

HEADER_TIPS = {
    Col.SIZE: "Files: bytes the path shows. Directories: the files shown below them in "
    "this mode, each content counted once however many hardlinks name it (as du counts); "
    "in Layer changes mode, the bytes the layer ships, as its header counts them. "
    "The filter is not applied to the totals.",
    Col.CHANGE: "What this layer did to the path, relative to the layer below",
    Col.WASTE: "Bytes this layer ships that the final image never shows, and which layer "
    "overwrote or deleted them",
    Col.PACKAGE: "The package that installed the file (deb, apk, rpm, python, npm), as the "
    "image's package databases say; 'not from any package' for the rest: COPY, build output",
    Col.OWNER: "uid:gid",
}

_KIND_ICONS = {
    Kind.DIR: "folder",
    Kind.FILE: "file",
    Kind.SYMLINK: "symlink",
    Kind.HARDLINK: "hardlink",
    Kind.CHAR: "device",
    Kind.BLOCK: "device",
    Kind.FIFO: "device",
}

_CHANGE_ICONS = {Change.ADDED: "added", Change.MODIFIED: "modified", Change.DELETED: "deleted"}


CHANGED_INSIDE = "changes inside"


def change_text(change: Change, detail: str | None) -> str:
    if change is Change.UNCHANGED:
        return ""
    return f"{change.label} ({detail})" if detail else change.label


def dead_text(dead: DeadFile) -> str:
    if dead.killed_by is None:
        return "duplicate in this layer"
    return f"{dead.fate} in layer {dead.killed_by}"


def dead_tooltip(dead: DeadFile) -> str:
    if dead.killed_by is None:
        fate = "are shipped twice by the same layer"
    else:
        fate = f"are {dead.fate} by layer {dead.killed_by}"
    return (
        f"The {exact_size(dead.size)} layer {dead.layer} ships at {dead.path} {fate}: "
        "the final image never shows them, yet every pull downloads them."
    )


class FileTreeModel(QAbstractItemModel):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._fs: FileSystem | None = None
        self._view: LayerView | None = None
        self._layer = 0
        self._mode = TreeMode.CHANGES
        self._filter_text = ""
        self._matches: FilterMatches | None = None
        self._matches_key: tuple[FileSystem | None, str] = (None, "")
        self._shown: frozenset[Change] = ALL_CHANGES
        self._keep: set[Node] | None = None
        self._kids: dict[Node, list[Node]] = {}
        self._rows: dict[Node, int] = {}
        self._sort_column = Col.NAME
        self._sort_order = Qt.SortOrder.AscendingOrder
        # Dead shipments by (path, shipping layer), for the Wasted column.
        self._dead: dict[tuple[str, int], DeadFile] = {}
        self._dead_layers: set[int] = set()
        self._packages: ImagePackages | None = None  # who owns each file, when known
        base = QGuiApplication.font()
        self._strike = QFont(base)
        self._strike.setStrikeOut(True)
        self._italic = QFont(base)
        self._italic.setItalic(True)

    # -- state ---------------------------------------------------------------------------

    @property
    def filesystem(self) -> FileSystem | None:
        return self._fs

    @property
    def layer(self) -> int:
        return self._layer

    @property
    def mode(self) -> TreeMode:
        return self._mode

    @property
    def layer_view(self) -> LayerView | None:
        return self._view

    @property
    def filter_text(self) -> str:
        return self._filter_text

    @property
    def is_filtered(self) -> bool:
        return self._keep is not None

    @property
    def match_count(self) -> int | None:
        """Paths the filter keeps (matches and their directories); None when unfiltered."""
        return None if self._keep is None else len(self._keep)

    def set_filesystem(
        self,
        fs: FileSystem | None,
        dead_files: Iterable[DeadFile] = (),
        layer: int = 0,
        packages: ImagePackages | None = None,
    ) -> None:
        self.beginResetModel()
        self._fs = fs
        self._packages = packages if packages is not None and packages.found else None
        self._dead = {(d.path, d.layer): d for d in dead_files}
        self._dead_layers = {layer for _path, layer in self._dead}
        self._layer = layer
        self._rebuild()
        self.endResetModel()

    def set_layer(self, layer: int) -> None:
        if layer != self._layer:
            self._reset(layer=layer)

    def set_mode(self, mode: TreeMode) -> None:
        if mode is not self._mode:
            self._reset(mode=mode)

    def set_filter(self, text: str, matches: FilterMatches | None = None) -> None:
        """Filter by `text`; `matches`, when given, are its matches found already (a
        worker thread finds them on a big image)."""
        if matches is not None:
            self._matches, self._matches_key = matches, (self._fs, text)
        if text != self._filter_text:
            self._reset(filter_text=text)

    @property
    def paths(self) -> int:
        """About how many paths the filesystem has (each counted once per layer that
        changed it): what a filter must walk."""
        return sum(len(changes) for changes in self._fs.changes) if self._fs is not None else 0

    def set_shown_changes(self, shown: Iterable[Change]) -> None:
        shown = frozenset(shown)
        if shown != self._shown:
            self._reset(shown=shown)

    def _reset(
        self,
        *,
        layer: int | None = None,
        mode: TreeMode | None = None,
        filter_text: str | None = None,
        shown: frozenset[Change] | None = None,
    ) -> None:
        self.beginResetModel()
        if layer is not None:
            self._layer = layer
        if mode is not None:
            self._mode = mode
        if filter_text is not None:
            self._filter_text = filter_text
        if shown is not None:
            self._shown = shown
        self._rebuild()
        self.endResetModel()

    def _rebuild(self) -> None:
        """Drop every cache and compute the filter's matching set, if any (in a reset)."""
        self._kids = {}
        self._rows = {}
        self._keep = None
        if self._fs is None:
            self._view = None
            return
        sizes = None
        if self._mode is TreeMode.FILESYSTEM and 0 <= self._layer < self._fs.layers:
            sizes = tree_cache(self._fs).sizes_at(self._layer)
        self._view = LayerView(self._fs, self._layer, self._mode, sizes)
        matches = self.filter_matches
        if matches is not None:
            self._keep = matches.keep(self._view, self._shown)
        elif self._shown != ALL_CHANGES:
            self._keep = self._view.matching(None, self._shown)

    @property
    def filter_matches(self) -> FilterMatches | None:
        """Every path the filter matches in any layer (one walk per filesystem and text)."""
        if self._fs is None:
            return None
        if self._matches is None or self._matches_key != (self._fs, self._filter_text):
            matcher = make_matcher(self._filter_text)
            self._matches = FilterMatches(self._fs, matcher) if matcher is not None else None
            self._matches_key = (self._fs, self._filter_text)
        return self._matches

    def match_counts(self) -> list[int] | None:
        """Per layer, the paths the filter matches in this mode; None without a filter."""
        matches = self.filter_matches
        return matches.counts(self._mode) if matches is not None else None

    def matches_here(self) -> int | None:
        """How many paths the filter matches in the tree shown now; None without one."""
        matches = self.filter_matches
        if matches is None or self._view is None:
            return None
        return matches.shown_in(self._view, self._shown)

    # -- structure -----------------------------------------------------------------------

    def _node(self, index: Index) -> Node | None:
        if not index.isValid():
            return self._fs.root if self._fs is not None else None
        node: Node = index.internalPointer()
        return node

    def _children(self, node: Node) -> list[Node]:
        kids = self._kids.get(node)
        if kids is None:
            assert self._view is not None
            kids = self._view.children(node)
            if self._keep is not None:
                keep = self._keep
                kids = [c for c in kids if c in keep]
            kids.sort(key=self._sort_key, reverse=self._sort_order == Qt.SortOrder.DescendingOrder)
            self._place(kids)
            self._kids[node] = kids
        return kids

    def _place(self, kids: list[Node]) -> None:
        rows = self._rows
        for row, child in enumerate(kids):
            rows[child] = row

    def _sort_key(self, node: Node) -> tuple[Any, ...]:
        view = self._view
        assert view is not None
        # Directories stay first in both orders (the flag flips with reverse=True).
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        is_dir = view.is_dir(node)
        first = is_dir if descending else not is_dir
        if self._sort_column == Col.SIZE:
            return (first, view.size(node), node.name)
        if self._sort_column == Col.CHANGE:
            return (first, int(view.status(node)), node.name.casefold(), node.name)
        return (first, node.name.casefold(), node.name)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        # Hot: QTreeView calls this for every child when it lays out an expanded directory.
        if parent.isValid():
            if parent.column() != 0:
                return QModelIndex()
            node: Node = parent.internalPointer()
        elif self._fs is not None:
            node = self._fs.root
        else:
            return QModelIndex()
        kids = self._kids.get(node)
        if kids is None:
            kids = self._children(node)
        if 0 <= row < len(kids) and 0 <= column < _COLUMNS:
            return self.createIndex(row, column, kids[row])
        return QModelIndex()

    def parent(self, child: Index | None = None) -> QModelIndex:  # type: ignore[override]
        if child is None:
            return super().parent()  # type: ignore[return-value]  # QObject.parent()
        if not child.isValid() or self._fs is None:
            return QModelIndex()
        node: Node = child.internalPointer()
        up = node.parent
        if up is None or up is self._fs.root:
            return QModelIndex()
        row = self._rows.get(up)
        if row is None:
            assert up.parent is not None
            self._children(up.parent)
            row = self._rows[up]
        return self.createIndex(row, 0, up)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.column() > 0:
            return 0
        node = self._node(parent)
        if node is None:
            return 0
        return len(self._children(node))

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(Col)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid():
            node: Node = parent.internalPointer()
            if not node.children or parent.column() > 0:
                return False  # most rows are files: answer them first
        elif self._fs is not None:
            node = self._fs.root
        else:
            return False
        kids = self._kids.get(node)
        if kids is not None:
            return bool(kids)
        if not node.children or self._view is None:
            return False
        if self._keep is not None:
            keep = self._keep
            return any(c in keep for c in node.children.values())
        return self._view.may_have_children(node)

    def flags(self, index: Index) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else _NO_FLAGS

    def index_for_node(self, node: Node, column: int = 0) -> QModelIndex:
        """The index showing `node`, building its ancestors' rows; invalid if not shown."""
        if self._fs is None:
            return QModelIndex()
        chain: list[Node] = []
        n: Node | None = node
        while n is not None and n is not self._fs.root:
            chain.append(n)
            n = n.parent
        if n is None:
            return QModelIndex()  # not from this filesystem
        up: Node = self._fs.root
        index = QModelIndex()
        for n in reversed(chain):
            kids = self._children(up)
            row = self._rows.get(n)
            if row is None or row >= len(kids) or kids[row] is not n:
                return QModelIndex()
            index = self.createIndex(row, column if n is node else 0, n)
            up = n
        return index

    def index_for_path(self, path: str, column: int = 0) -> QModelIndex:
        if self._fs is None:
            return QModelIndex()
        node = self._fs.lookup(path)
        return self.index_for_node(node, column) if node is not None else QModelIndex()

    def node_at(self, index: Index) -> Node | None:
        return index.internalPointer() if index.isValid() else None

    # -- sorting -------------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        col = Col(column) if column in (Col.SIZE, Col.CHANGE) else Col.NAME
        if col == self._sort_column and order == self._sort_order:
            return
        self.layoutAboutToBeChanged.emit()
        self._sort_column = col
        self._sort_order = order
        old = self.persistentIndexList()
        nodes = [(index, index.internalPointer()) for index in old]
        for kids in self._kids.values():
            kids.sort(key=self._sort_key, reverse=order == Qt.SortOrder.DescendingOrder)
            self._place(kids)
        new = [self.createIndex(self._rows[node], index.column(), node) for index, node in nodes]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    # -- data ----------------------------------------------------------------------------

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Col):
            return None
        col = Col(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == Col.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _dead_for(self, node: Node, version: Version | None) -> DeadFile | None:
        if version is None or version.layer not in self._dead_layers:
            return None
        return self._dead.get((node.path, version.layer))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._view is None:
            return None
        node: Node = index.internalPointer()
        view = self._view
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(node, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == Col.SIZE and not view.ships_bytes(node):
                return theme.current().muted
            if col == Col.CHANGE and view.changed_below(node):
                return theme.current().modified
            if col == Col.PACKAGE and view.status(node) is not Change.DELETED:
                return theme.current().muted
            change = view.status(node)
            color = theme.current().change_color(change)
            if color is None and self._mode is TreeMode.CHANGES and node not in view.changes:
                return theme.current().muted  # context directory, not itself changed
            if color is None and col == Col.WASTE:
                return theme.current().deleted
            return color
        if role == Qt.ItemDataRole.FontRole:
            if view.status(node) is Change.DELETED:
                return self._strike
            if col == Col.CHANGE and view.changed_below(node):
                return self._italic
            if col == Col.WASTE:
                return self._italic
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            return self._decoration(node, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = self._tooltip(node, col)
            return plain_tooltip(tip) if tip else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col == Col.SIZE:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == NodeRole:
            return node
        if role == ChangeRole:
            return int(view.status(node))
        if role == SizeRole:
            return view.size(node)
        return None

    def _display(self, node: Node, col: int) -> str | None:
        view = self._view
        assert view is not None
        if col == Col.NAME:
            return node.name
        if col == Col.SIZE:
            if not view.is_dir(node):
                if not view.ships_bytes(node):
                    return "link"  # to content a lower layer shipped: no bytes here
                return human_size(view.size(node))
            size = view.size(node)
            if size == 0 and view.status(node) is not Change.DELETED:
                freed = view.deleted_below(node)
                if freed:
                    return f"−{human_size(freed)}"  # only deletions below: what they removed
            return human_size(size) if node.children else ""
        if col == Col.CHANGE:
            change = view.status(node)
            if view.changed_below(node):
                return CHANGED_INSIDE  # a folder hides what this layer did in it (as dive marks)
            last = node.last_in_layer(self._layer) if change is not Change.UNCHANGED else None
            return change_text(change, last.detail if last else None)
        version = view.version(node)
        entry = version.entry if version is not None else None
        if col == Col.WASTE:
            dead = self._dead_for(node, version)
            if dead is None:
                return ""
            if view.status(node) is Change.DELETED:
                return f"{human_size(dead.size)} dead in layer {dead.layer}"
            return f"{human_size(dead.size)} {dead_text(dead)}"
        if entry is None:
            return ""
        if col == Col.PACKAGE:
            if self._packages is None or entry.kind == Kind.DIR:
                return ""
            return self._packages.owner_label(node.path)
        if col == Col.MODE:
            return entry.mode_string
        if col == Col.OWNER:
            return f"{entry.uid}:{entry.gid}"
        if col == Col.LINK:
            if entry.kind == Kind.HARDLINK and entry.link:
                return f"link to {entry.link}"
            return entry.link or ""
        return None

    def _decoration(self, node: Node, col: int) -> QIcon | None:
        view = self._view
        assert view is not None
        if col == Col.NAME:
            version = view.version(node)
            kind = version.entry.kind if version is not None and version.entry else Kind.FILE
            return icons.icon(_KIND_ICONS.get(kind, "file"))
        if col == Col.CHANGE:
            name = _CHANGE_ICONS.get(view.status(node))
            if name is None and view.changed_below(node):
                name = "modified"
            return icons.icon(name) if name else None
        if col == Col.WASTE and self._dead_for(node, view.version(node)) is not None:
            return icons.icon("waste")
        return None

    def _tooltip(self, node: Node, col: int) -> str | None:
        view = self._view
        assert view is not None
        version = view.version(node)
        dead = self._dead_for(node, version)
        if col == Col.WASTE:
            return dead_tooltip(dead) if dead is not None else None
        if col == Col.SIZE:
            if not view.ships_bytes(node):
                link = version.entry.link if version and version.entry else None
                return (
                    f"A hardlink to {link}: its {exact_size(view.size(node))} are those of a "
                    "file this layer neither ships nor deletes, so its size does not count them."
                )
            if view.is_dir(node):
                return (
                    f"{exact_size(view.size(node))}: each file's content counted once, "
                    "however many hardlinks name it (as du counts)"
                )
            return exact_size(view.size(node))
        lines = [node.path]
        entry = version.entry if version is not None else None
        change = view.status(node)
        if entry is not None:
            kind = entry.kind.label
            if entry.kind == Kind.HARDLINK and entry.link:
                kind += f" to {entry.link}"
            lines.append(f"{kind}, {exact_size(version.size) if version else ''}")
        if change is not Change.UNCHANGED:
            last = node.last_in_layer(self._layer)
            lines.append(
                f"{change_text(change, last.detail if last else None)} in layer {self._layer}"
            )
        elif version is not None and version.layer >= 0:
            lines.append(f"from layer {version.layer}")
        if dead is not None and change is not Change.DELETED:
            lines.append(f"wasted: {dead_text(dead)}")
        if self._packages is not None and entry is not None and entry.kind != Kind.DIR:
            lines.append(self.package_text(node))
        return "\n".join(lines)

    def package_text(self, node: Node) -> str:
        """`from deb package curl 7.88.1-10`, or `not from any package` (empty: no database)."""
        if self._packages is None:
            return ""
        owner = self._packages.owner(node.path)
        if owner is None:
            return NOT_FROM_A_PACKAGE
        return f"from {owner.kind} package {owner.name} {owner.version}"
