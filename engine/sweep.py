"""Monte-Carlo campaigns (``omc sweep``): many whole runs of one mission with parameter overrides and their
own seeds, run through joblib, one JSON-lines row per run.

The plan. A campaign is the mission document (includes merged, TLE files inlined: see
:func:`engine.mission.mission_document`), its ``[sweep]`` block (:class:`engine.mission.sweep_model.Sweep`)
and a campaign seed (``[sweep] seed``, default the mission seed). Run ``k`` (0-based):

* takes grid combination ``k mod G`` (``G`` the product of the grid's list lengths), combinations in
  ``itertools.product`` order over the grid keys as written: the last key varies fastest;
* has its own seed sequence, child ``k`` of ``numpy.random.SeedSequence(campaign_seed).spawn(runs)``
  (``entropy`` = the campaign seed, ``spawn_key`` = ``[k]``: the same whatever the run count, so a
  campaign can grow). That child spawns two: the first draws the ``[sweep.random]`` values (in the order
  written), the second gives the run's simulation seed (its first 64-bit word, shifted to 63 bits);
* runs the mission document with those overrides applied, ``[mission] seed`` set to that seed, and
  ``[mission] step`` / ``duration`` set from ``[sweep] step`` / ``until`` when given
  (:func:`run_document`): a plain mission, so ``omc run MISSION --sweep-run K`` reproduces it exactly.

Override paths are dotted keys of the document with 0-based indexes for arrays of tables:
``fault[0].rate_per_year``, ``workload.generator[1].gpus``, ``shell[0].hardware.battery_kwh`` (a missing
table or key is created, an array entry must exist). They are checked when the mission loads
(:func:`sweep_issues`): every grid value, every random distribution's bounds (and every combination of a
grid of at most 64), applied to the document, must make a valid mission.

Metrics (``[sweep] metrics``), read once at the run's end:

* ``report.<path>``: a value of the JSON run report (``engine.report.build_report``), e.g.
  ``report.jobs.completed``, ``report.fleet.min_soc`` (lowest over the run), ``report.score.value``,
  ``report.jobs.listed[0].state``. A key the report does not have is recorded as null.
* anything else: an expression of the condition language (``engine.conditions``, the namespace of
  ``engine.metrics_namespace``) evaluated on the final state (ground truth), e.g. ``fleet.gpus_failed``,
  ``jobs.goodput``, ``job('TRAIN').progress``, ``sat('A-01-01').battery_soc * 100``.

Failures (``[sweep] failures``, name -> condition), judged at the run's end into true/false: a condition of
the condition language (``"jobs.failed > 0"``, no ``for``), or ``{ metric, op, target }`` on any metric
above (a missing value is not a failure).

A row (:func:`run_one`, one per run; keys always in this order)::

    {"run": 3, "seed": 512..., "entropy": 7, "spawn_key": [3],
     "overrides": {"grid": {"fault[0].rate_per_year": 2000}, "random": {"workload...": 74.2}},
     "status": "ok", "error": null, "metrics": {...}, "failures": {"missed": false},
     "mission": "fault-campaign", "mission_hash": "6f0c...", "wall_s": 1.42}

``status`` is "error" (``error`` the message, metrics and failures empty) when the run raised: one run
never stops the campaign. ``mission_hash`` covers the resolved document and every sweep setting except
the run count, so a results file is resumed only by the same campaign.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.mission.errors import KeyPath, MissionError, MissionIssue, format_key_path
from engine.mission.sweep_model import PATH_PATTERN, FailureThreshold, RandomDraw, Sweep

ROW_FORMAT = 1
"""Version of the row layout; part of the mission hash, so a new layout never resumes an old file."""

DEFAULT_METRICS = (
    "report.fleet.min_soc",
    "report.fleet.max_gpu_temp_c",
    "report.fleet.gpus_failed",
    "report.fleet.gpu_hours_delivered",
    "report.fleet.goodput",
    "report.faults.injected",
    "report.jobs.completed",
    "report.jobs.failed",
)
"""Metrics of a campaign whose ``[sweep]`` names none (values a mission does not have are null)."""

REPORT_SECTIONS = (
    "report_version", "mission", "seed", "epoch", "end", "sim_seconds", "step_seconds", "steps", "models", "fleet",
    "satellites", "contacts", "gpu_health", "network", "alarms", "events", "jobs", "faults", "objectives", "score",
    "hints", "walkthrough", "servicing",
)
"""Top-level keys ``engine.report.build_report`` may write (checked by the tests), for ``report.`` metrics."""

GRID_COMBINATIONS_CHECKED = 64
"""Grids with at most this many combinations have every combination validated when the mission loads."""

_FORBIDDEN = {("sweep",): "the [sweep] block cannot override itself",
              ("include",): "includes are already merged into the document",
              ("mission", "seed"): "each run's seed comes from the campaign; set [sweep] seed instead"}


class SweepError(Exception):
    """A campaign that cannot start or resume (the message says why)."""


# --------------------------------------------------------------------------------------------- paths


def parse_path(text: str) -> KeyPath:
    """``"fault[0].rate_per_year"`` -> ``("fault", 0, "rate_per_year")``; ValueError for bad syntax."""
    if not isinstance(text, str) or not PATH_PATTERN.match(text):
        raise ValueError(f"{text!r} is not a dotted path such as 'fault[0].rate_per_year' or 'hardware.battery_kwh'")
    parts: list[str | int] = []
    for segment in text.split("."):
        name, *indexes = segment.replace("]", "").split("[")
        parts.append(name)
        parts.extend(int(index) for index in indexes)
    return tuple(parts)


def get_path(document: Any, path: KeyPath) -> Any:
    """The value at `path`, or None where a key or index is missing."""
    value = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return None
        elif not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def set_path(document: dict, path: KeyPath, value: Any) -> None:
    """Set `path` in `document` to `value` in place, creating missing tables; ValueError if the document's
    shape does not allow it (an index past the end, a key under a value that is not a table)."""
    node: Any = document
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        where = format_key_path(path[:depth]) or "the document"
        if isinstance(part, int):
            if not isinstance(node, list):
                raise ValueError(f"{where} is not an array, so [{part}] does not apply")
            if part >= len(node):
                raise ValueError(f"{where} has {len(node)} entr{'y' if len(node) == 1 else 'ies'}, so there is no [{part}]")
        else:
            if not isinstance(node, dict):
                raise ValueError(f"{where} is not a table, so .{part} does not apply")
            if part not in node and not last:
                if isinstance(path[depth + 1], int):
                    raise ValueError(f"the mission has no {format_key_path(path[:depth + 1])} array")
                node[part] = {}
        if last:
            node[part] = value
        else:
            node = node[part]


# ---------------------------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class PlanItem:
    """What one run needs besides the mission document (picklable, shipped to a worker)."""

    run: int
    seed: int
    entropy: int
    spawn_key: tuple[int, ...]
    grid: Mapping[str, Any]
    random: Mapping[str, Any]
    mission: str
    mission_hash: str

    def overrides(self) -> dict[str, Any]:
        """Every override of the run, grid first, as path -> value."""
        return {**self.grid, **self.random}


def _native(value: Any) -> Any:
    """A numpy scalar as the Python value (JSON and TOML take only those)."""
    return value.item() if isinstance(value, np.generic) else value


def draw(spec: RandomDraw, rng: np.random.Generator) -> Any:
    """One value of a ``[sweep.random]`` distribution."""
    if spec.dist == "uniform":
        return float(rng.uniform(spec.low, spec.high))
    if spec.dist == "loguniform":
        return float(math.exp(rng.uniform(math.log(spec.low), math.log(spec.high))))
    if spec.dist == "normal":
        return float(rng.normal(spec.mean, spec.std))
    if spec.dist == "integers":
        return int(rng.integers(int(spec.low), int(spec.high), endpoint=True))
    return _native(spec.values[int(rng.integers(len(spec.values)))])  # choice


@dataclass(frozen=True)
class Campaign:
    """A mission's campaign: the document, its validated ``[sweep]`` block (an empty one when the mission
    has none), the campaign seed and the hash that identifies the campaign in results files."""

    document: dict[str, Any]
    source: str
    sweep: Sweep
    seed: int
    hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash", campaign_hash(self.document, self.sweep, self.seed))

    @property
    def mission_id(self) -> str:
        return str(self.document["mission"]["id"])

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.sweep.metrics) or DEFAULT_METRICS

    @property
    def grid_size(self) -> int:
        return math.prod(len(values) for values in self.sweep.grid.values())

    def grid_point(self, run: int) -> dict[str, Any]:
        """Grid values of run `run`: combination ``run mod grid_size``, last key fastest."""
        if not self.sweep.grid:
            return {}
        index = run % self.grid_size
        point = {}
        for key, values in reversed(list(self.sweep.grid.items())):
            index, position = divmod(index, len(values))
            point[key] = _native(values[position])
        return dict(reversed(list(point.items())))

    def item(self, run: int) -> PlanItem:
        """Run `run` of the campaign (any run number: it does not depend on how many runs there are)."""
        if run < 0:
            raise ValueError("run numbers start at 0")
        child = np.random.SeedSequence(self.seed, spawn_key=(run,))
        draws, simulation = child.spawn(2)
        rng = np.random.default_rng(draws)
        values = {key: draw(spec, rng) for key, spec in self.sweep.random.items()}
        seed = int(simulation.generate_state(1, np.uint64)[0] >> np.uint64(1))
        return PlanItem(run=run, seed=seed, entropy=int(child.entropy), spawn_key=tuple(int(k) for k in child.spawn_key),
                        grid=self.grid_point(run), random=values, mission=self.mission_id, mission_hash=self.hash)

    def plan(self, runs: Iterable[int]) -> list[PlanItem]:
        return [self.item(run) for run in runs]


def campaign_hash(document: Mapping[str, Any], sweep: Sweep, seed: int) -> str:
    """Hex digest (16 digits) of the resolved mission (without its [sweep] block) and every sweep setting
    that changes a row: seed, step, until, grid and random (in order), metrics, failures; not the run count."""
    payload = {
        "format": ROW_FORMAT,
        "mission": {key: value for key, value in document.items() if key != "sweep"},
        "sweep": {
            "seed": seed, "step": sweep.step, "until": sweep.until,
            "grid": [[key, values] for key, values in sweep.grid.items()],
            "random": [[key, spec.model_dump(exclude_none=True)] for key, spec in sweep.random.items()],
            "metrics": list(sweep.metrics) or list(DEFAULT_METRICS),
            "failures": [[name, spec if isinstance(spec, str) else spec.model_dump()] for name, spec in sweep.failures.items()],
        },
    }
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def campaign_from_document(document: dict[str, Any], source: str | Path, seed: int | None = None) -> Campaign:
    """The campaign of a (validated) mission document; `seed` overrides the campaign seed."""
    sweep = Sweep.model_validate(document.get("sweep", {}))
    if seed is None:
        seed = sweep.seed if sweep.seed is not None else int(document["mission"].get("seed", 0))
    if not 0 <= int(seed) < 2**63:
        raise SweepError(f"the campaign seed must be between 0 and 2**63 - 1, got {seed}")
    return Campaign(document=document, source=str(source), sweep=sweep, seed=int(seed))


def load_campaign(mission: str | Path, seed: int | None = None) -> Campaign:
    """The campaign of a mission file or bundled mission id (validated: a bad mission raises MissionError)."""
    from engine.mission import mission_document, resolve_mission_path

    path = resolve_mission_path(mission)
    return campaign_from_document(mission_document(path), path, seed)


def run_document(document: Mapping[str, Any], item: PlanItem) -> dict[str, Any]:
    """The plain mission document of one run: `document` without its [sweep] block, the run's overrides
    applied, ``[mission] seed`` the run's seed, ``step`` and ``duration`` from ``[sweep] step``/``until``."""
    sweep = document.get("sweep", {})
    result = copy.deepcopy({key: value for key, value in document.items() if key != "sweep"})
    for key, value in item.overrides().items():
        set_path(result, parse_path(key), copy.deepcopy(value))
    mission = result.setdefault("mission", {})
    mission["seed"] = item.seed
    if "step" in sweep:
        mission["step"] = sweep["step"]
    if "until" in sweep:
        mission["duration"] = sweep["until"]
    return result


