"""The mission timeline beyond faults: `on` engine events, commands by name (validated at load and by the
engine when they fire), clearing an event's faults, notify / focus / pause / set_speed directives, and
`end`, which stops a headless run; count and until cap repeated events; mission errors name the key."""

from __future__ import annotations

import pytest

from engine import load_mission
from engine.mission import MissionError
from engine.runner import run_headless
from engine.simulation import Simulation
from tests.test_faults import FLEET

TIMELINE = """
[[event]]
id = "drain-early"
at = "5m"
command = { name = "drain", satellite = "A-01-02" }

[[event]]
id = "hit"
at = "10m"
fault = { kind = "radiator_damage", satellite = "A-01-01", params = { fraction = 0.5 } }

[[event]]
id = "fix"
at = "30m"
clear = "hit"

[[event]]
id = "react"
on = "fault_injected"
on_satellite = "A-01-01"
delay = "1m"
notify = { text = "A-01-01 took damage: check its radiator", level = "warning" }

[[event]]
id = "look"
after = "react"
focus = { pane = "detail", satellite = "A-01-01" }

[[event]]
id = "slow"
at = "40m"
set_speed = 60

[[event]]
id = "hold"
at = "41m"
pause = true

[[event]]
id = "refused"
at = "42m"
command = { name = "cancel_job", job_id = "NO-SUCH-JOB" }

[[event]]
id = "done"
at = "1h"
end = "demo complete"
"""


@pytest.fixture
def sim(write_mission) -> Simulation:
    return Simulation(load_mission(write_mission(FLEET + TIMELINE, "timeline.toml")))


def test_commands_faults_clears_and_on_triggers_fire_in_order(sim):
    sim.run_until(3600 + sim.step_s)
    fired = [(f.event_id, f.time_s) for f in sim.timeline.fired]
    assert fired == [("drain-early", 300.0), ("hit", 600.0), ("react", 660.0), ("look", 660.0),
                     ("fix", 1800.0), ("slow", 2400.0), ("hold", 2460.0), ("refused", 2520.0), ("done", 3600.0)]
    i = sim.satellite_ids.index("A-01-02")
    assert bool(sim.workload.drained[i]), "the timeline's drain reached the workload"
    (ended,) = sim.faults.book.ended
    assert ended.how == "cleared" and ended.time_s == 1800.0 and ended.fault.kind.value == "radiator_damage"
    messages = [e.message for e in sim.drain_events()]
    assert any(m.startswith("timeline event drain-early: drain A-01-02") or "timeline event drain-early:" in m for m in messages)
    assert any("timeline event refused: command refused: no job 'NO-SUCH-JOB'" in m for m in messages)
    assert any(m == "timeline event react: A-01-01 took damage: check its radiator" for m in messages)


def test_directives_reach_whoever_runs_the_mission(sim):
    sim.run_until(3600 + sim.step_s)
    directives = [(d.kind, d.event_id, d.text, d.pane, d.satellite, d.speed) for d in sim.drain_directives()]
    assert directives == [
        ("notify", "react", "A-01-01 took damage: check its radiator", None, None, None),
        ("focus", "look", "", "detail", "A-01-01", None),
        ("set_speed", "slow", "", None, None, 60.0),
        ("pause", "hold", "", None, None, None),
        ("end", "done", "demo complete", None, None, None),
    ]
    assert sim.drain_directives() == []
    assert sim.end_reason == "demo complete"


def test_end_stops_a_headless_run(write_mission):
    spec = load_mission(write_mission(FLEET + TIMELINE, "timeline.toml"))
    sim = run_headless(spec, until_s=4 * 3600)
    assert sim.end_reason == "demo complete"
    assert sim.time_s == pytest.approx(3600.0 + sim.step_s, abs=sim.step_s)


def test_on_triggers_respect_count_and_the_satellite_filter(write_mission):
    text = FLEET + """
[[event]]
id = "outages"
every = "10m"
count = 4
fault = { kind = "station_outage", station = "madrid", duration = "2m" }

[[event]]
id = "each"
on = "station_outage"
count = 2
notify = { text = "a station went down" }
"""
    sim = Simulation(load_mission(write_mission(text, "on.toml")))
    sim.run_until(3600)
    fired = [f.event_id for f in sim.timeline.fired]
    assert fired.count("outages") == 4 and fired.count("each") == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[event]]\nid = "x"\nat = "1h"\ncommand = { name = "launch_nukes" }\n', "event[0].command"),
        ('[[event]]\nid = "x"\nat = "1h"\ncommand = { name = "drain", sat = "A-01-01" }\n', "has no key 'sat'"),
        ('[[event]]\nid = "x"\nat = "1h"\ncommand = { name = "reset_gpu", satellite = "A-01-01" }\n', "needs gpu"),
        ('[[event]]\nid = "x"\nat = "1h"\nnotify = { text = "hi" }\npause = true\n', "exactly one action"),
        ('[[event]]\nid = "x"\nat = "1h"\non = "aos"\nnotify = { text = "hi" }\n', "exactly one trigger"),
        ('[[event]]\nid = "x"\non = "meteor_shower"\nnotify = { text = "hi" }\n', "event[0].on"),
        ('[[event]]\nid = "x"\nat = "1h"\nclear = "y"\n', "which is not an event"),
        ('[[event]]\nid = "x"\nat = "1h"\nfocus = { pane = "basement" }\n', "event[0].focus.pane"),
    ],
)
def test_bad_timeline_events_are_refused_with_file_line_and_key(write_mission, extra, message):
    with pytest.raises(MissionError) as caught:
        load_mission(write_mission(FLEET + extra, "bad.toml"))
    assert message in str(caught.value) and "bad.toml:" in str(caught.value)


