"""Pydantic models of a mission file: what may be written, with units in the key names.

Every model forbids unknown keys, so a typo such as ``altitude = 550`` is an error that names the file,
the line and the key rather than a silently ignored setting. The models describe the file; the resolved,
ready-to-simulate form is :class:`engine.mission.spec.MissionSpec`.
"""

from __future__ import annotations

import re
from enum import Enum
from dataclasses import fields as dataclass_fields
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
    field_validator,
    model_validator,
)

from engine.durations import parse_duration
from engine.fault_catalogue import FaultKind, Part
from engine.events import EventKind
from engine.faults import FaultRequest
from engine.gpu_health import GpuHealthParams, RadiationParams
from engine.mission.sweep_model import Sweep

Duration = Annotated[float, BeforeValidator(parse_duration)]
"""Seconds, written in the file as ``90s``, ``15m``, ``6h``, ``2d`` or ``01:30:00``."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Celsius = Annotated[float, Field(ge=-150.0, le=200.0)]

_IDENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_LTAN = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MissionSection(_Strict):
    """``[mission]``: identity, clock and seed."""

    id: str
    title: str
    kind: Literal["sandbox", "demo", "training"] = "sandbox"
    epoch: datetime
    duration: Duration = Field(description="how long a headless run lasts")
    step: Duration = Field(description="simulated seconds per engine step")
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    briefing: str = ""
    hide_faults: bool = False
    """Training: injected faults are kept from the operator (events and alarms show only their symptoms)
    until the debrief reveals them."""
    allowed_commands: Optional[list[str]] = None
    """Training: the only operator commands the trainee may send (names of
    ``engine.timeline_actions.OPERATOR_COMMANDS``); others are refused with the reason. None: all of them.
    The mission's own timeline and autopilot are not limited."""

    @field_validator("allowed_commands")
    @classmethod
    def _known_commands(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value is None:
            return value
        from engine.timeline_actions import OPERATOR_COMMANDS

        unknown = [name for name in value if name not in OPERATOR_COMMANDS]
        if unknown:
            raise ValueError(f"unknown command {unknown[0]!r} (commands: {', '.join(OPERATOR_COMMANDS)})")
        return value

    @field_validator("id")
    @classmethod
    def _id_is_readable(cls, value: str) -> str:
        if not _IDENT.match(value):
            raise ValueError("must start with a letter or digit and use only letters, digits, '-', '_' and '.'")
        return value

    @field_validator("epoch")
    @classmethod
    def _epoch_is_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone; write UTC as e.g. 2026-03-21T00:00:00Z")
        return value.astimezone(timezone.utc)

    @field_validator("duration")
    @classmethod
    def _duration_positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be longer than zero")
        return value

    @field_validator("step")
    @classmethod
    def _step_in_range(cls, value: float) -> float:
        if not 0.1 <= value <= 600.0:
            raise ValueError("must be between 0.1s and 10m")
        return value


class Hardware(_Strict):
    """``[hardware]``: one satellite's equipment. Every key has a documented default."""

    # GPUs
    gpus: Annotated[int, Field(ge=0, le=64)] = 8
    gpu_tdp_w: Annotated[float, Field(gt=0, le=5000)] = 700.0
    gpu_idle_w: Annotated[float, Field(ge=0, le=1000)] = 80.0
    gpu_heat_capacity_j_per_k: Annotated[float, Field(gt=0)] = 800.0
    gpu_to_loop_conductance_w_per_k: Annotated[float, Field(gt=0)] = 30.0
    gpu_throttle_c: Celsius = 85.0
    gpu_shutdown_c: Celsius = 95.0
    gpu_restart_margin_k: Annotated[float, Field(gt=0, le=50)] = 10.0
    gpu_throttle_slope_per_k: Annotated[float, Field(gt=0, le=1)] = 0.05
    gpu_min_power_fraction: Annotated[float, Field(gt=0, le=1)] = 0.3
    gpu_throughput_exponent: Annotated[float, Field(gt=0, le=2)] = 0.7
    # Solar array
    solar_array_m2: Annotated[float, Field(ge=0, le=10000)] = 60.0
    solar_cell_efficiency: Annotated[float, Field(gt=0, le=0.5)] = 0.30
    solar_packing_factor: Annotated[float, Field(gt=0, le=1)] = 0.90
    solar_temp_coefficient_per_k: Annotated[float, Field(ge=-0.02, le=0)] = -0.003
    solar_degradation_per_year: Annotated[float, Field(ge=0, lt=1)] = 0.005
    solar_array_age_years: Annotated[float, Field(ge=0, le=50)] = 0.0
    solar_array_sun_cosine: Fraction = 1.0
    """Cosine of the Sun's incidence on the array: 1 for a Sun-tracking array, lower for pointing losses."""
    solar_array_absorptance: Fraction = 0.92
    solar_array_emissivity: Annotated[float, Field(gt=0, le=1)] = 0.85
    solar_array_heat_capacity_j_per_k_m2: Annotated[float, Field(gt=0)] = 2000.0
    # Battery and power conditioning
    battery_kwh: Annotated[float, Field(gt=0, le=10000)] = 40.0
    battery_max_dod: Annotated[float, Field(gt=0, le=1)] = 0.8
    battery_initial_soc: Fraction = 0.9
    battery_charge_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.95
    battery_discharge_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.95
    battery_charge_rate_c: Annotated[float, Field(gt=0, le=10)] = 0.5
    pcdu_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.95
    bus_power_w: Annotated[float, Field(ge=0, le=100000)] = 1500.0
    heater_power_w: Annotated[float, Field(ge=0, le=100000)] = 800.0
    heater_on_c: Celsius = 0.0
    heater_off_c: Celsius = 5.0
    # Radiator and coolant loop
    radiator_m2: Annotated[float, Field(gt=0, le=10000)] = 12.0
    radiator_emissivity: Annotated[float, Field(gt=0, le=1)] = 0.90
    radiator_absorptance: Fraction = 0.09
    radiator_sun_cosine: Fraction = 0.0
    radiator_heat_capacity_j_per_k_m2: Annotated[float, Field(gt=0)] = 2700.0
    loop_heat_capacity_j_per_k: Annotated[float, Field(gt=0)] = 150000.0
    loop_to_radiator_conductance_w_per_k: Annotated[float, Field(gt=0)] = 2000.0
    """Loop-to-radiator conductance with all the coolant flowing through the radiator."""
    loop_setpoint_c: Celsius = 10.0
    """The radiator bypass valve diverts coolant around the radiator to hold the loop here when the GPUs
    make too little heat for the radiator (an idle or lightly loaded satellite), as pumped-fluid loops do."""
    radiator_bypass_min_fraction: Annotated[float, Field(gt=0, le=1)] = 0.01
    """Least share of the flow the valve keeps sending through the radiator; 1 means no bypass valve."""
    initial_temp_c: Optional[Celsius] = None
    """Start every thermal node at this temperature; unset: start at thermal equilibrium."""

    @model_validator(mode="after")
    def _consistent(self) -> "Hardware":
        if self.gpu_idle_w > self.gpu_tdp_w:
            raise ValueError("gpu_idle_w must not exceed gpu_tdp_w")
        if self.gpu_shutdown_c <= self.gpu_throttle_c:
            raise ValueError("gpu_shutdown_c must be above gpu_throttle_c")
        if self.heater_off_c <= self.heater_on_c:
            raise ValueError("heater_off_c must be above heater_on_c")
        if self.loop_setpoint_c < self.heater_off_c:
            raise ValueError("loop_setpoint_c must not be below heater_off_c (the heaters would fight the bypass valve)")
        return self


def _optional_copy(model: type[BaseModel], name: str) -> type[BaseModel]:
    """A model with the same keys and constraints as `model`, every key optional (for overrides)."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        inner = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        fields[field_name] = (Optional[inner], None)
    return create_model(name, __config__=ConfigDict(extra="forbid", frozen=True), **fields)


HardwareOverride = _optional_copy(Hardware, "HardwareOverride")
"""``[shell.hardware]`` / ``[satellite.hardware]``: any subset of ``[hardware]`` keys."""


class Shell(_Strict):
    """``[[shell]]``: a Walker-delta shell (``inclination_deg``) or a sun-synchronous one (``ltan``)."""

    name: str
    altitude_km: Annotated[float, Field(gt=160, le=5000)]
    inclination_deg: Optional[Annotated[float, Field(ge=0, le=180)]] = None
    sun_synchronous: bool = False
    ltan: Optional[str] = None
    planes: Annotated[int, Field(ge=1, le=1000)] = 1
    sats_per_plane: Annotated[int, Field(ge=1, le=1000)] = 1
    phasing: Annotated[int, Field(ge=0)] = 0
    raan_offset_deg: Annotated[float, Field(ge=-360, le=360)] = 0.0
    raan_spread_deg: Annotated[float, Field(gt=0, le=360)] = 360.0
    eccentricity: Annotated[float, Field(ge=0, lt=0.1)] = 0.0
    argument_of_perigee_deg: Annotated[float, Field(ge=0, lt=360)] = 0.0
    bstar: Annotated[float, Field(ge=0, le=0.01)] = 0.0
    hardware: Optional[HardwareOverride] = None  # type: ignore[valid-type]

    @field_validator("name")
    @classmethod
    def _name_is_short(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z][A-Za-z0-9]{0,7}$", value):
            raise ValueError("must be 1-8 letters or digits, starting with a letter (it prefixes ids like A-03-07)")
        return value

    @field_validator("ltan")
    @classmethod
    def _ltan_is_clock(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not _LTAN.match(value):
            raise ValueError("must be a local time such as '18:00' or '06:30'")
        return value

    @model_validator(mode="after")
    def _orbit_kind(self) -> "Shell":
        if self.sun_synchronous:
            if self.inclination_deg is not None:
                raise ValueError("a sun-synchronous shell takes its inclination from the J2 condition; remove inclination_deg")
            if self.ltan is None:
                raise ValueError("a sun-synchronous shell needs ltan, e.g. ltan = \"18:00\"")
        else:
            if self.inclination_deg is None:
                raise ValueError("needs inclination_deg, or sun_synchronous = true with an ltan")
            if self.ltan is not None:
                raise ValueError("ltan only applies with sun_synchronous = true")
        if self.phasing >= max(self.planes, 1) and self.planes > 1:
            raise ValueError(f"phasing must be between 0 and planes - 1 ({self.planes - 1})")
        return self

    @property
    def ltan_hours(self) -> float:
        """LTAN as decimal hours (only for sun-synchronous shells)."""
        hours, minutes = (self.ltan or "0:00").split(":")
        return int(hours) + int(minutes) / 60.0


class ExplicitSatellite(_Strict):
    """``[[satellite]]``: satellites from two-line elements inline or from a 3-line TLE file."""

    name: Optional[str] = None
    tle: Optional[Annotated[list[str], Field(min_length=2, max_length=2)]] = None
    tle_file: Optional[str] = None
    hardware: Optional[HardwareOverride] = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _one_source(self) -> "ExplicitSatellite":
        if (self.tle is None) == (self.tle_file is None):
            raise ValueError("give exactly one of tle = [line1, line2] or tle_file = \"file.tle\"")
        if self.tle is not None and not self.name:
            raise ValueError("a satellite given by tle needs a name")
        return self


class GroundStation(_Strict):
    """``[[ground_station]]``: a ground station and its elevation mask."""

    id: str
    name: Optional[str] = None
    lat_deg: Annotated[float, Field(ge=-90, le=90)]
    lon_deg: Annotated[float, Field(ge=-180, le=360)]
    alt_m: Annotated[float, Field(ge=-500, le=9000)] = 0.0
    min_elevation_deg: Annotated[float, Field(ge=0, lt=90)] = 10.0
    antennas: Annotated[int, Field(ge=1, le=64)] = 1
    """Satellites the station can talk to at once (one antenna each)."""
    downlink_gbps: Annotated[float, Field(gt=0, le=10000)] = 10.0
    """Data rate of one antenna's link."""

    @field_validator("id")
    @classmethod
    def _id_is_readable(cls, value: str) -> str:
        if not _IDENT.match(value):
            raise ValueError("must start with a letter or digit and use only letters, digits, '-', '_' and '.'")
        return value


CheckpointInterval = Annotated[
    Optional[float | Literal["auto", "young", "none"]],
    BeforeValidator(lambda value: value if value in ("auto", "young", "none", None) else parse_duration(value)),
]
"""``"auto"`` (Daly's optimum from the job's MTBF), ``"young"`` (Young's), ``"none"`` or a duration."""


class JobGenerator(_Strict):
    """``[[workload.generator]]``: jobs arriving as a Poisson process (seeded from the run seed)."""

    name: str
    kind: Literal["training", "inference"] = "inference"
    partition: str = "default"
    rate_per_hour: Annotated[float, Field(gt=0, le=1e6)]
    duration: Duration = Field(description="mean run time of one job")
    duration_dist: Literal["exponential", "fixed", "lognormal"] = "exponential"
    duration_sigma: Annotated[float, Field(gt=0, le=5)] = 0.5
    gpus: Annotated[int, Field(ge=1, le=4096)] | list[Annotated[int, Field(ge=1, le=4096)]] = 1
    start: Duration = 0.0
    stop: Optional[Duration] = None
    max_jobs: Optional[Annotated[int, Field(ge=1)]] = None
    priority: int = 0
    walltime: Optional[Duration] = None
    latency_target_ms: Optional[Annotated[float, Field(gt=0)]] = None
    checkpoint_interval: CheckpointInterval = "auto"
    checkpoint_size_gb: Annotated[float, Field(ge=0)] = 0.0
    checkpoint_bandwidth_gbps: Annotated[float, Field(gt=0)] = 100.0
    checkpoint_target: Literal["local", "peer", "ground"] = "local"
    """local: the satellite's own storage at checkpoint_bandwidth_gbps; peer: a neighbour over a laser
    link, at the link's rate; ground: down the route to a station, at its downlink rate."""
    startup: Duration = 0.0
    max_retries: Annotated[int, Field(ge=0)] = 3
    app_failure_rate_per_h: Annotated[float, Field(ge=0)] = 0.0


class Workload(_Strict):
    """``[workload]``: the fleet-wide synthetic GPU load (used while the mission defines no jobs and no
    generators) and the job generators."""

    utilization: Fraction = 0.8
    job_utilization: Annotated[float, Field(gt=0, le=1)] = 1.0
    """Utilisation of a GPU while it runs a job (idle GPUs draw idle power)."""
    generator: list[JobGenerator] = []


class Job(_Strict):
    """``[[job]]``: one job submitted at a mission time. Give its size as ``gpu_hours`` of work or as a
    ``duration`` on its GPUs."""

    id: str
    name: str = ""
    kind: Literal["training", "inference"] = "training"
    partition: str = "default"
    gpus: Annotated[int, Field(ge=1, le=4096)] = 1
    gpu_hours: Optional[Annotated[float, Field(gt=0)]] = None
    duration: Optional[Duration] = None
    submit: Duration = 0.0
    priority: int = 0
    walltime: Optional[Duration] = None
    checkpoint_interval: CheckpointInterval = "auto"
    checkpoint_size_gb: Annotated[float, Field(ge=0)] = 0.0
    checkpoint_bandwidth_gbps: Annotated[float, Field(gt=0)] = 100.0
    checkpoint_target: Literal["local", "peer", "ground"] = "local"
    """local: the satellite's own storage at checkpoint_bandwidth_gbps; peer: a neighbour over a laser
    link, at the link's rate; ground: down the route to a station, at its downlink rate."""
    startup: Duration = 0.0
    latency_target_ms: Optional[Annotated[float, Field(gt=0)]] = None
    max_retries: Annotated[int, Field(ge=0)] = 3
    max_restarts: Optional[Annotated[int, Field(ge=0)]] = None
    hold: bool = False

    @model_validator(mode="after")
    def _one_size(self) -> "Job":
        if (self.gpu_hours is None) == (self.duration is None):
            raise ValueError("give exactly one of gpu_hours and duration")
        return self


class Partition(_Strict):
    """``[[scheduler.partition]]``: a queue with a preemption tier (higher preempts lower)."""

    name: str
    tier: Annotated[int, Field(ge=0, le=1000)] = 1
    preempt_mode: Literal["off", "requeue", "suspend", "cancel"] = "off"
    grace: Duration = 60.0
    max_wall: Optional[Duration] = None


class Scheduler(_Strict):
    """``[scheduler]``: multifactor priority weights, backfill, preemption and the partitions."""

    weight_age: Annotated[float, Field(ge=0)] = 1000.0
    weight_partition: Annotated[float, Field(ge=0)] = 10000.0
    weight_size: Annotated[float, Field(ge=0)] = 100.0
    backfill: bool = True
    preemption: bool = True
    gpu_mtbf_h: Optional[Annotated[float, Field(gt=0)]] = None
    """Per-GPU mean time between job-killing faults for 'auto'/'young' checkpoint intervals; default: from the
    ``[gpu_health]`` rates (hangs, uncorrectable errors, detected corruption, latch-ups, failures)."""
    partition: list[Partition] = []


def _params_model(params_class: type, name: str, doc: str, extra: dict[str, Any]) -> type[BaseModel]:
    """A strict pydantic model with one optional key per field of the frozen dataclass ``params_class``
    (numbers must be finite and not negative; the dataclass checks the rest when it is built)."""
    fields: dict[str, Any] = {}
    for f in dataclass_fields(params_class):
        if isinstance(f.default, bool):
            fields[f.name] = (Optional[bool], None)
        elif isinstance(f.default, int):
            fields[f.name] = (Optional[Annotated[int, Field(ge=0)]], None)
        else:
            fields[f.name] = (Optional[Annotated[float, Field(ge=0, allow_inf_nan=False)]], None)
    fields.update(extra)
    model = create_model(name, __config__=ConfigDict(extra="forbid", frozen=True), __doc__=doc, **fields)
    return model


class SolarParticleEvent(_Strict):
    """``[[radiation.solar_particle_event]]``: a scheduled solar particle event (radiation storm)."""

    start: Duration
    duration: Optional[Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]] = None
    """Default: ``[radiation] spe_duration_s``."""


