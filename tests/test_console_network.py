"""The console's network view and commands over real simulations: the network pane reads the route,
ground link, telemetry age and laser links of the snapshot; the fleet table says how each satellite
reaches the ground or how stale it is; i and g disable/enable links and force handovers through the
engine; the map draws carrying links."""

from __future__ import annotations

import numpy as np
import pytest

from console.app import MissionControlApp
from console.screens.choice import ChoiceScreen
from console.screens.confirm import ConfirmScreen
from console.widgets.event_log import EventLog
from console.widgets.fleet_table import FleetTable
from console.widgets.ground_track_map import KIND_LINK, GroundTrackMap, segment_dots
from console.widgets.network_pane import NetworkPane
from engine import load_mission
from engine.isl_links import LinkState
from tests.test_network import DENSE, SPARSE_NO_LINKS

WIDE = (200, 60)


@pytest.fixture
def dense_app(write_mission) -> MissionControlApp:
    app = MissionControlApp(load_mission(write_mission(DENSE, "dense.toml")), tick_hz=None)
    app.driver.sim.run_until(1200.0)
    return app


def log_lines(app: MissionControlApp) -> list[str]:
    return [row.cells[-1] for row in app.query_one(EventLog).visible_rows()]


async def test_network_pane_reads_route_ground_link_and_lasers(dense_app):
    app = dense_app
    async with app.run_test(size=WIDE) as pilot:
        snap = app.driver.sim.snapshot()
        relayed = int(np.flatnonzero(snap.route_hops >= 2)[0])
        app.select_satellite(snap.satellite_ids[relayed])
        await pilot.pause()
        text = app.query_one(NetworkPane).text
        station = snap.station_ids[snap.route_station[relayed]]
        assert f"{snap.route_latency_s[relayed] * 1e3:.1f} ms {snap.route_hops[relayed]} hops → {station}" in text
        assert "no antenna" in text and "current" in text
        rows = np.flatnonzero((snap.link_a == relayed) | (snap.link_b == relayed))
        carrying = int(np.isin(snap.link_state[rows], (LinkState.UP, LinkState.DEGRADED)).sum())
        assert f"{carrying} of {len(rows)} carrying" in text
        for row in rows:
            peer = snap.link_b[row] if snap.link_a[row] == relayed else snap.link_a[row]
            assert snap.satellite_ids[peer] in text


async def test_fleet_link_column_says_station_hops_or_staleness(write_mission):
    app = MissionControlApp(load_mission(write_mission(SPARSE_NO_LINKS, "sparse.toml")), tick_hz=None)
    app.driver.sim.run_until(2 * 3600.0)
    async with app.run_test(size=WIDE) as pilot:
        app.refresh_now()
        await pilot.pause()
        table = app.query_one(FleetTable)
        snap = app.driver.sim.snapshot()
        texts = {sat: table._cells(snap.index_of(sat))[7] for sat in snap.satellite_ids}
        for sat, text in texts.items():
            i = snap.index_of(sat)
            if snap.ground_link_station[i] >= 0:
                assert text == snap.station_ids[snap.ground_link_station[i]]
            else:
                assert text.startswith("stale ") and snap.telemetry_age_s[i] > 0
        assert any(text.startswith("stale ") for text in texts.values())


async def test_dense_fleet_link_column_shows_hops(dense_app):
    app = dense_app
    async with app.run_test(size=WIDE):
        table = app.query_one(FleetTable)
        snap = app.driver.sim.snapshot()
        relayed = int(np.flatnonzero(snap.route_hops == 3)[0])
        assert table._cells(relayed)[7] == "3 hops"


async def test_disable_a_link_asks_first_and_enable_is_immediate(dense_app):
    app = dense_app
    async with app.run_test(size=WIDE) as pilot:
        snap = app.driver.sim.snapshot()
        up = int(np.flatnonzero(snap.link_state == LinkState.UP)[0])
        a, b = snap.satellite_ids[snap.link_a[up]], snap.satellite_ids[snap.link_b[up]]
        app.select_satellite(a)
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        keys = [key for key, _ in app.screen.choices]
        for _ in range(keys.index(b)):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "carries traffic" in str(app.screen.query_one("#confirm-text").render())
        await pilot.press("y")
        await pilot.pause()
        assert app.driver.sim.snapshot().link_state[up] == LinkState.DISABLED
        assert "OFF" in app.query_one(NetworkPane).text
        await pilot.press("i")
        await pilot.pause()
        for _ in range(keys.index(b)):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert app.driver.sim.snapshot().link_state[up] == LinkState.DOWN
        assert any(f"disable ISL {a} ↔ {b}" in line for line in log_lines(app))
        assert any(f"enable ISL {a} ↔ {b}" in line for line in log_lines(app))


