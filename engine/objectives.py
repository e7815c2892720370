"""Training objectives and the score (network-and-jobs.md §7: a CARLA-style weighted completion with hard
gates).

An objective compares a metric (``engine.conditions.parse_metric``) with a target:

- ``primary`` / ``secondary``: *met* at the first check where the comparison holds (by its ``deadline``,
  or the end of the run); *missed* when the deadline passes first. With ``judge = "deadline"`` only the
  value at the deadline (or the end of the run) counts: met if it holds then, missed otherwise. A missed objective on ``>=`` / ``>``
  earns partial credit, its value over the target (clipped to [0, 1]), as it stood at the deadline.
- ``fail_gate``: must hold at every check; *failed* at the first check where it does not.

score = Σ weight·credit / Σ weight over primary and secondary objectives (credit 1 when met), times
(1 − ``hint_penalty``) per hint shown, times ``fail_gate_penalty`` (default 0) if a gate failed; the grade is the best one whose threshold the score
reaches, else "fail". Every decision is stamped with its mission time, for the debrief.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

from engine.conditions import parse_metric

__all__ = ["ObjectiveResult", "ObjectiveTracker", "Score"]

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class ObjectiveResult:
    """Where one objective stands: 'pending', 'met', 'missed' or 'failed', when that was decided, and
    the metric's value then (or now, while pending)."""

    id: str
    kind: str
    description: str
    metric: str
    op: str
    target: float | str | bool
    weight: float
    status: str
    decided_s: float | None
    value: float | str | bool | None
    credit: float
    """1 when met; partial (value / target) for a missed >= or > objective; 0 otherwise."""


@dataclass(frozen=True)
class Score:
    value: float
    grade: str
    gate_failed: bool


class ObjectiveTracker:
    """The mission's ``[[objective]]`` entries, checked against a metric source at each call to
    :meth:`update`, and decided at the end by :meth:`finish`."""

    def __init__(self, objectives, scoring, end_s: float):
        self.scoring = scoring
        self.hints_shown = 0
        """Hints shown so far (each costs ``scoring.hint_penalty`` of the score)."""
        self.end_s = float(end_s)
        self._objectives = tuple(objectives)
        self._metrics = {o.id: parse_metric(o.metric) for o in self._objectives}
        self._state: dict[str, tuple[str, float | None, object, float]] = {
            o.id: ("pending", None, None, 0.0) for o in self._objectives
        }

    @property
    def pending(self) -> bool:
        return any(status == "pending" for status, *_ in self._state.values())

    def update(self, time_s: float, source) -> list[ObjectiveResult]:
        """Check every pending objective at ``time_s``; returns those decided now."""
        decided = []
        for objective in self._objectives:
            status, _, _, _ = self._state[objective.id]
            if status != "pending":
                continue
            value = self._metrics[objective.id].evaluate(source)
            holds = self._holds(objective, value)
            deadline = objective.deadline if objective.deadline is not None else math.inf
            if objective.kind == "fail_gate":
                if not holds:
                    self._state[objective.id] = ("failed", time_s, value, 0.0)
                    decided.append(self.result(objective.id))
                else:
                    self._state[objective.id] = ("pending", None, value, 0.0)
                continue
            at_deadline = time_s >= deadline - 1e-9
            if objective.judge == "deadline" and not at_deadline:
                self._state[objective.id] = ("pending", None, value, 0.0)
            elif holds and time_s <= deadline + 1e-9:
                self._state[objective.id] = ("met", time_s, value, 1.0)
                decided.append(self.result(objective.id))
            elif time_s >= deadline - 1e-9:
                self._state[objective.id] = ("missed", time_s, value, self._partial(objective, value))
                decided.append(self.result(objective.id))
            else:
                self._state[objective.id] = ("pending", None, value, 0.0)
        return decided

    def finish(self, time_s: float, source) -> list[ObjectiveResult]:
        """The end of the run: check once more, then gates still holding are met and the rest missed."""
        decided = self.update(time_s, source)
        for objective in self._objectives:
            status, _, value, _ = self._state[objective.id]
            if status != "pending":
                continue
            if objective.kind == "fail_gate" or (objective.judge == "deadline" and self._holds(objective, value)):
                self._state[objective.id] = ("met", time_s, value, 1.0)
            else:
                self._state[objective.id] = ("missed", time_s, value, self._partial(objective, value))
            decided.append(self.result(objective.id))
        return decided

    @staticmethod
    def _holds(objective, value) -> bool:
        if value is None:
            return False
        try:
            return bool(_OPS[objective.op](value, objective.target))
        except TypeError:
            return False

    @staticmethod
    def _partial(objective, value) -> float:
        if objective.op in (">=", ">") and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and isinstance(objective.target, (int, float)) and objective.target > 0:
            return max(0.0, min(1.0, float(value) / float(objective.target)))
        return 0.0

    def result(self, objective_id: str) -> ObjectiveResult:
        objective = next(o for o in self._objectives if o.id == objective_id)
        status, decided_s, value, credit = self._state[objective_id]
        return ObjectiveResult(objective.id, objective.kind, objective.description, objective.metric, objective.op,
                               objective.target, objective.weight, status, decided_s, value, credit)

    def results(self) -> list[ObjectiveResult]:
        return [self.result(o.id) for o in self._objectives]

    def score(self) -> Score:
        """The score so far (pending objectives count as no credit yet)."""
        results = self.results()
        scored = [r for r in results if r.kind != "fail_gate"]
        total = sum(r.weight for r in scored)
        value = sum(r.weight * r.credit for r in scored) / total if total > 0 else 1.0
        value *= (1.0 - self.scoring.hint_penalty) ** self.hints_shown
        gate_failed = any(r.kind == "fail_gate" and r.status == "failed" for r in results)
        if gate_failed:
            value *= self.scoring.fail_gate_penalty
        grade = "fail"
        if not gate_failed:
            for name, threshold in sorted(self.scoring.grades.items(), key=lambda item: -item[1]):
                if value >= threshold - 1e-12:
                    grade = name
                    break
        return Score(round(value, 6), grade, gate_failed)