RadiationModel = _params_model(
    RadiationParams,
    "RadiationModel",
    "``[radiation]``: the radiation environment (physics.md §3.8); any subset of the keys overrides the default.",
    {"solar_particle_event": (list[SolarParticleEvent], [])},
)

GpuHealthModel = _params_model(
    GpuHealthParams,
    "GpuHealthModel",
    "``[gpu_health]``: per-GPU fault rates and recovery times (physics.md §3.9); any subset overrides the default.",
    {
        "random_faults": (bool, True),
        "initial_dose_rad": (Annotated[float, Field(ge=0, allow_inf_nan=False)], 0.0),
        "initial_age_days": (Annotated[float, Field(ge=0, allow_inf_nan=False)], 0.0),
    },
)


def radiation_params(model: BaseModel) -> RadiationParams:
    """The engine's RadiationParams from a ``[radiation]`` section (unset keys keep their defaults)."""
    given = {k: v for k, v in model.model_dump(exclude={"solar_particle_event"}).items() if v is not None}
    return RadiationParams(**given)


def gpu_health_params(model: BaseModel) -> GpuHealthParams:
    """The engine's GpuHealthParams from a ``[gpu_health]`` section (unset keys keep their defaults)."""
    extra = {"random_faults", "initial_dose_rad", "initial_age_days"}
    given = {k: v for k, v in model.model_dump(exclude=extra).items() if v is not None}
    return GpuHealthParams(**given)


