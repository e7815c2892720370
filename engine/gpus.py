"""GPU power, thermal throttling and over-temperature shutdown (physics.md §3.7).

    P_cap   = TDP · min(clip(1 - k·(T_j - T_throttle), p_min, 1), policy cap)
    P_gpu   = P_idle + util · (P_cap - P_idle)          for a powered GPU, 0 otherwise
    speed   = (P_cap / TDP)^γ                           relative throughput of a capped GPU
    shutdown when T_j > T_shutdown, back on when T_j < T_throttle - restart margin

GPU firmware throttles within milliseconds, far faster than an engine step, so the thermal cap is
not taken from the previous step's temperature (a lagging controller that would oscillate at 60 s
steps) but solved together with the junction's backward-Euler update: in the throttling band the
power is linear in T_j, so the consistent cap has a closed form, then is clipped to [p_min, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.constants import KELVIN
from engine.fleet import FleetHardware
from engine.mission.models import PowerPolicy
from engine.power import ShedLevel


@dataclass
class GpuDemand:
    """What the GPUs ask for this step, each (N, G)."""

    power_w: np.ndarray
    powered: np.ndarray
    utilization: np.ndarray
    speed: np.ndarray
    thermal_cap: np.ndarray
    """Thermal power-cap fraction (1 = not throttled)."""


def per_satellite_sum(values: np.ndarray) -> np.ndarray:
    """Sum over the GPU axis of an (N, G) array (a matrix-vector product: ~8x faster than .sum(axis=1))."""
    if values.dtype == bool:
        values = values.view(np.uint8)
        return (values @ np.ones(values.shape[1], dtype=np.uint8)).astype(np.int64) if values.shape[1] < 256 else values.sum(axis=1)
    return values @ np.ones(values.shape[1], dtype=values.dtype)


def nonzero_2d(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D mask (rows, columns, in the same row-major order), through the flat index:
    about 12x faster on a fleet-sized (N, G) or (N, M) mask with few entries set."""
    return np.divmod(np.flatnonzero(mask), mask.shape[1])


_BAND_MARGIN_K = 1e-6
"""Junctions within this of the no-throttling limit are solved in full (far above rounding error)."""