def run_spec(document: Mapping[str, Any], item: PlanItem, source: str | Path = "<sweep>"):
    """The MissionSpec of one run (MissionError if its overrides make an invalid mission)."""
    from engine.mission import load_mission_document

    return load_mission_document(run_document(document, item), source)


# ------------------------------------------------------------------------------------ metrics, failures


def _is_report(text: str) -> bool:
    return text == "report" or text.startswith("report.") or text.startswith("report[")


def _json_value(value: Any, what: str) -> Any:
    value = _native(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dict, list, tuple)):
        keys = f" (keys: {', '.join(map(str, value))})" if isinstance(value, dict) else ""
        raise ValueError(f"metric {what} is a {'table' if isinstance(value, dict) else 'list'}, not a value; "
                         f"name one of its entries{keys}")
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise ValueError(f"metric {what} has a value of type {type(value).__name__}")
    return value


class _Reader:
    """Reads metrics from a finished simulation: the report built once if needed, the condition
    namespace on the final state (ground truth)."""

    def __init__(self, sim):
        from engine.metrics_namespace import SimulationMetrics

        self._sim = sim
        self._source = SimulationMetrics(sim, view="truth")
        self._report: dict | None = None
        self._parsed: dict[str, Any] = {}

    def metric(self, text: str) -> Any:
        if _is_report(text):
            if self._report is None:
                from engine.report import build_report

                self._report = build_report(self._sim)
            path = parse_path(text)[1:]
            return _json_value(get_path(self._report, path), text)
        if text not in self._parsed:
            from engine.conditions import parse_metric

            self._parsed[text] = parse_metric(text)
        return _json_value(self._parsed[text].evaluate(self._source), text)

    def failure(self, spec: str | FailureThreshold) -> bool:
        if isinstance(spec, str):
            from engine.conditions import parse_condition

            return bool(parse_condition(spec).evaluate(self._source))
        return compare(self.metric(spec.metric), spec.op, spec.target)


