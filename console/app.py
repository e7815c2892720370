"""The mission-control console: a Textual app over one driver and its simulation.

Data flow (the boundary of DESIGN.md): key presses and palette entries become driver calls or engine
commands; the driver steps the engine in a worker thread, bounded per frame; each frame's snapshot,
events, alarms and the selected satellite's forecasts come back as one ``FrameBundle`` that the UI thread
hands to the panes. Nothing else touches the simulation.

Time: with ``tick_hz`` set, frames are scheduled one after another (the next one starts when the previous
one has been drawn, never overlapping). Tests pass ``tick_hz=None`` and drive time with ``advance()``.

Layout: at 150 columns and 32 rows or more every pane is on screen (fleet and alarms on the left; satellite
detail, map and event log on the right). Smaller terminals show one pane at a time under a view bar; the
number keys switch panes in both layouts.

Only what is on screen is computed: a pane that is not displayed (another view on a small terminal, or the
main screen under the job queue, servicing or mission screen) is neither gathered on the engine side nor
updated on the UI side; it catches up from the current state the moment it is shown again (``visible_panes``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from dataclasses import dataclass

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerState


from console.detail import SatelliteView
from console.gc_policy import FrameGarbagePolicy
from console.driver import Driver, Frame
from console.screens.help import HelpScreen
from console.screens.number_input import NumberInputScreen
from console.palette import TargetedCommands
from console.screens.shelve import ShelveScreen
from console.widgets.alarm_table import AlarmTable
from console.widgets.clock_bar import ClockBar, ClockState, alarm_counts, speed_text
from console.widgets.event_log import EventLog, log_capacity
from console.widgets.fleet_table import FleetTable
from console.widgets.ground_track_map import GroundTrackMap
from console.widgets.satellite_detail import SatelliteDetail
from console.widgets.step_prompt import StepPrompt
from console.widgets.view_bar import VIEWS, ViewBar
from console.fault_actions import FaultActions
from console.screens.mission import MissionScreen
from console.servicing_actions import ServicingActions
from console.network_actions import NetworkActions
from console.workload_actions import WorkloadActions
from engine import Event, EventKind, MissionSpec, Pass, Simulation
from engine.alarms import Alarm
from engine.durations import format_clock
from engine.commands import AcknowledgeAlarm, CommandError, ShelveAlarm, UnshelveAlarm
from engine.history import SatelliteHistory
from engine.jobs import JobView
from engine.tracks import GroundTrackPath, SunlightForecast
from engine.checkpoints import Checkpoints
from engine.walkthrough import HIGHLIGHTS

WIDE_MIN_WIDTH = 150
WIDE_MIN_HEIGHT = 32
ALARM_KINDS = frozenset(kind for kind in EventKind if kind.value.startswith("alarm_"))
TRACK_REFRESH_S = 300.0
PASS_REFRESH_S = 3600.0
PANES = frozenset({"fleet", "alarms", "detail", "map", "events"})
"""The main screen's panes (the view names of ``ViewBar``)."""


@dataclass(frozen=True, eq=False)
class FrameBundle:
    """Everything one frame hands from the engine side to the panes."""

    frame: Frame
    view: SatelliteView | None
    track: GroundTrackPath | None
    alarms: list[Alarm] | None
    """None when no alarm changed since the previous bundle."""
    queue: tuple[list[JobView], dict | None] | None = None
    """Every job and the workload metrics, when the job queue screen is open and due a redraw."""
    servicing: tuple | None = None
    """Servicers and servicing missions, when the servicing screen is open and due a redraw."""
    panes: frozenset[str] = PANES
    """The panes this bundle gathered data for (those visible when it was collected): a pane shown since
    then waits for the next bundle rather than being drawn from data that was not gathered."""
    changes: int = 0
    """The app's count of operator changes (selection, pause, speed) when the bundle was gathered."""


class DetailForecasts:
    """Forecasts of the selected satellite, recomputed only when they go stale (runs on the engine side)."""

    def __init__(self) -> None:
        self.satellite_id: str | None = None
        self.sunlight: SunlightForecast | None = None
        self.passes: tuple[Pass, ...] = ()
        self.passes_computed_s = float("-inf")
        self.track: GroundTrackPath | None = None
        self.track_computed_s = float("-inf")
        self.history: SatelliteHistory | None = None
        self.history_recorded = -1

    def collect(self, driver: Driver, satellite_id: str, now_s: float, *, detail: bool = True,
                track: bool = True) -> tuple[SatelliteHistory | None, GroundTrackPath | None]:
        """The history (and sunlight and pass forecasts) when `detail`, the ground track when `track`; each
        part is computed only when asked for, so a hidden pane costs nothing."""
        if satellite_id != self.satellite_id:
            self.satellite_id = satellite_id
            self.sunlight, self.passes, self.track, self.history = None, (), None, None
            self.passes_computed_s = self.track_computed_s = float("-inf")
            self.history_recorded = -1
        if detail:
            if self._sunlight_stale(now_s):
                self.sunlight = driver.forecast_sunlight(satellite_id)
            if self._passes_stale(now_s):
                self.passes = tuple(driver.predict_passes(satellite_id))
                self.passes_computed_s = now_s
            recorded = driver.sim.telemetry_history.recorded
            if self.history is None or recorded != self.history_recorded:
                # Same object until a new sample is taken, so the panes can keep their sparklines.
                self.history, self.history_recorded = driver.history(satellite_id), recorded
        if track and (self.track is None or abs(now_s - self.track_computed_s) > TRACK_REFRESH_S):
            self.track = driver.ground_track(satellite_id)
            self.track_computed_s = now_s
        return (self.history if detail else None), (self.track if track else None)

    def _sunlight_stale(self, now_s: float) -> bool:
        forecast = self.sunlight
        if forecast is None or now_s < forecast.from_s:
            return True
        boundaries = [t for t in (forecast.next_eclipse_entry_s, forecast.next_eclipse_exit_s) if t is not None]
        if any(now_s >= t for t in boundaries):
            return True
        return now_s > forecast.from_s + 0.5 * forecast.horizon_s

    def _passes_stale(self, now_s: float) -> bool:
        if now_s < self.passes_computed_s or now_s > self.passes_computed_s + PASS_REFRESH_S:
            return True
        for p in self.passes:  # a pass began or ended since the prediction: refresh the countdowns' basis
            if p.aos_s is not None and self.passes_computed_s < p.aos_s <= now_s:
                return True
            if p.los_s is not None and self.passes_computed_s < p.los_s <= now_s:
                return True
        return False


