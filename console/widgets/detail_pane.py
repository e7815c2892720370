"""Base of the satellite detail panes: a bordered block of text lines rebuilt from a SatelliteView."""

from __future__ import annotations

import numpy as np
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from console import formatting as fmt
from console.detail import SatelliteView
from console.widgets.content_lines import ContentLines, changed_rows

LABEL_WIDTH = 9


class DetailPane(Widget):
    """A pane that renders ``lines(view, width)``; subclasses supply the lines and the title."""

    DEFAULT_CSS = """
    DetailPane {
        height: auto;
        min-height: 4;
        border: round $panel-lighten-2;
        border-title-color: $text-accent;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    TITLE = "Detail"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = self.TITLE
        self._view: SatelliteView | None = None
        self._lines: list[Content] | None = None
        self._lines_width = 0
        self._painter = ContentLines(self)
        self._sparklines: dict[tuple, tuple[np.ndarray, str]] = {}
        self.held = False
        """A view was given with ``hold`` and its lines are not built yet."""
        self.lines_built = 0
        """Times the lines were built (tests: a pane out of sight builds none)."""

    def show(self, view: SatelliteView | None) -> None:
        """Take a new view; lines are built once here (not again for layout). Only the lines that changed
        are repainted, and the layout is redone only when the number of lines changes."""
        before = self._lines
        self.held = False
        self._view = view
        self._lines = None
        after = self._current_lines(max(self.content_region.width, 20))
        rows = changed_rows(before, after)
        if rows is None:
            self.refresh(layout=True)
        elif rows:
            width = self.size.width
            self.refresh(*(Region(0, row, width, 1) for row in rows))

    def hold(self, view: SatelliteView | None) -> None:
        """Take a new view without building its lines (the pane is out of sight): the old lines stay (and
        keep the pane's height) until ``catch_up``."""
        if view is not self._view:
            self._view = view
            self.held = True

    def catch_up(self) -> None:
        """Show the view last held, if any."""
        if self.held:
            self.show(self._view)

    def _current_lines(self, width: int) -> list[Content]:
        if self._lines is None or self._lines_width != width:
            self.lines_built += 1
            self._lines_width = width
            if self._view is None:
                self._lines = [Content.assemble(("no satellite selected", "$text-muted"))]
            else:
                self._lines = self.lines(self._view, width)
        return self._lines

    @property
    def text(self) -> str:
        """The pane's lines as plain text (what an operator reads, without styles), brought up to date."""
        self.catch_up()
        return "\n".join(line.plain for line in self._current_lines(max(self.content_region.width, 20)))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = self._current_lines(max(width, 20))
        if 0 <= y < len(lines):
            return self._painter.strip(lines[y], width)
        return self._painter.blank(width)

    def lines(self, view: SatelliteView, width: int) -> list[Content]:
        raise NotImplementedError

    def sparkline(self, values: np.ndarray, width: int, low: float | None = None, high: float | None = None) -> str:
        """``formatting.sparkline``, remembered while the history array is the same object (the app hands
        the same history until the engine records a new sample, once a simulated minute)."""
        key = (id(values), width, low, high)
        cached = self._sparklines.get(key)
        if cached is not None and cached[0] is values:
            return cached[1]
        if len(self._sparklines) > 64:
            self._sparklines.clear()
        text = fmt.sparkline(values, width, low, high)
        self._sparklines[key] = (values, text)
        return text

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._current_lines(max(width, 20)))


def label(text: str) -> tuple[str, str]:
    """A fixed-width muted label cell."""
    return (f"{text:<{LABEL_WIDTH}}", "$text-muted")
