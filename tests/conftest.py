"""Shared fixtures: small missions written as TOML text, so tests read like mission files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine import load_mission

SMALL_MISSION = """
[mission]
id = "small"
title = "Small test fleet"
kind = "sandbox"
epoch = "2026-03-21T00:00:00Z"
duration = "6h"
step = "10s"
seed = 7

[hardware]
gpus = 4
gpu_tdp_w = 700
solar_array_m2 = 30
battery_kwh = 20
radiator_m2 = 8
bus_power_w = 1000

[[shell]]
name = "A"
altitude_km = 550
inclination_deg = 53
planes = 2
sats_per_plane = 3
phasing = 1

[[ground_station]]
id = "svalbard"
lat_deg = 78.23
lon_deg = 15.39
alt_m = 500
min_elevation_deg = 10
"""


IDEAL_TELEMETRY = """
[network]
telemetry = "ideal"
"""
"""Append to a mission without a [network] table: the console sees every satellite's telemetry current
(tests of alarm handling whose small fleets never pass over a station)."""

IDEAL_NETWORK = """
[network]
telemetry = "ideal"
gang_interconnect = "ideal"
"""
"""Also lets gangs span any satellites of a plane: SMALL_MISSION's three satellites a plane are too far
apart for laser links, and the compute tests are about GPUs and jobs, not the network."""


@pytest.fixture
def write_mission(tmp_path: Path):
    """Write mission text (dedented) to a file and return its path."""

    def write(text: str, name: str = "mission.toml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


@pytest.fixture
def small_spec(write_mission):
    return load_mission(write_mission(SMALL_MISSION))
