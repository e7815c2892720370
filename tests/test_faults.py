"""Every fault kind in the full Simulation: its physical effect, measured against a twin run of the same
mission and seed without the fault (or against an independent formula), and its recovery or
permanence; refused injections change nothing."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Simulation, load_mission
from engine.commands import ClearFault, CommandError, InjectFault
from engine.constants import STEFAN_BOLTZMANN_W_M2_K4
from engine.fault_catalogue import CATALOGUE, FaultKind
from engine.faults import TUMBLING_SUN_COSINE, FaultRequest
from engine.gpu_health import GpuHealthState
from engine.isl_links import LinkState

RATIO_TOLERANCE = 1e-9
"""The first step after a fault: both runs start from the same state, so only rounding differs."""

FLEET = """
[mission]
id = "faults"
title = "Fault test fleet"
epoch = "2026-03-21T00:00:00Z"
duration = "12h"
step = "20s"
seed = 5

[hardware]
gpus = 4

[[shell]]
name = "A"
altitude_km = 550
inclination_deg = 53
planes = 6
sats_per_plane = 10
phasing = 1

[[ground_station]]
id = "svalbard"
lat_deg = 78.23
lon_deg = 15.39
min_elevation_deg = 5
antennas = 4

[[ground_station]]
id = "madrid"
lat_deg = 40.43
lon_deg = -4.25
min_elevation_deg = 10
antennas = 4

[[job]]
id = "TRAIN"
gpus = 4
duration = "10h"
checkpoint_interval = "30m"
checkpoint_size_gb = 10

