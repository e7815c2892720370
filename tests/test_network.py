"""The network inside the full Simulation (real orbits): every carrying link closes geometrically against
positions computed independently with skyfield, route latencies match that geometry hop by hop,
telemetry ages while a satellite has no route and resets when it has one, station outages follow the
timeline, network commands are validated and logged, terminals draw power, and the report says it all."""

from __future__ import annotations

import numpy as np
import pytest
from skyfield.api import EarthSatellite, Loader, wgs84
from skyfield_data import get_skyfield_data_path

from engine import EventKind, Simulation, load_mission
from engine.commands import CommandError, DisableLink, EnableLink, ForceHandover
from engine.isl_links import LinkState
from engine.mission import MissionError
from engine.report import build_report
from tests.conftest import SMALL_MISSION

C_KM_S = 299_792.458  # written here independently of the engine
R_SGP4_KM = 6378.135
GRAZING_KM = 80.0
POSITION_TOLERANCE_KM = 0.05
"""Engine (GMST rotation of TEME) and skyfield (IAU 2000 frames) positions agree to tens of metres."""
LATENCY_TOLERANCE_S = 1e-6
"""One microsecond: 300 m of light path over a route of a few hops."""

DENSE = """
[mission]
id = "dense"
title = "Dense Walker shell"
epoch = "2026-03-21T00:00:00Z"
duration = "2h"
step = "20s"
seed = 4

[hardware]
gpus = 2

[[shell]]
name = "A"
altitude_km = 550
inclination_deg = 53
planes = 12
sats_per_plane = 20
phasing = 1

[[ground_station]]
id = "madrid"
lat_deg = 40.43
lon_deg = -4.25
min_elevation_deg = 10
antennas = 2

[[ground_station]]
id = "singapore"
lat_deg = 1.35
lon_deg = 103.82
min_elevation_deg = 10

[network]
per_hop_latency_ms = 0.1
ground_latency_ms = 5
"""

_timescale = Loader(get_skyfield_data_path()).timescale(builtin=True)


def dense(write_mission, extra: str = "", name: str = "dense.toml", network: str = "") -> Simulation:
    """DENSE plus `extra` tables, with `network` keys added to its [network] table."""
    return Simulation(load_mission(write_mission(DENSE.replace("[network]\n", "[network]\n" + network) + extra, name)))


def skyfield_positions(sim: Simulation):
    """(N, 3) ITRS positions in km from skyfield, from the TLEs the engine propagates."""
    moment = _timescale.from_datetime(sim.clock.utc(sim.time_s))
    satellites = [EarthSatellite(*sim.tle(sat_id), ts=_timescale) for sat_id in sim.satellite_ids]
    return np.array([s.at(moment).frame_xyz(_itrs()).km for s in satellites]), moment


def _itrs():
    from skyfield.framelib import itrs

    return itrs


def segment_clears(p: np.ndarray, q: np.ndarray, radius_km: float) -> np.ndarray:
    """Closest approach of each segment p→q to the Earth's centre is above radius_km."""
    d = q - p
    t = np.clip(-np.einsum("ij,ij->i", p, d) / np.einsum("ij,ij->i", d, d), 0.0, 1.0)
    closest = p + t[:, None] * d
    return np.linalg.norm(closest, axis=1) > radius_km