def compare(value: Any, op: str, target: Any) -> bool:
    """``value op target`` with the condition language's rules: a missing value never holds; ordering
    needs numbers (ValueError otherwise)."""
    if value is None:
        return False
    if op in ("==", "!="):
        equal = value == target and isinstance(value, bool) == isinstance(target, bool)
        return equal if op == "==" else not equal
    if isinstance(value, (bool, str)) or isinstance(target, (bool, str)):
        raise ValueError(f"cannot order {value!r} and {target!r} with {op!r}")
    return {"<": value < target, "<=": value <= target, ">": value > target, ">=": value >= target}[op]


# ------------------------------------------------------------------------------------------ one run


def run_one(mission_document: Mapping[str, Any], source: str | Path, item: PlanItem) -> dict[str, Any]:
    """Run one campaign run headless from its start to its end and return its row. Never raises for a
    failing run: the row's status is then "error" with the message."""
    from engine.runner import run_headless

    started = time.perf_counter()
    row: dict[str, Any] = {
        "run": item.run, "seed": item.seed, "entropy": item.entropy, "spawn_key": list(item.spawn_key),
        "overrides": {"grid": dict(item.grid), "random": dict(item.random)},
        "status": "ok", "error": None, "metrics": {}, "failures": {},
        "mission": item.mission, "mission_hash": item.mission_hash,
    }
    try:
        sweep = Sweep.model_validate(mission_document.get("sweep", {}))
        sim = run_headless(run_spec(mission_document, item, source))
        reader = _Reader(sim)
        metrics = {text: reader.metric(text) for text in (tuple(sweep.metrics) or DEFAULT_METRICS)}
        failures = {name: reader.failure(spec) for name, spec in sweep.failures.items()}
        row["metrics"], row["failures"] = metrics, failures
    except Exception as error:  # noqa: BLE001 - a run's failure is a row, never the campaign's end
        message = str(error) or type(error).__name__
        row.update(status="error", error=f"{type(error).__name__}: {message}", metrics={}, failures={})
    row["wall_s"] = round(time.perf_counter() - started, 3)
    return row


