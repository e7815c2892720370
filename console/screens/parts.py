"""Choose the parts a servicing mission takes: one line per part with the spares the vehicle carries;
space toggles, enter continues, escape cancels.

Dismisses with the chosen part names (at least one), or None on Escape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList
from textual.widgets.selection_list import Selection

from console.screens.servicing import part_label

__all__ = ["PartsScreen"]


class PartsScreen(ModalScreen[tuple[str, ...] | None]):
    """Pick parts to swap, among those the vehicle has spares of (suggested ones preselected)."""

    DEFAULT_CSS = """
    PartsScreen {
        align: center middle;
    }
    PartsScreen > #parts-dialog {
        width: 64;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        background: $panel;
        border: thick $primary;
        border-title-color: $text;
        border-title-style: bold;
    }
    PartsScreen #parts-list {
        height: auto;
        max-height: 8;
        margin-top: 1;
    }
    PartsScreen #parts-hint, PartsScreen #parts-error {
        color: $text-muted;
    }
    PartsScreen #parts-error {
        color: $text-error;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Continue", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, spares: Mapping[str, int], suggested: Sequence[str] = ()) -> None:
        super().__init__()
        self.title_text = title
        self.spares = dict(spares)
        self.suggested = tuple(suggested)

    def compose(self) -> ComposeResult:
        with Vertical(id="parts-dialog") as dialog:
            dialog.border_title = self.title_text
            yield SelectionList[str](
                *(Selection(f"{part_label(part)}  ({count} aboard)", part,
                            initial_state=part in self.suggested and count > 0, disabled=count <= 0)
                  for part, count in self.spares.items()),
                id="parts-list",
            )
            yield Label("", id="parts-error")
            yield Label("space: select · enter: continue · esc: cancel", id="parts-hint")

    def on_mount(self) -> None:
        self.query_one("#parts-list", SelectionList).focus()

    @property
    def chosen(self) -> tuple[str, ...]:
        return tuple(self.query_one("#parts-list", SelectionList).selected)

    def action_submit(self) -> None:
        if not self.chosen:
            self.query_one("#parts-error", Label).update("choose at least one part")
            self.app.bell()
            return
        self.dismiss(self.chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
