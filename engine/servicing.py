"""Servicing missions: vehicles that fly to a satellite and swap parts (physics.md §2.6 and §5).

A mission is a sequence of phases (physics.md §5 table; durations lognormal with the median and P90 given):

    [detect]      phase 0, 1 d / 7 d; only for missions raised by telemetry triage (operator dispatch skips it)
    preparation   phase 1a resident servicer + depot 0.5 d / 2 d; 1b hot-standby launch 3 d / 14 d;
                  1c rideshare launch 120 d / 365 d
    phasing       phase 2, computed: the servicer moves ``phasing_offset_km`` below the target (target ahead by
                  φ <= 180°) or above it (target behind), drifts until the phase angle closes, and returns:
                  t = angle / |n(h) - n(h ± Δh)|, Δv = Hohmann out + Hohmann back (+ 2 v sin(θ/2) when the
                  planes differ by more than ``plane_tolerance_deg``). Burns are impulsive; a servicer already
                  within ``colocated_km`` of the target skips the drift. A launched servicer is inserted by
                  its launcher into the target's plane at the phasing altitude, at a random phase angle.
    proximity_ops phase 3, 7 d / 60 d
    awaiting_target  holds at proximity until the caller reports the target drained and in maintenance
    docking       phase 4, 1 d / 5 d, success p per attempt; a failure returns to proximity_ops, and after
                  ``max_dock_attempts`` failures the mission FAILS (the servicer backs off and stays in the
                  target's orbit)
    swap <part>   phase 5, one per part, 2 h / 12 h, p = 0.95 per ORU. The part is consumed either way: a
                  unit that failed installation is not trusted again. A failed swap restores nothing and the
                  mission goes on with the next part.
    undock_checkout  phase 6, 2 d / 14 d; then the servicer is free, parked in the target's orbit.

Randomness: everything a mission will ever need (all durations, retry durations, dock and swap outcomes,
insertion phase angle) is drawn at dispatch in a fixed order, so a mission's fate depends only on the seed
and the dispatch sequence, never on how the caller steps time. Only the dock and swap outcomes are sampled;
the other phases' success probabilities (and the per-visit collision risk, 1e-3) enter the mission's risk
estimate only. ``plan`` uses the medians (and a 90° phase angle for a launched servicer) and draws nothing.

Abort: before phasing, nothing is spent but the (committed) mission cost; during phasing the servicer stays
in its current phasing orbit with the Δv it has spent; near the target (proximity, waiting, docking) it
backs off at once; while docked the swap in progress is abandoned (its part is kept), the remaining swaps
are cancelled and the servicer undocks (phase 6) before the mission ends ABORTED.

Orbits are circular and propagated with two-body mean motion plus the J2 secular rates
(engine.orbit_maneuvers); Δv is charged at the phasing burns, spares and part costs at each swap. Neglected:
the transfer arcs' time (~50 min each), RPO Δv (cm/s to m/s), and the differential nodal drift while at the
phasing altitude (4.9e-4 °/day per km, physics.md §2.6; ~0.1° after 8 days at 20 km).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from types import MappingProxyType

import numpy as np

from engine import orbit_maneuvers as om
from engine.constants import EARTH_RADIUS_SGP4_KM, SECONDS_PER_DAY
from engine.fault_catalogue import Part

__all__ = [
    "Part", "LaunchMode", "PhaseKind", "PhaseStatus", "MissionStatus", "ServicingEventKind", "ServicingRefused",
    "PhaseTiming", "CircularOrbit", "ServicingParams", "ServicerSpec", "PhaseRecord", "ServicingPlan",
    "MissionView", "ServicerView", "ServicingEvent", "ServicingFleet", "parse_part",
]

_Z90 = 1.2815515655446004  # standard-normal 90th percentile
_DAY = SECONDS_PER_DAY
_HOUR = 3600.0


PartsRequest = Sequence[Part | str] | Mapping[Part | str, int]  # a list, or counts per part

class LaunchMode(str, Enum):
    RESIDENT = "resident"  # already in orbit (phase 1a)
    HOT_STANDBY = "hot_standby"  # responsive launch (phase 1b)
    RIDESHARE = "rideshare"  # standard manifest (phase 1c)


class PhaseKind(str, Enum):
    DETECT = "detect"
    PREPARATION = "preparation"
    PHASING = "phasing"
    PROXIMITY_OPS = "proximity_ops"
    AWAITING_TARGET = "awaiting_target"
    DOCKING = "docking"
    SWAP = "swap"
    UNDOCK_CHECKOUT = "undock_checkout"


class PhaseStatus(str, Enum):
    PLANNED = "planned"
    ACTIVE = "active"
    DONE = "done"
    FAILED = "failed"  # dock attempt or swap failed
    INTERRUPTED = "interrupted"  # abort during the phase
    CANCELLED = "cancelled"  # never flown


class MissionStatus(str, Enum):
    ACTIVE = "active"
    COMPLETE = "complete"
    ABORTED = "aborted"
    FAILED = "failed"


class ServicingEventKind(str, Enum):
    DISPATCHED = "dispatched"
    PHASE_STARTED = "phase_started"
    PHASE_ENDED = "phase_ended"
    DOCK_FAILED = "dock_failed"
    SWAP_DONE = "swap_done"  # restore (target, part) capacity
    SWAP_FAILED = "swap_failed"
    MISSION_COMPLETE = "mission_complete"
    MISSION_ABORTED = "mission_aborted"
    MISSION_FAILED = "mission_failed"


class ServicingRefused(ValueError):
    """A plan, dispatch or abort was refused; ``reason`` says why. Nothing was changed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_part(part: Part | str) -> Part:
    """The Part named by ``part``; refuses unknown names with the list of known ones."""
    try:
        return Part(part)
    except ValueError:
        known = ", ".join(p.value for p in Part)
        raise ServicingRefused(f"unknown part {part!r}; known parts: {known}") from None


