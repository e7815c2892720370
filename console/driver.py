"""The driver: the one owner of the simulation in the console. It turns wall-clock time into engine steps.

The console asks it to ``advance(wall_dt_s)`` once per frame (tests call it with explicit values: no
timers inside). Pause, speed and "run until the next event of a kind" live here, not in the engine,
which has no wall clock. Each frame does at most a bounded amount of stepping, so at high speed the
screen keeps refreshing and keys are handled between frames; if the engine cannot keep up, simulated
time simply runs slower than asked and the frame says so (``lagging``).

Snapshots and alarms are the ground's view: a satellite without a route to the ground shows the telemetry
it last sent (with its age), and alarms it raised since then appear when its telemetry next arrives.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from engine import Event, EventKind, FleetSnapshot, Pass, Simulation
from engine.alarms import Alarm
from engine.archive import ArchiveWriter
from engine.commands import ClearFault, Command, CommandError, InjectFault
from engine.checkpoints import Checkpoints
from engine.replay import Mismatch, RecordingCheck, Replayer
from engine.gpu_health import GpuHealthState
from engine.isl_links import LinkState
from engine.servicing import MissionView, ServicerView, ServicingPlan
from engine.servicing_control import Maintenance
from console.screens.mission import MissionPanel
from console.widgets.step_prompt import StepLine
from engine.fault_catalogue import CATALOGUE, FaultKind, FaultType
from engine.faults import Fault, FaultRequest
from engine.history import SatelliteHistory
from engine.jobs import JobView
from engine.tracks import GroundTrackPath, SunlightForecast

SEEK_LIMIT_S = 2 * 86400.0
"""A seek that finds nothing within this much mission time gives up (and pauses) instead of running forever."""

SPEEDS: tuple[float, ...] = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 3000, 6000, 10000, math.inf)
"""Selectable speeds in simulated seconds per wall second; inf runs as fast as the frame budget allows."""

CHECKPOINT_WALL_SHARE = 0.05
"""Rewind checkpoints take at most about this share of wall time: after a copy that took c seconds the next
waits at least c / share (a 10,000-satellite copy takes 0.2 s to a second or more, growing with the job table)."""


class FrameLock:
    """The driver's re-entrant lock, which also tells a frame in progress that another thread is waiting
    for it, or wants its result soon (``contended``): the frame then stops after its current engine step,
    so an operator's key waits at most one step (about 30 ms at 10,000 satellites) rather than a whole
    frame's stepping."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._count = threading.Lock()
        self._waiting = 0
        self._interrupted = False

    @property
    def contended(self) -> bool:
        """Some thread is blocked waiting for the lock, or asked the frame in progress to end (``interrupt``)."""
        return self._waiting > 0 or self._interrupted

    def interrupt(self) -> None:
        """Ask the frame in progress to end after its current step, without waiting for it."""
        self._interrupted = True

    def clear_interrupt(self) -> None:
        self._interrupted = False

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(blocking=False):  # free, or already ours (re-entrant): no one waits
            return True
        if not blocking:
            return False
        with self._count:
            self._waiting += 1
        try:
            return self._lock.acquire(timeout=timeout)
        finally:
            with self._count:
                self._waiting -= 1

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> FrameLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass(frozen=True)
class Frame:
    """What one ``advance`` produced: the newest snapshot and every event since the previous frame."""

    snapshot: FleetSnapshot
    events: tuple[Event, ...]
    steps: int
    paused: bool
    speed: float
    lagging: bool
    """True when the step budget ran out before simulated time caught up with the requested speed."""
    seeking: EventKind | None = None
    found: Event | None = None
    """The event a seek stopped on (the driver pauses there)."""
    seek_gave_up: bool = False
    """The seek ran SEEK_LIMIT_S of mission time without finding its event and paused."""
    reached_end: bool = False
    """This frame stopped at the mission's planned end and paused (once; running on continues past it)."""
    directives: tuple = ()
    """Timeline directives since the previous frame (``engine.timeline_actions.Directive``): the driver has
    already paused or changed speed for them; the app shows captions and moves the view."""


