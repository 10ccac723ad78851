"""Packages per layer: what the selected layer installed, upgraded and removed, or all that
is installed after it, and how many of the layer's bytes came from packages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layerscope.analysis import Analysis
from layerscope.analysis.packages import ImagePackages
from layerscope.format import exact_size, human_size, plural
from layerscope.gui.models.packages import Col, PackagesModel
from layerscope.gui.widgets.common import Card, CardRow, FilterEdit, Placeholder, setup_table
from layerscope.gui.widgets.pane import Pane

NO_DATABASE = (
    "No package database in this image.\n\n"
    "layerscope reads dpkg (Debian, Ubuntu, distroless), apk (Alpine), rpmdb.sqlite (Fedora, "
    "RHEL 9, openSUSE), Python dist-info and npm node_modules; the files of this image are "
    "not from any package it can name."
)


class PackagesPane(Pane):
    TITLE = "Packages"
    ICON = "package"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = PackagesModel(self)
        self.packages: ImagePackages | None = None
        self.layer = 0
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget(self)
        outer.addWidget(self.stack)
        self.placeholder = Placeholder(NO_DATABASE)
        self.stack.addWidget(self.placeholder)

        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        self.installed_card = Card("Installed")
        self.changes_card = Card("This layer")
        self.from_card = Card("From packages")
        self.other_card = Card("Not from any package")
        self.cards = [self.installed_card, self.changes_card, self.from_card, self.other_card]
        layout.addWidget(CardRow(self.cards, page))

        bar = QHBoxLayout()
        self.changes_button = QRadioButton("Changes in this layer", page)
        self.installed_button = QRadioButton("Installed after this layer", page)
        self.changes_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.changes_button)
        group.addButton(self.installed_button)
        self.changes_button.toggled.connect(lambda _on: self._fill())
        self.filter_edit = FilterEdit(page)  # Esc clears it, as in the Files tab
        self.filter_edit.escaped.connect(self.filter_edit.clear)
        self.filter_edit.setPlaceholderText("Filter packages by name  (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(lambda _t: self._fill())
        bar.addWidget(self.changes_button)
        bar.addWidget(self.installed_button)
        bar.addSpacing(12)
        bar.addWidget(self.filter_edit, 1)
        layout.addLayout(bar)

        self.table = QTableView(page)
        self.table.setModel(self.model)
        setup_table(self.table, stretch_column=Col.LOCATION)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(Col.CHANGE, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        metrics = self.table.fontMetrics()
        for col, widest in (
            (Col.CHANGE, "downgraded  "),
            (Col.NAME, "libcurl4-openssl-dev"),
            (Col.VERSION, "2.36-9+deb12u3 → 2.36-9+deb12u4"),
            (Col.SIZE, "1023 MiB"),
            (Col.KIND, "python (x86_64)"),
        ):
            header.resizeSection(col, metrics.horizontalAdvance(widest) + 28)
        layout.addWidget(self.table, 1)
        self.empty = QLabel(page)
        self.empty.setTextFormat(Qt.TextFormat.PlainText)
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)
        self.notes = QLabel(page)
        self.notes.setTextFormat(Qt.TextFormat.PlainText)  # notes name paths: archive text
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        self.stack.addWidget(page)

    # -- Pane hooks ----------------------------------------------------------------------

    def show_image(self, analysis: Analysis, image: int) -> None:
        valid = 0 <= image < len(analysis.packages)
        self.packages = analysis.packages[image] if valid else None
        found = self.packages is not None and (self.packages.found or bool(self.packages.notes))
        self.stack.setCurrentIndex(1 if found else 0)
        self.layer = 0
        self._fill()

    def show_layer(self, layer: int) -> None:
        self.layer = layer
        self._fill()

    def tab_title(self, analysis: Analysis) -> str:
        return self.TITLE

    def filter_box(self) -> QLineEdit:
        return self.filter_edit

    def focus_chain(self) -> list[QWidget]:
        return [self.changes_button, self.installed_button, self.filter_edit, self.table]

    def restyle(self) -> None:
        for card in self.cards:
            card.restyle()
        self.placeholder.restyle()

    # -- filling -------------------------------------------------------------------------

    def _fill(self) -> None:
        packages = self.packages
        changes_only = self.changes_button.isChecked()
        text = self.filter_edit.text()
        self.model.show(packages, self.layer, changes_only, text)
        if packages is None or not 0 <= self.layer < len(packages.layers):
            for card in self.cards:
                card.set("–")
            self.notes.setText("")
            self.empty.setText("")
            return
        lp = packages.layers[self.layer]
        installed = packages.installed_at(self.layer)
        kinds: dict[str, int] = {}
        for p in installed:
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
        self.installed_card.set(
            str(len(installed)),
            " · ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none",
        )
        parts = [
            f"+{len(lp.added)}",
            f"↑{len(lp.upgraded) + len(lp.downgraded)}",
            f"−{len(lp.removed)}",
        ]
        self.changes_card.set("  ".join(parts), "added · upgraded or downgraded · removed")
        shipped = lp.package_bytes + lp.other_bytes
        share = f"{lp.package_bytes / shipped:.0%} of the layer's bytes" if shipped else ""
        self.from_card.set(human_size(lp.package_bytes), share, exact_size(lp.package_bytes))
        self.other_card.set(
            human_size(lp.other_bytes),
            "COPY, build output, caches, the package databases",
            exact_size(lp.other_bytes),
        )
        if self.model.rowCount() == 0:
            what = "changed no package" if changes_only else "has no package installed"
            self.empty.setText(
                f"Layer {self.layer} {what}" + (" matching the filter." if text.strip() else ".")
            )
        else:
            self.empty.setText(
                plural(self.model.rowCount(), "package") + (" (filtered)" if text.strip() else "")
            )
        self.notes.setText("\n".join(f"Note: {n}" for n in packages.notes))
        self.notes.setVisible(bool(packages.notes))
