"""Stochastic faults from the mission (``[[fault]]``: Poisson counts from the run seed), handed to the
simulation as the same :class:`engine.faults.FaultRequest` the operator's command and the timeline's
``fault`` action carry (the timeline is ``engine.timeline``).

Faults are drawn for the step about to run (one Poisson count per rate per step, targets uniform over the
eligible ones), so a run's draws depend only on its seed and step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.constants import SECONDS_PER_YEAR
from engine.fault_catalogue import CATALOGUE, FaultKind, Target
from engine.faults import FaultRequest

__all__ = ["RandomFaults"]


class RandomFaults:
    """Stochastic faults at the mission's ``[[fault]]`` rates (``engine.mission.models.FaultRate``).

    ``satellite_ids``/``station_ids`` name the targets; ``gpu_present`` (N, G); ``shell_of`` (N,) each
    satellite's shell name (None for explicit satellites); ``links()`` the current laser links as (a, b).
    """

    def __init__(self, rates: Sequence, satellite_ids: Sequence[str], station_ids: Sequence[str],
                 gpu_present: np.ndarray, shell_of: Sequence[str | None], rng: np.random.Generator):
        self.rates = tuple(rates)
        self._ids = tuple(satellite_ids)
        self._stations = tuple(station_ids)
        self._present = np.asarray(gpu_present, dtype=bool)
        self._rng = rng
        self._eligible: list[np.ndarray] = []
        for rate in self.rates:
            mask = np.ones(len(self._ids), dtype=bool)
            if rate.shells:
                mask = np.array([shell in rate.shells for shell in shell_of], dtype=bool)
            self._eligible.append(np.flatnonzero(mask))
        self.drawn = 0
        self.skipped = 0
        """Draws that could not act (the GPU had already failed, say) and were dropped."""

    def draw(self, dt_s: float, links: tuple[np.ndarray, np.ndarray]) -> list[FaultRequest]:
        """The faults that strike in the next ``dt_s`` seconds."""
        requests = []
        for rate, sats in zip(self.rates, self._eligible):
            target = CATALOGUE[FaultKind(rate.kind)].target
            if target == Target.GPU:
                flat = np.flatnonzero(self._present[sats].reshape(-1))
                units = flat.size
            elif target == Target.SATELLITE:
                units = sats.size
            elif target == Target.LINK:
                a, b = links
                within = np.isin(a, sats) if rate.shells else np.ones(len(a), dtype=bool)
                link_rows = np.flatnonzero(within)
                units = link_rows.size
            elif target == Target.STATION:
                units = len(self._stations)
            else:
                units = 1
            count = int(self._rng.poisson(rate.rate_per_year / SECONDS_PER_YEAR * units * dt_s)) if units else 0
            if not count:
                continue
            picks = self._rng.integers(units, size=count)
            for pick in picks.tolist():
                requests.append(self._request(rate, target, sats, pick, flat if target == Target.GPU else None,
                                              (links, link_rows) if target == Target.LINK else None))
        self.drawn += len(requests)
        return requests

    def _request(self, rate, target: Target, sats: np.ndarray, pick: int, flat, link_pick) -> FaultRequest:
        base = dict(kind=rate.kind, params=dict(rate.params), duration_s=rate.duration, permanent=rate.permanent)
        if target == Target.GPU:
            g = self._present.shape[1]
            sat, gpu = divmod(int(flat[pick]), g)
            return FaultRequest(satellite=self._ids[int(sats[sat])], gpu=gpu, **base)
        if target == Target.SATELLITE:
            return FaultRequest(satellite=self._ids[int(sats[pick])], **base)
        if target == Target.LINK:
            (a, b), rows = link_pick
            row = int(rows[pick])
            return FaultRequest(satellite=self._ids[int(a[row])], peer=self._ids[int(b[row])], **base)
        if target == Target.STATION:
            return FaultRequest(station=self._stations[pick], **base)
        return FaultRequest(**base)
