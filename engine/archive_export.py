"""Export a run archive (``engine.archive``) as CSV or JSON lines, and regenerate its run report.

Layout
------

CSV (:func:`export_csv`) writes a directory::

    OUT/telemetry.csv   one row per (sample time, satellite)
    OUT/events.csv      one row per engine event
    OUT/commands.csv    one row per journal entry (operator commands, take-overs, console actions, odd steps)
    OUT/export.json     what was exported: archive, mission, seed, epoch, branch, time window, parameters
                        with their sampling periods, the columns of telemetry.csv, and the row counts

JSON lines (:func:`export_jsonl`) writes one file (or stdout), one JSON object per line, each with a
``type``: ``meta`` first (what ``export.json`` holds, less the row counts), then ``telemetry``, ``event``
and ``command`` records merged in step order; within one step: the events of the step, then the sample
taken at its end, then what the operator did before the next step.

Telemetry is *aligned*: every row carries ``utc`` (the archive's epoch plus the mission time, ISO 8601,
milliseconds, ``Z``), ``time_s`` (mission seconds), ``step_index`` and ``satellite``, then one value per
selected parameter. A per-GPU parameter (``gpu_temp_c`` is (satellites, GPU slots)) becomes one CSV
column per GPU slot, ``gpu_temp_c.gpu0``, ``gpu_temp_c.gpu1``, ... and, in JSON, one list per row. Rows
are the union of the selected parameters' sample times: a parameter sampled less often (its own period)
is empty at the times it was not sampled. Empty means an empty CSV cell or JSON ``null``; NaN is written
the same way. Floats are written in the shortest form that reads back to the stored value (float32 by
default, so ``numpy.float32(text)`` gives the recorded number exactly); infinities as ``inf``/``-inf``
(a string in JSON); booleans as ``1``/``0`` in CSV and ``true``/``false`` in JSON.

Filters: the parameters (default every recorded one; an unknown or unrecorded name is refused with the
list of recorded ones), a mission-time window (``from_s``/``to_s``, inclusive, for telemetry, events and
commands alike) and the branch (default 1, the run as recorded).

Rows are streamed: one cursor per parameter over the archive, one sample time in memory at a time, so an
export of a long run needs no more memory than one sample of the fleet.

:func:`report_from_archive` re-simulates the recorded run (``engine.replay.Replayer``) to its last
committed step and returns ``engine.report.build_report`` of it: the report the run gave.
"""

from __future__ import annotations

import csv
import dataclasses
import heapq
import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from engine.archive import ArchiveError, ArchiveReader

__all__ = ["ExportError", "ExportSummary", "export_csv", "export_jsonl", "report_from_archive", "telemetry_columns"]

EXPORT_FORMAT_VERSION = 1

_PREFIX = ("utc", "time_s", "step_index", "satellite")
_EVENT_COLUMNS = ("seq", "step_index", "time_s", "utc", "kind", "severity", "satellite", "station", "gpu", "value",
                  "alarm_id", "job", "message")
_COMMAND_COLUMNS = ("seq", "step_index", "time_s", "utc", "kind", "command", "satellite", "arguments", "action", "dt_s",
                    "entry")


class ExportError(ValueError):
    """The export was asked for something the archive does not have (a parameter, a branch, a window)."""


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    paths: tuple[str, ...]
    telemetry_rows: int
    sample_times: int
    events: int
    commands: int
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class _Plan:
    """A validated export request."""

    reader: ArchiveReader
    branch: int
    parameters: tuple[str, ...]
    from_s: float | None
    to_s: float | None
    layouts: dict[str, tuple[np.dtype | None, int]]
    """Per parameter: dtype (None: no samples on the branch) and its number of columns (0: per satellite)."""
    epoch: datetime
    satellite_ids: tuple[str, ...]

    def utc(self, time_s: float) -> str:
        moment = self.epoch + timedelta(seconds=float(time_s))
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def meta(self) -> dict[str, Any]:
        reader, settings = self.reader, self.reader.settings
        return {
            "format": "omc-archive-export",
            "format_version": EXPORT_FORMAT_VERSION,
            "archive": str(reader.path),
            "archive_schema_version": int(reader.meta["schema_version"]),
            "software_version": reader.meta.get("software_version", ""),
            "mission_id": reader.meta.get("mission_id", ""),
            "mission_title": reader.meta.get("mission_title", ""),
            "seed": reader.seed,
            "autopilot": reader.autopilot,
            "epoch": self.utc(0.0),
            "step_s": float(reader.meta["step_s"]),
            "branch": self.branch,
            "from_s": self.from_s,
            "to_s": self.to_s,
            "satellites": len(self.satellite_ids),
            "float32": settings.float32,
            "parameters": [{"name": name, "period_s": settings.period_s(name),
                            "dtype": None if self.layouts[name][0] is None else self.layouts[name][0].name,
                            "gpu_columns": self.layouts[name][1]} for name in self.parameters],
            "telemetry_columns": telemetry_columns(self),
        }


