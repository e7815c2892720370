"""The omc command line, run as a user runs it (subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SMALL_MISSION

OMC = [sys.executable, "-m", "console"]


def omc(*arguments: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*OMC, *arguments], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_validate_reports_every_error_with_location_and_no_traceback(write_mission):
    good = write_mission(SMALL_MISSION, "good.toml")
    bad = write_mission(SMALL_MISSION.replace("altitude_km = 550", "altitude_km = 100").replace("gpus = 4", "gpus = -1"), "bad.toml")
    result = omc("validate", str(good), str(bad))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert f"ok {good}" in " ".join(result.stdout.split())
    stderr = " ".join(result.stderr.split())
    assert f"{bad}:" in stderr and "shell[0].altitude_km" in stderr and "hardware.gpus" in stderr
    assert omc("validate", str(good)).returncode == 0


def test_run_writes_the_report_and_prints_a_summary(write_mission, tmp_path):
    mission = write_mission(SMALL_MISSION)
    report_path = tmp_path / "out" / "report.json"
    result = omc("run", str(mission), "--until", "30m", "--step", "30s", "--seed", "5", "--report", str(report_path))
    assert result.returncode == 0, result.stderr
    report = json.loads(report_path.read_text())
    assert report["sim_seconds"] == 1800 and report["step_seconds"] == 30 and report["seed"] == 5
    assert "Fleet" in result.stdout and "sunlit fraction" in result.stdout
    quiet = omc("run", str(mission), "--until", "90s", "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == ""


def test_run_refuses_bad_arguments_clearly(write_mission):
    mission = write_mission(SMALL_MISSION)
    result = omc("run", str(mission), "--until", "soon")
    assert result.returncode == 2 and "cannot read duration 'soon'" in result.stderr
    missing = omc("run", "no-such-mission")
    assert missing.returncode == 1 and "no mission file or bundled mission named" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_missions_lists_the_library_show_prints_a_summary_and_a_bad_mission_is_refused(tmp_path):
    listing = omc("missions", cwd=tmp_path)
    assert listing.returncode == 0 and "sandbox" in listing.stdout
    shown = omc("show", "sandbox", cwd=tmp_path)
    assert shown.returncode == 0
    assert "Sandbox" in shown.stdout and "svalbard" in shown.stdout
    missing = omc("no-such-mission", cwd=tmp_path)  # opening the console on a bad mission fails before any UI
    assert missing.returncode == 1 and "no-such-mission" in missing.stderr


def test_a_job_mission_runs_headless_and_reports_its_workload(write_mission, tmp_path):
    path = write_mission(SMALL_MISSION + '\n[[job]]\nid = "J-1"\ngpus = 2\nduration = "20m"\n')
    result = omc("run", str(path), "--until", "1h", "--quiet", "--report", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert "jobs" in report["models"] and report["jobs"]["submitted"] == 1
    listed = report["jobs"]["listed"][0]
    assert listed["id"] == "J-1" and listed["state"] in ("COMPLETED", "RUNNING", "PENDING")
    assert 0.0 <= report["fleet"]["goodput"] <= 1.0


def test_a_job_larger_than_any_orbital_plane_is_refused_with_its_line(write_mission):
    path = write_mission(SMALL_MISSION + '\n[[job]]\nid = "HUGE"\ngpus = 4000\nduration = "1h"\n')
    result = omc("validate", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    text = result.stdout + result.stderr
    assert "job HUGE needs 4000 GPUs but the largest orbital plane has" in text and "job[0].gpus" in text.replace(" ", "")


def test_run_scores_a_training_mission_with_its_autopilot_or_without(tmp_path):
    played, idle = tmp_path / "played.json", tmp_path / "idle.json"
    assert omc("run", "first-shift", "--quiet", "--report", str(played)).returncode == 0
    result = omc("run", "first-shift", "--until", "7h", "--quiet", "--no-autopilot", "--report", str(idle),
                 "--debrief", str(tmp_path / "idle.md"))
    assert result.returncode == 0, result.stderr
    played_report, idle_report = json.loads(played.read_text()), json.loads(idle.read_text())
    assert played_report["score"]["grade"] == "pass" and played_report["walkthrough"]["steps_done"] == 32
    assert idle_report["score"]["grade"] == "fail" and idle_report["walkthrough"]["steps_done"] == 0
    debrief = (tmp_path / "idle.md").read_text()
    assert "## Walkthrough" in debrief and "0 of 32 steps done." in debrief
