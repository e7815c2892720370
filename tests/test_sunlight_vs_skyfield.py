"""Physics validation: the engine's sunlight / eclipse model against independent references.

References used here never come from the engine itself:
- skyfield's ``ICRF.is_sunlit(eph)`` (line-of-sight to the Sun's centre past a spherical Earth of radius
  ERAD) evaluated on ``EarthSatellite`` positions built from the very TLE lines the engine propagates;
- skyfield's ``find_discrete`` search on that same ``is_sunlit`` for eclipse transition times;
- the analytic cylindrical-shadow eclipse fraction of a circular orbit,
  f = (1/π)·acos(√(h² + 2R·h) / (r·cos β)) for |β| < β* = asin(R/r)  (physics.md §3.2, CelestLab
  ``CL_gm_betaEclipse``), with β from sin β = cos δ sin i sin(Ω − α) + sin δ cos i (physics.md §3.1),
  the Sun's RA/Dec from skyfield's DE421 and the orbit's RAAN/inclination from sgp4's Satrec.

Only skyfield's builtin timescale and the bundled DE421 are used (engine.ephemeris), never the network.
"""

from __future__ import annotations

import math
import textwrap
from datetime import datetime, timezone

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec
from skyfield.api import EarthSatellite
from skyfield.searchlib import find_discrete
from skyfield.sgp4lib import TEME

from engine import EventKind, Simulation, load_mission
from engine.ephemeris import planets, timescale

# ------------------------------------------------------------------------------------------- tolerances

SUNLIT_AGREEMENT_MIN = 0.995
"""Minimum fraction of sampled steps on which the engine's sunlit flag equals skyfield's is_sunlit."""

ECLIPSE_FRACTION_REL_TOL = 0.01
"""Relative tolerance between the measured per-orbit eclipse fraction and the analytic β formula."""

BETA_ZERO_TOL_DEG = 1.0
"""How close to zero the 'β≈0' orbit's beta angle must be for it to count as the β≈0 case."""

EVENT_TIME_TOL_STEPS = 1.0
"""Eclipse entry/exit event times must be within this many mission steps of skyfield's transitions."""

# Spherical-Earth radius of skyfield's is_sunlit and of the textbook cylindrical shadow (IERS ERAD).
EARTH_RADIUS_KM = 6378.1366

# ----------------------------------------------------------------------------------------------- fleet

DAY_STEP_S = 60.0
DAY_S = 86400.0

DAY_MISSION = f"""
[mission]
id = "physics-sunlight-day"
title = "Sunlight validation: a 53 deg Walker shell and a 10:30 sun-synchronous pair"
epoch = "2026-03-21T00:00:00Z"
duration = "24h"
step = "{DAY_STEP_S:g}s"
seed = 1

[[shell]]
name = "A"
altitude_km = 550
inclination_deg = 53
planes = 2
sats_per_plane = 2
phasing = 1

[[shell]]
name = "S"
altitude_km = 650
sun_synchronous = true
ltan = "10:30"
planes = 1
sats_per_plane = 2
"""


def _write(tmp_path_factory, name: str, text: str):
    path = tmp_path_factory.mktemp("physics") / f"{name}.toml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def day_run(tmp_path_factory):
    """6 satellites stepped for 24 h at 60 s: sampled sunlit flags, sample times and all eclipse events."""
    spec = load_mission(_write(tmp_path_factory, "day", DAY_MISSION))
    sim = Simulation(spec)
    times = [sim.time_s]
    sunlit = [np.array(sim.snapshot().sunlit)]
    while sim.time_s < DAY_S - 1e-9:
        sim.step()
        times.append(sim.time_s)
        sunlit.append(np.array(sim.snapshot().sunlit))
    events = [e for e in sim.drain_events() if e.kind in (EventKind.ECLIPSE_ENTRY, EventKind.ECLIPSE_EXIT)]
    return sim, np.array(times), np.array(sunlit), events


