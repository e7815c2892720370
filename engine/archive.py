"""The run archive: one SQLite file (WAL mode) per run with everything needed to look at it again and to
re-create it exactly.

What it keeps (schema version :data:`SCHEMA_VERSION`):

- ``meta``: the schema version, the software version, when it was made, the mission as resolved
  (``engine.mission.mission_document``, so no other file is needed), the seed, whether the autopilot
  played, the step, the epoch, the satellite ids and the telemetry settings;
- ``branches``: branch 1 is the run; a branch made by rewinding names its parent and the step it forks at;
- ``telemetry``: sampled parameters of the ground-truth snapshot (``engine.snapshot.FleetSnapshot``), one
  row per (branch, parameter, step) with the whole fleet's array as a blob, each parameter at its own
  period (downsampling: a sample is taken at the first step end at or past each multiple of the period);
- ``events``: every engine event (alarms with their acknowledge and shelve actions included);
- ``journal``: every operator action that is not in the mission (``engine.journal``), with its step;
- ``progress``: per branch, the last step whose rows are committed.

Rows are written as the run goes and committed in batches (every ``commit_every_steps`` steps, and at
:meth:`ArchiveWriter.close`), each batch in one transaction together with its ``progress`` row, so a
process killed at any moment leaves every step up to the last committed batch intact and readable. The
batches are written by a thread of the writer's own, in order, while the run steps on (SQLite works
without Python's lock, so on a machine with a second core the writing costs the run little); the run waits
only when that thread is two batches behind, and a write error is raised by the next call.

:class:`ArchiveReader` opens an archive read-only and refuses, with an :class:`ArchiveError` that says why,
a file that is not an archive, is damaged, or was made by a newer schema.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from engine.events import Event
from engine.journal import JournalEntry, entry_from_dict, entry_to_dict

__all__ = ["ArchiveError", "ArchiveReader", "ArchiveSettings", "ArchiveWriter", "SCHEMA_VERSION", "TelemetrySeries"]

SCHEMA_VERSION = 1

DEFAULT_PARAMETERS: tuple[str, ...] = (
    "lat_deg", "lon_deg", "alt_km", "illumination", "solar_power_w", "load_power_w", "battery_net_w",
    "battery_soc", "shed_level", "unserved_power_w", "radiator_temp_c", "loop_temp_c", "array_temp_c",
    "gpu_temp_c", "gpu_power_w", "gpu_health", "gpu_job", "drained", "in_maintenance", "dose_rad", "isl_up",
    "route_hops", "alarm_level",
)
"""Snapshot arrays recorded by default (per satellite, or per satellite and GPU)."""

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE branches (id INTEGER PRIMARY KEY, parent INTEGER, fork_step INTEGER, created_utc TEXT NOT NULL,
                       label TEXT NOT NULL DEFAULT '');
CREATE TABLE progress (branch INTEGER PRIMARY KEY, step_index INTEGER NOT NULL, time_s REAL NOT NULL,
                       committed_utc TEXT NOT NULL);
CREATE TABLE telemetry (branch INTEGER NOT NULL, parameter TEXT NOT NULL, step_index INTEGER NOT NULL,
                        time_s REAL NOT NULL, dtype TEXT NOT NULL, shape TEXT NOT NULL, data BLOB NOT NULL,
                        PRIMARY KEY (branch, parameter, step_index)) WITHOUT ROWID;
CREATE TABLE events (branch INTEGER NOT NULL, seq INTEGER NOT NULL, step_index INTEGER NOT NULL,
                     time_s REAL NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL, satellite TEXT,
                     message TEXT NOT NULL, station TEXT, gpu INTEGER, value REAL, alarm_id INTEGER, job TEXT,
                     PRIMARY KEY (branch, seq));
CREATE TABLE journal (branch INTEGER NOT NULL, seq INTEGER NOT NULL, step_index INTEGER NOT NULL,
                      time_s REAL NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (branch, seq));
"""


class ArchiveError(Exception):
    """An archive could not be written or read; the message says which file and why."""


