"""What recording a run into an archive (``engine.archive.ArchiveWriter``) adds to each engine step.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/archive_write.py [--satellites 1000] [--steps 360] [--rounds 7]
        [--json out.json]

The mission is the synthetic fleet of ``bench/engine_step.py`` (a Walker shell at 53°/550 km and a dawn-dusk
shell at 650 km, the bundled ground network, 10 s steps, synthetic GPU load). Each round runs the same
mission with the same seed for the same number of steps twice in this process, side by side: the
baseline without recording, the other recording at the default settings (``ArchiveSettings()``: every
default parameter once a minute, float32, a commit every 50 steps) into a fresh file in a temporary
directory. The two are stepped alternately in chunks of ``--chunk`` steps (which goes first alternates
too), so the machine's slow spells fall on both. A recorded run is timed as ``omc run --archive`` pays
for it: creating the writer (the file, its meta and the first sample), every step followed by
``record_step``, and closing it (the last commit and the WAL checkpoint); building the Simulations is
left out of both. The writer commits its batches on a thread of its own; each recorded chunk ends by
waiting for that thread to finish what it was handed, so its work is charged to the recorded run even
on one core (``taskset -c 0`` shows that case) and never to the baseline chunk that follows.

It prints the median step time of each, the ratio recorded / baseline (median over rounds, with the
min-max of the per-round ratios), the writer's own time per step (``ArchiveWriter.write_s``), and the
archive's size per step and per sample time (all parameters at one instant) next to the raw array
bytes of one sample. Machines here are noisy: read the ratio, not the absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/engine_step.py builds the fleet
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_step import mission_text  # noqa: E402

from engine import Simulation, load_mission  # noqa: E402
from engine.archive import ArchiveReader, ArchiveSettings, ArchiveWriter  # noqa: E402
from engine.mission import mission_document  # noqa: E402


def lockstep_round(spec, steps: int, chunk: int, record_to: Path, document, recorded_first: bool) -> dict:
    """Two runs of the same mission and seed, stepped side by side in chunks of `chunk` steps: the
    baseline plain, the other recorded into `record_to`. Timing them chunk by chunk, alternately, means a
    slow spell of the machine falls on both alike."""
    base_sim, recorded_sim = Simulation(spec), Simulation(spec)
    base_s = recorded_s = 0.0
    started = time.perf_counter()
    writer = ArchiveWriter(record_to, recorded_sim, document, ArchiveSettings())
    recorded_s += time.perf_counter() - started

    def run_base(count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            base_sim.step()
            base_sim.drain_events()
        return time.perf_counter() - started

    def run_recorded(count: int) -> float:
        started = time.perf_counter()
        for _ in range(count):
            recorded_sim.step()
            writer.record_step(recorded_sim, recorded_sim.drain_events())
        writer.wait_committed()  # the committing thread's work is charged here, not to the next baseline chunk
        return time.perf_counter() - started

    done = 0
    while done < steps:
        count = min(chunk, steps - done)
        if recorded_first:
            recorded_s += run_recorded(count)
            base_s += run_base(count)
        else:
            base_s += run_base(count)
            recorded_s += run_recorded(count)
        recorded_first = not recorded_first
        done += count
    started = time.perf_counter()
    writer.close(recorded_sim)
    recorded_s += time.perf_counter() - started
    assert base_sim.time_s == recorded_sim.time_s
    return {"base_s": base_s, "recorded_s": recorded_s, "write_s": writer.write_s}


def measure(satellites: int, steps: int, rounds: int, chunk: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        mission = folder / "bench.toml"
        mission.write_text(mission_text(satellites))
        spec = load_mission(mission)
        document = mission_document(mission)
        lockstep_round(spec, 2 * chunk, chunk, folder / "warmup.omc", document, True)  # imports, first-call caches
        base, recorded, write, ratios = [], [], [], []
        archive = None
        for round_index in range(rounds):
            if archive is not None:
                archive.unlink()
            archive = folder / f"round{round_index}.omc"
            result = lockstep_round(spec, steps, chunk, archive, document, recorded_first=round_index % 2 == 1)
            base.append(result["base_s"] / steps)
            recorded.append(result["recorded_s"] / steps)
            write.append(result["write_s"] / steps)
            ratios.append(result["recorded_s"] / result["base_s"])
        size = archive.stat().st_size
        with ArchiveReader(archive) as reader:
            sample_times = len(reader.sample_steps())
            raw = sum(array.nbytes for array in reader.samples_at(0).values())
            parameters = len(reader.settings.parameters)
            period = reader.settings.telemetry_period_s
    count = len(spec.satellites)
    return {
        "satellites": count,
        "steps": steps,
        "chunk": chunk,
        "step_s": spec.step_s,
        "rounds": rounds,
        "parameters": parameters,
        "telemetry_period_s": period,
        "baseline_step_ms": statistics.median(base) * 1e3,
        "recorded_step_ms": statistics.median(recorded) * 1e3,
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "writer_ms_per_step": statistics.median(write) * 1e3,
        "archive_bytes": size,
        "bytes_per_step": size / steps,
        "sample_times": sample_times,
        "bytes_per_sample_time": size / sample_times,
        "raw_bytes_per_sample_time": raw,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--satellites", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=360, help="steps per run (default 360: one hour at 10 s)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--chunk", type=int, default=60, help="steps timed at a time, alternating the two runs")
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args()
    row = measure(options.satellites, options.steps, options.rounds, options.chunk)
    print(f"{row['satellites']:,} satellites, {row['steps']} steps of {row['step_s']:g} s in chunks of {row['chunk']}, "
          f"{row['rounds']} rounds; "
          f"{row['parameters']} parameters every {row['telemetry_period_s']:g} s (ArchiveSettings())")
    print(f"  baseline step        {row['baseline_step_ms']:8.3f} ms (median)")
    print(f"  recorded step        {row['recorded_step_ms']:8.3f} ms (median)")
    print(f"  ratio recorded/base  {row['ratio']:8.3f}  [{row['ratio_min']:.3f}-{row['ratio_max']:.3f}] "
          f"(+{(row['ratio'] - 1) * 100:.1f} %; target under +20 %)")
    print(f"  writer time          {row['writer_ms_per_step']:8.3f} ms per step (ArchiveWriter.write_s, median)")
    print(f"  archive              {row['archive_bytes'] / 1e6:8.2f} MB: {row['bytes_per_step'] / 1e3:.1f} kB per step, "
          f"{row['bytes_per_sample_time'] / 1e3:.1f} kB per sample time ({row['sample_times']} sample times; "
          f"raw arrays {row['raw_bytes_per_sample_time'] / 1e3:.1f} kB)")
    if options.json:
        options.json.write_text(json.dumps({"python": sys.version.split()[0], "results": [row]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
