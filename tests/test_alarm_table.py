"""The alarm table and the shelve dialog, driven with Pilot over alarms from a real simulation run."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, OptionList

from console.screens.shelve import ShelveScreen
from console.widgets.alarm_table import AlarmTable
from console.widgets.line_table import Column, LineTable, Row
from engine import Simulation
from engine.alarms import Alarm
from engine.commands import AcknowledgeAlarm, ShelveAlarm
from tests.test_event_log import undersized_run

SHELVE_S = 3600.0


@dataclass(frozen=True)
class AlarmCase:
    """The run's alarm history after the operator acknowledged some alarms and shelved one."""

    sim: Simulation
    alarms: tuple[Alarm, ...]
    time_s: float
    acknowledged: frozenset[int]
    shelved: int


@pytest.fixture(scope="module")
def case() -> AlarmCase:
    sim, _ = undersized_run()
    active = sim.alarms()
    red = [a for a in active if a.severity == "red"]
    yellow = [a for a in active if a.severity == "yellow"]
    assert len(red) >= 2 and len(yellow) >= 3 and any(not a.active for a in sim.alarms(active_only=False))
    if not any(a.acknowledged for a in active):  # the run is shared: apply the commands once
        sim.apply(AcknowledgeAlarm(red[-1].id))
        sim.apply(AcknowledgeAlarm(yellow[-1].id))
        sim.apply(ShelveAlarm(yellow[-2].id, SHELVE_S, "heater under test"))
    return AlarmCase(sim, tuple(sim.alarms(active_only=False)), sim.time_s, frozenset({red[-1].id, yellow[-1].id}), yellow[-2].id)


class AlarmApp(App[None]):
    def __init__(self, case: AlarmCase, time_s: float | None = None) -> None:
        super().__init__()
        self.case = case
        self.time_s = case.time_s if time_s is None else time_s
        self.requests: list[tuple[str, tuple[int, ...]]] = []

    def compose(self) -> ComposeResult:
        yield AlarmTable()

    def on_mount(self) -> None:
        table = self.query_one(AlarmTable)
        table.set_epoch(self.case.sim.spec.epoch)
        table.update_alarms(list(self.case.alarms), self.time_s)
        table.focus()

    def on_alarm_table_acknowledge_requested(self, message: AlarmTable.AcknowledgeRequested) -> None:
        self.requests.append(("ack", message.alarm_ids))

    def on_alarm_table_shelve_requested(self, message: AlarmTable.ShelveRequested) -> None:
        self.requests.append(("shelve", (message.alarm_id,)))

    def on_alarm_table_unshelve_requested(self, message: AlarmTable.UnshelveRequested) -> None:
        self.requests.append(("unshelve", (message.alarm_id,)))


def expected_active_order(alarms, time_s: float) -> list[int]:
    """The ordering rule, written out: unacked red, unacked yellow, acked red, acked yellow, shelved."""
    def group(alarm: Alarm) -> int:
        if alarm.shelved_at(time_s):
            return 4
        return (0 if alarm.severity == "red" else 1) + (2 if alarm.acknowledged else 0)

    active = [a for a in alarms if a.cleared_s is None]
    return [a.id for a in sorted(active, key=lambda a: (group(a), a.raised_s, a.id))]


async def test_active_view_order_states_and_cells(case):
    app = AlarmApp(case, time_s=case.time_s + SHELVE_S - 12 * 60)  # 12 minutes of shelving left
    async with app.run_test(size=(120, 14)) as pilot:
        await pilot.pause()
        table = app.query_one(AlarmTable)
        shown = table.shown_alarms()
        assert [a.id for a in shown] == expected_active_order(case.alarms, app.time_s)
        states = [table.row_at(i).cells[-1] for i in range(table.row_count)]
        unacked = [a for a in shown if not a.acknowledged and a.id != case.shelved]
        assert states[: len(unacked)] == ["UNACK"] * len(unacked)
        assert states.count("ACK") == len(case.acknowledged)
        assert states[-1] == "SHELVED 12m: heater under test" and shown[-1].id == case.shelved
        assert [a.severity for a in shown[: len(unacked)]] == sorted((a.severity for a in unacked), key=("red", "yellow").index)
        first = table.row_at(0)
        alarm = shown[0]
        assert first.cells[:4] == (str(alarm.id), "RED", alarm.satellite, "loop temp")
        assert first.cells[4] == f"{alarm.value:.1f} °C lo {alarm.limit:.1f} °C"  # loop temperature: a low limit
        assert first.cells[5] == (case.sim.spec.epoch + timedelta(seconds=alarm.raised_s)).strftime("%H:%M:%S")
        assert first.style_class == "alarm-table--red-unack"
        assert table.row_at(table.row_count - 1).style_class == "alarm-table--muted"
        header = table.line_text(0)
        assert "satellite" in header and "value / limit" in header and "state" in header
        assert alarm.satellite in table.line_text(1)


