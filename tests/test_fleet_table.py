"""The fleet table widget, driven headless with Textual's Pilot over a real simulation snapshot."""

from __future__ import annotations

import numpy as np
import pytest
from textual.app import App, ComposeResult

from console.widgets.fleet_table import FleetTable
from engine import Simulation, load_mission
from tests.conftest import IDEAL_TELEMETRY
from tests.test_power import UNDERSIZED_ARRAY


class TableApp(App[None]):
    def __init__(self, snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield FleetTable()

    def on_mount(self) -> None:
        table = self.query_one(FleetTable)
        table.update_snapshot(self.snapshot)
        table.focus()

    def on_fleet_table_selected(self, message: FleetTable.Selected) -> None:
        self.selected.append(message.satellite_id)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """Twelve hours into a fleet whose arrays are too small: some satellites in alarm, most not."""
    path = tmp_path_factory.mktemp("fleet") / "undersized.toml"
    path.write_text(UNDERSIZED_ARRAY + IDEAL_TELEMETRY)
    sim = Simulation(load_mission(path))
    sim.run_until(12 * 3600)
    return sim.snapshot()


async def test_worst_first_order_cursor_keys_filter_and_sort(snapshot):
    assert len(set(snapshot.alarm_level.tolist())) >= 2  # mixed alarm levels exercise the ordering
    app = TableApp(snapshot)
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(FleetTable)
        rows = table.rows()
        assert sorted(rows) == sorted(snapshot.satellite_ids)
        levels = [int(snapshot.alarm_level[snapshot.index_of(r)]) for r in rows]
        assert levels == sorted(levels, reverse=True)  # alarms first
        same_level = [snapshot.battery_soc[snapshot.index_of(r)] for r, lvl in zip(rows, levels) if lvl == levels[-1]]
        assert same_level == sorted(same_level)  # then lowest state of charge
        assert table.selected_id == rows[0]

        await pilot.press("down", "down")
        assert table.selected_id == rows[2] and app.selected == [rows[1], rows[2]]
        await pilot.press("end")
        assert table.selected_id == rows[-1]

        table.filter_text = "a-02"
        await pilot.pause()
        assert table.rows() == sorted(table.rows(), key=rows.index) and all(r.startswith("A-02") for r in table.rows())
        table.filter_text = ""
        await pilot.press("s")
        assert table.sort_key == "id" and table.rows() == sorted(snapshot.satellite_ids)


async def test_only_visible_rows_are_rendered_and_cells_show_units(snapshot):
    app = TableApp(snapshot)
    async with app.run_test(size=(100, 5)) as pilot:
        await pilot.pause()
        table = app.query_one(FleetTable)
        header = "".join(segment.text for segment in table.render_line(0))
        assert "satellite" in header and "SoC" in header and "GPU °C" in header
        first = "".join(segment.text for segment in table.render_line(1))
        index = snapshot.index_of(table.rows()[0])
        assert table.rows()[0] in first and f"{snapshot.battery_soc[index]:.0%}" in first
        hottest = np.where(snapshot.gpu_present[index], snapshot.gpu_temp_c[index], -np.inf).max()
        assert f"{hottest:.1f}" in first


async def test_row_styles_follow_focus_and_theme_changes(snapshot):
    """Row styles are resolved once and kept between frames; focus and theme changes must still show."""
    app = TableApp(snapshot)
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(FleetTable)
        await pilot.pause()
        focused_cursor = list(table.render_line(1))[0].style
        other_row = list(table.render_line(2))[0].style
        table.blur()
        await pilot.pause()
        blurred_cursor = list(table.render_line(1))[0].style
        assert blurred_cursor.bgcolor != focused_cursor.bgcolor  # full accent only while focused
        assert list(table.render_line(2))[0].style == other_row
        app.theme = "textual-light"
        await pilot.pause()
        assert list(table.render_line(2))[0].style.bgcolor != other_row.bgcolor


async def test_clicking_a_row_selects_that_satellite(snapshot):
    app = TableApp(snapshot)
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(FleetTable)
        rows = table.rows()
        await pilot.click(FleetTable, offset=(3, 3))  # screen line 3 = the third row under the header
        await pilot.pause()
        assert table.selected_id == rows[2] and app.selected[-1] == rows[2]
        await pilot.click(FleetTable, offset=(3, 0))  # the header: nothing changes
        await pilot.pause()
        assert table.selected_id == rows[2]
