"""Physics validation: the orbits the engine generates (sun-synchronous and Walker-delta shells) and its
Earth-fixed / geodetic positions, against independent references.

References, none produced by the engine:
- the closed-form J2 sun-synchronous condition cos i = −2·ρ̇·a^{7/2} / (3·J2·R²·√μ) with WGS72 constants
  written out here and ρ̇ = 2π / (365.2421897 d);
- local solar time of the ascending node found with skyfield from the engine's TLE lines (northbound
  equator crossing, node RA against the DE421 Sun's RA, both in skyfield's true-equator-of-date frame);
- the Walker-delta definition (RAAN spacing 360/P, in-plane spacing 360/S, inter-plane phase F·360/T),
  read back from the TLEs with sgp4's Satrec;
- skyfield's ``wgs84.latlon_of`` / ``wgs84.height_of`` on EarthSatellite positions (its own TEME -> ITRS
  chain and geodetic conversion).
Only skyfield's builtin timescale and the bundled DE421 are used (engine.ephemeris), never the network.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec
from skyfield.api import EarthSatellite, wgs84
from skyfield.framelib import mean_equator_and_equinox_of_date, true_equator_and_equinox_of_date

from engine import Simulation, load_mission
from engine.ephemeris import planets, timescale

# ------------------------------------------------------------------------------------------- tolerances

SSO_INCLINATION_TOL_DEG = 0.01
"""TLE inclination vs the closed-form J2 sun-synchronous inclination."""

LTAN_TOL_MIN = 2.0
"""Measured local time of the ascending node (true Sun) vs the requested LTAN, minutes."""

LTAN_DRIFT_TOL_MIN = 5.0
"""Drift of the node's local mean solar time over 30 days, minutes."""

WALKER_ANGLE_TOL_DEG = 1e-3
"""Walker-delta RAAN / mean-anomaly spacing (TLE angles carry 4 decimals)."""

HORIZONTAL_TOL_KM = 1.0
"""Sub-satellite point from snapshot() vs skyfield wgs84.latlon_of (distance along the ellipsoid)."""

VERTICAL_TOL_KM = 0.5
"""Altitude from snapshot() vs skyfield wgs84.height_of."""

# ---------------------------------------------------------------- WGS72 constants (not from the engine)

MU_WGS72_KM3_S2 = 398600.8
R_WGS72_KM = 6378.135
J2_WGS72 = 0.001082616
TROPICAL_YEAR_D = 365.2421897
NODE_RATE_SSO_RAD_S = 2.0 * math.pi / (TROPICAL_YEAR_D * 86400.0)


def closed_form_sso_inclination_deg(altitude_km: float) -> float:
    """cos i = −2·ρ̇·a^{7/2} / (3·J2·R²·√μ) for a circular orbit with a = R + h."""
    a = R_WGS72_KM + altitude_km
    cos_i = -2.0 * NODE_RATE_SSO_RAD_S * a**3.5 / (3.0 * J2_WGS72 * R_WGS72_KM**2 * math.sqrt(MU_WGS72_KM3_S2))
    return math.degrees(math.acos(cos_i))


def _load(tmp_path_factory, name: str, text: str):
    path = tmp_path_factory.mktemp("physics") / f"{name}.toml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return load_mission(path)


def _header(mission_id: str) -> str:
    return f"""
    [mission]
    id = "{mission_id}"
    title = "Orbit validation"
    epoch = "2026-03-21T00:00:00Z"
    duration = "12h"
    step = "30s"
    seed = 1
    """


# --------------------------------------------------------------------------------- sun-synchronous

SSO_ALTITUDES_KM = (550.0, 650.0, 800.0)
LTANS = ("18:00", "06:00", "10:30")


@pytest.fixture(scope="module")
def sso_altitudes(tmp_path_factory):
    text = _header("physics-sso-altitudes")
    for index, altitude in enumerate(SSO_ALTITUDES_KM):
        text += f"""
    [[shell]]
    name = "H{index}"
    altitude_km = {altitude}
    sun_synchronous = true
    ltan = "18:00"
    """
    return _load(tmp_path_factory, "sso_altitudes", text)


