"""Campaign statistics (engine.sweep_summary) against hand-computed values and scipy."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats

from engine.sweep_summary import mean_interval, numeric_stats, summarise, wilson_interval


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (1, 1), (17, 40), (250, 1000)])
def test_wilson_interval_matches_scipy(k, n):
    expected = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(expected.low, abs=1e-12) and high == pytest.approx(expected.high, abs=1e-12)


def test_wilson_interval_by_hand():
    z = 1.959963984540054
    # no failure in 10 runs: the interval is [0, z²/(n + z²)]
    assert wilson_interval(0, 10) == pytest.approx((0.0, z * z / (10 + z * z)))
    # 5 of 10: symmetric about 1/2 with half-width z/(1+z²/n) * sqrt(1/4n + z²/4n²)
    half = z / (1 + z * z / 10) * math.sqrt(0.25 / 10 + z * z / 400)
    assert wilson_interval(5, 10) == pytest.approx((0.5 - half, 0.5 + half))
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(4, 3)


def test_mean_interval_is_students_t():
    values = [0.91, 0.87, 0.95, 0.78, 0.88, 0.93, 0.81]
    expected = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert mean_interval(values) == pytest.approx(expected, abs=1e-12)
    # by hand for [1, 2, 3]: mean 2, s = 1, t(0.975, 2) = 4.302652729911275
    assert mean_interval([1, 2, 3]) == pytest.approx((2 - 4.302652729911275 / math.sqrt(3), 2 + 4.302652729911275 / math.sqrt(3)))
    assert mean_interval([5.0]) is None


def test_numeric_stats_distribution_and_missing_values():
    values = [4, None, 1, 3, 2, None, 5]
    s = numeric_stats("m", values)
    assert (s.n, s.missing, s.mean, s.min, s.max, s.p50) == (5, 2, 3.0, 1.0, 5.0, 3.0)
    assert s.std == pytest.approx(math.sqrt(2.5))
    assert (s.p5, s.p95) == pytest.approx((1.2, 4.8)), "numpy's linear interpolation"
    single = numeric_stats("m", [7])
    assert single.std is None and single.ci is None and single.p5 == 7


def _row(run, grid, metrics, failures, status="ok"):
    return {"run": run, "seed": run, "entropy": 1, "spawn_key": [run], "overrides": {"grid": grid, "random": {}},
            "status": status, "error": None if status == "ok" else "ValueError: boom", "metrics": metrics,
            "failures": failures, "mission": "m", "mission_hash": "h", "wall_s": 0.5}


def test_summary_counts_errors_apart_groups_by_grid_point_and_ignores_row_order():
    rows = []
    for run in range(20):
        grid = {"rate": [1, 5][run % 2]}
        rows.append(_row(run, grid, {"goodput": 0.9 - 0.01 * run, "state": "OK" if run % 3 else "LATE",
                                     "flag": run % 4 == 0, "never": None},
                         {"lost": run % 2 == 1 and run % 5 != 0}))
    rows[7] = _row(7, {"rate": 5}, {}, {}, status="error")
    summary = summarise(rows)
    shuffled = rows[::-1] + [rows[3]]  # any order, and a run written twice counts once
    random.Random(1).shuffle(shuffled)
    assert summarise(shuffled) == summary
    assert (summary.runs, summary.ok, summary.errors) == (20, 19, ((7, "ValueError: boom"),))
    (goodput,) = summary.numeric
    ok_values = [0.9 - 0.01 * run for run in range(20) if run != 7]
    assert goodput.n == 19 and goodput.mean == pytest.approx(np.mean(ok_values))
    (lost,) = summary.failures
    failed = sum(1 for run in range(20) if run != 7 and run % 2 == 1 and run % 5 != 0)
    assert (lost.k, lost.n) == (failed, 19) and lost.interval == wilson_interval(failed, 19)
    (flag,) = summary.flags
    assert (flag.k, flag.n) == (5, 19)
    (state,) = summary.categories
    assert dict(state.counts) == {"OK": 12, "LATE": 7}
    assert summary.empty == ("never",)
    assert [dict(point.values) for point in summary.grid] == [{"rate": 1}, {"rate": 5}]
    slow = summary.grid[1]
    assert slow.runs == 9 and slow.failures[0].k == failed and summary.grid[0].failures[0].k == 0
    assert slow.means["goodput"] == pytest.approx(np.mean([0.9 - 0.01 * run for run in range(1, 20, 2) if run != 7]))
