"""Routing to the ground: route_to_ground against a plain-Python heapq Dijkstra on random graphs, the
consistency of the route tree (next hop, hops, gateway, station), gateways that are not their own best
route, duplicate links, empty inputs, validation, and an analytic hop count on a 100x100 torus."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from engine.routing import LIGHT_SPEED_KM_S, LinkTableRouter, Routes, link_latency_s, route_to_ground

LATENCY_REL = 1e-12  # summation order only: the same edges are added along the same path
RANDOM_GRAPHS = 40
TORUS_SIDE = 100
TORUS_GATEWAYS = 20


def reference_latency(n: int, a, b, link_s, ground_sat, ground_s) -> list[float]:
    """Multi-source heapq Dijkstra: each ground satellite starts at its ground-leg latency."""
    adjacency: dict[int, dict[int, float]] = {i: {} for i in range(n)}
    for u, v, w in zip(a, b, link_s):
        u, v, w = int(u), int(v), float(w)
        best = min(w, adjacency[u].get(v, math.inf))
        adjacency[u][v] = adjacency[v][u] = best
    distance = [math.inf] * n
    heap = []
    for g, w in zip(ground_sat, ground_s):
        distance[int(g)] = min(distance[int(g)], float(w))
        heap.append((float(w), int(g)))
    heapq.heapify(heap)
    done = [False] * n
    while heap:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        for v, w in adjacency[u].items():
            if d + w < distance[v]:
                distance[v] = d + w
                heapq.heappush(heap, (d + w, v))
    return distance


def random_case(seed: int) -> dict:
    """A small random graph: duplicate pairs possible, some nodes isolated, 0-5 gateways."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 61))
    connected = rng.random(n) > 0.15  # the others get no links at all
    nodes = np.flatnonzero(connected)
    count = int(rng.integers(0, 2 * n + 1)) if len(nodes) >= 2 else 0
    a = rng.choice(nodes, count) if count else np.empty(0, dtype=np.int64)
    b = rng.choice(nodes, count) if count else np.empty(0, dtype=np.int64)
    keep = a != b
    a, b = a[keep], b[keep]
    link_s = rng.uniform(1e-3, 2e-2, len(a))
    k = int(rng.integers(0, min(n, 5) + 1))
    ground_sat = rng.choice(n, k, replace=False)
    ground_station = rng.integers(0, 8, k)
    ground_s = rng.uniform(2e-3, 3e-2, k)
    return dict(
        satellite_count=n, link_a=a, link_b=b, link_latency_s=link_s,
        ground_satellite=ground_sat, ground_station=ground_station, ground_latency_s=ground_s,
    )


def edge_latency(case: dict) -> dict[tuple[int, int], float]:
    """Smallest latency of each undirected pair, keyed both ways."""
    edges: dict[tuple[int, int], float] = {}
    for u, v, w in zip(case["link_a"], case["link_b"], case["link_latency_s"]):
        u, v = int(u), int(v)
        edges[u, v] = edges[v, u] = min(float(w), edges.get((u, v), math.inf))
    return edges


def solve(case: dict) -> tuple[Routes, np.ndarray]:
    routes = route_to_ground(**case)
    expected = np.array(
        reference_latency(
            case["satellite_count"], case["link_a"], case["link_b"], case["link_latency_s"],
            case["ground_satellite"], case["ground_latency_s"],
        )
    )
    return routes, expected