def test_every_carrying_link_closes_against_independent_positions(write_mission):
    sim = dense(write_mission)
    checked = 0
    for stop in (0.0, 900.0, 2400.0, 4000.0):
        sim.run_until(stop)
        snap = sim.snapshot()
        positions, _ = skyfield_positions(sim)
        a, b = snap.link_a, snap.link_b
        assert np.all(a < b) and len(np.unique(a * 10_000 + b)) == len(a)  # each pair once: the graph is undirected
        carrying = (snap.link_state == LinkState.UP) | (snap.link_state == LinkState.DEGRADED)
        pa, pb = positions[a[carrying]], positions[b[carrying]]
        length = np.linalg.norm(pa - pb, axis=1)
        radius = np.linalg.norm(positions, axis=1)
        limit = np.sqrt(radius[a[carrying]] ** 2 - (R_SGP4_KM + GRAZING_KM) ** 2) + np.sqrt(radius[b[carrying]] ** 2 - (R_SGP4_KM + GRAZING_KM) ** 2)
        assert np.all(length <= limit + POSITION_TOLERANCE_KM)
        assert np.all(segment_clears(pa, pb, R_SGP4_KM + GRAZING_KM - POSITION_TOLERANCE_KM))
        assert np.allclose(snap.link_distance_km[carrying], length, atol=POSITION_TOLERANCE_KM)
        per_satellite = np.bincount(a[carrying], minlength=len(radius)) + np.bincount(b[carrying], minlength=len(radius))
        assert np.array_equal(per_satellite, snap.isl_up) and snap.isl_up.max() <= 4
        latitude = np.degrees(np.arcsin(positions[:, 2] / radius))
        cross = sim.comms.links.cross_plane
        high = np.abs(latitude) > 66.5 + 0.05
        assert not np.any(carrying & cross & (high[a] | high[b]))
        checked += int(carrying.sum())
    assert checked > 1500  # a dense shell: most of its ~480 +Grid links carry traffic


def test_route_latency_is_the_light_time_of_its_hops_and_ground_leg(write_mission):
    sim = dense(write_mission)
    sim.run_until(1800.0)
    snap = sim.snapshot()
    positions, moment = skyfield_positions(sim)
    stations = {s.id: s for s in sim.spec.ground_stations}
    station_km = {
        k: wgs84.latlon(stations[sid].lat_deg, stations[sid].lon_deg, stations[sid].alt_m).at(moment).frame_xyz(_itrs()).km
        for k, sid in enumerate(snap.station_ids)
    }
    reachable = np.flatnonzero(np.isfinite(snap.route_latency_s))
    assert len(reachable) > 0.8 * len(snap.satellite_ids)
    for sat in reachable:
        latency, hops, node = 0.0, 0, sat
        while snap.route_next_hop[node] >= 0:
            nxt = snap.route_next_hop[node]
            latency += np.linalg.norm(positions[node] - positions[nxt]) / C_KM_S + 0.1e-3
            node, hops = nxt, hops + 1
        station = snap.ground_link_station[node]
        assert station >= 0 and station == snap.route_station[sat]
        latency += np.linalg.norm(positions[node] - station_km[station]) / C_KM_S + 5e-3
        assert hops == snap.route_hops[sat]
        assert snap.route_latency_s[sat] == pytest.approx(latency, abs=LATENCY_TOLERANCE_S)


SPARSE_NO_LINKS = SMALL_MISSION + """
[[ground_station]]
id = "madrid"
lat_deg = 40.43
lon_deg = -4.25
min_elevation_deg = 10

[network]
topology = "none"
"""
"""The small 2x3 fleet with no laser links, and a station it passes over (Svalbard never sees 53°)."""


def test_telemetry_ages_without_a_route_and_is_current_with_one(write_mission):
    sim = Simulation(load_mission(write_mission(SPARSE_NO_LINKS)))
    heard = 0.0
    saw_stale = saw_fresh = False
    for _ in range(3 * 360):  # three hours at 10 s: passes over Madrid come and go
        sim.step()
        snap = sim.snapshot()
        routed = np.isfinite(snap.route_latency_s)
        assert np.array_equal(routed, snap.ground_link_station >= 0)  # no laser links: only direct contact
        heard = np.where(routed, snap.time_s, heard)
        assert np.allclose(snap.telemetry_age_s, snap.time_s - heard)
        saw_stale |= bool(np.any(snap.telemetry_age_s > 600))
        saw_fresh |= bool(np.any(routed))
    assert saw_stale and saw_fresh
    report = build_report(sim)
    assert report["network"]["topology"] == "none" and report["network"]["telemetry_age_p95_s"] > 600


