"""File > Open from Engine and File > Open from Registry.

The engine dialog lists each engine's images (ref, ID, size, created) with a filter and
opens the chosen ones as `podman://` / `docker://` sources. The registry dialog takes a
reference, lists a multi-platform tag's platforms, and opens it as a `registry://` source.
Listing talks to an engine or a registry, so it runs in a QThreadPool thread; results and
errors come back as signal data. Both dialogs are made once and reused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from layerscope.errors import LayerscopeError
from layerscope.format import human_size, plural
from layerscope.gui.tasks import Task, start
from layerscope.limits import DEFAULT_LIMITS, Limits
from layerscope.remote import RemoteOptions, platforms_of, registry_host
from layerscope.remote.options import host_platform_name

if TYPE_CHECKING:
    from layerscope.remote.engine import EngineImage

ENGINES = (("podman", "Podman"), ("docker", "Docker (DOCKER_HOST)"))
ALL_PLATFORMS = "all"


def _created_text(created: float | None) -> str:
    if created is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(created))


def _engine_images(scheme: str) -> list[EngineImage]:
    # imported when listed: the engine client brings httpx, 80 ms of the window's start
    from layerscope.remote.engine import engine_images

    return engine_images(scheme)


class _SortItem(QStandardItem):
    """A cell that sorts by a number (sizes, dates) while it shows text."""

    def __init__(self, text: str, key: float):
        super().__init__(text)
        self.setData(key, Qt.ItemDataRole.UserRole)

    def __lt__(self, other: QStandardItem) -> bool:
        mine = self.data(Qt.ItemDataRole.UserRole)
        theirs = other.data(Qt.ItemDataRole.UserRole)
        if isinstance(mine, int | float) and isinstance(theirs, int | float):
            return mine < theirs
        return super().__lt__(other)


class EngineDialog(QDialog):
    """Images in podman's or Docker's store; Open loads the selected ones."""

    listed = Signal()  # a listing finished (images or an error): for tests and screenshots

    def __init__(self, parent: QWidget | None, on_open: Callable[[list[str]], None]):
        super().__init__(parent)
        self.setWindowTitle("Open from Engine")
        self.resize(820, 480)
        self._on_open = on_open
        self._task: Task | None = None

        self.engine = QComboBox()
        for key, label in ENGINES:
            self.engine.addItem(label, key)
        self.engine.currentIndexChanged.connect(self.refresh)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name or ID")
        self.filter.setClearButtonEnabled(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(QLabel("&Engine:"))
        top.itemAt(0).widget().setBuddy(self.engine)  # type: ignore[union-attr]
        top.addWidget(self.engine)
        top.addWidget(self.filter, 1)
        top.addWidget(self.refresh_button)

        self.model = QStandardItemModel(0, 4, self)
        self.model.setHorizontalHeaderLabels(["Image", "ID", "Size", "Created"])
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.doubleClicked.connect(lambda _index: self.accept())
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._update_buttons()

    def show_for(self) -> None:
        """Show (non-modal to the loader: loads go on) and list the current engine."""
        self.filter.clear()
        self.open()
        self.refresh()

    def refresh(self) -> None:
        scheme = str(self.engine.currentData())
        self.model.removeRows(0, self.model.rowCount())
        self.status.setText(f"Listing {self.engine.currentText().split(' ')[0]} images…")
        self.refresh_button.setEnabled(False)
        task = Task(lambda _task: _engine_images(scheme))
        task.signals.done.connect(lambda images, s=scheme: self._show_images(s, images))
        task.signals.failed.connect(lambda message, s=scheme: self._show_error(s, message))
        self._task = task
        start(task)

    def _current(self, scheme: str) -> bool:
        return str(self.engine.currentData()) == scheme

    def _show_images(self, scheme: str, images: list[EngineImage]) -> None:
        if not self._current(scheme):
            return  # the user switched engines while this one was listing
        self.refresh_button.setEnabled(True)
        for image in images:
            ref = QStandardItem(image.ref)
            ref.setData(image.source, Qt.ItemDataRole.UserRole)
            others = [r for r in image.refs[1:]]
            ref.setToolTip("\n".join([image.source, *others]))
            short_id = image.id.removeprefix("sha256:")[:12]
            id_item = QStandardItem(short_id)
            id_item.setToolTip(image.id)
            size = _SortItem(human_size(image.size), image.size)
            size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            created = _SortItem(_created_text(image.created), image.created or 0)
            self.model.appendRow([ref, id_item, size, created])
        self.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        count = len(images)
        self.status.setText(f"{count} image{'s' * (count != 1)}" if count else "No images")
        if count:
            self.table.selectRow(0)
        self._update_buttons()
        self.listed.emit()

    def _show_error(self, scheme: str, message: str) -> None:
        if not self._current(scheme):
            return
        self.refresh_button.setEnabled(True)
        self.status.setText(message)
        self._update_buttons()
        self.listed.emit()

    def selected_sources(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [str(self.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole)) for r in rows]

    def _update_buttons(self) -> None:
        button = self.buttons.button(QDialogButtonBox.StandardButton.Open)
        if button is not None:
            button.setEnabled(bool(self.table.selectionModel().selectedRows()))

    def accept(self) -> None:
        sources = self.selected_sources()
        if not sources:
            return
        super().accept()
        self._on_open(sources)


class RegistryDialog(QDialog):
    """A reference, a platform (listed from the registry) and the TLS choice."""

    platforms_listed = Signal()

    def __init__(
        self,
        parent: QWidget | None,
        on_open: Callable[[str, RemoteOptions], None],
        base: RemoteOptions | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ):
        super().__init__(parent)
        self.setWindowTitle("Open from Registry")
        self.resize(620, 220)
        self._on_open = on_open
        self._base = base or RemoteOptions()
        self._limits = limits
        self._task: Task | None = None

        self.reference = QLineEdit()
        self.reference.setPlaceholderText("quay.io/org/app:1.2, alpine, host:5000/app@sha256:…")
        self.reference.textChanged.connect(self._reference_changed)
        self.insecure = QCheckBox("Allow plain HTTP and unverified certificates for this registry")
        self.platform = QComboBox()
        self.list_button = QPushButton("List Platforms")
        self.list_button.clicked.connect(self.list_platforms)
        platform_row = QHBoxLayout()
        platform_row.addWidget(self.platform, 1)
        platform_row.addWidget(self.list_button)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Image:", self.reference)
        form.addRow("", self.insecure)
        form.addRow("&Platform:", platform_row)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self._reset_platforms()
        self._reference_changed()

    def source(self) -> str:
        text = self.reference.text().strip()
        return text if text.startswith("registry://") else f"registry://{text}"

    def options(self) -> RemoteOptions:
        platform = self.platform.currentData()
        insecure = self._base.insecure_registries
        if self.insecure.isChecked():
            try:
                insecure = (*insecure, registry_host(self.source()))
            except LayerscopeError:
                pass
        return RemoteOptions(
            platform=platform if isinstance(platform, str) else None,
            tls_verify=self._base.tls_verify,
            insecure_registries=insecure,
            authfile=self._base.authfile,
        )

    def _reset_platforms(self, platforms: list[str] | None = None) -> None:
        self.platform.clear()
        self.platform.addItem(f"This machine's ({host_platform_name()})", None)
        for name in platforms or []:
            self.platform.addItem(name, name)
        if platforms:
            self.platform.addItem("All platforms", ALL_PLATFORMS)

    def _reference_changed(self) -> None:
        has_text = bool(self.reference.text().strip())
        for button in (self.buttons.button(QDialogButtonBox.StandardButton.Open),):
            if button is not None:
                button.setEnabled(has_text)
        self.list_button.setEnabled(has_text)
        self._reset_platforms()
        self.status.clear()

    def list_platforms(self) -> None:
        source, options = self.source(), self.options()
        self.status.setText("Asking the registry…")
        self.list_button.setEnabled(False)
        task = Task(lambda _task: platforms_of(source, options, self._limits))
        task.signals.done.connect(self._show_platforms)
        task.signals.failed.connect(self._show_error)
        self._task = task
        start(task)

    def _show_platforms(self, platforms: list[str]) -> None:
        self.list_button.setEnabled(True)
        self._reset_platforms(platforms)
        if platforms:
            self.status.setText(plural(len(platforms), "platform"))
            here = self.platform.findData(host_platform_name())
            self.platform.setCurrentIndex(max(here, 0))
        else:
            self.status.setText("One platform only")
        self.platforms_listed.emit()

    def _show_error(self, message: str) -> None:
        self.list_button.setEnabled(True)
        self.status.setText(message)
        self.platforms_listed.emit()

    def accept(self) -> None:
        if not self.reference.text().strip():
            return
        super().accept()
        self._on_open(self.source(), self.options())
