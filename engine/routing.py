"""Routes from every satellite to the ground over the current inter-satellite link graph.

One Dijkstra run (scipy.sparse.csgraph) from a virtual "ground" node, index N, joined to each satellite
that has a ground link by an edge weighted with that ground leg's latency, gives every satellite its
shortest one-way latency to the ground and its predecessor, which is the next hop towards the ground.
The gateway (the satellite whose ground link ends the route) and the hop count follow from the
predecessor tree by pointer jumping: every pass doubles how far each pointer reaches, so O(log depth)
numpy passes replace a Python walk per satellite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

LIGHT_SPEED_KM_S = 299_792.458


@dataclass(frozen=True, eq=False)
class Routes:
    """Shortest-latency route from each satellite to the ground (all arrays (N,), read-only).

    ``hops``, ``gateway`` and ``station`` follow from the route tree and are worked out when first read
    (most steps read only the latencies and next hops)."""

    latency_s: np.ndarray
    """float64: total one-way latency to the ground; inf where there is no path."""
    next_hop: np.ndarray
    """int64: the neighbour satellite the route goes through next; -1 for a gateway or where no path."""
    _station_of_satellite: np.ndarray = field(repr=False)
    """int64: the station of each satellite's own ground link; -1 without one."""

    @property
    def reachable(self) -> np.ndarray:
        """bool (N,): the satellite has a route to the ground."""
        return np.isfinite(self.latency_s)

    @cached_property
    def _tree(self) -> tuple[np.ndarray, np.ndarray]:
        """(root, depth) of every satellite in the route tree (a gateway is its own root)."""
        n = len(self.latency_s)
        relay = self.next_hop >= 0
        return _root_and_depth(np.where(relay, self.next_hop, np.arange(n)))

    @cached_property
    def hops(self) -> np.ndarray:
        """int64: inter-satellite hops to the gateway satellite (0 = the satellite is a gateway); -1 where no path."""
        return _frozen(np.where(self.reachable, self._tree[1], -1))

    @cached_property
    def gateway(self) -> np.ndarray:
        """int64: satellite whose ground link ends the route (itself for a gateway); -1 where no path."""
        return _frozen(np.where(self.reachable, self._tree[0], -1))

    @cached_property
    def station(self) -> np.ndarray:
        """int64: station index at the end of the route; -1 where no path."""
        return _frozen(np.where(self.reachable, self._station_of_satellite[self.gateway], -1))


def link_latency_s(distance_km: np.ndarray | float, per_hop_s: float = 0.0) -> np.ndarray | float:
    """One-way latency of a link: light time over `distance_km` plus a fixed per-hop cost."""
    return np.asarray(distance_km, dtype=float) / LIGHT_SPEED_KM_S + per_hop_s


def route_to_ground(
    satellite_count: int,
    link_a: np.ndarray,
    link_b: np.ndarray,
    link_latency_s: np.ndarray,
    ground_satellite: np.ndarray,
    ground_station: np.ndarray,
    ground_latency_s: np.ndarray,
    links_unique: bool = False,
) -> Routes:
    """Shortest-latency route from every satellite to any ground station.

    link_a, link_b, link_latency_s: (L,) undirected inter-satellite links and their one-way latencies
    (a pair listed more than once keeps its smallest latency; a caller whose pairs are unique says so
    with `links_unique` and skips that sort). ground_satellite, ground_station, ground_latency_s: (K,)
    the ground links available now, at most one per satellite.
    """
    n = _satellite_count(satellite_count)
    a, b, link_s = _links(n, link_a, link_b, link_latency_s)
    ground_sat, station_of_link, ground_s = _ground_links(n, ground_satellite, ground_station, ground_latency_s)

    ground = np.full(len(ground_sat), n, dtype=np.int64)
    graph = _graph(n + 1, np.concatenate([a, ground_sat]), np.concatenate([b, ground]), np.concatenate([link_s, ground_s]),
                   deduplicate=not links_unique)
    return _routes(n, graph, ground_sat, station_of_link)


