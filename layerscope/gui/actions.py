"""Every command of the main window as a QAction, and the menus and toolbar that list them.

Actions carry text, shortcuts, icon and tip, and trigger a method of the window; no widget
is built here. Shortcuts live on the window, so they work wherever the focus is (the menu
bar may be hidden). A new command is one line in Actions.__init__ plus one in menus().
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from layerscope.gui import icons
from layerscope.model.filesystem import Change
from layerscope.view.tree import TreeMode

if TYPE_CHECKING:
    from layerscope.gui.main_window import MainWindow

Keys = Sequence[str | QKeySequence | QKeySequence.StandardKey]

# (change, menu text, icon) of the toggles that hide paths by their change (as in dive)
CHANGE_TOGGLES = (
    (Change.ADDED, "Show &Added", "added"),
    (Change.MODIFIED, "Show &Modified", "modified"),
    (Change.DELETED, "Show &Deleted", "deleted"),
    (Change.UNCHANGED, "Show &Unchanged", "file"),
)


class Actions:
    def __init__(self, window: MainWindow):
        self._window = window
        w = window
        a = self._add
        self.open = a(
            "&Open…",
            w.open_dialog,
            [QKeySequence.StandardKey.Open],
            "open",
            "Open image archives (docker/podman save tars, OCI archives)",
        )
        self.open_folder = a(
            "Open &Folder…",
            w.open_folder_dialog,
            ["Ctrl+Shift+O"],
            "open-folder",
            "Open an OCI layout or docker-dir folder",
        )
        self.open_engine = a(
            "Open from &Engine…",
            w.open_engine_dialog,
            ["Ctrl+Shift+I"],
            "image",
            "Open images from podman's or Docker's local store",
        )
        self.open_registry = a(
            "Open from &Registry…",
            w.open_registry_dialog,
            ["Ctrl+Shift+G"],
            "archive",
            "Open an image from a registry without pulling it",
        )
        self.sample = a("Open &Sample Image", w.open_sample, [], "sample")
        self.close = a(
            "&Close Archive",
            w.close_archive,
            ["Ctrl+W"],
            "close",
            "Close the archive of the selected image",
        )
        self.close_all = a("Close &All", w.close_all, ["Ctrl+Shift+W"])
        self.save_layer = a(
            "Save &Layer as Tar…",
            lambda: w.save_layer(w.current_layer()),
            [],
            "save",
            "Save the selected layer's own tar (whiteouts included)",
        )
        self.export_fs = a(
            "E&xport Filesystem at Layer…",
            lambda: w.export_filesystem(w.current_layer()),
            [],
            None,
            "Save the whole filesystem as it stands at the selected layer, as a tar file",
        )
        self.export_report = a(
            "Export &Report…",
            w.export_report,
            ["Ctrl+Shift+R"],
            "export",
            "Save the selected image's report as an HTML page, Markdown or JSON",
        )
        self.cancel_load = a(
            "Cancel &Loading", w.cancel_load, ["Esc"], "cancel", "Stop loading (Esc)"
        )
        self.cancel_load.setEnabled(False)
        self.quit = a("&Quit", w.close, ["Ctrl+Q"])
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)

        self.mode_group = QActionGroup(w)
        self.mode_changes = a(
            "&Layer Changes", lambda: w.set_mode(TreeMode.CHANGES), [], "mode-changes"
        )
        self.mode_fs = a(
            "&Filesystem at Layer", lambda: w.set_mode(TreeMode.FILESYSTEM), [], "mode-filesystem"
        )
        for act in (self.mode_changes, self.mode_fs):
            act.setCheckable(True)
            self.mode_group.addAction(act)
        self.mode_changes.setChecked(True)
        self.toggle_mode = a("&Switch Tree Mode", w.toggle_mode, ["Ctrl+T"])
        self.show_change: dict[Change, QAction] = {}
        for change, text, icon in CHANGE_TOGGLES:
            act = a(text, lambda on, c=change: w.show_change(c, on), [], icon)
            act.setCheckable(True)
            act.setChecked(True)
            act.setToolTip(f"{text.replace('&', '')} paths (click to hide them)")
            self.show_change[change] = act

        self.next_layer = a(
            "&Next Layer", lambda: w.step_layer(1), ["Alt+Down", "Ctrl+]"], "layer-down"
        )
        self.prev_layer = a(
            "&Previous Layer", lambda: w.step_layer(-1), ["Alt+Up", "Ctrl+["], "layer-up"
        )
        self.first_layer = a("First Layer", lambda: w.select_layer(0), ["Alt+Home"])
        self.last_layer = a("Last Layer", lambda: w.select_layer(10**9), ["Alt+End"])
        self.next_image = a("Next &Image", lambda: w.step_image(1), ["Alt+PgDown"])
        self.prev_image = a("Previous I&mage", lambda: w.step_image(-1), ["Alt+PgUp"])
        self.filter = a(
            "&Filter",
            w.focus_filter,
            [QKeySequence.StandardKey.Find],
            "filter",
            "Filter the list shown: the files, the compared paths or the packages",
        )
        self.compare = a(
            "&Compare",
            w.compare_selected,
            ["Ctrl+D"],
            "compare",
            "Compare the two selected layers or images (else this layer with the one below)",
        )
        self.expand = a("&Expand All", w.expand_all, ["Ctrl+E"], "expand")
        self.collapse = a("C&ollapse All", w.collapse_all, ["Ctrl+Shift+E"], "collapse")
        self.tabs: list[QAction] = []  # Ctrl+1.. for each pane, added by add_tab()

        self.shortcuts = a("&Keyboard Shortcuts", w.show_shortcuts, ["F1"], "keyboard")
        self.about = a("&About layerscope", w.show_about, [], "info")

        # enabled only while an image is shown
        self.image_actions = [
            self.close,
            self.close_all,
            self.next_layer,
            self.prev_layer,
            self.first_layer,
            self.last_layer,
            self.next_image,
            self.prev_image,
            self.filter,
            self.expand,
            self.collapse,
            self.compare,
            self.save_layer,
            self.export_fs,
            self.export_report,
        ]

    def _add(
        self,
        text: str,
        slot: Callable[..., object],
        keys: Keys = (),
        icon: str | None = None,
        tip: str | None = None,
    ) -> QAction:
        action = QAction(text, self._window)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        if icon:
            action.setProperty("icon_name", icon)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self._window.addAction(action)  # shortcuts work even with the menu bar hidden
        return action

    def add_tab(self, index: int, title: str, icon: str) -> QAction:
        act = self._add(
            f"{title} Tab",  # not a second "Compare" beside the command of that name
            lambda _=False, i=index: self._window.show_tab(i),
            [f"Ctrl+{index + 1}"] if index < 9 else [],
            icon,
        )
        self.tabs.append(act)
        return act

    def apply_icons(self) -> None:
        """Re-tint the icons for the palette in force."""
        for action in self._window.findChildren(QAction):
            name = action.property("icon_name")
            if name:
                action.setIcon(icons.icon(str(name)))

    def shortcut_rows(self) -> list[tuple[str, list[QKeySequence]]]:
        rows: list[tuple[str, list[QKeySequence]]] = []
        tree = self._window.files.tree
        for actions, where in ((self._window.actions(), ""), (tree.actions(), " (file tree)")):
            for action in actions:
                keys = action.shortcuts()
                if keys:
                    rows.append((action.text().replace("&", "").rstrip("…") + where, keys))
        rows.append(("Clear the filter (filter box)", [QKeySequence("Esc")]))
        rows.append(("Move between panes", [QKeySequence("Tab"), QKeySequence("Shift+Tab")]))
        return rows


def build_menus(window: MainWindow, actions: Actions, recent: QMenu) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions(
        [actions.open, actions.open_folder, actions.open_engine, actions.open_registry]
    )
    file_menu.addAction(actions.sample)
    file_menu.addMenu(recent)
    file_menu.addSeparator()
    file_menu.addActions([actions.save_layer, actions.export_fs, actions.export_report])
    file_menu.addSeparator()
    file_menu.addActions([actions.close, actions.close_all, actions.cancel_load])
    file_menu.addSeparator()
    file_menu.addAction(actions.quit)

    view = bar.addMenu("&View")
    view.addActions([actions.mode_changes, actions.mode_fs, actions.toggle_mode])
    view.addSeparator()
    view.addActions(list(actions.show_change.values()))
    view.addSeparator()
    view.addActions(
        [actions.next_layer, actions.prev_layer, actions.first_layer, actions.last_layer]
    )
    view.addSeparator()
    view.addActions([actions.next_image, actions.prev_image])
    view.addSeparator()
    view.addActions([actions.filter, actions.expand, actions.collapse])
    view.addSeparator()
    view.addAction(actions.compare)
    view.addSeparator()
    view.addActions(actions.tabs)

    help_menu = bar.addMenu("&Help")
    help_menu.addActions([actions.shortcuts, actions.about])


def build_toolbar(window: MainWindow, actions: Actions) -> QToolBar:
    tools = window.addToolBar("Main")
    tools.setObjectName("main-toolbar")
    tools.setMovable(False)
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tools.addActions([actions.open, actions.open_folder, actions.close])
    tools.addSeparator()
    tools.addActions([actions.prev_layer, actions.next_layer])
    tools.addSeparator()
    tools.addAction(actions.compare)
    return tools
