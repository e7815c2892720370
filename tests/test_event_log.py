"""The event log widget, driven with Pilot over the events of a real simulation run."""

from __future__ import annotations

import functools
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from rich.segment import Segment
from textual.app import App, ComposeResult

from console.widgets.event_log import EventLog
from engine import Event, Severity, Simulation, load_mission
from tests.test_power import UNDERSIZED_ARRAY

RUN_S = 12 * 3600
STEP_S = 180.0  # coarser than the mission's 10 s: the run takes well under a second; the events stay real


@functools.cache
def undersized_run() -> tuple[Simulation, tuple[Event, ...]]:
    """Twelve hours of the undersized-array fleet (shared with test_alarm_table): the simulation and
    every event it produced, which mix info, warning and critical."""
    path = Path(tempfile.mkdtemp(prefix="omc-events-")) / "undersized.toml"
    path.write_text(UNDERSIZED_ARRAY)
    sim = Simulation(load_mission(path), step_s=STEP_S)
    sim.run_until(RUN_S)
    return sim, tuple(sim.drain_events())


@pytest.fixture(scope="module")
def run() -> tuple[Simulation, tuple[Event, ...]]:
    return undersized_run()


def repeated(events: tuple[Event, ...], count: int) -> list[Event]:
    """`count` real events, the run repeated back to back in time (for volume tests)."""
    out: list[Event] = []
    lap = 0
    while len(out) < count:
        out.extend(replace(event, time_s=event.time_s + lap * RUN_S) for event in events[: count - len(out)])
        lap += 1
    return out


class LogApp(App[None]):
    def __init__(self, sim: Simulation) -> None:
        super().__init__()
        self.sim = sim
        self.moves: list[object] = []

    def compose(self) -> ComposeResult:
        yield EventLog()

    def on_mount(self) -> None:
        log = self.query_one(EventLog)
        log.set_epoch(self.sim.spec.epoch)
        log.focus()

    def on_line_table_cursor_moved(self, message: EventLog.CursorMoved) -> None:
        self.moves.append(message.key)


def strip_width(segments: list[Segment]) -> int:
    return sum(segment.cell_length for segment in segments)