@pytest.fixture(scope="module")
def sso_ltans(tmp_path_factory):
    text = _header("physics-sso-ltan")
    for index, ltan in enumerate(LTANS):
        text += f"""
    [[shell]]
    name = "L{index}"
    altitude_km = 650
    sun_synchronous = true
    ltan = "{ltan}"
    """
    spec = _load(tmp_path_factory, "sso_ltan", text)
    return Simulation(spec)


@pytest.mark.parametrize("index", range(len(SSO_ALTITUDES_KM)), ids=[f"{h:g}km" for h in SSO_ALTITUDES_KM])
def test_sso_inclination_is_j2_closed_form(sso_altitudes, index):
    """The TLE inclination of a sun-synchronous shell equals the closed-form J2 condition
    cos i = −2·ρ̇·a^{7/2}/(3·J2·R²·√μ) (WGS72, a = R + h, ρ̇ = 2π/365.2421897 d) within 0.01 deg."""
    satellite = sso_altitudes.satellites[index]
    inclination = math.degrees(Satrec.twoline2rv(*satellite.tle, WGS72).inclo)
    expected = closed_form_sso_inclination_deg(SSO_ALTITUDES_KM[index])
    assert inclination == pytest.approx(expected, abs=SSO_INCLINATION_TOL_DEG)


def test_sso_inclination_reference_value():
    """Sanity of the closed form itself against physics.md §2.1 (97.99 deg at 650 km, [D])."""
    assert closed_form_sso_inclination_deg(650.0) == pytest.approx(97.99, abs=0.01)


def _ascending_node(sim: Simulation, sat_id: str, start_s: float, frame):
    """First northbound equator crossing (in `frame`) after `start_s`, found on skyfield positions from the
    engine's TLE: (mission time s, skyfield Time, node right ascension deg)."""
    ts = timescale()
    satellite = EarthSatellite(*sim.tle(sat_id), name=sat_id, ts=ts)
    sample_s = 2.0
    grid = start_s + np.arange(0.0, 6300.0, sample_s)  # > one 650 km period (97.7 min)
    z = satellite.at(sim.clock.skyfield_times(grid)).frame_xyz(frame).km[2]
    northbound = np.nonzero((z[:-1] < 0.0) & (z[1:] >= 0.0))[0]
    assert len(northbound), "no ascending node within one period"
    k = northbound[0]
    crossing_s = grid[k] + sample_s * (-z[k] / (z[k + 1] - z[k]))
    t = sim.clock.skyfield_times(np.array([crossing_s]))
    x, y, _ = satellite.at(t).frame_xyz(frame).km[:, 0]
    return crossing_s, t, math.degrees(math.atan2(y, x))


def _true_solar_ltan_hours(sim: Simulation, sat_id: str, start_s: float) -> float:
    """LTAN = 12 h + (RA_node − RA_sun)/15 deg with the true (DE421) Sun, true equator and equinox of date."""
    frame = true_equator_and_equinox_of_date
    _, t, ra_node = _ascending_node(sim, sat_id, start_s, frame)
    x, y, _ = (planets()["sun"] - planets()["earth"]).at(t).frame_xyz(frame).km[:, 0]
    ra_sun = math.degrees(math.atan2(y, x))
    return (12.0 + (ra_node - ra_sun) / 15.0) % 24.0


def _mean_solar_ltan_hours(sim: Simulation, sat_id: str, start_s: float) -> float:
    """Local mean solar time at the ascending node: 12 h + (RA_node − RA_mean_sun)/15 deg, with the mean
    Sun's RA from its definition through UT1, RA_mean_sun = GMST − (UT1 − 12 h) (skyfield's gmst and ut1),
    and the node in the mean equator and equinox of date (the frame GMST is measured in)."""
    _, t, ra_node = _ascending_node(sim, sat_id, start_s, mean_equator_and_equinox_of_date)
    ut1_hours = ((float(t.ut1[0]) + 0.5) % 1.0) * 24.0
    ra_mean_sun_hours = float(t.gmst[0]) - (ut1_hours - 12.0)
    return (12.0 + ra_node / 15.0 - ra_mean_sun_hours) % 24.0


def _hour_difference_min(a_hours: float, b_hours: float) -> float:
    return ((a_hours - b_hours + 12.0) % 24.0 - 12.0) * 60.0