def test_ideal_telemetry_is_always_current(write_mission):
    sim = Simulation(load_mission(write_mission(SPARSE_NO_LINKS.replace('topology = "none"', 'topology = "none"\ntelemetry = "ideal"'))))
    sim.run_until(1800.0)
    snap = sim.snapshot()
    assert snap.ideal_telemetry and np.all(snap.telemetry_age_s == 0.0)


def test_a_station_outage_follows_the_timeline(write_mission):
    outage = """
[[network.station_outage]]
station = "madrid"
start = "40m"
duration = "30m"
"""
    sim = dense(write_mission, outage)
    madrid = sim.network.ids.index("madrid")
    during = []
    while sim.time_s < 3 * 3600:
        sim.step()
        if 2400.0 < sim.time_s < 4200.0:
            during.append(int((sim.snapshot().ground_link_station == madrid).sum()))
    events = [e for e in sim.drain_events() if e.kind in (EventKind.STATION_OUTAGE, EventKind.STATION_RESTORED)]
    assert [(e.kind, e.time_s, e.station) for e in events] == [
        (EventKind.STATION_OUTAGE, 2400.0, "madrid"),
        (EventKind.STATION_RESTORED, 4200.0, "madrid"),
    ]
    assert during and max(during) == 0
    assert (sim.snapshot().station_up).all()


def test_network_commands_are_validated_applied_and_logged(write_mission):
    sim = dense(write_mission)
    sim.run_until(600.0)
    snap = sim.snapshot()
    up = np.flatnonzero(snap.link_state == LinkState.UP)[0]
    a, b = sim.satellite_ids[snap.link_a[up]], sim.satellite_ids[snap.link_b[up]]
    sim.apply(DisableLink(b, a))
    assert sim.snapshot().link_state[up] == LinkState.DISABLED
    sim.run_until(1200.0)
    assert sim.snapshot().link_state[sim.comms.links.index_of(snap.link_a[up], snap.link_b[up])] == LinkState.DISABLED
    before = sim.snapshot()
    for command, reason in (
        (DisableLink(a, b), "already disabled"),
        (EnableLink("A-01-01", "A-06-10"), "no laser link"),
        (DisableLink(a, "Z-99-99"), "no satellite"),
        (ForceHandover(sim.satellite_ids[np.flatnonzero(before.ground_link_station < 0)[0]]), "no ground link"),
    ):
        with pytest.raises(CommandError, match=reason):
            sim.apply(command)
    after = sim.snapshot()
    assert np.array_equal(before.link_state, after.link_state) and np.array_equal(before.ground_link_station, after.ground_link_station)
    sim.apply(EnableLink(a, b))
    linked = np.flatnonzero(after.ground_link_station >= 0)[0]
    station = after.ground_link_station[linked]
    sim.apply(ForceHandover(sim.satellite_ids[linked]))
    sim.step()
    assert sim.snapshot().ground_link_station[linked] != station
    messages = [e.message for e in sim.drain_events() if e.kind == EventKind.OPERATOR_COMMAND]
    assert any(f"disable ISL {b} ↔ {a}" in m for m in messages) and any("force handover" in m for m in messages)


def test_the_same_seed_gives_the_same_link_history(write_mission):
    def history(name):
        sim = dense(write_mission, "\n", name)
        sim.run_until(3600.0)
        return [(e.time_s, e.kind, e.message) for e in sim.drain_events() if "link" in e.kind.value]

    first, second = history("a.toml"), history("b.toml")
    assert first == second and len(first) > 50


def test_laser_terminals_draw_power_from_the_bus(write_mission):
    sim = dense(write_mission, "", "power.toml")
    sim.run_until(300.0)
    snap = sim.snapshot()
    terminals = sim.comms.links.powered_terminals()
    bus_w = sim.spec.satellites[0].hardware.bus_power_w
    expected = bus_w + 40.0 * terminals
    served = snap.unserved_power_w == 0
    assert np.allclose(snap.bus_power_w[served], expected[served])
    assert terminals.max() == 4