async def test_rows_show_utc_time_severity_and_source(run):
    sim, events = run
    assert {event.severity for event in events} == set(Severity)  # the run exercises every severity
    app = LogApp(sim)
    async with app.run_test(size=(120, 12)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(events)
        log.add_note(RUN_S + 5.5, "paused by operator", Severity.WARNING)
        await pilot.pause()
        rows = log.visible_rows()
        assert log.entry_count == len(rows) == len(events) + 1
        epoch = sim.spec.epoch
        for row, event in zip(rows, events):
            assert row.cells[0] == (epoch + timedelta(seconds=event.time_s)).strftime("%m-%d %H:%M:%S")
            assert row.cells[1] == {"info": "INFO", "warning": "WARN", "critical": "CRIT"}[event.severity.value]
            assert row.cells[2] == (event.satellite or event.station or "—")
            assert row.cells[3] == event.message
        assert rows[0].cells[0] == "03-21 00:00:00"  # the fixture's epoch is 2026-03-21T00:00:00Z
        note = rows[-1]
        assert note.cells == ("03-21 12:00:05", "WARN", "operator", "paused by operator")
        assert note.style_class == "event-log--operator"
        critical = next(row for row, event in zip(rows, events) if event.severity is Severity.CRITICAL)
        assert critical.style_class == "event-log--critical"
        # The newest entry is on screen, on the cursor row, at the bottom.
        last_line = log.page_rows
        assert "paused by operator" in log.line_text(last_line)
        assert log.cursor_index == log.row_count - 1 and log.following


async def test_follow_mode_pins_when_moved_up_and_end_resumes(run):
    sim, events = run
    app = LogApp(sim)
    async with app.run_test(size=(120, 12)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(events[:100])
        await pilot.pause()
        assert log.scroll_offset.y == log.row_count - log.page_rows  # bottom
        await pilot.press("up", "up")
        pinned_key, pinned_top = log.cursor_key, log.scroll_offset.y
        assert not log.following and log.cursor_index == 97
        log.add_events(events[100:150])
        await pilot.pause()
        assert log.cursor_key == pinned_key and log.scroll_offset.y == pinned_top  # the view did not move
        await pilot.press("end")
        assert log.following and log.cursor_index == 149
        log.add_events(events[150:200])
        await pilot.pause()
        assert log.cursor_index == 199 and log.scroll_offset.y == 200 - log.page_rows
        assert events[199].message[:40] in log.line_text(log.page_rows)
        assert app.moves[-1] == log.cursor_key


async def test_severity_filter_cycles_and_counts_match_the_events(run):
    sim, events = run
    app = LogApp(sim)
    async with app.run_test(size=(120, 12)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(events)
        assert log.border_subtitle == "filter: all"
        await pilot.press("v")
        assert log.min_severity is Severity.WARNING and log.border_subtitle == "filter: warning+"
        warning_up = [e for e in events if e.severity in (Severity.WARNING, Severity.CRITICAL)]
        assert log.row_count == len(warning_up) and [r.cells[3] for r in log.visible_rows()] == [e.message for e in warning_up]
        assert log.cursor_index == log.row_count - 1  # still following
        log.add_events(events[:10])  # new entries pass through the same filter
        assert log.row_count == len(warning_up) + sum(e.severity is not Severity.INFO for e in events[:10])
        await pilot.press("v")
        assert log.border_subtitle == "filter: critical"
        assert log.row_count == sum(e.severity is Severity.CRITICAL for e in events + events[:10])
        await pilot.press("v")
        assert log.min_severity is Severity.INFO and log.row_count == len(events) + 10


async def test_ring_buffer_keeps_the_newest_ten_thousand(run):
    sim, events = run
    burst = repeated(events, 12_345)
    app = LogApp(sim)
    async with app.run_test(size=(120, 12)) as pilot:
        log = app.query_one(EventLog)
        await pilot.press("v")  # filtered while the buffer overflows
        log.add_events(burst[:5_000])
        log.add_events(burst[5_000:])
        await pilot.pause()
        assert log.entry_count == log.max_entries == 10_000
        kept = burst[-10_000:]
        assert [entry.time_s for entry in log.entries()] == [event.time_s for event in kept]
        assert log.row_count == sum(event.severity is not Severity.INFO for event in kept)
        assert log.visible_rows()[0].cells[3] == next(e for e in kept if e.severity is not Severity.INFO).message


async def test_a_burst_formats_only_the_rows_on_screen(run, monkeypatch):
    sim, events = run
    app = LogApp(sim)
    async with app.run_test(size=(120, 20)) as pilot:
        log = app.query_one(EventLog)
        await pilot.pause()
        formatted: list[int] = []
        original = EventLog._format
        monkeypatch.setattr(EventLog, "_format", lambda self, seq, entry: formatted.append(seq) or original(self, seq, entry))
        log.add_events(repeated(events, 5_000))
        await pilot.pause()
        assert log.entry_count == 5_000
        assert 0 < len(formatted) <= 3 * log.page_rows  # a few per visible line, not one per event
        assert min(formatted) >= 5_000 - 3 * log.page_rows


async def test_lines_render_at_the_widget_width(run):
    sim, events = run
    app = LogApp(sim)
    async with app.run_test(size=(120, 10)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(events)
        log.add_note(100.0, "speed ×10 — a note with wide characters ✓ 観測")
        for width in (40, 120):
            await pilot.resize_terminal(width, 10)
            content_width = log.scrollable_content_region.width
            assert content_width <= width
            for top in (log.row_count, 0):  # the bottom (following), then the top with the note
                log.move_cursor(top)
                for y in range(log.scrollable_content_region.height):
                    assert strip_width(list(log.render_line(y))) == content_width


def test_a_big_fleet_keeps_hours_of_events():
    """A 10,080-satellite fleet logs ~470 events a 30 s step: 10,000 entries would be ten minutes, so the
    log keeps 20 an satellite there (3.5 h), and small fleets keep the 10,000."""
    from console.widgets.event_log import MAX_ENTRIES, log_capacity

    assert log_capacity(12) == log_capacity(500) == MAX_ENTRIES
    assert log_capacity(10_080) == 201_600
    assert log_capacity(10_080) / 470 * 30 / 3600 > 3.5


async def test_the_console_sizes_its_event_log_by_the_fleet(write_mission):
    from console.app import MissionControlApp
    from console.widgets.event_log import log_capacity
    from tests.conftest import SMALL_MISSION

    spec = load_mission(write_mission(SMALL_MISSION.replace("sats_per_plane = 3", "sats_per_plane = 600")))
    app = MissionControlApp(spec, record_to=None)
    async with app.run_test(size=(120, 40)):
        assert app.query_one(EventLog).max_entries == log_capacity(1200) == 24_000


async def test_routine_events_are_hidden_with_V_together_with_the_severity_filter(run):
    """V hides the routine INFO events (eclipses, passes, links, heaters, job starts and ends) and keeps
    every other entry, operator notes included, in order; it combines with the severity filter, new
    entries pass through it, the subtitle counts what is not shown, and V again shows everything."""
    from console.widgets.event_log import ROUTINE_KINDS
    from engine import EventKind

    sim, events = run
    app = LogApp(sim)
    async with app.run_test(size=(120, 12)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(events)
        log.add_note(events[-1].time_s, "paused")

        def notable(event) -> bool:
            return not (event.severity is Severity.INFO and event.kind in ROUTINE_KINDS)

        kept = [e for e in events if notable(e)]
        assert 0 < len(kept) < len(events) and any(e.kind is EventKind.ECLIPSE_ENTRY for e in events)
        assert any(e.severity is Severity.INFO for e in kept)  # INFO that is not routine stays (alarms cleared...)
        await pilot.press("V")
        assert log.hide_routine and log.row_count == len(kept) + 1
        assert [r.cells[3] for r in log.visible_rows()] == [e.message for e in kept] + ["paused"]
        assert log.border_subtitle == f"filter: all · routine hidden ({len(events) - len(kept):,} entries not shown)"
        log.add_events(events[:20])  # new entries pass through the same filter, and the count follows
        assert log.row_count == len(kept) + 1 + sum(notable(e) for e in events[:20])
        assert f"({len(events) + 21 - log.row_count:,} entries not shown)" in log.border_subtitle
        await pilot.press("v")  # with warning+, routine INFO entries are hidden anyway
        assert log.row_count == sum(e.severity is not Severity.INFO for e in events + events[:20])
        await pilot.press("v", "v", "V")  # back to all severities, routine shown
        assert not log.hide_routine and log.row_count == len(events) + 21 and log.border_subtitle == "filter: all"
