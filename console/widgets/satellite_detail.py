"""Satellite detail: the selected satellite's panes (power, thermal, ground link, GPUs, jobs, network) in a
grid.

Each pane is a ``DetailPane`` with a ``show(view)`` method; the grid puts as many side by side as the width
allows and scrolls when they do not all fit.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.events import Resize

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

    @property
    def panes(self) -> list[DetailPane]:
        return list(self.query(DetailPane))

    def show(self, view: SatelliteView | None) -> None:
        """Render every pane for this view (None: nothing selected)."""
        for pane in self.panes:
            pane.show(view)

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