def test_report_network_section(write_mission):
    sim = dense(write_mission)
    sim.run_until(3600.0)
    report = build_report(sim)
    network = report["network"]
    assert network["topology"] == "plus_grid" and network["links"] == 480
    assert 0.5 < network["isl_up_fraction"] <= 1.0 and network["routed_fraction"] > 0.8
    assert 5.0 < network["mean_route_latency_ms"] < 60.0
    assert network["handovers"] >= 1
    volume = sum(c["data_volume_gb"] for c in report["contacts"])
    assert network["downlinked_gb"] == pytest.approx(volume, abs=1e-3) and volume > 0
    assert "network" in report["models"]


NEAREST = """
topology = "n_nearest"
terminals = 3
isl_max_range_km = 2500
"""
"""Keys for DENSE's [network] table."""


def test_nearest_neighbour_links_respect_terminals_and_range_every_step(write_mission):
    sim = dense(write_mission, name="nearest.toml", network=NEAREST)
    for _ in range(120):
        sim.step()
        links = sim.comms.links
        powered = links.powered_terminals()
        assert powered.max() <= 3
        carrying = links.carrying()
        assert np.all(links.distance_km[carrying] <= 2500.0 + 1e-6)
    assert sim.snapshot().isl_up.mean() > 2.0


@pytest.mark.parametrize(
    "extra, key, message",
    [
        ('[network]\ntopology = "explicit"\n[[network.link]]\na = "A-01-01"\nb = "A-09-09"\n', "network.link[0].b", "no satellite 'A-09-09'"),
        ('[[network.station_outage]]\nstation = "nowhere"\nstart = "1h"\nduration = "1h"\n', "network.station_outage[0].station", "no ground station 'nowhere'"),
        ('[network]\n[[network.link]]\na = "A-01-01"\nb = "A-01-02"\n', "network", "need topology"),
        ('[network]\nacquisition_median_s = 30\nacquisition_p95_s = 10\n', "network", "acquisition_p95_s"),
    ],
)
def test_bad_network_sections_are_refused_with_file_line_and_key(write_mission, extra, key, message):
    path = write_mission(SMALL_MISSION + extra, "bad.toml")
    with pytest.raises(MissionError) as caught:
        load_mission(path)
    text = str(caught.value)
    assert "bad.toml:" in text and key in text and message in text


def test_the_ground_view_holds_each_stale_satellites_last_received_telemetry(write_mission):
    """Against a record of the truth at every step: each field of the ground view equals the truth at the
    satellite's last heard time, for stale and current satellites alike."""
    sim = Simulation(load_mission(write_mission(SPARSE_NO_LINKS)))
    truth_at = {0.0: sim.snapshot()}
    stale_seen = 0
    for _ in range(2 * 360):
        sim.step()
        truth_at[sim.time_s] = sim.snapshot()
        ground = sim.snapshot(view="ground")
        heard = sim.time_s - ground.telemetry_age_s
        for i in range(ground.satellite_count):
            then = truth_at[float(heard[i])]
            for name in ("battery_soc", "loop_temp_c", "gpu_temp_c", "shed_level", "alarm_level"):
                assert np.array_equal(getattr(ground, name)[i], getattr(then, name)[i]), name
        stale_seen += int((ground.telemetry_age_s > 0).sum())
        assert np.array_equal(ground.lat_deg, truth_at[sim.time_s].lat_deg)  # orbit determination: not telemetry
    assert stale_seen > 1000


