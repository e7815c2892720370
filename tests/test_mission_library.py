"""The bundled demo missions, run headless end to end: the autopilot reaches the demo's end with what it
shows done, and without the autopilot (taken over at the start) the fleet stays broken."""

from __future__ import annotations

from engine import Simulation, load_mission
from engine.runner import run_headless


def test_the_servicing_demo_swaps_the_panel_and_ends():
    spec = load_mission("servicing-demo")
    sim = run_headless(spec)
    assert sim.end_reason == "the servicing mission is complete"
    assert sim.time_s < spec.duration_s, "it ends on its own before the planned duration"
    (mission,) = sim.servicing.fleet.missions()
    assert mission.status.value == "complete" and [p.value for p in mission.parts_installed] == ["radiator_panel"]
    (ended,) = sim.faults.book.ended
    assert ended.fault.kind.value == "micrometeoroid" and ended.how == "repaired"
    i = sim.satellite_ids.index("D-01-04")
    assert sim.thermal.radiator_area_fraction[i] == 1.0
    assert not bool(sim.workload.drained[i]), "back in service after checkout"


def test_without_the_autopilot_the_hit_radiator_stays_damaged():
    sim = Simulation(load_mission("servicing-demo"))
    sim.take_over()
    sim.run_until(2 * 86400)
    assert not sim.servicing.fleet.missions()
    assert sim.faults.book.active, "nobody repairs it"
    i = sim.satellite_ids.index("D-01-04")
    assert sim.thermal.radiator_area_fraction[i] == 0.4


def test_the_first_shift_tutorial_autopilot_takes_every_step_and_passes():
    spec = load_mission("first-shift")
    sim = run_headless(spec)
    assert sim.end_reason == "your first shift is done"
    assert sim.walkthrough.finished and sim.walkthrough.steps_done == len(spec.steps) == 32
    assert sim.walkthrough.done_s == sorted(sim.walkthrough.done_s), "steps are taken in order"
    score = sim.objectives.score()
    assert score.grade == "pass" and score.value == 1.0
    i = sim.satellite_ids.index("T-01-04")
    assert bool(sim.servicing.maintenance.get(i)) and bool(sim.workload.drained[i])


def test_the_first_shift_tutorial_fails_a_no_op_operator():
    spec = load_mission("first-shift")
    sim = Simulation(spec)
    sim.take_over()
    sim.run_until(7 * 3600)
    sim.finish_objectives()
    assert sim.walkthrough.steps_done == 0
    assert sim.objectives.score().grade == "fail"
    assert {r.id: r.status for r in sim.objectives.results()} == {
        "walkthrough": "missed", "acknowledged": "missed", "maintenance": "missed"}


def test_the_megaconstellation_loads_and_steps_at_scale():
    import numpy as np

    spec = load_mission("megaconstellation")
    assert len(spec.satellites) == 10_080 and len({s.id for s in spec.satellites}) == 10_080
    assert sorted({s.shell for s in spec.satellites}) == ["A", "B", "C", "D"] and len(spec.ground_stations) == 8
    sim = Simulation(spec)
    for _ in range(20):
        sim.step()
    snap = sim.snapshot()
    assert np.isfinite(snap.battery_soc).all() and np.isfinite(snap.radiator_temp_c).all()
    assert sim.workload_metrics()["utilization_now"] > 0.0, "jobs start on the fleet"
