"""Orbits for shells and explicit satellites, expressed as the two-line elements the engine propagates.

Shell satellites are generated as SGP4 mean elements (Walker-delta i:T/P/F, or sun-synchronous with the
inclination from the J2 nodal-precession condition and the RAAN from the requested local time of the
ascending node), exported to TLE text with sgp4's exporter and parsed back. The engine propagates exactly
those lines, so the report's ``tle`` reproduces every orbit in any other SGP4 tool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

from engine.constants import (
    EARTH_RADIUS_SGP4_KM,
    J2_WGS72,
    MU_EARTH_KM3_S2,
    TROPICAL_YEAR_S,
)

_SGP4_EPOCH_1949 = datetime(1949, 12, 31)


@dataclass(frozen=True)
class OrbitElements:
    """Mean orbital elements for one satellite (angles in degrees)."""

    altitude_km: float
    inclination_deg: float
    raan_deg: float
    eccentricity: float
    argument_of_perigee_deg: float
    mean_anomaly_deg: float
    bstar: float = 0.0


def mean_motion_rad_s(altitude_km: float) -> float:
    """Two-body mean motion of a circular orbit at `altitude_km` above the SGP4 Earth radius."""
    semi_major_km = EARTH_RADIUS_SGP4_KM + altitude_km
    return math.sqrt(MU_EARTH_KM3_S2 / semi_major_km**3)


def sun_synchronous_inclination_deg(altitude_km: float, eccentricity: float = 0.0) -> float:
    """Inclination whose J2 nodal precession matches the Sun's mean motion (one turn per tropical year).

    cos i = -2 * rate_sun * a^(7/2) * (1 - e^2)^2 / (3 * J2 * R^2 * sqrt(mu))   (Vallado, eq. 9-43).
    """
    semi_major_km = EARTH_RADIUS_SGP4_KM + altitude_km
    sun_rate_rad_s = 2.0 * math.pi / TROPICAL_YEAR_S
    cos_i = (
        -2.0
        * sun_rate_rad_s
        * semi_major_km**3.5
        * (1.0 - eccentricity**2) ** 2
        / (3.0 * J2_WGS72 * EARTH_RADIUS_SGP4_KM**2 * math.sqrt(MU_EARTH_KM3_S2))
    )
    if not -1.0 <= cos_i <= 1.0:
        raise ValueError(f"no sun-synchronous orbit exists at {altitude_km} km")
    return math.degrees(math.acos(cos_i))


def raan_for_ltan_deg(sun_right_ascension_deg: float, ltan_hours: float) -> float:
    """RAAN that puts the ascending node at local solar time `ltan_hours` (measured against the true Sun)."""
    return (sun_right_ascension_deg + (ltan_hours - 12.0) * 15.0) % 360.0


def walker_delta(
    planes: int,
    sats_per_plane: int,
    phasing: int,
    raan_offset_deg: float = 0.0,
    raan_spread_deg: float = 360.0,
) -> tuple[np.ndarray, np.ndarray]:
    """RAAN and mean anomaly (deg), shape (planes, sats_per_plane), of a Walker i:T/P/F pattern."""
    total = planes * sats_per_plane
    plane_index = np.arange(planes)[:, None]
    slot_index = np.arange(sats_per_plane)[None, :]
    raan = (raan_offset_deg + plane_index * raan_spread_deg / planes) * np.ones((1, sats_per_plane))
    anomaly = slot_index * 360.0 / sats_per_plane + plane_index * phasing * 360.0 / total
    return np.mod(raan, 360.0), np.mod(anomaly, 360.0)


def tle_from_elements(elements: OrbitElements, epoch: datetime, catalog_number: int) -> tuple[str, str]:
    """Two-line elements for mean elements at `epoch` (naive UTC or aware), via sgp4's exporter."""
    naive_epoch = epoch.replace(tzinfo=None)
    days_since_1949 = (naive_epoch - _SGP4_EPOCH_1949).total_seconds() / 86400.0
    satrec = Satrec()
    satrec.sgp4init(
        WGS72,
        "i",
        catalog_number,
        days_since_1949,
        elements.bstar,
        0.0,
        0.0,
        elements.eccentricity,
        math.radians(elements.argument_of_perigee_deg),
        math.radians(elements.inclination_deg),
        math.radians(elements.mean_anomaly_deg),
        mean_motion_rad_s(elements.altitude_km) * 60.0,
        math.radians(elements.raan_deg),
    )
    line1, line2 = export_tle(satrec)
    return line1, line2


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of a TLE line's first 68 characters ('-' counts as 1)."""
    return sum(int(ch) if ch.isdigit() else (1 if ch == "-" else 0) for ch in line[:68]) % 10


def check_tle(line1: str, line2: str) -> None:
    """Raise ValueError naming the problem if two lines are not a well-formed TLE."""
    for number, line in ((1, line1), (2, line2)):
        if len(line.rstrip()) != 69:
            raise ValueError(f"TLE line {number} must be 69 characters, got {len(line.rstrip())}")
        if not line.startswith(f"{number} "):
            raise ValueError(f"TLE line {number} must start with '{number} '")
        if not line[68].isdigit() or int(line[68]) != tle_checksum(line):
            raise ValueError(f"TLE line {number} checksum is {line[68]!r}, expected {tle_checksum(line)}")
    if line1[2:7] != line2[2:7]:
        raise ValueError("TLE lines 1 and 2 have different catalog numbers")
    satrec = Satrec.twoline2rv(line1.rstrip(), line2.rstrip(), WGS72)
    if satrec.error:
        raise ValueError(f"SGP4 rejects these elements (error code {satrec.error})")


def read_tle_file(text: str) -> list[tuple[str, str, str]]:
    """(name, line1, line2) for each satellite of a 3-line TLE file; raises ValueError with the line number."""
    lines = [line.rstrip() for line in text.splitlines()]
    records = []
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        if index + 2 >= len(lines):
            raise ValueError(f"line {index + 1}: incomplete record, expected a name line and two element lines")
        name = lines[index].strip()
        if name.startswith("0 "):
            name = name[2:].strip()
        line1, line2 = lines[index + 1], lines[index + 2]
        try:
            check_tle(line1, line2)
        except ValueError as error:
            raise ValueError(f"line {index + 2}: {error}") from None
        records.append((name, line1, line2))
        index += 3
    if not records:
        raise ValueError("no satellites in file")
    return records
