"""Looking along one satellite's orbit: its ground track and its next eclipse entries and exits.

These are forecasts for the operator's detail view: one satellite over a few hours, evaluated with SGP4 at
many times in one call (``Satrec.sgp4_array``) and DE421 Sun positions for the same times, so a forecast
costs about a millisecond and never touches the fleet state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sgp4.api import Satrec

from engine.ephemeris import MissionClock, SunEphemeris
from engine.frames import geodetic_from_ecef
from engine.sunlight import SUNLIT_THRESHOLD, illumination_fraction


@dataclass(frozen=True, eq=False)
class GroundTrackPath:
    """Sub-satellite points of one satellite at ``time_s`` (mission seconds); read-only arrays."""

    satellite_id: str
    time_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray


@dataclass(frozen=True)
class SunlightForecast:
    """When one satellite next enters and leaves the Earth's shadow (mission seconds, None beyond the horizon)."""

    satellite_id: str
    from_s: float
    horizon_s: float
    sunlit_now: bool
    next_eclipse_entry_s: float | None
    next_eclipse_exit_s: float | None


def _teme_positions(satrec: Satrec, clock: MissionClock, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    whole, fraction = clock.jd_utc(times_s)
    error, position, _ = satrec.sgp4_array(np.atleast_1d(whole).astype(float), np.atleast_1d(fraction).astype(float))
    return np.asarray(position), np.asarray(error) != 0


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def ground_track(
    satrec: Satrec, satellite_id: str, clock: MissionClock, start_s: float, end_s: float, step_s: float = 30.0
) -> GroundTrackPath:
    """Geodetic sub-satellite points every `step_s` from `start_s` to `end_s` (points SGP4 rejects are dropped)."""
    if not end_s > start_s or not step_s > 0:
        raise ValueError("a ground track needs end after start and a positive step")
    times = np.arange(start_s, end_s + 0.5 * step_s, step_s)
    position, failed = _teme_positions(satrec, clock, times)
    gmst = clock.gmst_rad(times)
    cos_g, sin_g = np.cos(gmst), np.sin(gmst)
    ecef = np.column_stack(
        [cos_g * position[:, 0] + sin_g * position[:, 1], -sin_g * position[:, 0] + cos_g * position[:, 1], position[:, 2]]
    )
    keep = ~failed & np.isfinite(ecef).all(axis=1)
    lat, lon, _ = geodetic_from_ecef(ecef[keep])
    return GroundTrackPath(satellite_id, _read_only(times[keep]), _read_only(lat), _read_only(lon))


def forecast_sunlight(
    satrec: Satrec,
    satellite_id: str,
    clock: MissionClock,
    sun: SunEphemeris,
    from_s: float,
    horizon_s: float = 4 * 3600.0,
    coarse_step_s: float = 30.0,
) -> SunlightForecast:
    """Next shadow entry and exit after `from_s`: a coarse scan of the illuminated fraction, then bisection
    of each crossing of the sunlit threshold to a millisecond."""
    times = from_s + np.arange(0.0, horizon_s + coarse_step_s, coarse_step_s)
    sun_km = sun.interpolated(times)
    sunlit = _sunlit(satrec, clock, times, sun_km)
    changes = np.nonzero(sunlit[1:] != sunlit[:-1])[0]
    entries = changes[sunlit[changes]]
    exits = changes[~sunlit[changes]]
    firsts = np.array([*entries[:1], *exits[:1]], dtype=np.intp)
    crossing_s = {}
    if len(firsts):
        # The Sun moves 0.004° in 30 s: linear interpolation within one interval adds well under a metre.
        low, high = times[firsts].astype(float), times[firsts + 1].astype(float)
        was_sunlit = sunlit[firsts]
        for _ in range(16):  # 30 s / 2^16 < 1 ms
            middle = 0.5 * (low + high)
            weight = ((middle - times[firsts]) / coarse_step_s)[:, None]
            sun_middle = (1.0 - weight) * sun_km[firsts] + weight * sun_km[firsts + 1]
            same = _sunlit(satrec, clock, middle, sun_middle) == was_sunlit
            low, high = np.where(same, middle, low), np.where(same, high, middle)
        crossing_s = {int(index): float(0.5 * (a + b)) for index, a, b in zip(firsts, low, high)}
    entry = crossing_s[int(entries[0])] if len(entries) else None
    exit_ = crossing_s[int(exits[0])] if len(exits) else None
    return SunlightForecast(satellite_id, float(from_s), float(horizon_s), bool(sunlit[0]), entry, exit_)


def _sunlit(satrec: Satrec, clock: MissionClock, times: np.ndarray, sun_km: np.ndarray) -> np.ndarray:
    position, failed = _teme_positions(satrec, clock, times)
    # A point SGP4 rejects counts as sunlit (it cannot start an eclipse); give it a harmless sunward position.
    sunward = 7000.0 * sun_km / np.linalg.norm(sun_km, axis=1, keepdims=True)
    lit = illumination_fraction(np.where(failed[:, None], sunward, position), sun_km) >= SUNLIT_THRESHOLD
    return lit | failed
