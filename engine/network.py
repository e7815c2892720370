"""The network subsystem: laser links, ground links and routes to the ground, stepped with the fleet.

One step (positions at the step's end):

1. candidate laser links: fixed for +Grid and explicit pairs; for nearest-neighbour topologies and
   formations, the links still closable keep their terminals and the free terminals pair up again;
2. geometry of every link (range, line of sight 80 km above the surface, cross-plane latitude cut-off)
   and the link state machine (``engine.isl_links``); a satellite in safe mode powers no terminal;
3. station outages from the mission timeline, then antenna assignment with the handover policy
   (``engine.ground_links``);
4. routes from every satellite to the ground (``engine.routing``), recomputed when a link or a ground
   link changed and at least every ``route_refresh``.

Latency of a hop is its length over c plus the per-hop switching time; a ground leg is the slant range
over c plus the gateway and backhaul time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from sgp4.api import SatrecArray

from engine.ground import GroundNetwork
from engine.ground_links import GroundLinkChange, GroundLinks
from engine.isl_links import IslLinks, IslParams, LinkTransition
from engine.isl_topology import (
    CandidateLinks,
    clears_earth_bounded,
    explicit_links,
    max_isl_range_km,
    nearest_links,
    plus_grid,
)
from engine.compute_setup import orbital_planes
from engine.mission.models import IslTopology, Network
from engine.mission.spec import MissionSpec
from engine.routing import LIGHT_SPEED_KM_S, LinkTableRouter, Routes, route_to_ground

__all__ = ["NetworkModel", "NetworkStep", "network_params"]

LOS_PREDICTION_STEP_S = 20.0
LOS_PREDICTION_HORIZON_S = 30 * 60.0
"""longest_visibility predicts when a satellite sets on a 20 s grid up to 30 min ahead, once per pass."""


def network_params(network: Network) -> IslParams:
    return IslParams(
        rate_gbps=network.isl_rate_gbps,
        reference_range_km=network.isl_reference_range_km,
        degraded_below_fraction=network.degraded_below_fraction,
        acquisition_median_s=network.acquisition_median_s,
        acquisition_p95_s=network.acquisition_p95_s,
        drop_rate_per_day=network.drop_rate_per_day,
    )


@dataclass(frozen=True)
class NetworkStep:
    """What changed in one network step."""

    link_transitions: list[LinkTransition]
    ground_changes: list[GroundLinkChange]
    outages: list[tuple[int, bool, float]] = field(default_factory=list)
    """(station, up, time_s) for every outage that began (up False) or ended in the step."""
    rerouted: bool = False


class NetworkModel:
    """Links, ground links and routes of one fleet."""

    def __init__(self, spec: MissionSpec, satrecs: list, clock, ground: GroundNetwork, rng: np.random.Generator):
        config = spec.network
        self.config = config
        self.n = len(spec.satellites)
        self.ids = tuple(s.id for s in spec.satellites)
        self._satrecs = satrecs
        self._clock = clock
        self.ground = ground
        self.topology = config.topology if config.terminals > 0 else IslTopology.NONE
        self.terminals = config.terminals
        self._dynamic = self.topology in (IslTopology.N_NEAREST, IslTopology.FORMATION_MESH)
        self._plane = orbital_planes(spec.satellites)
        """Orbital plane of each satellite (a nearest-neighbour link between planes is cross-plane)."""
        altitudes = np.array([_mean_altitude_km(s.tle) for s in spec.satellites])
        self._line_of_sight_km = max_isl_range_km(altitudes, altitudes) if self.n else np.empty(0)
        range_km = self._line_of_sight_km.copy()
        if config.isl_max_range_km is not None:
            range_km = np.minimum(range_km, config.isl_max_range_km)
        if self.topology == IslTopology.FORMATION_MESH:
            range_km = np.minimum(range_km, config.formation_radius_km)
        self._range_km = range_km
        candidates = self._static_candidates(spec)
        self.links = IslLinks(self.n, candidates.a, candidates.b, network_params(config), rng, candidates.cross_plane)
        self._per_hop_s = config.per_hop_latency_ms / 1000.0
        self._ground_extra_s = config.ground_latency_ms / 1000.0
        stations = spec.ground_stations
        self.ground_links = GroundLinks(
            self.n,
            np.array([s.antennas for s in stations], dtype=np.int64),
            ground.sin_min_elevation,
            policy=config.handover.value,
            hysteresis_deg=config.handover_hysteresis_deg,
            hysteresis_s=config.handover_hysteresis_s,
            predict_los=self._predict_los,
        )
        self.downlink_gbps = np.array([s.downlink_gbps for s in stations], dtype=float)
        index = {station.id: k for k, station in enumerate(stations)}
        self._outages = sorted(
            (outage.start, outage.start + outage.duration, index[outage.station]) for outage in config.station_outage
        )
        self.operator_down = np.zeros(len(stations), dtype=bool)
        self.fault_down = np.zeros(len(stations), dtype=np.int64)
        """Station-outage faults active at each station (it is down while any is)."""
        """Stations the operator (or a fault) has taken off the air, on top of the timeline's outages."""
        self.routes: Routes = route_to_ground(self.n, [], [], [], [], [], [])
        self._link_table: _LinkTable | None = None
        self._router: LinkTableRouter | None = None
        self._groups_inside: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        """(table a, table b, inside) the groups were last computed from (the same links inside planes give the same sets)."""
        self._groups_plane: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        """(plane copy, table a, table b, same-plane mask) of the last gang_groups call."""
        self._groups = np.arange(self.n)
        self._routed_at_s = -np.inf
        self._routed_versions = (-1, -1)
        self.ground_latency_s = np.full(self.n, np.inf)
        """(N,) one-way latency of each satellite's own ground link (inf without one)."""

    # ------------------------------------------------------------------------------------ candidates

    def _static_candidates(self, spec: MissionSpec) -> CandidateLinks:
        if self.topology == IslTopology.PLUS_GRID:
            return plus_grid(spec.satellites, spec.shells)
        if self.topology == IslTopology.EXPLICIT:
            index = {sat_id: k for k, sat_id in enumerate(self.ids)}
            pairs = [(index[link.a], index[link.b]) for link in self.config.link]
            return explicit_links(pairs, self.n, self.terminals)
        return CandidateLinks.empty()

    def _dynamic_candidates(self, positions_km: np.ndarray, powered: np.ndarray) -> None:
        """Keep every link still closable; pair the free terminals with the nearest satellites in range."""
        links = self.links
        busy = np.isin(links.state, (1, 2, 3))  # acquiring, up, degraded hold their terminals
        used = np.bincount(links.a[busy], minlength=self.n) + np.bincount(links.b[busy], minlength=self.n)
        free = np.maximum(self.terminals - used, 0)
        eligible = powered & (free > 0)
        fresh = nearest_links(positions_km, free, self._range_km, eligible)
        new = ~np.isin(fresh.a * self.n + fresh.b, links.a[busy] * self.n + links.b[busy])
        a, b = fresh.a[new], fresh.b[new]
        links.merge(a, b, self._plane[a] != self._plane[b])  # the latitude cut-off is for links between planes

    # ----------------------------------------------------------------------------------------- steps

    def _table(self) -> "_LinkTable":
        """Per-table values that depend only on the link table (rebuilt when ``merge`` replaced it)."""
        links = self.links
        table = self._link_table
        if table is None or not table.matches(links):
            table = self._link_table = _LinkTable(links, self._range_km)
        return table

    def _closable(self, positions_km: np.ndarray, powered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(closable, distance_km) of every link in the table for positions at one instant."""
        links = self.links
        table = self._table()
        a, b = links.a, links.b
        # coordinate by coordinate: 1-D takes of the fleet's columns are ~1.5x faster than of (N, 3) rows
        length2 = None
        for column in np.ascontiguousarray(positions_km.T):
            delta = column.take(a)
            delta -= column.take(b)
            delta *= delta
            length2 = delta if length2 is None else np.add(length2, delta, out=length2)
        distance = np.sqrt(length2)
        ok = distance <= table.range_km
        radius2 = np.einsum("ij,ij->i", positions_km, positions_km)
        ok &= clears_earth_bounded(positions_km, a, b, radius2.take(a), radius2.take(b), length2)
        if not powered.all():
            ok &= powered[a] & powered[b]
        cutoff = self.config.cross_plane_max_latitude_deg
        if cutoff is not None and table.any_cross_plane:
            # |geocentric latitude| > cut-off  <=>  z² > sin²(cut-off)·r² (no trigonometry per satellite)
            high = positions_km[:, 2] ** 2 > np.sin(np.radians(cutoff)) ** 2 * radius2
            if high.any():
                ok &= ~(links.cross_plane & (high[a] | high[b]))
        return ok, distance

    def settle(self, time_s: float, positions_km: np.ndarray, ecef_km: np.ndarray, sin_elevation: np.ndarray, powered: np.ndarray) -> None:
        """Start of a run: links that can close are up, antennas are assigned, routes computed (no events)."""
        if self._dynamic:
            self._dynamic_candidates(positions_km, powered)
        closable, distance = self._closable(positions_km, powered)
        self.links.settle(closable, distance)
        self.ground_links.station_up[:] = self._stations_up(time_s)
        self.ground_links.step(time_s, sin_elevation)
        self._route(time_s, ecef_km, force=True)

    def step(self, t0_s: float, t1_s: float, positions_km: np.ndarray, ecef_km: np.ndarray, sin_elevation: np.ndarray,
             powered: np.ndarray) -> NetworkStep:
        """Advance links, ground links and routes over [t0_s, t1_s] (geometry at t1_s)."""
        if self._dynamic:
            self._dynamic_candidates(positions_km, powered)
        closable, distance = self._closable(positions_km, powered)
        transitions = self.links.step(t0_s, t1_s, closable, distance)
        outages = self._outage_changes(t0_s, t1_s)
        changes = self.ground_links.step(t1_s, sin_elevation)
        rerouted = self._route(t1_s, ecef_km)
        return NetworkStep(transitions, changes, outages, rerouted)

    def _stations_up(self, time_s: float) -> np.ndarray:
        up = ~self.operator_down & (self.fault_down == 0)
        for start, end, station in self._outages:
            if start <= time_s < end:
                up[station] = False
        return up

    def _outage_changes(self, t0_s: float, t1_s: float) -> list[tuple[int, bool, float]]:
        before = self.ground_links.station_up.copy()
        after = self._stations_up(t1_s)
        self.ground_links.station_up[:] = after
        changed = []
        for station in np.flatnonzero(before != after):
            when = t1_s
            for start, end, k in self._outages:  # the scheduled instant, when the timeline caused it
                if k == station and t0_s < (start if not after[station] else end) <= t1_s:
                    when = start if not after[station] else end
            changed.append((int(station), bool(after[station]), float(when)))
        return changed

    def _route(self, time_s: float, ecef_km: np.ndarray, force: bool = False) -> bool:
        versions = (self.links.version, self.ground_links.version)
        due = time_s - self._routed_at_s >= self.config.route_refresh
        if not (force or due or versions != self._routed_versions):
            return False
        sats, stations = self.ground_links.assigned()
        slant_km = np.linalg.norm(ecef_km[sats] - self.ground.positions_km[stations], axis=1) if len(sats) else np.empty(0)
        ground_s = slant_km / LIGHT_SPEED_KM_S + self._ground_extra_s
        ground_s = np.maximum(ground_s, 1e-9)
        self.ground_latency_s = np.full(self.n, np.inf)
        self.ground_latency_s[sats] = ground_s
        links = self.links
        router = self._router
        if router is None or not router.matches(links.a, links.b):
            router = self._router = LinkTableRouter(self.n, links.a, links.b)
        hop_s = np.maximum(links.distance_km / LIGHT_SPEED_KM_S + self._per_hop_s, 1e-12)
        self.routes = router.routes(links.carrying(), hop_s, sats, stations, ground_s)
        self._routed_at_s = time_s
        self._routed_versions = versions
        return True

    # -------------------------------------------------------------------------------------- queries

    def gang_groups(self, plane: np.ndarray) -> np.ndarray:
        """(N,) label of the set of satellites a gang may span: the same plane and joined by laser links
        carrying traffic within the plane (through any of its satellites). A set is labelled by its lowest
        satellite index, so labels change only when the sets do (not when links elsewhere come and go)."""
        plane = np.asarray(plane)
        links = self.links
        cached = self._groups_plane
        if (cached is None or cached[1] is not links.a or cached[2] is not links.b
                or not np.array_equal(cached[0], plane)):
            cached = self._groups_plane = (plane.copy(), links.a, links.b, plane[links.a] == plane[links.b])
        inside = links.carrying() & cached[3]
        last = self._groups_inside
        same_table = last is not None and last[0] is links.a and last[1] is links.b
        if same_table and np.array_equal(last[2], inside):
            return self._groups  # the same links inside planes as last time: the same sets
        # The sets depend only on the links inside planes: the same links give the same labels.
        self._groups_inside = (links.a, links.b, inside)
        if same_table:
            changed = np.flatnonzero(last[2] != inside)
            if len(changed) <= _GROUPS_LOCAL_CHANGES:
                self._groups = self._regroup(inside, changed)
                return self._groups
        rows = np.flatnonzero(inside)
        a, b = links.a.take(rows), links.b.take(rows)
        # The table is sorted by (a, b), so the rows of the (upper-triangle) graph come in order.
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(a, minlength=self.n), out=indptr[1:])
        graph = csr_matrix((np.ones(len(a)), b, indptr), shape=(self.n, self.n))
        count, component = connected_components(graph, directed=False)
        lowest = np.full(count, self.n, dtype=np.int64)
        np.minimum.at(lowest, component, np.arange(self.n))
        self._groups = lowest[component]
        return self._groups

    def _regroup(self, inside: np.ndarray, changed: np.ndarray) -> np.ndarray:
        """gang_groups after a few links (table rows `changed`) joined or left the links inside planes:
        only the sets those links touch can change, so only their satellites are labelled again (the
        labels are each set's lowest satellite, as for the whole fleet)."""
        links, groups = self.links, self._groups
        touched = np.zeros(self.n, dtype=bool)
        touched[groups[links.a[changed]]] = True
        touched[groups[links.b[changed]]] = True
        nodes = np.flatnonzero(touched[groups])  # ascending
        # a link inside with an end in a touched set has both ends there (it joined two touched sets)
        rows = np.flatnonzero(inside & touched[groups[links.a]])
        local = np.empty(self.n, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        regrouped = groups.copy()
        regrouped[nodes] = nodes[_lowest_of_components(len(nodes), local[links.a.take(rows)], local[links.b.take(rows)])]
        return regrouped

    def gang_slowdown(self, running: tuple[np.ndarray, np.ndarray, np.ndarray], shape: tuple[int, int],
                      group: np.ndarray) -> np.ndarray | None:
        """(N, G) speed factor from the network for every GPU, from the workload's ``running_gpus()`` (or
        ``spanning_gpus()``, the only jobs it can slow): a job on several satellites stalls (0) when they are
        not all in one `group`, and otherwise slows with the slowest link carrying traffic at its
        satellites: 1 / (1 + f·(R_full / R_min - 1)), f = ``training_comm_fraction``. GPUs of
        single-satellite jobs, and idle GPUs, get 1. None when every GPU gets 1 (the usual step)."""
        index, flat, starts = running
        if not index.size:
            return None
        flat, starts = np.asarray(flat), np.asarray(starts)
        sats = flat // shape[1]
        # A job spans satellites where two of its consecutive GPUs are on different ones (the same as
        # max > min of its satellites); usually only a few jobs do, and only their GPUs are looked at.
        moves = np.flatnonzero(sats[1:] != sats[:-1]) + 1
        job = np.searchsorted(starts, moves, side="right") - 1
        spanning_jobs = np.unique(job[starts[job] != moves])
        if not len(spanning_jobs):
            return None
        ends = np.append(starts[1:], len(flat))
        sizes = ends[spanning_jobs] - starts[spanning_jobs]
        sub_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        positions = np.repeat(starts[spanning_jobs] - sub_starts, sizes) + np.arange(int(sizes.sum()))
        sats = sats[positions]
        groups = np.asarray(group)[sats]
        split = np.maximum.reduceat(groups, sub_starts) > np.minimum.reduceat(groups, sub_starts)
        links = self.links
        up = links.carrying()
        full = links.params.rate_gbps
        slowdown = np.ones(len(spanning_jobs))
        slow_links = up & (links.rate_gbps < full)
        if slow_links.any():  # links run at full rate up to the reference range: usually none are slower
            slowest_at = np.full(self.n, full)
            np.minimum.at(slowest_at, links.a[slow_links], links.rate_gbps[slow_links])
            np.minimum.at(slowest_at, links.b[slow_links], links.rate_gbps[slow_links])
            slowest = np.minimum.reduceat(slowest_at[sats], sub_starts)
            slowdown = 1.0 / (1.0 + self.config.training_comm_fraction * (full / slowest - 1.0))
        job_factor = np.where(split, 0.0, slowdown)
        if (job_factor == 1.0).all():
            return None
        factor = np.ones(shape)
        factor.reshape(-1)[flat[positions]] = np.repeat(job_factor, sizes)
        return factor

    def terminal_power_w(self) -> np.ndarray:
        """(N,) power the laser terminals draw (acquiring, up or degraded links, one terminal per end)."""
        return self.links.powered_terminals() * self.config.isl_power_w

    def _predict_los(self, sats: np.ndarray, station: int, time_s: float) -> np.ndarray:
        """When each satellite next sets below the station's mask (linear interpolation on a 20 s grid);
        the horizon's end if it is still up then."""
        times = time_s + np.arange(1, int(LOS_PREDICTION_HORIZON_S / LOS_PREDICTION_STEP_S) + 1) * LOS_PREDICTION_STEP_S
        jd, fr = self._clock.jd_utc(times)
        error, position, _ = SatrecArray([self._satrecs[s] for s in sats]).sgp4(np.atleast_1d(jd), np.atleast_1d(fr))
        gmst = self._clock.gmst_rad(times)
        cos_g, sin_g = np.cos(gmst)[None, :], np.sin(gmst)[None, :]
        x = cos_g * position[..., 0] + sin_g * position[..., 1]
        y = -sin_g * position[..., 0] + cos_g * position[..., 1]
        offset = np.stack([x, y, position[..., 2]], axis=-1) - self.ground.positions_km[station]
        sin_el = np.einsum("ktj,j->kt", offset, self.ground.up[station]) / np.linalg.norm(offset, axis=-1)
        sin_el = np.where(error == 0, sin_el, -1.0)
        below = sin_el < self.ground.sin_min_elevation[station]
        first = np.where(below.any(axis=1), below.argmax(axis=1), -1)
        rows = np.arange(len(sats))
        previous = np.maximum(first - 1, 0)
        high, low = sin_el[rows, previous], sin_el[rows, np.maximum(first, 0)]
        fraction = np.clip((high - self.ground.sin_min_elevation[station]) / np.maximum(high - low, 1e-12), 0.0, 1.0)
        crossing = times[previous] + fraction * LOS_PREDICTION_STEP_S
        los = np.where(first > 0, crossing, np.where(first == 0, time_s + 0.5 * LOS_PREDICTION_STEP_S, times[-1]))
        return los


def _lowest_of_components(count: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(count,) the lowest node of each node's connected component over the edges (u, v).

    Hook and jump: every edge joining two trees hangs the higher root under the lower, then pointer
    jumping flattens the trees; roots only ever fall, so the root left of each component is its lowest
    node. A few numpy passes for the small graphs ``_regroup`` builds, where scipy's graph setup alone
    costs several times as much."""
    label = np.arange(count)
    while True:
        root_u, root_v = label[u], label[v]
        apart = root_u != root_v
        if not apart.any():
            return label
        root_u, root_v = root_u[apart], root_v[apart]
        np.minimum.at(label, np.maximum(root_u, root_v), np.minimum(root_u, root_v))
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped


_GROUPS_LOCAL_CHANGES = 64
"""gang_groups relabels only the touched sets when at most this many links changed since the last call."""


class _LinkTable:
    """Values that depend only on the link table (its pairs), kept while ``IslLinks`` keeps the table."""

    def __init__(self, links: IslLinks, range_km: np.ndarray):
        self.a, self.b, self.cross_plane = links.a, links.b, links.cross_plane
        self.range_km = np.minimum(range_km[links.a], range_km[links.b])
        """(P,) range limit of each link (the smaller of its ends')."""
        self.any_cross_plane = bool(links.cross_plane.any())

    def matches(self, links: IslLinks) -> bool:
        return links.a is self.a and links.b is self.b and links.cross_plane is self.cross_plane


def _mean_altitude_km(tle: tuple[str, str]) -> float:
    """Mean altitude from a TLE's mean motion (revolutions per day), for the line-of-sight range limit."""
    from engine.constants import EARTH_RADIUS_SGP4_KM, MU_EARTH_KM3_S2

    mean_motion_rad_s = float(tle[1][52:63]) * 2.0 * np.pi / 86400.0
    semi_major_km = (MU_EARTH_KM3_S2 / mean_motion_rad_s**2) ** (1.0 / 3.0)
    return semi_major_km - EARTH_RADIUS_SGP4_KM