@dataclass(frozen=True)
class ArchiveSettings:
    """What to record: the parameters, the default sampling period (mission seconds), per-parameter
    periods, whether floats are kept as float32 (half the size; replay checks compare the same rounding),
    and how many steps make one committed batch."""

    parameters: tuple[str, ...] = DEFAULT_PARAMETERS
    telemetry_period_s: float = 60.0
    parameter_periods_s: Mapping[str, float] = field(default_factory=dict)
    float32: bool = True
    commit_every_steps: int = 50

    def __post_init__(self) -> None:
        if not self.telemetry_period_s > 0:
            raise ValueError(f"the telemetry period must be longer than zero, got {self.telemetry_period_s!r}")
        unknown = sorted(set(self.parameter_periods_s) - set(self.parameters))
        if unknown:
            raise ValueError(f"a period is given for {unknown[0]!r}, which is not recorded")
        if any(not period > 0 for period in self.parameter_periods_s.values()):
            raise ValueError("every parameter period must be longer than zero")
        if self.commit_every_steps < 1:
            raise ValueError("commit_every_steps must be at least 1")

    def period_s(self, parameter: str) -> float:
        return float(self.parameter_periods_s.get(parameter, self.telemetry_period_s))

    def as_dict(self) -> dict[str, Any]:
        return {"parameters": list(self.parameters), "telemetry_period_s": self.telemetry_period_s,
                "parameter_periods_s": dict(self.parameter_periods_s), "float32": self.float32,
                "commit_every_steps": self.commit_every_steps}


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _software_version() -> str:
    try:
        from importlib.metadata import version

        return version("orbital-mission-control")
    except Exception:  # not installed as a distribution (a source checkout): say so rather than guess
        return "unknown"


