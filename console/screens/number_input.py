"""Ask for one number in a range: a job priority, a GPU power cap in watts, a GPU index.

Enter with a valid number dismisses with it (an ``int`` when ``integer`` is set). With ``allow_clear``, Enter
on an empty field dismisses with None (e.g. "lift the power cap"). A number out of range, or text that is
not a number, is refused inline with the reason and the dialog stays open. Escape closes the dialog
without an answer: the ``push_screen`` callback is not called, so None always means "clear", never
"cancelled" (do not push this screen with ``wait_for_dismiss=True``).
"""

from __future__ import annotations

import math
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

__all__ = ["NumberInputScreen"]


def _number_text(value: float) -> str:
    return f"{value:g}"


class NumberInputScreen(ModalScreen[float | None]):
    """One labelled number field with its allowed range and unit."""

    DEFAULT_CSS = """
    NumberInputScreen {
        align: center middle;
    }
    NumberInputScreen > #number-dialog {
        width: 56;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        background: $panel;
        border: thick $primary;
        border-title-color: $text;
        border-title-style: bold;
    }
    NumberInputScreen #number-range {
        margin-top: 1;
        color: $text-muted;
    }
    NumberInputScreen #number-error {
        width: 1fr;
        height: auto;
        color: $text-error;
    }
    NumberInputScreen #number-hint {
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
    ]

    def __init__(
        self,
        label: str,
        *,
        minimum: float,
        maximum: float,
        unit: str = "",
        value: float | None = None,
        integer: bool = False,
        allow_clear: bool = False,
        clear_text: str = "clear",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`label` is the question (the dialog's title); `value` pre-fills the field; `clear_text` says what
        an empty answer does when `allow_clear` is set (e.g. "lift the cap")."""
        super().__init__(name=name, id=id, classes=classes)
        if not (math.isfinite(minimum) and math.isfinite(maximum)) or minimum > maximum:
            raise ValueError(f"bad range {minimum!r}..{maximum!r}")
        self.label = label
        self.minimum = minimum
        self.maximum = maximum
        self.unit = unit
        self.value = value
        self.integer = integer
        self.allow_clear = allow_clear
        self.clear_text = clear_text
        self.error = ""
        """The reason the last answer was refused ('' when it was not)."""

    @property
    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        kind = "whole number" if self.integer else "number"
        return f"a {kind} from {_number_text(self.minimum)} to {_number_text(self.maximum)}{unit}"

    def compose(self) -> ComposeResult:
        with Vertical(id="number-dialog") as dialog:
            dialog.border_title = self.label
            yield Label(self.range_text[0].upper() + self.range_text[1:], id="number-range", markup=False)
            initial = "" if self.value is None else _number_text(self.value)
            yield Input(initial, placeholder=self.unit or "number", type="integer" if self.integer else "number", id="number-input")
            yield Label("", id="number-error", markup=False)
            clear = f" · empty: {self.clear_text}" if self.allow_clear else ""
            yield Label(f"enter: set{clear} · esc: cancel", id="number-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#number-input", Input).focus()

    def parse(self, text: str) -> tuple[float | None, str]:
        """(value, '') for an acceptable answer, else (None, reason). An empty answer is (None, '') only
        when clearing is allowed."""
        text = text.strip()
        if self.unit and text.lower().endswith(self.unit.lower()):
            text = text[: -len(self.unit)].strip()
        if not text:
            return (None, "") if self.allow_clear else (None, f"enter {self.range_text}")
        try:
            number = float(text)
        except ValueError:
            return None, f"{text!r} is not a number"
        if not math.isfinite(number):
            return None, f"{text!r} is not a finite number"
        if self.integer and not number.is_integer():
            return None, f"{text} is not a whole number"
        if not self.minimum <= number <= self.maximum:
            unit = f" {self.unit}" if self.unit else ""
            return None, f"{text} is out of range: {_number_text(self.minimum)} to {_number_text(self.maximum)}{unit}"
        return (int(number) if self.integer else number), ""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value, reason = self.parse(event.value)
        self._show_error(reason)
        if reason:
            self.app.bell()
            return
        self.dismiss(value)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_error("")

    def _show_error(self, reason: str) -> None:
        if reason != self.error:
            self.error = reason
            self.query_one("#number-error", Label).update(reason)

    def action_cancel(self) -> None:
        """Close without an answer (the result callback is not called)."""
        self.app.pop_screen()