@pytest.mark.parametrize("index", range(len(LTANS)), ids=list(LTANS))
def test_sso_ltan_matches_request(sso_ltans, index):
    """The local solar time of the first ascending node (skyfield positions from the TLE; hour angle of the
    true DE421 Sun at the node, LTAN = 12 h + (RA_node − RA_sun)/15 deg) equals the requested LTAN within
    2 minutes, for 18:00, 06:00 and 10:30 at 650 km."""
    sim = sso_ltans
    hours, minutes = LTANS[index].split(":")
    requested = int(hours) + int(minutes) / 60.0
    measured = _true_solar_ltan_hours(sim, sim.satellite_ids[index], 0.0)
    assert abs(_hour_difference_min(measured, requested)) <= LTAN_TOL_MIN, f"LTAN {measured:.4f} h vs requested {requested:.4f} h"


@pytest.mark.parametrize("index", range(len(LTANS)), ids=list(LTANS))
def test_sso_node_stays_sun_synchronous_for_30_days(sso_ltans, index):
    """After 30 days of SGP4 propagation (skyfield, from the TLE) the node's local MEAN solar time has
    drifted by less than 5 minutes. The mean Sun is the right reference: J2 precession is uniform and
    tracks the mean Sun (360 deg per tropical year), while the true-Sun LTAN also moves with the equation
    of time (about +8 min between 21 March and 20 April), which no sun-synchronous orbit can follow."""
    sim = sso_ltans
    sat_id = sim.satellite_ids[index]
    start = _mean_solar_ltan_hours(sim, sat_id, 0.0)
    later = _mean_solar_ltan_hours(sim, sat_id, 30.0 * 86400.0)
    drift = _hour_difference_min(later, start)
    assert abs(drift) < LTAN_DRIFT_TOL_MIN, f"{sat_id}: node local mean time drifted {drift:+.2f} min in 30 days"


# ------------------------------------------------------------------------------------------- Walker

WALKER_SHELLS = ((3, 4, 2), (5, 2, 1), (4, 3, 0))  # (planes P, sats per plane S, phasing F)


@pytest.fixture(scope="module")
def walker(tmp_path_factory):
    text = _header("physics-walker")
    for index, (planes, per_plane, phasing) in enumerate(WALKER_SHELLS):
        text += f"""
    [[shell]]
    name = "W{index}"
    altitude_km = {700 + 100 * index}
    inclination_deg = {50 + 10 * index}
    planes = {planes}
    sats_per_plane = {per_plane}
    phasing = {phasing}
    raan_offset_deg = {17.5 * index}
    """
    return _load(tmp_path_factory, "walker", text)


def _circular_difference_deg(a: float, b: float, modulus: float = 360.0) -> float:
    """(a − b) reduced to [0, modulus)."""
    value = (a - b) % modulus
    return 0.0 if abs(value - modulus) < 1e-9 else value


@pytest.mark.parametrize("index", range(len(WALKER_SHELLS)), ids=[f"{p}x{s}F{f}" for p, s, f in WALKER_SHELLS])
def test_walker_delta_geometry(walker, index):
    """Walker-delta i:T/P/F read back from the TLEs (sgp4 Satrec; circular, argument of perigee 0 so the
    mean anomaly is the argument of latitude): P planes with RAANs spaced 360/P, S satellites per plane
    spaced 360/S in mean anomaly, and each plane's pattern ahead of the previous (eastward) plane's by
    F·360/T modulo 360/S, including the wrap from the last plane back to the first (the pattern closes);
    all satellites share inclination and mean motion."""
    planes, per_plane, phasing = WALKER_SHELLS[index]
    total = planes * per_plane
    shell = f"W{index}"
    satrecs = [Satrec.twoline2rv(*s.tle, WGS72) for s in walker.satellites if s.shell == shell]
    assert len(satrecs) == total

    assert len({round(s.inclo, 9) for s in satrecs}) == 1
    assert len({s.no_kozai for s in satrecs}) == 1
    assert all(s.ecco == 0.0 and s.argpo == 0.0 for s in satrecs)

    # Group into planes by RAAN (geometry only, not the engine's plane labels).
    by_plane: dict[float, list[float]] = {}
    for s in satrecs:
        key = round(math.degrees(s.nodeo), 3) % 360.0
        by_plane.setdefault(key, []).append(math.degrees(s.mo) % 360.0)
    raans = sorted(by_plane)
    assert len(raans) == planes and all(len(by_plane[r]) == per_plane for r in raans)

    plane_spacing = 360.0 / planes
    for k in range(planes):
        step = _circular_difference_deg(raans[(k + 1) % planes], raans[k])
        assert step == pytest.approx(plane_spacing, abs=WALKER_ANGLE_TOL_DEG)

    slot_spacing = 360.0 / per_plane
    for r in raans:
        anomalies = sorted(by_plane[r])
        for k in range(per_plane):
            gap = _circular_difference_deg(anomalies[(k + 1) % per_plane], anomalies[k])
            assert gap == pytest.approx(slot_spacing, abs=WALKER_ANGLE_TOL_DEG), f"plane at RAAN {r:.3f}: slot gap {gap:.4f} deg"

    phase = (phasing * 360.0 / total) % slot_spacing
    for k in range(planes):
        here, east = raans[k], raans[(k + 1) % planes]
        offset = _circular_difference_deg(by_plane[east][0], by_plane[here][0], slot_spacing)
        assert min(abs(offset - phase), slot_spacing - abs(offset - phase)) <= WALKER_ANGLE_TOL_DEG, (
            f"plane at RAAN {east:.3f} leads plane at {here:.3f} by {offset:.4f} deg (mod {slot_spacing:g}); "
            f"expected F*360/T = {phase:.4f}"
        )


