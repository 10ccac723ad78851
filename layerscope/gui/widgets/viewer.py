"""The file viewer: what a file holds at the selected layer, read off the GUI thread.

Text with line numbers, its encoding and Pygments' colours; a hex dump for binary; a
picture for the image formats Qt reads; for a file this layer modified, the text diff
against the version below. Large files show one page at a time (preview.PAGE bytes);
nothing reads a whole file into memory.
"""

from __future__ import annotations

import bisect
import functools
import stat
import time
from dataclasses import dataclass, field

from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    String,
    _TokenType,
    is_token_subtype,
)
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from layerscope.archive.content import ImageContent
from layerscope.errors import Cancelled
from layerscope.format import exact_size, human_size
from layerscope.gui import icons, theme
from layerscope.gui.tasks import Latest, Task
from layerscope.gui.widgets.compare import DiffHighlighter, monospace_editor
from layerscope.model.entry import Entry, Kind
from layerscope.model.filesystem import Node, Version
from layerscope.model.image import Image
from layerscope.preview import (
    DIFF_LIMIT,
    PAGE,
    decode,
    hex_lines,
    image_format,
    lexer_for,
    text_diff,
    token_spans,
)

IMAGE_LIMIT = 32 * 1024 * 1024  # pictures larger than this are shown as hex

TEXT, HEX, PICTURE, DIFF, NOTE = range(5)
_MODES = ((TEXT, "Text"), (HEX, "Hex"), (PICTURE, "Image"), (DIFF, "Diff"))


@dataclass
class Shown:
    """Which file the viewer shows: a version of a path at a layer."""

    image: Image
    layer: int
    node: Node
    version: Version  # what the path holds (for a deleted path: what was deleted)
    below: Version | None  # the version under it, when this layer modified the path


@dataclass
class Page:
    """One page of a file, decided off the GUI thread."""

    start: int
    data: bytes
    size: int  # the whole file's
    text: str | None = None
    encoding: str = ""
    sure: bool = True
    lexer: str = ""
    spans: list[tuple[int, int, _TokenType]] = field(default_factory=list)
    picture: QImage | None = None
    picture_format: str | None = None
    xattrs: dict[str, bytes] | None = None
    diff: list[str] | None = None


def _read_page(task: Task, shown: Shown, start: int) -> Page:
    content = shown.version.content
    assert content is not None
    size = content.size
    want = PAGE
    with ImageContent(shown.image) as reader:
        member, head = reader.read_member(
            content, start=start, length=min(want, max(size - start, 0))
        )
        if task.cancelled():
            raise Cancelled()
        page = Page(start, head, size, xattrs=member.xattrs)
        fmt = image_format(head, shown.node.name) if start == 0 else None
        if fmt is not None and size <= IMAGE_LIMIT:
            data = head if size <= len(head) else reader.read(content)
            picture = QImage.fromData(data)
            if not picture.isNull():
                page.picture, page.picture_format = picture, fmt
        below = shown.below.content if shown.below is not None else None
        if start == 0 and below is not None:
            old = reader.read(below, length=DIFF_LIMIT)
            new = head if size <= len(head) else reader.read(content, length=DIFF_LIMIT)
            page.diff = text_diff(
                old, new, f"{shown.node.path} (layer {shown.below.layer})",  # type: ignore[union-attr]
                f"{shown.node.path} (layer {shown.version.layer})",
            )  # fmt: skip
    decoded = decode(head, complete=start + len(head) >= size)
    if decoded is not None:
        page.text, page.encoding, page.sure = decoded.text, decoded.encoding, decoded.sure
        lexer = lexer_for(shown.node.path, decoded.text[:4096] if start == 0 else "")
        page.lexer = lexer.name
        page.spans = list(token_spans(decoded.text, lexer))
    return page


# -- text with line numbers and colours ------------------------------------------------------


class _LineNumbers(QWidget):
    def __init__(self, editor: CodeView):
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.editor.paint_gutter(event)


