"""Network pane: the selected satellite's route to the ground, its own ground link, telemetry age, and each
laser link with its neighbour, state, range and rate."""

from __future__ import annotations

import math

import numpy as np
from textual.content import Content

from console import formatting as fmt
from console.detail import SatelliteView
from console.widgets.detail_pane import DetailPane, label
from engine.isl_links import LinkState

__all__ = ["NetworkPane", "LINK_STATE_SHORT"]

LINK_STATE_SHORT = {
    LinkState.DOWN: ("DOWN", "$text-muted"),
    LinkState.ACQUIRING: ("ACQ", "$text-accent"),
    LinkState.UP: ("UP", "$text-success"),
    LinkState.DEGRADED: ("DEG", "$text-warning"),
    LinkState.FAILED: ("FAIL", "$text-error bold"),
    LinkState.DISABLED: ("OFF", "$text-warning"),
}
"""Short link states and their styles (OFF: disabled by the operator)."""

STALE_AFTER_S = 60.0
"""Telemetry older than this is shown as stale."""


def format_rate(gbps: float) -> str:
    if gbps >= 1000:
        return f"{gbps / 1000:.1f} Tb/s"
    return f"{gbps:.0f} Gb/s" if gbps >= 10 else f"{gbps:.1f} Gb/s"


class NetworkPane(DetailPane):
    """Route, ground link, telemetry age and laser links of the selected satellite."""

    TITLE = "Network"

    def lines(self, view: SatelliteView, width: int) -> list[Content]:
        snap, i = view.snapshot, view.index
        lines = [self._route(snap, i), self._ground(snap, i), self._telemetry(snap, i)]
        pending = int(snap.commands_pending[i])
        if pending:
            lines.append(Content.assemble(label("Queued"), (f"{pending} command{'s' if pending != 1 else ''} until contact", "$text-warning")))
        rows = np.flatnonzero((snap.link_a == i) | (snap.link_b == i))
        if not len(rows):
            lines.append(Content.assemble(label("Lasers"), ("no laser links", "$text-muted")))
            return lines
        carrying = int(np.isin(snap.link_state[rows], (LinkState.UP, LinkState.DEGRADED)).sum())
        lines.append(Content.assemble(label("Lasers"), f"{carrying} of {len(rows)} carrying"))
        for row in rows:
            peer = int(snap.link_b[row] if snap.link_a[row] == i else snap.link_a[row])
            state, style = LINK_STATE_SHORT[LinkState(int(snap.link_state[row]))]
            distance = float(snap.link_distance_km[row])
            rate = float(snap.link_rate_gbps[row])
            parts = [(f" {snap.satellite_ids[peer]:<10}", "$text-accent"), (f"{state:<5}", style)]
            parts.append((f"{distance:>7,.0f} km" if math.isfinite(distance) else f"{'—':>10}", ""))
            if rate > 0:
                parts.append((f" {format_rate(rate)}", "$text-muted"))
            lines.append(Content.assemble(*parts))
        return lines

    @staticmethod
    def _route(snap, i: int) -> Content:
        latency = float(snap.route_latency_s[i])
        if not math.isfinite(latency):
            return Content.assemble(label("Route"), ("no path to the ground", "$text-warning bold"))
        hops = int(snap.route_hops[i])
        station = snap.station_ids[int(snap.route_station[i])]
        via = "direct" if hops == 0 else f"{hops} hop{'s' if hops != 1 else ''}"
        return Content.assemble(label("Route"), f"{latency * 1e3:.1f} ms ", (f"{via} → {station}", "$text-success"))

    @staticmethod
    def _ground(snap, i: int) -> Content:
        station = int(snap.ground_link_station[i])
        if station >= 0:
            return Content.assemble(label("Ground"), (snap.station_ids[station], "$text-success bold"), (" tracking", "$text-muted"))
        return Content.assemble(label("Ground"), ("no antenna", "$text-muted"))

    @staticmethod
    def _telemetry(snap, i: int) -> Content:
        if snap.ideal_telemetry:
            return Content.assemble(label("Telem"), ("ideal (always current)", "$text-muted"))
        age = float(snap.telemetry_age_s[i])
        if age <= STALE_AFTER_S:
            return Content.assemble(label("Telem"), ("current", "$text-success"))
        return Content.assemble(label("Telem"), (f"STALE {fmt.countdown(age)} old", "$text-warning bold"))