class PowerPolicy(_Strict):
    """``[power_policy]``: autonomous load shedding by battery state of charge, with hysteresis."""

    cap_below_soc: Fraction = 0.5
    pause_below_soc: Fraction = 0.35
    safe_below_soc: Fraction = 0.25
    recover_margin_soc: Annotated[float, Field(gt=0, le=0.5)] = 0.1
    capped_power_fraction: Annotated[float, Field(gt=0, le=1)] = 0.6
    paused_utilization: Fraction = 0.1
    battery_low_soc: Fraction = 0.3

    @model_validator(mode="after")
    def _ordered(self) -> "PowerPolicy":
        if not self.safe_below_soc <= self.pause_below_soc <= self.cap_below_soc:
            raise ValueError("thresholds must satisfy safe_below_soc <= pause_below_soc <= cap_below_soc")
        return self


class Limit(_Strict):
    """Yellow and red limits of one telemetry quantity (in its unit), and the deadband to clear."""

    yellow_low: Optional[float] = None
    red_low: Optional[float] = None
    yellow_high: Optional[float] = None
    red_high: Optional[float] = None
    deadband: Annotated[float, Field(ge=0)] = 0.0
    enabled: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> "Limit":
        ordered = [v for v in (self.red_low, self.yellow_low, self.yellow_high, self.red_high) if v is not None]
        if self.enabled and not ordered:
            raise ValueError("an enabled limit needs at least one of yellow_low, red_low, yellow_high, red_high")
        if any(b <= a for a, b in zip(ordered, ordered[1:])):
            raise ValueError("limits must satisfy red_low < yellow_low < yellow_high < red_high")
        return self


