"""The metric namespace of the condition language (``engine.conditions``): what each name and attribute
means and its type (``NAMESPACE``), and how to read it from a running :class:`engine.Simulation`.

``SimulationMetrics(sim)`` is a :class:`engine.conditions.MetricSource` for one instant: it takes the
snapshot, job views, alarms and workload metrics lazily on first use and shares them between every
condition evaluated then, so make a new one after each step (or command)::

    metrics = SimulationMetrics(sim)               # view="ground": what mission control has received
    if watch.observe(metrics): ...

Conventions: ``shed_level`` is the name ('NOMINAL', 'CAPPED', 'PAUSED', 'SAFE') and ``shed_level_index``
its number; ``alarm_level`` is 'NORMAL', 'YELLOW' or 'RED'; a link's ``state`` is an
``engine.isl_links.LinkState`` name. Missing values are None: attributes of a job not yet submitted (its
``submitted`` is False), a link between satellites that have no laser link, ``route_hops`` without a
route, goodput before any GPU time. Unknown satellite or station ids raise KeyError (check them when the
mission loads with :func:`check_mission_ids`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from engine.gpu_health import GpuHealthState
from engine.isl_links import LinkState
from engine.jobs import JobState
from engine.power import ShedLevel

if TYPE_CHECKING:
    from engine.conditions import Expression

NUMBER, DURATION, BOOL, STRING = "number", "duration", "bool", "string"
"""Value types. A duration is a number of seconds that also accepts duration strings in comparisons."""

ALARM_LEVELS = ("NORMAL", "YELLOW", "RED")


@dataclass(frozen=True)
class Attribute:
    """One readable attribute: its type, meaning and (for closed string sets) its possible values."""

    type: str
    doc: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scope:
    """A top-level name: how many quoted ids it takes, what to call it in messages, its attributes."""

    arity: int
    label: str
    attributes: Mapping[str, Attribute]


def _attrs(**specs: tuple) -> dict[str, Attribute]:
    return {name: Attribute(*spec) for name, spec in specs.items()}


NAMESPACE: Mapping[str, Scope] = {
    "sat": Scope(1, "satellite", _attrs(
        battery_soc=(NUMBER, "battery state of charge, 0..1"),
        battery_energy_kwh=(NUMBER, "energy in the battery, kWh"),
        battery_capacity_kwh=(NUMBER, "usable battery capacity as the BMS estimates it, kWh"),
        battery_net_w=(NUMBER, "battery power, W (positive: charging)"),
        solar_power_w=(NUMBER, "array power delivered to the bus, W"),
        load_power_w=(NUMBER, "everything the PCDU delivers, W"),
        unserved_power_w=(NUMBER, "load that could not be served, W"),
        array_output_fraction=(NUMBER, "array output over a healthy array's, 0..1"),
        radiator_temp_c=(NUMBER, "radiator temperature, deg C"),
        loop_temp_c=(NUMBER, "coolant loop temperature, deg C"),
        array_temp_c=(NUMBER, "solar array temperature, deg C"),
        gpu_temp_max_c=(NUMBER, "hottest installed GPU junction, deg C (missing without GPUs)"),
        gpus=(NUMBER, "GPUs installed"),
        gpus_ok=(NUMBER, "GPUs in health state OK"),
        gpus_degraded=(NUMBER, "GPUs in health state DEGRADED"),
        gpus_failed=(NUMBER, "GPUs in health state FAILED"),
        gpus_throttled=(NUMBER, "powered GPUs held below full clocks by temperature"),
        shed_level=(STRING, "load-shedding level", tuple(ShedLevel.NAMES)),
        shed_level_index=(NUMBER, "load-shedding level as 0 NOMINAL .. 3 SAFE (for < and >)"),
        heater_on=(BOOL, "survival heater on"),
        sunlit=(BOOL, "in sunlight"),
        in_contact=(BOOL, "a ground station is in view"),
        has_route=(BOOL, "a route to the ground exists (own ground link or laser hops)"),
        route_hops=(NUMBER, "laser hops to the gateway (0: own ground link; missing without a route)"),
        isl_up=(NUMBER, "laser links carrying traffic"),
        telemetry_age_s=(DURATION, "age of the newest telemetry on the ground, s"),
        commands_pending=(NUMBER, "on-board commands waiting for a route"),
        drained=(BOOL, "taking no new work (operator drain)"),
        in_maintenance=(BOOL, "in maintenance mode"),
        alarm_level=(STRING, "worst telemetry-limit level now", ALARM_LEVELS),
        alarms=(NUMBER, "active alarms on this satellite"),
        dose_rad=(NUMBER, "total ionising dose, rad(Si)"),
    )),
    "job": Scope(1, "job", _attrs(
        submitted=(BOOL, "the job has been submitted (false before; every other attribute is missing then)"),
        state=(STRING, "scheduler state", tuple(state.value for state in JobState)),
        reason=(STRING, "why it is pending or how it ended ('' if none)"),
        partition=(STRING, "scheduler partition"),
        progress=(NUMBER, "fraction of its work done, 0..1"),
        checkpoint_progress=(NUMBER, "fraction saved in its last checkpoint, 0..1"),
        checkpoint_age_s=(DURATION, "since its last checkpoint, s (missing without one)"),
        restarts=(NUMBER, "times it went back to the queue after starting"),
        retries=(NUMBER, "application failures so far"),
        gpus=(NUMBER, "GPUs it asks for"),
        wait_s=(DURATION, "queue wait before its first start, s"),
    )),
    "station": Scope(1, "station", _attrs(
        up=(BOOL, "on the air (not in an outage)"),
        ground_links=(NUMBER, "satellites with a ground link to it now"),
    )),
    "link": Scope(2, "link", _attrs(
        state=(STRING, "laser link state", tuple(state.name for state in LinkState)),
        up=(BOOL, "carrying traffic (UP or DEGRADED)"),
        rate_gbps=(NUMBER, "rate carried now, Gbit/s"),
        distance_km=(NUMBER, "distance between the ends, km"),
    )),
    "fleet": Scope(0, "fleet", _attrs(
        min_soc=(NUMBER, "lowest battery state of charge, 0..1"),
        mean_soc=(NUMBER, "mean battery state of charge, 0..1"),
        gpu_temp_max_c=(NUMBER, "hottest GPU junction in the fleet, deg C"),
        gpus_ok=(NUMBER, "GPUs in health state OK"),
        gpus_degraded=(NUMBER, "GPUs in health state DEGRADED"),
        gpus_failed=(NUMBER, "GPUs in health state FAILED"),
        alarms=(NUMBER, "active alarms"),
        alarms_red=(NUMBER, "active red alarms"),
        alarms_yellow=(NUMBER, "active yellow alarms"),
        alarms_unacknowledged=(NUMBER, "active alarms not yet acknowledged"),
        satellites_shedding=(NUMBER, "satellites above shed level NOMINAL"),
        satellites_safe=(NUMBER, "satellites at shed level SAFE"),
        satellites_without_route=(NUMBER, "satellites with no route to the ground"),
        satellites_drained=(NUMBER, "drained satellites"),
        satellites_in_maintenance=(NUMBER, "satellites in maintenance mode"),
        stations_up=(NUMBER, "ground stations on the air"),
        unserved_power_w=(NUMBER, "load not served, summed over the fleet, W"),
        solar_particle_event=(BOOL, "a solar particle event is in progress"),
    )),
    "jobs": Scope(0, "workload", _attrs(
        goodput=(NUMBER, "useful over allocated GPU time, 0..1 (missing before any)"),
        utilization=(NUMBER, "allocated over usable GPU time so far, 0..1"),
        utilization_now=(NUMBER, "share of usable GPUs running a job now, 0..1"),
        inference_slo_attainment=(NUMBER, "inference requests on target, 0..1 (missing before any)"),
        pending=(NUMBER, "jobs PENDING"),
        running=(NUMBER, "jobs RUNNING or CHECKPOINTING"),
        completed=(NUMBER, "jobs COMPLETED"),
        failed=(NUMBER, "jobs FAILED, TIMEOUT or NODE_FAIL"),
        gpu_hours_useful=(NUMBER, "useful GPU hours so far"),
        gpu_hours_lost=(NUMBER, "GPU hours lost to every cause so far"),
        queue_wait_p95_s=(DURATION, "95th percentile queue wait, s (missing before any start)"),
    )),
    "sim": Scope(0, "simulation", _attrs(
        time=(DURATION, "mission elapsed time, s"),
        steps_done=(NUMBER, "guided walkthrough steps done ([[step]])"),
    )),
}

# ------------------------------------------------------------------------------ resolver over a Simulation

_OK, _DEGRADED, _FAILED = int(GpuHealthState.OK), int(GpuHealthState.DEGRADED), int(GpuHealthState.FAILED)
_CARRYING = (int(LinkState.UP), int(LinkState.DEGRADED))


def _hottest(snap, rows) -> float | None:
    temps = np.where(snap.gpu_present[rows], snap.gpu_temp_c[rows], -np.inf)
    hottest = float(temps.max()) if temps.size else -np.inf
    return hottest if np.isfinite(hottest) else None


def _gpus(snap, rows, state: int) -> int:
    return int(np.count_nonzero(snap.gpu_present[rows] & (snap.gpu_health[rows] == state)))


_Getter = Callable[["SimulationMetrics", int], object]
_SATELLITE: dict[str, _Getter] = {
    **{name: (lambda m, i, name=name: getattr(m.snapshot, name)[i]) for name in (
        "battery_soc", "battery_energy_kwh", "battery_capacity_kwh", "battery_net_w", "solar_power_w",
        "load_power_w", "unserved_power_w", "array_output_fraction", "radiator_temp_c", "loop_temp_c",
        "array_temp_c", "heater_on", "sunlit", "isl_up", "telemetry_age_s", "commands_pending", "drained",
        "in_maintenance", "dose_rad")},
    "gpu_temp_max_c": lambda m, i: _hottest(m.snapshot, i),
    "gpus": lambda m, i: int(np.count_nonzero(m.snapshot.gpu_present[i])),
    "gpus_ok": lambda m, i: _gpus(m.snapshot, i, _OK),
    "gpus_degraded": lambda m, i: _gpus(m.snapshot, i, _DEGRADED),
    "gpus_failed": lambda m, i: _gpus(m.snapshot, i, _FAILED),
    "gpus_throttled": lambda m, i: int(np.count_nonzero(m.snapshot.gpu_throttled[i] & m.snapshot.gpu_present[i])),
    "shed_level": lambda m, i: ShedLevel.NAMES[int(m.snapshot.shed_level[i])],
    "shed_level_index": lambda m, i: int(m.snapshot.shed_level[i]),
    "in_contact": lambda m, i: m.snapshot.contact_station[i] >= 0,
    "has_route": lambda m, i: m.snapshot.route_hops[i] >= 0,
    "route_hops": lambda m, i: int(m.snapshot.route_hops[i]) if m.snapshot.route_hops[i] >= 0 else None,
    "alarm_level": lambda m, i: ALARM_LEVELS[int(m.snapshot.alarm_level[i])],
    "alarms": lambda m, i: sum(a.satellite == m.snapshot.satellite_ids[i] for a in m.active_alarms),
}

_JOB: dict[str, Callable] = {
    "submitted": lambda view: True,
    "state": lambda view: view.state,
    "reason": lambda view: view.reason,
    "partition": lambda view: view.partition,
    "progress": lambda view: view.progress,
    "checkpoint_progress": lambda view: view.checkpoint_progress,
    "checkpoint_age_s": lambda view: view.checkpoint_age_s,
    "restarts": lambda view: view.restarts,
    "retries": lambda view: view.retries,
    "gpus": lambda view: view.gpus,
    "wait_s": lambda view: view.wait_s,
}


def _count(mask: np.ndarray) -> int:
    return int(np.count_nonzero(mask))


_FLEET: dict[str, Callable[["SimulationMetrics"], object]] = {
    "min_soc": lambda m: float(m.snapshot.battery_soc.min()),
    "mean_soc": lambda m: float(m.snapshot.battery_soc.mean()),
    "gpu_temp_max_c": lambda m: _hottest(m.snapshot, slice(None)),
    "gpus_ok": lambda m: _gpus(m.snapshot, slice(None), _OK),
    "gpus_degraded": lambda m: _gpus(m.snapshot, slice(None), _DEGRADED),
    "gpus_failed": lambda m: _gpus(m.snapshot, slice(None), _FAILED),
    "alarms": lambda m: len(m.active_alarms),
    "alarms_red": lambda m: sum(a.severity == "red" for a in m.active_alarms),
    "alarms_yellow": lambda m: sum(a.severity == "yellow" for a in m.active_alarms),
    "alarms_unacknowledged": lambda m: sum(not a.acknowledged for a in m.active_alarms),
    "satellites_shedding": lambda m: _count(m.snapshot.shed_level > ShedLevel.NOMINAL),
    "satellites_safe": lambda m: _count(m.snapshot.shed_level == ShedLevel.SAFE),
    "satellites_without_route": lambda m: _count(m.snapshot.route_hops < 0),
    "satellites_drained": lambda m: _count(m.snapshot.drained),
    "satellites_in_maintenance": lambda m: _count(m.snapshot.in_maintenance),
    "stations_up": lambda m: _count(m.snapshot.station_up),
    "unserved_power_w": lambda m: float(m.snapshot.unserved_power_w.sum()),
    "solar_particle_event": lambda m: m.snapshot.solar_particle_event,
}

_STATES = {
    "pending": (JobState.PENDING,),
    "running": (JobState.RUNNING, JobState.CHECKPOINTING),
    "completed": (JobState.COMPLETED,),
    "failed": (JobState.FAILED, JobState.TIMEOUT, JobState.NODE_FAIL),
}
_WORKLOAD = {"goodput", "utilization", "utilization_now", "inference_slo_attainment", "gpu_hours_useful",
             "queue_wait_p95_s"}


class SimulationMetrics:
    """The condition namespace over `sim` now; ``view`` is "truth" (scoring) or "ground" (what the
    operator sees: telemetry as last received, alarms that have reached the ground)."""

    def __init__(self, sim, view: str = "truth"):
        if view not in ("truth", "ground"):
            raise ValueError(f"view must be 'truth' or 'ground', got {view!r}")
        self._sim = sim
        self.view = view
        self.time_s = float(sim.time_s)

    @cached_property
    def snapshot(self):
        return self._sim.snapshot(self.view)

    @cached_property
    def active_alarms(self) -> list:
        return self._sim.alarms(active_only=True, view=self.view)

    @cached_property
    def _jobs(self) -> dict:
        """Views of the jobs asked for so far at this instant (one view each, not the whole table: a
        generator's thousands of finished jobs would make every condition on one job cost milliseconds)."""
        return {}

    def _job_view(self, job_id: str):
        views = self._jobs
        if job_id not in views:
            workload = self._sim.workload
            try:
                views[job_id] = None if workload is None else workload.job_view(job_id)
            except ValueError:  # not submitted (yet)
                views[job_id] = None
        return views[job_id]

    @cached_property
    def _workload(self) -> dict:
        return self._sim.workload_metrics() or {}

    def satellite(self, satellite_id: str, attribute: str) -> object:
        return _SATELLITE[attribute](self, self.snapshot.index_of(satellite_id))

    def job(self, job_id: str, attribute: str) -> object:
        view = self._job_view(job_id)
        if view is None:
            return False if attribute == "submitted" else None
        return _JOB[attribute](view)

    def station(self, station_id: str, attribute: str) -> object:
        snap = self.snapshot
        if station_id not in snap.station_ids:
            raise KeyError(f"unknown station id {station_id!r}")
        index = snap.station_ids.index(station_id)
        if attribute == "up":
            return bool(snap.station_up[index])
        return int(np.count_nonzero(snap.ground_link_station == index))  # ground_links

    def link(self, a: str, b: str, attribute: str) -> object:
        snap = self.snapshot
        low, high = sorted((snap.index_of(a), snap.index_of(b)))
        rows = np.flatnonzero((snap.link_a == low) & (snap.link_b == high))
        if not rows.size:
            return None
        row = int(rows[0])
        state = int(snap.link_state[row])
        if attribute == "state":
            return LinkState(state).name
        if attribute == "up":
            return state in _CARRYING
        return float(snap.link_rate_gbps[row] if attribute == "rate_gbps" else snap.link_distance_km[row])

    def fleet(self, attribute: str) -> object:
        return _FLEET[attribute](self)

    def sim(self, attribute: str) -> object:
        return self._sim.walkthrough.steps_done  # steps_done (time is read from time_s)

    def jobs(self, attribute: str) -> object:
        if attribute in _STATES:
            counts = self.snapshot.job_counts
            return sum(counts.get(state.value, 0) for state in _STATES[attribute])
        if attribute == "gpu_hours_lost":
            return sum(self._workload.get("gpu_hours_lost", {}).values())
        if attribute in _WORKLOAD:
            return self._workload.get(attribute)
        raise KeyError(f"unknown workload attribute {attribute!r}")


def check_mission_ids(expression: Expression, spec) -> None:
    """Raise ConditionError (with the column) for a satellite, station or job id the mission `spec` does not
    define. Job ids are checked only when the mission has no job generators (their ids appear later)."""
    jobs = None if spec.workload.generator else [job.id for job in spec.jobs]
    expression.check_ids(satellites=[s.id for s in spec.satellites], jobs=jobs,
                         stations=[g.id for g in spec.ground_stations])


def _covers_namespace() -> bool:
    """Every attribute of the namespace has a getter here (asserted by the tests)."""
    covered = {
        "sat": set(_SATELLITE), "job": set(_JOB), "station": {"up", "ground_links"},
        "link": {"state", "up", "rate_gbps", "distance_km"}, "fleet": set(_FLEET),
        "jobs": set(_STATES) | _WORKLOAD | {"gpu_hours_lost"}, "sim": {"time", "steps_done"},
    }
    return all(set(scope.attributes) == covered[name] for name, scope in NAMESPACE.items())
