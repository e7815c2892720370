"""What the ground has received: each satellite's telemetry as of the last moment it had a route.

Mission control only knows what the network delivers. A satellite without a route keeps the values it
last sent (held when its route ended), and its ``telemetry_age_s`` grows. The ground view of a snapshot
replaces those fields of the stale satellites with their held values.

What is telemetry: quantities measured on board (power, battery, temperatures, the bypass valve, GPU
states and counters, dose, the on-board alarm level). Not telemetry: where the satellite is (orbit
determination works from the ground), what the ground itself decided (job placement, drains, power
caps, link commands) and the network's own state.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["TELEMETRY_FIELDS", "TelemetryDownlink"]

TELEMETRY_FIELDS = (
    "solar_available_w", "solar_power_w", "load_power_w", "bus_power_w", "gpu_total_power_w", "heater_power_w",
    "battery_net_w", "battery_soc", "battery_energy_kwh", "shed_level", "heater_on", "unserved_power_w",
    "array_output_fraction", "battery_capacity_kwh",
    "radiator_temp_c", "loop_temp_c", "radiator_flow_fraction", "coolant_flow_fraction", "array_temp_c",
    "gpu_temp_c", "gpu_powered", "gpu_power_w", "gpu_throttled", "gpu_shutdown", "gpu_speed", "gpu_health",
    "gpu_ecc_corrected", "gpu_ecc_uncorrected", "gpu_retired_rows", "dose_rad", "radiation_multiplier",
    "alarm_level",
)
"""Snapshot fields measured on board (per satellite, leading axis N)."""


MUTATED_IN_PLACE = frozenset({"gpu_health", "gpu_ecc_corrected", "gpu_ecc_uncorrected", "gpu_retired_rows"})
"""Fields whose engine arrays are updated in place (copied each step); every other field is a new array
each step, so keeping last step's reference costs nothing."""


class TelemetryDownlink:
    """Held copies of every telemetry field, as of each satellite's last route to the ground.

    Only satellites that lose their route need held values (the others show their current telemetry), so
    each step keeps last step's telemetry and copies the rows of the satellites whose route just ended."""

    def __init__(self, initial: Mapping[str, np.ndarray]):
        missing = [name for name in TELEMETRY_FIELDS if name not in initial]
        if missing:
            raise ValueError(f"telemetry fields missing: {', '.join(missing)}")
        self.held = {name: np.array(initial[name], copy=True) for name in TELEMETRY_FIELDS}
        self._previous = self._keep(initial)
        count = len(self.held[TELEMETRY_FIELDS[0]])
        self._reachable = np.ones(count, dtype=bool)
        """Who had a route at the previous step (everyone is heard at the epoch)."""

    @staticmethod
    def _keep(current: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {name: (np.array(current[name], copy=True) if name in MUTATED_IN_PLACE else current[name]) for name in TELEMETRY_FIELDS}

    def receive(self, reachable: np.ndarray, current: Mapping[str, np.ndarray]) -> None:
        """The satellites in `reachable` (N,) bool have sent their telemetry `current` now; those that had a
        route at the previous step and have none now keep that step's values."""
        reachable = np.asarray(reachable, dtype=bool)
        lost = self._reachable & ~reachable
        if lost.any():
            rows = np.flatnonzero(lost)
            for name, held in self.held.items():
                held[rows] = self._previous[name][rows]
        self._previous = self._keep(current)
        self._reachable = reachable.copy()

    def view(self, current: Mapping[str, np.ndarray], stale: np.ndarray) -> dict[str, np.ndarray]:
        """Every telemetry field as the ground sees it: held values for the `stale` satellites."""
        stale = np.asarray(stale, dtype=bool)
        if not stale.any():
            return {name: current[name] for name in TELEMETRY_FIELDS}
        out = {}
        for name, held in self.held.items():
            mask = stale.reshape(stale.shape + (1,) * (held.ndim - 1))
            out[name] = np.where(mask, held, current[name])
        return out
