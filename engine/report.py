"""The JSON run report (DESIGN.md, "Interfaces users see"), built from a simulation's statistics.

Only modelled subsystems appear: ``models`` lists them, and sections for later subsystems (jobs, alarms,
objectives) are added when those models exist rather than filled with placeholder values.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np

from engine.simulation import Simulation

REPORT_VERSION = 1
MODELS = ("orbit", "sunlight", "ground_contacts", "power", "thermal", "gpu_throttling", "telemetry_limits")


def _iso(sim: Simulation, time_s: float | None) -> str | None:
    if time_s is None or not math.isfinite(time_s):
        return None
    moment = sim.clock.epoch + timedelta(seconds=float(time_s))
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _finite(value: float, digits: int = 3) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def build_report(sim: Simulation) -> dict[str, Any]:
    """A JSON-ready dict describing the run so far."""
    stats = sim.statistics
    seconds = max(stats.sim_seconds, 1e-12)
    n = len(sim.satellite_ids)
    kwh = 1.0 / 3.6e6
    battery_delta_j = sim.battery.energy_j - stats.initial_battery_j
    gpus_total = int(sim.hw.gpu_count.sum())
    installed = float(stats.gpu_seconds_installed.sum())
    delivered = float(stats.gpu_seconds_delivered.sum())

    satellites = []
    for index, sat_id in enumerate(sim.satellite_ids):
        spec = sim.spec.satellites[index]
        satellites.append(
            {
                "id": sat_id,
                "shell": spec.shell,
                "plane": spec.plane,
                "slot": spec.slot,
                "tle": list(spec.tle),
                "gpus": int(sim.hw.gpu_count[index]),
                "sunlit_fraction": _finite(stats.sunlit_s[index] / seconds, 5),
                "eclipse_count": int(stats.eclipse_count[index]),
                "min_soc": _finite(stats.min_soc[index], 4),
                "final_soc": _finite(sim.battery.soc[index], 4),
                "max_gpu_temp_c": _finite(stats.max_gpu_temp_c[index], 2),
                "max_radiator_temp_c": _finite(stats.max_radiator_temp_c[index], 2),
                "min_radiator_temp_c": _finite(stats.min_radiator_temp_c[index], 2),
                "energy_generated_kwh": _finite(stats.generated_j[index] * kwh, 4),
                "energy_consumed_kwh": _finite(stats.consumed_j[index] * kwh, 4),
                "safe_mode_hours": _finite(stats.safe_mode_s[index] / 3600.0, 4),
                "gpu_overtemp_shutdowns": int(stats.overtemp_shutdowns[index]),
                "orbit_error": bool(sim.orbit_error[index]),
            }
        )

    contacts = []
    for sat, station, aos, los, max_el, max_el_s in sim.contacts.passes_array(include_open=True):
        contacts.append(
            {
                "station": sim.network.ids[int(station)],
                "satellite": sim.satellite_ids[int(sat)],
                "aos": _iso(sim, None if np.isnan(aos) else aos),
                "los": _iso(sim, None if np.isnan(los) else los),
                "max_elevation_deg": round(float(max_el), 3),
                "max_elevation_at": _iso(sim, max_el_s),
                "duration_s": None if np.isnan(aos) or np.isnan(los) else round(float(los - aos), 3),
            }
        )

    history = sim.alarms(active_only=False)
    alarms = {
        "raised": len(history),
        "by_quantity": dict(sorted(_count(a.quantity for a in history).items())),
        "by_peak_severity": dict(sorted(_count(a.peak_severity for a in history).items())),
        "active_at_end": sum(1 for a in history if a.active),
        "unacknowledged_at_end": sum(1 for a in history if a.active and not a.acknowledged),
        "limits": {name: limit.model_dump(exclude_none=True) for name, limit in sim.alarm_board.limits.items()},
    }

    return {
        "report_version": REPORT_VERSION,
        "mission": {"id": sim.spec.id, "title": sim.spec.title, "kind": sim.spec.kind},
        "seed": sim.seed,
        "epoch": _iso(sim, 0.0),
        "end": _iso(sim, sim.time_s),
        "sim_seconds": round(stats.sim_seconds, 6),
        "step_seconds": sim.step_s,
        "steps": stats.steps,
        "models": list(MODELS),
        "fleet": {
            "satellites": n,
            "gpus": gpus_total,
            "ground_stations": sim.network.count,
            "sunlit_fraction": _finite(stats.sunlit_s.sum() / (seconds * max(n, 1)), 5),
            "energy_generated_kwh": _finite(stats.generated_j.sum() * kwh, 3),
            "energy_consumed_kwh": _finite(stats.consumed_j.sum() * kwh, 3),
            "energy_losses_kwh": _finite(stats.losses_j.sum() * kwh, 3),
            "energy_unserved_kwh": _finite(stats.unserved_j.sum() * kwh, 3),
            "battery_delta_kwh": _finite(battery_delta_j.sum() * kwh, 3),
            "min_soc": _finite(float(stats.min_soc.min()) if n else math.nan, 4),
            "max_gpu_temp_c": _finite(float(stats.max_gpu_temp_c.max()) if n else math.nan, 2),
            "max_radiator_temp_c": _finite(float(stats.max_radiator_temp_c.max()) if n else math.nan, 2),
            "gpu_hours_installed": _finite(installed / 3600.0, 3),
            "gpu_hours_delivered": _finite(delivered / 3600.0, 3),
            "gpu_delivered_fraction": _finite(delivered / installed if installed else math.nan, 5),
            "safe_mode_hours": _finite(stats.safe_mode_s.sum() / 3600.0, 3),
            "contacts": len(contacts),
        },
        "satellites": satellites,
        "contacts": contacts,
        "alarms": alarms,
        "events": dict(sorted(sim.event_counts.items())),
    }


def _count(items) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts
