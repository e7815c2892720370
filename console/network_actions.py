"""The operator's network commands: take a laser link of the selected satellite out of service or back,
and force a ground handover. A mixin of ``MissionControlApp`` (like ``workload_actions``): a choice of
link, a confirmation stating the consequence, then one engine command through the driver."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from console.screens.choice import ChoiceScreen
from console.widgets.network_pane import LINK_STATE_SHORT
from engine.commands import DisableLink, EnableLink, ForceHandover
from engine.isl_links import LinkState

if TYPE_CHECKING:
    from console.app import MissionControlApp

__all__ = ["NetworkActions"]


class NetworkActions:
    """Actions for laser links and ground handovers (mixed into the app)."""

    def action_toggle_link(self: MissionControlApp) -> None:
        satellite = self._selected_for_command()
        if satellite is None:
            return
        snap = self.driver.snapshot()
        i = snap.index_of(satellite)
        rows = np.flatnonzero((snap.link_a == i) | (snap.link_b == i))
        if not len(rows):
            self.notify(f"{satellite} has no laser links", severity="warning")
            return
        choices = []
        for row in rows:
            peer = int(snap.link_b[row] if snap.link_a[row] == i else snap.link_a[row])
            state = LinkState(int(snap.link_state[row]))
            distance = float(snap.link_distance_km[row])
            length = f"{distance:,.0f} km" if math.isfinite(distance) else "—"
            verb = "enable" if state == LinkState.DISABLED else "disable"
            choices.append((snap.satellite_ids[peer], f"{snap.satellite_ids[peer]:<10} {LINK_STATE_SHORT[state][0]:<5} {length:>9}  ({verb})"))
        states = {snap.satellite_ids[int(snap.link_b[r] if snap.link_a[r] == i else snap.link_a[r])]: LinkState(int(snap.link_state[r])) for r in rows}

        def chosen(peer: str | None) -> None:
            if peer is None:
                return
            if states[peer] == LinkState.DISABLED:
                self._send(EnableLink(satellite, peer), f"laser link {satellite} ↔ {peer} enabled")
                return
            carrying = states[peer] in (LinkState.UP, LinkState.DEGRADED)
            text = f"Disable the laser link {satellite} ↔ {peer}? It stays down until you enable it again (i)."
            if carrying:
                text += " It carries traffic now: routes through it move to other links, or end if there are none."
            self._confirm(f"Disable link {satellite} ↔ {peer}", text, DisableLink(satellite, peer), confirm_label="Disable")

        self.push_screen(ChoiceScreen(f"Laser links of {satellite}", choices), chosen)

    def action_force_handover(self: MissionControlApp) -> None:
        satellite = self._selected_for_command()
        if satellite is None:
            return
        snap = self.driver.snapshot()
        station = int(snap.ground_link_station[snap.index_of(satellite)])
        if station < 0:
            self._send(ForceHandover(satellite), "")  # refused by the engine with its reason
            return
        name = snap.station_ids[station]
        text = (f"End {satellite}'s ground link to {name} now? {name} will not take it back during this pass; "
                f"the satellite routes through another station or its laser links, if it can.")
        self._confirm(f"Force handover of {satellite}", text, ForceHandover(satellite), confirm_label="Hand over")
