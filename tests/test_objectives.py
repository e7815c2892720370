"""Training objectives and the score: met at the first check where the metric reaches its target,
missed at the deadline (with partial credit on >=), fail gates failed at the first violation; the
weighted score and grade; the report carries both; bad metrics are refused at load with the key."""

from __future__ import annotations

import pytest

from engine import load_mission
from engine.mission import MissionError
from engine.report import build_report
from engine.runner import run_headless
from tests.test_faults import FLEET

OBJECTIVES = """
[[objective]]
id = "progress"
description = "TRAIN reaches 5% within the hour"
metric = "job('TRAIN').progress"
op = ">="
target = 0.05
deadline = "1h"
weight = 2

[[objective]]
id = "impossible"
kind = "secondary"
metric = "job('TRAIN').progress"
target = 1.0
deadline = "2h"
weight = 1

[[objective]]
id = "no-failed-gpus"
kind = "fail_gate"
metric = "fleet.gpus_failed"
op = "=="
target = 0
"""


def test_objectives_are_decided_with_their_times_and_scored(write_mission):
    spec = load_mission(write_mission(FLEET + OBJECTIVES, "training.toml"))
    sim = run_headless(spec, until_s=3 * 3600)
    results = {r.id: r for r in sim.objectives.results()}
    met = results["progress"]
    assert met.status == "met" and met.decided_s <= 3600 and met.value >= 0.05
    impossible = results["impossible"]
    assert impossible.status == "missed" and impossible.decided_s == pytest.approx(7200, abs=sim.step_s)
    assert impossible.credit == pytest.approx(impossible.value / 1.0)
    gate = results["no-failed-gpus"]
    assert gate.status == "met", "no GPU fails in three hours of this seed"
    score = sim.objectives.score()
    assert score.value == pytest.approx((2 * 1.0 + 1 * impossible.credit) / 3, abs=1e-6)
    v = score.value
    expected = "gold" if v >= 0.9 else "silver" if v >= 0.75 else "bronze" if v >= 0.6 else "fail"
    assert score.grade == expected
    report = build_report(sim)
    assert [o["id"] for o in report["objectives"]] == ["progress", "impossible", "no-failed-gpus"]
    assert report["score"]["value"] == score.value and report["score"]["grade"] == score.grade


def test_an_objective_judged_at_its_deadline_counts_only_the_value_then(write_mission):
    text = FLEET + """
[[objective]]
id = "early"
description = "more than 10 minutes have passed (met at the first check, long before the deadline)"
metric = "sim.time"
op = ">"
target = 600
deadline = "1h"

[[objective]]
id = "at-deadline"
metric = "sim.time"
op = ">"
target = 600
deadline = "1h"
judge = "deadline"

[[objective]]
id = "over-by-then"
kind = "secondary"
metric = "sim.time < 30m"
op = "=="
target = true
deadline = "1h"
judge = "deadline"

[[objective]]
id = "at-the-end"
kind = "secondary"
metric = "sim.time"
op = ">="
target = 7200
judge = "deadline"
"""
    sim = run_headless(load_mission(write_mission(text, "judged.toml")), until_s=2 * 3600)
    results = {r.id: r for r in sim.objectives.results()}
    assert results["early"].status == "met" and results["early"].decided_s == pytest.approx(600 + sim.step_s)
    assert results["at-deadline"].status == "met" and results["at-deadline"].decided_s == pytest.approx(3600)
    assert results["over-by-then"].status == "missed" and results["over-by-then"].decided_s == pytest.approx(3600), \
        "it held for the first half hour, but not at the deadline"
    assert results["at-the-end"].status == "met" and results["at-the-end"].decided_s == pytest.approx(7200)


