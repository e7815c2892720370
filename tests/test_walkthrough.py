"""Guided walkthroughs (``[[step]]``): steps taken in order, each finished by the action it expects (seen
only while it is current), its check, or both; directives name the next step; bad steps are refused at
load with their file, line and key."""

from __future__ import annotations

import pytest

from engine import load_mission
from engine.commands import DrainSatellite
from engine.mission import MissionError
from engine.report import build_report
from engine.simulation import Simulation
from tests.test_faults import FLEET

STEPS = """
[[step]]
id = "map"
prompt = "Press 3 for the ground-track map."
expect = "view:map"
highlight = "map"

[[step]]
id = "drain"
prompt = "Drain A-01-02: select it and press d."
expect = "command:drain"
satellite = "A-01-02"
check = "sat('A-01-02').drained"
highlight = "fleet"

[[step]]
id = "wait"
prompt = "Let the clock run past T+30m."
check = "sim.time > 30m"

[[step]]
id = "help"
prompt = "Press ? for help."
expect = "open:help"

[[objective]]
id = "walkthrough"
metric = "sim.steps_done"
target = 4
"""


@pytest.fixture
def sim(write_mission) -> Simulation:
    text = FLEET.replace('seed = 5', 'seed = 5\nkind = "training"') + STEPS
    return Simulation(load_mission(write_mission(text, "walkthrough.toml")))


def test_steps_finish_in_order_on_their_actions_and_checks(sim):
    walk = sim.walkthrough
    assert walk.current.id == "map"
    sim.note_action("open:help")  # step 4's action, before it is current: it does not count later either
    sim.note_action("view:fleet")
    assert walk.current.id == "map" and not sim.drain_directives()
    sim.note_action("view:map")
    assert walk.current.id == "drain" and walk.done_s == [0.0]
    (directive,) = sim.drain_directives()
    assert (directive.kind, directive.event_id, directive.text, directive.pane) == \
        ("step", "drain", "Drain A-01-02: select it and press d.", "fleet")

    sim.apply(DrainSatellite("A-01-03"))  # the wrong satellite
    assert walk.current.id == "drain"
    sim.apply(DrainSatellite("A-01-02"))
    assert walk.current.id == "wait", "drained at once: the check holds when the command is applied"

    sim.run_until(20 * 60)
    assert walk.current.id == "wait"
    sim.run_until(40 * 60)
    assert walk.current.id == "help"
    assert 30 * 60 < walk.done_s[2] <= 30 * 60 + sim.step_s + 1e-9, "done at the first step end past T+30m"
    assert sim.objectives.results()[0].status == "pending"

    sim.note_action("open:help")
    assert walk.finished and walk.steps_done == 4
    assert sim.drain_directives()[-1].text == "walkthrough complete"
    assert sim.objectives.results()[0].status == "met", "decided when the last step is done, not at the next step"
    report = build_report(sim)
    assert report["walkthrough"]["steps_done"] == 4 and report["walkthrough"]["steps_total"] == 4
    assert [s["id"] for s in report["walkthrough"]["steps"]] == ["map", "drain", "wait", "help"]


def test_a_step_with_a_check_waits_for_it_after_its_action(write_mission):
    text = FLEET + """
[[step]]
id = "run-long"
prompt = "Run the clock past T+10m."
expect = "run"
check = "sim.time > 10m"
"""
    sim = Simulation(load_mission(write_mission(text, "wait.toml")))
    sim.run_until(15 * 60)
    assert sim.walkthrough.steps_done == 0, "the check holds, but the action was never seen"
    sim.note_action("run")
    assert sim.walkthrough.finished and sim.walkthrough.done_s == [15 * 60]
    fresh = Simulation(load_mission(write_mission(text, "wait.toml")))
    fresh.note_action("run")
    progress = fresh.walkthrough.progress()
    assert progress[0].status == "current" and progress[0].action_seen and fresh.walkthrough.waiting_on_check
    fresh.run_until(5 * 60)
    assert not fresh.walkthrough.finished
    fresh.run_until(15 * 60)
    assert fresh.walkthrough.finished and 10 * 60 < fresh.walkthrough.done_s[0] <= 10 * 60 + fresh.step_s


def test_an_autopilot_plays_a_walkthrough_with_presses_and_commands(write_mission):
    text = FLEET + STEPS.split("[[objective]]")[0] + """
[[autopilot]]
id = "map"
at = "1m"
press = { action = "view:map" }

[[autopilot]]
id = "drain"
at = "2m"
command = { name = "drain", satellite = "A-01-02" }

[[autopilot]]
id = "help"
at = "40m"
press = { action = "open:help" }
"""
    sim = Simulation(load_mission(write_mission(text, "auto-walk.toml")))
    sim.run_until(3600)
    assert sim.walkthrough.finished
    presses = [d for d in sim.drain_directives() if d.kind == "press"]
    assert [d.text for d in presses] == ["view:map", "open:help"]


def test_an_autopilot_press_must_be_a_console_action(write_mission):
    text = FLEET + '\n[[autopilot]]\nid = "x"\nat = "1m"\npress = { action = "command:drain" }\n'
    with pytest.raises(MissionError, match="autopilot\\[0\\].press.action: .*unknown console action 'command:drain'"):
        load_mission(write_mission(text, "bad-press.toml"))


def test_unknown_console_actions_are_refused_and_change_nothing(sim):
    with pytest.raises(ValueError, match="unknown console action 'view:mars'"):
        sim.note_action("view:mars")
    assert sim.walkthrough.current.id == "map"


def test_a_no_op_operator_finishes_only_the_steps_that_need_no_action(write_mission):
    text = FLEET + """
[[step]]
id = "wait"
prompt = "Watch the clock run to T+10m."
check = "sim.time >= 10m"

[[step]]
id = "map"
prompt = "Press 3."
expect = "view:map"
"""
    sim = Simulation(load_mission(write_mission(text, "noop.toml")))
    sim.run_until(3600)
    assert sim.walkthrough.steps_done == 1 and sim.walkthrough.current.id == "map"


@pytest.mark.parametrize("step, message", [
    ('prompt = "x"\nexpect = "view:mars"', "step[0].expect: unknown action 'view:mars'"),
    ('prompt = "x"\nexpect = "command:self_destruct"', "unknown command 'self_destruct'"),
    ('prompt = "x"', "a step needs an expect"),
    ('prompt = "x"\ncheck = "sat(\'Z-09-09\').drained"', "step[0].check"),
    ('prompt = "x"\ncheck = "sat(\'A-01-01\').battery_soc"', "a condition must be true or false"),
    ('prompt = "x"\nexpect = "select"\nsatellite = "Z-09-09"', "no satellite 'Z-09-09'"),
    ('prompt = "x"\nexpect = "run"\nhighlight = "radar"', "step[0].highlight"),
])
def test_bad_steps_are_refused_with_file_line_and_key(write_mission, step, message):
    with pytest.raises(MissionError) as caught:
        load_mission(write_mission(FLEET + f'\n[[step]]\nid = "bad"\n{step}\n', "bad-step.toml"))
    assert message in str(caught.value) and "bad-step.toml:" in str(caught.value)
