"""Campaigns (omc sweep, engine.sweep): the run plan and its seeds, override paths checked at load, rows
identical whatever runs them (this process, a loky pool of 1 or 2, an in-process Dask cluster), resume
after a kill, the summary from the file alone, and run k reproduced on its own. Real engine, tiny runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from engine.mission import MissionError, bundled_missions_dir, load_mission, mission_document
from engine.sweep import (
    REPORT_SECTIONS,
    load_campaign,
    parse_path,
    read_results,
    run_campaign,
    run_document,
    run_one,
    set_path,
)

CAMPAIGN = """
[mission]
id = "camp"
title = "Tiny campaign"
kind = "sandbox"
epoch = "2026-03-21T00:00:00Z"
duration = "6h"
step = "10s"
seed = 7

[hardware]
gpus = 4
solar_array_m2 = 30
battery_kwh = 20
radiator_m2 = 8
bus_power_w = 1000

[[shell]]
name = "A"
altitude_km = 550
inclination_deg = 53
planes = 2
sats_per_plane = 3
phasing = 1

[[ground_station]]
id = "svalbard"
lat_deg = 78.23
lon_deg = 15.39

[network]
telemetry = "ideal"
gang_interconnect = "ideal"

[[job]]
id = "TRAIN"
gpus = 4
duration = "20m"
checkpoint_interval = "5m"

[[workload.generator]]
name = "inference"
kind = "inference"
rate_per_hour = 30
duration = "5m"

[[fault]]
kind = "gpu_failure"
rate_per_year = 2000

[[fault]]
kind = "gpu_hang"
rate_per_year = 4000
duration = "3m"

[sweep]
runs = 6
seed = 11
step = "60s"
until = "30m"
metrics = ["report.jobs.completed", "fleet.gpus_failed", "job('TRAIN').progress", "report.faults.injected",
           "report.jobs.listed[0].state", "report.score.value", "sat('A-01-01').sunlit"]

[sweep.failures]
train_missed = "job('TRAIN').state != 'COMPLETED'"
gpu_lost = { metric = "fleet.gpus_failed", op = ">", target = 0 }

[sweep.grid]
"fault[0].rate_per_year" = [1000, 40000]

