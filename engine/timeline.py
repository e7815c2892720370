"""The mission timeline: ``[[event]]`` entries (``engine.mission.models.TimelineEvent``) as firings.

- ``at`` / ``every``: a queue of times; ``after``: a firing ``delay`` after each firing of another event;
- ``on``: a firing ``delay`` after each engine event of that kind (from ``on_satellite``, if given), fed
  by :meth:`MissionTimeline.observe` with each step's events;
- ``when``: a condition (``engine.conditions``) checked at each step's start with
  :meth:`MissionTimeline.check`; it fires when it becomes true (held for its ``for`` duration), once, or
  at every new start with ``repeat``.

``count`` and ``until`` cap every kind. Firings are handed out by :meth:`MissionTimeline.due` in time
order, at each step's start for the times up to it, so an event set for a step boundary acts from exactly
that moment.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = ["MissionTimeline", "TimelineFiring"]


@dataclass(frozen=True)
class TimelineFiring:
    event_id: str
    time_s: float
    event: object
    """The ``TimelineEvent`` (its ``action`` says what to do)."""
    occurrence: int
    """1 for the event's first firing, 2 for its second, ..."""


class MissionTimeline:
    """Queue of timeline firings. ``watch(expression)`` builds a condition watcher for ``when`` events
    (an object with ``update(time_s, source) -> bool`` that says when the condition has just started to
    hold for its duration); without it, ``when`` events are refused."""

    def __init__(self, events: Sequence, watch: Callable[[str], object] | None = None):
        self._events = {event.id: event for event in events}
        self._order = {event.id: i for i, event in enumerate(events)}
        self._children: dict[str, list[str]] = {}
        self._on: dict[str, list[str]] = {}
        self._watches: dict[str, object] = {}
        for event in events:
            if event.after is not None:
                self._children.setdefault(event.after, []).append(event.id)
            if event.on is not None:
                self._on.setdefault(event.on.value, []).append(event.id)
            if event.when is not None:
                if watch is None:
                    raise ValueError(f"event {event.id}: 'when' needs a condition evaluator")
                self._watches[event.id] = watch(event.when)
        self._fired = {event.id: 0 for event in events}
        self._queue: list[tuple[float, int, str]] = []
        for event in events:
            if event.at is not None or event.every is not None:
                self._push(event.id, float(event.at if event.at is not None else event.every))
        self.fired: list[TimelineFiring] = []

    def _push(self, event_id: str, time_s: float) -> None:
        event = self._events[event_id]
        if event.count is not None and self._fired[event_id] + self._queued(event_id) >= event.count:
            return
        if event.until is not None and time_s > event.until:
            return
        heapq.heappush(self._queue, (time_s, self._order[event_id], event_id))

    def _queued(self, event_id: str) -> int:
        return sum(1 for _, _, queued in self._queue if queued == event_id)

    @property
    def watching(self) -> bool:
        """Whether any ``when`` event can still fire."""
        return any(self._can_fire(event_id) for event_id in self._watches)

    def _can_fire(self, event_id: str) -> bool:
        event = self._events[event_id]
        if not event.repeat and self._fired[event_id]:
            return False
        return event.count is None or self._fired[event_id] < event.count

    def check(self, time_s: float, source) -> None:
        """Evaluate the ``when`` conditions at ``time_s`` against ``source`` (queued to fire at once)."""
        for event_id, watcher in self._watches.items():
            if self._can_fire(event_id) and watcher.update(time_s, source) and self._queued(event_id) == 0:
                self._push(event_id, time_s)

    def observe(self, events: Iterable) -> None:
        """Engine events of a step: queue the ``on`` events they trigger."""
        if not self._on:
            return
        for engine_event in events:
            for event_id in self._on.get(engine_event.kind.value, ()):
                event = self._events[event_id]
                if event.on_satellite is None or engine_event.satellite == event.on_satellite:
                    self._push(event_id, engine_event.time_s + event.delay)

    def due(self, time_s: float) -> list[TimelineFiring]:
        """Every firing at or before ``time_s`` not yet handed out, in time order (events that follow
        another fire ``delay`` after it, in the same call if that is due too)."""
        firings = []
        while self._queue and self._queue[0][0] <= time_s:
            at, _, event_id = heapq.heappop(self._queue)
            event = self._events[event_id]
            self._fired[event_id] += 1
            firing = TimelineFiring(event_id, at, event, self._fired[event_id])
            firings.append(firing)
            self.fired.append(firing)
            if event.every is not None:
                self._push(event_id, at + event.every)
            for child in self._children.get(event_id, ()):
                self._push(child, at + self._events[child].delay)
        return firings

    @property
    def next_s(self) -> float:
        """When the next queued firing is due (inf if none)."""
        return self._queue[0][0] if self._queue else math.inf
