"""Thermal: GPU junctions, the pumped coolant loop and a two-sided radiator, plus the solar array
(physics.md §3.6).

Network per satellite::

    GPU junction j --G_jc--> coolant loop --G_lr--> radiator --εσA(T⁴ - T_sink⁴)--> space
                                ^ bus, heater, PCDU and battery losses        ^ Sun, albedo, Earth IR

The loop-to-radiator conductance is set by a bypass valve: all the coolant goes through the radiator while
the loop is warm, and when the full flow would cool the loop below its setpoint (too little GPU heat for
the radiator) the valve diverts just enough around it to hold the setpoint, down to a minimum share of the
flow. The valve opening is solved inside the step (closed form), so it never chatters at long steps.

One step is a backward-Euler solve of the whole linear network with the radiator's T⁴ linearised about its
current temperature. Backward Euler is unconditionally stable (no oscillation at 60 s steps although the
junction time constant is ~25 s), and its fixed point is the exact nonlinear steady state, so the
radiator's equilibrium satisfies the Stefan-Boltzmann balance exactly. The junction equations are
eliminated analytically, leaving a 2x2 system per satellite solved in closed form: fully vectorised.
"""

from __future__ import annotations

import numpy as np

from engine.constants import (
    DEEP_SPACE_K,
    EARTH_ALBEDO,
    EARTH_IR_W_M2,
    EARTH_SHADOW_RADIUS_KM,
    KELVIN,
    STEFAN_BOLTZMANN_W_M2_K4,
)
from engine.fleet import FleetHardware
from engine.gpus import per_satellite_sum


def vertical_plate_view_factor(radius_km: np.ndarray) -> np.ndarray:
    """View factor to the Earth from one side of a plate whose normal is horizontal (edge-on to nadir).

    F = (atan(1/X) - X/H²)/π with H = r/R_E, X = sqrt(H² - 1): 0.24 at 650 km (physics.md §2.1).
    """
    h = np.maximum(radius_km / EARTH_SHADOW_RADIUS_KM, 1.0 + 1e-9)
    x = np.sqrt(h * h - 1.0)
    return (np.arctan(1.0 / x) - x / (h * h)) / np.pi


