"""Circular-orbit manoeuvre formulas for servicing missions, from two-body mechanics (plus J2 drifts).

All orbits are circular, so an altitude h gives radius r = R + h (R: the SGP4 Earth radius) and

    v = sqrt(μ / r)                        circular speed
    n = sqrt(μ / r³)                       mean motion
    drift(h, Δh) = n(h) - n(h + Δh)        rate at which an orbit Δh higher falls behind in phase
    d drift / d Δh = 3 n / (2 r)           the linearised rate (physics.md §2.6: 1.13 °/day per km at 650 km)
    Hohmann r1 → r2: Δv = |v_p - v1| + |v2 - v_a|, transfer ellipse a = (r1 + r2) / 2
    plane change:    Δv = 2 v sin(θ / 2), θ = angle between the orbit normals
                      n̂ = (sin i sin Ω, -sin i cos Ω, cos i)
    J2 secular rates: Ω̇ = -3/2 n J2 (R/r)² cos i,  u̇ = n (1 + 3/2 J2 (R/r)² (4 cos² i - 1))   (e = 0)

The table values of physics.md §2.6 (1.13 °/day/km, 1.07 m/s per km down and back, 131 m/s per degree,
4.9e-4 °/day/km RAAN-rate sensitivity) are *not* used here; the tests check these formulas against them.
"""

from __future__ import annotations

import math

from engine.constants import EARTH_RADIUS_SGP4_KM, J2_WGS72, MU_EARTH_KM3_S2, SECONDS_PER_DAY

__all__ = [
    "circular_speed_km_s",
    "mean_motion_rad_s",
    "phase_drift_rate_deg_per_day",
    "phase_drift_per_km_deg_per_day",
    "time_to_close_phase_s",
    "hohmann_delta_v_m_s",
    "hohmann_round_trip_delta_v_m_s",
    "plane_angle_deg",
    "plane_change_delta_v_m_s",
    "raan_rate_deg_per_day",
    "arg_lat_rate_deg_per_day",
]

_DEG_PER_DAY = math.degrees(1.0) * SECONDS_PER_DAY  # rad/s -> deg/day


def _radius_km(altitude_km: float) -> float:
    radius_km = EARTH_RADIUS_SGP4_KM + altitude_km
    if not radius_km > EARTH_RADIUS_SGP4_KM * 0.5 or not math.isfinite(radius_km):
        raise ValueError(f"altitude {altitude_km!r} km is not a usable orbit altitude")
    return radius_km


def circular_speed_km_s(altitude_km: float) -> float:
    """Speed of a circular orbit at this altitude."""
    return math.sqrt(MU_EARTH_KM3_S2 / _radius_km(altitude_km))


def mean_motion_rad_s(altitude_km: float) -> float:
    """Two-body mean motion of a circular orbit at this altitude."""
    return math.sqrt(MU_EARTH_KM3_S2 / _radius_km(altitude_km) ** 3)


def phase_drift_rate_deg_per_day(altitude_km: float, delta_altitude_km: float) -> float:
    """How fast an orbit ``delta_altitude_km`` above ``altitude_km`` falls behind it (negative when below)."""
    return (mean_motion_rad_s(altitude_km) - mean_motion_rad_s(altitude_km + delta_altitude_km)) * _DEG_PER_DAY


def phase_drift_per_km_deg_per_day(altitude_km: float) -> float:
    """Linearised drift rate per km of altitude difference, 3n / 2r."""
    return 1.5 * mean_motion_rad_s(altitude_km) / _radius_km(altitude_km) * _DEG_PER_DAY


def time_to_close_phase_s(phase_angle_deg: float, altitude_km: float, delta_altitude_km: float) -> float:
    """Seconds to close ``|phase_angle_deg|`` drifting ``delta_altitude_km`` away from ``altitude_km``."""
    rate = abs(phase_drift_rate_deg_per_day(altitude_km, delta_altitude_km))
    if rate == 0.0:
        if phase_angle_deg == 0.0:
            return 0.0
        raise ValueError("no altitude difference: a phase angle never closes")
    return abs(phase_angle_deg) / rate * SECONDS_PER_DAY


def hohmann_delta_v_m_s(from_altitude_km: float, to_altitude_km: float) -> float:
    """Two-burn Hohmann transfer between circular orbits (either direction)."""
    r1, r2 = _radius_km(from_altitude_km), _radius_km(to_altitude_km)
    if r1 == r2:
        return 0.0
    a = 0.5 * (r1 + r2)
    v1, v2 = math.sqrt(MU_EARTH_KM3_S2 / r1), math.sqrt(MU_EARTH_KM3_S2 / r2)
    v_depart = math.sqrt(MU_EARTH_KM3_S2 * (2.0 / r1 - 1.0 / a))
    v_arrive = math.sqrt(MU_EARTH_KM3_S2 * (2.0 / r2 - 1.0 / a))
    return (abs(v_depart - v1) + abs(v2 - v_arrive)) * 1000.0


def hohmann_round_trip_delta_v_m_s(altitude_km: float, delta_altitude_km: float) -> float:
    """Go ``delta_altitude_km`` away from ``altitude_km`` and come back: two Hohmann transfers."""
    other_km = altitude_km + delta_altitude_km
    return hohmann_delta_v_m_s(altitude_km, other_km) + hohmann_delta_v_m_s(other_km, altitude_km)


def plane_angle_deg(inclination_a_deg: float, raan_a_deg: float, inclination_b_deg: float, raan_b_deg: float) -> float:
    """Angle between the normals of two orbit planes given by (inclination, RAAN)."""
    ia, oa, ib, ob = (math.radians(x) for x in (inclination_a_deg, raan_a_deg, inclination_b_deg, raan_b_deg))
    # n̂a · n̂b = sin ia sin ib cos(Ωa - Ωb) + cos ia cos ib (spherical law of cosines)
    cos_theta = math.sin(ia) * math.sin(ib) * math.cos(oa - ob) + math.cos(ia) * math.cos(ib)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos_theta))))


def plane_change_delta_v_m_s(altitude_km: float, angle_deg: float) -> float:
    """Single-impulse plane change by ``angle_deg`` of a circular orbit at this altitude."""
    return 2.0 * circular_speed_km_s(altitude_km) * math.sin(math.radians(abs(angle_deg)) / 2.0) * 1000.0


def raan_rate_deg_per_day(altitude_km: float, inclination_deg: float) -> float:
    """J2 secular nodal precession of a circular orbit (≈ +0.9856 °/day for sun-synchronous)."""
    ratio = EARTH_RADIUS_SGP4_KM / _radius_km(altitude_km)
    cos_i = math.cos(math.radians(inclination_deg))
    return -1.5 * mean_motion_rad_s(altitude_km) * J2_WGS72 * ratio**2 * cos_i * _DEG_PER_DAY


def arg_lat_rate_deg_per_day(altitude_km: float, inclination_deg: float) -> float:
    """Secular rate of the argument of latitude (mean motion plus the J2 perigee and mean-anomaly terms)."""
    ratio = EARTH_RADIUS_SGP4_KM / _radius_km(altitude_km)
    cos_i = math.cos(math.radians(inclination_deg))
    return mean_motion_rad_s(altitude_km) * (1.0 + 1.5 * J2_WGS72 * ratio**2 * (4.0 * cos_i**2 - 1.0)) * _DEG_PER_DAY
