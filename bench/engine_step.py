"""Cost of one engine step against raw SGP4 propagation of the same satellites, measured side by side.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/engine_step.py [--sizes 100 1000 10000] [--queue synthetic busy]
        [--json out.json]

For each fleet size the script builds a Walker shell (80 %, 53°, 550 km) plus a dawn-dusk shell (20 %,
650 km) with the bundled ground network, then times ``sim.step()`` and a bare ``SatrecArray.sgp4`` call
for the same satellites, interleaved, and prints medians and their ratio. Machines here are noisy, so
read the ratio, not the absolute times.

Every step includes GPU health and radiation. ``--queue synthetic`` drives the GPUs with the fleet-wide
synthetic load (no jobs); ``busy`` runs a job workload sized to the fleet: a backlog of 8-GPU training jobs
submitted in the first minutes fills about half the GPUs at once, and steady generators (training gangs of
8-32 GPUs for hours, 1-2 GPU inference jobs for an hour, 30 s checkpoints) keep the queue busy, with
preemption between the tiers. The timed steps start once the backlog has started.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
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


def measure(satellites: int, rounds: int, warmup_steps: int, queue: str = "synthetic") -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.toml"
        path.write_text(mission_text(satellites, queue))
        spec = load_mission(path)
    sim = Simulation(spec)
    warmup_steps = max(warmup_steps, 15) if queue == "busy" else warmup_steps  # past the 2-minute backlog
    for _ in range(warmup_steps):
        sim.step()
        sim.drain_events()
    orbits = sim._orbits
    repeats = max(1, int(20_000 / len(spec.satellites)))
    step_times, raw_times = [], []
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
    step, raw = statistics.median(step_times), statistics.median(raw_times)
    count = len(spec.satellites)
    metrics = sim.workload_metrics()
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
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--queue", nargs="+", choices=("synthetic", "busy"), default=["synthetic", "busy"])
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args()
    results = []
    print(f"{'satellites':>10} {'queue':>9} {'step ms':>9} {'sgp4 ms':>9} {'ratio':>6} {'[min-max]':>12} {'µs/sat':>7} "
          f"{'x real time':>12} {'jobs on GPUs':>12} {'GPUs busy':>9}")
    for size in options.sizes:
        for queue in options.queue:
            row = measure(size, options.rounds, warmup_steps=20, queue=queue)
            results.append(row)
            busy = "" if row["gpu_busy_fraction"] is None else f"{row['gpu_busy_fraction']:.0%}"
            print(
                f"{row['satellites']:>10,} {queue:>9} {row['step_ms']:>9.3f} {row['sgp4_ms']:>9.3f} {row['ratio']:>6.2f} "
                f"{row['ratio_min']:>5.2f}-{row['ratio_max']:<5.2f} {row['step_us_per_satellite']:>7.3f} "
                f"{row['real_time_factor']:>12,.0f} {row['jobs_running'] or '':>12} {busy:>9}",
                flush=True,
            )
    synthetic = [row for row in results if row["queue"] == options.queue[0]]
    if len(synthetic) >= 2:
        small, large = synthetic[-2], synthetic[-1]
        marginal = (large["step_ms"] - small["step_ms"]) / (large["satellites"] - small["satellites"]) * 1e3
        print(f"marginal cost between the two largest sizes: {marginal:.3f} µs per satellite-step "
              f"(linear growth means this stays flat as sizes grow)")
    if options.json:
        options.json.write_text(json.dumps({"python": sys.version.split()[0], "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