[network]
telemetry = "network"
"""

SAT = "A-01-01"


@pytest.fixture
def fleet(write_mission):
    def build(extra: str = "") -> Simulation:
        return Simulation(load_mission(write_mission(FLEET + extra, "faults.toml")))
    return build


def twins(fleet, until_s: float = 600.0) -> tuple[Simulation, Simulation]:
    """Two runs of the same mission and seed, both at `until_s`: the first gets the fault."""
    a, b = fleet(), fleet()
    a.run_until(until_s)
    b.run_until(until_s)
    return a, b


def inject(sim: Simulation, kind: str, **kw):
    sim.apply(InjectFault(FaultRequest(kind, **kw)))
    return list(sim.faults.book.active.values())[-1]


def index(sim: Simulation, sat: str = SAT) -> int:
    return sim.satellite_ids.index(sat)


def sunlit_step(*sims: Simulation) -> None:
    """Step until the test satellite is in full sunlight in every run."""
    for _ in range(400):
        if all(s.snapshot().illumination[index(s)] >= 0.999 for s in sims):
            return
        for s in sims:
            s.step()
    raise AssertionError("never sunlit")


# ----------------------------------------------------------------------------------------------- GPUs


def train_gpu(sim: Simulation) -> tuple[str, int]:
    view = next(v for v in sim.job_views() if v.id == "TRAIN")
    sat = view.satellites[0]
    return sim.satellite_ids[sat], 0


def test_gpu_failure_is_permanent_until_cleared_and_requeues_its_job(fleet):
    sim = fleet()
    sim.run_until(600)
    sat, gpu = train_gpu(sim)
    fault = inject(sim, "gpu_failure", satellite=sat, gpu=gpu)
    assert fault.end_s is None
    i = index(sim, sat)
    assert sim.health.state[i, gpu] == GpuHealthState.FAILED
    sim.step()
    assert any(t.job_id == "TRAIN" and t.to_state.value == "NODE_FAIL" for t in sim.job_history())
    sim.run_until(6 * 3600)
    assert sim.health.state[i, gpu] == GpuHealthState.FAILED, "a failed GPU stays failed"
    sim.apply(ClearFault(fault.id))
    assert sim.health.state[i, gpu] == GpuHealthState.RESETTING
    sim.run_until(sim.time_s + sim.health.params.boot_s + 40)
    assert sim.health.state[i, gpu] == GpuHealthState.OK
    assert not sim.faults.book.active and sim.faults.book.ended[-1].how == "cleared"


@pytest.mark.parametrize("kind, params", [("gpu_hang", {}), ("latch_up", {"outcome": "power_cycle"})])
def test_gpu_hang_and_latch_up_power_cycle_stop_the_gpu_for_their_duration(fleet, kind, params):
    sim = fleet()
    sim.run_until(600)
    sat, gpu = train_gpu(sim)
    i = index(sim, sat)
    fault = inject(sim, kind, satellite=sat, gpu=gpu, params=params, duration_s=200.0)
    assert sim.health.state[i, gpu] == GpuHealthState.RESETTING
    sim.run_until(fault.start_s + 180)
    assert sim.health.state[i, gpu] == GpuHealthState.RESETTING
    sim.run_until(fault.start_s + 220)
    assert sim.health.state[i, gpu] == GpuHealthState.OK
    assert sim.faults.book.ended[-1].how == "expired"
    assert any(t.job_id == "TRAIN" and t.to_state.value == "NODE_FAIL" for t in sim.job_history())


def test_latch_up_burnout_fails_the_gpu_for_good(fleet):
    sim = fleet()
    sim.run_until(600)
    fault = inject(sim, "latch_up", satellite=SAT, gpu=1, params={"outcome": "burnout"})
    assert fault.end_s is None
    sim.run_until(3 * 3600)
    assert sim.health.state[index(sim), 1] == GpuHealthState.FAILED
    assert fault.repair is not None and fault.repair.value == "gpu_board"


def test_an_ecc_storm_multiplies_upsets_for_its_duration(fleet):
    a, b = twins(fleet)
    inject(a, "ecc_storm", satellite=SAT, params={"multiplier": 200.0}, duration_s=1800.0)
    i = index(a)
    before_a, before_b = a.health.ce_count[i].sum(), b.health.ce_count[i].sum()
    a.run_until(600 + 1800)
    b.run_until(600 + 1800)
    storm_a, storm_b = a.health.ce_count[i].sum() - before_a, b.health.ce_count[i].sum() - before_b
    assert storm_a > 20 * max(storm_b, 1), (storm_a, storm_b)
    assert not a.faults.book.active
    rest_a, rest_b = a.health.ce_count[i].sum(), b.health.ce_count[i].sum()
    a.run_until(2400 + 1800)
    b.run_until(2400 + 1800)
    after_a, after_b = a.health.ce_count[i].sum() - rest_a, b.health.ce_count[i].sum() - rest_b
    assert after_a < 5 * max(after_b, 5), "the rate is back to normal once the storm has passed"


# ---------------------------------------------------------------------------------------- power


@pytest.mark.parametrize("kind, fraction", [("array_string_loss", 0.25), ("array_degradation", 0.05)])
def test_array_faults_cut_the_array_output_for_good(fleet, kind, fraction):
    a, b = twins(fleet)
    sunlit_step(a, b)
    inject(a, kind, satellite=SAT, params={"fraction": fraction})
    a.step()
    b.step()
    i = index(a)
    ratio = a.snapshot().solar_available_w[i] / b.snapshot().solar_available_w[i]
    assert ratio == pytest.approx(1.0 - fraction, abs=RATIO_TOLERANCE)
    assert a.snapshot().array_output_fraction[i] == pytest.approx(1.0 - fraction)
    alarmed = {(alarm.satellite, alarm.quantity) for alarm in a.alarms()}
    assert ((SAT, "array_output_fraction") in alarmed) == (fraction > 0.1)
    a.run_until(8 * 3600)
    assert a.faults.book.active, "permanent: still active hours later"
    assert a.snapshot().array_output_fraction[i] == pytest.approx(1.0 - fraction)


def test_battery_cell_loss_shrinks_the_capacity_and_takes_the_energy_in_the_lost_cells(fleet):
    a, b = twins(fleet)
    i = index(a)
    nominal_kwh = float(b.snapshot().battery_capacity_kwh[i])
    energy_kwh = float(b.snapshot().battery_energy_kwh[i])
    inject(a, "battery_cell_loss", satellite=SAT, params={"fraction": 0.4})
    a.step()
    snap = a.snapshot()
    assert snap.battery_capacity_kwh[i] == pytest.approx(0.6 * nominal_kwh)
    assert snap.battery_energy_kwh[i] <= 0.6 * nominal_kwh + 1e-9
    lost_kwh = a.faults.battery_energy_lost_j / 3.6e6
    assert lost_kwh == pytest.approx(max(energy_kwh - 0.6 * nominal_kwh, 0.0), rel=1e-9, abs=1e-9)
    assert (SAT, "battery_capacity_fraction") in {(x.satellite, x.quantity) for x in a.alarms()}
    a.run_until(4 * 3600)
    b.run_until(4 * 3600)
    assert a.snapshot().battery_soc[i] <= 1.0 + 1e-12
    assert a.snapshot().battery_capacity_kwh[i] == pytest.approx(0.6 * nominal_kwh), "permanent"


def test_attitude_faults_point_the_array_away_then_recover(fleet):
    a, b = twins(fleet)
    sunlit_step(a, b)
    i = index(a)
    inject(a, "attitude_fault", satellite=SAT, params={"mode": "off_sun", "sun_cosine": 0.4}, duration_s=600.0)
    a.step()
    b.step()
    assert a.snapshot().solar_available_w[i] / b.snapshot().solar_available_w[i] == pytest.approx(0.4, abs=RATIO_TOLERANCE)
    a.run_until(a.time_s + 700)
    assert not a.faults.book.active


def test_a_tumbling_satellite_gets_a_quarter_of_the_sun_and_loses_its_laser_links(fleet):
    a, b = twins(fleet)
    sunlit_step(a, b)
    i = index(a)
    assert a.comms.links.carrying_per_satellite()[i] > 0
    inject(a, "attitude_fault", satellite=SAT, params={"mode": "tumbling"}, duration_s=1200.0)
    a.step()
    b.step()
    assert a.snapshot().solar_available_w[i] / b.snapshot().solar_available_w[i] == pytest.approx(
        TUMBLING_SUN_COSINE, abs=RATIO_TOLERANCE)
    assert a.comms.links.carrying_per_satellite()[i] == 0
    a.run_until(a.time_s + 1200 + 600)
    assert a.comms.links.carrying_per_satellite()[i] > 0, "links reacquire once it is under control"


# -------------------------------------------------------------------------------------- thermal


def test_radiator_damage_radiates_from_the_area_left_and_runs_the_loop_hotter(fleet):
    a, b = twins(fleet)
    i = index(a)
    inject(a, "radiator_damage", satellite=SAT, params={"fraction": 0.6})
    a.step()
    hw = a.hw
    expected = hw.radiator_emissivity[i] * STEFAN_BOLTZMANN_W_M2_K4 * 2.0 * hw.radiator_m2[i] * 0.4 * (
        a.thermal.radiator_k[i] ** 4 - 3.0 ** 4)
    assert a.thermal.radiated_w()[i] == pytest.approx(expected, rel=1e-12)
    a.run_until(3 * 3600)
    b.run_until(3 * 3600)
    assert a.snapshot().radiator_temp_c[i] > b.snapshot().radiator_temp_c[i] + 5.0
    assert a.faults.book.active, "permanent"


@pytest.mark.parametrize("kind, params", [("pump_failure", {"flow_remaining": 0.05}),
                                          ("micrometeoroid", {"component": "coolant_loop", "fraction": 0.95})])
def test_loss_of_coolant_flow_heats_the_loop_and_shows_on_the_flow_meter(fleet, kind, params):
    a, b = twins(fleet)
    i = index(a)
    inject(a, kind, satellite=SAT, params=params)
    a.run_until(2 * 3600)
    b.run_until(2 * 3600)
    snap_a, snap_b = a.snapshot(), b.snapshot()
    assert snap_a.coolant_flow_fraction[i] == pytest.approx(0.05)
    assert snap_a.loop_temp_c[i] > snap_b.loop_temp_c[i] + 5.0
    assert (SAT, "coolant_flow_fraction") in {(x.satellite, x.quantity) for x in a.alarms()}


@pytest.mark.parametrize("component, attribute", [("radiator", "radiator_area_fraction"), ("array", None)])
def test_a_micrometeoroid_hit_damages_what_it_hits(fleet, component, attribute):
    a, b = twins(fleet)
    sunlit_step(a, b)
    i = index(a)
    inject(a, "micrometeoroid", satellite=SAT, params={"component": component, "fraction": 0.3})
    a.step()
    b.step()
    if attribute:
        assert getattr(a.thermal, attribute)[i] == pytest.approx(0.7)
    else:
        assert a.snapshot().solar_available_w[i] / b.snapshot().solar_available_w[i] == pytest.approx(0.7, abs=RATIO_TOLERANCE)


# ------------------------------------------------------------------------------ links and stations


def test_a_laser_terminal_failure_fails_the_link_until_cleared(fleet):
    sim = fleet()
    sim.run_until(600)
    links = sim.comms.links
    row = int(np.flatnonzero(links.carrying())[0])
    a, b = sim.satellite_ids[links.a[row]], sim.satellite_ids[links.b[row]]
    fault = inject(sim, "isl_terminal_failure", satellite=a, peer=b)
    assert LinkState(int(links.state[row])) == LinkState.FAILED
    sim.run_until(sim.time_s + 3600)
    assert LinkState(int(sim.comms.links.state[sim.comms.links.index_of(links.a[row], links.b[row])])) == LinkState.FAILED
    sim.apply(ClearFault(fault.id))
    sim.run_until(sim.time_s + 600)
    row = sim.comms.links.index_of(int(links.a[row]), int(links.b[row]))
    assert LinkState(int(sim.comms.links.state[row])) in (LinkState.UP, LinkState.ACQUIRING, LinkState.DEGRADED, LinkState.DOWN)


def test_a_station_outage_takes_the_station_off_the_air_for_its_duration(fleet):
    sim = fleet()
    sim.run_until(600)
    inject(sim, "station_outage", station="madrid", duration_s=3600.0)
    sim.step()
    k = sim.network.ids.index("madrid")
    assert not sim.comms.ground_links.station_up[k]
    stations_used = set()
    for _ in range(170):
        sim.step()
        sats, stations = sim.comms.ground_links.assigned()
        stations_used |= set(int(s) for s in stations)
    assert k not in stations_used
    sim.run_until(600 + 3600 + 60)
    assert sim.comms.ground_links.station_up[k]


def test_a_flight_computer_reboot_silences_the_satellite_and_stops_its_gpus(fleet):
    sim = fleet()
    sim.run_until(600)
    sat, _ = train_gpu(sim)
    i = index(sim, sat)
    inject(sim, "flight_computer_reboot", satellite=sat, duration_s=900.0)
    sim.run_until(600 + 300)
    snap = sim.snapshot()
    assert snap.gpu_power_w[i].sum() == 0.0 and not snap.gpu_powered[i].any()
    assert sim.comms.links.carrying_per_satellite()[i] == 0
    assert sim.snapshot(view="ground").telemetry_age_s[i] >= 280.0, "no telemetry while it reboots"
    assert any(t.job_id == "TRAIN" and t.to_state.value == "NODE_FAIL" for t in sim.job_history())
    sim.run_until(600 + 900 + 600)
    assert sim.snapshot().gpu_powered[i].any()


def test_a_solar_particle_event_raises_the_upset_multiplier_across_the_fleet(fleet):
    a, b = twins(fleet)
    fault = inject(a, "solar_particle_event", duration_s=3600.0)
    a.step()
    b.step()
    spe = a.health.radiation.spe_multiplier
    np.testing.assert_allclose(a.snapshot().radiation_multiplier / b.snapshot().radiation_multiplier, spe, rtol=1e-9)
    a.apply(ClearFault(fault.id))
    a.step()
    b.step()
    np.testing.assert_allclose(a.snapshot().radiation_multiplier, b.snapshot().radiation_multiplier, rtol=1e-9)


# -------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "request_, message",
    [
        (FaultRequest("meteor_shower", satellite=SAT), "unknown fault kind 'meteor_shower'"),
        (FaultRequest("gpu_failure", satellite=SAT), "GPU failure needs gpu and satellite"),
        (FaultRequest("gpu_failure", satellite="Z-99", gpu=0), "no satellite 'Z-99'"),
        (FaultRequest("gpu_failure", satellite=SAT, gpu=7), f"{SAT} has no GPU 7"),
        (FaultRequest("radiator_damage", satellite=SAT, params={"fraction": 2.0}), "fraction must be between"),
        (FaultRequest("radiator_damage", satellite=SAT, params={"area": 0.2}), "has no parameter 'area'"),
        (FaultRequest("gpu_hang", satellite=SAT, gpu=0, permanent=True), "cannot be permanent"),
        (FaultRequest("station_outage", station="atlantis"), "no ground station 'atlantis'"),
        (FaultRequest("isl_terminal_failure", satellite=SAT, peer="A-04-05"), "no laser link between"),
        (FaultRequest("flight_computer_reboot", satellite=SAT, duration_s=5.0), "duration must be between"),
        (FaultRequest("solar_particle_event", satellite=SAT), "needs no target"),
    ],
)
def test_a_bad_fault_is_refused_with_the_reason_and_changes_nothing(fleet, request_, message):
    a, b = twins(fleet)
    with pytest.raises(CommandError) as caught:
        a.apply(InjectFault(request_))
    assert message in str(caught.value)
    assert not a.faults.book.active and not a.faults.book.injected
    a.run_until(1200)
    b.run_until(1200)
    np.testing.assert_array_equal(a.snapshot().battery_soc, b.snapshot().battery_soc)
    np.testing.assert_array_equal(a.snapshot().gpu_health, b.snapshot().gpu_health)


def test_clearing_an_unknown_fault_is_refused(fleet):
    sim = fleet()
    with pytest.raises(CommandError, match="no active fault 'F-0042'"):
        sim.apply(ClearFault("F-0042"))


def test_hidden_faults_show_only_their_symptoms(write_mission):
    text = FLEET.replace("seed = 5\n", "seed = 5\nhide_faults = true\n")
    sim = Simulation(load_mission(write_mission(text, "hidden.toml")))
    sim.run_until(600)
    inject(sim, "battery_cell_loss", satellite=SAT, params={"fraction": 0.4})
    sim.run_until(900)
    messages = [e.message for e in sim.drain_events()]
    assert not any("battery cell loss" in m.lower() or "F-0001" in m for m in messages)
    assert (SAT, "battery_capacity_fraction") in {(x.satellite, x.quantity) for x in sim.alarms()}
    assert sim.faults.book.injected[0].kind == FaultKind.BATTERY_CELL_LOSS, "the ground truth is kept"


DEFAULT_TARGETS = {
    "gpu": dict(satellite=SAT, gpu=0), "satellite": dict(satellite=SAT), "station": dict(station="svalbard"),
    "fleet": {},
}
OBSERVED = ("solar_available_w", "battery_energy_kwh", "battery_capacity_kwh", "radiator_temp_c", "loop_temp_c",
            "gpu_health", "gpu_power_w", "radiation_multiplier", "coolant_flow_fraction", "station_up", "link_state")


@pytest.mark.parametrize("kind", sorted(k.value for k in CATALOGUE))
def test_every_kind_with_its_defaults_changes_what_the_fleet_does(fleet, kind):
    """Each catalogue kind, injected with its default parameters, changes the fleet's physical state
    against the twin run within half an hour (in sunlight, so array faults show)."""
    a, b = twins(fleet)
    sunlit_step(a, b)
    target = CATALOGUE[FaultKind(kind)].target.value
    if target == "link":
        links = a.comms.links
        row = int(np.flatnonzero(links.carrying())[0])
        where = dict(satellite=a.satellite_ids[links.a[row]], peer=a.satellite_ids[links.b[row]])
    else:
        where = DEFAULT_TARGETS[target]
    inject(a, kind, **where)
    a.run_until(a.time_s + 1800)
    b.run_until(b.time_s + 1800)
    snap_a, snap_b = a.snapshot(), b.snapshot()
    changed = [name for name in OBSERVED if not np.array_equal(getattr(snap_a, name), getattr(snap_b, name))]
    assert changed, f"{kind} changed none of {', '.join(OBSERVED)}"


# ------------------------------------------------------------------------------- from the mission

TIMELINE = """
[[event]]
id = "storm"
at = "10m"
fault = { kind = "ecc_storm", satellite = "A-01-01", params = { multiplier = 20 }, duration = "20m" }

