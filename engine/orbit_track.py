"""Fleet positions at any mission time: SGP4 on a fixed grid of knots, cubic Hermite in between.

A step of a few seconds does not need a full SGP4 evaluation of every satellite: SGP4 is smooth on
the scale of a minute, so positions and velocities from SGP4 at knots every ``knot_s`` seconds of mission
time (t = 0, knot_s, 2 knot_s, ...) give every instant in between by cubic Hermite interpolation, at a
fraction of the cost (a handful of (N, 3) array operations). The error of cubic Hermite interpolation
is about h^4 / 384 * |r''''|; on a circular orbit |r''''| = n^4 r (n the mean motion), 0.34 m at 550 km
for h = 60 s. Measured against direct SGP4 (``tests/test_orbit_track.py``) it is 0.34-0.49 m at 550 km,
depending on the inclination, and under 1 m down to 160 km, against SGP4's own accuracy of about a
kilometre. A position is a function of the mission time alone, never of which times were asked for
before, so a run, its replay and a rewound copy give identical positions.

Only near-Earth orbits are interpolated: SGP4's own near-Earth branch (period under 225 min), with
an eccentricity of at most ``MAX_INTERPOLATED_ECCENTRICITY`` (the bound grows with the angular rate at
perigee: 1.3 m at 160 km for 0.01, 10 m at a Molniya orbit's perigee). Deep-space (SDP4) satellites, whose resonance
integrator is not smooth across its 720-minute steps, and eccentric ones are propagated directly at every
asked time.

A satellite SGP4 fails for (a decayed orbit, error code non-zero) at either knot of an interval is
propagated directly at the asked time, so its error code and position are SGP4's own. Knots are
evaluated lazily and the two most recent kept: a run stepping forward costs one SGP4 call per knot.
"""

from __future__ import annotations

import numpy as np
from sgp4.api import SatrecArray

from engine.ephemeris import MissionClock

DEFAULT_KNOT_S = 60.0
"""Knot spacing of the fleet's SGP4 grid: 0.34 m worst interpolation error at 550 km (see module doc)."""

MAX_INTERPOLATED_ECCENTRICITY = 0.005
"""Near-Earth orbits up to this eccentricity are interpolated (under 1 m from SGP4 above 160 km)."""


class OrbitTrack:
    """TEME positions of a fleet (``orbits``, the ``SatrecArray`` of ``satrecs``) at mission times.

    ``knot_s`` 0 evaluates SGP4 directly at every asked time (what a run whose steps are as long as the
    knot spacing does anyway)."""

    def __init__(self, satrecs: list, orbits: SatrecArray, clock: MissionClock, knot_s: float = DEFAULT_KNOT_S):
        if not knot_s >= 0:
            raise ValueError(f"knot_s must be zero or positive, got {knot_s!r}")
        self._satrecs = satrecs
        self.orbits = orbits
        self.clock = clock
        self._knots: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        """knot index -> (error (N,), position_km (N, 3), velocity_km_s (N, 3)); at most two kept."""
        direct = [i for i, satrec in enumerate(satrecs)
                  if satrec.method != "n" or satrec.ecco > MAX_INTERPOLATED_ECCENTRICITY]
        self._direct = np.asarray(direct, dtype=np.int64)
        """Satellites propagated with SGP4 at every asked time (deep-space or eccentric orbits)."""
        self._direct_orbits = SatrecArray([satrecs[i] for i in direct]) if direct else None
        self.knot_s = float(knot_s) if 2 * len(direct) <= len(satrecs) else 0.0
        """0 when most of the fleet is propagated directly anyway (knots would only add work)."""
        self.sgp4_calls = 0
        """Full-fleet SGP4 evaluations so far (for benchmarks and tests)."""
        self._coefficients: tuple[int, tuple[np.ndarray, ...]] | None = None
        """(k, the interval's knot errors and polynomial coefficients) of the last interval evaluated."""

    def __deepcopy__(self, memo: dict) -> "OrbitTrack":
        """A checkpoint's copy: the element sets shared (read-only, and SGP4's objects cannot be copied),
        the knots copied."""
        twin = OrbitTrack.__new__(OrbitTrack)
        memo[id(self)] = twin
        twin.__dict__.update(self.__dict__)
        twin._knots = {k: tuple(a.copy() for a in knot) for k, knot in self._knots.items()}
        twin._coefficients = None  # worked out again from the copied knots when needed
        return twin

    def position_km(self, time_s: float) -> tuple[np.ndarray, np.ndarray]:
        """(error code (N,) int, TEME position (N, 3) km) at mission time `time_s`."""
        time_s = float(time_s)
        if self.knot_s == 0:
            error, position, _ = self._sgp4(time_s)
            return error, position
        h = self.knot_s
        k = int(np.floor(time_s / h))
        s = time_s / h - k
        if s == 0.0:
            error, position, _ = self._knot(k)
            return error.copy(), position.copy()
        error0, error1, r0, c1, c2, c3 = self._interval(k)
        position = c3 * s
        position += c2
        position *= s
        position += c1
        position *= s
        position += r0  # r0 + s (c1 + s (c2 + s c3)), in that order
        error = np.zeros(len(error0), dtype=error0.dtype)
        jd, fr = self.clock.jd_utc(time_s)
        if self._direct_orbits is not None:
            direct_error, direct, _ = self._direct_orbits.sgp4(np.atleast_1d(jd), np.atleast_1d(fr))
            error[self._direct] = direct_error[:, 0]
            position[self._direct] = direct[:, 0, :]
        failed = np.flatnonzero((error0 != 0) | (error1 != 0))
        if len(failed):  # SGP4's own answer for these, at the asked time
            direct_error, direct, _ = SatrecArray([self._satrecs[i] for i in failed]).sgp4(np.atleast_1d(jd),
                                                                                          np.atleast_1d(fr))
            error[failed] = direct_error[:, 0]
            position[failed] = direct[:, 0, :]
        return error, position

    def _interval(self, k: int) -> tuple[np.ndarray, ...]:
        """(error at knot k, error at k + 1, r0, c1, c2, c3) of the cubic Hermite on [t_k, t_k + h] with
        tangents h·v: r = r0 + s (c1 + s (c2 + s c3)); worked out once per interval (every step in it
        evaluates only the polynomial)."""
        cached = self._coefficients
        if cached is None or cached[0] != k:
            h = self.knot_s
            error0, r0, v0 = self._knot(k)
            error1, r1, v1 = self._knot(k + 1)
            d = r1 - r0
            c2 = 3.0 * d - h * (2.0 * v0 + v1)
            c3 = -2.0 * d + h * (v0 + v1)
            cached = self._coefficients = (k, (error0, error1, r0, h * v0, c2, c3))
        return cached[1]

    def _knot(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        knot = self._knots.get(k)
        if knot is None:
            knot = self._sgp4(k * self.knot_s)
            self._knots = {key: value for key, value in self._knots.items() if abs(key - k) == 1}
            self._knots[k] = knot
        return knot

    def _sgp4(self, time_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        jd, fr = self.clock.jd_utc(time_s)
        error, position, velocity = self.orbits.sgp4(np.atleast_1d(jd), np.atleast_1d(fr))
        self.sgp4_calls += 1
        return error[:, 0], position[:, 0, :], velocity[:, 0, :]
