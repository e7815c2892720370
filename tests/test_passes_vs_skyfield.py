"""Physics validation: ground-station passes (stepped and predicted) against skyfield.

Reference: skyfield's ``EarthSatellite.find_events(topos, t0, t1, altitude_degrees=mask)`` on satellites
built from the engine's own TLE lines, with each station as ``wgs84.latlon(lat, lon, elevation_m=alt_m)``,
and skyfield's ``(satellite - topos).at(t).altaz()`` for the culmination elevation. skyfield does its own
TEME -> GCRS -> ITRS chain and topocentric geometry, independent of the engine's GMST rotation and
elevation formula. Only skyfield's builtin timescale is used (engine.ephemeris), never the network.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from skyfield.api import EarthSatellite, wgs84

from engine import Simulation, load_mission
from engine.ephemeris import timescale

# ------------------------------------------------------------------------------------------- tolerances

STEPPED_TIME_TOL_STEPS = 1.0
"""AOS/LOS recorded while stepping must be within this many mission steps of skyfield's rise/set."""

PREDICTED_TIME_TOL_S = 1.0
"""predict_passes AOS/LOS must be within this many seconds of skyfield's rise/set."""

PREDICTED_MAX_ELEVATION_TOL_DEG = 0.1
"""predict_passes maximum elevation must be within this of skyfield's culmination altitude."""

# ----------------------------------------------------------------------------------------------- fleet

STEP_S = 30.0
WINDOW_S = 12 * 3600.0

PASS_MISSION = f"""
[mission]
id = "physics-passes"
title = "Pass validation: 4 satellites, 3 stations with different masks"
epoch = "2026-03-21T00:00:00Z"
duration = "12h"
step = "{STEP_S:g}s"
seed = 1

[[shell]]
name = "A"
altitude_km = 550
inclination_deg = 53
planes = 2
sats_per_plane = 2
phasing = 1

[[ground_station]]
id = "hartebeesthoek"
lat_deg = -25.89
lon_deg = 27.69
alt_m = 1540
min_elevation_deg = 10

[[ground_station]]
id = "singapore"
lat_deg = 1.35
lon_deg = 103.82
alt_m = 20
min_elevation_deg = 5

[[ground_station]]
id = "madrid"
lat_deg = 40.43
lon_deg = -4.25
alt_m = 700
min_elevation_deg = 15
"""


@pytest.fixture(scope="module")
def pass_run(tmp_path_factory):
    """Predicted passes for the whole window (asked at t = 0), then the passes recorded while stepping it."""
    path = tmp_path_factory.mktemp("physics") / "passes.toml"
    path.write_text(textwrap.dedent(PASS_MISSION).lstrip(), encoding="utf-8")
    spec = load_mission(path)
    sim = Simulation(spec)
    predicted = sim.predict_passes(horizon_s=WINDOW_S)
    sim.run_until(WINDOW_S)
    stepped = sim.passes()
    return sim, spec, predicted, stepped


@pytest.fixture(scope="module")
def skyfield_passes(pass_run):
    """Every complete pass (rise, culmination(s), set all inside the window) from skyfield's find_events:
    list of (satellite, station, rise_s, set_s, culmination_s, culmination_altitude_deg)."""
    sim, spec, _, _ = pass_run
    ts = timescale()
    t0 = ts.from_datetime(sim.clock.utc(0.0))
    t1 = ts.from_datetime(sim.clock.utc(WINDOW_S))
    result = []
    for sat_id in sim.satellite_ids:
        satellite = EarthSatellite(*sim.tle(sat_id), name=sat_id, ts=ts)
        for station in spec.ground_stations:
            topos = wgs84.latlon(station.lat_deg, station.lon_deg, elevation_m=station.alt_m)
            times, kinds = satellite.find_events(topos, t0, t1, altitude_degrees=station.min_elevation_deg)
            seconds = (times - t0) * 86400.0
            rise = None
            culminations = []
            for index, kind in enumerate(kinds):
                if kind == 0:
                    rise, culminations = index, []
                elif kind == 1 and rise is not None:
                    culminations.append(index)
                elif kind == 2 and rise is not None:
                    altitudes = [(satellite - topos).at(times[c]).altaz()[0].degrees for c in culminations]
                    best = int(np.argmax(altitudes)) if altitudes else None
                    result.append(
                        (
                            sat_id,
                            station.id,
                            float(seconds[rise]),
                            float(seconds[index]),
                            float(seconds[culminations[best]]) if best is not None else float("nan"),
                            float(altitudes[best]) if best is not None else float("nan"),
                        )
                    )
                    rise = None
    return result


