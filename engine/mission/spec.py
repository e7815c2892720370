"""The resolved mission: every satellite with its orbit (as TLE lines) and hardware, ready to simulate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from engine.mission.models import (
    AutopilotStep,
    GpuHealthModel,
    GroundStation,
    Hardware,
    Hint,
    FaultRate,
    Job,
    Limits,
    MissionSection,
    Network,
    Objective,
    PowerPolicy,
    RadiationModel,
    Scheduler,
    Scoring,
    Servicer,
    Shell,
    TimelineEvent,
    WalkthroughStep,
    Workload,
)


@dataclass(frozen=True, eq=False)
class SatelliteSpec:
    """One satellite: stable readable id, where it came from, its orbit and its hardware."""

    id: str
    tle: tuple[str, str]
    hardware: Hardware
    shell: str | None = None
    plane: int | None = None
    """1-based plane number within the shell (None for explicit satellites)."""
    slot: int | None = None
    """1-based slot within the plane (None for explicit satellites)."""


@dataclass(frozen=True, eq=False)
class MissionSpec:
    """A validated mission. Build a :class:`engine.Simulation` from it."""

    mission: MissionSection
    satellites: tuple[SatelliteSpec, ...]
    ground_stations: tuple[GroundStation, ...]
    shells: tuple[Shell, ...]
    workload: Workload
    power_policy: PowerPolicy
    limits: Limits = Limits()
    source: Path | None = None
    jobs: tuple[Job, ...] = ()
    scheduler: Scheduler = Scheduler()
    radiation: RadiationModel = RadiationModel()  # type: ignore[valid-type]
    gpu_health: GpuHealthModel = GpuHealthModel()  # type: ignore[valid-type]
    network: Network = Network()
    events: tuple[TimelineEvent, ...] = ()
    fault_rates: tuple[FaultRate, ...] = ()
    servicers: tuple[Servicer, ...] = ()
    autopilot: tuple[AutopilotStep, ...] = ()
    objectives: tuple[Objective, ...] = ()
    scoring: Scoring = Scoring()
    hints: tuple[Hint, ...] = ()
    steps: tuple[WalkthroughStep, ...] = ()

    @property
    def id(self) -> str:
        return self.mission.id

    @property
    def title(self) -> str:
        return self.mission.title

    @property
    def kind(self) -> str:
        return self.mission.kind

    @property
    def epoch(self) -> datetime:
        return self.mission.epoch

    @property
    def duration_s(self) -> float:
        return self.mission.duration

    @property
    def step_s(self) -> float:
        return self.mission.step

    @property
    def seed(self) -> int:
        return self.mission.seed
