"""Servicing missions inside the Simulation: a dispatched vehicle phases along the target's plane at the
drift rate of its phasing orbit (checked against two-body mean motions computed here), waits until the
target is drained and in maintenance, and the parts it swaps restore what the faults took; maintenance
shelves the satellite's alarms with its reason until it ends; impossible dispatches are refused and
change nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import Simulation, load_mission
from engine.commands import (
    AbortServicing,
    CommandError,
    DispatchServicer,
    DrainSatellite,
    EndMaintenance,
    InjectFault,
    SetMaintenance,
)
from engine.faults import FaultRequest
from engine.gpu_health import GpuHealthState

MU_KM3_S2 = 398600.8
R_KM = 6378.135
DAY_S = 86400.0
PHASING_TOLERANCE = 0.02
"""The phase angle at dispatch is 90° less the drift over the first ten minutes (a fraction of a degree)."""

FLEET = """
[mission]
id = "servicing"
title = "Servicing test fleet"
epoch = "2026-03-21T00:00:00Z"
duration = "30d"
step = "10m"
seed = 9

[hardware]
gpus = 4

[[shell]]
name = "A"
altitude_km = 550
inclination_deg = 53
planes = 3
sats_per_plane = 4
phasing = 1

[[ground_station]]
id = "svalbard"
lat_deg = 78.23
lon_deg = 15.39
min_elevation_deg = 5

[network]
telemetry = "ideal"

[[job]]
id = "WORK"
gpus = 4
duration = "20d"
checkpoint_interval = "1h"
checkpoint_size_gb = 10

[[servicer]]
id = "MRV-1"
near = "A-01-01"
delta_v_m_s = 150
spares = { gpu_board = 2, battery_module = 1 }
mission_cost_musd = 25
part_cost_musd = { gpu_board = 4 }
"""

TARGET = "A-01-01"


@pytest.fixture
def sim(write_mission) -> Simulation:
    return Simulation(load_mission(write_mission(FLEET, "servicing.toml")))


def drift_deg_per_day(altitude_km: float, offset_km: float) -> float:
    """Two-body mean motion difference between the target's orbit and one `offset_km` below it."""
    n = lambda h: math.sqrt(MU_KM3_S2 / (R_KM + h) ** 3)  # noqa: E731
    return math.degrees(n(altitude_km - offset_km) - n(altitude_km)) * DAY_S


def hohmann_m_s(from_km: float, to_km: float) -> float:
    """Both burns of a Hohmann transfer between circular orbits (vis-viva), m/s."""
    r1, r2 = R_KM + from_km, R_KM + to_km
    a = (r1 + r2) / 2
    v1, v2 = math.sqrt(MU_KM3_S2 / r1), math.sqrt(MU_KM3_S2 / r2)
    p1, p2 = math.sqrt(MU_KM3_S2 * (2 / r1 - 1 / a)), math.sqrt(MU_KM3_S2 * (2 / r2 - 1 / a))
    return 1000.0 * (abs(p1 - v1) + abs(v2 - p2))


def phase(mission, kind: str):
    return next(p for p in mission.timeline if p.kind.value == kind)


def prepare_target(sim: Simulation) -> None:
    sim.apply(DrainSatellite(TARGET))
    sim.apply(SetMaintenance(TARGET, "GPU board and battery swap", 40 * DAY_S))


def test_a_mission_phases_at_the_drift_rate_waits_for_the_target_and_restores_what_it_swaps(sim):
    sim.run_until(600)
    i = sim.satellite_ids.index(TARGET)
    sim.apply(InjectFault(FaultRequest("gpu_failure", satellite=TARGET, gpu=1)))
    sim.apply(InjectFault(FaultRequest("battery_cell_loss", satellite=TARGET, params={"fraction": 0.3})))
    nominal_kwh = float(sim.hw.battery_kwh[i])
    sim.apply(DispatchServicer("MRV-1", TARGET, ("gpu_board", "battery_module")))
    mission = sim.servicing.fleet.missions()[0]

    phasing = phase(mission, "phasing")
    expected_s = 90.0 / drift_deg_per_day(550.0, 20.0) * DAY_S  # parked a quarter turn behind; drops 20 km
    assert phasing.duration_s == pytest.approx(expected_s, rel=PHASING_TOLERANCE)
    assert mission.plane_change_deg < 0.05
    assert mission.delta_v_planned_m_s == pytest.approx(2 * hohmann_m_s(550.0, 530.0), rel=1e-3)

    waiting_from = phase(mission, "awaiting_target").start_s
    sim.run_until(waiting_from + 2 * DAY_S)
    mission = sim.servicing.fleet.mission(mission.mission_id)
    assert mission.phase.kind.value == "awaiting_target", "no docking with a satellite still in service"
    prepare_target(sim)
    for _ in range(40):  # docking, swaps and checkout: days (lognormal draws)
        sim.run_until(sim.time_s + DAY_S / 2)
        mission = sim.servicing.fleet.mission(mission.mission_id)
        if mission.status.value != "active":
            break
    assert mission.status.value == "complete", mission
    installed = {p.value for p in mission.parts_installed}
    failed = {p.value for p in mission.parts_failed}
    assert installed | failed == {"gpu_board", "battery_module"}
    snap = sim.snapshot()
    if "gpu_board" in installed:
        assert sim.health.state[i, 1] in (GpuHealthState.OK, GpuHealthState.DEGRADED)
    if "battery_module" in installed:
        assert snap.battery_capacity_kwh[i] == pytest.approx(nominal_kwh)
    repaired = {end.fault.kind.value for end in sim.faults.book.ended if end.how == "repaired"}
    assert repaired == {"gpu_failure" if "gpu_board" in installed else None,
                        "battery_cell_loss" if "battery_module" in installed else None} - {None}
    servicer = sim.servicing.fleet.servicer("MRV-1")
    assert servicer.spares[next(p for p in servicer.spares if p.value == "gpu_board")] == 1
    assert servicer.cost_musd == pytest.approx(25 + 4)