def telemetry_columns(plan: _Plan) -> list[str]:
    """The header of telemetry.csv."""
    columns = list(_PREFIX)
    for name in plan.parameters:
        width = plan.layouts[name][1]
        columns += [name] if width == 0 else [f"{name}.gpu{k}" for k in range(width)]
    return columns


def _plan(reader: ArchiveReader, parameters: Sequence[str] | None, from_s: float | None, to_s: float | None,
          branch: int) -> _Plan:
    branches = [row["id"] for row in reader.branches()]
    if branch not in branches:
        raise ExportError(f"{reader.path}: no branch {branch} (branches: {', '.join(map(str, branches))})")
    if from_s is not None and to_s is not None and from_s > to_s:
        raise ExportError(f"the window starts after it ends (from {from_s:g}s to {to_s:g}s)")
    recorded = reader.settings.parameters
    if parameters:
        chosen = list(dict.fromkeys(parameters))
        unknown = [name for name in chosen if name not in recorded]
        if unknown:
            what = ", ".join(repr(name) for name in unknown)
            raise ExportError(f"{reader.path}: {what} {'was' if len(unknown) == 1 else 'were'} not recorded "
                              f"(recorded: {', '.join(recorded)})")
    else:
        chosen = list(recorded)
    ids = reader.satellite_ids
    layouts: dict[str, tuple[np.dtype | None, int]] = {}
    for name in chosen:
        layout = reader.sample_layout(name, branch)
        if layout is None:
            layouts[name] = (None, 0)
            continue
        dtype, shape = layout
        if len(shape) not in (1, 2) or shape[0] != len(ids):
            raise ExportError(f"{reader.path}: {name!r} is not an array per satellite (shape {shape}), so it has no "
                              f"place in the aligned table; leave it out with --params")
        layouts[name] = (dtype, 0 if len(shape) == 1 else int(shape[1]))
    try:
        epoch = datetime.fromisoformat(reader.meta["epoch"])
    except (KeyError, ValueError):
        raise ArchiveError(f"{reader.path}: damaged archive (no readable epoch)") from None
    return _Plan(reader, branch, tuple(chosen), from_s, to_s, layouts, epoch, ids)


# --------------------------------------------------------------------------------------------- telemetry

def _samples(plan: _Plan) -> Iterator[tuple[int, float, dict[str, np.ndarray]]]:
    """``(step_index, time_s, {parameter: array})`` at every step any selected parameter was sampled."""
    cursors = {name: plan.reader.iter_telemetry(name, plan.branch, plan.from_s, plan.to_s) for name in plan.parameters}
    heads = {name: next(cursor, None) for name, cursor in cursors.items()}
    while True:
        live = [head for head in heads.values() if head is not None]
        if not live:
            return
        step = min(head[0] for head in live)
        time_s = next(head[1] for head in live if head[0] == step)
        arrays = {}
        for name, head in heads.items():
            if head is not None and head[0] == step:
                arrays[name] = head[2]
                heads[name] = next(cursors[name], None)
        yield step, time_s, arrays


def _texts(array: np.ndarray, json_mode: bool) -> np.ndarray:
    """Cell texts of a sample array, element by element."""
    if array.dtype == np.bool_:
        return np.where(array, "true", "false") if json_mode else array.astype(np.uint8).astype(str)
    text = array.astype(str)
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            text = text.astype(object)
            text[np.isnan(array)] = "null" if json_mode else ""
            if json_mode:
                text[np.isposinf(array)] = '"inf"'
                text[np.isneginf(array)] = '"-inf"'
    return text


def _check_shape(plan: _Plan, name: str, array: np.ndarray, step: int) -> None:
    width = plan.layouts[name][1]
    expected = (len(plan.satellite_ids),) if width == 0 else (len(plan.satellite_ids), width)
    if array.shape != expected:
        raise ArchiveError(f"{plan.reader.path}: {name!r} changes shape at step {step} ({array.shape}, was {expected})")


def _csv_rows(plan: _Plan, step: int, time_s: float, arrays: dict[str, np.ndarray]) -> list[list[str]]:
    n = len(plan.satellite_ids)
    columns: list[np.ndarray] = [np.full(n, plan.utc(time_s), dtype=object), np.full(n, repr(float(time_s)), dtype=object),
                                 np.full(n, str(step), dtype=object), np.asarray(plan.satellite_ids, dtype=object)]
    for name in plan.parameters:
        width = plan.layouts[name][1]
        array = arrays.get(name)
        if array is None:
            columns += [np.full(n, "", dtype=object)] * max(width, 1)
            continue
        _check_shape(plan, name, array, step)
        text = _texts(array, json_mode=False)
        columns += [text] if width == 0 else [text[:, k] for k in range(width)]
    return np.column_stack(columns).tolist()


