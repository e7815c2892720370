"""The fleet's positions between SGP4 knots (engine.orbit_track) against SGP4 evaluated directly.

References: sgp4's own ``SatrecArray.sgp4`` at the same instants, and the analytic error bound of cubic
Hermite interpolation, h^4 / 384 * max|r''''|, which on a circular orbit of radius a is
h^4 / 384 * n^4 * a (n the mean motion)."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec, SatrecArray

from engine import Simulation, load_mission
from engine.ephemeris import MissionClock
from engine.orbit_track import DEFAULT_KNOT_S, MAX_INTERPOLATED_ECCENTRICITY, OrbitTrack

INTERPOLATION_TOL_M = 1.0
"""Largest distance from direct SGP4 allowed between knots, for any interpolated (near-Earth) orbit."""


MU_WGS72_KM3_S2 = 398600.8
R_WGS72_KM = 6378.135
CLOCK = MissionClock(datetime(2026, 3, 21, tzinfo=timezone.utc))


def _satrec(semi_major_km: float, ecc: float = 1e-4, inc_deg: float = 53.0, argp_deg: float = 0.0,
            raan_deg: float = 20.0, mean_anomaly_deg: float = 40.0, bstar: float = 1e-5) -> Satrec:
    jd, fr = CLOCK.jd_utc(0.0)
    epoch_days = float(jd + fr) - 2433281.5  # sgp4init counts days from 1949 December 31 00:00 UT
    n_rad_min = math.sqrt(MU_WGS72_KM3_S2 / semi_major_km**3) * 60.0
    satrec = Satrec()
    satrec.sgp4init(WGS72, "i", 1, epoch_days, bstar, 0.0, 0.0, ecc, math.radians(argp_deg), math.radians(inc_deg),
                    math.radians(mean_anomaly_deg), n_rad_min, math.radians(raan_deg))
    return satrec


def _direct_km(satrecs: list[Satrec], time_s: float) -> tuple[np.ndarray, np.ndarray]:
    jd, fr = CLOCK.jd_utc(time_s)
    error, position, _ = SatrecArray(satrecs).sgp4(np.atleast_1d(jd), np.atleast_1d(fr))
    return error[:, 0], position[:, 0, :]


def _track(satrecs: list[Satrec], knot_s: float = DEFAULT_KNOT_S) -> OrbitTrack:
    return OrbitTrack(satrecs, SatrecArray(satrecs), CLOCK, knot_s)


@pytest.mark.parametrize("altitude_km", [160.0, 350.0, 550.0, 1200.0])
def test_between_knots_within_the_hermite_bound_of_sgp4(altitude_km):
    a = R_WGS72_KM + altitude_km
    satrecs = [_satrec(a, inc_deg=inc) for inc in (0.0, 53.0, 97.6)]
    track = _track(satrecs)
    worst_m = 0.0
    for time_s in np.arange(0.0, 2 * 2 * math.pi / math.sqrt(MU_WGS72_KM3_S2 / a**3), 7.0):
        error, position = track.position_km(time_s)
        direct_error, direct = _direct_km(satrecs, time_s)
        assert (error == direct_error).all()
        worst_m = max(worst_m, float(np.linalg.norm(position - direct, axis=1).max()) * 1e3)
    n = math.sqrt(MU_WGS72_KM3_S2 / a**3)
    bound_m = DEFAULT_KNOT_S**4 / 384.0 * n**4 * a * 1e3
    assert worst_m <= INTERPOLATION_TOL_M
    assert worst_m > 0.5 * bound_m  # the comparison sees the interpolation (not SGP4 against itself)


def test_the_most_eccentric_interpolated_orbit_stays_within_tolerance():
    perigee_km = R_WGS72_KM + 160.0
    ecc = MAX_INTERPOLATED_ECCENTRICITY
    satrecs = [_satrec(perigee_km / (1 - ecc), ecc=ecc, inc_deg=i, argp_deg=a) for a in (0.0, 90.0) for i in (0.0, 53.0)]
    track = _track(satrecs)
    assert len(track._direct) == 0
    worst_m = max(float(np.linalg.norm(track.position_km(t)[1] - _direct_km(satrecs, t)[1], axis=1).max()) * 1e3
                  for t in np.arange(0.0, 12000.0, 5.0))
    assert worst_m <= INTERPOLATION_TOL_M


def test_at_knots_the_positions_are_sgp4_s_own_bit_for_bit():
    satrecs = [_satrec(R_WGS72_KM + 550.0, mean_anomaly_deg=m) for m in range(0, 360, 45)]
    track = _track(satrecs)
    for k in (0, 1, 7, 1440):
        error, position = track.position_km(k * DEFAULT_KNOT_S)
        direct_error, direct = _direct_km(satrecs, k * DEFAULT_KNOT_S)
        assert np.array_equal(position, direct) and np.array_equal(error, direct_error)


def test_a_position_depends_on_the_time_alone_not_on_what_was_asked_before():
    satrecs = [_satrec(R_WGS72_KM + 550.0, mean_anomaly_deg=m) for m in range(0, 360, 30)]
    times = [5.0, 15.0, 59.0, 61.0, 125.5, 3600.0 + 13.0]
    forward = _track(satrecs)
    expected = [forward.position_km(t)[1] for t in times]
    for order in (times[::-1], [times[3], times[0], times[5], times[1], times[4], times[2]]):
        track = _track(satrecs)
        got = {t: track.position_km(t)[1] for t in order}
        for t, position in zip(times, expected):
            assert np.array_equal(got[t], position)


def test_stepping_forward_costs_one_sgp4_call_per_knot():
    satrecs = [_satrec(R_WGS72_KM + 550.0)]
    track = _track(satrecs)
    for time_s in np.arange(10.0, 3600.0 + 1, 10.0):
        track.position_km(time_s)
    assert track.sgp4_calls == 3600 // int(DEFAULT_KNOT_S) + 1  # knots 0 .. 60


def test_deep_space_and_eccentric_orbits_are_propagated_directly():
    leo = _satrec(R_WGS72_KM + 550.0)
    molniya = _satrec(26_600.0, ecc=0.74, inc_deg=63.4, argp_deg=270.0)
    geo = _satrec(42_164.0, inc_deg=0.1)
    eccentric_leo = _satrec((R_WGS72_KM + 400.0) / (1 - 0.01), ecc=0.01)
    satrecs = [leo, molniya, geo, eccentric_leo, *(_satrec(R_WGS72_KM + 600.0, mean_anomaly_deg=m) for m in (0, 90, 180))]
    track = _track(satrecs)
    assert track._direct.tolist() == [1, 2, 3] and track.knot_s == DEFAULT_KNOT_S
    for time_s in (17.0, 4000.0, 43_210.0):
        _, position = track.position_km(time_s)
        _, direct = _direct_km(satrecs, time_s)
        assert np.array_equal(position[1:4], direct[1:4])
        assert np.linalg.norm(position[[0, 4, 5, 6]] - direct[[0, 4, 5, 6]], axis=1).max() * 1e3 <= INTERPOLATION_TOL_M
    assert _track([molniya, geo, leo]).knot_s == 0.0  # mostly direct: no knots at all


def test_a_satellite_that_decays_between_knots_gets_sgp4_s_error_and_position():
    healthy = _satrec(R_WGS72_KM + 550.0)
    decaying = _satrec(R_WGS72_KM + 120.0, bstar=0.5)  # heavy drag: SGP4 gives up within hours
    satrecs = [healthy, decaying]
    track = _track(satrecs)
    failed_at = next(t for t in np.arange(0.0, 5 * 86400.0, 60.0) if _direct_km(satrecs, t)[0][1] != 0)
    for time_s in (failed_at - 30.0, failed_at - 1.0, failed_at + 17.0):
        error, position = track.position_km(time_s)
        direct_error, direct = _direct_km(satrecs, time_s)
        assert error[1] == direct_error[1]
        assert np.array_equal(position[1], direct[1]) or (np.isnan(position[1]).all() and np.isnan(direct[1]).all())
        assert error[0] == 0


def test_the_simulation_interpolates_short_steps_and_propagates_long_ones_directly(tmp_path):
    spec = load_mission("sandbox")
    short = Simulation(spec, step_s=10.0)
    assert short._track.knot_s == DEFAULT_KNOT_S
    for _ in range(36):
        short.step()
    assert short._track.sgp4_calls == 7  # knots at 0, 60, ..., 360 s
    _, direct = _direct_km(short._satrecs, short.time_s)
    assert np.array_equal(short._teme_km, direct)  # 360 s is a knot
    short.step(25.0)
    _, direct = _direct_km(short._satrecs, short.time_s)
    assert np.linalg.norm(short._teme_km - direct, axis=1).max() * 1e3 <= INTERPOLATION_TOL_M
    assert Simulation(spec, step_s=60.0)._track.knot_s == 0.0


def test_a_checkpoint_of_a_fleet_with_deep_space_satellites_steps_on_identically(tmp_path):
    """The track shares its SGP4 element sets with a checkpoint's copy (they cannot be copied) and copies
    its knots: the copy gives the original's positions, deep-space satellites included."""
    import copy as copying

    leo = [_satrec(R_WGS72_KM + 550.0, mean_anomaly_deg=m) for m in (0, 120, 240)]
    satrecs = [*leo, _satrec(42_164.0, inc_deg=0.1)]
    track = _track(satrecs)
    track.position_km(125.0)
    twin = copying.deepcopy(track)
    assert twin.orbits is track.orbits and twin._direct_orbits is track._direct_orbits
    for time_s in (130.0, 185.0, 3600.0):
        assert np.array_equal(twin.position_km(time_s)[1], track.position_km(time_s)[1])
