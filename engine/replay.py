"""Re-run a recorded run from its mission, seed and command journal (``engine.journal``): the same
commands, console actions, takeovers and step lengths, before the same steps, give the same run.

:class:`Replayer` steps a new Simulation through a journal (forward only; to go back, make a new one);
:func:`replay` runs one to the end; :func:`verify_archive` re-runs an archived run and compares it with
the telemetry and events it recorded, reporting the first difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from engine.journal import JournalEntry
from engine.mission.spec import MissionSpec
from engine.simulation import Simulation

__all__ = ["Mismatch", "RecordingCheck", "Replayer", "Verification", "replay", "verify_archive"]


class Replayer:
    """A Simulation of `spec` (with the recorded `seed` and `autopilot`) that follows `journal`: each entry
    acts before the step it names. A command refused now that was accepted then raises CommandError (the
    journal does not belong to this mission and seed)."""

    def __init__(self, spec: MissionSpec, journal: Iterable[JournalEntry], *, seed: int | None = None,
                 autopilot: bool = True, step_s: float | None = None) -> None:
        self.sim = Simulation(spec, seed=seed, step_s=step_s, autopilot=autopilot)
        self.entries = list(journal)
        self.last_step = max((e.step_index + (1 if e.kind == "step" else 0) for e in self.entries), default=0)
        """The last step the journal names (a run may have gone on past it with no further action)."""
        self._position = 0

    @classmethod
    def resume(cls, sim: Simulation, journal: Iterable[JournalEntry]) -> "Replayer":
        """Follow `journal` from where `sim` stands (its entries from ``sim.step_index`` on)."""
        replayer = cls.__new__(cls)
        replayer.sim = sim
        replayer.entries = [entry for entry in journal if entry.step_index >= sim.step_index]
        replayer.last_step = max((e.step_index + (1 if e.kind == "step" else 0) for e in replayer.entries),
                                 default=sim.step_index)
        replayer._position = 0
        return replayer

    def act_due(self) -> None:
        """Carry out the entries due before the next step (a step does this first; call it at the end of a
        replay for what the operator did after the last step)."""
        entries, sim = self.entries, self.sim
        while self._position < len(entries) and entries[self._position].step_index == sim.step_index \
                and entries[self._position].kind != "step":
            entry = entries[self._position]
            if entry.kind == "command":
                sim.apply(entry.command)
            elif entry.kind == "take_over":
                sim.take_over()
            elif entry.kind == "action":
                sim.note_action(entry.action, entry.satellite)
            self._position += 1

    def step(self) -> None:
        """The entries due now, then one step (of the recorded length). A recording samples a step before
        the operator acts on it, so a replayed step's state compares with the recorded one."""
        self.act_due()
        entries, sim = self.entries, self.sim
        entry = entries[self._position] if self._position < len(entries) else None
        if entry is not None and entry.kind == "step" and entry.step_index == sim.step_index:
            sim.step(entry.dt_s)
            self._position += 1
        else:
            sim.step()

    def advance_to(self, step_index: int) -> Simulation:
        """Step forward to `step_index` (it cannot go back: make a new Replayer)."""
        if step_index < self.sim.step_index:
            raise ValueError(f"a replay only goes forward: at step {self.sim.step_index}, asked for {step_index}")
        while self.sim.step_index < step_index:
            self.step()
        return self.sim


def replay(spec: MissionSpec, journal: Iterable[JournalEntry], *, seed: int | None = None,
           autopilot: bool = True, until_step: int | None = None) -> Simulation:
    """Run `journal` on a new Simulation to step `until_step` (default: the last step it names)."""
    replayer = Replayer(spec, journal, seed=seed, autopilot=autopilot)
    sim = replayer.advance_to(replayer.last_step if until_step is None else int(until_step))
    replayer.act_due()
    return sim


@dataclass(frozen=True)
class Mismatch:
    """The first place a re-run differs from the recording."""

    step_index: int
    time_s: float
    what: str
    """A parameter name, or 'events'."""
    satellite: str | None
    recorded: object
    replayed: object
    note: str | None = None
    """Set when another version of the software made the recording (which alone can explain a difference)."""

    def describe(self) -> str:
        """One line: where, what, both values, and the version note if any."""
        where = f" on {self.satellite}" if self.satellite else ""
        text = (f"step {self.step_index} (T+{self.time_s:.0f} s): {self.what}{where}: recorded {self.recorded}, "
                f"re-run {self.replayed}")
        return text + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class Verification:
    steps: int
    samples_checked: int
    events_checked: int
    mismatch: Mismatch | None

    @property
    def ok(self) -> bool:
        return self.mismatch is None


