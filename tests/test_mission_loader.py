"""Mission files: every accepted key, and every kind of mistake named by file, line and key path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine import MissionError, load_mission
from engine.mission import bundled_missions_dir
from tests.conftest import SMALL_MISSION


def error_of(path: Path) -> MissionError:
    with pytest.raises(MissionError) as caught:
        load_mission(path)
    return caught.value


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing `needle` (read from the file itself)."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_small_mission_resolves_ids_and_counts(write_mission):
    spec = load_mission(write_mission(SMALL_MISSION))
    assert [s.id for s in spec.satellites] == ["A-01-01", "A-01-02", "A-01-03", "A-02-01", "A-02-02", "A-02-03"]
    assert spec.step_s == 10.0 and spec.duration_s == 6 * 3600.0
    assert spec.satellites[4].plane == 2 and spec.satellites[4].slot == 2
    assert all(s.hardware.gpus == 4 for s in spec.satellites)


def test_out_of_range_value_names_file_line_and_key(write_mission):
    path = write_mission(SMALL_MISSION.replace("altitude_km = 550", "altitude_km = 120"))
    error = error_of(path)
    assert len(error.issues) == 1
    issue = error.issues[0]
    assert issue.file == path
    assert issue.line == line_of(path, "altitude_km = 120")
    assert str(issue).startswith(f"{path}:{issue.line}: shell[0].altitude_km: ")
    assert "160" in issue.message


def test_unknown_key_is_rejected_with_a_suggestion(write_mission):
    path = write_mission(SMALL_MISSION.replace("radiator_m2 = 8", "radiator_m3 = 8"))
    issue = error_of(path).issues[0]
    assert issue.key_path == ("hardware", "radiator_m3")
    assert issue.line == line_of(path, "radiator_m3")
    assert "unknown key" in issue.message and "radiator_m2" in issue.message


def test_wrong_type_and_bad_duration_are_both_reported(write_mission):
    text = SMALL_MISSION.replace('duration = "6h"', 'duration = "6 hours"').replace("planes = 2", 'planes = "two"')
    path = write_mission(text)
    issues = error_of(path).issues
    by_key = {issue.key_path: issue for issue in issues}
    assert set(by_key) == {("mission", "duration"), ("shell", 0, "planes")}
    assert by_key[("mission", "duration")].line == line_of(path, "6 hours")
    assert by_key[("shell", 0, "planes")].line == line_of(path, '"two"')


def test_toml_syntax_error_names_the_line(write_mission):
    path = write_mission(SMALL_MISSION.replace("gpus = 4", "gpus = = 4"))
    issue = error_of(path).issues[0]
    assert issue.line == line_of(path, "gpus = = 4")
    assert "TOML syntax error" in issue.message


def test_missing_required_key_points_at_its_table(write_mission):
    path = write_mission(SMALL_MISSION.replace('title = "Small test fleet"\n', ""))
    issue = error_of(path).issues[0]
    assert issue.key_path == ("mission", "title")
    assert issue.line == line_of(path, "[mission]")
    assert issue.message == "missing required key"


def test_second_shell_error_counts_array_index(write_mission):
    text = SMALL_MISSION + """
[[shell]]
name = "D"
altitude_km = 650
sun_synchronous = true
ltan = "25:00"
"""
    path = write_mission(text)
    issue = error_of(path).issues[0]
    assert issue.key_path == ("shell", 1, "ltan")
    assert issue.line == line_of(path, '"25:00"')


def test_shell_hardware_override_and_cross_field_check(write_mission):
    text = SMALL_MISSION.replace('phasing = 1\n', 'phasing = 1\n\n[shell.hardware]\ngpus = 16\nbattery_kwh = 50\n')
    spec = load_mission(write_mission(text))
    assert all(s.hardware.gpus == 16 and s.hardware.battery_kwh == 50 for s in spec.satellites)
    assert all(s.hardware.radiator_m2 == 8 for s in spec.satellites)  # inherited from [hardware]

    bad = SMALL_MISSION.replace('phasing = 1\n', 'phasing = 1\n\n[shell.hardware]\ngpu_shutdown_c = 80\n')
    path = write_mission(bad, "bad.toml")
    issue = error_of(path).issues[0]
    assert issue.key_path[:3] == ("shell", 0, "hardware")
    assert "gpu_shutdown_c" in issue.message
    assert issue.line == line_of(path, "gpu_shutdown_c = 80")


def test_includes_merge_and_errors_name_the_included_file(write_mission, tmp_path):
    write_mission(
        """
        [[ground_station]]
        id = "troll"
        lat_deg = -72.01
        lon_deg = 2.53

        [[ground_station]]
        id = "bad"
        lat_deg = 95
        lon_deg = 0
        """,
        "shared/ground.toml",
    )
    main = write_mission('include = ["shared/ground.toml"]\n' + SMALL_MISSION)
    error = error_of(main)
    issue = error.issues[0]
    included = tmp_path / "shared" / "ground.toml"
    assert issue.file.resolve() == included.resolve()
    assert issue.key_path == ("ground_station", 1, "lat_deg")
    assert issue.line == line_of(included, "lat_deg = 95")

    included.write_text(included.read_text().replace("lat_deg = 95", "lat_deg = 45"))
    spec = load_mission(main)
    assert [s.id for s in spec.ground_stations] == ["troll", "bad", "svalbard"]


def test_include_cycle_and_missing_include_are_errors(write_mission):
    write_mission('include = ["a.toml"]\n', "b.toml")
    a = write_mission('include = ["b.toml"]\n' + SMALL_MISSION, "a.toml")
    assert "include cycle" in str(error_of(a))
    missing = write_mission('include = ["nope.toml"]\n' + SMALL_MISSION, "c.toml")
    issue = error_of(missing).issues[0]
    assert "not found" in issue.message and issue.line == 1


def test_explicit_satellites_from_tle_and_tle_file(write_mission):
    line1 = "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927"
    line2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"
    write_mission(f"ISS (ZARYA)\n{line1}\n{line2}\nISS COPY\n{line1}\n{line2}\n", "sats.tle")
    text = SMALL_MISSION + f"""
