"""Scheduler: placement, priority, EASY backfill, preemption, pending reasons (engine/scheduler.py), and
its invariants over long random workload runs with faults, unusable GPUs, drains and operator commands."""

from __future__ import annotations

import numpy as np
import pytest

from engine.jobs import GeneratorSpec, JobSpec, JobState, PartitionSpec
from engine.scheduler import GpuPool, PendingJobs, RunningJobs, Scheduler, SchedulerConfig, Topology
from engine.workload import Workload, WorkloadStep


def pool(free_per_sat: list[int], plane: list[int], g: int = 8) -> GpuPool:
    n = len(free_per_sat)
    mask = np.arange(g)[None, :] < np.array(free_per_sat)[:, None]
    return GpuPool(Topology(np.array(plane), np.ones((n, g), dtype=bool)), mask)


def sats_of(gpus: np.ndarray, g: int = 8) -> list[int]:
    return sorted(set((np.asarray(gpus) // g).tolist()))


# ----------------------------------------------------------------------------------------- placement


def test_single_satellite_best_fit() -> None:
    p = pool([8, 3, 5, 0], [0, 0, 1, 1])
    assert sats_of(p.place(4)) == [2]  # the fullest satellite that still fits 4
    assert sats_of(p.place(2)) == [1]
    assert sats_of(p.place(8)) == [0]
    gpus = p.place(5)
    assert gpus.size == 5 and sats_of(gpus) == [2]
    p.take(gpus)
    assert p.count.tolist() == [8, 3, 0, 0] and p.plane_count.tolist() == [11, 0]
    assert sats_of(p.place(4)) == [0]


def test_gangs_stay_within_one_plane() -> None:
    p = pool([8, 8, 6, 8, 8, 8], [0, 0, 0, 1, 1, 1])
    gpus = p.place(16)
    assert gpus.size == 16 and len(np.unique(gpus)) == 16
    assert sats_of(gpus) == [0, 1]  # best-fit plane 0 (22 free), fewest satellites
    gpus = p.place(20)
    assert sats_of(gpus) in ([0, 1, 2],)
    p2 = pool([6, 6, 6, 6], [0, 0, 1, 1])
    assert p2.place(7) is not None and len(set(p2.topology.plane[sats_of(p2.place(7))])) == 1  # splits within a plane
    assert p2.place(13) is None  # 24 free GPUs in all, but no plane has 13
    assert not p2.fits(13) and p2.fits(12)


def test_preferred_satellites_take_single_satellite_jobs_when_they_have_room() -> None:
    p = pool([8, 3, 5, 2], [0, 0, 1, 1])
    reachable = np.array([True, False, True, False])
    assert sats_of(p.place(2, reachable)) == [2], "best fit among the preferred satellites, not satellite 3"
    assert sats_of(p.place(6, reachable)) == [0]
    assert sats_of(p.place(2)) == [3], "without a preference: best fit over all"
    nowhere = pool([0, 3, 0, 2], [0, 0, 1, 1])
    assert sats_of(nowhere.place(2, reachable)) == [3], "no preferred satellite has room: any satellite"


@pytest.mark.parametrize("seed", range(5))
def test_preferred_best_fit_is_the_fewest_free_gpus_that_hold_the_job_lowest_index_first(seed) -> None:
    """On random pools: the satellite place() picks for a one-satellite job with a preference is the one
    with the fewest free GPUs that still hold it, among the preferred satellites if any has room, else
    among all, the lowest index on a tie (a direct search written here)."""
    rng = np.random.default_rng(seed)
    free = rng.integers(0, 9, 200)
    p = pool(free.tolist(), [0] * 200)
    for need in range(1, 9):
        prefer = rng.random(200) < 0.3
        room = free >= need
        candidates = np.flatnonzero(room & prefer) if (room & prefer).any() else np.flatnonzero(room)
        best = min(candidates.tolist(), key=lambda sat: (free[sat], sat))
        assert sats_of(p.place(need, prefer)) == [best]


def test_jobs_whose_results_need_a_route_start_on_satellites_with_one() -> None:
    rows = [(1, 2, 30.0, 1, 50), (2, 2, 20.0, 1, 50)]
    a = np.array(rows, dtype=float)
    jobs = PendingJobs(index=a[:, 0].astype(np.int64), gpus=a[:, 1].astype(np.int64), priority=a[:, 2],
                       submit_s=np.zeros(2), tier=a[:, 3].astype(np.int64), runtime_s=a[:, 4],
                       needs_route=np.array([True, False]))
    busy = [(9, 1, 1.0, 500.0, False, list(range(0, 6)))]  # satellite 0 has 2 free GPUs: the best fit
    reachable = np.array([False, True])
    starts = {s.job: sats_of(s.gpus) for s in plan(2, [0, 0], jobs, busy, reachable=reachable).starts}
    assert starts == {1: [1], 2: [0]}
    starts = {s.job: sats_of(s.gpus) for s in plan(2, [0, 0], jobs, busy).starts}
    assert starts == {1: [0], 2: [1]}, "no route information: plain best fit"


def test_pool_add_and_take_ignore_duplicates() -> None:
    p = pool([2, 0], [0, 0])
    p.take(np.array([0, 5, 9]))  # 5 and 9 are not free
    assert p.count.tolist() == [1, 0]
    p.add(np.array([1, 9, 9]))
    assert p.count.tolist() == [1, 1] and p.plane_count.tolist() == [2]


# ------------------------------------------------------------------------------------------ planning


def pending(rows: list[tuple[int, int, float, int, float]]) -> PendingJobs:
    """rows: (job, gpus, priority, tier, runtime_s)."""
    a = np.array(rows, dtype=float).reshape(-1, 5)
    return PendingJobs(index=a[:, 0].astype(np.int64), gpus=a[:, 1].astype(np.int64), priority=a[:, 2],
                       submit_s=np.zeros(len(rows)), tier=a[:, 3].astype(np.int64), runtime_s=a[:, 4])


def running(rows: list[tuple[int, int, float, float, bool, list[int]]]) -> RunningJobs:
    """rows: (job, tier, priority, end_s, preemptible, flat gpus)."""
    if not rows:
        return RunningJobs.empty()
    return RunningJobs(
        index=np.array([r[0] for r in rows]), tier=np.array([r[1] for r in rows]), priority=np.array([r[2] for r in rows], dtype=float),
        start_s=np.zeros(len(rows)), end_s=np.array([r[3] for r in rows], dtype=float),
        preemptible=np.array([r[4] for r in rows]), gpus=[np.array(r[5], dtype=np.int64) for r in rows],
    )


def occupied_by(rows, shape) -> np.ndarray:
    occ = np.zeros(shape, dtype=bool)
    for r in rows:
        occ.reshape(-1)[r[5]] = True
    return occ


def plan(n_sats: int, plane: list[int], pend, run_rows, headroom=None, thermal=None, g: int = 8, config=None, **kw):
    s = Scheduler(np.array(plane), np.ones((n_sats, g), dtype=bool), config or SchedulerConfig(), max_tier=10)
    base = np.ones((n_sats, g), dtype=bool)
    headroom = np.ones(n_sats, dtype=bool) if headroom is None else np.array(headroom)
    return s.plan(100.0, pend, running(run_rows), base, occupied_by(run_rows, base.shape), headroom,
                  None if thermal is None else np.array(thermal), **kw)


def test_priority_order_when_everything_fits_in_turn() -> None:
    p = plan(2, [0, 0], pending([(1, 8, 10.0, 1, 50), (2, 8, 30.0, 1, 50), (3, 8, 20.0, 1, 50)]), [])
    assert p.order == (2, 3, 1)
    assert [s.job for s in p.starts] == [2, 3]
    assert p.reservation is not None and p.reservation.job == 1
    assert p.reasons[1] == "Resources"


def test_multifactor_priority() -> None:
    s = Scheduler(np.zeros(2), np.ones((2, 8), dtype=bool), SchedulerConfig(), max_tier=10)
    pr = s.priority(7 * 86400.0, np.array([0.0, 7 * 86400.0, 0.0]), np.array([1, 10, 1]), np.array([16, 1, 1]),
                    np.array([0.0, 0.0, 5.0]), np.array([np.nan, np.nan, 3.0]))
    assert pr[0] == pytest.approx(1000 + 10000 * 0.1 + 100 * 1.0)  # full age, tier 1/10, all 16 GPUs
    assert pr[1] == pytest.approx(10000 + 100 / 16)
    assert pr[2] == 3.0  # operator override replaces the sum


def test_easy_backfill_respects_the_head_reservation() -> None:
    # one plane, two satellites; R holds satellite 0 until t=1000; H (16 GPUs) must wait for it
    run_rows = [(9, 1, 0.0, 1000.0, False, list(range(8)))]
    pend = pending([(1, 16, 50.0, 1, 400), (2, 4, 40.0, 1, 500), (3, 4, 30.0, 1, 5000), (4, 4, 20.0, 1, 800)])
    p = plan(2, [0, 0], pend, run_rows)
    assert p.reservation is not None and p.reservation.job == 1 and p.reservation.start_s == 1000.0
    assert sorted(p.reservation.gpus.tolist()) == list(range(16))
    started = {s.job: s for s in p.starts}
    assert set(started) == {2, 4}  # end by 600 and 900 < 1000: backfilled
    assert all(s.backfill for s in started.values())
    assert p.reasons[3] == "Priority"  # fits now, but would delay H
    assert p.reasons[1] == "Resources"


def test_backfill_on_gpus_outside_the_reservation() -> None:
    # three satellites in one plane, 12 GPUs held until t=1000; H needs 16 -> reserves satellites 0 and 1,
    # so a long job may still use satellite 2 now
    run_rows = [(9, 1, 0.0, 1000.0, False, list(range(12)))]
    pend = pending([(1, 16, 50.0, 1, 400), (2, 8, 40.0, 1, 99999)])
    p = plan(3, [0, 0, 0], pend, run_rows)
    assert p.reservation is not None and p.reservation.start_s == 1000.0
    (start,) = p.starts
    assert start.job == 2 and start.backfill
    assert not np.isin(start.gpus, p.reservation.gpus).any()


def test_reservation_matches_releasing_jobs_one_by_one() -> None:
    """The vectorised shadow-time search against the plain definition, on random fleets."""
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(200):
        n, g = int(rng.integers(2, 9)), 4
        plane = np.sort(rng.integers(0, 3, n))
        topo = Topology(plane, np.ones((n, g), dtype=bool))
        owner = np.full(n * g, -1)
        rows = []
        for p in np.unique(plane):  # gangs within a plane
            slots = np.flatnonzero(np.repeat(plane == p, g))
            rng.shuffle(slots)
            cut = np.sort(rng.choice(np.arange(1, slots.size), size=min(3, slots.size - 1), replace=False))
            for part in np.split(slots, cut):
                if rng.random() < 0.8:
                    owner[part] = len(rows)
                    rows.append((len(rows), 1, 0.0, float(rng.integers(1, 5) * 100), False, sorted(part.tolist())))
        host = rng.random(n * g) < 0.9
        free = GpuPool(topo, (host & (owner < 0)).reshape(n, g))
        need = int(rng.integers(1, 2 * g + 1))
        if free.fits(need):
            continue  # the scheduler reserves only for a job that cannot start now
        s = Scheduler(plane, np.ones((n, g), dtype=bool))
        got = s._reserve(0, need, 0.0, free, running(rows), host, set())
        # plain definition: release jobs in order of their ends until the job fits
        expected_start, expected_gpus = np.inf, None
        hyp = free.copy()
        for r in np.argsort([row[3] for row in rows], kind="stable"):
            gpus = np.array(rows[r][5])
            hyp.add(gpus[host[gpus]])
            if hyp.fits(need):
                expected_start, expected_gpus = rows[r][3], hyp.place(need)
                break
        assert got.start_s == expected_start
        if expected_gpus is not None:
            assert sorted(got.gpus.tolist()) == sorted(expected_gpus.tolist())
            assert host[got.gpus].all() and len(set(plane[got.gpus // g].tolist())) == 1
        checked += 1
    assert checked > 50


def test_without_backfill_nothing_passes_the_blocked_head() -> None:
    run_rows = [(9, 1, 0.0, 1000.0, False, list(range(8)))]
    pend = pending([(1, 16, 50.0, 1, 400), (2, 4, 40.0, 1, 10)])
    p = plan(2, [0, 0], pend, run_rows, config=SchedulerConfig(backfill=False))
    assert p.starts == () and p.reasons[2] == "Priority"


def test_preemption_by_tier() -> None:
    # two satellites full: a tier-1 preemptible job on sat 0, a tier-5 job on sat 1, a tier-1 non-preemptible nowhere
    run_rows = [(7, 1, 5.0, 5000.0, True, list(range(8))), (8, 5, 5.0, 5000.0, True, list(range(8, 16)))]
    p = plan(2, [0, 0], pending([(1, 8, 100.0, 10, 100)]), run_rows)
    assert [(x.victim, x.by) for x in p.preemptions] == [(7, 1)]  # lowest tier first
    assert sorted(p.claims[1].tolist()) == list(range(8))
    assert p.reasons[1] == "Preempting" and p.starts == ()
    # equal tier or preemption off: no preemption
    p = plan(2, [0, 0], pending([(1, 8, 100.0, 1, 100)]), run_rows)
    assert p.preemptions == () and p.reasons[1] == "Resources"
    off = [(r[0], r[1], r[2], r[3], False, r[5]) for r in run_rows]
    p = plan(2, [0, 0], pending([(1, 8, 100.0, 10, 100)]), off)
    assert p.preemptions == ()
    # only the victims whose GPUs the preemptor needs
    run_rows = [(7, 1, 5.0, 5000.0, True, list(range(4))), (6, 1, 1.0, 5000.0, True, list(range(4, 8))),
                (5, 1, 9.0, 5000.0, True, list(range(8, 16)))]
    p = plan(2, [0, 0], pending([(1, 4, 100.0, 10, 100)]), run_rows)
    assert [x.victim for x in p.preemptions] == [6]  # lowest priority, and enough on its own


def test_claims_and_suspended_jobs() -> None:
    claim = np.arange(8)
    run_rows = [(7, 1, 5.0, 5000.0, True, list(range(8)))]
    # victim still there: keep waiting; nobody else may take claimed GPUs (none are free here anyway)
    p = plan(2, [0, 0], pending([(2, 8, 1.0, 1, 10)]), run_rows, claims=[(1, claim)])
    assert p.reasons[1] == "Preempting"
    assert [s.job for s in p.starts] == [2] and not np.isin(p.starts[0].gpus, claim).any()
    # victim gone: the claimant starts on its claim, and a suspended job resumes on its own GPUs
    p = plan(2, [0, 0], pending([]), [], claims=[(1, claim)], suspended=[(3, np.arange(8, 12))])
    assert {s.job: sorted(s.gpus.tolist()) for s in p.starts} == {1: list(range(8)), 3: [8, 9, 10, 11]}
    assert [s.resume for s in p.starts] == [True, False]


def test_pending_reasons_for_power_and_thermal_headroom() -> None:
    pend = pending([(1, 8, 1.0, 1, 10)])
    assert plan(2, [0, 0], pend, [], headroom=[False, False]).reasons[1] == "PowerBudget"
    assert plan(2, [0, 0], pend, [], headroom=[False, False], thermal=[True, True]).reasons[1] == "ThermalBudget"
    assert plan(2, [0, 0], pend, [], headroom=[False, False], thermal=[True, False]).reasons[1] in ("PowerBudget", "ThermalBudget")
    p = plan(2, [0, 0], pend, [], headroom=[False, True])
    assert [sats_of(s.gpus) for s in p.starts] == [[1]]
    assert plan(2, [0, 0], pending([(1, 24, 1.0, 1, 10)]), []).reasons[1] == "Resources"


# ------------------------------------------------------------------------------ long random runs

N_SATS, N_GPUS = 12, 4
PLANE = np.repeat([0, 1, 2], 4)
PARTITIONS = [
    PartitionSpec("rt", tier=10),
    PartitionSpec("train", tier=5, preempt_mode="requeue", grace_s=30.0),
    PartitionSpec("batch", tier=1, preempt_mode="suspend"),
    PartitionSpec("scavenger", tier=1, preempt_mode="cancel", max_wall_s=900.0),
]
GENERATORS = [
    GeneratorSpec("inference", rate_per_hour=90, duration_s=40.0, partition="rt", gpus=(1, 2, 4), latency_target_s=120.0),
    GeneratorSpec("train", kind="training", rate_per_hour=8, duration_s=1500.0, partition="train", gpus=(4, 6, 8, 12),
                  checkpoint_size_gb=100.0, checkpoint_interval_s=200.0, startup_s=15.0, walltime_s=5000.0,
                  app_failure_rate_per_h=0.3, max_retries=2),
    GeneratorSpec("batch", kind="training", rate_per_hour=12, duration_s=600.0, duration_dist="lognormal",
                  partition="batch", gpus=(1, 2, 3, 4), checkpoint_size_gb=20.0),
    GeneratorSpec("scavenge", rate_per_hour=6, duration_s=300.0, partition="scavenger", gpus=(2, 4)),
]
LISTED = [
    JobSpec("LLM-1", partition="train", gpus=16, gpu_hours=6.0, checkpoint_size_gb=300.0, startup_s=30.0, max_restarts=50),
    JobSpec("EO-7", partition="batch", gpus=4, duration_s=2000.0, submit_s=500.0, hold=True),
]


def random_run(seed: int, steps: int = 1200, dt_s: float = 10.0, check=None, commands: bool = True) -> Workload:
    """A small fleet (3 planes x 4 satellites x 4 GPUs, one GPU missing) driven by random faults, GPU
    outages, throttling, headroom loss, drains and operator commands (valid and invalid ones)."""
    present = np.ones((N_SATS, N_GPUS), dtype=bool)
    present[11, 3] = False
    w = Workload(LISTED, GENERATORS, PARTITIONS, PLANE, present, np.random.default_rng(seed), gpu_mtbf_h=20.0)
    env = np.random.default_rng(seed + 10_000)
    usable = present.copy()
    headroom = np.ones(N_SATS, dtype=bool)
    drained = np.zeros(N_SATS, dtype=bool)
    for k in range(steps):
        t = k * dt_s
        usable = (usable ^ (env.random((N_SATS, N_GPUS)) < 0.01)) & present
        killed = (env.random((N_SATS, N_GPUS)) < 0.002) & present
        speed = np.where(env.random((N_SATS, N_GPUS)) < 0.2, env.uniform(0.0, 1.0, (N_SATS, N_GPUS)), 1.0)
        if env.random() < 0.05:
            headroom = env.random(N_SATS) > 0.15
        if env.random() < 0.02:
            drained = env.random(N_SATS) < 0.1
        thermal = env.random(N_SATS) < 0.5
        power = np.where(present, env.uniform(100.0, 700.0, (N_SATS, N_GPUS)), 0.0)
        if commands and env.random() < 0.04:
            operator_command(w, env)
        step = w.step(t, dt_s, usable, speed, killed, headroom, drained, gpu_power_w=power, thermal_limited=thermal)
        if check is not None:
            check(w, step, t, usable, headroom)
    return w


def operator_command(w: Workload, env: np.random.Generator) -> None:
    ids = w.job_ids()
    job_id = ids[int(env.integers(len(ids)))] if ids and env.random() < 0.9 else "no-such-job"
    action = env.choice(["cancel", "hold", "release", "requeue", "priority", "drain", "undrain"])
    before = (w.history, w.job_views(), w.drained.tolist())
    try:
        if action == "priority":
            w.set_priority(job_id, float(env.uniform(0, 20000)))
        elif action in ("drain", "undrain"):
            getattr(w, action)(int(env.integers(-1, N_SATS + 1)))
        else:
            getattr(w, action)(job_id)
    except ValueError as refused:
        assert str(refused)
        assert (w.history, w.job_views(), w.drained.tolist()) == before, f"refused {action} changed state"


def check_invariants(w: Workload, step: WorkloadStep, t: float, usable: np.ndarray, headroom: np.ndarray) -> None:
    gpu_job = step.gpu_job
    occupied = gpu_job >= 0
    # never a job on an unusable (or missing) GPU
    assert not (occupied & ~usable).any()
    assert (step.gpu_busy == occupied).all()
    # never two jobs on one GPU: every job on GPUs has exactly its gang, within one plane
    on = np.unique(gpu_job[occupied])
    for j in on.tolist():
        view = w.job_view(w.job_at(j))
        assert view.state in ("RUNNING", "CHECKPOINTING")
        assert int((gpu_job == j).sum()) == view.gpus
        assert len(set(PLANE[list(view.satellites)].tolist())) == 1
    running = [v for v in w.job_views(include_finished=False) if v.state in ("RUNNING", "CHECKPOINTING")]
    assert sorted(w.index_of(v.id) for v in running) == on.tolist()
    if not step.scheduled:
        return
    plan = w.last_plan
    assert plan is not None and plan.time_s == t
    drained = w.drained
    flat_usable = usable.reshape(-1)
    taken: list[int] = []
    position = {job: i for i, job in enumerate(plan.order)}
    head = position.get(plan.reservation.job) if plan.reservation is not None else None
    for start in plan.starts:
        sats = np.unique(start.gpus // N_GPUS)
        # new work only on usable GPUs of undrained satellites with headroom, one plane per gang
        assert flat_usable[start.gpus].all() and headroom[sats].all() and not drained[sats].any()
        assert len(set(PLANE[sats].tolist())) == 1
        taken.extend(start.gpus.tolist())
        if start.job not in position:
            continue  # a resume or a claim taken up
        if start.backfill:
            assert head is not None and position[start.job] > head
            assert not np.isin(start.gpus, plan.reservation.gpus).any() or start.est_end_s <= plan.reservation.start_s
        else:
            assert head is None or position[start.job] < head, "a job jumped the queue without backfilling"
    assert len(taken) == len(set(taken)), "one GPU given to two jobs in one pass"
    if head is not None:
        started = {s.job for s in plan.starts}
        for job in plan.order[:head]:
            assert job in started or plan.reasons.get(job) == "Preempting"


@pytest.mark.parametrize("seed", [1, 2])
def test_scheduler_invariants_over_random_runs(seed: int) -> None:
    w = random_run(seed, check=check_invariants)
    states = {tr.to_state for tr in w.history}
    counters = w.counters
    # the run must have exercised the interesting paths
    assert counters["preemptions"] > 0 and counters["node_failures"] > 0 and counters["checkpoints"] > 0
    assert {JobState.COMPLETED, JobState.NODE_FAIL, JobState.REQUEUED, JobState.CHECKPOINTING} <= states
    assert w.last_plan is not None
    for tr in w.history:
        assert tr.from_state is None or tr.to_state is not None


def test_random_runs_hit_suspension_cancellation_and_backfill() -> None:
    seen = {"backfill": 0, "suspend": 0, "preempt_cancel": 0, "reservation": 0}

    def spy(w, step, t, usable, headroom):
        if step.scheduled and w.last_plan is not None:
            seen["backfill"] += sum(s.backfill for s in w.last_plan.starts)
            seen["reservation"] += w.last_plan.reservation is not None
        for tr in step.transitions:
            seen["suspend"] += tr.to_state == JobState.SUSPENDED
            seen["preempt_cancel"] += tr.to_state == JobState.CANCELLED and "preempted" in tr.reason

    random_run(3, steps=900, check=spy, commands=False)
    assert all(v > 0 for v in seen.values()), seen