def _check_probability(name: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")


@dataclass(frozen=True)
class PhaseTiming:
    """Lognormal phase duration given by its median and 90th percentile, and a success probability."""

    median_s: float
    p90_s: float
    p_success: float = 1.0

    def __post_init__(self) -> None:
        if not (self.median_s > 0.0 and self.p90_s >= self.median_s and math.isfinite(self.p90_s)):
            raise ValueError(f"phase timing needs 0 < median <= P90, got {self.median_s!r} / {self.p90_s!r} s")
        _check_probability("p_success", self.p_success)

    def duration_s(self, z: float) -> float:
        """The duration at standard-normal deviate ``z`` (z = 0 gives the median)."""
        return self.median_s * math.exp(math.log(self.p90_s / self.median_s) / _Z90 * z)


@dataclass(frozen=True)
class CircularOrbit:
    """A circular orbit: argument of latitude ``arg_lat_deg`` (from the ascending node) at ``epoch_s``.

    The secular rates default to the J2 formulas; a caller with SGP4 elements should pass its own
    (``Satrec.mdot + argpdot`` and ``nodedot``, converted from rad/min), since a TLE's mean motion and the
    altitude it implies do not give SGP4's along-track rate to better than a few degrees per day.
    """

    altitude_km: float
    inclination_deg: float
    raan_deg: float
    arg_lat_deg: float = 0.0
    epoch_s: float = 0.0
    arg_lat_rate_deg_per_day: float | None = None
    raan_rate_deg_per_day: float | None = None

    def __post_init__(self) -> None:
        values = (self.altitude_km, self.inclination_deg, self.raan_deg, self.arg_lat_deg, self.epoch_s)
        usable = all(math.isfinite(v) for v in values) and self.altitude_km > 0
        if not usable or not 0 <= self.inclination_deg <= 180:
            raise ValueError(f"not a usable circular orbit: {self}")
        if self.arg_lat_rate_deg_per_day is None:
            rate = om.arg_lat_rate_deg_per_day(self.altitude_km, self.inclination_deg)
            object.__setattr__(self, "arg_lat_rate_deg_per_day", rate)
        if self.raan_rate_deg_per_day is None:
            rate = om.raan_rate_deg_per_day(self.altitude_km, self.inclination_deg)
            object.__setattr__(self, "raan_rate_deg_per_day", rate)

    def at(self, time_s: float) -> CircularOrbit:
        """The same orbit at ``time_s``, advanced with its secular rates."""
        days = (time_s - self.epoch_s) / _DAY
        raan = self.raan_deg + self.raan_rate_deg_per_day * days
        u = self.arg_lat_deg + self.arg_lat_rate_deg_per_day * days
        return replace(self, raan_deg=raan % 360.0, arg_lat_deg=u % 360.0, epoch_s=time_s)

    def shifted(self, delta_altitude_km: float, delta_arg_lat_deg: float) -> CircularOrbit:
        """A neighbouring orbit in the same plane: rates shifted by the two-body and J2 differences."""
        h = self.altitude_km + delta_altitude_km
        h0, inc = self.altitude_km, self.inclination_deg
        u_rate = self.arg_lat_rate_deg_per_day - om.phase_drift_rate_deg_per_day(h0, delta_altitude_km)
        raan_rate = self.raan_rate_deg_per_day + om.raan_rate_deg_per_day(h, inc) - om.raan_rate_deg_per_day(h0, inc)
        return replace(self, altitude_km=h, arg_lat_deg=(self.arg_lat_deg + delta_arg_lat_deg) % 360.0,
                       arg_lat_rate_deg_per_day=u_rate, raan_rate_deg_per_day=raan_rate)


def _frozen_map(items: Mapping) -> Mapping:
    return MappingProxyType(dict(items))


@dataclass(frozen=True)
class ServicingParams:
    """The phase model (physics.md §5); swap timings per part can be overridden."""

    detect: PhaseTiming = PhaseTiming(1 * _DAY, 7 * _DAY)
    preparation: Mapping[LaunchMode, PhaseTiming] = field(default_factory=lambda: _frozen_map({
        LaunchMode.RESIDENT: PhaseTiming(0.5 * _DAY, 2 * _DAY, 0.98),
        LaunchMode.HOT_STANDBY: PhaseTiming(3 * _DAY, 14 * _DAY, 0.95),
        LaunchMode.RIDESHARE: PhaseTiming(120 * _DAY, 365 * _DAY, 0.97),
    }))
    phasing_p_success: float = 0.99
    proximity_ops: PhaseTiming = PhaseTiming(7 * _DAY, 60 * _DAY, 0.95)
    docking: PhaseTiming = PhaseTiming(1 * _DAY, 5 * _DAY)  # p per attempt: ServicerSpec.dock_p_success
    undock_checkout: PhaseTiming = PhaseTiming(2 * _DAY, 14 * _DAY, 0.98)
    swap_default: PhaseTiming = PhaseTiming(2 * _HOUR, 12 * _HOUR, 0.95)
    swap_overrides: Mapping[Part, PhaseTiming] = field(default_factory=dict)
    max_dock_attempts: int = 3
    plane_tolerance_deg: float = 0.05
    colocated_km: float = 1.0

    def __post_init__(self) -> None:
        preparation = {LaunchMode(k): v for k, v in self.preparation.items()}
        object.__setattr__(self, "preparation", _frozen_map(preparation))
        overrides = {parse_part(k): v for k, v in self.swap_overrides.items()}
        object.__setattr__(self, "swap_overrides", _frozen_map(overrides))
        if set(preparation) != set(LaunchMode):
            raise ValueError("preparation needs a timing for every launch mode")
        attempts = self.max_dock_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"max_dock_attempts must be an integer >= 1, got {self.max_dock_attempts!r}")
        _check_probability("phasing_p_success", self.phasing_p_success)
        if self.plane_tolerance_deg < 0 or self.colocated_km < 0:
            raise ValueError("plane_tolerance_deg and colocated_km must be >= 0")

    def swap(self, part: Part) -> PhaseTiming:
        return self.swap_overrides.get(part, self.swap_default)

    def __deepcopy__(self, memo) -> "ServicingParams":
        return self  # frozen, and holds read-only mappings: a copy of a simulation shares it