def test_maintenance_shelves_the_satellites_alarms_until_it_ends(sim):
    sim.run_until(600)
    sim.apply(InjectFault(FaultRequest("battery_cell_loss", satellite=TARGET, params={"fraction": 0.5})))
    sim.step()
    alarm = next(a for a in sim.alarms() if a.satellite == TARGET)
    assert alarm.shelved_until_s is None
    sim.apply(SetMaintenance(TARGET, "battery swap", 3600.0))
    alarm = sim.alarm_board.get(alarm.id)
    assert alarm.shelve_reason == "maintenance: battery swap" and alarm.shelved_until_s == pytest.approx(600 + 600 + 3600)
    sim.apply(InjectFault(FaultRequest("pump_failure", satellite=TARGET)))
    sim.step()
    new = [a for a in sim.alarms() if a.satellite == TARGET and a.quantity == "coolant_flow_fraction"]
    assert new and new[0].shelve_reason == "maintenance: battery swap", "raised during maintenance: shelved at once"
    sim.run_until(600 + 600 + 3600 + 600)
    assert TARGET not in {sim.satellite_ids[s] for s in sim.servicing.maintenance}
    assert all(not a.shelve_reason.startswith("maintenance") for a in sim.alarms() if a.satellite == TARGET)
    kinds = [e.kind.value for e in sim.drain_events()]
    assert "maintenance_begin" in kinds and "maintenance_end" in kinds


def test_maintenance_cannot_end_while_a_servicer_works_on_the_satellite(sim):
    prepare_target(sim)
    sim.apply(DispatchServicer("MRV-1", TARGET, ("gpu_board",)))
    with pytest.raises(CommandError, match="target of servicing mission svc-1"):
        sim.apply(EndMaintenance(TARGET))


def test_a_cross_plane_dispatch_without_the_delta_v_is_refused_and_changes_nothing(sim):
    before = sim.servicing.fleet.servicer("MRV-1")
    with pytest.raises(CommandError) as caught:
        sim.apply(DispatchServicer("MRV-1", "A-02-01", ("gpu_board",)))
    assert "change plane" in str(caught.value) and "has 150 m/s" in str(caught.value)
    assert sim.servicing.fleet.servicer("MRV-1") == before and not sim.servicing.fleet.missions()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (DispatchServicer("MRV-9", TARGET, ("gpu_board",)), "MRV-9"),
        (DispatchServicer("MRV-1", TARGET, ("warp_core",)), "unknown part 'warp_core'"),
        (DispatchServicer("MRV-1", TARGET, ("battery_module", "battery_module")), "battery_module"),
        (DispatchServicer("MRV-1", "Z-1", ("gpu_board",)), "Z-1"),
        (SetMaintenance(TARGET, "", 3600.0), "needs a reason"),
        (SetMaintenance(TARGET, "swap", -1.0), "between 0 and 365 days"),
        (EndMaintenance(TARGET), "is not in maintenance"),
        (AbortServicing("svc-7"), "no servicing mission 'svc-7'"),
    ],
)
def test_bad_servicing_commands_are_refused_with_the_reason(sim, command, message):
    with pytest.raises(CommandError) as caught:
        sim.apply(command)
    assert message in str(caught.value)
    assert not sim.servicing.fleet.missions() and not sim.servicing.maintenance


def test_an_aborted_mission_frees_the_servicer(sim):
    sim.apply(DispatchServicer("MRV-1", TARGET, ("gpu_board",)))
    sim.run_until(2 * DAY_S)
    sim.apply(AbortServicing("svc-1"))
    sim.run_until(sim.time_s + 3 * DAY_S)
    assert sim.servicing.fleet.mission("svc-1").status.value == "aborted"
    assert not sim.servicing.fleet.servicer("MRV-1").busy
    messages = [e.message for e in sim.drain_events() if e.kind.value == "servicing"]
    assert any("aborted" in m for m in messages)


def test_servicing_is_deterministic(write_mission):
    def run():
        sim = Simulation(load_mission(write_mission(FLEET, "servicing.toml")))
        prepare_target(sim)
        sim.apply(DispatchServicer("MRV-1", TARGET, ("gpu_board",)))
        sim.run_until(4 * DAY_S)
        return [(p.kind, p.status, p.start_s, p.end_s) for p in sim.servicing.fleet.mission("svc-1").timeline]
    assert run() == run()


def test_the_report_lists_faults_and_servicing_missions(sim):
    import json

    from engine.report import build_report

    sim.apply(InjectFault(FaultRequest("gpu_failure", satellite=TARGET, gpu=0)))
    sim.apply(DispatchServicer("MRV-1", TARGET, ("gpu_board",)))
    sim.run_until(DAY_S)
    report = json.loads(json.dumps(build_report(sim)))
    assert report["faults"]["injected"] == 1 and report["faults"]["list"][0]["kind"] == "gpu_failure"
    assert report["faults"]["by_source"] == {"operator": 1}
    (mission,) = report["servicing"]["missions"]
    assert mission["target"] == TARGET and mission["parts"] == ["gpu_board"] and mission["status"] == "active"
    assert report["servicing"]["servicers"][0]["id"] == "MRV-1" and report["servicing"]["total_cost_musd"] == 25.0
