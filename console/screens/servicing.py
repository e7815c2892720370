"""Servicing, full screen: the vehicles (where, Δv, spares, cost), every mission with its phase, ETA, Δv,
risk and cost, and the selected mission's phase timeline.

The app pushes it (``v``), calls ``update`` every slow frame while it is shown, and pops it on Escape or
``v``. Its keys post requests (:class:`ServicingScreen.DispatchRequested`, ``AbortRequested``) that the
app turns into dialogs and engine commands, like the job table's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from engine.durations import format_duration
from engine.servicing import MissionView, PhaseStatus, ServicerView

__all__ = ["PART_LABELS", "ServicingScreen", "mission_line", "part_label", "servicer_line", "timeline_lines"]

PART_LABELS = {"gpu_board": "GPU board", "battery_module": "battery module", "radiator_panel": "radiator panel",
               "array_wing": "array wing", "isl_terminal": "laser terminal"}


def part_label(part) -> str:
    """How a part reads on screen ('GPU board', 'laser terminal')."""
    name = getattr(part, "value", part)
    return PART_LABELS.get(name, name.replace("_", " "))

STATUS_STYLES = {"active": "$text-accent", "complete": "$text-success", "aborted": "$text-warning", "failed": "$text-error"}
PHASE_MARKS = {
    PhaseStatus.DONE: ("✓", "$text-success"),
    PhaseStatus.ACTIVE: ("▶", "$text-accent bold"),
    PhaseStatus.PLANNED: ("·", "$text-muted"),
    PhaseStatus.FAILED: ("✗", "$text-error"),
    PhaseStatus.INTERRUPTED: ("■", "$text-warning"),
    PhaseStatus.CANCELLED: ("–", "$text-muted"),
}


def _when(time_s: float | None, now_s: float) -> str:
    """'in 3d04h' ahead, '2h10m ago' behind, '—' unknown."""
    if time_s is None:
        return "—"
    delta = time_s - now_s
    if abs(delta) < 1.0:
        return "now"
    return f"in {format_duration(delta)}" if delta > 0 else f"{format_duration(-delta)} ago"


SHORT_PART_NAMES = {"gpu_board": "GPU", "battery_module": "batt", "radiator_panel": "rad", "array_wing": "wing",
                    "isl_terminal": "ISL"}
"""Part names in the vehicles' spares lists (GPU boards, battery modules, radiator panels, array wings,
laser terminals)."""


def _spares(servicer: ServicerView) -> str:
    parts = [f"{count} {SHORT_PART_NAMES.get(part.value, part.value)}" for part, count in servicer.spares.items() if count]
    return " · ".join(parts) or "none"


def servicer_line(servicer: ServicerView, satellite_ids: Sequence[str], now_s: float) -> Content:
    """One vehicle: id, where it is or what it does, Δv left, spares, missions flown and cost."""
    if servicer.busy:
        where = (f"on {servicer.mission_id}", "$text-accent")
    elif servicer.orbit is not None:
        where = (f"parked at {servicer.orbit.altitude_km:.0f} km, {servicer.orbit.inclination_deg:.1f}°", "")
    else:
        where = (f"on the ground ({servicer.launch_mode.value.replace('_', ' ')})", "$text-muted")
    return Content.assemble(
        (f"{servicer.servicer_id:<8} ", "bold"), where,
        ("  Δv ", "$text-muted"), f"{servicer.delta_v_remaining_m_s:,.0f} m/s",
        ("  spares ", "$text-muted"), _spares(servicer),
        ("  flown ", "$text-muted"), str(servicer.missions_flown),
        ("  cost ", "$text-muted"), f"${servicer.cost_musd:,.0f}M",
    )


def mission_line(mission: MissionView, satellite_ids: Sequence[str], now_s: float) -> Content:
    """One mission: id, vehicle → target, parts, phase or outcome, ETA, Δv, risk, cost."""
    status = mission.status.value
    parts = ", ".join(part_label(p) for p in mission.parts)
    doing = mission.phase.name.replace("_", " ") if mission.phase is not None else status
    eta = _when(mission.eta_s, now_s) if status == "active" else f"ended {_when(mission.eta_s, now_s)}"
    return Content.assemble(
        (f"{mission.mission_id:<7} ", "bold"), f"{mission.servicer_id} → ", (satellite_ids[mission.target], "$text-accent"),
        (f"  {parts}  ", "$text-muted"), (doing, STATUS_STYLES.get(status, "")),
        ("  ", ""), eta,
        ("  Δv ", "$text-muted"), f"{mission.delta_v_used_m_s:,.0f}/{mission.delta_v_planned_m_s:,.0f} m/s",
        ("  risk ", "$text-muted"), f"{mission.risk:.0%}",
        ("  cost ", "$text-muted"), f"${mission.cost_musd:,.0f}M",
    )


def timeline_lines(mission: MissionView, satellite_ids: Sequence[str], now_s: float) -> Content:
    """The mission's phases, one per line: mark, name, start, duration, end."""
    lines: list[tuple[str, str] | str] = [
        (f"{mission.mission_id} · {mission.servicer_id} → {satellite_ids[mission.target]}", "bold"),
        (f"  dispatched {_when(mission.dispatched_s, now_s)} · success {mission.p_success:.0%} · "
         f"docking tries {mission.dock_attempts}", "$text-muted"),
    ]
    if mission.reason:
        lines += ["\n", (f"  {mission.reason}", "$text-warning")]
    for record in mission.timeline:
        mark, style = PHASE_MARKS.get(record.status, ("?", ""))
        name = record.kind.value.replace("_", " ") + (f" {part_label(record.part)}" if record.part is not None else
                                                      f" #{record.attempt}" if record.attempt > 1 else "")
        length = "open" if record.duration_s is None else format_duration(record.duration_s)
        lines += ["\n", (f" {mark} ", style), (f"{name:<24}", style if record.status == PhaseStatus.ACTIVE else ""),
                  (f" {_when(record.start_s, now_s):>14}", "$text-muted"), (f"  {length:>8}", "")]
    if mission.status.value == "active" and any(r.kind.value == "awaiting_target" and r.status == PhaseStatus.ACTIVE
                                                for r in mission.timeline):
        lines += ["\n", ("  waiting: drain the satellite (d) and put it in maintenance (m) so the vehicle can dock",
                         "$text-warning")]
    return Content.assemble(*lines)


