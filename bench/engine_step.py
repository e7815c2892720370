"""Cost of one engine step against raw SGP4 propagation of the same satellites, measured side by side.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/engine_step.py [--sizes 100 1000 10000] [--json out.json]

For each fleet size the script builds a Walker shell (80 %, 53°, 550 km) plus a dawn-dusk shell (20 %,
650 km) with the bundled ground network, then times ``sim.step()`` and a bare ``SatrecArray.sgp4`` call
for the same satellites, interleaved, and prints medians and their ratio. Machines here are noisy, so
read the ratio, not the absolute times.
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


def mission_text(satellites: int) -> str:
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
"""


def measure(satellites: int, rounds: int, warmup_steps: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.toml"
        path.write_text(mission_text(satellites))
        spec = load_mission(path)
    sim = Simulation(spec)
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
    return {
        "satellites": count,
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
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args()
    results = []
    print(f"{'satellites':>10} {'step ms':>9} {'sgp4 ms':>9} {'ratio':>6} {'[min-max]':>12} {'µs/sat':>7} {'x real time':>12}")
    for size in options.sizes:
        row = measure(size, options.rounds, warmup_steps=20)
        results.append(row)
        print(
            f"{row['satellites']:>10,} {row['step_ms']:>9.3f} {row['sgp4_ms']:>9.3f} {row['ratio']:>6.2f} "
            f"{row['ratio_min']:>5.2f}-{row['ratio_max']:<5.2f} {row['step_us_per_satellite']:>7.3f} {row['real_time_factor']:>12,.0f}",
            flush=True,
        )
    if len(results) >= 2:
        small, large = results[-2], results[-1]
        marginal = (large["step_ms"] - small["step_ms"]) / (large["satellites"] - small["satellites"]) * 1e3
        print(f"marginal cost between the two largest sizes: {marginal:.3f} µs per satellite-step "
              f"(linear growth means this stays flat as sizes grow)")
    if options.json:
        options.json.write_text(json.dumps({"python": sys.version.split()[0], "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