[sweep.random]
"workload.generator[0].rate_per_hour" = { dist = "uniform", low = 10, high = 60 }
"hardware.battery_kwh" = { dist = "choice", values = [15, 20, 25] }
"""

OMC = [sys.executable, "-m", "console"]


def _without_wall(rows):
    return sorted(({k: v for k, v in row.items() if k != "wall_s"} for row in rows), key=lambda row: row["run"])


@pytest.fixture
def campaign_file(write_mission):
    return write_mission(CAMPAIGN, "camp.toml")


@pytest.fixture
def campaign(campaign_file):
    return load_campaign(campaign_file)


# ------------------------------------------------------------------------------------------------ plan


def test_the_plan_takes_seeds_from_seed_sequence_children_and_the_grid_in_order(campaign):
    assert campaign.seed == 11 and campaign.grid_size == 2
    plan = campaign.plan(range(6))
    assert plan == load_campaign(campaign.source).plan(range(6)), "deterministic"
    children = np.random.SeedSequence(11).spawn(6)
    for item, child in zip(plan, children):
        assert (item.entropy, item.spawn_key) == (child.entropy, child.spawn_key) == (11, (item.run,))
        draws, simulation = child.spawn(2)
        assert item.seed == int(simulation.generate_state(1, np.uint64)[0]) >> 1
        rng = np.random.default_rng(draws)
        rate = rng.uniform(10, 60)
        battery = [15, 20, 25][rng.integers(3)]
        assert item.random == {"workload.generator[0].rate_per_hour": rate, "hardware.battery_kwh": battery}
        assert item.grid == {"fault[0].rate_per_year": [1000, 40000][item.run % 2]}
    assert len({item.seed for item in plan}) == 6
    assert campaign.item(4) == plan[4], "run k does not depend on how many runs there are"
    other = load_campaign(campaign.source, seed=12)
    assert other.item(0).seed != plan[0].seed and other.hash != campaign.hash


def test_a_grid_of_two_keys_runs_through_the_product_last_key_fastest(write_mission):
    text = CAMPAIGN.replace('"fault[0].rate_per_year" = [1000, 40000]',
                            '"fault[0].rate_per_year" = [1000, 40000]\n"fault[1].duration" = ["1m", "2m", "3m"]')
    campaign = load_campaign(write_mission(text, "grid.toml"))
    assert campaign.grid_size == 6
    points = [tuple(campaign.item(run).grid.values()) for run in range(8)]
    assert points == [(1000, "1m"), (1000, "2m"), (1000, "3m"), (40000, "1m"), (40000, "2m"), (40000, "3m"),
                      (1000, "1m"), (1000, "2m")]


def test_a_mission_without_a_sweep_block_sweeps_seeds_only(write_mission):
    from tests.conftest import SMALL_MISSION

    campaign = load_campaign(write_mission(SMALL_MISSION, "plain.toml"))
    assert campaign.seed == 7 and campaign.sweep.runs is None and campaign.grid_size == 1
    item = campaign.item(2)
    assert item.grid == {} and item.random == {} and item.spawn_key == (2,)
    document = run_document(campaign.document, item)
    assert document["mission"]["seed"] == item.seed and document["mission"]["step"] == "10s"


def test_override_paths_address_the_document_and_run_documents_are_plain_missions(campaign):
    assert parse_path("fault[0].rate_per_year") == ("fault", 0, "rate_per_year")
    assert parse_path("shell[0].hardware.gpus") == ("shell", 0, "hardware", "gpus")
    for bad in ("fault[x]", "a..b", ".a", "a b", ""):
        with pytest.raises(ValueError):
            parse_path(bad)
    document = {"shell": [{"name": "A"}], "mission": {}}
    set_path(document, ("shell", 0, "hardware", "gpus"), 2)
    assert document["shell"][0]["hardware"] == {"gpus": 2}, "a missing table is created"
    with pytest.raises(ValueError, match="has 1 entry, so there is no \\[3\\]"):
        set_path(document, ("shell", 3, "name"), "B")
    with pytest.raises(ValueError, match="no job array"):
        set_path(document, ("job", 0, "gpus"), 2)

    item = campaign.item(1)
    document = run_document(campaign.document, item)
    assert "sweep" not in document and "sweep" in campaign.document, "the campaign's document is not changed"
    assert document["fault"][0]["rate_per_year"] == 40000
    assert document["workload"]["generator"][0]["rate_per_hour"] == item.random["workload.generator[0].rate_per_hour"]
    assert document["hardware"]["battery_kwh"] == item.random["hardware.battery_kwh"]
    assert (document["mission"]["seed"], document["mission"]["step"], document["mission"]["duration"]) == (item.seed, "60s", "30m")


# ------------------------------------------------------------------------------------------ validation


def _line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "needle", "key", "message"),
    [
        ('"fault[0].rate_per_year" = [1000, 40000]', '"fault[0].rate_per_year" = [1000, -5]', "fault[0].rate_per_year",
         "sweep.grid.fault[0].rate_per_year[1]", "fault[0].rate_per_year = -5 makes an invalid mission: fault[0].rate_per_year"),
        ('"fault[0].rate_per_year" = [1000, 40000]', '"fault[5].rate_per_year" = [1000]', "fault[5]",
         "sweep.grid.fault[5].rate_per_year", "fault has 2 entries, so there is no [5]"),
        ('"fault[0].rate_per_year" = [1000, 40000]', '"fault[0].rate" = [1000]', "fault[0].rate\"",
         "sweep.grid.fault[0].rate", "fault[0].rate: unknown key"),
        ('"fault[0].rate_per_year" = [1000, 40000]', '"fault[0]..rate" = [1000]', "fault[0]..rate",
         "sweep.grid.fault[0]..rate", "is not a dotted path"),
        ('"fault[0].rate_per_year" = [1000, 40000]', '"mission.seed" = [1, 2]', "mission.seed",
         "sweep.grid.mission.seed", "set [sweep] seed instead"),
        ('low = 10, high = 60', 'low = -10, high = 60', "low = -10", "sweep.random.workload.generator[0].rate_per_hour.low",
         "(low) makes an invalid mission"),
        ('low = 10, high = 60', 'low = 10, std = 60', "std = 60", "sweep.random.workload.generator[0].rate_per_hour",
         "dist 'uniform' takes low and high; missing high; std does not apply"),
        ("values = [15, 20, 25]", "values = [15, 0, 25]", "values = [15, 0, 25]", "sweep.random.hardware.battery_kwh.values[1]",
         "hardware.battery_kwh = 0"),
        ("runs = 6", "run = 6", "run = 6", "sweep.run", "unknown key; did you mean 'runs'?"),
        ("until = \"30m\"", "until = \"soon\"", "until = ", "sweep.until", "cannot read duration"),
        ('"report.jobs.completed", "fleet.gpus_failed"', '"report.job.completed", "fleet.gpus_failed"', "report.job.completed",
         "sweep.metrics[0]", "the run report has no section 'job'; did you mean 'report.jobs'?"),
        ('"report.jobs.completed", "fleet.gpus_failed"', '"report.jobs.completed", "fleet.gpus_fail"', "fleet.gpus_fail",
         "sweep.metrics[1]", "gpus_fail"),
        ("train_missed = \"job('TRAIN').state != 'COMPLETED'\"", "train_missed = \"sat('A-09-09').sunlit\"",
         "A-09-09", "sweep.failures.train_missed", "no satellite 'A-09-09'"),
        ("train_missed = \"job('TRAIN').state != 'COMPLETED'\"", "train_missed = \"fleet.gpus_failed > 0 for 5m\"",
         "for 5m", "sweep.failures.train_missed", "'for' does not apply"),
        ('op = ">", target = 0', 'op = ">", target = "many"', 'target = "many"', "sweep.failures.gpu_lost",
         "needs == or !="),
    ],
)
def test_a_bad_sweep_block_is_refused_naming_file_line_and_sweep_key(write_mission, old, new, needle, key, message):
    assert old in CAMPAIGN
    text = CAMPAIGN.replace(old, new)
    path = write_mission(text, "bad.toml")
    with pytest.raises(MissionError) as caught:
        load_mission(path)
    issue = next((i for i in caught.value.issues if message in str(i)), None)
    assert issue is not None, str(caught.value)
    line = _line_of(text.lstrip(), needle)
    assert f"bad.toml:{line}: {key}" in str(issue), str(issue)


def test_every_grid_combination_of_a_small_grid_is_checked(write_mission):
    # each value is fine alone; together the policy's thresholds cross (safe mode above pause)
    text = CAMPAIGN.replace('"fault[0].rate_per_year" = [1000, 40000]',
                            '"power_policy.pause_below_soc" = [0.35, 0.3]\n"power_policy.safe_below_soc" = [0.25, 0.32]')
    with pytest.raises(MissionError, match="the combination power_policy.pause_below_soc = 0.3, "
                                           "power_policy.safe_below_soc = 0.32 makes an invalid mission"):
        load_mission(write_mission(text, "combo.toml"))


def test_the_bundled_fault_campaign_validates_and_its_runs_collect_every_metric():
    campaign = load_campaign("fault-campaign")
    assert campaign.sweep.runs == 40 and campaign.grid_size == 2 and campaign.sweep.failures
    rows = [run_one(campaign.document, campaign.source, campaign.item(run)) for run in (0, 1)]
    for row in rows:
        assert row["status"] == "ok", row["error"]
        assert all(value is not None for value in row["metrics"].values()), row["metrics"]
    assert rows[0]["overrides"]["grid"] != rows[1]["overrides"]["grid"]


def test_report_metrics_name_sections_the_report_has(write_mission):
    from engine import Simulation
    from engine.report import build_report

    for spec in (load_mission("training-power-crunch"), load_mission(write_mission(CAMPAIGN, "c.toml"))):
        sim = Simulation(spec)
        sim.step()
        assert set(build_report(sim)) <= set(REPORT_SECTIONS)


def test_run_documents_round_trip_through_toml_for_every_bundled_mission(campaign):
    from engine.mission.toml_dump import dumps

    for file in sorted(bundled_missions_dir().glob("*.toml")):
        document = mission_document(file)
        assert tomllib.loads(dumps(document)) == document, file.name
    document = run_document(campaign.document, campaign.item(3))
    assert tomllib.loads(dumps(document)) == document
    odd = {"a": "quote \" backslash \\ tab \t del \x7f newline \n é", "k": {"dotted.key": [1.5e-9, float("inf"), True]}}
    assert tomllib.loads(dumps(odd)) == odd


# ------------------------------------------------------------------------------------------------ runs


def test_rows_are_the_same_from_this_process_and_loky_pools_of_one_and_two(campaign):
    items = campaign.plan(range(6))
    direct = [run_one(campaign.document, campaign.source, item) for item in items]
    assert all(row["status"] == "ok" for row in direct), [row["error"] for row in direct]
    assert [row["run"] for row in direct] == list(range(6))
    first = direct[0]
    assert list(first) == ["run", "seed", "entropy", "spawn_key", "overrides", "status", "error", "metrics", "failures",
                           "mission", "mission_hash", "wall_s"]
    assert first["metrics"]["report.score.value"] is None, "a key the report does not have is null"
    assert first["metrics"]["report.jobs.listed[0].state"] in ("COMPLETED", "RUNNING", "PENDING", "CHECKPOINTING")
    assert isinstance(first["metrics"]["sat('A-01-01').sunlit"], bool)
    assert set(first["failures"]) == {"train_missed", "gpu_lost"}
    assert {row["failures"]["gpu_lost"] for row in direct} == {True, False}, "the grid changes the outcome"
    one = list(run_campaign(campaign, items, workers=1))
    two = list(run_campaign(campaign, items, workers=2))
    assert _without_wall(one) == _without_wall(two) == _without_wall(direct)
    assert json.dumps(_without_wall(two)) == json.dumps(_without_wall(direct)), "byte-identical rows"


def test_an_in_process_dask_cluster_gives_the_rows_of_the_local_pool(campaign, campaign_file, tmp_path, capsys):
    from distributed import Client, LocalCluster

    from console.cli import main

    items = campaign.plan(range(4))
    local = list(run_campaign(campaign, items, workers=2))
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            on_dask = list(run_campaign(campaign, items, dask=client))
        out = tmp_path / "dask.jsonl"  # the command line, connecting by address
        assert main(["sweep", str(campaign_file), "--runs", "4", "--dask", cluster.scheduler_address, "--out", str(out)]) == 0
    assert _without_wall(on_dask) == _without_wall(local)
    assert _without_wall(read_results(out).rows) == _without_wall(local)
    assert "Failures" in capsys.readouterr().out


def test_a_run_that_raises_is_an_error_row_and_the_campaign_goes_on(write_mission):
    text = CAMPAIGN.replace("{ dist = \"uniform\", low = 10, high = 60 }", "{ dist = \"normal\", mean = 5, std = 50 }")
    campaign = load_campaign(write_mission(text, "wild.toml"))
    rows = list(run_campaign(campaign, campaign.plan(range(6)), workers=1))
    errors = [row for row in rows if row["status"] == "error"]
    assert errors and len(errors) < 6, "a normal draw of std 50 around 5 goes negative now and then"
    for row in errors:
        assert row["overrides"]["random"]["workload.generator[0].rate_per_hour"] <= 0
        assert "rate_per_hour" in row["error"] and row["metrics"] == {} and row["failures"] == {}


# ---------------------------------------------------------------------------------- resume and summary


def _omc(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([*OMC, *arguments], capture_output=True, text=True, cwd=cwd, timeout=120, env=env)


def test_a_killed_campaign_resumes_running_only_the_missing_runs(campaign_file, tmp_path):
    out = tmp_path / "results.jsonl"
    arguments = ["sweep", str(campaign_file), "--runs", "14", "--workers", "1", "--out", str(out)]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    process = subprocess.Popen([*OMC, *arguments], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") >= 3:
                break
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    before = out.read_bytes()
    finished = [json.loads(line) for line in before.splitlines()]
    assert 3 <= len(finished) < 14, "killed part-way"
    with out.open("ab") as handle:  # and as if the kill had come in the middle of writing a row
        handle.write(b'{"run": 13, "seed": 1')

    resumed = _omc(*arguments, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(finished)} done, {14 - len(finished)} to run" in " ".join(resumed.stderr.split())
    after = out.read_bytes()
    assert after.startswith(before), "finished runs are kept as they were, not run again"
    rows = [json.loads(line) for line in after.splitlines()]
    assert sorted(row["run"] for row in rows) == list(range(14)), "each run exactly once"
    assert "Failures" in resumed.stdout and "train_missed" in resumed.stdout

    again = _omc(*arguments, cwd=tmp_path)
    assert again.returncode == 0 and out.read_bytes() == after and "14 done, 0 to run" in " ".join(again.stderr.split())

    changed = Path(str(campaign_file).replace(".toml", "-changed.toml"))
    changed.write_text(campaign_file.read_text().replace('until = "30m"', 'until = "20m"'))
    refused = _omc("sweep", str(changed), "--out", str(out), cwd=tmp_path)
    assert refused.returncode == 1 and "different campaign" in refused.stderr and "Traceback" not in refused.stderr


def test_a_results_file_being_written_is_not_written_by_a_second_sweep(campaign_file, tmp_path, capsys):
    from console.cli import main
    from engine.sweep import Results, ResultsWriter

    out = tmp_path / "busy.jsonl"
    with ResultsWriter(out, Results([], 0, 0)):
        assert main(["sweep", str(campaign_file), "--runs", "1", "--workers", "1", "--out", str(out)]) == 1
    assert "being written by another omc sweep" in capsys.readouterr().err
    assert out.read_bytes() == b""


def test_the_summary_is_rendered_from_the_file_alone_whatever_order_the_rows_are_in(campaign, tmp_path, capsys):
    from console.cli import main

    rows = list(run_campaign(campaign, campaign.plan(range(6)), workers=1))
    forward, backward = tmp_path / "a" / "rows.jsonl", tmp_path / "b" / "rows.jsonl"
    forward.parent.mkdir()
    backward.parent.mkdir()
    forward.write_text("".join(json.dumps(row) + "\n" for row in sorted(rows, key=lambda r: r["run"])))
    backward.write_text("".join(json.dumps(row) + "\n" for row in sorted(rows, key=lambda r: -r["run"])))
    assert main(["sweep", "--summary", str(forward)]) == 0
    first = capsys.readouterr().out
    assert main(["sweep", "--summary", str(backward)]) == 0
    second = capsys.readouterr().out
    assert first.replace("/a/rows", "/b/rows") == second
    for text in ("Campaign camp: 6 runs, 6 ok", "report.jobs.completed", "train_missed", "gpu_lost", "By grid point",
                 "95 % CI of mean", "Wilson"):
        assert text in " ".join(first.split()), text
    assert main(["sweep", "--summary", str(tmp_path / "none.jsonl")]) == 1


# ------------------------------------------------------------------------------------------- run k alone


def test_run_k_reproduced_alone_matches_its_row(campaign, campaign_file, tmp_path):
    from console.sweep_cli import sweep_run_mission
    from engine.runner import run_headless
    from engine.sweep import _Reader

    row = run_one(campaign.document, campaign.source, campaign.item(3))
    assert row["status"] == "ok"
    alone = sweep_run_mission(str(campaign_file), 3, None)
    assert alone.seed == row["seed"] and alone.spec.step_s == 60 and alone.spec.duration_s == 1800
    reader = _Reader(run_headless(alone.spec, seed=alone.seed))
    assert {name: reader.metric(name) for name in row["metrics"]} == row["metrics"]

    report = tmp_path / "run3.json"
    result = _omc("run", str(campaign_file), "--sweep-run", "3", "--report", str(report), "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = json.loads(report.read_text())
    assert written["seed"] == row["seed"]
    assert written["jobs"]["completed"] == row["metrics"]["report.jobs.completed"]
    assert written["faults"]["injected"] == row["metrics"]["report.faults.injected"]
    assert f"seed {row['seed']}" in result.stderr
    refused = _omc("run", str(campaign_file), "--sweep-run", "3", "--step", "10s", cwd=tmp_path)
    assert refused.returncode == 2 and "no --step or --until" in refused.stderr


def test_a_recorded_sweep_run_keeps_that_runs_mission_and_replays(campaign, campaign_file, tmp_path):
    from engine.archive import ArchiveReader

    archive = tmp_path / "run1.omc"
    recorded = _omc("run", str(campaign_file), "--sweep-run", "1", "--archive", str(archive), "--quiet", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    with ArchiveReader(archive) as reader:
        document = json.loads(reader.meta["mission_document"])
        assert reader.mission_spec().seed == reader.seed
    item = campaign.item(1)
    assert document["fault"][0]["rate_per_year"] == 40000 and document["mission"]["seed"] == item.seed
    assert document["hardware"]["battery_kwh"] == item.random["hardware.battery_kwh"] and "sweep" not in document
    verified = _omc("replay", str(archive), "--verify", cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_the_console_opens_run_k_with_its_mission_and_seed_and_reaches_its_row(campaign, campaign_file,
                                                                                    monkeypatch):
    """``omc MISSION --sweep-run K`` opens the console on run K: the app gets run K's mission (its overrides,
    its seed, "sweep run K" leading the title bar) and, driven with Pilot to the campaign's end time, its
    simulation gives run K's row."""
    import argparse

    from console.app import MissionControlApp
    from console.sweep_cli import open_sweep_run
    from console.widgets.clock_bar import ClockBar
    from engine.sweep import _Reader

    opened: list[MissionControlApp] = []
    monkeypatch.setattr(MissionControlApp, "run", lambda app, *args, **kwargs: opened.append(app))
    options = argparse.Namespace(mission=str(campaign_file), sweep_run=2, seed=None, no_record=True, record=None)
    assert open_sweep_run(options) == 0 and len(opened) == 1
    app, item = opened[0], campaign.item(2)
    assert app.driver.sim.seed == item.seed
    row = run_one(campaign.document, campaign.source, item)
    async with app.run_test(size=(160, 48)) as pilot:
        assert app.title.startswith("sweep run 2 · ")
        assert app.query_one(ClockBar).state.mission_title.startswith("sweep run 2")
        sim = app.driver.sim
        assert sim.battery.capacity_j / 3.6e6 == pytest.approx(item.random["hardware.battery_kwh"])  # its draw
        sim.run_until(sim.spec.duration_s)
        await pilot.pause()
        reader = _Reader(sim)
        assert {name: reader.metric(name) for name in row["metrics"]} == row["metrics"]
    bad = argparse.Namespace(mission=str(campaign_file), sweep_run=-1, seed=None, no_record=True, record=None)
    assert open_sweep_run(bad) == 1 and len(opened) == 1  # refused with the reason; no console opened


