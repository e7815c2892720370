"""Put a satellite in maintenance mode: a reason (shown with every alarm it shelves) and how many days.

Dismisses with ``(reason, duration_s)``, or None on Escape; an empty reason or a duration outside
(0, 365] days is refused in the dialog with the reason.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

__all__ = ["MaintenanceScreen", "MAX_DAYS"]

MAX_DAYS = 365.0


class MaintenanceScreen(ModalScreen[tuple[str, float] | None]):
    """Reason and duration of a maintenance period."""

    DEFAULT_CSS = """
    MaintenanceScreen {
        align: center middle;
    }
    MaintenanceScreen > #maintenance-dialog {
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
    MaintenanceScreen Label.field {
        margin-top: 1;
    }
    MaintenanceScreen #maintenance-error {
        color: $text-error;
    }
    MaintenanceScreen #maintenance-hint {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, satellite: str, reason: str = "servicing", days: float = 30.0) -> None:
        super().__init__()
        self.satellite = satellite
        self.default_reason = reason
        self.default_days = days

    def compose(self) -> ComposeResult:
        with Vertical(id="maintenance-dialog") as dialog:
            dialog.border_title = f"Maintenance mode for {self.satellite}"
            yield Label("Its alarms are shelved with this reason until then.", id="maintenance-about")
            yield Label("Reason", classes="field")
            yield Input(self.default_reason, id="maintenance-reason")
            yield Label(f"Days (up to {MAX_DAYS:.0f})", classes="field")
            yield Input(f"{self.default_days:g}", id="maintenance-days", type="number")
            yield Label("", id="maintenance-error")
            yield Label("enter: put it in maintenance · esc: cancel", id="maintenance-hint")

    def on_mount(self) -> None:
        self.query_one("#maintenance-reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        reason = self.query_one("#maintenance-reason", Input).value.strip()
        error = self.query_one("#maintenance-error", Label)
        if not reason:
            error.update("give a reason: it is shown with every alarm it shelves")
            return
        try:
            days = float(self.query_one("#maintenance-days", Input).value)
        except ValueError:
            error.update("days must be a number")
            return
        if not 0 < days <= MAX_DAYS:
            error.update(f"days must be between 0 and {MAX_DAYS:.0f}")
            return
        self.dismiss((reason, days * 86400.0))

    def action_cancel(self) -> None:
        self.dismiss(None)
