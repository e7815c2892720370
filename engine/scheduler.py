"""The job scheduler: multifactor priority, gang placement, EASY backfill and preemption by partition tier
(network-and-jobs.md §4.4).

One pass (:meth:`Scheduler.plan`) looks at the pending jobs in priority order and decides which start, on
which GPUs, which lower-tier jobs to preempt and why the others wait. It only decides; the workload
applies the plan. Nothing here keeps state between passes, so a pass can be tested on its own.

- **Priority** (Slurm multifactor): ``w_age·min(age/age_max, 1) + w_partition·tier/max_tier +
  w_size·gpus/total_gpus + job boost``; an operator-set priority replaces the sum.
- **Placement** (gang, all or nothing): a job that fits on one satellite goes to the satellite with the
  fewest free GPUs that still holds it (best fit); otherwise, or when no single satellite can, to the
  orbital plane with the fewest free GPUs that holds it, using its satellites with the most free GPUs
  first (fewest satellites). A gang never spans planes. A job whose result must reach the ground
  (``PendingJobs.needs_route``) that fits on one satellite goes to the best fit among the satellites with
  a route to the ground now, if any has room (``plan(reachable=...)``). Only GPUs that are present, usable, not drained,
  on a satellite with power and thermal headroom and not held or claimed by another job are free.
- **EASY backfill**: the first job that cannot start gets a reservation: the earliest time at which
  enough GPUs free up (running jobs end at their estimated ends, time limits included) and which GPUs it
  would take then. A lower-priority job may start now only on GPUs outside that reservation, or on any
  free GPUs if its own estimated end comes before the reservation starts.
- **Preemption**: a job that cannot start may take GPUs from running jobs of lower partition tiers whose
  partition allows preemption (lowest tier, lowest priority, most recently started first). It claims the
  GPUs it will use (no other job may take them) and waits, reason ``Preempting``, while the victims leave
  (a checkpoint within the grace period for mode requeue).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.gpus import per_satellite_sum
from engine.jobs import PendingReason

_BIG = np.iinfo(np.int64).max
_PRIORITY = PendingReason.PRIORITY.value
_RESOURCES = PendingReason.RESOURCES.value
_PREEMPTING = PendingReason.PREEMPTING.value


@dataclass(frozen=True)
class SchedulerConfig:
    """Priority weights and scheduler switches (Slurm-like defaults)."""

    weight_age: float = 1000.0
    weight_partition: float = 10000.0
    weight_size: float = 100.0
    age_max_s: float = 7 * 86400.0
    backfill: bool = True
    preemption: bool = True
    max_jobs_per_pass: int = 1000
    """Pending jobs looked at per pass (Slurm bf_max_job_test); the rest keep their reason."""


# ---------------------------------------------------------------------------------------- topology


class Topology:
    """Satellites grouped by orbital plane (plane ids mapped to 0..P-1), and the GPU slots per satellite."""

    def __init__(self, plane: np.ndarray, gpu_present: np.ndarray):
        plane = np.asarray(plane)
        present = np.asarray(gpu_present, dtype=bool)
        if present.ndim != 2 or plane.shape != (present.shape[0],):
            raise ValueError("plane must be (N,) and gpu_present (N, G)")
        self.n_sats, self.gpus_per_sat = present.shape
        _, inverse = np.unique(plane, return_inverse=True)
        self.plane = inverse.astype(np.intp).reshape(-1)
        self.n_planes = int(self.plane.max()) + 1 if self.n_sats else 0
        order = np.argsort(self.plane, kind="stable")
        bounds = np.searchsorted(self.plane[order], np.arange(self.n_planes + 1))
        self.members = [order[bounds[p]:bounds[p + 1]] for p in range(self.n_planes)]
        """Satellite indices of each plane, ascending."""
        self.present = present
        per_sat = present.sum(axis=1)
        self.plane_capacity = np.bincount(self.plane, weights=per_sat, minlength=self.n_planes).astype(np.int64)
        self.total_gpus = int(per_sat.sum())

    def satellites_of(self, gpus_flat: np.ndarray) -> np.ndarray:
        """Distinct satellites of a set of flat GPU indices, ascending."""
        return np.unique(np.asarray(gpus_flat) // self.gpus_per_sat)


class GpuPool:
    """A set of free GPUs as an (N, G) mask with per-satellite and per-plane counts kept up to date."""

    def __init__(self, topology: Topology, mask: np.ndarray, _counts: tuple[np.ndarray, np.ndarray] | None = None):
        self.topology = topology
        self.mask = mask
        if _counts is None:
            count = per_satellite_sum(mask) if mask.shape[1] else np.zeros(mask.shape[0], dtype=np.int64)
            plane_count = np.bincount(topology.plane, weights=count, minlength=topology.n_planes).astype(np.int64)
            _counts = (count, plane_count)
        self.count: np.ndarray = _counts[0]
        self.plane_count: np.ndarray = _counts[1]
        self._sat_max: int | None = None
        self._plane_max: int | None = None
        self._preferred: tuple[np.ndarray, np.ndarray] | None = None

    def copy(self) -> GpuPool:
        return GpuPool(self.topology, self.mask.copy(), (self.count.copy(), self.plane_count.copy()))

    def sat_max(self) -> int:
        """Most free GPUs on one satellite (cached until the pool changes)."""
        if self._sat_max is None:
            self._sat_max = int(self.count.max()) if self.count.size else 0
        return self._sat_max

    def plane_max(self) -> int:
        """Most free GPUs in one plane (cached until the pool changes)."""
        if self._plane_max is None:
            self._plane_max = int(self.plane_count.max()) if self.plane_count.size else 0
        return self._plane_max

    def fits(self, gpus: int) -> bool:
        """Whether :meth:`place` would find GPUs (every placement lies within one plane)."""
        return self.plane_max() >= gpus

    def place(self, gpus: int, prefer: np.ndarray | None = None) -> np.ndarray | None:
        """Flat GPU indices for a gang of ``gpus`` (see module docstring), or None if it does not fit.
        ``prefer`` (N,) bool: for a job on one satellite, the best fit among these satellites if any
        has room, else among all."""
        topo = self.topology
        g = topo.gpus_per_sat
        if not self.fits(gpus):
            return None
        count = self.count
        if gpus <= g and self.sat_max() >= gpus:
            if prefer is None:  # best fit: fewest free GPUs that still hold the gang, lowest index on a tie;
                # count - gpus as uint8 wraps satellites without room past every fitting one (g < 128)
                sat = int(np.argmin((count - gpus).astype(np.uint8))) if g < 128 else \
                    int(np.argmin(np.where(count >= gpus, count, g + 1)))
            elif g < 64:  # the same uint8 key with 64 added off the preferred satellites: the best fit among
                # them if any has room (keys 0..g), else among all (64..64+g); no room wraps past both (>= 248)
                sat = int(np.argmin((count - gpus).astype(np.uint8) | self._off_preferred(prefer)))
            else:
                room = count >= gpus
                if (room & prefer).any():
                    room &= prefer
                sat = int(np.argmin(np.where(room, count, g + 1)))
            return np.flatnonzero(self.mask[sat])[:gpus] + sat * g
        plane = int(np.argmin(np.where(self.plane_count >= gpus, self.plane_count, _BIG)))
        members = topo.members[plane]
        free = count[members]
        order = np.argsort(-free, kind="stable")
        chosen = members[order]
        needed = int(np.searchsorted(np.cumsum(free[order]), gpus)) + 1
        parts, left = [], gpus
        for sat in chosen[:needed]:
            slots = np.flatnonzero(self.mask[sat])[:left]
            parts.append(slots + int(sat) * g)
            left -= slots.size
        return np.concatenate(parts)

    def _off_preferred(self, prefer: np.ndarray) -> np.ndarray:
        """uint8 (N,): 64 where `prefer` is False (kept while the same array is passed, as in one pass)."""
        cached = self._preferred
        if cached is None or cached[0] is not prefer:
            cached = self._preferred = (prefer, np.where(prefer, 0, 64).astype(np.uint8))
        return cached[1]

    def take(self, gpus_flat: np.ndarray) -> None:
        """Remove GPUs from the pool (those not in it are ignored)."""
        flat = self.mask.reshape(-1)
        sel = _ascending(gpus_flat[flat[gpus_flat]])
        if sel.size:
            flat[sel] = False
            self._recount(sel // self.topology.gpus_per_sat, -1)

    def add(self, gpus_flat: np.ndarray) -> None:
        """Put GPUs into the pool (those already in it are ignored)."""
        flat = self.mask.reshape(-1)
        sel = _ascending(gpus_flat[~flat[gpus_flat]])
        if sel.size:
            flat[sel] = True
            self._recount(sel // self.topology.gpus_per_sat, 1)

    def _recount(self, sats: np.ndarray, sign: int) -> None:
        """Per-satellite and per-plane counts after GPUs of `sats` (ascending, one entry per GPU) left
        (sign -1) or joined (+1) the pool."""
        if sats[0] == sats[-1]:  # the usual gang: one satellite (np.add.at costs ~10x more)
            sat = int(sats[0])
            self.count[sat] += sign * sats.size
            self.plane_count[self.topology.plane[sat]] += sign * sats.size
        else:
            np.add.at(self.count, sats, sign)
            np.add.at(self.plane_count, self.topology.plane[sats], sign)
        self._sat_max = self._plane_max = None


def _ascending(gpus_flat: np.ndarray) -> np.ndarray:
    """The distinct GPUs in ascending order: as given when they already are (a placement on one
    satellite always is), else ``np.unique``."""
    if gpus_flat.size < 2 or (gpus_flat[1:] > gpus_flat[:-1]).all():
        return gpus_flat
    return np.unique(gpus_flat)


# ------------------------------------------------------------------------------------ pass in/out


@dataclass(frozen=True)
class PendingJobs:
    """Jobs waiting to start, as parallel arrays (any order)."""

    index: np.ndarray
    gpus: np.ndarray
    priority: np.ndarray
    submit_s: np.ndarray
    tier: np.ndarray
    runtime_s: np.ndarray
    """Estimated run time if started now (time limit included), s."""
    needs_route: np.ndarray | None = None
    """bool: its result must reach the ground (inference with a latency target over the network)."""


@dataclass(frozen=True)
class RunningJobs:
    """Jobs holding GPUs. ``preemptible``: its partition allows preemption and it is not already leaving."""

    index: np.ndarray
    tier: np.ndarray
    priority: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    """Estimated end (time limit included), s."""
    preemptible: np.ndarray
    gpus: Sequence[np.ndarray]
    flat: np.ndarray | None = None
    """Optionally, ``gpus`` concatenated (saves the pass concatenating them)..."""
    offsets: np.ndarray | None = None
    """...and where each job's GPUs start in it."""

    @staticmethod
    def empty() -> RunningJobs:
        z = np.zeros(0)
        return RunningJobs(z.astype(np.int64), z.astype(np.int64), z, z, z, z.astype(bool), ())

    def flat_gpus(self) -> tuple[np.ndarray, np.ndarray]:
        if self.flat is not None and self.offsets is not None:
            return self.flat, self.offsets
        sizes = np.array([g.size for g in self.gpus], dtype=np.int64)
        return np.concatenate(self.gpus), np.concatenate(([0], np.cumsum(sizes)[:-1]))