# ------------------------------------------------------------------------------------------ execution


def _exit_with_parent(parent_pid: int) -> None:
    """Initializer of the loky workers: a thread that ends the worker once the process that started the
    campaign is gone (a SIGKILL gives the pool no chance to stop its workers, which would otherwise finish
    their run and wait for work for minutes)."""
    import threading

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="omc-sweep-parent-watch", daemon=True).start()


def run_campaign(campaign: Campaign, items: Sequence[PlanItem], workers: int | None = None,
                 dask: Any = None) -> Iterator[dict[str, Any]]:
    """Rows of `items` as the runs finish (in no particular order), through ``joblib.Parallel``: a loky
    process pool of `workers` (default: every CPU; 1 runs in this process), or the Dask cluster at `dask`
    (a scheduler address such as ``tcp://host:8786``, or a ``distributed.Client``). Closing the generator
    early stops the campaign (pending runs are cancelled)."""
    from joblib import Parallel, cpu_count, delayed, parallel_config

    tasks = (delayed(run_one)(campaign.document, campaign.source, item) for item in items)
    if dask is None:
        n_jobs = cpu_count() if workers is None else int(workers)
        if n_jobs < 1:
            raise SweepError(f"--workers must be at least 1, got {n_jobs}")
        # One BLAS thread per worker: the runs are the parallelism (and results must not depend on it).
        with parallel_config(backend="loky", inner_max_num_threads=1, initializer=_exit_with_parent,
                             initargs=(os.getpid(),)):
            yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1)(tasks)
        return
    from distributed import Client

    own = not isinstance(dask, Client)
    client = Client(dask, set_as_default=False) if own else dask
    try:
        n_jobs = -1 if workers is None else int(workers)
        with parallel_config(backend="dask", client=client):
            yield from Parallel(n_jobs=n_jobs, return_as="generator_unordered", batch_size=1)(tasks)
    finally:
        if own:
            client.close()


