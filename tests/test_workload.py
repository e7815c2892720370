"""The workload the simulation steps (engine/workload.py): progress and checkpoints, rollback on faults,
preemption with grace, suspension, retries, time limits, drains, operator commands, Poisson arrivals,
the goodput accounting identity, metrics and determinism."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine.jobs import GeneratorSpec, JobSpec, JobState, JobTransition, PartitionSpec
from engine.workload import LOSS_CAUSES, Workload, WorkloadStep, poisson_arrivals
from tests.test_scheduler import random_run

S = JobState


class Rig:
    """A small fleet on a clock: ``step`` uses all-good inputs unless told otherwise."""

    def __init__(self, jobs=(), generators=(), partitions=(), n_sats: int = 2, gpus: int = 4, plane=None,
                 dt_s: float = 10.0, seed: int = 0, **kw):
        self.present = np.ones((n_sats, gpus), dtype=bool)
        plane = np.zeros(n_sats, dtype=int) if plane is None else np.asarray(plane)
        self.w = Workload(list(jobs), list(generators), list(partitions), plane, self.present, np.random.default_rng(seed), **kw)
        self.n, self.g = n_sats, gpus
        self.t = 0.0
        self.dt = dt_s
        self.log: list[JobTransition] = []
        self.usable = self.present.copy()
        self.speed = np.ones((n_sats, gpus))
        self.headroom = np.ones(n_sats, dtype=bool)
        self.drained = np.zeros(n_sats, dtype=bool)
        self.power = None
        self.thermal = None

    def step(self, n: int = 1, killed=None) -> WorkloadStep:
        for _ in range(n):
            k = np.zeros((self.n, self.g), dtype=bool) if killed is None else killed
            out = self.w.step(self.t, self.dt, self.usable, self.speed, k, self.headroom, self.drained,
                              gpu_power_w=self.power, thermal_limited=self.thermal)
            killed = None
            self.log.extend(out.transitions)
            self.t += self.dt
        return out

    def until(self, time_s: float) -> None:
        while self.t < time_s - 1e-9:
            self.step()

    def kill(self, sat: int, gpu: int) -> WorkloadStep:
        k = np.zeros((self.n, self.g), dtype=bool)
        k[sat, gpu] = True
        return self.step(killed=k)

    def view(self, job_id: str):
        return self.w.job_view(job_id)

    def moves(self, job_id: str) -> list[tuple[float, str | None, str]]:
        return [(round(tr.time_s, 6), tr.from_state and tr.from_state.value, tr.to_state.value) for tr in self.log if tr.job_id == job_id]


def identity_gap(acct: dict[str, float]) -> float:
    return acct["useful"] + sum(acct[c] for c in LOSS_CAUSES) - acct["allocated"]


# ------------------------------------------------------------------------- progress, checkpoints


def test_rollback_to_the_checkpoint_exactly() -> None:
    job = JobSpec("T", gpus=4, duration_s=1000.0, checkpoint_write_s=10.0, checkpoint_interval_s=100.0)
    rig = Rig([job], n_sats=2, dt_s=7.0)  # steps not aligned with checkpoints
    rig.until(350.0)
    # run 100 s, write 10 s, three times: checkpoints at progress 100, 200, 300 s; then 20+ s more
    view = rig.view("T")
    assert view.state == "RUNNING" and view.checkpoint_progress == pytest.approx(0.3, abs=1e-12)
    assert view.progress == pytest.approx((300.0 + rig.t - 330.0) / 1000.0, abs=1e-12)
    assert [m for m in rig.moves("T") if m[2] == "CHECKPOINTING"] == [(100.0, "RUNNING", "CHECKPOINTING"),
                                                                     (210.0, "RUNNING", "CHECKPOINTING"),
                                                                     (320.0, "RUNNING", "CHECKPOINTING")]
    unsaved = (view.progress - view.checkpoint_progress) * 1000.0
    sat = view.satellites[0]
    fault_time = rig.t
    rig.kill(sat, 2)
    after = rig.view("T")
    assert after.checkpoint_progress == view.checkpoint_progress
    assert after.progress == after.checkpoint_progress, "a fault rolls back to the checkpoint exactly"
    assert rig.moves("T")[-4:-1] == [(fault_time, "RUNNING", "NODE_FAIL"), (fault_time, "NODE_FAIL", "REQUEUED"),
                                     (fault_time, "REQUEUED", "PENDING")]
    assert rig.moves("T")[-1] == (fault_time, "PENDING", "RUNNING")  # rescheduled in the same step
    assert (after.restarts, after.retries) == (1, 0)
    acct = rig.w.accounting("T")
    assert acct["rollback"] == pytest.approx(unsaved * 4, rel=1e-12)
    assert "GPU 2 on satellite" in next(tr.reason for tr in rig.log if tr.to_state == S.NODE_FAIL)
    # the restart restores the checkpoint (δ = 10 s: 7 s in the fault's step, 3 s in the next) before progressing
    assert rig.w.accounting("T")["restart"] == pytest.approx(7.0 * 4)
    rig.step()
    assert rig.view("T").progress == pytest.approx(after.progress + (2 * 7.0 - 10.0) / 1000.0, abs=1e-12)
    assert rig.w.accounting("T")["restart"] == pytest.approx(10.0 * 4)
    rig.until(2000.0)
    assert rig.view("T").state == "COMPLETED" and rig.view("T").progress == 1.0
    assert abs(identity_gap(rig.w.accounting("T"))) < 1e-9 * rig.w.accounting("T")["allocated"]


def test_fault_during_a_checkpoint_write_keeps_the_previous_checkpoint() -> None:
    job = JobSpec("T", gpus=4, duration_s=1000.0, checkpoint_write_s=30.0, checkpoint_interval_s=100.0)
    rig = Rig([job], n_sats=1)
    rig.until(240.0)  # second checkpoint being written (230..260) with progress 200 pending
    assert rig.view("T").state == "CHECKPOINTING" and rig.view("T").checkpoint_progress == pytest.approx(0.1)
    rig.kill(0, 0)
    view = rig.view("T")
    assert view.progress == view.checkpoint_progress == pytest.approx(0.1)


def test_unusable_gpu_ends_the_job_and_it_moves() -> None:
    rig = Rig([JobSpec("T", gpus=4, duration_s=500.0)], n_sats=2)
    rig.step(3)
    sat = rig.view("T").satellites[0]
    rig.usable[sat, 1] = False
    out = rig.step()
    assert rig.view("T").satellites == (1 - sat,)
    assert not ((out.gpu_job >= 0) & ~rig.usable).any()
    assert "unusable" in next(tr.reason for tr in rig.log if tr.to_state == S.NODE_FAIL)
    assert rig.view("T").progress == pytest.approx(10.0 / 500.0)  # rolled back to 0, then one step


def test_throttling_slows_the_gang_and_is_booked() -> None:
    rig = Rig([JobSpec("T", gpus=2, duration_s=1000.0)], n_sats=1, gpus=2)
    rig.speed[0, 1] = 0.5  # one slow GPU holds back the whole gang
    rig.power = np.full((1, 2), 400.0)
    rig.step(10)
    assert rig.view("T").progress == pytest.approx(50.0 / 1000.0)
    acct = rig.w.accounting("T")
    assert acct["allocated"] == pytest.approx(200.0)
    assert acct["throttling"] == pytest.approx(100.0) and acct["useful"] == pytest.approx(100.0)
    assert rig.view("T").energy_j == pytest.approx(2 * 400.0 * 100.0)
    rig.speed[:] = 0.0  # paused by load shedding: holds its GPUs, makes no progress
    rig.step(5)
    assert rig.view("T").state == "RUNNING" and rig.view("T").progress == pytest.approx(0.05)


def test_gpu_busy_includes_checkpointing() -> None:
    rig = Rig([JobSpec("T", gpus=3, duration_s=1000.0, checkpoint_write_s=50.0, checkpoint_interval_s=20.0)], n_sats=1)
    out = rig.step(3)
    assert rig.view("T").state == "CHECKPOINTING"
    assert out.gpu_busy.sum() == 3 and (out.gpu_job[out.gpu_busy] == rig.w.index_of("T")).all()
    assert not out.gpu_job.flags.writeable


def test_timeout_at_the_time_limit() -> None:
    part = PartitionSpec("short", max_wall_s=30.0)
    rig = Rig([JobSpec("A", gpus=1, duration_s=100.0, walltime_s=50.0), JobSpec("B", partition="short", gpus=1, duration_s=100.0)],
              partitions=[PartitionSpec("default"), part], n_sats=1, dt_s=7.0)
    rig.until(70.0)
    assert rig.moves("A")[-1] == (50.0, "RUNNING", "TIMEOUT")
    assert rig.moves("B")[-1] == (30.0, "RUNNING", "TIMEOUT")
    acct = rig.w.accounting("A")
    assert acct["abandoned"] == pytest.approx(50.0) and acct["useful"] == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------------------- preemption

PREEMPT_PARTITIONS = [PartitionSpec("lo", tier=1, preempt_mode="requeue", grace_s=60.0), PartitionSpec("hi", tier=10)]


def test_preemption_checkpoints_within_grace_then_requeues_without_using_retries() -> None:
    lo = JobSpec("LO", partition="lo", gpus=8, duration_s=10_000.0, checkpoint_write_s=20.0, checkpoint_interval_s=1000.0, max_retries=0)
    hi = JobSpec("HI", partition="hi", gpus=4, duration_s=100.0, submit_s=500.0)
    rig = Rig([lo, hi], partitions=PREEMPT_PARTITIONS, n_sats=2)
    rig.until(530.0)
    assert rig.moves("LO") == [(0.0, None, "PENDING"), (0.0, "PENDING", "RUNNING"), (500.0, "RUNNING", "CHECKPOINTING"),
                               (520.0, "CHECKPOINTING", "PREEMPTED"), (520.0, "PREEMPTED", "REQUEUED"),
                               (520.0, "REQUEUED", "PENDING")]
    assert "preempted by HI" in next(tr.reason for tr in rig.log if tr.job_id == "LO" and tr.to_state == S.CHECKPOINTING)
    assert rig.moves("HI")[-1] == (520.0, "PENDING", "RUNNING")  # within the 60 s grace
    view = rig.view("LO")
    assert view.progress == view.checkpoint_progress == pytest.approx(0.05)  # nothing lost
    assert (view.restarts, view.retries) == (1, 0)
    assert rig.w.accounting("LO")["rollback"] == 0.0
    assert view.reason in ("Resources", "Priority")
    rig.until(11_000.0)
    assert rig.view("LO").state == "COMPLETED", "preemption must not use the retry budget (max_retries = 0)"
    assert rig.w.counters["preemptions"] == 1


def test_preemption_grace_expires_and_the_unsaved_work_is_lost() -> None:
    lo = JobSpec("LO", partition="lo", gpus=8, duration_s=10_000.0, checkpoint_write_s=120.0, checkpoint_interval_s=300.0)
    hi = JobSpec("HI", partition="hi", gpus=4, duration_s=100.0, submit_s=500.0)
    rig = Rig([lo, hi], partitions=PREEMPT_PARTITIONS, n_sats=2)
    rig.until(570.0)
    # checkpoint of progress 300 written 300..420; at 500 a 120 s write cannot finish by 560
    assert (560.0, "CHECKPOINTING", "PREEMPTED") in rig.moves("LO")
    assert "grace expired" in next(tr.reason for tr in rig.log if tr.to_state == S.PREEMPTED)
    view = rig.view("LO")
    assert view.progress == view.checkpoint_progress == pytest.approx(0.03)
    assert rig.w.accounting("LO")["rollback"] == pytest.approx(80.0 * 8)
    assert view.retries == 0 and rig.moves("HI")[-1] == (560.0, "PENDING", "RUNNING")


def test_suspended_job_resumes_on_its_gpus_with_its_progress() -> None:
    parts = [PartitionSpec("batch", tier=1, preempt_mode="suspend"), PartitionSpec("hi", tier=10)]
    rig = Rig([JobSpec("B", partition="batch", gpus=8, duration_s=1000.0),
               JobSpec("HI", partition="hi", gpus=4, duration_s=100.0, submit_s=300.0)], partitions=parts, n_sats=2)
    rig.until(320.0)
    assert rig.view("B").state == "SUSPENDED" and rig.view("B").satellites == (0, 1)
    assert rig.view("B").progress == pytest.approx(0.3)
    assert rig.moves("HI")[-1] == (310.0, "PENDING", "RUNNING")
    assert [v.id for v in rig.w.satellite_jobs(0)] == ["B", "HI"]  # B suspended there, HI running there
    rig.until(1200.0)
    assert (410.0, "SUSPENDED", "RUNNING") in rig.moves("B")
    assert rig.moves("B")[-1] == (1110.0, "RUNNING", "COMPLETED")
    assert rig.w.accounting("B")["rollback"] == 0.0 and rig.view("B").restarts == 0


def test_cancel_mode_preemption() -> None:
    parts = [PartitionSpec("scav", tier=1, preempt_mode="cancel"), PartitionSpec("hi", tier=10)]
    rig = Rig([JobSpec("S", partition="scav", gpus=4, duration_s=1000.0),
               JobSpec("HI", partition="hi", gpus=4, duration_s=10.0, submit_s=50.0)], partitions=parts, n_sats=1)
    rig.until(70.0)
    assert rig.moves("S")[-2:] == [(50.0, "RUNNING", "PREEMPTED"), (50.0, "PREEMPTED", "CANCELLED")]
    assert rig.w.accounting("S")["abandoned"] == pytest.approx(50.0 * 4)


# --------------------------------------------------------------------------------- retries and caps


def test_node_failures_do_not_use_retries_but_application_failures_do() -> None:
    rig = Rig([JobSpec("R", gpus=4, duration_s=10_000.0, max_retries=1)], n_sats=1)
    rig.step()
    for _ in range(3):
        rig.kill(0, 3)
    assert rig.view("R").state == "RUNNING" and (rig.view("R").restarts, rig.view("R").retries) == (3, 0)
    assert rig.w.fail("R") == "job R failed: application error"
    assert rig.view("R").state == "PENDING" and rig.view("R").retries == 1
    assert "retry 1/1" in rig.w.history[-1].reason
    rig.step()
    assert rig.view("R").state == "RUNNING"
    rig.w.fail("R", reason="NaN loss")
    assert rig.view("R").state == "FAILED"
    assert rig.w.history[-1].to_state == S.FAILED and "retries exhausted" in rig.w.history[-1].reason
    assert rig.w.counters["app_failures"] == 2 and rig.w.counters["node_failures"] == 3


def test_restart_cap_and_no_requeue_on_node_fail() -> None:
    rig = Rig([JobSpec("C", gpus=4, duration_s=10_000.0, max_restarts=2),
               JobSpec("N", gpus=4, duration_s=10_000.0, requeue_on_node_fail=False)], n_sats=2)
    rig.step()
    sat_c, sat_n = rig.view("C").satellites[0], rig.view("N").satellites[0]
    rig.kill(sat_n, 0)
    assert rig.view("N").state == "FAILED"
    for _ in range(3):
        rig.kill(rig.view("C").satellites[0] if rig.view("C").satellites else sat_c, 0)
    assert rig.view("C").state == "FAILED" and "restart limit 2" in rig.w.history[-1].reason


def test_stochastic_application_failures_are_seeded() -> None:
    def run(seed: int) -> list:
        rig = Rig([JobSpec(f"A{i}", gpus=1, duration_s=5000.0, app_failure_rate_per_h=20.0, max_retries=100) for i in range(4)],
                  n_sats=1, seed=seed)
        rig.step(100)
        return [(tr.time_s, tr.job_id, tr.to_state) for tr in rig.w.history]

    assert run(5) == run(5)
    assert run(5) != run(6)
    assert any(s == S.REQUEUED for _, _, s in run(5))


# -------------------------------------------------------------------------------- operator commands


def snapshot(w: Workload):
    return (w.history, w.job_views(), w.drained.tolist(), w.gpu_job.tolist())


def test_invalid_commands_are_refused_and_change_nothing() -> None:
    rig = Rig([JobSpec("A", gpus=4, duration_s=1000.0), JobSpec("D", gpus=4, duration_s=10.0),
               JobSpec("P", gpus=8, duration_s=100.0, submit_s=5.0)], n_sats=2)
    rig.step(2)
    assert [rig.view(j).state for j in "ADP"] == ["RUNNING", "COMPLETED", "PENDING"]
    before = snapshot(rig.w)
    refused = [
        lambda: rig.w.cancel("nope"), lambda: rig.w.hold("A"), lambda: rig.w.release("P"),
        lambda: rig.w.requeue("P"), lambda: rig.w.requeue("D"), lambda: rig.w.set_priority("D", 5),
        lambda: rig.w.set_priority("P", -1), lambda: rig.w.set_priority("P", math.nan), lambda: rig.w.cancel("D"),
        lambda: rig.w.drain(2), lambda: rig.w.drain(-1), lambda: rig.w.undrain(0), lambda: rig.w.fail("P"),
        lambda: rig.w.hold("nope"),
    ]
    for command in refused:
        with pytest.raises(ValueError) as why:
            command()
        assert str(why.value)
        assert snapshot(rig.w) == before


def test_hold_release_cancel_requeue() -> None:
    rig = Rig([JobSpec("A", gpus=4, duration_s=1000.0, checkpoint_write_s=5.0, checkpoint_interval_s=50.0),
               JobSpec("P", gpus=4, duration_s=100.0, submit_s=15.0)], n_sats=1)
    rig.step()
    with pytest.raises(ValueError, match="no job 'P'"):
        rig.w.hold("P")  # submitted at 15 s: not there yet (the first step ends at 10 s)
    rig.step()
    assert rig.w.hold("P") == "job P held" and rig.view("P").reason == "Held"
    with pytest.raises(ValueError):
        rig.w.hold("P")
    rig.w.release("P")
    assert rig.view("P").reason != "Held"
    rig.step(8)  # A: checkpoint of 50 s written at 55
    assert rig.view("A").checkpoint_progress == pytest.approx(0.05)
    message = rig.w.requeue("A", hold=True)
    assert "requeued" in message and rig.view("A").state == "PENDING" and rig.view("A").reason == "Held"
    assert rig.view("A").progress == pytest.approx(0.05) and rig.view("A").retries == 0
    rig.step()
    assert rig.view("P").state == "RUNNING"  # A is held, P takes the GPUs
    rig.w.cancel("P")
    assert rig.view("P").state == "CANCELLED" and not (rig.w.gpu_job >= 0).any()
    rig.w.release("A")
    rig.step()
    assert rig.view("A").state == "RUNNING"


def test_set_priority_reorders_the_queue() -> None:
    rig = Rig([JobSpec("Z", gpus=4, duration_s=100.0), JobSpec("X", gpus=4, duration_s=100.0, submit_s=1.0),
               JobSpec("Y", gpus=4, duration_s=100.0, submit_s=2.0)], n_sats=1)
    rig.step(2)
    assert rig.view("X").priority >= rig.view("Y").priority
    rig.w.set_priority("Y", 1e6)
    assert rig.view("Y").priority == 1e6
    rig.until(120.0)
    assert rig.view("Y").state == "RUNNING" and rig.view("X").state == "PENDING"


def test_drain_checkpoints_and_migrates() -> None:
    rig = Rig([JobSpec("T", gpus=2, duration_s=1000.0, checkpoint_write_s=20.0, checkpoint_interval_s=500.0),
               JobSpec("I", kind="inference", gpus=2, duration_s=200.0)], n_sats=2, gpus=4)
    rig.step(10)
    assert rig.view("T").satellites == rig.view("I").satellites == (0,)  # best fit packs them together
    assert rig.w.drain(0) == "satellite 0 drained; 1 job(s) checkpointing to migrate"
    assert rig.w.drained[0] and rig.view("T").state == "CHECKPOINTING"
    rig.step(3)
    assert rig.moves("T")[-4:] == [(100.0, "RUNNING", "CHECKPOINTING"), (120.0, "CHECKPOINTING", "REQUEUED"),
                                   (120.0, "REQUEUED", "PENDING"), (120.0, "PENDING", "RUNNING")]
    view = rig.view("T")
    assert view.satellites == (1,) and view.checkpoint_progress == pytest.approx(0.1)
    assert (view.restarts, view.retries) == (1, 0) and rig.w.accounting("T")["rollback"] == 0.0
    # a job that cannot checkpoint finishes where it is (Slurm drain semantics)
    assert rig.view("I").satellites == (0,) and rig.view("I").state == "RUNNING"
    rig.until(300.0)
    assert rig.view("I").state == "COMPLETED" and rig.view("I").restarts == 0
    with pytest.raises(ValueError, match="already drained"):
        rig.w.drain(0)
    assert rig.w.undrain(0) == "satellite 0 undrained" and not rig.w.drained[0]


def test_drained_input_blocks_new_work() -> None:
    rig = Rig([JobSpec(f"J{i}", gpus=2, duration_s=100.0) for i in range(4)], n_sats=2, gpus=4)
    rig.drained[0] = True
    out = rig.step()
    assert not (out.gpu_job[0] >= 0).any() and (out.gpu_job[1] >= 0).all()
    assert sum(rig.view(f"J{i}").state == "RUNNING" for i in range(4)) == 2


def test_pending_reasons() -> None:
    rig = Rig([JobSpec("A", gpus=4, duration_s=100.0), JobSpec("H", gpus=1, duration_s=1.0, hold=True)], n_sats=1)
    rig.headroom[:] = False
    rig.step()
    assert rig.view("A").reason == "PowerBudget" and rig.view("H").reason == "Held"
    rig.thermal = np.ones(1, dtype=bool)  # short of headroom for thermal reasons
    rig.step()
    assert rig.view("A").reason == "ThermalBudget"
    rig.headroom[:] = True
    rig.step()
    assert rig.view("A").state == "RUNNING"


# ---------------------------------------------------------------------------------------- generators


def test_poisson_arrival_counts_match_the_rate() -> None:
    rng = np.random.default_rng(11)
    counts = [poisson_arrivals(rng, 0.05, 0.0, 20_000.0).size for _ in range(40)]  # mean 1000 each
    assert abs(np.mean(counts) - 1000.0) < 4 * math.sqrt(1000.0 / 40)
    assert np.var(counts) == pytest.approx(1000.0, rel=0.6)  # Poisson: variance = mean
    gen = GeneratorSpec("g", rate_per_hour=360.0, duration_s=5.0, duration_dist="fixed", gpus=1)
    rig = Rig(generators=[gen], n_sats=8, gpus=8, dt_s=60.0, seed=3)
    rig.until(20 * 3600.0)
    submitted = [tr.time_s for tr in rig.w.history if tr.from_state is None]
    expected = 360.0 * 20
    assert abs(len(submitted) - expected) < 4 * math.sqrt(expected)
    gaps = np.diff(submitted)
    assert gaps.mean() == pytest.approx(10.0, rel=0.05)
    assert np.mean(gaps < 10.0 * math.log(2)) == pytest.approx(0.5, abs=4 * math.sqrt(0.25 / gaps.size))
    assert rig.w.job_ids()[:3] == ["J-0001", "J-0002", "J-0003"]


def test_arrivals_do_not_depend_on_the_step_size() -> None:
    gens = [GeneratorSpec("a", rate_per_hour=200.0, duration_s=30.0, gpus=(1, 2)),
            GeneratorSpec("b", rate_per_hour=50.0, duration_s=300.0, gpus=(4,), stop_s=3000.0)]
    runs = []
    for dt in (7.0, 60.0):
        rig = Rig(generators=gens, n_sats=4, gpus=4, dt_s=dt, seed=9)
        rig.until(3600.0)
        runs.append([(tr.job_id, tr.time_s) for tr in rig.w.history if tr.from_state is None and tr.time_s <= 3500.0])
        assert all(t <= 3000.0 for (j, t) in runs[-1] if rig.w.job_view(j).gpus == 4)
    assert runs[0] == runs[1]


def test_listed_and_generated_ids_and_validation() -> None:
    gen = GeneratorSpec("g", rate_per_hour=3600.0, duration_s=1.0, max_jobs=3)
    rig = Rig([JobSpec("J-0002", duration_s=1.0)], generators=[gen], n_sats=1)
    rig.step(10)
    assert rig.w.job_ids() == ["J-0002", "J-0001", "J-0003", "J-0004"]
    with pytest.raises(ValueError, match="unknown partition"):
        Rig([JobSpec("A", partition="gpu", duration_s=1.0)])
    with pytest.raises(ValueError, match="largest orbital plane"):
        Rig([JobSpec("A", gpus=9, duration_s=1.0)], n_sats=2, gpus=4, plane=[0, 1])
    with pytest.raises(ValueError, match="twice"):
        Rig([JobSpec("A", duration_s=1.0), JobSpec("A", duration_s=2.0)])


def test_scheduler_runs_only_when_something_changed() -> None:
    rig = Rig([JobSpec("L", gpus=4, duration_s=10_000.0)], n_sats=2)
    assert rig.step().scheduled
    assert [rig.step().scheduled for _ in range(5)] == [False] * 5
    rig.usable[1, 0] = False
    assert rig.step().scheduled
    assert not rig.step().scheduled
    rig.headroom[1] = False
    assert rig.step().scheduled
    rig.speed[:] = 0.7  # throttling alone changes no placement
    assert not rig.step().scheduled


# ------------------------------------------------------------------------------------ metrics, identity


def test_metrics_on_a_known_queue() -> None:
    jobs = [JobSpec(f"I{i}", kind="inference", gpus=1, duration_s=30.0, latency_target_s=45.0) for i in range(3)]
    rig = Rig(jobs, n_sats=1, gpus=1)
    rig.power = np.full((1, 1), 500.0)
    rig.until(100.0)
    assert [rig.moves(f"I{i}")[-1] for i in range(3)] == [(30.0, "RUNNING", "COMPLETED"), (60.0, "RUNNING", "COMPLETED"),
                                                          (90.0, "RUNNING", "COMPLETED")]
    m = rig.w.metrics()
    json.dumps(m, allow_nan=False)
    assert m["inference_slo_attainment"] == pytest.approx(1 / 3)
    assert m["queue_wait_p50_s"] == pytest.approx(30.0) and m["queue_wait_p95_s"] == pytest.approx(57.0)
    assert m["energy_per_completed_job_kwh"] == pytest.approx(500.0 * 30.0 / 3.6e6)
    assert m["utilization"] == pytest.approx(0.9) and m["goodput"] == pytest.approx(1.0)
    assert m["jobs"]["completed"] == 3 and m["jobs"]["submitted"] == 3
    assert m["queue_wait_by_partition"]["default"]["started"] == 3
    views = rig.w.job_views()
    assert [v.wait_s for v in views] == [0.0, 30.0, 60.0] and views[0].end_s == 30.0


def test_goodput_identity_over_a_random_run() -> None:
    worst = [0.0]

    def check(w, step, t, usable, headroom):
        if int(t) % 500 == 0:
            total = w.accounting()
            worst[0] = max(worst[0], abs(identity_gap(total)) / max(total["allocated"], 1.0))
            for job_id in w.job_ids():
                acct = w.accounting(job_id)
                assert abs(identity_gap(acct)) <= 1e-9 * max(acct["allocated"], 1.0)
                for cause in LOSS_CAUSES:
                    assert acct[cause] >= -1e-9

    w = random_run(4, check=check)
    m = w.metrics()
    lost = sum(m["gpu_hours_lost"].values())
    assert m["gpu_hours_useful"] + lost == pytest.approx(m["gpu_hours_allocated"], rel=1e-12)
    assert worst[0] < 1e-12
    assert all(m["gpu_hours_lost"][c] > 0 for c in ("rollback", "checkpoint", "restart", "throttling"))
    assert 0 < m["goodput"] < 1 and 0 < m["utilization"] <= 1
    json.dumps(m, allow_nan=False)


def test_same_seed_same_history() -> None:
    a, b = random_run(7, steps=700), random_run(7, steps=700)
    assert a.history == b.history and len(a.history) > 200
    assert a.metrics() == b.metrics()
    assert (a.gpu_job == b.gpu_job).all()
    assert random_run(8, steps=700).history != a.history