class ArchiveWriter:
    """Records one run into a new archive file. Create it right after the Simulation (before any step),
    then call :meth:`record_step` after every step with the events that step produced, and
    :meth:`close` at the end.

    Batches are committed by the writer's own thread, which alone uses the connection between the
    constructor and :meth:`close`: code writing to the file otherwise must hand its rows over as a batch,
    or call :meth:`wait_committed` first and not overlap the next hand-over."""

    def __init__(self, path: str | Path, sim, mission_document: Mapping[str, Any],
                 settings: ArchiveSettings | None = None) -> None:
        self.path = Path(path)
        self.settings = settings or ArchiveSettings()
        if self.path.exists():
            raise ArchiveError(f"{self.path}: already exists (an archive is never overwritten)")
        snapshot = sim.snapshot()
        for name in self.settings.parameters:
            if not isinstance(getattr(snapshot, name, None), np.ndarray):
                raise ArchiveError(f"cannot record {name!r}: not an array of the fleet snapshot")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as error:
            raise ArchiveError(f"{self.path}: cannot create the archive: {error}") from None
        meta = {
            "schema_version": SCHEMA_VERSION,
            "software_version": _software_version(),
            "created_utc": _utc_now(),
            "mission_id": sim.spec.id,
            "mission_title": sim.spec.title,
            "mission_kind": sim.spec.kind,
            "mission_source": str(sim.spec.source) if sim.spec.source is not None else "",
            "mission_document": json.dumps(mission_document, default=str, sort_keys=True),
            "seed": sim.seed,
            "autopilot": bool(sim.autopilot_started),
            "step_s": sim.step_s,
            "epoch": sim.clock.epoch.isoformat(),
            "satellite_ids": json.dumps(list(sim.satellite_ids)),
            "settings": json.dumps(self.settings.as_dict()),
        }
        self.branch = 1
        with self._transaction():
            self._db.executemany("INSERT INTO meta VALUES (?, ?)", [(k, str(v) if not isinstance(v, str) else v) for k, v in meta.items()])
            self._db.execute("INSERT INTO branches (id, parent, fork_step, created_utc) VALUES (1, NULL, NULL, ?)", (_utc_now(),))
        self._event_seq = 0
        self._journal_read = 0
        self._due: dict[str, int] = {}
        self._rows: list[tuple] = []
        self._events: list[tuple] = []
        self._journal: list[tuple] = []
        self._steps_since_commit = 0
        self.closed = False
        self.committed_step = -1
        """The last step whose batch is committed (set by the committing thread)."""
        self.write_s = 0.0
        """Wall time recording costs the caller (collecting rows, handing batches over, waiting for the
        committing thread when it is behind, closing), for the benchmark."""
        self.commit_s = 0.0
        """Wall time the committing thread spent writing batches."""
        try:
            limit = self._db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        except (AttributeError, sqlite3.Error):  # Python before 3.11
            limit = 999
        self._variable_limit = max(limit, 13)
        self._statements: dict[tuple[str, int, int], str] = {}
        self._periods = {name: self.settings.period_s(name) for name in self.settings.parameters}
        self._shapes: dict[tuple[int, ...], str] = {}
        self._next_sample_s = -np.inf
        self._batches: queue.Queue = queue.Queue(maxsize=2)
        self._error: ArchiveError | None = None
        self._committer = threading.Thread(target=self._commit_batches, name=f"archive {self.path.name}", daemon=True)
        self._committer.start()
        self._sample(sim, force=True)

    def _transaction(self):
        db = self._db

        class _Tx:
            def __enter__(self_inner):
                db.execute("BEGIN")

            def __exit__(self_inner, kind, value, traceback):
                db.execute("COMMIT" if kind is None else "ROLLBACK")
                return False

        return _Tx()

    def record_step(self, sim, events: Iterable[Event] = ()) -> None:
        """Collect what the step just taken produced; commit when a batch is full."""
        started = time.perf_counter()
        self._add_events(sim.step_index, events)
        self._take_journal(sim)
        self._sample(sim)
        self._steps_since_commit += 1
        if self._steps_since_commit >= self.settings.commit_every_steps:
            self._commit(sim)
        self.write_s += time.perf_counter() - started

    def record_events(self, sim, events: Iterable[Event]) -> None:
        """Events drained apart from the steps (a console drains them once a frame, after several steps):
        kept in order with the step they were drained at; committed with the next batch."""
        self._add_events(sim.step_index, events)
        self._take_journal(sim)

    def _add_events(self, step: int, events: Iterable[Event]) -> None:
        for event in events:
            self._events.append((self.branch, self._event_seq, step, event.time_s, event.kind.value, event.severity.value,
                                 event.satellite, event.message, event.station, event.gpu, event.value, event.alarm_id,
                                 event.job))
            self._event_seq += 1

    def _take_journal(self, sim) -> None:
        new = sim.journal[self._journal_read:]
        for offset, entry in enumerate(new):
            self._journal.append((self.branch, self._journal_read + offset, entry.step_index, entry.time_s,
                                  json.dumps(entry_to_dict(entry))))
        self._journal_read = len(sim.journal)

    def _sample(self, sim, force: bool = False) -> None:
        if not force and sim.time_s < self._next_sample_s:
            return  # nothing due yet (the test below, made a little early, gives the same samples)
        snapshot = None
        periods = self._periods
        for name in self.settings.parameters:
            slot = int(np.floor(sim.time_s / periods[name] + 1e-9))
            if not force and slot <= self._due.get(name, -1):
                continue
            self._due[name] = slot
            if snapshot is None:
                snapshot = sim.snapshot()
            array = np.asarray(getattr(snapshot, name))
            if self.settings.float32 and array.dtype == np.float64:
                array = array.astype(np.float32)
            shape = self._shapes.get(array.shape)
            if shape is None:
                shape = self._shapes[array.shape] = json.dumps(list(array.shape))
            self._rows.append((self.branch, name, sim.step_index, sim.time_s, array.dtype.str, shape, array.tobytes()))
        self._next_sample_s = min(((self._due[name] + 1 - 2e-9) * periods[name] for name in self.settings.parameters),
                                  default=np.inf)

    def _commit(self, sim) -> None:
        """Hand the batch collected so far to the committing thread (waiting if it is two batches behind)."""
        if self._error is not None:
            raise self._error
        self._batches.put((self._rows, self._events, self._journal,
                           (self.branch, sim.step_index, sim.time_s, _utc_now())))
        self._rows, self._events, self._journal = [], [], []
        self._steps_since_commit = 0

    def _commit_batches(self) -> None:
        """The committing thread: each batch in one transaction with its progress row, in order."""
        while True:
            batch = self._batches.get()
            try:
                if batch is None:
                    return
                if self._error is not None:
                    continue  # keep taking batches so that the run never waits on a dead writer
                started = time.perf_counter()
                rows, events, journal, progress = batch
                try:
                    with self._transaction():
                        self._insert("telemetry", 7, rows)
                        self._insert("events", 13, events)
                        self._insert("journal", 5, journal)
                        self._db.execute("INSERT OR REPLACE INTO progress VALUES (?, ?, ?, ?)", progress)
                except Exception as error:  # sqlite3.Error mostly; anything else must not leave the run waiting
                    self._error = ArchiveError(f"{self.path}: cannot write: {error}")
                    continue
                self.committed_step = progress[1]
                self.commit_s += time.perf_counter() - started
            finally:
                self._batches.task_done()

    def wait_committed(self) -> None:
        """Wait until every batch handed over so far is written (the batch being collected is not
        handed over until it is full); raises ArchiveError if one could not be."""
        if not self.closed:
            self._batches.join()
        if self._error is not None:
            raise self._error

    def _insert(self, table: str, width: int, rows: list[tuple]) -> None:
        """Rows as few multi-row INSERTs (each statement runs without Python's lock, so fewer statements
        let the committing thread finish a batch without waiting on the run for the lock)."""
        per_statement = max(1, min(500, self._variable_limit // width))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            key = (table, width, len(chunk))
            statement = self._statements.get(key)
            if statement is None:
                one = "(" + ", ".join("?" * width) + ")"
                statement = self._statements[key] = f"INSERT INTO {table} VALUES " + ", ".join([one] * len(chunk))
            self._db.execute(statement, [value for row in chunk for value in row])

    def start_branch(self, old_sim, new_sim, label: str = "") -> int:
        """A rewind: commit what is left of the current branch (`old_sim`'s), then record `new_sim` (the
        run as it stood at an earlier step) as a new branch forking from the current one at its step.
        The new branch's journal holds the whole timeline's journal (what came before the fork too), so it
        replays on its own; its telemetry and events start at the fork. Returns the new branch's id."""
        self._take_journal(old_sim)
        self._commit(old_sim)
        self.wait_committed()  # the connection is the committing thread's while batches are in flight
        parent, fork_step = self.branch, new_sim.step_index
        try:
            with self._transaction():
                (latest,) = self._db.execute("SELECT MAX(id) FROM branches").fetchone()
                branch = int(latest) + 1
                self._db.execute("INSERT INTO branches (id, parent, fork_step, created_utc, label) VALUES (?, ?, ?, ?, ?)",
                                 (branch, parent, fork_step, _utc_now(), label))
        except sqlite3.Error as error:
            raise ArchiveError(f"{self.path}: cannot write: {error}") from None
        self.branch = branch
        self._event_seq = 0
        self._journal_read = 0
        self._due = {}
        self._next_sample_s = -np.inf
        self._take_journal(new_sim)
        self._sample(new_sim, force=True)
        self._commit(new_sim)
        return branch

    def close(self, sim) -> None:
        """Commit what is left (the run's last steps and any journal entries after them), wait for every
        batch to be written, and close. Raises ArchiveError if a batch could not be written."""
        if self.closed:
            return
        started = time.perf_counter()
        self._take_journal(sim)
        try:
            self._commit(sim)
        finally:
            self._batches.put(None)
            self._committer.join()
            self.closed = True
            try:
                if self._error is None:
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.close()
            self.write_s += time.perf_counter() - started
        if self._error is not None:
            raise self._error


@dataclass(frozen=True)
class TelemetrySeries:
    """One parameter over time: ``values[k]`` is the fleet's array at ``step_index[k]``, ``time_s[k]``."""

    parameter: str
    step_index: np.ndarray
    time_s: np.ndarray
    values: np.ndarray


class ArchiveReader:
    """A recorded run, opened read-only. Raises ArchiveError for a missing, foreign, damaged or newer file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ArchiveError(f"{self.path}: no such archive")
        try:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError as error:
            raise ArchiveError(f"{self.path}: not a readable archive ({error})") from None
        self.meta: dict[str, str] = dict(rows)
        try:
            version = int(self.meta["schema_version"])
        except (KeyError, ValueError):
            raise ArchiveError(f"{self.path}: not an archive (it has no schema version)") from None
        if version > SCHEMA_VERSION:
            raise ArchiveError(f"{self.path}: made by a newer version of the software (archive schema {version}, "
                               f"this one reads up to {SCHEMA_VERSION}); upgrade to open it")
        if version < 1:
            raise ArchiveError(f"{self.path}: unknown archive schema {version}")
        missing = [key for key in ("mission_document", "seed", "step_s", "satellite_ids", "settings") if key not in self.meta]
        if missing:
            raise ArchiveError(f"{self.path}: damaged archive (meta lacks {', '.join(missing)})")
        try:
            self._db.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as error:
            raise ArchiveError(f"{self.path}: damaged archive ({error})") from None

    # ------------------------------------------------------------------------------------ what it is

    @property
    def seed(self) -> int:
        return int(self.meta["seed"])

    @property
    def step_s(self) -> float:
        """The engine step the run was recorded at."""
        return float(self.meta["step_s"])

    @property
    def autopilot(self) -> bool:
        return self.meta.get("autopilot", "True") == "True"

    @property
    def satellite_ids(self) -> tuple[str, ...]:
        return tuple(json.loads(self.meta["satellite_ids"]))

    @property
    def settings(self) -> ArchiveSettings:
        raw = json.loads(self.meta["settings"])
        return ArchiveSettings(tuple(raw["parameters"]), raw["telemetry_period_s"], raw["parameter_periods_s"],
                               raw["float32"], raw["commit_every_steps"])

    @property
    def software_version(self) -> str:
        """The version of omc that recorded the archive."""
        return self.meta.get("software_version", "unknown")

    def version_note(self) -> str | None:
        """None when this version of the software made the archive; otherwise a sentence naming both
        versions (a re-run with changed models can differ from the recording for that reason alone)."""
        recorded, running = self.software_version, _software_version()
        if recorded == running:
            return None
        return (f"recorded by omc {recorded}, re-run by omc {running}: the models changed between versions, "
                "which alone can make the runs differ")

    def mission_spec(self):
        """The recorded mission, rebuilt from the archive alone."""
        from engine.mission import load_mission_document

        return load_mission_document(json.loads(self.meta["mission_document"]), source=f"{self.path} (recorded mission)")

    def branches(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT id, parent, fork_step, created_utc, label FROM branches ORDER BY id").fetchall()
        return [dict(zip(("id", "parent", "fork_step", "created_utc", "label"), row)) for row in rows]

    def last_step(self, branch: int = 1) -> tuple[int, float] | None:
        """The last committed step of a branch and its mission time (None before the first commit)."""
        row = self._db.execute("SELECT step_index, time_s FROM progress WHERE branch = ?", (branch,)).fetchone()
        return None if row is None else (int(row[0]), float(row[1]))

    # ------------------------------------------------------------------------------------ contents

    def parameters(self, branch: int = 1) -> list[str]:
        return [row[0] for row in self._db.execute(
            "SELECT DISTINCT parameter FROM telemetry WHERE branch = ? ORDER BY parameter", (branch,))]

    def telemetry(self, parameter: str, branch: int = 1, from_s: float | None = None, to_s: float | None = None) -> TelemetrySeries:
        """Every sample of one parameter (between `from_s` and `to_s`, mission seconds, inclusive)."""
        samples = list(self.iter_telemetry(parameter, branch, from_s, to_s))
        if not samples and parameter not in self.settings.parameters:
            raise ArchiveError(f"{self.path}: {parameter!r} was not recorded (recorded: {', '.join(self.settings.parameters)})")
        steps = np.array([sample[0] for sample in samples], dtype=np.int64)
        times = np.array([sample[1] for sample in samples], dtype=float)
        values = np.stack([sample[2] for sample in samples]) if samples else np.empty((0,))
        return TelemetrySeries(parameter, steps, times, values)

    def iter_telemetry(self, parameter: str, branch: int = 1, from_s: float | None = None,
                       to_s: float | None = None) -> Iterator[tuple[int, float, np.ndarray]]:
        """The samples of one parameter one at a time, as ``(step_index, time_s, array)`` in step order
        (between `from_s` and `to_s`, inclusive): for exports of archives too big to hold in memory."""
        query = "SELECT step_index, time_s, dtype, shape, data FROM telemetry WHERE branch = ? AND parameter = ?"
        args: list[Any] = [branch, parameter]
        if from_s is not None:
            query, args = query + " AND time_s >= ?", [*args, from_s]
        if to_s is not None:
            query, args = query + " AND time_s <= ?", [*args, to_s]
        shapes: dict[str, tuple[int, ...]] = {}
        for step, time_s, dtype, shape, data in self._db.execute(query + " ORDER BY step_index", args):
            if shape not in shapes:
                shapes[shape] = tuple(json.loads(shape))
            yield int(step), float(time_s), np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shapes[shape])

    def sample_layout(self, parameter: str, branch: int = 1) -> tuple[np.dtype, tuple[int, ...]] | None:
        """The dtype and shape of one parameter's samples (None if it has none on this branch)."""
        row = self._db.execute("SELECT dtype, shape FROM telemetry WHERE branch = ? AND parameter = ? LIMIT 1",
                               (branch, parameter)).fetchone()
        return None if row is None else (np.dtype(row[0]), tuple(json.loads(row[1])))

    def samples_at(self, step_index: int, branch: int = 1) -> dict[str, np.ndarray]:
        """Every parameter sampled at one step."""
        rows = self._db.execute("SELECT parameter, dtype, shape, data FROM telemetry WHERE branch = ? AND step_index = ?",
                                (branch, step_index)).fetchall()
        return {row[0]: np.frombuffer(row[3], dtype=np.dtype(row[1])).reshape(json.loads(row[2])) for row in rows}

    def sample_steps(self, branch: int = 1) -> list[int]:
        return [row[0] for row in self._db.execute(
            "SELECT DISTINCT step_index FROM telemetry WHERE branch = ? ORDER BY step_index", (branch,))]

    def events(self, branch: int = 1) -> list[dict[str, Any]]:
        names = ("seq", "step_index", "time_s", "kind", "severity", "satellite", "message", "station", "gpu", "value",
                 "alarm_id", "job")
        rows = self._db.execute(f"SELECT {', '.join(names)} FROM events WHERE branch = ? ORDER BY seq", (branch,)).fetchall()
        return [dict(zip(names, row)) for row in rows]

    def event_count(self, branch: int = 1) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM events WHERE branch = ?", (branch,)).fetchone()[0])

    def iter_events(self, branch: int = 1, from_s: float | None = None, to_s: float | None = None) -> Iterator[dict[str, Any]]:
        """The events one at a time, in order (between `from_s` and `to_s`, inclusive), as :meth:`events`."""
        names = ("seq", "step_index", "time_s", "kind", "severity", "satellite", "message", "station", "gpu", "value",
                 "alarm_id", "job")
        query, args = f"SELECT {', '.join(names)} FROM events WHERE branch = ?", [branch]
        if from_s is not None:
            query, args = query + " AND time_s >= ?", [*args, from_s]
        if to_s is not None:
            query, args = query + " AND time_s <= ?", [*args, to_s]
        for row in self._db.execute(query + " ORDER BY seq", args):
            yield dict(zip(names, row))

    def iter_journal(self, branch: int = 1, from_s: float | None = None,
                     to_s: float | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """The journal one entry at a time, in order (between `from_s` and `to_s`, inclusive), as
        ``(seq, entry)`` with the entry as stored (``engine.journal.entry_to_dict``)."""
        query, args = "SELECT seq, entry FROM journal WHERE branch = ?", [branch]
        if from_s is not None:
            query, args = query + " AND time_s >= ?", [*args, from_s]
        if to_s is not None:
            query, args = query + " AND time_s <= ?", [*args, to_s]
        for seq, text in self._db.execute(query + " ORDER BY seq", args):
            try:
                entry = json.loads(text)
            except ValueError as error:
                raise ArchiveError(f"{self.path}: damaged journal: {error}") from None
            yield int(seq), entry

    def journal(self, branch: int = 1) -> list[JournalEntry]:
        rows = self._db.execute("SELECT entry FROM journal WHERE branch = ? ORDER BY seq", (branch,)).fetchall()
        try:
            return [entry_from_dict(json.loads(row[0])) for row in rows]
        except (ValueError, KeyError, TypeError) as error:
            raise ArchiveError(f"{self.path}: damaged journal: {error}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ArchiveReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def record_settings(parameters: Sequence[str] | None = None, period_s: float | None = None) -> ArchiveSettings:
    """Settings from command-line style options (None keeps the default)."""
    base = ArchiveSettings()
    return ArchiveSettings(tuple(parameters) if parameters else base.parameters,
                           base.telemetry_period_s if period_s is None else float(period_s))
