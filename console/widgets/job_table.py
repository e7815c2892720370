"""The fleet-wide job queue: every job (or a filtered set), running first, then pending by priority,
then finished newest first, with keys to cancel, hold, release, requeue and re-prioritise.

The table never changes a job itself: its keys post request messages carrying the job's view, which the
app turns into engine commands (``CancelJob``, ``HoldJob``, ``ReleaseJob``, ``RequeueJob``,
``SetJobPriority``), usually after a ``ConfirmScreen`` or ``NumberInputScreen``. A key that does not
apply to the cursor job rings the bell and says why, posting nothing.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive

from console.widgets.job_pane import format_age
from console.widgets.line_table import Column, LineTable, Row
from engine.jobs import JobView

__all__ = [
    "FINISHED_STATES",
    "JOB_FILTERS",
    "JobTable",
    "cancel_consequence",
    "format_satellites",
    "requeue_consequence",
    "unsaved_gpu_hours",
]

FINISHED_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"})
RUNNING_STATES = frozenset({"RUNNING", "CHECKPOINTING", "SUSPENDED"})
PENDING_STATES = frozenset({"PENDING", "REQUEUED"})
REQUEUEABLE_STATES = frozenset({"RUNNING", "CHECKPOINTING", "SUSPENDED"})

JOB_FILTERS: tuple[str, ...] = ("all", "active", "pending", "running", "finished")
"""The filters ``f`` cycles through, in order; "active" is every job that has not finished."""

STATE_LABELS = {"CHECKPOINTING": "CHECKPOINT"}
KIND_LABELS = {"training": "train", "inference": "infer"}
BAR_CELLS = 5
BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def _shown(state: str, job_filter: str) -> bool:
    if job_filter == "active":
        return state not in FINISHED_STATES
    if job_filter == "pending":
        return state in PENDING_STATES
    if job_filter == "running":
        return state in RUNNING_STATES
    if job_filter == "finished":
        return state in FINISHED_STATES
    return True


def _order(job: JobView) -> tuple[int, float, float]:
    """Running (and suspended) first in submission order, then pending by priority, then finished newest first."""
    if job.state in RUNNING_STATES:
        return (0, job.submit_s, 0.0)
    if job.state in FINISHED_STATES:
        return (3, -(job.end_s if job.end_s is not None else job.submit_s), 0.0)
    if job.state in PENDING_STATES:
        return (2, -job.priority, job.submit_s)
    return (1, job.submit_s, 0.0)  # in transition: preempted, node failure


def is_held(job: JobView) -> bool:
    return job.state == "PENDING" and job.reason == "Held"


def format_satellites(indices: Sequence[int], satellite_ids: Sequence[str], width: int = 12) -> str:
    """Satellite ids by index: 'A-01-01', 'A-01-01,A-01-02', or 'A-01-01 +7' when they do not fit."""
    if not indices:
        return "—"
    ids = [satellite_ids[i] if 0 <= i < len(satellite_ids) else f"#{i}" for i in indices]
    joined = ",".join(ids)
    if len(joined) <= width or len(ids) == 1:
        return joined
    return f"{ids[0]} +{len(ids) - 1}"


def format_progress(progress: float) -> str:
    """A five-cell bar in eighths and the percentage: '██▌   50%'."""
    eighths = max(0, min(BAR_CELLS * 8, round(progress * BAR_CELLS * 8)))
    full, part = divmod(eighths, 8)
    bar = "█" * full + (BAR_EIGHTHS[part] if full < BAR_CELLS else "")
    return f"{bar:<{BAR_CELLS}} {progress:>4.0%}"


def format_priority(priority: float) -> str:
    if not math.isfinite(priority):
        return "—"
    return f"{priority:.0f}" if abs(priority) >= 100 else f"{priority:.3g}"


def unsaved_gpu_hours(job: JobView, time_s: float) -> float | None:
    """GPU-hours since the job's last checkpoint (or its start) if it is on GPUs now; None otherwise."""
    if job.state not in ("RUNNING", "CHECKPOINTING") or job.start_s is None:
        return None
    since_s = time_s - job.start_s
    if job.checkpoint_age_s is not None:
        since_s = min(since_s, job.checkpoint_age_s)
    return max(since_s, 0.0) * job.gpus / 3600.0


def _unsaved_text(job: JobView, time_s: float) -> str:
    fraction = max(job.progress - job.checkpoint_progress, 0.0)
    hours = unsaved_gpu_hours(job, time_s)
    if fraction <= 0.0 and not hours:
        return "It has no unsaved work."
    amount = f"{hours:.1f} GPU-h" if hours is not None else f"{fraction:.0%} of the job"
    saved = "its last checkpoint" if job.checkpoint_age_s is not None else "its start"
    return f"Its {amount} of unsaved work since {saved} is lost."