class LinkTableRouter:
    """``route_to_ground`` over a fixed table of links, of which a changing subset carries traffic.

    The table (a < b, pairs unique and sorted by (a, b), as ``IslLinks`` keeps them) is laid out once as
    the rows of the symmetric sparse graph in canonical order (by row, then column), followed by the
    ground node's row with an entry for every satellite. The graph's structure is therefore fixed: each
    call only writes the weights, a link's latency where it carries traffic and a satellite's ground leg
    where it has a ground link, infinity elsewhere, and the search ignores infinite entries (``limit``).
    The edges back to the ground node, which ``route_to_ground`` keeps, are left out: the search starts
    there, so they change nothing. The same routes as ``route_to_ground``, without building a graph.
    """

    def __init__(self, satellite_count: int, a: np.ndarray, b: np.ndarray):
        n = _satellite_count(satellite_count)
        self.n, self.a, self.b = n, a, b
        count = len(a)
        rows, cols = np.concatenate([a, b]), np.concatenate([b, a])
        order = np.argsort(rows * np.int64(n + 1) + cols, kind="stable")
        self._link = np.concatenate([np.arange(count), np.arange(count)])[order]
        indices = np.concatenate([cols[order], np.arange(n)]).astype(np.int32)
        counts = np.append(np.bincount(rows, minlength=n), n)
        indptr = np.zeros(n + 2, dtype=np.int32)
        np.cumsum(counts, out=indptr[1:])
        self._graph = csr_matrix((np.full(len(indices), np.inf), indices, indptr), shape=(n + 1, n + 1), copy=False)
        self._weight = self._graph.data  # the matrix's own array, written in place each call

    def matches(self, a: np.ndarray, b: np.ndarray) -> bool:
        return a is self.a and b is self.b

    def routes(self, carrying: np.ndarray, link_latency_s: np.ndarray, ground_satellite: np.ndarray,
               ground_station: np.ndarray, ground_latency_s: np.ndarray) -> Routes:
        """Routes over the links with `carrying` (P,) True, `link_latency_s` (P,) per table row (only the
        carrying rows are read), and the ground links as in ``route_to_ground``; the same Routes."""
        n = self.n
        link_s = np.where(carrying, link_latency_s, np.inf)
        if not ((link_s > 0) & (np.isfinite(link_s) | ~carrying)).all():  # (NaN > 0 is False)
            carried = np.flatnonzero(carrying)  # route_to_ground refuses it, with its message
            return route_to_ground(n, self.a[carried], self.b[carried], link_latency_s[carried], ground_satellite,
                                   ground_station, ground_latency_s, links_unique=True)
        ground_sat, station_of_link, ground_s = _ground_links(n, ground_satellite, ground_station, ground_latency_s)
        weight = self._weight
        links = len(self._link)
        link_s.take(self._link, out=weight[:links])
        ground_row = weight[links:]
        ground_row.fill(np.inf)
        ground_row[ground_sat] = ground_s
        return _routes(n, self._graph, ground_sat, station_of_link, limit=_FINITE)


_FINITE = float(np.finfo(np.float64).max)
"""Search limit that keeps every finite path and skips the infinite weights of links not carrying traffic."""


def _routes(n: int, graph: csr_matrix, ground_sat: np.ndarray, station_of_link: np.ndarray,
            limit: float = np.inf) -> Routes:
    """Routes from one Dijkstra run from the ground node n of `graph` (both directions of every edge)."""
    # The matrix holds both directions of every edge, so it is searched as directed (no symmetrising copy).
    # min_only: one source, so the (1, n) result rows are skipped (the same distances and tree, faster).
    distance_s, predecessor, _ = dijkstra(graph, directed=True, indices=n, return_predecessors=True, limit=limit,
                                          min_only=True)
    latency_s = np.asarray(distance_s[:n], dtype=np.float64)
    predecessor = np.asarray(predecessor[:n], dtype=np.int64)

    reachable = np.isfinite(latency_s)  # scipy gives unreachable nodes (and the source) predecessor -9999
    relay = reachable & (predecessor != n)
    station_of_satellite = np.full(n, -1, dtype=np.int64)
    station_of_satellite[ground_sat] = station_of_link
    return Routes(
        latency_s=_frozen(latency_s),
        next_hop=_frozen(np.where(relay, predecessor, -1)),
        _station_of_satellite=_frozen(station_of_satellite),
    )