class CodeView(QPlainTextEdit):
    """Read-only text with a line-number gutter (numbers can start past 1, for pages)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.setFont(font)
        self.first_line = 1
        self._gutter = _LineNumbers(self)
        self.blockCountChanged.connect(lambda _n: self._fit_gutter())
        self.updateRequest.connect(self._scroll_gutter)
        self._fit_gutter()

    def gutter_width(self) -> int:
        digits = len(str(self.first_line + max(1, self.blockCount())))
        return 10 + self.fontMetrics().horizontalAdvance("9") * digits

    def _fit_gutter(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _scroll_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        r = self.contentsRect()
        self._gutter.setGeometry(QRect(r.left(), r.top(), self.gutter_width(), r.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        painter = QPainter(self._gutter)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.alternateBase())
        painter.setPen(theme.current().muted)
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                painter.drawText(
                    0, top, self._gutter.width() - 4, height,
                    Qt.AlignmentFlag.AlignRight, str(self.first_line + number),
                )  # fmt: skip
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1
        painter.end()


class TokenHighlighter(QSyntaxHighlighter):
    """Colours text from spans Pygments computed off the GUI thread, only the lines on
    screen, as they come into view: colouring a whole 256 KiB page at once (50,000 spans)
    held the window for half a second.

    Qt calls highlightBlock itself whenever text changes (a new page, a restyle): those
    calls leave the block plain, and the lines on screen are coloured again after them."""

    def __init__(self, editor: QPlainTextEdit):
        super().__init__(editor.document())
        self._editor = editor
        self._starts: list[int] = []
        self._spans: list[tuple[int, int, _TokenType]] = []
        self._coloured: set[int] = set()  # block numbers coloured with the current spans
        self._colouring = False  # highlightBlock called by colour_visible, not by Qt
        editor.updateRequest.connect(lambda _rect, _dy: self.colour_visible())

    def show(self, text: str, spans: list[tuple[int, int, _TokenType]]) -> None:
        """Put `text` in the editor, coloured by `spans` (offsets into `text`)."""
        self._spans, self._starts = [], []
        self._editor.setPlainText(text)  # Qt's own highlightBlock calls: nothing to do
        self._spans = spans
        self._starts = [s for s, _n, _t in spans]
        self._coloured.clear()
        self.colour_visible()

    def restyle(self) -> None:
        """The theme changed: every line is coloured again as it comes into view."""
        self.rehighlight()  # plain everywhere: Qt's call, cheap
        self._coloured.clear()
        self.colour_visible()

    def colour_visible(self) -> None:
        if self._colouring or not self._spans:
            return
        editor = self._editor
        height = editor.viewport().height()
        offset = editor.contentOffset()
        block = editor.firstVisibleBlock()
        self._colouring = True
        try:
            while block.isValid():
                if editor.blockBoundingGeometry(block).translated(offset).top() > height:
                    break
                if block.blockNumber() not in self._coloured:
                    self._coloured.add(block.blockNumber())
                    self.rehighlightBlock(block)
                block = block.next()
        finally:
            self._colouring = False

    def highlightBlock(self, text: str) -> None:
        if not self._colouring or not self._spans:
            self._coloured.discard(self.currentBlock().blockNumber())
            return
        block = self.currentBlock()
        begin, end = block.position(), block.position() + len(text)
        i = max(bisect.bisect_right(self._starts, begin) - 1, 0)
        while i < len(self._spans):
            start, length, token = self._spans[i]
            if start >= end:
                break
            fmt = _token_format(token, theme.current().dark)
            if fmt is not None and start + length > begin:
                lo = max(start, begin) - begin
                self.setFormat(lo, min(start + length, end) - begin - lo, fmt)
            i += 1


@functools.cache
def _token_format(token: _TokenType, dark: bool) -> QTextCharFormat | None:
    color = _token_color(token, dark)
    if color is None:
        return None
    fmt = QTextCharFormat()
    fmt.setForeground(color)
    if is_token_subtype(token, Keyword):
        fmt.setFontWeight(QFont.Weight.DemiBold)
    return fmt


def _token_color(token: _TokenType, dark: bool) -> QColor | None:
    for kind, light_color, dark_color in (
        (Comment, "#6a737d", "#8b949e"),
        (String, "#0a3069", "#a5d6ff"),
        (Keyword, "#cf222e", "#ff7b72"),
        (Number, "#0550ae", "#79c0ff"),
        (Name.Function, "#8250df", "#d2a8ff"),
        (Name.Class, "#953800", "#ffa657"),
        (Name.Builtin, "#0550ae", "#79c0ff"),
        (Name.Tag, "#116329", "#7ee787"),
        (Name.Attribute, "#0550ae", "#79c0ff"),
        (Operator, "#cf222e", "#ff7b72"),
    ):
        if is_token_subtype(token, kind):
            return QColor(dark_color if dark else light_color)
    return None


# -- the viewer --------------------------------------------------------------------------------


class FileViewer(QWidget):
    shown = Signal()  # a page (or a note) is on screen: for tests and screenshots
    saveRequested = Signal()  # "Save As…" for the file shown

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._shown: Shown | None = None
        self._page: Page | None = None
        self._lines_before: dict[int, int] = {0: 0}  # page start -> lines before it
        self._page_mode: int | None = None  # the mode the page turned from (kept)
        self._task = Latest()
        self._build()
        self.clear()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)

        top = QHBoxLayout()
        self.meta = QLabel(self)
        self.meta.setTextFormat(Qt.TextFormat.PlainText)
        self.meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meta.setMinimumWidth(1)
        top.addWidget(self.meta, 1)
        self.mode_group = QButtonGroup(self)
        self.mode_buttons: dict[int, QToolButton] = {}
        for mode, text in _MODES:
            button = QToolButton(self)
            button.setText(text)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            top.addWidget(button)
        self.save_button = QToolButton(self)
        self.save_button.setText("Save As…")
        self.save_button.setIcon(icons.icon("save"))
        self.save_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.save_button.setAutoRaise(True)
        self.save_button.setToolTip("Save this file as it is at this layer")
        self.save_button.clicked.connect(self.saveRequested)
        top.addWidget(self.save_button)
        layout.addLayout(top)

        paging = QHBoxLayout()
        self.info = QLabel(self)
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setMinimumWidth(1)
        self.prev_button = QToolButton(self)
        self.prev_button.setText("◀ Previous page")
        self.prev_button.setAutoRaise(True)
        self.prev_button.clicked.connect(lambda: self._turn(-1))
        self.next_button = QToolButton(self)
        self.next_button.setText("Next page ▶")
        self.next_button.setAutoRaise(True)
        self.next_button.clicked.connect(lambda: self._turn(1))
        paging.addWidget(self.info, 1)
        paging.addWidget(self.prev_button)
        paging.addWidget(self.next_button)
        layout.addLayout(paging)

        self.stack = QStackedWidget(self)
        self.text = CodeView(self)
        self._colors = TokenHighlighter(self.text)
        self.hex = monospace_editor(self)
        self.picture = QLabel(self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture_area = QScrollArea(self)
        self.picture_area.setWidgetResizable(True)
        self.picture_area.setWidget(self.picture)
        self.diff = monospace_editor(self)
        self._diff_colors = DiffHighlighter(self.diff.document())
        self.note = QLabel(self)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for widget in (self.text, self.hex, self.picture_area, self.diff, self.note):
            self.stack.addWidget(widget)  # in the order TEXT, HEX, PICTURE, DIFF, NOTE
        layout.addWidget(self.stack, 1)

    # -- what to show --------------------------------------------------------------------

    def clear(self, message: str = "Select a file to see what it holds") -> None:
        self._task.cancel()
        self._shown = None
        self._page = None
        self.meta.setText("")
        self.info.setText("")
        self._note(message)

    def _note(self, message: str) -> None:
        self.note.setText(message)
        self.info.clear()  # the encoding or picture size of the file shown before
        self.mode_group.setExclusive(False)  # no mode looks chosen while none applies
        for button in self.mode_buttons.values():
            button.setChecked(False)
        self.mode_group.setExclusive(True)
        self.stack.setCurrentIndex(NOTE)
        for button in self.mode_buttons.values():
            button.setEnabled(False)
        for button in (self.prev_button, self.next_button):
            button.setVisible(False)
        self.save_button.setEnabled(self._shown is not None and self._is_file())
        self.shown.emit()

    def _is_file(self) -> bool:
        shown = self._shown
        return shown is not None and shown.version.content is not None

    def show_path(self, image: Image, layer: int, node: Node, deleted: bool = False) -> None:
        """Show `node` as it stands after `layer` (for a path the layer deleted: what it
        deleted), with the version below when this layer modified it."""
        version = node.state_at(layer - 1 if deleted else layer)
        if version is None or version.entry is None:
            self.clear(f"{node.path} does not exist at layer {layer}")
            return
        below = node.state_at(layer - 1) if not deleted and version.layer == layer else None
        if below is not None and (below.content is None or below.content is version.content):
            below = None
        self._shown = Shown(image, layer, node, version, below)
        self._page = None
        self._page_mode = None
        self._lines_before = {0: 0}
        entry = version.entry
        self.meta.setText(_meta_text(entry, version))
        self.meta.setToolTip(_meta_text(entry, version, full=True))
        if entry.kind == Kind.DIR:
            self._note(f"{node.path}/ is a directory")
        elif entry.kind == Kind.SYMLINK:
            self._note(f"{node.path} is a symlink to {entry.link}")
        elif entry.kind in (Kind.CHAR, Kind.BLOCK, Kind.FIFO):
            self._note(f"{node.path} is a {entry.kind.label} device node: it holds no bytes")
        elif version.content is None:
            self._note(f"{node.path} is a hardlink to {entry.link}, a file this image lacks")
        elif version.content.size == 0:
            self._note(f"{node.path} is empty: it holds no bytes")
        else:
            self._load(0)

    def _load(self, start: int) -> None:
        shown = self._shown
        if shown is None:
            return
        self._note("Reading…")
        self._task.start(
            lambda task: _read_page(task, shown, start),
            self._show_page,
            lambda message: self._note(f"Could not read the file: {message}"),
        )

    def _show_page(self, page: Page) -> None:
        self._page = page
        shown = self._shown
        assert shown is not None
        before = self._lines_before.get(page.start, 0)
        if page.text is not None:
            self._lines_before[page.start + len(page.data)] = before + page.text.count("\n")
            self.text.first_line = before + 1
            self._colors.show(page.text, page.spans)
        else:
            self._colors.show("", [])
        self.hex.setPlainText("\n".join(hex_lines(page.data, page.start)))
        if page.picture is not None:
            self._fit_picture()
        if page.diff is not None:
            self.diff.setPlainText("\n".join(page.diff) or "No text difference.")
        enabled = {
            TEXT: page.text is not None,
            HEX: True,
            PICTURE: page.picture is not None,
            DIFF: page.diff is not None,
        }
        for mode, button in self.mode_buttons.items():
            button.setEnabled(enabled[mode])
        current = self.stack.currentIndex() if self._page_mode is None else self._page_mode
        self._page_mode = None
        if current == NOTE or not enabled.get(current, False):
            current = (
                PICTURE if page.picture is not None else TEXT if page.text is not None else HEX
            )
        self.set_mode(current)
        self.save_button.setEnabled(True)
        self.shown.emit()

    def set_mode(self, mode: int) -> None:
        page = self._page
        if page is None or not self.mode_buttons[mode].isEnabled():
            return
        self.mode_buttons[mode].setChecked(True)
        self.stack.setCurrentIndex(mode)
        self._update_info()

    def _update_info(self) -> None:
        page = self._page
        if page is None:
            return
        mode = self.stack.currentIndex()
        end = page.start + len(page.data)
        parts: list[str] = []
        if mode == PICTURE and page.picture is not None:
            parts.append(
                f"{page.picture_format} picture, {page.picture.width()}×{page.picture.height()}"
            )
        elif mode == DIFF and self._shown is not None and self._shown.below is not None:
            parts.append(f"what layer {self._shown.version.layer} changed in this file")
        if page.xattrs:
            parts.append("xattrs: " + ", ".join(sorted(page.xattrs)))
        else:
            if mode == TEXT and page.text is not None:
                guess = "" if page.sure else " (a guess)"
                parts.append(f"{page.encoding}{guess}")
                if page.lexer and page.lexer != "Text only":
                    parts.append(page.lexer)
            if page.size > len(page.data):
                first = human_size(page.start) if page.start else "0"
                parts.append(f"bytes {first}–{human_size(end)} of {human_size(page.size)}")
        self.info.setText(" · ".join(parts))
        paged = mode in (TEXT, HEX) and page.size > len(page.data)
        self.prev_button.setVisible(paged)
        self.next_button.setVisible(paged)
        self.prev_button.setEnabled(page.start > 0)
        self.next_button.setEnabled(end < page.size)

    def _turn(self, step: int) -> None:
        page = self._page
        if page is None:
            return
        if step > 0:
            start = page.start + len(page.data)
        else:  # back to the start of the page before, whose line count is known
            starts = sorted(s for s in self._lines_before if s < page.start)
            start = starts[-1] if starts else max(0, page.start - PAGE)
        self._page_mode = self.stack.currentIndex()  # "Reading…" replaces it meanwhile
        self._load(start)

    def _fit_picture(self) -> None:
        page = self._page
        if page is None or page.picture is None:
            return
        pixmap = QPixmap.fromImage(page.picture)
        room = self.picture_area.viewport().size()
        if pixmap.width() > room.width() or pixmap.height() > room.height():
            pixmap = pixmap.scaled(
                room, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        self.picture.setPixmap(pixmap)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.stack.currentIndex() == PICTURE:
            self._fit_picture()

    def restyle(self) -> None:
        self._colors.restyle()
        self._diff_colors.rehighlight()

    def focus_chain(self) -> list[QWidget]:
        """What the file holds first (whichever view is shown: Qt skips hidden ones), then
        the viewer's buttons."""
        views: list[QWidget] = [self.text, self.hex, self.picture_area, self.diff]
        buttons: list[QWidget] = [*self.mode_buttons.values(), self.save_button]
        return [*views, *buttons, self.prev_button, self.next_button]

    @property
    def current(self) -> Shown | None:
        return self._shown

    @property
    def page(self) -> Page | None:
        return self._page


def _meta_text(entry: Entry, version: Version, full: bool = False) -> str:
    kind_bits = {
        Kind.DIR: stat.S_IFDIR,
        Kind.SYMLINK: stat.S_IFLNK,
        Kind.CHAR: stat.S_IFCHR,
        Kind.BLOCK: stat.S_IFBLK,
        Kind.FIFO: stat.S_IFIFO,
    }.get(entry.kind, stat.S_IFREG)
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(entry.mtime)) + " UTC"
    parts = [
        stat.filemode(kind_bits | entry.mode),
        f"{entry.uid}:{entry.gid}",
        when,
    ]
    if version.entry is not None and version.entry.kind in (Kind.FILE, Kind.HARDLINK):
        parts.append(exact_size(version.size) if full else human_size(version.size))
    if entry.kind == Kind.HARDLINK:
        parts.append(f"hardlink to {entry.link}")
    elif entry.kind == Kind.SYMLINK:
        parts.append(f"→ {entry.link}")
    parts.append(f"from layer {version.layer}")
    return "  ·  ".join(parts)


__all__ = ["CodeView", "FileViewer", "Page", "Shown"]