@pytest.mark.parametrize("seed", range(RANDOM_GRAPHS))
def test_latency_matches_the_reference_dijkstra(seed):
    routes, expected = solve(random_case(seed))
    np.testing.assert_array_equal(routes.reachable, np.isfinite(expected))
    np.testing.assert_array_equal(np.isinf(routes.latency_s), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(routes.latency_s[finite], expected[finite], rtol=LATENCY_REL, atol=0)
    unreachable = ~finite
    for field in (routes.hops, routes.next_hop, routes.gateway, routes.station):
        assert np.all(field[unreachable] == -1)


@pytest.mark.parametrize("seed", range(RANDOM_GRAPHS))
def test_every_relay_hands_over_to_a_neighbour_one_hop_closer(seed):
    case = random_case(seed)
    routes, _ = solve(case)
    edges = edge_latency(case)
    relays = np.flatnonzero(routes.reachable & (routes.next_hop >= 0))
    for i in relays:
        j = int(routes.next_hop[i])
        assert (int(i), j) in edges, f"next hop {j} of {i} is not a neighbour"
        assert routes.latency_s[i] == pytest.approx(routes.latency_s[j] + edges[int(i), j], rel=LATENCY_REL, abs=0)
        assert routes.hops[i] == routes.hops[j] + 1
        assert routes.gateway[i] == routes.gateway[j]
        assert routes.station[i] == routes.station[j]


@pytest.mark.parametrize("seed", range(RANDOM_GRAPHS))
def test_following_next_hop_reaches_the_gateway_in_hops_steps(seed):
    case = random_case(seed)
    routes, _ = solve(case)
    for i in np.flatnonzero(routes.reachable):
        node, steps = int(i), 0
        while routes.next_hop[node] != -1:
            node = int(routes.next_hop[node])
            steps += 1
            assert steps <= case["satellite_count"], "next_hop has a cycle"
        assert node == routes.gateway[i]
        assert steps == routes.hops[i]


@pytest.mark.parametrize("seed", range(RANDOM_GRAPHS))
def test_gateways_are_exactly_the_ground_links_that_are_their_own_best_route(seed):
    case = random_case(seed)
    routes, expected = solve(case)
    leg_of = dict(zip(case["ground_satellite"].tolist(), case["ground_latency_s"].tolist()))
    station_of = dict(zip(case["ground_satellite"].tolist(), case["ground_station"].tolist()))
    gateways = np.flatnonzero(routes.reachable & (routes.next_hop == -1))
    for g in gateways:
        assert int(g) in leg_of
        assert routes.hops[g] == 0
        assert routes.gateway[g] == g
        assert routes.station[g] == station_of[int(g)]
        assert routes.latency_s[g] == leg_of[int(g)]
    for g, leg in leg_of.items():  # random latencies: no ties between the ground leg and a relayed route
        own_leg_is_best = leg <= expected[g] * (1 + LATENCY_REL)
        assert (routes.gateway[g] == g) == own_leg_is_best
        assert (routes.next_hop[g] == -1) == own_leg_is_best
    for i in np.flatnonzero(routes.reachable):
        assert routes.station[i] == station_of[int(routes.gateway[i])]


@pytest.mark.parametrize("seed", range(RANDOM_GRAPHS))
def test_the_link_table_router_matches_the_reference_over_any_carrying_subset(seed):
    """The engine's per-step router (a fixed table, a changing subset carrying traffic) gives the
    reference Dijkstra's latencies, and the same routes as route_to_ground over that subset."""
    case = random_case(seed)
    n = case["satellite_count"]
    low = np.minimum(case["link_a"], case["link_b"])
    high = np.maximum(case["link_a"], case["link_b"])
    keys = np.unique(low * n + high)  # IslLinks' table: unique pairs a < b, sorted
    a, b = keys // n, keys % n
    router = LinkTableRouter(n, a, b)
    rng = np.random.default_rng(1000 + seed)
    for _ in range(3):
        carrying = rng.random(len(a)) < 0.7
        link_s = rng.uniform(1e-3, 2e-2, len(a))
        routes = router.routes(carrying, link_s, case["ground_satellite"], case["ground_station"], case["ground_latency_s"])
        subset = dict(case, link_a=a[carrying], link_b=b[carrying], link_latency_s=link_s[carrying])
        direct, expected = solve(subset)
        finite = np.isfinite(expected)
        np.testing.assert_array_equal(routes.reachable, finite)
        np.testing.assert_allclose(routes.latency_s[finite], expected[finite], rtol=LATENCY_REL, atol=0)
        for field in ("latency_s", "hops", "next_hop", "gateway", "station"):
            np.testing.assert_array_equal(getattr(routes, field), getattr(direct, field))


def two_satellites(ground_leg_1_s: float) -> Routes:
    """Satellites 0-1 joined by a 1 ms link, both with a ground link: 0 at 2 ms (station 5), 1 at station 9."""
    return route_to_ground(
        2, np.array([0]), np.array([1]), np.array([1e-3]),
        np.array([0, 1]), np.array([5, 9]), np.array([2e-3, ground_leg_1_s]),
    )


def test_a_ground_linked_satellite_uses_its_own_link_when_that_is_fastest():
    routes = two_satellites(2.5e-3)
    np.testing.assert_array_equal(routes.next_hop, [-1, -1])
    np.testing.assert_array_equal(routes.gateway, [0, 1])
    np.testing.assert_array_equal(routes.hops, [0, 0])
    np.testing.assert_array_equal(routes.station, [5, 9])
    np.testing.assert_allclose(routes.latency_s, [2e-3, 2.5e-3], rtol=LATENCY_REL)


def test_a_ground_linked_satellite_routes_via_a_neighbour_when_that_is_faster():
    routes = two_satellites(10e-3)
    np.testing.assert_array_equal(routes.next_hop, [-1, 0])
    np.testing.assert_array_equal(routes.gateway, [0, 0])  # satellite 1 is not a gateway in the result
    np.testing.assert_array_equal(routes.hops, [0, 1])
    np.testing.assert_array_equal(routes.station, [5, 5])
    np.testing.assert_allclose(routes.latency_s, [2e-3, 3e-3], rtol=LATENCY_REL)


def test_duplicate_links_keep_the_smaller_latency():
    routes = route_to_ground(
        3,
        np.array([0, 1, 0, 1]), np.array([1, 0, 1, 2]), np.array([5e-3, 2e-3, 3e-3, 1e-3]),
        np.array([0]), np.array([0]), np.array([1e-3]),
    )
    np.testing.assert_allclose(routes.latency_s, [1e-3, 3e-3, 4e-3], rtol=LATENCY_REL)  # not the 10 ms sum
    np.testing.assert_array_equal(routes.hops, [0, 1, 2])


def test_empty_inputs():
    nothing = np.empty(0)
    routes = route_to_ground(4, nothing, nothing, nothing, nothing, nothing, nothing)
    assert not routes.reachable.any()
    assert np.all(np.isinf(routes.latency_s))
    for field in (routes.hops, routes.next_hop, routes.gateway, routes.station):
        np.testing.assert_array_equal(field, [-1, -1, -1, -1])
        assert field.dtype == np.int64

    routes = route_to_ground(0, nothing, nothing, nothing, nothing, nothing, nothing)
    assert routes.latency_s.shape == routes.hops.shape == routes.gateway.shape == (0,)

    routes = route_to_ground(3, nothing, nothing, nothing, np.array([2]), np.array([4]), np.array([7e-3]))
    np.testing.assert_array_equal(routes.reachable, [False, False, True])  # ground links but no links
    np.testing.assert_array_equal(routes.gateway, [-1, -1, 2])
    np.testing.assert_array_equal(routes.station, [-1, -1, 4])


def test_result_arrays_are_read_only():
    routes = two_satellites(10e-3)
    for field in (routes.latency_s, routes.hops, routes.next_hop, routes.gateway, routes.station):
        with pytest.raises(ValueError):
            field[0] = 0


VALID = dict(
    satellite_count=3,
    link_a=np.array([0, 1]), link_b=np.array([1, 2]), link_latency_s=np.array([1e-3, 1e-3]),
    ground_satellite=np.array([0, 2]), ground_station=np.array([0, 1]), ground_latency_s=np.array([2e-3, 2e-3]),
)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(link_latency_s=np.array([1e-3, 0.0])), r"link_latency_s must be > 0"),
        (dict(link_latency_s=np.array([-1e-3, 1e-3])), r"link_latency_s must be > 0"),
        (dict(link_latency_s=np.array([np.nan, 1e-3])), r"link_latency_s must be finite"),
        (dict(ground_latency_s=np.array([2e-3, 0.0])), r"ground_latency_s must be > 0"),
        (dict(ground_latency_s=np.array([np.inf, 2e-3])), r"ground_latency_s must be finite"),
        (dict(link_b=np.array([1, 3])), r"link_b index out of range: 3"),
        (dict(link_a=np.array([-1, 1])), r"link_a index out of range: -1"),
        (dict(ground_satellite=np.array([0, 3])), r"ground_satellite index out of range: 3"),
        (dict(ground_satellite=np.array([2, 2])), r"ground_satellite lists satellite 2 more than once"),
        (dict(link_b=np.array([1])), r"same length"),
        (dict(ground_station=np.array([0])), r"same length"),
        (dict(link_b=np.array([1, 1])), r"joins a satellite to itself"),
        (dict(link_a=np.array([0.0, 1.0])), r"link_a must hold integer indices"),
        (dict(satellite_count=-1), r"satellite_count must be a non-negative integer"),
    ],
)
def test_invalid_inputs_raise_value_error_naming_the_problem(change, message):
    with pytest.raises(ValueError, match=message):
        route_to_ground(**{**VALID, **change})


