"""Power: array output against the physics.md §3.3 formula, energy conservation, the depth-of-discharge
floor, and load shedding with hysteresis."""

from __future__ import annotations

import numpy as np
import pytest

from engine import EventKind, Simulation, load_mission
from engine.constants import AU_KM
from tests.conftest import SMALL_MISSION

# Array and battery too small for the GPU load at 53°: batteries run down over the day and the policy cycles.
UNDERSIZED_ARRAY = SMALL_MISSION.replace("solar_array_m2 = 30", "solar_array_m2 = 14").replace(
    "battery_kwh = 20", "battery_kwh = 8\nradiator_bypass_min_fraction = 1"
)
"""Arrays too small for the load, and no radiator bypass valve: load shedding pauses the GPUs, the loop
then freezes and the heaters drain the battery further (low-battery and cold-loop alarms of both
severities, raised and cleared, for the console tests)."""
ENERGY_CLOSURE_REL = 1e-9  # of the energy generated: rounding only
ARRAY_POWER_REL = 1e-6


def run(sim: Simulation, seconds: float) -> list:
    events = []
    end = sim.time_s + seconds
    while sim.time_s < end - 1e-9:
        sim.step()
        events.extend(sim.drain_events())
    return events


def energy_residual_j(sim: Simulation) -> np.ndarray:
    stats = sim.statistics
    delta = sim.battery.energy_j - stats.initial_battery_j
    return stats.generated_j - stats.consumed_j - stats.losses_j - delta


@pytest.mark.parametrize("sun_cosine", [1.0, 0.7])
def test_array_output_matches_the_reference_formula(write_mission, sun_cosine):
    """P = S(r)·A·η·packing·(1 + k_T(T - 28 °C))·(1 - d)^age·cos θ·ν with S from the Sun distance
    (physics.md §3.3)."""
    small_spec = load_mission(
        write_mission(SMALL_MISSION.replace("bus_power_w = 1000", f"bus_power_w = 1000\nsolar_array_sun_cosine = {sun_cosine}"))
    )
    sim = Simulation(small_spec)
    run(sim, 1800)
    snap = sim.snapshot()
    hw = small_spec.satellites[0].hardware
    sun = sim.sun.at(sim.time_s)
    distance_km = np.linalg.norm(sun[None, :] - sim._teme_km, axis=1)
    flux = 1361.0 * (AU_KM / distance_km) ** 2
    age_years = sim.time_s / (365.25 * 86400)
    expected = (
        flux * hw.solar_array_m2 * hw.solar_cell_efficiency * hw.solar_packing_factor
        * (1 + hw.solar_temp_coefficient_per_k * (snap.array_temp_c - 28.0))
        * (1 - hw.solar_degradation_per_year) ** age_years * hw.solar_array_sun_cosine * snap.illumination
    )
    # The array temperature in the snapshot is the end-of-step value; the step used the start-of-step one.
    assert snap.sunlit.any() and (~snap.sunlit).any()
    # 1 % covers the array temperature moving within the step; 1 W covers shadowed satellites (ν ≈ 0).
    assert np.allclose(snap.solar_available_w, expected, rtol=0.01, atol=1.0)
    assert np.all(snap.solar_power_w <= snap.solar_available_w + 1e-9)


def test_energy_balance_closes_to_rounding_over_a_day(write_mission):
    """generated - consumed - losses - Δbattery = 0 (conservation), with eclipses, full-battery curtailment
    and load shedding all exercised."""
    sim = Simulation(load_mission(write_mission(UNDERSIZED_ARRAY)))
    events = run(sim, 86400)
    generated = sim.statistics.generated_j
    assert np.all(np.abs(energy_residual_j(sim)) <= ENERGY_CLOSURE_REL * generated.max())
    kinds = {event.kind for event in events}
    assert EventKind.LOAD_SHED in kinds  # the undersized array really drove the batteries down
    assert np.all(sim.statistics.losses_j > 0)


def test_battery_stays_within_floor_and_capacity_and_deficit_is_recorded(write_mission):
    """A bus load the array cannot carry drains the battery to its DoD floor, never below; the load
    that could not be served is recorded as unserved and energy still balances."""
    text = (
        SMALL_MISSION.replace("solar_array_m2 = 30", "solar_array_m2 = 1")
        .replace("bus_power_w = 1000", "bus_power_w = 4000")
        .replace("battery_kwh = 20", "battery_kwh = 5\nbattery_initial_soc = 0.5\nbattery_max_dod = 0.9")
    )
    sim = Simulation(load_mission(write_mission(text)))
    floor_soc, seen_soc = 0.1, []
    events = []
    for _ in range(1080):
        sim.step()
        events.extend(sim.drain_events())
        seen_soc.append(sim.battery.soc.copy())
    soc = np.array(seen_soc)
    assert soc.min() >= floor_soc - 1e-12 and soc.max() <= 1.0 + 1e-12
    assert np.isclose(soc[-1], floor_soc).all()
    assert sim.statistics.unserved_j.min() > 0
    assert any(event.kind == EventKind.POWER_DEFICIT for event in events)
    assert np.all(np.abs(energy_residual_j(sim)) <= ENERGY_CLOSURE_REL * max(sim.statistics.consumed_j.max(), 1.0))
    snap = sim.snapshot()
    assert np.all(snap.shed_level == 3)  # safe mode long before the floor
    assert np.all(snap.gpu_power_w == 0.0)


