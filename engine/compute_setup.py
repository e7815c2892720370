"""Builds the compute side of a simulation from a mission: GPU health with its radiation environment, the
solar particle event schedule, and the job workload with its scheduler.

Kept apart from :mod:`engine.simulation` so the mapping from mission-file models (pydantic, file units) to
engine objects (frozen dataclasses, seconds) is in one place and testable on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from sgp4.api import WGS72, Satrec

from engine.checkpoint_paths import CheckpointPaths
from engine.constants import SECONDS_PER_DAY, SECONDS_PER_YEAR
from engine.ephemeris import MissionClock
from engine.gpu_health import (
    GpuHealth,
    GpuHealthParams,
    RadiationParams,
    orbit_mean_multiplier,
    orbit_saa_fraction,
    sample_solar_particle_events,
    spe_multiplier,
)
from engine.jobs import GeneratorSpec, JobSpec, PartitionSpec
from engine.mission.models import gpu_health_params, radiation_params
from engine.mission.spec import MissionSpec, SatelliteSpec
from engine.scheduler import SchedulerConfig
from engine.tracks import ground_track
from engine.workload import Workload

ORBIT_SAMPLE_S = 86_400.0
"""Length of the ground track sampled for each orbit class's average radiation multiplier (a day covers the
Earth's rotation under the orbit, so every SAA crossing geometry is represented)."""
ORBIT_SAMPLE_STEP_S = 60.0
SPE_SAMPLE_CHUNK_S = 30 * SECONDS_PER_DAY
"""Random solar particle events are drawn in fixed 30-day chunks, so the schedule does not depend on how
far or in what steps a run goes."""

_RATE_FIELDS_OFF = {
    "ce_per_gpu_per_day": 0.0,
    "due_per_gpu_per_year": 0.0,
    "due_mbu_fraction": 0.0,
    "sefi_per_board_per_day": 0.0,
    "sdc_terrestrial_per_gpu_per_day": 0.0,
    "latchup_per_gpu_per_year": 0.0,
    "random_failure_per_year": 0.0,
    "thermal_failure_per_year": 0.0,
    "infant_failure_fraction": 0.0,
    "tid_failure_per_year": 0.0,
}
"""What ``[gpu_health] random_faults = false`` zeroes: every random event; dose and TID degradation stay."""


# ---------------------------------------------------------------------------------------- orbit classes


def orbit_classes(satrecs: Sequence[Satrec]) -> tuple[np.ndarray, np.ndarray]:
    """Group satellites whose orbits share inclination (0.1°), mean motion (0.01 rev/day) and eccentricity
    (0.001): they see the same radiation environment on average. Returns (class of each satellite,
    representative satellite index of each class)."""
    keys = np.array(
        [(round(math.degrees(s.inclo), 1), round(s.no_kozai * 1440.0 / (2 * math.pi), 2), round(s.ecco, 3)) for s in satrecs]
    ).reshape(-1, 3)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return inverse.reshape(-1), first


def orbital_planes(satellites: Sequence[SatelliteSpec]) -> np.ndarray:
    """A plane id per satellite for gang placement: shell and plane number for shell satellites; explicit
    satellites share a plane when inclination (0.5°), RAAN (1°) and mean motion (0.05 rev/day) match."""
    labels: dict[tuple, int] = {}
    plane = np.empty(len(satellites), dtype=np.int64)
    for index, sat in enumerate(satellites):
        if sat.shell is not None and sat.plane is not None:
            key: tuple = ("shell", sat.shell, sat.plane)
        else:
            satrec = Satrec.twoline2rv(sat.tle[0], sat.tle[1], WGS72)
            key = (
                "orbit",
                round(math.degrees(satrec.inclo) * 2) / 2,
                round(math.degrees(satrec.nodeo)) % 360,
                round(satrec.no_kozai * 1440.0 / (2 * math.pi) * 20) / 20,
            )
        plane[index] = labels.setdefault(key, len(labels))
    return plane


def largest_plane_gpus(satellites: Sequence[SatelliteSpec]) -> int:
    """GPUs in the best-equipped orbital plane: the largest gang a job can get."""
    if not satellites:
        return 0
    plane = orbital_planes(satellites)
    gpus = np.array([sat.hardware.gpus for sat in satellites], dtype=float)
    return int(np.bincount(plane, weights=gpus).max())


# ----------------------------------------------------------------------------------------- GPU health


