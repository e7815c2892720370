"""The fault catalogue (physics.md §4): every fault an instructor, a mission timeline or a stochastic rate
can inject, with its target, parameters, duration, physical effect, the symptoms an operator sees and
the part a servicing mission swaps to repair it.

Each kind acts through the existing models, never through a label:

============================  =========  =================================================================
kind                          target     effect
============================  =========  =================================================================
gpu_failure                   GPU        the GPU FAILS (its job rolls back and requeues); permanent
gpu_hang                      GPU        SEFI: the GPU hangs (RESETTING) until its watchdog resets it
ecc_storm                     satellite  upset rates (correctable, DUE, SEFI, SDC, latch-up) × multiplier
latch_up                      GPU        power cycle (RESETTING for the duration), or burn-out (FAILED)
array_string_loss             satellite  solar array output × (1 − fraction); permanent
array_degradation             satellite  solar array output × (1 − fraction); permanent
battery_cell_loss             satellite  battery capacity × (1 − fraction) (the energy in the lost cells goes)
radiator_damage               satellite  radiator area × (1 − fraction): less heat rejected
pump_failure                  satellite  coolant loop to radiator conductance × flow_remaining
isl_terminal_failure          link       the laser link FAILS until repaired
station_outage                station    the station tracks nothing for the duration
attitude_fault                satellite  array off the Sun (× sun_cosine) or tumbling (× 1/4, no laser links)
flight_computer_reboot        satellite  GPUs off, laser terminals off, no telemetry until it is back
solar_particle_event          fleet      a solar particle event (radiation model: upsets and dose) now
micrometeoroid                satellite  a hit on the radiator, the array or the coolant loop (area or flow)
============================  =========  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FaultKind(str, Enum):
    GPU_FAILURE = "gpu_failure"
    GPU_HANG = "gpu_hang"
    ECC_STORM = "ecc_storm"
    LATCH_UP = "latch_up"
    ARRAY_STRING_LOSS = "array_string_loss"
    ARRAY_DEGRADATION = "array_degradation"
    BATTERY_CELL_LOSS = "battery_cell_loss"
    RADIATOR_DAMAGE = "radiator_damage"
    PUMP_FAILURE = "pump_failure"
    ISL_TERMINAL_FAILURE = "isl_terminal_failure"
    STATION_OUTAGE = "station_outage"
    ATTITUDE_FAULT = "attitude_fault"
    FLIGHT_COMPUTER_REBOOT = "flight_computer_reboot"
    SOLAR_PARTICLE_EVENT = "solar_particle_event"
    MICROMETEOROID = "micrometeoroid"


class Target(str, Enum):
    GPU = "gpu"
    SATELLITE = "satellite"
    LINK = "link"
    STATION = "station"
    FLEET = "fleet"


class Part(str, Enum):
    """Orbital replacement units a servicing mission can swap."""

    GPU_BOARD = "gpu_board"
    BATTERY_MODULE = "battery_module"
    RADIATOR_PANEL = "radiator_panel"
    ARRAY_WING = "array_wing"
    ISL_TERMINAL = "isl_terminal"


@dataclass(frozen=True)
class Parameter:
    """One parameter of a fault kind: a number in [low, high] or one of ``choices``."""

    name: str
    default: float | str
    description: str
    low: float | None = None
    high: float | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()

    def check(self, value: object) -> float | str:
        """The value, validated (ValueError naming the parameter and its range)."""
        if self.choices:
            if value not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}, got {value!r}")
            return str(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise ValueError(f"{self.name} must be a number, got {value!r}")
        assert self.low is not None and self.high is not None
        if not self.low <= float(value) <= self.high:
            unit = f" {self.unit}" if self.unit else ""
            raise ValueError(f"{self.name} must be between {self.low:g} and {self.high:g}{unit}, got {value!r}")
        return float(value)


@dataclass(frozen=True)
class FaultType:
    """What one kind of fault is and does."""

    kind: FaultKind
    title: str
    target: Target
    effect: str
    """What it breaks, in one line (the injection dialog's preview)."""
    symptoms: tuple[str, ...]
    """What the operator sees (alarms and telemetry), not the fault's name."""
    parameters: tuple[Parameter, ...] = ()
    default_duration_s: float | None = None
    """None: permanent unless cleared or repaired."""
    duration_range_s: tuple[float, float] = (1.0, 30 * 86400.0)
    may_be_permanent: bool = True
    repair: Part | None = None
    """The part whose swap repairs it (None: it needs no swap, or no swap can)."""

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)


_FRACTION = dict(low=0.001, high=1.0)

