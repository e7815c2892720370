"""Per-satellite hardware as arrays (struct-of-arrays), built once from the mission's hardware tables."""

from __future__ import annotations

import numpy as np

from engine.mission.models import Hardware
from engine.mission.spec import SatelliteSpec


class FleetHardware:
    """Every ``Hardware`` field as a read-only (N,) array, plus the (N, G) mask of GPUs that exist.

    Satellites share a handful of distinct hardware tables, so arrays are built per distinct table and
    gathered with one index array (no per-satellite Python work beyond the index).
    """

    def __init__(self, satellites: tuple[SatelliteSpec, ...]):
        distinct: dict[int, int] = {}
        tables: list[Hardware] = []
        index = np.empty(len(satellites), dtype=np.intp)
        for position, satellite in enumerate(satellites):
            key = id(satellite.hardware)
            if key not in distinct:
                distinct[key] = len(tables)
                tables.append(satellite.hardware)
            index[position] = distinct[key]
        self.count = len(satellites)
        for name in Hardware.model_fields:
            raw = [getattr(table, name) for table in tables]
            values = np.array([np.nan if value is None else value for value in raw], dtype=float)
            column = values[index] if len(tables) else np.empty(0)
            column.setflags(write=False)
            setattr(self, name, column)
        self.gpu_count = self.gpus.astype(np.intp)  # type: ignore[attr-defined]
        self.max_gpus = int(self.gpu_count.max()) if self.count else 0
        self.gpu_present = np.arange(self.max_gpus)[None, :] < self.gpu_count[:, None]
        self.gpu_present.setflags(write=False)

    def __getattr__(self, name: str) -> np.ndarray:  # pragma: no cover - only for type checkers
        raise AttributeError(name)
