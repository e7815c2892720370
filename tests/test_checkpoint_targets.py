"""Checkpoints written over the network, in the full Simulation: a peer checkpoint takes share·8 / rate of
the fastest laser link carrying traffic at the job's satellite (read from the link table the step used)
and lands on the neighbour at its far end; it waits while the satellite has no such link and is aborted
when the link goes mid-write; a ground checkpoint waits for a route and takes size·8 / the station's
downlink rate; and a lost satellite takes its checkpoints with it (local ones from the job's own
satellite, peer ones from the neighbour, never the ground's)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Simulation, load_mission
from engine.commands import DisableLink, EnableLink
from engine.isl_links import LinkState
from engine.mission import MissionError

TIME_TOLERANCE_S = 1e-6
"""Checkpoint phases end at exact instants inside a step; only float rounding separates them."""

SHELL = """
[mission]
id = "ckpt"
title = "Checkpoint targets"
epoch = "2026-03-21T00:00:00Z"
duration = "12h"
step = "20s"
seed = 11

[hardware]
gpus = 2

[[shell]]
name = "A"
altitude_km = 550
inclination_deg = 53
planes = 6
sats_per_plane = 10
phasing = 1

[[ground_station]]
id = "madrid"
lat_deg = 40.43
lon_deg = -4.25
min_elevation_deg = 10
downlink_gbps = 8

[network]
telemetry = "ideal"
isl_reference_range_km = 1000   # rates fall with range beyond 1000 km, so links differ
"""


def job(target: str, size_gb: float, interval: str = "10m") -> str:
    return f"""
[[job]]
id = "T"
gpus = 2
duration = "10h"
checkpoint_interval = "{interval}"
checkpoint_size_gb = {size_gb}
checkpoint_target = "{target}"
"""


def links_at(sim: Simulation, sat: int) -> list[tuple[int, float]]:
    """(neighbour, rate) of every link carrying traffic at `sat` now."""
    links = sim.comms.links
    out = []
    for a, b, state, rate in zip(links.a, links.b, links.state, links.rate_gbps):
        if state in (LinkState.UP, LinkState.DEGRADED) and sat in (a, b):
            out.append((int(b if a == sat else a), float(rate)))
    return out


def transitions(sim: Simulation, to: str) -> list:
    return [t for t in sim.job_history() if t.job_id == "T" and t.to_state.value == to]


def run_to_checkpoint(sim: Simulation, max_steps: int = 400):
    """Step until T starts a checkpoint; returns the links at its satellite as the write saw them (the
    network is stepped before the jobs advance, so a write starting within a step sees its links at the
    step's end)."""
    for _ in range(max_steps):
        sim.step()
        if transitions(sim, "CHECKPOINTING"):
            return links_at(sim, sim.job_views()[0].satellites[0])
    raise AssertionError("no checkpoint started")


def written_after(sim: Simulation, begun_s: float, max_steps: int = 400) -> float:
    for _ in range(max_steps):
        done = [t for t in sim.job_history() if t.job_id == "T" and t.reason == "checkpoint written" and t.time_s >= begun_s]
        if done:
            return done[0].time_s
        sim.step()
    raise AssertionError("the checkpoint was never written")


def test_a_peer_checkpoint_goes_over_the_fastest_link_at_its_rate(write_mission):
    size_gb = 400.0
    sim = Simulation(load_mission(write_mission(SHELL + job("peer", size_gb))))
    seen = run_to_checkpoint(sim)
    assert seen, "the job's satellite has laser links"
    peer, rate = max(seen, key=lambda link: (link[1], -link[0]))
    begun = transitions(sim, "CHECKPOINTING")[0].time_s
    written = written_after(sim, begun)
    assert written - begun == pytest.approx(size_gb * 8.0 / rate, abs=TIME_TOLERANCE_S)
    slowest = min(r for _, r in seen)
    assert rate > slowest, "the links at the satellite run at different rates (range beyond the reference)"
    view = sim.job_views()[0]
    assert view.checkpoint_target == "peer"
    assert view.checkpoint_holders == (peer,)
    assert view.checkpoint_progress > 0
    assert sim.workload.accounting("T")["checkpoint"] == pytest.approx(2 * (written - begun), rel=1e-9)


def test_a_peer_checkpoint_waits_without_links_and_is_aborted_when_its_link_goes(write_mission):
    sim = Simulation(load_mission(write_mission(SHELL + job("peer", 4000.0, interval="5m"))))
    sim.step()
    sat = sim.job_views()[0].satellites[0]
    name = sim.satellite_ids[sat]
    neighbours = [peer for peer, _ in links_at(sim, sat)]
    for peer in neighbours:
        sim.apply(DisableLink(name, sim.satellite_ids[peer]))
    sim.run_until(sim.time_s + 900.0)
    view = sim.job_views()[0]
    assert view.state == "RUNNING" and not transitions(sim, "CHECKPOINTING")
    assert "no laser link" in view.checkpoint_blocked and name in view.checkpoint_blocked
    assert view.checkpoint_age_s is None

    sim.apply(EnableLink(name, sim.satellite_ids[neighbours[0]]))
    seen = run_to_checkpoint(sim)
    assert [peer for peer, _ in seen] == [neighbours[0]]
    assert sim.job_views()[0].checkpoint_blocked == ""
    begun = transitions(sim, "CHECKPOINTING")[0].time_s
    sim.run_until(sim.time_s + 120.0)
    assert sim.job_views()[0].state == "CHECKPOINTING", "4 TB take over an hour at this rate"
    sim.apply(DisableLink(name, sim.satellite_ids[neighbours[0]]))  # cut it mid-write
    sim.step()
    resumed = [t for t in transitions(sim, "RUNNING") if t.time_s >= begun and "written" not in t.reason]
    assert [t.reason for t in resumed] == ["checkpoint to peer aborted: laser link lost"]
    assert sim.workload.counters["checkpoints_aborted"] == 1
    view = sim.job_views()[0]
    assert view.checkpoint_progress == 0.0 and view.checkpoint_holders == ()
    assert "laser link lost" in view.checkpoint_blocked
    acct = sim.workload.accounting("T")
    assert acct["checkpoint"] > 0, "the time spent writing stays booked as checkpoint cost"


POLAR = """
[mission]
id = "ground-ckpt"
title = "Checkpoint to the ground"
epoch = "2026-03-21T00:00:00Z"
duration = "12h"
step = "10s"
seed = 3

[hardware]
gpus = 2

[[shell]]
name = "P"
altitude_km = 550
inclination_deg = 97.6
planes = 1
sats_per_plane = 1

[[ground_station]]
id = "svalbard"
lat_deg = 78.23
lon_deg = 15.39
min_elevation_deg = 5
downlink_gbps = 4

[network]
topology = "none"
telemetry = "ideal"
"""


def test_a_ground_checkpoint_waits_for_contact_and_takes_the_downlink_rate(write_mission):
    size_gb = 100.0
    sim = Simulation(load_mission(write_mission(POLAR + job("ground", size_gb))))
    blocked_seen = False
    for _ in range(6 * 360):
        sim.step()
        reachable = bool(sim.comms.routes.reachable[0])
        begun = transitions(sim, "CHECKPOINTING")
        if begun:
            assert reachable, "a ground checkpoint starts only with a route to the ground"
            break
        view = sim.job_views()[0]
        blocked_seen |= f"no route to the ground from {sim.satellite_ids[0]}" in view.checkpoint_blocked
    else:
        raise AssertionError("no pass over Svalbard started the checkpoint")
    assert blocked_seen, "the checkpoint came due out of contact and waited"
    written = written_after(sim, begun[0].time_s)
    assert written - begun[0].time_s == pytest.approx(size_gb * 8.0 / 4.0, abs=TIME_TOLERANCE_S)
    assert sim.job_views()[0].checkpoint_holders == ()
    assert sim.workload.lose_checkpoints(np.ones(1, dtype=bool)) == [], "a copy on the ground survives"


def test_a_lost_satellite_takes_the_checkpoints_it_holds(write_mission):
    for target in ("local", "peer"):
        sim = Simulation(load_mission(write_mission(SHELL + job(target, 400.0), f"{target}.toml")))
        run_to_checkpoint(sim)
        written_after(sim, 0.0)
        view = sim.job_views()[0]
        own, holder = view.satellites[0], view.checkpoint_holders[0]
        assert (holder == own) == (target == "local")
        others = np.zeros(len(sim.satellite_ids), dtype=bool)
        others[[s for s in range(len(sim.satellite_ids)) if s not in (own, holder)]] = True
        assert sim.workload.lose_checkpoints(others) == []
        if target == "peer":
            assert sim.workload.lose_checkpoints(np.arange(len(sim.satellite_ids)) == own) == [], \
                "a peer copy outlives the job's own satellite"
        assert sim.workload.lose_checkpoints(np.arange(len(sim.satellite_ids)) == holder) == ["T"]
        view = sim.job_views()[0]
        assert view.checkpoint_progress == 0.0 and view.checkpoint_holders == () and view.checkpoint_age_s is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (job("peer", 400.0).replace('gpus = 2', 'gpus = 2') + '[network]\ntopology = "none"\n',
         "job T: checkpoint_target 'peer' needs laser links"),
        (job("ground", 0.0), "job T: checkpoint_target 'ground' needs a checkpoint_size_gb"),
    ],
)
def test_impossible_checkpoint_targets_are_refused_at_load(write_mission, extra, message):
    text = POLAR.replace('[network]\ntopology = "none"\ntelemetry = "ideal"\n', "") + extra
    with pytest.raises(MissionError) as caught:
        load_mission(write_mission(text))
    assert message in str(caught.value)


