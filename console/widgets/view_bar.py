"""The view bar: on small terminals the console shows one pane at a time; this line names them and their keys."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


@dataclass(frozen=True)
class View:
    id: str
    key: str
    title: str


VIEWS = (
    View("fleet", "1", "Fleet"),
    View("detail", "2", "Satellite"),
    View("map", "3", "Map"),
    View("alarms", "4", "Alarms"),
    View("events", "5", "Events"),
)


class ViewBar(Widget):
    """`1 Fleet  2 Satellite  3 Map  4 Alarms  5 Events`, the current one highlighted (and the one a
    walkthrough step points at marked)."""

    DEFAULT_CSS = """
    ViewBar {
        height: 1;
        background: $boost;
    }
    """

    current: reactive[str] = reactive("fleet")
    pointed: reactive[str | None] = reactive(None)
    """The view a guided walkthrough's current step points at (marked until it is shown)."""

    def render(self) -> Content:
        parts: list[tuple[str, str] | str] = []
        for view in VIEWS:
            if view.id == self.current:
                style = "$background on $accent bold"
            elif view.id == self.pointed:
                style = "$background on $warning bold"
            else:
                style = ""
            parts.append((f" {view.key} {view.title} ", style))
            parts.append(" ")
        return Content.assemble(*parts)