DEFAULT_LIMITS: dict[str, dict[str, float]] = {
    # The radiator runs very cold while the bypass valve holds the loop warm (an idle satellite in eclipse);
    # its low limits guard the coolant in the panel (ammonia freezes at -77.7 °C).
    "battery_soc": {"yellow_low": 0.35, "red_low": 0.25, "deadband": 0.05},
    "gpu_temp_c": {"yellow_high": 85.0, "red_high": 92.0, "deadband": 3.0},
    "radiator_temp_c": {"red_low": -75.0, "yellow_low": -65.0, "yellow_high": 60.0, "red_high": 80.0, "deadband": 3.0},
    "loop_temp_c": {"red_low": -5.0, "yellow_low": 2.0, "yellow_high": 50.0, "red_high": 60.0, "deadband": 2.0},
    "unserved_power_w": {"red_high": 0.5, "deadband": 0.0},
    # Symptoms of hardware faults: the array giving less than a healthy one in the same light, the battery
    # management system's capacity estimate, the loop's flow meter.
    "array_output_fraction": {"red_low": 0.6, "yellow_low": 0.9, "deadband": 0.02},
    "battery_capacity_fraction": {"red_low": 0.7, "yellow_low": 0.9, "deadband": 0.0},
    "coolant_flow_fraction": {"red_low": 0.3, "yellow_low": 0.8, "deadband": 0.0},
}


