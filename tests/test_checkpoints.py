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
