"""GPU health and radiation (physics.md §3.8, §3.9, fault catalogue F1-F7, F19): every rate reproduces its
configured mean at 1 s and 600 s steps, the SAA/polar geometry and the orbit normalisation, dose and the TID
onset, resets and operator commands, the Arrhenius and infant-mortality hazards, and the state machine's
legality, determinism and independence from other GPUs' states.

Statistical checks allow SIGMAS standard deviations of the count (Poisson: sd = sqrt(mean); an
at-least-one-per-step count is binomial, whose variance is below its mean, so sqrt(mean) is conservative).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from engine.gpu_health import (
    LEGAL_TRANSITIONS,
    GpuHealth,
    GpuHealthParams,
    GpuHealthState,
    IllegalTransitionError,
    RadiationParams,
    arrhenius_factor,
    check_transition,
    in_saa,
    orbit_mean_multiplier,
    orbit_saa_fraction,
    permanent_failure_rate_per_s,
    radiation_multiplier,
    sample_solar_particle_events,
    spe_multiplier,
)

# Written here independently of the engine.
DAY = 86400.0
YEAR = 365.25 * DAY
K_B_EV_PER_K = 8.617333262e-5  # CODATA 2018
EARTH_ROTATION_RAD_S = 7.2921159e-5
OK, DEGRADED, RESETTING, FAILED, OFF = (GpuHealthState[name] for name in ("OK", "DEGRADED", "RESETTING", "FAILED", "OFF"))
EXPECTED_LEGAL = {  # physics.md §3.9 plus operator power: dose never falls, FAILED is terminal
    (OK, DEGRADED), (OK, RESETTING), (OK, FAILED), (OK, OFF),
    (DEGRADED, RESETTING), (DEGRADED, FAILED), (DEGRADED, OFF),
    (RESETTING, OK), (RESETTING, DEGRADED), (RESETTING, FAILED), (RESETTING, OFF),
    (OFF, RESETTING), (OFF, FAILED),
}

SIGMAS = 4.0
OUTSIDE = (0.0, 100.0)  # equator over the Indian Ocean: outside the SAA and the polar caps
SAA_CENTRE = (-26.0, -50.0)
DOSE_REL = 1e-9  # deterministic dose: rounding only


def quiet(**overrides) -> GpuHealthParams:
    """No random faults unless asked for."""
    rates = dict(ce_per_gpu_per_day=0.0, due_per_gpu_per_year=0.0, sefi_per_board_per_day=0.0,
                 sdc_terrestrial_per_gpu_per_day=0.0, latchup_per_gpu_per_year=0.0, random_failure_per_year=0.0,
                 thermal_failure_per_year=0.0, infant_failure_fraction=0.0, tid_failure_per_year=0.0)
    rates.update(overrides)
    return GpuHealthParams(**rates)


def still(**overrides) -> RadiationParams:
    """No dose and no solar particle events unless asked for."""
    values = dict(dose_rate_rad_per_year=0.0, spe_rate_per_year=0.0)
    values.update(overrides)
    return RadiationParams(**values)


def fleet(n: int, g: int, params: GpuHealthParams, radiation: RadiationParams | None = None, seed: int = 1,
          present: np.ndarray | None = None, **kwargs) -> GpuHealth:
    present = np.ones((n, g), dtype=bool) if present is None else present
    return GpuHealth(present, params, radiation or still(), np.ones(n), np.random.default_rng(seed), **kwargs)


def at(n: int, point: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    return np.full(n, point[0]), np.full(n, point[1])


def assert_count(observed: float, expected: float, label: str) -> None:
    tolerance = SIGMAS * math.sqrt(max(expected, 1.0))
    assert abs(observed - expected) <= tolerance, f"{label}: observed {observed}, expected {expected:.1f} ± {tolerance:.1f}"


def snapshot(health: GpuHealth) -> dict[str, np.ndarray]:
    names = ("state", "resetting_until_s", "ce_count", "retired_rows", "due_count", "sefi_count", "sdc_count",
             "sdc_detected_count", "latchup_count", "dose_rad", "age_s")
    return {name: np.array(getattr(health, name), copy=True) for name in names}


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def ground_track(n: int, samples: int, dt_s: float, inclination_deg: float = 97.8, period_s: float = 5862.0):
    """Circular-orbit ground tracks (N, T) sampled every dt_s, RAANs and phases spread over the fleet."""
    t = dt_s * np.arange(1, samples + 1)
    raan = np.linspace(0.0, 2 * np.pi, n, endpoint=False)[:, None]
    u = 2 * np.pi * t / period_s + 0.37 * raan
    inc = np.radians(inclination_deg)
    lat = np.degrees(np.arcsin(np.sin(inc) * np.sin(u)))
    lon = np.degrees(raan + np.arctan2(np.cos(inc) * np.sin(u), np.cos(u)) - EARTH_ROTATION_RAD_S * t)
    return t, lat, (lon + 180.0) % 360.0 - 180.0


def own_saa(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return ((lat + 26.0) / 25.0) ** 2 + ((lon + 50.0) / 55.0) ** 2 <= 1.0


# ------------------------------------------------------------------------------------------- environment


def test_saa_and_polar_multiplier_geometry():
    """physics.md §3.8: ×M_saa inside ((lat+26)/25)² + ((lon+50)/55)² <= 1, ×M_pole at |lat| >= 60, else 1;
    longitudes in either convention; the SPE multiplier scales everything; the shape follows the input."""
    r = RadiationParams()
    lat = np.array([[-26.0, -26.0 + 24.9, -26.0 + 25.1, -26.0, -26.0],
                    [-26.0, 0.0, 60.0, -60.0, 59.9]])
    lon = np.array([[-50.0, -50.0, -50.0, -50.0 + 54.9, -50.0 - 55.1],
                    [310.0, 0.0, 123.0, -170.0, 10.0]])
    expected = np.array([[r.saa_multiplier, r.saa_multiplier, 1.0, r.saa_multiplier, 1.0],
                         [r.saa_multiplier, 1.0, r.polar_multiplier, r.polar_multiplier, 1.0]])
    np.testing.assert_array_equal(radiation_multiplier(lat, lon, r), expected)
    np.testing.assert_array_equal(radiation_multiplier(lat, lon, r, spe_multiplier=30.0), 30.0 * expected)
    np.testing.assert_array_equal(in_saa(lat, lon, r), own_saa(lat, (lon + 180) % 360 - 180))
    assert r.saa_multiplier == 20.0 and r.polar_multiplier == 2.5 and r.dose_rate_rad_per_year == 150.0
    # a NaN position (orbit error) is treated as quiet, never NaN
    assert radiation_multiplier(np.array([np.nan]), np.array([np.nan]), r)[0] == 1.0


def test_orbit_mean_multiplier_and_fractions_of_a_sun_synchronous_track():
    """E[mult] = 1 + (M_saa-1)·f_saa + (M_pole-1)·f_polar with the fractions counted independently; the polar
    fraction of a 97.8° circular orbit is 1 - (2/π)·asin(sin 60°/sin i) ≈ 32 % (physics.md §2.1)."""
    r = RadiationParams()
    _, lat, lon = ground_track(6, 2880, 30.0)
    f_saa = own_saa(lat, lon).mean(axis=1)
    f_polar = (np.abs(lat) >= 60.0).mean(axis=1)
    np.testing.assert_allclose(orbit_saa_fraction(lat, lon, r), f_saa, rtol=1e-12)
    np.testing.assert_allclose(orbit_mean_multiplier(lat, lon, r), 1 + 19 * f_saa + 1.5 * f_polar, rtol=1e-12)
    analytic_polar = 1 - 2 / np.pi * np.arcsin(np.sin(np.radians(60)) / np.sin(np.radians(97.8)))
    np.testing.assert_allclose(f_polar, analytic_polar, atol=0.01)
    assert np.all((f_saa > 0.03) & (f_saa < 0.12)), f_saa  # physics.md: ~7 % (6-10 %)


def test_orbit_average_of_the_local_rate_equals_the_configured_rate():
    """Along a day of ground track, λ_local = λ·mult/E[mult] gives λ·T per GPU on average, and the local
    rate is M_saa times higher in the SAA than at quiet latitudes (correctable errors and DUEs)."""
    r = still()
    n, g, dt = 6, 8, 30.0
    t, lat, lon = ground_track(n, 2880, dt)
    ce_per_s, due_per_s = 0.01, 2e-4
    health = GpuHealth(np.ones((n, g), dtype=bool),
                       quiet(ce_per_gpu_per_day=ce_per_s * DAY, due_per_gpu_per_year=due_per_s * YEAR),
                       r, orbit_mean_multiplier(lat, lon, r), np.random.default_rng(5))
    junction = np.full((n, g), 60.0)
    saa = own_saa(lat, lon)
    quiet_zone = ~saa & (np.abs(lat) < 60.0)
    ce_saa = ce_quiet = 0
    for k in range(len(t)):
        result = health.step(t[k], dt, lat[:, k], lon[:, k], junction)
        per_satellite = result.ce_new.sum(axis=1)
        ce_saa += per_satellite[saa[:, k]].sum()
        ce_quiet += per_satellite[quiet_zone[:, k]].sum()
    gpu_seconds = n * g * t[-1]
    assert_count(health.ce_count.sum(), ce_per_s * gpu_seconds, "correctable errors over the orbit")
    assert_count(health.due_count.sum(), due_per_s * gpu_seconds, "DUEs over the orbit")
    # local rates per GPU-second, inside the SAA against quiet latitudes
    mean = orbit_mean_multiplier(lat, lon, r)[:, None]
    expected_saa = (ce_per_s * 20.0 / mean * saa).sum() * g * dt
    expected_quiet = (ce_per_s / mean * quiet_zone).sum() * g * dt
    assert_count(ce_saa, expected_saa, "correctable errors in the SAA")
    assert_count(ce_quiet, expected_quiet, "correctable errors at quiet latitudes")


def test_solar_particle_events_schedule_and_step_average():
    """SPEs: a Poisson count of onsets (mean rate·span), each spe_duration_s long; the step's multiplier is
    1 + (M-1)·(covered fraction of the step), overlapping events counted once."""
    r = RadiationParams(spe_rate_per_year=3.0, spe_multiplier=100.0, spe_duration_s=2 * DAY)
    events = sample_solar_particle_events(r, 0.0, 100 * YEAR, np.random.default_rng(3))
    assert_count(len(events), 300.0, "SPEs in 100 years")
    assert np.all(np.diff(events[:, 0]) >= 0) and np.allclose(events[:, 1] - events[:, 0], 2 * DAY)
    window = np.array([[100.0, 200.0], [150.0, 250.0]])
    assert spe_multiplier(0.0, 100.0, window, r) == 1.0
    assert spe_multiplier(120.0, 180.0, window, r) == 100.0
    assert spe_multiplier(250.0, 350.0, window, r) == 1.0
    assert spe_multiplier(50.0, 150.0, window[:1], r) == pytest.approx(1 + 99 * 0.5)
    assert spe_multiplier(0.0, 300.0, window, r) == pytest.approx(1 + 99 * 150 / 300)  # union 100..250
    assert spe_multiplier(160.0, 160.0, window, r) == 100.0  # an instant inside an event


# --------------------------------------------------------------------------------------------- dose, TID


def test_dose_accumulates_at_the_configured_rate_with_saa_weighting():
    """dose += D_yr/yr·dt·(1 + (M-1)·saa)/(1 + (M-1)·f_saa): outside the SAA the rate is D/(1+(M-1)f), inside
    M times that, the polar caps add nothing; during an SPE the dose rate is ×spe_dose_multiplier."""
    r = RadiationParams(dose_rate_rad_per_year=150.0, saa_dose_multiplier=20.0, spe_dose_multiplier=10.0,
                        spe_multiplier=100.0)
    f = 0.1
    health = GpuHealth(np.ones((4, 2), dtype=bool), quiet(), r, np.ones(4), np.random.default_rng(1),
                       saa_fraction=np.full(4, f))
    lat = np.array([0.0, SAA_CENTRE[0], 75.0, 0.0])
    lon = np.array([100.0, SAA_CENTRE[1], 0.0, 100.0])
    for k in range(1, 1441):
        health.step(60.0 * k, 60.0, lat, lon, np.full((4, 2), 50.0))
    quiet_rate = 150.0 / YEAR / (1 + 19 * f)
    np.testing.assert_allclose(health.dose_rad, quiet_rate * DAY * np.array([1.0, 20.0, 1.0, 1.0]), rtol=DOSE_REL)
    before = health.dose_rad.copy()
    health.step(DAY + 3600.0, 3600.0, lat, lon, np.full((4, 2), 50.0), spe_multiplier=100.0)
    np.testing.assert_allclose(health.dose_rad - before, quiet_rate * 3600.0 * 10.0 * np.array([1.0, 20.0, 1.0, 1.0]),
                               rtol=DOSE_REL)
    before = health.dose_rad.copy()
    health.step(DAY + 7200.0, 3600.0, lat, lon, np.full((4, 2), 50.0), spe_multiplier=50.5)  # halfway: ×5.5
    np.testing.assert_allclose(health.dose_rad - before, quiet_rate * 3600.0 * 5.5 * np.array([1.0, 20.0, 1.0, 1.0]),
                               rtol=DOSE_REL)


def test_orbit_average_dose_rate_equals_the_configured_rate():
    """With f_saa from the same ground track, a day along it gives exactly D_yr·day/yr on every satellite."""
    r = RadiationParams(dose_rate_rad_per_year=150.0, spe_rate_per_year=0.0)
    n, dt = 5, 60.0
    t, lat, lon = ground_track(n, 1440, dt)
    health = GpuHealth(np.ones((n, 1), dtype=bool), quiet(), r, orbit_mean_multiplier(lat, lon, r),
                       np.random.default_rng(1), saa_fraction=orbit_saa_fraction(lat, lon, r))
    for k in range(len(t)):
        health.step(t[k], dt, lat[:, k], lon[:, k], np.full((n, 1), 50.0))
    np.testing.assert_allclose(health.dose_rad, 150.0 * DAY / YEAR, rtol=DOSE_REL)


def test_tid_onset_turns_gpus_degraded_at_two_krad():
    """The step where the dose reaches 2 krad turns every OK GPU DEGRADED (cause tid_onset); a GPU resetting
    then comes back DEGRADED; an OFF one stays OFF; nothing else changes."""
    rate_rad_s = 0.1
    health = fleet(2, 4, quiet(reset_min_s=25.0), still(dose_rate_rad_per_year=rate_rad_s * YEAR),
                   saa_fraction=np.zeros(2), dose_rad=np.full(2, 1999.05))
    health.reset(0, 1, time_s=0.0, duration_s=25.0)
    health.power_off(1, 3)
    lat, lon = at(2, OUTSIDE)
    degraded_at = []
    for k in range(1, 31):
        result = health.step(float(k), 1.0, lat, lon, np.full((2, 4), 50.0))
        if result.degraded.any():
            degraded_at.append((k, int(result.degraded.sum()), sorted({t.cause for t in result.transitions})))
        if k == 9:
            assert set(np.unique(health.state)) == {OK, RESETTING, OFF}
    assert degraded_at == [(10, 6, ["tid_onset"]), (25, 1, ["reset_done"])]  # 1999.05 + 10 x 0.1 > 2000
    expected = np.full((2, 4), DEGRADED)
    expected[1, 3] = OFF
    np.testing.assert_array_equal(health.state, expected)


def test_due_and_sefi_rates_grow_after_the_tid_onset():
    """Past 2 krad, DUE and SEFI rates are ×(1 + dose/2 krad): ×3 at 4 krad, checked against a 0-dose group."""
    n, g, dt, steps = 100, 8, 60.0, 360
    due_s, sefi_s = 2e-4, 1e-4
    dose = np.where(np.arange(n) < n // 2, 0.0, 4000.0)
    health = fleet(n, g, quiet(due_per_gpu_per_year=due_s * YEAR, sefi_per_board_per_day=sefi_s * DAY,
                               reset_min_s=60.0, reset_max_s=60.0), seed=11, dose_rad=dose)
    factor = np.where(dose > 0, 3.0, 1.0)
    lat, lon = at(n, OUTSIDE)
    running_steps = np.zeros(n)
    for k in range(1, steps + 1):
        running_steps += (health.state <= DEGRADED).sum(axis=1)
        health.step(k * dt, dt, lat, lon, np.full((n, g), 50.0))
    for group, label in ((dose == 0, "0 krad"), (dose > 0, "4 krad")):
        exposure = running_steps[group] * dt
        assert_count(health.due_count[group].sum(), (due_s * factor[group] * exposure).sum(), f"DUEs at {label}")
        expected_sefi = (running_steps[group] * -np.expm1(-sefi_s * factor[group] * dt)).sum()
        assert_count(health.sefi_count[group].sum(), expected_sefi, f"SEFIs at {label}")
    assert np.all(health.state[dose > 0] != OK) and np.all(health.state[dose == 0] != DEGRADED)


# ----------------------------------------------------------------------------------- rates at two step lengths

RATE_S = dict(ce=0.01, due=2e-4, sefi=1e-4, sdc=2e-4, latchup=5e-5, failure=2e-5)  # per GPU-second
P_DETECT, P_BURN, REMAP_EVERY = 0.3, 0.5, 50
RUN_S = 3 * 3600.0
RESET_RANGE_S, CYCLE_RANGE_S = (60.0, 600.0), (60.0, 300.0)


def rate_params() -> GpuHealthParams:
    return quiet(
        ce_per_gpu_per_day=RATE_S["ce"] * DAY,
        due_per_gpu_per_year=RATE_S["due"] * YEAR,
        sefi_per_board_per_day=RATE_S["sefi"] * DAY,
        sdc_terrestrial_per_gpu_per_day=RATE_S["sdc"] / 4.0 * DAY,
        sdc_radiation_factor=4.0,
        sdc_detection_probability=P_DETECT,
        latchup_per_gpu_per_year=RATE_S["latchup"] * YEAR,
        latchup_current_limited=False,
        latchup_burnout_probability=P_BURN,
        random_failure_per_year=RATE_S["failure"] * YEAR,
        row_remap_threshold=REMAP_EVERY,
        reset_min_s=RESET_RANGE_S[0], reset_max_s=RESET_RANGE_S[1],
        latchup_power_cycle_min_s=CYCLE_RANGE_S[0], latchup_power_cycle_max_s=CYCLE_RANGE_S[1],
    )


@dataclass
class LongRun:
    dt: float
    health: GpuHealth
    present: np.ndarray
    running_gpu_steps: int = 0
    resetting_gpu_steps: int = 0
    transitions: list = field(default_factory=list)
    record_mismatches: list = field(default_factory=list)
    absent_touched: int = 0
    killed_not_running: int = 0
    failed_running_not_killed: int = 0
    sefi_downtime_s: list = field(default_factory=list)
    cycle_downtime_s: list = field(default_factory=list)
    sdc_detected_steps: int = 0


def long_run(dt: float) -> LongRun:
    n, g = 200, 8
    present = np.ones((n, g), dtype=bool)
    present[::10, 6:] = False
    absent_flat = ~present.reshape(-1)
    health = GpuHealth(present, rate_params(), still(), np.ones(n), np.random.default_rng(2024))
    run = LongRun(dt, health, present)
    lat, lon = at(n, OUTSIDE)
    junction = np.full((n, g), 60.0)
    for k in range(1, int(round(RUN_S / dt)) + 1):
        t = k * dt
        before = health.state.copy()
        running = before <= DEGRADED
        run.running_gpu_steps += np.count_nonzero(running)
        run.resetting_gpu_steps += np.count_nonzero(before == RESETTING)
        result = health.step(t, dt, lat, lon, junction)
        run.absent_touched += np.count_nonzero(absent_flat[result.ce_slots])
        quiet_step = not (result.transitions or result.due.any() or result.sdc_silent.any() or result.sdc_detected.any())
        if quiet_step and np.array_equal(health.state, before):
            continue  # nothing else happened: every mask is empty (failed, reset and recovered imply transitions)
        touched = (result.process_killed | result.due | result.sefi | result.sdc_silent | result.sdc_detected
                   | result.latchup | result.failed | result.recovered | result.degraded)
        run.absent_touched += np.count_nonzero(touched & ~present)
        run.killed_not_running += np.count_nonzero(result.process_killed & ~running)
        run.failed_running_not_killed += np.count_nonzero(result.failed & running & ~result.process_killed)
        run.sdc_detected_steps += np.count_nonzero(result.sdc_detected)
        changed = health.state != before
        recorded = sorted((tr.satellite, tr.gpu, tr.from_state, tr.to_state) for tr in result.transitions)
        actual = sorted((int(s), int(c), int(before[s, c]), int(health.state[s, c])) for s, c in np.argwhere(changed))
        if recorded != actual:
            run.record_mismatches.append((t, recorded, actual))
        run.transitions.extend(result.transitions)
        only_sefi = result.sefi & ~result.latchup & ~result.failed
        run.sefi_downtime_s.extend(health.resetting_until_s[only_sefi] - t)
        only_cycle = result.latchup & ~result.sefi & ~result.failed
        run.cycle_downtime_s.extend(health.resetting_until_s[only_cycle] - t)
    return run


@pytest.fixture(scope="module", params=[1.0, 600.0], ids=["dt=1s", "dt=600s"])
def long_runs(request) -> LongRun:
    return long_run(request.param)


def test_counted_faults_reproduce_their_rates_at_any_step(long_runs):
    """Correctable ECC, DUE and SDC are Poisson counts: λ per running GPU-second at dt = 1 s and dt = 600 s
    alike (at 600 s a DUE or SDC step holds several events 6-12 % of the time); detected SDCs are p_detect of
    them; each remapped row is REMAP_EVERY correctable errors or one DUE."""
    run, h = long_runs, long_runs.health
    exposure = run.running_gpu_steps * run.dt
    assert_count(h.ce_count.sum(), RATE_S["ce"] * exposure, "correctable errors")
    assert_count(h.due_count.sum(), RATE_S["due"] * exposure, "DUEs")
    assert_count(h.sdc_count.sum(), RATE_S["sdc"] * exposure, "SDCs")
    assert_count(h.sdc_detected_count.sum(), P_DETECT * RATE_S["sdc"] * exposure, "detected SDCs")
    assert run.sdc_detected_steps <= h.sdc_detected_count.sum()
    np.testing.assert_array_equal(h.retired_rows, h.ce_count // REMAP_EVERY + h.due_count)


@pytest.mark.parametrize("dt", [10.0, 600.0])
def test_counts_do_not_saturate_and_thinning_is_exact_at_long_steps(dt):
    """λ·dt = 2 at 600 s steps: DUE and SDC counts still average λ·T (an at-least-one count would give 43 %
    of it), and a SEFI hits a running GPU-step with p = 1 - e^(-λ·dt) = 63 % (not λ·dt = 100 %)."""
    n, g, run_s = 50, 8, 3600.0
    count_s, sefi_s = 2.0 / 600.0, 1.0 / 600.0
    params = quiet(due_per_gpu_per_year=count_s * YEAR, sdc_terrestrial_per_gpu_per_day=count_s * DAY,
                   sdc_radiation_factor=1.0, sefi_per_board_per_day=sefi_s * DAY, reset_min_s=1.0, reset_max_s=1.0)
    health = fleet(n, g, params, seed=21)
    lat, lon = at(n, OUTSIDE)
    running_steps = 0
    for k in range(1, int(run_s / dt) + 1):
        running_steps += np.count_nonzero(health.state <= DEGRADED)
        health.step(k * dt, dt, lat, lon, np.full((n, g), 50.0))
    assert_count(health.due_count.sum(), count_s * running_steps * dt, "DUEs")
    assert_count(health.sdc_count.sum(), count_s * running_steps * dt, "SDCs")
    assert_count(health.sefi_count.sum(), running_steps * -math.expm1(-sefi_s * dt), "SEFIs")


def test_reset_and_failure_events_follow_exact_thinning(long_runs):
    """SEFI and latch-up put the GPU down, so they count at most once per step: p = 1 - exp(-λ·dt) per running
    GPU-step; permanent failure hits running and resetting GPUs; p_burn of latch-ups (no current limiting)
    burn the GPU out."""
    run, h, dt = long_runs, long_runs.health, long_runs.dt
    p = {kind: -math.expm1(-RATE_S[kind] * dt) for kind in ("sefi", "latchup", "failure")}
    assert_count(h.sefi_count.sum(), run.running_gpu_steps * p["sefi"], "SEFIs")
    assert_count(h.latchup_count.sum(), run.running_gpu_steps * p["latchup"], "latch-ups")
    survive_running = (1 - p["failure"]) * (1 - P_BURN * p["latchup"])
    expected_failed = run.running_gpu_steps * (1 - survive_running) + run.resetting_gpu_steps * p["failure"]
    assert_count(int((h.state == FAILED).sum()), expected_failed, "permanent failures")
    burnouts = sum(tr.cause == "latchup_burnout" for tr in run.transitions)
    assert_count(burnouts, run.running_gpu_steps * p["latchup"] * P_BURN, "latch-up burn-outs")
    if dt == 1.0:  # small λ·dt: the at-least-one counts equal λ·exposure too (step-length independence)
        exposure = run.running_gpu_steps * dt
        assert_count(h.sefi_count.sum(), RATE_S["sefi"] * exposure, "SEFIs vs λ·T")
        assert_count(h.latchup_count.sum(), RATE_S["latchup"] * exposure, "latch-ups vs λ·T")


def test_downtimes_are_uniform_in_their_ranges(long_runs):
    """SEFI resets last U(reset_min, reset_max), latch-up power cycles U(min, max): range and mean (4 sigma)."""
    for downtimes, (low, high), label in ((long_runs.sefi_downtime_s, RESET_RANGE_S, "reset"),
                                         (long_runs.cycle_downtime_s, CYCLE_RANGE_S, "power cycle")):
        values = np.array(downtimes)
        assert len(values) > 100
        assert values.min() >= low and values.max() <= high, label
        sd_of_mean = (high - low) / math.sqrt(12 * len(values))
        assert abs(values.mean() - (low + high) / 2) <= SIGMAS * sd_of_mean, label


def test_long_run_transitions_are_legal_recorded_and_spare_absent_gpus(long_runs):
    """Every state change is in the legal table and recorded exactly once with its from/to states; absent GPU
    slots never change or count; the killed-process mask covers exactly GPUs that were running."""
    run, h = long_runs, long_runs.health
    assert run.transitions, "the run should have produced transitions"
    illegal = {(tr.from_state, tr.to_state) for tr in run.transitions} - EXPECTED_LEGAL
    assert not illegal
    assert not run.record_mismatches[:3]
    causes = {tr.cause for tr in run.transitions}
    assert causes == {"sefi", "latchup", "latchup_burnout", "permanent_failure", "reset_done"}
    absent = ~run.present
    assert run.absent_touched == 0 and not any(not run.present[tr.satellite, tr.gpu] for tr in run.transitions)
    assert np.all(h.state[absent] == OFF)
    for name in ("ce_count", "retired_rows", "due_count", "sefi_count", "sdc_count", "sdc_detected_count", "latchup_count"):
        assert not getattr(h, name)[absent].any(), name
    assert run.killed_not_running == 0 and run.failed_running_not_killed == 0
    np.testing.assert_array_equal(h.usable, run.present & (h.state <= DEGRADED))
    counts = h.state_counts()
    assert counts.sum() == run.present.sum() and counts[:, OFF].sum() == 0


# ---------------------------------------------------------------------------------------- permanent failure


def test_arrhenius_factor_against_the_analytic_formula():
    """exp[(E_a/k_B)(1/T_ref - 1/T_j)] with E_a = 0.7 eV and T in kelvin; 1 at T_ref."""
    params = GpuHealthParams()
    assert params.activation_energy_ev == 0.7
    t_c = np.array([params.thermal_reference_c, 40.0, 85.0, 100.0])
    t_ref_k = params.thermal_reference_c + 273.15
    expected = np.exp(0.7 / K_B_EV_PER_K * (1 / t_ref_k - 1 / (t_c + 273.15)))
    np.testing.assert_allclose(arrhenius_factor(t_c, params), expected, rtol=1e-12)
    assert arrhenius_factor(np.array([params.thermal_reference_c]), params)[0] == pytest.approx(1.0, abs=1e-15)
    assert 2.5 < expected[2] < 3.0  # +15 K at 0.7 eV: the familiar ~2.7x


@pytest.mark.parametrize("dt", [60.0, 1800.0])
def test_thermal_failures_follow_the_arrhenius_rate(dt):
    """Only the thermal term on: the fraction of GPUs failed after T is 1 - exp(-λ_therm·AF(T_j)·T) at
    40, 70 and 100 °C, for short and long steps (binomial, 4 sigma)."""
    params = quiet(thermal_failure_per_year=1e-5 * YEAR)
    n, g, run_s = 150, 8, 6 * 3600.0
    temps = np.repeat([40.0, 70.0, 100.0], n // 3)
    health = fleet(n, g, params, seed=3)
    junction = np.repeat(temps[:, None], g, axis=1)
    lat, lon = at(n, OUTSIDE)
    for k in range(1, int(run_s / dt) + 1):
        health.step(k * dt, dt, lat, lon, junction)
    for temp in (40.0, 70.0, 100.0):
        rows = temps == temp
        af = math.exp(0.7 / K_B_EV_PER_K * (1 / (70.0 + 273.15) - 1 / (temp + 273.15)))
        expected = 1 - math.exp(-1e-5 * af * run_s)
        total = rows.sum() * g
        observed = (health.state[rows] == FAILED).sum() / total
        assert abs(observed - expected) <= SIGMAS * math.sqrt(expected * (1 - expected) / total), (temp, observed, expected)


@pytest.mark.parametrize("dt", [60.0, 3600.0])
def test_infant_and_tid_failure_hazards(dt):
    """Infant mortality integrates exactly: failed fraction 1 - exp(-f·(1 - e^(-T/τ))) at any step; the TID term
    λ0·((dose - 2 krad)/5 krad)² gives λ0 at 7 krad and 4·λ0 at 12 krad (no failures at 0 krad)."""
    n, g, run_s = 150, 8, DAY
    params = quiet(infant_failure_fraction=1.5, infant_time_constant_days=0.5, tid_failure_per_year=1e-5 * YEAR)
    dose = np.repeat([0.0, 7000.0, 12000.0], n // 3)
    health = fleet(n, g, params, seed=4, dose_rad=dose)
    lat, lon = at(n, OUTSIDE)
    for k in range(1, int(run_s / dt) + 1):
        health.step(k * dt, dt, lat, lon, np.full((n, g), 50.0))
    infant = 1.5 * (1 - math.exp(-run_s / (0.5 * DAY)))
    for level, tid_hazard in ((0.0, 0.0), (7000.0, 1e-5 * run_s), (12000.0, 4e-5 * run_s)):
        rows = dose == level
        total = rows.sum() * g
        expected = 1 - math.exp(-(infant + tid_hazard))
        observed = (health.state[rows] == FAILED).sum() / total
        assert abs(observed - expected) <= SIGMAS * math.sqrt(expected * (1 - expected) / total), (level, observed, expected)
    rate = permanent_failure_rate_per_s(np.array([0.0]), np.array([12000.0]), np.array([70.0]), params)
    assert rate[0] == pytest.approx(1.5 / (0.5 * DAY) + 4e-5, rel=1e-12)


def test_failures_strike_running_and_resetting_gpus_but_not_off_ones():
    """Permanent failure needs power: GPUs held in a long reset fail at λ like running ones; OFF GPUs never do."""
    n, g, dt, run_s, rate_s = 60, 8, 60.0, 3600.0, 1e-4
    health = fleet(n, g, quiet(random_failure_per_year=rate_s * YEAR), seed=6)
    for s in range(n // 3):
        for c in range(g):
            health.reset(s, c, time_s=0.0, duration_s=1e9)
            health.power_off(n // 3 + s, c)
    lat, lon = at(n, OUTSIDE)
    for k in range(1, int(run_s / dt) + 1):
        health.step(k * dt, dt, lat, lon, np.full((n, g), 50.0))
    expected = 1 - math.exp(-rate_s * run_s)
    groups = {"resetting": slice(0, n // 3), "running": slice(2 * n // 3, n)}
    for label, rows in groups.items():
        observed = (health.state[rows] == FAILED).mean()
        total = health.state[rows].size
        assert abs(observed - expected) <= SIGMAS * math.sqrt(expected * (1 - expected) / total), (label, observed)
    assert np.all(health.state[n // 3: 2 * n // 3] == OFF)


def test_a_solar_particle_event_multiplies_single_event_rates():
    """During an SPE (step multiplier M) correctable errors and SEFIs come M times as often."""
    n, g, dt, run_s, spe = 20, 8, 60.0, 3600.0, 10.0
    ce_s, sefi_s = 0.01, 2e-5
    health = fleet(n, g, quiet(ce_per_gpu_per_day=ce_s * DAY, sefi_per_board_per_day=sefi_s * DAY,
                               reset_min_s=1.0, reset_max_s=1.0), seed=7)
    lat, lon = at(n, OUTSIDE)
    running_steps = 0
    for k in range(1, int(run_s / dt) + 1):
        running_steps += np.count_nonzero(health.state <= DEGRADED)
        health.step(k * dt, dt, lat, lon, np.full((n, g), 50.0), spe_multiplier=spe)
    assert_count(health.ce_count.sum(), spe * ce_s * running_steps * dt, "correctable errors in an SPE")
    assert_count(health.sefi_count.sum(), running_steps * -math.expm1(-spe * sefi_s * dt), "SEFIs in an SPE")


# ----------------------------------------------------------------------------------------- operator commands


def test_reset_lasts_its_duration_then_returns_ok_or_degraded():
    """A commanded reset holds the GPU in RESETTING until time + duration; the step whose end reaches it brings
    the GPU back (OK, or DEGRADED past the TID onset) and flags it recovered. Default: reset_min_s."""
    health = fleet(2, 2, quiet(reset_min_s=45.0), dose_rad=np.array([0.0, 2500.0]))
    record = health.reset(0, 1, time_s=100.0, duration_s=300.0)
    assert (record.from_state, record.to_state, record.cause) == (OK, RESETTING, "operator_reset")
    assert health.reset(1, 0, time_s=100.0).to_state == RESETTING  # default duration: 45 s
    lat, lon = at(2, OUTSIDE)
    back = {}
    for t in np.arange(110.0, 500.0, 10.0):
        result = health.step(t, 10.0, lat, lon, np.full((2, 2), 50.0))
        for tr in result.transitions:
            back[(tr.satellite, tr.gpu)] = (t, tr.to_state, tr.cause, bool(result.recovered[tr.satellite, tr.gpu]))
        assert not health.usable[0, 1] or t >= 400.0
    assert back == {(0, 1): (400.0, OK, "reset_done", True), (1, 0): (150.0, DEGRADED, "reset_done", True)}


def test_refused_commands_give_a_reason_and_change_nothing():
    present = np.ones((2, 3), dtype=bool)
    present[1, 2] = False
    health = fleet(2, 3, quiet(), present=present)
    health.fail(0, 2, "injected: board short", time_s=5.0)
    health.power_off(1, 1)
    health.reset(0, 0, time_s=0.0)
    before = snapshot(health)
    refused = [
        (lambda: health.reset(0, 2, time_s=10.0), "FAILED"),
        (lambda: health.power_on(0, 2, time_s=10.0), "FAILED"),
        (lambda: health.power_off(0, 2), "FAILED"),
        (lambda: health.fail(0, 2, "again"), "already FAILED"),
        (lambda: health.reset(1, 1, time_s=10.0), "OFF"),
        (lambda: health.power_off(1, 1), "already powered off"),
        (lambda: health.reset(0, 0, time_s=10.0), "already resetting"),
        (lambda: health.power_on(0, 1, time_s=10.0), "not OFF"),
        (lambda: health.reset(1, 2, time_s=10.0), "no GPU 2"),
        (lambda: health.reset(2, 0, time_s=10.0), "out of range"),
        (lambda: health.reset(0, 1, time_s=float("nan")), "finite"),
        (lambda: health.reset(0, 1, time_s=10.0, duration_s=-5.0), "positive"),
        (lambda: health.fail(0, 1, "  "), "cause"),
        (lambda: health.reset(0.5, 1, time_s=10.0), "whole-number"),
    ]
    for command, reason in refused:
        with pytest.raises(ValueError, match=reason):
            command()
        assert_same(before, snapshot(health))


def test_power_off_and_on():
    """OFF GPUs are unusable and log nothing; power_on boots them through RESETTING for boot_s."""
    health = fleet(1, 2, quiet(ce_per_gpu_per_day=0.05 * DAY, boot_s=120.0))
    assert health.power_off(0, 0).to_state == OFF
    lat, lon = at(1, OUTSIDE)
    for t in np.arange(60.0, 3601.0, 60.0):
        health.step(t, 60.0, lat, lon, np.full((1, 2), 50.0))
    assert health.ce_count[0, 0] == 0 and health.ce_count[0, 1] > 0
    assert not health.usable[0, 0] and health.usable[0, 1]
    record = health.power_on(0, 0, time_s=3600.0)
    assert (record.to_state, record.cause) == (RESETTING, "power_on")
    assert health.resetting_until_s[0, 0] == 3720.0
    health.step(3660.0, 60.0, lat, lon, np.full((1, 2), 50.0))
    assert health.state[0, 0] == RESETTING
    health.step(3720.0, 60.0, lat, lon, np.full((1, 2), 50.0))
    assert health.state[0, 0] == OK


def test_transition_table_and_checker():
    assert {(a, b) for a, targets in LEGAL_TRANSITIONS.items() for b in targets} == EXPECTED_LEGAL
    for a in GpuHealthState:
        for b in GpuHealthState:
            if (a, b) in EXPECTED_LEGAL:
                check_transition(a, b)
            else:
                with pytest.raises(IllegalTransitionError, match=f"{a.name} -> {b.name}"):
                    check_transition(a, b)


# ---------------------------------------------------------------------------- randomised run, determinism


def chaos_run(seed: int, commands_seed: int = 99, steps: int = 1500, switched_off: tuple[int, int] | None = None):
    """High fault rates, a dose crossing the TID onset, hot and NaN junctions, SAA passes, an SPE, and random
    operator commands (illegal ones refused without side effects). Returns the health object and a log."""
    n, g = 24, 4
    present = np.ones((n, g), dtype=bool)
    present[::5, 3] = False
    params = GpuHealthParams(ce_per_gpu_per_day=500.0, due_per_gpu_per_year=7000.0,
                             sefi_per_board_per_day=20.0, sdc_terrestrial_per_gpu_per_day=2.0, sdc_radiation_factor=3.0,
                             latchup_per_gpu_per_year=200.0, latchup_current_limited=False, random_failure_per_year=20.0,
                             thermal_failure_per_year=5.0, infant_failure_fraction=0.1, tid_failure_per_year=30.0,
                             reset_min_s=30.0, reset_max_s=300.0, row_remap_threshold=7)
    radiation = RadiationParams(dose_rate_rad_per_year=2000.0 * YEAR / (steps * 30.0))  # ~2 krad over the run
    health = GpuHealth(present, params, radiation, np.full(n, 2.0), np.random.default_rng(seed),
                       dose_rad=np.linspace(1500.0, 2500.0, n) * (np.arange(n) % 2))
    if switched_off is not None:
        health.power_off(*switched_off)
    commands = np.random.default_rng(commands_seed)
    log, refused, illegal, mismatches = [], 0, [], 0
    lat = np.linspace(-80.0, 80.0, n)
    lat[2] = np.nan  # a satellite whose orbit failed to propagate
    for k in range(1, steps + 1):
        t = 30.0 * k
        lon = (np.linspace(-180.0, 180.0, n) + 0.5 * k) % 360.0 - 180.0
        junction = 60.0 + 40.0 * commands.random((n, g))
        junction[3, 1] = np.nan
        junction[4, 0] = np.inf
        spe = 100.0 if 600 <= k < 700 else 1.0
        if switched_off is None:  # commands only in the free-running version
            sat, gpu = int(commands.integers(0, n)), int(commands.integers(0, g))
            action = int(commands.integers(0, 8))
            before = snapshot(health)
            try:
                if action == 0:
                    record = health.reset(sat, gpu, time_s=t - 30.0)
                elif action == 1:
                    record = health.power_off(sat, gpu, time_s=t - 30.0)
                elif action == 2:
                    record = health.power_on(sat, gpu, time_s=t - 30.0)
                elif action == 3 and k % 7 == 0:
                    record = health.fail(sat, gpu, "injected", time_s=t - 30.0)
                else:
                    record = None
                if record is not None:
                    log.append(record)
                    if (record.from_state, record.to_state) not in EXPECTED_LEGAL:
                        illegal.append(record)
            except ValueError:
                refused += 1
                for name in before:
                    if not np.array_equal(before[name], getattr(health, name), equal_nan=True):
                        mismatches += 1
        state_before = health.state.copy()
        result = health.step(t, 30.0, lat, lon, junction, spe_multiplier=spe)
        changed = {(int(s), int(c)) for s, c in np.argwhere(health.state != state_before)}
        if changed != {(tr.satellite, tr.gpu) for tr in result.transitions}:
            mismatches += 1
        for tr in result.transitions:
            if (tr.from_state, tr.to_state) not in EXPECTED_LEGAL or state_before[tr.satellite, tr.gpu] != tr.from_state:
                illegal.append(tr)
        log.extend(result.transitions)
    return health, log, refused, illegal, mismatches


def test_random_run_only_legal_transitions_and_no_nan():
    health, log, refused, illegal, mismatches = chaos_run(seed=8)
    assert not illegal[:3]
    assert mismatches == 0
    assert refused > 100 and len(log) > 300
    kinds = {(tr.from_state, tr.to_state) for tr in log}
    assert {(OK, DEGRADED), (RESETTING, DEGRADED), (OFF, RESETTING), (OK, FAILED), (DEGRADED, FAILED)} <= kinds
    for name, value in snapshot(health).items():
        assert np.all(np.isfinite(value)), name
    absent = ~health.present
    assert np.all(health.state[absent] == OFF) and not health.ce_count[absent].any()
    assert np.all(health.dose_rad >= 0)


def test_same_seed_same_results_different_seed_different():
    a, log_a, *_ = chaos_run(seed=8, steps=400)
    b, log_b, *_ = chaos_run(seed=8, steps=400)
    c, _, *_ = chaos_run(seed=9, steps=400)
    assert_same(snapshot(a), snapshot(b))
    assert log_a == log_b
    assert not np.array_equal(a.ce_count, c.ce_count)
    assert not np.array_equal(a.state, c.state)


def test_a_gpus_fate_does_not_depend_on_other_gpus_states():
    """Powering one GPU off changes nothing for any other GPU: random numbers are drawn for every slot in a
    fixed order whatever the states, then masked."""
    a, *_ = chaos_run(seed=12, steps=500, switched_off=(0, 0))
    b, *_ = chaos_run(seed=12, steps=500, switched_off=(5, 2))
    others = np.ones(a.present.shape, dtype=bool)
    others[0, 0] = others[5, 2] = False
    for name, value in snapshot(a).items():
        if value.shape == others.shape:
            np.testing.assert_array_equal(value[others], snapshot(b)[name][others], err_msg=name)
    np.testing.assert_array_equal(a.dose_rad, b.dose_rad)


# ------------------------------------------------------------------------------------------------ validation


def test_bad_parameters_and_inputs_are_rejected():
    for bad in (dict(due_per_gpu_per_year=-1.0), dict(sdc_detection_probability=1.5), dict(reset_min_s=700.0),
                dict(row_remap_threshold=0), dict(ce_per_gpu_per_day=float("nan")), dict(boot_s=0.0)):
        with pytest.raises(ValueError):
            GpuHealthParams(**bad)
    for bad in (dict(saa_multiplier=0.0), dict(dose_rate_rad_per_year=-1.0), dict(polar_lat_deg=95.0),
                dict(spe_duration_s=float("inf"))):
        with pytest.raises(ValueError):
            RadiationParams(**bad)
    health = fleet(2, 2, quiet())
    lat, lon = at(2, OUTSIDE)
    junction = np.full((2, 2), 50.0)
    for args, kwargs in (((10.0, 0.0, lat, lon, junction), {}), ((10.0, 10.0, lat[:1], lon, junction), {}),
                         ((10.0, 10.0, lat, lon, junction[:, :1]), {}), ((10.0, 10.0, lat, lon, junction), {"spe_multiplier": 0.0})):
        with pytest.raises(ValueError):
            health.step(*args, **kwargs)
    with pytest.raises(ValueError):
        GpuHealth(np.ones((2, 2), dtype=bool), quiet(), still(), np.array([1.0, 0.0]), np.random.default_rng(1))
    with pytest.raises(ValueError):
        orbit_mean_multiplier(np.zeros((2, 3)), np.zeros((2, 4)), still())


def test_candidate_gpus_drawn_per_satellite_are_independent_per_gpu_events():
    """Candidates are drawn per satellite (one uniform against P(any event on its n GPUs)), then per GPU
    given at least one (GpuHealth._candidate_slots): together that must be one independent Bernoulli
    p = 1 - e^(-μ) per present GPU: the right marginal for every slot, pairs hit together p² of the time,
    absent slots never, whatever the satellite's number of GPUs."""
    present = np.zeros((3, 8), dtype=bool)
    present[0] = True
    present[1, [0, 2, 5]] = True  # gaps between present slots
    present[2, 6] = True
    health = fleet(3, 8, quiet(), present=present, seed=8)
    mu = np.array([0.3, 0.05, 0.7])
    trials = 20_000
    hits = np.zeros((trials, 24), dtype=bool)
    for trial in range(trials):
        drawn = np.flatnonzero(health._event_rng.random(3) < -np.expm1(-mu * health._gpus))
        if drawn.size:
            hits[trial, health._candidate_slots(drawn, mu[drawn])] = True
    p = np.repeat(-np.expm1(-mu), 8).reshape(3, 8)
    expected = np.where(present, p, 0.0).reshape(-1)
    rate = hits.mean(axis=0)
    tolerance = SIGMAS * np.sqrt(expected * (1 - expected) / trials)
    assert np.all(np.abs(rate - expected) <= np.maximum(tolerance, 1e-12))
    for a, b in ((0, 1), (0, 7), (8, 10), (8, 13)):  # pairs on one satellite: independent
        joint = (hits[:, a] & hits[:, b]).mean()
        want = expected[a] * expected[b]
        assert abs(joint - want) <= SIGMAS * math.sqrt(want * (1 - want) / trials)


@pytest.mark.parametrize("total", [0.3, 5.0, 400.0])
def test_correctable_error_points_are_a_poisson_process(total):
    """The fleet's correctable errors are the points of a unit-rate Poisson process on [0, total)
    (GpuHealth._poisson_points, from exponential gaps): the count is Poisson (mean = variance = total),
    and the points are sorted and uniform over the interval."""
    health = fleet(2, 2, quiet(), seed=12)
    draws = 4000
    counts, points = [], []
    for _ in range(draws):
        p = health._poisson_points(total)
        assert np.all(np.diff(p) >= 0) and (p.size == 0 or (p[0] >= 0 and p[-1] < total))
        counts.append(p.size)
        points.append(p / total)
    counts = np.array(counts)
    assert abs(counts.mean() - total) <= SIGMAS * math.sqrt(total / draws)
    assert abs(counts.var() - total) <= SIGMAS * math.sqrt(2 * total * total / draws + total / draws) + 0.05 * total
    u = np.concatenate(points)
    assert abs(u.mean() - 0.5) <= SIGMAS * math.sqrt(1 / 12 / u.size)
    assert abs(np.mean(u < 0.25) - 0.25) <= SIGMAS * math.sqrt(0.25 * 0.75 / u.size)
