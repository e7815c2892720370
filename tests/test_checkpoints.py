"""Engine-state checkpoints and rewinding: a copy of a Simulation steps on exactly as the original (and
independently of it); rewinding to any earlier step from the nearest checkpoint plus the journal gives
the very state the run had there, and a branch from there can take another course."""

from __future__ import annotations

import numpy as np
import pytest

from engine import load_mission
from engine.checkpoints import Checkpoints, clone_simulation
from engine.commands import DrainSatellite, SetGpuPowerCap
from engine.simulation import Simulation
from tests.test_faults import FLEET


def _arrays(sim):
    snap = sim.snapshot()
    return {name: value for name, value in vars(snap).items() if isinstance(value, np.ndarray)}


def _same(a, b) -> bool:
    x, y = _arrays(a), _arrays(b)
    return x.keys() == y.keys() and all(np.array_equal(x[k], y[k], equal_nan=True) for k in x)


@pytest.fixture
def spec(write_mission):
    return load_mission(write_mission(FLEET, "rewind.toml"))


def test_a_clone_steps_on_exactly_and_independently(spec):
    sim = Simulation(spec)
    sim.run_until(1800)
    copy = clone_simulation(sim)
    copy.apply(DrainSatellite("A-01-01"))
    assert not bool(sim.workload.drained[0]), "the original is untouched"
    twin = clone_simulation(sim)
    sim.run_until(5400)
    twin.run_until(5400)
    assert _same(sim, twin)
    assert sim.drain_events() and twin.drain_events()


def test_a_clone_shares_only_what_never_changes(spec):
    """The mission as loaded and the frozen job specs and transitions are shared (a 10,000-satellite
    checkpoint spent most of its time copying them); the live job records are copied."""
    sim = Simulation(spec)
    sim.run_until(1800)
    copy = clone_simulation(sim)
    assert copy.spec is sim.spec and copy.spec.satellites[0] is sim.spec.satellites[0]
    job, twin = sim.workload._jobs[0], copy.workload._jobs[0]
    assert twin is not job and twin.spec is job.spec
    assert copy.workload._log[0] is sim.workload._log[0]
    running = next(j for j in sim.workload._jobs if j.gpus_flat is not None)
    copied = copy.workload._jobs[running.index]
    assert copied.gpus_flat is not running.gpus_flat and np.array_equal(copied.gpus_flat, running.gpus_flat)
    assert copy.workload._by_id[running.id] is copied  # one copy per job, wherever it is referenced
    before = (job.state, job.restarts, job.gpus_flat is None)
    copy.run_until(7200)
    assert (job.state, job.restarts, job.gpus_flat is None) == before  # stepping the copy left the original alone


def _record(job) -> tuple:
    """Every slot of a job record, arrays as tuples (to see whether anything in it changed)."""
    values = []
    for name in type(job).__slots__:
        value = getattr(job, name)
        values.append(tuple(value.tolist()) if isinstance(value, np.ndarray) else value)
    return tuple(values)


def test_finished_jobs_are_shared_by_clones_and_their_records_never_change(write_mission):
    """A clone shares the finished jobs' records (most of a long run's job table) and copies the others;
    that is safe only because nothing writes a job record once it is finished: through a run with
    GPU faults, inference and training generators and a drain, every finished record stays as it was
    when the job ended, and a clone taken then still reads it after the original has run on."""
    from tests.test_compute_in_simulation import FAULTY, JOBS, simulation

    sim = simulation(write_mission, JOBS + FAULTY, seed=3)
    ended: dict[int, tuple] = {}
    clone = None
    while sim.time_s < 4 * 3600:
        if sim.step_index == 200:
            sim.apply(DrainSatellite(sim.satellite_ids[0]))
        sim.step()
        for job in sim.workload._jobs:
            if job.terminal and job.index not in ended:
                ended[job.index] = _record(job)
        if clone is None and len(ended) >= 3:
            clone = clone_simulation(sim)
            shared = [j for j in sim.workload._jobs if j.terminal]
            live = [j for j in sim.workload._jobs if not j.terminal]
            assert all(clone.workload._jobs[j.index] is j for j in shared)
            assert live and all(clone.workload._jobs[j.index] is not j for j in live)
            at_clone = {j.index: _record(j) for j in shared}
    assert clone is not None and len(ended) > 10, "jobs finished along the run"
    for job in sim.workload._jobs:
        if job.index in ended:
            assert _record(job) == ended[job.index], f"job {job.id} changed after it finished"
    for index, record in at_clone.items():
        assert _record(clone.workload._jobs[index]) == record
    while clone.time_s < sim.time_s:  # the clone, with the shared records, runs on to the same state
        if clone.step_index == 200:
            clone.apply(DrainSatellite(clone.satellite_ids[0]))
        clone.step()
    assert _same(sim, clone)


def test_rewinding_gives_the_state_the_run_had_and_a_branch_can_differ(spec):
    sim = Simulation(spec)
    checkpoints = Checkpoints(sim, every_s=1200.0)
    states = {}
    while sim.step_index < 540:
        if sim.step_index == 100:
            sim.apply(SetGpuPowerCap("A-01-01", 450.0))
        if sim.step_index == 260:
            sim.apply(DrainSatellite("A-02-02"))
        sim.step()
        checkpoints.after_step(sim)
        if sim.step_index in (99, 101, 250, 261, 400):
            states[sim.step_index] = clone_simulation(sim)
    assert len(checkpoints.steps) == 1 + 540 * 20 // 1200
    for step, expected in states.items():
        rewound = checkpoints.rewind(sim, step)
        assert rewound.step_index == step and _same(rewound, expected), step
        assert rewound.journal == [e for e in sim.journal if e.step_index < step]
    branch = checkpoints.rewind(sim, 250)
    checkpoints.forget_after(250)
    branch.run_until(sim.time_s)
    assert bool(sim.workload.drained[sim.satellite_ids.index("A-02-02")])
    assert not bool(branch.workload.drained[branch.satellite_ids.index("A-02-02")]), "the branch never drained it"
    with pytest.raises(ValueError, match="only to a step of this run"):
        checkpoints.rewind(sim, sim.step_index + 1)
