"""The laser-link state machine (engine.isl_links) on hand-built link tables: acquisition times, loss of
geometry, random loss of lock at its configured rate, range degradation, operator and fault states, and
the table merge of dynamic topologies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.isl_links import IslLinks, IslParams, LinkState, link_rate_gbps

QUANTILE_REL = 0.08
"""Sample median and 95th percentile of 4,000 acquisition times within 8 % of the configured values."""
POISSON_SIGMAS = 4.0


def table(links: int = 3, **params) -> IslLinks:
    a = np.arange(links)
    return IslLinks(links + 1, a, a + 1, IslParams(**params), np.random.default_rng(5))


def states(links: IslLinks) -> list[LinkState]:
    return [LinkState(int(s)) for s in links.state]


def test_settle_puts_closable_links_up_without_transitions():
    links = table()
    links.settle(np.array([True, False, True]), np.array([1000.0, 1000.0, 9000.0]))
    assert states(links) == [LinkState.UP, LinkState.DOWN, LinkState.DEGRADED]  # 9,000 km: rate (5/9)² < 0.5


def test_acquisition_then_up_at_the_exact_acquisition_time():
    links = table(1, drop_rate_per_day=0.0)
    closable, distance = np.array([True]), np.array([1000.0])
    first = links.step(0.0, 10.0, closable, distance)
    assert [(t.before, t.after, t.time_s) for t in first] == [(LinkState.DOWN, LinkState.ACQUIRING, 10.0)]
    done_at = float(links.acquired_at_s[0])
    assert done_at > 10.0
    t, transitions = 10.0, []
    while not transitions:
        transitions = links.step(t, t + 10.0, closable, distance)
        t += 10.0
    assert transitions[0].after == LinkState.UP and transitions[0].time_s == done_at
    assert links.carrying().tolist() == [True]


def test_acquisition_times_follow_the_configured_lognormal():
    links = table(4000, acquisition_median_s=20.0, acquisition_p95_s=60.0, drop_rate_per_day=0.0)
    links.step(0.0, 1.0, np.ones(4000, dtype=bool), np.full(4000, 100.0))
    durations = links.acquired_at_s - 1.0
    assert np.median(durations) == pytest.approx(20.0, rel=QUANTILE_REL)
    assert np.quantile(durations, 0.95) == pytest.approx(60.0, rel=QUANTILE_REL)


def test_losing_geometry_takes_acquiring_and_up_links_down():
    links = table(2, drop_rate_per_day=0.0)
    links.settle(np.array([True, False]), np.full(2, 1000.0))
    links.step(0.0, 10.0, np.array([True, True]), np.full(2, 1000.0))  # link 1 starts acquiring
    assert states(links) == [LinkState.UP, LinkState.ACQUIRING]
    out = links.step(10.0, 20.0, np.array([False, False]), np.full(2, 1000.0))
    assert states(links) == [LinkState.DOWN, LinkState.DOWN]
    assert {(t.before, t.after) for t in out} == {(LinkState.UP, LinkState.DOWN), (LinkState.ACQUIRING, LinkState.DOWN)}
    assert all(math.isinf(x) for x in links.acquired_at_s)


def test_random_loss_of_lock_happens_at_the_configured_rate_and_reacquires():
    rate_per_day = 50.0
    count, dt, steps = 200, 60.0, 24 * 60
    links = table(count, drop_rate_per_day=rate_per_day)
    closable, distance = np.ones(count, dtype=bool), np.full(count, 1000.0)
    links.settle(closable, distance)
    lost = 0
    up_s = 0.0
    for k in range(steps):
        up_s += dt * links.carrying().sum()
        lost += sum(1 for t in links.step(k * dt, (k + 1) * dt, closable, distance) if t.cause == "lost lock")
    expected = rate_per_day / 86400.0 * up_s  # exposure counts only time spent carrying
    assert abs(lost - expected) < POISSON_SIGMAS * math.sqrt(expected)
    assert links.carrying().mean() > 0.95  # they re-acquire


def test_rate_falls_with_the_square_of_range_and_degrades_then_recovers():
    params = IslParams(reference_range_km=5000.0, degraded_below_fraction=0.5, drop_rate_per_day=0.0)
    assert link_rate_gbps(np.array([1000.0, 5000.0, 10000.0]), params).tolist() == [100.0, 100.0, 25.0]
    links = IslLinks(2, np.array([0]), np.array([1]), params, np.random.default_rng(1))
    links.settle(np.array([True]), np.array([4000.0]))
    links.step(0.0, 10.0, np.array([True]), np.array([7500.0]))
    assert states(links) == [LinkState.DEGRADED]
    links.step(10.0, 20.0, np.array([True]), np.array([6000.0]))
    assert states(links) == [LinkState.UP]


def test_disabled_and_failed_links_ignore_geometry_until_enabled_or_repaired():
    links = table(2, drop_rate_per_day=0.0)
    links.settle(np.ones(2, dtype=bool), np.full(2, 1000.0))
    version = links.version
    assert links.disable(0, 5.0).after == LinkState.DISABLED
    assert links.fail(1, 5.0, "terminal failure").after == LinkState.FAILED
    assert links.version > version
    for k in range(5):
        assert links.step(10.0 * k + 5, 10.0 * k + 15, np.ones(2, dtype=bool), np.full(2, 1000.0)) == []
    assert states(links) == [LinkState.DISABLED, LinkState.FAILED]
    with pytest.raises(ValueError, match="already disabled"):
        links.disable(0, 60.0)
    with pytest.raises(ValueError, match="not disabled"):
        links.enable(1, 60.0)
    with pytest.raises(ValueError, match="has not failed"):
        links.repair(0, 60.0)
    assert links.enable(0, 60.0).after == LinkState.DOWN and links.repair(1, 60.0).after == LinkState.DOWN
    links.step(60.0, 70.0, np.ones(2, dtype=bool), np.full(2, 1000.0))
    assert states(links) == [LinkState.ACQUIRING, LinkState.ACQUIRING]


def test_merge_keeps_live_links_adds_candidates_and_drops_down_ones():
    links = IslLinks(6, np.array([0, 1]), np.array([1, 2]), IslParams(drop_rate_per_day=0.0), np.random.default_rng(2),
                     np.array([False, True]))
    links.settle(np.array([True, False]), np.array([100.0, 100.0]))
    links.merge(np.array([3]), np.array([4]), np.array([True]))  # 1-2 is DOWN and not a candidate any more
    assert list(zip(links.a.tolist(), links.b.tolist())) == [(0, 1), (3, 4)]
    assert states(links) == [LinkState.UP, LinkState.DOWN]
    assert links.cross_plane.tolist() == [False, True]
    assert links.index_of(4, 3) == 1 and links.index_of(1, 2) is None
    with pytest.raises(ValueError, match="a < b"):
        links.merge(np.array([4]), np.array([3]))


def test_transitions_come_in_time_order_and_terminals_count_powered_links():
    links = table(300, acquisition_median_s=5.0, acquisition_p95_s=20.0, drop_rate_per_day=0.0)
    links.step(0.0, 1.0, np.ones(300, dtype=bool), np.full(300, 100.0))
    out = links.step(1.0, 61.0, np.ones(300, dtype=bool), np.full(300, 100.0))
    times = [t.time_s for t in out]
    assert times == sorted(times) and len(out) > 100
    powered = links.powered_terminals()
    assert powered.sum() == 2 * 300 and powered[0] == 1 and powered[150] == 2
