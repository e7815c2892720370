"""The ground-track map widget, driven headless with Textual's Pilot over a real sandbox simulation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from rich.cells import cell_len
from rich.style import Style
from textual.app import App, ComposeResult

from console.widgets.ground_track_map import GroundTrackMap
from console.widgets.world_land import is_land, land_mask
from engine import FleetSnapshot, Simulation, load_mission
from engine.tracks import GroundTrackPath


class MapApp(App[None]):
    def __init__(self, snapshot: FleetSnapshot | None, selected_id: str | None = None, track: GroundTrackPath | None = None) -> None:
        super().__init__()
        self.snapshot, self.selected_id, self.track = snapshot, selected_id, track

    def compose(self) -> ComposeResult:
        yield GroundTrackMap()

    def on_mount(self) -> None:
        if self.snapshot is not None:
            self.query_one(GroundTrackMap).show(self.snapshot, self.selected_id, self.track)


@pytest.fixture(scope="module")
def sandbox():
    """The bundled sandbox mission one hour in: snapshot, a selected satellite and its ground track."""
    sim = Simulation(load_mission("sandbox"))
    sim.run_until(3600)
    snapshot = sim.snapshot()
    selected = snapshot.satellite_ids[0]
    return snapshot, selected, sim.ground_track(selected)


def row_cells(widget: GroundTrackMap, y: int) -> list[tuple[str, Style]]:
    """One (character, style) per cell of rendered line `y`."""
    return [(char, segment.style) for segment in widget.render_line(y) for char in segment.text]


def grid(widget: GroundTrackMap) -> list[list[tuple[str, Style]]]:
    return [row_cells(widget, y) for y in range(widget.size.height)]


def is_braille(char: str) -> bool:
    return 0x2800 <= ord(char) <= 0x28FF


def with_satellites(snapshot: FleetSnapshot, lat_deg, lon_deg, alarm_level) -> FleetSnapshot:
    """`snapshot` with its fleet replaced by satellites at these positions (every per-satellite array resized)."""
    n, count = snapshot.satellite_count, len(lat_deg)
    rows = np.arange(count) % n
    changes: dict[str, object] = {
        field.name: getattr(snapshot, field.name)[rows]
        for field in dataclasses.fields(snapshot)
        if isinstance(getattr(snapshot, field.name), np.ndarray)
        and getattr(snapshot, field.name).shape[:1] == (n,)
        and not field.name.startswith("station_")
    }
    changes.update(
        satellite_ids=tuple(f"T-{i:02d}" for i in range(count)),
        lat_deg=np.asarray(lat_deg, dtype=float),
        lon_deg=np.asarray(lon_deg, dtype=float),
        alarm_level=np.asarray(alarm_level),
        contact_station=np.full(count, -1),
        ground_link_station=np.full(count, -1),
        **{name: np.empty(0, dtype=np.int64) for name in ("link_a", "link_b", "link_state")},
        **{name: np.empty(0) for name in ("link_distance_km", "link_rate_gbps")},
    )
    return dataclasses.replace(snapshot, **changes)


def test_land_mask_knows_continents_and_oceans():
    mask = land_mask()
    assert mask.shape == (360, 720) and mask.dtype == bool and 0.25 < mask.mean() < 0.40
    for name, lat, lon in [("Paris", 48.9, 2.3), ("Nairobi", -1.3, 36.8), ("Denver", 39.7, -105.0), ("Sydney", -33.9, 151.0), ("Beijing", 39.9, 116.4), ("Antarctica", -85.0, 100.0)]:
        assert is_land(lat, lon), name
    for lat, lon in [(0.0, -140.0), (-30.0, 80.0), (35.0, -40.0)]:
        assert not is_land(lat, lon), (lat, lon)


async def test_cells_selected_satellite_stations_and_terminator(sandbox):
    snapshot, selected, track = sandbox
    assert GroundTrackMap().cell_of(0.0, 0.0) is None  # no size before layout
    app = MapApp(snapshot, selected, track)
    async with app.run_test(size=(100, 28)) as pilot:
        await pilot.pause()
        widget = app.query_one(GroundTrackMap)
        assert widget.size == (100, 28)
        # Projection: the equator/Greenwich cell is the centre; corners; the antimeridian wraps to the left.
        assert widget.cell_of(0.0, 0.0) == (50, 14)
        assert widget.cell_of(89.9, -179.9) == (0, 0)
        assert widget.cell_of(-89.9, 179.9) == (99, 27)
        assert widget.cell_of(0.0, 180.0) == widget.cell_of(0.0, -180.0) == (0, 14)
        cells = grid(widget)

        index = snapshot.index_of(selected)
        x, y = widget.cell_of(snapshot.lat_deg[index], snapshot.lon_deg[index])
        char, style = cells[y][x]
        assert char == "◆" and style.bgcolor == widget.get_component_rich_style("ground-track-map--selected").bgcolor
        assert sum(char == "◆" for row in cells for char, _ in row) == 1

        # Stations: ▲ at each station's cell, in the contact colour exactly when an antenna tracks a satellite.
        idle = widget.get_component_rich_style("ground-track-map--station").color
        linked = widget.get_component_rich_style("ground-track-map--station-contact").color
        assert idle != linked
        in_contact = set(snapshot.ground_link_station[snapshot.ground_link_station >= 0].tolist())
        assert in_contact and len(in_contact) < len(snapshot.station_ids)  # both kinds are exercised
        for station, (lat, lon) in enumerate(zip(snapshot.station_lat_deg, snapshot.station_lon_deg)):
            sx, sy = widget.cell_of(lat, lon)
            if (sx, sy) == (x, y):
                continue
            char, style = cells[sy][sx]
            assert char == "▲"
            assert style.color == (linked if station in in_contact else idle)

        # Terminator: the subsolar cell is day (sea background), its antipode is night.
        day = widget.get_component_rich_style("ground-track-map--sea").bgcolor
        night = widget.get_component_rich_style("ground-track-map--night").bgcolor
        assert day != night
        sx, sy = widget.cell_of(snapshot.subsolar_lat_deg, snapshot.subsolar_lon_deg)
        ax, ay = widget.cell_of(-snapshot.subsolar_lat_deg, snapshot.subsolar_lon_deg + 180.0)
        assert cells[sy][sx][1].bgcolor == day
        assert cells[ay][ax][1].bgcolor == night
        backgrounds = [style.bgcolor for row in cells for _, style in row]
        assert 0.3 < backgrounds.count(night) / len(backgrounds) < 0.7  # about half the Earth is dark


async def test_track_past_dimmer_than_future_and_wraps_at_the_antimeridian(sandbox):
    snapshot, selected, track = sandbox
    assert np.abs(np.diff(track.lon_deg)).max() > 180.0  # the track does cross the antimeridian
    app = MapApp(snapshot, selected, track)
    async with app.run_test(size=(100, 28)) as pilot:
        await pilot.pause()
        widget = app.query_one(GroundTrackMap)
        past = widget.get_component_rich_style("ground-track-map--track-past").color
        future = widget.get_component_rich_style("ground-track-map--track-future").color
        assert past != future
        brightness = lambda color: sum(color.get_truecolor())  # noqa: E731
        assert brightness(past) < brightness(future)
        cells = grid(widget)
        on_track = [[is_braille(char) and style.color in (past, future) for char, style in row] for row in cells]
        colours = {style.color for row in cells for char, style in row if is_braille(char) and style.color in (past, future)}
        assert colours == {past, future}
        # It leaves through one edge and comes back through the other ...
        assert any(row[0] for row in on_track) and any(row[-1] for row in on_track)
        # ... and never draws a line across the map.
        longest = 0
        for row in on_track:
            run = 0
            for hit in row:
                run = run + 1 if hit else 0
                longest = max(longest, run)
        assert 2 <= longest < 100 // 4
        # Every track sample lands on a track cell (or under the marker/stations/satellites drawn on top).
        covered = 0
        for lat, lon in zip(track.lat_deg, track.lon_deg):
            tx, ty = widget.cell_of(lat, lon)
            covered += on_track[ty][tx]
        assert covered >= 0.9 * len(track.lat_deg)

        # A track for another satellite than the selected one is not drawn.
        widget.show(snapshot, snapshot.satellite_ids[1], track)
        await pilot.pause()
        assert not any(is_braille(char) and style.color in (past, future) for row in grid(widget) for char, style in row)


async def test_satellites_aggregate_by_density_and_worst_alarm(sandbox):
    snapshot, _, _ = sandbox
    # One satellite near (10, 10); three near (-20, 50), one yellow; seven near (40, -100), one red.
    clusters = [((10.0, 10.0), [0]), ((-20.0, 50.0), [0, 1, 0]), ((40.0, -100.0), [0, 0, 0, 2, 1, 0, 0])]
    lat, lon, level = [], [], []
    for (c_lat, c_lon), levels in clusters:
        for k, alarm in enumerate(levels):
            lat.append(c_lat + 0.1 * k)
            lon.append(c_lon + 0.1 * k)
            level.append(alarm)
    fleet = with_satellites(snapshot, lat, lon, level)
    app = MapApp(fleet, None, None)
    async with app.run_test(size=(100, 28)) as pilot:
        await pilot.pause()
        widget = app.query_one(GroundTrackMap)
        cells = grid(widget)
        colour = lambda name: widget.get_component_rich_style(f"ground-track-map--{name}").color  # noqa: E731
        expected = [("·", colour("satellite")), ("•", colour("satellite-yellow")), ("●", colour("satellite-red"))]
        for ((c_lat, c_lon), _), (glyph, color) in zip(clusters, expected):
            x, y = widget.cell_of(c_lat, c_lon)
            assert cells[y][x][0] == glyph and cells[y][x][1].color == color
        glyphs = [char for row in cells for char, _ in row if char in "·•●"]
        assert sorted(glyphs) == sorted("·•●")  # one glyph per occupied cell, none elsewhere


@pytest.mark.parametrize("size", [(40, 10), (140, 35)])
async def test_renders_exact_width_at_small_and_large_sizes(sandbox, size):
    snapshot, selected, track = sandbox
    app = MapApp(snapshot, selected, track)
    width, height = size
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        widget = app.query_one(GroundTrackMap)
        assert widget.size == size
        lines = [widget.render_line(y) for y in range(height)]
        assert all(sum(cell_len(segment.text) for segment in line) == width for line in lines)
        assert any(is_braille(char) for y in range(height) for char, _ in row_cells(widget, y))  # land is drawn
        assert "◆" in "".join(segment.text for line in lines for segment in line)

        # Resizing rebuilds the strips at the new size.
        await pilot.resize_terminal(width + 7, height + 3)
        await pilot.pause()
        assert widget.size == (width + 7, height + 3)
        assert all(sum(cell_len(s.text) for s in widget.render_line(y)) == width + 7 for y in range(height + 3))


async def test_without_a_snapshot_the_map_shows_only_land():
    app = MapApp(None)
    async with app.run_test(size=(60, 15)) as pilot:
        await pilot.pause()
        widget = app.query_one(GroundTrackMap)
        chars = {char for y in range(15) for char, _ in row_cells(widget, y)}
        assert chars - {" "} and all(is_braille(char) for char in chars - {" "})
        paris_x, paris_y = widget.cell_of(48.9, 2.3)
        assert is_braille(row_cells(widget, paris_y)[paris_x][0])


def test_density_thresholds_follow_a_dense_fleet_and_keep_the_defaults_otherwise():
    from console.widgets.ground_track_map import density_thresholds

    assert density_thresholds(np.array([1, 1, 2, 3, 7])) == (2, 5), "a sparse fleet keeps 1 / 2-4 / 5+"
    rng = np.random.default_rng(3)
    dense = rng.integers(5, 40, size=3000)
    few, many = density_thresholds(dense)
    assert 5 <= few < many
    shares = [np.mean(dense < few), np.mean((dense >= few) & (dense < many)), np.mean(dense >= many)]
    assert all(0.25 <= share <= 0.42 for share in shares), shares


async def test_a_megaconstellation_map_shows_density_and_says_so():
    sim = Simulation(load_mission("megaconstellation"))
    sim.step()
    app = MapApp(sim.snapshot())
    async with app.run_test(size=(100, 16)) as pilot:  # a pane small enough that most cells hold 5 or more
        await pilot.pause()
        ground_map = app.query_one(GroundTrackMap)
        chars, _ = ground_map.build_grid(100, 16)
        glyphs = {chr(c) for c in chars.reshape(-1)}
        assert {"·", "•", "●"} <= glyphs, "all three densities appear"
        assert ground_map.density_legend.startswith("satellites per cell: · under")


async def test_the_console_map_pane_gives_the_density_legend_of_a_megaconstellation():
    from console.app import make_app

    app = make_app("megaconstellation", tick_hz=None)
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert app.query_one("#map-pane").border_subtitle.startswith("satellites per cell: · under")
