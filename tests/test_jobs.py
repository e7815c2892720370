"""Job specs, the Slurm-flavoured state machine and the checkpoint-interval formulas (engine/jobs.py)."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest

from engine.jobs import (
    LEGAL_TRANSITIONS,
    TERMINAL,
    GeneratorSpec,
    IllegalTransition,
    Job,
    JobSpec,
    JobState,
    PartitionSpec,
    PreemptMode,
    _normal_quantile,
    checkpoint_write_s,
    daly_interval_s,
    young_interval_s,
)

PARTITION = PartitionSpec("default")


def path_to(target: JobState) -> list[JobState]:
    """A shortest sequence of legal moves from PENDING to ``target``."""
    previous: dict[JobState, JobState | None] = {JobState.PENDING: None}
    queue = deque([JobState.PENDING])
    while queue:
        state = queue.popleft()
        for nxt in sorted(LEGAL_TRANSITIONS[state], key=lambda s: s.value):
            if nxt not in previous:
                previous[nxt] = state
                queue.append(nxt)
    assert target in previous, f"{target} is unreachable from PENDING"
    path = [target]
    while previous[path[-1]] is not None:
        path.append(previous[path[-1]])  # type: ignore[arg-type]
    return path[::-1][1:]


def job_in(state: JobState) -> Job:
    job = Job(0, JobSpec("J", duration_s=10.0), PARTITION, 0.0)
    for step in path_to(state):
        job.move(step, 1.0)
    assert job.state == state
    return job


@pytest.mark.parametrize("source", list(JobState))
def test_every_transition_is_allowed_or_refused_by_the_table(source: JobState) -> None:
    for target in JobState:
        job = job_in(source)
        if target in LEGAL_TRANSITIONS[source]:
            record = job.move(target, 5.0, "why")
            assert job.state == target
            assert (record.from_state, record.to_state, record.time_s, record.reason) == (source, target, 5.0, "why")
        else:
            with pytest.raises(IllegalTransition):
                job.move(target, 5.0)
            assert job.state == source, "a refused transition must not change the state"


def test_table_shape() -> None:
    assert set(LEGAL_TRANSITIONS) == set(JobState)
    assert TERMINAL == {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.TIMEOUT}
    for state in TERMINAL:
        assert LEGAL_TRANSITIONS[state] == frozenset(), f"{state} must be terminal"
    for state in JobState:
        path_to(state)  # every state is reachable
    # every non-terminal state can still end
    for state in set(JobState) - TERMINAL:
        seen, queue = {state}, deque([state])
        while queue:
            for nxt in LEGAL_TRANSITIONS[queue.popleft()]:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        assert seen & TERMINAL, f"{state} can never finish"
    # the simulator's rules: requeue is transient, preemption/faults go through requeue
    assert LEGAL_TRANSITIONS[JobState.REQUEUED] == {JobState.PENDING}
    assert JobState.REQUEUED in LEGAL_TRANSITIONS[JobState.NODE_FAIL]
    assert JobState.REQUEUED in LEGAL_TRANSITIONS[JobState.PREEMPTED]
    assert JobState.COMPLETED not in LEGAL_TRANSITIONS[JobState.PENDING]


def test_terminal_states_stay_terminal() -> None:
    for state in TERMINAL:
        job = job_in(state)
        assert job.terminal and job.end_s == 1.0
        for target in JobState:
            with pytest.raises(IllegalTransition):
                job.move(target, 9.0)
        assert job.state == state and job.end_s == 1.0


def test_state_is_read_only() -> None:
    job = job_in(JobState.PENDING)
    with pytest.raises(AttributeError):
        job.state = JobState.COMPLETED  # type: ignore[misc]


# --------------------------------------------------------------------------------------------- specs


def test_job_spec_work_and_validation() -> None:
    spec = JobSpec("T", gpus=16, gpu_hours=8.0)
    assert spec.work_s == pytest.approx(8 * 3600 / 16)
    assert spec.name == "T" and spec.kind.value == "training"
    assert JobSpec("I", kind="inference", duration_s=2.0).work_s == 2.0
    for bad in (
        dict(id="x"),  # no work
        dict(id="x", gpu_hours=1.0, duration_s=1.0),  # both
        dict(id="x", duration_s=-1.0),
        dict(id="x", duration_s=1.0, gpus=0),
        dict(id="x", duration_s=1.0, kind="rendering"),
        dict(id="x", duration_s=1.0, checkpoint_interval_s="sometimes"),
        dict(id="x", duration_s=1.0, checkpoint_interval_s=0.0),
        dict(id="x", duration_s=1.0, walltime_s=0.0),
        dict(id="", duration_s=1.0),
    ):
        with pytest.raises(ValueError):
            JobSpec(**bad)  # type: ignore[arg-type]
    assert PartitionSpec("p", preempt_mode="requeue").preempt_mode is PreemptMode.REQUEUE
    with pytest.raises(ValueError):
        PartitionSpec("p", preempt_mode="sometimes")
    with pytest.raises(ValueError):
        GeneratorSpec("g", rate_per_hour=1.0, duration_s=1.0, gpus=(1, 0))


def test_checkpoint_write_time() -> None:
    # reference: 1 TB to a peer over a 100 Gbps ISL takes about 80 s
    assert checkpoint_write_s(1000.0, 100.0) == pytest.approx(80.0)
    assert JobSpec("T", duration_s=1.0, checkpoint_size_gb=420, checkpoint_bandwidth_gbps=100).checkpoint_delta_s == pytest.approx(33.6)
    assert JobSpec("T", duration_s=1.0, checkpoint_size_gb=420, checkpoint_write_s=5.0).checkpoint_delta_s == 5.0


@pytest.mark.parametrize("delta_s,mtbf_s", [(120.0, 790 * 3600.0), (60.0, 35 * 60.0), (1.0, 1e6), (33.6, 12345.0)])
def test_young_interval_matches_the_formula(delta_s: float, mtbf_s: float) -> None:
    assert young_interval_s(delta_s, mtbf_s) == pytest.approx(math.sqrt(2.0 * delta_s * mtbf_s), rel=1e-15)


def test_young_worked_example() -> None:
    # network-and-jobs.md §4.5: 64 GPUs at 50k h each -> M ≈ 790 h; δ = 2 min -> τ ≈ 7 h
    mtbf = 50_000 * 3600.0 / 64
    tau = young_interval_s(120.0, mtbf)
    assert 7.0 * 3600 < tau < 7.5 * 3600
    spec = JobSpec("T", gpus=64, gpu_hours=900.0, checkpoint_write_s=120.0, checkpoint_interval_s="young")
    assert spec.checkpoint_period_s(50_000 * 3600.0) == pytest.approx(tau, rel=1e-15)


def test_daly_interval() -> None:
    # physics.md §3.11: M ≈ 35 min, δ = 1 min -> τ_opt ≈ 7 min (first order √(2δM) − δ ≈ 5.5 min, Daly's higher order a bit more)
    delta, mtbf = 60.0, 35 * 60.0
    x = delta / (2 * mtbf)
    expected = math.sqrt(2 * delta * mtbf) * (1 + math.sqrt(x) / 3 + x / 9) - delta
    assert daly_interval_s(delta, mtbf) == pytest.approx(expected, rel=1e-15)
    assert 5 * 60 < daly_interval_s(delta, mtbf) < 8 * 60
    # δ small against M: Daly -> Young − δ
    assert daly_interval_s(1.0, 1e8) == pytest.approx(young_interval_s(1.0, 1e8) - 1.0, rel=1e-3)
    # δ ≥ 2M: checkpoint every MTBF
    assert daly_interval_s(100.0, 40.0) == 40.0
    spec = JobSpec("T", gpus=8, duration_s=1e5, checkpoint_write_s=60.0)  # 'auto' is Daly's
    assert spec.checkpoint_period_s(1e6) == pytest.approx(daly_interval_s(60.0, 1e6 / 8), rel=1e-15)
    assert JobSpec("T", duration_s=1.0, checkpoint_write_s=60.0, mtbf_s=500.0).checkpoint_period_s(1e9) == pytest.approx(daly_interval_s(60.0, 500.0))


def test_jobs_without_checkpoints() -> None:
    assert JobSpec("T", duration_s=10.0).checkpoint_period_s(1e6) == math.inf  # nothing to write
    assert JobSpec("T", duration_s=10.0, checkpoint_write_s=5.0, checkpoint_interval_s=None).checkpoint_period_s(1e6) == math.inf
    assert JobSpec("T", duration_s=10.0, checkpoint_write_s=5.0, checkpoint_interval_s=30).checkpoint_period_s(1e6) == 30.0


def test_generator_draws() -> None:
    rng = np.random.default_rng(3)
    fixed = GeneratorSpec("g", rate_per_hour=1.0, duration_s=40.0, duration_dist="fixed", gpus=(2, 4), partition="p",
                          latency_target_s=9.0)
    specs = [fixed.draw_job(f"J-{i}", float(i), rng) for i in range(200)]
    assert {s.gpus for s in specs} == {2, 4}
    assert all(s.duration_s == 40.0 and s.partition == "p" and s.latency_target_s == 9.0 for s in specs)
    lognormal = GeneratorSpec("g", rate_per_hour=1.0, duration_s=100.0, duration_dist="lognormal", duration_sigma=0.7)
    durations = np.array([lognormal.draw_job("J", 0.0, rng).work_s for _ in range(4000)])
    assert np.median(durations) == pytest.approx(100.0, rel=0.06)
    assert np.std(np.log(durations)) == pytest.approx(0.7, rel=0.06)
    exponential = GeneratorSpec("g", rate_per_hour=1.0, duration_s=50.0)
    assert np.mean([exponential.draw_job("J", 0.0, rng).work_s for _ in range(4000)]) == pytest.approx(50.0, rel=0.06)


def test_generated_jobs_are_the_jobs_the_checked_constructor_builds() -> None:
    """draw_job builds its first job through JobSpec's checks and later ones from it; every one must equal
    the JobSpec built and checked from its own fields (named after the generator, or its id unnamed)."""
    from dataclasses import fields

    rng = np.random.default_rng(9)
    for name in ("train", ""):
        generator = GeneratorSpec(name, rate_per_hour=1.0, duration_s=60.0, gpus=(1, 8), kind="training",
                                  checkpoint_interval_s="auto", checkpoint_size_gb=5.0, latency_target_s=None)
        for k in range(20):
            job = generator.draw_job(f"J-{k}", 10.0 * k, rng)
            rebuilt = JobSpec(**{f.name: getattr(job, f.name) for f in fields(JobSpec)})
            assert job == rebuilt and job.id == f"J-{k}" and job.submit_s == 10.0 * k
            assert job.name == (name or job.id) and job.gpus in (1, 8) and job.work_s > 0


def test_normal_quantile() -> None:
    for u, z in ((0.5, 0.0), (0.975, 1.959963984540054), (0.025, -1.959963984540054), (0.999, 3.090232306167813),
                 (1e-6, -4.753424308822899)):
        assert _normal_quantile(u) == pytest.approx(z, abs=1e-8)
