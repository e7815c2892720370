"""Frozen, read-only views of the fleet at one instant: what the console and reports render."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only copy."""
    copy = np.array(array, copy=True)
    copy.setflags(write=False)
    return copy


class JobIds(Sequence[str]):
    """A frozen view of the first ``length`` entries of an append-only list of job ids (O(1) to take)."""

    __slots__ = ("_ids", "_length")

    def __init__(self, ids: list[str], length: int):
        self._ids = ids
        self._length = length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._ids[i] for i in range(*index.indices(self._length))]
        if not -self._length <= index < self._length:
            raise IndexError(f"job index {index} out of range ({self._length} jobs)")
        return self._ids[index % self._length]


@dataclass(frozen=True, eq=False)
class FleetSnapshot:
    """The whole fleet at ``time_s``. Arrays are read-only copies indexed like ``satellite_ids``
    (per-GPU arrays are (N, G) with ``gpu_present`` marking real GPUs)."""

    mission_id: str
    time_s: float
    utc: datetime
    step_index: int
    satellite_ids: tuple[str, ...]
    station_ids: tuple[str, ...]
    station_lat_deg: np.ndarray
    station_lon_deg: np.ndarray
    # orbit and sunlight
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray
    illumination: np.ndarray
    sunlit: np.ndarray
    subsolar_lat_deg: float
    subsolar_lon_deg: float
    # power
    solar_available_w: np.ndarray
    """What the array could deliver now (before curtailment when the battery is full)."""
    solar_power_w: np.ndarray
    """What the array delivers to the bus now."""
    load_power_w: np.ndarray
    """Everything the PCDU delivered: bus + GPUs + heaters."""
    bus_power_w: np.ndarray
    gpu_total_power_w: np.ndarray
    heater_power_w: np.ndarray
    battery_net_w: np.ndarray
    battery_soc: np.ndarray
    battery_energy_kwh: np.ndarray
    shed_level: np.ndarray
    heater_on: np.ndarray
    unserved_power_w: np.ndarray
    array_output_fraction: np.ndarray
    """(N,) array output over what a healthy array would give in the same light (held through eclipse)."""
    battery_capacity_kwh: np.ndarray
    """(N,) the battery's usable capacity as its management system estimates it."""
    # thermal
    radiator_temp_c: np.ndarray
    loop_temp_c: np.ndarray
    radiator_flow_fraction: np.ndarray
    """(N,) share of the coolant flowing through the radiator (the bypass valve diverts the rest)."""
    coolant_flow_fraction: np.ndarray
    """(N,) loop flow the pump delivers, of nominal (the flow meter)."""
    array_temp_c: np.ndarray
    gpu_temp_c: np.ndarray
    # GPUs
    gpu_present: np.ndarray
    gpu_powered: np.ndarray
    gpu_power_w: np.ndarray
    gpu_throttled: np.ndarray
    gpu_shutdown: np.ndarray
    gpu_speed: np.ndarray
    gpu_health: np.ndarray
    """(N, G) ``GpuHealthState`` code: 0 OK, 1 DEGRADED, 2 RESETTING, 3 FAILED, 4 OFF (absent slots are OFF)."""
    gpu_ecc_corrected: np.ndarray
    """(N, G) correctable ECC errors so far."""
    gpu_ecc_uncorrected: np.ndarray
    """(N, G) uncorrectable ECC errors so far."""
    gpu_retired_rows: np.ndarray
    """(N, G) HBM rows remapped so far."""
    gpu_job: np.ndarray
    """(N, G) index of the job on each GPU (``job_ids``), -1 if none."""
    gpu_power_cap_w: np.ndarray
    """(N,) operator's per-GPU power cap, W (NaN: none)."""
    drained: np.ndarray
    """(N,) satellites taking no new work (operator drain)."""
    in_maintenance: np.ndarray
    """(N,) bool: in maintenance mode (alarms shelved; a servicer may dock once it is drained)."""
    dose_rad: np.ndarray
    """(N,) total ionising dose so far, rad(Si)."""
    radiation_multiplier: np.ndarray
    """(N,) local single-event rate relative to the orbit average (SAA, poles, solar particle events)."""
    solar_particle_event: bool
    jobs_enabled: bool
    """Whether GPUs are driven by jobs (the mission has jobs or generators) rather than a synthetic load."""
    job_ids: Sequence[str]
    """Job id by job index (the values of ``gpu_job``): every job submitted up to this instant."""
    job_counts: Mapping[str, int]
    """Jobs per state now (PENDING, RUNNING, ...; empty without jobs)."""
    # ground contact
    contact_station: np.ndarray
    """Index into ``station_ids`` of the highest visible station, -1 when none is visible."""
    best_elevation_deg: np.ndarray
    """Elevation above the best-placed station's horizon (negative when below it)."""
    orbit_error: np.ndarray
    alarm_level: np.ndarray
    """Worst telemetry-limit level per satellite now: 0 normal, 1 yellow, 2 red."""
    # network
    link_a: np.ndarray
    """(P,) laser links: satellite index at one end (``link_a`` < ``link_b``)."""
    link_b: np.ndarray
    link_state: np.ndarray
    """(P,) ``engine.isl_links.LinkState`` of each link."""
    link_distance_km: np.ndarray
    link_rate_gbps: np.ndarray
    """(P,) rate each link carries now (0 unless UP or DEGRADED)."""
    isl_up: np.ndarray
    """(N,) laser links carrying traffic at each satellite."""
    ground_link_station: np.ndarray
    """(N,) station index of each satellite's own ground link, -1 for none."""
    station_up: np.ndarray
    """(M,) stations on the air (not in an outage)."""
    route_latency_s: np.ndarray
    """(N,) one-way latency of the route to the ground (inf: no route)."""
    route_hops: np.ndarray
    """(N,) laser hops to the gateway satellite (0: the satellite has its own ground link; -1: no route)."""
    route_next_hop: np.ndarray
    route_station: np.ndarray
    """(N,) station at the end of the route, -1 for none."""
    telemetry_age_s: np.ndarray
    """(N,) how old the newest telemetry that reached the ground is (0 while a route exists)."""
    ideal_telemetry: bool
    commands_pending: np.ndarray
    """(N,) on-board commands queued for each satellite until it has a route to the ground."""
    """The mission shows every satellite's telemetry as current (``[network] telemetry = "ideal"``)."""

    @property
    def satellite_count(self) -> int:
        return len(self.satellite_ids)

    def index_of(self, satellite_id: str) -> int:
        """Row of a satellite; raises KeyError for unknown ids."""
        try:
            return self.satellite_ids.index(satellite_id)
        except ValueError:
            raise KeyError(satellite_id) from None
