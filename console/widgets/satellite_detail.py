"""Satellite detail: the selected satellite's panes (power, thermal, ground link, GPUs, jobs, network) in a
grid.

Each pane is a ``DetailPane`` with a ``show(view)`` method; the grid puts as many side by side as the width
allows and scrolls when they do not all fit. Only the panes in sight build their lines each frame: one
scrolled out of sight keeps the view (``DetailPane.hold``) and builds its lines when it scrolls back in.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.events import Resize
from textual.geometry import Region

from console.detail import SatelliteView
from console.widgets.detail_pane import DetailPane
from console.widgets.gpu_pane import GpuPane
from console.widgets.job_pane import JobPane
from console.widgets.link_pane import LinkPane
from console.widgets.network_pane import NetworkPane
from console.widgets.power_pane import PowerPane
from console.widgets.thermal_pane import ThermalPane

MIN_PANE_WIDTH = 37
"""Columns a pane needs to show its values and a useful sparkline."""


class SatelliteDetail(VerticalScroll):
    """The detail panes of one satellite; scrolls when they do not fit."""

    DEFAULT_CSS = """
    SatelliteDetail {
        height: 1fr;
    }
    SatelliteDetail > Grid {
        height: auto;
        grid-size: 3;
        grid-rows: auto;
        grid-gutter: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with Grid():
            yield PowerPane(id="power-pane")
            yield ThermalPane(id="thermal-pane")
            yield NetworkPane(id="network-pane")
            yield GpuPane(id="gpu-pane")
            yield JobPane(id="job-pane")
            yield LinkPane(id="link-pane")

    _panes: list[DetailPane] | None = None

    @property
    def panes(self) -> list[DetailPane]:
        if self._panes is None:
            self._panes = list(self.query(DetailPane))
        return list(self._panes)

    def show(self, view: SatelliteView | None) -> None:
        """Render the panes in sight for this view (None: nothing selected); the others keep it for later."""
        window = self._window(self.scroll_y)
        grid_y = self.query_one(Grid).virtual_region.y
        for pane in self.panes:
            if self._in_sight(pane, window, grid_y):
                pane.show(view)
            else:
                pane.hold(view)

    def _window(self, scroll_y: float) -> Region:
        """The part of the scrolled content on screen, in content coordinates."""
        size = self.scrollable_content_region.size
        return Region(0, round(scroll_y), size.width, size.height)

    @staticmethod
    def _in_sight(pane: DetailPane, window: Region, grid_y: int) -> bool:
        region = pane.virtual_region  # relative to the grid
        if not region.height or not window.height:
            return True  # not laid out yet: its lines give it its height
        top = grid_y + region.y
        return top < window.bottom and top + region.height > window.y

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._catch_up(new_value)

    def _catch_up(self, scroll_y: float | None = None) -> None:
        """Panes that came into sight build the lines they put off."""
        window = self._window(self.scroll_y if scroll_y is None else scroll_y)
        grid_y = self.query_one(Grid).virtual_region.y
        for pane in self.panes:
            if pane.held and self._in_sight(pane, window, grid_y):
                pane.catch_up()

    def on_resize(self, event: Resize) -> None:
        columns = max(1, min(len(self.panes), event.size.width // MIN_PANE_WIDTH))
        grid = self.query_one(Grid)
        if grid.styles.grid_size_columns != columns:
            grid.styles.grid_size_columns = columns
        # Three columns or more: the GPU grid takes two, so its cells sit two to a line beside the jobs.
        span = 2 if columns >= 3 else 1
        gpu_pane = self.query_one(GpuPane)
        if gpu_pane.styles.column_span != span:
            gpu_pane.styles.column_span = span
        self.call_after_refresh(self._catch_up)  # once the grid is laid out at the new size
