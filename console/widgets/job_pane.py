"""Job pane: the jobs on the selected satellite, one line each, with progress and checkpoint age.

The progress bar shows the checkpointed part of the work in green and the part a fault would roll back
in the accent colour.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from textual.content import Content

from console.detail import SatelliteView
from console.widgets.detail_pane import DetailPane
from engine.jobs import JobView

__all__ = ["JobPane", "STATE_SHORT", "STATE_STYLE", "format_age", "progress_bar"]

STATE_SHORT = {
    "PENDING": "PEND",
    "RUNNING": "RUN",
    "CHECKPOINTING": "CKPT",
    "SUSPENDED": "SUSP",
    "PREEMPTED": "PRMT",
    "REQUEUED": "REQ",
    "COMPLETED": "DONE",
    "FAILED": "FAIL",
    "CANCELLED": "CANC",
    "TIMEOUT": "TIME",
    "NODE_FAIL": "NODE",
}
"""Four-character job states for narrow panes."""

STATE_STYLE = {
    "RUNNING": "$text-success",
    "CHECKPOINTING": "$text-accent",
    "SUSPENDED": "$text-warning",
    "PREEMPTED": "$text-warning",
    "REQUEUED": "$text-warning",
    "FAILED": "$text-error bold",
    "TIMEOUT": "$text-error",
    "NODE_FAIL": "$text-error bold",
}
"""Span style of each job state (others are muted)."""

STATE_WIDTH = 4
GPUS_WIDTH = 6
PERCENT_WIDTH = 4
AGE_WIDTH = 5
MIN_ID_WIDTH = 6
MAX_ID_WIDTH = 12
MIN_BAR_WIDTH = 3
MAX_BAR_WIDTH = 20
FIXED_WIDTH = STATE_WIDTH + GPUS_WIDTH + PERCENT_WIDTH + AGE_WIDTH + 5
"""Everything on a job line but the id and the bar (with the five single-space gaps)."""


def format_age(seconds: float | None) -> str:
    """A short age in at most five characters: '45s', '12m', '3h05m', '2d04h'; '—' for None."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h" if days < 100 else f"{days}d"


class JobPane(DetailPane):
    """Jobs running, checkpointing or suspended on the selected satellite."""

    TITLE = "Jobs"

    def lines(self, view: SatelliteView, width: int) -> list[Content]:
        snap, i = view.snapshot, view.index
        if not snap.jobs_enabled:
            return [Content.assemble(("this mission runs a synthetic load (no jobs)", "$text-muted"))]
        present = snap.gpu_present[i].tolist()
        on_gpu = [job for job, here in zip(snap.gpu_job[i].tolist(), present) if here and job >= 0]
        here = Counter(snap.job_ids[job] for job in on_gpu)
        count = len(view.jobs)
        summary: list[tuple[str, str]] = [
            (f"{count} job{'s' if count != 1 else ''}", "bold"),
            (f" · {len(on_gpu)}/{sum(present)} GPUs busy", "$text-muted"),
        ]
        if bool(snap.drained[i]):
            summary.append((" · DRAINED", "$text-warning bold"))
        lines = [Content.assemble(*summary)]
        if not view.jobs:
            lines.append(Content.assemble(("no jobs on this satellite", "$text-muted")))
            return lines
        longest = max(len(job.id) for job in view.jobs)
        id_width = max(MIN_ID_WIDTH, min(longest, MAX_ID_WIDTH, width - FIXED_WIDTH - MIN_BAR_WIDTH))
        bar_width = min(width - FIXED_WIDTH - id_width, MAX_BAR_WIDTH)
        if bar_width < MIN_BAR_WIDTH:
            bar_width = 0
        header = f"{'job':<{id_width}} {'st':<{STATE_WIDTH}} {'gpus':>{GPUS_WIDTH}} "
        header += f"{'progress':<{bar_width + 1 + PERCENT_WIDTH}}" if bar_width else f"{'done':>{PERCENT_WIDTH}}"
        header += f" {'ckpt':>{AGE_WIDTH}}"
        lines.append(Content.assemble((header, "$text-muted bold")))
        for job in view.jobs:
            lines.append(self._job_line(job, here.get(job.id, 0), id_width, bar_width))
            where = checkpoint_line(job, snap.satellite_ids, width)
            if where is not None:
                lines.append(where)
        return lines

    @staticmethod
    def _job_line(job: JobView, gpus_here: int, id_width: int, bar_width: int) -> Content:
        ident = job.id if len(job.id) <= id_width else job.id[: id_width - 1] + "…"
        state = STATE_SHORT.get(job.state, job.state[:STATE_WIDTH])
        gpus = f"{gpus_here if gpus_here else '-'}/{job.gpus}"
        parts: list[tuple[str, str]] = [
            (f"{ident:<{id_width}} ", "$text-accent"),
            (f"{state:<{STATE_WIDTH}} ", STATE_STYLE.get(job.state, "$text-muted")),
            (f"{gpus:>{GPUS_WIDTH}} ", ""),
        ]
        if bar_width:
            parts += progress_bar(job.progress, job.checkpoint_progress, bar_width)
            parts.append((" ", ""))
        parts.append((f"{job.progress:>{PERCENT_WIDTH}.0%} ", ""))
        parts.append((f"{format_age(job.checkpoint_age_s):>{AGE_WIDTH}}", "$text-muted" if job.checkpoint_age_s is None else ""))
        return Content.assemble(*parts)


SHOWN_HOLDERS = 2
"""Satellites named on a job's checkpoint line (the rest are counted)."""


def checkpoint_line(job: JobView, satellite_ids: Sequence[str], width: int) -> Content | None:
    """Under a job that checkpoints over the network: where its last checkpoint is, or why the one due
    waits, cut to ``width`` (None for local checkpoints that are not waiting)."""
    if job.checkpoint_blocked:
        why = job.checkpoint_blocked
        if len(why) > width - 4:
            why = why[: max(width - 5, 0)] + "…"
        return Content.assemble(("  ⚠ ", "$text-warning"), (why, "$text-warning"))
    if job.checkpoint_target == "local":
        return None
    if job.checkpoint_age_s is None:
        return Content.assemble((f"  ckpt to {job.checkpoint_target}: none yet", "$text-muted"))
    if job.checkpoint_holders:
        holders = sorted(set(job.checkpoint_holders))
        held = ", ".join(satellite_ids[s] for s in holders[:SHOWN_HOLDERS])
        if len(holders) > SHOWN_HOLDERS:
            held += f" +{len(holders) - SHOWN_HOLDERS}"
        return Content.assemble(("  ckpt on ", "$text-muted"), (held, "$text-accent"))
    return Content.assemble(("  ckpt on the ground", "$text-muted"))


def progress_bar(progress: float, saved: float, width: int) -> list[tuple[str, str]]:
    """A bar `width` cells long: checkpointed work, then work since the checkpoint, then what is left."""
    done = max(0, min(width, round(progress * width)))
    kept = max(0, min(done, round(saved * width)))
    return [("█" * kept, "$text-success"), ("█" * (done - kept), "$text-accent"), ("░" * (width - done), "$text-muted")]