def verify_archive(reader, branch: int = 1) -> Verification:
    """Re-run the archived run from its mission, seed and journal and compare, at every recorded sample,
    each recorded parameter, and every recorded event (kind, time, satellite, message), stopping at the
    first difference. A branch made by rewinding is compared from its fork on."""
    last = reader.last_step(branch)
    if last is None:
        return Verification(0, 0, 0, None)
    end_step = last[0]
    spec = reader.mission_spec()
    replayer = Replayer(spec, reader.journal(branch), seed=reader.seed, autopilot=reader.autopilot, step_s=reader.step_s)
    recorded_events = reader.events(branch)
    sample_steps = set(reader.sample_steps(branch))
    samples = events = 0
    cursor = 0

    def compare_events(step: int, new_events) -> Mismatch | None:
        nonlocal cursor, events
        for event in new_events:
            expected = recorded_events[cursor] if cursor < len(recorded_events) else None
            got = (event.kind.value, round(event.time_s, 9), event.satellite, event.message)
            want = None if expected is None else (expected["kind"], round(expected["time_s"], 9), expected["satellite"], expected["message"])
            if got != want:
                return Mismatch(step, event.time_s, "events", event.satellite, want, got)
            cursor += 1
            events += 1
        return None

    check = RecordingCheck(reader, branch)

    def compare_samples(sim) -> Mismatch | None:
        nonlocal samples
        problem = check.check(sim)
        samples = check.samples_checked
        return problem

    sim = replayer.sim
    fork_step = next((b["fork_step"] for b in reader.branches() if b["id"] == branch), None) or 0
    if fork_step:  # a branch made by rewinding: its events and samples start at the fork
        replayer.advance_to(fork_step)
        sim.drain_events()
    problem = compare_events(sim.step_index, sim.drain_events())
    if problem is None and sim.step_index in sample_steps:
        problem = compare_samples(sim)
    while problem is None and sim.step_index < end_step:
        replayer.step()
        problem = compare_events(sim.step_index, sim.drain_events())
        if problem is None and sim.step_index in sample_steps:
            problem = compare_samples(sim)
    if problem is None:  # what the operator did after the last step
        replayer.act_due()
        problem = compare_events(sim.step_index, sim.drain_events())
    if problem is None and cursor < len(recorded_events):  # the recording run decided its objectives at the end
        sim.finish_objectives()
        problem = compare_events(sim.step_index, sim.drain_events())
    if problem is None and cursor < len(recorded_events):
        expected = recorded_events[cursor]
        problem = Mismatch(end_step, expected["time_s"], "events", expected["satellite"],
                           (expected["kind"], expected["message"]), None)
    if problem is not None:
        problem = replace(problem, note=reader.version_note())
    return Verification(sim.step_index, samples, events, problem)


class RecordingCheck:
    """Compares a re-run with the telemetry an archive recorded, at each recorded sample step."""

    def __init__(self, reader, branch: int = 1) -> None:
        self.reader, self.branch = reader, branch
        self.float32 = reader.settings.float32
        self.ids = reader.satellite_ids
        self.sample_steps = frozenset(reader.sample_steps(branch))
        self.samples_checked = 0

    def check(self, sim) -> Mismatch | None:
        """The first recorded parameter that differs at the step `sim` is at (None: same, or not sampled)."""
        if sim.step_index not in self.sample_steps:
            return None
        snapshot = sim.snapshot()
        for name, stored in self.reader.samples_at(sim.step_index, self.branch).items():
            now = np.asarray(getattr(snapshot, name))
            if self.float32 and now.dtype == np.float64:
                now = now.astype(np.float32)
            if now.shape != stored.shape or not np.array_equal(now, stored, equal_nan=True):
                rows = np.flatnonzero(~_equal_rows(now, stored)) if now.shape == stored.shape else [0]
                row = int(rows[0]) if len(rows) else 0
                return Mismatch(sim.step_index, sim.time_s, name, self.ids[row] if row < len(self.ids) else None,
                                stored[row].tolist() if stored.ndim else stored.tolist(),
                                now[row].tolist() if now.ndim and now.shape == stored.shape else now.tolist(),
                                note=self.reader.version_note())
            self.samples_checked += 1
        return None


def _equal_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else (a == b)
    return same.reshape(same.shape[0], -1).all(axis=1) if same.ndim > 1 else same
