"""The run archive (SQLite, WAL): a recorded run reads back (mission rebuilt from the archive alone,
telemetry, events, journal) and re-simulates to exactly what was recorded; a tampered journal is caught
with the first differing step; foreign, damaged and newer files are refused with a clear error; a run
killed with SIGKILL leaves every committed step intact and the archive readable."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from engine import load_mission
from engine.archive import ArchiveError, ArchiveReader, ArchiveSettings, ArchiveWriter
from engine.commands import DrainSatellite, SetGpuPowerCap
from engine.mission import mission_document
from engine.replay import verify_archive
from engine.runner import run_headless
from engine.simulation import Simulation
from tests.test_faults import FLEET


@pytest.fixture
def mission(write_mission):
    return write_mission(FLEET, "archived.toml")


def _record(mission, path, settings=None, until_s=3 * 3600):
    """A run with operator commands, recorded step by step as the console does."""
    spec = load_mission(mission)
    sim = Simulation(spec)
    writer = ArchiveWriter(path, sim, mission_document(mission), settings or ArchiveSettings(commit_every_steps=40))
    while sim.time_s < until_s:
        if sim.step_index == 30:
            sim.apply(SetGpuPowerCap("A-01-01", 450.0))
        if sim.step_index == 200:
            sim.apply(DrainSatellite("A-02-03"))
        sim.step()
        writer.record_step(sim, sim.drain_events())
    writer.close(sim)
    return sim


def test_a_recorded_run_reads_back_and_replays_exactly(mission, tmp_path):
    path = tmp_path / "run.omc"
    sim = _record(mission, path)
    with ArchiveReader(path) as archive:
        assert archive.last_step() == (sim.step_index, sim.time_s)
        assert archive.seed == sim.seed and archive.satellite_ids == sim.satellite_ids
        assert archive.mission_spec().mission == sim.spec.mission
        assert archive.journal() == sim.journal and len(archive.journal()) == 2
        soc = archive.telemetry("battery_soc")
        assert soc.values.shape == (3 * 60 + 1, len(sim.satellite_ids)), "one sample a minute, and the start"
        assert np.allclose(np.diff(soc.time_s), 60.0)
        assert soc.values.dtype == np.float32
        assert np.array_equal(soc.values[-1], sim.snapshot().battery_soc.astype(np.float32))
        gpu = archive.telemetry("gpu_temp_c", from_s=3600, to_s=7200)
        assert gpu.values.shape[1:] == sim.snapshot().gpu_temp_c.shape and gpu.time_s.min() >= 3600
        assert sum(sim.event_counts.values()) == len(archive.events())
        result = verify_archive(archive)
    assert result.ok and result.steps == sim.step_index and result.samples_checked > 3000
    assert result.events_checked == len(ArchiveReader(path).events())


def test_a_tampered_journal_is_caught_at_the_first_differing_step(mission, tmp_path):
    path = tmp_path / "tampered.omc"
    _record(mission, path)
    with sqlite3.connect(path) as db:  # the operator's power cap "never happened"
        db.execute("DELETE FROM journal WHERE entry LIKE '%power_cap%'")
    result = verify_archive(ArchiveReader(path))
    assert not result.ok
    assert result.mismatch.step_index >= 30 and result.mismatch.step_index <= 40
    assert result.mismatch.what in ("events", "gpu_power_w", "load_power_w", "battery_net_w", "solar_power_w", "battery_soc",
                                    "gpu_temp_c", "loop_temp_c", "radiator_temp_c")


def test_per_parameter_periods_downsample(mission, tmp_path):
    settings = ArchiveSettings(parameters=("battery_soc", "lat_deg"), telemetry_period_s=600.0,
                               parameter_periods_s={"lat_deg": 60.0})
    _record(mission, tmp_path / "periods.omc", settings, until_s=3600)
    with ArchiveReader(tmp_path / "periods.omc") as archive:
        assert len(archive.telemetry("battery_soc").time_s) == 7 and len(archive.telemetry("lat_deg").time_s) == 61
        with pytest.raises(ArchiveError, match="'alt_km' was not recorded"):
            archive.telemetry("alt_km")


def test_foreign_damaged_and_newer_files_are_refused_clearly(mission, tmp_path):
    with pytest.raises(ArchiveError, match="no such archive"):
        ArchiveReader(tmp_path / "missing.omc")
    junk = tmp_path / "junk.omc"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(ArchiveError, match="not a readable archive"):
        ArchiveReader(junk)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE things (x)")
    with pytest.raises(ArchiveError, match="not a readable archive"):
        ArchiveReader(other)
    newer = tmp_path / "newer.omc"
    _record(mission, newer, until_s=600)
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(ArchiveError, match="made by a newer version of the software"):
        ArchiveReader(newer)
    with pytest.raises(ArchiveError, match="already exists"):
        ArchiveWriter(newer, Simulation(load_mission(mission)), mission_document(mission))


def test_a_run_killed_mid_recording_keeps_every_committed_step(mission, tmp_path):
    path = tmp_path / "killed.omc"
    script = textwrap.dedent(f"""
        from engine.archive import ArchiveSettings
        from engine.mission import load_mission
        from engine.runner import run_headless
        run_headless(load_mission({str(mission)!r}), until_s=30 * 86400,
                     archive=({str(path)!r}, ArchiveSettings(commit_every_steps=25)))
    """)
    child = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 120
        committed = None
        while time.monotonic() < deadline:
            if path.exists():
                try:
                    with ArchiveReader(path) as archive:
                        committed = archive.last_step()
                except ArchiveError:
                    committed = None
            if committed is not None and committed[0] >= 300:
                break
            time.sleep(0.2)
        assert committed is not None and committed[0] >= 300, "the child never committed 300 steps"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with ArchiveReader(path) as archive:
        last_step, last_time = archive.last_step()
        assert last_step >= committed[0] and last_step % 25 == 0
        steps = archive.telemetry("battery_soc").step_index
        assert last_step - 3 < steps.max() <= last_step, "nothing beyond the last committed batch, nothing missing up to it"
        assert len(steps) == int(last_time // 60) + 1
        result = verify_archive(archive)
    assert result.ok and result.steps == last_step


def test_omc_replay_verify_says_ok_names_the_first_difference_and_refuses_junk(mission, tmp_path):
    path = tmp_path / "cli.omc"
    _record(mission, path, until_s=1800)

    def omc(*arguments):
        return subprocess.run([sys.executable, "-m", "console", *arguments], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})

    ok = omc("replay", str(path), "--verify")
    assert ok.returncode == 0, ok.stderr
    assert f"ok {path}: 90 steps re-simulated" in " ".join(ok.stdout.split())
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM journal")
    bad = omc("replay", str(path), "--verify")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "the re-run differs from the recording at step" in " ".join(bad.stderr.split())
    junk = tmp_path / "junk.omc"
    junk.write_text("nothing")
    refused = omc("replay", str(junk), "--verify")
    assert refused.returncode == 1 and "not a readable archive" in refused.stderr and "Traceback" not in refused.stderr


def test_a_difference_in_a_recording_made_by_another_version_says_so(mission, tmp_path):
    """A re-run by changed models can differ from an older recording for that reason alone: the mismatch
    names both versions; a recording by this version has no such note."""
    path = tmp_path / "versions.omc"
    _record(mission, path, until_s=1800)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM journal")  # a difference the re-run will find
    with ArchiveReader(path) as reader:
        same = verify_archive(reader)
    assert not same.ok and same.mismatch.note is None
    assert "recorded by omc" not in same.mismatch.describe()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '0.0.1' WHERE key = 'software_version'")
    with ArchiveReader(path) as reader:
        assert reader.software_version == "0.0.1"
        other = verify_archive(reader)
    assert not other.ok and other.mismatch.step_index == same.mismatch.step_index
    assert "recorded by omc 0.0.1, re-run by omc " in other.mismatch.note
    assert other.mismatch.note in other.mismatch.describe()
