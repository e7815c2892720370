"""Ground stations: per-step visibility, contact (pass) tracking, and pass prediction ahead of time.

Elevation comes from matrix products over all satellites and stations at once:
sin(el) = (r - g)·up / |r - g| with |r - g|² = |r|² - 2 r·g + |g|², so one step costs two (N,3)@(3,M)
products. AOS and LOS times are interpolated between steps on the elevation angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sgp4.api import SatrecArray

from engine.frames import ecef_from_geodetic, local_up
from engine.gpus import nonzero_2d
from engine.mission.models import GroundStation


@dataclass(frozen=True)
class Pass:
    """One pass of a satellite over a station (times in seconds since the mission epoch)."""

    station: str
    satellite: str
    aos_s: float | None
    """Acquisition of signal; None if the pass was already in progress when tracking began."""
    los_s: float | None
    """Loss of signal; None if the pass was still in progress when tracking ended."""
    max_elevation_deg: float
    max_elevation_s: float


class GroundNetwork:
    """Station geometry in the Earth-fixed frame."""

    def __init__(self, stations: tuple[GroundStation, ...]):
        self.ids = tuple(station.id for station in stations)
        lat = np.array([s.lat_deg for s in stations], dtype=float)
        lon = np.array([s.lon_deg for s in stations], dtype=float)
        alt_km = np.array([s.alt_m for s in stations], dtype=float) / 1000.0
        self.lat_deg, self.lon_deg = lat, lon
        self.positions_km = ecef_from_geodetic(lat, lon, alt_km).reshape(-1, 3)
        self.up = local_up(lat, lon).reshape(-1, 3)
        self.min_elevation_deg = np.array([s.min_elevation_deg for s in stations], dtype=float)
        self.sin_min_elevation = np.sin(np.radians(self.min_elevation_deg))
        self._g_dot_up = np.einsum("ij,ij->i", self.positions_km, self.up)
        self._g_norm2 = np.einsum("ij,ij->i", self.positions_km, self.positions_km)
        self._up_and_minus_2g_by_row = np.ascontiguousarray(np.concatenate([self.up, -2.0 * self.positions_km]))
        """(2M, 3): one matrix product gives every r·up and -2 r·g (see ``sin_elevation``)."""
        self._offsets_by_row = np.concatenate([-self._g_dot_up, self._g_norm2])[:, None]

    @property
    def count(self) -> int:
        return len(self.ids)

    def sin_elevation(self, positions_ecef_km: np.ndarray) -> np.ndarray:
        """(N, M) sine of each satellite's elevation above each station's horizon."""
        m = len(self.ids)
        # Worked station by satellite, (2M, N): every row is one contiguous run over the fleet, which numpy
        # loops over ~2x faster than the eight-wide rows of (N, M); the result is laid out (N, M) at the end.
        both = self._up_and_minus_2g_by_row @ positions_ecef_km.T  # r·up | -2 r·g
        both += self._offsets_by_row  # (r - g)·up | |g|² - 2 r·g
        distance2 = both[m:]
        distance2 += np.einsum("ij,ij->i", positions_ecef_km, positions_ecef_km)  # |r - g|²
        np.maximum(distance2, 1e-6, out=distance2)
        np.sqrt(distance2, out=distance2)
        sin_elevation = both[:m]
        np.divide(sin_elevation, distance2, out=sin_elevation)
        return np.ascontiguousarray(sin_elevation.T)

    def slant_range_km(self, positions_ecef_km: np.ndarray) -> np.ndarray:
        """(N, M) distance from each station to each satellite."""
        return np.linalg.norm(positions_ecef_km[:, None, :] - self.positions_km[None, :, :], axis=2)


class ContactTracker:
    """Follows visibility step by step and records every pass with interpolated AOS and LOS."""

    def __init__(self, network: GroundNetwork, satellite_count: int):
        self.network = network
        shape = (satellite_count, network.count)
        self._sin_min_per_pair = np.ascontiguousarray(np.broadcast_to(network.sin_min_elevation, shape))
        """Each station's mask per (satellite, station): comparing with a broadcast row is ~5x slower."""
        self.visible = np.zeros(shape, dtype=bool)
        self.sin_elevation = np.full(shape, -1.0)
        self.pass_start_s = np.full(shape, np.nan)
        self.pass_max_sin = np.full(shape, -1.0)
        self.pass_max_s = np.zeros(shape)
        self.pass_volume_gbit = np.zeros(shape)
        """Data moved over the ground link during each open pass (see ``add_downlink``)."""
        self._started = False
        self._time_s = 0.0
        self._closed: list[np.ndarray] = []  # rows: sat, station, aos, los, max_el_deg, max_el_s, volume_gbit

    def update(self, time_s: float, sin_elevation: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Advance to `time_s`; returns (sat, station, aos_s) of new passes and (sat, station, los_s) of ended ones."""
        visible = sin_elevation >= self._sin_min_per_pair
        empty = (np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp), np.empty(0))
        if not self._started:
            # Passes in progress at the start have no known AOS.
            self.pass_max_sin = np.where(visible, sin_elevation, -1.0)
            self.pass_max_s[visible] = time_s
            self._started = True
            self._commit(time_s, visible, sin_elevation)
            return empty, empty

        # pairs that rose or set, from one pass over the (N, M) masks (few change in a step)
        changed = np.flatnonzero(visible != self.visible)
        rose = visible.reshape(-1)[changed]
        m = visible.shape[1]
        rise_sat, rise_station = np.divmod(changed[rose], m)
        set_sat, set_station = np.divmod(changed[~rose], m)
        aos = self._crossing_times(time_s, sin_elevation, rise_sat, rise_station)
        los = self._crossing_times(time_s, sin_elevation, set_sat, set_station)

        if len(set_sat):
            rows = np.column_stack(
                [
                    set_sat,
                    set_station,
                    self.pass_start_s[set_sat, set_station],
                    los,
                    np.degrees(np.arcsin(np.clip(self.pass_max_sin[set_sat, set_station], -1, 1))),
                    self.pass_max_s[set_sat, set_station],
                    self.pass_volume_gbit[set_sat, set_station],
                ]
            )
            self._closed.append(rows)
            self.pass_start_s[set_sat, set_station] = np.nan
            self.pass_max_sin[set_sat, set_station] = -1.0
            self.pass_volume_gbit[set_sat, set_station] = 0.0
        if len(rise_sat):
            self.pass_start_s[rise_sat, rise_station] = aos
            self.pass_max_sin[rise_sat, rise_station] = -1.0

        in_view = np.flatnonzero(visible)  # the pairs in view, a few per cent of them
        sin_in_view = sin_elevation.reshape(-1).take(in_view)
        higher = sin_in_view > self.pass_max_sin.reshape(-1).take(in_view)
        if higher.any():
            self.pass_max_sin.reshape(-1)[in_view[higher]] = sin_in_view[higher]
            self.pass_max_s.reshape(-1)[in_view[higher]] = time_s
        self._commit(time_s, visible, sin_elevation)
        return (rise_sat, rise_station, aos), (set_sat, set_station, los)

    def add_downlink(self, satellites: np.ndarray, stations: np.ndarray, gbit: np.ndarray) -> None:
        """Credit data moved over ground links in the last step to the passes they belong to."""
        np.add.at(self.pass_volume_gbit, (satellites, stations), gbit)

    def _commit(self, time_s: float, visible: np.ndarray, sin_elevation: np.ndarray) -> None:
        self.visible = visible
        self.sin_elevation = sin_elevation
        self._time_s = time_s

    def _crossing_times(self, time_s: float, sin_now: np.ndarray, sats: np.ndarray, stations: np.ndarray) -> np.ndarray:
        """Linear interpolation of the mask crossing on the elevation angle between the last two steps."""
        if not len(sats):
            return np.empty(0)
        el_before = np.arcsin(np.clip(self.sin_elevation[sats, stations], -1.0, 1.0))
        el_now = np.arcsin(np.clip(sin_now[sats, stations], -1.0, 1.0))
        mask = np.radians(self.network.min_elevation_deg[stations])
        span = el_now - el_before
        fraction = np.where(np.abs(span) > 1e-12, (mask - el_before) / np.where(span == 0, 1.0, span), 1.0)
        return self._time_s + np.clip(fraction, 0.0, 1.0) * (time_s - self._time_s)

    def passes_array(self, include_open: bool = True) -> np.ndarray:
        """(K, 7) float array of passes: sat, station, aos_s, los_s, max_el_deg, max_el_s (NaN = unknown),
        data volume over the ground link in Gbit."""
        parts = list(self._closed)
        if include_open:
            sats, stations = nonzero_2d(self.visible)
            if len(sats):
                parts.append(
                    np.column_stack(
                        [
                            sats,
                            stations,
                            self.pass_start_s[sats, stations],
                            np.full(len(sats), np.nan),
                            np.degrees(np.arcsin(np.clip(self.pass_max_sin[sats, stations], -1, 1))),
                            self.pass_max_s[sats, stations],
                            self.pass_volume_gbit[sats, stations],
                        ]
                    )
                )
        if not parts:
            return np.empty((0, 7))
        table = np.concatenate(parts)
        order = np.lexsort((table[:, 0], np.nan_to_num(table[:, 2], nan=-np.inf)))
        return table[order]


def predict_passes(
    satrecs: list,
    satellite_ids: list[str],
    network: GroundNetwork,
    clock,
    start_s: float,
    horizon_s: float,
    coarse_step_s: float = 20.0,
) -> list[Pass]:
    """Passes of the given satellites over every station between start_s and start_s + horizon_s.

    Elevations are sampled on a coarse grid for all satellites at once (SatrecArray), then every mask
    crossing is refined by a vectorised bisection to better than 0.01 s; the culmination time comes from
    a parabolic fit through the grid samples around the peak, and its elevation from SGP4 at that time.
    """
    if not satrecs or network.count == 0 or horizon_s <= 0:
        return []
    times = start_s + np.arange(0.0, horizon_s + coarse_step_s, coarse_step_s)
    times = times[times <= start_s + horizon_s + 1e-9]
    raw: list[tuple[int, int, int | None, int | None, float, float]] = []
    crossings: list[tuple[int, int, int, bool]] = []  # satellite, station, grid index, rising
    chunk = max(1, 200_000 // max(len(times) * network.count, 1))
    for first in range(0, len(satrecs), chunk):
        sin_el = _sin_elevation_grid(satrecs[first : first + chunk], network, clock, times)  # (n, T, M)
        above = sin_el >= network.sin_min_elevation[None, None, :]
        sats, stations = np.nonzero(above.any(axis=1))
        for local, station in zip(sats, stations):
            series, visible = sin_el[local, :, station], above[local, :, station]
            changes = np.diff(visible.astype(np.int8))
            starts = ([None] if visible[0] else []) + list(np.nonzero(changes == 1)[0])
            ends = list(np.nonzero(changes == -1)[0]) + ([None] if visible[-1] else [])
            for rise, fall in zip(starts, ends):
                first_index = 0 if rise is None else rise + 1
                last_index = len(times) - 1 if fall is None else fall
                peak = first_index + int(np.argmax(series[first_index : last_index + 1]))
                peak_time, peak_sin = _parabolic_peak(times, series, peak)
                raw.append((first + local, int(station), rise, fall, peak_time, peak_sin))
                if rise is not None:
                    crossings.append((first + local, int(station), int(rise), True))
                if fall is not None:
                    crossings.append((first + local, int(station), int(fall), False))
    refined = _refine_crossings(satrecs, network, clock, times, crossings)
    if raw:  # evaluate SGP4 at each fitted culmination time (a parabola through sin(el) is biased near zenith)
        peak_sin = _sin_elevation_pairs(
            satrecs, np.array([r[0] for r in raw]), network, np.array([r[1] for r in raw]), clock,
            np.array([r[4] for r in raw]),
        )
        raw = [(*r[:5], max(float(value), r[5])) for r, value in zip(raw, peak_sin)]
    passes = [
        Pass(
            station=network.ids[station],
            satellite=satellite_ids[sat],
            aos_s=None if rise is None else refined[(sat, station, rise, True)],
            los_s=None if fall is None else refined[(sat, station, fall, False)],
            max_elevation_deg=float(np.degrees(np.arcsin(np.clip(peak_sin, -1.0, 1.0)))),
            max_elevation_s=peak_time,
        )
        for sat, station, rise, fall, peak_time, peak_sin in raw
    ]
    passes.sort(key=lambda p: (p.aos_s if p.aos_s is not None else -np.inf, p.satellite, p.station))
    return passes


def _sin_elevation_grid(satrecs: list, network: GroundNetwork, clock, times: np.ndarray) -> np.ndarray:
    jd, fr = clock.jd_utc(times)
    error, position, _ = SatrecArray(satrecs).sgp4(np.atleast_1d(jd), np.atleast_1d(fr))
    position = np.where(error[..., None] == 0, position, np.nan)
    gmst = clock.gmst_rad(times)
    cos_g, sin_g = np.cos(gmst)[None, :], np.sin(gmst)[None, :]
    ecef = np.empty_like(position)
    ecef[..., 0] = cos_g * position[..., 0] + sin_g * position[..., 1]
    ecef[..., 1] = -sin_g * position[..., 0] + cos_g * position[..., 1]
    ecef[..., 2] = position[..., 2]
    flat = ecef.reshape(-1, 3)
    sin_el = network.sin_elevation(np.nan_to_num(flat, nan=0.0)).reshape(len(satrecs), len(times), network.count)
    return np.where(np.isnan(position[..., :1]), -1.0, sin_el)


def _refine_crossings(satrecs, network, clock, times, crossings) -> dict[tuple[int, int, int, bool], float]:
    """Bisection of every mask crossing at once: 22 halvings of one grid interval (20 s -> 5 µs)."""
    if not crossings:
        return {}
    sats = np.array([c[0] for c in crossings])
    stations = np.array([c[1] for c in crossings])
    low = times[np.array([c[2] for c in crossings])]
    high = times[np.array([c[2] for c in crossings]) + 1]
    rising = np.array([c[3] for c in crossings])
    threshold = network.sin_min_elevation[stations]
    for _ in range(22):
        middle = 0.5 * (low + high)
        above = _sin_elevation_pairs(satrecs, sats, network, stations, clock, middle) >= threshold
        move_high = above == rising
        high = np.where(move_high, middle, high)
        low = np.where(move_high, low, middle)
    result = 0.5 * (low + high)
    return {crossing: float(time) for crossing, time in zip(crossings, result)}


def _sin_elevation_pairs(satrecs, sats, network, stations, clock, times) -> np.ndarray:
    """sin(elevation) of satellite sats[k] over station stations[k] at times[k], for every k."""
    jd, fr = clock.jd_utc(times)
    position = np.empty((len(sats), 3))
    failed = np.zeros(len(sats), dtype=bool)
    for k, (sat, whole, fraction) in enumerate(zip(sats, jd, fr)):
        error, r, _ = satrecs[sat].sgp4(float(whole), float(fraction))
        position[k] = r
        failed[k] = error != 0
    gmst = clock.gmst_rad(times)
    cos_g, sin_g = np.cos(gmst), np.sin(gmst)
    ecef = np.column_stack(
        [cos_g * position[:, 0] + sin_g * position[:, 1], -sin_g * position[:, 0] + cos_g * position[:, 1], position[:, 2]]
    )
    offset = ecef - network.positions_km[stations]
    up = network.up[stations]
    values = np.einsum("ij,ij->i", offset, up) / np.linalg.norm(offset, axis=1)
    return np.where(failed, -1.0, values)


def _parabolic_peak(times: np.ndarray, values: np.ndarray, index: int) -> tuple[float, float]:
    if index <= 0 or index >= len(values) - 1:
        return float(times[index]), float(values[index])
    y0, y1, y2 = values[index - 1], values[index], values[index + 1]
    denominator = y0 - 2.0 * y1 + y2
    if denominator >= 0:
        return float(times[index]), float(y1)
    offset = 0.5 * (y0 - y2) / denominator
    step = times[index + 1] - times[index]
    return float(times[index] + offset * step), float(y1 - 0.25 * (y0 - y2) * offset)
