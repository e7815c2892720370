"""The console at scale (issue 9): only what is on screen is computed.

Real simulations throughout (a 10,000-satellite Walker fleet takes ~0.4 s to build and ~30 ms a step):
the fleet table formats only the rows on screen whatever the sort; a pane that is not displayed (another
view on a small terminal, the main screen under the job queue, a detail pane scrolled out of sight) is
neither gathered nor updated while hidden, and shows the current state the moment it is shown.
"""

from __future__ import annotations

import numpy as np
import pytest

from console.app import MissionControlApp
from console.driver import SPEEDS
from console.screens.job_queue import JobQueueScreen
from console.widgets.alarm_table import AlarmTable
from console.widgets.fleet_table import FleetTable
from console.widgets.ground_track_map import GroundTrackMap
from console.widgets.link_pane import LinkPane
from console.widgets.power_pane import PowerPane
from console.widgets.satellite_detail import SatelliteDetail
from engine import load_mission
from engine.mission import bundled_missions_dir
from tests.conftest import SMALL_MISSION
from tests.test_gpu_job_widgets import job_mission

WIDE = (200, 50)
SMALL = (80, 24)


def walker_mission(planes: int, per_plane: int) -> str:
    """A Walker fleet of 8-GPU satellites over the bundled ground network, with a synthetic GPU load."""
    stations = (bundled_missions_dir() / "include" / "ground_stations.toml").read_text()
    return f"""
[mission]
id = "walker-{planes * per_plane}"
title = "Walker fleet"
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
"""


