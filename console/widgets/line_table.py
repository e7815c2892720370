"""A small line-API table: a fixed header, keyed rows, a cursor, and only the visible rows rendered.

``LineTable`` is the base of the alarm table and the event log. Rows are plain records
(:class:`Row`: a key, the cell texts and an optional style class); ``set_rows`` swaps the whole list in
one go without creating a widget per cell, and ``render_line`` formats just the lines on screen. The
cursor is keyed: when rows are replaced it stays on the row with the same key.

Subclasses that keep their own storage (the event log's ring buffer) override ``row_count``,
``row_at`` and ``index_of_key`` and call ``rows_changed`` after each change, so rows are only built
for the lines actually drawn.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["Column", "LineTable", "Row", "StripCache"]

_NOT_REVERSED = Style(reverse=False)


class StripCache:
    """One Strip per distinct (text, style, width, scroll) line, reused while the line is unchanged.

    Handing Textual the same Strip object again keeps its per-strip caches (colour filters, crops) warm,
    so a table whose rows mostly stay the same, or a log that scrolls by a line, repaints cheaply. The
    cache is dropped wholesale when it grows past ``limit`` entries (a few screens' worth)."""

    def __init__(self, limit: int = 1024) -> None:
        self.limit = limit
        self._strips: dict[tuple[str, Style, int, int], Strip] = {}

    def clear(self) -> None:
        self._strips.clear()

    def line(self, text: str, style: Style, width: int, scroll_x: int = 0) -> Strip:
        """`text` in one style, scrolled by `scroll_x` and cut or padded to `width` cells."""
        key = (text, style, width, scroll_x)
        strip = self._strips.get(key)
        if strip is None:
            if len(self._strips) >= self.limit:
                self._strips.clear()
            strip = self._strips[key] = _line_strip(text, style, width, scroll_x)
        return strip


def _line_strip(text: str, style: Style, width: int, scroll_x: int) -> Strip:
    length = cell_len(text)
    if scroll_x == 0 and length == width:  # the common case: the text fills the width exactly
        return Strip([Segment(text, style)], width)
    if scroll_x == 0 and length < width:
        return Strip([Segment(text + " " * (width - length), style)], width)
    return Strip([Segment(text, style)], length).crop(scroll_x, scroll_x + width).extend_cell_length(width, style)


@dataclass(frozen=True)
class Column:
    """One column: its title, its width in cells and its alignment ("<", ">" or "^").

    A ``flexible`` column (the last one only) takes whatever width is left, never less than ``width``.
    """

    title: str
    width: int
    align: str = "<"
    flexible: bool = False


@dataclass(frozen=True)
class Row:
    """One row: a key unique within the table, one text per column, and an optional style class
    (a component class of the table; several may be given separated by spaces)."""

    key: Hashable
    cells: tuple[str, ...]
    style_class: str | None = None


class LineTable(ScrollView, can_focus=True):
    """A table drawn line by line; the cursor row is the selection."""

    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    """Default columns for subclasses; the constructor's ``columns`` overrides them."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "line-table--header",
        "line-table--cursor",
        "line-table--empty",
    }

    DEFAULT_CSS = """
    LineTable {
        height: 1fr;
        background: $surface;
    }
    LineTable > .line-table--header { background: $panel; color: $text; text-style: bold; }
    LineTable > .line-table--empty { color: $text-muted; text-style: italic; }
    LineTable > .line-table--cursor { background: $accent 40%; }
    LineTable:focus > .line-table--cursor { background: $accent; color: $text; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Previous row", show=False),
        Binding("down", "cursor(1)", "Next row", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First row", show=False),
        Binding("end", "jump(-1)", "Last row", show=False),
    ]

    class CursorMoved(Message):
        """The cursor is on another row (``key`` None: the table is empty)."""

        def __init__(self, table: LineTable, key: Hashable | None, index: int) -> None:
            self.table = table
            self.key = key
            self.index = index
            super().__init__()

        @property
        def control(self) -> LineTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column] | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._columns: tuple[Column, ...] = tuple(self.COLUMNS if columns is None else columns)
        if any(column.flexible for column in self._columns[:-1]):
            raise ValueError("only the last column may be flexible")
        self._rows: Sequence[Row] = ()
        self._key_index: dict[Hashable, int] = {}
        self._cursor_index = 0
        self._cursor_key: Hashable | None = None
        self._widths_cache: tuple[int, tuple[int, ...]] | None = None
        self._style_memo: dict[tuple, Style] = {}
        """Rich styles of the widget and its component classes, kept until the CSS or theme changes (each
        lookup walks the DOM, ~100 µs, and Textual drops its own cache on every refresh)."""
        self._strips = StripCache()
        self._frame_geometry: tuple[int, int, int] | None = None

    # ------------------------------------------------------------------------------------------ rows

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def row_count(self) -> int:
        """Rows in the table (override together with ``row_at`` for custom storage)."""
        return len(self._rows)

    def row_at(self, index: int) -> Row:
        """The row at a display index (0 = first row under the header)."""
        return self._rows[index]

    def key_at(self, index: int) -> Hashable:
        """The key of the row at a display index (override when building the row costs more)."""
        return self.row_at(index).key

    def index_of_key(self, key: Hashable) -> int | None:
        """Display index of the row with this key, or None when it is gone."""
        return self._key_index.get(key)

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Replace every row; the cursor stays on the same key if that row is still there."""
        self._rows = rows
        self._key_index = {row.key: index for index, row in enumerate(rows)}
        self.rows_changed()

    def rows_changed(self, *, scroll_to_cursor: bool = True) -> None:
        """After any row change: re-place the cursor by key (or keep its index when its row is gone),
        resize the virtual area, scroll the cursor row into view (unless told not to) and refresh."""
        count = self.row_count
        index = self.index_of_key(self._cursor_key) if self._cursor_key is not None else None
        if index is None:
            index = self._cursor_index
        self._cursor_index = max(0, min(index, count - 1))
        self._update_virtual_size()
        self._set_cursor_key(self.key_at(self._cursor_index) if count else None)
        if scroll_to_cursor:
            self.scroll_to_cursor()
        self.refresh()

    def _update_virtual_size(self) -> None:
        minimum = sum(column.width for column in self._columns) + max(len(self._columns) - 1, 0)
        set_virtual_size(self, Size(minimum, self.row_count + 1))

    # ---------------------------------------------------------------------------------------- cursor

    @property
    def cursor_index(self) -> int:
        return self._cursor_index

    @property
    def cursor_key(self) -> Hashable | None:
        return self._cursor_key

    @property
    def cursor_row(self) -> Row | None:
        return self.row_at(self._cursor_index) if self.row_count else None

    @property
    def page_rows(self) -> int:
        """Rows visible under the header."""
        return max(self.scrollable_content_region.height - 1, 1)

    def move_cursor(self, index: int) -> None:
        """Put the cursor on a row (clamped) and scroll it into view."""
        count = self.row_count
        self._cursor_index = max(0, min(index, count - 1))
        self._set_cursor_key(self.key_at(self._cursor_index) if count else None)
        self.scroll_to_cursor()
        self.refresh()

    def select_key(self, key: Hashable) -> bool:
        """Put the cursor on the row with this key; False when there is none."""
        index = self.index_of_key(key)
        if index is None:
            return False
        self.move_cursor(index)
        return True

    def _set_cursor_key(self, key: Hashable | None) -> None:
        if key != self._cursor_key:
            self._cursor_key = key
            self.post_message(self.CursorMoved(self, key, self._cursor_index))

    def scroll_to_cursor(self) -> None:
        """Scroll the least needed to show the cursor row (and no blank space below the last row)."""
        row, page = self._cursor_index, self.page_rows
        current = int(self.scroll_offset.y)
        top = min(current, max(self.row_count - page, 0))
        if row < top:
            top = row
        elif row >= top + page:
            top = row - page + 1
        if top != current:
            self.scroll_to(y=top, animate=False, immediate=True, force=True)

    def on_resize(self, event: events.Resize) -> None:
        self._widths_cache = None
        self.scroll_to_cursor()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and offset.y >= 1:
            self.move_cursor(int(self.scroll_offset.y) + offset.y - 1)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self._cursor_index + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self._cursor_index + direction * max(self.page_rows - 1, 1))

    def action_jump(self, where: int) -> None:
        self.move_cursor(0 if where == 0 else self.row_count - 1)

    # ------------------------------------------------------------------------------------- rendering

    def column_widths(self, width: int) -> tuple[int, ...]:
        """Cell widths of the columns when the table is `width` cells wide."""
        if self._widths_cache is not None and self._widths_cache[0] == width:
            return self._widths_cache[1]
        widths = [column.width for column in self._columns]
        if self._columns and self._columns[-1].flexible:
            used = sum(widths[:-1]) + len(widths) - 1
            widths[-1] = max(widths[-1], width - used)
        self._widths_cache = (width, tuple(widths))
        return self._widths_cache[1]

    def format_cells(self, cells: Sequence[str], width: int) -> str:
        """The cells fitted to their columns and joined by single spaces."""
        return " ".join(
            _fit(text, cell_width, column.align)
            for text, cell_width, column in zip(cells, self.column_widths(width), self._columns)
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        """Look the width and scroll position up once per paint (each goes through the reactive
        machinery, tens of µs, and a paint draws every visible line)."""
        self._frame_geometry = (self.scrollable_content_region.width, *self.scroll_offset)
        try:
            return super().render_lines(crop)
        finally:
            self._frame_geometry = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_memo.clear()
        self._strips.clear()

    def component_style(self, *names: str, partial: bool = False) -> Style:
        """``get_component_rich_style``, remembered until the styles change."""
        key = (names, partial)
        style = self._style_memo.get(key)
        if style is None:
            style = self._style_memo[key] = self.get_component_rich_style(*names, partial=partial)
        return style

    @property
    def base_style(self) -> Style:
        style = self._style_memo.get(("base",))
        if style is None:
            style = self._style_memo[("base",)] = self.rich_style
        return style

    def render_line(self, y: int) -> Strip:
        geometry = self._frame_geometry
        width, scroll_x, scroll_y = geometry if geometry is not None else (self.scrollable_content_region.width, *self.scroll_offset)
        if y == 0:
            style = self.base_style + self.component_style("line-table--header")
            return self._strip(self.format_cells([column.title for column in self._columns], width), style, width, scroll_x)
        index = scroll_y + y - 1
        if index >= self.row_count:
            if self.row_count == 0 and y == 1 and self.empty_text():
                style = self.base_style + self.component_style("line-table--empty")
                return self._strip(f" {self.empty_text()}", style, width, 0)
            return Strip.blank(width, self.base_style)
        row = self.row_at(index)
        return self._strip(self.format_cells(row.cells, width), self.row_style(row, index == self._cursor_index), width, scroll_x)

    def _strip(self, text: str, style: Style, width: int, scroll_x: int) -> Strip:
        """One line of `text`, scrolled by `scroll_x` and cut or padded to `width` cells."""
        return self._strips.line(text, style, width, scroll_x)

    def row_style(self, row: Row, is_cursor: bool) -> Style:
        """The row's Rich style: the widget's, its style classes', then the cursor's."""
        style = self.base_style
        if row.style_class:
            style += self.component_style(*row.style_class.split())
        if is_cursor:
            style += self._cursor_style()
        return style

    def _cursor_style(self) -> Style:
        """The cursor's background and text style; its colour only if the CSS sets one, so that an
        unfocused cursor keeps the row's colour."""
        full = self.component_style("line-table--cursor")
        partial = self.component_style("line-table--cursor", partial=True)
        colours = Style(color=full.color if partial.color is not None else None, bgcolor=full.bgcolor)
        return partial.without_color + colours + _NOT_REVERSED

    def empty_text(self) -> str:
        """What the first line says when there are no rows ('' for nothing)."""
        return ""

    def line_text(self, y: int) -> str:
        """The plain text of screen line `y` (0 is the header), as drawn."""
        return "".join(segment.text for segment in self.render_line(y))


def _fit(text: str, width: int, align: str) -> str:
    """`text` padded or cut (with an ellipsis) to exactly `width` cells."""
    if text.isascii() and text.isprintable():
        if len(text) > width:
            return text[: width - 1] + "…" if width > 0 else ""
        return f"{text:{align}{width}}"
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…" if width > 0 else ""
    pad = width - length
    if align == ">":
        return " " * pad + text
    if align == "^":
        return " " * (pad // 2) + text + " " * (pad - pad // 2)
    return text + " " * pad


def set_virtual_size(widget: ScrollView, size: Size) -> None:
    """Resize a line-API widget's scrollable area without a screen layout when the scrollbars stay as
    they are (a growing log or a re-filtered table): only the scrollbar thumbs and the widget repaint.

    Assigning ``virtual_size`` (a layout reactive) reflows and repaints the whole screen, which at
    200x50 costs about ten times a normal frame; this takes that path only when a scrollbar appears
    or disappears."""
    old = widget.virtual_size
    if size == old:
        return
    width, height = widget.container_size
    if not width or not height or (old.width > width) != (size.width > width) or (old.height > height) != (size.height > height):
        widget.virtual_size = size
        return
    widget.set_reactive(type(widget).virtual_size, size)
    widget._scroll_update(size)
    widget.refresh()
