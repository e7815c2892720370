"""How fast the live console is: screen updates per second and keypress-to-screen latency at 200x50.

For fleets of about 100, 1,000 and 10,000 satellites (Walker shells built on the fly, with the bundled
ground network), or for a mission file (``--mission``, e.g. the bundled ``megaconstellation``: 10,080
satellites in four shells, 30 s steps), the real console loop runs headless under Textual's ``run_test`` at
200x50 (``--size``; below 150x32 the console shows one pane at a time): the frame
timer (30 Hz, the app's default), the engine stepping in its worker thread at 600x (``--speed``), the
clock, fleet table and satellite detail taking every frame, the map and event log at most 5 per second
(``SLOW_PANES_PERIOD_S``), and the console's garbage-collector policy on, as in ``omc``. Measured:

- **frames/s**: frames applied to the panes per wall second during a timed run.
- **screen update**: one compositor refresh (Textual rendering every changed widget into the screen
  update a terminal would be sent), timed around ``Screen._compositor_refresh``.
- **engine/frame**: the engine side of a 0.1 s frame alone (at 600x: six 10 s steps and the snapshot).
- **idle render**: the whole screen rendered to ANSI text with nothing changed (the floor).
- **key → screen**: from a key event arriving (as the terminal driver delivers it) to the first screen
  update showing its effect, while the engine runs: ``down`` moves the fleet-table selection (its
  cursor), ``down → detail`` until the satellite detail shows the newly selected satellite (on a wide
  terminal, where the detail is on screen), ``space`` pauses or resumes.

The terminal write itself (about 40 KB per full frame) is not included. The baseline measured in the same
run is one bare ``SatrecArray.sgp4`` call for the same fleet; compare ratios between machines, since
absolute times on these shared 2-core VMs vary 2x. With several sizes the last lines give the largest
fleet's figures as ratios of the smallest's.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/console_frame.py [--sizes 100,1000,10000 | --mission megaconstellation] [--size 200x50] [--seconds 3] [--tick-hz 30] [--speed 600] [--queue busy|synthetic] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from textual import events
from textual.screen import Screen

from console.app import MissionControlApp
from console.driver import SPEEDS, Driver
from console.widgets.fleet_table import FleetTable
from console.widgets.power_pane import PowerPane
from engine import Simulation, load_mission
from engine.mission import bundled_missions_dir
from engine_step import busy_queue_text  # bench/ is the script's directory

SIZE = (200, 50)
SHELLS = {100: (10, 10), 1000: (40, 25), 10000: (100, 100)}


def mission_text(planes: int, per_plane: int, queue: str = "busy") -> str:
    """A Walker fleet of 8-GPU satellites; ``busy`` adds the engine benchmark's job workload (a backlog
    filling about half the GPUs plus training and inference generators), so the GPU and job panes and the
    scheduler cost what they cost in a real mission; ``synthetic`` runs a fixed GPU load without jobs."""
    jobs = busy_queue_text(planes * per_plane) if queue == "busy" else ""
    stations = (bundled_missions_dir() / "include" / "ground_stations.toml").read_text()
    return f"""
[mission]
id = "bench-{planes * per_plane}"
title = "Console benchmark fleet"
kind = "sandbox"
epoch = "2026-03-21T00:00:00Z"
duration = "1d"
step = "10s"
seed = 1

[hardware]
gpus = 8

[[shell]]
name = "A"
altitude_km = 550
inclination_deg = 53
planes = {planes}
sats_per_plane = {per_plane}
phasing = 1

