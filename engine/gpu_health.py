"""Radiation environment and the per-GPU health state machine (physics.md §3.8, §3.9; fault catalogue F1-F7, F19).

Environment, per satellite (N,)::

    saa   = ((lat + 26)/25)² + ((lon + 50)/55)² <= 1          crude South Atlantic Anomaly ellipse [A]
    mult  = (1 + (M_saa - 1)·saa + (M_pole - 1)·(|lat| >= 60)) · M_spe(t)
    λ     = λ_avg · mult / E[mult]                            E[mult]: orbit average from a sampled ground track
    dose += D_yr/yr · dt · (1 + (M_saa,dose - 1)·saa) / (1 + (M_saa,dose - 1)·f_saa) · M_spe,dose(t)

so the orbit average of every radiation-driven rate equals its configured value. Per GPU (N, G), each step:

- correctable ECC (F1): a Poisson count; every ``row_remap_threshold`` of them, and every DUE, remaps an HBM row;
- DUE (F2) and SDC (F4): Poisson counts whose "at least one" test is exact thinning, p = 1 - exp(-λ·dt);
  the process on the GPU dies (SDC only when detected); the GPU stays up;
- SEFI (F3) and latch-up (F5): at least one in the step puts the GPU in RESETTING for a random
  1-10 min (SEFI) or a power cycle (latch-up); without current limiting a latch-up burns the GPU out
  with probability p_burn;
- permanent failure (F7): hazard λ_rand + λ_infant·exp(-age/τ) + λ_TID(dose) + λ_therm·Arrhenius(T_j);
- TID wear (F6): once the satellite's dose passes 2 krad its GPUs turn DEGRADED and their DUE and SEFI
  rates grow by (1 + dose / 2 krad).

The whole step is array arithmetic; Python only touches the few GPUs that changed state (one
``GpuTransition`` record each). Every step draws one uniform per satellite (fixed order and shape), then
a fixed-shape block for the few satellites drawn, and decides events for all their GPU slots before masking
them by state, so a GPU's fate depends only on the seed and the inputs, never on GPUs' states (see
``GpuHealth`` for the sampling scheme). Event counts are
exact Poisson counts, so their means do not depend on the step length.

Times: ``step(time_s, dt_s, ...)`` advances the interval (time_s - dt_s, time_s]; ``time_s`` is the end of
the step (the simulation's new time, when the positions and temperatures passed in are taken), and the
events of the step are stamped with it.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, fields
from enum import IntEnum
from functools import cached_property

import numpy as np

from engine.constants import KELVIN, SECONDS_PER_DAY, SECONDS_PER_YEAR

BOLTZMANN_EV_PER_K = 8.617333262e-5  # CODATA 2018
DEFAULT_SAA_TIME_FRACTION = 0.07  # SSO time inside the SAA ellipse (physics.md §2.1) when no ground track is given


# ------------------------------------------------------------------------------------------ environment


@dataclass(frozen=True)
class RadiationParams:
    """Radiation environment (physics.md §3.8; [A] = assumption recorded there)."""

    saa_center_lat_deg: float = -26.0
    saa_center_lon_deg: float = -50.0
    saa_semi_axis_lat_deg: float = 25.0
    saa_semi_axis_lon_deg: float = 55.0
    saa_multiplier: float = 20.0
    """Single-event rate inside the SAA relative to outside (10-50 [A])."""
    polar_multiplier: float = 2.5
    """Single-event rate at |lat| >= polar_lat_deg (polar horns, GCR; 2-3 [A])."""
    polar_lat_deg: float = 60.0
    dose_rate_rad_per_year: float = 150.0
    """Orbit-average TID rate, rad(Si)/yr behind 10 mm Al at ~550-650 km (§2.4: 50-2000 by altitude)."""
    saa_dose_multiplier: float = 20.0
    """Dose rate inside the SAA relative to outside [A]: trapped protons dominate LEO dose; 20 puts ~60 %
    of an SSO's dose in the SAA (7 % of the time)."""
    spe_rate_per_year: float = 3.0
    """Solar particle events per year ('a few per year near solar maximum' [A]; ~0 at solar minimum)."""
    spe_multiplier: float = 100.0
    """Single-event rate multiplier during an SPE (10-1000 [A])."""
    spe_duration_s: float = 2.0 * SECONDS_PER_DAY
    """Length of an SPE (1-3 days [A])."""
    spe_dose_multiplier: float = 10.0
    """Dose-rate multiplier during an SPE ('dose jump', F19 [A]); the step maps its SPE multiplier linearly
    between 1 -> 1 and spe_multiplier -> spe_dose_multiplier."""

    def __post_init__(self) -> None:
        for name in ("saa_semi_axis_lat_deg", "saa_semi_axis_lon_deg", "saa_multiplier", "polar_multiplier",
                     "spe_multiplier", "saa_dose_multiplier", "spe_dose_multiplier"):
            _require(getattr(self, name) > 0, f"{name} must be positive, got {getattr(self, name)!r}")
        for name in ("dose_rate_rad_per_year", "spe_rate_per_year", "spe_duration_s"):
            _require(getattr(self, name) >= 0, f"{name} must not be negative, got {getattr(self, name)!r}")
        _require(0 <= self.polar_lat_deg <= 90, f"polar_lat_deg must be within 0..90, got {self.polar_lat_deg!r}")
        _require_finite(self)


def in_saa(lat_deg: np.ndarray, lon_deg: np.ndarray, params: RadiationParams) -> np.ndarray:
    """True inside the SAA ellipse (longitudes in any convention; NaN positions are outside)."""
    lat = np.asarray(lat_deg, dtype=float)
    dlon = np.remainder(np.asarray(lon_deg, dtype=float) - params.saa_center_lon_deg + 180.0, 360.0) - 180.0
    x = (lat - params.saa_center_lat_deg) / params.saa_semi_axis_lat_deg
    y = dlon / params.saa_semi_axis_lon_deg
    return x * x + y * y <= 1.0


def in_polar_region(lat_deg: np.ndarray, params: RadiationParams) -> np.ndarray:
    """True at |lat| >= polar_lat_deg."""
    return np.abs(np.asarray(lat_deg, dtype=float)) >= params.polar_lat_deg


def radiation_multiplier(
    lat_deg: np.ndarray, lon_deg: np.ndarray, params: RadiationParams, spe_multiplier: float = 1.0
) -> np.ndarray:
    """Local single-event rate multiplier (same shape as the inputs), before orbit normalisation."""
    saa = in_saa(lat_deg, lon_deg, params)
    polar = in_polar_region(lat_deg, params)
    return (1.0 + (params.saa_multiplier - 1.0) * saa + (params.polar_multiplier - 1.0) * polar) * spe_multiplier


def orbit_mean_multiplier(lat_deg: np.ndarray, lon_deg: np.ndarray, params: RadiationParams) -> np.ndarray:
    """E[mult] per satellite from ground tracks sampled uniformly in time, (N, T) -> (N,); no SPE."""
    lat, lon = _track(lat_deg, lon_deg)
    return radiation_multiplier(lat, lon, params).mean(axis=-1)


