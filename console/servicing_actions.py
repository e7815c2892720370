"""The operator's servicing and maintenance commands: keys, screen requests and palette entries -> dialogs ->
engine commands.

A mixin of ``MissionControlApp``. Dispatch asks for the vehicle, then the parts (those the satellite's
faults need are suggested only when faults are not hidden), then shows the engine's plan (ETA, Δv,
risk, cost, or why it is refused) behind a confirmation whose default is No. Abort and the end of
maintenance ask first too. The engine validates every command again and logs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from console.screens.choice import ChoiceScreen
from console.screens.confirm import ConfirmScreen
from console.screens.maintenance import MaintenanceScreen
from console.screens.parts import PartsScreen
from console.screens.servicing import ServicingScreen, part_label
from engine.commands import AbortServicing, DispatchServicer, EndMaintenance, SetMaintenance
from engine.durations import format_duration
from engine.servicing import MissionView

if TYPE_CHECKING:
    from console.app import MissionControlApp

__all__ = ["ServicingActions"]


class ServicingActions:
    """Actions and message handlers for servicing missions and maintenance mode (mixed into the app)."""

    servicing_screen: ServicingScreen | None = None
    """The servicing screen while it is open (the app refreshes it every slow-pane frame)."""

    def action_servicing(self: MissionControlApp) -> None:
        if self.servicing_screen is not None:
            self.servicing_screen.dismiss(None)
            return
        screen = ServicingScreen()

        def closed(_: None) -> None:
            self.servicing_screen = None

        self.servicing_screen = screen
        self.push_screen(screen, closed)
        self.refresh_now()
        self._walk("open:servicing")

    def on_servicing_screen_dispatch_requested(self: MissionControlApp, _: ServicingScreen.DispatchRequested) -> None:
        self.dispatch_servicer()

    def on_servicing_screen_abort_requested(self: MissionControlApp, message: ServicingScreen.AbortRequested) -> None:
        self.abort_servicing(message.mission)

    # ------------------------------------------------------------------------------------- flows

    def dispatch_servicer(self: MissionControlApp, satellite: str | None = None) -> None:
        satellite = satellite or self._selected_for_command()
        if satellite is None:
            return
        servicers = self.driver.servicers()
        if not servicers:
            self.notify("this mission has no servicing vehicles", severity="warning")
            return
        choices = []
        for s in servicers:
            state = f"busy on {s.mission_id}" if s.busy else f"Δv {s.delta_v_remaining_m_s:,.0f} m/s"
            choices.append((s.servicer_id, f"{s.servicer_id}  {s.launch_mode.value.replace('_', ' ')} · {state}"))

        def vehicle(servicer_id: str | None) -> None:
            if servicer_id is not None:
                self._ask_parts(servicer_id, satellite)

        self.push_screen(ChoiceScreen(f"Servicer for {satellite}", choices), vehicle)

    def _ask_parts(self: MissionControlApp, servicer_id: str, satellite: str) -> None:
        servicer = next(s for s in self.driver.servicers() if s.servicer_id == servicer_id)
        spares = {part.value: count for part, count in servicer.spares.items()}
        suggested = () if self.driver.hide_faults else self.driver.parts_needed(satellite)

        def parts(chosen: tuple[str, ...] | None) -> None:
            if chosen:
                self._confirm_dispatch(servicer_id, satellite, chosen)

        self.push_screen(PartsScreen(f"Parts {servicer_id} takes to {satellite}", spares, suggested), parts)

    def _confirm_dispatch(self: MissionControlApp, servicer_id: str, satellite: str, parts: tuple[str, ...]) -> None:
        try:
            plan = self.driver.plan_servicing(servicer_id, satellite, parts)
        except ValueError as error:
            self._refused(f"dispatch {servicer_id} to {satellite}", str(error))
            return
        names = ", ".join(part_label(p) for p in parts)
        text = (f"Send {servicer_id} to {satellite} with {names}? Done in {format_duration(plan.duration_s)} with median phase times "
                f"(phasing {format_duration(plan.phasing_duration_s)} over {plan.phase_angle_deg:.0f}°), Δv {plan.delta_v_m_s:,.0f} m/s "
                f"of {plan.delta_v_m_s + plan.delta_v_remaining_after_m_s:,.0f}, risk {plan.risk:.0%}, cost ${plan.cost_musd:,.0f}M. "
                f"It docks only once {satellite} is drained (d) and in maintenance (m).")
        self._confirm(f"Dispatch {servicer_id}", text, DispatchServicer(servicer_id, satellite, parts), confirm_label="Dispatch")

    def abort_servicing(self: MissionControlApp, mission: MissionView) -> None:
        target = self.driver.snapshot().satellite_ids[mission.target]
        phase = mission.phase.name.replace("_", " ") if mission.phase is not None else "ending"
        text = (f"Abort {mission.mission_id} ({mission.servicer_id} → {target}, now {phase})? The vehicle backs off "
                f"(undocking first if docked); Δv spent so far ({mission.delta_v_used_m_s:,.0f} m/s) and "
                f"${mission.cost_musd:,.0f}M are gone.")
        self._confirm(f"Abort {mission.mission_id}", text, AbortServicing(mission.mission_id), confirm_label="Abort mission",
                      decline_label="Keep going")

    def action_maintenance(self: MissionControlApp) -> None:
        satellite = self._selected_for_command()
        if satellite is None:
            return
        current = self.driver.maintenance(satellite)
        if current is not None:
            text = (f"Take {satellite} out of maintenance ({current.reason})? Its shelved alarms come back.")
            self._confirm(f"End maintenance on {satellite}", text, EndMaintenance(satellite), confirm_label="End maintenance")
            self._walk("open:maintenance", satellite)
            return

        def answer(result: tuple[str, float] | None) -> None:
            if result is not None:
                reason, duration_s = result
                self._send(SetMaintenance(satellite, reason, duration_s), f"{satellite} in maintenance: {reason}")

        self.push_screen(MaintenanceScreen(satellite), answer)
        self._walk("open:maintenance", satellite)

    def _refused(self: MissionControlApp, what: str, reason: str) -> None:
        self.notify(reason, title=f"Refused: {what}", severity="error", timeout=8)
        self._note(f"operator: refused: {what}: {reason}")
