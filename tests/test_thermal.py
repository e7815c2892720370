"""Thermal: equilibrium against the Stefan-Boltzmann balance, stability at 60 s steps, energy
conservation of the node network, throttling and over-temperature shutdown in a running fleet."""

from __future__ import annotations

import numpy as np
import pytest

from engine import EventKind, Simulation, load_mission
from engine.fleet import FleetHardware
from engine.thermal import ThermalState, vertical_plate_view_factor
from tests.conftest import SMALL_MISSION

SIGMA = 5.670374419e-8  # CODATA, written here independently of the engine
STEADY_STATE_REL = 0.01  # the 1 %
STEP_SIZE_AGREEMENT_K = 0.01


def thermal_for(spec) -> tuple[ThermalState, FleetHardware]:
    hw = FleetHardware(spec.satellites)
    return ThermalState(hw), hw


NO_BYPASS_VALVE = SMALL_MISSION.replace("radiator_m2 = 8", "radiator_m2 = 8\nradiator_bypass_min_fraction = 1")
VALVE_HOLD_K = 1e-6
"""The bypass valve is solved inside the step: at equilibrium the loop sits on its setpoint to rounding."""


def test_radiator_equilibrium_matches_stefan_boltzmann(write_mission):
    """With constant heat in, the radiator settles where εσA(T⁴ - T_space⁴) equals everything absorbed
    and dissipated; junction and loop sit above it by P/G (Fourier), checked to 1 %. (No bypass valve
    here: with one, this cool a loop would be held at its setpoint instead, see the next test.)"""
    small_spec = load_mission(write_mission(NO_BYPASS_VALVE))
    thermal, hw = thermal_for(small_spec)
    n, g = hw.gpu_present.shape
    gpu_w = np.full((n, g), 500.0)
    loop_w = np.full(n, 1200.0)
    environment_w = np.full(n, 900.0)
    for _ in range(600):
        thermal.step(60.0, gpu_w, loop_w, environment_w)
    hardware = small_spec.satellites[0].hardware
    total_w = gpu_w[0].sum() + loop_w[0] + environment_w[0]
    area = 2 * hardware.radiator_m2
    expected_radiator_k = (total_w / (hardware.radiator_emissivity * SIGMA * area) + 3.0**4) ** 0.25
    assert thermal.radiator_k == pytest.approx(expected_radiator_k, rel=STEADY_STATE_REL)
    emitted = hardware.radiator_emissivity * SIGMA * area * (thermal.radiator_k**4 - 3.0**4)
    assert emitted == pytest.approx(total_w, rel=STEADY_STATE_REL)
    expected_loop = expected_radiator_k + (gpu_w[0].sum() + loop_w[0]) / hardware.loop_to_radiator_conductance_w_per_k
    assert thermal.loop_k == pytest.approx(expected_loop, rel=STEADY_STATE_REL)
    expected_junction = expected_loop + 500.0 / hardware.gpu_to_loop_conductance_w_per_k
    assert thermal.junction_k == pytest.approx(expected_junction, rel=STEADY_STATE_REL)


@pytest.mark.parametrize("dt_s", [1.0, 60.0])
def test_bypass_valve_holds_the_loop_at_its_setpoint_and_conserves_energy(small_spec, dt_s):
    """An idle satellite (GPUs at 80 W, 1.5 kW of bus heat) whose radiator would cool the loop below its setpoint: the valve
    diverts coolant so the loop settles on the setpoint, the radiator still rejects all the heat
    (Stefan-Boltzmann) and is colder than without the valve; with no heat at all the valve bottoms out at
    its minimum flow and the loop falls below the setpoint."""
    thermal, hw = thermal_for(small_spec)
    hardware = small_spec.satellites[0].hardware
    n, g = hw.gpu_present.shape
    gpu_w, loop_w, environment_w = np.full((n, g), 80.0), np.full(n, 1500.0), np.full(n, 700.0)
    for _ in range(int(8 * 3600 / dt_s)):
        thermal.step(dt_s, gpu_w, loop_w, environment_w)
    setpoint_k = hardware.loop_setpoint_c + 273.15
    assert thermal.loop_k == pytest.approx(setpoint_k, abs=VALVE_HOLD_K)
    assert np.all((thermal.radiator_flow_fraction > hardware.radiator_bypass_min_fraction) & (thermal.radiator_flow_fraction < 1.0))
    heat_w = gpu_w[0].sum() + loop_w[0]
    through_radiator_w = thermal.radiator_flow_fraction * hardware.loop_to_radiator_conductance_w_per_k * (thermal.loop_k - thermal.radiator_k)
    assert through_radiator_w == pytest.approx(heat_w, rel=STEADY_STATE_REL)
    area = 2 * hardware.radiator_m2
    expected_radiator_k = ((heat_w + environment_w[0]) / (hardware.radiator_emissivity * SIGMA * area) + 3.0**4) ** 0.25
    assert thermal.radiator_k == pytest.approx(expected_radiator_k, rel=STEADY_STATE_REL)
    no_valve_loop_k = expected_radiator_k + heat_w / hardware.loop_to_radiator_conductance_w_per_k
    assert no_valve_loop_k < setpoint_k - 5.0  # the valve had work to do

    cold = np.zeros((n, g))
    for _ in range(int(8 * 3600 / dt_s)):
        thermal.step(dt_s, cold, np.zeros(n), environment_w)
    assert thermal.radiator_flow_fraction == pytest.approx(hardware.radiator_bypass_min_fraction)
    assert np.all(thermal.loop_k < setpoint_k - 1.0)
    assert np.all(np.isfinite(thermal.loop_k)) and np.all(np.isfinite(thermal.radiator_k))


