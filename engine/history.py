"""Recent telemetry history: a fixed-size ring of fleet-wide samples taken at a fixed mission-time cadence.

The console's sparklines read it; it is sampled inside the engine, so the history has the same spacing
whether the operator watched at 1x or ran at 10,000x. Each sample copies a handful of (N,) arrays into
float32 rows: about 4 bytes x channels x capacity per satellite (7 x 180 -> 5 KB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHANNELS: tuple[str, ...] = (
    "battery_soc",
    "battery_net_w",
    "solar_power_w",
    "load_power_w",
    "radiator_temp_c",
    "loop_temp_c",
    "hottest_gpu_c",
    "best_elevation_deg",
)
"""Recorded quantities, named like the snapshot fields they come from (hottest_gpu_c: the hottest GPU junction)."""


@dataclass(frozen=True, eq=False)
class SatelliteHistory:
    """One satellite's samples, oldest first: ``time_s`` and one read-only array per channel."""

    satellite_id: str
    interval_s: float
    time_s: np.ndarray
    values: dict[str, np.ndarray]

    def __getitem__(self, channel: str) -> np.ndarray:
        return self.values[channel]


class TelemetryHistory:
    """Fleet-wide ring buffer: ``capacity`` samples every ``interval_s`` of mission time."""

    def __init__(self, satellite_count: int, interval_s: float = 60.0, capacity: int = 180):
        if not interval_s > 0 or capacity < 2:
            raise ValueError("history needs a positive interval and room for two samples")
        self.interval_s = float(interval_s)
        self.capacity = int(capacity)
        self._times = np.full(self.capacity, np.nan)
        self._data = np.full((len(CHANNELS), self.capacity, satellite_count), np.nan, dtype=np.float32)
        self._count = 0
        self._next_sample_s = 0.0

    @property
    def sample_count(self) -> int:
        return min(self._count, self.capacity)

    @property
    def recorded(self) -> int:
        """Samples recorded since the start (keeps counting when the ring wraps): a version number for
        caches of ``satellite`` results."""
        return self._count

    def due(self, time_s: float) -> bool:
        """Is a sample owed at `time_s` (the first step at or after each multiple of the interval)?"""
        return time_s >= self._next_sample_s - 1e-9

    def record(self, time_s: float, values: dict[str, np.ndarray]) -> None:
        """Store one sample of every channel (each (N,)); the oldest sample is overwritten when full."""
        slot = self._count % self.capacity
        self._times[slot] = time_s
        for row, channel in enumerate(CHANNELS):
            self._data[row, slot] = values[channel]
        self._count += 1
        self._next_sample_s = (np.floor(time_s / self.interval_s + 1e-9) + 1.0) * self.interval_s

    def _order(self) -> np.ndarray:
        count = self.sample_count
        start = self._count % self.capacity if self._count > self.capacity else 0
        return (start + np.arange(count)) % self.capacity

    def satellite(self, index: int, satellite_id: str) -> SatelliteHistory:
        """The samples of one satellite, oldest first."""
        order = self._order()
        times = self._times[order].copy()
        times.setflags(write=False)
        values = {}
        for row, channel in enumerate(CHANNELS):
            column = self._data[row, order, index].astype(float)
            column.setflags(write=False)
            values[channel] = column
        return SatelliteHistory(satellite_id, self.interval_s, times, values)
