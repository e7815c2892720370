"""The AI workload the simulation steps: submission, scheduling, progress, checkpoints, rollback on faults,
operator commands and metrics (network-and-jobs.md §4, physics.md §3.11).

One :meth:`Workload.step` covers ``[time_s, time_s + dt_s]``:

1. GPU faults (``killed``) and GPUs that stopped being usable end the jobs on them at ``time_s``: NODE_FAIL,
   rolled back to the last completed checkpoint, requeued (no retry used; the restart cap applies).
   Newly drained satellites make their jobs checkpoint and migrate.
2. Jobs due by ``time_s`` are submitted (listed ones at their submit time, generated ones at their
   Poisson arrival times).
3. If anything changed since the last pass (submission, job end, GPUs freed, usable/headroom/drain change,
   operator command, or more jobs waiting than one pass looks at) the scheduler runs once
   (:mod:`engine.scheduler`); otherwise not at all.
4. Jobs on GPUs advance, vectorised over jobs: a job runs at the speed of its slowest GPU (throttling and
   power capping), checkpoints every interval of run time (CHECKPOINTING for δ s, no progress), restores
   for ``startup_s`` (+ δ with a checkpoint) after each start, and ends (COMPLETED, TIMEOUT, grace expired)
   at the exact instant within the step. GPUs freed mid-step are offered at the next step's pass.

Accounting, in GPU-seconds per job (and summed): every allocated GPU-second is exactly one of productive
(progress × GPUs, at the speed it ran), checkpoint, restart (startup + restore) or throttling (the
``1 - speed`` share of run time). Productive time later lost to a rollback is booked as *rollback*, and
progress of jobs that end without completing (cancelled, timed out, failed) as *abandoned*, so

    useful + rollback + checkpoint + restart + throttling + abandoned = allocated

to float rounding, with ``useful = productive - rollback - abandoned`` and goodput = useful / allocated.
Useful time of jobs still running includes progress not yet checkpointed (``at_risk`` in the metrics).

Inputs from the simulation, per step: ``usable`` = GPU present, powered, not shut down, health OK (or
DEGRADED, if that still runs work); ``speed`` = the GPU model's throughput factor (thermal cap, power
policy cap; 0 while shedding pauses work); ``killed`` = this step's job-killing faults (DUE, SEFI, latch-up,
permanent failure); ``headroom`` = no load shedding and thermal margin on the satellite; ``drained`` =
satellites being serviced. A GPU that stops being usable under a job ends that job like a fault.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.checkpoint_paths import CheckpointPaths
from engine.jobs import (
    ON_GPUS,
    CheckpointTarget,
    GeneratorSpec,
    Job,
    JobKind,
    JobSpec,
    JobState,
    JobTransition,
    JobView,
    PartitionSpec,
    PendingReason,
    PreemptMode,
)
from engine.snapshot import JobIds
from engine.scheduler import (
    PendingJobs,
    RunningJobs,
    SchedulePlan,
    Scheduler,
    SchedulerConfig,
)

RUN, RESTORE, CHECKPOINT = 0, 1, 2
"""Phases of a job on GPUs (RESTORE and RUN are both the RUNNING state)."""
EXIT_NONE, EXIT_PREEMPT, EXIT_MIGRATE = 0, 1, 2
LOSS_CAUSES = ("rollback", "checkpoint", "restart", "throttling", "abandoned")
_EPS = 1e-9
_MAX_ROUNDS = 64
CHECKPOINT_RETRY_S = 60.0
"""A checkpoint whose target is out of reach (no laser link, no route to the ground) is tried again after
this much run time (or its interval, if shorter)."""
JOULES_PER_KWH = 3.6e6
_LASTING_STATES = (JobState.PENDING, JobState.RUNNING, JobState.CHECKPOINTING, JobState.SUSPENDED, JobState.COMPLETED,
                   JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT)
"""States a job can be seen in between steps (PREEMPTED, NODE_FAIL and REQUEUED pass within an instant)."""


@dataclass(frozen=True)
class WorkloadStep:
    """What one step did: the job state changes (in order, including those made by operator commands since
    the previous step) and GPU occupancy at the end of the step (what the GPUs run during the next one)."""

    transitions: tuple[JobTransition, ...]
    gpu_job: np.ndarray
    """(N, G) index of the job on each GPU, -1 if none (read-only)."""
    gpu_busy: np.ndarray
    """(N, G) GPU held by a running or checkpointing job: draws full utilisation (read-only)."""
    scheduled: bool = False
    """Whether a scheduling pass ran in this step."""


class _Columns:
    """Per-job numbers as growable arrays (indexed by job index)."""

    FLOAT = (
        "n", "work", "progress", "ckpt_progress", "ckpt_pending", "since_ckpt", "interval", "delta", "startup",
        "phase_left", "run_elapsed", "wall_limit", "deadline", "fail_rate", "tier", "boost", "override",
        "submit", "start", "alloc", "productive", "ckpt_cost", "restart_cost", "throttle", "rollback",
        "abandoned", "energy",
    )
    INT8 = ("phase", "exit", "preemptible", "held", "needs_route")

    def __init__(self, capacity: int = 256):
        self.capacity = capacity
        for name in self.FLOAT:
            setattr(self, name, np.zeros(capacity))
        for name in self.INT8:
            setattr(self, name, np.zeros(capacity, dtype=np.int8))

    def __getattr__(self, name: str) -> np.ndarray:  # pragma: no cover - only for type checkers
        raise AttributeError(name)

    def ensure(self, size: int) -> None:
        if size <= self.capacity:
            return
        capacity = max(size, 2 * self.capacity)
        for name in self.FLOAT + self.INT8:
            old = getattr(self, name)
            new = np.zeros(capacity, dtype=old.dtype)
            new[: self.capacity] = old
            setattr(self, name, new)
        self.capacity = capacity


def poisson_arrivals(rng: np.random.Generator, rate_per_s: float, start_s: float, end_s: float) -> np.ndarray:
    """Arrival times of a Poisson process of ``rate_per_s`` on ``(start_s, end_s]`` (exponential gaps)."""
    times: list[float] = []
    if rate_per_s <= 0:
        return np.zeros(0)
    t = start_s + rng.exponential(1.0 / rate_per_s)
    while t <= end_s:
        times.append(t)
        t += rng.exponential(1.0 / rate_per_s)
    return np.array(times)


class Workload:
    """Jobs, queue and scheduler over a fleet of ``N`` satellites with ``G`` GPU slots each.

    ``plane`` (N,) orbital-plane id of each satellite (gangs stay within one plane); ``gpu_present``
    (N, G); ``rng`` seeds the generators and application failures (each gets its own spawned stream, so
    arrivals do not depend on the step size). ``gpu_mtbf_h`` is the per-GPU mean time between
    job-killing faults used by the 'auto' (Daly) and 'young' checkpoint intervals.
    """

    def __init__(
        self,
        jobs: Sequence[JobSpec],
        generators: Sequence[GeneratorSpec],
        partitions: Sequence[PartitionSpec],
        plane: np.ndarray,
        gpu_present: np.ndarray,
        rng: np.random.Generator,
        *,
        scheduler: SchedulerConfig | None = None,
        gpu_mtbf_h: float = 50_000.0,
        satellite_names: Sequence[str] | None = None,
        checkpoint_paths: CheckpointPaths | None = None,
    ):
        present = np.array(gpu_present, dtype=bool)
        present.setflags(write=False)
        self._present = present
        self.n_sats, self.gpus_per_sat = present.shape
        if satellite_names is not None and len(satellite_names) != self.n_sats:
            raise ValueError(f"satellite_names has {len(satellite_names)} names for {self.n_sats} satellites")
        self._names = tuple(satellite_names) if satellite_names is not None else tuple(f"satellite {i}" for i in range(self.n_sats))
        partitions = list(partitions) or [PartitionSpec("default")]
        self.partitions: dict[str, PartitionSpec] = {}
        for partition in partitions:
            if partition.name in self.partitions:
                raise ValueError(f"partition {partition.name!r} is defined twice")
            self.partitions[partition.name] = partition
        self.scheduler = Scheduler(plane, present, scheduler, max_tier=max(p.tier for p in partitions))
        self.topology = self.scheduler.topology
        if not gpu_mtbf_h > 0:
            raise ValueError("gpu_mtbf_h must be positive")
        self.gpu_mtbf_s = float(gpu_mtbf_h) * 3600.0
        largest = int(self.topology.plane_capacity.max()) if self.topology.n_planes else 0

        self._paths = checkpoint_paths

        def check(what: str, partition: str, gpus: Sequence[int], target: CheckpointTarget = CheckpointTarget.LOCAL) -> None:
            if target != CheckpointTarget.LOCAL and checkpoint_paths is None:
                raise ValueError(f"{what}: checkpoints to {target.value!r} need a network (checkpoint_paths)")
            if partition not in self.partitions:
                raise ValueError(f"{what}: unknown partition {partition!r} (defined: {', '.join(self.partitions)})")
            if max(gpus) > largest:
                raise ValueError(f"{what}: needs {max(gpus)} GPUs but the largest orbital plane has {largest}")

        ids: set[str] = set()
        for spec in jobs:
            check(f"job {spec.id}", spec.partition, (spec.gpus,), spec.checkpoint_target)
            if spec.id in ids:
                raise ValueError(f"job id {spec.id!r} is used twice")
            ids.add(spec.id)
        for gen in generators:
            check(f"generator {gen.name}", gen.partition, gen.gpus, gen.checkpoint_target)  # type: ignore[arg-type]
        self._used_ids = ids
        self._serial = 0
        self._listed = sorted(jobs, key=lambda s: s.submit_s)
        self._next_listed = 0
        self.generators = tuple(generators)
        streams = rng.spawn(2 * len(self.generators) + 1)
        self._arrival_rng = streams[0: 2 * len(self.generators): 2]
        self._draw_rng = streams[1: 2 * len(self.generators): 2]
        self._fail_rng = streams[-1]
        self._generated = [0] * len(self.generators)
        self._next_arrival = [self._first_arrival(i) for i in range(len(self.generators))]

        self._c = _Columns()
        self._jobs: list[Job] = []
        self._ids: list[str] = []
        """Job id by index, append-only (snapshots hold views of its prefix)."""
        self._by_id: dict[str, Job] = {}
        self._gpu_job = np.full(present.shape, -1, dtype=np.int64)
        self._pending: dict[int, None] = {}
        self._active: dict[int, np.ndarray] = {}
        """Jobs on GPUs (RUNNING, CHECKPOINTING) -> their flat GPU indices, in the order they started."""
        self._suspended: dict[int, None] = {}
        self._claims: dict[int, np.ndarray] = {}
        self._active_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._active_built: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        """The last (index, flat, sizes) built; patched by the jobs left since instead of rebuilt."""
        self._active_left: list[int] = []
        """Jobs taken off their GPUs since ``_active_built`` (a job may also have started again)."""
        self._spanning: dict[int, None] = {}
        """Jobs on GPUs of more than one satellite (gangs across laser links), in start order."""
        self._spanning_cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._active_started: dict[int, None] = {}
        """Jobs put on their GPUs since ``_active_built`` and still there, in start order (the end of ``_active``)."""
        self._occupancy_cache: tuple[np.ndarray, np.ndarray] | None = None
        self._op_drained = np.zeros(self.n_sats, dtype=bool)
        self._input_drained = np.zeros(self.n_sats, dtype=bool)
        self._drained = np.zeros(self.n_sats, dtype=bool)
        self._prev_usable: np.ndarray | None = None
        self._prev_headroom: np.ndarray | None = None
        self._prev_thermal: np.ndarray | None = None
        self._usable_count = 0
        self._dirty = True
        self._log: list[JobTransition] = []
        self._reported = 0
        self.last_plan: SchedulePlan | None = None
        """The last scheduling pass (for inspection and tests)."""
        self.time_s = 0.0
        self._begun = False
        self._scheduled = False
        self._usable_gpu_s = 0.0
        self._waits: list[tuple[str, float]] = []
        self._completed_energy_j: list[float] = []
        self._inference_finished = 0
        self._inference_on_target = 0
        self.results_need_route = False
        """Set by a simulation whose telemetry travels over the network: inference results count as
        delivered only once their satellite has a route to the ground (see ``deliver_results``)."""
        self._undelivered: list[tuple[int, np.ndarray, float]] = []
        self._reachable: np.ndarray | None = None
        """Satellites with a route to the ground as of the last step (see :meth:`set_reachable`)."""
        self._network_writes: dict[int, None] = {}
        """Jobs that started writing a checkpoint over a link (checked each step for a broken path)."""
        self.counters = {"submitted": 0, "preemptions": 0, "node_failures": 0, "app_failures": 0, "requeues": 0,
                         "checkpoints": 0, "checkpoints_aborted": 0}
        self._state_counts = {state: 0 for state in JobState}
        self._failing_jobs = 0
        """Jobs submitted with an application failure rate (no draws at all while there are none)."""
        self._submit_due(0.0)

    # ------------------------------------------------------------------------------------- submission

    def _first_arrival(self, g: int) -> float:
        gen = self.generators[g]
        if gen.rate_per_hour <= 0:
            return math.inf
        return gen.start_s + float(self._arrival_rng[g].exponential(3600.0 / gen.rate_per_hour))

    def _new_id(self) -> str:
        while True:
            self._serial += 1
            job_id = f"J-{self._serial:04d}"
            if job_id not in self._used_ids:
                self._used_ids.add(job_id)
                return job_id

    def _submit_due(self, time_s: float) -> None:
        while self._next_listed < len(self._listed) and self._listed[self._next_listed].submit_s <= time_s:
            spec = self._listed[self._next_listed]
            self._next_listed += 1
            self._submit(spec, spec.submit_s)
        arrivals: list[tuple[float, int]] = []
        for g, gen in enumerate(self.generators):
            while self._next_arrival[g] <= time_s:
                t = self._next_arrival[g]
                if (gen.stop_s is not None and t > gen.stop_s) or (gen.max_jobs is not None and self._generated[g] >= gen.max_jobs):
                    self._next_arrival[g] = math.inf
                    break
                arrivals.append((t, g))
                self._generated[g] += 1
                self._next_arrival[g] = t + float(self._arrival_rng[g].exponential(3600.0 / gen.rate_per_hour))
        for t, g in sorted(arrivals):
            self._submit(self.generators[g].draw_job(self._new_id(), t, self._draw_rng[g]), t)

    def _submit(self, spec: JobSpec, time_s: float) -> None:
        time_s = float(time_s)
        partition = self.partitions[spec.partition]
        j = len(self._jobs)
        job = Job(j, spec, partition, time_s)
        self._c.ensure(j + 1)
        c = self._c
        c.n[j] = spec.gpus
        c.work[j] = spec.work_s
        c.interval[j] = spec.checkpoint_period_s(self.gpu_mtbf_s)
        c.delta[j] = spec.checkpoint_delta_s if math.isfinite(c.interval[j]) else 0.0
        c.startup[j] = spec.startup_s
        limits = [x for x in (spec.walltime_s, partition.max_wall_s) if x is not None]
        c.wall_limit[j] = min(limits) if limits else math.inf
        c.deadline[j] = math.inf
        c.fail_rate[j] = spec.app_failure_rate_per_h / 3600.0
        self._failing_jobs += spec.app_failure_rate_per_h > 0
        c.tier[j] = partition.tier
        c.boost[j] = spec.priority
        c.override[j] = math.nan
        c.submit[j] = time_s
        c.preemptible[j] = partition.preempt_mode != PreemptMode.OFF
        c.held[j] = spec.hold
        c.needs_route[j] = spec.kind == JobKind.INFERENCE and spec.latency_target_s is not None
        self._jobs.append(job)
        self._ids.append(spec.id)
        self._by_id[spec.id] = job
        self._pending[j] = None
        self._log.append(JobTransition(time_s, spec.id, None, JobState.PENDING, "submitted held" if spec.hold else "submitted"))
        self._state_counts[JobState.PENDING] += 1
        self.counters["submitted"] += 1
        self._dirty = True

    # ----------------------------------------------------------------------------------------- stepping

    def step(
        self,
        time_s: float,
        dt_s: float,
        usable: np.ndarray,
        speed: np.ndarray,
        killed: np.ndarray,
        headroom: np.ndarray,
        drained: np.ndarray,
        gpu_power_w: np.ndarray | None = None,
        thermal_limited: np.ndarray | None = None,
    ) -> WorkloadStep:
        """Advance over ``[time_s, time_s + dt_s]``: :meth:`begin_step` then :meth:`finish_step`.

        ``usable`` (N, G): GPUs that can run work; ``speed`` (N, G) in [0, 1]: progress-rate multiplier
        (throttling, power capping; 0 pauses); ``killed`` (N, G): faults this step that kill the process
        on the GPU; ``headroom`` (N,): power and thermal headroom to start new work; ``drained`` (N,):
        satellites drained by the caller (the operator's drains are kept here and added);
        ``gpu_power_w`` (N, G): per-GPU power for the jobs' energy; ``thermal_limited`` (N,): satellites
        short of headroom for thermal reasons (pending reason ThermalBudget rather than PowerBudget).
        """
        if not (math.isfinite(float(dt_s)) and float(dt_s) > 0):
            raise ValueError("a step must move time forward")
        self.begin_step(time_s, usable, killed, headroom, drained, thermal_limited)
        return self.finish_step(dt_s, speed, gpu_power_w)

    def begin_step(
        self,
        time_s: float,
        usable: np.ndarray,
        killed: np.ndarray,
        headroom: np.ndarray,
        drained: np.ndarray,
        thermal_limited: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Everything that happens at the start of a step (``time_s``): faults end jobs, drains evacuate,
        due jobs are submitted and the scheduler runs if anything changed. Returns the occupancy for the
        step, ``(gpu_job, gpu_busy)`` (read-only (N, G)), so the caller can compute GPU power and speed
        before :meth:`finish_step` advances the jobs."""
        t0 = float(time_s)
        if not math.isfinite(t0):
            raise ValueError(f"time_s must be finite, got {time_s!r}")
        self.time_s = t0
        usable = np.asarray(usable, dtype=bool)
        headroom = np.asarray(headroom, dtype=bool)
        killed = np.asarray(killed, dtype=bool)

        usable_changed = self._prev_usable is None or not np.array_equal(usable, self._prev_usable)
        if usable_changed:
            self._prev_usable = usable.copy()
            self._usable_count = int(np.count_nonzero(usable & self._present))
            self._dirty = True
        lost = killed if killed.any() else None
        if usable_changed:
            lost = ~usable if lost is None else (lost | ~usable)
        if lost is not None:
            self._fail_lost_gpus(lost, killed, t0)

        if self._network_writes:
            self._check_network_writes(t0)
        drained = np.asarray(drained, dtype=bool)
        if not np.array_equal(drained, self._input_drained):
            self._input_drained = drained.copy()
            self._update_drained(t0)
        if self._prev_headroom is None or not np.array_equal(headroom, self._prev_headroom):
            self._prev_headroom = headroom.copy()
            self._dirty = True
        if thermal_limited is not None:
            thermal_limited = np.asarray(thermal_limited, dtype=bool)
            if self._prev_thermal is None or not np.array_equal(thermal_limited, self._prev_thermal):
                self._prev_thermal = thermal_limited.copy()
                self._dirty = self._dirty or not headroom.all()  # only changes pending reasons

        self._submit_due(t0)
        self._scheduled = False
        if self._dirty:
            self._schedule(t0, usable, headroom, thermal_limited)
            self._scheduled = True
        self._begun = True
        return self._occupancy()

    def finish_step(self, dt_s: float, speed: np.ndarray, gpu_power_w: np.ndarray | None = None) -> WorkloadStep:
        """Advance the jobs over ``[time_s, time_s + dt_s]`` (``time_s`` from :meth:`begin_step`) at the
        given per-GPU ``speed`` and ``gpu_power_w``; returns the step's transitions and the occupancy at its end."""
        if not self._begun:
            raise RuntimeError("finish_step() without begin_step()")
        dt = float(dt_s)
        if not (math.isfinite(dt) and dt > 0):
            raise ValueError("a step must move time forward")
        t0 = self.time_s
        self._advance(t0, dt, np.asarray(speed, dtype=float), gpu_power_w)
        self._draw_app_failures(t0 + dt, dt)
        # Jobs due within this step are submitted now (stamped with their own times), so their events come
        # out with this step's, in time order; the scheduler places them at the next step's start.
        self._submit_due(t0 + dt)
        self._usable_gpu_s += self._usable_count * dt
        self.time_s = t0 + dt
        self._begun = False
        gpu_job, busy = self._occupancy()
        return WorkloadStep(self.new_transitions(), gpu_job, busy, self._scheduled)

    def new_transitions(self) -> tuple[JobTransition, ...]:
        """Job state changes since the last call (or step), in order; operator commands add theirs at once."""
        transitions = tuple(self._log[self._reported:])
        self._reported = len(self._log)
        return transitions

    def _occupancy(self) -> tuple[np.ndarray, np.ndarray]:
        if self._occupancy_cache is None:
            gpu_job = self._gpu_job.copy()
            busy = gpu_job >= 0
            gpu_job.setflags(write=False)
            busy.setflags(write=False)
            self._occupancy_cache = (gpu_job, busy)
        return self._occupancy_cache

    def _fail_lost_gpus(self, lost: np.ndarray, killed: np.ndarray, time_s: float) -> None:
        hit = self._gpu_job[lost]
        flat_lost = lost.reshape(-1)
        flat_killed = killed.reshape(-1)
        for j in np.unique(hit[hit >= 0]):
            job = self._jobs[int(j)]
            assert job.gpus_flat is not None
            self._node_fail(job, time_s, self._fault_reason(job.gpus_flat, flat_lost, flat_killed))
        if not self._suspended or not killed.any():
            return
        for j in list(self._suspended):  # a GPU reset wipes a suspended job's state; an outage only delays it
            job = self._jobs[j]
            assert job.suspended_gpus is not None
            if flat_killed[job.suspended_gpus].any():
                self._node_fail(job, time_s, self._fault_reason(job.suspended_gpus, flat_killed, flat_killed))

    def _fault_reason(self, gpus: np.ndarray, flat_lost: np.ndarray, flat_killed: np.ndarray) -> str:
        first = int(gpus[flat_lost[gpus]][0])
        sat, slot = divmod(first, self.gpus_per_sat)
        what = "fault" if flat_killed[first] else "unusable"
        return f"GPU {slot} on {self._names[sat]} {what}"

    def _update_drained(self, time_s: float) -> None:
        new = self._input_drained | self._op_drained
        newly = np.flatnonzero(new & ~self._drained)
        if not np.array_equal(new, self._drained):
            self._dirty = True
        self._drained = new
        if newly.size:
            self._evacuate(newly, time_s)

    def _evacuate(self, sats: np.ndarray, time_s: float) -> int:
        """Jobs on newly drained satellites: checkpoint and migrate (suspended ones requeue). Returns the
        number of jobs affected."""
        on = np.unique(self._gpu_job[sats])
        affected = 0
        for j in on[on >= 0]:
            affected += self._migrate(self._jobs[int(j)], time_s)
        g = self.gpus_per_sat
        for j in list(self._suspended):
            job = self._jobs[j]
            assert job.suspended_gpus is not None
            if np.isin(job.suspended_gpus // g, sats).any():
                self._suspended.pop(j)
                job.suspended_gpus = None
                self._rollback(j)
                self._requeue(job, time_s, "satellite drained while suspended")
                affected += 1
        return affected

    # --------------------------------------------------------------------------------------- scheduling

    def _schedule(self, time_s: float, usable: np.ndarray, headroom: np.ndarray, thermal_limited: np.ndarray | None) -> None:
        self._dirty = False
        c = self._c
        base = self._present & usable
        if self._drained.any():
            base &= ~self._drained[:, None]
        host_flat = (base if headroom.all() else base & headroom[:, None]).reshape(-1)
        for j, gpus in list(self._claims.items()):
            if not host_flat[gpus].all():  # a claimed GPU went down, or its satellite lost headroom: start over
                del self._claims[j]
        claimants = [j for j in self._claims]
        waiting = np.fromiter(self._pending, dtype=np.int64, count=len(self._pending))
        waiting = waiting[c.held[waiting] == 0]
        if self._claims:
            waiting = waiting[~np.isin(waiting, np.fromiter(self._claims, dtype=np.int64))]
        pending = PendingJobs(
            index=waiting, gpus=c.n[waiting].astype(np.int64), priority=self._priority(waiting, time_s),
            submit_s=c.submit[waiting], tier=c.tier[waiting].astype(np.int64),
            runtime_s=self._runtime_estimate(waiting), needs_route=c.needs_route[waiting] == 1,
        )
        active, flat, offsets = self._active_arrays()

        def running() -> RunningJobs:  # built by the pass only if some job does not fit (most steps: never)
            if not active.size:
                return RunningJobs.empty()
            return RunningJobs(
                index=active, tier=c.tier[active].astype(np.int64), priority=self._priority(active, time_s),
                start_s=c.start[active], end_s=self._end_estimate(active, time_s),
                preemptible=(c.preemptible[active] == 1) & (c.exit[active] == EXIT_NONE),
                gpus=list(self._active.values()), flat=flat, offsets=offsets,
            )
        claims = self._by_priority(claimants, time_s)
        suspended = self._by_priority(list(self._suspended), time_s)
        plan = self.scheduler.plan(
            time_s, pending, running, base, self._gpu_job >= 0, headroom, thermal_limited,
            claims=[(j, self._claims[j]) for j in claims],
            suspended=[(j, self._jobs[j].suspended_gpus) for j in suspended],  # type: ignore[misc]
            reachable=self._reachable if self.results_need_route else None,
        )
        self.last_plan = plan
        for j in plan.dropped_claims:
            self._claims.pop(j, None)
        for start in plan.starts:
            job = self._jobs[start.job]
            if start.resume:
                self._resume(job, time_s)
            else:
                self._claims.pop(start.job, None)
                self._start(job, start.gpus, time_s, start.backfill)
        for preemption in plan.preemptions:
            self._preempt(self._jobs[preemption.victim], self._jobs[preemption.by], time_s)
        self._claims.update(plan.claims)
        for j, reason in plan.reasons.items():
            self._jobs[j].reason = reason
        if waiting.size > len(plan.order):
            self._dirty = True  # jobs past the pass's window: look again next step

    def _priority(self, index: np.ndarray, time_s: float) -> np.ndarray:
        c = self._c
        return self.scheduler.priority(time_s, c.submit[index], c.tier[index], c.n[index], c.boost[index], c.override[index])

    def _by_priority(self, jobs: list[int], time_s: float) -> list[int]:
        if not jobs:
            return []
        index = np.array(jobs, dtype=np.int64)
        order = np.lexsort((index, self._c.submit[index], -self._priority(index, time_s)))
        return [int(j) for j in index[order]]

    def _remaining_estimate(self, index: np.ndarray) -> np.ndarray:
        """Work left plus the checkpoints it will take, s."""
        c = self._c
        left = np.maximum(c.work[index] - c.progress[index], 0.0)
        interval = c.interval[index]
        with np.errstate(divide="ignore", invalid="ignore"):
            checkpoints = np.where(np.isfinite(interval), np.floor(left / interval) * c.delta[index], 0.0)
        return left + checkpoints

    def _runtime_estimate(self, index: np.ndarray) -> np.ndarray:
        c = self._c
        restore = c.startup[index] + np.where(c.ckpt_progress[index] > 0, c.delta[index], 0.0)
        return np.minimum(restore + self._remaining_estimate(index), c.wall_limit[index])

    def _end_estimate(self, index: np.ndarray, time_s: float) -> np.ndarray:
        c = self._c
        timed = np.where(c.phase[index] != RUN, c.phase_left[index], 0.0)
        estimate = timed + self._remaining_estimate(index)
        leaving = c.exit[index] != EXIT_NONE
        estimate = np.where(leaving, np.minimum(timed, c.deadline[index] - time_s), estimate)
        estimate = np.minimum(estimate, c.wall_limit[index] - c.run_elapsed[index])
        return time_s + np.maximum(estimate, 0.0)

    # --------------------------------------------------------------------------------- state changes

    def _set_held(self, job: Job, held: bool) -> None:
        job.held = held
        self._c.held[job.index] = held

    def _move(self, job: Job, to: JobState, time_s: float, reason: str = "") -> None:
        before = job.state
        self._log.append(job.move(to, time_s, reason))
        self._state_counts[before] -= 1
        self._state_counts[to] += 1

    def _start(self, job: Job, gpus: np.ndarray, time_s: float, backfill: bool) -> None:
        j = job.index
        c = self._c
        self._move(job, JobState.RUNNING, time_s, "backfill" if backfill else "")
        self._pending.pop(j)
        self._take_gpus(job, np.asarray(gpus, dtype=np.int64))
        c.start[j] = time_s
        c.run_elapsed[j] = 0.0
        c.since_ckpt[j] = 0.0
        c.deadline[j] = math.inf
        c.exit[j] = EXIT_NONE
        restore = c.startup[j] + (c.delta[j] if c.ckpt_progress[j] > 0 else 0.0)
        c.phase[j] = RESTORE if restore > 0 else RUN
        c.phase_left[j] = restore
        job.start_s = time_s
        job.reason = ""
        job.checkpoint_blocked = ""
        if job.first_start_s is None:
            job.first_start_s = time_s
            self._waits.append((job.partition.name, time_s - job.submit_s))

    def _resume(self, job: Job, time_s: float) -> None:
        assert job.suspended_gpus is not None
        self._move(job, JobState.RUNNING, time_s, "resumed")
        self._suspended.pop(job.index)
        gpus, job.suspended_gpus = job.suspended_gpus, None
        self._take_gpus(job, gpus)
        job.reason = ""

    def _take_gpus(self, job: Job, gpus: np.ndarray) -> None:
        flat = self._gpu_job.reshape(-1)
        assert (flat[gpus] < 0).all(), f"job {job.id}: GPU already taken"
        flat[gpus] = job.index
        job.gpus_flat = gpus
        self._active[job.index] = gpus
        self._active_started[job.index] = None
        g = self.gpus_per_sat
        if gpus.size and int(gpus.min()) // g != int(gpus.max()) // g:
            self._spanning[job.index] = None
            self._spanning_cache = None
        self._active_cache = None
        self._occupancy_cache = None

    def _release(self, job: Job) -> np.ndarray:
        """Take a job off its GPUs; returns them."""
        gpus = job.gpus_flat
        assert gpus is not None
        self._gpu_job.reshape(-1)[gpus] = -1
        job.gpus_flat = None
        job.last_satellites = np.unique(gpus // self.gpus_per_sat)
        self._active.pop(job.index)
        self._active_started.pop(job.index, None)
        if self._spanning.pop(job.index, 0) is None:
            self._spanning_cache = None
        self._active_cache = None
        self._active_left.append(job.index)
        self._occupancy_cache = None
        self._dirty = True
        return gpus

    def _leave(self, job: Job) -> None:
        """Off GPUs, or out of the suspended set."""
        if job.gpus_flat is not None:
            self._release(job)
        elif job.index in self._suspended:
            self._suspended.pop(job.index)
            job.suspended_gpus = None
            self._dirty = True

    def _rollback(self, j: int) -> None:
        c = self._c
        lost = c.progress[j] - c.ckpt_progress[j]
        c.rollback[j] += lost * c.n[j]
        c.progress[j] = c.ckpt_progress[j]
        c.since_ckpt[j] = 0.0

    def _abandon(self, j: int) -> None:
        c = self._c
        c.abandoned[j] += c.progress[j] * c.n[j]

    def _requeue(self, job: Job, time_s: float, reason: str, hold: bool = False) -> None:
        j = job.index
        c = self._c
        self._move(job, JobState.REQUEUED, time_s, reason)
        job.restarts += 1
        self.counters["requeues"] += 1
        self._move(job, JobState.PENDING, time_s, reason)
        self._set_held(job, hold)
        job.reason = PendingReason.HELD.value if hold else "Requeued"
        job.exit_reason = ""
        self._pending[j] = None
        c.phase[j] = RUN
        c.phase_left[j] = 0.0
        c.deadline[j] = math.inf
        c.exit[j] = EXIT_NONE
        c.run_elapsed[j] = 0.0
        c.since_ckpt[j] = 0.0
        self._dirty = True

    def _end(self, job: Job, to: JobState, time_s: float, reason: str = "") -> None:
        """Into a terminal state (the job is already off its GPUs)."""
        j = job.index
        if to != JobState.COMPLETED:
            self._abandon(j)
        self._pending.pop(j, None)
        if self._claims.pop(j, None) is not None:
            self._dirty = True
        self._move(job, to, time_s, reason)
        job.exit_reason = reason
        if job.spec.kind == JobKind.INFERENCE and job.spec.latency_target_s is not None and to != JobState.CANCELLED:
            if to == JobState.COMPLETED and self.results_need_route:
                # The result still has to reach the ground: judged when its satellite next has a route.
                self._undelivered.append((j, job.last_satellites if job.last_satellites is not None else np.empty(0, dtype=np.int64), time_s))
            else:
                self._judge_inference(job, time_s if to == JobState.COMPLETED else None)
        if to == JobState.COMPLETED:
            self._completed_energy_j.append(float(self._c.energy[j]))

    def _judge_inference(self, job: Job, delivered_s: float | None) -> None:
        """Count a finished inference job against its latency target (submit to result on the ground)."""
        self._inference_finished += 1
        if delivered_s is not None and delivered_s - job.submit_s <= job.spec.latency_target_s + _EPS:
            self._inference_on_target += 1

    def set_groups(self, group: np.ndarray) -> None:
        """The sets of satellites a gang may span now (the plane, split by the laser links that connect
        its satellites); the scheduler places new gangs within one set from the next pass."""
        self.scheduler.set_groups(group)
        self.topology = self.scheduler.topology
        self._dirty = True

    def deliver_results(self, reachable_before: np.ndarray, reachable_now: np.ndarray, t0_s: float, t1_s: float) -> int:
        """Inference results waiting on board reach the ground over [t0_s, t1_s]: a result finished in the
        step on a satellite with a route at both ends of it arrives when it finished; one whose satellite
        had no route arrives at t1_s if the satellite has one now, and otherwise keeps waiting. Returns how
        many arrived."""
        if not self._undelivered:
            return 0
        before = np.asarray(reachable_before, dtype=bool)
        now = np.asarray(reachable_now, dtype=bool)
        waiting = []
        for j, satellites, finished_s in self._undelivered:
            routed_now = bool(now[satellites].any()) if len(satellites) else True
            if not routed_now:
                waiting.append((j, satellites, finished_s))
                continue
            throughout = finished_s >= t0_s and (bool(before[satellites].any()) if len(satellites) else True)
            self._judge_inference(self._jobs[j], finished_s if throughout else t1_s)
        arrived = len(self._undelivered) - len(waiting)
        self._undelivered = waiting
        return arrived

    def set_reachable(self, reachable: np.ndarray) -> None:
        """Satellites with a route to the ground now: inference jobs whose results must reach the ground
        start on one of them when one has room (from the next scheduling pass)."""
        reachable = np.asarray(reachable, dtype=bool)
        if reachable.shape != (self.n_sats,):
            raise ValueError(f"reachable must have one entry per satellite ({self.n_sats}), got shape {reachable.shape}")
        self._reachable = reachable

    @property
    def results_waiting(self) -> int:
        """Inference results finished on board and not yet on the ground."""
        return len(self._undelivered)

    def _restart_cap_reached(self, job: Job) -> bool:
        return job.spec.max_restarts is not None and job.restarts >= job.spec.max_restarts

    def _node_fail(self, job: Job, time_s: float, reason: str) -> None:
        self._leave(job)
        self._move(job, JobState.NODE_FAIL, time_s, reason)
        self._rollback(job.index)
        job.node_failures += 1
        self.counters["node_failures"] += 1
        if not job.spec.requeue_on_node_fail:
            self._end(job, JobState.FAILED, time_s, "node failure (job does not requeue)")
        elif self._restart_cap_reached(job):
            self._end(job, JobState.FAILED, time_s, f"restart limit {job.spec.max_restarts} reached")
        else:
            self._requeue(job, time_s, "NodeFail")

    def _app_fail(self, job: Job, time_s: float, reason: str) -> None:
        self._leave(job)
        self._rollback(job.index)
        job.retries_used += 1
        self.counters["app_failures"] += 1
        if job.retries_used > job.spec.max_retries:
            self._end(job, JobState.FAILED, time_s, f"{reason}; retries exhausted ({job.spec.max_retries})")
        elif self._restart_cap_reached(job):
            self._end(job, JobState.FAILED, time_s, f"{reason}; restart limit {job.spec.max_restarts} reached")
        else:
            self._requeue(job, time_s, f"AppFailure: {reason} (retry {job.retries_used}/{job.spec.max_retries})")

    def _begin_checkpoint(self, job: Job, time_s: float, reason: str) -> bool:
        """Start writing a checkpoint; False (and a retry later) if its target is out of reach now."""
        j = job.index
        c = self._c
        target = job.spec.checkpoint_target
        assert job.gpus_flat is not None
        sats = np.unique(job.gpus_flat // self.gpus_per_sat)
        if target == CheckpointTarget.LOCAL:
            holders = sats
        else:
            assert self._paths is not None
            write = self._paths.plan(target, sats, job.spec.checkpoint_size_gb)
            if isinstance(write, str):
                self._defer_checkpoint(job, f"checkpoint to {target.value} waits: {write}")
                return False
            c.delta[j] = write.write_s  # restoring reads it back the same way
            holders = write.holders
            self._network_writes[j] = None
        job.checkpoint_blocked = ""
        job.pending_holders = holders
        if job.state == JobState.RUNNING:
            self._move(job, JobState.CHECKPOINTING, time_s, reason)
        c.phase[j] = CHECKPOINT
        c.phase_left[j] = c.delta[j]
        c.ckpt_pending[j] = c.progress[j]
        c.since_ckpt[j] = 0.0
        return True

    def _defer_checkpoint(self, job: Job, why: str) -> None:
        """The job runs on and tries its checkpoint again after ``CHECKPOINT_RETRY_S`` of run time."""
        c = self._c
        j = job.index
        job.checkpoint_blocked = why
        c.since_ckpt[j] = c.interval[j] - min(CHECKPOINT_RETRY_S, c.interval[j])

    def _check_network_writes(self, time_s: float) -> None:
        """Abort checkpoint writes whose laser link stopped carrying traffic or whose route to the ground
        went (the time spent stays booked as checkpoint cost; the job runs on and tries again)."""
        assert self._paths is not None
        c = self._c
        for j in list(self._network_writes):
            job = self._jobs[j]
            if c.phase[j] != CHECKPOINT or job.gpus_flat is None:
                del self._network_writes[j]
                continue
            target = job.spec.checkpoint_target
            sats = np.unique(job.gpus_flat // self.gpus_per_sat)
            if self._paths.still_open(target, sats, job.pending_holders):
                continue
            del self._network_writes[j]
            why = "laser link lost" if target == CheckpointTarget.PEER else "route to the ground lost"
            c.phase[j] = RUN
            c.phase_left[j] = 0.0
            job.pending_holders = None
            self.counters["checkpoints_aborted"] += 1
            self._defer_checkpoint(job, f"checkpoint to {target.value} waits: {why}")
            self._move(job, JobState.RUNNING, time_s, f"checkpoint to {target.value} aborted: {why}")

    def lose_checkpoints(self, lost: np.ndarray) -> list[str]:
        """Checkpoints held on satellites in ``lost`` (N,) bool are gone (storage failure, satellite loss):
        their jobs fall back to no checkpoint; a queued job loses the progress it would restart from
        (booked as rollback). Checkpoints on the ground are never lost. Returns the ids of the jobs hit."""
        lost = np.asarray(lost, dtype=bool)
        if lost.shape != (self.n_sats,):
            raise ValueError(f"lost must have one entry per satellite ({self.n_sats}), got shape {lost.shape}")
        c = self._c
        hit = []
        for job in self._jobs:
            holders = job.checkpoint_holders
            if job.terminal or holders is None or not holders.size or not lost[holders].any():
                continue
            j = job.index
            if job.gpus_flat is None and job.suspended_gpus is None:  # queued: it would restart from there
                c.rollback[j] += c.progress[j] * c.n[j]
                c.progress[j] = 0.0
            c.ckpt_progress[j] = 0.0
            job.checkpoint_holders = None
            job.checkpoint_time_s = None
            hit.append(job.id)
        return hit

    def _has_unsaved_work(self, j: int) -> bool:
        c = self._c
        return c.progress[j] - c.ckpt_progress[j] > _EPS

    def _preempt(self, victim: Job, by: Job, time_s: float) -> None:
        j = victim.index
        c = self._c
        mode = victim.partition.preempt_mode
        victim.preemptions += 1
        self.counters["preemptions"] += 1
        why = f"preempted by {by.id}"
        if mode == PreemptMode.SUSPEND:
            if c.phase[j] == CHECKPOINT:
                c.phase[j] = RUN
                c.phase_left[j] = 0.0
            gpus = self._release(victim)
            self._move(victim, JobState.SUSPENDED, time_s, why)
            victim.suspended_gpus = gpus
            self._suspended[j] = None
        elif mode == PreemptMode.CANCEL:
            self._release(victim)
            self._move(victim, JobState.PREEMPTED, time_s, why)
            self._end(victim, JobState.CANCELLED, time_s, f"{why} (partition {victim.partition.name} cancels)")
        else:
            grace = victim.partition.grace_s
            c.exit[j] = EXIT_PREEMPT
            c.deadline[j] = time_s + grace
            victim.exit_reason = why
            if c.phase[j] == CHECKPOINT:
                return
            if c.delta[j] > 0 and self._has_unsaved_work(j):
                # Out of reach of its checkpoint target, it runs on and retries until the grace ends.
                self._begin_checkpoint(victim, time_s, f"{why}: checkpoint within {grace:g} s grace")
            else:
                self._exit_preempted(victim, time_s, killed=self._has_unsaved_work(j))

    def _exit_preempted(self, job: Job, time_s: float, killed: bool) -> None:
        self._release(job)
        if killed:
            self._rollback(job.index)
        self._move(job, JobState.PREEMPTED, time_s,
                   f"{job.exit_reason}: grace expired, unsaved work lost" if killed else job.exit_reason)
        self._requeue(job, time_s, "Preempted")

    def _migrate(self, job: Job, time_s: float) -> int:
        """A job on a drained satellite: checkpoint, then requeue elsewhere. Jobs that do not checkpoint run
        to the end (Slurm drain). Returns 1 if it was told to migrate."""
        j = job.index
        c = self._c
        if c.exit[j] != EXIT_NONE or not c.delta[j] > 0:
            return 0
        c.exit[j] = EXIT_MIGRATE
        job.exit_reason = "satellite drained: migrating"
        if c.phase[j] == CHECKPOINT:
            return 1
        if self._has_unsaved_work(j):
            self._begin_checkpoint(job, time_s, "satellite drained: checkpoint to migrate")
        else:
            self._release(job)
            self._requeue(job, time_s, "Migrating (satellite drained)")
        return 1

    # ----------------------------------------------------------------------------------------- progress

    def running_gpus(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Jobs on GPUs now: (job indices, their flat GPU indices concatenated, each job's segment start);
        read-only, cached until a job starts or leaves its GPUs."""
        return self._active_arrays()

    def spanning_gpus(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``running_gpus()`` for the jobs on more than one satellite only (the gangs the network can slow
        or stall); cached until one of them starts or leaves."""
        if self._spanning_cache is None:
            jobs = list(self._spanning)
            gpus = [self._active[j] for j in jobs]
            sizes = np.fromiter((len(g) for g in gpus), dtype=np.int64, count=len(gpus))
            starts = np.zeros(len(jobs), dtype=np.int64)
            np.cumsum(sizes[:-1], out=starts[1:])
            flat = np.concatenate(gpus) if gpus else np.zeros(0, dtype=np.int64)
            self._spanning_cache = (np.asarray(jobs, dtype=np.int64), flat, starts)
        return self._spanning_cache

    def _active_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Active job indices (in start order), their GPUs concatenated, and each job's segment start.

        Built from the last build by dropping the segments of the jobs that left since and appending the
        jobs that started since and are still on their GPUs (``_active`` holds them at its end, in start
        order), so a step where a few of thousands of jobs start or end neither walks every job nor
        concatenates every job's GPUs again."""
        if self._active_cache is None:
            built = self._active_built
            if built is None:
                kept_index, kept_flat, kept_sizes = (np.zeros(0, dtype=np.int64),) * 3
            else:
                old_index, old_flat, old_sizes = built
                if self._active_left:
                    left = np.zeros(len(self._jobs), dtype=bool)
                    left[self._active_left] = True
                    keep = ~left[old_index]
                    kept_index, kept_sizes = old_index[keep], old_sizes[keep]
                    kept_flat = old_flat[np.repeat(keep, old_sizes)]
                else:
                    kept_index, kept_flat, kept_sizes = built
            if self._active_started:
                started = np.fromiter(self._active_started, dtype=np.int64, count=len(self._active_started))
                gpus = [self._active[j] for j in self._active_started]
                index = np.concatenate([kept_index, started])
                flat = np.concatenate([kept_flat, *gpus])
                sizes = np.concatenate([kept_sizes, np.fromiter((len(g) for g in gpus), dtype=np.int64, count=len(gpus))])
            else:
                index, flat, sizes = kept_index, kept_flat, kept_sizes
            self._active_built = (index, flat, sizes)
            self._active_left = []
            self._active_started = {}
            starts = np.zeros(len(sizes), dtype=np.int64)
            np.cumsum(sizes[:-1], out=starts[1:])
            self._active_cache = (index, flat, starts)
        return self._active_cache

    def _advance(self, t0: float, dt: float, speed: np.ndarray, gpu_power_w: np.ndarray | None) -> None:
        index, flat, starts = self._active_arrays()
        if not index.size:
            return
        c = self._c
        # A job runs at its slowest GPU's speed, at most 1: only the few GPUs slower than that are looked at.
        speed_flat = speed.reshape(-1)
        job_speed = np.ones(index.size)
        slow = np.flatnonzero((speed_flat < 1.0).take(flat))  # positions in flat on a throttled, capped or stalled GPU
        if slow.size:
            np.minimum.at(job_speed, np.searchsorted(starts, slow, side="right") - 1, speed_flat.take(flat.take(slow)))
            np.maximum(job_speed, 0.0, out=job_speed)
        power = None
        if gpu_power_w is not None:
            power = np.add.reduceat(np.asarray(gpu_power_w, dtype=float).reshape(-1)[flat], starts)
        remaining = np.full(index.size, dt)
        live = np.arange(index.size)
        for _ in range(_MAX_ROUNDS):
            j = index[live]
            n = c.n[j]
            left = remaining[live]
            s = job_speed[live]
            phase = c.phase[j]
            timed = phase != RUN
            now = t0 + (dt - left)
            with np.errstate(divide="ignore", invalid="ignore"):
                until = (  # time to each kind of event, by kind
                    np.where(timed, c.phase_left[j], np.inf),
                    np.where(timed | (s <= 0), np.inf, (c.work[j] - c.progress[j]) / s),
                    np.where(timed, np.inf, c.interval[j] - c.since_ckpt[j]),
                    c.deadline[j] - now,
                    c.wall_limit[j] - c.run_elapsed[j],
                )
            first = np.minimum(until[0], until[1])
            for later in until[2:]:
                np.minimum(first, later, out=first)
            np.maximum(first, 0.0, out=first)  # the soonest event, not in the past
            seg = np.minimum(first, left)
            gpu_s = seg * n
            run = ~timed
            gain = np.where(run, s * seg, 0.0)
            c.alloc[j] += gpu_s
            c.run_elapsed[j] += seg
            c.progress[j] += gain
            c.productive[j] += gain * n
            c.since_ckpt[j] += np.where(run, seg, 0.0)
            # The rest changes only for the few jobs in a timed phase, or slowed: only theirs are written
            # (adding zeros to the others, as one whole-array update would, leaves them as they are).
            in_phase = np.flatnonzero(timed)
            if in_phase.size:
                c.phase_left[j[in_phase]] -= seg[in_phase]
                for cost, which in ((c.ckpt_cost, CHECKPOINT), (c.restart_cost, RESTORE)):
                    rows = in_phase[phase[in_phase] == which]
                    cost[j[rows]] += gpu_s[rows]
            if slow.size:
                c.throttle[j] += np.where(run, (1.0 - s) * gpu_s, 0.0)
            if power is not None:
                c.energy[j] += power[live] * seg
            remaining[live] = left - seg
            happening = np.flatnonzero(first <= left)
            if happening.size:  # which kind, for the few jobs with an event in this segment (the first on a tie)
                kinds = np.argmin(np.maximum(np.stack([row[happening] for row in until]), 0.0), axis=0)
                for q, kind in zip(happening.tolist(), kinds.tolist()):
                    if self._event(int(j[q]), kind, float(now[q] + seg[q])):
                        remaining[live[q]] = 0.0
            live = live[remaining[live] > _EPS]
            if not live.size:
                break

    def _event(self, j: int, kind: int, time_s: float) -> bool:
        """Handle one timed event of an active job; True if it left its GPUs."""
        job = self._jobs[j]
        c = self._c
        if kind == 0:  # restore or checkpoint write finished
            c.phase_left[j] = 0.0
            if c.phase[j] == RESTORE:
                c.phase[j] = RUN
                return False
            c.ckpt_progress[j] = c.ckpt_pending[j]
            job.checkpoint_time_s = time_s
            job.checkpoint_holders, job.pending_holders = job.pending_holders, None
            self.counters["checkpoints"] += 1
            c.phase[j] = RUN
            if c.exit[j] == EXIT_PREEMPT:
                self._exit_preempted(job, time_s, killed=self._has_unsaved_work(j))
                return True
            if c.exit[j] == EXIT_MIGRATE:
                self._release(job)
                self._requeue(job, time_s, "Migrating (satellite drained)")
                return True
            self._move(job, JobState.RUNNING, time_s, "checkpoint written")
            return False
        if kind == 1:  # work done
            c.progress[j] = c.work[j]
            self._release(job)
            self._end(job, JobState.COMPLETED, time_s)
            return True
        if kind == 2:  # checkpoint due (or retried after its target was out of reach)
            if c.exit[j] == EXIT_PREEMPT:
                reason = f"{job.exit_reason}: checkpoint within the grace period"
            elif c.exit[j] == EXIT_MIGRATE:
                reason = "satellite drained: checkpoint to migrate"
            else:
                reason = "periodic checkpoint"
            self._begin_checkpoint(job, time_s, reason)
            return False
        if kind == 3:  # preemption grace expired (during the checkpoint, or before one could start)
            c.phase[j] = RUN
            c.phase_left[j] = 0.0
            self._exit_preempted(job, time_s, killed=self._has_unsaved_work(j))
            return True
        self._release(job)
        self._end(job, JobState.TIMEOUT, time_s, f"time limit {c.wall_limit[j]:g} s")
        return True

    def _draw_app_failures(self, time_s: float, dt: float) -> None:
        if not self._failing_jobs:
            return
        index, _, _ = self._active_arrays()
        if not index.size:
            return
        rate = self._c.fail_rate[index]
        at_risk = rate > 0
        if not at_risk.any():
            return
        candidates = index[at_risk]
        p = -np.expm1(-rate[at_risk] * dt)
        for j in candidates[self._fail_rng.random(candidates.size) < p]:
            self._app_fail(self._jobs[int(j)], time_s, "application error")

    # ---------------------------------------------------------------------------- operator commands

    def _job(self, job_id: str) -> Job:
        job = self._by_id.get(job_id)
        if job is None:
            raise ValueError(f"no job {job_id!r}")
        return job

    def _now(self, time_s: float | None) -> float:
        return self.time_s if time_s is None else float(time_s)

    def cancel(self, job_id: str, time_s: float | None = None) -> str:
        """Cancel a job that has not finished."""
        job = self._job(job_id)
        if job.terminal:
            raise ValueError(f"job {job_id} has already finished ({job.state.value})")
        t = self._now(time_s)
        self._leave(job)
        self._end(job, JobState.CANCELLED, t, "cancelled by operator")
        return f"job {job_id} cancelled"

    def hold(self, job_id: str, time_s: float | None = None) -> str:
        """Keep a pending job from starting until released."""
        job = self._job(job_id)
        if job.state != JobState.PENDING:
            raise ValueError(f"job {job_id} is {job.state.value}; only pending jobs can be held (requeue it with hold)")
        if job.held:
            raise ValueError(f"job {job_id} is already held")
        self._set_held(job, True)
        job.reason = PendingReason.HELD.value
        if self._claims.pop(job.index, None) is not None:
            self._dirty = True
        return f"job {job_id} held"

    def release(self, job_id: str, time_s: float | None = None) -> str:
        """Let a held job be scheduled again."""
        job = self._job(job_id)
        if job.state != JobState.PENDING or not job.held:
            raise ValueError(f"job {job_id} is not held")
        self._set_held(job, False)
        job.reason = PendingReason.NONE.value
        self._dirty = True
        return f"job {job_id} released"

    def requeue(self, job_id: str, time_s: float | None = None, hold: bool = False) -> str:
        """Stop a running, checkpointing or suspended job and put it back in the queue from its last
        checkpoint (work since then is lost; no retry is used). ``hold`` keeps it held (REQUEUE_HOLD)."""
        job = self._job(job_id)
        if job.state not in (JobState.RUNNING, JobState.CHECKPOINTING, JobState.SUSPENDED):
            raise ValueError(f"job {job_id} is {job.state.value}; only running or suspended jobs can be requeued")
        t = self._now(time_s)
        lost_s = self._c.progress[job.index] - self._c.ckpt_progress[job.index]
        self._leave(job)
        self._rollback(job.index)
        self._requeue(job, t, "requeued by operator" + (" (held)" if hold else ""), hold=hold)
        return f"job {job_id} requeued from its last checkpoint ({lost_s:.0f} s of work lost)"

    def set_priority(self, job_id: str, priority: float) -> str:
        """Set a job's priority (replaces the multifactor value, as Slurm's scontrol does)."""
        job = self._job(job_id)
        if job.terminal:
            raise ValueError(f"job {job_id} has already finished ({job.state.value})")
        value = float(priority)
        if not math.isfinite(value) or value < 0:
            raise ValueError("priority must be a finite number >= 0")
        self._c.override[job.index] = value
        self._dirty = True
        return f"job {job_id} priority set to {value:g}"

    def fail(self, job_id: str, time_s: float | None = None, reason: str = "application error") -> str:
        """An application failure of a running job (uses one retry)."""
        job = self._job(job_id)
        if job.state not in ON_GPUS:
            raise ValueError(f"job {job_id} is {job.state.value}; only a running job can fail")
        self._app_fail(job, self._now(time_s), reason)
        return f"job {job_id} failed: {reason}"

    def _satellite(self, sat_index: int) -> int:
        if not isinstance(sat_index, (int, np.integer)) or not 0 <= sat_index < self.n_sats:
            raise ValueError(f"no satellite with index {sat_index!r}")
        return int(sat_index)

    def drain(self, sat_index: int, time_s: float | None = None) -> str:
        """No new work on a satellite; its checkpointing jobs checkpoint and move elsewhere."""
        sat = self._satellite(sat_index)
        if self._op_drained[sat]:
            raise ValueError(f"{self._names[sat]} is already drained")
        self._op_drained[sat] = True
        before = int(self._drained[sat])
        moved = self._evacuate(np.array([sat]), self._now(time_s)) if not before else 0
        self._drained[sat] = True
        self._dirty = True
        return f"{self._names[sat]} drained" + (f"; {moved} job(s) checkpointing to migrate" if moved else "")

    def undrain(self, sat_index: int) -> str:
        sat = self._satellite(sat_index)
        if not self._op_drained[sat]:
            raise ValueError(f"{self._names[sat]} is not drained by the operator")
        self._op_drained[sat] = False
        self._drained[sat] = self._input_drained[sat]
        self._dirty = True
        return f"{self._names[sat]} undrained"

    # ---------------------------------------------------------------------------------------- queries

    @property
    def history(self) -> tuple[JobTransition, ...]:
        """Every job state change so far, in order."""
        return tuple(self._log)

    @property
    def drained(self) -> np.ndarray:
        out = self._drained.copy()
        out.setflags(write=False)
        return out

    @property
    def gpu_job(self) -> np.ndarray:
        return self._occupancy()[0]

    def job_ids(self) -> list[str]:
        return list(self._ids)

    def job_id_view(self) -> JobIds:
        """The ids of every job submitted so far, by index, frozen at this instant (O(1))."""
        return JobIds(self._ids, len(self._ids))

    def state_counts(self) -> dict[str, int]:
        """Jobs per state now."""
        return {state.value: count for state, count in self._state_counts.items() if count}

    def state_of(self, job_id: str) -> JobState:
        return self._job(job_id).state

    def index_of(self, job_id: str) -> int:
        """The job's index (the value in ``gpu_job``)."""
        return self._job(job_id).index

    def job_at(self, index: int) -> str:
        return self._jobs[index].id

    def job_view(self, job_id: str) -> JobView:
        return self._views([self._job(job_id)])[0]

    def job_views(self, include_finished: bool = True) -> list[JobView]:
        jobs = self._jobs if include_finished else [job for job in self._jobs if not job.terminal]
        return self._views(jobs)

    def satellite_jobs(self, sat_index: int) -> list[JobView]:
        """Jobs running, checkpointing or suspended on a satellite."""
        sat = self._satellite(sat_index)
        on = {int(j) for j in np.unique(self._gpu_job[sat]) if j >= 0}
        g = self.gpus_per_sat
        for j in self._suspended:
            gpus = self._jobs[j].suspended_gpus
            if gpus is not None and (gpus // g == sat).any():
                on.add(j)
        return self._views([self._jobs[j] for j in sorted(on)])

    def _views(self, jobs: Sequence[Job]) -> list[JobView]:
        if not jobs:
            return []
        c = self._c
        index = np.array([job.index for job in jobs], dtype=np.int64)
        priority = self._priority(index, self.time_s)
        g = self.gpus_per_sat
        views = []
        for job, p in zip(jobs, priority):
            j = job.index
            gpus = job.gpus_flat if job.gpus_flat is not None else job.suspended_gpus
            sats = tuple(int(s) for s in np.unique(gpus // g)) if gpus is not None else ()
            started = job.first_start_s
            wait = (started if started is not None else (job.end_s if job.end_s is not None else self.time_s)) - job.submit_s
            views.append(JobView(
                id=job.id, name=job.spec.name, kind=JobKind(job.spec.kind).value, partition=job.partition.name,
                state=job.state.value, reason=job.reason if job.state == JobState.PENDING else job.exit_reason,
                priority=float(p), gpus=int(c.n[j]), satellites=sats,
                progress=float(min(c.progress[j] / c.work[j], 1.0)),
                checkpoint_progress=float(min(c.ckpt_progress[j] / c.work[j], 1.0)),
                checkpoint_age_s=None if job.checkpoint_time_s is None else self.time_s - job.checkpoint_time_s,
                checkpoint_target=CheckpointTarget(job.spec.checkpoint_target).value,
                checkpoint_holders=() if job.checkpoint_holders is None else tuple(int(s) for s in job.checkpoint_holders),
                checkpoint_blocked=job.checkpoint_blocked if job.state in ON_GPUS else "",
                wait_s=float(wait), restarts=job.restarts, retries=job.retries_used, energy_j=float(c.energy[j]), submit_s=job.submit_s,
                start_s=job.start_s, end_s=job.end_s, latency_target_s=job.spec.latency_target_s,
            ))
        return views

    def accounting(self, job_id: str | None = None) -> dict[str, float]:
        """GPU-seconds: allocated, useful, each loss cause, and productive; one job or all jobs."""
        c = self._c
        sl = slice(0, len(self._jobs)) if job_id is None else slice(self._job(job_id).index, self._job(job_id).index + 1)
        total = {
            "allocated": float(c.alloc[sl].sum()),
            "productive": float(c.productive[sl].sum()),
            "rollback": float(c.rollback[sl].sum()),
            "checkpoint": float(c.ckpt_cost[sl].sum()),
            "restart": float(c.restart_cost[sl].sum()),
            "throttling": float(c.throttle[sl].sum()),
            "abandoned": float(c.abandoned[sl].sum()),
        }
        total["useful"] = total["productive"] - total["rollback"] - total["abandoned"]
        return total

    def metrics(self, time_s: float | None = None) -> dict:
        """Workload metrics (JSON-serialisable; None where undefined)."""
        acct = self.accounting()
        c = self._c
        hours = 1.0 / 3600.0
        allocated = acct["allocated"]
        live = np.array([j for j in list(self._active) + list(self._suspended)], dtype=np.int64)
        at_risk = float(((c.progress[live] - c.ckpt_progress[live]) * c.n[live]).sum()) if live.size else 0.0
        waits = np.array([w for _, w in self._waits])
        by_partition: dict[str, dict] = {}
        for name in self.partitions:
            w = np.array([x for p, x in self._waits if p == name])
            by_partition[name] = {"started": int(w.size), "p50_s": _pct(w, 50), "p95_s": _pct(w, 95)}
        energy = float(c.energy[: len(self._jobs)].sum())
        completed_energy = np.array(self._completed_energy_j)
        return {
            "time_s": self._now(time_s),
            "jobs": {state.value.lower(): int(self._state_counts[state]) for state in _LASTING_STATES}
            | {k: int(v) for k, v in self.counters.items()},
            "gpu_hours_allocated": allocated * hours,
            "gpu_hours_useful": acct["useful"] * hours,
            "gpu_hours_available": self._usable_gpu_s * hours,
            "gpu_hours_lost": {cause: acct[cause] * hours for cause in LOSS_CAUSES},
            "gpu_hours_at_risk": at_risk * hours,
            "goodput": acct["useful"] / allocated if allocated > 0 else None,
            "utilization": allocated / self._usable_gpu_s if self._usable_gpu_s > 0 else None,
            "utilization_now": (int(np.count_nonzero(self._gpu_job >= 0)) / self._usable_count) if self._usable_count else None,
            "queue_wait_p50_s": _pct(waits, 50),
            "queue_wait_p95_s": _pct(waits, 95),
            "queue_wait_by_partition": by_partition,
            "energy_kwh": energy / JOULES_PER_KWH,
            "energy_per_completed_job_kwh": float(completed_energy.mean()) / JOULES_PER_KWH if completed_energy.size else None,
            "energy_per_useful_gpu_hour_kwh": (energy / JOULES_PER_KWH) / (acct["useful"] * hours) if acct["useful"] > 0 else None,
            "inference_finished": self._inference_finished,
            "inference_slo_attainment": self._inference_on_target / self._inference_finished if self._inference_finished else None,
            "inference_results_waiting": len(self._undelivered),
        }


def _pct(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if values.size else None
