"""Item delegates: a cell with a proportional bar behind its text."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from layerscope.gui.models.layers import BarColorRole, BarRole


class BarDelegate(QStyledItemDelegate):
    """Draws `BarRole` (0..1) as a bar in `BarColorRole`, then the cell's text over it.

    Used for the layers' sizes and dead bytes, so the heavy layers stand out at a glance.
    """

    PADDING = 6  # each side of the text, as paint() draws it

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width() + 2 * self.PADDING, hint.height())

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        ratio = index.data(BarRole) or 0.0
        rect = opt.rect.adjusted(3, 4, -3, -4)
        painter.save()
        if ratio > 0 and rect.width() > 4:
            color = QColor(index.data(BarColorRole) or opt.palette.color(QPalette.ColorRole.Mid))
            color.setAlpha(70)
            width = max(3, round(rect.width() * min(1.0, float(ratio))))
            bar = QRect(rect.left(), rect.top(), width, rect.height())
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(bar, 3, 3)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        if selected:
            pen = opt.palette.color(QPalette.ColorRole.HighlightedText)
        else:
            foreground = index.data(Qt.ItemDataRole.ForegroundRole)
            pen = (
                QColor(foreground)
                if foreground is not None
                else opt.palette.color(QPalette.ColorRole.Text)
            )
        painter.setPen(pen)
        painter.setFont(opt.font)
        text_rect = opt.rect.adjusted(self.PADDING, 0, -self.PADDING, 0)
        painter.drawText(text_rect, int(opt.displayAlignment), text)
        painter.restore()
