"""Operator commands: the only way anything outside the engine changes its state.

Key presses, palette entries, mission timelines and scripts all build these frozen objects and hand
them to ``Simulation.apply``, which validates each one completely before changing anything and refuses
a bad one with a :class:`CommandError` that says why. Every applied command is logged as an event.
"""

from __future__ import annotations

from dataclasses import dataclass


class CommandError(ValueError):
    """A command was refused; the message says why. Nothing was changed."""


@dataclass(frozen=True)
class SetUtilization:
    """Set the fleet's synthetic GPU utilisation (0..1) until the job scheduler drives the GPUs."""

    utilization: float


@dataclass(frozen=True)
class AcknowledgeAlarm:
    """Acknowledge an active alarm."""

    alarm_id: int


@dataclass(frozen=True)
class ShelveAlarm:
    """Hide an active alarm from the operator's list for `duration_s` seconds, with a reason."""

    alarm_id: int
    duration_s: float
    reason: str = ""


@dataclass(frozen=True)
class UnshelveAlarm:
    """Bring a shelved alarm back before its shelving expires."""

    alarm_id: int


Command = SetUtilization | AcknowledgeAlarm | ShelveAlarm | UnshelveAlarm
