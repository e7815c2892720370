"""Command-palette entries that name their target: "Select satellite A-03-07", "Cancel job LLM-70B",
"Inject fault on A-01-02…", "Clear fault F-0003 (GPU failure on A-01-02 GPU 1)".

The app's key bindings are in the palette already (``MissionControlApp.get_system_commands``); this
provider adds what a key cannot name: a satellite to select and the commands that apply to each unfinished
job, in that job's current state (only pending jobs can be held, only held ones released, only running or
suspended ones requeued), the instructor's fault entries (inject on the selected satellite, show the
active faults, clear each active fault: not offered per fault when the mission hides faults from
operators). Each entry runs the same flow as the key (confirmation included).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import Hit, Hits, Provider

from console.widgets.job_table import REQUEUEABLE_STATES, is_held
from engine.jobs import JobView

if TYPE_CHECKING:
    from console.app import MissionControlApp

__all__ = ["TargetedCommands", "fault_commands", "job_commands", "servicing_commands"]

MAX_SATELLITE_HITS = 50
"""Satellite entries offered for one query (a mega-constellation has tens of thousands)."""


def job_commands(app: MissionControlApp, job: JobView) -> list[tuple[str, str, Callable[[], None]]]:
    """(title, help, callback) for every command that applies to `job` now."""
    state = job.state
    entries = [(f"Cancel job {job.id}", f"{job.name or job.id}: {state.lower()}, {job.progress:.0%} done; asks first", partial(app.cancel_job, job))]
    if is_held(job):
        entries.append((f"Release job {job.id}", "Let the held job be scheduled again", partial(app.release_job, job)))
    elif state == "PENDING":
        entries.append((f"Hold job {job.id}", "Keep the pending job from starting until released", partial(app.hold_job, job)))
    if state in REQUEUEABLE_STATES:
        entries.append((f"Requeue job {job.id}", "Stop it and queue it again from its last checkpoint; asks first", partial(app.requeue_job, job)))
    entries.append((f"Set priority of job {job.id}", f"Now {job.priority:.0f}; a fixed value replaces the computed one", partial(app.ask_priority, job)))
    return entries


def fault_commands(app: MissionControlApp, faults) -> list[tuple[str, str, Callable[[], object]]]:
    """(title, help, callback) for the instructor's fault entries (`faults`: the active ones to offer)."""
    where = f"on {app.selected_id}" if app.selected_id else "(no satellite selected)"
    entries: list[tuple[str, str, Callable[[], object]]] = [
        (f"Inject fault {where}…", "Instructor: choose a fault, its target, parameters and duration; asks first",
         partial(app.run_action, "inject_fault")),
        ("Show faults", "Instructor: the active faults, with clearing", partial(app.run_action, "fault_list")),
    ]
    for fault in faults:
        entries.append((f"Clear fault {fault.id} ({fault.title} on {fault.target})",
                        f"Instructor: end it now ({fault.source}); asks first", partial(app.ask_clear_fault, fault)))
    return entries


def servicing_commands(app: MissionControlApp, missions) -> list[tuple[str, str, Callable[[], object]]]:
    """(title, help, callback) for servicing: dispatch to the selected satellite, the servicing screen,
    abort each active mission, maintenance on the selected satellite."""
    where = app.selected_id or "(no satellite selected)"
    entries: list[tuple[str, str, Callable[[], object]]] = [
        (f"Dispatch a servicer to {where}…", "Choose the vehicle and parts, see its plan (ETA, Δv, risk, cost); asks first",
         partial(app.dispatch_servicer)),
        ("Show servicing", "Vehicles and missions with their phase timelines", partial(app.run_action, "servicing")),
        (f"Maintenance on/off for {where}", "Maintenance shelves its alarms with a reason; a servicer docks only then",
         partial(app.run_action, "maintenance")),
    ]
    for mission in missions:
        entries.append((f"Abort servicing {mission.mission_id} ({mission.servicer_id} → {app.driver.sim.satellite_ids[mission.target]})",
                        "The vehicle backs off (undocks first if docked); asks first", partial(app.abort_servicing, mission)))
    return entries


class TargetedCommands(Provider):
    """Satellites to select and per-job commands, matched fuzzily against what the operator types."""

    async def startup(self) -> None:
        app: MissionControlApp = self.app  # type: ignore[assignment]
        self._satellites = app.driver.sim.satellite_ids
        self._jobs = app.driver.job_views(include_finished=False)
        self._faults = () if app.driver.hide_faults else tuple(app.driver.active_faults())
        self._missions = tuple(m for m in app.driver.servicing_missions() if m.status.value == "active")
        self._servicing = bool(app.driver.servicers())

    def _entries(self, query: str):
        app: MissionControlApp = self.app  # type: ignore[assignment]
        lowered = query.lower()
        words = lowered.split()
        sat_hits = 0
        for satellite in self._satellites:
            if sat_hits < MAX_SATELLITE_HITS and any(word in satellite.lower() for word in words):
                sat_hits += 1
                yield f"Select satellite {satellite}", "Show it in the satellite detail and on the map", partial(app.select_satellite, satellite)
        for job in self._jobs:
            if any(word in job.id.lower() or word in job.name.lower() for word in words) or "job" in words:
                yield from job_commands(app, job)
        yield from fault_commands(app, self._faults)
        if self._servicing:
            yield from servicing_commands(app, self._missions)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._entries(query):
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