def test_load_shedding_follows_thresholds_with_hysteresis(write_mission):
    """Each worsening happens only below its threshold and each recovery only above threshold + margin."""
    spec = load_mission(write_mission(UNDERSIZED_ARRAY))
    policy = spec.power_policy
    thresholds = {1: policy.cap_below_soc, 2: policy.pause_below_soc, 3: policy.safe_below_soc}
    sim = Simulation(spec)
    levels_before = sim.shed_level.copy()
    shed = restored = 0
    for _ in range(int(86400 / spec.step_s)):
        sim.step()
        soc, level = sim.battery.soc, sim.shed_level
        for index in np.nonzero(level > levels_before)[0]:
            shed += 1
            assert soc[index] < thresholds[int(level[index])]
        for index in np.nonzero(level < levels_before)[0]:
            restored += 1
            assert soc[index] >= thresholds[int(levels_before[index])] + policy.recover_margin_soc - 1e-12
        levels_before = level.copy()
        sim.drain_events()
    assert shed > 0 and restored > 0


def test_capped_and_paused_levels_reduce_gpu_power(write_mission):
    spec = load_mission(write_mission(SMALL_MISSION))
    sim = Simulation(spec)
    nominal = sim.gpus.demand(sim.thermal.junction_k, sim.thermal.loop_k, np.zeros(6, dtype=np.int8), 0.8, spec.power_policy, 10.0)
    capped = sim.gpus.demand(sim.thermal.junction_k, sim.thermal.loop_k, np.ones(6, dtype=np.int8), 0.8, spec.power_policy, 10.0)
    paused = sim.gpus.demand(sim.thermal.junction_k, sim.thermal.loop_k, np.full(6, 2, dtype=np.int8), 0.8, spec.power_policy, 10.0)
    safe = sim.gpus.demand(sim.thermal.junction_k, sim.thermal.loop_k, np.full(6, 3, dtype=np.int8), 0.8, spec.power_policy, 10.0)
    hw = spec.satellites[0].hardware
    p = spec.power_policy
    assert nominal.power_w[0, 0] == pytest.approx(hw.gpu_idle_w + 0.8 * (hw.gpu_tdp_w - hw.gpu_idle_w))
    cap_w = p.capped_power_fraction * hw.gpu_tdp_w
    assert capped.power_w[0, 0] == pytest.approx(hw.gpu_idle_w + 0.8 * (cap_w - hw.gpu_idle_w))
    assert paused.power_w[0, 0] == pytest.approx(hw.gpu_idle_w + p.paused_utilization * (cap_w - hw.gpu_idle_w))
    assert np.all(safe.power_w == 0.0) and not safe.powered.any()
    assert capped.speed[0, 0] == pytest.approx(p.capped_power_fraction ** hw.gpu_throughput_exponent)


def test_per_gpu_utilization_sets_each_gpus_power_and_pausing_caps_it(write_mission):
    """The job scheduler hands a (N, G) utilization: idle GPUs draw idle power, busy ones their share of
    TDP, and a paused satellite's GPUs are held to the paused level; a uniform array equals the scalar."""
    spec = load_mission(write_mission(SMALL_MISSION))
    sim = Simulation(spec)
    hw, p = spec.satellites[0].hardware, spec.power_policy
    shape = sim.hw.gpu_present.shape
    levels = np.zeros(shape[0], dtype=np.int8)
    per_gpu = np.zeros(shape)
    per_gpu[0, 0], per_gpu[0, 1] = 1.0, 0.5
    demand = sim.gpus.demand(sim.thermal.junction_k, sim.thermal.loop_k, levels, per_gpu, p, 10.0)
    assert demand.power_w[0, 0] == pytest.approx(hw.gpu_tdp_w)
    assert demand.power_w[0, 1] == pytest.approx(hw.gpu_idle_w + 0.5 * (hw.gpu_tdp_w - hw.gpu_idle_w))
    assert demand.power_w[0, 2] == pytest.approx(hw.gpu_idle_w) and demand.utilization[0, 2] == 0.0
    uniform = sim.gpus.demand(sim.thermal.junction_k, sim.thermal.loop_k, levels, np.full(shape, 0.8), p, 10.0)
    scalar = sim.gpus.demand(sim.thermal.junction_k, sim.thermal.loop_k, levels, 0.8, p, 10.0)
    np.testing.assert_allclose(uniform.power_w, scalar.power_w, rtol=1e-12)
    paused_levels = np.full(shape[0], 2, dtype=np.int8)
    paused = sim.gpus.demand(sim.thermal.junction_k, sim.thermal.loop_k, paused_levels, per_gpu, p, 10.0)
    cap_w = p.capped_power_fraction * hw.gpu_tdp_w
    assert paused.power_w[0, 0] == pytest.approx(hw.gpu_idle_w + p.paused_utilization * (cap_w - hw.gpu_idle_w))
    assert paused.power_w[0, 2] == pytest.approx(hw.gpu_idle_w)