class Limits(_Strict):
    """``[limits.<quantity>]``: telemetry limits; a table given in the file overrides only the keys it sets.

    Quantities: battery_soc (fraction), gpu_temp_c (hottest GPU junction), radiator_temp_c, loop_temp_c,
    unserved_power_w (load the PCDU could not serve), array_output_fraction (array output over a healthy
    array's in the same light), battery_capacity_fraction (estimated capacity over nominal),
    coolant_flow_fraction (the loop's flow meter)."""

    battery_soc: Limit = Limit(**DEFAULT_LIMITS["battery_soc"])
    gpu_temp_c: Limit = Limit(**DEFAULT_LIMITS["gpu_temp_c"])
    radiator_temp_c: Limit = Limit(**DEFAULT_LIMITS["radiator_temp_c"])
    loop_temp_c: Limit = Limit(**DEFAULT_LIMITS["loop_temp_c"])
    unserved_power_w: Limit = Limit(**DEFAULT_LIMITS["unserved_power_w"])
    array_output_fraction: Limit = Limit(**DEFAULT_LIMITS["array_output_fraction"])
    battery_capacity_fraction: Limit = Limit(**DEFAULT_LIMITS["battery_capacity_fraction"])
    coolant_flow_fraction: Limit = Limit(**DEFAULT_LIMITS["coolant_flow_fraction"])

    @model_validator(mode="before")
    @classmethod
    def _merge_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, defaults in DEFAULT_LIMITS.items():
            given = data.get(name)
            if isinstance(given, dict):
                merged[name] = {**defaults, **given}
        return merged


class IslTopology(str, Enum):
    """Which laser links a satellite may have (network-and-jobs.md §3.1)."""

    PLUS_GRID = "plus_grid"
    """Two in-plane neighbours (fore, aft) and two in the adjacent planes (the default)."""
    N_NEAREST = "n_nearest"
    """Each satellite's nearest neighbours within range, chosen again every step."""
    FORMATION_MESH = "formation_mesh"
    """Every neighbour within ``formation_radius_km`` (tight compute formations), up to the terminals."""
    EXPLICIT = "explicit"
    """Only the pairs listed in ``[[network.link]]``."""
    NONE = "none"
    """No laser links: every satellite talks to the ground only in its own passes."""


class HandoverPolicy(str, Enum):
    """How a station picks the satellite an antenna tracks (network-and-jobs.md §3.3)."""

    MAX_ELEVATION = "max_elevation"
    LONGEST_VISIBILITY = "longest_visibility"


class TelemetryMode(str, Enum):
    NETWORK = "network"
    """The console shows what reached the ground, with its age; commands wait for a path."""
    IDEAL = "ideal"
    """Every satellite's telemetry is current and commands arrive at once (demos)."""


class ExplicitLink(_Strict):
    """``[[network.link]]``: one laser link between two satellites, by id."""

    a: str
    b: str


class StationOutage(_Strict):
    """``[[network.station_outage]]``: a ground station off the air for a while."""

    station: str
    start: Duration
    duration: Duration = Field(gt=0)


class Network(_Strict):
    """``[network]``: laser inter-satellite links, ground links and routing (physics.md §2.5, §3.10)."""

    topology: IslTopology = IslTopology.PLUS_GRID
    terminals: Annotated[int, Field(ge=0, le=16)] = 4
    """Laser terminals per satellite (a link uses one at each end)."""
    isl_max_range_km: Optional[Annotated[float, Field(gt=0, le=100000)]] = None
    """A range limit of the terminals; line of sight (80 km above the surface) always applies."""
    cross_plane_max_latitude_deg: Optional[Annotated[float, Field(gt=0, le=90)]] = 66.5
    """Cross-plane links switch off above this latitude (planes cross there); unset: never."""
    formation_radius_km: Annotated[float, Field(gt=0, le=1000)] = 5.0
    """Range of a ``formation_mesh`` link."""
    isl_rate_gbps: Annotated[float, Field(gt=0, le=100000)] = 100.0
    """Rate of an UP laser link up to ``isl_reference_range_km``; beyond it the received power, and so the
    rate, falls with the square of the range."""
    isl_reference_range_km: Annotated[float, Field(gt=0)] = 5000.0
    """Starlink's lasers carry 100 Gbps beyond 5,400 km (physics.md §2.5)."""
    degraded_below_fraction: Annotated[float, Field(gt=0, lt=1)] = 0.5
    """A link whose rate is below this share of ``isl_rate_gbps`` is DEGRADED."""
    acquisition_median_s: Annotated[float, Field(gt=0, le=3600)] = 20.0
    """Pointing, acquisition and tracking time of a new link: lognormal with this median ..."""
    acquisition_p95_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    """... and this 95th percentile."""
    drop_rate_per_day: Annotated[float, Field(ge=0, le=10000)] = 1.0
    """Random loss of lock of an UP link (it re-acquires)."""
    isl_power_w: Annotated[float, Field(ge=0, le=10000)] = 40.0
    """Power one active laser terminal draws."""
    per_hop_latency_ms: Annotated[float, Field(ge=0, le=1000)] = 0.1
    """Switching time added at every hop."""
    ground_latency_ms: Annotated[float, Field(ge=0, le=10000)] = 5.0
    """Gateway and backhaul time added to the slant-range light time of a ground link."""
    route_refresh: Duration = Field(default=30.0, gt=0)
    """Routes are recomputed when a link changes state, and at least this often."""
    handover: HandoverPolicy = HandoverPolicy.MAX_ELEVATION
    handover_hysteresis_deg: Annotated[float, Field(ge=0, le=90)] = 5.0
    """max_elevation: an antenna switches only to a satellite this much higher than its current one."""
    handover_hysteresis_s: Annotated[float, Field(ge=0, le=3600)] = 60.0
    """longest_visibility: ... only to one that stays in view this much longer."""
    telemetry: TelemetryMode = TelemetryMode.NETWORK
    gang_interconnect: Literal["laser", "ideal"] = "laser"
    """laser: a job's GPUs on several satellites talk over laser links, so gangs go only on satellites of a
    plane joined by links carrying traffic, stall while those links are down and slow with their rate;
    ideal: any satellites of a plane can host one gang (no network effect on jobs)."""
    training_comm_fraction: Annotated[float, Field(ge=0, le=10)] = 0.1
    """Share of a multi-satellite training step spent exchanging gradients at the full laser rate; a
    slower link at the gang's satellites stretches it in proportion."""
    link: list[ExplicitLink] = []
    station_outage: list[StationOutage] = []

    @model_validator(mode="after")
    def _consistent(self) -> "Network":
        if self.acquisition_p95_s < self.acquisition_median_s:
            raise ValueError("acquisition_p95_s must not be below acquisition_median_s")
        if self.link and self.topology != IslTopology.EXPLICIT:
            raise ValueError("[[network.link]] pairs need topology = \"explicit\"")
        return self


