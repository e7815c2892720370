"""Cost of one engine step against raw SGP4 propagation of the same satellites, measured side by side.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/engine_step.py [--sizes 100 1000 10000] [--queue synthetic busy]
        [--rounds 7] [--skyfield-sample 500] [--memory-sizes 30000] [--json out.json]

For each fleet size the script builds a Walker shell (80 %, 53°, 550 km) plus a dawn-dusk shell (20 %,
650 km) with the bundled ground network, then times ``sim.step()`` and a bare ``SatrecArray.sgp4`` call
for the same satellites, interleaved, and prints medians and their ratio. Machines here are noisy, so
read the ratio, not the absolute times.

Every step includes GPU health and radiation. ``--queue synthetic`` drives the GPUs with the fleet-wide
synthetic load (no jobs); ``busy`` runs a job workload sized to the fleet: a backlog of 8-GPU training jobs
submitted in the first minutes fills about half the GPUs at once, and steady generators (training gangs of
8-32 GPUs for hours, 1-2 GPU inference jobs for an hour, 30 s checkpoints) keep the queue busy, with
preemption between the tiers. The timed steps start once the backlog has started.

The engine evaluates SGP4 for the whole fleet once a minute of mission time and interpolates between
(``engine.orbit_track``, under 1 m from SGP4): at the 10 s step here that is one SGP4 call per six steps.
``--direct-sgp4`` makes every step call SGP4 for the whole fleet instead, to show what that saves. A timed
round is a whole number of knot periods (six steps at least), so each round pays for its SGP4 knot and the
medians are true averages rather than the cheaper steps between knots.

Two further baselines, measured in the same run:

* skyfield one by one: ``skyfield.api.EarthSatellite`` objects built from the fleet's own TLEs
  (``load.timescale(builtin=True)``, nothing downloaded), each propagated with ``sat.at(t)`` for one
  instant ``t`` (a fresh skyfield Time per round, warmed with one call so its one-off per-instant cost is
  left out, which favours skyfield). Only ``--skyfield-sample`` satellites (spread over the whole fleet) are
  timed; the time per satellite is scaled to the fleet size, and the table gives the engine step's speed-up
  over it, per round, interleaved with the step and SGP4 timings (``--skyfield-sample 0`` turns it off).
* memory: for every size (and queue), a fresh subprocess reads its resident memory (``VmRSS`` in
  /proc/self/status) after importing the engine, builds the fleet, takes 20 steps and reads it again; the
  growth is reported in MB (10^6 bytes) per 1,000 satellites, with the process peak (``VmHWM``).
  ``--memory-sizes`` does only this (no timing) for further sizes, e.g. 30000, and compares the peak
  resident memory of the whole process with the issue's 2 GB (2x10^9 bytes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from engine import Simulation, load_mission  # noqa: E402
from engine.mission import bundled_missions_dir  # noqa: E402


def busy_queue_text(satellites: int) -> str:
    """Jobs for a fleet of 8-GPU satellites: backlog + training and inference generators (~75 % busy)."""
    gpus = 8 * satellites
    backlog = max(1, int(0.5 * gpus / 8))
    training_rate = 0.2 * gpus / (18.7 * 4.0)  # GPUs busy = rate x mean gang x hours
    inference_rate = 0.1 * gpus / (1.5 * 1.0)
    return f"""
