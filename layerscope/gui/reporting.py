"""File > Export Report: the selected image's report as an HTML page, Markdown or JSON,
rendered off the GUI thread (the same report `layerscope report --format` writes)."""

from __future__ import annotations

import os
import re

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from layerscope.analysis import Analysis
from layerscope.gui import settings, tasks
from layerscope.publish import format_for_path, render

FILTERS = {
    "html": "HTML page (*.html)",
    "markdown": "Markdown for a pull request or CI summary (*.md)",
    "json": "JSON report (*.json)",
}
EXTENSIONS = {"html": ".html", "markdown": ".md", "json": ".json"}


def suggested_name(ref: str | None, fallback: str) -> str:
    """`localhost-lscorpus-app-1-report`: a file name from an image's ref (archive text)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", ref or fallback).strip("-.")[:80]
    return f"{base or 'image'}-report"


class ReportExporter(QObject):
    exported = Signal(str)  # the path written
    failed = Signal(str)  # one line

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._task = tasks.Latest()

    @property
    def busy(self) -> bool:
        return self._task.running

    def ask(self, parent: QWidget, analysis: Analysis, image: int) -> None:
        """The save dialog, then the export (the file's extension picks the format)."""
        if not 0 <= image < len(analysis.images):
            return
        target = analysis.images[image]
        name = suggested_name(target.ref, target.config_digest[7:19])
        path, chosen = QFileDialog.getSaveFileName(
            parent,
            "Export Report",
            os.path.join(settings.last_dir(), name + ".html"),
            ";;".join(FILTERS.values()),
        )
        if not path:
            return
        fmt = next((f for f, text in FILTERS.items() if text == chosen), None)
        if fmt is None or os.path.splitext(path)[1]:
            fmt = format_for_path(path, fmt or "html")
        if not os.path.splitext(path)[1]:
            path += EXTENSIONS.get(fmt, ".html")
        self.export(path, analysis, [image], fmt)

    def export(self, path: str, analysis: Analysis, selected: list[int], fmt: str) -> None:
        def call(task: tasks.Task) -> str:
            text = render(analysis, selected, fmt)
            if task.cancelled():
                return path
            with open(path, "w", encoding="utf-8", errors="backslashreplace") as f:
                f.write(text)
            return path

        self._task.start(call, self.exported.emit, self.failed.emit)

    def cancel(self) -> None:
        self._task.cancel()
