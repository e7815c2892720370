"""Engine-state checkpoints and rewinding a run.

:func:`clone_simulation` copies a Simulation's whole state (a deep copy that shares only what never
changes: the SGP4 element sets and frozen parameter tables), so the copy steps on exactly as the original
would. :class:`Checkpoints` keeps such copies every ``every_s`` of mission time; :meth:`Checkpoints.rewind`
makes a Simulation at any earlier step of the run: a copy of the nearest checkpoint at or before it,
stepped forward with the run's journal (``engine.journal``) to that step. Nothing is re-simulated from the
epoch unless no checkpoint is earlier.
"""

from __future__ import annotations

import copy
from bisect import bisect_right

from engine.replay import Replayer
from engine.simulation import Simulation

__all__ = ["Checkpoints", "clone_simulation"]


def clone_simulation(sim: Simulation) -> Simulation:
    """An independent copy of `sim` at its current step: stepping either changes nothing in the other."""
    memo: dict[int, object] = {id(satrec): satrec for satrec in sim._satrecs}
    memo[id(sim._orbits)] = sim._orbits  # SGP4 elements: read-only, and not copyable
    # The mission as loaded is never changed by a run (frozen dataclasses all the way down to its tables):
    # shared, not copied (at 10,000 satellites its copy was a third of a checkpoint's cost).
    memo[id(sim.spec)] = sim.spec
    memo[id(sim.spec.satellites)] = sim.spec.satellites
    for satellite in sim.spec.satellites:
        memo[id(satellite)] = satellite
    return copy.deepcopy(sim, memo)


class Checkpoints:
    """Copies of one run's state every ``every_s`` of mission time (at most ``keep``: the oldest beyond
    that are thinned out, keeping the first). Call :meth:`after_step` after every step."""

    def __init__(self, sim: Simulation, every_s: float = 600.0, keep: int = 200) -> None:
        if not every_s > 0:
            raise ValueError(f"checkpoints need a positive period, got {every_s!r}")
        if keep < 2:
            raise ValueError("keep at least two checkpoints")
        self.every_s = float(every_s)
        self.keep = int(keep)
        self._steps: list[int] = [sim.step_index]
        self._copies: list[Simulation] = [clone_simulation(sim)]
        self._next_s = sim.time_s + self.every_s

    @property
    def steps(self) -> tuple[int, ...]:
        return tuple(self._steps)

    def after_step(self, sim: Simulation) -> None:
        if sim.time_s + 1e-9 < self._next_s:
            return
        self._next_s = sim.time_s + self.every_s
        self._steps.append(sim.step_index)
        self._copies.append(clone_simulation(sim))
        if len(self._copies) > self.keep:  # drop every other one after the first: the span stays covered
            self._steps = [self._steps[0], *self._steps[2::2]] if len(self._steps) > 2 else self._steps
            self._copies = [self._copies[0], *self._copies[2::2]] if len(self._copies) > 2 else self._copies

    def forget_after(self, step_index: int) -> None:
        """Drop checkpoints later than `step_index` (after a rewind they belong to the old timeline)."""
        keep = bisect_right(self._steps, step_index)
        self._steps, self._copies = self._steps[:keep], self._copies[:keep]
        self._next_s = -1.0  # the next step end takes one

    def rewind(self, sim: Simulation, step_index: int) -> Simulation:
        """A new Simulation at `step_index` of the run `sim` has made (0 <= step_index <= sim.step_index):
        the nearest checkpoint's copy, replayed forward with `sim`'s journal. `sim` is not changed."""
        if not 0 <= step_index <= sim.step_index:
            raise ValueError(f"can rewind only to a step of this run (0 to {sim.step_index}), not {step_index}")
        at = bisect_right(self._steps, step_index) - 1
        start = clone_simulation(self._copies[at])
        # A checkpoint is taken right after its step, before the operator acts on it; the rewound run stops
        # right after its step too, before what the operator did then.
        entries = [entry for entry in sim.journal if start.step_index <= entry.step_index < step_index]
        replayer = Replayer.resume(start, entries)
        replayer.advance_to(step_index)
        return replayer.sim