WHEN = """
[[event]]
id = "low-soc"
when = "sat('A-01-01').battery_soc < 0.99 and sim.time > 10m for 2m"
notify = { text = "A-01-01 is discharging", level = "warning" }

[[event]]
id = "every-drop"
when = "fleet.stations_up < 2"
repeat = true
count = 2
notify = { text = "a station is down" }

[[event]]
id = "outages"
every = "20m"
count = 3
fault = { kind = "station_outage", station = "madrid", duration = "5m" }
"""


def test_when_conditions_fire_once_after_their_hold_or_on_every_new_start(write_mission):
    sim = Simulation(load_mission(write_mission(FLEET + WHEN, "when.toml")))
    step = sim.step_s
    soc_low_since = None
    fired_at = None
    while sim.time_s < 3 * 3600:
        t = sim.time_s
        holds = float(sim.snapshot().battery_soc[sim.satellite_ids.index("A-01-01")]) < 0.99 and t > 600
        soc_low_since = (soc_low_since if soc_low_since is not None else t) if holds else None
        before = len(sim.timeline.fired)
        sim.step()
        new = [f for f in sim.timeline.fired[before:] if f.event_id == "low-soc"]
        if new and fired_at is None:
            fired_at = new[0].time_s
            assert soc_low_since is not None and t - soc_low_since >= 120 - 1e-9
            assert t - soc_low_since < 120 + step, "fires at the first check after two minutes of holding"
    assert fired_at is not None, "A-01-01 discharges in eclipse within three hours"
    fired = [f.event_id for f in sim.timeline.fired]
    assert fired.count("low-soc") == 1, "without repeat: once"
    assert fired.count("every-drop") == 2, "repeat: each new outage, capped by count"


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("sat('A-01-01').batery_soc < 0.3", "event[0].when: column 16: unknown satellite attribute 'batery_soc'"),
        ("sat('Z-9').battery_soc < 0.3", "event[0].when"),
        ("__import__('os')", "event[0].when"),
    ],
)
def test_bad_when_conditions_are_refused_at_load_with_their_column(write_mission, condition, message):
    text = FLEET + f'[[event]]\nid = "x"\nwhen = "{condition}"\nnotify = {{ text = "hi" }}\n'
    with pytest.raises(MissionError) as caught:
        load_mission(write_mission(text, "bad.toml"))
    assert message in str(caught.value) and "bad.toml:" in str(caught.value)


def test_an_autopilot_plays_its_steps_headless_with_their_captions(write_mission):
    text = FLEET + """
[[autopilot]]
id = "drain"
at = "2m"
caption = "Drain A-01-02 for its maintenance"
command = { name = "drain", satellite = "A-01-02" }

[[autopilot]]
id = "maintain"
after = "drain"
delay = "1m"
command = { name = "set_maintenance", satellite = "A-01-02", reason = "demo", duration = "1d" }
"""
    spec = load_mission(write_mission(text, "auto.toml"))
    sim = run_headless(spec, until_s=600)
    assert [f.event_id for f in sim.autopilot.fired] == ["drain", "maintain"]
    assert sim.servicing.maintenance[sim.satellite_ids.index("A-01-02")].reason == "demo"
    assert sim.event_counts.get("mission_note") == 1
    fresh = Simulation(spec)
    fresh.take_over()
    fresh.run_until(600)
    assert not fresh.autopilot.fired, "taken over before it started: nothing plays"


def test_a_training_mission_refuses_commands_it_does_not_allow_and_changes_nothing(write_mission):
    text = FLEET.replace('seed = 5', 'seed = 5\nkind = "training"\nallowed_commands = ["drain", "undrain"]') + """
[[event]]
id = "mission-drains"
at = "1m"
command = { name = "set_maintenance", satellite = "A-01-03", reason = "timeline", duration = "1h" }
"""
    from engine.commands import CommandError, DrainSatellite, SetMaintenance

    sim = Simulation(load_mission(write_mission(text, "allowed.toml")))
    with pytest.raises(CommandError, match=r"does not allow set maintenance \(allowed: drain, undrain\)"):
        sim.apply(SetMaintenance("A-01-02", "operator wants it", 3600.0))
    assert sim.servicing.maintenance.get(sim.satellite_ids.index("A-01-02")) is None
    assert sim.command_log[-1][1] == "operator" and "refused" in sim.command_log[-1][2]
    sim.apply(DrainSatellite("A-01-02"))
    assert bool(sim.workload.drained[sim.satellite_ids.index("A-01-02")])
    sim.run_until(120)
    assert sim.servicing.maintenance[sim.satellite_ids.index("A-01-03")].reason == "timeline", \
        "the mission's own timeline is not limited"


def test_allowed_commands_must_name_operator_commands(write_mission):
    text = FLEET.replace('seed = 5', 'seed = 5\nallowed_commands = ["drain", "self_destruct"]')
    with pytest.raises(MissionError) as caught:
        load_mission(write_mission(text, "bad-allowed.toml"))
    message = str(caught.value)
    assert "bad-allowed.toml:" in message and "allowed_commands" in message and "'self_destruct'" in message