def _skyfield_satellite(sim: Simulation, sat_id: str) -> EarthSatellite:
    line1, line2 = sim.tle(sat_id)
    return EarthSatellite(line1, line2, name=sat_id, ts=timescale())


# --------------------------------------------------------------------------------------- sunlit flags


def test_sunlit_flag_matches_skyfield_is_sunlit(day_run):
    """snapshot().sunlit equals skyfield's EarthSatellite(...).at(t).is_sunlit(DE421) (positions from the
    engine's own TLE lines) on at least 99.5 % of the 60 s samples of a day, for every satellite."""
    sim, times, sunlit, _ = day_run
    ts_times = sim.clock.skyfield_times(times)
    eph = planets()
    for k, sat_id in enumerate(sim.satellite_ids):
        reference = np.asarray(_skyfield_satellite(sim, sat_id).at(ts_times).is_sunlit(eph), dtype=bool)
        agreement = float(np.mean(reference == sunlit[:, k]))
        assert agreement >= SUNLIT_AGREEMENT_MIN, (
            f"{sat_id}: sunlit flag agrees with skyfield on {agreement:.2%} of {len(times)} samples"
        )
    # Not vacuous: the fleet does spend time in the Earth's shadow.
    assert (~sunlit).any()
    assert sunlit.any()


# ----------------------------------------------------------------------------------- eclipse events


def _skyfield_transitions(sim: Simulation, sat_id: str, end_s: float):
    """(times since the epoch, new sunlit state) of every sunlit/shadow transition in [0, end_s]."""
    ts, eph = timescale(), planets()
    satellite = _skyfield_satellite(sim, sat_id)

    def sunlit(t):
        return satellite.at(t).is_sunlit(eph)

    sunlit.step_days = 60.0 / 86400.0  # far shorter than any sunlit or shadow arc (tens of minutes)
    t0 = ts.from_datetime(sim.clock.utc(0.0))
    t1 = ts.from_datetime(sim.clock.utc(end_s))
    found, values = find_discrete(t0, t1, sunlit)
    return (found - t0) * 86400.0, np.asarray(values, dtype=bool), bool(sunlit(t0))


def test_eclipse_events_alternate_and_match_skyfield_transitions(day_run):
    """Per satellite, ECLIPSE_ENTRY/ECLIPSE_EXIT events alternate (starting with the one that leaves the
    initial state), and each one lies within one mission step of the matching transition found by
    skyfield's find_discrete on is_sunlit; there are as many events as skyfield transitions."""
    sim, times, _, events = day_run
    tolerance_s = EVENT_TIME_TOL_STEPS * sim.step_s
    total = 0
    for sat_id in sim.satellite_ids:
        mine = sorted((e for e in events if e.satellite == sat_id), key=lambda e: e.time_s)
        ref_times, ref_lit, lit_at_start = _skyfield_transitions(sim, sat_id, float(times[-1]))

        kinds = [e.kind for e in mine]
        expected_first = EventKind.ECLIPSE_ENTRY if lit_at_start else EventKind.ECLIPSE_EXIT
        for index, kind in enumerate(kinds):
            should_be = expected_first if index % 2 == 0 else (
                EventKind.ECLIPSE_EXIT if expected_first == EventKind.ECLIPSE_ENTRY else EventKind.ECLIPSE_ENTRY
            )
            assert kind == should_be, f"{sat_id}: event {index} is {kind.value}, expected {should_be.value} (not alternating)"

        assert len(mine) == len(ref_times), f"{sat_id}: {len(mine)} engine eclipse events vs {len(ref_times)} skyfield transitions"
        for event, ref_t, ref_new_lit in zip(mine, ref_times, ref_lit):
            expected_kind = EventKind.ECLIPSE_EXIT if ref_new_lit else EventKind.ECLIPSE_ENTRY
            assert event.kind == expected_kind
            assert abs(event.time_s - ref_t) <= tolerance_s, (
                f"{sat_id}: {event.kind.value} at {event.time_s:.1f} s, skyfield at {ref_t:.1f} s"
            )
        total += len(mine)
    assert total > 0