@dataclass(frozen=True)
class ServicerSpec:
    """A servicing vehicle: where it is parked (or how it is launched), its Δv, spares and costs."""

    servicer_id: str
    delta_v_m_s: float
    spares: Mapping[Part, int]
    parking: CircularOrbit | None = None  # required for a resident servicer, absent for a launched one
    launch_mode: LaunchMode = LaunchMode.RESIDENT
    mission_cost_musd: float = 0.0
    part_cost_musd: Mapping[Part, float] = field(default_factory=dict)
    dock_p_success: float = 0.9
    phasing_offset_km: float = 20.0
    collision_risk_per_visit: float = 1e-3

    def __post_init__(self) -> None:
        object.__setattr__(self, "launch_mode", LaunchMode(self.launch_mode))
        spares = {parse_part(k): v for k, v in self.spares.items()}
        costs = {parse_part(k): v for k, v in self.part_cost_musd.items()}
        object.__setattr__(self, "spares", _frozen_map(spares))
        object.__setattr__(self, "part_cost_musd", _frozen_map(costs))
        who = f"servicer {self.servicer_id!r}"
        if not isinstance(self.servicer_id, str) or not self.servicer_id.strip():
            raise ValueError("a servicer needs a non-empty id")
        for part, count in spares.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"{who}: spare count for {part.value} must be an integer >= 0, got {count!r}")
        if not all(c >= 0 for c in costs.values()) or self.mission_cost_musd < 0:
            raise ValueError(f"{who}: costs must be >= 0")
        if not (self.delta_v_m_s >= 0 and math.isfinite(self.delta_v_m_s)):
            raise ValueError(f"{who}: delta_v_m_s must be >= 0, got {self.delta_v_m_s!r}")
        if not self.phasing_offset_km > 0:
            raise ValueError(f"{who}: phasing_offset_km must be > 0, got {self.phasing_offset_km!r}")
        _check_probability(f"{who}: dock_p_success", self.dock_p_success)
        _check_probability(f"{who}: collision_risk_per_visit", self.collision_risk_per_visit)
        if (self.launch_mode is LaunchMode.RESIDENT) != (self.parking is not None):
            raise ValueError(f"{who}: a resident servicer needs a parking orbit; a launched one has none")

    def __deepcopy__(self, memo) -> "ServicerSpec":
        return self  # frozen, and holds read-only mappings: a copy of a simulation shares it


@dataclass(frozen=True)
class PhaseRecord:
    """One phase of a mission timeline; times of planned phases are projections."""

    kind: PhaseKind
    status: PhaseStatus
    duration_s: float | None  # None: open-ended (awaiting_target)
    start_s: float | None
    end_s: float | None
    part: Part | None = None
    attempt: int = 1

    @property
    def name(self) -> str:
        if self.part is not None:
            return f"{self.kind.value} {self.part.value}"
        return f"{self.kind.value} #{self.attempt}" if self.attempt > 1 else self.kind.value


@dataclass(frozen=True)
class ServicingPlan:
    """What a dispatch would do, with median durations (nothing is drawn or changed)."""

    servicer_id: str
    target: int
    parts: tuple[Part, ...]
    timeline: tuple[PhaseRecord, ...]
    eta_s: float
    phase_angle_deg: float  # angle the phasing drift closes (<= 180)
    phasing_altitude_km: float
    phasing_duration_s: float
    plane_change_deg: float
    delta_v_m_s: float
    delta_v_plane_change_m_s: float
    delta_v_remaining_after_m_s: float
    p_success: float
    risk: float  # 1 - p_success
    cost_musd: float

    @property
    def duration_s(self) -> float:
        """From dispatch to the end of undocking, with median durations."""
        return self.eta_s - self.timeline[0].start_s


