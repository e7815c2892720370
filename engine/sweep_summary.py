"""Statistics of a campaign's rows (``omc sweep``'s summary table, ``omc sweep --summary FILE``).

Computed from the rows alone, sorted by run number first, so the result does not depend on the order in
which the runs finished. Errored runs are counted and left out of every statistic.

* A numeric metric (ints and floats, not true/false): n (runs with a value), mean, sample standard
  deviation (ddof 1), min, the 5th, 50th and 95th percentiles (numpy's default linear interpolation),
  max, and a two-sided 95 % confidence interval of the mean from Student's t with n - 1 degrees of
  freedom (none for n < 2). Missing values (null) are counted apart.
* A true/false metric: the share of runs where it is true, with a Wilson interval.
* A text metric: how many runs gave each value.
* A failure: k failed runs of n, the probability k/n and its Wilson score interval
  (``center = (p + z²/2n) / (1 + z²/n)``, ``half-width = z / (1 + z²/n) * sqrt(p(1-p)/n + z²/4n²)``,
  ``z`` the 97.5 % normal quantile), which stays inside [0, 1] and is sensible at k = 0 or k = n.
* With a grid, the same failure probabilities and the metric means for each grid point.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CONFIDENCE = 0.95


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion; (0, 1) without trials."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and {trials}, got {successes}")
    z = _z(confidence)
    p = successes / trials
    denominator = 1.0 + z * z / trials
    center = (p + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, center - half), min(1.0, center + half)


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Student-t confidence interval of the mean (None for fewer than two values)."""
    n = len(values)
    if n < 2:
        return None
    from scipy.stats import t

    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    sem = float(data.std(ddof=1)) / math.sqrt(n)
    half = float(t.ppf(0.5 + confidence / 2.0, n - 1)) * sem
    return mean - half, mean + half


@dataclass(frozen=True)
class NumericStats:
    name: str
    n: int
    missing: int
    mean: float
    std: float | None
    min: float
    p5: float
    p50: float
    p95: float
    max: float
    ci: tuple[float, float] | None


@dataclass(frozen=True)
class Proportion:
    name: str
    k: int
    n: int
    interval: tuple[float, float]

    @property
    def p(self) -> float | None:
        return self.k / self.n if self.n else None


@dataclass(frozen=True)
class Categories:
    name: str
    counts: tuple[tuple[str, int], ...]
    missing: int


@dataclass(frozen=True)
class GridPoint:
    values: Mapping[str, Any]
    runs: int
    failures: tuple[Proportion, ...]
    means: Mapping[str, float | None]


@dataclass(frozen=True)
class CampaignSummary:
    mission: str | None
    mission_hashes: tuple[str, ...]
    runs: int
    ok: int
    errors: tuple[tuple[int, str], ...]
    """(run, message) of every errored run."""
    numeric: tuple[NumericStats, ...]
    flags: tuple[Proportion, ...]
    """True/false metrics: share of runs where true."""
    categories: tuple[Categories, ...]
    empty: tuple[str, ...]
    """Metrics with no value in any run."""
    failures: tuple[Proportion, ...]
    grid: tuple[GridPoint, ...] = field(default=())
    wall_s: float = 0.0
    """Sum of the runs' wall times (CPU-seconds of simulation, roughly)."""


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def numeric_stats(name: str, values: Sequence[Any]) -> NumericStats:
    """Distribution of the non-missing values of one metric (at least one)."""
    present = [float(v) for v in values if v is not None]
    data = np.asarray(present, dtype=float)
    p5, p50, p95 = (float(x) for x in np.percentile(data, [5, 50, 95]))
    return NumericStats(
        name=name, n=len(present), missing=len(values) - len(present), mean=float(data.mean()),
        std=float(data.std(ddof=1)) if len(present) > 1 else None, min=float(data.min()), p5=p5, p50=p50, p95=p95,
        max=float(data.max()), ci=mean_interval(present),
    )


def _in_order(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))


def summarise(rows: Iterable[Mapping[str, Any]], confidence: float = CONFIDENCE) -> CampaignSummary:
    """The summary of a campaign's rows (any order; a run appearing twice counts once, its first row)."""
    by_run: dict[int, Mapping[str, Any]] = {}
    for row in rows:
        by_run.setdefault(int(row["run"]), row)
    ordered = [by_run[run] for run in sorted(by_run)]
    ok = [row for row in ordered if row.get("status") == "ok"]
    errors = tuple((int(row["run"]), str(row.get("error") or "error")) for row in ordered if row.get("status") != "ok")

    metric_names = _in_order(name for row in ok for name in row.get("metrics", {}))
    numeric, flags, categories, empty = [], [], [], []
    for name in metric_names:
        values = [row.get("metrics", {}).get(name) for row in ok]
        present = [v for v in values if v is not None]
        if not present:
            empty.append(name)
        elif all(_numeric(v) for v in present):
            numeric.append(numeric_stats(name, values))
        elif all(isinstance(v, bool) for v in present):
            k = sum(present)
            flags.append(Proportion(name, k, len(present), wilson_interval(k, len(present), confidence)))
        else:
            counts = Counter(str(v) for v in present)
            categories.append(Categories(name, tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
                                         len(values) - len(present)))

    def proportions(selected: Sequence[Mapping[str, Any]]) -> tuple[Proportion, ...]:
        names = _in_order(name for row in ok for name in row.get("failures", {}))
        result = []
        for name in names:
            judged = [row["failures"][name] for row in selected if name in row.get("failures", {})]
            k = sum(bool(v) for v in judged)
            result.append(Proportion(name, k, len(judged), wilson_interval(k, len(judged), confidence)))
        return tuple(result)

    grid: list[GridPoint] = []
    points = _in_order(_grid_key(row) for row in ok)  # in order of their first run
    if len(points) > 1 or (points and points[0] != "{}"):
        for point in points:
            selected = [row for row in ok if _grid_key(row) == point]
            means = {}
            for stats in numeric:
                values = [row["metrics"].get(stats.name) for row in selected]
                present = [float(v) for v in values if _numeric(v)]
                means[stats.name] = float(np.mean(present)) if present else None
            grid.append(GridPoint(selected[0].get("overrides", {}).get("grid", {}), len(selected),
                                  proportions(selected), means))

    return CampaignSummary(
        mission=next((row.get("mission") for row in ordered if row.get("mission")), None),
        mission_hashes=tuple(_in_order(str(row.get("mission_hash")) for row in ordered)),
        runs=len(ordered), ok=len(ok), errors=errors, numeric=tuple(numeric), flags=tuple(flags),
        categories=tuple(categories), empty=tuple(empty), failures=proportions(ok), grid=tuple(grid),
        wall_s=float(sum(float(row.get("wall_s") or 0.0) for row in ordered)),
    )


def _grid_key(row: Mapping[str, Any]) -> str:
    import json

    return json.dumps(row.get("overrides", {}).get("grid", {}), sort_keys=True, default=str)