class FaultAction(_Strict):
    """A fault to inject (``[[event]] fault = {...}``): its kind (see ``engine.fault_catalogue``), target,
    parameters, and ``duration`` (default: the kind's) or ``permanent``."""

    kind: FaultKind
    satellite: Optional[str] = None
    gpu: Optional[Annotated[int, Field(ge=0)]] = None
    peer: Optional[str] = None
    station: Optional[str] = None
    params: dict[str, Union[float, str]] = {}
    duration: Optional[Duration] = None
    permanent: bool = False

    def request(self) -> FaultRequest:
        return FaultRequest(self.kind, self.satellite, self.gpu, self.peer, self.station, dict(self.params),
                            self.duration, self.permanent)


class NotifyAction(_Strict):
    """``notify = { text = "...", level = "info" }``: a caption for the console and a line in the log."""

    text: Annotated[str, Field(min_length=1)]
    level: Literal["info", "warning", "critical"] = "info"


class FocusAction(_Strict):
    """``focus = { pane = "detail", satellite = "A-01-01" }``: where the console's view goes."""

    pane: Literal["fleet", "detail", "map", "alarms", "events", "jobs", "servicing"]
    satellite: Optional[str] = None


class PressAction(_Strict):
    """``press = { action = "view:map" }``: the autopilot does what an operator does at the console (an
    ``engine.walkthrough.CONSOLE_ACTIONS`` action, optionally on a satellite), so it can play a guided
    walkthrough; the console carries out the ones that change the view."""

    action: str
    satellite: Optional[str] = None

    @field_validator("action")
    @classmethod
    def _a_console_action(cls, value: str) -> str:
        from engine.walkthrough import CONSOLE_ACTIONS

        if value not in CONSOLE_ACTIONS:
            raise ValueError(f"unknown console action {value!r} ({', '.join(CONSOLE_ACTIONS)}); "
                             "send operator commands with command = {...}")
        return value


