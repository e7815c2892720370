"""Faults acting on a running :class:`engine.simulation.Simulation`: checks before a fault starts, what its
start and end do to the GPU health, link, station and radiation models, and the hardware condition
(battery capacity, radiator area, pump flow) pushed into the power and thermal models when it changes.

Every check runs before anything changes, so a refused fault leaves the simulation as it was.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.fault_catalogue import FaultKind
from engine.faults import Fault, FaultBook, FaultEnd, FaultRequest
from engine.gpu_health import GpuHealthState, GpuTransition
from engine.isl_links import LinkState, LinkTransition

__all__ = ["FaultControl"]

GPU_FAILURE_CAUSE = "hardware failure"
"""Causes as on-board telemetry reports them (what the operator sees), not the injected fault's name."""
HANG_CAUSE = "hung: held in reset by the watchdog"
LATCHUP_CYCLE_CAUSE = "overcurrent trip: power cycled"
LATCHUP_BURNOUT_CAUSE = "overcurrent trip: no response after the power cycle"
TERMINAL_FAILURE_CAUSE = "terminal hardware failure"


class FaultControl:
    """The faults of one simulation: :attr:`book` plus their effects on its models."""

    def __init__(self, sim):
        self.sim = sim
        self.book = FaultBook(sim.satellite_ids, sim.network.ids, sim.hw.gpu_present,
                              lambda a, b: sim.comms.links.index_of(a, b) is not None)
        self._spe_rows: dict[str, int] = {}
        self._applied_version = 0
        self.battery_energy_lost_j = 0.0
        """Energy that went with battery cells lost to faults (an honest entry in the energy balance)."""

    # ---------------------------------------------------------------------------------------- inject

    def inject(self, request: FaultRequest, time_s: float, source: str) -> tuple[Fault, list]:
        """Resolve, check and start a fault; ValueError with the reason (nothing changed) if it cannot.
        Returns the fault and the model transitions its start caused (GPU or link)."""
        fault = self.book.resolve(request, time_s, source)
        if fault.kind == FaultKind.LATCH_UP and fault.param("outcome") == "burnout":
            fault = replace(fault, end_s=None)  # a burned-out GPU stays failed until a board is swapped
        self._check_start(fault)
        changes = self._start(fault)  # checked above; recorded only once its effect is in place
        self.book.add(fault)
        return fault, changes

    def _check_start(self, fault: Fault) -> None:
        sim, kind = self.sim, fault.kind
        if fault.gpu >= 0:
            state = GpuHealthState(int(sim.health.state[fault.satellite, fault.gpu]))
            burnout = kind == FaultKind.GPU_FAILURE or (kind == FaultKind.LATCH_UP and fault.param("outcome") == "burnout")
            if burnout and state == GpuHealthState.FAILED:
                raise ValueError(f"{fault.target} has already FAILED")
            if not burnout and state in (GpuHealthState.FAILED, GpuHealthState.OFF, GpuHealthState.RESETTING):
                raise ValueError(f"{fault.target} is {state.name}: it is not running to be interrupted")
        if kind == FaultKind.ISL_TERMINAL_FAILURE:
            row = sim.comms.links.index_of(fault.satellite, fault.peer)
            if LinkState(int(sim.comms.links.state[row])) == LinkState.FAILED:
                raise ValueError(f"{fault.target} has already FAILED")
        for other in self.book.active.values():
            if other.kind == kind and kind in _ONE_AT_A_TIME and other.target == fault.target:
                raise ValueError(f"{fault.target} already has an active {other.title.lower()} ({other.id})")

    def _start(self, fault: Fault) -> list:
        sim, kind, t = self.sim, fault.kind, fault.start_s
        s, g = fault.satellite, fault.gpu
        if kind == FaultKind.GPU_FAILURE:
            return [sim.health.fail(s, g, GPU_FAILURE_CAUSE, t)]
        if kind == FaultKind.GPU_HANG:
            return [sim.health.interrupt(s, g, HANG_CAUSE, t, fault.end_s)]
        if kind == FaultKind.LATCH_UP:
            if fault.param("outcome") == "burnout":
                return [sim.health.fail(s, g, LATCHUP_BURNOUT_CAUSE, t)]
            return [sim.health.interrupt(s, g, LATCHUP_CYCLE_CAUSE, t, fault.end_s)]
        if kind == FaultKind.ISL_TERMINAL_FAILURE:
            row = sim.comms.links.index_of(s, fault.peer)
            return [sim.comms.links.fail(row, t, TERMINAL_FAILURE_CAUSE)]
        if kind == FaultKind.STATION_OUTAGE:
            sim.comms.fault_down[fault.station] += 1
        elif kind == FaultKind.SOLAR_PARTICLE_EVENT:
            self._spe_rows[fault.id] = sim.solar_particle_events.inject(t, fault.end_s)
        return []

    # ------------------------------------------------------------------------------------------- end

    def end(self, fault_id: str, time_s: float, how: str) -> tuple[FaultEnd, list]:
        """End an active fault ('expired', 'cleared' or 'repaired'); ValueError if there is no such fault.
        Returns the end record and the model transitions it caused."""
        ended = self.book.end(fault_id, time_s, how)
        return ended, self._finish(ended.fault, time_s)

    def _finish(self, fault: Fault, time_s: float) -> list:
        sim, kind = self.sim, fault.kind
        s, g = fault.satellite, fault.gpu
        changes: list = []
        if g >= 0:
            state = GpuHealthState(int(sim.health.state[s, g]))
            if state == GpuHealthState.FAILED and kind in (FaultKind.GPU_FAILURE, FaultKind.LATCH_UP):
                changes.append(sim.health.replace(s, g, time_s))
            elif state == GpuHealthState.RESETTING and kind in (FaultKind.GPU_HANG, FaultKind.LATCH_UP) \
                    and sim.health.resetting_until_s[s, g] > time_s:
                sim.health.resetting_until_s[s, g] = time_s  # cleared early: it comes back at the next step
                sim.health.wake_by(time_s)
        elif kind == FaultKind.ISL_TERMINAL_FAILURE:
            row = sim.comms.links.index_of(s, fault.peer)
            if row is not None and LinkState(int(sim.comms.links.state[row])) == LinkState.FAILED:
                changes.append(sim.comms.links.repair(row, time_s))
        elif kind == FaultKind.STATION_OUTAGE:
            sim.comms.fault_down[fault.station] -= 1
        elif kind == FaultKind.SOLAR_PARTICLE_EVENT:
            sim.solar_particle_events.end(self._spe_rows.pop(fault.id), time_s)
        return changes

    def expire(self, time_s: float) -> list[tuple[FaultEnd, list]]:
        """End every fault whose time is up by ``time_s``."""
        return [self.end(f.id, f.end_s, "expired") for f in self.book.due(time_s)]

    # ------------------------------------------------------------------------------------ condition

    def apply_condition(self) -> None:
        """Push the hardware condition into the battery and thermal models if the faults changed it."""
        if self._applied_version == self.book.version:
            return
        self._applied_version = self.book.version
        condition = self.book.condition
        sim = self.sim
        if not np.array_equal(condition.battery_factor, sim.battery.capacity_fraction):
            self.battery_energy_lost_j += float(sim.battery.set_capacity_fraction(condition.battery_factor).sum())
        if not (np.array_equal(condition.radiator_factor, sim.thermal.radiator_area_fraction)
                and np.array_equal(condition.pump_factor, sim.thermal.pump_flow_fraction)):
            sim.thermal.set_damage(condition.radiator_factor, condition.pump_factor)

    @property
    def any_active(self) -> bool:
        return bool(self.book.active)


_ONE_AT_A_TIME = {FaultKind.GPU_HANG, FaultKind.LATCH_UP, FaultKind.FLIGHT_COMPUTER_REBOOT, FaultKind.ATTITUDE_FAULT,
                  FaultKind.STATION_OUTAGE, FaultKind.ECC_STORM, FaultKind.PUMP_FAILURE}
"""Kinds that cannot overlap on one target (a second one would mean nothing more)."""


def transition_kind(change) -> str:
    """'gpu' or 'link' for a transition a fault caused."""
    return "gpu" if isinstance(change, GpuTransition) else "link" if isinstance(change, LinkTransition) else "other"