[[scheduler.partition]]
name = "training"
tier = 1
preempt_mode = "requeue"
grace = "5m"
[[scheduler.partition]]
name = "inference"
tier = 2
[[workload.generator]]
name = "backlog"
kind = "training"
partition = "training"
rate_per_hour = {backlog * 60}
stop = "2m"
max_jobs = {backlog}
duration = "8h"
duration_dist = "fixed"
gpus = 8
checkpoint_interval = "30m"
checkpoint_size_gb = 100
checkpoint_bandwidth_gbps = 25
[[workload.generator]]
name = "training"
kind = "training"
partition = "training"
rate_per_hour = {training_rate:.3f}
duration = "4h"
gpus = [8, 16, 32]
checkpoint_interval = "auto"
checkpoint_size_gb = 200
checkpoint_bandwidth_gbps = 25
[[workload.generator]]
name = "inference"
kind = "inference"
partition = "inference"
rate_per_hour = {inference_rate:.3f}
duration = "1h"
gpus = [1, 2]
latency_target_ms = 7200000
"""


def mission_text(satellites: int, queue: str = "synthetic") -> str:
    walker = int(round(satellites * 0.8))
    planes = max(1, int(round(math.sqrt(walker / 2))))
    per_plane = max(1, walker // planes)
    sso = max(1, satellites - planes * per_plane)
    sso_planes = max(1, int(round(math.sqrt(sso / 4))))
    sso_per_plane = max(1, sso // sso_planes)
    stations = (bundled_missions_dir() / "include" / "ground_stations.toml").as_posix()
    return f"""
include = ["{stations}"]
[mission]
id = "bench-{satellites}"
title = "benchmark fleet of about {satellites} satellites"
epoch = "2026-03-21T00:00:00Z"
duration = "1h"
step = "10s"
seed = 1
[[shell]]
name = "A"
altitude_km = 550
inclination_deg = 53
planes = {planes}
sats_per_plane = {per_plane}
phasing = 1
[[shell]]
name = "D"
altitude_km = 650
sun_synchronous = true
ltan = "18:00"
planes = {sso_planes}
sats_per_plane = {sso_per_plane}
raan_spread_deg = 30
""" + (busy_queue_text(satellites) if queue == "busy" else "")


MEMORY_STEPS = 20
MEMORY_TARGET_BYTES = 2e9  # the 2 GB for 30,000 satellites


def load_spec(satellites: int, queue: str):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.toml"
        path.write_text(mission_text(satellites, queue))
        return load_mission(path)


def skyfield_fleet(spec, sample: int):
    """skyfield EarthSatellite objects for ``sample`` of the fleet's TLEs, spread evenly over the fleet."""
    from skyfield.api import EarthSatellite, load

    timescale = load.timescale(builtin=True)
    count = len(spec.satellites)
    indices = np.unique(np.linspace(0, count - 1, min(sample, count)).round().astype(int))
    satellites = [EarthSatellite(spec.satellites[i].tle[0], spec.satellites[i].tle[1], f"S{i}", timescale)
                  for i in indices]
    return timescale, satellites


def skyfield_one_by_one_s(timescale, satellites, when) -> float:
    """Seconds per satellite to propagate each satellite on its own with ``sat.at(t)`` for one instant."""
    t = timescale.from_datetime(when)
    satellites[0].at(t)  # the Time's one-off per-instant work (left out of the timing)
    started = time.perf_counter()
    for satellite in satellites:
        satellite.at(t)
    return (time.perf_counter() - started) / len(satellites)