# --------------------------------------------------------------------- per-orbit eclipse fraction vs β

FRACTION_EPOCH = datetime(2026, 6, 10, tzinfo=timezone.utc)  # Sun at δ ≈ +23°: the δ terms matter
FRACTION_ALTITUDE_KM = 550.0
FRACTION_INCLINATION_DEG = 53.0
BETA_TARGETS_DEG = (0.0, 30.0, 50.0)  # all below β* ≈ 67° at 550 km


def _sun_ra_dec_teme(when: datetime) -> tuple[float, float]:
    """Right ascension and declination (radians) of the geocentric DE421 Sun in the TEME frame."""
    ts, eph = timescale(), planets()
    x, y, z = (eph["sun"] - eph["earth"]).at(ts.from_datetime(when)).frame_xyz(TEME).km
    return math.atan2(y, x), math.asin(z / math.sqrt(x * x + y * y + z * z))


def _raan_for_beta(beta_deg: float, ra: float, dec: float, inclination_deg: float) -> float:
    """RAAN (deg) solving sin β = cos δ sin i sin(Ω − α) + sin δ cos i for Ω."""
    inc = math.radians(inclination_deg)
    sine = (math.sin(math.radians(beta_deg)) - math.sin(dec) * math.cos(inc)) / (math.cos(dec) * math.sin(inc))
    raan = math.degrees(ra + math.asin(sine)) % 360.0
    return raan - 360.0 if raan > 180.0 else raan


@pytest.fixture(scope="module")
def one_orbit(tmp_path_factory):
    """Three single-satellite circular 550 km / 53° orbits whose RAANs give β ≈ 0°, 30° and 50°, stepped
    at 1 s for exactly one orbital period (period from the TLE mean motion)."""
    ra, dec = _sun_ra_dec_teme(FRACTION_EPOCH)
    text = f"""
    [mission]
    id = "physics-eclipse-fraction"
    title = "Eclipse fraction vs beta angle"
    epoch = "{FRACTION_EPOCH.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    duration = "2h"
    step = "10s"
    seed = 1
    """
    for name, beta in zip("BCD", BETA_TARGETS_DEG):
        text += f"""
    [[shell]]
    name = "{name}"
    altitude_km = {FRACTION_ALTITUDE_KM}
    inclination_deg = {FRACTION_INCLINATION_DEG}
    eccentricity = 0.0
    raan_offset_deg = {_raan_for_beta(beta, ra, dec, FRACTION_INCLINATION_DEG):.6f}
    """
    spec = load_mission(_write(tmp_path_factory, "fraction", text))
    sim = Simulation(spec, step_s=1.0)
    satrecs = [Satrec.twoline2rv(*sim.tle(sat_id), WGS72) for sat_id in sim.satellite_ids]
    period_s = 2.0 * math.pi / satrecs[0].no_kozai * 60.0  # no_kozai: rad/min, from the TLE
    samples = int(round(period_s / sim.step_s))
    sunlit, radius = [], []
    for _ in range(samples):  # samples at t = 0, 1, ..., samples - 1 s: one period
        sunlit.append(np.array(sim.snapshot().sunlit))
        radius.append(np.linalg.norm(sim._teme_km, axis=1))
        sim.step()
    return sim, satrecs, period_s, np.array(sunlit), np.array(radius)


