"""Per-frame cost of the ground-track map: ``show`` plus rendering every line, at one pane size.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/map_render.py [--size 120 30] [--satellites 10000] [--frames 200]

Mounts a ``GroundTrackMap`` in a headless Textual app at the given size, then for (a) the bundled sandbox
fleet one hour in and (b) the same snapshot with `--satellites` random positions and alarm levels (every
per-satellite array resized consistently), times ``show(snapshot, selected, track)`` followed by
``render_line`` for every row, and prints the median and 90th percentile in milliseconds per frame.
Each frame gets a fresh snapshot object so nothing is reused across frames except the per-size cache.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402

from console.widgets.ground_track_map import GroundTrackMap  # noqa: E402
from engine import FleetSnapshot, Simulation, load_mission  # noqa: E402


def random_fleet(snapshot: FleetSnapshot, count: int, seed: int = 1) -> FleetSnapshot:
    """`snapshot` with `count` satellites at random positions: every per-satellite array resized."""
    rng = np.random.default_rng(seed)
    n = snapshot.satellite_count
    rows = rng.integers(0, n, count)
    changes: dict[str, object] = {}
    for field in dataclasses.fields(snapshot):
        value = getattr(snapshot, field.name)
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n and not field.name.startswith("station_"):
            changes[field.name] = value[rows]
    changes["satellite_ids"] = tuple(f"R-{i:05d}" for i in range(count))
    changes["lat_deg"] = np.degrees(np.arcsin(rng.uniform(-0.9, 0.9, count)))
    changes["lon_deg"] = rng.uniform(-180.0, 180.0, count)
    changes["alarm_level"] = rng.choice(3, size=count, p=[0.9, 0.08, 0.02])
    return dataclasses.replace(snapshot, **changes)


class MapApp(App[None]):
    def compose(self) -> ComposeResult:
        yield GroundTrackMap()


def time_frames(widget: GroundTrackMap, snapshot: FleetSnapshot, selected: str, track, frames: int) -> list[float]:
    height = widget.size.height
    costs_ms = []
    for _ in range(frames):
        fresh = dataclasses.replace(snapshot)
        start = time.perf_counter()
        widget.show(fresh, selected, track)
        for y in range(height):
            widget.render_line(y)
        costs_ms.append((time.perf_counter() - start) * 1e3)
    return costs_ms


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs=2, default=(120, 30), metavar=("WIDTH", "HEIGHT"))
    parser.add_argument("--satellites", type=int, default=10_000)
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()

    sim = Simulation(load_mission("sandbox"))
    sim.run_until(3600.0)
    snapshot = sim.snapshot()
    selected = snapshot.satellite_ids[0]
    track = sim.ground_track(selected)
    many = random_fleet(snapshot, args.satellites)
    many_track = dataclasses.replace(track, satellite_id=many.satellite_ids[0])

    app = MapApp()
    async with app.run_test(size=tuple(args.size)) as pilot:
        await pilot.pause()
        widget = app.query_one(GroundTrackMap)
        print(f"ground-track map at {widget.size.width}x{widget.size.height} cells, {args.frames} frames each")
        for label, snap, sel, path in (
            (f"sandbox fleet ({snapshot.satellite_count} satellites)", snapshot, selected, track),
            (f"{args.satellites} random satellites", many, many.satellite_ids[0], many_track),
        ):
            time_frames(widget, snap, sel, path, 5)  # warm-up
            costs = sorted(time_frames(widget, snap, sel, path, args.frames))
            p90 = costs[int(0.9 * (len(costs) - 1))]
            print(f"  {label:32s} median {statistics.median(costs):6.2f} ms/frame   p90 {p90:6.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
