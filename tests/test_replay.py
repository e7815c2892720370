"""Deterministic replay from the command journal: a run with operator commands (some queued for contact),
a fault injection, a takeover from the autopilot, walkthrough actions and a short last step, replayed from
mission + seed + journal (also after a round trip through JSON), gives identical snapshots and reports; a
journal with one command left out does not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine import load_mission
from engine.commands import DrainSatellite, InjectFault, ResetGpu, SetGpuPowerCap
from engine.faults import FaultRequest
from engine.journal import command_from_dict, command_to_dict, entry_from_dict, entry_to_dict
from engine.replay import replay
from engine.report import build_report
from engine.simulation import Simulation
from tests.test_faults import FLEET

EXTRA = """
[[autopilot]]
id = "late-drain"
at = "3h"
command = { name = "drain", satellite = "A-02-02" }

[[step]]
id = "map"
prompt = "Press 3"
expect = "view:map"
"""


def _snapshot_arrays(sim: Simulation) -> dict[str, np.ndarray]:
    snap = sim.snapshot()
    return {name: np.asarray(value) for name, value in vars(snap).items() if isinstance(value, np.ndarray)}


@pytest.fixture
def recorded(write_mission):
    spec = load_mission(write_mission(FLEET + EXTRA, "replay.toml"))
    sim = Simulation(spec)
    sim.run_until(600)
    sim.note_action("view:map")
    sim.apply(SetGpuPowerCap("A-01-01", 500.0))
    sim.run_until(1800)
    sim.apply(InjectFault(FaultRequest("ecc_storm", satellite="A-01-03", params={"multiplier": 50.0}, duration_s=3600.0)))
    sim.apply(ResetGpu("A-03-04", 1))  # probably out of contact: queued
    sim.run_until(2 * 3600)
    sim.take_over()  # the autopilot's 3h drain never happens
    sim.apply(DrainSatellite("A-01-02"))
    sim.run_until(4 * 3600 + 7)  # a short last step
    return spec, sim


def test_a_replay_from_the_journal_is_identical(recorded):
    spec, sim = recorded
    kinds = [e.kind for e in sim.journal]
    assert kinds == ["action", "command", "command", "command", "take_over", "command", "step"]
    again = replay(spec, sim.journal)
    assert again.step_index == sim.step_index and again.time_s == sim.time_s
    first, second = _snapshot_arrays(sim), _snapshot_arrays(again)
    assert first.keys() == second.keys() and first
    for name in first:
        assert np.array_equal(first[name], second[name], equal_nan=True), name
    assert json.dumps(build_report(sim), sort_keys=True) == json.dumps(build_report(again), sort_keys=True)
    assert not bool(sim.workload.drained[sim.satellite_ids.index("A-02-02")]), "taken over before the autopilot drained"
    assert again.walkthrough.finished and again.command_log == sim.command_log


def test_the_journal_survives_json_and_a_tampered_one_gives_another_run(recorded):
    spec, sim = recorded
    rows = json.loads(json.dumps([entry_to_dict(e) for e in sim.journal]))
    entries = [entry_from_dict(row) for row in rows]
    assert entries == sim.journal
    tampered = [e for e in entries if not (e.kind == "command" and isinstance(e.command, SetGpuPowerCap))]
    other = replay(spec, tampered, until_step=sim.step_index)
    assert not np.array_equal(other.snapshot().gpu_power_w, sim.snapshot().gpu_power_w)


def test_commands_convert_both_ways_and_bad_tables_are_refused():
    command = InjectFault(FaultRequest("gpu_hang", satellite="A-01-01", gpu=2, duration_s=60.0))
    table = command_to_dict(command)
    assert table["name"] == "inject_fault" and table["request"]["kind"] == "gpu_hang"
    back = command_from_dict(json.loads(json.dumps(table)))
    assert back.request.kind == "gpu_hang" and back.request.gpu == 2 and back == InjectFault(back.request)
    with pytest.raises(ValueError, match="unknown command 'self_destruct'"):
        command_from_dict({"name": "self_destruct"})
    with pytest.raises(ValueError, match="needs exactly the keys satellite"):
        command_from_dict({"name": "drain", "satelite": "A-01-01"})
    with pytest.raises(ValueError, match="unknown journal entry kind"):
        entry_from_dict({"kind": "teleport", "step_index": 0, "time_s": 0.0})
