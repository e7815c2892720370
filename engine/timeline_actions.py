"""What a mission-timeline event can do besides injecting a fault: any operator command, by name, and
the directives a console (or a headless run) acts on.

Commands are written as tables naming the command and its fields, for example::

    command = { name = "drain", satellite = "A-01-01" }
    command = { name = "set_maintenance", satellite = "D-01-03", reason = "swap", duration = "30d" }

and become the same frozen command objects the console sends (``engine.commands``), validated by the
engine when they fire (a refusal is logged as a warning event; nothing changes).

Directives (``notify``, ``focus``, ``pause``, ``set_speed``, ``end``) change nothing in the simulation:
they are recorded as :class:`Directive` objects and events, for the console to show a caption, move the
view, pause or change speed, and for any run to stop at ``end``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from engine.commands import (
    AbortServicing,
    AcknowledgeAlarm,
    CancelJob,
    ClearFault,
    DisableLink,
    DispatchServicer,
    DrainSatellite,
    EnableLink,
    EndMaintenance,
    ForceHandover,
    HoldJob,
    InjectFault,
    ReleaseJob,
    RequeueJob,
    ResetGpu,
    SetGpuPower,
    SetGpuPowerCap,
    SetJobPriority,
    SetMaintenance,
    SetUtilization,
    ShelveAlarm,
    UndrainSatellite,
    UnshelveAlarm,
)
from engine.durations import parse_duration

__all__ = ["COMMANDS", "Directive", "OPERATOR_COMMANDS", "PANES", "build_command", "command_name"]

COMMANDS: dict[str, type] = {
    "drain": DrainSatellite,
    "undrain": UndrainSatellite,
    "cancel_job": CancelJob,
    "hold_job": HoldJob,
    "release_job": ReleaseJob,
    "requeue_job": RequeueJob,
    "set_job_priority": SetJobPriority,
    "reset_gpu": ResetGpu,
    "gpu_power": SetGpuPower,
    "power_cap": SetGpuPowerCap,
    "disable_link": DisableLink,
    "enable_link": EnableLink,
    "force_handover": ForceHandover,
    "dispatch_servicer": DispatchServicer,
    "abort_servicing": AbortServicing,
    "set_maintenance": SetMaintenance,
    "end_maintenance": EndMaintenance,
    "clear_fault": ClearFault,
    "acknowledge_alarm": AcknowledgeAlarm,
    "shelve_alarm": ShelveAlarm,
    "unshelve_alarm": UnshelveAlarm,
}
"""Timeline command names and the engine command each builds (its fields are the table's keys)."""

OPERATOR_COMMANDS: dict[str, type] = {
    **COMMANDS,
    "inject_fault": InjectFault,
    "set_utilization": SetUtilization,
}
"""Every command an operator can send, by the name a training mission's ``allowed_commands`` uses (the
timeline's commands, plus fault injection and the fleet utilization, which a timeline writes differently
or not at all)."""

_NAMES = {cls: name for name, cls in OPERATOR_COMMANDS.items()}


def command_name(command) -> str:
    """The name of an operator command (``OPERATOR_COMMANDS``), e.g. 'drain' for a DrainSatellite."""
    return _NAMES.get(type(command), type(command).__name__)

PANES = ("fleet", "detail", "map", "alarms", "events", "jobs", "servicing")
"""Where ``focus`` can take the console."""


def build_command(table: dict[str, Any]):
    """The engine command a timeline table names; ValueError naming the key that is wrong."""
    table = dict(table)
    name = table.pop("name", None)
    if name not in COMMANDS:
        raise ValueError(f"command needs a name, one of {', '.join(COMMANDS)}; got {name!r}")
    cls = COMMANDS[name]
    if "duration" in table and "duration_s" in {f.name for f in fields(cls)}:
        table["duration_s"] = parse_duration(table.pop("duration"))
    if "parts" in table and isinstance(table["parts"], list):
        table["parts"] = tuple(table["parts"])
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ValueError(f"command {name!r} has no key {unknown[0]!r} (keys: {', '.join(known)})")
    missing = [f.name for f in fields(cls) if f.name not in table and _required(cls, f.name)]
    if missing:
        raise ValueError(f"command {name!r} needs {', '.join(missing)}")
    return cls(**table)


def _required(cls: type, name: str) -> bool:
    from dataclasses import MISSING

    field = next(f for f in fields(cls) if f.name == name)
    return field.default is MISSING and field.default_factory is MISSING


@dataclass(frozen=True)
class Directive:
    """A timeline directive for whoever runs the simulation: 'notify' (``text``, ``level``), 'focus'
    (``pane``, ``satellite``), 'pause', 'set_speed' (``speed``), 'end' (``text``: why)."""

    time_s: float
    kind: str
    event_id: str
    text: str = ""
    level: str = "info"
    pane: str | None = None
    satellite: str | None = None
    speed: float | None = None
