"""Electrical power: solar array, PCDU, loads, battery with efficiencies and a depth-of-discharge floor,
and the autonomous load-shedding policy (physics.md §3.3-3.5).

Energy bookkeeping is exact per step, so over any run
    generated - consumed - (PCDU + charge + discharge losses) - Δ(battery energy) = 0
to rounding (tests/test_power.py). When the battery sits at its floor and the array cannot carry the
loads, the PCDU cuts GPUs first, then heaters, then the bus; what it could not serve is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.fleet import FleetHardware
from engine.mission.models import PowerPolicy

JOULES_PER_KWH = 3.6e6


class ShedLevel:
    """Load-shedding levels, in order of severity."""

    NOMINAL = 0
    CAPPED = 1
    PAUSED = 2
    SAFE = 3
    NAMES = ("NOMINAL", "CAPPED", "PAUSED", "SAFE")


@dataclass
class PowerFlows:
    """Average powers over one step, W, each (N,)."""

    solar_available_w: np.ndarray
    solar_used_w: np.ndarray
    load_w: np.ndarray
    gpu_w: np.ndarray
    heater_w: np.ndarray
    bus_w: np.ndarray
    unserved_w: np.ndarray
    charge_w: np.ndarray
    discharge_w: np.ndarray
    pcdu_loss_w: np.ndarray
    charge_loss_w: np.ndarray
    discharge_loss_w: np.ndarray
    gpu_supply_fraction: np.ndarray
    """Share of the requested GPU power the PCDU could deliver (1 except at the battery floor)."""

    @property
    def net_w(self) -> np.ndarray:
        """Power into (+) or out of (-) the battery terminals."""
        return self.charge_w - self.discharge_w

    @property
    def losses_w(self) -> np.ndarray:
        return self.pcdu_loss_w + self.charge_loss_w + self.discharge_loss_w


def solar_array_power_w(
    hw: FleetHardware, flux_w_m2: np.ndarray, illumination: np.ndarray, array_temp_c: np.ndarray, age_years: float
) -> np.ndarray:
    """Array output S·A·η(T, age)·packing·cos θ·ν  (physics.md §3.3); cos θ = 1 for a Sun-tracking array."""
    efficiency = (
        hw.solar_cell_efficiency
        * hw.solar_packing_factor
        * np.maximum(1.0 + hw.solar_temp_coefficient_per_k * (array_temp_c - 28.0), 0.0)
        * (1.0 - hw.solar_degradation_per_year) ** (hw.solar_array_age_years + age_years)
    )
    return flux_w_m2 * hw.solar_array_m2 * hw.solar_array_sun_cosine * efficiency * illumination


class Battery:
    """Battery energy state with its usable window [floor, capacity]."""

    def __init__(self, hw: FleetHardware):
        self.hw = hw
        self.capacity_j = hw.battery_kwh * JOULES_PER_KWH
        self.floor_j = (1.0 - hw.battery_max_dod) * self.capacity_j
        self.energy_j = np.clip(hw.battery_initial_soc * self.capacity_j, self.floor_j, self.capacity_j)
        self.max_charge_w = hw.battery_charge_rate_c * hw.battery_kwh * 1000.0
        self.capacity_fraction = np.ones(hw.count)
        """Capacity left of nominal (cells lost to faults; a new battery module restores it)."""

    def set_capacity_fraction(self, fraction: np.ndarray) -> np.ndarray:
        """Scale the usable window and charge rate to ``fraction`` (N,) of nominal; energy above the new
        capacity is lost with the cells. Returns the energy lost, J (N,)."""
        fraction = np.asarray(fraction, dtype=float)
        nominal_j = self.hw.battery_kwh * JOULES_PER_KWH
        self.capacity_fraction = fraction.copy()
        self.capacity_j = nominal_j * fraction
        self.floor_j = (1.0 - self.hw.battery_max_dod) * self.capacity_j
        self.max_charge_w = self.hw.battery_charge_rate_c * self.hw.battery_kwh * 1000.0 * fraction
        lost = np.maximum(self.energy_j - self.capacity_j, 0.0)
        self.energy_j = self.energy_j - lost
        return lost

    @property
    def soc(self) -> np.ndarray:
        """State of charge, energy / capacity (0..1)."""
        return self.energy_j / self.capacity_j


def balance_power(
    hw: FleetHardware,
    battery: Battery,
    solar_available_w: np.ndarray,
    gpu_request_w: np.ndarray,
    heater_request_w: np.ndarray,
    dt_s: float,
    comms_request_w: np.ndarray | float = 0.0,
) -> PowerFlows:
    """Serve the loads from array and battery for one step and update the battery energy in place.
    `comms_request_w` (laser terminals) is served as part of the bus."""
    eta_pcdu = hw.pcdu_efficiency
    eta_c = hw.battery_charge_efficiency
    eta_d = hw.battery_discharge_efficiency
    bus_request = hw.bus_power_w + comms_request_w
    load_request = bus_request + gpu_request_w + heater_request_w
    surplus = eta_pcdu * solar_available_w - load_request

    # Charging: limited by charge rate and the room left in the battery; the array is curtailed to match.
    room_w = (battery.capacity_j - battery.energy_j) / (eta_c * dt_s)
    charge = np.where(surplus > 0.0, np.minimum(np.minimum(surplus, battery.max_charge_w), np.maximum(room_w, 0.0)), 0.0)
    # Discharging: limited by the energy above the depth-of-discharge floor.
    deficit = np.maximum(-surplus, 0.0)
    available_w = np.maximum(battery.energy_j - battery.floor_j, 0.0) * eta_d / dt_s
    discharge = np.minimum(deficit, available_w)
    shortfall = deficit - discharge

    # Shed what cannot be served: GPUs first, then heaters, then the bus.
    gpu_cut = np.minimum(shortfall, gpu_request_w)
    heater_cut = np.minimum(shortfall - gpu_cut, heater_request_w)
    bus_cut = np.minimum(shortfall - gpu_cut - heater_cut, bus_request)
    gpu_w = gpu_request_w - gpu_cut
    heater_w = heater_request_w - heater_cut
    bus_w = bus_request - bus_cut
    load_w = gpu_w + heater_w + bus_w
    gpu_fraction = np.where(gpu_request_w > 0.0, gpu_w / np.where(gpu_request_w > 0.0, gpu_request_w, 1.0), 1.0)

    solar_used = np.minimum((load_w + charge - discharge) / eta_pcdu, solar_available_w)
    solar_used = np.maximum(solar_used, 0.0)
    battery.energy_j = np.clip(battery.energy_j + (eta_c * charge - discharge / eta_d) * dt_s, battery.floor_j, battery.capacity_j)
    return PowerFlows(
        solar_available_w=solar_available_w,
        solar_used_w=solar_used,
        load_w=load_w,
        gpu_w=gpu_w,
        heater_w=heater_w,
        bus_w=bus_w,
        unserved_w=shortfall,
        charge_w=charge,
        discharge_w=discharge,
        pcdu_loss_w=(1.0 - eta_pcdu) * solar_used,
        charge_loss_w=(1.0 - eta_c) * charge,
        discharge_loss_w=discharge * (1.0 / eta_d - 1.0),
        gpu_supply_fraction=gpu_fraction,
    )


def shed_level(policy: PowerPolicy, soc: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Next load-shedding level with hysteresis: worsen at a threshold, recover only past threshold + margin."""
    thresholds = (policy.cap_below_soc, policy.pause_below_soc, policy.safe_below_soc)
    worse = sum((soc < threshold).astype(np.int8) for threshold in thresholds)
    release = sum((soc < threshold + policy.recover_margin_soc).astype(np.int8) for threshold in thresholds)
    return np.maximum(worse, np.minimum(current, release)).astype(np.int8)