def test_retry_errors_runs_the_errored_runs_again_and_their_new_rows_count(campaign, campaign_file, tmp_path,
                                                                            monkeypatch, capsys):
    """A run that raised for a reason of its moment (here its simulation runs out of memory once) is an
    error row; resuming skips it, --retry-errors runs it again, the new row is appended and counts (in the
    file and the summary), and the other rows are untouched."""
    import engine.runner as runner
    from console.cli import main

    out = tmp_path / "camp.jsonl"
    real = runner.run_headless
    unlucky = campaign.item(2).seed
    seeds: list[int] = []

    def out_of_memory_once(spec, *args, **kwargs):
        seeds.append(spec.seed)
        if spec.seed == unlucky and seeds.count(unlucky) == 1:
            raise MemoryError("cannot allocate the job table")
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(runner, "run_headless", out_of_memory_once)
    arguments = ["sweep", str(campaign_file), "--runs", "4", "--workers", "1", "--out", str(out), "--quiet"]
    assert main(arguments) == 0
    first = read_results(out)
    assert [row["status"] for row in sorted(first.rows, key=lambda r: r["run"])] == ["ok", "ok", "error", "ok"]
    assert "MemoryError: cannot allocate" in next(row["error"] for row in first.rows if row["run"] == 2)
    before = out.read_bytes()
    assert main(arguments) == 0 and out.read_bytes() == before  # a plain resume counts the error row as done
    assert main([*arguments, "--retry-errors"]) == 0
    assert out.read_bytes().startswith(before)  # appended; nothing rewritten
    again = read_results(out)
    assert again.retried == 1 and again.duplicates == 0 and sorted(again.runs) == [0, 1, 2, 3]
    retried = next(row for row in again.rows if row["run"] == 2)
    assert retried["status"] == "ok" and retried["seed"] == unlucky and retried["metrics"]
    assert seeds.count(unlucky) == 2 and len(seeds) == 5  # only run 2 ran again
    assert main([*arguments, "--retry-errors"]) == 0 and len(seeds) == 5  # nothing left to retry
    capsys.readouterr()
    assert main(["sweep", "--summary", str(out)]) == 0
    assert "4 runs, 4 ok" in " ".join(capsys.readouterr().out.split())
