"""Forecasts for the detail view (ground track, next eclipse) and the telemetry history ring.

References: skyfield's own SGP4 + TEME -> ITRS chain and ``wgs84.latlon_of`` for the ground track, and
skyfield's ``is_sunlit`` (DE421) sampled densely for the eclipse forecast; the history is checked against
snapshots taken while stepping the same simulation.
"""

from __future__ import annotations

import numpy as np
import pytest
from skyfield.api import EarthSatellite, wgs84

from engine import EventKind, Simulation
from engine.ephemeris import planets, timescale
from engine.history import CHANNELS, TelemetryHistory

TRACK_TOL_KM = 1.0
"""Ground-track point vs skyfield's sub-satellite point (GMST-only rotation; polar motion ignored)."""

ECLIPSE_TOL_S = 1.0
"""Forecast eclipse entry/exit vs skyfield's is_sunlit, located by bisection to 0.1 s."""


@pytest.fixture(scope="module")
def sim(request):
    from engine import load_mission
    from tests.conftest import SMALL_MISSION

    tmp = request.getfixturevalue("tmp_path_factory").mktemp("tracks") / "small.toml"
    tmp.write_text(SMALL_MISSION)
    simulation = Simulation(load_mission(tmp))
    simulation.run_until(1800.0)
    return simulation


def _skyfield_satellite(sim: Simulation, satellite_id: str) -> EarthSatellite:
    line1, line2 = sim.tle(satellite_id)
    return EarthSatellite(line1, line2, satellite_id, timescale())


def _skyfield_time(sim: Simulation, time_s):
    return sim.clock.skyfield_times(np.atleast_1d(time_s))


def test_ground_track_matches_skyfield_subpoints(sim):
    satellite_id = sim.satellite_ids[2]
    track = sim.ground_track(satellite_id, before_s=1200.0, after_s=3000.0, step_s=60.0)
    assert track.time_s[0] == pytest.approx(sim.time_s - 1200.0)
    assert track.time_s[-1] == pytest.approx(sim.time_s + 3000.0)
    assert not track.lat_deg.flags.writeable
    satellite = _skyfield_satellite(sim, satellite_id)
    position = wgs84.latlon_of(satellite.at(_skyfield_time(sim, track.time_s)))
    lat_ref, lon_ref = position[0].degrees, position[1].degrees
    d_lat = np.radians(track.lat_deg - lat_ref)
    d_lon = np.radians((track.lon_deg - lon_ref + 180.0) % 360.0 - 180.0) * np.cos(np.radians(lat_ref))
    error_km = 6371.0 * np.hypot(d_lat, d_lon)
    assert error_km.max() < TRACK_TOL_KM
    # the forecast does not move the simulation
    assert sim.time_s == 1800.0


def test_eclipse_forecast_matches_skyfield_is_sunlit(sim):
    satellite_id = sim.satellite_ids[0]
    forecast = sim.forecast_sunlight(satellite_id, horizon_s=3 * 3600.0)
    assert forecast.next_eclipse_entry_s is not None and forecast.next_eclipse_exit_s is not None
    satellite = _skyfield_satellite(sim, satellite_id)
    eph = planets()

    def sunlit(time_s: float) -> bool:
        return bool(satellite.at(_skyfield_time(sim, time_s)).is_sunlit(eph)[0])

    def crossing(start_s: float, was: bool) -> float:
        # dense scan with skyfield, then bisection to 0.1 s
        times = np.arange(start_s + 1.0, start_s + 3 * 3600.0, 20.0)  # start just past a known crossing
        states = satellite.at(_skyfield_time(sim, times)).is_sunlit(eph)
        k = int(np.nonzero(states != was)[0][0])
        assert k > 0
        low, high = times[k - 1], times[k]
        while high - low > 0.1:
            middle = 0.5 * (low + high)
            low, high = (middle, high) if sunlit(middle) == was else (low, middle)
        return 0.5 * (low + high)

    assert forecast.sunlit_now == sunlit(sim.time_s)
    entry_ref = crossing(sim.time_s, True) if forecast.sunlit_now else crossing(crossing(sim.time_s, False), True)
    assert forecast.next_eclipse_entry_s == pytest.approx(entry_ref, abs=ECLIPSE_TOL_S)
    exit_ref = crossing(entry_ref, False) if forecast.sunlit_now else crossing(sim.time_s, False)
    assert forecast.next_eclipse_exit_s == pytest.approx(exit_ref, abs=ECLIPSE_TOL_S)


def test_eclipse_forecast_agrees_with_the_simulation_events(small_spec):
    simulation = Simulation(small_spec)
    simulation.run_until(600.0)
    forecasts = {sat: simulation.forecast_sunlight(sat, horizon_s=2 * 3600.0) for sat in simulation.satellite_ids}
    simulation.drain_events()
    simulation.run_until(600.0 + 2 * 3600.0)
    first_entry: dict[str, float] = {}
    for event in simulation.drain_events():
        if event.kind == EventKind.ECLIPSE_ENTRY:
            first_entry.setdefault(event.satellite, event.time_s)
    assert first_entry, "two hours of a 53° shell must include eclipses"
    for satellite_id, forecast in forecasts.items():
        # step events interpolate within a 10 s step: agreement to a couple of seconds
        assert forecast.next_eclipse_entry_s == pytest.approx(first_entry[satellite_id], abs=3.0)


def test_history_samples_every_minute_and_matches_snapshots(small_spec):
    simulation = Simulation(small_spec)
    seen: dict[float, float] = {}
    for _ in range(60):  # 10 minutes of 10 s steps
        simulation.step()
        snapshot = simulation.snapshot()
        seen[snapshot.time_s] = float(snapshot.battery_soc[1])
    history = simulation.history(simulation.satellite_ids[1])
    assert history.time_s.tolist() == [60.0 * k for k in range(11)]
    for time_s, value in zip(history.time_s[1:], history["battery_soc"][1:]):
        assert value == pytest.approx(seen[time_s], rel=1e-6)  # float32 storage
    with pytest.raises(KeyError):
        simulation.history("no-such-satellite")


def test_history_ring_keeps_the_newest_samples_in_order():
    ring = TelemetryHistory(satellite_count=2, interval_s=10.0, capacity=4)
    for k in range(7):
        assert ring.due(10.0 * k)
        ring.record(10.0 * k, {channel: np.array([k, -k], dtype=float) for channel in CHANNELS})
        assert not ring.due(10.0 * k + 5.0)
    history = ring.satellite(1, "b")
    assert history.time_s.tolist() == [30.0, 40.0, 50.0, 60.0]
    assert history["loop_temp_c"].tolist() == [-3.0, -4.0, -5.0, -6.0]