class ThermalState:
    """Node temperatures in kelvin: junction (N, G), loop (N,), radiator (N,), solar array (N,)."""

    def __init__(self, hw: FleetHardware):
        self.hw = hw
        start = np.where(np.isnan(hw.initial_temp_c), 20.0, hw.initial_temp_c) + KELVIN
        self.junction_k = np.repeat(start[:, None], max(hw.max_gpus, 0), axis=1)
        self.loop_k = start.copy()
        self.radiator_k = start.copy()
        self.array_k = start.copy()
        self.radiator_flow_fraction = np.ones(hw.count)
        """Share of the loop's flow through the radiator in the last step (the rest bypasses it)."""
        self.gpu_count = hw.gpu_count.astype(float)
        self._every_slot_filled = bool(hw.gpu_present.all())
        self._per_gpu_cache: tuple[float, np.ndarray, np.ndarray] | None = None
        """Every satellite has the fleet's largest GPU count (no empty slots to mask in the step)."""
        self.radiator_emitting_m2 = 2.0 * hw.radiator_m2
        self.radiator_area_fraction = np.ones(hw.count)
        """Radiator area still radiating (damage lowers it)."""
        self.pump_flow_fraction = np.ones(hw.count)
        """Loop flow the pump delivers (a failed pump leaves the backup path's share)."""
        self.radiator_capacity = hw.radiator_heat_capacity_j_per_k_m2 * hw.radiator_m2
        self.array_capacity = hw.solar_array_heat_capacity_j_per_k_m2 * np.maximum(hw.solar_array_m2, 1e-3)

    def set_damage(self, radiator_area_fraction: np.ndarray, pump_flow_fraction: np.ndarray) -> None:
        """Radiator area and pump flow left, (N,) fractions of nominal (faults; a servicing swap restores)."""
        self.radiator_area_fraction = np.asarray(radiator_area_fraction, dtype=float).copy()
        self.pump_flow_fraction = np.asarray(pump_flow_fraction, dtype=float).copy()
        self.radiator_emitting_m2 = 2.0 * self.hw.radiator_m2 * self.radiator_area_fraction

    def radiator_environment_w(
        self, flux_w_m2: np.ndarray, illumination: np.ndarray, subsolar_cos: np.ndarray, view_factor: np.ndarray
    ) -> np.ndarray:
        """Absorbed Sun (on one face, at the configured incidence), albedo and Earth IR on both faces, W."""
        hw = self.hw
        sun = hw.radiator_absorptance * flux_w_m2 * illumination * hw.radiator_sun_cosine
        albedo = 2.0 * hw.radiator_absorptance * EARTH_ALBEDO * flux_w_m2 * subsolar_cos * view_factor
        infrared = 2.0 * hw.radiator_emissivity * EARTH_IR_W_M2 * view_factor
        return hw.radiator_m2 * self.radiator_area_fraction * (sun + albedo + infrared)

    def radiated_w(self) -> np.ndarray:
        """Power the radiator emits to space now, W."""
        hw = self.hw
        return hw.radiator_emissivity * STEFAN_BOLTZMANN_W_M2_K4 * self.radiator_emitting_m2 * (
            self.radiator_k**4 - DEEP_SPACE_K**4
        )

    def step(
        self,
        dt_s: float,
        gpu_heat_w: np.ndarray,
        loop_heat_w: np.ndarray,
        radiator_environment_w: np.ndarray,
    ) -> np.ndarray:
        """Advance junction, loop and radiator one step; returns the radiated power used, W (N,)."""
        hw = self.hw
        c_j_dt = hw.gpu_heat_capacity_j_per_k[:, None] / dt_s
        g_jc = hw.gpu_to_loop_conductance_w_per_k[:, None]
        present = hw.gpu_present
        # Junction j: T_j' = a_j + b * T_loop'
        denominator = c_j_dt + g_jc
        c_j_dt_per_gpu, denominator_per_gpu = self._per_gpu_terms(dt_s, c_j_dt, denominator)
        a = c_j_dt_per_gpu * self.junction_k
        a += gpu_heat_w
        a /= denominator_per_gpu
        every_slot_filled = self._every_slot_filled
        if not every_slot_filled:
            a = np.where(present, a, 0.0)
        b = (g_jc / denominator)[:, 0]
        g = hw.gpu_to_loop_conductance_w_per_k
        g_full = hw.loop_to_radiator_conductance_w_per_k * self.pump_flow_fraction
        c_l_dt = hw.loop_heat_capacity_j_per_k / dt_s
        c_r_dt = self.radiator_capacity / dt_s

        emission_coefficient = hw.radiator_emissivity * STEFAN_BOLTZMANN_W_M2_K4 * self.radiator_emitting_m2
        radiated_now = emission_coefficient * (self.radiator_k**4 - DEEP_SPACE_K**4)
        slope = 4.0 * emission_coefficient * self.radiator_k**3

        loop_diagonal = c_l_dt + self.gpu_count * g * (1.0 - b)  # a11 without the radiator conductance
        radiator_diagonal = c_r_dt + slope  # a22 without it
        b1 = c_l_dt * self.loop_k + g * per_satellite_sum(a) + loop_heat_w
        b2 = c_r_dt * self.radiator_k + radiator_environment_w - radiated_now + slope * self.radiator_k
        g_lr = self._valve_conductance(g_full, loop_diagonal, radiator_diagonal, b1, b2)
        a11 = loop_diagonal + g_lr
        a22 = radiator_diagonal + g_lr
        determinant = a11 * a22 - g_lr * g_lr
        loop_new = (b1 * a22 + g_lr * b2) / determinant
        radiator_new = (a11 * b2 + g_lr * b1) / determinant

        radiated = radiated_now + slope * (radiator_new - self.radiator_k)
        junction = np.repeat(b * loop_new, a.shape[1]).reshape(a.shape)
        junction += a
        self.junction_k = junction if every_slot_filled else np.where(present, junction, loop_new[:, None])
        self.loop_k = loop_new
        self.radiator_k = radiator_new
        return radiated

    def _per_gpu_terms(self, dt_s: float, c_j_dt: np.ndarray, denominator: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """C/dt and C/dt + G spelled out per GPU slot (N, G), kept for the last step length: (N, 1)
        operands broadcast over (N, G) make each operation ~3x slower."""
        cached = self._per_gpu_cache
        if cached is None or cached[0] != dt_s:
            shape = self.junction_k.shape
            cached = self._per_gpu_cache = (dt_s, np.ascontiguousarray(np.broadcast_to(c_j_dt, shape)),
                                            np.ascontiguousarray(np.broadcast_to(denominator, shape)))
        return cached[1], cached[2]

    def _valve_conductance(
        self, g_full: np.ndarray, loop_diagonal: np.ndarray, radiator_diagonal: np.ndarray, b1: np.ndarray, b2: np.ndarray
    ) -> np.ndarray:
        """Loop-to-radiator conductance after the bypass valve, for this step's linear system.

        With conductance x the new loop temperature is T(x) = (b1·(B + x) + x·b2) / (A·B + x·(A + B))
        (A, B the loop and radiator diagonals without x). Where the full flow would take the loop below its
        setpoint and the radiator is the colder node, T(x) = T_set is solved for x, linear in x:
        x = B·(T_set·A - b1) / (b1 + b2 - T_set·(A + B)), then held between the minimum flow and the full."""
        hw = self.hw
        setpoint_k = hw.loop_setpoint_c + KELVIN
        low, high = loop_diagonal, radiator_diagonal
        full_loop_k = (b1 * (high + g_full) + g_full * b2) / (low * high + g_full * (low + high))
        throttle = (full_loop_k < setpoint_k) & (self.radiator_k < self.loop_k) & (hw.radiator_bypass_min_fraction < 1.0)
        if not throttle.any():
            self.radiator_flow_fraction = np.ones_like(g_full)
            return g_full
        with np.errstate(divide="ignore", invalid="ignore"):
            needed = high * (setpoint_k * low - b1) / (b1 + b2 - setpoint_k * (low + high))
        minimum = hw.radiator_bypass_min_fraction * g_full
        needed = np.where(np.isfinite(needed), needed, minimum)
        conductance = np.where(throttle, np.clip(needed, minimum, g_full), g_full)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.radiator_flow_fraction = np.where(g_full > 0, conductance / g_full, 0.0)
        return conductance

    def settle(
        self,
        gpu_heat_w: np.ndarray,
        loop_heat_w: np.ndarray,
        radiator_environment_w: np.ndarray,
        array_inputs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        satellites: np.ndarray,
    ) -> None:
        """Put the selected satellites at thermal equilibrium under constant inputs.

        A backward-Euler step with an effectively infinite step is one Newton iteration on the
        steady-state balance; a dozen iterations converge to rounding from any start.
        """
        before = (self.junction_k.copy(), self.loop_k.copy(), self.radiator_k.copy(), self.array_k.copy())
        for _ in range(8):
            self.step(1e9, gpu_heat_w, loop_heat_w, radiator_environment_w)
            self.step_array(1e9, *array_inputs)
        keep = ~satellites
        self.junction_k = np.where(keep[:, None], before[0], self.junction_k)  # a new array, as a step makes
        self.loop_k[keep] = before[1][keep]
        self.radiator_k[keep] = before[2][keep]
        self.array_k[keep] = before[3][keep]

    def step_array(
        self,
        dt_s: float,
        flux_w_m2: np.ndarray,
        illumination: np.ndarray,
        subsolar_cos: np.ndarray,
        view_factor: np.ndarray,
        electrical_w: np.ndarray,
    ) -> None:
        """Solar array node: absorbed Sun minus the electricity taken out, Earth IR/albedo on the back,
        emission from both faces (same linearised backward-Euler update as the radiator)."""
        hw = self.hw
        area = np.maximum(hw.solar_array_m2, 1e-3)
        absorbed = (
            hw.solar_array_absorptance * flux_w_m2 * illumination * hw.solar_array_sun_cosine * area
            - electrical_w
            + area * view_factor * (hw.solar_array_absorptance * EARTH_ALBEDO * flux_w_m2 * subsolar_cos
                                    + hw.solar_array_emissivity * EARTH_IR_W_M2)
        )
        coefficient = 2.0 * hw.solar_array_emissivity * STEFAN_BOLTZMANN_W_M2_K4 * area
        emitted = coefficient * (self.array_k**4 - DEEP_SPACE_K**4)
        slope = 4.0 * coefficient * self.array_k**3
        capacity_dt = self.array_capacity / dt_s
        self.array_k = (capacity_dt * self.array_k + absorbed - emitted + slope * self.array_k) / (capacity_dt + slope)