async def test_history_shows_cleared_alarms_newest_first_at_any_width(case):
    app = AlarmApp(case)
    async with app.run_test(size=(120, 14)) as pilot:
        table = app.query_one(AlarmTable)
        await pilot.press("h")
        assert table.show_history and table.border_subtitle.startswith("all alarms")
        shown = table.shown_alarms()
        assert len(shown) == len(case.alarms)
        assert [(a.raised_s, a.id) for a in shown] == sorted(((a.raised_s, a.id) for a in case.alarms), reverse=True)
        cleared = [i for i, a in enumerate(shown) if not a.active]
        assert cleared and all(table.row_at(i).cells[-1] == "CLEARED" for i in cleared)
        soc = next(i for i in cleared if shown[i].quantity == "battery_soc")
        value, limit = shown[soc].value, shown[soc].limit
        assert table.row_at(soc).cells[3:5] == ("battery SoC", f"{value:.0%} lo {limit:.0%}")  # cleared above its low limit
        table.move_cursor(cleared[0])
        await pilot.press("a", "z")  # neither applies to a cleared alarm
        assert app.requests == []
        for width in (40, 120):  # every line is exactly the widget's width, narrow (cropped) or wide
            await pilot.resize_terminal(width, 14)
            content_width = table.scrollable_content_region.width
            assert content_width <= width
            for y in range(table.scrollable_content_region.height):
                assert sum(segment.cell_length for segment in table.render_line(y)) == content_width
        await pilot.press("h")
        assert not table.show_history and all(a.active for a in table.shown_alarms())


async def test_keys_post_requests_with_the_right_ids(case):
    app = AlarmApp(case)
    async with app.run_test(size=(120, 14)) as pilot:
        table = app.query_one(AlarmTable)
        shown = table.shown_alarms()
        await pilot.press("a")  # cursor on the worst alarm: unacknowledged red
        assert app.requests == [("ack", (shown[0].id,))]
        await pilot.press("u")  # not shelved: refused, nothing posted
        assert len(app.requests) == 1
        await pilot.press("A")
        expected = tuple(a.id for a in shown if not a.acknowledged and a.id != case.shelved)
        assert app.requests[-1] == ("ack", expected) and len(expected) >= 3
        await pilot.press("z")
        assert app.requests[-1] == ("shelve", (shown[0].id,))
        await pilot.press("end")
        assert table.cursor_alarm is not None and table.cursor_alarm.id == case.shelved
        await pilot.press("u", "a")  # unshelve it; it is unacknowledged, so it can be acknowledged too
        assert app.requests[-2:] == [("unshelve", (case.shelved,)), ("ack", (case.shelved,))]
        table.select_key(min(case.acknowledged))
        count = len(app.requests)
        await pilot.press("a")  # already acknowledged: refused
        assert len(app.requests) == count


async def test_cursor_stays_on_its_alarm_when_alarms_are_replaced(case):
    app = AlarmApp(case)
    async with app.run_test(size=(120, 14)) as pilot:
        table = app.query_one(AlarmTable)
        await pilot.press("down", "down")
        key = table.cursor_key
        # Acknowledging the first alarm reorders the list; the cursor follows its alarm.
        first = table.shown_alarms()[0]
        acked = [replace(a, acknowledged=True, acknowledged_s=case.time_s) if a.id == first.id else a for a in case.alarms]
        table.update_alarms(acked, case.time_s)
        assert table.cursor_key == key and table.shown_alarms()[table.cursor_index].id == key
        assert table.shown_alarms().index(next(a for a in acked if a.id == first.id)) > 0


class PlainTableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.moves: list[object] = []

    def compose(self) -> ComposeResult:
        yield LineTable([Column("id", 4, ">"), Column("name", 8, flexible=True)])

    def on_line_table_cursor_moved(self, message: LineTable.CursorMoved) -> None:
        self.moves.append(message.key)