def _jsonl_rows(plan: _Plan, step: int, time_s: float, arrays: dict[str, np.ndarray]) -> list[str]:
    n = len(plan.satellite_ids)
    head = f'{{"type":"telemetry","utc":"{plan.utc(time_s)}","time_s":{float(time_s)!r},"step_index":{step},"satellite":'
    parts: list[list[str]] = [[head + json.dumps(sat) for sat in plan.satellite_ids]]
    for name in plan.parameters:
        key = json.dumps(name) + ":"
        array = arrays.get(name)
        if array is None:
            parts.append([key + "null"] * n)
            continue
        _check_shape(plan, name, array, step)
        text = _texts(array, json_mode=True)
        if text.ndim == 1:
            parts.append([key + cell for cell in text.tolist()])
        else:
            parts.append([key + "[" + ",".join(row) + "]" for row in text.tolist()])
    return [",".join(cells) + "}" for cells in zip(*parts)]


# ---------------------------------------------------------------------------------- events and commands

def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else repr(value)
    return str(value)


def _event_record(plan: _Plan, event: dict[str, Any]) -> dict[str, Any]:
    return {"seq": event["seq"], "step_index": event["step_index"], "time_s": event["time_s"], "utc": plan.utc(event["time_s"]),
            **{key: event[key] for key in _EVENT_COLUMNS[4:]}}


def _command_record(plan: _Plan, seq: int, entry: dict[str, Any]) -> dict[str, Any]:
    command = entry.get("command") or {}
    arguments = {key: value for key, value in command.items() if key not in ("name", "satellite")}
    return {"seq": seq, "step_index": entry["step_index"], "time_s": entry["time_s"], "utc": plan.utc(entry["time_s"]),
            "kind": entry["kind"], "command": command.get("name"),
            "satellite": command.get("satellite", entry.get("satellite")),
            "arguments": arguments if command else None, "action": entry.get("action"), "dt_s": entry.get("dt_s"),
            "entry": entry}


def _json_value(value: Any) -> Any:
    """NaN as null and infinities as strings (strict JSON)."""
    if isinstance(value, float) and not np.isfinite(value):
        return None if value != value else ("inf" if value > 0 else "-inf")
    return value


# ---------------------------------------------------------------------------------------------- writers

def _open_partial(path: Path) -> tuple[Path, TextIO]:
    partial = path.with_name(path.name + ".partial")
    return partial, open(partial, "w", encoding="utf-8", newline="")


def export_csv(reader: ArchiveReader, out_dir: str | Path, parameters: Sequence[str] | None = None,
               from_s: float | None = None, to_s: float | None = None, branch: int = 1) -> ExportSummary:
    """Write ``telemetry.csv``, ``events.csv``, ``commands.csv`` and ``export.json`` into `out_dir`
    (made if needed; files of an earlier export there are replaced). Files are written under a
    ``.partial`` name and renamed at the end, so a failed export leaves no half file under the real name."""
    plan = _plan(reader, parameters, from_s, to_s, branch)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a directory (CSV goes into a directory)")
    out.mkdir(parents=True, exist_ok=True)
    finals = [out / "telemetry.csv", out / "events.csv", out / "commands.csv", out / "export.json"]
    partials: list[Path] = []
    rows = samples = events = commands = 0
    try:
        partial, handle = _open_partial(finals[0])
        partials.append(partial)
        with handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(telemetry_columns(plan))
            for step, time_s, arrays in _samples(plan):
                table = _csv_rows(plan, step, time_s, arrays)
                writer.writerows(table)
                rows += len(table)
                samples += 1
        partial, handle = _open_partial(finals[1])
        partials.append(partial)
        with handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(_EVENT_COLUMNS)
            for event in reader.iter_events(plan.branch, from_s, to_s):
                record = _event_record(plan, event)
                writer.writerow([_cell(record[key]) for key in _EVENT_COLUMNS])
                events += 1
        partial, handle = _open_partial(finals[2])
        partials.append(partial)
        with handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(_COMMAND_COLUMNS)
            for seq, entry in reader.iter_journal(plan.branch, from_s, to_s):
                record = _command_record(plan, seq, entry)
                for key in ("arguments", "entry"):
                    record[key] = None if record[key] is None else json.dumps(record[key], sort_keys=True)
                writer.writerow([_cell(record[key]) for key in _COMMAND_COLUMNS])
                commands += 1
        partial, handle = _open_partial(finals[3])
        partials.append(partial)
        with handle:
            manifest = {**plan.meta(), "files": {"telemetry": finals[0].name, "events": finals[1].name,
                                                  "commands": finals[2].name},
                        "rows": {"telemetry": rows, "sample_times": samples, "events": events, "commands": commands}}
            handle.write(json.dumps(manifest, indent=2) + "\n")
        for partial, final in zip(partials, finals):
            os.replace(partial, final)
    except BaseException:
        for partial in partials:
            partial.unlink(missing_ok=True)
        raise
    return ExportSummary(tuple(str(path) for path in finals), rows, samples, events, commands, plan.parameters)