def test_a_failed_gate_fails_the_mission(write_mission):
    gate = OBJECTIVES + """
[[event]]
id = "break"
at = "10m"
fault = { kind = "gpu_failure", satellite = "A-01-01", gpu = 0 }
"""
    sim = run_headless(load_mission(write_mission(FLEET + gate, "gate.toml")), until_s=3600)
    result = next(r for r in sim.objectives.results() if r.id == "no-failed-gpus")
    assert result.status == "failed" and result.decided_s == pytest.approx(600 + sim.step_s, abs=sim.step_s)
    score = sim.objectives.score()
    assert score.gate_failed and score.value == 0.0 and score.grade == "fail"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[objective]]\nid = "x"\nmetric = "job(\'TRAIN\').progres"\ntarget = 1\n', "objective[0].metric: column"),
        ('[[objective]]\nid = "x"\nmetric = "job(\'NOPE\').progress"\ntarget = 1\n', "objective[0].metric"),
        ('[[objective]]\nid = "x"\nmetric = "fleet.min_soc"\nop = "~"\ntarget = 1\n', "objective[0].op"),
        ('[[objective]]\nid = "x"\nkind = "fail_gate"\nmetric = "fleet.min_soc"\ntarget = 0.2\njudge = "deadline"\n',
         "judge = 'deadline' applies to primary and secondary"),
    ],
)
def test_bad_objectives_are_refused_at_load(write_mission, extra, message):
    with pytest.raises(MissionError) as caught:
        load_mission(write_mission(FLEET + extra, "bad.toml"))
    assert message in str(caught.value) and "bad.toml:" in str(caught.value)


HINTS = """
[[hint]]
id = "look-at-the-battery"
when = "sat('A-01-01').battery_soc < 0.999 for 5m"
text = "A-01-01 is discharging: check its power pane"

[scoring]
hint_penalty = 0.1
"""


def test_hints_show_once_when_their_condition_holds_and_cost_score(write_mission):
    spec = load_mission(write_mission(FLEET + OBJECTIVES + HINTS, "hints.toml"))
    sim = run_headless(spec, until_s=3 * 3600)
    (shown,) = sim.hints.fired
    assert shown.event_id == "look-at-the-battery"
    assert sim.objectives.hints_shown == 1
    report = build_report(sim)
    assert report["hints"][0]["text"] == "A-01-01 is discharging: check its power pane"
    results = {r.id: r for r in sim.objectives.results()}
    assert results["no-failed-gpus"].status == "met"
    base = (2 * 1.0 + results["impossible"].credit) / 3
    assert sim.objectives.score().value == pytest.approx(base * 0.9, abs=1e-6)


def test_a_bad_hint_condition_is_refused_at_load(write_mission):
    text = FLEET + '[[hint]]\nid = "h"\nwhen = "fleet.nonsense > 1"\ntext = "x"\n'
    with pytest.raises(MissionError) as caught:
        load_mission(write_mission(text, "bad.toml"))
    assert "hint[0].when: column" in str(caught.value)


def test_the_debrief_reveals_the_faults_and_lists_objectives_actions_and_hints(write_mission, tmp_path):
    import subprocess
    import sys

    text = FLEET.replace("seed = 5\n", "seed = 5\nhide_faults = true\n") + OBJECTIVES + HINTS + """
[[event]]
id = "break"
at = "10m"
fault = { kind = "radiator_damage", satellite = "A-01-03", params = { fraction = 0.3 } }

[[event]]
id = "drain"
at = "20m"
command = { name = "drain", satellite = "A-01-03" }
"""
    path = write_mission(text, "debrief.toml")
    out = tmp_path / "debrief.md"
    subprocess.run([sys.executable, "-m", "console", "run", str(path), "--until", "2h", "--debrief", str(out), "--quiet"],
                   check=True, capture_output=True, env={"OPENBLAS_NUM_THREADS": "1", "PATH": ""})
    markdown = out.read_text(encoding="utf-8")
    assert markdown.startswith("# Debrief: Fault test fleet")
    assert "**Radiator damage** on A-01-03 (timeline, F-0001)" in markdown, "hidden during the run, revealed here"
    assert "- T+00:20:00 timeline event drain: A-01-03 drained" in markdown
    assert "| TRAIN reaches 5% within the hour | primary | met |" in markdown
    assert "A-01-01 is discharging" in markdown