def test_sixty_second_steps_are_stable_and_agree_with_one_second_steps(small_spec):
    """A step change of GPU load at dt = 60 s (longer than the ~27 s junction time constant) approaches
    the new equilibrium monotonically, and lands where 1 s steps land."""
    coarse, hw = thermal_for(small_spec)
    fine, _ = thermal_for(small_spec)
    n, g = hw.gpu_present.shape
    loop_w, environment_w = np.full(n, 800.0), np.full(n, 700.0)
    idle, busy = np.full((n, g), 80.0), np.full((n, g), 700.0)
    for state, dt in ((coarse, 60.0), (fine, 1.0)):
        for _ in range(int(6 * 3600 / dt)):
            state.step(dt, idle, loop_w, environment_w)
    history = []
    for _ in range(360):
        coarse.step(60.0, busy, loop_w, environment_w)
        history.append(coarse.junction_k[0, 0])
    rises = np.diff(history)
    assert np.all(rises >= -1e-9), "junction temperature oscillated"
    for _ in range(360 * 60):
        fine.step(1.0, busy, loop_w, environment_w)
    assert np.abs(coarse.junction_k - fine.junction_k).max() < STEP_SIZE_AGREEMENT_K
    assert np.abs(coarse.radiator_k - fine.radiator_k).max() < STEP_SIZE_AGREEMENT_K


def test_node_network_conserves_energy(small_spec):
    """Σ C·ΔT over all nodes equals ∫(heat in - radiated) dt for a transient."""
    thermal, hw = thermal_for(small_spec)
    hardware = small_spec.satellites[0].hardware
    n, g = hw.gpu_present.shape
    gpu_w = np.full((n, g), 650.0)
    loop_w, environment_w = np.full(n, 1000.0), np.full(n, 400.0)

    def stored_j() -> np.ndarray:
        return (
            hardware.gpu_heat_capacity_j_per_k * thermal.junction_k.sum(axis=1)
            + hardware.loop_heat_capacity_j_per_k * thermal.loop_k
            + hardware.radiator_heat_capacity_j_per_k_m2 * hardware.radiator_m2 * thermal.radiator_k
        )

    before = stored_j()
    radiated_j = np.zeros(n)
    for _ in range(200):
        radiated_j += 30.0 * thermal.step(30.0, gpu_w, loop_w, environment_w)
    heat_in_j = 200 * 30.0 * (gpu_w.sum(axis=1) + loop_w + environment_w)
    assert stored_j() - before == pytest.approx(heat_in_j - radiated_j, rel=1e-9)


def test_view_factor_matches_the_physics_reference():
    """Vertical plate: 0.24 at 650 km and 0.26 at 550 km (physics.md §2.1)."""
    assert vertical_plate_view_factor(np.array([6378.1366 + 650]))[0] == pytest.approx(0.24, abs=0.005)
    assert vertical_plate_view_factor(np.array([6378.1366 + 550]))[0] == pytest.approx(0.26, abs=0.005)


