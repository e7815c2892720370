"""Guided walkthroughs (``[[step]]``): a training mission's steps, taken in order, each finished by an
operator action the console reports, a condition on the fleet, or both.

A step names what the trainee is asked to do (``prompt``), what they are expected to do (``expect``: a
console action of :data:`CONSOLE_ACTIONS` or ``command:<name>`` for an operator command of
``engine.timeline_actions.OPERATOR_COMMANDS``, optionally on one ``satellite``), what must then hold
(``check``: an ``engine.conditions`` condition, with its ``for``), and which part of the screen the console
highlights meanwhile (``highlight``: one of :data:`HIGHLIGHTS`). The step is done when the action has been
seen (after the step became current) and the check holds; the next step becomes current at once::

    walkthrough = Walkthrough(spec.steps)
    walkthrough.observe("view:map", None, time_s)        # the console reports what the operator did
    done = walkthrough.check(time_s, metrics)           # steps finished now, in order

Nothing here changes the simulation: a walkthrough watches and records.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.conditions import ConditionWatch, parse_condition

__all__ = ["CONSOLE_ACTIONS", "HIGHLIGHTS", "StepProgress", "Walkthrough", "check_expect"]

CONSOLE_ACTIONS: dict[str, str] = {
    "run": "run the clock (space)",
    "pause": "pause the clock (space)",
    "step": "advance one engine step (.)",
    "faster": "speed up (+)",
    "slower": "slow down (-)",
    "select": "select a satellite (arrows or enter in the fleet table, or the palette)",
    "sort": "cycle the fleet table's sort (s)",
    "filter": "filter the fleet table (/)",
    "view:fleet": "show the fleet table (1)",
    "view:detail": "show the satellite detail (2)",
    "view:map": "show the ground-track map (3)",
    "view:alarms": "show the alarms (4)",
    "view:events": "show the event log (5)",
    "seek:aos": "run to the next acquisition of signal (n or N)",
    "seek:eclipse": "run to the next eclipse entry (e or E)",
    "open:help": "open the help screen (?)",
    "open:palette": "open the command palette (ctrl+p)",
    "open:jobs": "open the job queue (j)",
    "open:faults": "open the active faults (f)",
    "open:inject": "open fault injection (F)",
    "open:servicing": "open the servicing screen (S)",
    "open:mission": "open the mission panel (b)",
    "open:maintenance": "open the maintenance dialog (m)",
    "alarms:history": "switch the alarms pane to its history (h)",
    "events:filter": "cycle the event log's severity filter (v)",
}
"""Console actions a step can expect, with what the operator does for each. An operator command is
``command:<name>`` (``engine.timeline_actions.OPERATOR_COMMANDS``) and is reported by the engine itself."""

HIGHLIGHTS = ("clock", "fleet", "detail", "map", "alarms", "events")
"""What a step can highlight on the main screen."""


def check_expect(expect: str) -> str:
    """``expect`` if it names a console action or an operator command; ValueError naming them otherwise."""
    from engine.timeline_actions import OPERATOR_COMMANDS

    if expect in CONSOLE_ACTIONS:
        return expect
    if expect.startswith("command:"):
        name = expect.removeprefix("command:")
        if name in OPERATOR_COMMANDS:
            return expect
        raise ValueError(f"unknown command {name!r} (commands: {', '.join(OPERATOR_COMMANDS)})")
    raise ValueError(f"unknown action {expect!r}: expect a console action ({', '.join(CONSOLE_ACTIONS)}) "
                     "or command:<name>")


@dataclass(frozen=True)
class StepProgress:
    """One step as the trainee stands: 'done' (with when), 'current' (with whether its action was seen
    and its check is still awaited) or 'ahead'."""

    id: str
    number: int
    """1-based position in the walkthrough."""
    prompt: str
    expect: str | None
    satellite: str | None
    check: str | None
    highlight: str | None
    status: str
    done_s: float | None
    action_seen: bool


class Walkthrough:
    """The mission's ``[[step]]`` entries, one current at a time."""

    def __init__(self, steps) -> None:
        self.steps = tuple(steps)
        self.index = 0
        """The current step's position (``len(steps)`` once every step is done)."""
        self.done_s: list[float] = []
        """When each finished step was done, in order."""
        self._action_seen = False
        self._watch = self._new_watch()

    @property
    def current(self):
        """The step the trainee is on (None when there are none left)."""
        return self.steps[self.index] if self.index < len(self.steps) else None

    @property
    def steps_done(self) -> int:
        return self.index

    @property
    def finished(self) -> bool:
        return self.index >= len(self.steps)

    @property
    def waiting_on_check(self) -> bool:
        """The current step's action is seen (or it expects none) and only its check is awaited."""
        step = self.current
        return step is not None and step.check is not None and (step.expect is None or self._action_seen)

    def observe(self, action: str, satellite: str | None) -> bool:
        """The operator did `action` (on `satellite`, if any); True if the current step expected it."""
        step = self.current
        if step is None or step.expect is None or self._action_seen or action != step.expect:
            return False
        if step.satellite is not None and satellite != step.satellite:
            return False
        self._action_seen = True
        return True

    def check(self, time_s: float, source) -> list:
        """Finish every step whose action has been seen and whose check holds now; the steps done, in order."""
        done = []
        while (step := self.current) is not None:
            if step.expect is not None and not self._action_seen:
                break
            if self._watch is not None and not (self._watch.observe(source) or self._watch.satisfied):
                break
            done.append(step)
            self.done_s.append(float(time_s))
            self.index += 1
            self._action_seen = False
            self._watch = self._new_watch()
        return done

    def _new_watch(self) -> ConditionWatch | None:
        step = self.current
        return None if step is None or step.check is None else ConditionWatch(parse_condition(step.check))

    def progress(self) -> tuple[StepProgress, ...]:
        """Every step with its status."""
        rows = []
        for number, step in enumerate(self.steps):
            if number < self.index:
                status, done_s, seen = "done", self.done_s[number], True
            elif number == self.index:
                status, done_s, seen = "current", None, self._action_seen
            else:
                status, done_s, seen = "ahead", None, False
            rows.append(StepProgress(step.id, number + 1, step.prompt, step.expect, step.satellite, step.check,
                                     step.highlight, status, done_s, seen))
        return tuple(rows)
