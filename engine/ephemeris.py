"""Time scales and the Sun, from skyfield with its bundled data only (never a download).

The timescale is skyfield's builtin one (leap seconds and UT1-UTC tables shipped inside skyfield) and the
Sun comes from the JPL DE421 kernel shipped in the ``skyfield-data`` package. Sun positions are computed
for many future step times in one vectorised call and served from that table, so the cost per step is an
array lookup while every value is still an exact DE421 evaluation at that step's time.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import numpy as np

from engine.frames import gmst82_rad

_SUN_BATCH_STEPS = 2048

SUN_NODE_SPACING_S = 600.0
"""Spacing of the exact DE421 nodes behind ``SunEphemeris.interpolated``. The Sun moves 0.007° in 10 min;
a straight chord between nodes departs from the true path by at most R·θ²/8 ≈ 270 m at 1 AU, a
direction error of 2e-9 rad (an eclipse boundary moves by microseconds)."""

_SUN_NODES_PER_CHUNK = 144  # one day of nodes per cached chunk
_SUN_CHUNKS_KEPT = 8


@lru_cache(maxsize=1)
def _skyfield():
    """Load the builtin timescale and DE421 once per process (about 20 ms)."""
    from skyfield.api import Loader
    from skyfield_data import get_skyfield_data_path

    with warnings.catch_warnings():
        # skyfield-data warns that its IERS finals file is old; we never use it (builtin timescale).
        warnings.simplefilter("ignore", RuntimeWarning)
        data_path = get_skyfield_data_path()
    loader = Loader(data_path, verbose=False)
    timescale = loader.timescale(builtin=True)
    planets = loader("de421.bsp")
    return timescale, planets


def timescale():
    """skyfield's builtin Timescale (no network)."""
    return _skyfield()[0]


def planets():
    """The DE421 ephemeris from skyfield-data (no network)."""
    return _skyfield()[1]


class MissionClock:
    """Converts seconds since the mission epoch into the time forms the models need."""

    def __init__(self, epoch: datetime):
        if epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware (UTC)")
        self.epoch = epoch.astimezone(timezone.utc)
        ts = timescale()
        t0 = ts.from_datetime(self.epoch)
        midnight = datetime(self.epoch.year, self.epoch.month, self.epoch.day, tzinfo=timezone.utc)
        self._epoch_fraction_s = (self.epoch - midnight).total_seconds()
        # Julian date of the epoch's UTC midnight, from the calendar date (exact).
        self._jd_midnight = _julian_date_midnight(self.epoch.year, self.epoch.month, self.epoch.day)
        self.dut1_s = float(t0.dut1)

    def utc(self, time_s: float) -> datetime:
        """UTC datetime of a mission time."""
        return self.epoch + timedelta(seconds=float(time_s))

    def jd_utc(self, time_s: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """UTC Julian date split into (whole, fraction) as SGP4 wants it, for scalar or array times."""
        seconds_of_day = self._epoch_fraction_s + np.asarray(time_s, dtype=float)
        days = np.floor(seconds_of_day / 86400.0)
        whole = self._jd_midnight + days
        fraction = (seconds_of_day - days * 86400.0) / 86400.0
        return whole, fraction

    def gmst_rad(self, time_s: float | np.ndarray) -> np.ndarray:
        """Greenwich mean sidereal time at a mission time (UT1 = UTC + DUT1 at the epoch)."""
        whole, fraction = self.jd_utc(np.asarray(time_s, dtype=float) + self.dut1_s)
        return gmst82_rad(whole, fraction)

    def skyfield_times(self, time_s: np.ndarray):
        """A skyfield Time array for mission times (built per batch of steps, never per satellite)."""
        seconds = self._epoch_fraction_s + np.asarray(time_s, dtype=float)
        return timescale().utc(self.epoch.year, self.epoch.month, self.epoch.day, 0, 0, seconds)


def _julian_date_midnight(year: int, month: int, day: int) -> float:
    """Julian date of 0h UTC on a Gregorian calendar date (Fliegel & Van Flandern)."""
    a = (14 - month) // 12
    y = year + 4800 - a
    m = month + 12 * a - 3
    jdn = day + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045
    return jdn - 0.5


class SunEphemeris:
    """Geocentric Sun positions in TEME (km), exact DE421 values served from a per-step table."""

    def __init__(self, clock: MissionClock, step_s: float):
        self.clock = clock
        self.step_s = float(step_s)
        self._table_first_step = 0
        self._table = np.empty((0, 3))
        self._chunks: dict[int, np.ndarray] = {}

    def interpolated(self, time_s: np.ndarray) -> np.ndarray:
        """(T, 3) Sun positions (TEME, km) linearly interpolated between exact DE421 nodes every
        ``SUN_NODE_SPACING_S``; the nodes are computed a day at a time and kept, so forecasts that need
        the Sun at hundreds of times cost array arithmetic instead of a nutation series per call."""
        times = np.atleast_1d(np.asarray(time_s, dtype=float))
        if not np.isfinite(times).all():
            raise ValueError("Sun positions need finite times")
        node = times / SUN_NODE_SPACING_S
        below = np.floor(node).astype(np.int64)
        weight = (node - below)[:, None]
        return (1.0 - weight) * self._nodes(below) + weight * self._nodes(below + 1)

    def _nodes(self, index: np.ndarray) -> np.ndarray:
        """Exact Sun positions at node indices (node k is at k · SUN_NODE_SPACING_S)."""
        chunk = np.floor_divide(index, _SUN_NODES_PER_CHUNK)
        result = np.empty((len(index), 3))
        for number in np.unique(chunk).tolist():
            table = self._chunks.get(number)
            if table is None:
                if len(self._chunks) >= _SUN_CHUNKS_KEPT:
                    self._chunks.pop(next(iter(self._chunks)))
                first = number * _SUN_NODES_PER_CHUNK
                table = self._chunks[number] = self.at_times(SUN_NODE_SPACING_S * np.arange(first, first + _SUN_NODES_PER_CHUNK))
            mask = chunk == number
            result[mask] = table[index[mask] - number * _SUN_NODES_PER_CHUNK]
        return result

    def at_times(self, time_s: np.ndarray) -> np.ndarray:
        """(T, 3) geometric Sun positions relative to the Earth's centre in TEME, km."""
        from skyfield.sgp4lib import TEME

        eph = planets()
        times = self.clock.skyfield_times(np.atleast_1d(np.asarray(time_s, dtype=float)))
        sun_gcrs_km = (eph["sun"] - eph["earth"]).at(times).xyz.km  # (3, T)
        rotation = TEME.rotation_at(times)  # (3, 3, T)
        sun_teme = np.einsum("ijt,jt->ti", rotation, sun_gcrs_km)
        return sun_teme

    def at(self, time_s: float) -> np.ndarray:
        """(3,) Sun position at one mission time; grid times come from the precomputed table."""
        step_index = time_s / self.step_s
        k = int(round(step_index))
        if abs(step_index - k) > 1e-9 or k < 0:
            return self.at_times(np.array([time_s]))[0]
        offset = k - self._table_first_step
        if not 0 <= offset < len(self._table):
            self._table_first_step = k
            self._table = self.at_times(self.step_s * np.arange(k, k + _SUN_BATCH_STEPS))
            offset = 0
        return self._table[offset]
