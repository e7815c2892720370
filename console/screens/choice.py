"""Pick one item from a short list (a laser link of the selected satellite): enter picks, escape cancels.

Dismisses with the chosen item's key, or None on Escape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

__all__ = ["ChoiceScreen"]


class ChoiceScreen(ModalScreen[str | None]):
    """A titled list of (key, text) choices."""

    DEFAULT_CSS = """
    ChoiceScreen {
        align: center middle;
    }
    ChoiceScreen > #choice-dialog {
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
    ChoiceScreen #choice-list {
        height: auto;
        max-height: 12;
        margin-top: 1;
    }
    ChoiceScreen #choice-hint {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], *, hint: str = "enter: choose · esc: cancel") -> None:
        super().__init__()
        if not choices:
            raise ValueError("a choice needs at least one item")
        self.title_text = title
        self.choices = tuple(choices)
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-dialog") as dialog:
            dialog.border_title = self.title_text
            yield OptionList(*(Option(text, id=key) for key, text in self.choices), id="choice-list")
            yield Label(self.hint, id="choice-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
