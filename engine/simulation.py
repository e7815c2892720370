"""The simulation: one object that owns the fleet state and advances it one step at a time.

Who calls it: the console driver, the headless runner (``omc run``), benchmarks and tests. What it never
does: read a wall clock, touch the network, print, or know about any UI. Time moves only when ``step`` or
``run_until`` is called; results depend only on the mission, the seed and the calls made.

Order of one step (all vectorised over satellites and GPUs):
orbit (SGP4 for every satellite at once) -> frames -> Sun (DE421) -> sunlight (conical shadow) ->
ground visibility and passes -> GPU demand (throttle, shedding) -> power (array, PCDU, battery) ->
thermal (junctions, loop, radiator, array) -> GPU over-temperature -> shedding policy -> events ->
telemetry limits and alarms -> statistics.

Operator commands (``engine.commands``) come in through ``apply`` only.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from engine.alarms import Alarm, AlarmBoard
from engine.commands import (
    FAULT_COMMANDS,
    GPU_COMMANDS,
    SERVICING_COMMANDS,
    JOB_COMMANDS,
    NETWORK_COMMANDS,
    ON_BOARD_COMMANDS,
    AcknowledgeAlarm,
    AbortServicing,
    CancelJob,
    ClearFault,
    Command,
    CommandError,
    DisableLink,
    DispatchServicer,
    DrainSatellite,
    EndMaintenance,
    EnableLink,
    ForceHandover,
    InjectFault,
    PendingCommand,
    HoldJob,
    ReleaseJob,
    RequeueJob,
    ResetGpu,
    SetGpuPower,
    SetGpuPowerCap,
    SetJobPriority,
    SetMaintenance,
    SetUtilization,
    ShelveAlarm,
    UndrainSatellite,
    UnshelveAlarm,
)
from engine.checkpoint_paths import NetworkCheckpointPaths
from engine.compute_setup import SolarParticleSchedule, build_gpu_health, build_workload, has_workload, orbital_planes
from engine.constants import KELVIN, SECONDS_PER_YEAR
from engine.durations import format_delay, format_duration
from engine.ephemeris import MissionClock, SunEphemeris
from engine.events import Event, EventKind, Severity
from engine.fault_catalogue import FaultKind
from engine.fault_control import FaultControl
from engine.fault_schedule import RandomFaults
from engine.objectives import ObjectiveTracker
from engine.orbit_track import DEFAULT_KNOT_S, OrbitTrack
from engine.timeline import MissionTimeline
from engine.timeline_actions import Directive, command_name
from engine.journal import JournalEntry
from engine.walkthrough import CONSOLE_ACTIONS, Walkthrough
from engine.servicing import MissionStatus, ServicingEventKind, ServicingRefused
from engine.servicing_control import ServicingControl
from engine.faults import Fault, FaultEnd
from engine.fleet import FleetHardware
from engine.frames import geodetic_from_ecef, rotation_teme_to_ecef
from engine.history import SatelliteHistory, TelemetryHistory
from engine.ground import ContactTracker, GroundNetwork, Pass, predict_passes
from engine.gpu_health import GpuHealthState, GpuHealthStep, GpuTransition
from engine.gpus import GpuDemand, GpuState, nonzero_2d, per_satellite_sum
from engine.jobs import JobState, JobTransition, JobView
from engine.mission.models import TelemetryMode
from engine.mission.spec import MissionSpec
from engine.isl_links import LinkState
from engine.network import NetworkModel, NetworkStep
from engine.telemetry_downlink import TelemetryDownlink
from engine.power import Battery, PowerFlows, ShedLevel, balance_power, shed_level, solar_array_power_w
from engine.snapshot import FleetSnapshot, frozen
from engine.statistics import RunStatistics
from engine.sunlight import SUNLIT_THRESHOLD, illumination_fraction, solar_flux_w_m2, subsolar_cosine
from engine.thermal import ThermalState, vertical_plate_view_factor
from engine.tracks import GroundTrackPath, SunlightForecast, forecast_sunlight, ground_track
from engine.workload import Workload

_GPU_STATE_SEVERITY = {
    GpuHealthState.OK: Severity.INFO,
    GpuHealthState.DEGRADED: Severity.WARNING,
    GpuHealthState.RESETTING: Severity.WARNING,
    GpuHealthState.FAILED: Severity.CRITICAL,
    GpuHealthState.OFF: Severity.INFO,
}
_GPU_CAUSE_TEXT = {
    "tid_onset": "radiation dose passed the HBM degradation onset",
    "sefi": "hung (single-event functional interrupt), resetting",
    "latchup": "latch-up, power cycling",
    "latchup_burnout": "burned out by a latch-up",
    "permanent_failure": "permanent hardware failure",
    "reset_done": "back in service",
    "operator_reset": "reset by the operator",
    "power_off": "powered off by the operator",
    "power_on": "powering on (booting)",
}
_JOB_EVENTS = {
    JobState.PENDING: (EventKind.JOB_SUBMITTED, Severity.INFO),
    JobState.RUNNING: (EventKind.JOB_STARTED, Severity.INFO),
    JobState.SUSPENDED: (EventKind.JOB_SUSPENDED, Severity.INFO),
    JobState.PREEMPTED: (EventKind.JOB_PREEMPTED, Severity.INFO),
    JobState.NODE_FAIL: (EventKind.JOB_NODE_FAIL, Severity.WARNING),
    JobState.REQUEUED: (EventKind.JOB_REQUEUED, Severity.INFO),
    JobState.COMPLETED: (EventKind.JOB_COMPLETED, Severity.INFO),
    JobState.FAILED: (EventKind.JOB_FAILED, Severity.CRITICAL),
    JobState.CANCELLED: (EventKind.JOB_CANCELLED, Severity.INFO),
    JobState.TIMEOUT: (EventKind.JOB_TIMEOUT, Severity.WARNING),
}
"""Event kind of a job transition by target state (CHECKPOINTING is not logged: checkpoint *completion* is,
as JOB_CHECKPOINTED; a requeued job's instant REQUEUED -> PENDING is logged once, as REQUEUED)."""

def _directive_text(directive: Directive) -> str:
    """How a directive reads in the event log."""
    if directive.kind == "notify":
        return directive.text
    if directive.kind == "focus":
        return f"focus on {directive.pane}" + (f" ({directive.satellite})" if directive.satellite else "")
    if directive.kind == "set_speed":
        return f"speed {directive.speed:g}x"
    if directive.kind == "end":
        return f"mission ends: {directive.text}"
    if directive.kind == "press":
        return f"presses {directive.text}" + (f" on {directive.satellite}" if directive.satellite else "")
    return "pause"


class _ConditionWatcher:
    """A ``when`` condition (``engine.conditions``) watched over time, for the timeline."""

    def __init__(self, expression: str):
        from engine.conditions import ConditionWatch, parse_condition

        self._watch = ConditionWatch(parse_condition(expression))

    def update(self, time_s: float, source) -> bool:
        """True at the check where the condition has just held for its ``for`` duration."""
        return self._watch.observe(source)


def _condition_watch(expression: str) -> _ConditionWatcher:
    return _ConditionWatcher(expression)


_SERVICING_WARNINGS = (ServicingEventKind.DOCK_FAILED, ServicingEventKind.SWAP_FAILED,
                       ServicingEventKind.MISSION_ABORTED, ServicingEventKind.MISSION_FAILED)

_LINK_EVENTS = {
    LinkState.DOWN: (EventKind.LINK_DOWN, Severity.INFO),
    LinkState.ACQUIRING: (EventKind.LINK_ACQUIRING, Severity.INFO),
    LinkState.UP: (EventKind.LINK_UP, Severity.INFO),
    LinkState.DEGRADED: (EventKind.LINK_DEGRADED, Severity.INFO),
    LinkState.FAILED: (EventKind.LINK_FAILED, Severity.WARNING),
    LinkState.DISABLED: (EventKind.LINK_DISABLED, Severity.INFO),
}
"""Event kind of a laser-link transition by target state (an operator's enable is LINK_ENABLED, see apply)."""


class EngineStateError(RuntimeError):
    """The state stopped being finite: a modelling bug, reported loudly instead of propagating NaN."""


class Simulation:
    """A constellation stepping through orbit, sunlight, ground contacts, power and thermal.

    ``Simulation(spec, seed=None)``: ``seed`` None uses the mission's seed. ``step_s`` overrides the
    mission step (``omc run --step``). ``autopilot`` False starts with the mission's ``[[autopilot]]``
    not playing (a trainee at the console of a training mission whose autopilot is its reference play).
    """

    def __init__(self, spec: MissionSpec, seed: int | None = None, step_s: float | None = None, autopilot: bool = True):
        self.spec = spec
        self._timeline_listens = False
        """Whether the timeline has ``on`` events (every recorded event is shown to it then)."""
        self.command_log: list[tuple[float, str, str]] = []
        """Every command applied, queued or refused: (time_s, who, what), for the debrief."""
        self.seed = spec.seed if seed is None else int(seed)
        health_rng, spe_rng, workload_rng, network_rng, fault_rng, servicing_rng = np.random.default_rng(self.seed).spawn(6)
        self.step_s = float(spec.step_s if step_s is None else step_s)
        if not self.step_s > 0:
            raise ValueError("step must be positive")
        self.clock = MissionClock(spec.epoch)
        self.sun = SunEphemeris(self.clock, self.step_s)
        self.satellite_ids = tuple(s.id for s in spec.satellites)
        self._index = {sat_id: i for i, sat_id in enumerate(self.satellite_ids)}
        self._satrecs = [Satrec.twoline2rv(s.tle[0], s.tle[1], WGS72) for s in spec.satellites]
        self._orbits = SatrecArray(self._satrecs)
        self._track = OrbitTrack(self._satrecs, self._orbits, self.clock,
                                 DEFAULT_KNOT_S if self.step_s < DEFAULT_KNOT_S else 0.0)
        """Fleet positions: SGP4 every minute of mission time and cubic Hermite between (``engine.orbit_track``);
        direct SGP4 at every step for steps of a minute or longer."""
        self.hw = FleetHardware(spec.satellites)
        self.network = GroundNetwork(spec.ground_stations)
        self.contacts = ContactTracker(self.network, len(self.satellite_ids))
        self._station_lat, self._station_lon = frozen(self.network.lat_deg), frozen(self.network.lon_deg)
        self.battery = Battery(self.hw)
        self._array_output_fraction = np.ones(len(self.satellite_ids))
        """What the array telemetry says of the array: output over the healthy array's, held in eclipse."""
        self.faults = FaultControl(self)
        """Injected faults and their effects (``InjectFault``, ``ClearFault``; ``faults.book`` keeps them)."""
        self.hide_faults = spec.mission.hide_faults
        allowed = spec.mission.allowed_commands
        self.allowed_commands: frozenset[str] | None = None if allowed is None else frozenset(allowed)
        """The operator commands a training mission allows (None: every one); see ``apply``."""
        self.servicing = ServicingControl(self, spec, servicing_rng)
        """Servicing vehicles, their missions, and maintenance mode."""
        self.timeline = MissionTimeline(spec.events, watch=_condition_watch)
        """The mission's [[event]] entries (faults, commands, directives) and what fired."""
        self._timeline_faults: dict[str, list[str]] = {}
        self.autopilot = MissionTimeline(spec.autopilot, watch=_condition_watch)
        """The demo's operator script (``[[autopilot]]``); it plays while ``autopilot_active``."""
        self.autopilot_active = bool(spec.autopilot) and autopilot
        self.autopilot_started = self.autopilot_active
        """Whether the autopilot played from the start (False: left out, e.g. a trainee at the console)."""
        self.objectives = ObjectiveTracker(spec.objectives, spec.scoring, spec.duration_s) if spec.objectives else None
        self.hints = MissionTimeline([hint.as_event() for hint in spec.hints], watch=_condition_watch)
        """A training mission's hints (``[[hint]]``); ``hints.fired`` records every showing."""
        """A training mission's objectives and score (None without [[objective]])."""
        self.walkthrough = Walkthrough(spec.steps)
        """A guided walkthrough's steps (``[[step]]``); the console reports actions with ``note_action``."""
        self._timeline_listens = any(event.on is not None for event in (*spec.events, *spec.autopilot))
        self.directives: list[Directive] = []
        """Timeline directives for the console (notify, focus, pause, set_speed, end), oldest first."""
        self._directives_read = 0
        self.end_reason: str | None = None
        """Set when a timeline ``end`` action fired: the mission is over (runs stop)."""
        self.random_faults = RandomFaults(spec.fault_rates, self.satellite_ids, self.network.ids, self.hw.gpu_present,
                                          [s.shell for s in spec.satellites], fault_rng)
        self.thermal = ThermalState(self.hw)
        self.gpus = GpuState(self.hw)
        self.policy = spec.power_policy
        self.utilization = spec.workload.utilization
        n = len(self.satellite_ids)
        self.shed_level = shed_level(self.policy, self.battery.soc, np.zeros(n, dtype=np.int8))
        self.heater_on = np.zeros(n, dtype=bool)
        self.battery_low = self.battery.soc < self.policy.battery_low_soc
        self.power_deficit = np.zeros(n, dtype=bool)
        self.orbit_error = np.zeros(n, dtype=bool)
        self.time_s = 0.0
        self.step_index = 0
        self.journal: list[JournalEntry] = []
        """What the operator did that the mission and seed do not say (``engine.journal``): replaying it
        on a new Simulation of the same mission and seed gives the same run (``engine.replay``)."""
        self._events: list[Event] = []
        self.event_counts: dict[str, int] = {}
        self._last_good_teme = np.zeros((n, 3))
        self.statistics = RunStatistics(n, self.battery.energy_j, self.hw.gpu_present)
        self._geometry(0.0)
        # network: laser links, ground links, routes (at the epoch: links that can close are up)
        self.comms = NetworkModel(spec, self._satrecs, self.clock, self.network, network_rng)
        self.comms.settle(0.0, self._teme_km, self._ecef_km, self._sin_elevation, self._terminals_powered())
        self._comms_w = self.comms.terminal_power_w()
        self.ideal_telemetry = spec.network.telemetry == TelemetryMode.IDEAL
        self.heard_s = np.zeros(len(spec.satellites))
        """(N,) newest on-board time whose telemetry has reached the ground (the ground knows the state at
        the epoch)."""
        self._demand, self._flows = self._initial_state()
        self._throttled_any = np.zeros(n, dtype=bool)
        self.contacts.update(0.0, self._sin_elevation)
        self.alarm_board = AlarmBoard(spec.limits, self.satellite_ids)
        self._evaluate_alarms(0.0)
        self._gpu_installed = self.hw.gpu_count.astype(float)
        self._throttled_count = np.zeros(n, dtype=np.int64)
        self._junction_c_cache: tuple[np.ndarray, np.ndarray] | None = None
        self._throttled_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.statistics.observe_state(self.battery.soc, self.thermal.junction_k, self.thermal.radiator_k)
        self.telemetry_history = TelemetryHistory(n)
        self._record_history(0.0)

        # compute: GPU health under radiation, and the jobs (None: the mission runs a synthetic load)
        self.health = build_gpu_health(spec, self._satrecs, self.clock, self.hw.gpu_present, health_rng)
        self.solar_particle_events = SolarParticleSchedule(spec, spe_rng)
        self.workload: Workload | None = None
        if has_workload(spec):
            self.workload = build_workload(spec, orbital_planes(spec.satellites), self.hw.gpu_present, workload_rng,
                                           self.satellite_ids, self.health.params,
                                           NetworkCheckpointPaths(self.comms, self.satellite_ids))
        self._job_utilization = spec.workload.job_utilization
        if self.workload is not None:
            self.workload.results_need_route = not self.ideal_telemetry
            if self.workload.results_need_route:
                self.workload.set_reachable(self.comms.routes.reachable)
        self._reachable_before = self.comms.routes.reachable
        self._gang_links = self.workload is not None and spec.network.gang_interconnect == "laser"
        """Gangs across satellites need laser links (placed within linked sets, stalled without links)."""
        if self._gang_links:
            self._planes = orbital_planes(spec.satellites)
            self._groups = self.comms.gang_groups(self._planes)
            self._groups_version = self.comms.links.version
            self.workload.set_groups(self._groups)
        self._killed = np.zeros(self.hw.gpu_present.shape, dtype=bool)
        """GPUs whose process died in the last step (the workload ends those jobs at the next step's start)."""
        self._not_drained = np.zeros(n, dtype=bool)
        self._no_jobs = frozen(np.full(self.hw.gpu_present.shape, -1, dtype=np.int64))
        self.gpu_power_cap_w = np.full(n, np.nan)
        """Operator's per-GPU power cap per satellite, W (NaN: none)."""
        self._cap_fraction: np.ndarray | None = None
        self._radiation_multiplier = np.ones(n)
        self._spe_active = self.solar_particle_events.active(0.0)
        self.silent_corruptions = 0
        """Undetected SDCs so far (ground truth: the operator cannot see these)."""
        self._pending: list[PendingCommand] = []
        self.network_commands = {"queued": 0, "delivered": 0, "refused_on_delivery": 0}
        self.downlink = TelemetryDownlink(self._telemetry_now())
        """Telemetry as the ground last received it from each satellite (``snapshot(view="ground")``)."""

    # ------------------------------------------------------------------------------------------- stepping

    def step(self, dt_s: float | None = None) -> None:
        """Advance one mission step (or `dt_s` seconds)."""
        dt = self.step_s if dt_s is None else float(dt_s)
        if not dt > 0:
            raise ValueError("a step must move time forward")
        if dt != self.step_s:
            self.journal.append(JournalEntry(self.step_index, self.time_s, "step", dt_s=dt))
        previous_illumination = self._illumination
        previous_time = self.time_s
        new_time = self.time_s + dt
        hw = self.hw
        if self.timeline.watching:
            self.timeline.check(previous_time, self._condition_source())
        if self.autopilot_active:
            self._play_autopilot(previous_time)
        if self.hints.watching:
            self._show_hints(previous_time)
        if self.timeline.next_s <= previous_time or self.random_faults.rates:
            self._mission_faults(previous_time, dt)
        condition = self.faults.book.condition
        available = self.health.usable
        if condition.rebooting.any():
            available = available & ~condition.rebooting[:, None]
        work_level = self.shed_level
        if self.workload is not None:  # the scheduler places work for this step on GPUs usable now
            usable = available & ~self.gpus.shutdown
            if (work_level >= ShedLevel.SAFE).any():
                usable &= (work_level < ShedLevel.SAFE)[:, None]
            headroom = (work_level == ShedLevel.NOMINAL) & ~self._throttled_any
            _, busy = self.workload.begin_step(previous_time, usable, self._killed, headroom, self._not_drained,
                                               self._throttled_any)
            utilization = busy * self._job_utilization
        else:
            utilization = self.utilization
        self._geometry(new_time)
        network_step = self.comms.step(previous_time, new_time, self._teme_km, self._ecef_km, self._sin_elevation,
                                       self._terminals_powered())
        self._comms_w = self.comms.terminal_power_w()
        if self._gang_links and self.comms.links.version != self._groups_version:
            self._groups_version = self.comms.links.version
            groups = self.comms.gang_groups(self._planes)
            if not np.array_equal(groups, self._groups):
                self._groups = groups
                self.workload.set_groups(groups)  # new gangs from the next step's pass

        demand = self.gpus.demand(self.thermal.junction_k, self.thermal.loop_k, self.shed_level, utilization, self.policy, dt,
                                  available=available, operator_cap=self._cap_fraction)
        loop_c = self.thermal.loop_k - KELVIN
        heater_was_on = self.heater_on
        self.heater_on = np.where(loop_c < hw.heater_on_c, True, np.where(loop_c > hw.heater_off_c, False, self.heater_on))
        heater_request = np.where(self.heater_on, hw.heater_power_w, 0.0)
        age_years = new_time / SECONDS_PER_YEAR
        solar_available = solar_array_power_w(hw, self._flux, self._illumination, self.thermal.array_k - KELVIN, age_years)
        if self.faults.any_active or self.faults.book.version:
            output = condition.array_factor * condition.sun_factor
            solar_available = solar_available * output
            self._array_output_fraction = np.where(self._illumination >= SUNLIT_THRESHOLD, output, self._array_output_fraction)
        flows = balance_power(hw, self.battery, solar_available, per_satellite_sum(demand.power_w), heater_request, dt,
                              self._comms_w)
        fully_supplied = bool((flows.gpu_supply_fraction == 1.0).all())  # the usual case: skip the (N, G) products
        gpu_power = demand.power_w if fully_supplied else demand.power_w * flows.gpu_supply_fraction[:, None]
        supplied_speed = demand.speed if fully_supplied else demand.speed * flows.gpu_supply_fraction[:, None]

        loop_heat = flows.bus_w + flows.heater_w + flows.losses_w
        environment = self.thermal.radiator_environment_w(self._flux, self._illumination, self._subsolar_cos, self._view_factor)
        radiated = self.thermal.step(dt, gpu_power, loop_heat, environment)
        self.thermal.step_array(dt, self._flux, self._illumination, self._subsolar_cos, self._view_factor, flows.solar_used_w)
        shut_down, restarted = self.gpus.update_shutdown(self.thermal.junction_k)

        health = self._step_health(previous_time, new_time, dt)
        job_transitions: tuple[JobTransition, ...] = ()
        if self.workload is not None:
            paused = work_level >= ShedLevel.PAUSED
            job_speed = supplied_speed
            if self._gang_links:
                factor = self.comms.gang_slowdown(self.workload.spanning_gpus(), job_speed.shape, self._groups)
                if factor is not None:
                    job_speed = job_speed * factor
            if paused.any():
                job_speed = np.where(paused[:, None], 0.0, job_speed)
            job_transitions = self.workload.finish_step(dt, job_speed, gpu_power).transitions
            self.workload.deliver_results(self._reachable_before, self.comms.routes.reachable, previous_time, new_time)
            if self.workload.results_need_route:
                self.workload.set_reachable(self.comms.routes.reachable)
        self._reachable_before = self.comms.routes.reachable

        previous_level = self.shed_level
        self.shed_level = shed_level(self.policy, self.battery.soc, self.shed_level)
        self._demand = GpuDemand(
            power_w=gpu_power,
            powered=demand.powered,
            utilization=demand.utilization,
            speed=supplied_speed,
            thermal_cap=demand.thermal_cap,
        )
        self._flows = flows

        sunlit_before = previous_illumination >= SUNLIT_THRESHOLD
        sunlit_now = self._illumination >= SUNLIT_THRESHOLD
        entries = sunlit_before & ~sunlit_now
        throttled = self._throttled(demand)
        rise, fall = self.contacts.update(new_time, self._sin_elevation)

        first_new_event = len(self._events)
        self._emit_step_events(
            previous_time, new_time, previous_illumination, entries, sunlit_now & ~sunlit_before,
            rise, fall, previous_level, throttled, shut_down, restarted, heater_was_on, flows,
        )
        self._emit_compute_events(previous_time, new_time, health, job_transitions)
        self._account_network(network_step, previous_time, new_time)
        self._events[first_new_event:] = sorted(self._events[first_new_event:], key=lambda event: event.time_s)
        self._evaluate_alarms(new_time)
        if not self.ideal_telemetry:
            self.downlink.receive(self._in_contact(), self._telemetry_now())
        self.statistics.accumulate(
            dt,
            sunlit_now,
            entries,
            flows,
            radiated,
            per_satellite_sum(self._demand.utilization * self._demand.speed),
            self._gpu_installed,
            self.shed_level == ShedLevel.SAFE,
            self._throttled_count,
        )
        if shut_down.any():
            self.statistics.overtemp_shutdowns += per_satellite_sum(shut_down)
        self.statistics.observe_state(self.battery.soc, self.thermal.junction_k, self.thermal.radiator_k)
        self._check_finite(new_time)
        self.time_s = new_time
        self.step_index += 1
        if self.faults.any_active:
            self._expire_faults(new_time)
        if self.servicing.enabled:
            self._step_servicing(previous_time, new_time)
        if self.walkthrough.waiting_on_check:
            self._advance_walkthrough()
        if self.objectives is not None and self.objectives.pending:
            self._record_objectives(self.objectives.update(new_time, self._condition_source()))
        self._deliver_pending()  # queued commands reach satellites with a route now, stamped with the step's end
        if self.telemetry_history.due(new_time):
            self._record_history(new_time)

    def run_until(self, time_s: float) -> None:
        """Step until the mission time reaches `time_s` (the last step is shortened to land on it)."""
        while self.time_s + self.step_s <= time_s + 1e-9:
            self.step()
        remainder = time_s - self.time_s
        if remainder > 1e-9:
            self.step(remainder)

    # ------------------------------------------------------------------------------------------ commands

    def apply(self, command: Command, source: str = "operator") -> None:
        """Apply one operator command, or refuse it with CommandError (and change nothing). ``source``
        names who sent it in the log ('operator', or 'timeline event X' for a mission's own commands).

        A command executed on board (``ON_BOARD_COMMANDS``) for a satellite with no route to the ground is
        validated now and queued; it is carried out at the first step end when the satellite has a route
        (``pending_commands``), or refused then, with an event, if it no longer applies.

        A training mission's ``allowed_commands`` limits what the operator may send (the mission's own
        timeline and autopilot are not limited)."""
        try:
            if source == "operator" and self.allowed_commands is not None:
                name = command_name(command)
                if name not in self.allowed_commands:
                    allowed = ", ".join(sorted(self.allowed_commands)) or "none"
                    raise CommandError(f"this training mission does not allow {name.replace('_', ' ')} (allowed: {allowed})")
            if isinstance(command, ON_BOARD_COMMANDS) and not self.ideal_telemetry:
                targets = self._on_board_targets(command)
                if not self._in_contact()[list(targets)].any():
                    description = self._describe(command)
                    names = tuple(self.satellite_ids[t] for t in targets)
                    self._pending.append(PendingCommand(command, names, self.time_s, description, source))
                    self.network_commands["queued"] += 1
                    self._record(Event(self.time_s, EventKind.OPERATOR_COMMAND, Severity.INFO, names[0],
                                       f"{source}: {description}: queued, no route to {' or '.join(names)} until contact"))
                    self.command_log.append((self.time_s, source, f"{description}: queued until contact"))
                else:
                    self._apply_now(command, source=source)
            else:
                self._apply_now(command, source=source)
        except CommandError as error:
            self.command_log.append((self.time_s, source, f"refused {type(command).__name__}: {error}"))
            raise
        if source == "operator":
            self.journal.append(JournalEntry(self.step_index, self.time_s, "command", command))
        if (source == "operator" or source.startswith("autopilot")) and self.walkthrough.current is not None:
            self._observe_action(f"command:{command_name(command)}", getattr(command, "satellite", None))

    def note_action(self, action: str, satellite: str | None = None) -> None:
        """The operator did `action` (``engine.walkthrough.CONSOLE_ACTIONS``; commands are reported by
        ``apply`` itself) on `satellite`: a guided walkthrough's current step may be done now. Changes
        nothing else (it is journalled while a walkthrough has steps left, for an exact replay)."""
        if action not in CONSOLE_ACTIONS:
            raise ValueError(f"unknown console action {action!r}")
        if self.walkthrough.current is not None:
            self.journal.append(JournalEntry(self.step_index, self.time_s, "action", action=action, satellite=satellite))
        self._observe_action(action, satellite)

    def _observe_action(self, action: str, satellite: str | None) -> None:
        if self.walkthrough.observe(action, satellite) or self.walkthrough.waiting_on_check:
            self._advance_walkthrough()

    def _advance_walkthrough(self) -> None:
        """Finish the walkthrough steps that are done now: a log line each, and a 'step' directive naming
        the next step (its prompt and highlight) or the walkthrough's end."""
        done = self.walkthrough.check(self.time_s, self._condition_source())
        if not done:
            return
        total = len(self.walkthrough.steps)
        for step in done:
            number = self.walkthrough.steps.index(step) + 1
            self._record(Event(self.time_s, EventKind.MISSION_NOTE, Severity.INFO, None,
                               f"walkthrough step {number}/{total} done: {step.id}"))
        if self.objectives is not None and self.objectives.pending:  # e.g. sim.steps_done, while paused
            self._record_objectives(self.objectives.update(self.time_s, self._condition_source()))
        following = self.walkthrough.current
        if following is None:
            self.directives.append(Directive(self.time_s, "step", "", text="walkthrough complete"))
        else:
            self.directives.append(Directive(self.time_s, "step", following.id, text=following.prompt,
                                             pane=following.highlight))

    def pending_commands(self) -> tuple[PendingCommand, ...]:
        """On-board commands waiting for their satellite's next route to the ground, oldest first."""
        return tuple(self._pending)

    def _on_board_targets(self, command) -> tuple[int, ...]:
        """Validate an on-board command against the state now; the satellites it can be sent through."""
        if isinstance(command, (DisableLink, EnableLink)):
            peer, _, _ = self._check_link_command(command)
            return (self._command_satellite(command.satellite), peer)
        sat, _ = self._check_gpu_command(command)
        return (sat,)

    @staticmethod
    def _describe(command) -> str:
        if isinstance(command, ResetGpu):
            return f"reset {command.satellite} GPU {command.gpu}"
        if isinstance(command, SetGpuPower):
            return f"power {'on' if command.on else 'off'} {command.satellite} GPU {command.gpu}"
        if isinstance(command, SetGpuPowerCap):
            return f"lift {command.satellite} GPU power cap" if command.watts is None else f"cap {command.satellite} GPUs at {float(command.watts):.0f} W"
        verb = "disable" if isinstance(command, DisableLink) else "enable"
        return f"{verb} ISL {command.satellite} ↔ {command.peer}"

    def _deliver_pending(self) -> None:
        """Carry out the queued commands whose satellite has a route now (in the order they were sent)."""
        if not self._pending:
            return
        reachable = self._in_contact()
        waiting = []
        for pending in self._pending:
            if not any(reachable[self._index[name]] for name in pending.satellites):
                waiting.append(pending)
                continue
            delay = format_delay(self.time_s - pending.queued_s)
            try:
                self._apply_now(pending.command, suffix=f" (delivered after {delay} in the queue)", source=pending.source)
                self.network_commands["delivered"] += 1
            except CommandError as error:
                self.network_commands["refused_on_delivery"] += 1
                self._record(Event(self.time_s, EventKind.OPERATOR_COMMAND, Severity.WARNING, pending.satellites[0],
                                   f"{pending.source}: {pending.description}: refused on board after {delay} in the queue: {error}"))
        self._pending = waiting

    def _apply_now(self, command: Command, suffix: str = "", source: str = "operator") -> None:
        if isinstance(command, SetUtilization):
            if self.workload is not None:
                raise CommandError("this mission's GPUs run jobs: the scheduler sets their load, not a fleet utilization")
            value = command.utilization
            if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
                raise CommandError(f"utilization must be between 0 and 1, got {value!r}")
            self.utilization = float(value)
            message = f"workload utilization set to {value:.0%}"
        elif isinstance(command, AcknowledgeAlarm):
            alarm = self._alarm_action(lambda: self.alarm_board.acknowledge(command.alarm_id, self.time_s))
            self._record_alarm(EventKind.ALARM_ACKNOWLEDGED, alarm, f"acknowledged alarm {alarm.id}")
            message = f"acknowledge alarm {alarm.id}"
        elif isinstance(command, ShelveAlarm):
            if not isinstance(command.duration_s, (int, float)) or not 0 < command.duration_s <= 30 * 86400:
                raise CommandError(f"shelve duration must be between 0 and 30 days, got {command.duration_s!r}")
            until = self.time_s + float(command.duration_s)
            alarm = self._alarm_action(lambda: self.alarm_board.shelve(command.alarm_id, until, command.reason))
            why = f": {command.reason}" if command.reason else ""
            self._record_alarm(EventKind.ALARM_SHELVED, alarm, f"shelved alarm {alarm.id} for {command.duration_s:.0f} s{why}")
            message = f"shelve alarm {alarm.id}"
        elif isinstance(command, UnshelveAlarm):
            alarm = self._alarm_action(lambda: self.alarm_board.unshelve(command.alarm_id))
            self._record_alarm(EventKind.ALARM_UNSHELVED, alarm, f"unshelved alarm {alarm.id}")
            message = f"unshelve alarm {alarm.id}"
        elif isinstance(command, JOB_COMMANDS):
            message = self._apply_job_command(command)
        elif isinstance(command, GPU_COMMANDS):
            message = self._apply_gpu_command(command)
        elif isinstance(command, NETWORK_COMMANDS):
            message = self._apply_network_command(command)
        elif isinstance(command, FAULT_COMMANDS):
            message = self._apply_fault_command(command)
            if message is None:
                return
        elif isinstance(command, SERVICING_COMMANDS):
            message = self._apply_servicing_command(command)
        else:
            raise CommandError(f"unknown command {type(command).__name__}")
        self._record(Event(self.time_s, EventKind.OPERATOR_COMMAND, Severity.INFO, None, f"{source}: {message}{suffix}"))
        self.command_log.append((self.time_s, source, f"{message}{suffix}"))

    def _apply_job_command(self, command) -> str:
        """Job and drain commands through the workload (which validates them completely before changing anything)."""
        workload = self.workload
        if workload is None:
            raise CommandError("this mission runs no jobs (it has no [[job]] or [[workload.generator]])")
        now = self.time_s
        try:
            if isinstance(command, CancelJob):
                message = workload.cancel(command.job_id, now)
            elif isinstance(command, HoldJob):
                message = workload.hold(command.job_id, now)
            elif isinstance(command, ReleaseJob):
                message = workload.release(command.job_id, now)
            elif isinstance(command, RequeueJob):
                message = workload.requeue(command.job_id, now, hold=bool(command.hold))
            elif isinstance(command, SetJobPriority):
                if isinstance(command.priority, bool) or not isinstance(command.priority, (int, float)):
                    raise ValueError(f"priority must be a number, got {command.priority!r}")
                message = workload.set_priority(command.job_id, command.priority)
            elif isinstance(command, DrainSatellite):
                message = workload.drain(self._command_satellite(command.satellite), now)
            else:
                message = workload.undrain(self._command_satellite(command.satellite))
        except ValueError as error:
            raise CommandError(str(error)) from None
        self._record_job_transitions(workload.new_transitions())
        return message

    def _check_gpu_command(self, command) -> tuple[int, str]:
        """Validate a GPU command completely against the state now (CommandError with the reason);
        returns (satellite index, id). Changes nothing."""
        sat = self._command_satellite(command.satellite)
        sat_id = self.satellite_ids[sat]
        if isinstance(command, SetGpuPowerCap):
            if command.watts is None:
                if np.isnan(self.gpu_power_cap_w[sat]):
                    raise CommandError(f"{sat_id} has no GPU power cap to lift")
            else:
                floor, tdp = self.gpu_power_cap_range_w(sat_id)
                watts = command.watts
                if isinstance(watts, bool) or not isinstance(watts, (int, float)) or not floor <= float(watts) <= tdp:
                    raise CommandError(f"{sat_id} GPU power cap must be between {floor:.0f} W and the TDP {tdp:.0f} W, got {watts!r}")
            return sat, sat_id
        gpu = command.gpu
        if isinstance(gpu, bool) or not isinstance(gpu, (int, np.integer)) or not 0 <= gpu < self.hw.gpu_present.shape[1] \
                or not self.hw.gpu_present[sat, gpu]:
            raise CommandError(f"{sat_id} has no GPU {gpu!r} (it has {int(self.hw.gpu_count[sat])}: 0-{int(self.hw.gpu_count[sat]) - 1})")
        check = self.health.check_reset if isinstance(command, ResetGpu) else (
            self.health.check_power_on if command.on else self.health.check_power_off)
        try:
            check(sat, int(gpu))
        except ValueError as error:
            raise CommandError(str(error).replace(f"satellite {sat}", sat_id)) from None
        return sat, sat_id

    def _apply_gpu_command(self, command) -> str:
        sat, sat_id = self._check_gpu_command(command)
        if isinstance(command, SetGpuPowerCap):
            if command.watts is None:
                self.gpu_power_cap_w[sat] = np.nan
                message = f"{sat_id} GPU power cap lifted"
            else:
                self.gpu_power_cap_w[sat] = float(command.watts)
                message = f"{sat_id} GPUs capped at {float(command.watts):.0f} W"
            capped = ~np.isnan(self.gpu_power_cap_w)
            self._cap_fraction = (self.gpu_power_cap_w / self.hw.gpu_tdp_w) if capped.any() else None
            return message
        gpu = int(command.gpu)
        if isinstance(command, ResetGpu):
            transition = self.health.reset(sat, gpu, self.time_s)
            message = f"reset {sat_id} GPU {gpu}"
        elif command.on:
            transition = self.health.power_on(sat, gpu, self.time_s)
            message = f"power on {sat_id} GPU {gpu}"
        else:
            self.health.check_power_off(sat, gpu)
            cycled = self._end_hangs_by_power_cycle(sat, gpu)
            transition = self.health.power_off(sat, gpu, self.time_s)
            message = f"power off {sat_id} GPU {gpu}" + (" (ends its hang: a power cycle clears it)" if cycled and not self.hide_faults else "")
        self._record_gpu_transition(transition)
        return message

    def _end_hangs_by_power_cycle(self, sat: int, gpu: int) -> bool:
        """Switching a hung GPU off clears the hang (a SEFI, or a latch-up held in its power cycle): its
        fault ends 'power cycled' and the GPU boots clean when switched on. True if one ended."""
        ended_any = False
        for fault_id, fault in list(self.faults.book.active.items()):
            if fault.satellite == sat and fault.gpu == gpu and fault.kind in (FaultKind.GPU_HANG, FaultKind.LATCH_UP):
                ended, changes = self.faults.end(fault_id, self.time_s, "power cycled")
                self._record_fault_end(ended, changes)
                ended_any = True
        return ended_any

    def _apply_network_command(self, command) -> str:
        """Laser-link and handover commands (validated completely before anything changes)."""
        sat = self._command_satellite(command.satellite)
        sat_id = self.satellite_ids[sat]
        if isinstance(command, ForceHandover):
            try:
                change = self.comms.ground_links.force_handover(sat, self.time_s)
            except ValueError as error:
                raise CommandError(f"{sat_id}: {error}") from None
            station = self.network.ids[change.previous]
            self._record(Event(self.time_s, EventKind.GROUND_LINK_DOWN, Severity.INFO, sat_id,
                               f"{sat_id} ground link to {station} ended ({change.cause})", station=station))
            return f"force handover of {sat_id} away from {station}"
        peer, peer_id, row = self._check_link_command(command)
        if isinstance(command, DisableLink):
            transition = self.comms.links.disable(row, self.time_s)
            kind, verb = EventKind.LINK_DISABLED, "disable"
        else:
            transition = self.comms.links.enable(row, self.time_s)
            kind, verb = EventKind.LINK_ENABLED, "enable"
        ids = self.satellite_ids
        self._record(Event(self.time_s, kind, Severity.INFO, ids[transition.a],
                           f"ISL {ids[transition.a]} ↔ {ids[transition.b]} {transition.after.name}: {transition.cause}",
                           peer=ids[transition.b]))
        return f"{verb} ISL {sat_id} ↔ {peer_id}"

    def _check_link_command(self, command) -> tuple[int, str, int]:
        """Validate DisableLink / EnableLink against the state now; returns (peer index, peer id, link row)."""
        sat = self._command_satellite(command.satellite)
        sat_id = self.satellite_ids[sat]
        peer = self._command_satellite(command.peer)
        peer_id = self.satellite_ids[peer]
        row = self.comms.links.index_of(sat, peer) if sat != peer else None
        if row is None:
            raise CommandError(f"there is no laser link between {sat_id} and {peer_id}")
        try:
            (self.comms.links.check_disable if isinstance(command, DisableLink) else self.comms.links.check_enable)(row)
        except ValueError as error:
            raise CommandError(str(error).replace(f"{min(sat, peer)}-{max(sat, peer)}", f"{sat_id} ↔ {peer_id}")) from None
        return peer, peer_id, row

    def gpu_power_cap_range_w(self, satellite_id: str) -> tuple[float, float]:
        """(lowest, highest) per-GPU power cap ``SetGpuPowerCap`` accepts for a satellite: its GPUs' minimum
        power and their TDP, in watts."""
        sat = self._command_satellite(satellite_id)
        tdp = float(self.hw.gpu_tdp_w[sat])
        return float(self.hw.gpu_min_power_fraction[sat]) * tdp, tdp

    def _command_satellite(self, satellite_id: str) -> int:
        if not isinstance(satellite_id, str) or satellite_id not in self._index:
            raise CommandError(f"no satellite {satellite_id!r}")
        return self._index[satellite_id]

    def alarms(self, active_only: bool = True, view: str = "truth") -> list[Alarm]:
        """Alarms (frozen copies): the active ones, or the whole history. ``view="ground"`` leaves out alarms
        raised on board after their satellite's telemetry last reached the ground (they arrive with the
        next contact, stamped with their on-board time)."""
        alarms = self.alarm_board.active() if active_only else self.alarm_board.all()
        if view == "ground" and not self.ideal_telemetry:
            alarms = [alarm for alarm in alarms if alarm.raised_s <= self.heard_s[self._index[alarm.satellite]]]
        elif view not in ("truth", "ground"):
            raise ValueError(f"view must be 'truth' or 'ground', got {view!r}")
        return alarms

    @staticmethod
    def _alarm_action(action) -> Alarm:
        try:
            return action()
        except ValueError as error:
            raise CommandError(str(error)) from None

    # -------------------------------------------------------------------------------------------- outputs

    def drain_events(self) -> list[Event]:
        """Events since the last call, oldest first."""
        events, self._events = self._events, []
        return events

    def snapshot(self, view: str = "truth") -> FleetSnapshot:
        """A frozen copy of the fleet state now. ``view="ground"``: what mission control has received, i.e.
        the telemetry of satellites without a route as of their last route (``telemetry_age_s`` says how
        old); the same as the truth for ``telemetry = "ideal"`` missions."""
        if view not in ("truth", "ground"):
            raise ValueError(f"view must be 'truth' or 'ground', got {view!r}")
        telemetry = self._telemetry_now()
        if view == "ground" and not self.ideal_telemetry:
            telemetry = self.downlink.view(telemetry, self.heard_s < self.time_s)
        lat, lon, alt = geodetic_from_ecef(self._ecef_km)
        sun_ecef = rotation_teme_to_ecef(self._gmst) @ self._sun_km
        subsolar_lat, subsolar_lon, _ = geodetic_from_ecef(sun_ecef[None, :] / np.linalg.norm(sun_ecef) * 7000.0)
        visible = self.contacts.visible
        masked = np.where(visible, self._sin_elevation, -2.0)
        best = masked.argmax(axis=1) if self.network.count else np.zeros(len(lat), dtype=np.intp)
        contact = np.where(visible.any(axis=1), best, -1) if self.network.count else np.full(len(lat), -1)
        best_sin = self._sin_elevation.max(axis=1) if self.network.count else np.full(len(lat), -1.0)
        demand, flows = self._demand, self._flows
        workload = self.workload
        return FleetSnapshot(
            mission_id=self.spec.id,
            time_s=self.time_s,
            utc=self.clock.utc(self.time_s),
            step_index=self.step_index,
            satellite_ids=self.satellite_ids,
            station_ids=self.network.ids,
            station_lat_deg=self._station_lat,
            station_lon_deg=self._station_lon,
            lat_deg=frozen(lat),
            lon_deg=frozen(lon),
            alt_km=frozen(alt),
            illumination=frozen(self._illumination),
            sunlit=frozen(self._illumination >= SUNLIT_THRESHOLD),
            subsolar_lat_deg=float(subsolar_lat[0]),
            subsolar_lon_deg=float(subsolar_lon[0]),
            gpu_present=frozen(self.hw.gpu_present),
            gpu_job=workload.gpu_job if workload is not None else self._no_jobs,
            gpu_power_cap_w=frozen(self.gpu_power_cap_w),
            drained=workload.drained if workload is not None else frozen(self._not_drained),
            in_maintenance=frozen(self.servicing.maintenance_mask()),
            solar_particle_event=self.solar_particle_events.active(self.time_s),
            jobs_enabled=workload is not None,
            job_ids=workload.job_id_view() if workload is not None else (),
            job_counts=MappingProxyType(workload.state_counts() if workload is not None else {}),
            contact_station=frozen(contact.astype(np.intp)),
            best_elevation_deg=frozen(np.degrees(np.arcsin(np.clip(best_sin, -1.0, 1.0)))),
            orbit_error=frozen(self.orbit_error),
            **{name: frozen(value) for name, value in telemetry.items()},
            **self._network_fields(),
        )

    def _telemetry_now(self) -> dict[str, np.ndarray]:
        """Every on-board telemetry field now (``engine.telemetry_downlink.TELEMETRY_FIELDS``), unfrozen."""
        demand, flows = self._demand, self._flows
        return {
            "solar_available_w": flows.solar_available_w,
            "solar_power_w": flows.solar_used_w,
            "load_power_w": flows.load_w,
            "bus_power_w": flows.bus_w,
            "gpu_total_power_w": flows.gpu_w,
            "heater_power_w": flows.heater_w,
            "battery_net_w": flows.net_w,
            "battery_soc": self.battery.soc,
            "battery_energy_kwh": self.battery.energy_j / 3.6e6,
            "shed_level": self.shed_level,
            "heater_on": self.heater_on,
            "unserved_power_w": flows.unserved_w,
            "array_output_fraction": self._array_output_fraction,
            "battery_capacity_kwh": self.battery.capacity_j / 3.6e6,
            "radiator_temp_c": self.thermal.radiator_k - KELVIN,
            "loop_temp_c": self.thermal.loop_k - KELVIN,
            "radiator_flow_fraction": self.thermal.radiator_flow_fraction,
            "coolant_flow_fraction": self.thermal.pump_flow_fraction,
            "array_temp_c": self.thermal.array_k - KELVIN,
            "gpu_temp_c": self._junction_c(),
            "gpu_powered": demand.powered,
            "gpu_power_w": demand.power_w,
            "gpu_throttled": self._throttled(demand),
            "gpu_shutdown": self.gpus.shutdown,
            "gpu_speed": demand.speed,
            "gpu_health": self.health.state,
            "gpu_ecc_corrected": self.health.ce_count,
            "gpu_ecc_uncorrected": self.health.due_count,
            "gpu_retired_rows": self.health.retired_rows,
            "dose_rad": self.health.dose_rad,
            "radiation_multiplier": self._radiation_multiplier,
            "alarm_level": self._alarm_level(),
        }

    def _network_fields(self) -> dict:
        comms = self.comms
        links, routes = comms.links, comms.routes
        return dict(
            link_a=frozen(links.a),
            link_b=frozen(links.b),
            link_state=frozen(links.state),
            link_distance_km=frozen(links.distance_km),
            link_rate_gbps=frozen(np.where(links.carrying(), links.rate_gbps, 0.0)),
            isl_up=frozen(links.carrying_per_satellite()),
            ground_link_station=frozen(comms.ground_links.station_of),
            station_up=frozen(comms.ground_links.station_up),
            route_latency_s=routes.latency_s,
            route_hops=routes.hops,
            route_next_hop=routes.next_hop,
            route_station=routes.station,
            telemetry_age_s=frozen(self.time_s - self.heard_s),
            commands_pending=frozen(np.bincount([self._index[p.satellites[0]] for p in self._pending],
                                                minlength=len(self.satellite_ids)).astype(np.int64)),
            ideal_telemetry=self.ideal_telemetry,
        )

    def predict_passes(
        self, satellite_ids: list[str] | None = None, horizon_s: float = 6 * 3600.0, coarse_step_s: float = 20.0
    ) -> list[Pass]:
        """Upcoming passes (from now to now + horizon) of the given satellites (all when None)."""
        ids = list(self.satellite_ids) if satellite_ids is None else list(satellite_ids)
        unknown = [sat_id for sat_id in ids if sat_id not in self._index]
        if unknown:
            raise KeyError(f"unknown satellite ids: {', '.join(unknown[:5])}")
        satrecs = [self._satrecs[self._index[sat_id]] for sat_id in ids]
        return predict_passes(satrecs, ids, self.network, self.clock, self.time_s, horizon_s, coarse_step_s)

    def passes(self) -> list[Pass]:
        """Every pass seen so far in this run, including passes still in progress (los None)."""
        table = self.contacts.passes_array(include_open=True)
        result = []
        for sat, station, aos, los, max_el, max_el_s, _volume in table:
            result.append(
                Pass(
                    station=self.network.ids[int(station)],
                    satellite=self.satellite_ids[int(sat)],
                    aos_s=None if np.isnan(aos) else float(aos),
                    los_s=None if np.isnan(los) else float(los),
                    max_elevation_deg=float(max_el),
                    max_elevation_s=float(max_el_s),
                )
            )
        return result

    def ground_track(self, satellite_id: str, before_s: float = 2700.0, after_s: float = 5400.0, step_s: float = 30.0) -> GroundTrackPath:
        """The satellite's sub-satellite points from `before_s` ago to `after_s` ahead (a forecast: the fleet
        state is untouched)."""
        satrec = self._satrecs[self._satellite_index(satellite_id)]
        return ground_track(satrec, satellite_id, self.clock, self.time_s - before_s, self.time_s + after_s, step_s)

    def forecast_sunlight(self, satellite_id: str, horizon_s: float = 4 * 3600.0) -> SunlightForecast:
        """When the satellite next enters and leaves eclipse, looking `horizon_s` ahead."""
        satrec = self._satrecs[self._satellite_index(satellite_id)]
        return forecast_sunlight(satrec, satellite_id, self.clock, self.sun, self.time_s, horizon_s)

    def history(self, satellite_id: str) -> SatelliteHistory:
        """Recent telemetry of one satellite (``engine.history.CHANNELS``), sampled every minute, oldest first."""
        return self.telemetry_history.satellite(self._satellite_index(satellite_id), satellite_id)

    def job_views(self, include_finished: bool = True) -> list[JobView]:
        """Every job (or the unfinished ones) as frozen views, in submission order; empty without a workload."""
        return [] if self.workload is None else self.workload.job_views(include_finished)

    def satellite_jobs(self, satellite_id: str) -> list[JobView]:
        """Jobs running, checkpointing or suspended on one satellite."""
        index = self._satellite_index(satellite_id)
        return [] if self.workload is None else self.workload.satellite_jobs(index)

    def job_history(self) -> tuple[JobTransition, ...]:
        """Every job state change so far, in order (empty without a workload)."""
        return () if self.workload is None else self.workload.history

    def workload_metrics(self) -> dict | None:
        """Utilisation, goodput with losses by cause, queue waits, energy (None without a workload)."""
        return None if self.workload is None else self.workload.metrics(self.time_s)

    def _record_history(self, time_s: float) -> None:
        junction = self.thermal.junction_k
        if junction.size:
            hottest = np.where(self.hw.gpu_present, junction, -np.inf).max(axis=1) - KELVIN
            hottest = np.where(np.isfinite(hottest), hottest, np.nan)
        else:
            hottest = np.full(len(self.satellite_ids), np.nan)
        best_sin = self._sin_elevation.max(axis=1) if self.network.count else np.full(len(self.satellite_ids), np.nan)
        self.telemetry_history.record(
            time_s,
            {
                "battery_soc": self.battery.soc,
                "battery_net_w": self._flows.net_w,
                "solar_power_w": self._flows.solar_used_w,
                "load_power_w": self._flows.load_w,
                "radiator_temp_c": self.thermal.radiator_k - KELVIN,
                "loop_temp_c": self.thermal.loop_k - KELVIN,
                "hottest_gpu_c": hottest,
                "best_elevation_deg": np.degrees(np.arcsin(np.clip(best_sin, -1.0, 1.0))),
            },
        )

    def _satellite_index(self, satellite_id: str) -> int:
        try:
            return self._index[satellite_id]
        except KeyError:
            raise KeyError(f"unknown satellite id {satellite_id!r}") from None

    def tle(self, satellite_id: str) -> tuple[str, str]:
        """The two element lines propagated for a satellite."""
        return self.spec.satellites[self._index[satellite_id]].tle

    # ------------------------------------------------------------------------------------------ internals

    def _geometry(self, time_s: float) -> None:
        """Positions, Sun, sunlight and station elevations at `time_s`."""
        error, position = self._track.position_km(time_s)
        failed = error != 0
        if failed.any():
            newly = failed & ~self.orbit_error
            self.orbit_error |= failed
            position = np.where(failed[:, None], self._last_good_teme, position)
            for index in np.nonzero(newly)[0]:
                self._record(
                    Event(time_s, EventKind.ORBIT_ERROR, Severity.CRITICAL, self.satellite_ids[index],
                          f"{self.satellite_ids[index]}: SGP4 error code {int(error[index])}; position frozen")
                )
        self._last_good_teme = position
        self._teme_km = position
        self._gmst = float(self.clock.gmst_rad(time_s))
        self._ecef_km = position @ rotation_teme_to_ecef(self._gmst).T
        self._sun_km = self.sun.at(time_s)
        radius = np.sqrt(np.einsum("ij,ij->i", position, position))
        self._illumination = illumination_fraction(position, self._sun_km, radius)
        self._flux = solar_flux_w_m2(position, self._sun_km)
        self._subsolar_cos = subsolar_cosine(position, self._sun_km, radius)
        self._view_factor = vertical_plate_view_factor(radius)
        self._sin_elevation = self.network.sin_elevation(self._ecef_km)

    def _initial_state(self) -> tuple[GpuDemand, PowerFlows]:
        """Power flows at the epoch (for the first snapshot), and thermal equilibrium for satellites
        whose hardware sets no initial_temp_c, with GPU throttling solved for steady state (a few
        rounds between demand and temperatures: the coupling through the loop is weak). The battery
        is not changed."""
        hw = self.hw
        unset = np.isnan(hw.initial_temp_c)
        steady_dt = 1e9
        for _ in range(6 if unset.any() else 1):
            scratch = Battery(hw)
            scratch.energy_j = self.battery.energy_j.copy()
            solar = solar_array_power_w(hw, self._flux, self._illumination, self.thermal.array_k - KELVIN, 0.0)
            dt = steady_dt if unset.any() else self.step_s
            demand = self.gpus.demand(self.thermal.junction_k, self.thermal.loop_k, self.shed_level, self.utilization, self.policy, dt)
            flows = balance_power(hw, scratch, solar, per_satellite_sum(demand.power_w), np.zeros(len(solar)), self.step_s,
                                  self._comms_w)
            if not unset.any():
                break
            environment = self.thermal.radiator_environment_w(self._flux, self._illumination, self._subsolar_cos, self._view_factor)
            array_inputs = (self._flux, self._illumination, self._subsolar_cos, self._view_factor, flows.solar_used_w)
            gpu_heat = demand.power_w * flows.gpu_supply_fraction[:, None]
            self.thermal.settle(gpu_heat, flows.bus_w + flows.heater_w + flows.losses_w, environment, array_inputs, unset)
        return demand, flows

    def _evaluate_alarms(self, time_s: float) -> None:
        """Check telemetry limits on the current state and turn level changes into alarm events."""
        values = {
            "battery_soc": self.battery.soc,
            "gpu_temp_c": self._hottest_gpu_c(),
            "radiator_temp_c": self.thermal.radiator_k - KELVIN,
            "loop_temp_c": self.thermal.loop_k - KELVIN,
            "unserved_power_w": self._flows.unserved_w,
            "array_output_fraction": self._array_output_fraction,
            "battery_capacity_fraction": self.battery.capacity_fraction,
            "coolant_flow_fraction": self.thermal.pump_flow_fraction,
        }
        kinds = {
            "raised": EventKind.ALARM_RAISED,
            "escalated": EventKind.ALARM_ESCALATED,
            "downgraded": EventKind.ALARM_DOWNGRADED,
            "cleared": EventKind.ALARM_CLEARED,
            "unshelved": EventKind.ALARM_UNSHELVED,
        }
        for transition in self.alarm_board.evaluate(time_s, values):
            alarm = transition.alarm
            value = f"{alarm.value:.3g}{alarm.unit and ' ' + alarm.unit}"
            limit = f"{alarm.limit:.3g}{alarm.unit and ' ' + alarm.unit}"
            text = {
                "raised": f"{alarm.severity.upper()} {alarm.quantity} = {value} (limit {limit})",
                "escalated": f"escalated to RED: {alarm.quantity} = {value} (limit {limit})",
                "downgraded": f"back to YELLOW: {alarm.quantity} = {value}",
                "cleared": f"cleared: {alarm.quantity} = {value}",
                "unshelved": "shelving expired",
            }[transition.change]
            self._record_alarm(kinds[transition.change], alarm, text, time_s)
            if transition.change == "raised" and self.servicing.maintenance:
                sat = self._index[alarm.satellite]
                if sat in self.servicing.maintenance:
                    self.servicing.suppress_alarms(sat)

    def _alarm_level(self) -> np.ndarray:
        """(N,) each satellite's highest limit level over every monitored parameter (a running maximum:
        no stacked (parameters, N) array)."""
        levels = list(self.alarm_board.levels.values())
        if not levels:
            return np.zeros(len(self.satellite_ids), dtype=np.int8)
        highest = levels[0].copy()
        for level in levels[1:]:
            np.maximum(highest, level, out=highest)
        return highest

    def _junction_c(self) -> np.ndarray:
        """The junction temperatures in °C (worked out once per thermal step; read-only for its users)."""
        junction_k = self.thermal.junction_k
        cached = self._junction_c_cache
        if cached is None or cached[0] is not junction_k:
            cached = self._junction_c_cache = (junction_k, junction_k - KELVIN)
        return cached[1]

    def _throttled(self, demand: GpuDemand) -> np.ndarray:
        """(N, G) GPUs powered and thermally throttled (worked out once per step's demand)."""
        cached = self._throttled_cache
        if cached is None or cached[0] is not demand.powered or cached[1] is not demand.thermal_cap:
            cached = self._throttled_cache = (demand.powered, demand.thermal_cap, demand.powered & (demand.thermal_cap < 1.0))
        return cached[2]

    def _hottest_gpu_c(self) -> np.ndarray:
        """Hottest real GPU per satellite, °C; skips the per-satellite reduction while the whole fleet is
        far below the GPU limits (the common case at scale)."""
        limit = self.alarm_board.limits["gpu_temp_c"]
        thresholds = [v for v in (limit.yellow_high, limit.red_high) if v is not None]
        junction = self.thermal.junction_k
        if junction.size == 0:
            return np.full(len(self.satellite_ids), -273.15)
        if thresholds and not self.alarm_board.levels["gpu_temp_c"].any():
            hottest_c = float(junction.max()) - KELVIN
            if hottest_c < min(thresholds) - limit.deadband - 1.0:
                return np.full(len(self.satellite_ids), hottest_c)
        return np.where(self.hw.gpu_present, junction, -np.inf).max(axis=1) - KELVIN

    def _record_alarm(self, kind: EventKind, alarm: Alarm, text: str, time_s: float | None = None) -> None:
        severity = Severity.CRITICAL if alarm.severity == "red" and kind in (EventKind.ALARM_RAISED, EventKind.ALARM_ESCALATED) else (
            Severity.WARNING if kind in (EventKind.ALARM_RAISED, EventKind.ALARM_ESCALATED) else Severity.INFO
        )
        self._record(
            Event(self.time_s if time_s is None else time_s, kind, severity, alarm.satellite,
                  f"{alarm.satellite} alarm {alarm.id}: {text}", value=alarm.value, alarm_id=alarm.id)
        )

    def _step_health(self, t0: float, t1: float, dt: float) -> GpuHealthStep:
        """GPU faults over (t0, t1] where the satellites are now, at their junction temperatures now."""
        ecef = self._ecef_km
        lat = np.degrees(np.arctan2(ecef[:, 2], np.hypot(ecef[:, 0], ecef[:, 1])))  # geocentric: the SAA is coarse
        lon = np.degrees(np.arctan2(ecef[:, 1], ecef[:, 0]))
        spe = self.solar_particle_events.multiplier(t0, t1)
        upset = self.faults.book.condition.upset_multiplier if self.faults.any_active else None
        health = self.health.step(t1, dt, lat, lon, self._junction_c(), spe,
                                  upset if upset is not None and (upset != 1.0).any() else None)
        self._killed = health.process_killed
        self._radiation_multiplier = health.multiplier
        return health

    def _emit_compute_events(
        self, t0: float, t1: float, health: GpuHealthStep, job_transitions: tuple[JobTransition, ...]
    ) -> None:
        ids = self.satellite_ids
        for start, end in self.solar_particle_events.events(t1):
            if t0 < start <= t1:
                self._record(Event(float(start), EventKind.SOLAR_PARTICLE_EVENT_START, Severity.WARNING, None,
                                   f"solar particle event: single-event rates x{self.health.radiation.spe_multiplier:g} "
                                   f"for {(end - start) / 3600:.0f} h"))
            if t0 < end <= t1:
                self._record(Event(float(end), EventKind.SOLAR_PARTICLE_EVENT_END, Severity.INFO, None,
                                   "solar particle event over"))
        if health.due.any():
            for sat, gpu in zip(*nonzero_2d(health.due)):
                self._record(Event(t1, EventKind.GPU_ECC_UNCORRECTABLE, Severity.WARNING, ids[sat],
                                   f"{ids[sat]} GPU {gpu}: uncorrectable ECC error, process killed, row retired", gpu=int(gpu)))
        if health.sdc_detected.any():
            for sat, gpu in zip(*nonzero_2d(health.sdc_detected)):
                self._record(Event(t1, EventKind.GPU_SDC_DETECTED, Severity.WARNING, ids[sat],
                                   f"{ids[sat]} GPU {gpu}: silent data corruption caught by a check, process killed", gpu=int(gpu)))
        if health.sdc_silent.any():
            self.silent_corruptions += int(np.count_nonzero(health.sdc_silent))
        for transition in health.transitions:
            self._record_gpu_transition(transition)
        self._record_job_transitions(job_transitions)

    def _record_gpu_transition(self, transition: GpuTransition) -> None:
        sat_id = self.satellite_ids[transition.satellite]
        time_s = self.time_s if transition.time_s is None else transition.time_s
        cause = _GPU_CAUSE_TEXT.get(transition.cause, transition.cause)
        self._record(Event(
            time_s, EventKind.GPU_HEALTH, _GPU_STATE_SEVERITY[transition.to_state], sat_id,
            f"{sat_id} GPU {transition.gpu} {transition.from_state.name} -> {transition.to_state.name}: {cause}",
            gpu=transition.gpu, value=float(transition.to_state),
        ))

    def _record_job_transitions(self, transitions: tuple[JobTransition, ...]) -> None:
        for transition in transitions:
            to = transition.to_state
            if to == JobState.CHECKPOINTING or (to == JobState.PENDING and transition.from_state is not None):
                continue
            if to == JobState.RUNNING and transition.from_state == JobState.CHECKPOINTING:
                kind, severity = EventKind.JOB_CHECKPOINTED, Severity.INFO
            else:
                kind, severity = _JOB_EVENTS[to]
            what = to.value if kind != EventKind.JOB_CHECKPOINTED else "checkpoint written"
            why = f": {transition.reason}" if transition.reason and transition.reason != "checkpoint written" else ""
            self._record(Event(transition.time_s, kind, severity, None, f"job {transition.job_id} {what}{why}",
                               job=transition.job_id))

    def _terminals_powered(self) -> np.ndarray:
        """(N,) satellites that can power laser terminals: not in safe mode, orbit known, flight computer up
        and attitude under control."""
        powered = (self.shed_level < ShedLevel.SAFE) & ~self.orbit_error
        if self.faults.any_active:
            powered &= ~self.faults.book.condition.terminals_blocked
        return powered

    def _in_contact(self) -> np.ndarray:
        """(N,) satellites the ground hears and can command now: a route, and a flight computer running."""
        reachable = self.comms.routes.reachable
        if self.faults.any_active:
            reachable = reachable & ~self.faults.book.condition.rebooting
        return reachable

    # -------------------------------------------------------------------------------------------- faults

    def _expire_faults(self, time_s: float) -> None:
        """At a step's end: faults whose time is up by then end (at their own end times); the hardware
        condition reaches the models for the next step."""
        for ended, changes in self.faults.expire(time_s):
            self._record_fault_end(ended, changes)
        self.faults.apply_condition()

    # ----------------------------------------------------------------------------------------- servicing

    def _apply_servicing_command(self, command) -> str:
        """Dispatch and abort servicing missions, and maintenance mode (validated completely first)."""
        control, now = self.servicing, self.time_s
        try:
            if isinstance(command, DispatchServicer):
                sat = self._command_satellite(command.satellite)
                parts = tuple(command.parts)
                mission = control.fleet.dispatch(command.servicer, sat, control.orbit(sat, now), parts, now)
                names = ", ".join(p.value for p in mission.parts)
                return (f"dispatch servicer {command.servicer} to {self.satellite_ids[sat]} with {names} "
                        f"({mission.mission_id}, done in {format_duration(mission.eta_s - now)}, "
                        f"Δv {mission.delta_v_planned_m_s:.0f} m/s)")
            if isinstance(command, AbortServicing):
                mission = control.fleet.mission(command.mission_id)
                control.fleet.abort(command.mission_id, now, target_orbit=control.orbit(mission.target, now))
                return f"abort servicing mission {command.mission_id}"
            sat = self._command_satellite(command.satellite)
            name = self.satellite_ids[sat]
            if isinstance(command, SetMaintenance):
                entry = control.begin_maintenance(sat, command.reason, command.duration_s, now)
                self._record(Event(now, EventKind.MAINTENANCE_BEGIN, Severity.INFO, name,
                                   f"{name} in maintenance for {format_duration(entry.until_s - now)}: {entry.reason} "
                                   "(its alarms are shelved)"))
                return f"maintenance on {name}: {entry.reason}"
            entry = control.end_maintenance(sat, now)
            self._record(Event(now, EventKind.MAINTENANCE_END, Severity.INFO, name, f"{name} out of maintenance"))
            return f"end maintenance on {name}"
        except (ServicingRefused, ValueError) as error:
            raise CommandError(str(error)) from None

    def _step_servicing(self, t0: float, t1: float) -> None:
        """Servicing missions over (t0, t1]: their events, the parts they install, maintenance expiry."""
        control = self.servicing
        if control.fleet.active_targets() or control.fleet.has_pending_events:
            for event in control.fleet.step(t0, t1, lambda sat: control.orbit(sat, t1), control.ready):
                name = self.satellite_ids[event.target]
                severity = Severity.WARNING if event.kind in _SERVICING_WARNINGS else Severity.INFO
                self._record(Event(event.time_s, EventKind.SERVICING, severity, name, f"servicing {event.message}"))
                if event.kind == ServicingEventKind.SWAP_DONE:
                    ended, changes = control.swap(event.target, event.part, event.time_s)
                    for fault_end, fault_changes in ended:
                        self._record_fault_end(fault_end, fault_changes)
                    for change in changes:
                        self._record_fault_change(change)
        for entry in control.expired(t1):
            control.end_maintenance(entry.satellite, t1)
            name = self.satellite_ids[entry.satellite]
            self._record(Event(entry.until_s, EventKind.MAINTENANCE_END, Severity.INFO, name,
                               f"{name} out of maintenance (its period ended)"))

    def _mission_faults(self, t0: float, dt: float) -> None:
        """Timeline faults due by ``t0`` and stochastic faults for the step [t0, t0 + dt], injected at t0.
        One the fleet cannot take now (the GPU already failed, the link is gone) is logged and dropped."""
        for firing in self.timeline.due(t0):
            self._fire(firing, t0, f"timeline event {firing.event_id}")
        if self.random_faults.rates:
            links = (self.comms.links.a, self.comms.links.b)
            for request in self.random_faults.draw(dt, links):
                if not self._inject_from_mission(request, t0, "random", None):
                    self.random_faults.skipped += 1
        self.faults.apply_condition()

    def _inject_from_mission(self, request, time_s: float, source: str, label: str | None) -> bool:
        try:
            fault, changes = self.faults.inject(request, time_s, source)
        except ValueError as error:
            if label is not None:  # a stochastic draw that cannot act is simply not a fault
                self._record(Event(time_s, EventKind.FAULT_INJECTED, Severity.WARNING, None,
                                   f"{label}: fault not injected: {error}"))
            return False
        self._record_fault_start(fault, changes)
        if label is not None:
            self._timeline_faults.setdefault(label, []).append(fault.id)
        return True

    def _fire(self, firing, time_s: float, label: str) -> None:
        """Carry out one timeline or autopilot firing, logged as `label` ('timeline event X', 'autopilot
        step Y'); a refusal is logged as a warning and changes nothing."""
        event = firing.event
        action = event.action
        if action == "fault":
            self._inject_from_mission(event.fault.request(), time_s, "timeline", label)
        elif action == "clear":
            prefix = label.rsplit(" ", 1)[0]
            for fault_id in self._timeline_faults.get(f"{prefix} {event.clear}", []):
                if fault_id in self.faults.book.active:
                    ended, changes = self.faults.end(fault_id, time_s, "cleared")
                    self._record_fault_end(ended, changes)
        elif action == "command":
            try:
                self.apply(event.built_command(), source=label)
            except CommandError as error:
                self._record(Event(time_s, EventKind.OPERATOR_COMMAND, Severity.WARNING, None,
                                   f"{label}: command refused: {error}"))
        else:
            directive = self._directive(event, firing.event_id, time_s)
            self.directives.append(directive)
            level = {"info": Severity.INFO, "warning": Severity.WARNING, "critical": Severity.CRITICAL}
            text = _directive_text(directive)
            self._record(Event(time_s, EventKind.MISSION_END if action == "end" else EventKind.MISSION_NOTE,
                               level.get(directive.level, Severity.INFO), directive.satellite, f"{label}: {text}"))
            if action == "end" and self.end_reason is None:
                self.end_reason = directive.text
            if action == "press":
                self._observe_action(event.press.action, event.press.satellite)

    @staticmethod
    def _directive(event, event_id: str, time_s: float) -> Directive:
        action = event.action
        if action == "notify":
            return Directive(time_s, "notify", event_id, text=event.notify.text, level=event.notify.level)
        if action == "focus":
            return Directive(time_s, "focus", event_id, pane=event.focus.pane, satellite=event.focus.satellite)
        if action == "set_speed":
            return Directive(time_s, "set_speed", event_id, speed=float(event.set_speed))
        if action == "end":
            return Directive(time_s, "end", event_id, text=event.end)
        if action == "press":
            return Directive(time_s, "press", event_id, text=event.press.action, satellite=event.press.satellite)
        return Directive(time_s, "pause", event_id)

    def _play_autopilot(self, t0: float) -> None:
        """The autopilot's steps due by ``t0``: its caption first (a notify directive), then its action."""
        if self.autopilot.watching:
            self.autopilot.check(t0, self._condition_source())
        if self.autopilot.next_s > t0:
            return
        for firing in self.autopilot.due(t0):
            label = f"autopilot step {firing.event_id}"
            if firing.event.caption:
                directive = Directive(t0, "notify", firing.event_id, text=firing.event.caption)
                self.directives.append(directive)
                self._record(Event(t0, EventKind.MISSION_NOTE, Severity.INFO, None, f"{label}: {firing.event.caption}"))
            self._fire(firing, t0, label)
        self.faults.apply_condition()

    def finish_objectives(self) -> None:
        """The run is over: decide every objective still pending (gates that held are met)."""
        if self.objectives is not None and self.objectives.pending:
            self._record_objectives(self.objectives.finish(self.time_s, self._condition_source()))

    def _record_objectives(self, decided) -> None:
        for result in decided:
            severity = Severity.INFO if result.status == "met" else Severity.WARNING
            what = result.description or f"{result.metric} {result.op} {result.target}"
            self._record(Event(result.decided_s, EventKind.OBJECTIVE, severity, None,
                               f"objective {result.id} {result.status.upper()}: {what}"))

    def _show_hints(self, t0: float) -> None:
        """Hints whose condition has held long enough by ``t0``: a 'hint' directive and a log line each."""
        self.hints.check(t0, self._condition_source())
        for firing in self.hints.due(t0):
            text = firing.event.notify.text
            self.directives.append(Directive(t0, "hint", firing.event_id, text=text))
            self._record(Event(t0, EventKind.MISSION_NOTE, Severity.INFO, None, f"hint {firing.event_id}: {text}"))
            if self.objectives is not None:
                self.objectives.hints_shown += 1

    def take_over(self) -> None:
        """The operator takes over from the autopilot: its remaining steps no longer play."""
        if not self.autopilot_active:
            raise CommandError("the autopilot is not running")
        self.autopilot_active = False
        self.journal.append(JournalEntry(self.step_index, self.time_s, "take_over"))
        self._record(Event(self.time_s, EventKind.OPERATOR_COMMAND, Severity.INFO, None,
                           "operator: took over from the autopilot"))

    def drain_directives(self) -> list[Directive]:
        """Timeline directives since the last call (the console acts on them)."""
        new = self.directives[self._directives_read:]
        self._directives_read = len(self.directives)
        return new

    def _condition_source(self):
        """What ``when`` conditions read (``engine.conditions``)."""
        from engine.metrics_namespace import SimulationMetrics

        return SimulationMetrics(self)

    def _apply_fault_command(self, command) -> str | None:
        """Inject or clear a fault (validated completely first). Returns the log message, or None when the
        mission hides faults from the operator (the fault book keeps it)."""
        try:
            if isinstance(command, InjectFault):
                fault, changes = self.faults.inject(command.request, self.time_s, "operator")
                self._record_fault_start(fault, changes)
                message = f"inject {fault.title.lower()} on {fault.target} ({fault.id})"
            else:
                ended, changes = self.faults.end(command.fault_id, self.time_s, "cleared")
                self._record_fault_end(ended, changes)
                message = f"clear fault {ended.fault.id} ({ended.fault.title.lower()} on {ended.fault.target})"
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.faults.apply_condition()
        return None if self.hide_faults else message

    def _record_fault_start(self, fault: Fault, changes: list) -> None:
        for change in changes:
            self._record_fault_change(change)
        if not self.hide_faults:
            until = "permanent" if fault.end_s is None else f"for {format_delay(fault.end_s - fault.start_s)}"
            self._record(Event(fault.start_s, EventKind.FAULT_INJECTED, Severity.WARNING, self._fault_source(fault),
                               f"fault {fault.id}: {fault.title} on {fault.target} ({fault.source}, {until})"))

    def _record_fault_end(self, ended: FaultEnd, changes: list) -> None:
        for change in changes:
            self._record_fault_change(change)
        if not self.hide_faults:
            fault = ended.fault
            self._record(Event(ended.time_s, EventKind.FAULT_ENDED, Severity.INFO, self._fault_source(fault),
                               f"fault {fault.id} {ended.how}: {fault.title} on {fault.target}"))

    def _record_fault_change(self, change) -> None:
        if isinstance(change, GpuTransition):
            self._record_gpu_transition(change)
        else:
            kind, severity = _LINK_EVENTS[change.after]
            ids = self.satellite_ids
            self._record(Event(change.time_s, kind, severity, ids[change.a],
                               f"ISL {ids[change.a]} ↔ {ids[change.b]} {change.after.name}: {change.cause}", peer=ids[change.b]))

    def _fault_source(self, fault: Fault) -> str | None:
        return self.satellite_ids[fault.satellite] if fault.satellite >= 0 else None

    def _account_network(self, step: NetworkStep, t0: float, t1: float) -> None:
        """Events for the network's changes, downlinked data per pass, and when telemetry was last heard."""
        ids = self.satellite_ids
        stations = self.network.ids
        for t in step.link_transitions:
            kind, severity = _LINK_EVENTS[t.after]
            text = f"ISL {ids[t.a]} ↔ {ids[t.b]} {t.after.name}" + (f": {t.cause}" if t.cause else "")
            self._record(Event(t.time_s, kind, severity, ids[t.a], text, peer=ids[t.b]))
        for station, up, when in step.outages:
            kind = EventKind.STATION_RESTORED if up else EventKind.STATION_OUTAGE
            text = f"station {stations[station]} " + ("back on the air" if up else "off the air (outage)")
            self._record(Event(when, kind, Severity.INFO if up else Severity.WARNING, None, text, station=stations[station]))
        for change in step.ground_changes:
            if change.station >= 0:
                text = f"{ids[change.satellite]} ground link to {stations[change.station]} ({change.cause})"
                self._record(Event(change.time_s, EventKind.GROUND_LINK_UP, Severity.INFO, ids[change.satellite], text,
                                   station=stations[change.station]))
            else:
                text = f"{ids[change.satellite]} ground link to {stations[change.previous]} ended ({change.cause})"
                self._record(Event(change.time_s, EventKind.GROUND_LINK_DOWN, Severity.INFO, ids[change.satellite], text,
                                   station=stations[change.previous]))
        sats, linked = self.comms.ground_links.assigned()
        if len(sats):
            self.contacts.add_downlink(sats, linked, self.comms.downlink_gbps[linked] * (t1 - t0))
        routes = self.comms.routes
        if self.ideal_telemetry:
            self.heard_s[:] = t1
        else:
            self.heard_s = np.where(routes.reachable, t1, self.heard_s)
        self.statistics.observe_network(t1 - t0, self.comms.links.carrying().sum(), self.comms.links.count, routes,
                                        t1 - self.heard_s)

    def _check_finite(self, time_s: float) -> None:
        """Cheap guard (a few sums per step): name the satellites whose state is no longer finite."""
        total = self.battery.energy_j.sum() + self.thermal.loop_k.sum() + self.thermal.radiator_k.sum() + self.thermal.array_k.sum()
        if np.isfinite(total) and np.isfinite(self.thermal.junction_k.sum()):
            return
        bad = ~(
            np.isfinite(self.battery.energy_j) & np.isfinite(self.thermal.loop_k) & np.isfinite(self.thermal.radiator_k)
            & np.isfinite(self.thermal.array_k) & np.isfinite(self.thermal.junction_k).all(axis=1)
        )
        names = ", ".join(self.satellite_ids[i] for i in np.nonzero(bad)[0][:10])
        raise EngineStateError(f"non-finite state at t={time_s:.3f} s for {names}")

    def _record(self, event: Event) -> None:
        self._events.append(event)
        if self._timeline_listens:
            self.timeline.observe((event,))
            if self.autopilot_active:
                self.autopilot.observe((event,))
        key = event.kind.value
        self.event_counts[key] = self.event_counts.get(key, 0) + 1

    def _record_all(self, kind: EventKind, events: list[Event]) -> None:
        """``_record`` for many events of one kind, in order."""
        if self._timeline_listens:  # triggers and the autopilot see each event as it comes
            for event in events:
                self._record(event)
            return
        self._events.extend(events)
        self.event_counts[kind.value] = self.event_counts.get(kind.value, 0) + len(events)

    def _emit_step_events(
        self, t0, t1, illumination_before, entries, exits, rise, fall, previous_level, throttled,
        shut_down, restarted, heater_was_on, flows,
    ) -> None:
        ids = self.satellite_ids
        emit = self._record

        def crossing_time(indices: np.ndarray) -> np.ndarray:
            before, after = illumination_before[indices], self._illumination[indices]
            span = after - before
            fraction = np.where(np.abs(span) > 1e-12, (SUNLIT_THRESHOLD - before) / np.where(span == 0, 1, span), 1.0)
            return t0 + np.clip(fraction, 0.0, 1.0) * (t1 - t0)

        # The routine events of a big fleet (hundreds a step) are built from plain lists, one kind at a time.
        info = Severity.INFO
        for crossed, kind, verb in ((entries, EventKind.ECLIPSE_ENTRY, "entered"), (exits, EventKind.ECLIPSE_EXIT, "left")):
            if crossed.any():
                indices = np.flatnonzero(crossed)
                self._record_all(kind, [Event(time, kind, info, ids[index], f"{ids[index]} {verb} eclipse")
                                        for index, time in zip(indices.tolist(), crossing_time(indices).tolist())])
        station_ids = self.network.ids
        for sats, stations, times, kind, verb in ((*rise, EventKind.AOS, "AOS"), (*fall, EventKind.LOS, "LOS")):
            if len(sats):
                self._record_all(kind, [
                    Event(time, kind, info, ids[sat], f"{ids[sat]} {verb} {station_ids[station]}", station=station_ids[station])
                    for sat, station, time in zip(sats.tolist(), stations.tolist(), np.asarray(times, dtype=float).tolist())
                ])

        soc = self.battery.soc
        low = np.where(soc < self.policy.battery_low_soc, True,
                       np.where(soc > self.policy.battery_low_soc + self.policy.recover_margin_soc, False, self.battery_low))
        for index in np.nonzero(low & ~self.battery_low)[0]:
            emit(Event(t1, EventKind.BATTERY_LOW, Severity.WARNING, ids[index],
                       f"{ids[index]} battery low: {soc[index]:.0%}", value=float(soc[index])))
        for index in np.nonzero(~low & self.battery_low)[0]:
            emit(Event(t1, EventKind.BATTERY_RECOVERED, Severity.INFO, ids[index],
                       f"{ids[index]} battery recovered: {soc[index]:.0%}", value=float(soc[index])))
        self.battery_low = low

        deficit = flows.unserved_w > 1e-6
        for index in np.nonzero(deficit & ~self.power_deficit)[0]:
            emit(Event(t1, EventKind.POWER_DEFICIT, Severity.CRITICAL, ids[index],
                       f"{ids[index]} power deficit: {flows.unserved_w[index]:.0f} W of load unserved at the battery floor",
                       value=float(flows.unserved_w[index])))
        for index in np.nonzero(~deficit & self.power_deficit)[0]:
            emit(Event(t1, EventKind.POWER_RESTORED, Severity.INFO, ids[index], f"{ids[index]} all loads powered again"))
        self.power_deficit = deficit

        level = self.shed_level
        for index in np.nonzero(level != previous_level)[0]:
            old, new = int(previous_level[index]), int(level[index])
            if new == ShedLevel.SAFE:
                emit(Event(t1, EventKind.SAFE_MODE_ENTRY, Severity.CRITICAL, ids[index],
                           f"{ids[index]} safe mode: GPUs off at battery {soc[index]:.0%}", value=float(new)))
            elif old == ShedLevel.SAFE:
                emit(Event(t1, EventKind.SAFE_MODE_EXIT, Severity.INFO, ids[index],
                           f"{ids[index]} left safe mode ({ShedLevel.NAMES[new]})", value=float(new)))
            kind = EventKind.LOAD_SHED if new > old else EventKind.LOAD_RESTORED
            severity = Severity.WARNING if new > old else Severity.INFO
            emit(Event(t1, kind, severity, ids[index],
                       f"{ids[index]} load shedding {ShedLevel.NAMES[old]} -> {ShedLevel.NAMES[new]} at battery {soc[index]:.0%}",
                       value=float(new)))

        self._throttled_count = per_satellite_sum(throttled) if throttled.any() else np.zeros(len(ids), dtype=np.int64)
        throttled_any = self._throttled_count > 0
        for index in np.nonzero(throttled_any & ~self._throttled_any)[0]:
            emit(Event(t1, EventKind.GPU_THROTTLED, Severity.WARNING, ids[index],
                       f"{ids[index]} {int(self._throttled_count[index])} GPU(s) thermally throttled"))
        for index in np.nonzero(~throttled_any & self._throttled_any)[0]:
            emit(Event(t1, EventKind.GPU_THROTTLE_CLEARED, Severity.INFO, ids[index], f"{ids[index]} GPU throttling cleared"))
        self._throttled_any = throttled_any

        if shut_down.any() or restarted.any():  # (a 2-D nonzero of the whole fleet's GPUs costs 0.2 ms at 10k)
            junction_c = self.thermal.junction_k - KELVIN
            for sat, gpu in zip(*nonzero_2d(shut_down)):
                emit(Event(t1, EventKind.GPU_OVERTEMP_SHUTDOWN, Severity.CRITICAL, ids[sat],
                           f"{ids[sat]} GPU {gpu} shut down at {junction_c[sat, gpu]:.1f} °C", gpu=int(gpu),
                           value=float(junction_c[sat, gpu])))
            for sat, gpu in zip(*nonzero_2d(restarted)):
                emit(Event(t1, EventKind.GPU_RESTARTED, Severity.INFO, ids[sat],
                           f"{ids[sat]} GPU {gpu} back on at {junction_c[sat, gpu]:.1f} °C", gpu=int(gpu),
                           value=float(junction_c[sat, gpu])))

        for index in np.nonzero(self.heater_on & ~heater_was_on)[0]:
            emit(Event(t1, EventKind.HEATER_ON, Severity.INFO, ids[index], f"{ids[index]} loop heater on"))
        for index in np.nonzero(~self.heater_on & heater_was_on)[0]:
            emit(Event(t1, EventKind.HEATER_OFF, Severity.INFO, ids[index], f"{ids[index]} loop heater off"))
