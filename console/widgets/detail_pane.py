"""Base of the satellite detail panes: a bordered block of text lines rebuilt from a SatelliteView."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from console.detail import SatelliteView

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

    def show(self, view: SatelliteView | None) -> None:
        """Take a new view; lines are built once here (not again for layout), and the layout is redone only
        when the number of lines changes."""
        before = self._lines
        self._view = view
        self._lines = None
        after = self._current_lines(max(self.content_region.width, 20))
        if before is not None and len(before) == len(after) and all(a.plain == b.plain and a.spans == b.spans for a, b in zip(before, after)):
            return  # nothing visible changed: no repaint (the common case at low speed)
        self.refresh(layout=before is None or len(after) != len(before))

    def _current_lines(self, width: int) -> list[Content]:
        if self._lines is None or self._lines_width != width:
            self._lines_width = width
            if self._view is None:
                self._lines = [Content.assemble(("no satellite selected", "$text-muted"))]
            else:
                self._lines = self.lines(self._view, width)
        return self._lines

    def render(self) -> Content:
        return Content("\n").join(self._current_lines(max(self.content_region.width, 20)))

    def lines(self, view: SatelliteView, width: int) -> list[Content]:
        raise NotImplementedError

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._current_lines(max(width, 20)))


def label(text: str) -> tuple[str, str]:
    """A fixed-width muted label cell."""
    return (f"{text:<{LABEL_WIDTH}}", "$text-muted")
