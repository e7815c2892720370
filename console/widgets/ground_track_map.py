"""A ground-track world map: land, the night side, every satellite and station, and one satellite's track.

Equirectangular projection of the whole globe (no cropping): longitude -180..180 left to right, latitude
90..-90 top to bottom, so cell (x, y) of a W x H pane covers longitudes -180 + 360·[x, x+1)/W and
latitudes 90 - 180·[y, y+1)/H. Land is drawn with braille dots (2 x 4 per cell, from the half-degree
Natural Earth mask in ``world_land``); the night side (Sun below the horizon at the cell centre) is a
background; satellites are aggregated per cell (``·`` one, ``•`` two to four, ``●`` five or more; on a
fleet so dense that most occupied cells hold five or more, the thresholds become the thirds of the
occupied cells' counts, so the map still shows where the fleet is densest, and ``density_thresholds``
says what the glyphs mean) and coloured by the worst alarm in the cell; laser links carrying traffic are braille lines between their
satellites (only the selected satellite's above ``MAX_DRAWN_LINKS``); stations are ``▲`` (brighter while
an antenna tracks a satellite);
the selected satellite is ``◆`` with its ground track in braille dots, dimmer for the past than for the
future, and wrapped at the antimeridian rather than drawn across the map.

Staying cheap: everything is numpy over a per-frame (H, W) grid of code points and style codes. The
land braille and cell-centre trigonometry are cached per size; each ``show`` costs one terminator
evaluation, one ``np.bincount`` over the satellites, a few fancy-index writes and one pass that cuts the
rows into runs of equal style (one Segment per run). The strips are built lazily on the first paint
after a ``show`` or a resize and reused for every line until the next one; the composed Rich styles are
kept until the CSS changes. ``show`` + a full render at 120x30 costs about 0.6-1 ms for the 60-satellite
sandbox fleet and 1.3-2.3 ms for 10,000 satellites (``bench/map_render.py``, a noisy 2-core machine).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.events import Resize
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from console.widgets.world_land import land_mask
from engine.snapshot import FleetSnapshot
from engine.tracks import GroundTrackPath

LAND_THRESHOLD = 0.35
"""A braille dot is land when at least this fraction of the mask cells under it are land."""

BRAILLE_BASE = 0x2800
# Braille dot bit for (row within the cell 0..3, column 0..1).
BRAILLE_BITS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]], dtype=np.uint32)

GLYPH_SATELLITE_ONE, GLYPH_SATELLITE_FEW, GLYPH_SATELLITE_MANY = "·", "•", "●"
GLYPH_STATION = "▲"
GLYPH_SELECTED = "◆"
FEW_SATELLITES = 2
MANY_SATELLITES = 5

# Foreground kinds, lowest priority first; a cell's style code is kind * 2 + night.
KIND_EMPTY, KIND_LAND, KIND_TRACK_PAST, KIND_TRACK_FUTURE = 0, 1, 2, 3
KIND_SATELLITE = 4  # + worst alarm level (0, 1, 2)
KIND_STATION, KIND_STATION_CONTACT, KIND_SELECTED = 7, 8, 9
KIND_COMPONENTS = (
    None,
    "ground-track-map--land",
    "ground-track-map--track-past",
    "ground-track-map--track-future",
    "ground-track-map--satellite",
    "ground-track-map--satellite-yellow",
    "ground-track-map--satellite-red",
    "ground-track-map--station",
    "ground-track-map--station-contact",
    "ground-track-map--selected",
    "ground-track-map--link",
)
KIND_LINK = 10
"""Laser links carrying traffic, drawn over land and sea but under tracks, satellites and stations."""
MAX_DRAWN_LINKS = 3000
"""Above this many carrying links only the selected satellite's own links are drawn (a mega-constellation's
full mesh would cover the map)."""

MAX_TRACK_GAP_STEPS = 3.0
"""Consecutive track points further apart in time than this many median steps are not joined."""


@dataclass(frozen=True)
class _SizeCache:
    """Everything that depends only on the pane size."""

    width: int
    height: int
    land_chars: np.ndarray  # (H, W) uint32 code points: braille for land, space for sea
    land: np.ndarray  # (H, W) bool: some land dot in the cell
    sin_lat: np.ndarray  # (H, 1) at cell centres
    cos_lat: np.ndarray  # (H, 1)
    lon_rad: np.ndarray  # (1, W) at cell centres


def density_thresholds(counts: np.ndarray) -> tuple[int, int]:
    """Satellites per cell from which a cell shows ``•`` and ``●``, given the counts of the occupied
    cells: 2 and 5, unless most occupied cells hold 5 or more; then the upper bounds of the lower and
    middle thirds of the counts (so each glyph covers about a third of the occupied cells)."""
    if not len(counts) or np.median(counts) < MANY_SATELLITES:
        return FEW_SATELLITES, MANY_SATELLITES
    few, many = (int(value) for value in np.quantile(counts, [1 / 3, 2 / 3], method="higher"))
    few = max(few, MANY_SATELLITES)
    return few, max(many, few + 1)


def _bin_edges(source: int, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end indices into `source` samples for each of `target` bins (never empty)."""
    edges = np.arange(target + 1) * source / target
    start = np.minimum(np.floor(edges[:-1]).astype(np.intp), source - 1)
    end = np.maximum(np.floor(edges[1:]).astype(np.intp), start + 1)
    return start, np.minimum(end, source)


