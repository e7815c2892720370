"""Servicing missions and maintenance mode inside a running :class:`engine.simulation.Simulation`.

- The mission's ``[[servicer]]`` entries become a :class:`engine.servicing.ServicingFleet`; a resident
  servicer parked ``near`` a satellite waits in that satellite's orbit, a quarter turn behind it (at
  its altitude, so it keeps station in the plane until it is sent out).
- Target orbits come from SGP4 at the moment they are needed: the osculating plane (inclination, RAAN)
  and argument of latitude from the state vector, the mean altitude from the TLE's mean motion, and
  SGP4's own secular rates (``nodedot``, ``mdot + argpdot``) to carry them forward.
- A servicer docks only with a satellite that is drained (no job left on its GPUs) and in maintenance
  mode. Maintenance shelves the satellite's alarms with its reason until its expiry, and any alarm
  raised on it meanwhile; it ends at its expiry or by command, and is logged either way.
- A part swapped in restores what it replaces: every fault that part repairs ends as 'repaired', a GPU
  board replaces every FAILED GPU of the satellite, a laser terminal repairs its FAILED links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.constants import EARTH_RADIUS_SGP4_KM, MU_EARTH_KM3_S2
from engine.fault_catalogue import Part
from engine.gpu_health import GpuHealthState
from engine.isl_links import LinkState
from engine.servicing import CircularOrbit, LaunchMode, ServicerSpec, ServicingFleet

__all__ = ["Maintenance", "ServicingControl", "satellite_orbit", "servicer_specs"]

_RAD_PER_MIN_TO_DEG_PER_DAY = math.degrees(1.0) * 1440.0


@dataclass(frozen=True)
class Maintenance:
    """A satellite in maintenance mode: why, since when and until when."""

    satellite: int
    reason: str
    since_s: float
    until_s: float


def satellite_orbit(satrec, clock, time_s: float) -> CircularOrbit:
    """The circular orbit a servicer flies to: plane and argument of latitude from SGP4 at ``time_s``."""
    jd, fr = clock.jd_utc(np.array([time_s]))
    error, r, v = satrec.sgp4(float(jd[0]), float(fr[0]))
    if error:
        raise ValueError(f"SGP4 error {error}: the satellite's orbit is not known")
    r, v = np.asarray(r), np.asarray(v)
    h = np.cross(r, v)
    inclination = math.degrees(math.acos(max(-1.0, min(1.0, h[2] / np.linalg.norm(h)))))
    raan = math.degrees(math.atan2(h[0], -h[1])) % 360.0
    node = np.array([math.cos(math.radians(raan)), math.sin(math.radians(raan)), 0.0])
    cos_u = float(np.dot(node, r) / np.linalg.norm(r))
    u = math.degrees(math.acos(max(-1.0, min(1.0, cos_u))))
    if r[2] < 0:
        u = 360.0 - u
    mean_motion_rad_s = satrec.no_kozai / 60.0
    altitude_km = (MU_EARTH_KM3_S2 / mean_motion_rad_s**2) ** (1.0 / 3.0) - EARTH_RADIUS_SGP4_KM
    return CircularOrbit(altitude_km, inclination, raan, u, time_s,
                         arg_lat_rate_deg_per_day=(satrec.mdot + satrec.argpdot) * _RAD_PER_MIN_TO_DEG_PER_DAY,
                         raan_rate_deg_per_day=satrec.nodedot * _RAD_PER_MIN_TO_DEG_PER_DAY)


def servicer_specs(servicers, satellite_ids, orbit_of) -> list[ServicerSpec]:
    """``ServicerSpec`` for every ``[[servicer]]`` (``orbit_of(sat)`` gives a satellite's orbit at t=0)."""
    specs = []
    for entry in servicers:
        parking = None
        if entry.launch == "resident":
            if entry.near is not None:
                parking = orbit_of(satellite_ids.index(entry.near)).shifted(0.0, -90.0)
            else:
                parking = CircularOrbit(entry.altitude_km, entry.inclination_deg, entry.raan_deg, 0.0, 0.0)
        specs.append(ServicerSpec(
            entry.id, entry.delta_v_m_s, dict(entry.spares), parking, LaunchMode(entry.launch),
            entry.mission_cost_musd, dict(entry.part_cost_musd), entry.dock_success_probability,
            entry.phasing_offset_km))
    return specs


class ServicingControl:
    """The servicing fleet and maintenance mode of one simulation."""

    def __init__(self, sim, spec, rng: np.random.Generator):
        self.sim = sim
        specs = servicer_specs(spec.servicers, list(sim.satellite_ids), lambda sat: self.orbit(sat, 0.0))
        self.fleet = ServicingFleet(specs, rng, target_names=sim.satellite_ids)
        self._has_servicers = bool(specs)
        self.maintenance: dict[int, Maintenance] = {}

    @property
    def enabled(self) -> bool:
        return self._has_servicers or bool(self.maintenance)

    def orbit(self, sat: int, time_s: float) -> CircularOrbit:
        return satellite_orbit(self.sim._satrecs[sat], self.sim.clock, time_s)

    # -------------------------------------------------------------------------------- maintenance

    def ready(self, sat: int) -> bool:
        """Drained, in maintenance and with no job left on its GPUs: a servicer may dock."""
        sim = self.sim
        if sat not in self.maintenance:
            return False
        workload = sim.workload
        if workload is None:
            return True
        return bool(workload.drained[sat]) and not (workload.gpu_job[sat] >= 0).any()

    def check_maintenance(self, sat: int, reason: str, duration_s: float) -> None:
        name = self.sim.satellite_ids[sat]
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("maintenance needs a reason (it is shown with every alarm it suppresses)")
        if isinstance(duration_s, bool) or not isinstance(duration_s, (int, float)) or not 0 < duration_s <= 365 * 86400:
            raise ValueError(f"maintenance lasts between 0 and 365 days, got {duration_s!r}")
        if sat in self.maintenance:
            raise ValueError(f"{name} is already in maintenance until T+{self.maintenance[sat].until_s:.0f} s")

    def begin_maintenance(self, sat: int, reason: str, duration_s: float, time_s: float) -> Maintenance:
        self.check_maintenance(sat, reason, duration_s)
        entry = Maintenance(sat, reason.strip(), time_s, time_s + float(duration_s))
        self.maintenance[sat] = entry
        self.suppress_alarms(sat)
        return entry

    def end_maintenance(self, sat: int, time_s: float) -> Maintenance:
        if sat not in self.maintenance:
            raise ValueError(f"{self.sim.satellite_ids[sat]} is not in maintenance")
        if sat in self.fleet.active_targets():
            mission = next(m for m in self.fleet.missions(active_only=True) if m.target == sat)
            raise ValueError(f"{self.sim.satellite_ids[sat]} is the target of servicing mission {mission.mission_id} "
                             f"({mission.phase.name if mission.phase else 'ending'}): abort it first")
        entry = self.maintenance.pop(sat)
        board = self.sim.alarm_board
        for alarm in board.active():
            if alarm.satellite == self.sim.satellite_ids[sat] and alarm.shelve_reason.startswith("maintenance:"):
                board.unshelve(alarm.id)
        return entry

    def suppress_alarms(self, sat: int) -> None:
        """Shelve the satellite's active alarms that are not shelved yet, with the maintenance reason."""
        entry = self.maintenance[sat]
        board = self.sim.alarm_board
        name = self.sim.satellite_ids[sat]
        for alarm in board.active():
            if alarm.satellite == name and alarm.shelved_until_s is None:
                board.shelve(alarm.id, entry.until_s, f"maintenance: {entry.reason}")

    def expired(self, time_s: float) -> list[Maintenance]:
        """Maintenance periods that are over by ``time_s`` (not for a satellite still being serviced)."""
        busy = self.fleet.active_targets()
        return [m for m in self.maintenance.values() if m.until_s <= time_s and m.satellite not in busy]

    def maintenance_mask(self) -> np.ndarray:
        """(N,) bool: satellites in maintenance mode."""
        mask = np.zeros(len(self.sim.satellite_ids), dtype=bool)
        mask[list(self.maintenance)] = True
        return mask

    # ------------------------------------------------------------------------------------- swaps

    def swap(self, sat: int, part: Part, time_s: float) -> tuple[list, list]:
        """Install ``part`` on ``sat``: the faults it repairs end, and failed GPUs or links it replaces come
        back. Returns (fault ends with their model changes, other model transitions)."""
        sim = self.sim
        ended = [sim.faults.end(f.id, time_s, "repaired") for f in sim.faults.book.repairable(sat, part)]
        changes = []
        if part == Part.GPU_BOARD:
            failed = np.flatnonzero((sim.health.state[sat] == GpuHealthState.FAILED) & sim.hw.gpu_present[sat])
            changes += [sim.health.replace(sat, int(gpu), time_s) for gpu in failed]
        elif part == Part.ISL_TERMINAL:
            links = sim.comms.links
            rows = np.flatnonzero(((links.a == sat) | (links.b == sat)) & (links.state == LinkState.FAILED))
            changes += [links.repair(int(row), time_s) for row in rows]
        sim.faults.apply_condition()
        return ended, changes