{stations}
{jobs}
"""


def rendered(app: MissionControlApp) -> str:
    """The full screen as the ANSI text a terminal would get."""
    update = app.screen._compositor.render_update(full=True)
    return update.render_segments(app.console)


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_ms": 1e3 * statistics.median(samples), "min_ms": 1e3 * min(samples), "max_ms": 1e3 * max(samples)}


def sgp4_baseline(spec, rounds: int = 30) -> float:
    satrecs = SatrecArray([Satrec.twoline2rv(*s.tle, WGS72) for s in spec.satellites])
    jd, fr = np.array([2461120.5]), np.array([0.25])
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        satrecs.sgp4(jd, fr)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


class RefreshClock:
    """Timestamps of every compositor refresh (the moment a frame's screen update is ready to write), with
    the value of a probe (the state a key changes) taken as each refresh finishes."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.costs: list[float] = []
        self.probe = lambda: None
        self.probed: list[object] = []
        self._original = Screen._compositor_refresh
        clock = self

        def timed(screen: Screen) -> None:
            started = time.perf_counter()
            clock._original(screen)
            finished = time.perf_counter()
            clock.times.append(finished)
            clock.costs.append(finished - started)
            clock.probed.append(clock.probe())

        Screen._compositor_refresh = timed

    def restore(self) -> None:
        Screen._compositor_refresh = self._original

    def first_showing(self, after: float, before_value: object) -> float | None:
        """The first refresh after `after` whose probe differs from `before_value` (the screen it
        rendered already had the key's effect: state changes on the UI thread before the refresh)."""
        return next((t for t, v in zip(self.times, self.probed) if t > after and v != before_value), None)


async def key_latency(app: MissionControlApp, key: str, changed, presses: int) -> list[float]:
    """Wall time from a key arriving (as the terminal driver delivers it) to the first screen update
    that shows its effect; `changed()` reads the state the key changes."""
    clock: RefreshClock = app._bench_clock
    clock.probe = changed
    samples = []
    try:
        for _ in range(presses):
            before = changed()
            sent = time.perf_counter()
            app._driver.send_message(events.Key(key, None))
            while (shown := clock.first_showing(sent, before)) is None:
                await asyncio.sleep(0.0005)
            samples.append(shown - sent)
            await asyncio.sleep(0.03)
    finally:
        clock.probe = lambda: None
    return samples


def detail_satellite(app: MissionControlApp) -> str | None:
    """The satellite the detail panes show (None before the first view)."""
    view = app.query_one(PowerPane)._view
    return view.satellite_id if view is not None else None


async def measure(spec, seconds: float, tick_hz: float, speed: float = 600.0, size: tuple[int, int] = SIZE) -> dict:
    """The real app loop (frame timer, engine worker thread) at `size`."""
    result: dict = {"satellites": len(spec.satellites), "tick_hz": tick_hz, "speed": speed, "size": list(size)}
    clock = RefreshClock()
    try:
        app = MissionControlApp(spec, tick_hz=tick_hz)
        app._bench_clock = clock
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            idle = []
            for _ in range(20):
                started = time.perf_counter()
                rendered(app)
                idle.append(time.perf_counter() - started)
            result["idle_render"] = summary(idle)

            app.driver.speed_index = SPEEDS.index(speed)
            await pilot.press("space")
            await asyncio.sleep(0.5)
            frames, clock.costs[:] = app._frame_count, []
            started = time.perf_counter()
            await asyncio.sleep(seconds)
            elapsed = time.perf_counter() - started
            result["frames_per_s"] = (app._frame_count - frames) / elapsed
            result["screen_updates_per_s"] = len(clock.costs) / elapsed
            result["screen_update"] = summary(clock.costs) if clock.costs else None

            table = app.query_one(FleetTable)
            table.focus()
            result["key_down_running"] = summary(await key_latency(app, "down", lambda: table.selected_id, 12))
            if "detail" in app.visible_panes():
                result["key_down_detail"] = summary(await key_latency(app, "down", lambda: detail_satellite(app), 12))
            result["key_space"] = summary(await key_latency(app, "space", lambda: app.driver.paused, 12))
            if not app.driver.paused:
                await pilot.press("space")
            await app.workers.wait_for_complete()
    finally:
        clock.restore()

    # Engine part of a frame, alone: 0.1 s at the speed (six steps of 10 s at 600x) plus the snapshot the panes get.
    driver = Driver(Simulation(spec))
    driver.speed_index = SPEEDS.index(speed)
    driver.toggle_pause()
    engine = []
    for _ in range(15):
        started = time.perf_counter()
        driver.advance(0.1, clock=lambda: 0.0)
        engine.append(time.perf_counter() - started)
    result["engine_frame"] = summary(engine)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--mission", help="measure this mission (a path or a bundled id, e.g. megaconstellation) instead of --sizes")
    parser.add_argument("--size", default=f"{SIZE[0]}x{SIZE[1]}", help="terminal size, WIDTHxHEIGHT")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of the timed run per fleet")
    parser.add_argument("--tick-hz", type=float, default=30.0, help="frame timer asked for (the app's default, DEFAULT_TICK_HZ, is 30)")
    parser.add_argument("--speed", type=float, default=600.0, help=f"simulation speed while measuring, one of {SPEEDS[:-1]}")
    parser.add_argument("--queue", choices=("busy", "synthetic"), default="busy", help="a job workload (default) or a fixed synthetic GPU load")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    rows = []
    if options.speed not in SPEEDS:
        parser.error(f"--speed must be one of {SPEEDS[:-1]}")
    try:
        width, height = (int(v) for v in options.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size must be WIDTHxHEIGHT, not {options.size!r}")
    what = f"mission {options.mission}" if options.mission else f"{options.queue} queue"
    print(f"terminal {width}x{height}, running at {options.speed:g}x, frame timer {options.tick_hz:g} Hz, {what}")
    print("  sats | frames/s | screen update ms | engine/frame ms | idle render ms | key down→screen ms | down→detail ms | space→screen ms | update ÷ sgp4")

    def latency(row: dict, key: str) -> str:
        if key not in row:
            return f"{'—':>8}{'':>11}"
        return f"{row[key]['median_ms']:8.0f} (max {row[key]['max_ms']:4.0f})"

    with tempfile.TemporaryDirectory() as folder:
        if options.mission:
            paths = [options.mission]
        else:
            paths = []
            for size in (int(s) for s in options.sizes.split(",")):
                planes, per_plane = SHELLS.get(size, (max(1, int(size**0.5)), max(1, size // max(1, int(size**0.5)))))
                path = Path(folder) / f"bench_{size}.toml"
                path.write_text(mission_text(planes, per_plane, options.queue))
                paths.append(str(path))
        for path in paths:
            started = time.perf_counter()
            spec = load_mission(path)
            load_s = time.perf_counter() - started
            row = asyncio.run(measure(spec, options.seconds, options.tick_hz, options.speed, (width, height)))
            row["load_s"] = load_s
            row["sgp4_ms"] = 1e3 * sgp4_baseline(spec)
            rows.append(row)
            update = row["screen_update"]["median_ms"]
            print(
                f"{row['satellites']:>6} | {row['frames_per_s']:8.1f} | {update:16.1f} | {row['engine_frame']['median_ms']:15.1f} | "
                f"{row['idle_render']['median_ms']:14.1f} | {latency(row, 'key_down_running')} | {latency(row, 'key_down_detail')} | "
                f"{latency(row, 'key_space')} | {update / row['sgp4_ms']:8.0f}",
                flush=True,
            )
    if len(rows) > 1:
        small, large = rows[0], rows[-1]
        ratios = [f"frames/s ×{large['frames_per_s'] / small['frames_per_s']:.2f}",
                  f"screen update ×{large['screen_update']['median_ms'] / small['screen_update']['median_ms']:.2f}"]
        for key, name in (("key_down_running", "key down"), ("key_down_detail", "down→detail"), ("key_space", "space")):
            if key in small and key in large:
                ratios.append(f"{name} ×{large[key]['median_ms'] / small[key]['median_ms']:.2f}")
        print(f"{large['satellites']} vs {small['satellites']} satellites: " + ", ".join(ratios))
    if options.json:
        options.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