@dataclass(frozen=True)
class MissionView:
    mission_id: str
    servicer_id: str
    target: int
    parts: tuple[Part, ...]
    status: MissionStatus
    phase: PhaseRecord | None  # current phase, None once finished
    eta_s: float  # completion time (projected while active)
    dispatched_s: float
    delta_v_planned_m_s: float
    delta_v_used_m_s: float
    delta_v_remaining_m_s: float  # the servicer's
    plane_change_deg: float
    p_success: float
    risk: float
    cost_musd: float
    cost_planned_musd: float
    dock_attempts: int
    parts_installed: tuple[Part, ...]
    parts_failed: tuple[Part, ...]
    timeline: tuple[PhaseRecord, ...]
    reason: str = ""


@dataclass(frozen=True)
class ServicerView:
    servicer_id: str
    launch_mode: LaunchMode
    orbit: CircularOrbit | None  # parking orbit when free and in orbit; None if unlaunched or on a mission
    delta_v_remaining_m_s: float
    spares: Mapping[Part, int]
    mission_id: str | None
    missions_flown: int
    cost_musd: float

    @property
    def busy(self) -> bool:
        return self.mission_id is not None


@dataclass(frozen=True)
class ServicingEvent:
    time_s: float
    kind: ServicingEventKind
    mission_id: str
    servicer_id: str
    target: int
    message: str
    phase: PhaseKind | None = None
    part: Part | None = None
    attempt: int = 1


# ----------------------------------------------------------------------------------------- internals


@dataclass
class _Phase:
    kind: PhaseKind
    duration_s: float | None
    part: Part | None = None
    attempt: int = 1
    status: PhaseStatus = PhaseStatus.PLANNED
    start_s: float | None = None
    end_s: float | None = None


@dataclass(frozen=True)
class _Draws:
    """Every random number a mission can use, in a fixed order."""

    z: tuple[float, ...]  # detect, preparation, undock, then (proximity, docking) per attempt, then swaps
    dock_u: tuple[float, ...]
    swap_u: tuple[float, ...]
    insertion_u: float

    @classmethod
    def draw(cls, rng: np.random.Generator | None, n_parts: int, attempts: int) -> _Draws:
        if rng is None:  # planning: medians, every attempt succeeds, 90° insertion angle
            return cls((0.0,) * (3 + 2 * attempts + n_parts), (0.0,) * attempts, (0.0,) * n_parts, 0.25)
        z = rng.standard_normal(3 + 2 * attempts + n_parts)
        u = rng.random(1 + attempts + n_parts)
        return cls(tuple(z), tuple(u[1:1 + attempts]), tuple(u[1 + attempts:]), float(u[0]))


@dataclass
class _Servicer:
    spec: ServicerSpec
    orbit: CircularOrbit | None
    delta_v_m_s: float
    spares: dict[Part, int]
    mission_id: str | None = None
    missions_flown: int = 0
    cost_musd: float = 0.0

    @property
    def mode(self) -> LaunchMode:
        """How the next mission starts: a servicer once in orbit is resident."""
        return LaunchMode.RESIDENT if self.orbit is not None else self.spec.launch_mode


@dataclass
class _Mission:
    mission_id: str
    servicer: _Servicer
    target: int
    target_orbit: CircularOrbit
    parts: tuple[Part, ...]
    plan: ServicingPlan
    phases: list[_Phase]
    draws: _Draws
    dispatched_s: float
    departure_dv_m_s: float
    arrival_dv_m_s: float
    phasing_sign: float  # -1: servicer below, catching up; +1: above, target catching up
    status: MissionStatus = MissionStatus.ACTIVE
    index: int = 0
    delta_v_used_m_s: float = 0.0
    cost_musd: float = 0.0
    installed: list[Part] = field(default_factory=list)
    failed: list[Part] = field(default_factory=list)
    aborting: bool = False
    reason: str = ""
    finished_s: float | None = None


def _records(phases: Sequence[_Phase], now_s: float) -> tuple[tuple[PhaseRecord, ...], float]:
    """Timeline records, projecting planned phases from the current one; returns (records, eta)."""
    out: list[PhaseRecord] = []
    cursor = now_s
    for ph in phases:
        start, end = ph.start_s, ph.end_s
        if ph.status is PhaseStatus.ACTIVE:
            cursor = start + ph.duration_s if ph.duration_s is not None else max(now_s, start)
            end = start + ph.duration_s if ph.duration_s is not None else None
        elif ph.status is PhaseStatus.PLANNED:
            start, end = cursor, cursor + (ph.duration_s or 0.0)
            cursor = end
        elif ph.status is not PhaseStatus.CANCELLED:
            cursor = end
        out.append(PhaseRecord(ph.kind, ph.status, ph.duration_s, start, end, ph.part, ph.attempt))
    return tuple(out), cursor