def land_dots(rows: int, columns: int) -> np.ndarray:
    """The land mask resampled to (rows, columns) dots by area fraction (box filter over the mask)."""
    mask = land_mask()
    integral = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
    integral[1:, 1:] = mask.cumsum(axis=0, dtype=np.int32).cumsum(axis=1, dtype=np.int32)
    r0, r1 = _bin_edges(mask.shape[0], rows)
    c0, c1 = _bin_edges(mask.shape[1], columns)
    total = integral[r1][:, c1] - integral[r0][:, c1] - integral[r1][:, c0] + integral[r0][:, c0]
    area = (r1 - r0)[:, None] * (c1 - c0)[None, :]
    return total >= LAND_THRESHOLD * area


def braille_cells(dots: np.ndarray) -> np.ndarray:
    """(4H, 2W) bool dots → (H, W) braille bit patterns (0 where no dot is set)."""
    rows, columns = dots.shape[0] // 4, dots.shape[1] // 2
    blocks = dots.reshape(rows, 4, columns, 2).transpose(0, 2, 1, 3)
    return (blocks * BRAILLE_BITS).sum(axis=(2, 3), dtype=np.uint32)


def track_dots(track: GroundTrackPath, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Braille dots along a ground track on a `width` x `height` map: (cell index y*W+x, dot bit, time_s).

    Consecutive samples are joined by straight lines in unwrapped longitude, so a crossing of the
    antimeridian leaves through one edge and comes back through the other instead of spanning the map;
    samples further apart in time than ``MAX_TRACK_GAP_STEPS`` median steps are not joined."""
    lat = np.asarray(track.lat_deg, dtype=float)
    time_s = np.asarray(track.time_s, dtype=float)
    lon = np.degrees(np.unwrap(np.radians(np.asarray(track.lon_deg, dtype=float))))
    dots_x, dots_y = 2 * width, 4 * height
    x = (lon + 180.0) * (dots_x / 360.0)
    y = (90.0 - lat) * (dots_y / 180.0)
    if len(lat) > 1:
        dt = np.diff(time_s)
        joined = dt <= MAX_TRACK_GAP_STEPS * np.median(dt)
        steps = np.where(joined, np.ceil(np.maximum(np.abs(np.diff(x)), np.abs(np.diff(y)))), 1).astype(np.intp)
        steps = np.clip(steps, 1, dots_x + dots_y)
        segment = np.repeat(np.arange(len(lat) - 1), steps)
        first = np.repeat(np.cumsum(steps) - steps, steps)
        fraction = (np.arange(len(segment)) - first) / np.repeat(steps, steps)
        x = np.concatenate([x[segment] + fraction * (x[segment + 1] - x[segment]), x[-1:]])
        y = np.concatenate([y[segment] + fraction * (y[segment + 1] - y[segment]), y[-1:]])
        time_s = np.concatenate([time_s[segment] + fraction * dt[segment], time_s[-1:]])
    dot_x = np.mod(np.floor(x).astype(np.intp), dots_x)
    dot_y = np.clip(np.floor(y).astype(np.intp), 0, dots_y - 1)
    return (dot_y // 4) * width + dot_x // 2, BRAILLE_BITS[dot_y % 4, dot_x % 2], time_s


def segment_dots(lat_a: np.ndarray, lon_a: np.ndarray, lat_b: np.ndarray, lon_b: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Braille dots along straight map lines from a to b (the short way round in longitude, wrapping at
    the map's edge): (cell index y*W+x, dot bit)."""
    if not len(lat_a):
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.uint32)
    dots_x, dots_y = 2 * width, 4 * height
    lon_b = lon_a + (np.asarray(lon_b, dtype=float) - lon_a + 180.0) % 360.0 - 180.0
    xa, xb = (lon_a + 180.0) * (dots_x / 360.0), (lon_b + 180.0) * (dots_x / 360.0)
    ya, yb = (90.0 - lat_a) * (dots_y / 180.0), (90.0 - lat_b) * (dots_y / 180.0)
    steps = np.clip(np.ceil(np.maximum(np.abs(xb - xa), np.abs(yb - ya))).astype(np.intp), 1, dots_x + dots_y) + 1
    segment = np.repeat(np.arange(len(xa)), steps)
    first = np.repeat(np.cumsum(steps) - steps, steps)
    fraction = (np.arange(len(segment)) - first) / np.repeat(steps - 1, steps)
    x = xa[segment] + fraction * (xb - xa)[segment]
    y = ya[segment] + fraction * (yb - ya)[segment]
    dot_x = np.mod(np.floor(x).astype(np.intp), dots_x)
    dot_y = np.clip(np.floor(y).astype(np.intp), 0, dots_y - 1)
    return (dot_y // 4) * width + dot_x // 2, BRAILLE_BITS[dot_y % 4, dot_x % 2]


class GroundTrackMap(Widget):
    """World map of the fleet at one instant, with the selected satellite's ground track."""

    COMPONENT_CLASSES = {
        "ground-track-map--land",
        "ground-track-map--sea",
        "ground-track-map--night",
        "ground-track-map--satellite",
        "ground-track-map--satellite-yellow",
        "ground-track-map--satellite-red",
        "ground-track-map--station",
        "ground-track-map--station-contact",
        "ground-track-map--selected",
        "ground-track-map--track-past",
        "ground-track-map--track-future",
        "ground-track-map--link",
    }

    DEFAULT_CSS = """
    GroundTrackMap {
        width: 1fr;
        height: 1fr;
        background: $primary-muted;
    }
    GroundTrackMap > .ground-track-map--sea { background: $primary-muted; }
    GroundTrackMap > .ground-track-map--night { background: $panel-darken-2; }
    GroundTrackMap > .ground-track-map--land { color: $success-darken-1; }
    GroundTrackMap > .ground-track-map--satellite { color: $foreground; }
    GroundTrackMap > .ground-track-map--satellite-yellow { color: $warning; text-style: bold; }
    GroundTrackMap > .ground-track-map--satellite-red { color: $error-lighten-2; text-style: bold; }
    GroundTrackMap > .ground-track-map--station { color: $secondary-lighten-3; }
    GroundTrackMap > .ground-track-map--station-contact { color: $primary-lighten-3; text-style: bold; }
    GroundTrackMap > .ground-track-map--selected { color: $background; background: $accent; text-style: bold; }
    GroundTrackMap > .ground-track-map--track-past { color: $accent-darken-3; }
    GroundTrackMap > .ground-track-map--track-future { color: $accent-lighten-2; }
    GroundTrackMap > .ground-track-map--link { color: $secondary; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._snapshot: FleetSnapshot | None = None
        self._selected_id: str | None = None
        self._track: GroundTrackPath | None = None
        self._size_cache: _SizeCache | None = None
        self._strips: list[Strip] | None = None
        self._track_cache: tuple[GroundTrackPath, tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None
        self._style_table: list[Style] | None = None
        self._style_sources: tuple[object, ...] = ()
        self.density_thresholds: tuple[int, int] = (FEW_SATELLITES, MANY_SATELLITES)
        """Satellites per cell from which a cell shows ``•`` and ``●`` (as of the last build)."""

    # ------------------------------------------------------------------------------------------ inputs

    def show(self, snapshot: FleetSnapshot, selected_id: str | None, track: GroundTrackPath | None) -> None:
        """Draw this snapshot, highlighting `selected_id` and its `track` (either may be None)."""
        self._snapshot, self._selected_id, self._track = snapshot, selected_id, track
        self._strips = None
        self._update_density()
        self.refresh()

    class DensityChanged(Message):
        """The satellite glyphs' meaning changed (a denser or sparser fleet, or a resize)."""

        def __init__(self, legend: str) -> None:
            super().__init__()
            self.legend = legend

    def _update_density(self) -> None:
        """The thresholds for the current snapshot and size, known before the next paint (for the legend)."""
        snapshot, (width, height) = self._snapshot, self.size
        if snapshot is None or not snapshot.satellite_count or width <= 0 or height <= 0:
            return
        x, y = self._cells(snapshot.lat_deg, snapshot.lon_deg, width, height)
        counts = np.bincount(y * width + x)
        thresholds = density_thresholds(counts[counts > 0])
        if thresholds != self.density_thresholds:
            self.density_thresholds = thresholds
            self.post_message(self.DensityChanged(self.density_legend))

    @property
    def density_legend(self) -> str:
        """What the satellite glyphs mean when the thresholds follow the fleet's density ('' otherwise)."""
        few, many = self.density_thresholds
        if (few, many) == (FEW_SATELLITES, MANY_SATELLITES):
            return ""
        return f"satellites per cell: · under {few} · • {few}–{many - 1} · ● {many}+"

    @property
    def selected_id(self) -> str | None:
        return self._selected_id

    def cell_of(self, lat_deg: float, lon_deg: float) -> tuple[int, int] | None:
        """The (x, y) cell holding a position at the current size; None before layout or for non-finite input."""
        width, height = self.size
        if width <= 0 or height <= 0 or not (np.isfinite(lat_deg) and np.isfinite(lon_deg)):
            return None
        x, y = self._cells(np.array([lat_deg], dtype=float), np.array([lon_deg], dtype=float), width, height)
        return int(x[0]), int(y[0])

    @staticmethod
    def _cells(lat_deg: np.ndarray, lon_deg: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Cell columns and rows of positions (longitudes wrap, latitudes clamp)."""
        x = ((lon_deg + 180.0) * (width / 360.0)).astype(np.intp)
        if len(x) and (x.min() < 0 or x.max() >= width or lon_deg.min() < -180.0):
            x = np.minimum((np.mod(lon_deg + 180.0, 360.0) * (width / 360.0)).astype(np.intp), width - 1)
        y = ((90.0 - lat_deg) * (height / 180.0)).astype(np.intp)
        np.minimum(y, height - 1, out=y)
        np.maximum(y, 0, out=y)
        return x, y

    # ------------------------------------------------------------------------------------------ caches

    def _on_resize(self, event: Resize) -> None:
        self._size_cache = None
        self._strips = None
        self._update_density()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips = None
        self._style_table = None

    def _sized(self, width: int, height: int) -> _SizeCache:
        cache = self._size_cache
        if cache is None or (cache.width, cache.height) != (width, height):
            bits = braille_cells(land_dots(4 * height, 2 * width))
            chars = np.where(bits > 0, BRAILLE_BASE + bits, ord(" ")).astype(np.uint32)
            lat_rad = np.radians(90.0 - (np.arange(height) + 0.5) * (180.0 / height))[:, None]
            lon_rad = np.radians(-180.0 + (np.arange(width) + 0.5) * (360.0 / width))[None, :]
            cache = _SizeCache(width, height, chars, bits > 0, np.sin(lat_rad), np.cos(lat_rad), lon_rad)
            self._size_cache = cache
        return cache

    # ------------------------------------------------------------------------------------------ grid

    def build_grid(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """(H, W) code points and (H, W) style codes (kind * 2 + night) for the current inputs."""
        sized = self._sized(width, height)
        chars = sized.land_chars.copy()
        kind = np.where(sized.land, KIND_LAND, KIND_EMPTY).astype(np.int8)
        night = np.zeros((height, width), dtype=np.int8)
        snapshot = self._snapshot
        if snapshot is None:
            return chars, kind * 2

        # Night where the Sun is below the horizon at the cell centre.
        declination_rad = np.radians(snapshot.subsolar_lat_deg)
        cos_zenith = sized.sin_lat * np.sin(declination_rad) + sized.cos_lat * np.cos(declination_rad) * np.cos(
            sized.lon_rad - np.radians(snapshot.subsolar_lon_deg)
        )
        night[cos_zenith < 0.0] = 1

        flat_chars, flat_kind = chars.reshape(-1), kind.reshape(-1)
        link_cell, link_bit = self._link_dots(snapshot, width, height)
        if len(link_cell):
            bits = np.zeros(width * height, dtype=np.uint32)
            np.bitwise_or.at(bits, link_cell, link_bit)
            on = bits > 0
            land_bits = np.where(flat_chars[on] >= BRAILLE_BASE, flat_chars[on] - BRAILLE_BASE, 0).astype(np.uint32)
            flat_chars[on] = BRAILLE_BASE + (bits[on] | land_bits)
            flat_kind[on] = KIND_LINK
        if self._track is not None and self._track.satellite_id == self._selected_id and len(self._track.time_s):
            # Past then future dots, ORed per cell; a cell holding both shows both in the future's colour.
            cell, bit, time_s = self._track_dots(self._track, width, height)
            future = time_s >= snapshot.time_s
            past_bits = np.zeros(width * height, dtype=np.uint32)
            future_bits = np.zeros(width * height, dtype=np.uint32)
            np.bitwise_or.at(past_bits, cell[~future], bit[~future])
            np.bitwise_or.at(future_bits, cell[future], bit[future])
            past_only = (past_bits > 0) & (future_bits == 0)
            flat_chars[past_only] = BRAILLE_BASE + past_bits[past_only]
            flat_kind[past_only] = KIND_TRACK_PAST
            on_future = future_bits > 0
            flat_chars[on_future] = BRAILLE_BASE + (future_bits[on_future] | past_bits[on_future])
            flat_kind[on_future] = KIND_TRACK_FUTURE

        # Satellites: count per cell, colour by the worst alarm in the cell.
        if snapshot.satellite_count:
            x, y = self._cells(snapshot.lat_deg, snapshot.lon_deg, width, height)
            cell = y * width + x
            cells = width * height
            counts = np.bincount(cell, minlength=cells)
            levels = np.asarray(snapshot.alarm_level)
            worst = np.zeros(cells, dtype=np.int8)
            worst[cell[levels == 1]] = 1
            worst[cell[levels >= 2]] = 2  # red written last wins
            occupied = np.flatnonzero(counts)
            n = counts[occupied]
            few, many = density_thresholds(n)  # for this grid's size (the same as the legend's when mounted)
            flat_chars[occupied] = np.where(
                n >= many, ord(GLYPH_SATELLITE_MANY), np.where(n >= few, ord(GLYPH_SATELLITE_FEW), ord(GLYPH_SATELLITE_ONE))
            )
            flat_kind[occupied] = KIND_SATELLITE + worst[occupied]

        # Stations, brighter while some satellite is in contact with them.
        if len(snapshot.station_ids):
            x, y = self._cells(np.asarray(snapshot.station_lat_deg), np.asarray(snapshot.station_lon_deg), width, height)
            station_cell = y * width + x
            contact = np.zeros(len(station_cell), dtype=bool)
            linked = np.asarray(snapshot.ground_link_station)
            contact[linked[(linked >= 0) & (linked < len(contact))]] = True
            flat_chars[station_cell] = ord(GLYPH_STATION)
            # Contact wins when two stations share a cell: write idle ones first.
            order = np.argsort(contact, kind="stable")
            flat_kind[station_cell[order]] = np.where(contact[order], KIND_STATION_CONTACT, KIND_STATION)

        selected = self._selected_index()
        if selected is not None:
            x, y = self._cells(snapshot.lat_deg[selected : selected + 1], snapshot.lon_deg[selected : selected + 1], width, height)
            flat_chars[y[0] * width + x[0]] = ord(GLYPH_SELECTED)
            flat_kind[y[0] * width + x[0]] = KIND_SELECTED
        return chars, kind * 2 + night

    def _link_dots(self, snapshot: FleetSnapshot, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """Cell index and braille bit of every dot along the laser links drawn (see ``MAX_DRAWN_LINKS``)."""
        state = np.asarray(snapshot.link_state)
        carrying = (state == 2) | (state == 3)  # UP, DEGRADED (engine.isl_links.LinkState)
        rows = np.flatnonzero(carrying)
        if len(rows) > MAX_DRAWN_LINKS:
            selected = self._selected_index()
            if selected is None:
                return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.uint32)
            rows = rows[(snapshot.link_a[rows] == selected) | (snapshot.link_b[rows] == selected)]
        a, b = snapshot.link_a[rows], snapshot.link_b[rows]
        return segment_dots(snapshot.lat_deg[a], snapshot.lon_deg[a], snapshot.lat_deg[b], snapshot.lon_deg[b], width, height)

    def _selected_index(self) -> int | None:
        if self._snapshot is None or self._selected_id is None:
            return None
        try:
            return self._snapshot.index_of(self._selected_id)
        except KeyError:
            return None

    def _track_dots(self, track: GroundTrackPath, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cell index, braille bit and time of every dot along the track at this size (cached per track and size)."""
        key = (width, height)
        cached = self._track_cache
        if cached is not None and cached[0] is track and cached[1] == key:
            return cached[2]
        dots = track_dots(track, width, height)
        self._track_cache = (track, key, dots)
        return dots

    # ------------------------------------------------------------------------------------------ render

    def _styles(self) -> list[Style]:
        """Rich style per style code (kind * 2 + night), rebuilt only when the CSS changes (``refresh`` drops
        Textual's own component-style cache, so without this every ``show`` would recompute them)."""
        # The stylesheet replaces a component's styles object whenever its rules change (theme switch,
        # CSS reload) without notifying the widget, so compare those objects by identity.
        sources = tuple(self._component_styles.get(name) for name in sorted(self.COMPONENT_CLASSES))
        if self._style_table is None or len(sources) != len(self._style_sources) or any(
            a is not b for a, b in zip(sources, self._style_sources)
        ):
            self._style_table, self._style_sources = self._compose_styles(), sources
        return self._style_table

    def _compose_styles(self) -> list[Style]:
        """The kind's colours over the sea or the night background, for every kind."""
        backgrounds = [
            self.get_component_rich_style("ground-track-map--sea"),
            self.get_component_rich_style("ground-track-map--night"),
        ]
        styles: list[Style] = []
        for component in KIND_COMPONENTS:
            for background in backgrounds:
                if component is None:
                    styles.append(background)
                    continue
                full = self.get_component_rich_style(component)
                own = self.get_component_rich_style(component, partial=True)
                bgcolor = full.bgcolor if own.bgcolor is not None else background.bgcolor
                styles.append(
                    background
                    + Style(color=full.color, bgcolor=bgcolor, bold=own.bold, dim=own.dim, italic=own.italic, reverse=own.reverse)
                )
        return styles

    def _build_strips(self, width: int, height: int) -> list[Strip]:
        chars, codes = self.build_grid(width, height)
        text = chars.astype("<u4").tobytes().decode("utf-32-le")
        styles = self._styles()
        # Runs of equal style, never crossing a row end: one Segment per run.
        flat = codes.reshape(-1)
        starts_mask = np.empty(flat.size, dtype=bool)
        starts_mask[0] = True
        np.not_equal(flat[1:], flat[:-1], out=starts_mask[1:])
        starts_mask[::width] = True
        starts = np.flatnonzero(starts_mask)
        row_first = np.searchsorted(starts, np.arange(height + 1) * width).tolist()
        run_styles = [styles[code] for code in flat[starts].tolist()]
        starts_list = starts.tolist()
        ends_list = [*starts_list[1:], flat.size]
        new_segment = tuple.__new__  # Segment is a NamedTuple; this skips its Python-level __new__
        segments = [new_segment(Segment, (text[a:b], style, None)) for a, b, style in zip(starts_list, ends_list, run_styles)]
        return [Strip(segments[row_first[y] : row_first[y + 1]], width) for y in range(height)]

    def _current_strips(self) -> list[Strip]:
        """The cached strips, rebuilt when missing or built for another size."""
        width, height = self.size
        strips = self._strips
        if strips is None or len(strips) != height or (height and strips[0].cell_length != width):
            strips = self._build_strips(width, height) if width > 0 and height > 0 else []
            self._strips = strips
        return strips

    def render_lines(self, crop: Region) -> list[Strip]:
        self._current_strips()  # one size check per paint rather than one per line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        strips = self._strips if self._strips is not None else self._current_strips()
        if 0 <= y < len(strips):
            return strips[y]
        return Strip.blank(self.size.width, self.rich_style)
