"""The job queue, full screen: counts per state and the workload metrics over the fleet-wide ``JobTable``.

The app pushes it (``j``), calls ``update`` every frame while it is shown, and pops it on Escape or ``j``.
The table's request messages (``JobTable.CancelRequested`` ...) bubble through this screen to the app, so
the app's ``on_job_table_*`` handlers receive them unchanged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.widgets.job_pane import format_age
from console.widgets.job_table import JobTable
from engine.jobs import JobView

__all__ = ["JobQueueScreen", "header_lines"]

STATE_ORDER = (
    "RUNNING", "CHECKPOINTING", "SUSPENDED", "PENDING", "PREEMPTED", "REQUEUED", "NODE_FAIL",
    "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT",
)
STATE_STYLES = {
    "RUNNING": "$text-success",
    "CHECKPOINTING": "$text-accent",
    "SUSPENDED": "$text-warning",
    "FAILED": "$text-error",
    "TIMEOUT": "$text-error",
    "NODE_FAIL": "$text-error",
}


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def header_lines(views: Sequence[JobView], metrics: Mapping[str, Any] | None) -> Content:
    """Two lines: jobs per state, then utilisation now, goodput and queue waits (p50/p95)."""
    if metrics is None and not views:
        return Content.assemble(("this mission runs a synthetic load (no jobs)", "$text-muted"))
    counts = Counter(view.state for view in views)
    parts: list[tuple[str, str] | str] = [(f"{len(views)} jobs", "bold")]
    for state in sorted(counts, key=lambda s: STATE_ORDER.index(s) if s in STATE_ORDER else len(STATE_ORDER)):
        parts += [(" · ", "$text-muted"), (f"{counts[state]} {state.lower()}", STATE_STYLES.get(state, ""))]
    held = sum(1 for view in views if view.state == "PENDING" and view.reason == "Held")
    if held:
        parts += [(" · ", "$text-muted"), (f"{held} held", "$text-warning")]
    metrics = metrics or {}
    parts += [
        "\n",
        ("GPUs in use ", "$text-muted"), _percent(metrics.get("utilization_now")),
        ("  goodput ", "$text-muted"), _percent(metrics.get("goodput")),
        ("  queue wait p50 ", "$text-muted"), format_age(metrics.get("queue_wait_p50_s")),
        ("  p95 ", "$text-muted"), format_age(metrics.get("queue_wait_p95_s")),
    ]
    return Content.assemble(*parts)


class JobQueueScreen(Screen[None]):
    """Every job of the fleet with the workload's headline numbers."""

    DEFAULT_CSS = """
    JobQueueScreen #job-queue-header {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    JobQueueScreen #job-table {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text-accent;
        border-subtitle-color: $text-muted;
    }
    JobQueueScreen #job-table:focus {
        border: round $accent;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,j", "close", "Close", key_display="esc", show=True),
    ]

    def __init__(
        self,
        views: Sequence[JobView] = (),
        metrics: Mapping[str, Any] | None = None,
        satellite_ids: Sequence[str] = (),
        time_s: float = 0.0,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._data: tuple[Sequence[JobView], Mapping[str, Any] | None, Sequence[str], float] = (views, metrics, satellite_ids, time_s)
        self._header: Content | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="job-queue-header")
        yield JobTable(id="job-table")
        yield Footer()

    def on_mount(self) -> None:
        self._apply()
        self.table.focus()

    @property
    def table(self) -> JobTable:
        return self.query_one("#job-table", JobTable)

    @property
    def header_text(self) -> str:
        """The header as plain text."""
        return self._header.plain if self._header is not None else ""

    def update(self, views: Sequence[JobView], metrics: Mapping[str, Any] | None, satellite_ids: Sequence[str], time_s: float) -> None:
        """Show the jobs (every job: ``sim.job_views(include_finished=True)``) and ``sim.workload_metrics()``
        at mission time `time_s`."""
        self._data = (views, metrics, satellite_ids, time_s)
        if self.is_mounted:
            self._apply()

    def _apply(self) -> None:
        views, metrics, satellite_ids, time_s = self._data
        header = header_lines(views, metrics)
        if self._header is None or header.plain != self._header.plain or header.spans != self._header.spans:
            self._header = header
            self.query_one("#job-queue-header", Static).update(header)
        self.table.update_jobs(views, satellite_ids, time_s)

    def action_close(self) -> None:
        self.dismiss(None)
