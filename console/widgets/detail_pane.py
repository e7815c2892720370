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

    def show(self, view: SatelliteView | None) -> None:
        self._view = view
        self.refresh(layout=True)

    def render(self) -> Content:
        if self._view is None:
            return Content.assemble(("no satellite selected", "$text-muted"))
        width = max(self.content_region.width, 20)
        return Content("\n").join(self.lines(self._view, width))

    def lines(self, view: SatelliteView, width: int) -> list[Content]:
        raise NotImplementedError

    def get_content_height(self, container, viewport, width: int) -> int:
        if self._view is None:
            return 1
        return len(self.lines(self._view, max(width, 20)))


def label(text: str) -> tuple[str, str]:
    """A fixed-width muted label cell."""
    return (f"{text:<{LABEL_WIDTH}}", "$text-muted")