[[event]]
id = "hang"
after = "storm"
delay = "5m"
fault = { kind = "gpu_hang", satellite = "A-01-01", gpu = 2, duration = "2m" }

[[event]]
id = "outages"
every = "1h"
count = 3
fault = { kind = "station_outage", station = "madrid", duration = "10m" }
"""


def test_timeline_events_fire_at_every_and_after_and_make_the_same_faults(fleet):
    sim = fleet(TIMELINE)
    sim.run_until(4 * 3600)
    faults = sim.faults.book.injected
    timeline = [(f.kind.value, f.start_s, f.source) for f in faults if f.source == "timeline"]
    assert timeline == [
        ("ecc_storm", 600.0, "timeline"), ("gpu_hang", 900.0, "timeline"), ("station_outage", 3600.0, "timeline"),
        ("station_outage", 7200.0, "timeline"), ("station_outage", 10800.0, "timeline"),
    ]
    by_operator = fleet()
    by_operator.run_until(600)
    inject(by_operator, "ecc_storm", satellite=SAT, params={"multiplier": 20}, duration_s=1200.0)
    mine, theirs = by_operator.faults.book.injected[0], faults[0]
    assert (mine.kind, mine.target, mine.params, mine.start_s, mine.end_s) == \
        (theirs.kind, theirs.target, theirs.params, theirs.start_s, theirs.end_s), "one mechanism, whoever injects"


RATES = """
[[fault]]
kind = "gpu_hang"
rate_per_year = 2000        # per GPU: ~1.5 hangs an hour over 240 GPUs
duration = "3m"

