"""GPU health, radiation and the job workload inside the full Simulation (real orbits, power and thermal).

The modules have their own tests (test_gpu_health.py, test_workload.py); these check the wiring: faults end
the jobs on their GPUs and roll them back exactly, the scheduler only uses GPUs that are usable and not
drained, commands are validated and logged, rates in the running engine match their configured means, and
the same seed gives the same history.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import EventKind, Simulation, load_mission
from engine.commands import (
    CancelJob,
    CommandError,
    DrainSatellite,
    HoldJob,
    ReleaseJob,
    RequeueJob,
    ResetGpu,
    SetGpuPower,
    SetGpuPowerCap,
    SetJobPriority,
    SetUtilization,
    UndrainSatellite,
)
from engine.gpu_health import GpuHealthState
from engine.jobs import JobState
from engine.power import ShedLevel
from engine.workload import LOSS_CAUSES
from tests.conftest import IDEAL_NETWORK, SMALL_MISSION

ACCOUNTING_RTOL = 1e-9
"""GPU-second bookkeeping closes to float rounding."""

JOBS = """
[[scheduler.partition]]
name = "training"
tier = 1
preempt_mode = "requeue"
grace = "2m"

[[scheduler.partition]]
name = "inference"
tier = 2

[[job]]
id = "TRAIN"
partition = "training"
gpus = 8
duration = "5h"
checkpoint_interval = "20m"
checkpoint_size_gb = 20
checkpoint_bandwidth_gbps = 16

[[workload.generator]]
name = "chat"
kind = "inference"
partition = "inference"
rate_per_hour = 40
duration = "4m"
gpus = [1, 2]
latency_target_ms = 600000