def export_jsonl(reader: ArchiveReader, out: str | Path | TextIO, parameters: Sequence[str] | None = None,
                 from_s: float | None = None, to_s: float | None = None, branch: int = 1) -> ExportSummary:
    """Write one JSON-lines stream to `out` (a path, ``"-"`` for stdout, or an open text file): the
    ``meta`` line, then telemetry, events and commands merged in step order (see the module docstring)."""
    plan = _plan(reader, parameters, from_s, to_s, branch)
    counts = {"telemetry": 0, "samples": 0, "event": 0, "command": 0}

    def telemetry() -> Iterator[tuple[tuple[int, int, int], list[str]]]:
        for step, time_s, arrays in _samples(plan):
            lines = _jsonl_rows(plan, step, time_s, arrays)
            counts["telemetry"] += len(lines)
            counts["samples"] += 1
            yield (step, 1, 0), lines

    def events() -> Iterator[tuple[tuple[int, int, int], list[str]]]:
        for event in reader.iter_events(plan.branch, from_s, to_s):
            record = {"type": "event", **{k: _json_value(v) for k, v in _event_record(plan, event).items()}}
            counts["event"] += 1
            yield (event["step_index"], 0, event["seq"]), [json.dumps(record)]

    def commands() -> Iterator[tuple[tuple[int, int, int], list[str]]]:
        for seq, entry in reader.iter_journal(plan.branch, from_s, to_s):
            record = {"type": "command", **_command_record(plan, seq, entry)}
            counts["command"] += 1
            yield (entry["step_index"], 2, seq), [json.dumps(record)]

    def write(handle: TextIO) -> None:
        handle.write(json.dumps({"type": "meta", **plan.meta()}) + "\n")
        for _, lines in heapq.merge(telemetry(), events(), commands(), key=lambda item: item[0]):
            handle.write("\n".join(lines) + "\n")

    if isinstance(out, io.TextIOBase) or hasattr(out, "write"):
        write(out)  # type: ignore[arg-type]
        paths: tuple[str, ...] = ()
    elif str(out) == "-":
        write(sys.stdout)
        paths = ("-",)
    else:
        final = Path(out)
        if final.is_dir():
            raise ExportError(f"{final}: is a directory (JSON lines go into one file)")
        final.parent.mkdir(parents=True, exist_ok=True)
        partial, handle = _open_partial(final)
        try:
            with handle:
                write(handle)
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        paths = (str(final),)
    return ExportSummary(paths, counts["telemetry"], counts["samples"], counts["event"], counts["command"], plan.parameters)


# ----------------------------------------------------------------------------------------------- report

def report_from_archive(reader: ArchiveReader, branch: int = 1) -> dict[str, Any]:
    """The run report (``engine.report.build_report``) of a recorded run, regenerated by re-simulating its
    mission, seed and journal to the last committed step; objectives are decided at the end if the
    recording run decided them (its archive holds more events than the re-run has produced by then, as
    ``engine.replay.verify_archive`` reads it)."""
    from engine.commands import CommandError
    from engine.report import build_report
    from engine.replay import Replayer

    last = reader.last_step(branch)
    if last is None:
        raise ArchiveError(f"{reader.path}: nothing committed on branch {branch} (the run never got past its first batch)")
    spec = reader.mission_spec()
    step_s = float(reader.meta["step_s"])
    if step_s != spec.step_s:  # recorded with a step override: the re-run steps as the run did
        spec = dataclasses.replace(spec, mission=spec.mission.model_copy(update={"step": step_s}))
    replayer = Replayer(spec, reader.journal(branch), seed=reader.seed, autopilot=reader.autopilot)
    sim = replayer.sim
    replayed = len(sim.drain_events())
    try:
        while sim.step_index < last[0]:
            replayer.step()
            replayed += len(sim.drain_events())
        act_due = getattr(replayer, "act_due", None)
        if act_due is not None:  # what the operator did after the last step
            act_due()
            replayed += len(sim.drain_events())
    except CommandError as error:
        raise ArchiveError(f"{reader.path}: the recorded journal does not replay (at step {sim.step_index}: {error}); "
                           "the archive is damaged or was made by a different engine") from None
    if replayed < reader.event_count(branch):
        sim.finish_objectives()
        sim.drain_events()
    return build_report(sim)
