"""AI jobs: plain specs, the job record and its Slurm-flavoured state machine (network-and-jobs.md §4.2,
physics.md §3.11).

A job's state changes only through :meth:`Job.move`, which checks :data:`LEGAL_TRANSITIONS` and raises
:class:`IllegalTransition` for anything else, so an illegal transition cannot happen silently anywhere in
the workload. Terminal states (:data:`TERMINAL`) have no way out.

::

    PENDING ─start─▶ RUNNING ─done─▶ COMPLETED ■          (and FAILED ■, TIMEOUT ■, CANCELLED ■)
       ▲              │ ▲ ▲
       │              │ │ └── resume ── SUSPENDED ◀── preempted (mode suspend)
       │              │ └──── written ── CHECKPOINTING ◀── interval due / preempted (grace) / drained
       │              ├─ GPU fault ─▶ NODE_FAIL ─▶ REQUEUED (no retry used) or FAILED ■ (restart cap)
       │              └─ preempted (after grace) ─▶ PREEMPTED ─▶ REQUEUED or CANCELLED ■ (mode cancel)
       └──────────────────────────────── REQUEUED ◀── operator requeue, migration, application failure

REQUEUED is transient: a requeued job moves on to PENDING at the same instant (the log shows both).

Specs are frozen dataclasses of plain values; the mission loader maps its pydantic models onto them.
Durations are seconds, sizes GB, rates per hour, with the unit in the name.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import numpy as np


class CheckpointTarget(str, Enum):
    """Where a job writes its checkpoints (network-and-jobs.md §4.5).

    LOCAL: its own satellites' storage, at ``checkpoint_bandwidth_gbps`` (lost with the satellite);
    PEER: a neighbour over the fastest laser link carrying traffic at each of its satellites (each writes
    its share; waits while a satellite has no such link; a copy that survives the job's satellites);
    GROUND: down the route to the ground at the station's downlink rate (waits for contact; never lost).
    """

    LOCAL = "local"
    PEER = "peer"
    GROUND = "ground"


class JobState(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    CHECKPOINTING = "CHECKPOINTING"
    SUSPENDED = "SUSPENDED"
    PREEMPTED = "PREEMPTED"
    REQUEUED = "REQUEUED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMEOUT = "TIMEOUT"
    NODE_FAIL = "NODE_FAIL"


S = JobState
TERMINAL: frozenset[JobState] = frozenset({S.COMPLETED, S.FAILED, S.CANCELLED, S.TIMEOUT})
ON_GPUS: frozenset[JobState] = frozenset({S.RUNNING, S.CHECKPOINTING})
"""States in which a job holds GPUs."""

LEGAL_TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    S.PENDING: frozenset({S.RUNNING, S.CANCELLED}),
    S.RUNNING: frozenset({S.CHECKPOINTING, S.SUSPENDED, S.PREEMPTED, S.REQUEUED, S.COMPLETED, S.FAILED,
                          S.CANCELLED, S.TIMEOUT, S.NODE_FAIL}),
    S.CHECKPOINTING: frozenset({S.RUNNING, S.SUSPENDED, S.PREEMPTED, S.REQUEUED, S.FAILED, S.CANCELLED,
                                S.TIMEOUT, S.NODE_FAIL}),
    S.SUSPENDED: frozenset({S.RUNNING, S.REQUEUED, S.CANCELLED, S.NODE_FAIL}),
    S.PREEMPTED: frozenset({S.REQUEUED, S.CANCELLED}),
    S.NODE_FAIL: frozenset({S.REQUEUED, S.FAILED}),
    S.REQUEUED: frozenset({S.PENDING}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.TIMEOUT: frozenset(),
}
del S


class IllegalTransition(ValueError):
    """A state change the state machine does not allow; nothing was changed."""


class PendingReason(str, Enum):
    """Why a PENDING job is not running (Slurm's reason codes plus the simulator's own)."""

    NONE = "None"
    RESOURCES = "Resources"
    PRIORITY = "Priority"
    POWER_BUDGET = "PowerBudget"
    THERMAL_BUDGET = "ThermalBudget"
    HELD = "Held"
    PREEMPTING = "Preempting"
    """Lower-tier jobs are checkpointing off the GPUs this job will get."""


class JobKind(str, Enum):
    TRAINING = "training"
    INFERENCE = "inference"


class PreemptMode(str, Enum):
    """What happens to a job of this partition when a higher-tier job needs its GPUs (Slurm PreemptMode)."""

    OFF = "off"
    REQUEUE = "requeue"
    """Checkpoint within the grace period, then requeue (a late checkpoint is abandoned at the deadline)."""
    SUSPEND = "suspend"
    """Stop in place, keep the state, resume on the same GPUs once they are free again."""
    CANCEL = "cancel"


# --------------------------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class PartitionSpec:
    """A partition (queue): its preemption tier, what preemption does to its jobs, and its time limit."""

    name: str
    tier: int = 1
    """Higher tiers may preempt lower ones and come first in the priority order."""
    preempt_mode: PreemptMode | str = PreemptMode.OFF
    grace_s: float = 60.0
    """Checkpoint window a preempted job gets (mode requeue)."""
    max_wall_s: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "preempt_mode", PreemptMode(self.preempt_mode))
        if not self.name:
            raise ValueError("a partition needs a name")
        if self.grace_s < 0:
            raise ValueError(f"partition {self.name}: grace_s must not be negative")
        if self.max_wall_s is not None and not self.max_wall_s > 0:
            raise ValueError(f"partition {self.name}: max_wall_s must be positive")

    def __deepcopy__(self, memo: dict) -> "PartitionSpec":
        return self  # immutable (frozen, scalar fields): engine checkpoints share it instead of copying it


@dataclass(frozen=True)
class JobSpec:
    """One job as submitted. Give its work as ``gpu_hours`` (spread over its GPUs) or ``duration_s`` (run
    time at full speed on its gang); checkpoint cost as ``checkpoint_write_s`` or size over bandwidth."""

    id: str
    kind: JobKind | str = JobKind.TRAINING
    partition: str = "default"
    gpus: int = 1
    gpu_hours: float | None = None
    duration_s: float | None = None
    name: str = ""
    submit_s: float = 0.0
    priority: int = 0
    """Added to the multifactor priority (like a QOS boost)."""
    walltime_s: float | None = None
    """Time limit of one run; the partition's max_wall_s applies too. Exceeding it ends in TIMEOUT."""
    checkpoint_interval_s: float | str | None = "auto"
    """Run time between checkpoints: seconds, 'auto' (Daly), 'young' (Young) or None (never)."""
    checkpoint_size_gb: float = 0.0
    checkpoint_bandwidth_gbps: float = 100.0
    checkpoint_write_s: float | None = None
    """Checkpoint write time δ; default size·8/bandwidth. Zero means the job does not checkpoint."""
    checkpoint_target: CheckpointTarget | str = CheckpointTarget.LOCAL
    """Where checkpoints go; for 'peer' and 'ground' the write time follows the link rate at the time
    (δ above sets only the interval)."""
    startup_s: float = 0.0
    """Configure/staging time at each (re)start; restoring a checkpoint adds its read time (= δ)."""
    latency_target_s: float | None = None
    """Inference: target for submit-to-finish latency."""
    max_retries: int = 3
    """Application failures that requeue the job before it FAILS (infrastructure faults do not count)."""
    max_restarts: int | None = None
    """Cap on restarts of any cause (torchrun --max-restarts); None means no cap."""
    requeue_on_node_fail: bool = True
    app_failure_rate_per_h: float = 0.0
    mtbf_s: float | None = None
    """MTBF of the job's GPU set for the 'auto' interval; default the workload's per-GPU MTBF / gpus."""
    hold: bool = False
    """Submit held (PENDING, reason Held) until released."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", JobKind(self.kind))
        object.__setattr__(self, "checkpoint_target", CheckpointTarget(self.checkpoint_target))
        if not self.id:
            raise ValueError("a job needs an id")
        if not self.name:
            object.__setattr__(self, "name", self.id)
        if int(self.gpus) != self.gpus or self.gpus < 1:
            raise ValueError(f"job {self.id}: gpus must be a positive integer")
        if (self.gpu_hours is None) == (self.duration_s is None):
            raise ValueError(f"job {self.id}: give exactly one of gpu_hours and duration_s")
        if not self.work_s > 0:
            raise ValueError(f"job {self.id}: its work must be positive")
        if self.walltime_s is not None and not self.walltime_s > 0:
            raise ValueError(f"job {self.id}: walltime_s must be positive")
        interval = self.checkpoint_interval_s
        if isinstance(interval, str) and interval not in ("auto", "young"):
            raise ValueError(f"job {self.id}: checkpoint_interval_s must be seconds, 'auto', 'young' or None")
        if isinstance(interval, (int, float)) and not interval > 0:
            raise ValueError(f"job {self.id}: checkpoint_interval_s must be positive")
        for field in ("checkpoint_size_gb", "startup_s", "app_failure_rate_per_h", "max_retries"):
            if getattr(self, field) < 0:
                raise ValueError(f"job {self.id}: {field} must not be negative")
        if not self.checkpoint_bandwidth_gbps > 0:
            raise ValueError(f"job {self.id}: checkpoint_bandwidth_gbps must be positive")
        if self.checkpoint_write_s is not None and self.checkpoint_write_s < 0:
            raise ValueError(f"job {self.id}: checkpoint_write_s must not be negative")
        if self.latency_target_s is not None and not self.latency_target_s > 0:
            raise ValueError(f"job {self.id}: latency_target_s must be positive")

    @property
    def work_s(self) -> float:
        """Run time at full speed on all its GPUs, s."""
        if self.duration_s is not None:
            return float(self.duration_s)
        return float(self.gpu_hours) * 3600.0 / self.gpus  # type: ignore[arg-type]

    @property
    def checkpoint_delta_s(self) -> float:
        """Checkpoint write time δ, s."""
        if self.checkpoint_write_s is not None:
            return float(self.checkpoint_write_s)
        return checkpoint_write_s(self.checkpoint_size_gb, self.checkpoint_bandwidth_gbps)

    def checkpoint_period_s(self, gpu_mtbf_s: float) -> float:
        """Run time between checkpoints, s (inf when the job does not checkpoint)."""
        delta = self.checkpoint_delta_s
        interval = self.checkpoint_interval_s
        if interval is None or not delta > 0:
            return math.inf
        if isinstance(interval, str):
            mtbf = self.mtbf_s if self.mtbf_s is not None else gpu_mtbf_s / self.gpus
            rule = young_interval_s if interval == "young" else daly_interval_s
            return max(rule(delta, mtbf), delta)
        return float(interval)

    def __deepcopy__(self, memo: dict) -> "JobSpec":
        return self  # immutable (frozen, scalar fields): engine checkpoints share it instead of copying it


@dataclass(frozen=True)
class GeneratorSpec:
    """A stochastic job source: Poisson arrivals at ``rate_per_hour`` between ``start_s`` and ``stop_s``,
    run times drawn around ``duration_s`` (full speed), GPU counts drawn uniformly from ``gpus``."""

    name: str
    rate_per_hour: float
    duration_s: float
    kind: JobKind | str = JobKind.INFERENCE
    partition: str = "default"
    gpus: int | tuple[int, ...] = 1
    duration_dist: str = "exponential"
    """'fixed', 'exponential' or 'lognormal' (median duration_s, shape duration_sigma)."""
    duration_sigma: float = 0.5
    start_s: float = 0.0
    stop_s: float | None = None
    max_jobs: int | None = None
    priority: int = 0
    walltime_s: float | None = None
    latency_target_s: float | None = None
    checkpoint_interval_s: float | str | None = "auto"
    checkpoint_size_gb: float = 0.0
    checkpoint_bandwidth_gbps: float = 100.0
    checkpoint_target: CheckpointTarget | str = CheckpointTarget.LOCAL
    startup_s: float = 0.0
    max_retries: int = 3
    app_failure_rate_per_h: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", JobKind(self.kind))
        object.__setattr__(self, "checkpoint_target", CheckpointTarget(self.checkpoint_target))
        choices = (self.gpus,) if isinstance(self.gpus, int) else tuple(self.gpus)
        if not choices or any(int(g) != g or g < 1 for g in choices):
            raise ValueError(f"generator {self.name}: gpus must be positive integers")
        object.__setattr__(self, "gpus", tuple(int(g) for g in choices))
        if self.rate_per_hour < 0 or not self.duration_s > 0:
            raise ValueError(f"generator {self.name}: rate_per_hour must be >= 0 and duration_s > 0")
        if self.duration_dist not in ("fixed", "exponential", "lognormal"):
            raise ValueError(f"generator {self.name}: duration_dist must be fixed, exponential or lognormal")
        if self.stop_s is not None and self.stop_s < self.start_s:
            raise ValueError(f"generator {self.name}: stop_s is before start_s")

    def draw_job(self, job_id: str, submit_s: float, rng: np.random.Generator) -> JobSpec:
        """One job from this source (uses two draws of ``rng``)."""
        gpus_choices: tuple[int, ...] = self.gpus  # type: ignore[assignment]
        gpus = gpus_choices[int(rng.integers(len(gpus_choices)))]
        u = rng.random()
        if self.duration_dist == "fixed":
            duration = self.duration_s
        elif self.duration_dist == "exponential":
            duration = -self.duration_s * math.log1p(-u)
        else:
            duration = self.duration_s * math.exp(self.duration_sigma * _normal_quantile(u))
        template = self.__dict__.get("_template")
        if template is None:  # the first job is built and checked in full, and kept as the template
            job = JobSpec(
                id=job_id, kind=self.kind, partition=self.partition, gpus=gpus, duration_s=max(duration, 1e-3),
                name=f"{self.name}", submit_s=submit_s, priority=self.priority, walltime_s=self.walltime_s,
                checkpoint_interval_s=self.checkpoint_interval_s, checkpoint_size_gb=self.checkpoint_size_gb,
                checkpoint_bandwidth_gbps=self.checkpoint_bandwidth_gbps, checkpoint_target=self.checkpoint_target,
                startup_s=self.startup_s, latency_target_s=self.latency_target_s, max_retries=self.max_retries,
                app_failure_rate_per_h=self.app_failure_rate_per_h,
            )
            object.__setattr__(self, "_template", job)
            return job
        # Later jobs differ only in fields the generator's own checks already cover (gpus among its choices,
        # a positive duration, a fresh id), so they are the template with those set (~10x faster).
        job = object.__new__(JobSpec)
        fields = job.__dict__
        fields.update(template.__dict__)
        fields.update(id=job_id, gpus=gpus, duration_s=max(duration, 1e-3), submit_s=submit_s, name=self.name or job_id)
        return job


def _normal_quantile(u: float) -> float:
    """Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9)."""
    u = min(max(u, 1e-300), 1 - 1e-16)
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if u < 0.02425:
        q = math.sqrt(-2 * math.log(u))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if u > 1 - 0.02425:
        q = math.sqrt(-2 * math.log1p(-u))
        return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    q = u - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


# --------------------------------------------------------------------------------- checkpoint period


def checkpoint_write_s(size_gb: float, bandwidth_gbps: float) -> float:
    """Time to write a checkpoint of ``size_gb`` gigabytes at ``bandwidth_gbps`` gigabits per second."""
    return float(size_gb) * 8.0 / float(bandwidth_gbps)


def young_interval_s(delta_s: float, mtbf_s: float) -> float:
    """Young's first-order optimum checkpoint interval τ = √(2·δ·M) (CACM 1974)."""
    return math.sqrt(2.0 * delta_s * mtbf_s)


