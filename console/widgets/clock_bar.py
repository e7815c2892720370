"""The clock bar: mission time in UTC and elapsed, run state and speed, and alarm counts by severity."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget

from console import formatting as fmt
from console.widgets.content_lines import ContentLines
from engine.durations import format_clock


@dataclass(frozen=True)
class ClockState:
    """Everything the bar shows; built by the app from the driver's frame and the alarm list."""

    mission_title: str
    utc: datetime
    elapsed_s: float
    paused: bool
    speed: float
    lagging: bool = False
    seeking: str | None = None
    """What a seek waits for, e.g. 'AOS of A-01-01'."""
    red: int = 0
    yellow: int = 0
    unacknowledged: int = 0
    shelved: int = 0
    replay: bool = False
    """Playing a recorded run back (``omc replay``): the bar says REPLAY before the run state."""


def speed_text(speed: float) -> str:
    return "MAX" if math.isinf(speed) else f"{speed:,.0f}x"


MIN_TITLE_GAP = 24
"""Free cells needed to show the mission title (cut with an ellipsis) between the two halves."""


class ClockBar(Widget):
    """One line at the top of the screen. On a narrow terminal it drops, in turn, the mission title, the
    word "alarms", then the date (and abbreviates), so that the run state and the alarm counts always fit."""

    DEFAULT_CSS = """
    ClockBar {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state: ClockState | None = None
        self._painter = ContentLines(self)

    def show(self, state: ClockState) -> None:
        if state != self.state:
            self.state = state
            self.refresh()

    @property
    def text(self) -> str:
        """The bar as plain text at its current width."""
        return self.line(self.size.width).plain

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y != 0:
            return self._painter.blank(width)
        return self._painter.strip(self.line(width), width)

    def line(self, width: int) -> Content:
        """The bar's content for a terminal `width` cells wide."""
        state = self.state
        if state is None:
            return Content("")
        title_text = state.mission_title
        left_full, left_short = self._run_state(state, with_date=True), self._run_state(state, with_date=False)
        right_full, right_short = self._alarms(state, compact=False), self._alarms(state, compact=True)
        for left, right, with_title in (
            (left_full, right_full, True),
            (left_full, right_full, False),
            (left_full, right_short, False),
            (left_short, right_short, False),
        ):
            gap = width - left.cell_length - right.cell_length
            if with_title and gap >= MIN_TITLE_GAP:
                if len(title_text) > gap - 4:
                    title_text = title_text[: gap - 5] + "…"
                title = Content.assemble((title_text, "$text-accent"))
                pad = gap - title.cell_length
                return Content.assemble(left, " " * (pad // 2), title, " " * (pad - pad // 2), right)
            if not with_title and gap >= 1:
                return Content.assemble(left, " " * gap, right)
        return Content.assemble(left_short, right_short)

    @staticmethod
    def _run_state(state: ClockState, *, with_date: bool) -> Content:
        run = (" ❚❚ PAUSED ", "$background on $warning bold") if state.paused else (" ▶ RUNNING ", "$background on $success bold")
        if state.seeking and not state.paused:
            run = (f" ⏩ to {state.seeking} ", "$background on $accent bold")
        clock = fmt.utc_clock(state.utc) if with_date else state.utc.strftime("%H:%M:%SZ")
        parts: list[tuple[str, str] | str] = [
            (f" {clock} ", "bold"),
            (f"T+{format_clock(state.elapsed_s)} ", "$text-muted"),
            run,
            (f" {speed_text(state.speed)}", "bold"),
        ]
        if state.replay:
            parts.insert(2, (" REPLAY ", "$background on $accent bold"))
        if state.lagging:
            parts.append((" (engine behind)" if with_date else " LAG", "$text-warning"))
        return Content.assemble(*parts)

    @staticmethod
    def _alarms(state: ClockState, *, compact: bool) -> Content:
        parts: list[tuple[str, str] | str] = [" " if compact else "  alarms "]
        parts.append((f" {state.red} RED ", "$background on $error bold") if state.red else (" 0 red ", "$text-muted"))
        parts.append(" ")
        parts.append((f" {state.yellow} YEL ", "$background on $warning bold") if state.yellow else (" 0 yel ", "$text-muted"))
        if state.unacknowledged:
            parts.append((f" {state.unacknowledged} unack", "$text-error bold"))
        if state.shelved:
            parts.append((f" {state.shelved} {'shlv' if compact else 'shelved'}", "$text-muted"))
        return Content.assemble(*parts)


def alarm_counts(alarms, time_s: float) -> tuple[int, int, int, int]:
    """(red, yellow, unacknowledged, shelved) over active alarms; shelved ones count only as shelved."""
    red = yellow = unacknowledged = shelved = 0
    for alarm in alarms:
        if not alarm.active:
            continue
        if alarm.shelved_at(time_s):
            shelved += 1
            continue
        if alarm.severity == "red":
            red += 1
        else:
            yellow += 1
        if not alarm.acknowledged:
            unacknowledged += 1
    return red, yellow, unacknowledged, shelved