def test_the_job_pane_says_where_the_checkpoint_is_and_why_one_waits(write_mission):
    from console.detail import SatelliteView
    from console.widgets.job_pane import JobPane

    def pane_lines(sim: Simulation) -> list[str]:
        snap = sim.snapshot()
        sat = sim.satellite_ids[sim.job_views()[0].satellites[0]]
        view = SatelliteView(snap, snap.index_of(sat), sim.history(sat), None, (), tuple(sim.satellite_jobs(sat)))
        return [line.plain for line in JobPane().lines(view, width)]

    width = 80

    sim = Simulation(load_mission(write_mission(SHELL + job("peer", 400.0))))
    sim.step()
    assert "  ckpt to peer: none yet" in pane_lines(sim)
    run_to_checkpoint(sim)
    written_after(sim, 0.0)
    holder = sim.satellite_ids[sim.job_views()[0].checkpoint_holders[0]]
    assert f"  ckpt on {holder}" in pane_lines(sim)

    sat = sim.job_views()[0].satellites[0]
    for peer, _ in links_at(sim, sat):
        sim.apply(DisableLink(sim.satellite_ids[sat], sim.satellite_ids[peer]))
    sim.run_until(sim.time_s + 900.0)
    waiting = [line for line in pane_lines(sim) if line.startswith("  ⚠ ")]
    assert waiting == [f"  ⚠ checkpoint to peer waits: no laser link carrying traffic at {sim.satellite_ids[sat]}"]
    width = 40
    lines = pane_lines(sim)
    assert all(len(line) <= width for line in lines)
    assert [line for line in lines if line.startswith("  ⚠ ")] == ["  ⚠ checkpoint to peer waits: no laser …"]