def measure(satellites: int, rounds: int, warmup_steps: int, queue: str = "synthetic",
            skyfield_sample: int = 500, direct_sgp4: bool = False) -> dict:
    spec = load_spec(satellites, queue)
    sim = Simulation(spec)
    if direct_sgp4:  # SGP4 for the whole fleet at every step instead of the one-minute knots (engine.orbit_track)
        sim._track.knot_s = 0.0
    sky = skyfield_fleet(spec, skyfield_sample) if skyfield_sample > 0 else None
    warmup_steps = max(warmup_steps, 15) if queue == "busy" else warmup_steps  # past the 2-minute backlog
    for _ in range(warmup_steps):
        sim.step()
        sim.drain_events()
    orbits = sim._orbits
    repeats = max(1, int(20_000 / len(spec.satellites)))
    knot_steps = round(sim._track.knot_s / spec.step_s) if sim._track.knot_s > spec.step_s else 1
    repeats = -(-repeats // knot_steps) * knot_steps  # whole knot periods: every round pays one SGP4 knot
    step_times, raw_times, sky_times = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeats):
            sim.step()
            sim.drain_events()
        step_times.append((time.perf_counter() - started) / repeats)
        jd, fraction = sim.clock.jd_utc(sim.time_s)
        jd_array, fraction_array = np.atleast_1d(jd), np.atleast_1d(fraction)
        started = time.perf_counter()
        for _ in range(repeats):
            orbits.sgp4(jd_array, fraction_array)
        raw_times.append((time.perf_counter() - started) / repeats)
        if sky is not None:
            sky_times.append(skyfield_one_by_one_s(*sky, sim.clock.utc(sim.time_s)) * len(spec.satellites))
    step, raw = statistics.median(step_times), statistics.median(raw_times)
    count = len(spec.satellites)
    metrics = sim.workload_metrics()
    speedups = [k / s for s, k in zip(step_times, sky_times)]
    return {
        "satellites": count,
        "queue": queue,
        "jobs_running": None if metrics is None else metrics["jobs"]["running"] + metrics["jobs"]["checkpointing"],
        "gpu_busy_fraction": None if metrics is None else metrics["utilization_now"],
        "step_ms": step * 1e3,
        "sgp4_ms": raw * 1e3,
        "ratio": step / raw,
        "ratio_min": min(s / r for s, r in zip(step_times, raw_times)),
        "ratio_max": max(s / r for s, r in zip(step_times, raw_times)),
        "step_us_per_satellite": step * 1e6 / count,
        "real_time_factor": spec.step_s / step,
        "skyfield_sample": 0 if sky is None else len(sky[1]),
        "skyfield_one_by_one_ms": statistics.median(sky_times) * 1e3 if sky_times else None,
        "skyfield_speedup": statistics.median(speedups) if speedups else None,
        "skyfield_speedup_min": min(speedups) if speedups else None,
        "skyfield_speedup_max": max(speedups) if speedups else None,
    }