def daly_interval_s(delta_s: float, mtbf_s: float) -> float:
    """Daly's higher-order optimum (FGCS 2006): √(2δM)·(1 + ⅓√(δ/2M) + (δ/2M)/9) − δ for δ < 2M, else M."""
    if delta_s >= 2.0 * mtbf_s:
        return float(mtbf_s)
    x = delta_s / (2.0 * mtbf_s)
    return math.sqrt(2.0 * delta_s * mtbf_s) * (1.0 + math.sqrt(x) / 3.0 + x / 9.0) - delta_s


# ----------------------------------------------------------------------------------- job and events


@dataclass(frozen=True)
class JobTransition:
    """One state change of one job. ``from_state`` is None for the submission."""

    time_s: float
    job_id: str
    from_state: JobState | None
    to_state: JobState
    reason: str = ""

    def __deepcopy__(self, memo: dict) -> "JobTransition":
        return self  # immutable (frozen, scalar fields): engine checkpoints share it instead of copying it


@dataclass(frozen=True)
class JobView:
    """A job as the console shows it (a frozen snapshot)."""

    id: str
    name: str
    kind: str
    partition: str
    state: str
    reason: str
    priority: float
    gpus: int
    satellites: tuple[int, ...]
    """Satellite indices it runs on (or is suspended on); empty while pending."""
    progress: float
    """Fraction of its work done (0..1)."""
    checkpoint_progress: float
    """Fraction of its work saved in its last completed checkpoint (what a fault rolls it back to)."""
    checkpoint_age_s: float | None
    """Since its last completed checkpoint; None if it has none."""
    checkpoint_target: str
    """'local', 'peer' or 'ground' (:class:`CheckpointTarget`)."""
    checkpoint_holders: tuple[int, ...]
    """Satellites holding its last checkpoint (its own for 'local', the neighbours for 'peer'; empty on
    the ground or without a checkpoint)."""
    checkpoint_blocked: str
    """Why a due checkpoint is waiting (no laser link, no contact), or ''."""
    wait_s: float
    """Queue wait before its first start (so far, if it has not started)."""
    restarts: int
    """Times it went back to the queue after starting (faults, preemption, migration, requeue, retries)."""
    retries: int
    """Application failures so far (each uses one of its ``max_retries``)."""
    energy_j: float
    submit_s: float
    start_s: float | None
    end_s: float | None
    latency_target_s: float | None