CATALOGUE: dict[FaultKind, FaultType] = {
    t.kind: t
    for t in (
        FaultType(
            FaultKind.GPU_FAILURE, "GPU failure", Target.GPU,
            "the GPU fails for good; its job rolls back to its checkpoint and requeues",
            ("GPU FAILED in the GPU pane", "job NODE_FAIL"), repair=Part.GPU_BOARD),
        FaultType(
            FaultKind.GPU_HANG, "GPU hang (SEFI)", Target.GPU,
            "the GPU hangs until its watchdog resets it; its job restarts from its checkpoint",
            ("GPU RESETTING", "job NODE_FAIL"), default_duration_s=300.0, duration_range_s=(10.0, 6 * 3600.0),
            may_be_permanent=False),
        FaultType(
            FaultKind.ECC_STORM, "ECC storm", Target.SATELLITE,
            "single-event upsets on every GPU of the satellite multiply: ECC counts climb, DUEs and hangs follow",
            ("correctable ECC rate", "uncorrectable ECC", "GPU resets"),
            (Parameter("multiplier", 50.0, "upset rate multiplier", 2.0, 1000.0, "×"),),
            default_duration_s=1800.0, may_be_permanent=False),
        FaultType(
            FaultKind.LATCH_UP, "Single-event latch-up", Target.GPU,
            "a current spike: the GPU is power-cycled for the duration, or burns out",
            ("GPU RESETTING or FAILED", "job NODE_FAIL"),
            (Parameter("outcome", "power_cycle", "power_cycle: back after the duration; burnout: FAILED",
                       choices=("power_cycle", "burnout")),),
            default_duration_s=180.0, duration_range_s=(10.0, 3600.0), may_be_permanent=False, repair=Part.GPU_BOARD),
        FaultType(
            FaultKind.ARRAY_STRING_LOSS, "Solar array string loss", Target.SATELLITE,
            "strings of the solar array stop producing: less power in sunlight, the battery charges slower",
            ("array power below its sunlit level", "battery state of charge"),
            (Parameter("fraction", 0.125, "share of the array lost (one string of eight: 0.125)", **_FRACTION),),
            repair=Part.ARRAY_WING),
        FaultType(
            FaultKind.ARRAY_DEGRADATION, "Solar array degradation", Target.SATELLITE,
            "the cells lose efficiency (contamination, radiation): a little less power in sunlight",
            ("array power below its sunlit level",),
            (Parameter("fraction", 0.05, "share of the array's output lost", 0.001, 0.5),),
            repair=Part.ARRAY_WING),
        FaultType(
            FaultKind.BATTERY_CELL_LOSS, "Battery cell loss", Target.SATELLITE,
            "cells of the battery fail open: less capacity, deeper discharge in eclipse, earlier load shedding",
            ("battery capacity", "state of charge in eclipse", "load shedding"),
            (Parameter("fraction", 0.1, "share of the capacity lost", 0.01, 0.9),),
            repair=Part.BATTERY_MODULE),
        FaultType(
            FaultKind.RADIATOR_DAMAGE, "Radiator damage", Target.SATELLITE,
            "radiator area is lost: the loop and GPUs run hotter and throttle under load",
            ("radiator and loop temperature", "GPU throttling"),
            (Parameter("fraction", 0.25, "share of the radiator area lost", 0.01, 0.95),),
            repair=Part.RADIATOR_PANEL),
        FaultType(
            FaultKind.PUMP_FAILURE, "Coolant pump failure", Target.SATELLITE,
            "the loop pump fails: heat reaches the radiator only through the backup path",
            ("loop temperature rising while the radiator cools", "GPU throttling and shutdown"),
            (Parameter("flow_remaining", 0.05, "flow left on the backup path (share of nominal)", 0.01, 0.9),),
            repair=Part.RADIATOR_PANEL),
        FaultType(
            FaultKind.ISL_TERMINAL_FAILURE, "Laser terminal failure", Target.LINK,
            "the laser link fails (hardware): traffic reroutes; gangs across it stall",
            ("link FAILED", "routes and hops change"), repair=Part.ISL_TERMINAL),
        FaultType(
            FaultKind.STATION_OUTAGE, "Ground station outage", Target.STATION,
            "the station tracks nothing: satellites in its view lose their ground link",
            ("no contact at the station", "telemetry ages"), default_duration_s=7200.0, may_be_permanent=False),
        FaultType(
            FaultKind.ATTITUDE_FAULT, "Attitude control fault", Target.SATELLITE,
            "the array points off the Sun (or the satellite tumbles: a quarter of the power, no laser links)",
            ("array power low in sunlight", "battery state of charge", "laser links lost when tumbling"),
            (Parameter("mode", "off_sun", "off_sun: a fixed pointing error; tumbling: rotating freely",
                       choices=("off_sun", "tumbling")),
             Parameter("sun_cosine", 0.3, "off_sun: cosine of the angle between the array normal and the Sun",
                       0.0, 0.99)),
            default_duration_s=3600.0, may_be_permanent=False),
        FaultType(
            FaultKind.FLIGHT_COMPUTER_REBOOT, "Flight computer reboot", Target.SATELLITE,
            "the flight computer reboots: GPUs and laser terminals off, no telemetry, commands wait",
            ("telemetry stops", "jobs NODE_FAIL", "links drop"),
            default_duration_s=600.0, duration_range_s=(30.0, 6 * 3600.0), may_be_permanent=False),
        FaultType(
            FaultKind.SOLAR_PARTICLE_EVENT, "Solar particle event", Target.FLEET,
            "a radiation storm across the fleet: upsets and dose rise for its duration",
            ("upset multiplier", "ECC and resets fleet-wide", "dose"),
            default_duration_s=86400.0, duration_range_s=(600.0, 7 * 86400.0), may_be_permanent=False),
        FaultType(
            FaultKind.MICROMETEOROID, "Micrometeoroid hit", Target.SATELLITE,
            "a hit punctures the radiator, the array or the coolant loop",
            ("radiator, array or loop telemetry, depending on where it hit",),
            (Parameter("component", "radiator", "what it hits", choices=("radiator", "array", "coolant_loop")),
             Parameter("fraction", 0.1, "share of the radiator or array area, or of the loop flow, lost", 0.01, 1.0)),
            repair=None),
    )
}
"""Every fault kind (a micrometeoroid hit is repaired by swapping what it hit: see ``repair_part``)."""


def repair_part(kind: FaultKind, params: dict[str, float | str]) -> Part | None:
    """The part whose swap repairs a fault of ``kind`` with ``params``."""
    if kind == FaultKind.MICROMETEOROID:
        return Part.ARRAY_WING if params.get("component") == "array" else Part.RADIATOR_PANEL
    if kind == FaultKind.LATCH_UP:
        return Part.GPU_BOARD if params.get("outcome") == "burnout" else None
    return CATALOGUE[kind].repair