def test_alarms_raised_out_of_contact_reach_the_ground_at_the_next_contact(write_mission):
    """A cold-battery fleet with no laser links: alarms raised while a satellite has no route are missing
    from the ground's list until its next contact, then appear stamped with their on-board time."""
    from tests.test_power import UNDERSIZED_ARRAY

    text = UNDERSIZED_ARRAY + SPARSE_NO_LINKS[len(SMALL_MISSION):]
    sim = Simulation(load_mission(write_mission(text, "cold.toml")))
    late = []
    hidden_before: dict[int, float] = {}
    while sim.time_s < 12 * 3600:
        sim.step()
        truth = {alarm.id: alarm for alarm in sim.alarms(active_only=False)}
        ground = {alarm.id for alarm in sim.alarms(active_only=False, view="ground")}
        for alarm_id, alarm in truth.items():
            if alarm_id not in ground:
                hidden_before.setdefault(alarm_id, sim.time_s)
            elif alarm_id in hidden_before and alarm_id not in [a for a, _, _ in late]:
                late.append((alarm_id, alarm.raised_s, sim.time_s))
        assert ground <= set(truth)
    assert late, "some alarm must have been raised out of contact"
    for alarm_id, raised_s, arrived_s in late:
        # Stamped with the on-board time, which is before the ground first missed it and before it arrived.
        assert raised_s <= hidden_before[alarm_id] < arrived_s


def test_an_on_board_command_out_of_contact_waits_and_goes_out_at_the_next_contact(write_mission):
    from engine.commands import ResetGpu, SetGpuPowerCap

    sim = Simulation(load_mission(write_mission(SPARSE_NO_LINKS)))
    sim.run_until(600.0)
    snap = sim.snapshot()
    sat = int(np.flatnonzero(~np.isfinite(snap.route_latency_s))[0])
    sat_id = sim.satellite_ids[sat]
    with pytest.raises(CommandError, match="no GPU 9"):
        sim.apply(ResetGpu(sat_id, 9))  # still validated at once, out of contact or not
    sim.apply(ResetGpu(sat_id, 1))
    sim.apply(SetGpuPowerCap(sat_id, 500.0))
    assert [p.description for p in sim.pending_commands()] == [f"reset {sat_id} GPU 1", f"cap {sat_id} GPUs at 500 W"]
    assert sim.snapshot().commands_pending[sat] == 2
    state_before = sim.snapshot().gpu_health[sat].copy()
    delivered_at = None
    while sim.pending_commands():
        sim.step()
        routed = np.isfinite(sim.snapshot().route_latency_s[sat])
        if sim.pending_commands():
            assert not routed and np.array_equal(sim.snapshot().gpu_health[sat], state_before)
            assert np.isnan(sim.gpu_power_cap_w[sat])
        else:
            delivered_at = sim.time_s
            assert routed
    assert sim.snapshot().gpu_health[sat, 1] != state_before[1] and sim.gpu_power_cap_w[sat] == 500.0
    messages = [(e.time_s, e.message) for e in sim.drain_events() if e.kind == EventKind.OPERATOR_COMMAND]
    delivered = [t for t, m in messages if "delivered after" in m]
    assert delivered == [delivered_at, delivered_at]
    report = build_report(sim)
    assert report["network"]["commands"] == {"queued": 2, "delivered": 2, "refused_on_delivery": 0, "pending_at_end": 0}


def test_a_queued_command_that_no_longer_applies_is_refused_on_arrival(write_mission):
    from engine.commands import ResetGpu

    sim = Simulation(load_mission(write_mission(SPARSE_NO_LINKS)))
    sim.run_until(600.0)
    sat = int(np.flatnonzero(~np.isfinite(sim.snapshot().route_latency_s))[0])
    sim.apply(ResetGpu(sim.satellite_ids[sat], 2))
    sim.health.fail(sat, 2, "burned out while the command waited")
    while sim.pending_commands():
        sim.step()
    refused = [e for e in sim.drain_events() if e.kind == EventKind.OPERATOR_COMMAND and "refused on board" in e.message]
    assert len(refused) == 1 and "FAILED" in refused[0].message
    assert build_report(sim)["network"]["commands"]["refused_on_delivery"] == 1


