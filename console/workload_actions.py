"""The operator's job, drain and GPU commands: keys and palette entries -> dialogs -> engine commands.

A mixin of ``MissionControlApp``. Each flow asks what it needs (a GPU index, a power cap, a priority),
states the consequence of anything hazardous (cancel, requeue, drain, GPU reset or power-off) behind a
``ConfirmScreen`` whose default answer is No, and then applies exactly one engine command through the
driver. The engine validates it again and may refuse it (the refusal is shown with its reason and nothing
changes); every applied command is logged as an event by the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from console.screens.confirm import ConfirmScreen
from console.screens.job_queue import JobQueueScreen
from console.screens.number_input import NumberInputScreen
from console.widgets.job_table import JobTable, cancel_consequence, requeue_consequence
from engine.commands import (
    CancelJob,
    DrainSatellite,
    HoldJob,
    ReleaseJob,
    RequeueJob,
    ResetGpu,
    SetGpuPower,
    SetGpuPowerCap,
    SetJobPriority,
    UndrainSatellite,
)
from engine.gpu_health import GpuHealthState
from engine.jobs import JobView

if TYPE_CHECKING:
    from console.app import MissionControlApp

__all__ = ["WorkloadActions", "NO_JOBS_TEXT", "PRIORITY_MAX"]

NO_JOBS_TEXT = "this mission runs a synthetic load (no jobs)"
PRIORITY_MAX = 1e9
"""Highest priority the dialog offers (the engine takes any number >= 0)."""


class WorkloadActions:
    """Actions and message handlers for jobs, drains and GPUs (mixed into the app)."""

    job_queue: JobQueueScreen | None = None
    """The job queue screen while it is open (the app refreshes it every slow-pane frame)."""

    # ------------------------------------------------------------------------------------ job queue

    def action_job_queue(self: MissionControlApp) -> None:
        if self.job_queue is not None:
            self.job_queue.dismiss(None)
            return
        if not self.driver.jobs_enabled:
            self.notify(NO_JOBS_TEXT, severity="warning")
            return
        screen = JobQueueScreen()

        def closed(_: None) -> None:
            self.job_queue = None

        self.job_queue = screen
        self.push_screen(screen, closed)
        self.refresh_now()
        self._walk("open:jobs")

    def on_job_table_cancel_requested(self: MissionControlApp, message: JobTable.CancelRequested) -> None:
        self.cancel_job(message.job)

    def on_job_table_hold_requested(self: MissionControlApp, message: JobTable.HoldRequested) -> None:
        self.hold_job(message.job)

    def on_job_table_release_requested(self: MissionControlApp, message: JobTable.ReleaseRequested) -> None:
        self.release_job(message.job)

    def on_job_table_requeue_requested(self: MissionControlApp, message: JobTable.RequeueRequested) -> None:
        self.requeue_job(message.job)

    def on_job_table_priority_requested(self: MissionControlApp, message: JobTable.PriorityRequested) -> None:
        self.ask_priority(message.job)

    # The job flows, shared by the job table's keys and the command palette.

    def cancel_job(self: MissionControlApp, job: JobView) -> None:
        self._confirm(f"Cancel job {job.id}", cancel_consequence(job, self.driver.sim.time_s), CancelJob(job.id), confirm_label="Cancel job", decline_label="Keep it")

    def hold_job(self: MissionControlApp, job: JobView) -> None:
        self._send(HoldJob(job.id), f"job {job.id} held")

    def release_job(self: MissionControlApp, job: JobView) -> None:
        self._send(ReleaseJob(job.id), f"job {job.id} released")

    def requeue_job(self: MissionControlApp, job: JobView) -> None:
        self._confirm(f"Requeue job {job.id}", requeue_consequence(job, self.driver.sim.time_s), RequeueJob(job.id), confirm_label="Requeue")

    def ask_priority(self: MissionControlApp, job: JobView) -> None:
        def answer(value: float | None) -> None:
            if value is not None:
                self._send(SetJobPriority(job.id, value), f"job {job.id} priority {value:g}")

        dialog = NumberInputScreen(f"Priority of job {job.id} (now {job.priority:.0f})", minimum=0, maximum=PRIORITY_MAX, value=round(job.priority))
        self.push_screen(dialog, answer)

    # ---------------------------------------------------------------------------------- satellites

    def action_drain(self: MissionControlApp) -> None:
        satellite = self._selected_for_command()
        if satellite is None:
            return
        if not self.driver.jobs_enabled:
            self.notify(NO_JOBS_TEXT + ": nothing to drain", severity="warning")
            return
        snapshot = self.driver.snapshot()
        index = snapshot.index_of(satellite)
        if bool(snapshot.drained[index]):
            self._send(UndrainSatellite(satellite), f"{satellite} back in service")
            return
        jobs = self.driver.satellite_jobs(satellite)
        running = [job.id for job in jobs]
        if running:
            names = ", ".join(running[:4]) + (f" and {len(running) - 4} more" if len(running) > 4 else "")
            text = f"Drain {satellite}? It takes no new work; its {len(running)} job{'s' if len(running) != 1 else ''} ({names}) checkpoint and move to other satellites."
        else:
            text = f"Drain {satellite}? It takes no new work (no job runs on it now)."
        self._confirm(f"Drain {satellite}", text + " Press d again to return it to service.", DrainSatellite(satellite), confirm_label="Drain")

    def action_reset_gpu(self: MissionControlApp) -> None:
        self._ask_gpu("reset", self._confirm_reset)

    def action_gpu_power(self: MissionControlApp) -> None:
        self._ask_gpu("switch off or on", self._confirm_power)

    def action_power_cap(self: MissionControlApp) -> None:
        satellite = self._selected_for_command()
        if satellite is None:
            return
        floor_w, tdp_w = self.driver.gpu_power_cap_range_w(satellite)
        snapshot = self.driver.snapshot()
        current = float(snapshot.gpu_power_cap_w[snapshot.index_of(satellite)])
        capped = current == current  # not NaN

        def answer(watts: float | None) -> None:
            if watts is None and not capped:
                return  # empty answer with no cap to lift: nothing to do
            done = f"{satellite} GPU power cap lifted" if watts is None else f"{satellite} GPUs capped at {watts:.0f} W"
            self._send(SetGpuPowerCap(satellite, watts), done)

        title = f"GPU power cap for {satellite}" + (f" (now {current:.0f} W)" if capped else " (none now)")
        dialog = NumberInputScreen(title, minimum=round(floor_w, 1), maximum=tdp_w, unit="W", value=current if capped else None, allow_clear=capped, clear_text="lift the cap")
        self.push_screen(dialog, answer)

    # ------------------------------------------------------------------------------------- helpers

    def _selected_for_command(self: MissionControlApp) -> str | None:
        if self.selected_id is None:
            self.notify("select a satellite first", severity="warning")
        return self.selected_id

    def _ask_gpu(self: MissionControlApp, verb: str, then: Callable[[str, int], None]) -> None:
        satellite = self._selected_for_command()
        if satellite is None:
            return
        snapshot = self.driver.snapshot()
        present = snapshot.gpu_present[snapshot.index_of(satellite)]
        count = int(present.sum())
        if count == 0:
            self.notify(f"{satellite} has no GPUs", severity="warning")
            return
        if count == 1:
            then(satellite, 0)
            return

        def answer(gpu: float | None) -> None:
            if gpu is not None:
                then(satellite, int(gpu))

        self.push_screen(NumberInputScreen(f"Which GPU of {satellite} to {verb}?", minimum=0, maximum=count - 1, integer=True), answer)

    def _gpu_job_text(self: MissionControlApp, satellite: str, gpu: int) -> str:
        snapshot = self.driver.snapshot()
        job = int(snapshot.gpu_job[snapshot.index_of(satellite), gpu])
        if job < 0:
            return "No job runs on it."
        return f"Job {snapshot.job_ids[job]} on it dies and requeues from its last checkpoint."

    def _gpu_state(self: MissionControlApp, satellite: str, gpu: int) -> GpuHealthState:
        snapshot = self.driver.snapshot()
        return GpuHealthState(int(snapshot.gpu_health[snapshot.index_of(satellite), gpu]))

    def _confirm_reset(self: MissionControlApp, satellite: str, gpu: int) -> None:
        state = self._gpu_state(satellite, gpu)
        if state in (GpuHealthState.FAILED, GpuHealthState.OFF, GpuHealthState.RESETTING):
            self._send(ResetGpu(satellite, gpu), "")  # refused by the engine with its reason
            return
        reset_min = self.driver.gpu_reset_s() / 60.0
        text = f"Reset GPU {gpu} of {satellite} ({state.name})? It is down for {reset_min:.0f} min. " + self._gpu_job_text(satellite, gpu)
        self._confirm(f"Reset GPU {gpu} of {satellite}", text, ResetGpu(satellite, gpu), confirm_label="Reset")

    def _confirm_power(self: MissionControlApp, satellite: str, gpu: int) -> None:
        state = self._gpu_state(satellite, gpu)
        if state == GpuHealthState.OFF:
            self._send(SetGpuPower(satellite, gpu, on=True), f"{satellite} GPU {gpu} powering on")
            return
        if state == GpuHealthState.FAILED:
            self._send(SetGpuPower(satellite, gpu, on=False), "")  # refused by the engine with its reason
            return
        text = f"Power off GPU {gpu} of {satellite} ({state.name})? It stays off until you power it on again (o, GPU {gpu}). " + self._gpu_job_text(satellite, gpu)
        self._confirm(f"Power off GPU {gpu} of {satellite}", text, SetGpuPower(satellite, gpu, on=False), confirm_label="Power off")

    def _confirm(self: MissionControlApp, title: str, text: str, command, *, confirm_label: str = "Yes", decline_label: str = "No") -> None:
        def answer(yes: bool | None) -> None:
            if yes:
                self._send(command, "")
            else:
                self._note(f"operator: declined: {title[:1].lower()}{title[1:]}")

        self.push_screen(ConfirmScreen(title, text, confirm_label=confirm_label, decline_label=decline_label), answer)

    def _send(self: MissionControlApp, command, done: str) -> bool:
        """Apply one command; on success say `done` briefly (or that it waits for contact) and redraw now."""
        queued_before = len(self.driver.pending_commands())
        if not self._apply_command(command):
            return False
        pending = self.driver.pending_commands()
        if len(pending) > queued_before:
            self.notify(f"{pending[-1].description}: queued until {' or '.join(pending[-1].satellites)} has a route to the ground",
                        title="Waiting for contact", timeout=5)
        elif done:
            self.notify(done, timeout=3)
        self.refresh_now()
        return True