[[satellite]]
name = "ISS"
tle = ["{line1}", "{line2}"]

[[satellite]]
tle_file = "sats.tle"
"""
    spec = load_mission(write_mission(text))
    explicit = [s for s in spec.satellites if s.shell is None]
    assert [s.id for s in explicit] == ["ISS", "ISS (ZARYA)", "ISS COPY"]
    assert explicit[0].tle == (line1, line2)


def test_bad_tle_checksum_is_reported_at_the_key(write_mission):
    line1 = "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2928"
    line2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"
    path = write_mission(SMALL_MISSION + f'\n[[satellite]]\nname = "ISS"\ntle = ["{line1}", "{line2}"]\n')
    issue = error_of(path).issues[0]
    assert issue.key_path == ("satellite", 0, "tle")
    assert "checksum" in issue.message
    assert issue.line == line_of(path, "tle = [")


def test_duplicate_station_ids_are_rejected(write_mission):
    path = write_mission(SMALL_MISSION + '\n[[ground_station]]\nid = "svalbard"\nlat_deg = 1\nlon_deg = 2\n')
    issue = error_of(path).issues[0]
    assert "duplicate station id" in issue.message
    assert issue.key_path == ("ground_station", 1, "id")


def test_bundled_missions_load_by_id_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = load_mission("sandbox")
    assert spec.id == "sandbox"
    assert len(spec.ground_stations) >= 6
    assert {s.shell for s in spec.satellites} == {"A", "D"}
    for file in sorted(bundled_missions_dir().glob("*.toml")):
        assert load_mission(file).source == file


def test_unknown_mission_id_is_a_clear_error():
    error = error_of(Path("no-such-mission"))
    assert "no mission file or bundled mission named 'no-such-mission'" in str(error)


def test_safe_mode_threshold_below_the_battery_floor_is_rejected(write_mission):
    text = SMALL_MISSION.replace("battery_kwh = 20", "battery_kwh = 20\nbattery_max_dod = 0.6")
    issue = error_of(write_mission(text)).issues[0]
    assert issue.key_path == ("power_policy", "safe_below_soc")
    assert "could never trigger" in issue.message


JOBS = """
[scheduler]
backfill = true

[[scheduler.partition]]
name = "inference-rt"
tier = 100

[[scheduler.partition]]
name = "training"
tier = 10
preempt_mode = "requeue"
grace = "2m"

[[job]]
id = "J-LLM-7"
kind = "training"
partition = "training"
gpus = 8
gpu_hours = 90
submit = "00:10:00"
checkpoint_interval = "30m"
checkpoint_size_gb = 420

[[workload.generator]]
name = "chat"
partition = "inference-rt"
rate_per_hour = 120
duration = "90s"
latency_target_ms = 250
"""


def test_jobs_generators_and_partitions_are_read_with_units(write_mission):
    spec = load_mission(write_mission(SMALL_MISSION + JOBS))
    (job,) = spec.jobs
    assert job.id == "J-LLM-7" and job.gpus == 8 and job.submit == 600.0 and job.checkpoint_interval == 1800.0
    assert [p.name for p in spec.scheduler.partition] == ["inference-rt", "training"]
    assert spec.scheduler.partition[1].grace == 120.0 and spec.scheduler.partition[1].preempt_mode == "requeue"
    (generator,) = spec.workload.generator
    assert generator.duration == 90.0 and generator.rate_per_hour == 120 and generator.checkpoint_interval == "auto"


def test_job_mistakes_name_the_line_and_key(write_mission):
    path = write_mission(SMALL_MISSION + JOBS.replace('partition = "training"\ngpus = 8', 'partition = "trainnig"\ngpus = 8'))
    issue = error_of(path).issues[0]
    assert "trainnig" in issue.message and "training" in issue.message
    both = write_mission(SMALL_MISSION + JOBS.replace("gpu_hours = 90", 'gpu_hours = 90\nduration = "5h"'))
    issue = error_of(both).issues[0]
    assert issue.key_path[:2] == ("job", 0) and "exactly one of gpu_hours and duration" in issue.message
    assert issue.line == line_of(both, "[[job]]")
    bad_interval = write_mission(SMALL_MISSION + JOBS.replace('checkpoint_interval = "30m"', 'checkpoint_interval = "often"'))
    issue = error_of(bad_interval).issues[0]
    assert issue.key_path == ("job", 0, "checkpoint_interval") and issue.line == line_of(bad_interval, '"often"')