def orbit_saa_fraction(lat_deg: np.ndarray, lon_deg: np.ndarray, params: RadiationParams) -> np.ndarray:
    """Fraction of time inside the SAA per satellite, (N, T) -> (N,): normalises the dose rate."""
    lat, lon = _track(lat_deg, lon_deg)
    return in_saa(lat, lon, params).mean(axis=-1)


def _track(lat_deg: np.ndarray, lon_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.asarray(lat_deg, dtype=float)
    lon = np.asarray(lon_deg, dtype=float)
    if lat.shape != lon.shape:
        raise ValueError(f"latitude {lat.shape} and longitude {lon.shape} tracks differ in shape")
    if lat.ndim == 0 or lat.shape[-1] == 0:
        raise ValueError("a ground track needs at least one sample per satellite")
    return lat, lon


def sample_solar_particle_events(
    params: RadiationParams, start_s: float, end_s: float, rng: np.random.Generator
) -> np.ndarray:
    """SPE onsets as a Poisson process over [start_s, end_s): (K, 2) array of (start, end) times, sorted."""
    if not end_s >= start_s:
        raise ValueError(f"end_s ({end_s}) must not precede start_s ({start_s})")
    count = int(rng.poisson(params.spe_rate_per_year / SECONDS_PER_YEAR * (end_s - start_s)))
    starts = np.sort(rng.uniform(start_s, end_s, count))
    return np.column_stack((starts, starts + params.spe_duration_s))


def spe_multiplier(t0_s: float, t1_s: float, events: np.ndarray, params: RadiationParams) -> float:
    """Mean SPE multiplier over (t0_s, t1_s]: 1 + (M_spe - 1)·(fraction of the interval inside an event).

    Overlapping events count once. A zero-length interval gives the value at t1_s.
    """
    events = np.asarray(events, dtype=float).reshape(-1, 2)
    if t1_s <= t0_s:
        active = bool(np.any((events[:, 0] <= t1_s) & (t1_s < events[:, 1])))
        return params.spe_multiplier if active else 1.0
    covered, reach = 0.0, t0_s
    for start, end in events[np.argsort(events[:, 0])]:  # a handful of events per mission
        start, end = max(start, reach), min(end, t1_s)
        if end > start:
            covered += end - start
            reach = end
    return 1.0 + (params.spe_multiplier - 1.0) * covered / (t1_s - t0_s)


# ------------------------------------------------------------------------------------------ health model


@dataclass(frozen=True)
class GpuHealthParams:
    """Per-GPU fault rates as means, in mission-file units (physics.md §2.4, §3.9, §4; [A] = assumption)."""

    ce_per_gpu_per_day: float = 300.0
    """Raw HBM bit flips corrected by ECC, orbit average (F1: '~100s', 1-1000)."""
    row_remap_threshold: int = 10_000
    """Correctable errors per remapped HBM row [A]; every DUE also remaps one row (F2 'retire page')."""
    due_per_gpu_per_year: float = 0.03
    """Uncorrectable ECC errors (F2: 0.01-0.1), orbit average."""
    due_mbu_fraction: float = 0.0
    """Fraction of raw flips that are multi-bit upsets beyond ECC, added to the DUE rate (0: ECC catches all)."""
    sefi_per_board_per_day: float = 0.01
    """Functional interrupts needing a GPU reset (F3: 0.001-0.1; one board = one GPU here)."""
    sdc_terrestrial_per_gpu_per_day: float = 6.8e-6
    """Silent data corruption on the ground (Meta Llama 3: 6 in 16,384 GPU x 54 d)."""
    sdc_radiation_factor: float = 3.0
    """SDC rate in orbit relative to the ground (1-10 [A])."""
    sdc_detection_probability: float = 0.5
    """Chance a checksum / duplicate-execution / loss-spike probe catches an SDC [A]."""
    latchup_per_gpu_per_year: float = 3.0e-4
    """Single-event latch-up (F5: 1e-4-1e-3 [A], no public anchor for 4-5 nm GPUs)."""
    latchup_current_limited: bool = True
    """With current limiting a latch-up costs a power cycle; without it, p_burn of them destroy the GPU."""
    latchup_burnout_probability: float = 0.5
    """Chance a latch-up without current limiting is permanent [A]."""
    latchup_power_cycle_min_s: float = 60.0
    latchup_power_cycle_max_s: float = 300.0
    """Power-cycle downtime after a latch-up, uniform in [min, max] (1-5 min)."""
    reset_min_s: float = 60.0
    reset_max_s: float = 600.0
    """GPU reset after a SEFI, uniform in [min, max] (1-10 min [A]); an operator reset takes reset_min_s."""
    boot_s: float = 60.0
    """Power-on to usable [A]."""
    random_failure_per_year: float = 0.048
    """Random permanent failures (λ_rand, 4-7 %/yr); with the thermal term at T_ref this makes §2.4's 6.8 %/yr."""
    thermal_failure_per_year: float = 0.02
    """Temperature-driven permanent failures at thermal_reference_c, scaled by the Arrhenius factor [A]."""
    thermal_reference_c: float = 70.0
    """Junction temperature where the Arrhenius factor is 1 [A]."""
    activation_energy_ev: float = 0.7
    """Arrhenius activation energy E_a [A]."""
    infant_failure_fraction: float = 0.02
    """Extra cumulative failure hazard early in life (1-3 % [A]): λ_infant·τ."""
    infant_time_constant_days: float = 30.0
    """τ_inf of the infant-mortality term (1-3 months [A])."""
    tid_onset_rad: float = 2000.0
    """Dose at which HBM irregularities start: GPUs turn DEGRADED (Suncatcher, 2 krad)."""
    degraded_rate_scale_rad: float = 2000.0
    """Past the onset, DUE and SEFI rates are multiplied by (1 + dose / this) (§3.9 item 8 [A])."""
    tid_failure_per_year: float = 0.01
    """λ0 of the TID failure term λ0·((dose - onset)/scale)^k [A]; 6.8 %/yr at 15 krad by default."""
    tid_failure_scale_rad: float = 5000.0
    tid_failure_exponent: float = 2.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                continue
            _require(math.isfinite(value), f"{f.name} must be finite, got {value!r}")
            _require(value >= 0, f"{f.name} must not be negative, got {value!r}")
        _require(int(self.row_remap_threshold) == self.row_remap_threshold and self.row_remap_threshold >= 1,
                 f"row_remap_threshold must be a positive whole number, got {self.row_remap_threshold!r}")
        for name in ("sdc_detection_probability", "latchup_burnout_probability"):
            _require(getattr(self, name) <= 1, f"{name} must be a probability (0..1), got {getattr(self, name)!r}")
        for low, high in (("reset_min_s", "reset_max_s"), ("latchup_power_cycle_min_s", "latchup_power_cycle_max_s")):
            lo, hi = getattr(self, low), getattr(self, high)
            _require(lo > 0, f"{low} must be positive, got {lo!r}")
            _require(lo <= hi, f"{low} ({lo}) exceeds {high} ({hi})")
        _require(self.boot_s > 0, f"boot_s must be positive, got {self.boot_s!r}")
        for name in ("infant_time_constant_days", "degraded_rate_scale_rad", "tid_failure_scale_rad"):
            _require(getattr(self, name) > 0, f"{name} must be positive, got {getattr(self, name)!r}")
        _require(self.thermal_reference_c > -KELVIN, "thermal_reference_c must be above absolute zero")


class GpuHealthState(IntEnum):
    """Health of one GPU. Absent GPU slots are OFF and never change."""

    OK = 0
    DEGRADED = 1
    """Past the TID onset: usable, with higher DUE and SEFI rates."""
    RESETTING = 2
    """Down for a reset, power cycle or boot until ``resetting_until_s``."""
    FAILED = 3
    """Permanently lost (servicing swap only)."""
    OFF = 4
    """Powered off by the operator."""


_S = GpuHealthState
LEGAL_TRANSITIONS: dict[GpuHealthState, frozenset[GpuHealthState]] = {
    _S.OK: frozenset({_S.DEGRADED, _S.RESETTING, _S.FAILED, _S.OFF}),
    _S.DEGRADED: frozenset({_S.RESETTING, _S.FAILED, _S.OFF}),
    _S.RESETTING: frozenset({_S.OK, _S.DEGRADED, _S.FAILED, _S.OFF}),
    _S.FAILED: frozenset(),
    _S.OFF: frozenset({_S.RESETTING, _S.FAILED}),
}
"""Allowed state changes. Dose never falls, so nothing returns to OK from DEGRADED; FAILED is terminal;
an OFF GPU comes back through RESETTING (boot)."""

_OK, _DEGRADED, _RESETTING, _FAILED, _OFF = (int(state) for state in _S)  # plain ints: fast array comparisons

_LEGAL = np.zeros((len(_S), len(_S)), dtype=bool)
for _from, _targets in LEGAL_TRANSITIONS.items():
    for _to in _targets:
        _LEGAL[_from, _to] = True
_LEGAL.setflags(write=False)

# Transition causes
CAUSE_TID_ONSET = "tid_onset"
CAUSE_SEFI = "sefi"
CAUSE_LATCHUP = "latchup"
CAUSE_LATCHUP_BURNOUT = "latchup_burnout"
CAUSE_PERMANENT_FAILURE = "permanent_failure"
CAUSE_RESET_DONE = "reset_done"
CAUSE_OPERATOR_RESET = "operator_reset"
CAUSE_POWER_OFF = "power_off"
CAUSE_POWER_ON = "power_on"


class IllegalTransitionError(ValueError):
    """A state change outside ``LEGAL_TRANSITIONS``."""


def is_legal_transition(from_state: int, to_state: int) -> bool:
    """True if from_state -> to_state is in ``LEGAL_TRANSITIONS``."""
    return bool(_LEGAL[int(from_state), int(to_state)])


def check_transition(from_state: int, to_state: int) -> None:
    """Raise IllegalTransitionError unless from_state -> to_state is in ``LEGAL_TRANSITIONS``."""
    a, b = GpuHealthState(from_state), GpuHealthState(to_state)
    if not _LEGAL[a, b]:
        allowed = ", ".join(s.name for s in sorted(LEGAL_TRANSITIONS[a])) or "nothing (terminal)"
        raise IllegalTransitionError(f"GPU state {a.name} -> {b.name} is not allowed; from {a.name}: {allowed}")


@dataclass(frozen=True)
class GpuTransition:
    """One GPU's state change."""

    satellite: int
    gpu: int
    from_state: GpuHealthState
    to_state: GpuHealthState
    cause: str
    time_s: float | None = None


@dataclass(frozen=True, eq=False)
class GpuHealthStep:
    """What happened in one step; every mask is (N, G) bool and covers present GPUs only. ``ce_new`` gives the
    (N, G) correctable-error counts, built from ``ce_slots``/``ce_counts`` on first use."""

    process_killed: np.ndarray
    """The work running there died: DUE, SEFI, latch-up, permanent failure or a detected SDC."""
    due: np.ndarray
    sefi: np.ndarray
    sdc_silent: np.ndarray
    """At least one undetected SDC: the running job's results are wrong and nobody knows."""
    sdc_detected: np.ndarray
    latchup: np.ndarray
    failed: np.ndarray
    """Newly FAILED."""
    recovered: np.ndarray
    """Reset, power cycle or boot finished (back to OK or DEGRADED)."""
    degraded: np.ndarray
    """Newly DEGRADED (TID onset, or back from a reset into DEGRADED)."""
    multiplier: np.ndarray
    """Normalised local single-event rate multiplier mult / E[mult] used this step, (N,)."""
    transitions: tuple[GpuTransition, ...]
    ce_slots: np.ndarray
    """Flat (N·G) indices of the GPUs that logged correctable errors this step."""
    ce_counts: np.ndarray
    """How many each (int64), aligned with ce_slots."""

    @cached_property
    def ce_new(self) -> np.ndarray:
        """Correctable errors this step, (N, G) int64 (built on first use; most steps never need it)."""
        out = np.zeros(self.process_killed.size, dtype=np.int64)
        out[self.ce_slots] = self.ce_counts
        return out.reshape(self.process_killed.shape)


def _counted(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_counts=True)`` for keys already in order by satellite (a stable sort of
    such nearly sorted keys is ~3x faster than unique's own sort)."""
    ordered = np.sort(keys, kind="stable")
    first = np.empty(len(ordered), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return ordered[starts], np.diff(np.append(starts, len(ordered)))


def arrhenius_factor(junction_c: np.ndarray, params: GpuHealthParams) -> np.ndarray:
    """exp[(E_a/k_B)(1/T_ref - 1/T_j)]: thermal failure-rate factor, 1 at the reference temperature."""
    t_k = np.maximum(np.asarray(junction_c, dtype=float) + KELVIN, 1.0)
    t_ref_k = params.thermal_reference_c + KELVIN
    return np.exp(params.activation_energy_ev / BOLTZMANN_EV_PER_K * (1.0 / t_ref_k - 1.0 / t_k))


def tid_failure_rate_per_s(dose_rad: np.ndarray, params: GpuHealthParams) -> np.ndarray:
    """λ_TID = λ0·((dose - onset)/scale)^k past the onset, 0 before, in 1/s."""
    excess = np.maximum(np.asarray(dose_rad, dtype=float) - params.tid_onset_rad, 0.0) / params.tid_failure_scale_rad
    return params.tid_failure_per_year / SECONDS_PER_YEAR * excess**params.tid_failure_exponent


def permanent_failure_rate_per_s(
    age_s: np.ndarray, dose_rad: np.ndarray, junction_c: np.ndarray, params: GpuHealthParams
) -> np.ndarray:
    """Instantaneous permanent-failure hazard λ_rand + λ_infant·exp(-age/τ) + λ_TID(dose) + λ_therm·AF(T_j), 1/s."""
    tau_s = params.infant_time_constant_days * SECONDS_PER_DAY
    return (
        params.random_failure_per_year / SECONDS_PER_YEAR
        + params.infant_failure_fraction / tau_s * np.exp(-np.asarray(age_s, dtype=float) / tau_s)
        + tid_failure_rate_per_s(dose_rad, params)
        + params.thermal_failure_per_year / SECONDS_PER_YEAR * arrhenius_factor(junction_c, params)
    )


def degradation_factor(dose_rad: np.ndarray, params: GpuHealthParams) -> np.ndarray:
    """DUE/SEFI rate factor: 1 before the TID onset, 1 + dose / scale after it."""
    dose = np.asarray(dose_rad, dtype=float)
    return np.where(dose >= params.tid_onset_rad, 1.0 + dose / params.degraded_rate_scale_rad, 1.0)


# Columns of the per-candidate uniform draw (see GpuHealth.step).
_KINDS = 5  # DUE, SEFI, SDC, latch-up, permanent failure: columns 0-4 decide which happened
_V_DUE_COUNT, _V_SDC_COUNT, _V_SDC_DETECT, _V_RESET, _V_BURNOUT, _V_POWER_CYCLE, _V_FAILURE_THIN = range(5, 12)
_COLUMNS = 12
_CAUSES = (CAUSE_RESET_DONE, CAUSE_TID_ONSET, CAUSE_SEFI, CAUSE_LATCHUP, CAUSE_PERMANENT_FAILURE, CAUSE_LATCHUP_BURNOUT)
_C_RESET_DONE, _C_TID_ONSET, _C_SEFI, _C_LATCHUP, _C_FAILURE, _C_BURNOUT = range(len(_CAUSES))


class GpuHealth:
    """Health of every GPU slot in the fleet as (N, G) arrays, and each satellite's dose as (N,).

    Sampling, per step: one uniform per satellite, compared with P(at least one event on any of its n
    present GPUs) = 1 - exp(-n·μ), μ = Σ_kinds μ_k per GPU, marks the few candidate satellites; for each, a
    row of G uniforms decides which GPUs had at least one event, given that one did (sequentially over its
    present GPUs: GPU k with probability p / P(at least one on GPUs k..n) while none has been chosen, p
    after, p = 1 - exp(-μ)), which gives the candidate slots exactly as one uniform per slot would. For those
    only, a (candidates, 12) block of uniforms
    decides exactly which kinds happened given at least one (sequentially: kind k with probability
    p_k / P(any of kinds k..K) while none has been chosen, p_k after), then the details: Poisson counts
    given at least one (inverse CDF), downtime, burn-out, SDC detection. The permanent-failure kind uses an
    upper bound (the fleet's hottest junction) and is thinned to each GPU's own hazard. Correctable errors
    are a Poisson total for the fleet split over GPUs in proportion to their rates (Poisson splitting).
    Candidates and draws depend only on the seed and the inputs, never on GPU states: states only mask
    the outcome.
    """

    def __init__(
        self,
        present: np.ndarray,
        params: GpuHealthParams,
        radiation: RadiationParams,
        mean_multiplier: np.ndarray,
        rng: np.random.Generator,
        *,
        saa_fraction: np.ndarray | None = None,
        dose_rad: np.ndarray | None = None,
        age_s: float = 0.0,
    ):
        """``mean_multiplier``: E[mult] per satellite (``orbit_mean_multiplier``); ``saa_fraction``: time
        fraction in the SAA per satellite (``orbit_saa_fraction``; default 7 %, the SSO figure) for the dose
        normalisation; ``dose_rad``: dose already received (default 0); ``age_s``: age of every GPU now."""
        self.present = np.array(present, dtype=bool)
        if self.present.ndim != 2:
            raise ValueError(f"present must be an (N, G) mask, got shape {self.present.shape}")
        self.present.setflags(write=False)
        n, g = self.present.shape
        self._shape = (n, g)
        self.params = params
        self.radiation = radiation
        self.mean_multiplier = _per_satellite(mean_multiplier, n, "mean_multiplier", positive=True)
        if saa_fraction is None:
            fraction = np.full(n, DEFAULT_SAA_TIME_FRACTION)
        else:
            fraction = _per_satellite(saa_fraction, n, "saa_fraction")
            if np.any(fraction > 1):
                raise ValueError("saa_fraction is a time fraction (0..1)")
        self.saa_fraction = fraction
        self.dose_rad = np.zeros(n) if dose_rad is None else _per_satellite(dose_rad, n, "dose_rad")
        if not (math.isfinite(age_s) and age_s >= 0):
            raise ValueError(f"age_s must be a non-negative number of seconds, got {age_s!r}")
        self._elapsed_s = float(age_s)
        # Two child streams: candidate clocks and details; correctable-error counts.
        seeds = rng.integers(0, 2**63, size=2)
        self._event_rng = np.random.default_rng(int(seeds[0]))
        self._count_rng = np.random.default_rng(int(seeds[1]))

        past_onset = (self.dose_rad >= params.tid_onset_rad)[:, None]
        self.state = np.where(self.present, np.where(past_onset, _DEGRADED, _OK), _OFF).astype(np.int8)
        self.resetting_until_s = np.zeros((n, g))
        """Time a RESETTING GPU comes back; 0 where not resetting."""
        self.ce_count = np.zeros((n, g), dtype=np.int64)
        self.retired_rows = np.zeros((n, g), dtype=np.int64)
        self.due_count = np.zeros((n, g), dtype=np.int64)
        self.sefi_count = np.zeros((n, g), dtype=np.int64)
        self.sdc_count = np.zeros((n, g), dtype=np.int64)
        self.sdc_detected_count = np.zeros((n, g), dtype=np.int64)
        self.latchup_count = np.zeros((n, g), dtype=np.int64)

        p = params
        self._dose_norm = 1.0 + (radiation.saa_dose_multiplier - 1.0) * fraction
        self._dose_per_s = radiation.dose_rate_rad_per_year / SECONDS_PER_YEAR
        self._ce_per_s = p.ce_per_gpu_per_day / SECONDS_PER_DAY
        self._due_per_s = p.due_per_gpu_per_year / SECONDS_PER_YEAR
        self._due_mbu_per_s = p.due_mbu_fraction * self._ce_per_s
        self._sefi_per_s = p.sefi_per_board_per_day / SECONDS_PER_DAY
        self._sdc_per_s = p.sdc_terrestrial_per_gpu_per_day * p.sdc_radiation_factor / SECONDS_PER_DAY
        self._latchup_per_s = p.latchup_per_gpu_per_year / SECONDS_PER_YEAR
        self._random_failure_per_s = p.random_failure_per_year / SECONDS_PER_YEAR
        self._thermal_failure_per_s = p.thermal_failure_per_year / SECONDS_PER_YEAR
        self._infant_tau_s = p.infant_time_constant_days * SECONDS_PER_DAY
        self._gpus = self.present.sum(axis=1)
        order = np.argsort(~self.present, axis=1, kind="stable")  # present columns first, in order
        self._slot_of = np.arange(n)[:, None] * g + order
        self._onset_seen = past_onset[:, 0].copy()
        self._next_recovery_s = math.inf

    # --------------------------------------------------------------------------------------- queries

    @property
    def usable(self) -> np.ndarray:
        """(N, G) GPUs that can run work now: present and OK or DEGRADED (absent slots are OFF)."""
        return self.state <= _DEGRADED

    @property
    def age_s(self) -> np.ndarray:
        """(N, G) age of each present GPU (all GPUs are as old as the run plus the initial age)."""
        return np.where(self.present, self._elapsed_s, 0.0)

    def state_counts(self) -> np.ndarray:
        """(N, 5) number of present GPUs in each state, columns in ``GpuHealthState`` order."""
        n = self._shape[0]
        codes = np.where(self.present, self.state.astype(np.intp), len(_S))
        flat = (np.arange(n)[:, None] * (len(_S) + 1) + codes).ravel()
        return np.bincount(flat, minlength=n * (len(_S) + 1)).reshape(n, len(_S) + 1)[:, : len(_S)]

    # ------------------------------------------------------------------------------------------ step

    def step(
        self,
        time_s: float,
        dt_s: float,
        lat_deg: np.ndarray,
        lon_deg: np.ndarray,
        junction_c: np.ndarray,
        spe_multiplier: float = 1.0,
        upset_multiplier: np.ndarray | None = None,
    ) -> GpuHealthStep:
        """Advance (time_s - dt_s, time_s] with the satellites at (lat, lon) (N,) and junctions at (N, G) °C.
        ``upset_multiplier`` (N,) scales every satellite's single-event rates (an ECC storm)."""
        n, g = self._shape
        dt = float(dt_s)
        if not (math.isfinite(dt) and dt > 0):
            raise ValueError(f"dt_s must be a positive number of seconds, got {dt_s!r}")
        if not math.isfinite(time_s):
            raise ValueError(f"time_s must be finite, got {time_s!r}")
        spe = float(spe_multiplier)
        if not (math.isfinite(spe) and spe > 0):
            raise ValueError(f"spe_multiplier must be a positive number, got {spe_multiplier!r}")
        lat = np.asarray(lat_deg, dtype=float)
        lon = np.asarray(lon_deg, dtype=float)
        junction = np.asarray(junction_c, dtype=float)
        if lat.shape != (n,) or lon.shape != (n,) or junction.shape != (n, g):
            raise ValueError(f"expected lat/lon ({n},) and junction_c ({n}, {g}); "
                             f"got {lat.shape}, {lon.shape}, {junction.shape}")
        p, r = self.params, self.radiation
        t1 = float(time_s)

        # Environment and dose, per satellite.
        saa = in_saa(lat, lon, r)
        polar = in_polar_region(lat, r)
        scale = (1.0 + (r.saa_multiplier - 1.0) * saa + (r.polar_multiplier - 1.0) * polar) * (spe / self.mean_multiplier)
        if upset_multiplier is not None:
            upset = np.asarray(upset_multiplier, dtype=float)
            if upset.shape != (n,) or not (np.isfinite(upset).all() and (upset > 0).all()):
                raise ValueError(f"upset_multiplier must be ({n},) positive numbers")
            scale = scale * upset
        dose_before = self.dose_rad
        dose_factor = (1.0 + (r.saa_dose_multiplier - 1.0) * saa) / self._dose_norm * self._spe_dose_factor(spe)
        self.dose_rad = dose_before + self._dose_per_s * dt * dose_factor
        dose_mid = 0.5 * (dose_before + self.dose_rad)
        wear = degradation_factor(self.dose_rad, p)
        past_onset = self.dose_rad >= p.tid_onset_rad

        # Expected events this step per satellite, by kind (the failure row is an upper bound over all GPUs).
        mu = np.empty((_KINDS, n))
        mu[0] = (self._due_per_s * wear + self._due_mbu_per_s) * dt * scale
        mu[1] = self._sefi_per_s * dt * wear * scale
        mu[2] = self._sdc_per_s * dt * scale
        mu[3] = self._latchup_per_s * dt * scale
        tau = self._infant_tau_s
        infant = p.infant_failure_fraction * math.exp(-self._elapsed_s / tau) * -math.expm1(-dt / tau)
        base_hazard = (self._random_failure_per_s + tid_failure_rate_per_s(dose_mid, p)) * dt + infant
        mu[4] = base_hazard
        if p.thermal_failure_per_year > 0 and junction.size:
            mu[4] += self._thermal_failure_per_s * dt * float(arrhenius_factor(_hottest(junction, p.thermal_reference_c), p))
        total_mu = mu.sum(axis=0)

        # Candidates: slots where at least one event may have happened (fixed-shape draws, independent of states).
        satellite_any = -np.expm1(-total_mu * self._gpus)
        drawn = np.flatnonzero(self._event_rng.random(n) < satellite_any)
        candidates = self._candidate_slots(drawn, total_mu[drawn]) if drawn.size else np.zeros(0, dtype=np.intp)
        state_flat = self.state.reshape(-1)  # state at the start of the step
        ce_slots, ce_counts = self._correctable_errors(self._ce_per_s * dt * scale, state_flat)

        masks = {name: np.zeros(n * g, dtype=bool) for name in
                 ("process_killed", "due", "sefi", "sdc_silent", "sdc_detected", "latchup", "failed")}
        change_slots: list[np.ndarray] = []
        change_to: list[np.ndarray] = []
        change_cause: list[np.ndarray] = []
        change_until: list[np.ndarray] = []
        if len(candidates):
            self._events(candidates, mu, base_hazard, junction, dt, t1, state_flat, masks,
                         change_slots, change_to, change_cause, change_until)

        # Onset of TID degradation: OK GPUs of satellites whose dose just passed the onset.
        newly = past_onset & ~self._onset_seen
        if newly.any():
            self._onset_seen |= newly
            slots = self._slot_of[newly].reshape(-1)
            slots = slots[state_flat[slots] == _OK]
            change_slots.insert(0, slots)
            change_to.insert(0, np.full(len(slots), _DEGRADED, dtype=np.int8))
            change_cause.insert(0, np.full(len(slots), _C_TID_ONSET))
            change_until.insert(0, np.zeros(len(slots)))
        # Resets, power cycles and boots that end by t1 (checked only when one can have ended).
        check_recovery = t1 >= self._next_recovery_s
        if check_recovery:
            until_flat = self.resetting_until_s.reshape(-1)
            slots = np.flatnonzero((state_flat == _RESETTING) & (until_flat <= t1))
            back = np.where(past_onset[slots // g] if g else np.zeros(0, bool), _DEGRADED, _OK).astype(np.int8)
            change_slots.insert(0, slots)
            change_to.insert(0, back)
            change_cause.insert(0, np.full(len(slots), _C_RESET_DONE))
            change_until.insert(0, np.zeros(len(slots)))

        transitions: tuple[GpuTransition, ...] = ()
        recovered = np.zeros(n * g, dtype=bool)
        degraded = np.zeros(n * g, dtype=bool)
        if change_slots:
            slots, to, cause, until = _last_per_slot(change_slots, change_to, change_cause, change_until)
            if len(slots):
                before = state_flat[slots]
                if not _LEGAL[before, to].all():  # a bug, never a user error
                    bad = int(np.flatnonzero(~_LEGAL[before, to])[0])
                    raise RuntimeError(f"GPU health step produced {_S(int(before[bad])).name} -> {_S(int(to[bad])).name} "
                                       f"on satellite {slots[bad] // g} GPU {slots[bad] % g}")
                state_flat[slots] = to
                self.resetting_until_s.reshape(-1)[slots] = until
                recovered[slots[cause == _C_RESET_DONE]] = True
                degraded[slots[to == _DEGRADED]] = True
                transitions = tuple(
                    GpuTransition(int(slot // g), int(slot % g), _S(int(a)), _S(int(b)), _CAUSES[c], t1)
                    for slot, a, b, c in zip(slots, before, to, cause)
                )
                resets = until[to == _RESETTING]
                if len(resets):
                    self._next_recovery_s = min(self._next_recovery_s, float(resets.min()))
        if check_recovery:
            resetting = self.state == _RESETTING
            self._next_recovery_s = float(self.resetting_until_s[resetting].min()) if resetting.any() else math.inf

        self._elapsed_s += dt
        shape = (n, g)
        return GpuHealthStep(
            process_killed=masks["process_killed"].reshape(shape),
            due=masks["due"].reshape(shape),
            sefi=masks["sefi"].reshape(shape),
            sdc_silent=masks["sdc_silent"].reshape(shape),
            sdc_detected=masks["sdc_detected"].reshape(shape),
            latchup=masks["latchup"].reshape(shape),
            failed=masks["failed"].reshape(shape),
            recovered=recovered.reshape(shape),
            degraded=degraded.reshape(shape),
            ce_slots=ce_slots,
            ce_counts=ce_counts,
            multiplier=scale,
            transitions=transitions,
        )

    def _candidate_slots(self, sats: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Flat slots (ascending) of the GPUs of `sats` with at least one event, given that each of these
        satellites had one; `mu` (S,): expected events per GPU of each satellite (see the class doc)."""
        g = self._shape[1]
        present = self._gpus[sats]
        uniforms = self._event_rng.random((len(sats), g))
        chance = -np.expm1(-mu)
        hits = np.zeros((len(sats), g), dtype=bool)
        none_yet = np.ones(len(sats), dtype=bool)
        for k in range(g):  # a loop over GPU columns, vectorised over the drawn satellites
            left = present - k  # present GPUs from column k on
            from_here = -np.expm1(-np.maximum(left, 0) * mu)  # P(at least one event on GPUs k..n)
            conditional = np.divide(chance, from_here, out=np.zeros(len(sats)), where=left > 0)
            hits[:, k] = (left > 0) & (uniforms[:, k] < np.where(none_yet, conditional, chance))
            none_yet &= ~hits[:, k]
        rows, columns = np.nonzero(hits)
        return np.sort(self._slot_of[sats[rows], columns])

    def _events(
        self, candidates: np.ndarray, mu: np.ndarray, base_hazard: np.ndarray, junction: np.ndarray, dt: float,
        t1: float, state_flat: np.ndarray, masks: dict[str, np.ndarray], change_slots: list[np.ndarray],
        change_to: list[np.ndarray], change_cause: list[np.ndarray], change_until: list[np.ndarray],
    ) -> None:
        """Decide what happened at the candidate slots (given at least one event) and apply the counters."""
        p = self.params
        g = self._shape[1]
        count = len(candidates)
        v = self._event_rng.random((count, _COLUMNS))
        rows, cols = candidates // g, candidates % g
        m = mu[:, rows].T  # (count, kinds)
        chance = -np.expm1(-m)
        any_from = -np.expm1(-np.cumsum(m[:, ::-1], axis=1)[:, ::-1])  # P(at least one of kinds k..K)
        hit = np.zeros((count, _KINDS), dtype=bool)
        none_yet = np.ones(count, dtype=bool)
        for k in range(_KINDS):  # a loop over event kinds, vectorised over candidates
            conditional = np.divide(chance[:, k], any_from[:, k], out=np.zeros(count), where=any_from[:, k] > 0)
            hit[:, k] = v[:, k] < np.where(none_yet, conditional, chance[:, k])
            none_yet &= ~hit[:, k]

        start = state_flat[candidates]
        running = start <= _DEGRADED
        powered = running | (start == _RESETTING)
        due, sefi, sdc, latchup = (hit[:, k] & running for k in range(4))
        # Permanent failure: thin the satellite's bound down to this GPU's own hazard.
        own = base_hazard[rows]
        if p.thermal_failure_per_year > 0:
            t_j = junction[rows, cols]
            t_j = np.where(np.isfinite(t_j), t_j, p.thermal_reference_c)
            own = own + self._thermal_failure_per_s * dt * arrhenius_factor(t_j, p)
        failed = hit[:, 4] & powered & (v[:, _V_FAILURE_THIN] * chance[:, 4] < -np.expm1(-own))
        burnout = np.zeros(count, dtype=bool)
        if not p.latchup_current_limited:
            burnout = latchup & (v[:, _V_BURNOUT] < p.latchup_burnout_probability)
            failed |= burnout

        due_n = _poisson_at_least_one(v[:, _V_DUE_COUNT], m[:, 0]) * due
        sdc_n = _poisson_at_least_one(v[:, _V_SDC_COUNT], m[:, 2]) * sdc
        detected_n = _binomial_counts(v[:, _V_SDC_DETECT], sdc_n, p.sdc_detection_probability)
        reset_s = p.reset_min_s + (p.reset_max_s - p.reset_min_s) * v[:, _V_RESET]
        cycle_min_s, cycle_max_s = p.latchup_power_cycle_min_s, p.latchup_power_cycle_max_s
        cycle_s = cycle_min_s + (cycle_max_s - cycle_min_s) * v[:, _V_POWER_CYCLE]
        downtime = np.maximum(np.where(sefi, reset_s, 0.0), np.where(latchup, cycle_s, 0.0))

        sdc_detected = detected_n > 0
        masks["due"][candidates] = due
        masks["sefi"][candidates] = sefi
        masks["sdc_detected"][candidates] = sdc_detected
        masks["sdc_silent"][candidates] = sdc_n > detected_n
        masks["latchup"][candidates] = latchup
        masks["failed"][candidates] = failed
        masks["process_killed"][candidates] = due | sefi | latchup | sdc_detected | (failed & running)
        for counter, add in ((self.due_count, due_n), (self.retired_rows, due_n), (self.sefi_count, sefi),
                             (self.sdc_count, sdc_n), (self.sdc_detected_count, detected_n), (self.latchup_count, latchup)):
            counter.reshape(-1)[candidates] += add

        down = (sefi | latchup) & ~failed
        changed = down | failed
        if changed.any():
            change_slots.append(candidates[changed])
            change_to.append(np.where(failed, _FAILED, _RESETTING).astype(np.int8)[changed])
            cause = np.select([burnout, failed, latchup], [_C_BURNOUT, _C_FAILURE, _C_LATCHUP], _C_SEFI)
            change_cause.append(cause[changed])
            change_until.append(np.where(failed, 0.0, t1 + downtime)[changed])

    def _correctable_errors(self, mu_per_gpu: np.ndarray, state_flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Correctable errors as (flat slots, counts): a Poisson total for the fleet, each error placed on a
        satellite with probability ∝ its rate and on one of its present GPUs uniformly (Poisson splitting:
        exactly independent Poisson counts per GPU), kept on GPUs running at the start of the step.
        Counts them and remaps rows."""
        n, g = self._shape
        weights = mu_per_gpu * self._gpus
        cumulative = np.cumsum(weights)
        total = float(cumulative[-1]) if n else 0.0
        if not total > 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
        if total <= 8 * n * g:  # few errors: each lands on a satellite ∝ its rate, then on one of its GPUs
            positions = self._poisson_points(total)
            drawn = len(positions)
            if drawn == 0:
                return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
            sats = np.minimum(np.searchsorted(cumulative, positions, side="right"), n - 1)
            nth = (self._count_rng.random(drawn) * self._gpus[sats]).astype(np.intp)
            slots, counts = _counted(self._slot_of[sats, np.minimum(nth, g - 1)])
        else:  # storms: multinomial splits over satellites, then over each one's GPUs
            drawn = int(self._count_rng.poisson(total))
            totals = self._count_rng.multinomial(drawn, weights / total)
            rows = np.flatnonzero(totals)
            split = self._count_rng.multinomial(totals[rows], self.present[rows] / self._gpus[rows, None])
            r, c = np.nonzero(split)
            slots, counts = rows[r] * g + c, split[r, c]
        running = state_flat[slots] <= _DEGRADED
        slots, counts = slots[running], counts[running].astype(np.int64)
        threshold = int(self.params.row_remap_threshold)
        ce_flat = self.ce_count.reshape(-1)
        before = ce_flat[slots]
        after = before + counts
        ce_flat[slots] = after
        self.retired_rows.reshape(-1)[slots] += after // threshold - before // threshold
        return slots, counts

    def _poisson_points(self, total: float) -> np.ndarray:
        """The points of a unit-rate Poisson process on [0, total), in order: cumulative sums of unit
        exponential gaps (their count is Poisson(total), and given the count they are sorted uniforms, as
        the fleet's correctable errors need), with no sort."""
        gaps = self._count_rng.standard_exponential(int(total + 6.0 * math.sqrt(total)) + 16)
        points = np.cumsum(gaps)
        while points[-1] < total:  # past six standard deviations: rare
            more = np.cumsum(self._count_rng.standard_exponential(len(points))) + points[-1]
            points = np.concatenate([points, more])
        return points[: np.searchsorted(points, total)]

    def _spe_dose_factor(self, spe: float) -> float:
        r = self.radiation
        if spe == 1.0 or r.spe_multiplier == 1.0:
            return 1.0
        return max(1.0 + (spe - 1.0) * (r.spe_dose_multiplier - 1.0) / (r.spe_multiplier - 1.0), 0.0)

    # --------------------------------------------------------------------- operator / instructor commands

    def reset(self, sat: int, gpu: int, time_s: float, duration_s: float | None = None) -> GpuTransition:
        """Commanded GPU reset: RESETTING until time_s + duration (default reset_min_s), then OK or DEGRADED."""
        s, k = self._locate(sat, gpu)
        duration = self.params.reset_min_s if duration_s is None else duration_s
        _check_time(time_s, "time_s")
        if not (math.isfinite(duration) and duration > 0):
            raise ValueError(f"reset duration must be a positive number of seconds, got {duration_s!r}")
        self.check_reset(s, k)
        return self._apply(s, k, _S.RESETTING, CAUSE_OPERATOR_RESET, time_s, until_s=time_s + duration)

    def check_reset(self, sat: int, gpu: int) -> None:
        """Raise ValueError (with the reason) if the GPU cannot be reset now; change nothing."""
        s, k = self._locate(sat, gpu)
        current = _S(int(self.state[s, k]))
        if current == _S.FAILED:
            raise ValueError(f"cannot reset GPU {k} on satellite {s}: it has FAILED (only a servicing swap replaces it)")
        if current == _S.OFF:
            raise ValueError(f"cannot reset GPU {k} on satellite {s}: it is powered OFF (power it on instead)")
        if current == _S.RESETTING:
            raise ValueError(f"GPU {k} on satellite {s} is already resetting (until t={self.resetting_until_s[s, k]:.0f} s); "
                             "a GPU held in reset by a hang recovers with a power cycle (off, then on)")

    def power_off(self, sat: int, gpu: int, time_s: float | None = None) -> GpuTransition:
        """Power a GPU off (OFF until ``power_on``); refused for FAILED or already-OFF GPUs."""
        s, k = self._locate(sat, gpu)
        self.check_power_off(s, k)
        return self._apply(s, k, _S.OFF, CAUSE_POWER_OFF, time_s, until_s=0.0)

    def check_power_off(self, sat: int, gpu: int) -> None:
        """Raise ValueError (with the reason) if the GPU cannot be powered off now; change nothing."""
        s, k = self._locate(sat, gpu)
        current = _S(int(self.state[s, k]))
        if current == _S.OFF:
            raise ValueError(f"GPU {k} on satellite {s} is already powered off")
        if current == _S.FAILED:
            raise ValueError(f"cannot power off GPU {k} on satellite {s}: it has FAILED (only a servicing swap replaces it)")

    def power_on(self, sat: int, gpu: int, time_s: float) -> GpuTransition:
        """Power an OFF GPU on: RESETTING for boot_s, then OK or DEGRADED."""
        s, k = self._locate(sat, gpu)
        _check_time(time_s, "time_s")
        self.check_power_on(s, k)
        return self._apply(s, k, _S.RESETTING, CAUSE_POWER_ON, time_s, until_s=time_s + self.params.boot_s)

    def check_power_on(self, sat: int, gpu: int) -> None:
        """Raise ValueError (with the reason) if the GPU cannot be powered on now; change nothing."""
        s, k = self._locate(sat, gpu)
        current = _S(int(self.state[s, k]))
        if current != _S.OFF:
            raise ValueError(f"cannot power on GPU {k} on satellite {s}: it is {current.name}, not OFF")

    def fail(self, sat: int, gpu: int, cause: str, time_s: float | None = None) -> GpuTransition:
        """Fault injection: the GPU fails permanently now."""
        s, k = self._locate(sat, gpu)
        if not isinstance(cause, str) or not cause.strip():
            raise ValueError("a failure needs a cause (a non-empty string)")
        if self.state[s, k] == _S.FAILED:
            raise ValueError(f"GPU {k} on satellite {s} has already FAILED")
        return self._apply(s, k, _S.FAILED, cause.strip(), time_s, until_s=0.0)

    def interrupt(self, sat: int, gpu: int, cause: str, time_s: float, until_s: float) -> GpuTransition:
        """Fault injection: the GPU stops (hang, power cycle) and is RESETTING until ``until_s``, then OK or
        DEGRADED; refused for GPUs that are FAILED, OFF or already RESETTING."""
        s, k = self._locate(sat, gpu)
        _check_time(time_s, "time_s")
        _check_time(until_s, "until_s")
        if not until_s > time_s:
            raise ValueError("an interruption must end after it starts")
        current = _S(int(self.state[s, k]))
        if current in (_S.FAILED, _S.OFF, _S.RESETTING):
            raise ValueError(f"GPU {k} on satellite {s} is {current.name}: it is not running to be interrupted")
        return self._apply(s, k, _S.RESETTING, cause, time_s, until_s=until_s)

    def wake_by(self, time_s: float) -> None:
        """Check for ended resets by ``time_s`` (after a reset's end was moved earlier)."""
        self._next_recovery_s = min(self._next_recovery_s, float(time_s))

    def replace(self, sat: int, gpu: int, time_s: float) -> GpuTransition:
        """A new GPU board in a FAILED slot (a servicing swap, or the instructor clearing an injected
        failure): it boots (RESETTING for ``boot_s``), then runs OK."""
        s, k = self._locate(sat, gpu)
        _check_time(time_s, "time_s")
        if self.state[s, k] != _S.FAILED:
            raise ValueError(f"GPU {k} on satellite {s} has not failed (it is {_S(int(self.state[s, k])).name})")
        self.state[s, k] = _S.RESETTING  # the one way out of FAILED: new hardware
        until = time_s + self.params.boot_s
        self.resetting_until_s[s, k] = until
        self._next_recovery_s = min(self._next_recovery_s, until)
        return GpuTransition(s, k, _S.FAILED, _S.RESETTING, "board replaced", float(time_s))

    def _apply(self, s: int, k: int, to: GpuHealthState, cause: str, time_s: float | None, until_s: float) -> GpuTransition:
        if time_s is not None:
            _check_time(time_s, "time_s")
        before = _S(int(self.state[s, k]))
        check_transition(before, to)
        self.state[s, k] = to
        self.resetting_until_s[s, k] = until_s
        if to == _S.RESETTING:
            self._next_recovery_s = min(self._next_recovery_s, until_s)
        return GpuTransition(s, k, before, to, cause, None if time_s is None else float(time_s))

    def _locate(self, sat: int, gpu: int) -> tuple[int, int]:
        n, g = self._shape
        try:
            s, k = operator.index(sat), operator.index(gpu)
        except TypeError:
            raise ValueError(f"satellite and GPU must be whole-number indices, got {sat!r}, {gpu!r}") from None
        if not 0 <= s < n:
            raise ValueError(f"satellite index {s} is out of range (the fleet has {n} satellites)")
        if not 0 <= k < g or not self.present[s, k]:
            raise ValueError(f"satellite {s} has no GPU {k} (it carries {int(self.present[s].sum())})")
        return s, k


# ---------------------------------------------------------------------------------------------- helpers


def _hottest(junction_c: np.ndarray, fallback_c: float) -> float:
    """Hottest junction in the fleet, ignoring NaN (at least fallback_c if there is one)."""
    hottest = float(junction_c.max())
    if math.isnan(hottest):
        hottest = max(float(np.fmax.reduce(junction_c, axis=None)), fallback_c)
    return hottest


def _last_per_slot(
    slots: list[np.ndarray], to: list[np.ndarray], cause: list[np.ndarray], until: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate change lists given in increasing priority and keep the last change for each slot."""
    all_slots = np.concatenate(slots)
    priority = np.concatenate([np.full(len(s), i) for i, s in enumerate(slots)])
    order = np.lexsort((-priority, all_slots))  # by slot, highest priority first
    sorted_slots = all_slots[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_slots[1:] != sorted_slots[:-1]
    keep = order[first]
    return (all_slots[keep], np.concatenate(to)[keep].astype(np.int8),
            np.concatenate(cause)[keep].astype(np.intp), np.concatenate(until)[keep].astype(float))


def _poisson_at_least_one(u: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Poisson(mu) counts conditioned on N >= 1, by inverse CDF of u: N = 1 + Σ_k≥1 [u < P(N > k) / P(N >= 1)]."""
    at_least_one = -np.expm1(-mu)
    safe = np.where(at_least_one > 0, at_least_one, 1.0)
    pmf = mu * np.exp(-mu)  # P(N = 1)
    survival = (at_least_one - pmf) / safe  # P(N > 1 | N >= 1)
    counts = np.ones(len(mu), dtype=np.int64)
    going = u < survival
    k = 1
    while going.any() and k < 100_000:
        counts += going
        k += 1
        pmf = pmf * mu / k
        survival = survival - pmf / safe
        going &= u < survival
    return counts


def _binomial_counts(u: np.ndarray, trials: np.ndarray, prob: float) -> np.ndarray:
    """Binomial(trials, prob) by inverse CDF of the uniforms u: X = Σ_j [u < P(X > j)]."""
    if prob <= 0:
        return np.zeros(len(trials), dtype=np.int64)
    if prob >= 1:
        return trials.astype(np.int64)
    odds = prob / (1.0 - prob)
    pmf = (1.0 - prob) ** trials.astype(float)  # P(X = 0)
    survival = 1.0 - pmf
    got = np.zeros(len(trials), dtype=np.int64)
    going = (u < survival) & (trials > 0)
    j = 0
    while going.any():
        got += going
        pmf = pmf * (trials - j) / (j + 1) * odds
        j += 1
        survival = survival - pmf
        going &= (u < survival) & (got < trials)
    return got


def _per_satellite(values: np.ndarray, n: int, name: str, positive: bool = False) -> np.ndarray:
    array = np.array(values, dtype=float)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array <= 0 if positive else array < 0):
        raise ValueError(f"{name} must be finite and {'positive' if positive else 'non-negative'}")
    return array


def _check_time(value: float, name: str) -> None:
    if not isinstance(value, (int, float, np.floating, np.integer)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number of seconds, got {value!r}")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _require_finite(params: object) -> None:
    for f in fields(params):  # type: ignore[arg-type]
        value = getattr(params, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{f.name} must be finite, got {value!r}")