def test_commands_are_immediate_with_ideal_telemetry_or_a_route(write_mission):
    from engine.commands import ResetGpu

    ideal = Simulation(load_mission(write_mission(SPARSE_NO_LINKS.replace('topology = "none"', 'topology = "none"\ntelemetry = "ideal"'), "i.toml")))
    ideal.apply(ResetGpu(ideal.satellite_ids[0], 1))
    assert not ideal.pending_commands() and ideal.snapshot().gpu_health[0, 1] != 0
    sim = dense(write_mission)
    routed = int(np.flatnonzero(np.isfinite(sim.snapshot().route_latency_s))[0])
    sim.apply(ResetGpu(sim.satellite_ids[routed], 0))
    assert not sim.pending_commands()


INFERENCE = """
[[workload.generator]]
name = "chat"
kind = "inference"
rate_per_hour = 60
duration = "3m"
gpus = [1, 2]
latency_target_ms = 600000
"""


def test_inference_results_count_when_they_reach_the_ground(write_mission):
    """The same seed runs the same jobs either way; over the network a result finished on a satellite with
    no route waits for its next contact, so fewer meet their 10-minute target than with ideal telemetry,
    and every finished result has either been judged or is still waiting."""
    def run(telemetry: str, name: str):
        text = SPARSE_NO_LINKS.replace('topology = "none"', f'topology = "none"\ntelemetry = "{telemetry}"') + INFERENCE
        sim = Simulation(load_mission(write_mission(text, name)), seed=2)
        sim.run_until(6 * 3600.0)
        return sim, sim.workload_metrics()

    network_sim, network = run("network", "n.toml")
    ideal_sim, ideal = run("ideal", "i.toml")
    assert network_sim.job_history() == ideal_sim.job_history()  # delivery does not change what ran
    assert network["inference_finished"] + network["inference_results_waiting"] == ideal["inference_finished"]
    assert ideal["inference_results_waiting"] == 0 and ideal["inference_slo_attainment"] > 0.9
    assert network["inference_slo_attainment"] < ideal["inference_slo_attainment"] - 0.2


GANG = """
[[job]]
id = "GANG"
gpus = 8
duration = "10h"
checkpoint_interval = "none"
"""
"""Eight GPUs on DENSE's two-GPU satellites: a gang across four satellites."""


def test_gangs_go_only_on_satellites_joined_by_laser_links_and_stall_without_them(write_mission):
    sim = dense(write_mission, GANG, "gang.toml")
    sim.run_until(600.0)
    view = next(v for v in sim.job_views() if v.id == "GANG")
    assert view.state == "RUNNING" and len(view.satellites) == 4
    groups = sim.comms.gang_groups(sim._planes)
    assert len({int(groups[s]) for s in view.satellites}) == 1  # one linked set
    running_progress = view.progress
    sim.run_until(1200.0)
    view = next(v for v in sim.job_views() if v.id == "GANG")
    assert view.progress > running_progress

    # Cut every laser link of one of its satellites: the gang stalls, then runs again when they return.
    isolated = view.satellites[1]
    links = sim.comms.links
    rows = np.flatnonzero((links.a == isolated) | (links.b == isolated))
    pairs = [(sim.satellite_ids[links.a[r]], sim.satellite_ids[links.b[r]]) for r in rows]
    for a, b in pairs:
        if links.state[links.index_of(sim.satellite_ids.index(a), sim.satellite_ids.index(b))] != LinkState.DISABLED:
            sim.apply(DisableLink(a, b))
    sim.step()
    stalled = next(v for v in sim.job_views() if v.id == "GANG")
    assert stalled.state == "RUNNING" and isolated in stalled.satellites  # it keeps its GPUs, waiting
    sim.run_until(sim.time_s + 600.0)
    later = next(v for v in sim.job_views() if v.id == "GANG")
    assert later.progress == pytest.approx(stalled.progress, abs=1e-12)
    for a, b in pairs:
        sim.apply(EnableLink(a, b))
    sim.run_until(sim.time_s + 1800.0)
    resumed = next(v for v in sim.job_views() if v.id == "GANG")
    assert resumed.progress > stalled.progress