def console_telemetry_period_s(satellites: int) -> float:
    """How often a console session samples telemetry into its archive: once a minute of mission time up to
    1,000 satellites, and proportionally less often above (a minute's sample of 10,000 satellites is
    about 2.5 MB; the session runs at up to 10,000x)."""
    return 60.0 * max(1, math.ceil(satellites / 1000))


REWIND_CHECKPOINT_S = 1800.0
"""A live console copies the engine state every half hour of mission time (at most every two wall seconds)."""
REWIND_CHECKPOINTS_KEPT = 24
"""At most this many copies (older ones are thinned out: rewinding further back replays more)."""

DEFAULT_TICK_HZ = 30.0
"""Frames asked for per second; a frame that takes longer simply delays the next (frames never overlap)."""

FRAME_WORK_SHARE = 0.6
"""While running at a chosen speed a frame steps the engine for at most this share of the frame period (at
least one step): the rest is the snapshot and the panes. Seeks and MAX speed take the driver's full budget."""

SLOW_PANES_WORK_SHARE = 0.1
"""The job queue and servicing screens take at most about this share of the time to gather (see ``_slow_period``)."""

SLOW_PANES_PERIOD_S = 0.2
"""While running live, the map and the event log redraw at most this often (5 times a second: as fast as
anyone reads them, and each redraw of either costs as much as the fleet table's). The clock, the fleet table
and the satellite detail redraw every frame; a paused frame, a step or a new selection redraws all at once."""


