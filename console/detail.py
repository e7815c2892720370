"""What the satellite detail panes show: one satellite's snapshot row plus forecasts, gathered by the app."""

from __future__ import annotations

from dataclasses import dataclass

from engine import FleetSnapshot, Pass
from engine.history import SatelliteHistory
from engine.jobs import JobView
from engine.tracks import SunlightForecast


@dataclass(frozen=True, eq=False)
class SatelliteView:
    """The selected satellite at one snapshot: ``index`` is its row in ``snapshot``."""

    snapshot: FleetSnapshot
    index: int
    history: SatelliteHistory
    sunlight: SunlightForecast | None
    passes: tuple[Pass, ...]
    """Passes from the last prediction, including one in progress (aos_s None or in the past)."""
    jobs: tuple[JobView, ...] = ()
    """Jobs running, checkpointing or suspended on this satellite (empty when the mission runs no jobs)."""

    @property
    def satellite_id(self) -> str:
        return self.snapshot.satellite_ids[self.index]

    @property
    def time_s(self) -> float:
        return self.snapshot.time_s
