"""The mission condition language (engine.conditions) and its namespace over a Simulation
(engine.metrics_namespace): parsing, types, truth tables, columns in errors, refusing anything that is not
the language, ``for`` holds, references, and values that match the engine's own snapshot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import engine.conditions as conditions_module
from engine import Simulation, load_mission
from engine.commands import DrainSatellite, InjectFault
from engine.conditions import (
    BOOL,
    DURATION,
    MAX_NESTING,
    NAMESPACE,
    NUMBER,
    STRING,
    ConditionError,
    ConditionWatch,
    References,
    parse_condition,
    parse_metric,
)
from engine.faults import FaultRequest
from engine.metrics_namespace import SimulationMetrics, _covers_namespace, check_mission_ids
from engine.power import ShedLevel
from tests.conftest import SMALL_MISSION


class FakeSource:
    """A MetricSource over plain dicts keyed (id, attribute); a missing job reads as None."""

    def __init__(self, time_s: float = 0.0, **tables: dict):
        self.time_s = time_s
        self.tables = tables

    def _get(self, table: str, key) -> object:
        return self.tables.get(table, {}).get(key)

    def satellite(self, satellite_id, attribute):
        return self._get("sat", (satellite_id, attribute))

    def job(self, job_id, attribute):
        return self._get("job", (job_id, attribute))

    def station(self, station_id, attribute):
        return self._get("station", (station_id, attribute))

    def link(self, a, b, attribute):
        return self._get("link", (a, b, attribute))

    def fleet(self, attribute):
        return self._get("fleet", attribute)

    def jobs(self, attribute):
        return self._get("jobs", attribute)


def source(time_s: float = 7300.0) -> FakeSource:
    return FakeSource(
        time_s,
        sat={("A-01-01", "battery_soc"): 0.25, ("A-01-01", "sunlit"): False, ("A-01-01", "shed_level"): "CAPPED",
             ("A-01-01", "battery_energy_kwh"): 5.0, ("A-01-01", "battery_capacity_kwh"): 20.0,
             ("A-01-01", "telemetry_age_s"): 600.0, ("A-01-01", "route_hops"): None},
        job={("J-7", "state"): "RUNNING", ("J-7", "progress"): 0.4, ("J-7", "reason"): "", ("J-7", "submitted"): True,
             ("J-8", "submitted"): False},
        station={("svalbard", "up"): True},
        link={("A-01-01", "A-01-02", "state"): "DEGRADED", ("A-01-01", "A-01-02", "up"): True},
        fleet={"min_soc": 0.25, "alarms_red": 2, "gpus_failed": 0},
        jobs={"goodput": None, "running": 3},
    )


@pytest.mark.parametrize("text, expected", [
    ("sat('A-01-01').battery_soc < 0.3", True),
    ('sat("A-01-01").battery_soc >= 0.3', False),
    ("sat('A-01-01').battery_soc == 0.25 and fleet.min_soc <= 0.25", True),
    ("not sat('A-01-01').sunlit", True),
    ("sat('A-01-01').sunlit == false", True),
    ("sat('A-01-01').sunlit or fleet.alarms_red > 1", True),
    ("sat('A-01-01').sunlit or fleet.alarms_red > 2", False),
    ("sat('A-01-01').shed_level == 'CAPPED'", True),
    ("sat('A-01-01').shed_level != 'CAPPED'", False),
    ("job('J-7').state == 'RUNNING' and sim.time > '02:00:00'", True),
    ("job('J-7').state == 'RUNNING' and sim.time > '03:00:00'", False),
    ("sim.time >= 2h and sim.time < 2h + 5m", True),
    ("sat('A-01-01').telemetry_age_s == '10m'", True),
    ("sat('A-01-01').telemetry_age_s == 1m30s * 6 + 60s", True),
    ("station('svalbard').up and link('A-01-01', 'A-01-02').state == 'DEGRADED'", True),
    ("sat('A-01-01').battery_energy_kwh / sat('A-01-01').battery_capacity_kwh == 0.25", True),
    ("-sat('A-01-01').battery_soc < -0.2", True),
    ("job('J-7').reason == ''", True),
    ("true and not false", True),
    # precedence: not > and > or; parentheses override
    ("not fleet.gpus_failed == 0 or true", True),
    ("fleet.alarms_red > 5 and false or true", True),
    ("fleet.alarms_red > 5 and (false or true)", False),
    ("not (fleet.alarms_red > 5 or fleet.min_soc > 0.5)", True),
    # missing values: every comparison is false, a missing true/false counts as false
    ("job('J-8').state == 'RUNNING'", False),
    ("job('J-8').state != 'RUNNING'", False),
    ("not job('J-8').state == 'RUNNING'", True),
    ("job('J-8').submitted", False),
    ("jobs.goodput < 0.5 or jobs.goodput >= 0.5", False),
    ("sat('A-01-01').route_hops + 1 > 0", False),
    ("sat('A-01-01').battery_soc / (fleet.gpus_failed * 1) > 0", False),  # division by zero is missing
    ("jobs.running == 3", True),
])
def test_truth_table_against_a_fake_source(text, expected):
    assert parse_condition(text).evaluate(source()) is expected


def test_metrics_keep_their_values_and_types():
    assert parse_metric("job('J-7').progress").evaluate(source()) == 0.4
    assert parse_metric("job('J-7').progress * 100").evaluate(source()) == pytest.approx(40.0)
    assert parse_metric("sat('A-01-01').shed_level").evaluate(source()) == "CAPPED"
    assert parse_metric("sim.time").type == DURATION
    assert parse_metric("jobs.goodput").evaluate(source()) is None
    assert parse_metric("90s").evaluate(source()) == 90.0 and parse_metric("2d").evaluate(source()) == 172800.0


def test_for_reads_durations_in_every_form():
    assert parse_condition("fleet.min_soc < 0.3 for 2m").hold_s == 120.0
    assert parse_condition("fleet.min_soc < 0.3 for 1h30m").hold_s == 5400.0
    assert parse_condition("fleet.min_soc < 0.3 for '00:02:00'").hold_s == 120.0
    assert parse_condition("fleet.min_soc < 0.3").hold_s is None
    spec_sketch = "job('J-LLM-7').state == 'PENDING' and job('J-LLM-7').reason == 'NoISLPath' for 120s"
    assert parse_condition(spec_sketch).hold_s == 120.0


@pytest.mark.parametrize("text, column, fragment", [
    ('sat("A-03-07").batery_soc < 0.3', 16, "unknown satellite attribute 'batery_soc' (did you mean 'battery_soc'?)"
                                            " (known: battery_soc, battery_energy_kwh"),
    ("fleet.min_sco < 0.3", 7, "unknown fleet attribute 'min_sco' (did you mean 'min_soc'?)"),
    ("job('J-7').state == 'RUNING'", 21, "job('J-7').state is never 'RUNING' (known: PENDING, RUNNING"),
    ("link('A', 'B').state == 'up'", 25, "known: DOWN, ACQUIRING, UP"),
    ("sat('A').shed_level < 'SAFE'", 21, "'<' needs numbers"),
    ("sat('A').shed_level == 2", 21, "cannot compare sat('A').shed_level (string) with the number 2.0"),
    ("sat('A').sunlit > 0", 17, "cannot compare sat('A').sunlit (bool) with the number 0.0"),
    ("fleet.min_soc", 1, "a condition must be true or false"),
    ("fleet.min_soc and true", 1, "'and' needs true/false values, but fleet.min_soc (number) is not"),
    ("not jobs.goodput", 5, "'not' needs true/false values"),
    ("sat('A').shed_level + 1 > 2", 1, "'+' needs numbers"),
    ("fleet.min_soc < 0.3 for 10", 25, "'for' needs a duration with a unit"),
    ("fleet.min_soc < 0.3 and", 24, "expected a value, found 'end of text'"),
    ("(fleet.min_soc < 0.3", 21, "expected ')'"),
    ("fleet.min_soc = 0.3", 15, "unexpected character '=' (use == to compare)"),
    ("fleet.min_soc < 0.3 && true", 21, "write 'and'"),
    ("0 < fleet.min_soc < 1", 19, "chained comparisons are not supported"),
    ("fleet.min_soc < 2x", 17, "cannot read '2x'"),
    ("sim.time > 'two hours'", 12, "cannot read duration 'two hours'"),
    ("True", 1, "write 'true' in lower case"),
    ("sat(A).sunlit", 5, "sat() takes 1 quoted satellite id"),
    ("sat('A').sunlit and link('A').up", 29, "expected ',' (link() takes 2 quoted satellite ids"),
    ("fleet().min_soc < 1", 6, "fleet takes no arguments"),
    ("satellite('A').sunlit", 1, "unknown name 'satellite' (known: sat, job, station, link, fleet, jobs, sim)"),
    ("sat('A').sunlit 'x'", 17, "unexpected \"'x'\" after a complete expression"),
    ("'abc == 'abc'", 13, "unexpected character \"'\" (unclosed string)"),
    ("fleet.min_soc < 0.3 for 2m and true", 28, "unexpected 'and' after a complete expression"),
])
def test_errors_name_the_problem_and_the_column(text, column, fragment):
    with pytest.raises(ConditionError) as caught:
        parse_condition(text)
    message = str(caught.value)
    assert message.startswith(f"column {column}: "), message
    assert fragment in message, message
    assert caught.value.column == column and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("text, fragment", [
    ("__import__('os').system('rm -rf /')", "unknown name '__import__'"),
    ("eval('1') == 1", "unknown name 'eval'"),
    ("open('/etc/passwd').read() == ''", "unknown name 'open'"),
    ("lambda == 1", "unknown name 'lambda'"),
    ("lambda: true", "unexpected character ':'"),
    ("sat('A').__class__ == 1", "unknown satellite attribute '__class__'"),
    ("sat('A').battery_soc.__class__ == 1", "has no attributes and cannot be called"),
    ("sat('A').battery_soc() < 1", "has no attributes and cannot be called"),
    ("fleet.__dict__ == 1", "unknown fleet attribute '__dict__'"),
    ("sim.time.real > 0", "column 9: sim.time is a value: it has no attributes"),
    ("fleet.min_soc < 0.3; import os", "unexpected character ';'"),
    ("[x for x in fleet] == 1", "unexpected character '['"),
    ("fleet.min_soc < 0.3 if true else false", "unexpected 'if'"),
    ("sat(fleet.min_soc).sunlit", "sat() takes 1 quoted satellite id"),
    ("sat('A', 'B').sunlit", "expected ')'"),
    ("f'{1}' == '1'", "unknown name 'f'"),
    ("sat('A').sunlit\\\n", "unexpected character '\\\\'"),
])
def test_anything_that_is_not_the_language_is_refused(text, fragment):
    with pytest.raises(ConditionError, match=re.escape(fragment)):
        parse_condition(text)


def test_hostile_sizes_raise_condition_errors_not_recursion_errors():
    with pytest.raises(ConditionError, match="nested more than"):
        parse_condition("(" * 500 + "true" + ")" * 500)
    with pytest.raises(ConditionError, match="nested more than"):
        parse_condition("not " * 200 + "true")
    with pytest.raises(ConditionError, match="longer than"):
        parse_condition("true and " * 300 + "true")
    assert parse_condition("(" * MAX_NESTING + "true" + ")" * MAX_NESTING).evaluate(source())
    assert parse_condition(" and ".join(["not true"] * 100)).evaluate(source()) is False  # siblings are not nesting
    with pytest.raises(ConditionError, match="is text"):
        parse_condition(None)  # type: ignore[arg-type]


def test_the_module_never_evaluates_code():
    text = Path(conditions_module.__file__).read_text(encoding="utf-8")
    assert not re.search(r"(?<![\w.])(eval|exec|compile|__import__)\(", text)
    assert "import ast" not in text


def test_references_list_what_the_expression_reads_in_order():
    condition = parse_condition(
        "sat('A-01-02').sunlit and job('J-7').state == 'RUNNING' and link('A-01-01', 'A-01-03').up "
        "or station('svalbard').up and sat('A-01-02').battery_soc < fleet.min_soc and job('J-9').progress > 0.5"
    )
    assert condition.references() == References(
        satellites=("A-01-02", "A-01-01", "A-01-03"), jobs=("J-7", "J-9"), stations=("svalbard",),
        links=(("A-01-01", "A-01-03"),),
    )
    assert parse_condition("sim.time > 1h").references() == References((), (), (), ())


def test_check_ids_reports_an_unknown_id_with_its_column():
    condition = parse_condition("sat('A-01-01').sunlit and link('A-01-01', 'A-01-09').up")
    condition.check_ids(satellites=["A-01-01", "A-01-09"])
    with pytest.raises(ConditionError, match=r"^column 27: no satellite 'A-01-09' \(did you mean 'A-01-08'\?\)"):
        condition.check_ids(satellites=["A-01-01", "A-01-08"])
    jobs = parse_condition("job('J-7').progress > 0.5")
    jobs.check_ids(jobs=None)  # not checked (generators name their jobs later)
    jobs.check_ids(jobs=(job_id for job_id in ["J-7"]))  # any iterable
    with pytest.raises(ConditionError, match="column 1: no job 'J-7'"):
        jobs.check_ids(jobs=["J-8"])


def test_types_in_the_namespace_are_the_four_known_ones_and_closed_sets_are_strings():
    for scope in NAMESPACE.values():
        for name, attribute in scope.attributes.items():
            assert attribute.type in (NUMBER, DURATION, BOOL, STRING), name
            assert not attribute.values or attribute.type == STRING, name
            assert attribute.doc, name
    assert NAMESPACE["sat"].attributes["shed_level"].values == tuple(ShedLevel.NAMES)
    documented = conditions_module.__doc__
    for name, scope in NAMESPACE.items():
        assert re.search(rf"^    {name}\b", documented, re.M), name
        for attribute in scope.attributes:
            assert re.search(rf"\b{attribute}\b", documented), attribute


# ------------------------------------------------------------------------------------------------ watch


def test_watch_fires_once_when_the_hold_time_is_reached_and_resets_on_false():
    watch = ConditionWatch(hold_s=120.0)
    fired = [t for t in range(0, 200, 10) if watch.update(float(t), t >= 30)]
    assert fired == [150]  # true from t=30, held 120 s at t=150, and only reported once
    assert watch.satisfied and watch.since_s == 30.0 and watch.held_s(190.0) == 160.0
    assert watch.update(200.0, False) is False and not watch.satisfied and watch.held_s(200.0) == 0.0
    samples = [(210, True), (300, True), (320, False), (330, True), (440, True), (450, True), (460, True)]
    assert [t for t, holds in samples if watch.update(float(t), holds)] == [450]


def test_watch_without_for_fires_on_each_rising_edge():
    watch = ConditionWatch(parse_condition("fleet.alarms_red > 0"))
    assert watch.hold_s == 0.0
    assert [watch.update(float(t), holds) for t, holds in enumerate([False, True, True, False, True])] == [
        False, True, False, False, True]


def test_watch_observes_a_source_and_refuses_time_going_backwards():
    watch = ConditionWatch(parse_condition("sat('A-01-01').battery_soc < 0.3 for 1m"))
    assert watch.hold_s == 60.0
    assert not watch.observe(source(time_s=0.0))
    assert watch.observe(source(time_s=60.0))
    with pytest.raises(ValueError, match="backwards"):
        watch.update(30.0, True)
    with pytest.raises(ValueError, match="no condition"):
        ConditionWatch(hold_s=5.0).observe(source())


# ------------------------------------------------------------------------------------- real simulation

JOB = """
[[job]]
id = "J-1"
gpus = 2
duration = "20m"
"""


@pytest.fixture
def sim(write_mission) -> Simulation:
    return Simulation(load_mission(write_mission(SMALL_MISSION + JOB)))


def test_values_match_the_engine_snapshot(sim):
    battery = parse_metric("sat('A-02-03').battery_soc")
    for _ in range(3):
        sim.step()
        snap = sim.snapshot()
        metrics = SimulationMetrics(sim)
        row = snap.index_of("A-02-03")
        assert battery.evaluate(metrics) == float(snap.battery_soc[row])
        assert parse_metric("fleet.min_soc").evaluate(metrics) == float(snap.battery_soc.min())
        assert parse_metric("sim.time").evaluate(metrics) == sim.time_s
        assert parse_metric("sat('A-02-03').shed_level").evaluate(metrics) == ShedLevel.NAMES[int(snap.shed_level[row])]
        assert parse_metric("sat('A-02-03').sunlit").evaluate(metrics) is bool(snap.sunlit[row])
        hottest = parse_metric("sat('A-02-03').gpu_temp_max_c").evaluate(metrics)
        assert hottest == pytest.approx(snap.gpu_temp_c[row].max())
    job = next(view for view in sim.job_views() if view.id == "J-1")
    metrics = SimulationMetrics(sim)
    assert parse_condition("job('J-1').state == 'RUNNING' and jobs.running == 1").evaluate(metrics)
    assert parse_metric("job('J-1').progress").evaluate(metrics) == job.progress > 0
    assert parse_condition("job('J-2').submitted == false and not job('J-2').state == 'RUNNING'").evaluate(metrics)
    ground = SimulationMetrics(sim, view="ground")
    assert battery.evaluate(ground) == float(sim.snapshot("ground").battery_soc[row])


def test_every_namespace_attribute_resolves_with_its_declared_type(sim):
    assert _covers_namespace()
    sim.step()
    metrics = SimulationMetrics(sim)
    ids = {"sat": "('A-01-01')", "job": "('J-1')", "station": "('svalbard')", "link": "('A-01-01', 'A-01-02')"}
    python_type = {NUMBER: float, DURATION: float, BOOL: bool, STRING: str}
    for name, scope in NAMESPACE.items():
        for attribute, spec in scope.attributes.items():
            value = parse_metric(f"{name}{ids.get(name, '')}.{attribute}").evaluate(metrics)
            assert value is None or isinstance(value, python_type[spec.type]), (name, attribute, value)
            if spec.values and value is not None:
                assert value in spec.values, (name, attribute, value)


def test_a_for_hold_triggers_after_the_right_number_of_steps(sim):
    assert sim.step_s == 10.0
    watch = ConditionWatch(parse_condition("sim.time >= 30s and sat('A-01-01').battery_soc > 0 for 1m"))
    steps = 0
    while not watch.observe(SimulationMetrics(sim)):
        sim.step()
        steps += 1
        assert steps < 20
    assert steps == 9 and sim.time_s == 90.0  # true from t = 30 s, held 60 s at t = 90 s


def test_commands_and_faults_show_in_the_namespace(sim):
    up = parse_condition("station('svalbard').up and fleet.stations_up == 1")
    drained = parse_condition("sat('A-01-02').drained and fleet.satellites_drained == 1")
    assert up.evaluate(SimulationMetrics(sim)) and not drained.evaluate(SimulationMetrics(sim))
    sim.apply(InjectFault(FaultRequest(kind="station_outage", station="svalbard", duration_s=600.0)))
    sim.apply(DrainSatellite("A-01-02"))
    sim.step()
    assert not up.evaluate(SimulationMetrics(sim)) and drained.evaluate(SimulationMetrics(sim))


def test_mission_ids_are_checked_against_the_spec(sim):
    check_mission_ids(parse_condition("sat('A-01-01').sunlit and station('svalbard').up and job('J-1').progress > 0"),
                      sim.spec)
    with pytest.raises(ConditionError, match=r"column 26: no station 'svalbar' \(did you mean 'svalbard'\?\)"):
        check_mission_ids(parse_condition("sat('A-01-01').sunlit or station('svalbar').up"), sim.spec)
    with pytest.raises(ConditionError, match="column 1: no job 'J-2'"):
        check_mission_ids(parse_condition("job('J-2').progress > 0"), sim.spec)
    with pytest.raises(KeyError):
        parse_metric("sat('Z-9').sunlit").evaluate(SimulationMetrics(sim))
