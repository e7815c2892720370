"""Archive export (engine.archive_export, omc export): CSV and JSON lines read back equal to the archive
(telemetry to float32, aligned on the union of the parameters' sample times; events; the command
journal), the parameter, time-window and branch filters, unknown parameters refused naming the recorded
ones, the report regenerated from an archive equal to the run's own, and the command line round trip
with clear errors and no tracebacks."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from engine import load_mission
from engine.archive import ArchiveError, ArchiveReader, ArchiveSettings, ArchiveWriter
from engine.archive_export import ExportError, export_csv, export_jsonl, report_from_archive
from engine.commands import DrainSatellite, SetGpuPowerCap
from engine.durations import parse_duration
from engine.journal import entry_from_dict
from engine.mission import mission_document
from engine.report import build_report
from engine.simulation import Simulation
from tests.test_faults import FLEET
from tests.test_objectives import OBJECTIVES

SETTINGS = ArchiveSettings(parameter_periods_s={"battery_soc": 40.0, "gpu_temp_c": 300.0}, commit_every_steps=40)
"""Every default parameter once a minute, battery_soc every 40 s and gpu_temp_c every 5 minutes (20 s steps)."""


def omc(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console", *arguments], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A 2-hour run of the fault fleet with objectives and two operator commands, recorded step by step as
    the console does (objectives left undecided at the end), with its report."""
    folder = tmp_path_factory.mktemp("export")
    mission = folder / "fleet.toml"
    mission.write_text(textwrap.dedent(FLEET + OBJECTIVES).lstrip(), encoding="utf-8")
    sim = Simulation(load_mission(mission))
    path = folder / "run.omc"
    writer = ArchiveWriter(path, sim, mission_document(mission), SETTINGS)
    while sim.time_s < 2 * 3600:
        if sim.step_index == 30:
            sim.apply(SetGpuPowerCap("A-01-01", 450.0))
        if sim.step_index == 200:
            sim.apply(DrainSatellite("A-02-03"))
        sim.step()
        writer.record_step(sim, sim.drain_events())
    writer.close(sim)
    return {"path": path, "mission": mission, "sim": sim, "report": build_report(sim), "folder": folder}


def _by_time(rows, key="time_s"):
    grouped: dict[float, list] = {}
    for row in rows:
        grouped.setdefault(float(row[key]), []).append(row)
    return grouped



