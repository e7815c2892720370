"""Operator commands: the only way anything outside the engine changes its state.

Key presses, palette entries, mission timelines and scripts all build these frozen objects and hand
them to ``Simulation.apply``, which validates each one completely before changing anything and refuses
a bad one with a :class:`CommandError` that says why. Every applied command is logged as an event.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.faults import FaultRequest


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


@dataclass(frozen=True)
class CancelJob:
    """Cancel a job that has not finished (its unsaved work is lost)."""

    job_id: str


@dataclass(frozen=True)
class HoldJob:
    """Keep a pending job from starting until it is released."""

    job_id: str


@dataclass(frozen=True)
class ReleaseJob:
    """Let a held job be scheduled again."""

    job_id: str


@dataclass(frozen=True)
class RequeueJob:
    """Stop a running or suspended job and queue it again from its last checkpoint (optionally held)."""

    job_id: str
    hold: bool = False


@dataclass(frozen=True)
class SetJobPriority:
    """Replace a job's computed priority with a fixed value (>= 0)."""

    job_id: str
    priority: float


@dataclass(frozen=True)
class DrainSatellite:
    """No new work on a satellite; its running jobs checkpoint and migrate."""

    satellite: str


@dataclass(frozen=True)
class UndrainSatellite:
    """Return an operator-drained satellite to service."""

    satellite: str


@dataclass(frozen=True)
class ResetGpu:
    """Reset one GPU (its job dies and requeues from its checkpoint; the GPU is back after the reset time)."""

    satellite: str
    gpu: int


@dataclass(frozen=True)
class SetGpuPower:
    """Switch one GPU off (its job requeues) or back on (it boots first)."""

    satellite: str
    gpu: int
    on: bool


@dataclass(frozen=True)
class SetGpuPowerCap:
    """Cap every GPU of a satellite at ``watts`` (between the GPU's minimum power and its TDP); None lifts the cap."""

    satellite: str
    watts: float | None


@dataclass(frozen=True)
class DisableLink:
    """Take the laser link between two satellites out of service (it stays down until enabled)."""

    satellite: str
    peer: str


@dataclass(frozen=True)
class EnableLink:
    """Return a disabled laser link to service (it acquires again when it can close)."""

    satellite: str
    peer: str


@dataclass(frozen=True)
class ForceHandover:
    """End a satellite's ground link now; the station's antenna and the satellite look for others, and
    that station does not take the satellite back during this pass."""

    satellite: str


@dataclass(frozen=True)
class InjectFault:
    """Inject a fault (the instructor's or the timeline's): what, where, its parameters and duration."""

    request: FaultRequest


@dataclass(frozen=True)
class ClearFault:
    """End an active fault now (the instructor's undo: a failed part works again)."""

    fault_id: str


@dataclass(frozen=True)
class DispatchServicer:
    """Send a servicing vehicle to a satellite with parts to swap (e.g. ("gpu_board", "battery_module"));
    it docks once the satellite is drained and in maintenance."""

    servicer: str
    satellite: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class AbortServicing:
    """Abort a servicing mission (the vehicle backs off, or undocks first if docked)."""

    mission_id: str


@dataclass(frozen=True)
class SetMaintenance:
    """Put a satellite in maintenance mode for ``duration_s``: its alarms are shelved with ``reason``."""

    satellite: str
    reason: str
    duration_s: float


@dataclass(frozen=True)
class EndMaintenance:
    """Take a satellite out of maintenance mode (refused while a servicer is working on it)."""

    satellite: str


@dataclass(frozen=True)
class PendingCommand:
    """An on-board command waiting for its satellite to have a route to the ground (it was validated when
    sent, and is validated again when it arrives)."""

    command: object
    satellites: tuple[str, ...]
    """The satellite it goes to (a laser-link command may go through either end)."""
    queued_s: float
    description: str
    source: str = "operator"
    """Who sent it ('operator', 'autopilot step X', 'timeline event Y'), named again when it is delivered."""


JOB_COMMANDS = (CancelJob, HoldJob, ReleaseJob, RequeueJob, SetJobPriority, DrainSatellite, UndrainSatellite)
GPU_COMMANDS = (ResetGpu, SetGpuPower, SetGpuPowerCap)
NETWORK_COMMANDS = (DisableLink, EnableLink, ForceHandover)
FAULT_COMMANDS = (InjectFault, ClearFault)
SERVICING_COMMANDS = (DispatchServicer, AbortServicing, SetMaintenance, EndMaintenance)
ON_BOARD_COMMANDS = (ResetGpu, SetGpuPower, SetGpuPowerCap, DisableLink, EnableLink)
"""Commands executed by the satellite itself: they travel over the network and wait for a route. The
others act on the ground (alarms, the job scheduler, station antennas) and take effect at once."""

Command = (
    SetUtilization | AcknowledgeAlarm | ShelveAlarm | UnshelveAlarm | CancelJob | HoldJob | ReleaseJob | RequeueJob
    | SetJobPriority | DrainSatellite | UndrainSatellite | ResetGpu | SetGpuPower | SetGpuPowerCap
    | DisableLink | EnableLink | ForceHandover | InjectFault | ClearFault | DispatchServicer | AbortServicing
    | SetMaintenance | EndMaintenance
)
