"""Inter-satellite laser links: which terminal pairs may carry a link, and whether each can close now.

Candidate sets (built once, or whenever a dynamic topology is recomputed):

* ``plus_grid``: the +Grid of Walker shells (Hypatia, StarPerf): fore/aft to the neighbours in the plane,
  right/left to the same slot in the adjacent planes, with the Walker phase offset across the seam.
* ``nearest_links``: each satellite to its nearest neighbours within range (StarPerf's ``n_nearest``, and
  the ``formation_mesh`` of tight clusters), an exact greedy over pairs in increasing distance.
* ``explicit_links``: hand-listed pairs from a mission file (CosmicBeats-style adjacency).

Per step, ``link_geometry`` tells for every candidate whether it can close: in range, the laser path clears
the Earth plus ``GRAZING_ALTITUDE_KM`` of atmosphere (network-and-jobs.md §3.1; physics.md §3.10), and a
cross-plane link is not switched off by the polar latitude cut-off. Everything per step is vectorised over
links with fancy indexing.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from engine.constants import EARTH_RADIUS_SGP4_KM
from engine.mission.models import Shell
from engine.mission.spec import SatelliteSpec

GRAZING_ALTITUDE_KM = 80.0
"""A laser path must clear the Earth plus 80 km of atmosphere (Hypatia ``main_starlink_550.py``, Celestial)."""

TERMINAL_FORE, TERMINAL_AFT, TERMINAL_RIGHT, TERMINAL_LEFT = 0, 1, 2, 3
PLUS_GRID_TERMINALS = 4

_FULL_SPREAD_DEG = 360.0 - 1e-9
_MAX_TERMINALS = int(np.iinfo(np.int8).max)
_SAFETY = 1e-9  # relative margin of the exactness checks in nearest_links (rounding of tree distances)
_DOUBLINGS = 1  # nearest_links: rounds that re-query unsafe points with twice the k before pairing them


def _frozen(values: np.ndarray | Sequence, dtype: type) -> np.ndarray:
    array = np.array(values, dtype=dtype).reshape(-1)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class CandidateLinks:
    """Terminal pairs that may carry a link: (P,) arrays, read-only, a < b, no duplicate pairs.

    The constructors in this module return the pairs sorted by (a, b).
    """

    a: np.ndarray
    """int64 satellite index of the lower end."""
    b: np.ndarray
    """int64 satellite index of the higher end."""
    terminal_a: np.ndarray
    """int8 terminal on a (0..terminals-1)."""
    terminal_b: np.ndarray
    """int8 terminal on b."""
    cross_plane: np.ndarray
    """bool: between two orbital planes (these switch off above a latitude cut-off)."""

    def __post_init__(self) -> None:
        for name, dtype in (("a", np.int64), ("b", np.int64), ("terminal_a", np.int8), ("terminal_b", np.int8), ("cross_plane", bool)):
            object.__setattr__(self, name, _frozen(getattr(self, name), dtype))
        count = len(self.a)
        if any(len(getattr(self, name)) != count for name in ("b", "terminal_a", "terminal_b", "cross_plane")):
            raise ValueError("CandidateLinks arrays must all have the same length")
        if count and not np.all(self.a < self.b):
            raise ValueError("CandidateLinks needs a < b for every pair")

    @property
    def count(self) -> int:
        return len(self.a)

    @staticmethod
    def empty() -> "CandidateLinks":
        return CandidateLinks(*(np.empty(0, dtype=dtype) for dtype in (np.int64, np.int64, np.int8, np.int8, bool)))


def _normalised(a: np.ndarray, b: np.ndarray, terminal_a: np.ndarray, terminal_b: np.ndarray, cross: np.ndarray, satellite_count: int) -> CandidateLinks:
    """Swap ends so a < b, drop self-links and repeated pairs (the first listed wins), sort by (a, b)."""
    keep = a != b
    a, b, terminal_a, terminal_b, cross = a[keep], b[keep], terminal_a[keep], terminal_b[keep], cross[keep]
    swap = a > b
    low, high = np.where(swap, b, a), np.where(swap, a, b)
    t_low, t_high = np.where(swap, terminal_b, terminal_a), np.where(swap, terminal_a, terminal_b)
    _, first = np.unique(low * np.int64(max(satellite_count, 1)) + high, return_index=True)
    return CandidateLinks(low[first], high[first], t_low[first], t_high[first], cross[first])


# ------------------------------------------------------------------------------------------------ +Grid


def plus_grid(satellites: Sequence[SatelliteSpec], shells: Sequence[Shell]) -> CandidateLinks:
    """+Grid: terminal 0 fore (next slot in the plane, wrapping), 1 aft, 2 right (same slot in the next plane), 3 left.

    Planes wrap (last plane to the first) only for a full 360° RAAN spread; across that seam the neighbour
    of slot s is slot (s + phasing) mod S, the Walker phase offset accumulated over P planes. Satellites not
    in a shell (explicit TLEs) get no links; links to satellites missing from `satellites` are dropped.
    A plane of one or two satellites gives no self-links or repeated pairs; one plane gives no cross links.
    """
    count = len(satellites)
    by_name = {shell.name: shell for shell in shells}
    members: dict[str, list[int]] = {}
    for index, satellite in enumerate(satellites):
        if satellite.shell is not None:
            members.setdefault(satellite.shell, []).append(index)

    parts: list[tuple[np.ndarray, ...]] = []
    for name, indices in members.items():
        if name not in by_name:
            raise ValueError(f"satellite {satellites[indices[0]].id!r} names shell {name!r}, which is not given")
        shell = by_name[name]
        planes, slots = shell.planes, shell.sats_per_plane
        index = np.array(indices, dtype=np.int64)
        plane = np.array([satellites[i].plane for i in indices], dtype=np.int64) - 1
        slot = np.array([satellites[i].slot for i in indices], dtype=np.int64) - 1
        bad = (plane < 0) | (plane >= planes) | (slot < 0) | (slot >= slots)
        if bad.any():
            culprit = satellites[int(index[np.argmax(bad)])]
            raise ValueError(f"satellite {culprit.id!r}: plane {culprit.plane}, slot {culprit.slot} is outside shell {name!r} ({planes}×{slots})")
        grid = np.full((planes, slots), -1, dtype=np.int64)
        grid[plane, slot] = index
        if np.count_nonzero(grid >= 0) != len(index):
            raise ValueError(f"shell {name!r}: two satellites share a plane and slot")

        if slots >= 2:  # fore (terminal 0) to the next slot, which sees it aft (terminal 1)
            parts.append((grid.ravel(), np.roll(grid, -1, axis=1).ravel(), TERMINAL_FORE, TERMINAL_AFT, False))
        if planes >= 2:  # right (terminal 2) to the same slot of the next plane, which sees it left (terminal 3)
            parts.append((grid[:-1].ravel(), grid[1:].ravel(), TERMINAL_RIGHT, TERMINAL_LEFT, True))
            if shell.raan_spread_deg >= _FULL_SPREAD_DEG:
                seam = grid[0, (np.arange(slots) + shell.phasing) % slots]
                parts.append((grid[-1], seam, TERMINAL_RIGHT, TERMINAL_LEFT, True))

    if not parts:
        return CandidateLinks.empty()
    a = np.concatenate([part[0] for part in parts])
    b = np.concatenate([part[1] for part in parts])
    terminal_a = np.concatenate([np.full(len(part[0]), part[2], dtype=np.int8) for part in parts])
    terminal_b = np.concatenate([np.full(len(part[0]), part[3], dtype=np.int8) for part in parts])
    cross = np.concatenate([np.full(len(part[0]), part[4], dtype=bool) for part in parts])
    present = (a >= 0) & (b >= 0)
    return _normalised(a[present], b[present], terminal_a[present], terminal_b[present], cross[present], count)


# ------------------------------------------------------------------------------------------------ nearest


def _per_satellite(value: int | float | np.ndarray, count: int, dtype: type, name: str) -> np.ndarray:
    array = np.asarray(value, dtype=dtype)
    if array.ndim == 0:
        return np.full(count, array, dtype=dtype)
    if array.shape != (count,):
        raise ValueError(f"{name} must be a scalar or have shape ({count},), got {array.shape}")
    return array


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys


def _stable_order(vertex: np.ndarray, size: int) -> np.ndarray:
    """Stable argsort of vertex indices below `size` (a radix sort when they fit in 16 bits)."""
    return np.argsort(vertex.astype(np.uint16) if size <= 65536 else vertex, kind="stable")


def _group_positions(vertex: np.ndarray) -> np.ndarray:
    """0-based position of each entry within its run of equal values (`vertex` grouped, e.g. sorted)."""
    count = len(vertex)
    if not count:
        return np.empty(0, dtype=np.int64)
    starts = np.ones(count, dtype=bool)
    starts[1:] = vertex[1:] != vertex[:-1]
    positions = np.arange(count, dtype=np.int64)
    return positions - np.maximum.accumulate(np.where(starts, positions, 0))


def _greedy_b_matching(a: np.ndarray, b: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Bool mask of the edges (already in processing order) a sequential greedy would accept.

    Sequential greedy: walk the edges in order, accept one if both ends still have capacity. Computed in
    vectorised rounds: an edge among the first c_a remaining edges of a and the first c_b of b is accepted
    whatever happens to the edges before it, so all such edges are accepted at once, capacities are
    reduced, edges at full ends are dropped, and the rest is the same problem again (the first remaining
    edge is always accepted, so every round makes progress).
    """
    edges, size = len(a), len(capacity)
    accepted = np.zeros(edges, dtype=bool)
    remaining = capacity.astype(np.int64)
    incident_vertex = np.stack([a, b], axis=1).ravel()  # edge e owns entries 2e and 2e + 1
    order = _stable_order(incident_vertex, size)  # by vertex, then by processing order
    incident_edge, incident_vertex = order // 2, incident_vertex[order]
    alive = (remaining[a] > 0) & (remaining[b] > 0)
    while alive.any():
        keep = alive[incident_edge]
        incident_edge, incident_vertex = incident_edge[keep], incident_vertex[keep]
        early = _group_positions(incident_vertex) < remaining[incident_vertex]
        sure = np.bincount(incident_edge[early], minlength=edges) == 2
        accepted |= sure
        remaining = remaining - np.bincount(a[sure], minlength=size) - np.bincount(b[sure], minlength=size)
        alive &= ~sure & (remaining[a] > 0) & (remaining[b] > 0)
    return accepted


