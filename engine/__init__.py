"""Orbital Mission Control engine: a vectorised simulation of a constellation of orbital data-center
satellites (orbits, sunlight, ground contacts, power, thermal, GPUs).

Facade::

    from engine import load_mission, Simulation
    spec = load_mission("sandbox")          # a path or the id of a bundled mission
    sim = Simulation(spec, seed=None)       # None: the mission's seed
    sim.step(); sim.run_until(3600.0)
    snap = sim.snapshot()                   # frozen, read-only arrays
    events = sim.drain_events()

The engine never imports a UI library and never touches the network.
"""

from engine.durations import format_clock, format_duration, parse_duration
from engine.events import Event, EventKind, Severity
from engine.ground import Pass
from engine.mission import MissionError, MissionIssue, MissionSpec, load_mission
from engine.simulation import Simulation
from engine.snapshot import FleetSnapshot

__all__ = [
    "Event",
    "EventKind",
    "FleetSnapshot",
    "MissionError",
    "MissionIssue",
    "MissionSpec",
    "Pass",
    "Severity",
    "Simulation",
    "format_clock",
    "format_duration",
    "load_mission",
    "parse_duration",
]