def build_gpu_health(
    spec: MissionSpec, satrecs: Sequence[Satrec], clock: MissionClock, present: np.ndarray, rng: np.random.Generator
) -> GpuHealth:
    """GPU health for the fleet, its rates normalised to each orbit class's average radiation multiplier."""
    radiation = radiation_params(spec.radiation)
    params = gpu_health_params(spec.gpu_health)
    if not spec.gpu_health.random_faults:
        params = replace(params, **_RATE_FIELDS_OFF)
    mean_multiplier, saa_fraction = orbit_radiation_averages(satrecs, clock, radiation)
    return GpuHealth(
        present,
        params,
        radiation,
        mean_multiplier,
        rng,
        saa_fraction=saa_fraction,
        dose_rad=np.full(len(satrecs), spec.gpu_health.initial_dose_rad),
        age_s=spec.gpu_health.initial_age_days * SECONDS_PER_DAY,
    )


def orbit_radiation_averages(
    satrecs: Sequence[Satrec], clock: MissionClock, radiation: RadiationParams
) -> tuple[np.ndarray, np.ndarray]:
    """Per satellite: the day-average radiation multiplier E[mult] and the time fraction in the SAA, from one
    day of ground track of a representative of each orbit class."""
    n = len(satrecs)
    if n == 0:
        return np.ones(0), np.zeros(0)
    classes, representatives = orbit_classes(satrecs)
    means = np.ones(len(representatives))
    fractions = np.zeros(len(representatives))
    for c, index in enumerate(representatives):
        track = ground_track(satrecs[int(index)], "", clock, 0.0, ORBIT_SAMPLE_S, ORBIT_SAMPLE_STEP_S)
        if len(track.lat_deg) == 0:  # SGP4 rejects the orbit everywhere: use the environment's plain average
            continue
        lat, lon = np.asarray(track.lat_deg)[None, :], np.asarray(track.lon_deg)[None, :]
        means[c] = float(orbit_mean_multiplier(lat, lon, radiation)[0])
        fractions[c] = float(orbit_saa_fraction(lat, lon, radiation)[0])
    return means[classes], fractions[classes]


class SolarParticleSchedule:
    """Solar particle events: the mission's scheduled ones plus random ones at ``spe_rate_per_year``
    (drawn in fixed chunks from their own stream, so any run of the same seed sees the same storms)."""

    def __init__(self, spec: MissionSpec, rng: np.random.Generator):
        self.params = radiation_params(spec.radiation)
        scheduled = [
            (event.start, event.start + (event.duration if event.duration is not None else self.params.spe_duration_s))
            for event in spec.radiation.solar_particle_event
        ]
        self._scheduled = np.array(scheduled, dtype=float).reshape(-1, 2)
        self._rng = rng
        self._random: list[np.ndarray] = []
        self._sampled_until_s = 0.0
        self._events = self._scheduled

    def _cover(self, time_s: float) -> None:
        while self._sampled_until_s <= time_s:
            start = self._sampled_until_s
            self._random.append(sample_solar_particle_events(self.params, start, start + SPE_SAMPLE_CHUNK_S, self._rng))
            self._sampled_until_s = start + SPE_SAMPLE_CHUNK_S
            self._events = np.concatenate([self._scheduled, *self._random])

    def events(self, until_s: float) -> np.ndarray:
        """(K, 2) start and end times of every event starting by ``until_s``, sorted by start."""
        self._cover(until_s)
        events = self._events[self._events[:, 0] <= until_s]
        return events[np.argsort(events[:, 0], kind="stable")]

    def inject(self, start_s: float, end_s: float) -> int:
        """An event from ``start_s`` to ``end_s`` (a fault injected by the instructor or the timeline);
        returns its row, to end it early with :meth:`end`."""
        self._cover(start_s)
        self._scheduled = np.vstack([self._scheduled, [[float(start_s), float(end_s)]]])
        self._events = np.concatenate([self._scheduled, *self._random])
        return len(self._scheduled) - 1

    def end(self, row: int, time_s: float) -> None:
        """End the injected event of ``row`` at ``time_s`` (if it is still running then)."""
        self._scheduled[row, 1] = min(self._scheduled[row, 1], float(time_s))
        self._events = np.concatenate([self._scheduled, *self._random])

    def multiplier(self, t0_s: float, t1_s: float) -> float:
        """Mean single-event rate multiplier over (t0_s, t1_s]."""
        self._cover(t1_s)
        return spe_multiplier(t0_s, t1_s, self._events, self.params)

    def active(self, time_s: float) -> bool:
        """Whether an event is in progress at ``time_s``."""
        self._cover(time_s)
        events = self._events
        return bool(np.any((events[:, 0] <= time_s) & (time_s < events[:, 1])))


# ------------------------------------------------------------------------------------------- workload