def _complete(passes):
    return [p for p in passes if p.aos_s is not None and p.los_s is not None]


def _match_one_to_one(engine_passes, reference):
    """Pair engine passes with skyfield passes (same satellite and station, overlapping in time), asserting
    that each side has exactly one partner. Returns [(engine_pass, reference_pass)]."""
    pairs = []
    for ref in reference:
        sat_id, station, rise_s, set_s = ref[:4]
        partners = [p for p in engine_passes if p.satellite == sat_id and p.station == station and p.aos_s < set_s and p.los_s > rise_s]
        assert len(partners) == 1, f"skyfield pass {sat_id}@{station} {rise_s:.1f}-{set_s:.1f} s matches {len(partners)} engine passes"
        pairs.append((partners[0], ref))
    for p in engine_passes:
        partners = [r for r in reference if r[0] == p.satellite and r[1] == p.station and p.aos_s < r[3] and p.los_s > r[2]]
        assert len(partners) == 1, f"engine pass {p.satellite}@{p.station} {p.aos_s:.1f}-{p.los_s:.1f} s matches {len(partners)} skyfield passes"
    return pairs


def test_stepped_passes_match_skyfield_find_events(pass_run, skyfield_passes):
    """Passes recorded while stepping (sim.passes() with both AOS and LOS) correspond one-to-one to
    skyfield's find_events passes (same station and satellite), with AOS/LOS within one mission step of
    skyfield's rise/set at each station's own elevation mask."""
    sim, _, _, stepped = pass_run
    engine_passes = _complete(stepped)
    assert len(skyfield_passes) >= 10, "the fixture should produce a meaningful number of passes"
    assert {r[1] for r in skyfield_passes} == set(sim.network.ids), "every station should see passes"
    tolerance_s = STEPPED_TIME_TOL_STEPS * sim.step_s
    for engine_pass, (sat_id, station, rise_s, set_s, _, _) in _match_one_to_one(engine_passes, skyfield_passes):
        assert abs(engine_pass.aos_s - rise_s) <= tolerance_s, f"{sat_id}@{station}: AOS {engine_pass.aos_s:.1f} vs {rise_s:.1f} s"
        assert abs(engine_pass.los_s - set_s) <= tolerance_s, f"{sat_id}@{station}: LOS {engine_pass.los_s:.1f} vs {set_s:.1f} s"


def test_predicted_pass_times_match_skyfield_find_events(pass_run, skyfield_passes):
    """sim.predict_passes() AOS/LOS (complete passes in the window) correspond one-to-one to skyfield's
    find_events passes and agree with skyfield's rise/set within 1 s."""
    _, _, predicted, _ = pass_run
    for engine_pass, (sat_id, station, rise_s, set_s, _, _) in _match_one_to_one(_complete(predicted), skyfield_passes):
        assert abs(engine_pass.aos_s - rise_s) <= PREDICTED_TIME_TOL_S, f"{sat_id}@{station}: AOS {engine_pass.aos_s:.3f} vs {rise_s:.3f} s"
        assert abs(engine_pass.los_s - set_s) <= PREDICTED_TIME_TOL_S, f"{sat_id}@{station}: LOS {engine_pass.los_s:.3f} vs {set_s:.3f} s"


def test_predicted_max_elevation_matches_skyfield_culmination(pass_run, skyfield_passes):
    """sim.predict_passes() max_elevation_deg agrees with skyfield's altitude at its find_events
    culmination within 0.1 deg, for every complete pass."""
    _, _, predicted, _ = pass_run
    errors = []
    for engine_pass, (sat_id, station, _, _, _, culmination_deg) in _match_one_to_one(_complete(predicted), skyfield_passes):
        errors.append((abs(engine_pass.max_elevation_deg - culmination_deg), sat_id, station, culmination_deg, engine_pass.max_elevation_deg))
    worst = max(errors)
    assert worst[0] <= PREDICTED_MAX_ELEVATION_TOL_DEG, (
        f"{worst[1]}@{worst[2]}: predicted max elevation {worst[4]:.3f} deg vs skyfield culmination {worst[3]:.3f} deg"
    )