class ServicingScreen(Screen[None]):
    """Servicing vehicles and missions, with the selected mission's timeline."""

    DEFAULT_CSS = """
    ServicingScreen #servicing-vehicles {
        height: auto;
        max-height: 10;
        padding: 0 1;
        border: round $panel-lighten-2;
        border-title-color: $text-accent;
    }
    ServicingScreen #servicing-missions {
        height: 1fr;
        min-height: 4;
        border: round $panel-lighten-2;
        border-title-color: $text-accent;
    }
    ServicingScreen #servicing-missions:focus {
        border: round $accent;
    }
    ServicingScreen #servicing-timeline {
        height: auto;
        max-height: 14;
        padding: 0 1;
        border: round $panel-lighten-2;
        border-title-color: $text-accent;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,v", "close", "Close", key_display="esc", show=True),
        Binding("n", "dispatch", "Dispatch a servicer", show=True),
        Binding("a", "abort", "Abort mission", show=True),
    ]

    class DispatchRequested(Message):
        """The operator wants to send a servicer (to the satellite selected on the main screen)."""

    class AbortRequested(Message):
        def __init__(self, mission: MissionView) -> None:
            super().__init__()
            self.mission = mission

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._servicers: Sequence[ServicerView] = ()
        self._missions: Sequence[MissionView] = ()
        self._ids: Sequence[str] = ()
        self._now_s = 0.0
        self._shown: tuple[str, ...] = ()
        self._lines: list[Content] = []

    def compose(self) -> ComposeResult:
        yield Static(id="servicing-vehicles")
        yield OptionList(id="servicing-missions")
        yield Static(id="servicing-timeline")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#servicing-vehicles").border_title = "Vehicles"
        self.query_one("#servicing-missions", OptionList).border_title = "Missions"
        self.query_one("#servicing-timeline").border_title = "Timeline"
        self._apply()
        self.query_one("#servicing-missions", OptionList).focus()

    def update(self, servicers: Sequence[ServicerView], missions: Sequence[MissionView], satellite_ids: Sequence[str],
               now_s: float) -> None:
        """Show the fleet's servicers and missions at mission time ``now_s``."""
        self._servicers, self._missions, self._ids, self._now_s = servicers, missions, satellite_ids, now_s
        if self.is_mounted:
            self._apply()

    @property
    def missions(self) -> Sequence[MissionView]:
        """Missions in the order listed: active first, then the most recent."""
        active = [m for m in self._missions if m.status.value == "active"]
        done = [m for m in self._missions if m.status.value != "active"]
        return active + done[::-1]

    @property
    def selected(self) -> MissionView | None:
        options = self.query_one("#servicing-missions", OptionList)
        missions = self.missions
        if options.highlighted is None or not 0 <= options.highlighted < len(missions):
            return None
        return missions[options.highlighted]

    def _apply(self) -> None:
        vehicles = self.query_one("#servicing-vehicles", Static)
        if self._servicers:
            text = Content("\n").join(servicer_line(s, self._ids, self._now_s) for s in self._servicers)
        else:
            text = Content.assemble(("this mission has no servicing vehicles ([[servicer]] in the mission file)", "$text-muted"))
        vehicles.update(text)
        options = self.query_one("#servicing-missions", OptionList)
        missions = self.missions
        keys = tuple(m.mission_id for m in missions)
        lines = [mission_line(m, self._ids, self._now_s) for m in missions]
        if keys == self._shown and keys:  # the same missions: only their lines change (ETA, phase, Δv)
            for index, (line, old) in enumerate(zip(lines, self._lines)):
                if line.plain != old.plain:
                    options.replace_option_prompt_at_index(index, line)
        else:
            highlighted = options.highlighted
            previous = self._shown[highlighted] if highlighted is not None and highlighted < len(self._shown) else None
            options.clear_options()
            if missions:
                options.add_options([Option(line, id=m.mission_id) for line, m in zip(lines, missions)])
                options.highlighted = keys.index(previous) if previous in keys else 0
            else:
                options.add_option(Option(Content.assemble(("no missions yet · n: dispatch a servicer", "$text-muted")),
                                          disabled=True))
        self._shown, self._lines = keys, lines
        self._show_timeline()

    def _show_timeline(self) -> None:
        mission = self.selected
        timeline = self.query_one("#servicing-timeline", Static)
        if mission is None:
            timeline.update(Content.assemble(("select a mission to see its phases", "$text-muted")))
        else:
            timeline.update(timeline_lines(mission, self._ids, self._now_s))

    def on_option_list_option_highlighted(self, _: OptionList.OptionHighlighted) -> None:
        self._show_timeline()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_dispatch(self) -> None:
        self.post_message(self.DispatchRequested())

    def action_abort(self) -> None:
        mission = self.selected
        if mission is None or mission.status.value != "active":
            self.app.bell()
            self.notify("select an active mission to abort", severity="warning")
            return
        self.post_message(self.AbortRequested(mission))