def test_csv_export_reads_back_equal_to_the_archive(recorded, tmp_path):
    with ArchiveReader(recorded["path"]) as archive:
        summary = export_csv(archive, tmp_path / "out")
        ids = archive.satellite_ids
        parameters = archive.settings.parameters
        series = {name: archive.telemetry(name) for name in parameters}
        events, journal = archive.events(), archive.journal()
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["commands.csv", "events.csv", "export.json", "telemetry.csv"]
    with open(out / "telemetry.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames
        rows = list(reader)
    assert header[:4] == ["utc", "time_s", "step_index", "satellite"]
    assert "gpu_temp_c.gpu0" in header and "gpu_temp_c.gpu3" in header and "battery_soc" in header
    union = sorted(set().union(*(set(s.time_s.tolist()) for s in series.values())))
    grouped = _by_time(rows)
    assert sorted(grouped) == union, "one row set per sample time of any parameter"
    assert len(rows) == len(union) * len(ids) == summary.telemetry_rows
    assert summary.sample_times == len(union)
    for name, s in series.items():
        at = {t: k for k, t in enumerate(s.time_s.tolist())}
        gpus = s.values.shape[2] if s.values.ndim == 3 else 0
        columns = [name] if gpus == 0 else [f"{name}.gpu{g}" for g in range(gpus)]
        for time_s, group in grouped.items():
            assert [row["satellite"] for row in group] == list(ids)
            cells = np.array([[row[c] for c in columns] for row in group])
            if time_s not in at:
                assert (cells == "").all(), f"{name} was not sampled at {time_s}: empty"
                continue
            stored = s.values[at[time_s]].reshape(len(ids), -1)
            if stored.dtype.kind == "f":
                read = np.where(cells == "", "nan", cells).astype(np.float32)
                assert np.array_equal(read, stored, equal_nan=True), (name, time_s)
            else:
                assert np.array_equal(cells.astype(np.int64), stored.astype(np.int64)), (name, time_s)
    sample = grouped[union[1]][0]
    assert sample["utc"] == "2026-03-21T00:00:40.000Z" and sample["step_index"] == "2"
    assert set(grouped[40.0][0][c] for c in ("lat_deg", "gpu_temp_c.gpu0")) == {""}, "40 s: only battery_soc is due"

    with open(out / "events.csv", newline="") as handle:
        exported_events = list(csv.DictReader(handle))
    assert len(exported_events) == len(events) == summary.events > 100
    for got, want in zip(exported_events, events):
        assert int(got["seq"]) == want["seq"] and int(got["step_index"]) == want["step_index"]
        assert float(got["time_s"]) == want["time_s"] and got["message"] == want["message"]
        assert (got["kind"], got["severity"], got["satellite"] or None, got["job"] or None) == \
               (want["kind"], want["severity"], want["satellite"], want["job"])
        assert (float(got["value"]) if got["value"] else None) == want["value"]
    with open(out / "commands.csv", newline="") as handle:
        commands = list(csv.DictReader(handle))
    assert len(commands) == len(journal) == 2
    assert [c["command"] for c in commands] == ["power_cap", "drain"] and {c["kind"] for c in commands} == {"command"}
    assert [entry_from_dict(json.loads(c["entry"])) for c in commands] == journal
    assert commands[0]["satellite"] == "A-01-01" and json.loads(commands[0]["arguments"])
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["rows"] == {"telemetry": len(rows), "sample_times": len(union), "events": len(events), "commands": 2}
    assert manifest["telemetry_columns"] == header and manifest["seed"] == recorded["sim"].seed
    assert {p["name"]: p["period_s"] for p in manifest["parameters"]}["battery_soc"] == 40.0


def test_jsonl_export_is_one_stream_in_step_order_equal_to_the_archive(recorded, tmp_path):
    target = tmp_path / "run.jsonl"
    with ArchiveReader(recorded["path"]) as archive:
        summary = export_jsonl(archive, target, parameters=["gpu_temp_c", "battery_soc", "drained"])
        soc, gpu, drained = archive.telemetry("battery_soc"), archive.telemetry("gpu_temp_c"), archive.telemetry("drained")
        events, journal, ids = archive.events(), archive.journal(), archive.satellite_ids
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines[0]["type"] == "meta" and [p["name"] for p in lines[0]["parameters"]] == ["gpu_temp_c", "battery_soc", "drained"]
    body = lines[1:]
    assert {line["type"] for line in body} == {"telemetry", "event", "command"}
    steps = [line["step_index"] for line in body]
    assert steps == sorted(steps), "telemetry, events and commands merged in step order"
    telemetry = [line for line in body if line["type"] == "telemetry"]
    assert len(telemetry) == summary.telemetry_rows
    grouped = _by_time(telemetry)
    assert sorted(grouped) == sorted(set(soc.time_s) | set(gpu.time_s) | set(drained.time_s))
    for k, time_s in enumerate(soc.time_s):
        group = grouped[float(time_s)]
        assert [row["satellite"] for row in group] == list(ids)
        assert np.array_equal(np.array([row["battery_soc"] for row in group], dtype=np.float32), soc.values[k])
    for k, time_s in enumerate(gpu.time_s):
        values = np.array([row["gpu_temp_c"] for row in grouped[float(time_s)]], dtype=np.float32)
        assert np.array_equal(values, gpu.values[k])
    assert all(row["gpu_temp_c"] is None for row in grouped[60.0]), "not sampled at 60 s: null"
    assert [row["drained"] for row in grouped[float(drained.time_s[-1])]] == drained.values[-1].tolist()
    exported_events = [line for line in body if line["type"] == "event"]
    assert [(e["seq"], e["kind"], e["message"], e["time_s"]) for e in exported_events] == \
           [(e["seq"], e["kind"], e["message"], e["time_s"]) for e in events]
    commands = [line for line in body if line["type"] == "command"]
    assert [entry_from_dict(c["entry"]) for c in commands] == journal
    cap = commands[0]
    assert cap["command"] == "power_cap" and cap["satellite"] == "A-01-01" and cap["step_index"] == 30
    position = body.index(cap)
    assert body[position - 1]["type"] == "telemetry" and body[position - 1]["step_index"] == 30, \
        "a command journalled at a step comes after that step's sample"


def test_filters_select_parameters_a_time_window_and_a_branch(recorded, tmp_path):
    start, end = parse_duration("10m"), parse_duration("01:00:00")
    with ArchiveReader(recorded["path"]) as archive:
        summary = export_csv(archive, tmp_path / "window", parameters=["battery_soc", "gpu_health", "battery_soc"],
                             from_s=start, to_s=end)
        in_window = [e for e in archive.events() if start <= e["time_s"] <= end]
        with pytest.raises(ExportError, match="no branch 2 \\(branches: 1\\)"):
            export_csv(archive, tmp_path / "nope", branch=2)
        with pytest.raises(ExportError, match="starts after it ends"):
            export_jsonl(archive, tmp_path / "nope.jsonl", from_s=end, to_s=start)
    assert summary.parameters == ("battery_soc", "gpu_health")
    with open(tmp_path / "window" / "telemetry.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["utc", "time_s", "step_index", "satellite", "battery_soc",
                             "gpu_health.gpu0", "gpu_health.gpu1", "gpu_health.gpu2", "gpu_health.gpu3"]
    times = sorted({float(row["time_s"]) for row in rows})
    assert times[0] == start and times[-1] == end and all(start <= t <= end for t in times)
    assert summary.events == len(in_window) > 0
    with open(tmp_path / "window" / "commands.csv", newline="") as handle:
        commands = list(csv.DictReader(handle))
    assert [c["command"] for c in commands] == ["power_cap"], "the cap at 10 min is in the window, the drain is not"


def test_unknown_parameters_are_refused_naming_the_recorded_ones(recorded, tmp_path):
    with ArchiveReader(recorded["path"]) as archive:
        with pytest.raises(ExportError) as error:
            export_csv(archive, tmp_path / "bad", parameters=["battery_soc", "warp_drive"])
    message = str(error.value)
    assert "'warp_drive' was not recorded" in message and "recorded: lat_deg, lon_deg" in message and "route_hops" in message
    assert not (tmp_path / "bad" / "telemetry.csv").exists()


def test_the_report_regenerated_from_an_archive_equals_the_runs_own(recorded):
    """A console-style recording whose objectives were never decided: the report leaves them pending."""
    with ArchiveReader(recorded["path"]) as archive:
        report = report_from_archive(archive)
    assert json.dumps(report, sort_keys=True) == json.dumps(recorded["report"], sort_keys=True)
    assert any(o["status"] == "pending" for o in report["objectives"])


def test_a_write_error_in_the_committing_thread_is_raised_naming_the_file(recorded, tmp_path):
    mission, path = recorded["mission"], tmp_path / "clash.omc"
    sim = Simulation(load_mission(mission))
    writer = ArchiveWriter(path, sim, mission_document(mission), ArchiveSettings(parameters=("battery_soc",), commit_every_steps=2))
    with sqlite3.connect(path) as db:  # a row the first batch also writes: its transaction fails
        db.execute("INSERT INTO telemetry VALUES (1, 'battery_soc', 0, 0.0, '<f4', '[60]', x'00')")
    db.close()
    with pytest.raises(ArchiveError, match="clash.omc: cannot write: UNIQUE constraint failed"):
        try:  # raised by a later batch's hand-over, or at the latest by close, which still closes
            for _ in range(10):
                sim.step()
                writer.record_step(sim, sim.drain_events())
        finally:
            writer.close(sim)
    assert writer.closed and writer.committed_step == -1
    writer.close(sim)


def test_omc_run_archive_then_export_round_trip(recorded, tmp_path):
    """omc run --archive --report, then omc export: the regenerated report is the run's (objectives decided
    at the end), CSV and JSON lines land where asked, and errors are one line with no traceback."""
    archive, original, regenerated = tmp_path / "cli.omc", tmp_path / "report.json", tmp_path / "again.json"
    run = omc("run", str(recorded["mission"]), "--until", "1h", "--archive", str(archive), "--telemetry-period", "2m",
              "--report", str(original), "--quiet")
    assert run.returncode == 0, run.stderr
    exported = omc("export", str(archive), "--format", "csv", "--out", str(tmp_path / "csv"), "--params", "battery_soc",
                   "gpu_temp_c", "--from", "30m", "--report", str(regenerated))
    assert exported.returncode == 0, exported.stderr
    first, second = json.loads(original.read_text()), json.loads(regenerated.read_text())
    assert first == second
    assert all(o["status"] != "pending" for o in first["objectives"]), "omc run decides every objective at the end"
    with open(tmp_path / "csv" / "telemetry.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {float(r["time_s"]) for r in rows} == {1800.0 + 120 * k for k in range(16)}
    assert "battery_soc" in rows[0] and "gpu_temp_c.gpu3" in rows[0] and "lat_deg" not in rows[0]
    with ArchiveReader(archive) as reader:
        assert reader.settings.telemetry_period_s == 120.0
        soc = reader.telemetry("battery_soc", from_s=1800)
    assert np.array_equal(np.array([r["battery_soc"] for r in rows], dtype=np.float32), soc.values.reshape(-1))
    streamed = omc("export", str(archive), "--format", "jsonl", "--out", "-", "--params", "alarm_level", "--to", "4m")
    assert streamed.returncode == 0, streamed.stderr
    lines = [json.loads(line) for line in streamed.stdout.splitlines()]
    assert lines[0]["type"] == "meta" and {line["time_s"] for line in lines if line["type"] == "telemetry"} == {0.0, 120.0, 240.0}

    again = omc("run", str(recorded["mission"]), "--until", "10m", "--archive", str(archive), "--quiet")
    assert again.returncode == 2 and "already exists" in again.stderr
    bad_param = omc("export", str(archive), "--format", "csv", "--out", str(tmp_path / "x"), "--params", "warp_drive")
    assert bad_param.returncode == 2 and "'warp_drive' was not recorded (recorded: lat_deg" in " ".join(bad_param.stderr.split())
    missing = omc("export", str(tmp_path / "missing.omc"), "--report", str(tmp_path / "r.json"))
    assert missing.returncode == 1 and "no such archive" in missing.stderr
    junk = tmp_path / "junk.omc"
    junk.write_bytes(b"not an archive" * 100)
    damaged = omc("export", str(junk), "--format", "jsonl", "--out", str(tmp_path / "j.jsonl"))
    assert damaged.returncode == 1 and "not a readable archive" in damaged.stderr
    nothing = omc("export", str(archive))
    assert nothing.returncode == 2 and "--format" in nothing.stderr
    for result in (run, exported, streamed, again, bad_param, missing, damaged, nothing):
        assert "Traceback" not in result.stderr + result.stdout
    assert not Path(tmp_path / "x" / "telemetry.csv").exists() and not (tmp_path / "j.jsonl").exists()
