"""Mission files: TOML documents validated into a :class:`MissionSpec`."""

from engine.mission.errors import MissionError, MissionIssue
from engine.mission.loader import (
    bundled_missions_dir,
    load_mission,
    load_mission_document,
    mission_document,
    resolve_mission_path,
)
from engine.mission.spec import MissionSpec, SatelliteSpec

__all__ = [
    "MissionError",
    "MissionIssue",
    "MissionSpec",
    "SatelliteSpec",
    "bundled_missions_dir",
    "load_mission",
    "load_mission_document",
    "mission_document",
    "resolve_mission_path",
]
