"""The instructor's fault commands: inject a fault (``F``) and list, reveal and clear active faults (``f``).
A mixin of ``MissionControlApp`` (like ``workload_actions`` and ``network_actions``): the dialogs compose the
request and confirm it; this module applies it through the driver and reports the outcome.

Hidden faults (a training mission, ``hide_faults``): the engine keeps fault names out of the event log,
and so does the console. An injection or a clear is confirmed to the instructor by a short notification
that names only the fault's id; a refusal is shown in the dialog alone (its reason may name the fault),
never logged; the fault list opens hidden and the palette offers no per-fault entries. Without
``hide_faults`` everything is logged like any operator command (the engine logs the command and the fault,
the console logs refusals) and the palette offers "Clear fault F-0003 (…)" for each active fault.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from console.screens.confirm import ConfirmScreen
from console.screens.fault_injection import FaultInjectionScreen, FaultTargets
from console.screens.fault_list import FaultListScreen, clear_text
from console.widgets.network_pane import LINK_STATE_SHORT
from engine.commands import CommandError
from engine.durations import format_duration
from engine.fault_catalogue import FaultKind
from engine.faults import Fault, FaultRequest
from engine.gpu_health import GpuHealthState
from engine.isl_links import LinkState

if TYPE_CHECKING:
    from console.app import MissionControlApp

__all__ = ["FaultActions"]


class FaultActions:
    """Fault injection and clearing (mixed into the app)."""

    _last_fault_kind: FaultKind | None = None
    """The kind injected last: the dialog opens on it again."""

    # --------------------------------------------------------------------------------------- actions

    def action_inject_fault(self: MissionControlApp) -> None:
        def done(request: FaultRequest | None) -> None:
            if request is not None:
                self._last_fault_kind = FaultKind(request.kind)

        screen = FaultInjectionScreen(self.fault_targets(), self.inject_fault, satellite=self.selected_id, kind=self._last_fault_kind)
        self.push_screen(screen, done)
        self._walk("open:inject", self.selected_id)

    def action_fault_list(self: MissionControlApp) -> None:
        driver = self.driver
        screen = FaultListScreen(driver.active_faults, lambda: driver.sim.time_s, self.clear_fault,
                                 hidden=driver.hide_faults, ended=driver.ended_fault_count)
        self.push_screen(screen)
        self._walk("open:faults")

    def ask_clear_fault(self: MissionControlApp, fault: Fault) -> None:
        """Confirm, then clear one fault (the palette's entry)."""

        def answer(yes: bool | None) -> None:
            if yes:
                self.clear_fault(fault.id)

        self.push_screen(ConfirmScreen(f"Clear fault {fault.id}", clear_text(fault), confirm_label="Clear", decline_label="Keep it"), answer)

    # -------------------------------------------------------------------------- through the driver

    def inject_fault(self: MissionControlApp, request: FaultRequest) -> str | None:
        """Inject `request`; returns None, or the engine's reason for refusing it (shown and, unless faults
        are hidden, logged)."""
        hidden = self.driver.hide_faults
        try:
            fault = self.driver.inject_fault(request)
        except CommandError as error:
            if not hidden:
                self.notify(str(error), title="Fault refused", severity="error")
                self._note(f"operator: refused: {error}")
            return str(error)
        self._alarms_dirty = True
        if hidden:
            self.notify(f"fault {fault.id} injected; hidden from operators", timeout=4)
        else:
            until = "permanent" if fault.end_s is None else f"for {format_duration(fault.end_s - fault.start_s)}"
            self.notify(f"{fault.id}: {fault.title} on {fault.target}, {until}", title="Fault injected", timeout=4)
        self.refresh_now()
        return None

    def clear_fault(self: MissionControlApp, fault_id: str) -> str | None:
        """End one fault now; returns None, or the engine's reason for refusing."""
        hidden = self.driver.hide_faults
        try:
            self.driver.clear_fault(fault_id)
        except CommandError as error:
            if not hidden:
                self.notify(str(error), title="Clear refused", severity="error")
                self._note(f"operator: refused: {error}")
            return str(error)
        self._alarms_dirty = True
        self.notify(f"fault {fault_id} cleared" + ("; hidden from operators" if hidden else ""), timeout=4)
        self.refresh_now()
        return None

    # ------------------------------------------------------------------------------------- targets

    def fault_targets(self: MissionControlApp) -> FaultTargets:
        """What the injection dialog may aim at, read from the ground's view of the fleet."""
        driver = self.driver

        def gpus(satellite: str) -> list[tuple[int, str]]:
            snap = driver.snapshot()
            i = snap.index_of(satellite)
            rows = []
            for gpu in range(snap.gpu_present.shape[1]):
                if not snap.gpu_present[i, gpu]:
                    continue
                state = GpuHealthState(int(snap.gpu_health[i, gpu])).name
                job = int(snap.gpu_job[i, gpu])
                rows.append((gpu, f"{gpu} · {state} · {'job ' + snap.job_ids[job] if job >= 0 else 'no job'}"))
            return rows

        def links(satellite: str) -> list[tuple[str, str]]:
            snap = driver.snapshot()
            i = snap.index_of(satellite)
            rows = []
            for row in np.flatnonzero((snap.link_a == i) | (snap.link_b == i)):
                a, b = int(snap.link_a[row]), int(snap.link_b[row])
                peer = snap.satellite_ids[b if a == i else a]
                distance = float(snap.link_distance_km[row])
                length = f"{distance:,.0f} km" if math.isfinite(distance) else "—"
                rows.append((peer, f"{peer} · {LINK_STATE_SHORT[LinkState(int(snap.link_state[row]))][0]} · {length}"))
            return rows

        return FaultTargets(
            catalogue=driver.fault_catalogue(),
            satellites=frozenset(driver.sim.satellite_ids),
            stations=tuple((station, station) for station in driver.station_ids),
            gpus=gpus,
            links=links,
            hidden=driver.hide_faults,
        )