def cancel_consequence(job: JobView, time_s: float) -> str:
    """The consequence text for a ``ConfirmScreen`` before cancelling a job."""
    text = f"Cancel job {job.id} ({job.state.lower()}, {job.progress:.0%} done)? "
    if job.state == "PENDING":
        return text + "It leaves the queue and will not run."
    return text + _unsaved_text(job, time_s)


def requeue_consequence(job: JobView, time_s: float) -> str:
    """The consequence text for a ``ConfirmScreen`` before requeueing a job."""
    restart = f"it restarts from its checkpoint at {job.checkpoint_progress:.0%}" if job.checkpoint_age_s is not None else "it restarts from the beginning"
    return f"Requeue job {job.id}? It leaves its {job.gpus} GPUs and {restart}. " + _unsaved_text(job, time_s)


class JobTable(LineTable):
    """Jobs across the fleet; ``f`` cycles the filter (all, active, pending, running, finished)."""

    COLUMNS = (
        Column("id", 8),
        Column("state", 10),
        Column("reason", 13),
        Column("GPUs", 4, ">"),
        Column("progress", 10),
        Column("ckpt", 5, ">"),
        Column("wait", 5, ">"),
        Column("satellites", 12),
        Column("rst", 3, ">"),
        Column("priority", 8, ">"),
        Column("name", 10),
        Column("kind", 5),
        Column("partition", 9),
    )
    """What an operator needs first comes first: an 80-column terminal shows id through satellites."""

    COMPONENT_CLASSES = {
        "job-table--running",
        "job-table--checkpointing",
        "job-table--suspended",
        "job-table--pending",
        "job-table--held",
        "job-table--transit",
        "job-table--done",
        "job-table--failed",
    }

    DEFAULT_CSS = """
    JobTable > .job-table--running { color: $text-success; }
    JobTable > .job-table--checkpointing { color: $text-accent; }
    JobTable > .job-table--suspended { color: $text-warning; }
    JobTable > .job-table--pending { color: $text; }
    JobTable > .job-table--held { color: $text-warning; text-style: italic; }
    JobTable > .job-table--transit { color: $text-warning; }
    JobTable > .job-table--done { color: $text-muted; }
    JobTable > .job-table--failed { color: $text-error; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "cycle_filter", "Filter", show=True),
        Binding("c", "cancel_job", "Cancel job", show=True),
        Binding("h", "hold_job", "Hold", show=True),
        Binding("l", "release_job", "Release", show=True),
        Binding("q", "requeue_job", "Requeue", show=True),
        Binding("p", "set_priority", "Priority", show=True),
    ]

    class JobRequest(Message):
        """Base of the table's requests: the operator asked for something to happen to a job."""

        def __init__(self, table: JobTable, job: JobView) -> None:
            self.table = table
            self.job = job
            super().__init__()

        @property
        def job_id(self) -> str:
            return self.job.id

        @property
        def control(self) -> JobTable:
            return self.table

    class CancelRequested(JobRequest):
        """Cancel the job (the app should confirm first: ``cancel_consequence``)."""

    class HoldRequested(JobRequest):
        """Hold the pending job."""

    class ReleaseRequested(JobRequest):
        """Release the held job."""

    class RequeueRequested(JobRequest):
        """Requeue the running or suspended job from its last checkpoint."""

    class PriorityRequested(JobRequest):
        """Set the job's priority (the app asks for the value: ``NumberInputScreen``)."""

    job_filter: reactive[str] = reactive("active")
    """One of ``JOB_FILTERS``."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._jobs: list[JobView] = []
        self._satellite_ids: tuple[str, ...] = ()
        self._time_s = 0.0
        self._shown: list[JobView] = []
        self._index: dict[Hashable, int] = {}

    # ------------------------------------------------------------------------------------------ data

    def update_jobs(self, views: Sequence[JobView], satellite_ids: Sequence[str], time_s: float) -> None:
        """Take every job (``sim.job_views(include_finished=True)``) at mission time `time_s`;
        `satellite_ids` (the snapshot's) name the satellite indices of each job."""
        self._jobs = list(views)
        self._satellite_ids = tuple(satellite_ids)
        self._time_s = time_s
        self._rebuild()

    @property
    def time_s(self) -> float:
        return self._time_s

    @property
    def jobs(self) -> list[JobView]:
        """Every job last given, in submission order."""
        return list(self._jobs)

    def shown_jobs(self) -> list[JobView]:
        """The jobs the filter lets through, in display order."""
        return list(self._shown)

    @property
    def cursor_job(self) -> JobView | None:
        index = self.cursor_index
        return self._shown[index] if 0 <= index < len(self._shown) else None

    @property
    def cursor_job_id(self) -> str | None:
        job = self.cursor_job
        return job.id if job is not None else None

    def validate_job_filter(self, value: str) -> str:
        if value not in JOB_FILTERS:
            raise ValueError(f"unknown job filter {value!r}; expected one of {', '.join(JOB_FILTERS)}")
        return value

    def watch_job_filter(self) -> None:
        self._rebuild()

    def empty_text(self) -> str:
        if not self._jobs:
            return "no jobs submitted yet"
        return f"no {self.job_filter} jobs · f: next filter" if self.job_filter != "all" else "no jobs"

    def _rebuild(self) -> None:
        job_filter = self.job_filter
        self._shown = sorted((job for job in self._jobs if _shown(job.state, job_filter)), key=_order)
        self._index = {job.id: index for index, job in enumerate(self._shown)}
        self.border_title = f"Jobs · {job_filter} ({len(self._shown)} of {len(self._jobs)})"
        self.border_subtitle = "f: " + " / ".join(name.upper() if name == job_filter else name for name in JOB_FILTERS)
        self.rows_changed()

    # Rows are formatted only when drawn (a day of generated jobs runs into thousands).

    @property
    def row_count(self) -> int:
        return len(self._shown)

    def row_at(self, index: int) -> Row:
        return self._row(self._shown[index])

    def key_at(self, index: int) -> Hashable:
        return self._shown[index].id

    def index_of_key(self, key: Hashable) -> int | None:
        return self._index.get(key)

    def _row(self, job: JobView) -> Row:
        cells = (
            job.id,
            STATE_LABELS.get(job.state, job.state),
            job.reason if job.reason and job.reason != "None" else job.checkpoint_blocked,
            str(job.gpus),
            format_progress(job.progress),
            format_age(job.checkpoint_age_s),
            format_age(job.wait_s),
            format_satellites(job.satellites, self._satellite_ids),
            str(job.restarts),
            format_priority(job.priority),
            job.name,
            KIND_LABELS.get(job.kind, job.kind),
            job.partition,
        )
        return Row(job.id, cells, _style_class(job))

    # --------------------------------------------------------------------------------------- actions

    def action_cycle_filter(self) -> None:
        self.job_filter = JOB_FILTERS[(JOB_FILTERS.index(self.job_filter) + 1) % len(JOB_FILTERS)]

    def _refuse(self, reason: str) -> None:
        self.app.bell()
        self.notify(reason, severity="warning", timeout=3)

    def _unfinished_cursor_job(self) -> JobView | None:
        job = self.cursor_job
        if job is None:
            self._refuse("no job selected")
            return None
        if job.state in FINISHED_STATES:
            self._refuse(f"job {job.id} has already finished ({job.state})")
            return None
        return job

    def action_cancel_job(self) -> None:
        job = self._unfinished_cursor_job()
        if job is not None:
            self.post_message(self.CancelRequested(self, job))

    def action_hold_job(self) -> None:
        job = self._unfinished_cursor_job()
        if job is None:
            return
        if is_held(job):
            self._refuse(f"job {job.id} is already held")
        elif job.state != "PENDING":
            self._refuse(f"job {job.id} is {job.state}; only pending jobs can be held (requeue it first)")
        else:
            self.post_message(self.HoldRequested(self, job))

    def action_release_job(self) -> None:
        job = self._unfinished_cursor_job()
        if job is None:
            return
        if not is_held(job):
            self._refuse(f"job {job.id} is not held")
        else:
            self.post_message(self.ReleaseRequested(self, job))

    def action_requeue_job(self) -> None:
        job = self._unfinished_cursor_job()
        if job is None:
            return
        if job.state not in REQUEUEABLE_STATES:
            self._refuse(f"job {job.id} is {job.state}; only running or suspended jobs can be requeued")
        else:
            self.post_message(self.RequeueRequested(self, job))

    def action_set_priority(self) -> None:
        job = self._unfinished_cursor_job()
        if job is not None:
            self.post_message(self.PriorityRequested(self, job))


def _style_class(job: JobView) -> str:
    state = job.state
    if state == "RUNNING":
        return "job-table--running"
    if state == "CHECKPOINTING":
        return "job-table--checkpointing"
    if state == "SUSPENDED":
        return "job-table--suspended"
    if state == "PENDING":
        return "job-table--held" if is_held(job) else "job-table--pending"
    if state in ("FAILED", "TIMEOUT"):
        return "job-table--failed"
    if state in FINISHED_STATES:
        return "job-table--done"
    return "job-table--transit"