[[workload.generator]]
name = "tune"
kind = "training"
partition = "training"
rate_per_hour = 3
duration = "40m"
gpus = [2, 4]
checkpoint_interval = "10m"
checkpoint_size_gb = 10
"""

FAULTY = """
[gpu_health]
sefi_per_board_per_day = 3.0
due_per_gpu_per_year = 200.0
random_failure_per_year = 20.0
"""


def simulation(write_mission, extra: str = JOBS, seed: int | None = None, name: str = "m.toml") -> Simulation:
    """The small fleet with `extra`; ideal telemetry, so operator commands act at once (this fleet never
    passes over its one station, and on-board commands would wait for a contact: see test_network)."""
    return Simulation(load_mission(write_mission(SMALL_MISSION + extra + IDEAL_NETWORK, name)), seed=seed)


def job_state(sim: Simulation, job_id: str) -> str:
    return next(view for view in sim.job_views() if view.id == job_id).state


def test_the_same_seed_gives_the_same_jobs_and_faults_and_another_seed_does_not(write_mission):
    def run(seed: int, name: str):
        sim = simulation(write_mission, JOBS + FAULTY, seed=seed, name=name)
        sim.run_until(2 * 3600)
        events = [(e.time_s, e.kind, e.message) for e in sim.drain_events()]
        return sim.job_history(), events, sim.snapshot().gpu_health.copy()

    first, second, other = run(11, "a.toml"), run(11, "b.toml"), run(12, "c.toml")
    assert first[0] == second[0] and first[1] == second[1] and np.array_equal(first[2], second[2])
    assert len(first[0]) > 50  # a busy queue, not a trivial agreement
    assert first[0] != other[0] or first[1] != other[1]


def test_events_come_out_in_time_order_across_steps(write_mission):
    """Generated jobs arrive between steps: their submissions are reported with the step they fall in, so
    the event stream an operator reads is chronological (and a coarse step gives the same arrivals)."""
    sim = simulation(write_mission, JOBS + FAULTY, seed=3)
    times, submitted = [], []
    while sim.time_s < 3 * 3600:
        sim.step()
        for event in sim.drain_events():
            times.append(event.time_s)
            if event.kind == EventKind.JOB_SUBMITTED:
                submitted.append(event.time_s)
    assert len(submitted) > 50
    assert all(later >= earlier for earlier, later in zip(times, times[1:]))
    coarse = simulation(write_mission, JOBS + FAULTY, seed=3, name="coarse.toml")
    coarse_submitted = []
    while coarse.time_s < 3 * 3600:
        coarse.step(60.0)
        coarse_submitted += [e.time_s for e in coarse.drain_events() if e.kind == EventKind.JOB_SUBMITTED]
    assert coarse_submitted == submitted


def test_the_scheduler_never_uses_an_unusable_or_drained_gpu_nor_overallocates(write_mission):
    sim = simulation(write_mission, JOBS + FAULTY)
    sim.apply(DrainSatellite("A-01-02"))
    drained = sim.satellite_ids.index("A-01-02")
    workload = sim.workload
    assert workload is not None
    busy_seen = 0
    for _ in range(1200):
        usable_before = sim.health.usable & ~sim.gpus.shutdown & (sim.shed_level < ShedLevel.SAFE)[:, None]
        sim.step()
        gpu_job = sim.snapshot().gpu_job
        busy = gpu_job >= 0
        busy_seen += int(busy.sum())
        assert not (busy & ~usable_before).any(), "a job was placed on a GPU that was not usable at the step start"
        assert not busy[drained].any(), "work on a drained satellite"
        assert not (busy & ~sim.hw.gpu_present).any()
        index, counts = np.unique(gpu_job[busy], return_counts=True)
        for j, count in zip(index, counts):
            view = workload.job_view(workload.job_at(int(j)))
            assert view.state in ("RUNNING", "CHECKPOINTING") and count == view.gpus
    assert busy_seen > 0 and sim.event_counts.get("gpu_health", 0) > 0


def test_a_gpu_reset_rolls_the_job_back_exactly_to_its_last_checkpoint(write_mission):
    sim = simulation(write_mission)
    sim.run_until(50 * 60)  # past the first 20-minute checkpoint (plus its write)
    view = next(v for v in sim.job_views() if v.id == "TRAIN")
    assert view.state == "RUNNING" and view.checkpoint_progress > 0
    saved = view.checkpoint_progress
    assert view.progress > saved  # unsaved work to lose
    workload = sim.workload
    lost_gpu_s = (view.progress - saved) * 5 * 3600 * view.gpus
    rollback_before = workload.accounting("TRAIN")["rollback"]
    sat_index = view.satellites[0]
    gpu = int(np.flatnonzero(sim.snapshot().gpu_job[sat_index] == workload.index_of("TRAIN"))[0])
    sim.apply(ResetGpu(sim.satellite_ids[sat_index], gpu))
    assert sim.health.state[sat_index, gpu] == GpuHealthState.RESETTING
    sim.step()
    after = next(v for v in sim.job_views() if v.id == "TRAIN")
    assert after.progress == pytest.approx(saved, abs=1e-12)
    assert after.restarts == 1 and after.retries == 0  # an infrastructure fault uses no retry
    assert workload.accounting("TRAIN")["rollback"] - rollback_before == pytest.approx(lost_gpu_s, rel=1e-9)
    kinds = [e.kind for e in sim.drain_events()]
    assert EventKind.GPU_HEALTH in kinds and EventKind.JOB_NODE_FAIL in kinds and EventKind.JOB_REQUEUED in kinds
    sim.run_until(sim.time_s + sim.health.params.reset_min_s + 60)
    assert sim.health.state[sat_index, gpu] == GpuHealthState.OK


def test_goodput_plus_losses_equals_allocated_gpu_time(write_mission):
    sim = simulation(write_mission, JOBS + FAULTY)
    sim.run_until(4 * 3600)
    account = sim.workload.accounting()
    parts = account["useful"] + sum(account[cause] for cause in LOSS_CAUSES)
    assert account["allocated"] > 3600
    assert parts == pytest.approx(account["allocated"], rel=ACCOUNTING_RTOL)
    metrics = sim.workload_metrics()
    assert metrics["goodput"] == pytest.approx(account["useful"] / account["allocated"], rel=ACCOUNTING_RTOL)
    assert metrics["jobs"]["node_failures"] > 0 and metrics["gpu_hours_lost"]["rollback"] > 0


def test_functional_interrupts_in_the_running_engine_match_the_configured_rate(write_mission):
    """SEFI only, 4 per GPU per day: over a simulated day the count is Poisson around rate x GPU-days in
    service (normalisation to the orbit-average radiation multiplier comes from each orbit's sampled track)."""
    rates_off = """
[gpu_health]
sefi_per_board_per_day = 4.0
ce_per_gpu_per_day = 0
due_per_gpu_per_year = 0
sdc_terrestrial_per_gpu_per_day = 0
latchup_per_gpu_per_year = 0
random_failure_per_year = 0
thermal_failure_per_year = 0
infant_failure_fraction = 0
"""
    text = SMALL_MISSION.replace('step = "10s"', 'step = "60s"') + rates_off
    sim = Simulation(load_mission(write_mission(text)))
    sim.run_until(86400.0)
    gpus = int(sim.hw.gpu_present.sum())
    observed = int(sim.health.sefi_count.sum())
    mean_reset_s = 0.5 * (sim.health.params.reset_min_s + sim.health.params.reset_max_s)
    in_service = 1.0 - 4.0 * mean_reset_s / 86400.0  # a resetting GPU cannot hang again
    expected = 4.0 * gpus * in_service
    assert abs(observed - expected) < 4.5 * math.sqrt(expected) + 0.03 * expected


def test_a_scheduled_solar_particle_event_raises_rates_and_dose_and_is_announced(write_mission):
    storm = """
[radiation]
spe_rate_per_year = 0

[[radiation.solar_particle_event]]
start = "1h"
duration = "2h"
"""
    sim = simulation(write_mission, storm)
    sim.run_until(3000)
    quiet_dose = sim.health.dose_rad.copy()
    quiet_multiplier = sim.snapshot().radiation_multiplier
    sim.run_until(3600 + 3000)
    snap = sim.snapshot()
    assert snap.solar_particle_event
    assert np.median(snap.radiation_multiplier) > 50 * np.median(quiet_multiplier)
    storm_dose = sim.health.dose_rad - quiet_dose
    # 10x the dose rate during the storm (fleet totals: single satellites differ by their SAA crossings)
    assert storm_dose.sum() > 5 * quiet_dose.sum()
    sim.run_until(4 * 3600)
    events = [e for e in sim.drain_events() if e.kind in (EventKind.SOLAR_PARTICLE_EVENT_START, EventKind.SOLAR_PARTICLE_EVENT_END)]
    assert [(e.kind, e.time_s) for e in events] == [
        (EventKind.SOLAR_PARTICLE_EVENT_START, 3600.0), (EventKind.SOLAR_PARTICLE_EVENT_END, 3 * 3600.0)
    ]
    assert not sim.snapshot().solar_particle_event


def test_paused_shedding_stops_progress_and_books_it_as_throttling(write_mission):
    sim = simulation(write_mission)
    sim.run_until(600)
    sim.battery.energy_j[:] = sim.battery.capacity_j * 0.30  # below pause (0.35), above safe (0.25)
    sim.step()
    assert (sim.shed_level >= ShedLevel.PAUSED).all()
    before = next(v for v in sim.job_views() if v.id == "TRAIN")
    throttling_before = sim.workload.accounting("TRAIN")["throttling"]
    sim.step()
    sim.step()
    after = next(v for v in sim.job_views() if v.id == "TRAIN")
    assert after.state == before.state == "RUNNING" and after.progress == before.progress
    assert sim.workload.accounting("TRAIN")["throttling"] - throttling_before == pytest.approx(2 * 10 * 8, rel=1e-9)


def test_drain_migrates_work_off_a_satellite_and_undrain_lets_it_back(write_mission):
    sim = simulation(write_mission)
    sim.run_until(300)
    snap = sim.snapshot()
    sat = int(np.flatnonzero((snap.gpu_job >= 0).any(axis=1))[0])
    sat_id = sim.satellite_ids[sat]
    sim.apply(DrainSatellite(sat_id))
    sim.run_until(sim.time_s + 1800)
    snap = sim.snapshot()
    assert snap.drained[sat] and not (snap.gpu_job[sat] >= 0).any()
    assert any(e.kind == EventKind.OPERATOR_COMMAND and sat_id in e.message for e in sim.drain_events())
    sim.apply(UndrainSatellite(sat_id))
    assert not sim.snapshot().drained[sat]


def test_a_power_cap_limits_gpu_power_and_slows_jobs(write_mission):
    sim = simulation(write_mission)
    sim.run_until(300)
    snap = sim.snapshot()
    sat = int(np.flatnonzero((snap.gpu_job >= 0).all(axis=1))[0])
    sim.apply(SetGpuPowerCap(sim.satellite_ids[sat], 350.0))
    sim.step()
    snap = sim.snapshot()
    assert snap.gpu_power_cap_w[sat] == 350.0
    assert snap.gpu_power_w[sat].max() <= 350.0 + 1e-9 and snap.gpu_speed[sat].max() < 1.0
    sim.apply(SetGpuPowerCap(sim.satellite_ids[sat], None))
    sim.step()
    assert np.isnan(sim.snapshot().gpu_power_cap_w[sat]) and sim.snapshot().gpu_power_w[sat].max() > 600


@pytest.mark.parametrize(
    "command, reason",
    [
        (CancelJob("NOPE"), "no job 'NOPE'"),
        (HoldJob("TRAIN"), "only pending jobs can be held"),
        (ReleaseJob("TRAIN"), "not held"),
        (SetJobPriority("TRAIN", -5), "priority must be"),
        (RequeueJob("NOPE"), "no job"),
        (DrainSatellite("Z-9-9"), "no satellite 'Z-9-9'"),
        (UndrainSatellite("A-01-01"), "not drained"),
        (ResetGpu("A-01-01", 9), "has no GPU 9"),
        (SetGpuPower("A-01-01", -1, False), "has no GPU -1"),
        (SetGpuPowerCap("A-01-01", 5000.0), "between"),
        (SetGpuPowerCap("A-01-01", None), "no GPU power cap to lift"),
        (SetUtilization(0.5), "scheduler sets their load"),
    ],
)
def test_invalid_commands_are_refused_with_the_reason_and_change_nothing(write_mission, command, reason):
    sim = simulation(write_mission)
    sim.run_until(120)
    sim.drain_events()
    before_views, before_snap = sim.job_views(), sim.snapshot()
    with pytest.raises(CommandError, match=reason):
        sim.apply(command)
    after_snap = sim.snapshot()
    assert sim.job_views() == before_views and sim.drain_events() == []
    for name in ("gpu_health", "gpu_job", "gpu_power_cap_w", "drained"):
        assert np.array_equal(getattr(before_snap, name), getattr(after_snap, name), equal_nan=True)


def test_failed_gpus_cannot_be_reset_and_job_commands_need_a_workload(write_mission):
    sim = simulation(write_mission)
    sim.health.fail(0, 1, "test")
    with pytest.raises(CommandError, match="FAILED"):
        sim.apply(ResetGpu(sim.satellite_ids[0], 1))
    plain = Simulation(load_mission(write_mission(SMALL_MISSION, "plain.toml")))
    with pytest.raises(CommandError, match="runs no jobs"):
        plain.apply(CancelJob("TRAIN"))
    assert not plain.snapshot().jobs_enabled and plain.workload_metrics() is None


def test_job_commands_work_and_are_logged(write_mission):
    sim = simulation(write_mission)
    sim.run_until(600)
    sim.drain_events()
    sim.apply(RequeueJob("TRAIN", hold=True))
    assert job_state(sim, "TRAIN") == "PENDING"
    sim.apply(SetJobPriority("TRAIN", 1e6))
    sim.apply(ReleaseJob("TRAIN"))
    sim.step()
    assert job_state(sim, "TRAIN") == "RUNNING"
    sim.apply(CancelJob("TRAIN"))
    assert job_state(sim, "TRAIN") == "CANCELLED"
    events = sim.drain_events()
    commands = [e.message for e in events if e.kind == EventKind.OPERATOR_COMMAND]
    assert len(commands) == 4 and all("TRAIN" in text for text in commands)
    assert [e.kind for e in events if e.job == "TRAIN"] == [
        EventKind.JOB_REQUEUED, EventKind.JOB_STARTED, EventKind.JOB_CANCELLED
    ]
    assert sim.workload.state_of("TRAIN") == JobState.CANCELLED


def test_a_gpu_switched_off_draws_no_power_and_boots_when_switched_on(write_mission):
    sim = simulation(write_mission)
    sim.run_until(120)
    sim.apply(SetGpuPower("A-01-01", 2, False))
    sim.step()
    snap = sim.snapshot()
    assert snap.gpu_health[0, 2] == GpuHealthState.OFF and snap.gpu_power_w[0, 2] == 0.0 and snap.gpu_job[0, 2] == -1
    sim.apply(SetGpuPower("A-01-01", 2, True))
    assert sim.health.state[0, 2] == GpuHealthState.RESETTING
    sim.run_until(sim.time_s + sim.health.params.boot_s + 20)
    assert sim.snapshot().gpu_health[0, 2] == GpuHealthState.OK


def test_the_running_jobs_arrays_patched_step_by_step_equal_a_rebuild_from_the_jobs(write_mission):
    """The scheduler and the progress pass read the running jobs and their GPUs as arrays that are patched
    as jobs start and leave (engine.workload._active_arrays); at every step they must be exactly what
    the jobs on GPUs say, in start order, with jobs requeued by faults and started again among them."""
    sim = simulation(write_mission, JOBS + FAULTY, seed=5)
    workload = sim.workload
    left = started = spanned = 0
    previous: set[int] = set()
    gone: set[int] = set()
    back = 0
    while sim.time_s < 3 * 3600:
        sim.step()
        index, flat, starts = workload.running_gpus()
        order = list(workload._active)
        assert index.tolist() == order
        expected = np.concatenate([workload._active[j] for j in order]) if order else np.zeros(0, dtype=np.int64)
        assert np.array_equal(flat, expected)
        sizes = [len(workload._active[j]) for j in order]
        assert starts.tolist() == list(np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(int)) if order else starts.size == 0
        # the gangs across satellites (the only jobs the network can slow), kept as jobs start and leave
        g = workload.gpus_per_sat
        spanning_expected = [j for j in order if len(set((workload._active[j] // g).tolist())) > 1]
        span_index, span_flat, span_starts = workload.spanning_gpus()
        assert sorted(span_index.tolist()) == sorted(spanning_expected)
        for k, j in enumerate(span_index.tolist()):
            end = span_starts[k + 1] if k + 1 < len(span_starts) else len(span_flat)
            assert np.array_equal(span_flat[span_starts[k]:end], workload._active[j])
        spanned += bool(spanning_expected)
        left += len(previous - set(order))
        started += len(set(order) - previous)
        back += len((set(order) - previous) & gone)
        gone |= previous - set(order)
        previous = set(order)
    assert left > 30 and started > 30  # jobs came and went all along
    assert back > 0  # and some started again after leaving (requeued after a fault)
    assert spanned > 30  # steps with a gang across satellites running
