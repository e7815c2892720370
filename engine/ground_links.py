"""Ground links: which satellite each station antenna tracks, with a handover policy and hysteresis.

Every step each station (a loop over the few stations, vectorised over satellites) keeps the satellites it
tracks while they stay above its elevation mask, gives free antennas to the best satellites in view that
have no ground link yet, and hands an antenna over from its worst tracked satellite to a better one only
when the better one wins by the hysteresis margin (no ping-pong between two satellites of similar
elevation). A satellite has one ground terminal, so it talks to at most one station. Policies
(network-and-jobs.md §3.3): ``max_elevation`` ranks satellites by elevation now; ``longest_visibility``
by the time left until they set, predicted once per pass when they come into view.

A station in an outage drops its links and takes none. An antenna that switches from one satellite to
another within a step counts as a handover.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["GroundLinkChange", "GroundLinks"]

LosPredictor = Callable[[np.ndarray, int, float], np.ndarray]
"""(satellite indices, station index, now) -> predicted loss-of-signal times, s (longest_visibility)."""


@dataclass(frozen=True)
class GroundLinkChange:
    """A satellite's ground link started (``station`` >= 0, ``previous`` -1), ended (``station`` -1) or
    moved between stations; ``handover`` marks an antenna that went straight on to another satellite."""

    satellite: int
    station: int
    previous: int
    time_s: float
    cause: str


class GroundLinks:
    """Antenna assignment for M stations over N satellites."""

    def __init__(
        self,
        satellite_count: int,
        antennas: np.ndarray,
        sin_min_elevation: np.ndarray,
        policy: str = "max_elevation",
        hysteresis_deg: float = 5.0,
        hysteresis_s: float = 60.0,
        predict_los: LosPredictor | None = None,
    ):
        self.n = int(satellite_count)
        self.antennas = np.asarray(antennas, dtype=np.int64)
        self.m = len(self.antennas)
        self.sin_min = np.asarray(sin_min_elevation, dtype=float)
        self._sin_min_per_pair = np.ascontiguousarray(np.broadcast_to(self.sin_min, (self.n, len(self.sin_min))))
        """The mask per (satellite, station): comparing with a broadcast row is ~5x slower."""
        if policy not in ("max_elevation", "longest_visibility"):
            raise ValueError(f"unknown handover policy {policy!r}")
        if policy == "longest_visibility" and predict_los is None:
            raise ValueError("longest_visibility needs a loss-of-signal predictor")
        self.policy = policy
        self.hysteresis_deg = float(hysteresis_deg)
        self.hysteresis_s = float(hysteresis_s)
        self.predict_los = predict_los
        self.station_of = np.full(self.n, -1, dtype=np.int64)
        """(N,) station each satellite's ground link goes to, -1 for none."""
        self.station_up = np.ones(self.m, dtype=bool)
        self.handovers = 0
        self.version = 0
        """Increases whenever an assignment changes (routing recomputes on a change)."""
        self._los_s = np.full((self.n, self.m), np.nan) if policy == "longest_visibility" else None
        self._was_visible = np.zeros((self.n, self.m), dtype=bool)
        self.blocked = np.zeros((self.n, self.m), dtype=bool)
        """Pairs a forced handover took apart: not linked again until the satellite leaves that station's view."""

    def set_station_up(self, station: int, up: bool) -> None:
        """Start or end a station outage (takes effect at the next step)."""
        if not 0 <= station < self.m:
            raise ValueError(f"no station {station}")
        self.station_up[station] = bool(up)

    def step(self, time_s: float, sin_elevation: np.ndarray) -> list[GroundLinkChange]:
        """Reassign antennas for the geometry at `time_s`; returns the changes."""
        sin_el = np.asarray(sin_elevation, dtype=float)
        in_view = sin_el >= self._sin_min_per_pair
        if self.blocked.any():
            self.blocked &= in_view
            visible = in_view & self.station_up[None, :] & ~self.blocked
        else:  # nothing blocked (the usual case): the same masks without the (N, M) passes
            visible = in_view if self.station_up.all() else in_view & self.station_up[None, :]
        score = None if self.policy == "max_elevation" else self._scores(time_s, sin_el, visible)
        margin = self.hysteresis_deg if self.policy == "max_elevation" else self.hysteresis_s
        # Satellites in view of each station, ascending; the satellites each station tracks (a station only
        # ever changes its own satellites' entries of station_of, so these hold through the loop).
        linked = np.flatnonzero(self.station_of >= 0)
        linked_to = self.station_of[linked]
        changes: list[GroundLinkChange] = []
        # the pairs in view, grouped by station with satellites ascending (one pass over the (N, M) mask)
        in_view_sat, in_view_station = np.divmod(np.flatnonzero(visible), self.m)
        order = np.argsort(in_view_station, kind="stable")
        bounds = np.searchsorted(in_view_station[order], np.arange(self.m + 1))
        for station in range(self.m):
            rows = in_view_sat[order[bounds[station]:bounds[station + 1]]]
            if score is None:  # elevation in degrees, only where it is read (satellites in view)
                column = np.empty(self.n)
                column[rows] = np.degrees(np.arcsin(np.clip(sin_el[rows, station], -1.0, 1.0)))
            else:
                column = score[:, station]
            changes += self._assign(station, time_s, visible, rows, linked[linked_to == station], column, margin)
        self._was_visible = visible
        if changes:
            self.version += 1
        return changes

    def _scores(self, time_s: float, sin_el: np.ndarray, visible: np.ndarray) -> np.ndarray:
        """(N, M) rank of each visible pair: elevation in degrees, or seconds left in view."""
        if self.policy == "max_elevation":
            return np.degrees(np.arcsin(np.clip(sin_el, -1.0, 1.0)))
        los = self._los_s
        assert los is not None and self.predict_los is not None
        new = visible & ~self._was_visible
        los[~visible] = np.nan
        for station in np.flatnonzero(new.any(axis=0)):
            sats = np.flatnonzero(new[:, station])
            los[sats, station] = self.predict_los(sats, int(station), time_s)
        return los - time_s

    def _assign(self, station: int, time_s: float, visible: np.ndarray, in_view: np.ndarray, tracked: np.ndarray,
                score: np.ndarray, margin: float) -> list[GroundLinkChange]:
        """One station: `visible` (N, M), `in_view` its visible satellites (ascending), `tracked` the
        satellites linked to it, `score` (N,) its rank of each satellite (read for visible ones only)."""
        changes = []
        still = visible[tracked, station]
        lost = tracked[~still]
        for sat in lost:
            self.station_of[sat] = -1
            cause = "station outage" if not self.station_up[station] else "set below the mask"
            changes.append(GroundLinkChange(int(sat), -1, station, time_s, cause))
        tracked = tracked[still]
        candidates = in_view[self.station_of[in_view] < 0]
        if len(candidates):
            candidates = candidates[np.lexsort((candidates, -score[candidates]))]  # best first, ties by index
        free = int(self.antennas[station]) - len(tracked)
        taken = candidates[: max(free, 0)]
        rest = candidates[len(taken):]
        released = len(lost)
        for sat in taken:
            self.station_of[sat] = station
            changes.append(GroundLinkChange(int(sat), station, -1, time_s, "acquired"))
        if free <= 0 and len(tracked) and len(rest):
            worst = tracked[np.lexsort((tracked, score[tracked]))[0]]
            best = rest[0]
            if score[best] > score[worst] + margin:
                self.station_of[worst] = -1
                self.station_of[best] = station
                released += 1
                changes.append(GroundLinkChange(int(worst), -1, station, time_s, "handed over to a better satellite"))
                changes.append(GroundLinkChange(int(best), station, -1, time_s, "acquired (handover)"))
                taken = np.append(taken, best)
        self.handovers += min(released, len(taken))
        return changes

    def force_handover(self, satellite: int, time_s: float) -> GroundLinkChange:
        """End `satellite`'s ground link now and keep that station from taking it back during this pass."""
        station = int(self.station_of[satellite])
        if station < 0:
            raise ValueError("it has no ground link to hand over")
        self.station_of[satellite] = -1
        self.blocked[satellite, station] = True
        self.version += 1
        return GroundLinkChange(int(satellite), -1, station, float(time_s), "handover forced by the operator")

    def assigned(self) -> tuple[np.ndarray, np.ndarray]:
        """(satellites, stations) of every ground link now, satellites ascending."""
        sats = np.flatnonzero(self.station_of >= 0)
        return sats, self.station_of[sats]