# ---------------------------------------------------------------------------------------- results file


def default_results_path(campaign: Campaign) -> Path:
    """``sweeps/<mission id>-<campaign hash>.jsonl`` under the current directory: the same campaign always
    resumes into the same file, a changed mission or sweep starts a new one."""
    return Path("sweeps") / f"{campaign.mission_id}-{campaign.hash[:8]}.jsonl"


@dataclass
class Results:
    """The rows of a results file (one per run: its first row, or the row of a run retried after an
    error), and what was wrong with its tail."""

    rows: list[dict[str, Any]]
    good_bytes: int
    """Length of the file up to the end of its last complete line."""
    torn_bytes: int
    """Bytes after the last complete line (a run being written when the campaign was killed)."""
    duplicates: int = 0
    retried: int = 0
    """Runs whose error row a later row replaced (``omc sweep --retry-errors``)."""

    @property
    def runs(self) -> set[int]:
        return {row["run"] for row in self.rows}


def read_results(path: str | Path) -> Results:
    """Read a results file (an absent file has no rows). A torn last line is reported, not read; any other
    line that is not a row raises SweepError naming the line."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Results([], 0, 0)
    except OSError as error:
        raise SweepError(f"{path}: cannot read: {error.strerror or error}") from None
    end = data.rfind(b"\n") + 1
    rows: list[dict[str, Any]] = []
    seen: dict[int, int] = {}  # run -> its position in rows
    duplicates = retried = 0
    for number, line in enumerate(data[:end].split(b"\n")[:-1], start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise SweepError(f"{path}:{number}: not a JSON row ({error}); is this a sweep results file?") from None
        if not isinstance(row, dict) or not isinstance(row.get("run"), int) or "mission_hash" not in row:
            raise SweepError(f"{path}:{number}: not a sweep row (a row has 'run' and 'mission_hash')")
        kept = seen.get(row["run"])
        if kept is not None:
            if rows[kept].get("status") == "error":  # the run ran again after an error: the new row counts
                rows[kept] = row
                retried += 1
            else:
                duplicates += 1
            continue
        seen[row["run"]] = len(rows)
        rows.append(row)
    return Results(rows, end, len(data) - end, duplicates, retried)


def check_resumable(results: Results, campaign: Campaign, path: str | Path) -> None:
    """SweepError unless every row of `results` belongs to `campaign`."""
    for row in results.rows:
        if row.get("mission_hash") != campaign.hash:
            raise SweepError(
                f"{path} holds runs of a different campaign (run {row['run']} has mission hash "
                f"{row.get('mission_hash')}, this mission and sweep give {campaign.hash}): the mission, an included "
                "file or a [sweep] setting changed since it was written. Use another --out file (or delete this one) "
                "to start the campaign again.")


class ResultsWriter:
    """Appends rows to a results file, one JSON line each, flushed and fsynced per row, under an exclusive
    lock (a second ``omc sweep`` on the same file is refused). A torn last line is cut off first."""

    def __init__(self, path: str | Path, results: Results):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "ab")
        try:
            self._lock()
            if results.torn_bytes:
                self._file.truncate(results.good_bytes)
        except BaseException:
            self._file.close()
            raise

    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SweepError(f"{self.path} is being written by another omc sweep") from None

    def write(self, row: Mapping[str, Any]) -> None:
        line = json.dumps(row, separators=(", ", ": "), ensure_ascii=False, allow_nan=False) + "\n"
        self._file.write(line.encode("utf-8"))
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "ResultsWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------------------------ load-time checks


def sweep_issues(document: Mapping[str, Any], sweep: Sweep, spec, located: Mapping, path: Path) -> list[MissionIssue]:
    """Problems of a mission's [sweep] block against the mission itself (`spec`, already valid): override
    paths and values, metrics and failure conditions, each at the sweep key's file and line."""
    from engine.mission.loader import _issue_at

    issues: list[MissionIssue] = []
    base = {key: value for key, value in document.items() if key != "sweep"}

    def issue(key_path: KeyPath, message: str) -> None:
        issues.append(_issue_at(located, path, key_path, message))

    def check(overrides: dict[KeyPath, Any]) -> str | None:
        from engine.mission import load_mission_document

        trial = copy.deepcopy(base)
        try:
            for key_path, value in overrides.items():
                set_path(trial, key_path, copy.deepcopy(value))
            load_mission_document(trial, path)
        except ValueError as error:
            return str(error)
        except MissionError as error:
            return "; ".join(f"{format_key_path(i.key_path)}: {i.message}" if i.key_path else i.message
                             for i in error.issues)
        return None

    paths: dict[str, KeyPath] = {}
    for table in ("grid", "random"):
        for key in getattr(sweep, table):
            where = ("sweep", table, key)
            try:
                parsed = parse_path(key)
            except ValueError as error:
                issue(where, str(error))
                continue
            refused = next((why for prefix, why in _FORBIDDEN.items() if parsed[: len(prefix)] == prefix), None)
            if refused:
                issue(where, refused)
            elif key in paths:
                issue(where, "is both a grid and a random override; give it one of them")
            else:
                paths[key] = parsed

    for key, values in sweep.grid.items():
        if key not in paths:
            continue
        for index, value in enumerate(values):
            problem = check({paths[key]: value})
            if problem:
                issue(("sweep", "grid", key, index), f"{key} = {value!r} makes an invalid mission: {problem}")
    for key, spec_ in sweep.random.items():
        if key not in paths:
            continue
        if spec_.dist == "choice":
            trials = [(("sweep", "random", key, "values", i), v) for i, v in enumerate(spec_.values)]
        elif spec_.dist == "normal":
            trials = [(("sweep", "random", key, "mean"), spec_.mean)]
        else:
            kind = int if spec_.dist == "integers" else float
            trials = [(("sweep", "random", key, bound), kind(getattr(spec_, bound))) for bound in ("low", "high")]
        for where, value in trials:
            problem = check({paths[key]: value})
            if problem:
                issue(where, f"{key} = {value!r} ({where[-1]}) makes an invalid mission: {problem}")
    valid_grid = [key for key in sweep.grid if key in paths]
    if not issues and len(valid_grid) > 1:
        combos = math.prod(len(sweep.grid[key]) for key in valid_grid)
        if combos <= GRID_COMBINATIONS_CHECKED:
            for values in itertools.product(*(sweep.grid[key] for key in valid_grid)):
                problem = check({paths[key]: value for key, value in zip(valid_grid, values)})
                if problem:
                    combination = ", ".join(f"{key} = {value!r}" for key, value in zip(valid_grid, values))
                    issue(("sweep", "grid"), f"the combination {combination} makes an invalid mission: {problem}")
                    break

    for index, text in enumerate(sweep.metrics):
        problem = metric_problem(text, spec)
        if problem:
            issue(("sweep", "metrics", index), problem)
    for name, failure in sweep.failures.items():
        if isinstance(failure, str):
            problem = condition_problem(failure, spec)
            if problem:
                issue(("sweep", "failures", name), problem)
        else:
            problem = metric_problem(failure.metric, spec)
            if problem:
                issue(("sweep", "failures", name, "metric"), problem)
    return issues