class GpuState:
    """Per-GPU controller state, with per-GPU copies of the hardware parameters it uses every step."""

    def __init__(self, hw: FleetHardware):
        self.hw = hw
        self.shutdown = np.zeros(hw.gpu_present.shape, dtype=bool)
        shape = hw.gpu_present.shape

        def per_gpu(column: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(np.broadcast_to(column[:, None], shape))

        self._tdp_w = per_gpu(hw.gpu_tdp_w)
        self._idle_w = per_gpu(hw.gpu_idle_w)
        self._slope = per_gpu(hw.gpu_throttle_slope_per_k)
        self._throttle_k = per_gpu(hw.gpu_throttle_c + KELVIN)
        self._shutdown_k = per_gpu(hw.gpu_shutdown_c + KELVIN)
        self._restart_k = per_gpu(hw.gpu_throttle_c - hw.gpu_restart_margin_k + KELVIN)
        self._min_fraction = per_gpu(hw.gpu_min_power_fraction)
        self._exponent = per_gpu(hw.gpu_throughput_exponent)
        self._capacity_j_per_k = per_gpu(hw.gpu_heat_capacity_j_per_k)
        self._conductance = per_gpu(hw.gpu_to_loop_conductance_w_per_k)
        self._tdp_slope = self._tdp_w * self._slope
        self._dynamic_w = self._tdp_w - self._idle_w
        self._cap_at_zero_k = 1.0 + self._slope * self._throttle_k
        self._dt_cache: tuple[float, np.ndarray, np.ndarray] | None = None
        # Per satellite, for the test that no GPU can reach its throttling band this step (``_band_reachable``).
        self._sat_capacity_j_per_k = np.asarray(hw.gpu_heat_capacity_j_per_k, dtype=float)
        self._sat_conductance = np.asarray(hw.gpu_to_loop_conductance_w_per_k, dtype=float)
        self._sat_idle_w = np.asarray(hw.gpu_idle_w, dtype=float)
        self._sat_dynamic_w = np.asarray(hw.gpu_tdp_w, dtype=float) - self._sat_idle_w
        self._sat_throttle_k = np.asarray(hw.gpu_throttle_c, dtype=float) + KELVIN
        self._idle_within_tdp = bool((self._idle_w <= self._tdp_w).all())

    def _per_dt(self, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
        """C/dt and C/dt + G per GPU for a step of `dt_s` (kept for the last step length)."""
        cached = self._dt_cache
        if cached is None or cached[0] != dt_s:
            c_dt = self._capacity_j_per_k / dt_s
            cached = self._dt_cache = (dt_s, c_dt, c_dt + self._conductance)
        return cached[1], cached[2]

    def demand(
        self,
        junction_k: np.ndarray,
        loop_k: np.ndarray,
        shed_level: np.ndarray,
        utilization: float | np.ndarray,
        policy: PowerPolicy,
        dt_s: float,
        available: np.ndarray | None = None,
        operator_cap: np.ndarray | None = None,
    ) -> GpuDemand:
        """Power each GPU draws over the next step, given its temperature, the coolant loop temperature,
        the shedding level and the workload. ``available`` (N, G): GPUs whose health lets them be powered
        (hung, resetting, failed and switched-off GPUs draw nothing); ``operator_cap`` (N,): the operator's
        per-GPU power cap as a fraction of TDP (NaN: none)."""
        paused = shed_level >= ShedLevel.PAUSED
        requested = np.asarray(utilization, dtype=float)
        if requested.ndim == 0:  # one workload level for the whole fleet
            u = np.where(paused, policy.paused_utilization, requested)[:, None]
        elif paused.any():  # per GPU (N, G), e.g. from the job scheduler; pausing caps it
            u = np.where(paused[:, None], np.minimum(requested, policy.paused_utilization), requested)
        else:
            u = requested
        u_range = (float(u.min()), float(u.max())) if u.size else (0.0, 0.0)  # for _band_reachable
        if u.shape[1] != self._tdp_w.shape[1]:  # one level per satellite: spelled out per GPU once, since
            u = np.repeat(u, self._tdp_w.shape[1], axis=1)  # an (N, 1) operand makes every (N, G) operation 3x slower
        policy_cap = np.where(shed_level >= ShedLevel.CAPPED, policy.capped_power_fraction, 1.0)
        if operator_cap is not None:
            policy_cap = np.fmin(policy_cap, operator_cap)
        policy_capped = bool((policy_cap < 1.0).any())
        powered = self.hw.gpu_present & ~self.shutdown
        if available is not None:
            powered &= available
        safe = shed_level >= ShedLevel.SAFE
        if safe.any():
            powered &= ~safe[:, None]
        if not policy_capped and self._idle_within_tdp and not self._band_reachable(junction_k, loop_k, u_range, dt_s):
            # The usual step: nothing caps any GPU, so each draws idle + u (TDP - idle), exactly what the
            # general formula below gives with every cap at 1, in a third of the array operations.
            power = u * self._dynamic_w
            power += self._idle_w
            np.copyto(power, 0.0, where=~powered)
            util = np.where(powered, u, 0.0)
            return GpuDemand(power_w=power, powered=powered, utilization=util, speed=powered.astype(float),
                             thermal_cap=np.ones(power.shape))
        c_dt, c_dt_plus_g = self._per_dt(dt_s)
        gain = u * self._tdp_slope  # W per K of junction temperature inside the throttling band
        # junction temperature if the GPU throttles this step (backward Euler with the cap linear in T_j)
        junction_in_band = c_dt * junction_k
        junction_in_band += self._conductance * np.repeat(loop_k, junction_in_band.shape[1]).reshape(junction_in_band.shape)
        junction_in_band += self._idle_w
        junction_in_band += u * self._dynamic_w
        junction_in_band += gain * self._throttle_k
        junction_in_band /= c_dt_plus_g + gain
        thermal_cap = self._cap_at_zero_k - self._slope * junction_in_band  # 1 - slope (T_j - T_throttle)
        np.clip(thermal_cap, self._min_fraction, 1.0, out=thermal_cap)
        # (thermal_cap itself when nothing caps the policy: the (N, G) minimum is the costliest line here)
        cap_fraction = np.minimum(thermal_cap, policy_cap[:, None]) if policy_capped else thermal_cap
        cap_w = self._tdp_w * cap_fraction
        idle_w = np.minimum(self._idle_w, cap_w)
        util = np.where(powered, u, 0.0)
        power = cap_w  # idle + u (cap - idle), nothing where off
        power -= idle_w
        power *= u
        power += idle_w
        np.copyto(power, 0.0, where=~powered)
        speed = powered.astype(float)
        capped = powered & (cap_fraction < 1.0)
        if capped.any():
            speed[capped] = cap_fraction[capped] ** self._exponent[capped]
        return GpuDemand(power_w=power, powered=powered, utilization=util, speed=speed, thermal_cap=thermal_cap)

    def _band_reachable(self, junction_k: np.ndarray, loop_k: np.ndarray, u_range: tuple[float, float],
                        dt_s: float) -> bool:
        """Whether any GPU's junction may end this step in its throttling band (then the caps are solved).

        With the cap at 1 the backward-Euler junction is (C/dt·T + G·T_loop + idle + u·(TDP - idle)) /
        (C/dt + G), and the solved cap is 1 exactly when that is at most T_throttle, that is when
        T <= ((C/dt + G)·T_throttle - G·T_loop - idle - u·(TDP - idle)) / (C/dt). This bounds u by the
        fleet's lowest and highest utilisation (`u_range`), takes each satellite's limit less a margin far
        above rounding (1 µK), and compares the fleet's hottest junction with the lowest limit: (N,) work and
        one reduction of the (N, G) junctions."""
        if not junction_k.size:
            return False
        c_dt = self._sat_capacity_j_per_k / dt_s
        g = self._sat_conductance
        u_low, u_high = u_range
        heat_w = self._sat_idle_w + np.maximum(u_high * self._sat_dynamic_w, u_low * self._sat_dynamic_w)
        limit_k = ((c_dt + g) * self._sat_throttle_k - g * np.asarray(loop_k, dtype=float) - heat_w) / c_dt - _BAND_MARGIN_K
        hottest = float(junction_k.max())
        return not hottest <= float(limit_k.min())  # NaN anywhere: solve

    def update_shutdown(self, junction_k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply over-temperature shutdown and recovery; returns (newly shut down, newly recovered) masks."""
        too_hot = (junction_k > self._shutdown_k) & self.hw.gpu_present & ~self.shutdown
        cooled = self.shutdown & (junction_k < self._restart_k)
        if too_hot.any() or cooled.any():
            self.shutdown = (self.shutdown | too_hot) & ~cooled
        return too_hot, cooled
