"""Speed-up of a campaign (``omc sweep``, ``engine.sweep.run_campaign``) from 1 to 2 workers.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/sweep_workers.py [--mission fault-campaign] [--runs 12]
        [--rounds 3] [--workers 1 2] [--json out.json]

Each round runs the same campaign (runs 0 .. R-1 of the mission's [sweep] plan: the same overrides and seeds)
once with each worker count, in the order given and reversed every other round, so a slow spell of the machine
falls on both. ``--workers 1`` runs in this process (joblib runs n_jobs=1 sequentially, as ``omc sweep
--workers 1`` does); more workers are a loky process pool, started and warmed (every worker has imported the
engine and run one task) before the first round, as it stays warm across a campaign's runs. A round's time
is the wall time from the first task handed out to the last row back. Rows are checked identical (apart from
``wall_s``) across worker counts.

It prints each round's times, and for every worker count the median campaign time, runs per second and the
speed-up over the first count (median over rounds of the per-round ratio, with its min-max), and the load
average before and after: a figure taken while other processes held the cores says little. Machines here are
shared and noisy: read the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.sweep import load_campaign, run_campaign  # noqa: E402


def timed_campaign(campaign, items, workers: int) -> tuple[float, list[dict]]:
    started = time.perf_counter()
    rows = list(run_campaign(campaign, items, workers=workers))
    return time.perf_counter() - started, rows


def _comparable(rows: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in row.items() if k != "wall_s"} for row in rows), key=lambda row: row["run"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mission", default="fault-campaign", help="mission file or bundled id (default: fault-campaign)")
    parser.add_argument("--runs", type=int, default=12, help="runs per campaign (default: 12)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default: 3)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare (default: 1 2)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    options = parser.parse_args(argv)

    campaign = load_campaign(options.mission)
    items = campaign.plan(range(options.runs))
    print(f"campaign {campaign.mission_id} (hash {campaign.hash}): {options.runs} runs, workers {options.workers}, "
          f"{options.rounds} rounds, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    for workers in sorted(set(options.workers)):  # warm: imports here, the loky pool started and each worker used
        warm = list(run_campaign(campaign, campaign.plan(range(workers)), workers=workers))
        assert all(row["status"] == "ok" for row in warm), [row["error"] for row in warm]

    times: dict[int, list[float]] = {w: [] for w in options.workers}
    reference = None
    for round_index in range(options.rounds):
        order = options.workers if round_index % 2 == 0 else list(reversed(options.workers))
        line = []
        for workers in order:
            elapsed, rows = timed_campaign(campaign, items, workers)
            errors = [row["error"] for row in rows if row["status"] != "ok"]
            if errors:
                raise SystemExit(f"runs failed: {errors[:3]}")
            if reference is None:
                reference = _comparable(rows)
            elif _comparable(rows) != reference:
                raise SystemExit(f"rows with {workers} workers differ from the first campaign's")
            times[workers].append(elapsed)
            line.append(f"{workers} worker{'s' if workers != 1 else ''} {elapsed:6.2f} s")
        print(f"round {round_index + 1}: " + ", ".join(line) + f"  (load average {os.getloadavg()[0]:.2f})", flush=True)

    load = os.getloadavg()[0]
    busy = " (above the CPU count: other processes shared the cores)" if load > (os.cpu_count() or 1) else ""
    print(f"load average at the end {load:.2f}{busy}")
    base = options.workers[0]
    results = {"mission": campaign.mission_id, "runs": options.runs, "rounds": options.rounds, "cpus": os.cpu_count(),
               "load_average_end": round(load, 2), "workers": {}}
    for workers in options.workers:
        ratios = [b / t for b, t in zip(times[base], times[workers])]
        median = statistics.median(times[workers])
        results["workers"][str(workers)] = {
            "median_s": round(median, 3), "runs_per_s": round(options.runs / median, 3),
            "speedup": round(statistics.median(ratios), 3), "speedup_min": round(min(ratios), 3),
            "speedup_max": round(max(ratios), 3), "times_s": [round(t, 3) for t in times[workers]],
        }
        figures = results["workers"][str(workers)]
        print(f"{workers} worker{'s' if workers != 1 else ''}: median {median:.2f} s ({figures['runs_per_s']:.2f} runs/s), "
              f"speed-up over {base}: {figures['speedup']:.2f}x (rounds {figures['speedup_min']:.2f}-{figures['speedup_max']:.2f})")
    if options.json is not None:
        options.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
