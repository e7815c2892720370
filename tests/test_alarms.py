"""Telemetry limits and alarms, and the operator commands that act on them."""

from __future__ import annotations

import numpy as np
import pytest

from engine import EventKind, MissionError, Simulation, load_mission
from engine.alarms import AlarmBoard
from engine.commands import AcknowledgeAlarm, CommandError, SetUtilization, ShelveAlarm, UnshelveAlarm
from engine.mission.models import Limits
from tests.conftest import SMALL_MISSION
from tests.test_power import UNDERSIZED_ARRAY


def board_for_one() -> AlarmBoard:
    return AlarmBoard(Limits(), ("S-1",))


def values(soc: float) -> dict[str, np.ndarray]:
    return {
        "battery_soc": np.array([soc]),
        "gpu_temp_c": np.array([40.0]),
        "radiator_temp_c": np.array([20.0]),
        "loop_temp_c": np.array([25.0]),
        "unserved_power_w": np.array([0.0]),
        "array_output_fraction": np.array([1.0]),
        "battery_capacity_fraction": np.array([1.0]),
        "coolant_flow_fraction": np.array([1.0]),
    }


def test_alarm_lifecycle_raise_escalate_downgrade_clear_with_deadband():
    board = board_for_one()
    assert board.evaluate(0.0, values(0.5)) == []
    (raised,) = board.evaluate(10.0, values(0.30))
    assert raised.change == "raised" and raised.alarm.severity == "yellow" and raised.alarm.limit == 0.35
    board.acknowledge(raised.alarm.id, 15.0)
    (escalated,) = board.evaluate(20.0, values(0.20))
    assert escalated.change == "escalated" and escalated.alarm.severity == "red"
    assert not escalated.alarm.acknowledged  # a worse condition needs a fresh acknowledgement
    assert board.evaluate(25.0, values(0.28)) == []  # inside the red deadband (0.25 + 0.05)
    (downgraded,) = board.evaluate(30.0, values(0.31))
    assert downgraded.change == "downgraded" and downgraded.alarm.severity == "yellow"
    assert downgraded.alarm.peak_severity == "red"
    assert board.evaluate(40.0, values(0.37)) == []  # inside the 0.05 deadband: still active
    (cleared,) = board.evaluate(50.0, values(0.41))
    assert cleared.change == "cleared" and cleared.alarm.cleared_s == 50.0
    assert cleared.alarm.side == "low" and cleared.alarm.value > cleared.alarm.limit  # back inside its low limit
    assert board.active() == [] and len(board.all()) == 1
    (again,) = board.evaluate(60.0, values(0.30))
    assert again.alarm.id == 1  # a new alarm; the old one stays in the history
    hot = values(0.30)
    hot["gpu_temp_c"] = np.array([120.0])
    (overheated,) = board.evaluate(70.0, hot)
    assert overheated.alarm.quantity == "gpu_temp_c" and overheated.alarm.side == "high"


def test_operator_actions_are_validated():
    board = board_for_one()
    board.evaluate(0.0, values(0.3))
    with pytest.raises(ValueError, match="no alarm"):
        board.acknowledge(7, 1.0)
    board.acknowledge(0, 1.0)
    with pytest.raises(ValueError, match="already acknowledged"):
        board.acknowledge(0, 2.0)
    with pytest.raises(ValueError, match="not shelved"):
        board.unshelve(0)
    board.evaluate(3.0, values(0.5))
    with pytest.raises(ValueError, match="already cleared"):
        board.shelve(0, 100.0, "late")


def run_collecting(sim: Simulation, seconds: float) -> list:
    events = []
    sim.run_until(sim.time_s + seconds)
    events.extend(sim.drain_events())
    return events


def test_low_battery_raises_alarms_in_a_running_fleet_and_clears_them_past_the_deadband(write_mission):
    sim = Simulation(load_mission(write_mission(UNDERSIZED_ARRAY)))
    events = run_collecting(sim, 86400)
    raised = [e for e in events if e.kind == EventKind.ALARM_RAISED and "battery_soc" in e.message]
    assert raised and all(e.value < 0.35 for e in raised)
    battery_alarms = [a for a in sim.alarms(active_only=False) if a.quantity == "battery_soc"]
    assert len(battery_alarms) == len(raised)
    levels = sim.snapshot().alarm_level
    assert set(np.nonzero(levels)[0]) == {sim.satellite_ids.index(a.satellite) for a in sim.alarms()}
    from engine.report import build_report

    report = build_report(sim)["alarms"]
    assert report["raised"] == len(sim.alarms(active_only=False))
    assert report["by_quantity"]["battery_soc"] == len(raised)
    for alarm in battery_alarms:
        if alarm.cleared_s is not None:
            assert alarm.cleared_s > alarm.raised_s and alarm.value >= 0.35 + 0.05 - 1e-12


def test_acknowledge_and_shelve_commands_through_the_simulation(write_mission):
    sim = Simulation(load_mission(write_mission(UNDERSIZED_ARRAY)))
    while not sim.alarms():
        sim.step()
    alarm = sim.alarms()[0]
    sim.drain_events()
    history_before = sim.alarms(active_only=False)
    with pytest.raises(CommandError, match="no alarm"):
        sim.apply(AcknowledgeAlarm(999))
    with pytest.raises(CommandError, match="shelve duration"):
        sim.apply(ShelveAlarm(alarm.id, -5))
    assert sim.alarms(active_only=False) == history_before and sim.drain_events() == []  # refused: nothing changed

    sim.apply(AcknowledgeAlarm(alarm.id))
    assert sim.alarm_board.get(alarm.id).acknowledged
    sim.apply(ShelveAlarm(alarm.id, 600, "known: eclipse season"))
    counts = sim.alarm_board.counts(sim.time_s)
    assert counts["shelved"] >= 1
    kinds = [e.kind for e in sim.drain_events()]
    assert kinds == [EventKind.ALARM_ACKNOWLEDGED, EventKind.OPERATOR_COMMAND, EventKind.ALARM_SHELVED, EventKind.OPERATOR_COMMAND]
    sim.apply(UnshelveAlarm(alarm.id))
    assert sim.alarm_board.get(alarm.id).shelved_until_s is None


def test_set_utilization_command_changes_gpu_power_and_refuses_bad_values(small_spec):
    sim = Simulation(small_spec)
    sim.step()
    busy = sim.snapshot().gpu_power_w.sum()
    with pytest.raises(CommandError, match="between 0 and 1"):
        sim.apply(SetUtilization(1.5))
    assert sim.utilization == 0.8
    sim.apply(SetUtilization(0.1))
    sim.step()
    assert sim.snapshot().gpu_power_w.sum() < 0.4 * busy


def test_limits_from_the_mission_file_override_defaults_and_are_validated(write_mission):
    text = SMALL_MISSION + "\n[limits.battery_soc]\nyellow_low = 0.6\n"
    spec = load_mission(write_mission(text))
    assert spec.limits.battery_soc.yellow_low == 0.6 and spec.limits.battery_soc.red_low == 0.25
    bad = write_mission(SMALL_MISSION + "\n[limits.battery_soc]\nyellow_low = 0.1\n", "bad.toml")
    with pytest.raises(MissionError) as caught:
        load_mission(bad)
    issue = caught.value.issues[0]
    assert issue.key_path == ("limits", "battery_soc") and "red_low < yellow_low" in issue.message
    assert issue.line == bad.read_text().splitlines().index("[limits.battery_soc]") + 1
