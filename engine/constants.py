"""Physical constants used across the engine, each with its source."""

from __future__ import annotations

# WGS72, the constants SGP4 and every TLE are defined with (Vallado et al. 2006).
MU_EARTH_KM3_S2 = 398600.8
EARTH_RADIUS_SGP4_KM = 6378.135
J2_WGS72 = 0.001082616

# WGS84 ellipsoid, for ground stations and geodetic latitude/longitude/altitude.
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)

# Shadow geometry: spherical Earth with the IERS equatorial radius (skyfield's ERAD), and the Sun.
EARTH_SHADOW_RADIUS_KM = 6378.1366
SUN_RADIUS_KM = 696000.0
AU_KM = 149597870.700

SOLAR_CONSTANT_W_M2 = 1361.0  # TSI at 1 AU (physics.md §2.1)
STEFAN_BOLTZMANN_W_M2_K4 = 5.670374419e-8  # CODATA 2018
EARTH_ALBEDO = 0.30  # Bond albedo (physics.md §2.1)
EARTH_IR_W_M2 = 237.0  # outgoing long-wave radiation, orbit average (physics.md §2.1)
DEEP_SPACE_K = 3.0
KELVIN = 273.15

SECONDS_PER_DAY = 86400.0
SECONDS_PER_YEAR = 365.25 * SECONDS_PER_DAY
TROPICAL_YEAR_S = 365.2421897 * SECONDS_PER_DAY
