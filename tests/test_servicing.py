"""Servicing missions and their orbit manoeuvres (physics.md §2.6 and §5).

The manoeuvre formulas are derived from two-body mechanics; the §2.6 table numbers ([D] values computed
independently there) and SGP4 itself are the references they are checked against.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from engine import orbit_maneuvers as om
from engine.constants import EARTH_RADIUS_SGP4_KM, MU_EARTH_KM3_S2, SECONDS_PER_DAY
from engine.servicing import (
    CircularOrbit,
    LaunchMode,
    MissionStatus,
    Part,
    PhaseKind,
    PhaseStatus,
    PhaseTiming,
    ServicerSpec,
    ServicingEventKind,
    ServicingFleet,
    ServicingParams,
    ServicingRefused,
)

DAY = SECONDS_PER_DAY
H_KM = 650.0
TABLE_TOL = 0.01  # the table quotes 2-3 significant figures
NONLINEAR_TOL = 0.02  # exact n(h) - n(h ± Δh) vs the table's linearised rate, up to Δh = 50 km
SGP4_RATE_TOL = 0.005  # J2 nodal rate vs SGP4's secular rate (SGP4 adds J2² and J4 terms)
TIME_TOL_S = 1e-6
SSO_INC_DEG = 97.99  # sun-synchronous at 650 km


# ------------------------------------------------------------------------------ manoeuvre maths


def test_drift_rate_matches_table_at_650_km():
    assert om.phase_drift_per_km_deg_per_day(H_KM) == pytest.approx(1.13, rel=TABLE_TOL)
    assert om.phase_drift_rate_deg_per_day(H_KM, 1.0) == pytest.approx(1.13, rel=TABLE_TOL)
    assert om.phase_drift_rate_deg_per_day(H_KM, -1.0) < 0  # a lower orbit moves ahead


@pytest.mark.parametrize(("dh_km", "days"), [(50, 3.2), (20, 7.9), (10, 15.9), (5, 31.8)])
def test_time_to_drift_180_deg_matches_table(dh_km, days):
    above = om.time_to_close_phase_s(180.0, H_KM, dh_km) / DAY
    below = om.time_to_close_phase_s(180.0, H_KM, -dh_km) / DAY
    assert 180.0 / (om.phase_drift_per_km_deg_per_day(H_KM) * dh_km) == pytest.approx(days, rel=TABLE_TOL)
    assert 0.5 * (above + below) == pytest.approx(days, rel=TABLE_TOL)
    assert above == pytest.approx(days, rel=NONLINEAR_TOL)
    assert below == pytest.approx(days, rel=NONLINEAR_TOL)


def test_circular_speed_and_mean_motion_from_first_principles():
    r_km = EARTH_RADIUS_SGP4_KM + H_KM
    period_s = 2 * math.pi / om.mean_motion_rad_s(H_KM)
    assert period_s == pytest.approx(2 * math.pi * math.sqrt(r_km**3 / MU_EARTH_KM3_S2))
    assert period_s / 60 == pytest.approx(97.7, abs=0.1)  # the familiar 650 km period
    assert om.circular_speed_km_s(H_KM) * period_s == pytest.approx(2 * math.pi * r_km)


@pytest.mark.parametrize("dh_km", [1.0, 10.0, 20.0, 50.0])
def test_hohmann_down_and_back_matches_table(dh_km):
    per_km = om.hohmann_round_trip_delta_v_m_s(H_KM, -dh_km) / dh_km
    assert per_km == pytest.approx(1.07, rel=TABLE_TOL)
    assert om.hohmann_delta_v_m_s(H_KM, H_KM - dh_km) == pytest.approx(om.hohmann_delta_v_m_s(H_KM - dh_km, H_KM))
    assert om.hohmann_delta_v_m_s(H_KM, H_KM) == 0.0


def test_plane_change_matches_table():
    assert om.plane_change_delta_v_m_s(H_KM, 1.0) == pytest.approx(131.0, rel=TABLE_TOL)
    assert om.plane_change_delta_v_m_s(H_KM, 10.0) == pytest.approx(1310.0, rel=TABLE_TOL)
    # angle between orbit normals: pure inclination change, pure node change on a polar orbit, equator
    assert om.plane_angle_deg(50.0, 30.0, 53.0, 30.0) == pytest.approx(3.0)
    assert om.plane_angle_deg(90.0, 10.0, 90.0, 20.0) == pytest.approx(10.0)
    assert om.plane_angle_deg(0.0, 10.0, 0.0, 200.0) == pytest.approx(0.0, abs=1e-6)
    # a node difference tilts an inclined plane by less: sin(θ/2) = sin i sin(ΔΩ/2)
    expected = 2 * math.degrees(math.asin(math.sin(math.radians(53)) * math.sin(math.radians(5))))
    assert om.plane_angle_deg(53.0, 0.0, 53.0, 10.0) == pytest.approx(expected)


def test_sso_raan_rate_and_its_altitude_sensitivity():
    assert om.raan_rate_deg_per_day(H_KM, SSO_INC_DEG) == pytest.approx(360 / 365.2422, rel=TABLE_TOL)
    per_km = om.raan_rate_deg_per_day(H_KM, SSO_INC_DEG) - om.raan_rate_deg_per_day(H_KM + 1, SSO_INC_DEG)
    assert per_km == pytest.approx(4.9e-4, rel=NONLINEAR_TOL)


@pytest.mark.parametrize("inclination_deg", [53.0, SSO_INC_DEG])
def test_nodal_rate_agrees_with_sgp4(inclination_deg):
    r_km = EARTH_RADIUS_SGP4_KM + H_KM
    n_rad_min = math.sqrt(MU_EARTH_KM3_S2 / r_km**3) * 60.0
    sat = Satrec()
    sat.sgp4init(WGS72, "i", 1, 25000.0, 0.0, 0.0, 0.0, 1e-4, 0.0, math.radians(inclination_deg), 0.0,
                 n_rad_min, 0.0)
    sgp4_deg_per_day = math.degrees(sat.nodedot) * 1440.0
    assert om.raan_rate_deg_per_day(H_KM, inclination_deg) == pytest.approx(sgp4_deg_per_day, rel=SGP4_RATE_TOL)


def test_lognormal_phase_timing_has_the_given_median_and_p90():
    timing = PhaseTiming(2 * 3600.0, 12 * 3600.0)
    z = np.random.default_rng(0).standard_normal(200_000)
    samples = np.array([timing.duration_s(x) for x in z])
    assert np.median(samples) == pytest.approx(2 * 3600.0, rel=0.01)
    assert np.quantile(samples, 0.9) == pytest.approx(12 * 3600.0, rel=0.02)
    with pytest.raises(ValueError, match="median"):
        PhaseTiming(10.0, 5.0)


# ------------------------------------------------------------------------------ fixtures

TARGET = 7
PLANE = dict(inclination_deg=SSO_INC_DEG, raan_deg=10.0)


def orbit(arg_lat_deg: float = 0.0, altitude_km: float = H_KM, **plane) -> CircularOrbit:
    return CircularOrbit(altitude_km, arg_lat_deg=arg_lat_deg, epoch_s=0.0, **{**PLANE, **plane})


def servicer(**overrides) -> ServicerSpec:
    fields = dict(servicer_id="sv1", delta_v_m_s=300.0, parking=orbit(0.0),
                  spares={Part.GPU_BOARD: 3, "battery_module": 1}, mission_cost_musd=40.0,
                  part_cost_musd={Part.GPU_BOARD: 2.5, Part.BATTERY_MODULE: 1.0})
    fields.update(overrides)
    return ServicerSpec(**fields)


def fleet(*specs: ServicerSpec, seed: int = 1, **params) -> ServicingFleet:
    return ServicingFleet(specs or (servicer(),), np.random.default_rng(seed), ServicingParams(**params))


def run(f: ServicingFleet, t0_s: float, t1_s: float, dt_s: float = 3600.0, ready=True, orbits=None):
    """Step from t0 to t1; returns all events."""
    events, t = [], t0_s
    while t < t1_s:
        t_next = min(t + dt_s, t1_s)
        events += f.step(t, t_next, orbits, ready)
        t = t_next
    return events


def kinds(events):
    return [e.kind for e in events]


def phase(view, kind, attempt=1):
    return next(p for p in view.timeline if p.kind is kind and p.attempt == attempt)


# ------------------------------------------------------------------------------ phasing


@pytest.mark.parametrize(("target_u_deg", "angle_deg", "dh_km"), [(90.0, 90.0, -20.0), (300.0, 60.0, 20.0)])
def test_same_plane_phasing_time_is_phase_angle_over_drift_rate(target_u_deg, angle_deg, dh_km):
    f = fleet()
    plan = f.plan("sv1", TARGET, orbit(target_u_deg), ["gpu_board"], 0.0)
    expected_s = angle_deg / abs(om.phase_drift_rate_deg_per_day(H_KM, dh_km)) * DAY
    assert plan.phase_angle_deg == pytest.approx(angle_deg)
    assert plan.phasing_altitude_km == pytest.approx(H_KM + dh_km)
    assert plan.phasing_duration_s == pytest.approx(expected_s)
    assert plan.plane_change_deg == 0.0 and plan.delta_v_plane_change_m_s == 0.0
    assert plan.delta_v_m_s == pytest.approx(om.hohmann_round_trip_delta_v_m_s(H_KM, dh_km))
    assert plan.eta_s == pytest.approx(sum(p.duration_s or 0.0 for p in plan.timeline))

    view = f.dispatch("sv1", TARGET, orbit(target_u_deg), ["gpu_board"], 0.0)  # sampled durations
    assert phase(view, PhaseKind.PHASING).duration_s == pytest.approx(expected_s)


def test_colocated_servicer_skips_the_drift():
    plan = fleet().plan("sv1", TARGET, orbit(0.005), ["gpu_board"], 0.0)  # ≈ 0.6 km ahead
    assert plan.phasing_duration_s == 0.0 and plan.delta_v_m_s == 0.0


def test_cross_plane_dispatch_without_delta_v_is_refused_and_changes_nothing():
    f = fleet(servicer(parking=orbit(0.0, inclination_deg=90.0)))
    before = (f.servicers(), f.missions(), f._rng.bit_generator.state)
    target = orbit(30.0, inclination_deg=90.0, raan_deg=20.0)
    for attempt in (f.plan, f.dispatch):
        with pytest.raises(ServicingRefused, match=r"needs 1,31\d m/s to change plane by 10\.0°.*has 300 m/s"):
            attempt("sv1", TARGET, target, ["gpu_board"], 0.0)
    assert (f.servicers(), f.missions(), f._rng.bit_generator.state) == before
    assert f.step(0.0, 10 * DAY) == []


def test_cross_plane_dispatch_with_delta_v_pays_for_the_plane_change():
    f = fleet(servicer(delta_v_m_s=2000.0, parking=orbit(0.0, inclination_deg=90.0)))
    target = orbit(30.0, inclination_deg=90.0, raan_deg=12.0)
    plan = f.plan("sv1", TARGET, target, ["gpu_board"], 0.0)
    assert plan.plane_change_deg == pytest.approx(2.0)
    assert plan.delta_v_plane_change_m_s == pytest.approx(om.plane_change_delta_v_m_s(H_KM, 2.0))
    view = f.dispatch("sv1", TARGET, target, ["gpu_board"], 0.0)
    run(f, 0.0, 400 * DAY, dt_s=DAY)
    done = f.mission(view.mission_id)
    assert done.status is MissionStatus.COMPLETE
    assert done.delta_v_used_m_s == pytest.approx(plan.delta_v_m_s)
    assert f.servicer("sv1").delta_v_remaining_m_s == pytest.approx(2000.0 - plan.delta_v_m_s)


# ------------------------------------------------------------------------------ docking, waiting, swaps


def test_docking_failure_retries_from_proximity_ops_then_fails():
    f = fleet(servicer(dock_p_success=0.0), max_dock_attempts=3)
    view = f.dispatch("sv1", TARGET, orbit(45.0), ["gpu_board"], 0.0)
    events = run(f, 0.0, 800 * DAY, dt_s=DAY)
    assert kinds(events).count(ServicingEventKind.DOCK_FAILED) == 3
    assert kinds(events)[-1] is ServicingEventKind.MISSION_FAILED
    assert ServicingEventKind.SWAP_DONE not in kinds(events)
    done = f.mission(view.mission_id)
    assert done.status is MissionStatus.FAILED and done.dock_attempts == 3
    names = [p.name for p in done.timeline if p.status is not PhaseStatus.CANCELLED]
    assert names[2:] == ["proximity_ops", "awaiting_target", "docking",
                         "proximity_ops #2", "awaiting_target #2", "docking #2",
                         "proximity_ops #3", "awaiting_target #3", "docking #3"]
    assert phase(done, PhaseKind.DOCKING, 3).status is PhaseStatus.FAILED
    assert phase(done, PhaseKind.SWAP).status is PhaseStatus.CANCELLED
    sv = f.servicer("sv1")
    assert not sv.busy and sv.spares[Part.GPU_BOARD] == 3  # nothing was swapped
    assert sv.orbit.altitude_km == pytest.approx(H_KM)  # backed off in the target's orbit


def test_certain_docking_never_retries():
    f = fleet(servicer(dock_p_success=1.0))
    f.dispatch("sv1", TARGET, orbit(45.0), ["gpu_board"], 0.0)
    events = run(f, 0.0, 800 * DAY, dt_s=DAY)
    assert ServicingEventKind.DOCK_FAILED not in kinds(events)
    assert kinds(events)[-1] is ServicingEventKind.MISSION_COMPLETE


def test_swap_emits_satellite_and_part_and_consumes_spares_and_money():
    f = fleet(servicer(dock_p_success=1.0), swap_default=PhaseTiming(7200.0, 43200.0, 1.0))
    view = f.dispatch("sv1", TARGET, orbit(45.0), {"gpu_board": 2, Part.BATTERY_MODULE: 1}, 0.0)
    assert view.cost_musd == 40.0 and view.cost_planned_musd == pytest.approx(40.0 + 2 * 2.5 + 1.0)
    events = run(f, 0.0, 800 * DAY, dt_s=DAY)
    swaps = [(e.target, e.part) for e in events if e.kind is ServicingEventKind.SWAP_DONE]
    assert swaps == [(TARGET, Part.GPU_BOARD), (TARGET, Part.GPU_BOARD), (TARGET, Part.BATTERY_MODULE)]
    sv = f.servicer("sv1")
    assert sv.spares == {Part.GPU_BOARD: 1, Part.BATTERY_MODULE: 0}
    done = f.mission(view.mission_id)
    assert done.cost_musd == pytest.approx(46.0) and f.total_cost_musd == pytest.approx(46.0)
    assert done.parts_installed == (Part.GPU_BOARD, Part.GPU_BOARD, Part.BATTERY_MODULE)
    assert [e.time_s for e in events] == sorted(e.time_s for e in events)


def test_failed_swap_consumes_the_part_and_restores_nothing():
    never = PhaseTiming(7200.0, 43200.0, 0.0)
    f = fleet(servicer(dock_p_success=1.0), swap_overrides={"battery_module": never},
              swap_default=PhaseTiming(7200.0, 43200.0, 1.0))
    view = f.dispatch("sv1", TARGET, orbit(45.0), ["battery_module", "gpu_board"], 0.0)
    events = run(f, 0.0, 800 * DAY, dt_s=DAY)
    assert [(e.kind, e.part) for e in events if e.part is not None and e.kind.value.startswith("swap")] == [
        (ServicingEventKind.SWAP_FAILED, Part.BATTERY_MODULE), (ServicingEventKind.SWAP_DONE, Part.GPU_BOARD)]
    done = f.mission(view.mission_id)
    assert done.status is MissionStatus.COMPLETE
    assert done.parts_failed == (Part.BATTERY_MODULE,) and done.parts_installed == (Part.GPU_BOARD,)
    assert f.servicer("sv1").spares[Part.BATTERY_MODULE] == 0


def test_mission_holds_at_the_target_until_it_is_ready():
    f = fleet(servicer(dock_p_success=1.0))
    view = f.dispatch("sv1", TARGET, orbit(45.0), ["gpu_board"], 0.0)
    arrive_s = phase(view, PhaseKind.AWAITING_TARGET).start_s
    wait_until_s = arrive_s + 30 * DAY
    events = run(f, 0.0, wait_until_s, dt_s=3600.0, ready=lambda sat: False)
    held = f.mission(view.mission_id)
    assert held.phase.kind is PhaseKind.AWAITING_TARGET and held.phase.end_s is None
    assert ServicingEventKind.SWAP_DONE not in kinds(events)
    assert held.eta_s > view.eta_s + 29 * DAY  # the ETA slips while waiting

    ready_sats = []
    events = run(f, wait_until_s, wait_until_s + 200 * DAY, ready=lambda sat: ready_sats.append(sat) or True)
    assert set(ready_sats) == {TARGET}
    done = f.mission(view.mission_id)
    wait = phase(done, PhaseKind.AWAITING_TARGET)
    assert wait.status is PhaseStatus.DONE and wait.end_s == pytest.approx(wait_until_s)
    assert phase(done, PhaseKind.DOCKING).start_s == pytest.approx(wait_until_s)
    assert done.status is MissionStatus.COMPLETE


# ------------------------------------------------------------------------------ abort


def test_abort_during_phasing_returns_the_servicer_with_the_delta_v_spent():
    f = fleet()
    view = f.dispatch("sv1", TARGET, orbit(90.0), ["gpu_board"], 0.0)
    phasing = phase(view, PhaseKind.PHASING)
    t_abort = phasing.start_s + 0.5 * phasing.duration_s
    run(f, 0.0, t_abort)
    assert f.mission(view.mission_id).phase.kind is PhaseKind.PHASING
    aborted = f.abort(view.mission_id, t_abort)
    events = f.step(t_abort, t_abort + 1.0)
    assert kinds(events)[-1] is ServicingEventKind.MISSION_ABORTED
    assert aborted.status is MissionStatus.ABORTED
    one_way = om.hohmann_delta_v_m_s(H_KM, H_KM - 20.0)
    assert aborted.delta_v_used_m_s == pytest.approx(one_way)
    sv = f.servicer("sv1")
    assert not sv.busy and sv.delta_v_remaining_m_s == pytest.approx(300.0 - one_way)
    assert sv.spares[Part.GPU_BOARD] == 3
    assert sv.orbit.altitude_km == pytest.approx(H_KM - 20.0)  # parked where the drift had taken it
    lag_deg = (orbit(90.0).at(t_abort).arg_lat_deg - sv.orbit.arg_lat_deg) % 360
    assert lag_deg == pytest.approx(45.0, abs=0.01)
    with pytest.raises(ServicingRefused, match="already aborted"):
        f.abort(view.mission_id, t_abort)
    f.dispatch("sv1", TARGET, orbit(90.0), ["gpu_board"], t_abort)  # free again


def test_abort_while_docked_undocks_first_and_keeps_the_part_in_hand():
    f = fleet(servicer(dock_p_success=1.0), swap_default=PhaseTiming(7200.0, 43200.0, 1.0))
    view = f.dispatch("sv1", TARGET, orbit(45.0), ["gpu_board", "gpu_board"], 0.0)
    swap1 = next(p for p in view.timeline if p.kind is PhaseKind.SWAP)
    t_abort = swap1.end_s + 60.0  # during the second swap
    run(f, 0.0, t_abort, dt_s=60.0)
    mid = f.abort(view.mission_id, t_abort)
    assert mid.status is MissionStatus.ACTIVE and mid.phase.kind is PhaseKind.UNDOCK_CHECKOUT
    assert [p.status for p in mid.timeline if p.kind is PhaseKind.SWAP] == [PhaseStatus.DONE, PhaseStatus.INTERRUPTED]
    events = run(f, t_abort, t_abort + 200 * DAY, dt_s=DAY)
    assert kinds(events)[-1] is ServicingEventKind.MISSION_ABORTED
    assert f.servicer("sv1").spares[Part.GPU_BOARD] == 2  # one installed, one still in stores
    assert f.mission(view.mission_id).parts_installed == (Part.GPU_BOARD,)


def test_abort_before_departure_spends_no_delta_v():
    f = fleet()
    view = f.dispatch("sv1", TARGET, orbit(45.0), ["gpu_board"], 0.0)
    aborted = f.abort(view.mission_id, 60.0)
    assert aborted.delta_v_used_m_s == 0.0 and aborted.reason == "operator abort"
    sv = f.servicer("sv1")
    assert sv.delta_v_remaining_m_s == 300.0 and sv.orbit == orbit(0.0)


# ------------------------------------------------------------------------------ launch modes


def test_launched_servicer_uses_launch_lead_time_then_becomes_resident():
    spec = servicer(parking=None, launch_mode=LaunchMode.HOT_STANDBY, dock_p_success=1.0)
    f = fleet(spec)
    plan = f.plan("sv1", TARGET, orbit(45.0), ["gpu_board"], 0.0)
    assert plan.timeline[0].duration_s == pytest.approx(3 * DAY)  # phase 1b median
    assert plan.delta_v_m_s == pytest.approx(om.hohmann_delta_v_m_s(H_KM - 20.0, H_KM))  # inserted at phasing altitude
    assert plan.phase_angle_deg == pytest.approx(90.0)
    f.dispatch("sv1", TARGET, orbit(45.0), ["gpu_board"], 0.0)
    run(f, 0.0, 800 * DAY, dt_s=DAY, orbits={TARGET: orbit(45.0)})
    sv = f.servicer("sv1")
    assert sv.launch_mode is LaunchMode.RESIDENT and sv.orbit.altitude_km == pytest.approx(H_KM)
    assert f.plan("sv1", TARGET + 1, orbit(50.0), ["gpu_board"], 800 * DAY).timeline[0].duration_s == pytest.approx(0.5 * DAY)


# ------------------------------------------------------------------------------ determinism


def _history(seed: int, dt_s: float):
    f = fleet(servicer(), servicer(servicer_id="sv2", dock_p_success=0.5), seed=seed)
    f.dispatch("sv1", 3, orbit(100.0), ["gpu_board", "battery_module"], 0.0)
    f.dispatch("sv2", 4, orbit(250.0), {"gpu_board": 2}, 0.0)
    events = run(f, 0.0, 600 * DAY, dt_s=dt_s)
    return events, f.missions()


def test_same_seed_gives_identical_timelines_whatever_the_step():
    events_a, missions_a = _history(seed=5, dt_s=3600.0)
    events_b, missions_b = _history(seed=5, dt_s=7 * DAY)
    assert missions_a == missions_b
    assert sorted(events_a, key=lambda e: (e.time_s, e.mission_id)) == sorted(events_b, key=lambda e: (e.time_s, e.mission_id))
    _, missions_c = _history(seed=6, dt_s=3600.0)
    assert missions_c != missions_a


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(("servicer_id", "parts", "match"), [
    ("nope", ["gpu_board"], "unknown servicer 'nope'"),
    ("sv1", ["flux_capacitor"], "unknown part 'flux_capacitor'"),
    ("sv1", {"gpu_board": -1}, "must be an integer >= 0"),
    ("sv1", [], "at least one part"),
    ("sv1", ["isl_terminal"], "carries 0 isl_terminal"),
    ("sv1", {"gpu_board": 4}, "carries 3 gpu_board spare.*needs 4"),
])
def test_bad_dispatch_is_refused_clearly(servicer_id, parts, match):
    f = fleet()
    with pytest.raises(ServicingRefused, match=match):
        f.dispatch(servicer_id, TARGET, orbit(45.0), parts, 0.0)
    assert f.missions() == () and not f.servicer("sv1").busy


def test_busy_servicer_and_busy_target_are_refused():
    f = fleet(servicer(), servicer(servicer_id="sv2"))
    view = f.dispatch("sv1", TARGET, orbit(45.0), ["gpu_board"], 0.0)
    with pytest.raises(ServicingRefused, match=f"busy with mission {view.mission_id}"):
        f.dispatch("sv1", TARGET + 1, orbit(45.0), ["gpu_board"], 0.0)
    with pytest.raises(ServicingRefused, match=f"already being serviced by mission {view.mission_id}"):
        f.dispatch("sv2", TARGET, orbit(45.0), ["gpu_board"], 0.0)
    assert f.active_targets() == {TARGET}


@pytest.mark.parametrize(("overrides", "match"), [
    (dict(spares={"gpu_board": -2}), "must be an integer >= 0"),
    (dict(spares={"warp_core": 1}), "unknown part"),
    (dict(parking=None), "needs a parking orbit"),
    (dict(launch_mode="rideshare"), "a launched one has none"),
    (dict(dock_p_success=1.5), "probability"),
    (dict(delta_v_m_s=-1.0), "delta_v_m_s"),
])
def test_bad_servicer_specs_are_refused(overrides, match):
    with pytest.raises(ValueError, match=match):
        servicer(**overrides)


def test_plan_reports_eta_risk_and_cost():
    plan = fleet().plan("sv1", TARGET, orbit(45.0), ["gpu_board"], 0.0)
    p_dock = 1 - 0.1**3
    expected = 0.98 * 0.99 * 0.95 * p_dock * 0.95 * 0.98 * (1 - 1e-3)
    assert plan.p_success == pytest.approx(expected) and plan.risk == pytest.approx(1 - expected)
    assert plan.cost_musd == pytest.approx(42.5)
    assert plan.delta_v_remaining_after_m_s == pytest.approx(300.0 - plan.delta_v_m_s)
    assert [p.kind for p in plan.timeline] == [PhaseKind.PREPARATION, PhaseKind.PHASING, PhaseKind.PROXIMITY_OPS,
                                               PhaseKind.AWAITING_TARGET, PhaseKind.DOCKING, PhaseKind.SWAP,
                                               PhaseKind.UNDOCK_CHECKOUT]
    detect = fleet().plan("sv1", TARGET, orbit(45.0), ["gpu_board"], 0.0, detect=True)
    assert detect.timeline[0].kind is PhaseKind.DETECT and detect.eta_s == pytest.approx(plan.eta_s + DAY)


def test_dispatch_event_and_eta_are_relative_to_the_dispatch_time():
    f = fleet(servicer(dock_p_success=1.0))
    t_s = 100 * DAY
    plan = f.plan("sv1", TARGET, orbit(45.0), ["gpu_board"], t_s)
    view = f.dispatch("sv1", TARGET, orbit(45.0), ["gpu_board"], t_s)
    assert plan.timeline[0].start_s == t_s and plan.eta_s == pytest.approx(t_s + plan.duration_s)
    assert view.eta_s == pytest.approx(view.timeline[-1].end_s)
    first = f.step(t_s, t_s + 1.0)
    assert [e.kind for e in first[:2]] == [ServicingEventKind.DISPATCHED, ServicingEventKind.PHASE_STARTED]
    assert f"ETA {(view.eta_s - t_s) / DAY:.1f} d" in first[0].message  # the sampled one
    assert f.servicer("sv1").busy and f.servicer("sv1").orbit is None  # in flight: no parking orbit
