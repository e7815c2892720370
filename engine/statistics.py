"""Run statistics accumulated every step (vectorised), from which reports are built."""

from __future__ import annotations

import numpy as np

from engine.constants import KELVIN

TELEMETRY_AGE_EDGES_S = np.concatenate([[0.0], np.logspace(-1, 7, 801)])
"""Bin edges of the telemetry-age distribution: 0, then 1 % steps from 0.1 s to 10^7 s (115 days)."""


class RunStatistics:
    """Per-satellite running totals and extremes since the start of the run."""

    def __init__(self, satellite_count: int, initial_battery_j: np.ndarray, gpu_present: np.ndarray):
        n = satellite_count
        self.gpu_present = gpu_present
        self.sim_seconds = 0.0
        self.steps = 0
        self.sunlit_s = np.zeros(n)
        self.eclipse_count = np.zeros(n, dtype=np.int64)
        self.min_soc = np.full(n, np.inf)
        self.max_junction_k = np.full(gpu_present.shape, -np.inf)
        self.max_radiator_k = np.full(n, -np.inf)
        self.min_radiator_k = np.full(n, np.inf)
        self.generated_j = np.zeros(n)
        self.consumed_j = np.zeros(n)
        self.losses_j = np.zeros(n)
        self.unserved_j = np.zeros(n)
        self.radiated_j = np.zeros(n)
        self.gpu_seconds_delivered = np.zeros(n)
        self.gpu_seconds_installed = np.zeros(n)
        self.safe_mode_s = np.zeros(n)
        self.throttled_gpu_s = np.zeros(n)
        self.overtemp_shutdowns = np.zeros(n, dtype=np.int64)
        self.initial_battery_j = np.array(initial_battery_j, copy=True)
        # network (time-weighted)
        self.link_up_s = 0.0
        self.link_table_s = 0.0
        self.routed_satellite_s = 0.0
        self.route_latency_s_s = 0.0
        self.satellite_s = 0.0
        self.telemetry_age_s = np.zeros(len(TELEMETRY_AGE_EDGES_S) + 1)
        """Satellite-seconds spent at each telemetry age (bins TELEMETRY_AGE_EDGES_S; the first: age 0)."""

    def observe_state(self, soc: np.ndarray, junction_k: np.ndarray, radiator_k: np.ndarray) -> None:
        """Fold instantaneous values into the extremes (also called once for the initial state).

        Extremes are kept element-wise (per GPU) and reduced only when read: cheaper per step."""
        np.minimum(self.min_soc, soc, out=self.min_soc)
        np.maximum(self.max_junction_k, junction_k, out=self.max_junction_k)
        np.maximum(self.max_radiator_k, radiator_k, out=self.max_radiator_k)
        np.minimum(self.min_radiator_k, radiator_k, out=self.min_radiator_k)

    @property
    def max_gpu_temp_c(self) -> np.ndarray:
        """Hottest junction temperature reached by any real GPU of each satellite (-inf without GPUs)."""
        return max_present(self.max_junction_k, self.gpu_present)

    @property
    def max_radiator_temp_c(self) -> np.ndarray:
        return self.max_radiator_k - KELVIN

    @property
    def min_radiator_temp_c(self) -> np.ndarray:
        return self.min_radiator_k - KELVIN

    def accumulate(
        self,
        dt_s: float,
        sunlit: np.ndarray,
        eclipse_entries: np.ndarray,
        flows,
        radiated_w: np.ndarray,
        gpu_delivered: np.ndarray,
        gpu_installed: np.ndarray,
        safe_mode: np.ndarray,
        throttled_gpus: np.ndarray,
    ) -> None:
        """Add one step of duration dt_s."""
        self.sim_seconds += dt_s
        self.steps += 1
        self.sunlit_s += dt_s * sunlit
        self.eclipse_count += eclipse_entries
        self.generated_j += dt_s * flows.solar_used_w
        self.consumed_j += dt_s * flows.load_w
        self.losses_j += dt_s * flows.losses_w
        self.unserved_j += dt_s * flows.unserved_w
        self.radiated_j += dt_s * radiated_w
        self.gpu_seconds_delivered += dt_s * gpu_delivered
        self.gpu_seconds_installed += dt_s * gpu_installed
        self.safe_mode_s += dt_s * safe_mode
        self.throttled_gpu_s += dt_s * throttled_gpus

    def observe_network(self, dt_s: float, links_up: int, links: int, routes, telemetry_age_s: np.ndarray) -> None:
        """Fold one step of the network in: links carrying traffic, route latency of the satellites that
        have a route, and how old each satellite's telemetry on the ground is."""
        self.link_up_s += dt_s * float(links_up)
        self.link_table_s += dt_s * float(links)
        reachable = routes.reachable
        self.routed_satellite_s += dt_s * float(reachable.sum())
        self.route_latency_s_s += dt_s * float(routes.latency_s[reachable].sum())
        self.satellite_s += dt_s * len(reachable)
        age = np.nan_to_num(np.asarray(telemetry_age_s, dtype=float), posinf=1e12)
        bins = np.searchsorted(TELEMETRY_AGE_EDGES_S, age, side="left")  # 0: age 0; k: (edge k-1, edge k]
        self.telemetry_age_s += dt_s * np.bincount(bins, minlength=len(self.telemetry_age_s))[: len(self.telemetry_age_s)]

    def telemetry_age_quantile_s(self, q: float) -> float | None:
        """Satellite-time quantile of the telemetry age (the upper edge of its bin: within 1 %)."""
        total = self.telemetry_age_s.sum()
        if total <= 0:
            return None
        k = int(np.searchsorted(np.cumsum(self.telemetry_age_s), q * total))
        edges = TELEMETRY_AGE_EDGES_S
        if k == 0:
            return 0.0
        return float(edges[k]) if k < len(edges) else float("inf")


def max_present(values_k: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Hottest real GPU per satellite in °C (-inf for satellites without GPUs)."""
    if values_k.shape[1] == 0:
        return np.full(values_k.shape[0], -np.inf)
    return np.where(present, values_k, -np.inf).max(axis=1) - KELVIN