async def test_force_handover_confirms_and_a_satellite_without_a_ground_link_is_refused(dense_app):
    app = dense_app
    async with app.run_test(size=WIDE) as pilot:
        snap = app.driver.sim.snapshot()
        linked = int(np.flatnonzero(snap.ground_link_station >= 0)[0])
        app.select_satellite(snap.satellite_ids[linked])
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert app.driver.sim.snapshot().ground_link_station[linked] == -1
        unlinked = int(np.flatnonzero(app.driver.sim.snapshot().ground_link_station < 0)[0])
        app.select_satellite(snap.satellite_ids[unlinked])
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("refused" in line and "no ground link" in line for line in log_lines(app))


def test_segment_dots_take_the_short_way_round_the_antimeridian():
    cells, _ = segment_dots(np.array([0.0]), np.array([170.0]), np.array([0.0]), np.array([-170.0]), 36, 18)
    columns = set((cells % 36).tolist())
    assert columns <= {34, 35, 0, 1}  # 20° across the edge, not 340° across the map


async def test_the_map_draws_carrying_links_only_when_there_are_some(dense_app, write_mission):
    app = dense_app
    async with app.run_test(size=WIDE):
        widget = app.query_one(GroundTrackMap)
        _, codes = widget.build_grid(100, 30)
        assert np.any(codes // 2 == KIND_LINK)
    sparse = MissionControlApp(load_mission(write_mission(SPARSE_NO_LINKS, "sparse.toml")), tick_hz=None)
    async with sparse.run_test(size=WIDE):
        _, codes = sparse.query_one(GroundTrackMap).build_grid(100, 30)
        assert not np.any(codes // 2 == KIND_LINK)


async def test_the_console_shows_the_last_received_values_of_a_stale_satellite(write_mission):
    app = MissionControlApp(load_mission(write_mission(SPARSE_NO_LINKS, "sparse.toml")), tick_hz=None)
    app.driver.sim.run_until(3 * 3600.0)
    async with app.run_test(size=WIDE) as pilot:
        app.refresh_now()
        await pilot.pause()
        truth = app.driver.sim.snapshot()
        ground = app.driver.sim.snapshot(view="ground")
        stale = np.flatnonzero(ground.telemetry_age_s > 600)
        moved = [i for i in stale if f"{ground.battery_soc[i]:.0%}" != f"{truth.battery_soc[i]:.0%}"]
        assert moved, "some stale satellite's battery changed since it was last heard"
        i = int(moved[0])
        cells = app.query_one(FleetTable)._cells(i)
        assert cells[2] == f"{ground.battery_soc[i]:.0%}" and cells[7].startswith("stale ")


async def test_a_command_to_a_satellite_out_of_contact_is_shown_queued(write_mission):
    app = MissionControlApp(load_mission(write_mission(SPARSE_NO_LINKS, "sparse.toml")), tick_hz=None)
    app.driver.sim.run_until(600.0)
    async with app.run_test(size=WIDE) as pilot:
        snap = app.driver.sim.snapshot()
        sat = snap.satellite_ids[int(np.flatnonzero(~np.isfinite(snap.route_latency_s))[0])]
        app.select_satellite(sat)
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        await pilot.press(*"450", "enter")
        await pilot.pause()
        assert [p.description for p in app.driver.pending_commands()] == [f"cap {sat} GPUs at 450 W"]
        assert "1 command until contact" in app.query_one(NetworkPane).text
        assert any("queued, no route" in line for line in log_lines(app))


async def test_stale_rows_are_drawn_in_italics(write_mission):
    app = MissionControlApp(load_mission(write_mission(SPARSE_NO_LINKS, "sparse.toml")), tick_hz=None)
    app.driver.sim.run_until(2 * 3600.0)
    async with app.run_test(size=WIDE) as pilot:
        app.refresh_now()
        await pilot.pause()
        table = app.query_one(FleetTable)
        ground = app.driver.sim.snapshot(view="ground")
        stale = int(np.flatnonzero(ground.telemetry_age_s > 600)[0])
        assert table._row_style(stale, False).italic


async def test_rows_are_upright_with_ideal_telemetry(write_mission):
    text = SPARSE_NO_LINKS.replace('topology = "none"', 'topology = "none"\ntelemetry = "ideal"')
    app = MissionControlApp(load_mission(write_mission(text, "ideal.toml")), tick_hz=None)
    app.driver.sim.run_until(2 * 3600.0)
    async with app.run_test(size=WIDE) as pilot:
        app.refresh_now()
        await pilot.pause()
        table = app.query_one(FleetTable)
        assert not any(table._row_style(i, False).italic for i in range(len(app.driver.sim.satellite_ids)))
