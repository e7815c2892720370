"""The clock bar: mission time in UTC and elapsed, run state and speed, and alarm counts by severity."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from textual.content import Content
from textual.widget import Widget

from console import formatting as fmt
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


def speed_text(speed: float) -> str:
    return "MAX" if math.isinf(speed) else f"{speed:,.0f}x"


class ClockBar(Widget):
    """One line at the top of the screen."""

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

    def show(self, state: ClockState) -> None:
        if state != self.state:
            self.state = state
            self.refresh()

    def render(self) -> Content:
        state = self.state
        if state is None:
            return Content("")
        width = self.size.width
        run = (" ❚❚ PAUSED ", "$background on $warning bold") if state.paused else (" ▶ RUNNING ", "$background on $success bold")
        if state.seeking and not state.paused:
            run = (f" ⏩ to {state.seeking} ", "$background on $accent bold")
        parts: list[tuple[str, str] | str] = [
            (f" {fmt.utc_clock(state.utc)} ", "bold"),
            (f"T+{format_clock(state.elapsed_s)} ", "$text-muted"),
            run,
            (f" {speed_text(state.speed)}", "bold"),
        ]
        if state.lagging:
            parts.append((" (engine behind)", "$text-warning"))
        alarms: list[tuple[str, str] | str] = ["  alarms "]
        alarms.append((f" {state.red} RED ", "$background on $error bold") if state.red else (" 0 red ", "$text-muted"))
        alarms.append(" ")
        alarms.append((f" {state.yellow} YEL ", "$background on $warning bold") if state.yellow else (" 0 yel ", "$text-muted"))
        if state.unacknowledged:
            alarms.append((f" {state.unacknowledged} unack", "$text-error bold"))
        if state.shelved:
            alarms.append((f" {state.shelved} shelved", "$text-muted"))
        left = Content.assemble(*parts)
        right = Content.assemble(*alarms)
        title = Content.assemble((state.mission_title, "$text-accent"))
        gap = width - left.cell_length - right.cell_length
        if gap >= title.cell_length + 4:
            pad = gap - title.cell_length
            return Content.assemble(left, " " * (pad // 2), title, " " * (pad - pad // 2), right)
        if gap >= 1:
            return Content.assemble(left, " " * gap, right)
        return Content.assemble(left, right)


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
