"""A yes/no question before a consequential command (cancelling or requeueing a job, resetting a GPU).

Dismisses with True (``y``, or the Yes button) or False (``n``, Escape, or the No button). The No button
has the focus when the dialog opens, so an Enter pressed by habit declines; Enter confirms once the
operator has moved to Yes (tab or ←/→).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

__all__ = ["ConfirmScreen"]


class ConfirmScreen(ModalScreen[bool]):
    """Ask the operator to confirm one action, stating its consequence."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen > #confirm-dialog {
        width: 64;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 1 2 0 2;
        background: $panel;
        border: thick $warning;
        border-title-color: $text;
        border-title-style: bold;
    }
    ConfirmScreen #confirm-text {
        width: 1fr;
    }
    ConfirmScreen #confirm-buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    ConfirmScreen #confirm-buttons > Button {
        margin-left: 2;
    }
    ConfirmScreen #confirm-hint {
        width: 1fr;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Yes", show=True),
        Binding("n", "decline", "No", show=True),
        Binding("escape", "decline", "Cancel", show=True),
        Binding("left", "focus_previous", "Previous button", show=False),
        Binding("right", "focus_next", "Next button", show=False),
    ]

    def __init__(
        self,
        title: str,
        text: str,
        *,
        confirm_label: str = "Yes",
        decline_label: str = "No",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.title_text = title
        self.text = text
        self.confirm_label = confirm_label
        self.decline_label = decline_label

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog") as dialog:
            dialog.border_title = self.title_text
            yield Label(self.text, id="confirm-text", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button(self.confirm_label, variant="error", id="confirm-yes")
                yield Button(self.decline_label, variant="primary", id="confirm-no")
            yield Label("y: yes · n / esc: no · enter: the focused button", id="confirm-hint")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_decline(self) -> None:
        self.dismiss(False)