[[fault]]
kind = "array_degradation"
rate_per_year = 50          # per satellite
params = { fraction = 0.01 }
shells = ["A"]
"""


def test_fault_rates_draw_from_the_seed_reproducibly_at_the_expected_rate(fleet):
    a, b = fleet(RATES), fleet(RATES)
    hours = 6.0
    a.run_until(hours * 3600)
    b.run_until(hours * 3600)
    drawn = [(f.kind, f.target, f.start_s) for f in a.faults.book.injected]
    assert drawn == [(f.kind, f.target, f.start_s) for f in b.faults.book.injected], "same seed, same faults"
    hangs = sum(1 for f in a.faults.book.injected if f.kind == FaultKind.GPU_HANG) + a.random_faults.skipped
    expected = 2000 / (365.25 * 24) * 240 * hours
    assert abs(hangs - expected) < 4 * expected ** 0.5, (hangs, expected)
    assert all(f.source == "random" for f in a.faults.book.injected)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[event]]\nid = "x"\nat = "1h"\nfault = { kind = "gpu_failure", satellite = "A-09-01", gpu = 0 }\n',
         "event[0].fault: no satellite 'A-09-01'"),
        ('[[event]]\nid = "x"\nfault = { kind = "gpu_failure", satellite = "A-01-01", gpu = 0 }\n',
         "an event needs exactly one trigger"),
        ('[[event]]\nid = "x"\nafter = "y"\nfault = { kind = "solar_particle_event" }\n', "which is not an event"),
        ('[[event]]\nid = "x"\nat = "1h"\nfault = { kind = "radiator_damage", satellite = "A-01-01", params = { fraction = 3 } }\n',
         "fraction must be between"),
        ('[[fault]]\nkind = "pump_failure"\nrate_per_year = 1\nshells = ["Q"]\n', "no shell 'Q'"),
        ('[[fault]]\nkind = "volcano"\nrate_per_year = 1\n', "fault[0].kind"),
    ],
)
def test_bad_mission_faults_are_refused_with_file_line_and_key(write_mission, extra, message):
    from engine.mission import MissionError

    path = write_mission(FLEET + extra, "bad.toml")
    with pytest.raises(MissionError) as caught:
        load_mission(path)
    text = str(caught.value)
    assert message in text and "bad.toml:" in text


def test_a_hung_gpu_refuses_a_reset_but_a_power_cycle_clears_its_hang(write_mission):
    from engine.commands import CommandError, ResetGpu, SetGpuPower

    sim = Simulation(load_mission(write_mission(FLEET.replace('telemetry = "network"', 'telemetry = "ideal"'), "cycle.toml")))
    sim.run_until(600)
    i = index(sim)
    fault = inject(sim, "gpu_hang", satellite=SAT, gpu=2, duration_s=6 * 3600.0)
    with pytest.raises(CommandError, match="recovers with a power cycle"):
        sim.apply(ResetGpu(SAT, 2))
    assert fault.id in sim.faults.book.active
    sim.apply(SetGpuPower(SAT, 2, False))
    assert fault.id not in sim.faults.book.active and sim.faults.book.ended[-1].how == "power cycled"
    assert sim.health.state[i, 2] == GpuHealthState.OFF
    sim.apply(SetGpuPower(SAT, 2, True))
    sim.run_until(sim.time_s + sim.health.params.boot_s + 40)
    assert sim.health.state[i, 2] == GpuHealthState.OK, "back hours before the hang would have ended"