def metric_problem(text: str, spec) -> str | None:
    """Why `text` is not a metric of the mission `spec` (None if it is)."""
    from engine.conditions import ConditionError, parse_metric
    from engine.metrics_namespace import check_mission_ids

    if _is_report(text):
        try:
            path = parse_path(text)
        except ValueError as error:
            return str(error)
        if len(path) < 2:
            return "name a value of the report, e.g. 'report.jobs.completed'"
        if path[1] not in REPORT_SECTIONS:
            import difflib

            close = difflib.get_close_matches(str(path[1]), REPORT_SECTIONS, n=1)
            hint = f"; did you mean 'report.{close[0]}'?" if close else f" (sections: {', '.join(REPORT_SECTIONS)})"
            return f"the run report has no section {path[1]!r}{hint}"
        return None
    try:
        expression = parse_metric(text)
        check_mission_ids(expression, spec)
    except ConditionError as error:
        return f"{error} (a metric is 'report.<path>' or an expression such as 'fleet.gpus_failed')"
    return None


def condition_problem(text: str, spec) -> str | None:
    """Why `text` is not a failure condition of the mission `spec` (None if it is)."""
    from engine.conditions import ConditionError, parse_condition
    from engine.metrics_namespace import check_mission_ids

    try:
        condition = parse_condition(text)
        check_mission_ids(condition, spec)
    except ConditionError as error:
        return str(error)
    if condition.hold_s is not None:
        return "a failure is judged once, at the run's end: 'for' does not apply"
    return None
