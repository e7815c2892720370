"""Faults as objects: a request is validated against the catalogue and the fleet into a :class:`Fault`,
the :class:`FaultBook` keeps the active ones and their history, and :class:`Condition` is what the active
faults do to every satellite's hardware, as (N,) arrays the models multiply in.

The operator, the mission timeline and stochastic rates all build the same :class:`FaultRequest`; only
``Fault.source`` tells them apart. Faults on one GPU, one link, one station or the whole fleet act once
when they start and once when they end (the simulation applies them through the GPU health, link and
radiation models); faults on a satellite's hardware act through :class:`Condition` for as long as they
are active.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.fault_catalogue import CATALOGUE, FaultKind, Part, Target, repair_part

__all__ = ["Condition", "Fault", "FaultBook", "FaultEnd", "FaultRequest", "TUMBLING_SUN_COSINE"]

TUMBLING_SUN_COSINE = 0.25
"""Mean of max(cos θ, 0) over directions uniform on the sphere: a flat array on a freely tumbling
satellite collects a quarter of its Sun-pointed power."""


@dataclass(frozen=True)
class FaultRequest:
    """A fault to inject. Give the target its kind needs (``satellite`` and ``gpu``; ``satellite`` and
    ``peer`` for a link; ``station``; nothing for the fleet), parameters by name (defaults from the
    catalogue), and ``duration_s`` (default: the kind's) or ``permanent``."""

    kind: FaultKind | str
    satellite: str | None = None
    gpu: int | None = None
    peer: str | None = None
    station: str | None = None
    params: Mapping[str, float | str] = field(default_factory=dict)
    duration_s: float | None = None
    permanent: bool = False


@dataclass(frozen=True)
class Fault:
    """An injected fault (a frozen record; the book tracks whether it is still active)."""

    id: str
    kind: FaultKind
    target: str
    """Human label: 'A-01-02 GPU 3', 'ISL A-01-02 ↔ A-01-03', 'station svalbard', 'fleet'."""
    satellite: int
    """Satellite index, -1 if the target is not a satellite or its GPU (a link's first end for links)."""
    gpu: int
    peer: int
    station: int
    params: tuple[tuple[str, float | str], ...]
    start_s: float
    end_s: float | None
    """When it ends by itself; None: permanent (until cleared or repaired)."""
    source: str
    """'operator', 'timeline' or 'random'."""

    def param(self, name: str) -> float | str:
        return dict(self.params)[name]

    @property
    def repair(self) -> Part | None:
        return repair_part(self.kind, dict(self.params))

    @property
    def title(self) -> str:
        return CATALOGUE[self.kind].title


@dataclass(frozen=True)
class FaultEnd:
    fault: Fault
    time_s: float
    how: str
    """'expired', 'cleared' (by the instructor) or 'repaired' (by a servicing swap)."""


@dataclass(frozen=True)
class Condition:
    """What the active faults do to each satellite, (N,) arrays (1 / False where nothing is wrong)."""

    array_factor: np.ndarray
    """Solar array output (strings lost, degradation, hits)."""
    sun_factor: np.ndarray
    """Pointing: the array's Sun cosine relative to nominal (attitude faults)."""
    battery_factor: np.ndarray
    radiator_factor: np.ndarray
    """Radiator area left."""
    pump_factor: np.ndarray
    """Loop-to-radiator flow left."""
    upset_multiplier: np.ndarray
    rebooting: np.ndarray
    tumbling: np.ndarray

    @staticmethod
    def nominal(n: int) -> Condition:
        ones, no = np.ones(n), np.zeros(n, dtype=bool)
        return Condition(ones, ones.copy(), ones.copy(), ones.copy(), ones.copy(), ones.copy(), no, no.copy())

    @property
    def terminals_blocked(self) -> np.ndarray:
        """Satellites whose laser terminals cannot hold a link (rebooting or tumbling)."""
        return self.rebooting | self.tumbling


class FaultBook:
    """Active faults, their history and the fleet's condition.

    ``link_exists(a, b)`` says whether satellites a and b have a laser link (for link targets).
    """

    def __init__(self, satellite_ids: Sequence[str], station_ids: Sequence[str], gpu_present: np.ndarray,
                 link_exists: Callable[[int, int], bool]):
        self.satellite_ids = tuple(satellite_ids)
        self._index = {name: i for i, name in enumerate(self.satellite_ids)}
        self.station_ids = tuple(station_ids)
        self._station_index = {name: i for i, name in enumerate(self.station_ids)}
        self._present = np.asarray(gpu_present, dtype=bool)
        self._link_exists = link_exists
        self.active: dict[str, Fault] = {}
        self.ended: list[FaultEnd] = []
        self.injected: list[Fault] = []
        self.version = 0
        self._serial = 0
        self._condition = Condition.nominal(len(self.satellite_ids))
        self._condition_version = 0

    # ------------------------------------------------------------------------------------ validation

    def resolve(self, request: FaultRequest, time_s: float, source: str) -> Fault:
        """The fault ``request`` asks for, starting at ``time_s``; ValueError with the reason if it is not
        valid (nothing changes either way: :meth:`add` records it)."""
        try:
            kind = FaultKind(request.kind)
        except ValueError:
            raise ValueError(f"unknown fault kind {request.kind!r} (kinds: {', '.join(k.value for k in FaultKind)})") from None
        spec = CATALOGUE[kind]
        sat = gpu = peer = station = -1
        given = {name for name in ("satellite", "gpu", "peer", "station") if getattr(request, name) is not None}
        needed = {Target.GPU: {"satellite", "gpu"}, Target.SATELLITE: {"satellite"}, Target.LINK: {"satellite", "peer"},
                  Target.STATION: {"station"}, Target.FLEET: set()}[spec.target]
        if given != needed:
            what = " and ".join(sorted(needed)) if needed else "no target (it hits the whole fleet)"
            raise ValueError(f"{spec.title} needs {what}; got {', '.join(sorted(given)) or 'none'}")
        if "satellite" in needed:
            sat = self._satellite(request.satellite)
        label = self.satellite_ids[sat] if sat >= 0 else ""
        if spec.target == Target.GPU:
            gpu = request.gpu
            count = int(self._present[sat].sum())
            if isinstance(gpu, bool) or not isinstance(gpu, (int, np.integer)) or not 0 <= gpu < self._present.shape[1] \
                    or not self._present[sat, gpu]:
                raise ValueError(f"{label} has no GPU {gpu!r} (it has {count}: 0-{count - 1})")
            gpu = int(gpu)
            label = f"{label} GPU {gpu}"
        elif spec.target == Target.LINK:
            peer = self._satellite(request.peer)
            if peer == sat or not self._link_exists(sat, peer):
                raise ValueError(f"there is no laser link between {label} and {self.satellite_ids[peer]}")
            label = f"ISL {label} ↔ {self.satellite_ids[peer]}"
        elif spec.target == Target.STATION:
            if request.station not in self._station_index:
                raise ValueError(f"no ground station {request.station!r} (stations: {', '.join(self.station_ids)})")
            station = self._station_index[request.station]
            label = f"station {request.station}"
        elif spec.target == Target.FLEET:
            label = "fleet"
        params = self._params(spec, request.params)
        end_s = self._end(spec, request, float(time_s))
        return Fault(f"F-{self._serial + 1:04d}", kind, label, sat, gpu, peer, station, params, float(time_s), end_s, source)

    def _satellite(self, name: str | None) -> int:
        if name not in self._index:
            raise ValueError(f"no satellite {name!r}")
        return self._index[name]

    @staticmethod
    def _params(spec, given: Mapping[str, float | str]) -> tuple[tuple[str, float | str], ...]:
        names = {p.name for p in spec.parameters}
        unknown = sorted(set(given) - names)
        if unknown:
            known = ", ".join(sorted(names)) or "none"
            raise ValueError(f"{spec.title} has no parameter {unknown[0]!r} (parameters: {known})")
        return tuple((p.name, p.check(given.get(p.name, p.default))) for p in spec.parameters)

    @staticmethod
    def _end(spec, request: FaultRequest, time_s: float) -> float | None:
        if request.permanent:
            if not spec.may_be_permanent:
                raise ValueError(f"{spec.title} cannot be permanent (give a duration)")
            if request.duration_s is not None:
                raise ValueError("give a duration or permanent, not both")
            return None
        duration = request.duration_s if request.duration_s is not None else spec.default_duration_s
        if duration is None:
            return None
        low, high = spec.duration_range_s
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not math.isfinite(duration) \
                or not low <= duration <= high:
            raise ValueError(f"{spec.title} duration must be between {low:g} s and {high:g} s, got {duration!r}")
        return time_s + float(duration)

    # ------------------------------------------------------------------------------------ bookkeeping

    def add(self, fault: Fault) -> None:
        """Record a resolved fault as active (its id must be the next one)."""
        expected = f"F-{self._serial + 1:04d}"
        if fault.id != expected:
            raise ValueError(f"fault {fault.id} is stale: resolve it again (next id {expected})")
        self._serial += 1
        self.active[fault.id] = fault
        self.injected.append(fault)
        self.version += 1

    def end(self, fault_id: str, time_s: float, how: str) -> FaultEnd:
        if fault_id not in self.active:
            known = ", ".join(self.active) or "none"
            raise ValueError(f"no active fault {fault_id!r} (active: {known})")
        fault = self.active.pop(fault_id)
        end = FaultEnd(fault, float(time_s), how)
        self.ended.append(end)
        self.version += 1
        return end

    def due(self, time_s: float) -> list[Fault]:
        """Active faults that end by themselves by ``time_s``, in time order."""
        due = [f for f in self.active.values() if f.end_s is not None and f.end_s <= time_s]
        return sorted(due, key=lambda f: (f.end_s, f.id))

    def repairable(self, sat: int, part: Part) -> list[Fault]:
        """Active faults on satellite ``sat`` that swapping ``part`` repairs."""
        return [f for f in self.active.values() if f.satellite == sat and f.repair == part]

    # -------------------------------------------------------------------------------------- condition

    @property
    def condition(self) -> Condition:
        """The fleet's condition under the active faults (recomputed only when they change)."""
        if self._condition_version != self.version:
            self._condition = self._compute(len(self.satellite_ids))
            self._condition_version = self.version
        return self._condition

    def _compute(self, n: int) -> Condition:
        c = Condition.nominal(n)
        for fault in self.active.values():
            s, kind = fault.satellite, fault.kind
            if kind in (FaultKind.ARRAY_STRING_LOSS, FaultKind.ARRAY_DEGRADATION):
                c.array_factor[s] *= 1.0 - float(fault.param("fraction"))
            elif kind == FaultKind.BATTERY_CELL_LOSS:
                c.battery_factor[s] *= 1.0 - float(fault.param("fraction"))
            elif kind == FaultKind.RADIATOR_DAMAGE:
                c.radiator_factor[s] *= 1.0 - float(fault.param("fraction"))
            elif kind == FaultKind.PUMP_FAILURE:
                c.pump_factor[s] = min(c.pump_factor[s], float(fault.param("flow_remaining")))
            elif kind == FaultKind.MICROMETEOROID:
                lost = 1.0 - float(fault.param("fraction"))
                component = fault.param("component")
                target = {"radiator": c.radiator_factor, "array": c.array_factor, "coolant_loop": c.pump_factor}[component]
                target[s] *= lost
            elif kind == FaultKind.ATTITUDE_FAULT:
                tumbling = fault.param("mode") == "tumbling"
                cosine = TUMBLING_SUN_COSINE if tumbling else float(fault.param("sun_cosine"))
                c.sun_factor[s] = min(c.sun_factor[s], cosine)
                c.tumbling[s] |= tumbling
            elif kind == FaultKind.FLIGHT_COMPUTER_REBOOT:
                c.rebooting[s] = True
            elif kind == FaultKind.ECC_STORM:
                c.upset_multiplier[s] *= float(fault.param("multiplier"))
        for array in (c.array_factor, c.sun_factor, c.battery_factor, c.radiator_factor, c.pump_factor,
                      c.upset_multiplier, c.rebooting, c.tumbling):
            array.setflags(write=False)
        return c
