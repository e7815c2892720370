"""Laser inter-satellite links: one state machine per terminal pair, stepped for all links at once.

States (network-and-jobs.md §3.2)::

    DOWN --closable--> ACQUIRING --acquisition time elapsed--> UP <--rate--> DEGRADED
      ^                    |                                    |               |
      +---- not closable --+------------------------------------+---------------+
    UP/DEGRADED --random loss of lock--> ACQUIRING (re-acquires)
    FAILED   (terminal hardware; leaves only by repair)
    DISABLED (operator; leaves only by enable)

"Closable" is the geometry at the step's end (range, line of sight above 80 km, the cross-plane latitude
cut-off) and both ends able to power a terminal. A new or lost-lock link spends a lognormal
pointing/acquisition/tracking time in ACQUIRING; it comes UP at the exact end of that time (events carry
it). An UP link's rate is the terminals' rate up to a reference range and falls with the square of the
range beyond it (received power, physics.md §3.10); below a share of the full rate it is DEGRADED.

For dynamic topologies (nearest neighbours, formations) the table of links changes between steps:
``merge`` keeps every link that is acquiring, up, degraded, failed or disabled, adds the new candidates
and drops links that are down and no longer candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

__all__ = ["IslParams", "LinkState", "LinkTransition", "IslLinks", "link_rate_gbps", "lognormal_sigma"]

Z_95 = 1.6448536269514722
"""Standard normal quantile of 0.95."""


class LinkState(IntEnum):
    DOWN = 0
    ACQUIRING = 1
    UP = 2
    DEGRADED = 3
    FAILED = 4
    DISABLED = 5


_DOWN, _ACQ, _UP, _DEG, _FAILED, _DISABLED = (int(state) for state in LinkState)
_STATES = tuple(LinkState)
"""The states by their code (faster than LinkState(code) for many transitions)."""
CARRYING = (_UP, _DEG)
"""States in which a link carries traffic."""
POWERED = (_ACQ, _UP, _DEG)
"""States in which both terminals draw power."""


@dataclass(frozen=True)
class IslParams:
    """Link behaviour, from the mission's ``[network]`` section."""

    rate_gbps: float = 100.0
    reference_range_km: float = 5000.0
    degraded_below_fraction: float = 0.5
    acquisition_median_s: float = 20.0
    acquisition_p95_s: float = 60.0
    drop_rate_per_day: float = 1.0

    def __post_init__(self) -> None:
        for name in ("rate_gbps", "reference_range_km", "acquisition_median_s", "acquisition_p95_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not 0 < self.degraded_below_fraction < 1:
            raise ValueError(f"degraded_below_fraction must be between 0 and 1, got {self.degraded_below_fraction!r}")
        if self.acquisition_p95_s < self.acquisition_median_s:
            raise ValueError("acquisition_p95_s must not be below acquisition_median_s")
        if not (math.isfinite(self.drop_rate_per_day) and self.drop_rate_per_day >= 0):
            raise ValueError(f"drop_rate_per_day must be >= 0, got {self.drop_rate_per_day!r}")


@dataclass(frozen=True)
class LinkTransition:
    """One link changed state at ``time_s`` (satellite indices ``a`` < ``b``)."""

    a: int
    b: int
    before: LinkState
    after: LinkState
    time_s: float
    cause: str


def lognormal_sigma(median_s: float, p95_s: float) -> float:
    """Log-space spread of a lognormal with this median and 95th percentile."""
    return math.log(p95_s / median_s) / Z_95


def link_rate_gbps(distance_km: np.ndarray, params: IslParams) -> np.ndarray:
    """Rate an UP link sustains at this range: full up to the reference range, then ∝ 1/d²."""
    distance = np.maximum(np.asarray(distance_km, dtype=float), 1e-9)
    return params.rate_gbps * np.minimum(1.0, (params.reference_range_km / distance) ** 2)


class IslLinks:
    """Every link's state, keyed by its pair of satellite indices (``key = a * N + b``, sorted)."""

    def __init__(self, satellite_count: int, a: np.ndarray, b: np.ndarray, params: IslParams, rng: np.random.Generator,
                 cross_plane: np.ndarray | None = None):
        self.n = int(satellite_count)
        self.params = params
        self.rng = rng
        self._sigma = lognormal_sigma(params.acquisition_median_s, params.acquisition_p95_s)
        self._drop_rate_per_s = params.drop_rate_per_day / 86400.0
        self.a = np.empty(0, dtype=np.int64)
        self.b = np.empty(0, dtype=np.int64)
        self.state = np.empty(0, dtype=np.int8)
        self.acquired_at_s = np.empty(0)
        """When an ACQUIRING link's acquisition completes (inf otherwise)."""
        self.distance_km = np.empty(0)
        self.rate_gbps = np.empty(0)
        self.cross_plane = np.empty(0, dtype=bool)
        """(P,) links between two orbital planes (they switch off above the latitude cut-off)."""
        self._degree_of: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        """(a, b, links at each satellite) of the table (powered_terminals, carrying_per_satellite)."""
        self.merge(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), cross_plane)
        self.version = 0
        """Increases whenever the set of links carrying traffic changes (routing recomputes then)."""

    # ------------------------------------------------------------------------------------------ table

    @property
    def count(self) -> int:
        return len(self.state)

    @property
    def keys(self) -> np.ndarray:
        return self.a * self.n + self.b

    def merge(self, a: np.ndarray, b: np.ndarray, cross_plane: np.ndarray | None = None) -> None:
        """Make the table the union of this step's candidates and every link that is not DOWN; new links
        start DOWN. Candidates must have a < b; `cross_plane` marks candidates between planes (default
        all True)."""
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        cross = np.ones(len(a), dtype=bool) if cross_plane is None else np.asarray(cross_plane, dtype=bool)
        if len(a) and (np.any(a >= b) or np.any(a < 0) or np.any(b >= self.n)):
            raise ValueError("candidate links need 0 <= a < b < satellite count")
        keep = self.state != _DOWN
        old_keys = self.keys
        new_keys, first = np.unique(a * self.n + b, return_index=True)
        new_cross = cross[first]
        keys = np.union1d(old_keys[keep], new_keys)
        if len(keys) == len(old_keys) and np.array_equal(keys, old_keys):
            return
        position = np.searchsorted(old_keys, keys)
        position = np.minimum(position, max(len(old_keys) - 1, 0))
        known = (len(old_keys) > 0) & (old_keys[position] == keys) if len(old_keys) else np.zeros(len(keys), dtype=bool)
        state = np.zeros(len(keys), dtype=np.int8)
        acquired = np.full(len(keys), np.inf)
        distance = np.full(len(keys), np.nan)
        rate = np.zeros(len(keys))
        cross_out = np.ones(len(keys), dtype=bool)
        fresh = np.searchsorted(new_keys, keys)
        fresh = np.minimum(fresh, max(len(new_keys) - 1, 0))
        is_new = (new_keys[fresh] == keys) if len(new_keys) else np.zeros(len(keys), dtype=bool)
        cross_out[is_new] = new_cross[fresh[is_new]]
        if known.any():
            cross_out[known] = self.cross_plane[position[known]]
            state[known] = self.state[position[known]]
            acquired[known] = self.acquired_at_s[position[known]]
            distance[known] = self.distance_km[position[known]]
            rate[known] = self.rate_gbps[position[known]]
        self.a, self.b = keys // self.n, keys % self.n
        self.state, self.acquired_at_s, self.distance_km, self.rate_gbps = state, acquired, distance, rate
        self.cross_plane = cross_out

    def index_of(self, a: int, b: int) -> int | None:
        """The table row of the link between satellites `a` and `b` (either order), or None."""
        low, high = min(a, b), max(a, b)
        key = low * self.n + high
        keys = self.keys
        row = int(np.searchsorted(keys, key))
        return row if row < len(keys) and keys[row] == key else None

    # ------------------------------------------------------------------------------------------- step

    def step(self, t0_s: float, t1_s: float, closable: np.ndarray, distance_km: np.ndarray) -> list[LinkTransition]:
        """Advance every link over [t0_s, t1_s]; `closable` and `distance_km` (one per table row) are the
        geometry at t1_s. Returns the transitions in time order."""
        dt = t1_s - t0_s
        if not dt > 0:
            raise ValueError("a step must move time forward")
        closable = np.asarray(closable, dtype=bool)
        if closable.shape != self.state.shape:
            raise ValueError(f"closable has shape {closable.shape}, the table {self.state.shape}")
        self.distance_km = np.asarray(distance_km, dtype=float).copy()
        self.rate_gbps, degraded_rate = self._rates(self.distance_km)
        state = self.state
        before = state.copy()
        times = np.full(len(state), t1_s)
        causes = np.zeros(len(state), dtype=np.int8)

        carrying = (state == _UP) | (state == _DEG)
        # Random loss of lock while carrying: exact thinning p = 1 - exp(-λ dt), at a uniform time in the step.
        dropped = np.zeros(len(state), dtype=bool)
        if self._drop_rate_per_s > 0 and carrying.any():
            rows = np.flatnonzero(carrying & closable)
            draws = self.rng.random(len(rows))
            hit = rows[draws < -math.expm1(-self._drop_rate_per_s * dt)]
            if len(hit):
                dropped[hit] = True
                drop_times = t0_s + dt * self.rng.random(len(hit))
                times[hit] = drop_times
                state[hit] = _ACQ
                self.acquired_at_s[hit] = drop_times + self._acquisition_s(len(hit))
                causes[hit] = _CAUSE_LOST_LOCK

        lost = (carrying | (state == _ACQ)) & ~closable
        state[lost] = _DOWN
        self.acquired_at_s[lost] = np.inf
        causes[lost] = _CAUSE_GEOMETRY

        starting = (before == _DOWN) & closable
        if starting.any():
            rows = np.flatnonzero(starting)
            state[rows] = _ACQ
            self.acquired_at_s[rows] = t1_s + self._acquisition_s(len(rows))
            causes[rows] = _CAUSE_ACQUIRING

        done = (state == _ACQ) & (self.acquired_at_s <= t1_s) & closable & ~dropped
        if done.any():
            times[done] = self.acquired_at_s[done]
            state[done] = np.where(degraded_rate[done], _DEG, _UP)
            self.acquired_at_s[done] = np.inf
            causes[done] = _CAUSE_ACQUIRED

        up_now = (state == _UP) & (before == _UP) & degraded_rate
        down_rate = (state == _DEG) & (before == _DEG) & ~degraded_rate
        state[up_now] = _DEG
        state[down_rate] = _UP
        causes[up_now | down_rate] = _CAUSE_RATE

        changed = np.flatnonzero((state != before) | dropped)
        was_carrying = (before == _UP) | (before == _DEG)
        if np.any(was_carrying != ((state == _UP) | (state == _DEG))):
            self.version += 1
        rows = changed[np.argsort(times[changed], kind="stable")]
        states = _STATES
        return [LinkTransition(a, b, states[was], states[now], time, _CAUSES[cause]) for a, b, was, now, time, cause
                in zip(self.a[rows].tolist(), self.b[rows].tolist(), before[rows].tolist(), state[rows].tolist(),
                       times[rows].tolist(), causes[rows].tolist())]

    def settle(self, closable: np.ndarray, distance_km: np.ndarray) -> None:
        """Start of a run: the constellation has been flying, so every closable DOWN link is already UP (or
        DEGRADED by its range), without events."""
        closable = np.asarray(closable, dtype=bool)
        self.distance_km = np.asarray(distance_km, dtype=float).copy()
        self.rate_gbps = link_rate_gbps(self.distance_km, self.params)
        degraded = self.rate_gbps < self.params.degraded_below_fraction * self.params.rate_gbps
        rows = (self.state == _DOWN) & closable
        self.state[rows] = np.where(degraded[rows], _DEG, _UP)
        self.version += 1

    def _rates(self, distance_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``link_rate_gbps`` of every link, and which rates are below the DEGRADED share. A link within the
        reference range runs at the full rate exactly (reference / d >= 1 there), so only the links beyond
        it (and any NaN) go through the formula."""
        params = self.params
        rate = np.full(len(distance_km), params.rate_gbps)
        degraded = np.zeros(len(distance_km), dtype=bool)
        far = np.flatnonzero(~(distance_km <= params.reference_range_km))
        if len(far):
            rate[far] = link_rate_gbps(distance_km[far], params)
            degraded[far] = rate[far] < params.degraded_below_fraction * params.rate_gbps
        return rate, degraded

    def _acquisition_s(self, count: int) -> np.ndarray:
        return self.params.acquisition_median_s * np.exp(self._sigma * self.rng.standard_normal(count))

    # --------------------------------------------------------------------------------------- commands

    def disable(self, row: int, time_s: float) -> LinkTransition:
        """Operator: take a link out of service (from any state but DISABLED)."""
        self.check_disable(row)
        return self._set(row, LinkState.DISABLED, time_s, "disabled by the operator")

    def check_disable(self, row: int) -> None:
        """Raise ValueError (with the reason) if the link cannot be disabled now; change nothing."""
        if self._check_row(row) == LinkState.DISABLED:
            raise ValueError(f"link {self._name(row)} is already disabled")

    def enable(self, row: int, time_s: float) -> LinkTransition:
        """Operator: return a disabled link to service (DOWN; it acquires when it can close)."""
        self.check_enable(row)
        return self._set(row, LinkState.DOWN, time_s, "enabled by the operator")

    def check_enable(self, row: int) -> None:
        """Raise ValueError (with the reason) if the link is not disabled; change nothing."""
        before = self._check_row(row)
        if before != LinkState.DISABLED:
            raise ValueError(f"link {self._name(row)} is not disabled (it is {before.name})")

    def fail(self, row: int, time_s: float, cause: str) -> LinkTransition:
        """Fault: a terminal of the link fails (only a repair brings it back)."""
        before = self._check_row(row)
        if before == LinkState.FAILED:
            raise ValueError(f"link {self._name(row)} has already FAILED")
        return self._set(row, LinkState.FAILED, time_s, cause)

    def repair(self, row: int, time_s: float) -> LinkTransition:
        before = self._check_row(row)
        if before != LinkState.FAILED:
            raise ValueError(f"link {self._name(row)} has not failed (it is {before.name})")
        return self._set(row, LinkState.DOWN, time_s, "terminal repaired")

    def _check_row(self, row: int) -> LinkState:
        if not 0 <= row < len(self.state):
            raise ValueError(f"no link {row}")
        return LinkState(int(self.state[row]))

    def _set(self, row: int, after: LinkState, time_s: float, cause: str) -> LinkTransition:
        before = LinkState(int(self.state[row]))
        self.state[row] = after
        self.acquired_at_s[row] = np.inf
        self.version += 1
        return LinkTransition(int(self.a[row]), int(self.b[row]), before, after, float(time_s), cause)

    def _name(self, row: int) -> str:
        return f"{int(self.a[row])}-{int(self.b[row])}"

    # ------------------------------------------------------------------------------------------ views

    def carrying(self) -> np.ndarray:
        """(P,) bool: links that carry traffic now (UP or DEGRADED)."""
        return (self.state == _UP) | (self.state == _DEG)

    def powered_terminals(self) -> np.ndarray:
        """(N,) active terminals per satellite (links acquiring, up or degraded use one at each end)."""
        state = self.state
        return self._ends_per_satellite((state >= _ACQ) & (state <= _DEG))

    def carrying_per_satellite(self) -> np.ndarray:
        """(N,) links UP or DEGRADED at each satellite."""
        return self._ends_per_satellite(self.carrying())

    def _ends_per_satellite(self, rows: np.ndarray) -> np.ndarray:
        """(N,) int64: ends of the table rows in `rows` (P,) bool at each satellite. Most links are usually
        in the set, so this counts all of a satellite's links once per table and subtracts the others."""
        if self._degree_of is None or self._degree_of[0] is not self.a or self._degree_of[1] is not self.b:
            degree = np.bincount(self.a, minlength=self.n) + np.bincount(self.b, minlength=self.n)
            self._degree_of = (self.a, self.b, degree)
        outside = np.flatnonzero(~rows)
        if 2 * len(outside) > len(rows):
            inside = np.flatnonzero(rows)
            return np.bincount(self.a.take(inside), minlength=self.n) + np.bincount(self.b.take(inside), minlength=self.n)
        return (self._degree_of[2] - np.bincount(self.a.take(outside), minlength=self.n)
                - np.bincount(self.b.take(outside), minlength=self.n))


_CAUSE_NONE, _CAUSE_ACQUIRING, _CAUSE_ACQUIRED, _CAUSE_GEOMETRY, _CAUSE_LOST_LOCK, _CAUSE_RATE = range(6)
_CAUSES = ("", "in view: acquiring", "acquired", "no line of sight, out of range or past the latitude cut-off",
           "lost lock", "rate changed with range")