HOT = SMALL_MISSION.replace("radiator_m2 = 8", "radiator_m2 = 2.8").replace(
    "bus_power_w = 1000", "bus_power_w = 1000\ngpu_to_loop_conductance_w_per_k = 12"
)


def test_undersized_radiator_throttles_gpus_and_caps_their_power(write_mission):
    """An undersized radiator drives junctions past 85 °C: GPUs throttle (power and speed fall) and
    events announce it; temperatures stay below shutdown because throttling holds them."""
    sim = Simulation(load_mission(write_mission(HOT)))
    events = []
    for _ in range(1080):
        sim.step()
        events.extend(sim.drain_events())
    snap = sim.snapshot()
    hardware = sim.spec.satellites[0].hardware
    present = snap.gpu_present
    assert snap.gpu_throttled[present].any()
    throttled = snap.gpu_throttled & present
    assert np.all(snap.gpu_power_w[throttled] < hardware.gpu_idle_w + 0.8 * (hardware.gpu_tdp_w - hardware.gpu_idle_w))
    assert np.all(snap.gpu_speed[throttled] < 1.0)
    assert np.all(snap.gpu_temp_c[throttled] > hardware.gpu_throttle_c)
    assert sim.statistics.max_gpu_temp_c.max() < hardware.gpu_shutdown_c
    assert any(event.kind == EventKind.GPU_THROTTLED for event in events)


def test_overtemperature_shutdown_and_restart_with_hysteresis(write_mission):
    """With throttling too weak to hold them, GPUs shut down above gpu_shutdown_c and come back only
    below gpu_throttle_c - restart margin."""
    text = HOT.replace("bus_power_w = 1000\n", "bus_power_w = 1000\ngpu_throttle_slope_per_k = 0.001\n")
    sim = Simulation(load_mission(write_mission(text)))
    hardware = sim.spec.satellites[0].hardware
    shutdowns, restarts = [], []
    for _ in range(2160):
        sim.step()
        for event in sim.drain_events():
            if event.kind == EventKind.GPU_OVERTEMP_SHUTDOWN:
                shutdowns.append(event)
            elif event.kind == EventKind.GPU_RESTARTED:
                restarts.append(event)
    assert shutdowns and restarts
    assert all(event.value > hardware.gpu_shutdown_c for event in shutdowns)
    assert all(event.value < hardware.gpu_throttle_c - hardware.gpu_restart_margin_k for event in restarts)
    assert int(sim.statistics.overtemp_shutdowns.sum()) == len(shutdowns)


def test_gpu_demand_skips_solving_the_caps_only_when_none_can_throttle_and_matches_the_solution(small_spec):
    """GpuState.demand skips the throttling-band solution when no junction can reach the band this
    step (engine.gpus._band_reachable); its power, speed and caps must then be exactly what the full
    solution gives, and junctions inside or near the band must be solved."""
    from engine.gpus import GpuState
    from engine.mission.models import PowerPolicy
    from engine.power import ShedLevel

    hw = FleetHardware(small_spec.satellites)
    quick_state, full_state = GpuState(hw), GpuState(hw)
    full_state._band_reachable = lambda *args: True  # always solve
    n, g = hw.gpu_present.shape
    rng = np.random.default_rng(3)
    shed = np.full(n, ShedLevel.NOMINAL)
    policy = PowerPolicy()
    throttle_k = float(hw.gpu_throttle_c.min()) + 273.15
    throttled_cases = 0
    for hottest_below_band_k in (60.0, 25.0, 5.0, 0.5, -2.0):
        junction = throttle_k - hottest_below_band_k - rng.uniform(0, 20, (n, g))
        loop = np.full(n, throttle_k - (30.0 if hottest_below_band_k > 1 else 1.0))
        utilization = rng.uniform(0, 1, (n, g))
        took_shortcut = not quick_state._band_reachable(junction, loop, (utilization.min(), utilization.max()), 10.0)
        quick = quick_state.demand(junction, loop, shed, utilization, policy, 10.0)
        full = full_state.demand(junction, loop, shed, utilization, policy, 10.0)
        for field in ("power_w", "powered", "utilization", "speed", "thermal_cap"):
            np.testing.assert_array_equal(getattr(quick, field), getattr(full, field))
        if hottest_below_band_k >= 25.0:  # far below the band: the shortcut is taken
            assert took_shortcut
        throttled_cases += bool((full.thermal_cap < 1).any())  # equal to the shortcut's caps of 1 only if solved
    assert throttled_cases >= 2