# ------------------------------------------------------------------------------- geodetic positions

GEODETIC_TIMES_S = (0.0, 1234.5, 3 * 3600.0, 6 * 3600.0 + 17.0, 11 * 3600.0)


@pytest.fixture(scope="module")
def geodetic_fleet(tmp_path_factory):
    text = _header("physics-geodetic") + """
    [[shell]]
    name = "A"
    altitude_km = 550
    inclination_deg = 53
    planes = 2
    sats_per_plane = 2
    phasing = 1

    [[shell]]
    name = "S"
    altitude_km = 650
    sun_synchronous = true
    ltan = "18:00"
    planes = 1
    sats_per_plane = 2
    """
    return Simulation(_load(tmp_path_factory, "geodetic", text))


def test_snapshot_geodetic_matches_skyfield_wgs84(geodetic_fleet):
    """snapshot() latitude/longitude/altitude equal skyfield's wgs84.latlon_of / wgs84.height_of of
    EarthSatellite(TLE).at(t) within 1 km horizontally and 0.5 km vertically, for 6 satellites at 5 times
    (on and off the step grid): checks the TEME -> Earth-fixed rotation and the geodetic conversion."""
    sim = geodetic_fleet
    ts = timescale()
    satellites = [EarthSatellite(*sim.tle(sat_id), name=sat_id, ts=ts) for sat_id in sim.satellite_ids]
    for time_s in GEODETIC_TIMES_S:
        sim.run_until(time_s)
        snap = sim.snapshot()
        assert snap.time_s == pytest.approx(time_s)
        t = sim.clock.skyfield_times(np.array([time_s]))
        for k, satellite in enumerate(satellites):
            position = satellite.at(t)
            lat, lon = wgs84.latlon_of(position)
            height_km = float(wgs84.height_of(position).km[0])
            lat0, lon0 = math.radians(float(lat.degrees[0])), math.radians(float(lon.degrees[0]))
            lat1, lon1 = math.radians(float(snap.lat_deg[k])), math.radians(float(snap.lon_deg[k]))
            # Great-circle distance between the two sub-satellite points (haversine, equatorial radius).
            hav = math.sin((lat1 - lat0) / 2) ** 2 + math.cos(lat0) * math.cos(lat1) * math.sin((lon1 - lon0) / 2) ** 2
            horizontal_km = 2.0 * 6378.137 * math.asin(math.sqrt(min(hav, 1.0)))
            assert horizontal_km <= HORIZONTAL_TOL_KM, f"{sim.satellite_ids[k]} at {time_s} s: {horizontal_km:.3f} km apart"
            assert abs(float(snap.alt_km[k]) - height_km) <= VERTICAL_TOL_KM, (
                f"{sim.satellite_ids[k]} at {time_s} s: altitude {float(snap.alt_km[k]):.3f} vs {height_km:.3f} km"
            )
