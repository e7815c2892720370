"""Sunlight: the fraction of the solar disc each satellite sees past the Earth (conical shadow).

Montenbruck & Gill, "Satellite Orbits" §3.4.2, as Basilisk's eclipse module implements it: apparent radii of
the Sun (a) and the Earth (b) seen from the satellite and their angular separation (c) give the visible
fraction nu in [0, 1] (0 umbra, between 0 and 1 penumbra, 1 full sun). A satellite counts as sunlit when
nu >= 0.5, i.e. the centre of the Sun is visible: the same test as skyfield's ``is_sunlit``.
"""

from __future__ import annotations

import numpy as np

from engine.constants import AU_KM, EARTH_SHADOW_RADIUS_KM, SOLAR_CONSTANT_W_M2, SUN_RADIUS_KM

SUNLIT_THRESHOLD = 0.5


def illumination_fraction(positions_km: np.ndarray, sun_km: np.ndarray, radius_km: np.ndarray | None = None) -> np.ndarray:
    """Visible fraction of the solar disc, shape (N,), for (N, 3) positions and the Sun in the same frame:
    one (3,) vector for all of them, or (N, 3) (one Sun per position, e.g. one satellite at N times)."""
    r2 = np.einsum("ij,ij->i", positions_km, positions_km) if radius_km is None else radius_km * radius_km
    if sun_km.ndim == 2:
        r_dot_s = np.einsum("ij,ij->i", positions_km, sun_km)
        s2 = np.einsum("ij,ij->i", sun_km, sun_km)
    else:
        r_dot_s = positions_km @ sun_km
        s2 = float(sun_km @ sun_km)
    to_sun2 = r2 - 2.0 * r_dot_s + s2  # |sun - r|²
    distance_sun = np.sqrt(to_sun2)
    distance_earth = np.sqrt(r2)
    a = np.arcsin(np.minimum(SUN_RADIUS_KM / distance_sun, 1.0))
    b = np.arcsin(np.minimum(EARTH_SHADOW_RADIUS_KM / distance_earth, 1.0))
    # Angle between the directions to the Sun (s - r) and to the Earth's centre (-r):
    # cos = (r² - r·s) / (|s - r| |r|), sin from |(s - r) × (-r)|² = |s|²|r|² - (r·s)².
    dot = r2 - r_dot_s
    cross = np.sqrt(np.maximum(s2 * r2 - r_dot_s * r_dot_s, 0.0))
    c = np.arctan2(cross, dot)

    nu = np.ones_like(c)
    shadowed = c < a + b
    if not shadowed.any():
        return nu
    total = c <= b - a
    annular = (c < a - b) & ~total
    partial = shadowed & ~total & ~annular
    nu[total] = 0.0
    nu[annular] = 1.0 - (b[annular] / a[annular]) ** 2
    if partial.any():
        ap, bp, cp = a[partial], b[partial], c[partial]
        x = (cp**2 + ap**2 - bp**2) / (2.0 * cp)
        y = np.sqrt(np.maximum(ap**2 - x**2, 0.0))
        overlap = (
            ap**2 * np.arccos(np.clip(x / ap, -1.0, 1.0))
            + bp**2 * np.arccos(np.clip((cp - x) / bp, -1.0, 1.0))
            - cp * y
        )
        nu[partial] = np.clip(1.0 - overlap / (np.pi * ap**2), 0.0, 1.0)
    return nu


def solar_flux_w_m2(positions_km: np.ndarray, sun_km: np.ndarray) -> np.ndarray:
    """Solar irradiance at each satellite (inverse square of the Sun distance), W/m²."""
    to_sun = sun_km[None, :] - positions_km
    return SOLAR_CONSTANT_W_M2 * AU_KM**2 / np.einsum("ij,ij->i", to_sun, to_sun)


def subsolar_cosine(positions_km: np.ndarray, sun_km: np.ndarray, radius_km: np.ndarray | None = None) -> np.ndarray:
    """Cosine of the Sun's zenith angle at each sub-satellite point, clipped at 0 (night side)."""
    if radius_km is None:
        radius_km = np.sqrt(np.einsum("ij,ij->i", positions_km, positions_km))
    return np.maximum((positions_km @ sun_km) / (radius_km * float(np.sqrt(sun_km @ sun_km))), 0.0)


def beta_angle_deg(inclination_deg: float, raan_deg: float, sun_km: np.ndarray) -> float:
    """Solar beta angle: sin(beta) = cos(dec) sin(i) sin(raan - ra) + sin(dec) cos(i)  (physics.md §3.1)."""
    ra = np.arctan2(sun_km[1], sun_km[0])
    dec = np.arcsin(sun_km[2] / np.linalg.norm(sun_km))
    inc, raan = np.radians(inclination_deg), np.radians(raan_deg)
    return float(np.degrees(np.arcsin(np.cos(dec) * np.sin(inc) * np.sin(raan - ra) + np.sin(dec) * np.cos(inc))))