@dataclass(frozen=True)
class Start:
    job: int
    gpus: np.ndarray
    """Flat GPU indices (satellite · G + slot)."""
    backfill: bool = False
    resume: bool = False
    est_end_s: float = np.inf


@dataclass(frozen=True)
class Preemption:
    victim: int
    by: int


@dataclass(frozen=True)
class Reservation:
    """EASY backfill's reservation for the highest-priority job that cannot start now."""

    job: int
    start_s: float
    """When enough GPUs are expected to be free (inf: never, as far as is known)."""
    gpus: np.ndarray


@dataclass(frozen=True)
class SchedulePlan:
    time_s: float
    order: tuple[int, ...]
    """Pending jobs in the priority order they were looked at."""
    starts: tuple[Start, ...] = ()
    preemptions: tuple[Preemption, ...] = ()
    claims: Mapping[int, np.ndarray] = field(default_factory=dict)
    """New claims: job -> the GPUs it will start on once its victims have left."""
    dropped_claims: tuple[int, ...] = ()
    reasons: Mapping[int, str] = field(default_factory=dict)
    reservation: Reservation | None = None


# ------------------------------------------------------------------------------------------- pass


class Scheduler:
    """Priority and one scheduling pass over a fixed topology."""

    def __init__(self, plane: np.ndarray, gpu_present: np.ndarray, config: SchedulerConfig | None = None,
                 max_tier: int = 1):
        self.topology = Topology(plane, gpu_present)
        self.config = config or SchedulerConfig()
        self.max_tier = max(int(max_tier), 1)

    def set_groups(self, group: np.ndarray) -> None:
        """Regroup the satellites a gang may span (the orbital plane, split further by the network into
        sets of satellites joined by laser links); takes effect at the next pass."""
        self.topology = Topology(group, self.topology.present)

    def priority(self, time_s: float, submit_s: np.ndarray, tier: np.ndarray, gpus: np.ndarray,
                 boost: np.ndarray, override: np.ndarray) -> np.ndarray:
        """Multifactor priority; ``override`` (NaN where unset) replaces it."""
        c = self.config
        age = np.clip((time_s - np.asarray(submit_s, dtype=float)) / c.age_max_s, 0.0, 1.0)
        value = (c.weight_age * age + c.weight_partition * np.asarray(tier, dtype=float) / self.max_tier
                 + c.weight_size * np.asarray(gpus, dtype=float) / max(self.topology.total_gpus, 1)
                 + np.asarray(boost, dtype=float))
        override = np.asarray(override, dtype=float)
        return np.where(np.isnan(override), value, override)

    def plan(
        self,
        time_s: float,
        pending: PendingJobs,
        running: RunningJobs | Callable[[], RunningJobs],
        base: np.ndarray,
        occupied: np.ndarray,
        headroom: np.ndarray,
        thermal_limited: np.ndarray | None = None,
        claims: Sequence[tuple[int, np.ndarray]] = (),
        suspended: Sequence[tuple[int, np.ndarray]] = (),
        reachable: np.ndarray | None = None,
    ) -> SchedulePlan:
        """One pass.

        ``base`` (N, G): GPUs that may host work (present, usable, not drained); ``occupied`` (N, G): held
        by running jobs; ``headroom`` (N,): satellites with power and thermal headroom for new work;
        ``thermal_limited`` (N,): those short of headroom for thermal reasons (for the pending reason).
        ``claims``: (job, GPUs) of jobs waiting for their victims, highest priority first. ``suspended``:
        (job, GPUs) of suspended jobs, highest priority first; each resumes when all its GPUs are free.
        ``reachable`` (N,): satellites with a route to the ground, preferred for jobs that ``needs_route``.
        ``running`` may be given as a function that builds it: it is then built only if a job does not fit
        (for preemption or a reservation), which in a pass where every job fits is never.
        """
        topo = self.topology
        cfg = self.config
        every_headroom = bool(headroom.all())  # the usual case: no (N, G) masking by a broadcast column
        host = base if every_headroom else base & headroom[:, None]
        claimed = np.zeros(base.shape, dtype=bool)
        for _, claim in claims:
            claimed.reshape(-1)[claim] = True
        free_nohead = GpuPool(topo, base & ~occupied & ~claimed if claims else base & ~occupied)
        free = free_nohead.copy() if every_headroom else GpuPool(topo, free_nohead.mask & headroom[:, None])
        host_flat = (host & ~claimed).reshape(-1)

        starts: list[Start] = []
        reasons: dict[int, str] = {}
        new_claims: dict[int, np.ndarray] = {}
        dropped: list[int] = []
        preemptions: list[Preemption] = []
        pools = [free, free_nohead]

        def commit(start: Start) -> None:
            starts.append(start)
            for pool in pools:
                pool.take(start.gpus)

        for job, own in suspended:
            if free.mask.reshape(-1)[own].all():
                commit(Start(job, own, resume=True))

        base_flat = base.reshape(-1)
        unoccupied_host = (host & ~occupied).reshape(-1)
        for job, claim in claims:
            if not base_flat[claim].all():
                dropped.append(job)
            elif unoccupied_host[claim].all():
                starts.append(Start(job, claim))
            else:
                reasons[job] = _PREEMPTING

        order = np.lexsort((pending.index, pending.submit_s, -pending.priority))
        considered = order[: cfg.max_jobs_per_pass]
        reservation: Reservation | None = None
        unreserved: GpuPool | None = None
        taken_victims: set[int] = set()
        preempt_failed: dict[int, int] = {}
        running_jobs = (lambda: running) if isinstance(running, RunningJobs) else functools.cache(running)

        @functools.cache
        def lowest_victim_tier() -> int | None:
            jobs = running_jobs()
            tiers = jobs.tier[jobs.preemptible] if jobs.index.size else np.zeros(0, dtype=np.int64)
            return int(tiers.min()) if tiers.size else None

        order_jobs = pending.index[considered].tolist()
        if reachable is not None and pending.needs_route is not None:
            routed = pending.needs_route[considered].tolist()
        else:
            routed = [False] * len(order_jobs)
        columns = zip(order_jobs, pending.gpus[considered].tolist(), pending.tier[considered].tolist(),
                      (time_s + pending.runtime_s[considered]).tolist(), routed)
        for job, need, tier, end_s, needs_route in columns:
            gpus: np.ndarray | None = None
            backfill = False
            prefer = reachable if needs_route else None
            if reservation is None:
                gpus = free.place(need, prefer)
            elif cfg.backfill:
                assert unreserved is not None
                gpus = unreserved.place(need, prefer)
                if gpus is None and end_s <= reservation.start_s:
                    gpus = free.place(need, prefer)
                backfill = True
            if gpus is not None:
                commit(Start(job, gpus, backfill=backfill, est_end_s=end_s))
                continue
            if reservation is not None and not cfg.backfill:
                reasons[job] = _PRIORITY
                continue
            if (cfg.preemption and need < preempt_failed.get(tier, _BIG) and lowest_victim_tier() is not None
                    and tier > lowest_victim_tier()):
                found = self._preempt(need, tier, free if unreserved is None else unreserved, running_jobs(), host_flat,
                                      taken_victims)
                if found is None:
                    preempt_failed[tier] = need
                else:
                    claim, victims = found
                    new_claims[job] = claim
                    for pool in pools:
                        pool.take(claim)
                    host_flat[claim] = False
                    for victim in victims:
                        taken_victims.add(victim)
                        preemptions.append(Preemption(int(running_jobs().index[victim]), job))
                    reasons[job] = _PREEMPTING
                    continue
            reasons[job] = self._reason(need, free, free_nohead, headroom, thermal_limited)
            if reservation is None:
                reservation = self._reserve(job, need, time_s, free, running_jobs(), host_flat, taken_victims)
                unreserved = free.copy()
                unreserved.take(reservation.gpus)
                pools.append(unreserved)

        return SchedulePlan(
            time_s=time_s, order=tuple(order_jobs), starts=tuple(starts),
            preemptions=tuple(preemptions), claims=new_claims, dropped_claims=tuple(dropped), reasons=reasons,
            reservation=reservation,
        )

    # --------------------------------------------------------------------------------------- helpers

    def _reason(self, need: int, free: GpuPool, free_nohead: GpuPool, headroom: np.ndarray,
                thermal_limited: np.ndarray | None) -> str:
        if free.fits(need):
            return _PRIORITY
        if not free_nohead.fits(need):
            return _RESOURCES
        gpus = free_nohead.place(need)
        assert gpus is not None
        sats = self.topology.satellites_of(gpus)
        short = sats[~headroom[sats]]
        if thermal_limited is not None and short.size and thermal_limited[short].all():
            return PendingReason.THERMAL_BUDGET.value
        return PendingReason.POWER_BUDGET.value

    def _reserve(self, job: int, need: int, time_s: float, free: GpuPool, running: RunningJobs,
                 host_flat: np.ndarray, taken: set[int]) -> Reservation:
        """Earliest time and GPUs at which ``need`` GPUs are expected free, releasing running jobs in order
        of their estimated ends.

        Every running gang lies in one plane, so the free count of each plane after the first k ends is a
        per-plane running sum (vectorised); the first plane to reach ``need`` is the only one that can
        hold the job at that moment, and only its jobs are added to the hypothetical pool."""
        if free.fits(need):
            return Reservation(job, time_s, free.place(need))  # type: ignore[arg-type]
        none = Reservation(job, np.inf, np.zeros(0, dtype=np.int64))
        if not running.index.size:
            return none
        topo = self.topology
        flat, offsets = running.flat_gpus()
        hostable = np.add.reduceat(host_flat[flat].astype(np.int64), offsets)
        plane = topo.plane[flat[offsets] // topo.gpus_per_sat]
        order = np.argsort(running.end_s, kind="stable")
        if taken:
            order = order[~np.isin(order, np.fromiter(taken, dtype=np.int64))]
        p, h = plane[order], hostable[order]
        by_plane = np.argsort(p, kind="stable")
        sums = np.cumsum(h[by_plane])
        first_of_plane = np.searchsorted(p[by_plane], p[by_plane], side="left")
        within = np.empty_like(sums)
        within[by_plane] = sums - np.concatenate(([0], sums))[first_of_plane]
        enough = np.flatnonzero(free.plane_count[p] + within >= need)
        if not enough.size:
            return none
        k = int(enough[0])
        hypothetical = free.copy()
        for r in order[: k + 1][p[: k + 1] == p[k]]:
            gpus = running.gpus[r]
            hypothetical.add(gpus[host_flat[gpus]])
        gpus = hypothetical.place(need)
        assert gpus is not None
        return Reservation(job, max(float(running.end_s[order[k]]), time_s), gpus)

    def _preempt(self, need: int, tier: int, free: GpuPool, running: RunningJobs, host_flat: np.ndarray,
                 taken: set[int]) -> tuple[np.ndarray, list[int]] | None:
        """GPUs for ``need`` freed by preempting lower-tier jobs, and those victims (positions in
        ``running``); None if even all of them would not make room."""
        candidates = np.flatnonzero(running.preemptible & (running.tier < tier))
        candidates = np.array([c for c in candidates if int(c) not in taken], dtype=np.int64)
        if not candidates.size:
            return None
        order = np.lexsort((-running.start_s[candidates], running.priority[candidates], running.tier[candidates]))
        hypothetical = free.copy()
        chosen: list[int] = []
        for c in candidates[order]:
            gpus = running.gpus[c]
            gpus = gpus[host_flat[gpus]]
            if not gpus.size:
                continue
            hypothetical.add(gpus)
            chosen.append(int(c))
            if hypothetical.fits(need):
                break
        else:
            return None
        claim = hypothetical.place(need)
        assert claim is not None
        victims = [c for c in chosen if np.isin(running.gpus[c], claim).any()]
        return claim, victims