def test_without_links_a_gang_across_satellites_waits_and_single_satellite_jobs_run(write_mission):
    jobs = """
[[job]]
id = "WIDE"
gpus = 8
duration = "1h"

[[job]]
id = "NARROW"
gpus = 4
duration = "1h"
"""
    sim = Simulation(load_mission(write_mission(SMALL_MISSION + jobs, "sparse-gang.toml")))  # 3 a plane: no laser links
    sim.run_until(1800.0)
    states = {v.id: v.state for v in sim.job_views()}
    assert states == {"WIDE": "PENDING", "NARROW": "RUNNING"}


def formation_mission() -> str:
    """Three satellites about a kilometre apart on one orbit and one 60° behind, as explicit TLEs."""
    from datetime import datetime, timezone

    from engine.constellation import OrbitElements, tle_from_elements

    epoch = datetime(2026, 3, 21, tzinfo=timezone.utc)
    entries = []
    for k, (name, anomaly) in enumerate((("F-1", 0.0), ("F-2", 0.01), ("F-3", 0.02), ("FAR", 60.0))):
        line1, line2 = tle_from_elements(OrbitElements(650.0, 97.9, 100.0, 0.0001, 90.0, anomaly), epoch, 40000 + k)
        entries.append(f'[[satellite]]\nname = "{name}"\ntle = ["{line1}", "{line2}"]\n')
    return """
[mission]
id = "formation"
title = "A tight compute formation"
epoch = "2026-03-21T00:00:00Z"
duration = "1h"
step = "10s"

[[ground_station]]
id = "svalbard"
lat_deg = 78.23
lon_deg = 15.39

""" + "\n".join(entries)


@pytest.mark.parametrize("network, expected", [
    ('[network]\ntopology = "formation_mesh"\nformation_radius_km = 10\n', {("F-1", "F-2"), ("F-1", "F-3"), ("F-2", "F-3")}),
    ('[network]\ntopology = "explicit"\n[[network.link]]\na = "F-1"\nb = "FAR"\n', set()),
    ('[network]\ntopology = "explicit"\n[[network.link]]\na = "F-1"\nb = "F-3"\n', {("F-1", "F-3")}),
])
def test_formation_mesh_and_explicit_links_in_a_run(write_mission, network, expected):
    """0.01° of anomaly apart (about 1.2 km) the formation mesh links the close three and not the far one
    (60° behind: beyond its 10 km radius); an explicit pair links only if it can close (the Earth hides
    FAR from F-1, not F-3)."""
    sim = Simulation(load_mission(write_mission(formation_mission() + network, "formation.toml")))
    sim.run_until(300.0)
    snap = sim.snapshot()
    carrying = (snap.link_state == LinkState.UP) | (snap.link_state == LinkState.DEGRADED)
    pairs = {(snap.satellite_ids[a], snap.satellite_ids[b]) for a, b in zip(snap.link_a[carrying], snap.link_b[carrying])}
    assert pairs == expected


def test_gang_slowdown_stalls_split_gangs_and_slows_with_the_slowest_link(write_mission):
    sim = dense(write_mission, "", "factor.toml")
    comms, g = sim.comms, sim.hw.gpu_present.shape[1]
    links = comms.links
    row = int(np.flatnonzero(links.carrying() & ~links.cross_plane)[0])
    a, b = int(links.a[row]), int(links.b[row])
    links.rate_gbps[row] = 25.0  # as if this link were at twice the reference range
    far = max(a, b) + 1
    group = np.zeros(comms.n, dtype=np.int64)
    group[far + 1:] = 1  # as if the satellites after `far` were cut off from the rest
    # job 0 on a and b (over the slow link), job 1 on `far` alone, job 2 on a and far + 1 (split apart)
    flat = np.array([a * g, b * g, far * g, far * g + 1, a * g + 1, (far + 1) * g], dtype=np.int64)
    running = (np.array([0, 1, 2]), flat, np.array([0, 2, 4]))
    factor = comms.gang_slowdown(running, sim.hw.gpu_present.shape, group)
    assert factor is not None
    slowed = 1.0 / (1.0 + 0.1 * (100.0 / 25.0 - 1.0))  # f = training_comm_fraction = 0.1
    assert factor[a, 0] == pytest.approx(slowed) and factor[b, 0] == pytest.approx(slowed)
    assert factor[far, 0] == 1.0 and factor[far, 1] == 1.0
    assert factor[a, 1] == 0.0 and factor[far + 1, 0] == 0.0
    assert factor.sum() == pytest.approx(factor.size - 2 * (1.0 - slowed) - 2.0)  # nothing else changed
    alone = (np.array([1]), np.array([far * g, far * g + 1]), np.array([0]))
    assert comms.gang_slowdown(alone, sim.hw.gpu_present.shape, group) is None  # nothing slowed: no factor array