async def test_line_table_set_rows_keeps_the_cursor_on_its_key():
    app = PlainTableApp()
    async with app.run_test(size=(30, 6)) as pilot:
        table = app.query_one(LineTable)
        table.set_rows([Row(f"k{i}", (str(i), f"row {i}")) for i in range(20)])
        await pilot.press("pagedown")
        assert table.page_rows == 5 and table.cursor_key == "k4" and table.scroll_offset.y == 0
        await pilot.press("down")
        assert table.cursor_key == "k5" and table.scroll_offset.y == 1
        table.set_rows([Row(f"k{i}", (str(i), f"row {i}")) for i in range(20, -1, -1)])  # reversed, one more
        assert table.cursor_key == "k5" and table.cursor_index == 15 and table.scroll_offset.y == 11
        assert table.line_text(5).split() == ["5", "row", "5"]
        table.set_rows([Row("k0", ("0", "only"))])  # the cursor's row is gone: the nearest index
        await pilot.pause()
        assert table.cursor_key == "k0" and app.moves[-1] == "k0" and table.scroll_offset.y == 0
        table.set_rows([])
        assert table.cursor_row is None and table.line_text(1).strip() == ""


class DialogApp(App[None]):
    def __init__(self, alarm: Alarm) -> None:
        super().__init__()
        self.alarm = alarm
        self.results: list[tuple[float, str] | None] = []

    def on_mount(self) -> None:
        self.push_screen(ShelveScreen.for_alarm(self.alarm), self.results.append)


async def test_shelve_screen_returns_duration_and_reason_or_none_and_fits(case):
    alarm = next(a for a in case.alarms if a.active)
    app = DialogApp(alarm)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ShelveScreen)
        assert screen.query_one("#shelve-dialog").border_title == f"Shelve alarm {alarm.id} ({alarm.satellite} loop temp)"
        assert screen.query_one(OptionList).highlighted == 1 and screen.duration_s == 1800.0  # 30 min
        for size in ((80, 24), (200, 60)):
            if size != (80, 24):
                await pilot.resize_terminal(*size)
            dialog = screen.query_one("#shelve-dialog").region
            assert dialog.width >= 40 and dialog.right <= size[0] and dialog.bottom <= size[1]
            assert screen.query_one(Input).region.height == 3 and screen.query_one(OptionList).region.height >= 5
        await pilot.press("down", "tab", *"fan", "enter")
        assert app.results == [(3600.0, "fan")]

        await app.push_screen(ShelveScreen.for_alarm(alarm), app.results.append)
        await pilot.press("enter")  # on the option list: the default duration, no reason
        assert app.results[-1] == (1800.0, "")

        await app.push_screen(ShelveScreen.for_alarm(alarm), app.results.append)
        await pilot.press("escape")
        assert app.results[-1] is None and not isinstance(app.screen, ShelveScreen)



async def test_thousands_of_alarms_cost_only_the_rows_on_screen(case, monkeypatch):
    """A fleet-wide fault raises thousands of alarms: a frame formats the rows on screen, not all of them,
    and re-sorts only when the engine's list changes; a value changing on screen is still repainted."""
    import console.widgets.alarm_table as module

    first = next(a for a in case.alarms if a.active)
    many = [replace(first, id=100_000 + i, raised_s=float(i), acknowledged=False, shelved_until_s=None) for i in range(5000)]
    values = {alarm.id: 50.0 for alarm in many}
    formatted = []
    original = module.format_value_vs_limit
    monkeypatch.setattr(module, "format_value_vs_limit", lambda alarm, current=None: formatted.append(alarm.id) or original(alarm, current))

    class ManyAlarms(App[None]):
        def compose(self) -> ComposeResult:
            yield AlarmTable()

    app = ManyAlarms()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(AlarmTable)
        table.update_alarms(many, case.time_s, values)
        await pilot.pause()
        page = table.page_rows
        assert table.row_count == 5000 and page < 30
        formatted.clear()
        for tick in range(1, 11):  # ten frames with the same alarms
            table.update_alarms(many, case.time_s + tick, values)
        assert 0 < len(formatted) <= 10 * page and set(formatted) <= {a.id for a in table.shown_alarms()[:page]}
        top = table.shown_alarms()[0]
        table.update_alarms(many, case.time_s + 11, {**values, top.id: 99.0})
        await pilot.pause()
        assert "99" in table.line_text(1)
