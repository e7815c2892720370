"""Where a job's checkpoint can go over the network, and how long writing it takes (network-and-jobs.md
§4.5, physics.md §3.10: t = size / B_eff).

A job on satellites S writes one share of its checkpoint, ``size / |S|``, from each satellite:

- ``peer``: over the fastest laser link carrying traffic (UP or DEGRADED) at that satellite, to the
  neighbour at its other end; the write takes the longest share time, ``share·8 / rate``. A satellite with
  no such link blocks the checkpoint until it has one.
- ``ground``: down each satellite's route to the ground; the shares bound for one station share its
  ``downlink_gbps``, and a route over laser links is limited by the full laser rate as well. A satellite
  without a route blocks it.

A write is still open while every link it uses carries traffic (peer) or every satellite keeps a route
(ground); the workload aborts a write whose path broke and tries again later.

Sharing of a link between several jobs' checkpoints, and rate changes during a write, are not modelled:
the rate at the start of the write holds for all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from engine.jobs import CheckpointTarget

__all__ = ["CheckpointPaths", "CheckpointWrite", "NetworkCheckpointPaths"]


@dataclass(frozen=True)
class CheckpointWrite:
    """A checkpoint write that can start now."""

    write_s: float
    holders: np.ndarray
    """Satellites that will hold the copy (one per writing satellite for a peer write; empty for ground)."""


class CheckpointPaths(Protocol):
    """What the workload asks the network about checkpoints written over links."""

    def plan(self, target: CheckpointTarget, sats: np.ndarray, size_gb: float) -> CheckpointWrite | str:
        """The write from satellites ``sats``, or why it cannot start now."""
        ...

    def still_open(self, target: CheckpointTarget, sats: np.ndarray, holders: np.ndarray) -> bool:
        """Whether a write started by :meth:`plan` can go on."""
        ...


class NetworkCheckpointPaths:
    """:class:`CheckpointPaths` over a :class:`engine.network.NetworkModel` (its links and routes as of the
    last network step)."""

    def __init__(self, network, satellite_names: tuple[str, ...]):
        self.network = network
        self.names = satellite_names

    def plan(self, target: CheckpointTarget, sats: np.ndarray, size_gb: float) -> CheckpointWrite | str:
        sats = np.unique(np.asarray(sats, dtype=np.int64))
        share_bits = float(size_gb) * 8.0 / len(sats)
        if target == CheckpointTarget.PEER:
            return self._peer(sats, share_bits)
        if target == CheckpointTarget.GROUND:
            return self._ground(sats, share_bits)
        raise ValueError(f"checkpoints to {target.value!r} do not use the network")

    def _peer(self, sats: np.ndarray, share_bits: float) -> CheckpointWrite | str:
        links = self.network.links
        carrying = links.carrying() & (links.rate_gbps > 0)
        a, b, rate = links.a[carrying], links.b[carrying], links.rate_gbps[carrying]
        end = np.concatenate((a, b))
        other = np.concatenate((b, a))
        rate = np.concatenate((rate, rate))
        at = np.isin(end, sats)
        end, other, rate = end[at], other[at], rate[at]
        order = np.lexsort((other, -rate, end))  # per satellite: fastest first, then the lowest neighbour
        end, other, rate = end[order], other[order], rate[order]
        first = np.ones(end.size, dtype=bool)
        first[1:] = end[1:] != end[:-1]
        if int(first.sum()) < len(sats):
            cut = np.setdiff1d(sats, end[first])
            return f"no laser link carrying traffic at {self.names[int(cut[0])]}"
        return CheckpointWrite(float(np.max(share_bits / rate[first])), other[first])

    def _ground(self, sats: np.ndarray, share_bits: float) -> CheckpointWrite | str:
        routes = self.network.routes
        station = routes.station[sats]
        if (station < 0).any():
            return f"no route to the ground from {self.names[int(sats[station < 0][0])]}"
        per_station = np.bincount(station, minlength=len(self.network.downlink_gbps))
        downlink_s = per_station[station] * share_bits / self.network.downlink_gbps[station]
        over_lasers = routes.hops[sats] > 0
        laser_s = np.where(over_lasers, share_bits / self.network.links.params.rate_gbps, 0.0)
        return CheckpointWrite(float(np.max(np.maximum(downlink_s, laser_s))), np.zeros(0, dtype=np.int64))

    def still_open(self, target: CheckpointTarget, sats: np.ndarray, holders: np.ndarray) -> bool:
        sats = np.unique(np.asarray(sats, dtype=np.int64))
        if target == CheckpointTarget.GROUND:
            return bool(self.network.routes.reachable[sats].all())
        links = self.network.links
        carrying = links.carrying()
        for sat, peer in zip(sats.tolist(), np.asarray(holders).tolist()):
            row = links.index_of(sat, peer)
            if row is None or not carrying[row]:
                return False
        return True
