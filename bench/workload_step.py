"""Cost of one workload step (jobs, scheduler, progress) at fleet scale.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/workload_step.py [--sats 10000] [--gpus 8] [--steps 200]

Three cases on N satellites x G GPUs in planes of 100 satellites, 10 s steps:
- quiet:     a few thousand long jobs running, no arrivals or faults (the scheduler should not run);
- busy:      inference arriving every step (a pass per step), 20 GPU faults every 10 steps;
- saturated: like busy, with ~5,000 jobs waiting (passes look at 1,000 pending jobs each).
Prints the median and 95th-percentile step time and how often a scheduling pass ran.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from engine.jobs import GeneratorSpec, JobSpec, PartitionSpec  # noqa: E402
from engine.workload import Workload  # noqa: E402

PARTITIONS = [
    PartitionSpec("inference-rt", tier=100),
    PartitionSpec("training", tier=10, preempt_mode="requeue", grace_s=60.0),
    PartitionSpec("batch", tier=1, preempt_mode="suspend"),
]


def build(case: str, sats: int, gpus: int) -> Workload:
    rng = np.random.default_rng(0)
    scale = 2 if case == "saturated" else 1
    n = 1500 * scale * sats // 10_000
    jobs = [JobSpec(f"T{i}", partition="training", gpus=int(rng.choice([8, 16, 32, 64])),
                    gpu_hours=float(rng.uniform(100, 2000) * scale ** 3), checkpoint_size_gb=200.0, startup_s=60.0)
            for i in range(n)]
    jobs += [JobSpec(f"B{i}", partition="batch", gpus=int(rng.choice([1, 2, 4, 8])), duration_s=float(rng.uniform(6e3, 7e4)))
             for i in range(n)]
    generators = [] if case == "quiet" else [
        GeneratorSpec("inference", rate_per_hour=1800 * sats / 10_000, duration_s=20.0, partition="inference-rt", gpus=(1, 2),
                      latency_target_s=60.0),
        GeneratorSpec("training", kind="training", rate_per_hour=20, duration_s=20_000.0, partition="training", gpus=(8, 16, 32),
                      checkpoint_size_gb=100.0),
    ]
    plane = np.arange(sats) // 100
    return Workload(jobs, generators, PARTITIONS, plane, np.ones((sats, gpus), dtype=bool), np.random.default_rng(1),
                    gpu_mtbf_h=5000.0)


def run(case: str, sats: int, gpus: int, steps: int) -> None:
    w = build(case, sats, gpus)
    usable = np.ones((sats, gpus), dtype=bool)
    speed = np.ones((sats, gpus))
    power = np.full((sats, gpus), 700.0)
    headroom = np.ones(sats, dtype=bool)
    drained = np.zeros(sats, dtype=bool)
    faults = np.random.default_rng(5)
    none = np.zeros((sats, gpus), dtype=bool)
    times, passes = [], 0
    for k in range(steps + 5):
        killed = none
        if case != "quiet" and k % 10 == 0:
            killed = none.copy()
            killed.reshape(-1)[faults.integers(0, sats * gpus, 20)] = True
        start = time.perf_counter()
        out = w.step(k * 10.0, 10.0, usable, speed, killed, headroom, drained, gpu_power_w=power)
        if k >= 5:  # the first steps place the initial backlog
            times.append(time.perf_counter() - start)
            passes += out.scheduled
    m = w.metrics()
    t = np.array(times) * 1e3
    print(f"{case:10s} {sats}x{gpus}: median {np.median(t):6.2f} ms  p95 {np.percentile(t, 95):6.2f} ms  "
          f"passes {passes}/{steps}  running {m['jobs']['running'] + m['jobs']['checkpointing']}  pending {m['jobs']['pending']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sats", type=int, default=10_000)
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    for case in ("quiet", "busy", "saturated"):
        run(case, args.sats, args.gpus, args.steps)


if __name__ == "__main__":
    main()
