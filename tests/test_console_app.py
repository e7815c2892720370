"""The console app, driven headless with Textual's Pilot over real simulations (no timers: tests call
``app.advance`` to move wall time, so every result is deterministic)."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.worker import WorkerFailed

from console.app import MissionControlApp
from console.screens.help import HelpScreen
from console.widgets.alarm_table import AlarmTable
from console.widgets.clock_bar import ClockBar
from console.widgets.event_log import EventLog
from console.widgets.fleet_table import FleetTable
from console.widgets.ground_track_map import GroundTrackMap
from engine import EventKind, load_mission
from tests.conftest import IDEAL_TELEMETRY, SMALL_MISSION
from tests.test_power import UNDERSIZED_ARRAY

WIDE = (200, 60)
NARROW = (80, 24)


@pytest.fixture
def small_app(write_mission) -> MissionControlApp:
    return MissionControlApp(load_mission(write_mission(SMALL_MISSION)), tick_hz=None)


@pytest.fixture
def alarm_app(write_mission) -> MissionControlApp:
    """Twelve hours into a fleet whose arrays are too small: low-battery alarms are active."""
    app = MissionControlApp(load_mission(write_mission(UNDERSIZED_ARRAY + IDEAL_TELEMETRY)), tick_hz=None)
    app.driver.sim.run_until(12 * 3600.0)
    return app


async def test_space_pauses_and_resumes_and_time_moves_only_while_running(small_app):
    app = small_app
    async with app.run_test(size=WIDE) as pilot:
        clock = app.query_one(ClockBar)
        assert app.driver.paused and clock.state.paused
        assert app.advance(1.0).snapshot.time_s == 0.0
        await pilot.press("space")
        assert not app.driver.paused and not clock.state.paused
        frame = app.advance(1.0)  # one wall second at the default 60x
        assert frame.snapshot.time_s == 60.0
        assert clock.state.elapsed_s == 60.0
        await pilot.press("space")
        assert app.driver.paused
        assert app.advance(5.0).snapshot.time_s == 60.0
        notes = [row.cells[-1] for row in app.query_one(EventLog).visible_rows()]
        assert any("paused" in text for text in notes) and any("running at 60x" in text for text in notes)


async def test_step_and_speed_keys(small_app):
    app = small_app
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("full_stop", "full_stop")
        assert app.driver.sim.step_index == 2 and app.driver.paused
        assert app.query_one(ClockBar).state.elapsed_s == 20.0
        await pilot.press("plus")
        assert app.driver.speed == 120
        await pilot.press("minus", "minus", "minus")
        assert app.driver.speed == 10
        assert "10x" in app.query_one(ClockBar).text


async def test_selecting_a_satellite_updates_the_detail_panes_and_the_map(small_app):
    app = small_app
    async with app.run_test(size=WIDE) as pilot:
        table = app.query_one(FleetTable)
        first = table.selected_id
        assert app.selected_id == first
        await pilot.press("down")
        second = table.rows()[1]
        assert table.selected_id == second and app.selected_id == second
        assert second in str(app.query_one("#detail-pane").border_title)
        game_map = app.query_one(GroundTrackMap)
        assert game_map.selected_id == second
        power = app.query_one("#power-pane").text
        assert "Battery" in power and "Sunlight" in power
        link = app.query_one("#link-pane").text
        assert "Contact" in link


async def test_filter_narrows_the_fleet_and_escape_clears_it(small_app):
    app = small_app
    async with app.run_test(size=WIDE) as pilot:
        table = app.query_one(FleetTable)
        total = table.row_count
        await pilot.press("slash", "a", "-", "0", "2")
        assert table.filter_text == "a-02"
        assert table.row_count == 3 and all(row.startswith("A-02") for row in table.rows())
        assert "3 of 6" in str(app.query_one("#fleet-pane").border_subtitle)
        await pilot.press("enter")
        assert table.has_focus and table.filter_text == "a-02"
        await pilot.press("slash", "escape")
        assert table.filter_text == "" and table.row_count == total


async def test_acknowledging_an_alarm_goes_through_the_engine(alarm_app):
    app = alarm_app
    async with app.run_test(size=WIDE) as pilot:
        active = app.driver.sim.alarms()
        assert active and not any(alarm.acknowledged for alarm in active)
        clock = app.query_one(ClockBar)
        assert clock.state.unacknowledged == len(active)
        await pilot.press("4")
        table = app.query_one(AlarmTable)
        assert table.has_focus
        target = table.cursor_alarm
        # the table shows the quantity's value now, not the value when the alarm was raised
        snapshot = app.driver.sim.snapshot()
        now = getattr(snapshot, target.quantity)[snapshot.index_of(target.satellite)]
        shown = table.row_at(table.cursor_index).cells[4]
        assert shown.startswith(f"{now:.0%}" if target.quantity == "battery_soc" else f"{now:.1f}")
        await pilot.press("a")
        await pilot.pause()
        after = {alarm.id: alarm for alarm in app.driver.sim.alarms()}
        assert after[target.id].acknowledged
        assert clock.state.unacknowledged == len(active) - 1
        log = [row.cells[-1] for row in app.query_one(EventLog).visible_rows()]
        assert any(f"acknowledged alarm {target.id}" in text for text in log)


async def test_help_lists_every_key_and_the_palette_offers_every_action(small_app):
    app = small_app
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one("#help-text").render().plain
        for binding in MissionControlApp.BINDINGS + FleetTable.BINDINGS + AlarmTable.BINDINGS + EventLog.BINDINGS:
            assert binding.description in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        titles = [command.title for command in app.get_system_commands(app.screen)]
        for binding in MissionControlApp.BINDINGS:
            assert any(title.startswith(binding.description) for title in titles)
        assert any(title.startswith("Acknowledge alarm (key a)") for title in titles)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"next aos")
        await pilot.pause(0.3)
        await pilot.press("enter")  # the best match runs: seek the selected satellite's next AOS
        await pilot.pause()
        assert app.driver.seeking == EventKind.AOS and app.driver.seek_satellite == app.selected_id


MID_LATITUDE_STATION = """
[[ground_station]]
id = "madrid"
lat_deg = 40.43
lon_deg = -4.25
alt_m = 800
min_elevation_deg = 10
"""


async def test_run_to_next_aos_of_the_selected_satellite_stops_there(write_mission):
    # Svalbard (78° N) never sees a 53° shell: add a station it passes over.
    app = MissionControlApp(load_mission(write_mission(SMALL_MISSION + MID_LATITUDE_STATION)), tick_hz=None)
    app.driver.end_s = None  # the pass comes after this short mission's planned end
    async with app.run_test(size=WIDE) as pilot:
        selected = app.selected_id
        await pilot.press("n")
        assert app.driver.seeking == EventKind.AOS and not app.driver.paused
        found = None
        for _ in range(200):
            frame = app.advance(0.1)
            if frame.found is not None:
                found = frame.found
                break
        assert found is not None and found.satellite == selected and app.driver.paused
        assert app.query_one(ClockBar).state.paused


async def test_wide_layout_shows_every_pane_without_overlap(small_app):
    app = small_app
    async with app.run_test(size=WIDE):
        regions = [app.query_one(f"#{name}-pane").region for name in ("fleet", "alarms", "detail", "map", "events")]
        for region in regions:
            assert region.width > 20 and region.height >= 5
            assert region.right <= WIDE[0] and region.bottom <= WIDE[1]
        for a in range(len(regions)):
            for b in range(a + 1, len(regions)):
                assert not regions[a].overlaps(regions[b])


@pytest.mark.parametrize("size", [NARROW, (120, 30)])
async def test_small_terminals_show_one_pane_at_a_time(small_app, size):
    app = small_app
    async with app.run_test(size=size) as pilot:
        assert app.screen.has_class("-narrow")
        for key, name in (("2", "detail"), ("3", "map"), ("4", "alarms"), ("5", "events"), ("1", "fleet")):
            await pilot.press(key)
            await pilot.pause()
            shown = [pane.id for pane in app.query(".pane") if pane.region.area > 0]
            assert shown == [f"{name}-pane"]
            region = app.query_one(f"#{name}-pane").region
            assert region.width == size[0] and region.height >= size[1] - 4


async def test_live_frames_redraw_map_and_log_at_most_five_times_a_second_without_losing_events(small_app):
    """While running live, the map and the event log skip frames that come sooner than 0.2 s after their
    last redraw; the held-back events reach the log, in order, on the next due frame or on pause."""
    app = small_app
    async with app.run_test(size=WIDE) as pilot:
        app.tick_hz = 30.0  # live frames (the timer itself is not started: the test moves time)
        ground_map, log = app.query_one(GroundTrackMap), app.query_one(EventLog)
        await pilot.press("space")
        app._slow_panes_due = float("inf")  # the next frames come "too soon"
        drawn_at = ground_map._snapshot.time_s
        rows_before = log.row_count
        for _ in range(30):
            app.advance(1.0)  # 30 simulated minutes of eclipses and passes
        assert ground_map._snapshot.time_s == drawn_at  # the map kept its last picture
        held = list(app._pending_events)
        assert held and log.row_count == rows_before
        app._slow_panes_due = 0.0  # due: everything held back is drawn
        frame = app.advance(1.0)
        assert ground_map._snapshot.time_s == frame.snapshot.time_s
        assert not app._pending_events
        entries = list(log._entries)[rows_before:]
        assert len(entries) >= len(held)
        assert [entry.message for entry in entries[: len(held)]] == [event.message for event in held]
        times = [entry.time_s for entry in entries]
        assert times == sorted(times)
        # A selection change redraws the map at once, due or not.
        app._slow_panes_due = float("inf")
        await pilot.press("down")
        assert ground_map.selected_id == app.selected_id
        # Pausing flushes the log before the operator's note.
        app.advance(1.0)
        await pilot.press("space")
        assert not app._pending_events
        assert "paused" in log.row_at(log.row_count - 1).cells[-1]


async def test_reaching_the_mission_end_pauses_and_says_so(small_app):
    app = small_app
    assert app.driver.end_s == app.spec.duration_s
    async with app.run_test(size=WIDE) as pilot:
        app.driver.end_s = 120.0  # a short planned end, as if the mission lasted two minutes
        await pilot.press("space")
        app.advance(10.0)  # 600 s asked at 60x
        await pilot.pause()
        assert app.driver.paused and app.driver.sim.time_s == 120.0
        assert app.query_one(ClockBar).state.paused
        log = app.query_one(EventLog)
        assert "mission end reached at T+00:02:00" in log.row_at(log.row_count - 1).cells[-1]
        await pilot.press("space")
        app.advance(1.0)
        assert app.driver.sim.time_s == 180.0 and not app.driver.paused


async def test_an_engine_error_in_the_worker_pauses_and_is_reported(small_app):
    """A frame whose engine step fails (here: a state corrupted to NaN, which the engine's own finiteness
    check refuses) pauses the console and tells the operator why, instead of crashing the app."""
    app = small_app
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("space")
        app.driver.sim.battery.energy_j[0] = float("nan")
        worker = app._run_frame(1.0)  # the engine worker, as the frame timer starts it
        with pytest.raises(WorkerFailed, match="non-finite state"):
            await worker.wait()
        await pilot.pause()
        assert app.driver.paused and app.is_running
        log = app.query_one(EventLog)
        last = log.row_at(log.row_count - 1).cells[-1]
        assert last.startswith("engine error, paused:") and "non-finite state" in last