@pytest.fixture(scope="module")
def ten_thousand(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "walker.toml"
    path.write_text(walker_mission(100, 100))
    return load_mission(path)


def run(app: MissionControlApp, frames: int = 1, wall_s: float = 0.2) -> None:
    """Frames of a running console (a paused console steps nothing)."""
    if app.driver.paused:
        app.driver.toggle_pause()
    for _ in range(frames):
        app.advance(wall_s)


async def test_fleet_table_formats_only_the_rows_on_screen_at_ten_thousand(ten_thousand):
    app = MissionControlApp(ten_thousand, tick_hz=None)
    app.driver.speed_index = SPEEDS.index(60)
    async with app.run_test(size=WIDE) as pilot:
        table = app.query_one(FleetTable)
        assert table.row_count == 10_000
        lines = table.scrollable_content_region.height
        for sort in ("worst", "id", "soc", "gpu_temp", "radiator"):
            table.sort_key = sort
            await pilot.pause()
            table.rows_formatted = 0
            run(app)  # one engine step: a new snapshot, re-sorted
            await pilot.pause()
            assert 0 < table.rows_formatted <= 2 * lines, sort  # a paint (or two) of the rows on screen
            snap = app.driver.snapshot()
            shown = [snap.satellite_ids.index(sat_id) for sat_id in table.rows()[:lines]]
            if sort == "soc":
                assert np.all(np.diff(snap.battery_soc[shown]) >= 0)
            elif sort == "radiator":
                assert np.all(np.diff(snap.radiator_temp_c[shown]) <= 0)
            elif sort == "gpu_temp":
                hottest = np.where(snap.gpu_present, snap.gpu_temp_c, -np.inf).max(axis=1)
                assert np.all(np.diff(hottest[shown]) <= 0)
        table.rows_formatted = 0
        await pilot.press(*["pagedown"] * 10)
        await pilot.pause()
        assert table.selected_id == table.rows()[table._cursor_row()] and table._cursor_row() > 200
        assert table.rows_formatted <= 10 * 3 * lines  # each key repainted its page's rows (at most a few times)


async def test_a_small_terminal_computes_only_the_pane_it_shows(ten_thousand):
    app = MissionControlApp(ten_thousand, tick_hz=None)
    async with app.run_test(size=SMALL) as pilot:
        assert app.narrow and app.visible_panes() == {"fleet"}
        ground_map, power, alarms = app.query_one(GroundTrackMap), app.query_one(PowerPane), app.query_one(AlarmTable)
        built, map_drawn = power.lines_built, ground_map._snapshot
        run(app, frames=3)
        await pilot.pause()
        now = app.driver.sim.time_s
        assert now > 0
        # Hidden: no forecast, history or track of the selected satellite, no map or detail redraw.
        forecasts = app._forecasts
        assert forecasts.sunlight is None and forecasts.passes == () and forecasts.track is None and forecasts.history is None
        assert ground_map._snapshot is map_drawn and power.lines_built == built and alarms.time_s == 0.0

        await pilot.press("3")  # the map: caught up at once, with the selected satellite's track
        assert ground_map._snapshot.time_s == now and ground_map.selected_id == app.selected_id
        assert forecasts.track is not None and forecasts.track.satellite_id == app.selected_id
        assert forecasts.sunlight is None and power.lines_built == built  # the detail is still hidden

        table = app.query_one(FleetTable)
        order = table._order
        run(app, frames=2)  # while the map shows, the fleet table only keeps the snapshots
        assert table._stale and table._order is order
        await pilot.press("2")  # the detail: current values and forecasts of the selected satellite
        assert power.lines_built > built and forecasts.sunlight is not None
        assert power._view.satellite_id == app.selected_id and power._view.time_s == app.driver.sim.time_s
        await pilot.press("4")
        assert alarms.time_s == app.driver.sim.time_s
        await pilot.press("1")  # the fleet table: sorted from the newest snapshot when shown
        assert not table._stale
        snap = app.driver.snapshot()
        first = snap.satellite_ids.index(table.rows()[0])
        assert snap.alarm_level[first] == snap.alarm_level.max()  # worst first, as of now


async def test_detail_panes_out_of_sight_catch_up_when_scrolled_to(write_mission):
    app = MissionControlApp(load_mission(write_mission(SMALL_MISSION)), tick_hz=None)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2")
        detail, power, link = app.query_one(SatelliteDetail), app.query_one(PowerPane), app.query_one(LinkPane)
        assert detail.max_scroll_y > 0  # the link pane is below the fold at 80x24
        power_built, link_built = power.lines_built, link.lines_built
        run(app, frames=3)
        await pilot.pause()
        assert power.lines_built > power_built  # in sight: redrawn every frame
        assert link.lines_built == link_built and link.held  # out of sight: only keeps the view
        detail.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert not link.held and link.lines_built > link_built
        assert link._view.time_s == app.driver.sim.time_s


async def test_main_screen_panes_wait_under_the_job_queue(write_mission):
    app = MissionControlApp(load_mission(write_mission(job_mission())), seed=1, tick_hz=None)
    async with app.run_test(size=WIDE) as pilot:
        ground_map, alarms, table = app.query_one(GroundTrackMap), app.query_one(AlarmTable), app.query_one(FleetTable)
        await pilot.press("j")
        assert isinstance(app.screen, JobQueueScreen) and app.visible_panes() == frozenset()
        before = app.driver.sim.time_s
        run(app, frames=3)
        queue = app.screen.table
        assert queue.time_s == app.driver.sim.time_s > before  # the job queue is on screen: it follows
        assert ground_map._snapshot.time_s == before and alarms.time_s == before and table._stale
        await pilot.press("escape")
        await pilot.pause()
        now = app.driver.sim.time_s
        assert not isinstance(app.screen, JobQueueScreen)
        assert ground_map._snapshot.time_s == now and alarms.time_s == now and not table._stale


async def test_rewind_points_stop_with_a_note_when_a_copy_would_stall_the_console(write_mission):
    app = MissionControlApp(load_mission(write_mission(SMALL_MISSION)), tick_hz=None)
    app.driver.checkpoint_min_wall_s = 0.0
    app.driver.checkpoint_max_copy_s = 1e-9  # every copy "stalls": a 10,000-satellite fleet's takes seconds
    app.driver.speed_index = SPEEDS.index(10000)
    async with app.run_test(size=WIDE):
        run(app, frames=2)  # past T+30 min: one checkpoint is taken, then no more
        assert app.driver.checkpoints_stopped and len(app.driver.checkpoints.steps) == 2
        notes = [entry.message for entry in app.query_one("#events-pane").entries() if "rewind points stopped" in getattr(entry, "message", "")]
        assert len(notes) == 1 and "replays from the last one (T+00:30:00)" in notes[0]