class ServicingFleet:
    """Servicers and their missions; the caller drives time with ``step``."""

    def __init__(self, servicers: Sequence[ServicerSpec], rng: np.random.Generator,
                 params: ServicingParams | None = None, target_names: Sequence[str] | None = None) -> None:
        self.params = params or ServicingParams()
        self._target_names = tuple(target_names) if target_names is not None else None
        self._rng = rng
        self._servicers: dict[str, _Servicer] = {}
        for spec in servicers:
            if spec.servicer_id in self._servicers:
                raise ValueError(f"duplicate servicer id {spec.servicer_id!r}")
            self._servicers[spec.servicer_id] = _Servicer(spec, spec.parking, spec.delta_v_m_s, dict(spec.spares))
        self._missions: dict[str, _Mission] = {}
        self._pending: list[ServicingEvent] = []
        self._now_s = -math.inf
        self._orbits: Mapping[int, CircularOrbit] | Callable[[int], CircularOrbit] | None = None

    # ------------------------------------------------------------------------------ views

    def servicer(self, servicer_id: str) -> ServicerView:
        s = self._get_servicer(servicer_id)
        return ServicerView(s.spec.servicer_id, s.mode, None if s.mission_id else s.orbit,
                            s.delta_v_m_s, _frozen_map(s.spares), s.mission_id, s.missions_flown, s.cost_musd)

    def servicers(self) -> tuple[ServicerView, ...]:
        return tuple(self.servicer(sid) for sid in self._servicers)

    def mission(self, mission_id: str) -> MissionView:
        m = self._missions.get(mission_id)
        if m is None:
            raise ServicingRefused(f"no servicing mission {mission_id!r}")
        timeline, eta = _records(m.phases, max(self._now_s, m.dispatched_s))
        current = timeline[m.index] if m.status is MissionStatus.ACTIVE else None
        return MissionView(
            m.mission_id, m.servicer.spec.servicer_id, m.target, m.parts, m.status, current,
            m.finished_s if m.finished_s is not None else eta, m.dispatched_s, m.plan.delta_v_m_s,
            m.delta_v_used_m_s, m.servicer.delta_v_m_s, m.plan.plane_change_deg, m.plan.p_success, m.plan.risk,
            m.cost_musd, m.plan.cost_musd,
            sum(1 for p in m.phases if p.kind is PhaseKind.DOCKING and p.start_s is not None),
            tuple(m.installed), tuple(m.failed), timeline, m.reason)

    def missions(self, active_only: bool = False) -> tuple[MissionView, ...]:
        return tuple(self.mission(mid) for mid, m in self._missions.items()
                     if not active_only or m.status is MissionStatus.ACTIVE)

    def active_targets(self) -> frozenset[int]:
        """Satellites with a mission in progress (keep them in maintenance; pass their orbits to ``step``)."""
        return frozenset(m.target for m in self._missions.values() if m.status is MissionStatus.ACTIVE)

    def _target(self, target: int) -> str:
        """How messages name a target satellite."""
        if self._target_names is not None and 0 <= target < len(self._target_names):
            return self._target_names[target]
        return f"satellite {target}"

    @property
    def has_pending_events(self) -> bool:
        """Dispatch or abort events waiting to come out of the next ``step``."""
        return bool(self._pending)

    @property
    def total_cost_musd(self) -> float:
        return sum(s.cost_musd for s in self._servicers.values())

    # ------------------------------------------------------------------------------ planning

    def plan(self, servicer_id: str, target: int, target_orbit: CircularOrbit,
             parts: PartsRequest, time_s: float, *, detect: bool = False) -> ServicingPlan:
        """The plan a dispatch would follow with median durations; raises ServicingRefused with the reason."""
        return self._build(servicer_id, target, target_orbit, parts, time_s, detect, None)[0]

    def dispatch(self, servicer_id: str, target: int, target_orbit: CircularOrbit,
                 parts: PartsRequest, time_s: float, *, detect: bool = False) -> MissionView:
        """Start a mission at ``time_s`` (durations sampled now); its events come out of the next ``step``."""
        state = self._rng.bit_generator.state
        try:
            built = self._build(servicer_id, target, target_orbit, parts, time_s, detect, self._rng)
        except Exception:
            self._rng.bit_generator.state = state  # a refusal consumes no randomness
            raise
        plan, phases, draws, geometry = built
        s = self._servicers[servicer_id]
        mission_id = f"svc-{len(self._missions) + 1}"
        m = _Mission(mission_id, s, target, target_orbit, plan.parts, plan, phases, draws, time_s, *geometry)
        self._missions[mission_id] = m
        s.mission_id = mission_id
        m.cost_musd = s.spec.mission_cost_musd
        s.cost_musd += m.cost_musd
        self._now_s = max(self._now_s, time_s)
        parts_text = ", ".join(p.value for p in plan.parts)
        text = f"{servicer_id} dispatched to {self._target(target)} ({parts_text}); ETA {plan.duration_s / _DAY:.1f} d"
        self._pending.append(self._event(m, time_s, ServicingEventKind.DISPATCHED, text))
        self._start(m, 0, time_s, self._pending)
        return self.mission(mission_id)

    def _build(self, servicer_id: str, target: int, target_orbit: CircularOrbit, parts: PartsRequest,
               time_s: float, detect: bool, rng: np.random.Generator | None,
               ) -> tuple[ServicingPlan, list[_Phase], _Draws, tuple[float, float, float]]:
        """Check a request and lay out its phases; ``rng`` None gives the median plan."""
        s = self._get_servicer(servicer_id)
        part_list = self._parse_parts(parts)
        if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or target < 0:
            raise ServicingRefused(f"target must be a satellite index >= 0, got {target!r}")
        if not isinstance(target_orbit, CircularOrbit):
            raise ServicingRefused("target_orbit must be a CircularOrbit")
        if s.mission_id is not None:
            raise ServicingRefused(f"servicer {servicer_id} is busy with mission {s.mission_id}")
        for m in self._missions.values():
            if m.status is MissionStatus.ACTIVE and m.target == target:
                raise ServicingRefused(f"{self._target(target)} is already being serviced by mission {m.mission_id}")
        for part in set(part_list):
            need, have = part_list.count(part), s.spares.get(part, 0)
            if need > have:
                raise ServicingRefused(
                    f"servicer {servicer_id} carries {have} {part.value} spare(s), mission needs {need}")
        p, spec = self.params, s.spec
        d = _Draws.draw(rng, len(part_list), p.max_dock_attempts)
        prep = p.preparation[s.mode]
        phases = [_Phase(PhaseKind.DETECT, p.detect.duration_s(d.z[0]))] if detect else []
        phases.append(_Phase(PhaseKind.PREPARATION, prep.duration_s(d.z[1])))
        t_phasing = time_s + sum(ph.duration_s for ph in phases)

        # phasing geometry at the start of phasing
        tgt = target_orbit.at(t_phasing)
        h_t = tgt.altitude_km
        if s.orbit is not None:
            here = s.orbit.at(t_phasing)
            plane_deg = om.plane_angle_deg(here.inclination_deg, here.raan_deg, tgt.inclination_deg, tgt.raan_deg)
            lead_deg = (tgt.arg_lat_deg - here.arg_lat_deg) % 360.0
            h_start = here.altitude_km
        else:  # launched into the target plane at the phasing altitude
            plane_deg, lead_deg, h_start = 0.0, 360.0 * d.insertion_u, None
        sign = -1.0 if lead_deg <= 180.0 else 1.0
        angle_deg = lead_deg if lead_deg <= 180.0 else 360.0 - lead_deg
        h_phase = h_t + sign * spec.phasing_offset_km
        plane_dv = om.plane_change_delta_v_m_s(h_t, plane_deg) if plane_deg > p.plane_tolerance_deg else 0.0
        if plane_dv == 0.0:
            plane_deg = 0.0
        if h_start is not None and math.radians(angle_deg) * (EARTH_RADIUS_SGP4_KM + h_t) <= p.colocated_km:
            h_phase, phasing_s = h_start, 0.0  # already there: a direct transfer, no drift
        else:
            phasing_s = om.time_to_close_phase_s(angle_deg, h_t, h_phase - h_t)
        departure = (om.hohmann_delta_v_m_s(h_start, h_phase) if h_start is not None else 0.0) + plane_dv
        arrival = om.hohmann_delta_v_m_s(h_phase, h_t)
        need = departure + arrival
        if need > s.delta_v_m_s:
            if plane_dv > 0.0:
                raise ServicingRefused(
                    f"needs {plane_dv:,.0f} m/s to change plane by {plane_deg:.1f}° ({need:,.0f} m/s with phasing), "
                    f"has {s.delta_v_m_s:,.0f} m/s")
            raise ServicingRefused(
                f"needs {need:,.0f} m/s to phase to {self._target(target)}, has {s.delta_v_m_s:,.0f} m/s")

        n_att = p.max_dock_attempts
        phases += [
            _Phase(PhaseKind.PHASING, phasing_s),
            _Phase(PhaseKind.PROXIMITY_OPS, p.proximity_ops.duration_s(d.z[3])),
            _Phase(PhaseKind.AWAITING_TARGET, None),
            _Phase(PhaseKind.DOCKING, p.docking.duration_s(d.z[3 + n_att])),
        ]
        phases += [_Phase(PhaseKind.SWAP, p.swap(part).duration_s(d.z[3 + 2 * n_att + i]), part)
                   for i, part in enumerate(part_list)]
        phases.append(_Phase(PhaseKind.UNDOCK_CHECKOUT, p.undock_checkout.duration_s(d.z[2])))

        p_dock = 1.0 - (1.0 - spec.dock_p_success) ** n_att
        p_success = (prep.p_success * p.phasing_p_success * p.proximity_ops.p_success * p_dock
                     * math.prod(p.swap(part).p_success for part in part_list)
                     * p.undock_checkout.p_success * (1.0 - spec.collision_risk_per_visit))
        cost = spec.mission_cost_musd + sum(spec.part_cost_musd.get(part, 0.0) for part in part_list)
        planned = [replace(ph) for ph in phases]
        planned[0].status, planned[0].start_s = PhaseStatus.ACTIVE, time_s
        timeline, eta = _records(planned, time_s)
        plan = ServicingPlan(servicer_id, int(target), tuple(part_list), timeline, eta, angle_deg, h_phase, phasing_s,
                             plane_deg, need, plane_dv, s.delta_v_m_s - need, p_success, 1.0 - p_success, cost)
        return plan, phases, d, (departure, arrival, sign)

    # ------------------------------------------------------------------------------ abort and step

    def abort(self, mission_id: str, time_s: float, reason: str = "operator abort",
              target_orbit: CircularOrbit | None = None) -> MissionView:
        """Abort an active mission at ``time_s`` (see the module docstring); events come out of the next step.

        ``target_orbit`` (the target's current orbit) places the servicer; without it the orbit given at
        dispatch is propagated.
        """
        m = self._missions.get(mission_id)
        if m is None:
            raise ServicingRefused(f"no servicing mission {mission_id!r}")
        if m.status is not MissionStatus.ACTIVE:
            raise ServicingRefused(f"mission {mission_id} is already {m.status.value}")
        ph = m.phases[m.index]
        time_s = max(time_s, ph.start_s)
        self._now_s = max(self._now_s, time_s)
        out = self._pending
        m.reason = reason
        if ph.kind is PhaseKind.UNDOCK_CHECKOUT:
            m.aborting = True  # already leaving: ends ABORTED when undocked
            return self.mission(mission_id)
        self._end(m, ph, time_s, PhaseStatus.INTERRUPTED, out)
        if ph.kind is PhaseKind.SWAP:  # docked: abandon the remaining swaps, then undock
            m.aborting = True
            for later in m.phases[m.index + 1:]:
                if later.kind is PhaseKind.SWAP:
                    later.status = PhaseStatus.CANCELLED
            undock = next(i for i, q in enumerate(m.phases) if q.kind is PhaseKind.UNDOCK_CHECKOUT)
            self._start(m, undock, time_s, out)
            return self.mission(mission_id)
        self._orbits = {m.target: target_orbit} if target_orbit is not None else None
        if ph.kind in (PhaseKind.DETECT, PhaseKind.PREPARATION):
            orbit = m.servicer.orbit  # never left (None: never launched)
        elif ph.kind is PhaseKind.PHASING:  # stays in the phasing orbit, where the drift has brought it
            tgt = self._target_orbit(m, time_s)
            frac = min(1.0, (time_s - ph.start_s) / ph.duration_s) if ph.duration_s else 1.0
            ahead_deg = m.phasing_sign * m.plan.phase_angle_deg * (1.0 - frac)  # below: still behind
            orbit = tgt.shifted(m.plan.phasing_altitude_km - tgt.altitude_km, ahead_deg)
        else:  # proximity, waiting or approaching: backs off, stays in the target's orbit
            orbit = self._target_orbit(m, time_s)
        self._finish(m, time_s, MissionStatus.ABORTED, out, orbit)
        self._orbits = None
        return self.mission(mission_id)

    def step(self, t0_s: float, t1_s: float,
             target_orbits: Mapping[int, CircularOrbit] | Callable[[int], CircularOrbit] | None = None,
             target_ready: Callable[[int], bool] | bool = True) -> list[ServicingEvent]:
        """Advance every mission through (t0_s, t1_s]; returns the events (with pending ones) in time order.

        ``target_ready(sat)`` (or a flag) says whether the target is drained and in maintenance; it is read
        once per waiting mission and step and taken to hold over the step. ``target_orbits`` (by satellite)
        gives the current orbits, used to park a servicer that finishes; missing ones are propagated.
        """
        if t1_s < t0_s:
            raise ValueError(f"step goes backwards: {t0_s} -> {t1_s}")
        self._orbits = target_orbits
        events, self._pending = self._pending, []
        for m in self._missions.values():
            ready: bool | None = None
            while m.status is MissionStatus.ACTIVE:
                ph = m.phases[m.index]
                if ph.kind is PhaseKind.AWAITING_TARGET:
                    if ready is None:
                        ready = bool(target_ready(m.target) if callable(target_ready) else target_ready)
                    if not ready:
                        break
                    end = max(ph.start_s, t0_s)
                else:
                    end = ph.start_s + ph.duration_s
                    if end > t1_s:
                        break
                self._complete_phase(m, ph, end, events)
        self._now_s = max(self._now_s, t1_s)
        self._orbits = None
        events.sort(key=lambda e: e.time_s)  # stable: each mission's own order is kept
        return events

    # ------------------------------------------------------------------------------ transitions

    def _complete_phase(self, m: _Mission, ph: _Phase, t: float, out: list[ServicingEvent]) -> None:
        p, s = self.params, m.servicer
        if ph.kind is PhaseKind.PHASING:
            self._spend(m, m.arrival_dv_m_s)
        if ph.kind is PhaseKind.DOCKING:
            if m.draws.dock_u[ph.attempt - 1] >= s.spec.dock_p_success:
                self._end(m, ph, t, PhaseStatus.FAILED, out)
                text = f"docking attempt {ph.attempt} failed"
                out.append(self._event(m, t, ServicingEventKind.DOCK_FAILED, text, ph.kind, attempt=ph.attempt))
                if ph.attempt >= p.max_dock_attempts:
                    m.reason = f"docking failed {ph.attempt} times"
                    self._finish(m, t, MissionStatus.FAILED, out, self._target_orbit(m, t))
                    return
                k, z = ph.attempt + 1, m.draws.z
                m.phases[m.index + 1:m.index + 1] = [
                    _Phase(PhaseKind.PROXIMITY_OPS, p.proximity_ops.duration_s(z[2 + k]), attempt=k),
                    _Phase(PhaseKind.AWAITING_TARGET, None, attempt=k),
                    _Phase(PhaseKind.DOCKING, p.docking.duration_s(z[2 + p.max_dock_attempts + k]), attempt=k),
                ]
                self._start(m, m.index + 1, t, out)
                return
        if ph.kind is PhaseKind.SWAP:
            i = sum(1 for q in m.phases[:m.index] if q.kind is PhaseKind.SWAP)
            ok = m.draws.swap_u[i] < p.swap(ph.part).p_success
            s.spares[ph.part] -= 1  # consumed either way
            cost = s.spec.part_cost_musd.get(ph.part, 0.0)
            m.cost_musd += cost
            s.cost_musd += cost
            (m.installed if ok else m.failed).append(ph.part)
            self._end(m, ph, t, PhaseStatus.DONE if ok else PhaseStatus.FAILED, out)
            kind = ServicingEventKind.SWAP_DONE if ok else ServicingEventKind.SWAP_FAILED
            word = "installed" if ok else "failed to install (unit discarded)"
            text = f"{ph.part.value} {word} on {self._target(m.target)}"
            out.append(self._event(m, t, kind, text, ph.kind, ph.part))
        else:
            self._end(m, ph, t, PhaseStatus.DONE, out)
        if ph.kind is PhaseKind.UNDOCK_CHECKOUT:
            status = MissionStatus.ABORTED if m.aborting else MissionStatus.COMPLETE
            self._finish(m, t, status, out, self._target_orbit(m, t))
            return
        self._start(m, m.index + 1, t, out)

    def _start(self, m: _Mission, index: int, t: float, out: list[ServicingEvent]) -> None:
        m.index = index
        ph = m.phases[index]
        ph.status, ph.start_s = PhaseStatus.ACTIVE, t
        if ph.kind is PhaseKind.PHASING:
            self._spend(m, m.departure_dv_m_s)
        text = f"{_name(ph)} started"
        out.append(self._event(m, t, ServicingEventKind.PHASE_STARTED, text, ph.kind, ph.part, ph.attempt))

    def _end(self, m: _Mission, ph: _Phase, t: float, status: PhaseStatus, out: list[ServicingEvent]) -> None:
        ph.status, ph.end_s = status, t
        text = f"{_name(ph)} {status.value}"
        out.append(self._event(m, t, ServicingEventKind.PHASE_ENDED, text, ph.kind, ph.part, ph.attempt))

    def _finish(self, m: _Mission, t: float, status: MissionStatus, out: list[ServicingEvent],
                orbit: CircularOrbit | None) -> None:
        """End the mission; the servicer is free, parked in ``orbit`` (None: still on the ground)."""
        for ph in m.phases:
            if ph.status is PhaseStatus.PLANNED:
                ph.status = PhaseStatus.CANCELLED
        m.status, m.finished_s = status, t
        s = m.servicer
        s.orbit, s.mission_id = orbit, None
        s.missions_flown += 1
        kind = {MissionStatus.COMPLETE: ServicingEventKind.MISSION_COMPLETE,
                MissionStatus.ABORTED: ServicingEventKind.MISSION_ABORTED,
                MissionStatus.FAILED: ServicingEventKind.MISSION_FAILED}[status]
        text = f"mission {status.value}: {len(m.installed)} of {len(m.parts)} part(s) installed"
        out.append(self._event(m, t, kind, f"{text} ({m.reason})" if m.reason else text))

    def _spend(self, m: _Mission, dv_m_s: float) -> None:
        m.delta_v_used_m_s += dv_m_s
        m.servicer.delta_v_m_s = max(0.0, m.servicer.delta_v_m_s - dv_m_s)

    def _target_orbit(self, m: _Mission, t: float) -> CircularOrbit:
        """The target's orbit at ``t``: from the orbits passed to ``step`` if given, else propagated."""
        orbit = None
        if self._orbits is not None:
            orbit = self._orbits(m.target) if callable(self._orbits) else self._orbits.get(m.target)
        return (orbit or m.target_orbit).at(t)

    def _event(self, m: _Mission, t: float, kind: ServicingEventKind, message: str, phase: PhaseKind | None = None,
               part: Part | None = None, attempt: int = 1) -> ServicingEvent:
        return ServicingEvent(t, kind, m.mission_id, m.servicer.spec.servicer_id, m.target,
                              f"{m.mission_id}: {message}", phase, part, attempt)

    # ------------------------------------------------------------------------------ helpers

    def _get_servicer(self, servicer_id: str) -> _Servicer:
        s = self._servicers.get(servicer_id)
        if s is None:
            known = ", ".join(self._servicers) or "none"
            raise ServicingRefused(f"unknown servicer {servicer_id!r}; known: {known}")
        return s

    @staticmethod
    def _parse_parts(parts: PartsRequest) -> list[Part]:
        if isinstance(parts, (str, Part)):
            parts = [parts]
        if isinstance(parts, Mapping):
            out: list[Part] = []
            for name, count in parts.items():
                part = parse_part(name)
                if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
                    raise ServicingRefused(f"part count for {part.value} must be an integer >= 0, got {count!r}")
                out += [part] * int(count)
        else:
            out = [parse_part(name) for name in parts]
        if not out:
            raise ServicingRefused("a servicing mission needs at least one part to swap")
        return out


def _name(ph: _Phase) -> str:
    return PhaseRecord(ph.kind, ph.status, ph.duration_s, ph.start_s, ph.end_s, ph.part, ph.attempt).name
