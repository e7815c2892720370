"""Headless runs: step a mission to its end (or a given time) as fast as possible."""

from __future__ import annotations

from collections.abc import Callable

from engine.mission.spec import MissionSpec
from engine.simulation import Simulation

ProgressCallback = Callable[[Simulation], None]


def run_headless(
    spec: MissionSpec,
    until_s: float | None = None,
    step_s: float | None = None,
    seed: int | None = None,
    on_progress: ProgressCallback | None = None,
    progress_every_steps: int = 200,
    autopilot: bool = True,
    archive=None,
) -> Simulation:
    """Run `spec` from its epoch to `until_s` (default: the mission duration) and return the simulation.

    Events are drained as the run goes (their counts stay in ``sim.event_counts``), so memory stays flat
    however long the run is. A timeline ``end`` action stops it early (``sim.end_reason`` says why).
    ``autopilot`` False leaves the mission's ``[[autopilot]]`` out (a training mission then scores a
    no-op operator). ``archive`` (an ``engine.archive.ArchiveSettings`` and a path, as ``(path, settings)``)
    records the run as it goes (closed at the end).
    """
    sim = Simulation(spec, seed=seed, step_s=step_s, autopilot=autopilot)
    writer = None
    if archive is not None:
        from engine.archive import ArchiveWriter
        from engine.mission import mission_document

        path, settings = archive
        if spec.source is None:
            raise ValueError("recording needs a mission loaded from a file (its document goes into the archive)")
        writer = ArchiveWriter(path, sim, mission_document(spec.source), settings)
    end_s = spec.duration_s if until_s is None else float(until_s)
    if end_s <= 0:
        raise ValueError("the run must last longer than zero seconds")
    while sim.time_s + sim.step_s <= end_s + 1e-9 and sim.end_reason is None:
        sim.step()
        events = sim.drain_events()
        if writer is not None:
            writer.record_step(sim, events)
        if on_progress is not None and sim.step_index % progress_every_steps == 0:
            on_progress(sim)
    if end_s - sim.time_s > 1e-9 and sim.end_reason is None:
        sim.step(end_s - sim.time_s)
        events = sim.drain_events()
        if writer is not None:
            writer.record_step(sim, events)
    sim.finish_objectives()
    events = sim.drain_events()
    if writer is not None:
        if events:
            writer.record_step(sim, events)
        writer.close(sim)
    if on_progress is not None:
        on_progress(sim)
    return sim