def torus_links(side: int) -> tuple[np.ndarray, np.ndarray]:
    """Links of a side x side torus, node = row * side + column, each node to its right and lower neighbour."""
    row, column = np.divmod(np.arange(side * side), side)
    right = row * side + (column + 1) % side
    down = ((row + 1) % side) * side + column
    node = np.arange(side * side)
    return np.concatenate([node, node]), np.concatenate([right, down])


def test_torus_hop_counts_equal_the_manhattan_distance_to_the_nearest_gateway():
    side, hop_s, leg_s = TORUS_SIDE, 5e-3, 3e-3
    n = side * side
    a, b = torus_links(side)
    rng = np.random.default_rng(2026)
    gateways = rng.choice(n, TORUS_GATEWAYS, replace=False)
    routes = route_to_ground(
        n, a, b, np.full(len(a), hop_s), gateways, np.arange(TORUS_GATEWAYS), np.full(TORUS_GATEWAYS, leg_s)
    )
    assert routes.reachable.all()

    row, column = np.divmod(np.arange(n), side)
    g_row, g_column = np.divmod(gateways, side)
    d_row = np.abs(row[None, :] - g_row[:, None])
    d_column = np.abs(column[None, :] - g_column[:, None])
    manhattan = np.minimum(d_row, side - d_row) + np.minimum(d_column, side - d_column)  # (gateways, nodes)
    expected_hops = manhattan.min(axis=0)
    np.testing.assert_array_equal(routes.hops, expected_hops)
    np.testing.assert_allclose(routes.latency_s, leg_s + expected_hops * hop_s, rtol=LATENCY_REL)
    order = np.argsort(gateways)
    gateway_index = order[np.searchsorted(gateways[order], routes.gateway)]
    np.testing.assert_array_equal(gateways[gateway_index], routes.gateway)
    # the chosen gateway is a nearest one (ties between gateways may go either way); station k is gateway k's
    np.testing.assert_array_equal(manhattan[gateway_index, np.arange(n)], expected_hops)
    np.testing.assert_array_equal(routes.station, gateway_index)


def test_link_latency_is_light_time_plus_the_per_hop_cost():
    assert link_latency_s(LIGHT_SPEED_KM_S) == pytest.approx(1.0, rel=LATENCY_REL)
    np.testing.assert_allclose(
        link_latency_s(np.array([0.0, 2998.0]), per_hop_s=1e-4), [1e-4, 2998.0 / 299_792.458 + 1e-4], rtol=LATENCY_REL
    )