def resident_kb() -> dict:
    """Current (VmRSS) and peak (VmHWM) resident memory of this process, in kB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1])
    return values


def memory_child(satellites: int, queue: str) -> dict:
    """Run in a fresh process: resident memory before building a fleet and after building it + some steps."""
    before = resident_kb()
    started = time.perf_counter()
    spec = load_spec(satellites, queue)
    sim = Simulation(spec)
    for _ in range(MEMORY_STEPS):
        sim.step()
        sim.drain_events()
    after = resident_kb()
    count = len(spec.satellites)
    growth = (after["VmRSS"] - before["VmRSS"]) * 1024
    return {
        "satellites": count,
        "queue": queue,
        "steps": MEMORY_STEPS,
        "seconds": time.perf_counter() - started,
        "rss_before_mb": before["VmRSS"] * 1024 / 1e6,
        "rss_after_mb": after["VmRSS"] * 1024 / 1e6,
        "peak_rss_mb": after["VmHWM"] * 1024 / 1e6,
        "growth_mb_per_1000": growth / count * 1000 / 1e6,
        "peak_within_target": after["VmHWM"] * 1024 <= MEMORY_TARGET_BYTES,
    }


def measure_memory(satellites: int, queue: str) -> dict:
    """memory_child in a fresh subprocess, so that sizes don't share (or inherit) a heap."""
    command = [sys.executable, str(Path(__file__).resolve()), "--memory-child", str(satellites), "--queue", queue]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_memory(rows: list[dict]) -> None:
    print(f"{'satellites':>10} {'queue':>9} {'RSS before MB':>13} {'after MB':>9} {'MB per 1,000 sats':>17} "
          f"{'peak RSS MB':>11} {'peak <= 2 GB':>12}")
    for row in rows:
        print(f"{row['satellites']:>10,} {row['queue']:>9} {row['rss_before_mb']:>13.0f} {row['rss_after_mb']:>9.0f} "
              f"{row['growth_mb_per_1000']:>17.1f} {row['peak_rss_mb']:>11.0f} "
              f"{'yes' if row['peak_within_target'] else 'NO':>12}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--queue", nargs="+", choices=("synthetic", "busy"), default=["synthetic", "busy"])
    parser.add_argument("--skyfield-sample", type=int, default=500,
                        help="satellites timed one by one with skyfield's EarthSatellite.at (0: skip)")
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[],
                        help="also measure resident memory (only) for fleets of these sizes, e.g. 30000")
    parser.add_argument("--direct-sgp4", action="store_true",
                        help="propagate the whole fleet with SGP4 at every step (no knots and interpolation), "
                             "to see what engine.orbit_track saves")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args()
    if options.memory_child is not None:
        print(json.dumps(memory_child(options.memory_child, options.queue[0])))
        return 0
    results = []
    print(f"{'satellites':>10} {'queue':>9} {'step ms':>9} {'sgp4 ms':>9} {'ratio':>6} {'[min-max]':>12} {'µs/sat':>7} "
          f"{'x real time':>12} {'jobs on GPUs':>12} {'GPUs busy':>9} {'skyfield 1-by-1 ms':>18} {'speed-up':>8} "
          f"{'[min-max]':>11}")
    for size in options.sizes:
        for queue in options.queue:
            row = measure(size, options.rounds, warmup_steps=20, queue=queue, skyfield_sample=options.skyfield_sample,
                          direct_sgp4=options.direct_sgp4)
            results.append(row)
            busy = "" if row["gpu_busy_fraction"] is None else f"{row['gpu_busy_fraction']:.0%}"
            sky = "" if row["skyfield_speedup"] is None else (
                f"{row['skyfield_one_by_one_ms']:>18.1f} {row['skyfield_speedup']:>8.1f} "
                f"{row['skyfield_speedup_min']:>5.1f}-{row['skyfield_speedup_max']:<5.1f}")
            print(
                f"{row['satellites']:>10,} {queue:>9} {row['step_ms']:>9.3f} {row['sgp4_ms']:>9.3f} {row['ratio']:>6.2f} "
                f"{row['ratio_min']:>5.2f}-{row['ratio_max']:<5.2f} {row['step_us_per_satellite']:>7.3f} "
                f"{row['real_time_factor']:>12,.0f} {row['jobs_running'] or '':>12} {busy:>9} {sky}",
                flush=True,
            )
    if options.skyfield_sample > 0 and results:
        print(f"skyfield 1-by-1: EarthSatellite.at(t) for one instant, timed on {results[-1]['skyfield_sample']} "
              f"satellites of the fleet and scaled to the fleet size; speed-up = that time / the engine's full step")
    synthetic = [row for row in results if row["queue"] == options.queue[0]]
    if len(synthetic) >= 2:
        small, large = synthetic[-2], synthetic[-1]
        marginal = (large["step_ms"] - small["step_ms"]) / (large["satellites"] - small["satellites"]) * 1e3
        print(f"marginal cost between the two largest sizes: {marginal:.3f} µs per satellite-step "
              f"(linear growth means this stays flat as sizes grow)")
    memory = []
    if options.sizes:
        print(f"resident memory: fresh process per size, after importing the engine vs after building the fleet "
              f"and {MEMORY_STEPS} steps (MB = 10^6 bytes)")
        for size in options.sizes:
            for queue in options.queue:
                memory.append(measure_memory(size, queue))
        print_memory(memory)
        if len(options.sizes) >= 2:
            queue = options.queue[0]
            rows = [row for row in memory if row["queue"] == queue]
            small, large = rows[-2], rows[-1]
            slope = (large["rss_after_mb"] - small["rss_after_mb"]) / (large["satellites"] - small["satellites"]) * 1e3
            print(f"marginal resident memory between the two largest sizes ({queue}): {slope:.1f} MB per 1,000 satellites")
    if options.memory_sizes:
        print(f"peak resident memory of the whole process against the 2 GB target (build + {MEMORY_STEPS} steps):")
        extra = [measure_memory(size, queue) for size in options.memory_sizes for queue in options.queue]
        print_memory(extra)
        memory += extra
    if options.json:
        options.json.write_text(json.dumps({"python": sys.version.split()[0], "results": results, "memory": memory},
                                           indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