class Job:
    """The live record of one job. Its state changes only through :meth:`move`."""

    __slots__ = (
        "index", "spec", "partition", "_state", "reason", "held", "priority_override", "submit_s",
        "first_start_s", "start_s", "end_s", "restarts", "retries_used", "preemptions", "node_failures",
        "gpus_flat", "suspended_gpus", "checkpoint_time_s", "exit_reason", "last_satellites",
        "checkpoint_holders", "pending_holders", "checkpoint_blocked",
    )

    def __init__(self, index: int, spec: JobSpec, partition: PartitionSpec, submit_s: float):
        self.last_satellites: np.ndarray | None = None
        """Satellites the job ran on when it last left its GPUs (where a finished result waits)."""
        self.index = index
        self.spec = spec
        self.partition = partition
        self._state = JobState.PENDING
        self.reason = PendingReason.HELD.value if spec.hold else PendingReason.NONE.value
        self.held = spec.hold
        self.priority_override: float | None = None
        self.submit_s = submit_s
        self.first_start_s: float | None = None
        self.start_s: float | None = None
        self.end_s: float | None = None
        self.restarts = 0
        self.retries_used = 0
        self.preemptions = 0
        self.node_failures = 0
        self.gpus_flat: np.ndarray | None = None
        """Flat GPU indices (sat·G + gpu) it holds while RUNNING/CHECKPOINTING."""
        self.suspended_gpus: np.ndarray | None = None
        """Flat GPU indices it must resume on while SUSPENDED."""
        self.checkpoint_time_s: float | None = None
        """When its last checkpoint was completed."""
        self.checkpoint_holders: np.ndarray | None = None
        """Satellites holding the last completed checkpoint (empty: on the ground; None: no checkpoint)."""
        self.pending_holders: np.ndarray | None = None
        """Where the checkpoint being written goes."""
        self.checkpoint_blocked = ""
        """Why the checkpoint that is due cannot start (its target is out of reach), or ''."""
        self.exit_reason = ""
        """Why it is leaving its GPUs after the current checkpoint (preemption, drain), if it is."""

    def __deepcopy__(self, memo: dict) -> "Job":
        """A checkpoint's copy: its arrays copied, its scalars, strings and frozen specs shared (the generic
        deep copy of a slotted object cost ~50 µs a job: seconds for a megaconstellation's job table).
        A finished job is shared whole: nothing changes a job record once it is in a terminal state (the
        workload refuses commands on finished jobs; tested), and most of a long run's job table is
        finished jobs (21,000 of 32,000 at T+3 h on the megaconstellation)."""
        if self._state in TERMINAL:
            return self
        twin = Job.__new__(Job)
        memo[id(self)] = twin
        for name in Job.__slots__:
            value = getattr(self, name)
            if isinstance(value, np.ndarray):
                value = value.copy()
            elif not isinstance(value, (int, float, str, Enum, JobSpec, PartitionSpec, type(None))):
                value = copy.deepcopy(value, memo)
            setattr(twin, name, value)
        return twin

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def state(self) -> JobState:
        return self._state

    @property
    def terminal(self) -> bool:
        return self._state in TERMINAL

    def move(self, to: JobState, time_s: float, reason: str = "") -> JobTransition:
        """Change state, or raise :class:`IllegalTransition` (state unchanged)."""
        if to not in LEGAL_TRANSITIONS[self._state]:
            raise IllegalTransition(f"job {self.id}: {self._state.value} -> {to.value} is not a legal transition")
        transition = JobTransition(time_s, self.id, self._state, to, reason)
        self._state = to
        if to in TERMINAL:
            self.end_s = time_s
        return transition
