"""The shelve dialog: how long to hide an alarm and why.

Dismisses with ``(duration_s, reason)`` (Enter on a duration or in the reason field) or ``None``
(Escape). The app turns the answer into ``engine.commands.ShelveAlarm``.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from console.widgets.alarm_table import quantity_name
from engine.alarms import Alarm

SHELVE_DURATIONS_S: tuple[tuple[str, float], ...] = (
    ("15 min", 15 * 60.0),
    ("30 min", 30 * 60.0),
    ("1 h", 3600.0),
    ("2 h", 2 * 3600.0),
    ("8 h", 8 * 3600.0),
)
DEFAULT_DURATION_S = 30 * 60.0


class ShelveScreen(ModalScreen[tuple[float, str] | None]):
    """Ask for a shelving duration and an optional reason."""

    DEFAULT_CSS = """
    ShelveScreen {
        align: center middle;
    }
    ShelveScreen > #shelve-dialog {
        width: 60;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        background: $panel;
        border: thick $primary;
        border-title-color: $text;
        border-title-style: bold;
    }
    ShelveScreen .shelve-label {
        margin-top: 1;
        color: $text-muted;
    }
    ShelveScreen #shelve-durations {
        height: auto;
        max-height: 7;
    }
    ShelveScreen #shelve-hint {
        margin-top: 1;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
    ]

    def __init__(
        self,
        alarm_id: int,
        satellite: str,
        quantity: str,
        *,
        default_duration_s: float = DEFAULT_DURATION_S,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.alarm_id = alarm_id
        self.satellite = satellite
        self.quantity = quantity
        self.default_duration_s = default_duration_s

    @classmethod
    def for_alarm(cls, alarm: Alarm) -> ShelveScreen:
        return cls(alarm.id, alarm.satellite, alarm.quantity)

    @property
    def title_text(self) -> str:
        return f"Shelve alarm {self.alarm_id} ({self.satellite} {quantity_name(self.quantity)})"

    def compose(self) -> ComposeResult:
        with Vertical(id="shelve-dialog") as dialog:
            dialog.border_title = self.title_text
            yield Label("Duration", classes="shelve-label")
            options = [Option(label, id=str(index)) for index, (label, _) in enumerate(SHELVE_DURATIONS_S)]
            yield OptionList(*options, id="shelve-durations")
            yield Label("Reason (optional)", classes="shelve-label")
            yield Input(placeholder="e.g. sensor under investigation", id="shelve-reason")
            yield Label("enter: shelve · tab: next field · esc: cancel", id="shelve-hint")

    def on_mount(self) -> None:
        durations = self.query_one("#shelve-durations", OptionList)
        seconds = [duration_s for _, duration_s in SHELVE_DURATIONS_S]
        durations.highlighted = seconds.index(self.default_duration_s) if self.default_duration_s in seconds else 0
        durations.focus()

    @property
    def duration_s(self) -> float:
        """The highlighted duration."""
        index = self.query_one("#shelve-durations", OptionList).highlighted
        return SHELVE_DURATIONS_S[index if index is not None else 0][1]

    @property
    def reason(self) -> str:
        return self.query_one("#shelve-reason", Input).value.strip()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss((SHELVE_DURATIONS_S[event.option_index][1], self.reason))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss((self.duration_s, self.reason))

    def action_cancel(self) -> None:
        self.dismiss(None)