def has_workload(spec: MissionSpec) -> bool:
    """Whether the mission's GPUs are driven by jobs (``[[job]]`` or ``[[workload.generator]]``)."""
    return bool(spec.jobs or spec.workload.generator)


def job_killing_mtbf_h(params: GpuHealthParams) -> float:
    """Orbit-average mean time between faults that kill the process on one GPU, hours: hangs (SEFI),
    uncorrectable ECC, detected silent corruption, latch-ups and permanent failures (before TID wear)."""
    per_year = (
        params.sefi_per_board_per_day * 365.25
        + params.due_per_gpu_per_year
        + params.due_mbu_fraction * params.ce_per_gpu_per_day * 365.25
        + params.sdc_terrestrial_per_gpu_per_day * params.sdc_radiation_factor * params.sdc_detection_probability * 365.25
        + params.latchup_per_gpu_per_year
        + params.random_failure_per_year
        + params.thermal_failure_per_year
    )
    return SECONDS_PER_YEAR / 3600.0 / per_year if per_year > 0 else math.inf


def build_workload(
    spec: MissionSpec, plane: np.ndarray, present: np.ndarray, rng: np.random.Generator, satellite_ids: Sequence[str],
    health_params: GpuHealthParams | None = None, checkpoint_paths: CheckpointPaths | None = None,
) -> Workload:
    """The workload of the mission's jobs, generators, partitions and scheduler settings. Without a
    ``gpu_mtbf_h`` the checkpoint intervals use the MTBF implied by ``health_params`` (the GPU fault model)."""
    scheduler = spec.scheduler
    mtbf_h = scheduler.gpu_mtbf_h
    if mtbf_h is None:
        mtbf_h = job_killing_mtbf_h(health_params if health_params is not None else gpu_health_params(spec.gpu_health))
        mtbf_h = min(mtbf_h, 1e9)  # no faults at all: checkpoints rarely, but at a finite interval
    partitions = [
        PartitionSpec(p.name, tier=p.tier, preempt_mode=p.preempt_mode, grace_s=p.grace, max_wall_s=p.max_wall)
        for p in scheduler.partition
    ]
    if "default" not in {p.name for p in partitions}:
        partitions.append(PartitionSpec("default", tier=min((p.tier for p in partitions), default=1)))
    jobs = [
        JobSpec(
            id=job.id, kind=job.kind, partition=job.partition, gpus=job.gpus, gpu_hours=job.gpu_hours,
            duration_s=job.duration, name=job.name, submit_s=job.submit, priority=job.priority,
            walltime_s=job.walltime, checkpoint_interval_s=_interval(job.checkpoint_interval),
            checkpoint_size_gb=job.checkpoint_size_gb, checkpoint_bandwidth_gbps=job.checkpoint_bandwidth_gbps,
            checkpoint_target=job.checkpoint_target, startup_s=job.startup, latency_target_s=_ms_to_s(job.latency_target_ms), max_retries=job.max_retries,
            max_restarts=job.max_restarts, hold=job.hold,
        )
        for job in spec.jobs
    ]
    generators = [
        GeneratorSpec(
            name=g.name, rate_per_hour=g.rate_per_hour, duration_s=g.duration, kind=g.kind, partition=g.partition,
            gpus=tuple(g.gpus) if isinstance(g.gpus, list) else g.gpus, duration_dist=g.duration_dist,
            duration_sigma=g.duration_sigma, start_s=g.start, stop_s=g.stop, max_jobs=g.max_jobs,
            priority=g.priority, walltime_s=g.walltime, latency_target_s=_ms_to_s(g.latency_target_ms),
            checkpoint_interval_s=_interval(g.checkpoint_interval), checkpoint_size_gb=g.checkpoint_size_gb,
            checkpoint_bandwidth_gbps=g.checkpoint_bandwidth_gbps, checkpoint_target=g.checkpoint_target,
            startup_s=g.startup, max_retries=g.max_retries,
            app_failure_rate_per_h=g.app_failure_rate_per_h,
        )
        for g in spec.workload.generator
    ]
    config = SchedulerConfig(
        weight_age=scheduler.weight_age, weight_partition=scheduler.weight_partition,
        weight_size=scheduler.weight_size, backfill=scheduler.backfill, preemption=scheduler.preemption,
    )
    return Workload(
        jobs, generators, partitions, plane, present, rng, scheduler=config, gpu_mtbf_h=mtbf_h,
        satellite_names=satellite_ids, checkpoint_paths=checkpoint_paths,
    )


def _interval(value: float | str | None) -> float | str | None:
    return None if value in ("none", None) else value


def _ms_to_s(value: float | None) -> float | None:
    return None if value is None else value / 1000.0
