"""The bundled training missions, run headless: the reference play (the autopilot) earns its grade, the
physical premise of each mission holds in the engine, and an operator who does nothing fails.

training-power-crunch: a dawn-dusk plane in its eclipse season whose batteries cannot carry the GPUs
through the shadow; capping every satellite's GPUs at 400 W carries the pretraining run through the day.
training-gpu-cascade: GPU faults one after another under a big gang; switching off the flaky board,
draining the storm-hit satellite and power-cycling the GPUs held in reset keeps the run alive.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine import Simulation, load_mission
from engine.commands import ClearFault, CommandError, InjectFault, SetGpuPowerCap
from engine.faults import FaultRequest
from engine.fault_catalogue import FaultKind
from engine.gpu_health import GpuHealthState
from engine.power import ShedLevel
from engine.runner import run_headless

HOUR = 3600.0


def _results(sim) -> dict:
    return {result.id: result for result in sim.objectives.results()}


def _no_op(spec, until_s: float | None = None) -> tuple[Simulation, np.ndarray, np.ndarray]:
    """Run `spec` with nobody at the console (taken over from the autopilot at the start); returns the
    simulation and, per satellite, the lowest battery charge and the worst shed level seen."""
    sim = Simulation(spec)
    sim.take_over()
    end_s = spec.duration_s if until_s is None else until_s
    lowest = np.ones(len(sim.satellite_ids))
    worst = np.zeros(len(sim.satellite_ids), dtype=int)
    while sim.time_s < end_s - 1e-9:
        sim.step()
        sim.drain_events()
        snap = sim.snapshot()
        np.minimum(lowest, snap.battery_soc, out=lowest)
        np.maximum(worst, snap.shed_level, out=worst)
    sim.finish_objectives()
    return sim, lowest, worst


def _job(sim, job_id: str):
    return next(view for view in sim.job_views() if view.id == job_id)


# ------------------------------------------------------------------------------------- power crunch


@pytest.fixture(scope="module")
def crunch_spec():
    return load_mission("training-power-crunch")


@pytest.fixture(scope="module")
def crunch_reference(crunch_spec):
    return run_headless(crunch_spec)


@pytest.fixture(scope="module")
def crunch_no_op(crunch_spec):
    return _no_op(crunch_spec)


def test_power_crunch_is_a_training_mission_that_limits_the_operator(crunch_spec):
    mission = crunch_spec.mission
    assert mission.kind == "training" and "w sets a satellite's GPU power cap" in mission.briefing
    assert "power_cap" in mission.allowed_commands and "inject_fault" not in mission.allowed_commands
    sim = Simulation(crunch_spec)
    with pytest.raises(CommandError, match="does not allow inject fault"):
        sim.apply(InjectFault(FaultRequest(FaultKind.BATTERY_CELL_LOSS, "D-01-01")))
    assert not sim.faults.book.active, "a refused command changes nothing"


def test_power_crunch_reference_play_caps_every_satellite_and_earns_gold(crunch_reference):
    sim = crunch_reference
    assert np.all(sim.gpu_power_cap_w == 400.0), "every satellite capped at 400 W per GPU"
    score = sim.objectives.score()
    assert score.grade == "gold" and score.value == pytest.approx(1.0) and not score.gate_failed
    results = _results(sim)
    assert all(r.status == "met" for r in results.values())
    assert _job(sim, "PRETRAIN").state == "COMPLETED"
    assert results["pretrain"].decided_s < 23 * HOUR
    assert sim.statistics.min_soc.min() > 0.35, "no battery reaches the pause threshold"
    assert sim.event_counts.get("safe_mode_entry", 0) == 0 and sim.event_counts.get("battery_low", 0) == 0
    assert sim.hints.fired == [] and sim.objectives.hints_shown == 0


def test_power_crunch_eclipses_are_the_seasons_and_the_batteries_cannot_carry_the_gpus(crunch_no_op):
    sim, lowest, worst = crunch_no_op
    # The dawn-dusk plane is in shadow a fifth of every orbit at the June solstice (19.7 of 97.7 minutes).
    sunlit = sim.statistics.sunlit_s / sim.statistics.sim_seconds
    assert np.all((sunlit > 0.78) & (sunlit < 0.82))
    assert np.all(sim.statistics.eclipse_count >= 14), "an eclipse every orbit"
    # Nobody caps the GPUs: every battery sags below the battery-low level and the policy pauses the GPUs.
    assert np.all(lowest < 0.3) and np.all(worst >= ShedLevel.PAUSED)
    assert sim.event_counts["battery_low"] >= 12 and sim.event_counts["load_shed"] > 100
    # The gang runs at the pace of its slowest satellite: it barely moves.
    pretrain = _job(sim, "PRETRAIN")
    assert pretrain.state == "RUNNING" and pretrain.progress < 0.05


def test_power_crunch_no_op_operator_fails(crunch_no_op):
    sim, _, _ = crunch_no_op
    results = _results(sim)
    assert results["battery-floor"].status == "failed" and results["battery-floor"].decided_s < 1 * HOUR
    assert results["pretrain"].status == "missed" and results["handover"].status == "missed"
    score = sim.objectives.score()
    assert score.grade == "fail" and score.gate_failed and score.value == 0.0
    assert {hint.event_id for hint in sim.hints.fired} == {"sagging", "paused"}


def _orbits_at_cap(spec, watts: float, until_s: float) -> tuple[list[float], list[float], int]:
    """Every satellite capped at `watts` from the start: D-01-01's charge at each eclipse entry and exit,
    and its worst shed level."""
    sim = Simulation(spec)
    sim.take_over()
    for satellite in sim.satellite_ids:
        sim.apply(SetGpuPowerCap(satellite, watts))
    i = sim.satellite_ids.index("D-01-01")
    entries, exits, worst, was_sunlit = [], [], 0, True
    while sim.time_s < until_s:
        sim.step()
        sim.drain_events()
        snap = sim.snapshot()
        if bool(snap.sunlit[i]) != was_sunlit:
            (exits if snap.sunlit[i] else entries).append(float(snap.battery_soc[i]))
        was_sunlit = bool(snap.sunlit[i])
        worst = max(worst, int(snap.shed_level[i]))
    return entries, exits, worst


def test_power_crunch_the_right_cap_is_refilled_every_orbit_and_a_higher_one_is_not(crunch_spec):
    """At 400 W the sunlit part of the orbit refills what each eclipse takes; at 500 W an eclipse takes
    more than 0.5 C can put back in 78 minutes: the battery enters each eclipse emptier until the policy
    pauses the GPUs."""
    entries, exits, worst = _orbits_at_cap(crunch_spec, 400.0, 8 * HOUR)
    assert len(entries) >= 4 and min(entries) > 0.95 and min(exits) > 0.4
    assert worst < ShedLevel.PAUSED
    entries, exits, worst = _orbits_at_cap(crunch_spec, 500.0, 8 * HOUR)
    assert entries[-1] < entries[0] - 0.03, entries
    assert min(exits) < 0.35 and worst == ShedLevel.PAUSED


# -------------------------------------------------------------------------------------- GPU cascade


@pytest.fixture(scope="module")
def cascade_spec():
    return load_mission("training-gpu-cascade")


@pytest.fixture(scope="module")
def cascade_reference(cascade_spec):
    return run_headless(cascade_spec)


def test_gpu_cascade_hides_its_faults_and_limits_the_operator(cascade_spec):
    mission = cascade_spec.mission
    assert mission.kind == "training" and mission.hide_faults
    assert {"gpu_power", "drain", "undrain", "reset_gpu"} <= set(mission.allowed_commands)
    assert "clear_fault" not in mission.allowed_commands
    sim = Simulation(cascade_spec)
    with pytest.raises(CommandError, match="does not allow clear fault"):
        sim.apply(ClearFault("F-0001"))


def test_gpu_cascade_reference_play_keeps_the_run_alive_and_earns_gold(cascade_reference):
    sim = cascade_reference
    score = sim.objectives.score()
    assert score.grade == "gold" and score.value == pytest.approx(1.0)
    results = _results(sim)
    assert all(r.status == "met" for r in results.values())
    frontier = _job(sim, "FRONTIER")
    assert frontier.state == "COMPLETED" and frontier.restarts <= 7
    assert results["frontier"].decided_s <= 22 * HOUR
    ids = sim.satellite_ids
    health = sim.health.state
    assert health[ids.index("C-01-03"), 5] == GpuHealthState.OFF, "the flaky board stays switched off"
    assert health[ids.index("C-01-10"), 6] == GpuHealthState.FAILED
    assert health[ids.index("C-01-09"), 3] == GpuHealthState.FAILED
    assert health[ids.index("C-01-01"), 2] == GpuHealthState.OK, "power-cycled out of its watchdog reset"
    assert health[ids.index("C-01-05"), 0] == GpuHealthState.OK
    assert not sim.workload.drained.any(), "the storm-hit satellite is back in service"


def test_gpu_cascade_breaks_gpus_and_a_no_op_operator_loses_the_run(cascade_spec):
    sim, lowest, worst = _no_op(cascade_spec, until_s=12 * HOUR)
    # Power is not the problem: the plane is outside its eclipse season.
    assert np.all(sim.statistics.sunlit_s / sim.statistics.sim_seconds > 0.999)
    assert np.all(worst == ShedLevel.NOMINAL) and lowest.min() > 0.8
    # The cascade really breaks GPUs: two burnt out for good, two held in reset for hours.
    ids, health = sim.satellite_ids, sim.health.state
    assert health[ids.index("C-01-10"), 6] == GpuHealthState.FAILED
    assert health[ids.index("C-01-09"), 3] == GpuHealthState.FAILED
    assert health[ids.index("C-01-05"), 0] == GpuHealthState.RESETTING, "nobody power-cycles it"
    injected = list(sim.faults.book.active.values()) + [end.fault for end in sim.faults.book.ended]
    assert {"gpu_hang", "ecc_storm", "latch_up", "gpu_failure"} == {fault.kind.value for fault in injected}
    # Every hit kills the gang; the framework gives up after 12 restarts.
    frontier = _job(sim, "FRONTIER")
    assert frontier.state == "FAILED" and frontier.restarts == 12 and frontier.progress < 0.2
    results = _results(sim)
    assert results["alive"].status == "failed" and results["alive"].decided_s < 10 * HOUR
    score = sim.objectives.score()
    assert score.grade == "fail" and score.gate_failed and score.value == 0.0
