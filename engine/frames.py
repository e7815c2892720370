"""Reference frames: TEME (what SGP4 returns) to Earth-fixed, and Earth-fixed to geodetic.

TEME -> pseudo-Earth-fixed is a rotation about z by the IAU-82 Greenwich mean sidereal time, which is how
TEME is defined (Vallado et al. 2006, "Revisiting Spacetrack Report #3", §"TEME"). Polar motion (< 20 m) is
ignored. tests/test_frames.py checks the result against skyfield's full TEME -> ITRS chain.
"""

from __future__ import annotations

import numpy as np

from engine.constants import WGS84_A_KM, WGS84_E2

_TWO_PI = 2.0 * np.pi


def gmst82_rad(jd_ut1_whole: float | np.ndarray, jd_ut1_fraction: float | np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal time (IAU-82, as SGP4 uses) in radians, for UT1 Julian dates given in two parts."""
    t_ut1 = ((np.asarray(jd_ut1_whole) - 2451545.0) + np.asarray(jd_ut1_fraction)) / 36525.0
    seconds = (
        -6.2e-6 * t_ut1**3
        + 0.093104 * t_ut1**2
        + (876600.0 * 3600.0 + 8640184.812866) * t_ut1
        + 67310.54841
    )
    return np.mod(seconds * (_TWO_PI / 86400.0), _TWO_PI)


def rotation_teme_to_ecef(gmst_rad: float) -> np.ndarray:
    """3x3 matrix R with r_ecef = R @ r_teme."""
    cos_g, sin_g = np.cos(gmst_rad), np.sin(gmst_rad)
    return np.array([[cos_g, sin_g, 0.0], [-sin_g, cos_g, 0.0], [0.0, 0.0, 1.0]])


def teme_to_ecef(positions_teme_km: np.ndarray, gmst_rad: float) -> np.ndarray:
    """Rotate (N, 3) TEME positions into the Earth-fixed frame."""
    return positions_teme_km @ rotation_teme_to_ecef(gmst_rad).T


def geodetic_from_ecef(positions_ecef_km: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS84 geodetic latitude (deg), longitude (deg, -180..180) and altitude (km) of (N, 3) Earth-fixed points.

    Bowring's method with two refinements: sub-millimetre for LEO altitudes.
    """
    x, y, z = positions_ecef_km[:, 0], positions_ecef_km[:, 1], positions_ecef_km[:, 2]
    lon = np.arctan2(y, x)
    p = np.hypot(x, y)
    b = WGS84_A_KM * np.sqrt(1.0 - WGS84_E2)
    ep2 = (WGS84_A_KM**2 - b**2) / b**2
    theta = np.arctan2(z * WGS84_A_KM, p * b)
    lat = np.arctan2(z + ep2 * b * np.sin(theta) ** 3, p - WGS84_E2 * WGS84_A_KM * np.cos(theta) ** 3)
    for _ in range(2):
        sin_lat = np.sin(lat)
        n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
        alt = p * np.cos(lat) + (z + WGS84_E2 * n * sin_lat) * sin_lat - n
        lat = np.arctan2(z, p * (1.0 - WGS84_E2 * n / (n + alt)))
    sin_lat = np.sin(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * sin_lat**2)
    alt = p * np.cos(lat) + (z + WGS84_E2 * n * sin_lat) * sin_lat - n
    return np.degrees(lat), np.degrees(lon), alt


def ecef_from_geodetic(lat_deg: np.ndarray, lon_deg: np.ndarray, alt_km: np.ndarray) -> np.ndarray:
    """(M, 3) Earth-fixed positions of WGS84 geodetic points."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * np.sin(lat) ** 2)
    return np.stack(
        [
            (n + alt_km) * np.cos(lat) * np.cos(lon),
            (n + alt_km) * np.cos(lat) * np.sin(lon),
            (n * (1.0 - WGS84_E2) + alt_km) * np.sin(lat),
        ],
        axis=-1,
    )


def local_up(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """(M, 3) unit vectors normal to the ellipsoid (geodetic zenith)."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