class MissionControlApp(WorkloadActions, NetworkActions, FaultActions, ServicingActions, App[None]):
    """Live console over one mission."""

    TITLE = "Orbital Mission Control"
    CSS_PATH = Path(__file__).parent / "app.tcss"
    """Absolute, so subclasses defined elsewhere (tests, benchmarks) find it."""

    COMMANDS = App.COMMANDS | {TargetedCommands}
    """Textual's commands and every key binding (``get_system_commands``), plus satellites and jobs by name."""

    BINDINGS = [
        Binding("space", "toggle_pause", "Pause/run", id="sim-pause"),
        Binding("full_stop", "step", "Step", key_display=".", id="sim-step"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+", id="sim-faster"),
        Binding("minus", "slower", "Slower", key_display="-", id="sim-slower"),
        Binding("n", "seek('aos', 'selected')", "Next AOS", id="seek-aos"),
        Binding("N", "seek('aos', 'any')", "Next AOS (any satellite)", show=False, id="seek-aos-any"),
        Binding("e", "seek('eclipse', 'selected')", "Next eclipse", show=False, id="seek-eclipse"),
        Binding("E", "seek('eclipse', 'any')", "Next eclipse (any satellite)", show=False, id="seek-eclipse-any"),
        Binding("j", "job_queue", "Job queue", id="job-queue"),
        Binding("d", "drain", "Drain/undrain satellite", show=False, id="sat-drain"),
        Binding("r", "reset_gpu", "Reset a GPU", show=False, id="gpu-reset"),
        Binding("o", "gpu_power", "GPU off/on", show=False, id="gpu-power"),
        Binding("w", "power_cap", "GPU power cap", show=False, id="gpu-cap"),
        Binding("i", "toggle_link", "Laser link off/on", show=False, id="net-link"),
        Binding("g", "force_handover", "Force ground handover", show=False, id="net-handover"),
        Binding("F", "inject_fault", "Inject fault", show=False, id="fault-inject"),
        Binding("f", "fault_list", "Active faults", show=False, id="fault-list"),
        Binding("S", "servicing", "Servicing", show=False, id="servicing"),
        Binding("b", "mission_panel", "Mission briefing", show=False, id="mission-panel"),
        Binding("m", "maintenance", "Maintenance on/off", show=False, id="sat-maintenance"),
        Binding("slash", "filter", "Filter", key_display="/", id="fleet-filter"),
        Binding("1", "view('fleet')", "Fleet view", show=False, id="view-fleet"),
        Binding("2", "view('detail')", "Satellite view", show=False, id="view-detail"),
        Binding("3", "view('map')", "Map view", show=False, id="view-map"),
        Binding("4", "view('alarms')", "Alarms view", show=False, id="view-alarms"),
        Binding("5", "view('events')", "Event log view", show=False, id="view-events"),
        Binding("R", "rewind", "Rewind", show=False, id="sim-rewind"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
    ]
    """Console-wide keys; each pane adds its own (see the help screen)."""

    def __init__(self, spec: MissionSpec, *, seed: int | None = None, tick_hz: float | None = DEFAULT_TICK_HZ,
                 theme: str = "textual-dark", record_to: Path | None = None, driver: Driver | None = None) -> None:
        super().__init__()
        self.spec = spec
        if driver is None:
            # A training mission's autopilot is its reference play (omc run scores it); at the console the trainee plays.
            driver = Driver(Simulation(spec, seed=seed, autopilot=spec.kind != "training"), end_s=spec.duration_s)
            driver.checkpoints = Checkpoints(driver.sim, every_s=REWIND_CHECKPOINT_S, keep=REWIND_CHECKPOINTS_KEPT)
            if record_to is not None:
                from engine.archive import ArchiveSettings, ArchiveWriter
                from engine.mission import mission_document

                settings = ArchiveSettings(telemetry_period_s=console_telemetry_period_s(len(spec.satellites)))
                driver.archive = ArchiveWriter(record_to, driver.sim, mission_document(spec.source), settings)
        self.driver = driver
        if tick_hz:
            driver.frame_work_s = FRAME_WORK_SHARE / tick_hz
        self.record_to = record_to
        self.tick_hz = tick_hz
        self._theme_name = theme
        self.selected_id: str | None = None
        self.current_view = "fleet"
        self._forecasts = DetailForecasts()
        self._alarms: list[Alarm] = []
        self._alarms_dirty = True
        self._last_tick = time.perf_counter()
        self._narrow: bool | None = None
        self._frame_count = 0
        self._index_ids: tuple[str, ...] | None = None
        self._index: dict[str, int] = {}
        self.gc_policy = FrameGarbagePolicy()
        self._pending_events: list[Event] = []
        self._slow_panes_due = 0.0
        self._queue_due = 0.0
        self._servicing_due = 0.0
        self._mismatch_shown = False
        self._shown: tuple[frozenset[str], tuple[bool, ...]] | None = None
        """What was on screen at the last check (main-screen panes, and the job queue, servicing and
        mission screens): anything that appears since is brought up to date at once."""
        self._clock_counts: tuple[object, float, tuple[int, int, int, int]] | None = None
        self._active_alarm_rows: tuple[object, object, dict[int, tuple[str, int]]] | None = None
        self._frame_in_flight = False
        """A frame is stepping in the worker thread (its bundle is on its way)."""
        self._changes = 0
        """Operator changes so far that a frame in flight may not have seen (``_refresh_soon``)."""
        self._last_frame: Frame | None = None
        self._checkpoints_noted = False
        self._paint_first = False
        """The next frame starts only after the screen has been painted (it shows an operator's key: the
        engine stepping in the worker would otherwise slow the paint down, both wanting Python's lock)."""
        self._applied_changes = 0

    # ------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield ClockBar(id="clock")
        yield StepPrompt(id="step-prompt")
        yield ViewBar(id="view-bar")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                with Vertical(id="fleet-pane", classes="pane"):
                    yield FleetTable(id="fleet")
                    yield Input(placeholder="filter satellites by id (enter: keep, escape: clear)", id="fleet-filter")
                yield AlarmTable(id="alarms-pane", classes="pane")
            with Vertical(id="right"):
                yield SatelliteDetail(id="detail-pane", classes="pane")
                with Vertical(id="map-pane", classes="pane"):
                    yield GroundTrackMap(id="map")
                yield EventLog(max_entries=log_capacity(len(self.spec.satellites)), id="events-pane", classes="pane")
        yield Footer()

    def on_mount(self) -> None:
        self.theme = self._theme_name
        self.title = self.spec.title + self.title_suffix
        self.query_one("#fleet-pane").border_title = "Fleet"
        self.query_one("#alarms-pane").border_title = "Alarms"
        self.query_one("#detail-pane").border_title = "Satellite"
        self.query_one("#map-pane").border_title = "Ground track"
        self.query_one("#events-pane").border_title = "Events"
        epoch = self.driver.sim.clock.epoch
        self.query_one(EventLog).set_epoch(epoch)
        self.query_one(AlarmTable).set_epoch(epoch)
        self.query_one("#fleet-filter", Input).display = False
        self._apply_layout(self.size.width, self.size.height)
        self.refresh_now()
        self._shown = self._on_screen()
        self.screen_change_signal.subscribe(self, lambda _: self._catch_up())
        self.query_one(FleetTable).focus()
        if self.driver.replayer is not None:
            self.query_one(EventLog).add_note(0.0, f"replay of a recorded run of {self.spec.id} (seed {self.driver.sim.seed}): "
                                                   "it re-simulates the recorded commands and checks the recorded telemetry")
        else:
            self.query_one(EventLog).add_note(0.0, f"console opened on mission {self.spec.id} (seed {self.driver.sim.seed}), paused")
        if self.driver.archive is not None:
            self.query_one(EventLog).add_note(0.0, f"recording to {self.driver.archive.path}")
        if self.spec.kind == "training" and self.spec.autopilot:
            self.query_one(EventLog).add_note(0.0, "training: you have the console (the mission's reference play runs headless: omc run)")
        self._show_step()
        self.watch(self.query_one(FleetTable), "sort_key", lambda _: self._walk("sort"), init=False)
        self.watch(self.query_one(AlarmTable), "show_history", lambda _: self._walk("alarms:history"), init=False)
        self.watch(self.query_one(EventLog), "min_severity", lambda _: self._walk("events:filter"), init=False)
        if self.tick_hz:
            self.gc_policy.start()  # live console only: tests drive frames by hand and keep the defaults
            self._last_tick = time.perf_counter()
            self.set_timer(1.0 / self.tick_hz, self._tick)

    def on_unmount(self) -> None:
        self.gc_policy.stop()
        self.driver.close_archive()

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int, height: int) -> None:
        narrow = width < WIDE_MIN_WIDTH or height < WIDE_MIN_HEIGHT
        if narrow != self._narrow:
            self._narrow = narrow
            self.screen.set_class(narrow, "-narrow")
        self._show_view(self.current_view)

    @property
    def narrow(self) -> bool:
        return bool(self._narrow)

    def _show_view(self, name: str) -> None:
        self.current_view = name
        self.query_one(ViewBar).current = name
        for view in VIEWS:
            pane = self.query_one(f"#{view.id}-pane")
            pane.set_class(view.id == name, "-shown")
        left_shown = name in ("fleet", "alarms")
        self.query_one("#left").set_class(left_shown, "-shown")
        self.query_one("#right").set_class(not left_shown, "-shown")
        self._catch_up()

    # ------------------------------------------------------------------------------------- visibility

    def visible_panes(self) -> frozenset[str]:
        """The main screen's panes on screen now: all of them on a wide terminal, the current view's on a
        small one, none while a full screen (job queue, servicing, mission) covers the main screen (dialogs
        leave it visible). Frames gather and draw only these."""
        if not self._screen_shown(self.screen_stack[0] if self.screen_stack else None):
            return frozenset()
        return PANES if not self.narrow else frozenset({self.current_view}) & PANES

    def _screen_shown(self, screen: Screen | None) -> bool:
        """Whether `screen` is on the stack with only dialogs (modal screens) above it."""
        stack = self.screen_stack
        if screen is None or screen not in stack:
            return False
        return all(isinstance(above, ModalScreen) for above in stack[stack.index(screen) + 1 :])

    def _on_screen(self) -> tuple[frozenset[str], tuple[bool, ...]]:
        screens = (self.job_queue, self.servicing_screen, self.mission_screen)
        return self.visible_panes(), tuple(self._screen_shown(screen) for screen in screens)

    def _catch_up(self) -> None:
        """Bring whatever has just come on screen up to date (hidden panes skipped their updates)."""
        if self._shown is None:
            return  # still mounting: on_mount draws everything once
        before, now = self._shown, self._on_screen()
        self._shown = now
        if now[0] - before[0] or any(shown and not was for shown, was in zip(now[1], before[1])):
            self._refresh_soon()

    # ------------------------------------------------------------------------------------------ frames

    def _tick(self) -> None:
        if self._paint_first:
            self._paint_first = False
            self.call_after_refresh(self._tick)
            return
        now = time.perf_counter()
        wall_dt_s, self._last_tick = now - self._last_tick, now
        if self.driver.paused and not self._alarms_dirty:
            self._schedule_next_tick(now)
            return
        self._frame_in_flight = True
        self._run_frame(wall_dt_s)

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _run_frame(self, wall_dt_s: float) -> None:
        started = time.perf_counter()
        bundle = self._collect(self.driver.advance(wall_dt_s))
        self.call_from_thread(self._finish_frame, bundle, started)

    def _finish_frame(self, bundle: FrameBundle, started: float) -> None:
        """UI thread: draw a frame's bundle and schedule the next frame (one hand-over from the worker)."""
        self._frame_in_flight = False
        try:
            self._apply_bundle(bundle)
            if bundle.changes != self._changes:  # gathered before an operator change: show it now
                self.refresh_now()
            if self._changes != self._applied_changes:  # this frame shows an operator's change: paint it first
                self._applied_changes = self._changes
                self._paint_first = True
        finally:
            self._schedule_next_tick(started)

    def _refresh_soon(self) -> None:
        """Show an operator change (selection, pause, speed): now, or, while a frame is stepping in the
        worker, with that frame, which is asked to end after its current engine step (so the key waits
        for at most one step and one snapshot, and the snapshot is not built twice)."""
        self._changes += 1
        if self._frame_in_flight:
            self.driver.lock.interrupt()
            if self._last_frame is not None:
                self._update_clock(self._last_frame)  # run state and speed at once: they are the driver's
        else:
            self.refresh_now()
            self._applied_changes = self._changes
            self._paint_first = True

    def _schedule_next_tick(self, started: float) -> None:
        if not self.tick_hz or not self.is_running:
            return
        period = 1.0 / self.tick_hz
        delay = period - (time.perf_counter() - started)
        if delay > 0.001:
            self.set_timer(delay, self._tick)
        else:  # behind: start the next frame as soon as the screen has had its turn
            self.call_later(self._tick)

    @on(Worker.StateChanged)
    def _engine_failed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "engine" and event.state == WorkerState.ERROR:
            self._frame_in_flight = False
            if not self.driver.paused:
                self.driver.toggle_pause()
            error = event.worker.error
            self.notify(f"engine stopped: {error}", title="Engine error", severity="error", timeout=30)
            self._flush_events()
            self.query_one(EventLog).add_note(self.driver.sim.time_s, f"engine error, paused: {error}")
            self._schedule_next_tick(time.perf_counter())

    def advance(self, wall_dt_s: float) -> Frame:
        """Run one frame synchronously (tests and benchmarks: no timer in the app under test)."""
        bundle = self._collect(self.driver.advance(wall_dt_s, clock=lambda: 0.0))
        self._apply_bundle(bundle)
        return bundle.frame

    def refresh_now(self) -> None:
        """Redraw from the current state without stepping (after a command or a selection change)."""
        self._apply_bundle(self._collect(self.driver.snapshot_frame()))

    def _collect(self, frame: Frame) -> FrameBundle:
        """Engine side: gather the frame's data and the selected satellite's forecasts (under the driver's
        lock, so the worker and the UI thread never interleave on the forecast cache)."""
        with self.driver.lock:
            return self._collect_locked(frame)

    def _collect_locked(self, frame: Frame) -> FrameBundle:
        changes = self._changes  # read before the selection: see ``_refresh_soon``
        panes = self.visible_panes()
        selected = self.selected_id
        snapshot = frame.snapshot
        index = self._satellite_index(snapshot, selected)
        if index is None:
            selected, index = (snapshot.satellite_ids[0], 0) if snapshot.satellite_ids else (None, None)
        view = track = None
        detail, mapped = "detail" in panes, "map" in panes
        if selected is not None and index is not None and (detail or mapped):
            history, track = self._forecasts.collect(self.driver, selected, snapshot.time_s, detail=detail, track=mapped)
            if detail:
                assert history is not None
                view = SatelliteView(
                    snapshot=snapshot,
                    index=index,
                    history=history,
                    sunlight=self._forecasts.sunlight,
                    passes=self._forecasts.passes,
                    jobs=tuple(self.driver.satellite_jobs(selected)) if snapshot.jobs_enabled else (),
                )
        alarms = None
        if self._alarms_dirty or any(event.kind in ALARM_KINDS for event in frame.events):
            self._alarms_dirty = False
            alarms = self.driver.alarms()
        queue = None
        now = time.perf_counter()
        if self._screen_shown(self.job_queue) and (frame.paused or self.tick_hz is None or now >= self._queue_due):
            queue = (self.driver.job_views(include_finished=True), self.driver.workload_metrics())
            self._queue_due = now + _slow_period(time.perf_counter() - now)
        servicing = None
        if self._screen_shown(self.servicing_screen) and (frame.paused or self.tick_hz is None or now >= self._servicing_due):
            servicing = (self.driver.servicers(), self.driver.servicing_missions())
            self._servicing_due = now + _slow_period(time.perf_counter() - now)
        return FrameBundle(frame=frame, view=view, track=track, alarms=alarms, queue=queue, servicing=servicing, panes=panes,
                           changes=changes)

    def _satellite_index(self, snapshot, satellite_id: str | None) -> int | None:
        """Row of a satellite in the snapshot (a dict lookup: ``index_of`` scans the 10,000 ids)."""
        if self._index_ids is not snapshot.satellite_ids:
            self._index_ids = snapshot.satellite_ids
            self._index = {sat_id: i for i, sat_id in enumerate(snapshot.satellite_ids)}
        return self._index.get(satellite_id) if satellite_id is not None else None

    def _apply_bundle(self, bundle: FrameBundle) -> None:
        frame = bundle.frame
        snapshot = frame.snapshot
        self._frame_count += 1
        self._last_frame = frame
        # Only the panes on screen; the detail and the map also only from data gathered for them (see
        # ``FrameBundle.panes``): the others draw from the snapshot, the alarms and the events, always there.
        shown = self.visible_panes()
        panes = shown - ({"detail", "map"} - bundle.panes)
        with self.batch_update():
            if bundle.alarms is not None:
                self._alarms = bundle.alarms
            table = self.query_one(FleetTable)
            if "fleet" in panes or table.selected_id is None:
                table.update_snapshot(snapshot)
                self._update_fleet_subtitle()
            else:
                table.hold_snapshot(snapshot)  # sorted and drawn when it is shown (or asked for its rows)
            if self.selected_id is None and table.selected_id is not None:
                self.selected_id = table.selected_id
            if "alarms" in panes:
                self.query_one(AlarmTable).update_alarms(self._alarms, snapshot.time_s, self._current_values(snapshot))
            self._pending_events.extend(frame.events)
            if "detail" in panes:
                self.query_one(SatelliteDetail).show(bundle.view)
                if bundle.view is not None:
                    _set_if_changed(self.query_one("#detail-pane"), "border_title", self._detail_title(bundle.view))
            ground_map = self.query_one(GroundTrackMap)
            now = time.perf_counter()
            live = self.tick_hz is not None and not frame.paused
            if not live or now >= self._slow_panes_due or ("map" in panes and ground_map.selected_id != self.selected_id):
                self._slow_panes_due = now + SLOW_PANES_PERIOD_S
                self._flush_events()  # O(new events), formatted only when drawn: the log stays the full record
                if "map" in panes:
                    ground_map.show(snapshot, self.selected_id, bundle.track)
                self._refresh_mission_panel()
            self._update_clock(frame)
            if bundle.queue is not None and self._screen_shown(self.job_queue):
                self.job_queue.update(*bundle.queue, snapshot.satellite_ids, snapshot.time_s)
            if bundle.servicing is not None and self._screen_shown(self.servicing_screen):
                self.servicing_screen.update(*bundle.servicing, snapshot.satellite_ids, snapshot.time_s)

        if self.driver.checkpoints_stopped and not self._checkpoints_noted:
            self._checkpoints_noted = True
            self._note_checkpoints_stopped()
        for directive in frame.directives:
            self._follow_directive(directive)
        if self.driver.replay_mismatch is not None and not self._mismatch_shown:
            self._mismatch_shown = True
            m = self.driver.replay_mismatch
            where = f" on {m.satellite}" if m.satellite else ""
            text = (f"the re-run differs from the recording at step {m.step_index} (T+{format_clock(m.time_s)}): "
                    f"{m.what}{where}, recorded {m.recorded}, now {m.replayed}; paused"
                    + (f" ({m.note})" if m.note else ""))
            self.notify(text, title="Replay mismatch", severity="error", timeout=30)
            self._flush_events()
            self.query_one(EventLog).add_note(m.time_s, f"replay mismatch: {text}")
        if frame.found is not None:
            self._seek_finished(frame.found)
        elif frame.seek_gave_up:
            self.notify("nothing found in two days of mission time; paused", title="Seek", severity="warning")
            self._flush_events()
            self.query_one(EventLog).add_note(snapshot.time_s, "seek gave up after two days of mission time; paused")
        if frame.reached_end:
            ending = f"mission end reached at T+{format_clock(snapshot.time_s)}; paused (space runs on past the planned end)"
            self.notify(ending, title="Mission end", timeout=10)
            self._flush_events()
            self.query_one(EventLog).add_note(snapshot.time_s, ending)

    def _note_checkpoints_stopped(self) -> None:
        driver = self.driver
        assert driver.checkpoints is not None
        last = format_clock(driver.checkpoints.steps[-1] * driver.sim.step_s)
        self._note(f"rewind points stopped: copying this fleet's state took {driver.last_checkpoint_cost_s:.1f} s, "
                   f"a stall of the console each time; a rewind now replays from the last one (T+{last})")

    def _current_values(self, snapshot) -> Mapping[int, float]:
        """The alarmed quantity's value now, for every active alarm: looked up when asked, so a frame costs
        the alarm rows on screen, not the thousands a fleet-wide fault can raise."""
        self._satellite_index(snapshot, None)
        cached = self._active_alarm_rows
        if cached is None or cached[0] is not self._alarms or cached[1] is not snapshot.satellite_ids:
            where = {alarm.id: (alarm.quantity, self._index[alarm.satellite])  # only when the alarm list changes
                     for alarm in self._alarms if alarm.active and alarm.satellite in self._index}
            cached = self._active_alarm_rows = (self._alarms, snapshot.satellite_ids, where)
        return CurrentValues(snapshot, cached[2])

    def _alarm_counts(self, time_s: float) -> tuple[int, int, int, int]:
        """``alarm_counts``, recounted only when the alarms change or a shelving period ends (the clock
        bar shows them every frame; the whole alarm history can be thousands long)."""
        cached = self._clock_counts
        if cached is not None and cached[0] is self._alarms and time_s < cached[1]:
            return cached[2]
        counts = alarm_counts(self._alarms, time_s)
        ends = [a.shelved_until_s for a in self._alarms if a.active and a.shelved_until_s is not None and a.shelved_until_s > time_s]
        self._clock_counts = (self._alarms, min(ends, default=math.inf), counts)
        return counts

    def _update_clock(self, frame: Frame) -> None:
        red, yellow, unacknowledged, shelved = self._alarm_counts(frame.snapshot.time_s)
        seeking = None
        if self.driver.seeking is not None:
            seeking = f"{_KIND_NAMES.get(self.driver.seeking, self.driver.seeking.value)} of {self.driver.seek_satellite or 'any satellite'}"
        self.query_one(ClockBar).show(
            ClockState(
                mission_title=self.spec.title + self.title_suffix,
                replay=self.driver.replayer is not None,
                utc=frame.snapshot.utc,
                elapsed_s=frame.snapshot.time_s,
                paused=self.driver.paused,
                speed=self.driver.speed,
                lagging=frame.lagging,
                seeking=seeking,
                red=red,
                yellow=yellow,
                unacknowledged=unacknowledged,
                shelved=shelved,
            )
        )

    def _update_fleet_subtitle(self) -> None:
        table = self.query_one(FleetTable)
        total = len(self.driver.sim.satellite_ids)
        parts = [f"sort: {table.sort_key}"]
        if table.filter_text:
            parts.insert(0, f"filter '{table.filter_text}': {table.row_count} of {total}")
        else:
            parts.insert(0, f"{total} satellites")
        _set_if_changed(self.query_one("#fleet-pane"), "border_subtitle", " · ".join(parts))

    @staticmethod
    def _detail_title(view: SatelliteView) -> str:
        """Only what changes with the selection: a border title that changes every frame would repaint the
        whole detail area (position and altitude are in the link pane)."""
        title = f"Satellite {view.satellite_id}"
        return title + " · MAINTENANCE" if bool(view.snapshot.in_maintenance[view.index]) else title

    mission_screen: MissionScreen | None = None
    title_suffix = ""
    """After the mission title in the clock bar (' · REPLAY' on a recorded run)."""

    def action_mission_panel(self) -> None:
        if self.mission_screen is not None:
            self.mission_screen.dismiss(None)
            return
        screen = MissionScreen()

        def closed(_: None) -> None:
            self.mission_screen = None

        self.mission_screen = screen
        self.push_screen(screen, closed)
        screen.update(self.driver.mission_panel(self.driver.mission_over))
        self._walk("open:mission")

    def _refresh_mission_panel(self) -> None:
        if self._screen_shown(self.mission_screen):
            self.mission_screen.update(self.driver.mission_panel(self.driver.mission_over))

    def _follow_directive(self, directive) -> None:
        """A mission timeline directive: a caption, a move of the view, or the end of the mission (the
        driver has already paused or changed speed)."""
        if directive.kind == "notify":
            severity = {"info": "information", "warning": "warning", "critical": "error"}.get(directive.level, "information")
            self.notify(directive.text, title="Mission", severity=severity, timeout=10)
        elif directive.kind == "focus":
            if directive.satellite is not None and directive.satellite in self.driver.sim.satellite_ids:
                self.select_satellite(directive.satellite)
            if directive.pane in ("fleet", "detail", "map", "alarms", "events"):
                self._focus_view(directive.pane)
            elif directive.pane == "jobs" and self.job_queue is None and self.driver.jobs_enabled:
                self.action_job_queue()
            elif directive.pane == "servicing" and self.servicing_screen is None:
                self.action_servicing()
        elif directive.kind == "end":
            self.notify(f"{directive.text}; paused (space runs on)", title="Mission end", timeout=15)
            if self.driver.sim.objectives is not None and self.mission_screen is None:
                self.action_mission_panel()  # a training mission ends on its debrief
        elif directive.kind == "pause":
            self.notify("the mission paused here; space runs on", title="Mission", timeout=6)
        elif directive.kind == "hint":
            self.notify(directive.text, title="Hint", timeout=15)
        elif directive.kind == "press":
            self._press(directive.text, directive.satellite)
        elif directive.kind == "step":
            self._show_step()
            if not directive.event_id:
                self.notify("every step done: b shows your score", title="Walkthrough", timeout=8)

    # ------------------------------------------------------------------------------------ walkthrough

    _pressing = False
    """The autopilot is pressing a key (the engine has noted that action already)."""

    def _press(self, action: str, satellite: str | None) -> None:
        """An autopilot's ``press``: do what changes the view (views, selection, sort, filters, the job
        queue, servicing and mission screens); time control comes as its own directives."""
        self._pressing = True
        try:
            if action == "select" and satellite is not None and satellite in self.driver.sim.satellite_ids:
                self.select_satellite(satellite)
            elif action.startswith("view:"):
                self._focus_view(action.removeprefix("view:"))
            elif action == "sort":
                self.query_one(FleetTable).action_cycle_sort()
            elif action == "alarms:history":
                self.query_one(AlarmTable).action_toggle_history()
            elif action == "events:filter":
                self.query_one(EventLog).action_cycle_filter()
            elif action == "open:jobs" and self.job_queue is None and self.driver.jobs_enabled:
                self.action_job_queue()
            elif action == "open:servicing" and self.servicing_screen is None:
                self.action_servicing()
            elif action == "open:mission" and self.mission_screen is None:
                self.action_mission_panel()
        finally:
            self._pressing = False

    def _walk(self, action: str, satellite: str | None = None) -> None:
        """Tell a guided walkthrough what the operator just did (its directives come with the next frame)."""
        if self.driver.walkthrough_active and not self._pressing:
            self.driver.note_action(action, satellite)
            if self.driver.paused:
                self.refresh_now()

    def _show_step(self) -> None:
        """The walkthrough bar and the highlighted pane, from the current step."""
        line, highlight = self.driver.walkthrough_line()
        self.query_one(StepPrompt).line = line
        for name in HIGHLIGHTS:
            node = self.query_one("#clock" if name == "clock" else f"#{name}-pane")
            node.set_class(name == highlight, "-step-highlight")
        self.query_one(ViewBar).pointed = highlight if highlight != "clock" else None

    def _seek_finished(self, event: Event) -> None:
        self.notify(event.message, title="Stopped at", timeout=6)
        self._flush_events()
        self.query_one(EventLog).add_note(self.driver.sim.time_s, f"stopped at {event.message}")

    # ----------------------------------------------------------------------------------------- actions

    def _flush_events(self) -> None:
        """Hand the engine events held back since the map and log last redrew to the log."""
        if self._pending_events:
            events, self._pending_events = self._pending_events, []
            self.query_one(EventLog).add_events(events)

    def _note(self, text: str) -> None:
        self._flush_events()
        self.query_one(EventLog).add_note(self.driver.sim.time_s, text)

    def action_toggle_pause(self) -> None:
        paused = self.driver.toggle_pause()
        self._last_tick = time.perf_counter()
        self._note("operator: paused" if paused else f"operator: running at {speed_text(self.driver.speed)}")
        self._walk("pause" if paused else "run")
        self._refresh_soon()

    def action_step(self) -> None:
        frame = self.driver.step_once()
        self._apply_bundle(self._collect(frame))
        self._walk("step")

    def action_rewind(self) -> None:
        """Ask how far back, then go there (a new branch of the timeline once it runs on)."""
        now_min = self.driver.sim.time_s / 60.0
        if now_min < self.driver.sim.step_s / 60.0:
            self.notify("nothing to rewind to yet", severity="warning")
            return

        def answer(minutes: float | None) -> None:
            if minutes is None:
                return
            try:
                step = self.driver.rewind(minutes * 60.0)
            except CommandError as error:
                self.notify(str(error), title="Rewind refused", severity="error")
                return
            archive = self.driver.archive
            branch = f"; branch {archive.branch} of the archive" if archive is not None else ""
            self._alarms_dirty = True
            if self.driver.replayer is not None:
                self._note(f"operator: back to T+{format_clock(self.driver.sim.time_s)} (step {step}) of the recording")
            else:
                self._note(f"operator: rewound to T+{format_clock(self.driver.sim.time_s)} (step {step}): "
                           f"running on makes a new timeline{branch}")
            self.notify(f"rewound to T+{format_clock(self.driver.sim.time_s)}; paused", title="Rewind", timeout=6)
            self.refresh_now()

        self.push_screen(NumberInputScreen("Rewind to mission time", minimum=0.0, maximum=math.floor(now_min * 10) / 10,
                                           unit="min", value=max(0.0, math.floor(now_min) - 60.0)), answer)

    def action_faster(self) -> None:
        self.driver.faster()
        self._note(f"operator: speed {speed_text(self.driver.speed)}")
        self._walk("faster")
        self._refresh_soon()

    def action_slower(self) -> None:
        self.driver.slower()
        self._note(f"operator: speed {speed_text(self.driver.speed)}")
        self._walk("slower")
        self._refresh_soon()

    def action_seek(self, what: str, scope: str) -> None:
        kind = EventKind.AOS if what == "aos" else EventKind.ECLIPSE_ENTRY
        satellite = self.selected_id if scope == "selected" else None
        if scope == "selected" and satellite is None:
            self.notify("select a satellite first", severity="warning")
            return
        self.driver.seek(kind, satellite)
        self._last_tick = time.perf_counter()
        self._note(f"operator: run to next {_KIND_NAMES[kind]} of {satellite or 'any satellite'}")
        self._walk(f"seek:{what}")
        self.refresh_now()

    def action_filter(self) -> None:
        self._show_view("fleet")
        box = self.query_one("#fleet-filter", Input)
        box.display = True
        box.focus()
        self._walk("filter")

    def action_view(self, name: str) -> None:
        self._focus_view(name)
        self._walk(f"view:{name}")

    def _focus_view(self, name: str) -> None:
        self._show_view(name)
        target = {"fleet": FleetTable, "alarms": AlarmTable, "events": EventLog, "detail": SatelliteDetail}.get(name)
        if target is not None:
            self.query_one(target).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The satellite commands work on the main screen only: not over a dialog (no stacked dialogs) or the
        job queue (which does not show the selected satellite)."""
        if action in SATELLITE_ACTIONS and len(self.screen_stack) > 1:
            return False
        if action in COMMAND_ACTIONS and self.driver.replayer is not None:
            return False  # a replay plays the recorded commands only (the footer hides these keys)
        return True

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
        self._walk("open:help")

    def action_command_palette(self) -> None:
        super().action_command_palette()
        self._walk("open:palette")

    @on(Input.Changed, "#fleet-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(FleetTable).filter_text = event.value
        self._update_fleet_subtitle()

    @on(Input.Submitted, "#fleet-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.display = False
        self.query_one(FleetTable).focus()

    def on_key(self, event) -> None:
        if self.driver.autopilot_active and event.key not in AUTOPILOT_KEEPS:  # the operator takes over
            self.driver.take_over()
            self.notify("you have the console: the autopilot has stopped", title="Autopilot", timeout=6)
        box = self.query_one("#fleet-filter", Input)
        if event.key == "escape" and box.has_focus:
            box.value = ""
            box.display = False
            self.query_one(FleetTable).focus()
            event.stop()

    @on(GroundTrackMap.DensityChanged)
    def _map_legend(self, message: GroundTrackMap.DensityChanged) -> None:
        _set_if_changed(self.query_one("#map-pane"), "border_subtitle", message.legend)

    @on(FleetTable.Selected)
    def _selected(self, message: FleetTable.Selected) -> None:
        self.selected_id = message.satellite_id
        self._refresh_soon()
        self._walk("select", message.satellite_id)

    def select_satellite(self, satellite_id: str) -> None:
        """Select a satellite by id (palette): clears a filter that hides it."""
        table = self.query_one(FleetTable)
        if satellite_id not in table.rows():
            table.filter_text = ""
            box = self.query_one("#fleet-filter", Input)
            box.value = ""
            box.display = False
        table.select(satellite_id)
        self.selected_id = satellite_id
        self._show_view("fleet" if self.narrow else self.current_view)
        self.refresh_now()

    # ------------------------------------------------------------------------------------------ alarms

    def _apply_command(self, command) -> bool:
        """Apply one engine command; a refusal is shown and logged with the engine's reason."""
        try:
            self.driver.apply(command)
        except CommandError as error:
            self.notify(str(error), title="Command refused", severity="error")
            self._note(f"operator: refused: {error}")
            return False
        self._alarms_dirty = True
        return True

    @on(AlarmTable.AcknowledgeRequested)
    def _acknowledge(self, message: AlarmTable.AcknowledgeRequested) -> None:
        done = sum(self._apply_command(AcknowledgeAlarm(alarm_id)) for alarm_id in message.alarm_ids)
        if done:
            self.notify(f"acknowledged {done} alarm{'s' if done != 1 else ''}", timeout=3)
        self.refresh_now()

    @on(AlarmTable.ShelveRequested)
    def _shelve(self, message: AlarmTable.ShelveRequested) -> None:
        alarm = next((a for a in self._alarms if a.id == message.alarm_id), None)
        if alarm is None:
            return

        def shelve(choice: tuple[float, str] | None) -> None:
            if choice is not None and self._apply_command(ShelveAlarm(alarm.id, choice[0], choice[1])):
                self.refresh_now()

        self.push_screen(ShelveScreen(alarm.id, alarm.satellite, alarm.quantity), shelve)

    @on(AlarmTable.UnshelveRequested)
    def _unshelve(self, message: AlarmTable.UnshelveRequested) -> None:
        if self._apply_command(UnshelveAlarm(message.alarm_id)):
            self.refresh_now()

    # ----------------------------------------------------------------------------------------- palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every operator action with its key, then Textual's own commands."""
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            key = binding.key_display or binding.key.split(",")[0]
            yield SystemCommand(f"{binding.description} (key {key})", _ACTION_HELP.get(binding.id or "", binding.description), self._runner(binding.action))
        for title, help_text, key, action in _PANE_ACTIONS:
            yield SystemCommand(f"{title} (key {key})", help_text, self._runner(action))
        yield from super().get_system_commands(screen)

    def _runner(self, action: str):
        async def run() -> None:
            await self.run_action(action)

        return run

    def action_pane(self, widget: str, action: str) -> None:
        """Run a pane's action from the palette (the pane need not have focus)."""
        target = {"fleet": FleetTable, "alarms": AlarmTable, "events": EventLog}[widget]
        pane = self.query_one(target)
        self._show_view(widget)
        pane.focus()
        self.call_later(pane.run_action, action)


def _slow_period(cost_s: float) -> float:
    """When a full-screen list is next gathered while running: ``SLOW_PANES_PERIOD_S``, or longer when
    gathering it took more than ``SLOW_PANES_WORK_SHARE`` of that (the job views of a megaconstellation's
    20,000 jobs take about a quarter of a second: then every 2.5 s)."""
    return max(SLOW_PANES_PERIOD_S, cost_s / SLOW_PANES_WORK_SHARE)


class CurrentValues(Mapping[int, float]):
    """Alarm id -> the alarmed quantity's value in a snapshot (the hottest present GPU for ``gpu_temp_c``),
    computed per lookup; ids of alarms whose quantity the snapshot lacks are missing."""

    def __init__(self, snapshot, where: dict[int, tuple[str, int]]) -> None:
        self._snapshot = snapshot
        self._where = where

    def __getitem__(self, alarm_id: int) -> float:
        quantity, row = self._where[alarm_id]
        snapshot = self._snapshot
        if quantity == "gpu_temp_c":
            temps = snapshot.gpu_temp_c[row][snapshot.gpu_present[row]]
            return float(temps.max()) if temps.size else float("nan")
        values = getattr(snapshot, quantity, None)
        if values is None:
            raise KeyError(alarm_id)
        return float(values[row])

    def __iter__(self) -> Iterator[int]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


def _set_if_changed(widget, attribute: str, value: str) -> None:
    """Border titles repaint their widget when assigned, even with the same text."""
    if getattr(widget, attribute) != value:
        setattr(widget, attribute, value)


AUTOPILOT_KEEPS = frozenset({"space", "plus", "equals_sign", "minus", "full_stop", "question_mark", "escape", "b",
                             "1", "2", "3", "4", "5", "tab", "shift+tab"})
"""Keys that leave a demo's autopilot playing: time control (run, pause, speed, step), help, the mission
panel, switching views, escape. Any other key takes over."""

SATELLITE_ACTIONS = frozenset({"drain", "reset_gpu", "gpu_power", "power_cap", "toggle_link", "force_handover", "seek", "filter",
                               "inject_fault", "fault_list", "servicing", "maintenance"})
"""Actions on the selected satellite or the fleet table (see ``check_action``)."""

COMMAND_ACTIONS = frozenset({"drain", "reset_gpu", "gpu_power", "power_cap", "toggle_link", "force_handover",
                             "inject_fault", "maintenance"})
"""Actions that send commands or change the timeline: off in a replay."""

_KIND_NAMES = {EventKind.AOS: "AOS", EventKind.ECLIPSE_ENTRY: "eclipse"}

_ACTION_HELP = {
    "sim-pause": "Pause the simulation or run it at the selected speed",
    "sim-step": "Advance exactly one engine step (pauses first)",
    "sim-faster": "Next speed up: 1x ... 10,000x, then as fast as possible",
    "sim-slower": "Next speed down",
    "seek-aos": "Run until the selected satellite's next acquisition of signal, then pause",
    "seek-aos-any": "Run until any satellite's next acquisition of signal, then pause",
    "seek-eclipse": "Run until the selected satellite next enters eclipse, then pause",
    "seek-eclipse-any": "Run until any satellite next enters eclipse, then pause",
    "job-queue": "Every job of the fleet: state, reason, progress, checkpoint age, wait; cancel, hold, release, requeue, priority",
    "sat-drain": "Drain the selected satellite (no new work; its jobs checkpoint and move), or return it to service",
    "gpu-reset": "Reset one GPU of the selected satellite (its job requeues from its checkpoint)",
    "gpu-power": "Switch one GPU of the selected satellite off (its job requeues) or back on",
    "gpu-cap": "Cap the power of every GPU of the selected satellite, or lift the cap",
    "net-link": "Take one of the selected satellite's laser links out of service, or return it",
    "net-handover": "End the selected satellite's ground link now; that station does not take it back this pass",
    "fault-inject": "Instructor: inject a fault (GPU, satellite, laser link, station or fleet-wide), previewed and confirmed",
    "fault-list": "Instructor: the active faults, with clearing (hidden first on a training mission)",
    "mission-panel": "The briefing, objectives with their status and the score, hints, and the debrief at the end",
    "servicing": "Servicing vehicles and missions: phases, ETAs, Δv, risk and cost; dispatch (n) and abort (a)",
    "sat-maintenance": "Put the selected satellite in maintenance mode (its alarms shelved with a reason), or end it",
    "fleet-filter": "Show only satellites whose id contains the text",
    "help": "Every key of every pane",
    "sim-rewind": "Go back to an earlier mission time of this run (exact: the nearest checkpoint and the journal); running on branches the timeline",
}

_PANE_ACTIONS = (
    ("Sort fleet table", "Cycle the fleet table's sort: worst first, id, state of charge, GPU or radiator temperature", "s", "pane('fleet', 'cycle_sort')"),
    ("Acknowledge alarm", "Acknowledge the alarm under the cursor in the alarms pane", "a", "pane('alarms', 'acknowledge')"),
    ("Acknowledge all alarms", "Acknowledge every unacknowledged alarm shown", "A", "pane('alarms', 'acknowledge_all')"),
    ("Shelve alarm", "Hide the alarm under the cursor for a while, with a reason", "z", "pane('alarms', 'shelve')"),
    ("Unshelve alarm", "Bring back the shelved alarm under the cursor", "u", "pane('alarms', 'unshelve')"),
    ("Alarm history", "Switch the alarms pane between active alarms and the full history", "h", "pane('alarms', 'toggle_history')"),
    ("Event severity filter", "Cycle the event log's filter: all, warning and above, critical", "v", "pane('events', 'cycle_filter')"),
    ("Routine events", "Hide or show the event log's routine INFO events: passes, eclipses, links coming and going, "
     "heaters, jobs submitted, started, checkpointed and completed", "V", "pane('events', 'toggle_routine')"),
)


def make_app(mission: str | MissionSpec, *, seed: int | None = None, tick_hz: float | None = DEFAULT_TICK_HZ,
             theme: str = "textual-dark", record_to: Path | None = None) -> MissionControlApp:
    """The one constructor the CLI, tests and benchmarks use (``record_to``: an archive file to record into)."""
    from engine import load_mission

    spec = load_mission(mission) if isinstance(mission, str) else mission
    return MissionControlApp(spec, seed=seed, tick_hz=tick_hz, theme=theme, record_to=record_to)


def make_replay_app(archive: str | Path, *, tick_hz: float | None = DEFAULT_TICK_HZ, theme: str = "textual-dark",
                    branch: int = 1) -> MissionControlApp:
    """The console on a recorded run: the mission, seed and journal from the archive, re-simulated, checked
    against the recorded telemetry as it plays (a difference pauses it and is reported). ArchiveError for
    a file that is not a readable archive."""
    from engine.archive import ArchiveError, ArchiveReader
    from engine.replay import RecordingCheck, Replayer

    reader = ArchiveReader(archive)
    last = reader.last_step(branch)
    if last is None:
        raise ArchiveError(f"{archive}: nothing was recorded (no step was committed)")
    spec = reader.mission_spec()
    replayer = Replayer(spec, reader.journal(branch), seed=reader.seed, autopilot=reader.autopilot, step_s=reader.step_s)
    driver = Driver(replayer.sim, end_s=last[1], replayer=replayer, recording_check=RecordingCheck(reader, branch),
                    recorded_journal=tuple(replayer.entries))
    driver.checkpoints = Checkpoints(replayer.sim, every_s=REWIND_CHECKPOINT_S, keep=REWIND_CHECKPOINTS_KEPT)
    app = MissionControlApp(spec, tick_hz=tick_hz, theme=theme, driver=driver)
    app.title_suffix = " · REPLAY"
    return app