def _full_distance_km(i: np.ndarray, j: np.ndarray, distance_km: np.ndarray, accepted: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """(n,) distance of the link that used a point's last terminal (inf if it never became full)."""
    ends = np.stack([i[accepted], j[accepted]], axis=1).ravel()
    ends_km = np.repeat(distance_km[accepted], 2)
    order = _stable_order(ends, len(capacity))  # per point, in acceptance order
    ends, ends_km = ends[order], ends_km[order]
    last = _group_positions(ends) == capacity[ends] - 1
    full_km = np.full(len(capacity), np.inf)
    full_km[ends[last]] = ends_km[last]
    return full_km


def nearest_links(
    positions_km: np.ndarray,
    terminals: int | np.ndarray,
    max_range_km: float | np.ndarray,
    eligible: np.ndarray | None = None,
) -> CandidateLinks:
    """Dynamic topology: each satellite links to its nearest neighbours within range, at most `terminals` each.

    Greedy over pairs in increasing distance (ties by (a, b)): a pair is accepted only if both ends still
    have a free terminal, so the result is symmetric and deterministic. Terminals are numbered in order of
    acceptance per satellite. Every link counts as cross-plane. `terminals` and `max_range_km` may be per
    satellite (a pair uses the smaller range); `eligible` (N,) bool excludes satellites.

    Candidates come from a k-d tree, k = terminals + 1 neighbours per satellite. A pair left out of them
    can only change the greedy if both its ends are "unsafe": not yet full at the distance where their
    neighbour lists were cut, with neighbours left within range. Unsafe points are queried again with twice
    the k, then every pair of unsafe points within range is added, until no such pair is missing: the
    result is the all-pairs greedy without O(N²) work.
    """
    positions = np.asarray(positions_km, dtype=float).reshape(-1, 3)
    count = len(positions)
    capacity = _per_satellite(terminals, count, np.int64, "terminals")
    range_km = _per_satellite(max_range_km, count, float, "max_range_km")
    if capacity.size and (capacity.min() < 0 or capacity.max() > _MAX_TERMINALS):
        raise ValueError(f"terminals must be between 0 and {_MAX_TERMINALS}")
    usable = (capacity > 0) & np.isfinite(positions).all(axis=1) & (range_km > 0)
    if eligible is not None:
        usable &= _per_satellite(eligible, count, bool, "eligible")
    members = np.flatnonzero(usable)
    size = len(members)
    if size < 2:
        return CandidateLinks.empty()

    points, capacity_m, range_m = positions[members], capacity[members], range_km[members]
    bound_km = float(range_m.max()) * (1.0 + _SAFETY) + 1e-9
    tree = cKDTree(points)

    def neighbours(query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Keys (i·size + j, i < j) of the k-nearest pairs of `query`, and the distance where each list was cut."""
        k = min(k, size)
        found_km, found = tree.query(points[query], k=k, distance_upper_bound=bound_km)
        found_km, found = found_km.reshape(len(query), k), found.reshape(len(query), k)
        cut_km = np.where(np.isfinite(found_km[:, -1]) & (k < size), found_km[:, -1], np.inf)
        source = np.broadcast_to(query[:, None], found.shape)
        valid = (found < size) & (found != source)
        i, j = source[valid], found[valid]
        return np.minimum(i, j) * size + np.maximum(i, j), cut_km

    def edges_of(new_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs within range of sorted keys, in processing order (distance, then (a, b))."""
        i, j = np.divmod(new_keys, size)
        distance_km = np.linalg.norm(points[i] - points[j], axis=1)
        within = distance_km <= np.minimum(range_m[i], range_m[j])
        i, j, distance_km = i[within], j[within], distance_km[within]
        order = np.argsort(distance_km, kind="stable")  # keys sorted, and members increasing: ties by (a, b)
        return i[order], j[order], distance_km[order]

    k = int(capacity_m.max()) + 2  # the point itself, plus terminals + 1 neighbours
    keys, cut_km = neighbours(np.arange(size), k)
    keys = _sorted_unique(keys)
    i, j, distance_km = edges_of(keys)
    accepted = _greedy_b_matching(i, j, capacity_m)
    for round_number in itertools.count():
        full_km = _full_distance_km(i, j, distance_km, accepted, capacity_m)
        unsafe = np.flatnonzero((full_km >= cut_km * (1.0 - _SAFETY)) & (cut_km <= range_m * (1.0 + _SAFETY)))
        if not len(unsafe):
            break
        if round_number < _DOUBLINGS:
            k *= 2
            added, cut_km[unsafe] = neighbours(unsafe, k)
        else:
            pairs = cKDTree(points[unsafe]).query_pairs(bound_km, output_type="ndarray")
            added = unsafe[pairs[:, 0]] * size + unsafe[pairs[:, 1]]  # unsafe is increasing, so i < j
        added = _sorted_unique(added)
        place = np.searchsorted(keys, added)
        fresh = keys[np.minimum(place, len(keys) - 1)] != added if len(keys) else np.ones(len(added), dtype=bool)
        if not fresh.any():
            if round_number < _DOUBLINGS:
                continue  # the longer lists only moved the cuts: look at the unsafe points again
            break  # every pair of unsafe points within range is a candidate already: the greedy is exact
        added = added[fresh]
        keys = np.insert(keys, place[fresh], added)
        new_i, new_j, new_km = edges_of(added)
        if not len(new_i):
            continue
        # Merge the new pairs into the processing order; the greedy before the first of them is unchanged.
        before = np.searchsorted(distance_km, new_km, side="left")
        if np.any(before != np.searchsorted(distance_km, new_km, side="right")):  # a distance tie: sort afresh
            i, j, distance_km = np.concatenate([i, new_i]), np.concatenate([j, new_j]), np.concatenate([distance_km, new_km])
            order = np.lexsort((j, i, distance_km))
            i, j, distance_km, accepted = i[order], j[order], distance_km[order], np.concatenate([accepted, np.zeros(len(new_i), dtype=bool)])[order]
            start = int(np.flatnonzero(order >= len(order) - len(new_i))[0])
        else:
            start = int(before[0])
            i, j, distance_km = np.insert(i, before, new_i), np.insert(j, before, new_j), np.insert(distance_km, before, new_km)
            accepted = np.insert(accepted, before, False)
        kept = accepted[:start]
        remaining = capacity_m - np.bincount(i[:start][kept], minlength=size) - np.bincount(j[:start][kept], minlength=size)
        accepted = np.concatenate([kept, _greedy_b_matching(i[start:], j[start:], remaining)])

    i, j = i[accepted], j[accepted]  # in acceptance order
    ends = np.stack([i, j], axis=1).ravel()
    order = _stable_order(ends, size)
    terminal = np.empty(len(ends), dtype=np.int64)
    terminal[order] = _group_positions(ends[order])
    a, b = members[i], members[j]
    order = np.lexsort((b, a))
    return CandidateLinks(a[order], b[order], terminal[0::2][order], terminal[1::2][order], np.ones(len(a), dtype=bool))


# ------------------------------------------------------------------------------------------------ explicit


def explicit_links(
    pairs: Sequence[tuple[int, int]], satellite_count: int, terminals: int, *, cross_plane: bool = False
) -> CandidateLinks:
    """Hand-listed pairs, terminals numbered in listing order per satellite.

    Refuses self-links, repeated pairs (either order), out-of-range indices and satellites listed in more
    pairs than they have terminals, with a ValueError naming the pair. Hand-built links are fixed by the
    mission author, so by default they are not subject to the cross-plane latitude cut-off.
    """
    if not 0 <= terminals <= _MAX_TERMINALS:
        raise ValueError(f"terminals must be between 0 and {_MAX_TERMINALS}, got {terminals}")
    used = np.zeros(max(satellite_count, 0), dtype=np.int64)
    seen: dict[tuple[int, int], int] = {}
    rows: list[tuple[int, int, int, int]] = []
    for number, pair in enumerate(pairs):
        try:
            first, second = (int(value) for value in pair)
        except (TypeError, ValueError):
            raise ValueError(f"link {number + 1} {pair!r} must be a pair of satellite indices") from None
        if (first, second) != tuple(pair):
            raise ValueError(f"link {number + 1} {pair!r} must be a pair of integer satellite indices")
        label = f"link {number + 1} ({first}, {second})"
        for end in (first, second):
            if not 0 <= end < satellite_count:
                raise ValueError(f"{label}: satellite index {end} is out of range (0..{satellite_count - 1})")
        if first == second:
            raise ValueError(f"{label} links a satellite to itself")
        key = (min(first, second), max(first, second))
        if key in seen:
            raise ValueError(f"{label} repeats link {seen[key] + 1}")
        seen[key] = number
        for end in (first, second):
            if used[end] >= terminals:
                raise ValueError(f"{label}: satellite {end} has only {terminals} terminal(s) and is already in {used[end]} link(s)")
        rows.append((first, second, int(used[first]), int(used[second])))
        used[first] += 1
        used[second] += 1
    if not rows:
        return CandidateLinks.empty()
    a, b, terminal_a, terminal_b = (np.array(column, dtype=np.int64) for column in zip(*rows))
    return _normalised(a, b, terminal_a, terminal_b, np.full(len(a), cross_plane), satellite_count)


# ------------------------------------------------------------------------------------------------ geometry


def max_isl_range_km(
    altitude_a_km: float | np.ndarray, altitude_b_km: float | np.ndarray, grazing_altitude_km: float = GRAZING_ALTITUDE_KM
) -> np.ndarray:
    """Longest link that still clears the grazing height: sqrt(ra² - rg²) + sqrt(rb² - rg²), r = R_E + h."""
    grazing_km = EARTH_RADIUS_SGP4_KM + grazing_altitude_km
    radius_a_km = EARTH_RADIUS_SGP4_KM + np.asarray(altitude_a_km, dtype=float)
    radius_b_km = EARTH_RADIUS_SGP4_KM + np.asarray(altitude_b_km, dtype=float)
    return np.sqrt(np.maximum(radius_a_km**2 - grazing_km**2, 0.0)) + np.sqrt(np.maximum(radius_b_km**2 - grazing_km**2, 0.0))


def clears_earth(
    position_a_km: np.ndarray, position_b_km: np.ndarray, grazing_altitude_km: float = GRAZING_ALTITUDE_KM
) -> np.ndarray:
    """(P,) bool: the segment a→b stays above R_E + grazing everywhere (Earth-centred positions (P, 3), km).

    The closest point of the segment to the Earth's centre is a + t (b - a) with t = -a·(b - a) / |b - a|²
    clamped to [0, 1], so a short link whose ends are both high clears even when the line through it would not.
    """
    start = np.asarray(position_a_km, dtype=float)
    delta = np.asarray(position_b_km, dtype=float) - start
    length2 = np.einsum("...i,...i->...", delta, delta)
    along = -np.einsum("...i,...i->...", start, delta)
    t = np.clip(np.divide(along, length2, out=np.zeros_like(length2), where=length2 > 0), 0.0, 1.0)
    closest = start + t[..., None] * delta
    limit_km = EARTH_RADIUS_SGP4_KM + grazing_altitude_km
    return np.einsum("...i,...i->...", closest, closest) > limit_km**2


_BOUND_MARGIN = 1e-6
"""Relative margin of the lower bound in clears_earth_bounded (rounding is ~1e-15 relative)."""


def clears_earth_bounded(
    positions_km: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    radius2_a_km2: np.ndarray,
    radius2_b_km2: np.ndarray,
    length2_km2: np.ndarray,
    grazing_altitude_km: float = GRAZING_ALTITUDE_KM,
) -> np.ndarray:
    """``clears_earth`` of the links from satellites `a` to `b` at `positions_km` (the same result), given
    the ends' squared radii and the squared length.

    Every point of the segment is (1-t)a + tb, whose squared radius (1-t)|a|² + t|b|² - t(1-t)|b-a|² is at
    least min(|a|², |b|²) - |b-a|²/4; a link whose bound clears the limit by a margin far above rounding
    clears, and only the others (links grazing the atmosphere, or not finite) go through the exact test,
    the only ones whose positions are read.
    """
    limit2 = (EARTH_RADIUS_SGP4_KM + grazing_altitude_km) ** 2
    bound = np.minimum(radius2_a_km2, radius2_b_km2) - 0.25 * length2_km2
    clear = bound > limit2 * (1.0 + _BOUND_MARGIN)
    unsure = np.flatnonzero(~clear)
    if len(unsure):
        positions = np.asarray(positions_km, dtype=float)
        clear[unsure] = clears_earth(positions[a[unsure]], positions[b[unsure]], grazing_altitude_km)
    return clear


@dataclass(frozen=True)
class LinkGeometry:
    """Per-candidate geometry at one instant: (P,) arrays in the order of the CandidateLinks."""

    distance_km: np.ndarray
    in_range: np.ndarray
    """distance ≤ the range limit (all True without one)."""
    clears_earth: np.ndarray
    """the path stays above the Earth plus the grazing altitude."""
    latitude_ok: np.ndarray
    """not a cross-plane link with an end above the latitude cut-off."""
    closable: np.ndarray
    """in_range & clears_earth & latitude_ok."""


def link_geometry(
    positions_km: np.ndarray,
    links: CandidateLinks,
    latitude_deg: np.ndarray,
    max_range_km: float | np.ndarray | None,
    cross_plane_max_latitude_deg: float | None,
    grazing_altitude_km: float = GRAZING_ALTITUDE_KM,
) -> LinkGeometry:
    """Distance, range, line of sight and latitude cut-off of every candidate link.

    positions_km (N, 3) Earth-centred and latitude_deg (N,) per satellite; max_range_km a scalar or (N,)
    per satellite (a link uses the smaller of its two ends), None for line of sight only;
    cross_plane_max_latitude_deg switches cross-plane links off while either end is above |cut-off|.
    """
    positions = np.asarray(positions_km, dtype=float).reshape(-1, 3)
    start, end = positions[links.a], positions[links.b]
    distance_km = np.linalg.norm(end - start, axis=1)
    if max_range_km is None:
        in_range = np.ones(links.count, dtype=bool)
    else:
        limit = np.asarray(max_range_km, dtype=float)
        if limit.ndim:
            limit = np.minimum(limit[links.a], limit[links.b])
        in_range = distance_km <= limit
    clear = clears_earth(start, end, grazing_altitude_km)
    if cross_plane_max_latitude_deg is None:
        latitude_ok = np.ones(links.count, dtype=bool)
    else:
        high = np.abs(np.asarray(latitude_deg, dtype=float)) > abs(cross_plane_max_latitude_deg)
        latitude_ok = ~(links.cross_plane & (high[links.a] | high[links.b]))
    return LinkGeometry(distance_km, in_range, clear, latitude_ok, in_range & clear & latitude_ok)