def test_inference_with_a_latency_target_starts_on_a_satellite_with_a_route(write_mission):
    jobs = """
[[job]]
id = "ASK"
kind = "inference"
gpus = 1
duration = "5m"
latency_target_ms = 600000

[[job]]
id = "BATCH"
kind = "inference"
gpus = 2
duration = "5m"
"""
    sim = dense(write_mission, jobs, network='topology = "none"\n')
    reachable = sim.comms.routes.reachable.copy()
    assert reachable.any() and not reachable.all(), "some satellites are in contact at the start, not all"
    sim.step()
    where = {view.id: view.satellites[0] for view in sim.job_views()}
    assert reachable[where["ASK"]], "its result must reach the ground: it starts where there is a route"
    assert where["BATCH"] == 0, "without a target: plain best fit (the first satellite with both GPUs free)"
    assert not reachable[0]


def _groups_from_scratch(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each satellite's set labelled by its lowest satellite, by union-find over the links (a reference)."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v in zip(a.tolist(), b.tolist()):
        ru, rv = root(u), root(v)
        if ru != rv:
            parent[max(ru, rv)] = min(ru, rv)
    return np.array([root(x) for x in range(n)])


def test_gang_groups_kept_up_to_date_as_links_drop_and_return_equal_a_fresh_computation(write_mission):
    """gang_groups relabels only the sets a few changed links touch (NetworkModel._regroup); as links
    drop and are acquired again, its labels must stay those of the links inside planes carrying now."""
    sim = dense(write_mission, GANG, "groups.toml", network="drop_rate_per_day = 200\nacquisition_median_s = 60\n")
    links, planes = sim.comms.links, sim._planes
    partial = changed_steps = 0
    last_inside = None
    for _ in range(120):
        sim.step()
        inside = links.carrying() & (planes[links.a] == planes[links.b])
        if last_inside is not None and not np.array_equal(inside, last_inside):
            changed_steps += 1
            partial += int(np.count_nonzero(inside != last_inside)) <= 64
        last_inside = inside
        expected = _groups_from_scratch(sim.comms.n, links.a[inside], links.b[inside])
        np.testing.assert_array_equal(sim.comms.gang_groups(planes), expected)
    assert changed_steps > 20 and partial > 20  # the sets changed often, mostly through the partial relabelling


@pytest.mark.parametrize("seed", range(6))
def test_lowest_node_of_each_component_matches_union_find_on_random_graphs(seed):
    """The hook-and-jump labelling that _regroup uses: each node gets its component's lowest node, on
    random graphs from sparse to dense, with long paths and isolated nodes (reference: union-find)."""
    from engine.network import _lowest_of_components

    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 400))
    edges = int(rng.integers(0, 2 * count))
    u, v = rng.integers(0, count, edges), rng.integers(0, count, edges)
    path = rng.permutation(count)[: count // 2]  # a long path in random order
    u, v = np.concatenate([u, path[:-1]]), np.concatenate([v, path[1:]])
    np.testing.assert_array_equal(_lowest_of_components(count, u, v), _groups_from_scratch(count, u, v))