@dataclass
class Driver:
    """Pause/resume, single step, speed and seek over one Simulation.

    Thread-safe: every call that touches the simulation holds one lock, so the console may step in a worker
    thread while the UI thread applies an operator command (it waits at most one frame's work).
    """

    sim: Simulation
    speed_index: int = SPEEDS.index(60)
    paused: bool = True
    max_steps_per_frame: int = 2000
    max_frame_work_s: float = 0.05
    """Wall time one frame may spend stepping; keeps the UI responsive at any speed. A frame does at least
    one step, and does not start a step that the last step's cost says would overrun the budget."""
    frame_work_s: float = 0.05
    """The budget while running at a chosen speed (``max_frame_work_s`` still applies when lower): the
    console sets it to a share of its frame period, so a fleet whose steps cannot keep up with the speed
    still gets its frames at about the rate a small fleet does (one 10,000-satellite step per frame rather
    than two), for nearly the same simulated time per wall second. Seeks and MAX speed use the whole
    ``max_frame_work_s``: there the operator wants the engine's throughput."""
    end_s: float | None = None
    """The mission's planned end: running stops and pauses there once (None: never)."""
    _end_reached: bool = False
    _debt_s: float = 0.0
    _seeking: EventKind | None = None
    _seek_satellite: str | None = None
    _seek_started_s: float = 0.0
    _pending: list[Event] = field(default_factory=list)
    _directives: list = field(default_factory=list)
    lock: FrameLock = field(default_factory=FrameLock, repr=False)
    archive: ArchiveWriter | None = None
    """Records the run as it goes (``engine.archive``): every step, the events drained, the journal."""
    replayer: Replayer | None = None
    """A replay: steps follow the recorded journal (``engine.replay``), and operator commands are refused."""
    recording_check: RecordingCheck | None = None
    """In a replay: compares each recorded sample with the re-run."""
    recorded_journal: tuple = ()
    """In a replay: the whole recorded journal (a rewind resumes it from the step it goes back to)."""
    replay_mismatch: Mismatch | None = None
    """The first place the re-run differed from the recording (the replay pauses there)."""
    checkpoints: Checkpoints | None = None
    """Copies of the engine state every so often, to rewind to (``engine.checkpoints``)."""
    checkpoint_min_wall_s: float = 2.0
    """At most one checkpoint per this much wall time, and at most ``CHECKPOINT_WALL_SHARE`` of wall time
    spent copying (a copy costs tens of ms for a small fleet, 0.2 s to a second or more at 10,000 satellites)."""
    _pause_unsettled: bool = False
    """Paused while a frame was stepping in another thread: that frame ends the seek and the debt."""
    _last_checkpoint_wall: float = 0.0
    _next_checkpoint_wall: float = 0.0
    last_checkpoint_cost_s: float = 0.0
    """How long the last checkpoint copy took (wall seconds)."""
    checkpoint_max_copy_s: float | None = 0.5
    """Once a copy took longer than this, no more checkpoints are taken (each would stall the console that
    long: 10,080 satellites take 0.18 s at T+30 min and 0.43 s at T+3 h, growing with the unfinished jobs;
    finished ones are shared); a rewind then replays from the last one. None: no limit."""

    def _step(self) -> None:
        if self.replayer is not None:
            self.replayer.step()
            if self.recording_check is not None and self.replay_mismatch is None:
                self.replay_mismatch = self.recording_check.check(self.sim)
                if self.replay_mismatch is not None:
                    self.paused = True
            if self.end_s is not None and self.sim.time_s >= self.end_s - 1e-9:
                self.replayer.act_due()  # what the operator did after the recording's last step
        else:
            self.sim.step()
        if self.archive is not None:
            self.archive.record_step(self.sim)
        if self.checkpoints is not None and not self.checkpoints_stopped:
            now = time.perf_counter()
            if now - self._last_checkpoint_wall >= self.checkpoint_min_wall_s and now >= self._next_checkpoint_wall:
                taken = len(self.checkpoints.steps)
                self.checkpoints.after_step(self.sim)
                if len(self.checkpoints.steps) != taken:
                    done = time.perf_counter()
                    self.last_checkpoint_cost_s = done - now
                    self._last_checkpoint_wall = done
                    self._next_checkpoint_wall = done + self.last_checkpoint_cost_s / CHECKPOINT_WALL_SHARE

    @property
    def checkpoints_stopped(self) -> bool:
        """No more checkpoints are taken: the last copy took longer than ``checkpoint_max_copy_s``."""
        limit = self.checkpoint_max_copy_s
        return limit is not None and self.last_checkpoint_cost_s > limit

    def rewind(self, time_s: float) -> int:
        """Go back to mission time `time_s` of this run (the step at or before it): the state then, rebuilt
        from the nearest checkpoint and the journal; running on from there branches the timeline (the
        archive keeps both), or, in a replay, plays the recording on from there. Paused afterwards;
        returns the step rewound to. CommandError if it cannot."""
        with self.lock:
            if self.checkpoints is None:
                raise CommandError("this console keeps no checkpoints to rewind to")
            step = int(math.floor(time_s / self.sim.step_s + 1e-9))
            if not 0 <= step < self.sim.step_index:
                raise CommandError(f"rewind to a time before now (T+0 to T+{self.sim.time_s:.0f} s), not {time_s:.0f} s")
            new = self.checkpoints.rewind(self.sim, step)
            new.drain_events()  # already shown and recorded on the old timeline
            new.drain_directives()
            self.checkpoints.forget_after(step)
            if self.replayer is not None:  # a replay goes back and plays the recording on from there
                self.replayer = Replayer.resume(new, self.recorded_journal)
            if self.archive is not None:
                self.archive.record_events(self.sim, self.sim.drain_events())
                self.archive.start_branch(self.sim, new)
            self.sim = new
            self.paused = True
            self._settle_pause()
            self._pending = []
            self._directives = []
            self._end_reached = self.end_s is not None and new.time_s >= self.end_s - 1e-9
            return step

    def _drain_events(self) -> list[Event]:
        events = self.sim.drain_events()
        if self.archive is not None and events:
            self.archive.record_events(self.sim, events)
        return events

    def close_archive(self) -> None:
        """Commit what is left of the recording and close it (the console's exit)."""
        with self.lock:
            if self.archive is not None:
                self._drain_events()
                self.archive.close(self.sim)
                self.archive = None

    @property
    def speed(self) -> float:
        return SPEEDS[self.speed_index]

    @property
    def seeking(self) -> EventKind | None:
        return None if self._pause_unsettled else self._seeking

    @property
    def seek_satellite(self) -> str | None:
        """The satellite a seek waits for (None: any satellite)."""
        return self._seek_satellite

    # --------------------------------------------------------------------------------------- controls

    def toggle_pause(self) -> bool:
        """Pause or resume (pausing cancels a seek); returns the new paused state. Pausing takes effect
        at the end of the engine step in progress: a frame stepping in another thread stops there (this
        does not wait for it; that frame comes back paused). Resuming waits for such a frame."""
        if not self.paused:
            self.paused = True  # seen by a frame stepping in another thread
            if self.lock.acquire(blocking=False):
                try:
                    self._settle_pause()
                finally:
                    self.lock.release()
            else:
                self._pause_unsettled = True  # settled by the frame in progress, under the lock
            return True
        with self.lock:
            if self._pause_unsettled:
                self._settle_pause()
            self.paused = False
            self._debt_s = 0.0
        return False

    def _settle_pause(self) -> None:
        self._pause_unsettled = False
        self._debt_s = 0.0
        self._seeking = None

    def faster(self) -> float:
        self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)
        self._debt_s = 0.0
        return self.speed

    def slower(self) -> float:
        self.speed_index = max(self.speed_index - 1, 0)
        self._debt_s = 0.0
        return self.speed

    def step_once(self) -> Frame:
        """One engine step while paused (or pause first): the '.' key."""
        with self.lock:
            self.paused = True
            self._settle_pause()
            self._step()
            return self._frame(steps=1, lagging=False)

    def seek(self, kind: EventKind, satellite: str | None = None) -> None:
        """Run as fast as the frame budget allows until the next event of `kind` (for `satellite`, or any
        satellite when None), then pause there. Gives up after SEEK_LIMIT_S of mission time."""
        if satellite is not None and satellite not in self.sim.satellite_ids:
            raise KeyError(f"unknown satellite {satellite!r}")
        self._pause_unsettled = False  # a pause still to settle is overtaken by the seek
        self._seeking = kind
        self._seek_satellite = satellite
        self._seek_started_s = self.sim.time_s
        self.paused = False
        self._debt_s = 0.0

    def apply(self, command: Command) -> None:
        """Hand an operator command to the engine (CommandError propagates with the reason)."""
        with self.lock:
            self._refuse_in_replay()
            self.sim.apply(command)

    def _refuse_in_replay(self) -> None:
        if self.replayer is not None:
            raise CommandError("this is a replay of a recorded run: it plays the recorded commands only")

    def snapshot_frame(self) -> Frame:
        """The current state as a frame without stepping (after a command, or to redraw while paused)."""
        with self.lock:
            return self._frame(steps=0, lagging=False)

    def pending_commands(self) -> tuple:
        """On-board commands waiting for their satellite's next route to the ground."""
        with self.lock:
            return self.sim.pending_commands()

    def snapshot(self) -> FleetSnapshot:
        """The current state alone (events stay queued for the next frame)."""
        with self.lock:
            return self.sim.snapshot(view="ground")

    # ----------------------------------------------------------------------- forecasts for the detail view

    def alarms(self) -> list[Alarm]:
        """Every alarm of the run (active and cleared), as frozen copies."""
        with self.lock:
            return self.sim.alarms(active_only=False, view="ground")

    def history(self, satellite_id: str) -> SatelliteHistory:
        with self.lock:
            return self.sim.history(satellite_id)

    def forecast_sunlight(self, satellite_id: str) -> SunlightForecast:
        with self.lock:
            return self.sim.forecast_sunlight(satellite_id)

    def predict_passes(self, satellite_id: str, horizon_s: float = 12 * 3600.0) -> list[Pass]:
        with self.lock:
            return self.sim.predict_passes([satellite_id], horizon_s=horizon_s)

    def ground_track(self, satellite_id: str) -> GroundTrackPath:
        with self.lock:
            return self.sim.ground_track(satellite_id)

    # ---------------------------------------------------------------------------------------------- jobs

    def job_views(self, include_finished: bool = True) -> list[JobView]:
        """Every job (or the unfinished ones) as frozen views; empty when the mission runs no jobs."""
        with self.lock:
            return self.sim.job_views(include_finished)

    def satellite_jobs(self, satellite_id: str) -> list[JobView]:
        """Jobs running, checkpointing or suspended on one satellite."""
        with self.lock:
            return self.sim.satellite_jobs(satellite_id)

    @property
    def jobs_enabled(self) -> bool:
        """Whether the mission runs jobs (a scheduler drives the GPUs) rather than a synthetic load."""
        return self.sim.workload is not None

    def gpu_power_cap_range_w(self, satellite_id: str) -> tuple[float, float]:
        """(lowest, highest) per-GPU power cap the engine accepts for a satellite, in watts."""
        with self.lock:
            return self.sim.gpu_power_cap_range_w(satellite_id)

    def gpu_reset_s(self) -> float:
        """How long a commanded GPU reset keeps the GPU down."""
        return self.sim.health.params.reset_min_s

    def workload_metrics(self) -> dict | None:
        """Utilisation, goodput and losses, queue waits (None when the mission runs no jobs)."""
        with self.lock:
            return self.sim.workload_metrics()

    # -------------------------------------------------------------------------------------------- faults

    @property
    def hide_faults(self) -> bool:
        """The mission keeps fault names from the operator (training): the engine leaves them out of the
        event log, and the console shows them only on the instructor's fault list, when revealed."""
        return bool(self.sim.hide_faults)

    @staticmethod
    def fault_catalogue() -> dict[FaultKind, FaultType]:
        """Every kind of fault that can be injected, with its target, parameters and durations."""
        return CATALOGUE

    def active_faults(self) -> list[Fault]:
        """Active faults (frozen records) in id order, whatever injected them."""
        with self.lock:
            return sorted(self.sim.faults.book.active.values(), key=lambda fault: fault.id)

    def ended_fault_count(self) -> int:
        """How many faults have ended (expired, cleared or repaired)."""
        with self.lock:
            return len(self.sim.faults.book.ended)

    @property
    def station_ids(self) -> tuple[str, ...]:
        return tuple(self.sim.network.ids)

    def inject_fault(self, request: FaultRequest) -> Fault:
        """Inject a fault (``InjectFault``); CommandError with the reason, and nothing changed, if refused."""
        with self.lock:
            self._refuse_in_replay()
            self.sim.apply(InjectFault(request))
            return self.sim.faults.book.injected[-1]

    def clear_fault(self, fault_id: str) -> None:
        """End an active fault now (``ClearFault``); CommandError with the reason if it is not active."""
        with self.lock:
            self._refuse_in_replay()
            self.sim.apply(ClearFault(fault_id))

    # ------------------------------------------------------------------------------------------- mission

    @property
    def walkthrough_active(self) -> bool:
        """A guided walkthrough has a step to take."""
        return self.sim.walkthrough.current is not None

    def note_action(self, action: str, satellite: str | None = None) -> None:
        """Report an operator action to the walkthrough (``engine.walkthrough.CONSOLE_ACTIONS``)."""
        with self.lock:
            if self.replayer is None:  # a replay plays the recorded actions
                self.sim.note_action(action, satellite)

    def walkthrough_line(self) -> tuple[StepLine | None, str | None]:
        """The walkthrough bar's line and the pane the current step highlights (None, None: no steps)."""
        with self.lock:
            walk = self.sim.walkthrough
            total = len(walk.steps)
            if not total:
                return None, None
            step = walk.current
            if step is None:
                return StepLine(total, total, "", finished=True), None
            return StepLine(walk.index + 1, total, step.prompt, walk.waiting_on_check), step.highlight

    def mission_panel(self, over: bool) -> MissionPanel:
        """Briefing, objectives and score, hints, the autopilot, and the debrief once the mission is over."""
        from engine.debrief import build_debrief

        with self.lock:
            sim = self.sim
            tracker = sim.objectives
            if not sim.spec.autopilot:
                autopilot = ""
            elif not sim.autopilot_started:
                autopilot = "off (its reference play runs with omc run)"
            else:
                autopilot = "playing" if sim.autopilot_active else "taken over"
            return MissionPanel(
                title=sim.spec.title, kind=sim.spec.kind, briefing=sim.spec.mission.briefing, time_s=sim.time_s,
                objectives=tuple(tracker.results()) if tracker is not None else (),
                score=tracker.score() if tracker is not None else None,
                hints=tuple((f.time_s, f.event.notify.text) for f in sim.hints.fired),
                autopilot=autopilot, over=over, debrief=build_debrief(sim) if over else None,
                steps=sim.walkthrough.progress(),
            )

    @property
    def mission_over(self) -> bool:
        """A timeline ended the mission, or it ran past its planned end."""
        return self.sim.end_reason is not None or (self.end_s is not None and self.sim.time_s >= self.end_s - 1e-9)

    # ----------------------------------------------------------------------------------------- autopilot

    @property
    def autopilot_active(self) -> bool:
        """A demo's operator script is playing (any key takes over; never in a replay, which plays the recording)."""
        return bool(self.sim.autopilot_active) and self.replayer is None

    def take_over(self) -> None:
        """Stop the autopilot: the operator has the console."""
        with self.lock:
            self.sim.take_over()

    # ----------------------------------------------------------------------------------------- servicing

    def servicers(self) -> tuple[ServicerView, ...]:
        """Servicing vehicles: where they are, Δv, spares, cost."""
        with self.lock:
            return self.sim.servicing.fleet.servicers()

    def servicing_missions(self) -> tuple[MissionView, ...]:
        """Every servicing mission, active or finished, with its phase timeline."""
        with self.lock:
            return self.sim.servicing.fleet.missions()

    def plan_servicing(self, servicer_id: str, satellite_id: str, parts: tuple[str, ...]) -> ServicingPlan:
        """What dispatching ``servicer_id`` to ``satellite_id`` would do (median durations); ValueError with
        the reason if it would be refused. Changes nothing."""
        with self.lock:
            sim = self.sim
            if satellite_id not in sim.satellite_ids:
                raise ValueError(f"no satellite {satellite_id!r}")
            sat = sim.satellite_ids.index(satellite_id)
            return sim.servicing.fleet.plan(servicer_id, sat, sim.servicing.orbit(sat, sim.time_s), parts, sim.time_s)

    def parts_needed(self, satellite_id: str) -> tuple[str, ...]:
        """Parts whose swap would repair something on the satellite now (active faults, failed GPUs, failed
        laser links), for the dispatch dialog to suggest (not offered when faults are hidden)."""
        with self.lock:
            sim = self.sim
            sat = sim.satellite_ids.index(satellite_id)
            parts = {fault.repair.value for fault in sim.faults.book.active.values()
                     if fault.satellite == sat and fault.repair is not None}
            if ((sim.health.state[sat] == GpuHealthState.FAILED) & sim.hw.gpu_present[sat]).any():
                parts.add("gpu_board")
            links = sim.comms.links
            if (((links.a == sat) | (links.b == sat)) & (links.state == LinkState.FAILED)).any():
                parts.add("isl_terminal")
            return tuple(sorted(parts))

    def maintenance(self, satellite_id: str) -> Maintenance | None:
        """The satellite's maintenance period, or None if it is not in maintenance."""
        with self.lock:
            sim = self.sim
            return sim.servicing.maintenance.get(sim.satellite_ids.index(satellite_id))

    # -------------------------------------------------------------------------------------------- frames

    def advance(self, wall_dt_s: float, clock=time.perf_counter) -> Frame:
        """Step the simulation for a frame that lasted `wall_dt_s` seconds of wall time."""
        with self.lock:
            return self._advance(wall_dt_s, clock)

    def _advance(self, wall_dt_s: float, clock) -> Frame:
        if self.paused:
            if self._pause_unsettled:
                self._settle_pause()
            self.lock.clear_interrupt()
            return self._frame(steps=0, lagging=False)
        started = clock()
        steps = 0
        budget_s = self.max_frame_work_s
        if self._seeking is not None or math.isinf(self.speed):
            budget_steps = self.max_steps_per_frame
        else:
            budget_s = min(budget_s, self.frame_work_s)
            self._debt_s += max(wall_dt_s, 0.0) * self.speed
            budget_steps = min(int(self._debt_s / self.sim.step_s), self.max_steps_per_frame)
        found: Event | None = None
        reached_end = False
        step_started = started
        while steps < budget_steps and not self.paused:
            if self._at_end():
                reached_end = self._end_reached = True
                break
            self._step()
            steps += 1
            now = clock()
            last_step_s, step_started = now - step_started, now
            if len(self.sim.directives) and self._take_directives():
                break
            if self._seeking is not None:
                new = self._drain_events()
                self._pending.extend(new)
                found = next((event for event in new if self._is_sought(event)), None)
                if found is not None:
                    break
                if self.sim.time_s - self._seek_started_s >= SEEK_LIMIT_S:
                    break
            # Checked every step (a 10k-satellite step is ~30 ms): stop when another thread waits for the
            # lock (an operator's key) or when one more step like the last would overrun the budget.
            if self.lock.contended or clock() - started + last_step_s > budget_s:
                break
        self.lock.clear_interrupt()
        if self.paused and self._pause_unsettled:
            self._settle_pause()
        if not reached_end and self._at_end():
            reached_end = self._end_reached = True
        lagging = False
        if self._seeking is None and not math.isinf(self.speed):
            self._debt_s -= steps * self.sim.step_s
            lagging = self._debt_s >= self.sim.step_s
            # Do not let an unpayable debt build up: show lag, keep the clock moving at what the engine manages.
            self._debt_s = min(self._debt_s, self.sim.step_s)
        seeking = self._seeking
        gave_up = seeking is not None and found is None and self.sim.time_s - self._seek_started_s >= SEEK_LIMIT_S
        if found is not None or gave_up or reached_end:
            self.paused = True
            self._seeking = None
            self._debt_s = 0.0
            lagging = False  # stopped on purpose: nothing is behind
        return self._frame(steps=steps, lagging=lagging, seeking=seeking, found=found, gave_up=gave_up, reached_end=reached_end)

    def _take_directives(self) -> bool:
        """Act on new timeline directives (pause, end, set_speed); True if running must stop now."""
        stop = False
        for directive in self.sim.drain_directives():
            self._directives.append(directive)
            if directive.kind in ("pause", "end"):
                self.paused = True
                self._seeking = None
                self._debt_s = 0.0
                stop = True
            elif directive.kind == "set_speed":
                self.speed_index = min(range(len(SPEEDS)), key=lambda i: abs(math.log(SPEEDS[i] / directive.speed))
                                       if math.isfinite(SPEEDS[i]) else math.inf)
                self._debt_s = 0.0
        return stop

    def _at_end(self) -> bool:
        return self.end_s is not None and not self._end_reached and self.sim.time_s >= self.end_s - 1e-9

    def _is_sought(self, event: Event) -> bool:
        return event.kind == self._seeking and (self._seek_satellite is None or event.satellite == self._seek_satellite)

    def _frame(
        self,
        steps: int,
        lagging: bool,
        seeking: EventKind | None = None,
        found: Event | None = None,
        gave_up: bool = False,
        reached_end: bool = False,
    ) -> Frame:
        self._take_directives()
        events = tuple(self._pending) + tuple(self._drain_events())
        self._pending = []
        directives, self._directives = tuple(self._directives), []
        return Frame(
            snapshot=self.sim.snapshot(view="ground"),
            events=events,
            steps=steps,
            paused=self.paused,
            speed=self.speed,
            lagging=lagging,
            seeking=seeking,
            found=found,
            seek_gave_up=gave_up,
            reached_end=reached_end,
            directives=directives,
        )