def _graph(size: int, u: np.ndarray, v: np.ndarray, weight_s: np.ndarray, deduplicate: bool = True) -> csr_matrix:
    """Symmetric (size, size) sparse graph; a pair given more than once keeps its smallest weight (pass
    ``deduplicate=False`` only when no pair repeats: the matrix would sum repeated weights)."""
    low, high = np.minimum(u, v), np.maximum(u, v)
    if deduplicate:
        key = low * size + high
        order = np.lexsort((weight_s, key))  # by pair, then by weight: the first of each pair is its minimum
        key = key[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        keep = order[first]
        low, high, weight_s = low[keep], high[keep], weight_s[keep]
    rows = np.concatenate([low, high])
    cols = np.concatenate([high, low])
    return csr_matrix((np.concatenate([weight_s, weight_s]), (rows, cols)), shape=(size, size))


def _root_and_depth(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root and depth of every node of a forest given by `parent` (roots are their own parent).

    Pointer jumping: after k passes each pointer has moved min(2**k, depth) steps up the tree."""
    jump = parent.copy()
    depth = (parent != np.arange(len(parent))).astype(np.int64)
    while True:
        further = jump[jump]
        if np.array_equal(further, jump):
            return jump, depth
        depth += depth[jump]
        jump = further


def _satellite_count(satellite_count: int) -> int:
    if isinstance(satellite_count, bool) or int(satellite_count) != satellite_count or satellite_count < 0:
        raise ValueError(f"satellite_count must be a non-negative integer, got {satellite_count!r}")
    return int(satellite_count)


def _links(n: int, link_a, link_b, latency_s) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = _indices("link_a", link_a, n)
    b = _indices("link_b", link_b, n)
    link_s = _latencies("link_latency_s", latency_s)
    if not len(a) == len(b) == len(link_s):
        raise ValueError(
            f"link_a, link_b and link_latency_s must have the same length, got {len(a)}, {len(b)} and {len(link_s)}"
        )
    loops = np.flatnonzero(a == b)
    if len(loops):
        raise ValueError(f"a link joins a satellite to itself (link {loops[0]}, satellite {a[loops[0]]})")
    return a, b, link_s


def _ground_links(n: int, ground_satellite, ground_station, latency_s) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    satellites = _indices("ground_satellite", ground_satellite, n)
    stations = _indices("ground_station", ground_station, None)
    ground_s = _latencies("ground_latency_s", latency_s)
    if not len(satellites) == len(stations) == len(ground_s):
        raise ValueError(
            "ground_satellite, ground_station and ground_latency_s must have the same length, "
            f"got {len(satellites)}, {len(stations)} and {len(ground_s)}"
        )
    unique, counts = np.unique(satellites, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"ground_satellite lists satellite {unique[counts > 1][0]} more than once")
    return satellites, stations, ground_s


def _indices(name: str, values, upper: int | None) -> np.ndarray:
    """1-D int64 indices in [0, upper) (no upper bound if None); an empty sequence of any dtype is fine."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        return np.empty(0, dtype=np.int64)
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer indices, got dtype {array.dtype}")
    array = array.astype(np.int64)
    outside = array < 0 if upper is None else (array < 0) | (array >= upper)
    bad = np.flatnonzero(outside)
    if len(bad):
        limit = "non-negative" if upper is None else f"in [0, {upper})"
        raise ValueError(f"{name} index out of range: {array[bad[0]]} at position {bad[0]} (must be {limit})")
    return array


def _latencies(name: str, values) -> np.ndarray:
    """1-D float64 latencies, finite and > 0 (scipy drops zero-weight edges from sparse graphs)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if len(bad):
        raise ValueError(f"{name} must be finite, got {array[bad[0]]} at position {bad[0]}")
    bad = np.flatnonzero(array <= 0)
    if len(bad):
        raise ValueError(f"{name} must be > 0, got {array[bad[0]]} at position {bad[0]}")
    return array


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array
