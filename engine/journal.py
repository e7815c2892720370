"""The command journal: everything an operator did to a run that the mission file and seed do not already
say, in the order it happened, so that the same mission, seed and journal give the same run (DESIGN.md,
the boundary, rule 4).

A :class:`JournalEntry` is stamped with the step index it happened before (``step_index`` steps had been
taken) and the mission time. Kinds:

- ``command``: an operator command the engine accepted (or queued for contact); refusals change nothing
  and are not journalled;
- ``take_over``: the operator took over from the autopilot;
- ``action``: a console action reported to a guided walkthrough (``Simulation.note_action``);
- ``step``: a step of a length other than the mission step (a headless run's last, short step).

Entries convert to and from plain JSON-able dicts (:func:`entry_to_dict`, :func:`entry_from_dict`) with
commands named as in ``engine.timeline_actions.OPERATOR_COMMANDS``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from engine.faults import FaultRequest

__all__ = ["JournalEntry", "command_from_dict", "command_to_dict", "entry_from_dict", "entry_to_dict"]

KINDS = ("command", "take_over", "action", "step")


@dataclass(frozen=True)
class JournalEntry:
    """One thing the operator did: before step ``step_index``, at ``time_s``."""

    step_index: int
    time_s: float
    kind: str
    command: object | None = None
    action: str | None = None
    satellite: str | None = None
    dt_s: float | None = None
    """For a 'step' entry: its length."""


def command_to_dict(command) -> dict[str, Any]:
    """``{"name": "drain", "satellite": "A-01-01"}``; a fault request becomes a nested dict."""
    from engine.timeline_actions import command_name

    table: dict[str, Any] = {"name": command_name(command)}
    for field in fields(command):
        value = getattr(command, field.name)
        if isinstance(value, FaultRequest):
            value = {f.name: getattr(value, f.name) for f in fields(value)}
            value["kind"] = getattr(value["kind"], "value", value["kind"])
            value["params"] = dict(value["params"])
        elif isinstance(value, tuple):
            value = list(value)
        table[field.name] = value
    return table


def command_from_dict(table: dict[str, Any]):
    """The command a :func:`command_to_dict` table describes; ValueError naming what is wrong."""
    from engine.timeline_actions import OPERATOR_COMMANDS

    table = dict(table)
    name = table.pop("name", None)
    cls = OPERATOR_COMMANDS.get(name)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown command {name!r}")
    known = {f.name for f in fields(cls)}
    if set(table) - known or any(f.name not in table for f in fields(cls)):
        raise ValueError(f"command {name!r} needs exactly the keys {', '.join(sorted(known))}; got {', '.join(sorted(table))}")
    if "request" in table:
        table["request"] = FaultRequest(**table["request"])
    if "parts" in table:
        table["parts"] = tuple(table["parts"])
    return cls(**table)


def entry_to_dict(entry: JournalEntry) -> dict[str, Any]:
    row: dict[str, Any] = {"step_index": entry.step_index, "time_s": entry.time_s, "kind": entry.kind}
    if entry.command is not None:
        row["command"] = command_to_dict(entry.command)
    for name in ("action", "satellite", "dt_s"):
        if getattr(entry, name) is not None:
            row[name] = getattr(entry, name)
    return row


def entry_from_dict(row: dict[str, Any]) -> JournalEntry:
    kind = row.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown journal entry kind {kind!r} (kinds: {', '.join(KINDS)})")
    command = command_from_dict(row["command"]) if kind == "command" else None
    return JournalEntry(int(row["step_index"]), float(row["time_s"]), kind, command, row.get("action"),
                        row.get("satellite"), row.get("dt_s"))