@pytest.mark.parametrize("which", range(len(BETA_TARGETS_DEG)), ids=[f"beta~{b:g}deg" for b in BETA_TARGETS_DEG])
def test_eclipse_fraction_matches_beta_angle_formula(one_orbit, which):
    """Fraction of one orbital period spent in shadow (engine snapshot().sunlit at 1 s) equals the analytic
    f = (1/π)·acos(√(h² + 2R·h) / (r·cos β)) within 1 % (relative). β is computed independently from
    sin β = cos δ sin i sin(Ω − α) + sin δ cos i with the DE421 Sun (skyfield, TEME RA/Dec at mid-orbit) and
    the TLE's inclination and RAAN (sgp4 Satrec, node advanced by its secular rate to mid-orbit); r is the
    satellite's mean geocentric distance over the orbit, so SGP4's small radius wobble is not charged to
    the formula's circular-orbit assumption."""
    sim, satrecs, period_s, sunlit, radius = one_orbit
    satrec = satrecs[which]
    assert satrec.ecco == 0.0

    mid_s = 0.5 * period_s
    ra, dec = _sun_ra_dec_teme(sim.clock.utc(mid_s))
    # Secular node at mid-orbit: minutes from the TLE epoch on the UTC Julian dates sgp4 uses.
    epoch_jd = satrec.jdsatepoch + satrec.jdsatepochF
    mid_jd = _julian_date_utc(sim.clock.utc(mid_s))
    node = satrec.nodeo + satrec.nodedot * (mid_jd - epoch_jd) * 1440.0
    inc = satrec.inclo
    beta = math.asin(math.cos(dec) * math.sin(inc) * math.sin(node - ra) + math.sin(dec) * math.cos(inc))

    r = float(radius[:, which].mean())
    beta_star = math.asin(EARTH_RADIUS_KM / r)
    assert abs(beta) < beta_star, "test orbit must be eclipsed every orbit"
    target = BETA_TARGETS_DEG[which]
    if target == 0.0:
        assert abs(math.degrees(beta)) < BETA_ZERO_TOL_DEG
    h = r - EARTH_RADIUS_KM
    analytic = math.acos(math.sqrt(h * h + 2.0 * EARTH_RADIUS_KM * h) / (r * math.cos(beta))) / math.pi

    measured = 1.0 - float(sunlit[:, which].mean())
    assert measured == pytest.approx(analytic, rel=ECLIPSE_FRACTION_REL_TOL), (
        f"beta {math.degrees(beta):.2f} deg: engine eclipse fraction {measured:.4f}, analytic {analytic:.4f}"
    )


def _julian_date_utc(when: datetime) -> float:
    """Julian date of a UTC datetime (days since -4712-01-01 12:00), as sgp4's jdsatepoch counts."""
    j2000 = datetime(2000, 1, 1, 12, tzinfo=timezone.utc)
    return 2451545.0 + (when - j2000).total_seconds() / 86400.0


SUN_INTERPOLATION_DIRECTION_TOL_RAD = 1e-8
"""Angle between the interpolated Sun and the exact DE421 Sun (the chord error bound is ~2e-9 rad)."""


def test_interpolated_sun_matches_exact_de421_between_nodes():
    """``SunEphemeris.interpolated`` (used by eclipse forecasts) against exact DE421 at off-node times
    spread over three days, including chunk boundaries and times before the epoch."""
    from engine.ephemeris import SUN_NODE_SPACING_S, MissionClock, SunEphemeris

    sun = SunEphemeris(MissionClock(datetime(2026, 3, 21, tzinfo=timezone.utc)), 10.0)
    rng = np.random.default_rng(7)
    times = np.concatenate([rng.uniform(-86400.0, 3 * 86400.0, 200), [0.0, SUN_NODE_SPACING_S * 144 - 0.5, 86400.0 + 0.25]])
    exact = sun.at_times(times)
    interpolated = sun.interpolated(times)
    # atan2 of |a×b| and a·b: arccos cannot resolve angles below ~2e-8 rad in double precision.
    angle = np.arctan2(np.linalg.norm(np.cross(exact, interpolated), axis=1), np.einsum("ij,ij->i", exact, interpolated))
    assert angle.max() < SUN_INTERPOLATION_DIRECTION_TOL_RAD
    assert np.abs(np.linalg.norm(interpolated, axis=1) / np.linalg.norm(exact, axis=1) - 1.0).max() < 1e-8