class TimelineEvent(_Strict):
    """``[[event]]``: an action on the mission timeline.

    Triggers (exactly one kind): ``at`` a mission time and/or ``every`` period (from ``at``, or from one
    period in); ``after`` another event, ``delay`` later; ``on`` an engine event kind (optionally only
    from satellite ``on_satellite``); ``when`` a condition holds (``engine.conditions``; fires once, or
    on every new start with ``repeat``). ``count`` and ``until`` limit repeated events.

    Actions (exactly one): ``fault`` (inject), ``clear`` (end the active faults an event injected),
    ``command`` (any operator command by name, ``engine.timeline_actions``), ``notify``, ``focus``,
    ``pause``, ``set_speed`` (× real time), ``end`` (the mission ends, with this reason), ``press`` (a
    console action, for an autopilot playing a walkthrough)."""

    id: str
    at: Optional[Duration] = None
    every: Optional[Annotated[float, BeforeValidator(parse_duration), Field(gt=0)]] = None
    count: Optional[Annotated[int, Field(ge=1)]] = None
    until: Optional[Duration] = None
    after: Optional[str] = None
    delay: Duration = 0.0
    on: Optional[EventKind] = None
    on_satellite: Optional[str] = None
    when: Optional[Annotated[str, Field(min_length=1)]] = None
    repeat: bool = False
    fault: Optional[FaultAction] = None
    clear: Optional[str] = None
    command: Optional[dict[str, Any]] = None
    notify: Optional[NotifyAction] = None
    focus: Optional[FocusAction] = None
    pause: Optional[Literal[True]] = None
    set_speed: Optional[Annotated[float, Field(gt=0, le=1e5)]] = None
    end: Optional[Annotated[str, Field(min_length=1)]] = None
    press: Optional[PressAction] = None

    @field_validator("command")
    @classmethod
    def _a_known_command(cls, value: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
        if value is not None:
            from engine.timeline_actions import build_command

            build_command(value)
        return value

    @model_validator(mode="after")
    def _one_trigger_and_an_action(self) -> "TimelineEvent":
        timed = self.at is not None or self.every is not None
        triggers = [name for name, given in (("at/every", timed), ("after", self.after is not None),
                                             ("on", self.on is not None), ("when", self.when is not None)) if given]
        if len(triggers) != 1:
            raise ValueError("an event needs exactly one trigger: at/every, after, on or when"
                             + (f" (got {', '.join(triggers)})" if triggers else ""))
        if self.delay and self.after is None and self.on is None:
            raise ValueError("delay applies only with after or on")
        if (self.count is not None or self.until is not None) and not (self.every or self.after or self.on or self.repeat):
            raise ValueError("count and until apply only to repeated events (every, after, on, when with repeat)")
        if self.on_satellite is not None and self.on is None:
            raise ValueError("on_satellite filters an on trigger")
        if self.repeat and self.when is None:
            raise ValueError("repeat applies only to when")
        actions = [name for name in ACTIONS if getattr(self, name) is not None]
        if len(actions) != 1:
            raise ValueError(f"an event needs exactly one action: {', '.join(ACTIONS)}"
                             + (f" (got {', '.join(actions)})" if actions else ""))
        return self

    @property
    def action(self) -> str:
        """Which action it takes ('fault', 'command', 'notify', ...)."""
        return next(name for name in ACTIONS if getattr(self, name) is not None)

    def built_command(self):
        from engine.timeline_actions import build_command

        return build_command(self.command or {})


ACTIONS = ("fault", "clear", "command", "notify", "focus", "pause", "set_speed", "end", "press")
"""What a timeline event can do (one per event)."""


class AutopilotStep(TimelineEvent):
    """``[[autopilot]]``: a step of the operator's part in a demo, with the triggers and actions of an
    ``[[event]]`` and a ``caption`` shown when it acts. The console plays them until the operator presses
    a key (taking over); headless runs always play them."""

    caption: Optional[Annotated[str, Field(min_length=1)]] = None


class Objective(_Strict):
    """``[[objective]]``: what a training mission asks of the operator (``engine.objectives``): a metric
    (``engine.conditions``, e.g. ``job('LLM-70B').progress``) compared with a target, by a deadline."""

    id: str
    kind: Literal["primary", "secondary", "fail_gate"] = "primary"
    description: str = ""
    metric: Annotated[str, Field(min_length=1)]
    op: Literal["<", "<=", ">", ">=", "==", "!="] = ">="
    target: Union[bool, float, str]
    deadline: Optional[Duration] = None
    weight: Annotated[float, Field(ge=0, le=1000)] = 1.0
    judge: Literal["first", "deadline"] = "first"
    """'first': met at the first check where it holds; 'deadline': decided by its value at the deadline
    (or the end of the run), for quantities over the whole shift such as an attainment or a goodput."""

    @model_validator(mode="after")
    def _judged_sensibly(self) -> "Objective":
        if self.judge == "deadline" and self.kind == "fail_gate":
            raise ValueError("a fail_gate holds at every check; judge = 'deadline' applies to primary and secondary objectives")
        return self


class Scoring(_Strict):
    """``[scoring]``: grade thresholds (score from 0 to 1), what a failed gate does to the score, and the
    share of the score each hint shown costs."""

    grades: dict[str, Annotated[float, Field(ge=0, le=1)]] = {"gold": 0.9, "silver": 0.75, "bronze": 0.6}
    fail_gate_penalty: Annotated[float, Field(ge=0, le=1)] = 0.0
    hint_penalty: Annotated[float, Field(ge=0, le=1)] = 0.0


class Hint(_Strict):
    """``[[hint]]``: advice shown to the trainee when a condition has held for a while (``when``, with its
    ``for``); once, or at every new start with ``repeat``. Every showing is recorded (and may cost score)."""

    id: str
    when: Annotated[str, Field(min_length=1)]
    text: Annotated[str, Field(min_length=1)]
    repeat: bool = False

    def as_event(self) -> TimelineEvent:
        return TimelineEvent(id=self.id, when=self.when, repeat=self.repeat, notify=NotifyAction(text=self.text))


class WalkthroughStep(_Strict):
    """``[[step]]``: one step of a guided walkthrough (``engine.walkthrough``): the ``prompt`` shown, the
    operator action it expects (a console action or ``command:<name>``, optionally on ``satellite``), the
    condition that must then hold (``check``), and what the console highlights meanwhile. A step needs
    an ``expect``, a ``check`` or both."""

    id: str
    prompt: Annotated[str, Field(min_length=1)]
    expect: Optional[str] = None
    satellite: Optional[str] = None
    check: Optional[Annotated[str, Field(min_length=1)]] = None
    highlight: Optional[Literal["clock", "fleet", "detail", "map", "alarms", "events"]] = None

    @field_validator("expect")
    @classmethod
    def _a_known_action(cls, value: Optional[str]) -> Optional[str]:
        if value is not None:
            from engine.walkthrough import check_expect

            check_expect(value)
        return value

    @model_validator(mode="after")
    def _finishes_somehow(self) -> "WalkthroughStep":
        if self.expect is None and self.check is None:
            raise ValueError("a step needs an expect (what the trainee does), a check (what must hold), or both")
        if self.satellite is not None and self.expect is None:
            raise ValueError("satellite filters an expect")
        return self


def _check_event_list(what: str, events: list[TimelineEvent]) -> None:
    """Unique ids, ``after`` and ``clear`` naming events of the same list, no ``after`` loops."""
    ids = [event.id for event in events]
    duplicates = sorted({event_id for event_id in ids if ids.count(event_id) > 1})
    if duplicates:
        raise ValueError(f"{what} ids must be unique: {', '.join(duplicates)}")
    by_id = {event.id: event for event in events}
    for event in events:
        if event.after is not None and event.after not in by_id:
            raise ValueError(f"{what} {event.id} comes after {event.after!r}, which is not an {what} ({', '.join(ids)})")
        seen, step = {event.id}, event.after
        while step is not None:
            if step in seen:
                raise ValueError(f"{what} {event.id}: its 'after' chain loops back to {step!r}")
            seen.add(step)
            step = by_id[step].after
        if event.clear is not None and event.clear not in by_id:
            raise ValueError(f"{what} {event.id} clears the faults of {event.clear!r}, which is not an {what}")
        if event.clear is not None and by_id[event.clear].fault is None:
            raise ValueError(f"{what} {event.id} clears the faults of {event.clear!r}, which injects none")


class FaultRate(_Strict):
    """``[[fault]]``: faults of one kind drawn at random from the run seed, at ``rate_per_year`` per target
    (per GPU for GPU faults, per satellite, per laser link, per station, or for the whole fleet),
    optionally only on the satellites of ``shells``."""

    kind: FaultKind
    rate_per_year: Annotated[float, Field(gt=0, le=1e6)]
    params: dict[str, Union[float, str]] = {}
    duration: Optional[Duration] = None
    permanent: bool = False
    shells: list[str] = []


class Servicer(_Strict):
    """``[[servicer]]``: a servicing vehicle (physics.md §5): how it gets to a client (``launch``), where a
    resident one waits (in the orbit of satellite ``near``, or at an explicit altitude, inclination and
    RAAN), its Δv, the spares it carries and what a mission costs."""

    id: str
    launch: Literal["resident", "hot_standby", "rideshare"] = "resident"
    near: Optional[str] = None
    altitude_km: Optional[Annotated[float, Field(gt=150, le=40000)]] = None
    inclination_deg: Optional[Annotated[float, Field(ge=0, le=180)]] = None
    raan_deg: Optional[Annotated[float, Field(ge=0, lt=360)]] = None
    delta_v_m_s: Annotated[float, Field(ge=0, le=20000)] = 300.0
    spares: dict[Part, Annotated[int, Field(ge=0, le=1000)]] = {}
    mission_cost_musd: Annotated[float, Field(ge=0)] = 0.0
    part_cost_musd: dict[Part, Annotated[float, Field(ge=0)]] = {}
    dock_success_probability: Annotated[float, Field(ge=0, le=1)] = 0.9
    phasing_offset_km: Annotated[float, Field(gt=0, le=500)] = 20.0

    @model_validator(mode="after")
    def _where_it_waits(self) -> "Servicer":
        explicit = (self.altitude_km, self.inclination_deg, self.raan_deg)
        if self.launch == "resident":
            if self.near is None and None in explicit:
                raise ValueError("a resident servicer waits near a satellite (near = ...) or in an explicit orbit "
                                 "(altitude_km, inclination_deg, raan_deg)")
            if self.near is not None and any(v is not None for v in explicit):
                raise ValueError("give near or an explicit orbit, not both")
        elif self.near is not None or any(v is not None for v in explicit):
            raise ValueError(f"a {self.launch} servicer is launched into its client's plane: it has no parking orbit")
        return self


class MissionFile(_Strict):
    """A whole mission document, after its includes are merged in."""

    mission: MissionSection
    hardware: Hardware = Hardware()
    shell: list[Shell] = []
    satellite: list[ExplicitSatellite] = []
    ground_station: list[GroundStation] = []
    workload: Workload = Workload()
    job: list[Job] = []
    scheduler: Scheduler = Scheduler()
    radiation: RadiationModel = RadiationModel()  # type: ignore[valid-type]
    gpu_health: GpuHealthModel = GpuHealthModel()  # type: ignore[valid-type]
    power_policy: PowerPolicy = PowerPolicy()
    limits: Limits = Limits()
    network: Network = Network()
    event: list[TimelineEvent] = []
    fault: list[FaultRate] = []
    servicer: list[Servicer] = []
    autopilot: list[AutopilotStep] = []
    objective: list[Objective] = []
    scoring: Scoring = Scoring()
    hint: list[Hint] = []
    step: list[WalkthroughStep] = []
    sweep: Optional[Sweep] = None
    """Monte-Carlo campaign settings for ``omc sweep`` (ignored by a single run); see engine.sweep."""

    @model_validator(mode="after")
    def _events_are_consistent(self) -> "MissionFile":
        for what, events in (("event", self.event), ("autopilot step", self.autopilot)):
            _check_event_list(what, events)
        ids = [objective.id for objective in self.objective]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"objective ids must be unique: {', '.join(duplicates)}")
        ids = [step.id for step in self.step]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"step ids must be unique: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _engine_parameters_are_consistent(self) -> "MissionFile":
        for section, build in (("radiation", radiation_params), ("gpu_health", gpu_health_params)):
            try:
                build(getattr(self, section))
            except ValueError as error:
                raise ValueError(f"[{section}]: {error}") from None
        return self

    @model_validator(mode="after")
    def _has_satellites(self) -> "MissionFile":
        if not self.shell and not self.satellite:
            raise ValueError("a mission needs at least one [[shell]] or [[satellite]]")
        return self

    @model_validator(mode="after")
    def _jobs_are_consistent(self) -> "MissionFile":
        ids = [job.id for job in self.job]
        duplicates = sorted({job_id for job_id in ids if ids.count(job_id) > 1})
        if duplicates:
            raise ValueError(f"job ids must be unique: {', '.join(duplicates)}")
        names = [partition.name for partition in self.scheduler.partition]
        known = set(names) | {"default"}
        used = [(f"job {job.id}", job.partition) for job in self.job]
        used += [(f"generator {generator.name}", generator.partition) for generator in self.workload.generator]
        unknown = [f"{who} uses partition {name!r}" for who, name in used if name not in known]
        if unknown:
            raise ValueError("; ".join(unknown) + f" (partitions: {', '.join(sorted(known))})")
        sources = [(f"job {job.id}", job) for job in self.job]
        sources += [(f"generator {generator.name}", generator) for generator in self.workload.generator]
        for who, source in sources:
            if source.checkpoint_target != "local" and not source.checkpoint_size_gb > 0:
                raise ValueError(f"{who}: checkpoint_target {source.checkpoint_target!r} needs a checkpoint_size_gb")
            if source.checkpoint_target == "peer" and self.network.topology == IslTopology.NONE:
                raise ValueError(f"{who}: checkpoint_target 'peer' needs laser links ([network] topology is 'none')")
        return self
