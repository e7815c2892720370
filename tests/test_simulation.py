"""The simulation facade: determinism, bounds over a long run, read-only snapshots, events, run_until."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import EventKind, Simulation, load_mission
from engine.report import build_report
from engine.runner import run_headless
from tests.conftest import SMALL_MISSION


def test_same_mission_and_seed_give_an_identical_report(small_spec):
    first = build_report(run_headless(small_spec, until_s=7200))
    second = build_report(run_headless(small_spec, until_s=7200))
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    other_seed = build_report(run_headless(small_spec, until_s=600, seed=99))
    assert other_seed["seed"] == 99


@pytest.mark.slow
def test_thirty_days_stay_finite_and_physical(write_mission):
    """30 days at 120 s steps: no NaN anywhere, and every quantity inside its physical range."""
    text = SMALL_MISSION.replace("planes = 2", "planes = 1").replace('step = "10s"', 'step = "120s"')
    sim = Simulation(load_mission(write_mission(text)))
    hw = sim.spec.satellites[0].hardware
    floor = 1.0 - hw.battery_max_dod
    for day in range(30):
        sim.run_until((day + 1) * 86400.0)
        sim.drain_events()
        snap = sim.snapshot()
        for name in ("lat_deg", "lon_deg", "alt_km", "illumination", "solar_power_w", "load_power_w",
                     "battery_soc", "radiator_temp_c", "loop_temp_c", "array_temp_c", "gpu_temp_c", "gpu_power_w"):
            assert np.all(np.isfinite(getattr(snap, name))), name
        assert np.all((snap.battery_soc >= floor - 1e-12) & (snap.battery_soc <= 1 + 1e-12))
        assert np.all((snap.illumination >= 0) & (snap.illumination <= 1))
        assert np.all((snap.alt_km > 500) & (snap.alt_km < 600))
        assert np.all((snap.radiator_temp_c > -150) & (snap.radiator_temp_c < 150))
        assert np.all((snap.array_temp_c > -200) & (snap.array_temp_c < 200))
        assert np.all(snap.gpu_temp_c[snap.gpu_present] < hw.gpu_shutdown_c + 20)
    assert sim.time_s == pytest.approx(30 * 86400.0)
    residual = sim.statistics.generated_j - sim.statistics.consumed_j - sim.statistics.losses_j - (
        sim.battery.energy_j - sim.statistics.initial_battery_j
    )
    assert np.all(np.abs(residual) <= 1e-9 * sim.statistics.generated_j.max())
    assert np.all(sim.statistics.eclipse_count > 400)  # ~15 orbits a day, nearly all eclipsed at 53°


def test_snapshot_is_frozen_and_independent_of_later_steps(small_spec):
    sim = Simulation(small_spec)
    sim.step()
    snap = sim.snapshot()
    with pytest.raises(ValueError):
        snap.battery_soc[0] = 0.0
    with pytest.raises(AttributeError):
        snap.time_s = 5.0  # type: ignore[misc]
    soc_then = snap.battery_soc.copy()
    for _ in range(60):
        sim.step()
    assert np.array_equal(snap.battery_soc, soc_then)
    assert snap.index_of("A-02-03") == 5
    with pytest.raises(KeyError):
        snap.index_of("Z-99-99")


def test_run_until_lands_exactly_and_events_are_time_ordered(small_spec):
    sim = Simulation(small_spec)
    sim.run_until(3605.0)
    assert sim.time_s == pytest.approx(3605.0)
    assert sim.step_index == 361
    events = sim.drain_events()
    assert events and sim.drain_events() == []
    times = [event.time_s for event in events]
    assert times == sorted(times)
    assert all(0.0 <= t <= 3605.0 for t in times)
    per_satellite: dict[str, list] = {}
    for event in events:
        if event.kind in (EventKind.ECLIPSE_ENTRY, EventKind.ECLIPSE_EXIT):
            per_satellite.setdefault(event.satellite, []).append(event.kind)
    for kinds in per_satellite.values():  # entries and exits alternate
        assert all(a != b for a, b in zip(kinds, kinds[1:]))


def test_invalid_step_is_refused_without_changing_state(small_spec):
    sim = Simulation(small_spec)
    sim.step()
    before = (sim.time_s, sim.step_index, sim.battery.energy_j.copy())
    with pytest.raises(ValueError):
        sim.step(0.0)
    with pytest.raises(ValueError):
        sim.step(-5.0)
    assert (sim.time_s, sim.step_index) == before[:2]
    assert np.array_equal(sim.battery.energy_j, before[2])


def test_report_has_the_contract_fields(small_spec):
    report = build_report(run_headless(small_spec, until_s=3600))
    assert report["mission"] == {"id": "small", "title": "Small test fleet", "kind": "sandbox"}
    assert {"seed", "epoch", "sim_seconds", "step_seconds", "fleet", "satellites", "contacts", "events"} <= set(report)
    assert report["epoch"] == "2026-03-21T00:00:00.000Z" and report["sim_seconds"] == 3600
    fleet = report["fleet"]
    for key in ("satellites", "gpus", "sunlit_fraction", "energy_generated_kwh", "energy_consumed_kwh", "min_soc",
                "max_gpu_temp_c", "gpu_hours_delivered"):
        assert key in fleet
    assert fleet["satellites"] == 6 and fleet["gpus"] == 24
    satellite = report["satellites"][0]
    for key in ("id", "sunlit_fraction", "eclipse_count", "min_soc", "max_gpu_temp_c", "max_radiator_temp_c", "tle"):
        assert key in satellite
    assert len(satellite["tle"]) == 2 and satellite["tle"][0].startswith("1 ")
    for contact in report["contacts"]:
        assert set(contact) >= {"station", "satellite", "aos", "los", "max_elevation_deg"}
        assert contact["aos"] is None or contact["aos"].endswith("Z")
    json.dumps(report)  # serialisable as is


def test_import_engine_does_not_load_any_ui_library():
    import subprocess
    import sys

    code = "import sys, engine, engine.report, engine.runner; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'console')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_non_finite_state_is_reported_loudly_not_propagated(small_spec):
    from engine.simulation import EngineStateError

    sim = Simulation(small_spec)
    sim.thermal.loop_k[2] = np.nan  # simulate a modelling bug
    with pytest.raises(EngineStateError, match="A-01-03"):
        sim.step()
