"""Re-run a recorded run from its mission, seed and command journal (``engine.journal``): the same
commands, console actions, takeovers and step lengths, before the same steps, give the same run."""

from __future__ import annotations

from collections.abc import Iterable

from engine.journal import JournalEntry
from engine.mission.spec import MissionSpec
from engine.simulation import Simulation

__all__ = ["replay"]


def replay(spec: MissionSpec, journal: Iterable[JournalEntry], *, seed: int | None = None,
           autopilot: bool = True, until_step: int | None = None) -> Simulation:
    """A new Simulation of `spec` (with `seed` and `autopilot` as the recorded run had them) stepped through
    `journal` up to step `until_step` (default: the last journalled step). Each entry acts before the
    step it names; a refusal now that was accepted then raises (the journal does not match the run)."""
    sim = Simulation(spec, seed=seed, autopilot=autopilot)
    entries = list(journal)
    last = max((e.step_index + (1 if e.kind == "step" else 0) for e in entries), default=0)
    target = last if until_step is None else int(until_step)
    position = 0
    while True:
        while position < len(entries) and entries[position].step_index == sim.step_index \
                and entries[position].kind != "step":
            _act(sim, entries[position])
            position += 1
        if sim.step_index >= target:
            break
        if position < len(entries) and entries[position].kind == "step" and entries[position].step_index == sim.step_index:
            sim.step(entries[position].dt_s)
            position += 1
        else:
            sim.step()
    return sim


def _act(sim: Simulation, entry: JournalEntry) -> None:
    if entry.kind == "command":
        sim.apply(entry.command)
    elif entry.kind == "take_over":
        sim.take_over()
    elif entry.kind == "action":
        sim.note_action(entry.action, entry.satellite)
