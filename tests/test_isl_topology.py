"""Laser-link topology and geometry, checked against independent references.

* the 80 km grazing range against the Hypatia formula written out here;
* the line-of-sight test against the analytic same-altitude threshold r·cos(θ/2) = R + 80 km;
* +Grid on shells resolved by the real mission loader, with the link lengths of SGP4-propagated satellites
  (in-plane chords 2r·sin(π/S); seam links as long as the other cross-plane links only with the Walker
  phase offset);
* the nearest-neighbour greedy against a brute-force all-pairs implementation of the same rule.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime

import numpy as np
import pytest
from scipy.spatial import cKDTree
from sgp4.api import WGS72, Satrec, SatrecArray

from engine import load_mission
from engine.constants import EARTH_RADIUS_SGP4_KM
from engine.constellation import OrbitElements, tle_from_elements
from engine.isl_topology import (
    GRAZING_ALTITUDE_KM,
    CandidateLinks,
    clears_earth,
    explicit_links,
    link_geometry,
    max_isl_range_km,
    nearest_links,
    plus_grid,
)
from tests.conftest import SMALL_MISSION

R_KM = EARTH_RADIUS_SGP4_KM
RANGE_TOLERANCE_KM = 1e-6
HYPATIA_550_KM = 5016.591  # Hypatia main_starlink_550.py: MAX_ISL_LENGTH_M with EARTH_RADIUS = 6378135 m
HYPATIA_TOLERANCE_KM = 0.01
CHORD_TOLERANCE = 0.01  # in-plane link length vs 2r·sin(π/S) (SGP4 short-period J2 terms move r by ~0.1 %)
SEAM_TOLERANCE = 0.25  # seam link length vs the median of the shell's other cross-plane links
SEAM_WITHOUT_OFFSET_FACTOR = 1.5  # pairing slot s with slot s across a phasing-3 seam: at least this much longer
GEOMETRY_MARGIN_KM = 50.0  # near the line-of-sight threshold, SGP4 radii differ by a few km: skip those links
NEAREST_10K_BUDGET_S = 2.0  # generous: the implementation takes tens of ms; an O(N²) one would take far longer

# ------------------------------------------------------------------------------------------------ fixtures

SHELLS = """
[[shell]]
name = "W"
altitude_km = 550
inclination_deg = 53
planes = 6
sats_per_plane = 8
phasing = 1

[[shell]]
name = "P"
altitude_km = 550
inclination_deg = 53
planes = 10
sats_per_plane = 10
phasing = 3

[[shell]]
name = "S"
altitude_km = 600
sun_synchronous = true
ltan = "10:30"
sats_per_plane = 5

[[shell]]
name = "T"
altitude_km = 700
inclination_deg = 70
planes = 2
sats_per_plane = 4
phasing = 1
raan_spread_deg = 30

[[shell]]
name = "Pair"
altitude_km = 500
inclination_deg = 40
sats_per_plane = 2

[[shell]]
name = "Lone"
altitude_km = 500
inclination_deg = 40

[[shell]]
name = "Ring"
altitude_km = 800
inclination_deg = 60
planes = 3
phasing = 1

[[shell]]
name = "Two"
altitude_km = 900
inclination_deg = 60
planes = 2
sats_per_plane = 2

[[shell]]
name = "TwoF"
altitude_km = 1000
inclination_deg = 60
planes = 2
sats_per_plane = 3
phasing = 1
"""

# Links per satellite: +Grid gives 4 in a wrapping shell of >= 3 planes and >= 3 slots.
EXPECTED_DEGREE = {
    "W": 4,
    "P": 4,
    "S": 2,  # one plane: fore and aft only
    "T": 3,  # two planes over 30°: no seam (which phasing 1 would make distinct), one cross link per slot
    "Pair": 1,  # fore and aft are the same satellite
    "Lone": 0,
    "Ring": 2,  # one satellite per plane: right and left only, around the seam
    "Two": 2,  # phasing 0: the seam pair repeats the plane-1 → plane-2 pair
    "TwoF": 4,  # phasing 1: the seam pairs slot s with slot s + 1, a different satellite
    None: 0,  # the explicit TLE satellite
}


@pytest.fixture(scope="module")
def grid_spec(tmp_path_factory):
    header = SMALL_MISSION.split("[[shell]]")[0]
    ground = "[[ground_station]]" + SMALL_MISSION.split("[[ground_station]]")[1]
    elements = OrbitElements(altitude_km=560.0, inclination_deg=97.6, raan_deg=10.0, eccentricity=0.0,
                             argument_of_perigee_deg=0.0, mean_anomaly_deg=0.0)
    line1, line2 = tle_from_elements(elements, datetime(2026, 3, 21), 90001)
    explicit = f'\n[[satellite]]\nname = "LONER"\ntle = ["{line1}", "{line2}"]\n'
    path = tmp_path_factory.mktemp("isl") / "grid.toml"
    path.write_text(header + SHELLS + explicit + "\n" + ground, encoding="utf-8")
    return load_mission(path)


@pytest.fixture(scope="module")
def grid(grid_spec):
    return plus_grid(grid_spec.satellites, grid_spec.shells)


@pytest.fixture(scope="module")
def epoch_positions_km(grid_spec):
    """TEME positions of every satellite at the mission epoch, propagated with sgp4 from the spec's TLEs."""
    satrecs = [Satrec.twoline2rv(*satellite.tle, WGS72) for satellite in grid_spec.satellites]
    first = Satrec.twoline2rv(*grid_spec.satellites[0].tle, WGS72)
    error, position, _ = SatrecArray(satrecs).sgp4(np.array([first.jdsatepoch]), np.array([first.jdsatepochF]))
    assert not error.any()
    return position[:, 0, :]


def _columns(spec):
    satellites = spec.satellites
    shell = np.array([s.shell for s in satellites], dtype=object)
    plane = np.array([s.plane or 0 for s in satellites])
    slot = np.array([s.slot or 0 for s in satellites])
    return shell, plane, slot


# ------------------------------------------------------------------------------------------------ range, line of sight


def test_max_isl_range_matches_the_hypatia_formula():
    expected = 2.0 * math.sqrt((R_KM + 550.0) ** 2 - (R_KM + 80.0) ** 2)  # 5,016.6 km at 550 km
    assert max_isl_range_km(550.0, 550.0) == pytest.approx(expected, abs=RANGE_TOLERANCE_KM)
    assert abs(float(max_isl_range_km(550.0, 550.0)) - HYPATIA_550_KM) < HYPATIA_TOLERANCE_KM
    # Different altitudes: the two tangent legs add; arrays broadcast.
    mixed = math.sqrt((R_KM + 550.0) ** 2 - (R_KM + 80.0) ** 2) + math.sqrt((R_KM + 1200.0) ** 2 - (R_KM + 80.0) ** 2)
    values = max_isl_range_km(np.array([550.0, 1200.0]), np.array([1200.0, 550.0]))
    np.testing.assert_allclose(values, [mixed, mixed], atol=RANGE_TOLERANCE_KM)
    assert max_isl_range_km(550.0, 550.0, grazing_altitude_km=0.0) > expected


def _random_rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.diag(r))


def test_clears_earth_against_the_same_altitude_threshold():
    rng = np.random.default_rng(11)
    radius_km = R_KM + 550.0
    threshold_rad = 2.0 * math.acos((R_KM + GRAZING_ALTITUDE_KM) / radius_km)  # r·cos(θ/2) = R + 80
    offsets = np.concatenate([-np.geomspace(1e-6, 0.5, 40), np.geomspace(1e-6, 1.5, 40)])
    theta = threshold_rad * (1.0 + offsets)
    start_angle = rng.uniform(0, 2 * math.pi, len(theta))
    rotation = _random_rotation(rng)
    a = radius_km * np.column_stack([np.cos(start_angle), np.sin(start_angle), np.zeros_like(theta)]) @ rotation.T
    b = radius_km * np.column_stack([np.cos(start_angle + theta), np.sin(start_angle + theta), np.zeros_like(theta)]) @ rotation.T
    expected = radius_km * np.cos(theta / 2.0) > R_KM + GRAZING_ALTITUDE_KM
    assert expected.any() and (~expected).any()
    np.testing.assert_array_equal(clears_earth(a, b), expected)
    np.testing.assert_array_equal(clears_earth(b, a), expected)
    # The same chords measured with the range formula: clear exactly when shorter than the 80 km range.
    chord_km = 2.0 * radius_km * np.sin(theta / 2.0)
    np.testing.assert_array_equal(chord_km < max_isl_range_km(550.0, 550.0), expected)


def test_clears_earth_clamps_the_closest_point_to_the_segment():
    # A short link 1 km long in a cluster at 550 km: its closest point to the centre is one of its ends.
    a = np.array([[R_KM + 550.0, 0.0, 0.0], [R_KM + 550.0, 0.0, 0.0]])
    b = np.array([[R_KM + 550.0, 1.0, 0.0], [R_KM + 551.0, 0.0, 0.0]])  # sideways, and radially outward
    assert clears_earth(a, b).all()
    # A descending link from 550 km down to 300 km: the line through it dips into the Earth, the segment does not.
    phi = math.radians(0.5)
    start = np.array([R_KM + 550.0, 0.0, 0.0])
    end = (R_KM + 300.0) * np.array([math.cos(phi), math.sin(phi), 0.0])
    direction = (end - start) / np.linalg.norm(end - start)
    line_miss_km = np.linalg.norm(start - (start @ direction) * direction)
    assert line_miss_km < R_KM + GRAZING_ALTITUDE_KM  # the infinite line would not clear
    assert clears_earth(start[None], end[None])[0]
    # An end below the grazing height never clears; identical points above it do.
    low = (R_KM + 50.0) * np.array([math.cos(phi), math.sin(phi), 0.0])
    assert not clears_earth(start[None], low[None])[0]
    assert clears_earth(start[None], start[None])[0]


# ------------------------------------------------------------------------------------------------ CandidateLinks


def test_candidate_links_are_read_only_and_typed():
    links = explicit_links([(0, 1), (2, 1)], 3, 2)
    assert links.count == 2
    assert links.a.dtype == np.int64 and links.terminal_a.dtype == np.int8 and links.cross_plane.dtype == bool
    with pytest.raises(ValueError):
        links.a[0] = 5
    empty = CandidateLinks.empty()
    assert empty.count == 0 and empty.a.dtype == np.int64
    with pytest.raises(ValueError, match="a < b"):
        CandidateLinks(np.array([2]), np.array([1]), np.array([0]), np.array([0]), np.array([False]))


# ------------------------------------------------------------------------------------------------ +Grid


def test_plus_grid_degrees_and_structure(grid_spec, grid):
    shell_of, plane, slot = _columns(grid_spec)
    shells = {shell.name: shell for shell in grid_spec.shells}
    n = len(grid_spec.satellites)
    assert set(EXPECTED_DEGREE) == set(shells) | {None}
    assert (grid.a < grid.b).all()
    keys = grid.a * n + grid.b
    assert len(np.unique(keys)) == grid.count
    assert np.all(np.diff(keys) > 0)  # sorted by (a, b)

    degree = np.bincount(np.concatenate([grid.a, grid.b]), minlength=n)
    for index, satellite in enumerate(grid_spec.satellites):
        assert degree[index] == EXPECTED_DEGREE[satellite.shell], satellite.id

    ends = np.concatenate([grid.a, grid.b]).astype(np.int64) * 8 + np.concatenate([grid.terminal_a, grid.terminal_b])
    assert len(np.unique(ends)) == len(ends)  # terminals distinct per satellite
    assert set(np.concatenate([grid.terminal_a, grid.terminal_b]).tolist()) <= {0, 1, 2, 3}

    for a, b, ta, tb, cross in zip(grid.a, grid.b, grid.terminal_a, grid.terminal_b, grid.cross_plane):
        assert shell_of[a] == shell_of[b] is not None
        shell = shells[shell_of[a]]
        if not cross:  # consecutive slots of one plane; the one behind looks fore (0), the one ahead aft (1)
            assert plane[a] == plane[b]
            behind, ahead = (a, b) if (slot[a] % shell.sats_per_plane) + 1 == slot[b] else (b, a)
            assert slot[behind] % shell.sats_per_plane + 1 == slot[ahead]
            assert {(behind, 0), (ahead, 1)} == {(a, ta), (b, tb)}
        else:  # the next plane: right (2) to the same slot, whose satellite sees it left (3)
            (right, _), (left, _) = sorted([(a, ta), (b, tb)], key=lambda end: end[1])
            assert sorted([ta, tb]) == [2, 3]
            assert plane[left] == plane[right] % shell.planes + 1
            if plane[right] < shell.planes:
                assert slot[left] == slot[right]
            else:  # across the seam (full RAAN spread only): slot s of the last plane to s + phasing of the first
                assert shell.raan_spread_deg == 360
                assert slot[left] == (slot[right] - 1 + shell.phasing) % shell.sats_per_plane + 1


def test_plus_grid_drops_links_to_satellites_not_given(grid_spec):
    satellites = list(grid_spec.satellites)
    missing = next(i for i, s in enumerate(satellites) if s.shell == "W" and s.plane == 3 and s.slot == 4)
    kept = satellites[:missing] + satellites[missing + 1:]
    links = plus_grid(kept, grid_spec.shells)
    degree = np.bincount(np.concatenate([links.a, links.b]), minlength=len(kept))
    w = [i for i, s in enumerate(kept) if s.shell == "W"]
    assert sorted(degree[w].tolist()).count(3) == 4 and sorted(degree[w].tolist()).count(4) == len(w) - 4
    assert plus_grid([s for s in satellites if s.shell is None], grid_spec.shells).count == 0


def test_plus_grid_in_plane_links_are_chords_of_the_real_orbits(grid_spec, grid, epoch_positions_km):
    shells = {shell.name: shell for shell in grid_spec.shells}
    shell_of, _, _ = _columns(grid_spec)
    intra = ~grid.cross_plane
    assert intra.sum() > 0
    length_km = np.linalg.norm(epoch_positions_km[grid.a[intra]] - epoch_positions_km[grid.b[intra]], axis=1)
    for a, measured in zip(grid.a[intra], length_km):
        shell = shells[shell_of[a]]
        chord_km = 2.0 * (R_KM + shell.altitude_km) * math.sin(math.pi / shell.sats_per_plane)
        assert measured == pytest.approx(chord_km, rel=CHORD_TOLERANCE), grid_spec.satellites[a].id


@pytest.mark.parametrize("shell_name", ["W", "P"])
def test_plus_grid_seam_links_are_as_long_as_the_other_cross_links(grid_spec, grid, epoch_positions_km, shell_name):
    shell_of, plane, slot = _columns(grid_spec)
    shell = next(s for s in grid_spec.shells if s.name == shell_name)
    length_km = np.linalg.norm(epoch_positions_km[grid.a] - epoch_positions_km[grid.b], axis=1)
    ours = grid.cross_plane & (shell_of[grid.a] == shell_name)
    seam = ours & (np.abs(plane[grid.a] - plane[grid.b]) == shell.planes - 1)
    assert seam.sum() == shell.sats_per_plane
    typical_km = np.median(length_km[ours & ~seam])
    np.testing.assert_array_less(np.abs(length_km[seam] / typical_km - 1.0), SEAM_TOLERANCE)

    if shell.phasing == 3:  # without the phase offset (slot s to slot s), the seam links would be far too long
        index = {(plane[i], slot[i]): i for i in range(len(plane)) if shell_of[i] == shell_name}
        last = [index[(shell.planes, s)] for s in range(1, shell.sats_per_plane + 1)]
        first = [index[(1, s)] for s in range(1, shell.sats_per_plane + 1)]
        naive_km = np.linalg.norm(epoch_positions_km[last] - epoch_positions_km[first], axis=1)
        assert naive_km.min() > SEAM_WITHOUT_OFFSET_FACTOR * typical_km


# ------------------------------------------------------------------------------------------------ nearest


def _brute_force_greedy(positions, terminals, range_km, eligible=None):
    """All pairs (O(N²)), sorted by (distance, a, b), accepted while both ends have a free terminal."""
    n = len(positions)
    terminals = np.broadcast_to(np.asarray(terminals), (n,))
    range_km = np.broadcast_to(np.asarray(range_km, dtype=float), (n,))
    ok = np.ones(n, dtype=bool) if eligible is None else eligible
    a, b = np.triu_indices(n, 1)
    distance = np.linalg.norm(positions[a] - positions[b], axis=1)
    keep = ok[a] & ok[b] & (distance <= np.minimum(range_km[a], range_km[b]))
    a, b, distance = a[keep], b[keep], distance[keep]
    order = np.lexsort((b, a, distance))
    free = [int(t) for t in terminals]
    accepted = []
    for x, y in zip(a[order].tolist(), b[order].tolist()):
        if free[x] > 0 and free[y] > 0:
            free[x] -= 1
            free[y] -= 1
            accepted.append((x, y))
    return accepted


def _check_links(links, positions, terminals, range_km, eligible=None):
    n = len(positions)
    terminals = np.broadcast_to(np.asarray(terminals), (n,))
    range_km = np.broadcast_to(np.asarray(range_km, dtype=float), (n,))
    assert (links.a < links.b).all()
    assert len(np.unique(links.a * n + links.b)) == links.count
    degree = np.bincount(np.concatenate([links.a, links.b]), minlength=n)
    assert (degree <= terminals).all()
    distance = np.linalg.norm(positions[links.a] - positions[links.b], axis=1)
    assert (distance <= np.minimum(range_km[links.a], range_km[links.b])).all()
    assert links.cross_plane.all()
    # Terminals per satellite: 0, 1, ... in order of acceptance (increasing link length).
    for satellite in np.flatnonzero(degree):
        as_a, as_b = links.a == satellite, links.b == satellite
        used = np.concatenate([links.terminal_a[as_a], links.terminal_b[as_b]])
        lengths = np.concatenate([distance[as_a], distance[as_b]])
        assert sorted(used.tolist()) == list(range(degree[satellite]))
        assert np.all(np.diff(lengths[np.argsort(used)]) >= 0)
    if eligible is not None:
        assert eligible[links.a].all() and eligible[links.b].all()


def test_nearest_links_match_the_brute_force_greedy():
    rng = np.random.default_rng(2024)
    for case in range(30):
        n = int(rng.integers(2, 301))
        positions = rng.normal(size=(n, 3)) * rng.uniform(10.0, 3000.0)
        scale = np.median(np.linalg.norm(positions, axis=1))
        terminals = int(rng.integers(1, 6)) if case % 3 else rng.integers(0, 6, n)
        range_km = float(rng.uniform(0.05, 1.5) * scale) if case % 4 else rng.uniform(0.05, 1.5, n) * scale
        eligible = rng.random(n) > 0.25 if case % 5 == 0 else None
        links = nearest_links(positions, terminals, range_km, eligible)
        expected = _brute_force_greedy(positions, terminals, range_km, eligible)
        assert set(zip(links.a.tolist(), links.b.tolist())) == set(expected), case
        _check_links(links, positions, terminals, range_km, eligible)


def test_nearest_links_on_a_lattice_with_distance_ties():
    # A formation on a square grid: many equal distances, resolved by (a, b).
    rng = np.random.default_rng(5)
    lattice = np.stack(np.meshgrid(np.arange(6), np.arange(6), np.arange(3), indexing="ij"), axis=-1).reshape(-1, 3) * 0.1
    for terminals, range_km in ((4, 0.1), (4, 0.15), (3, 0.25), (6, 0.2), (1, 0.1)):
        positions = lattice[rng.permutation(len(lattice))]
        links = nearest_links(positions, terminals, range_km)
        assert set(zip(links.a.tolist(), links.b.tolist())) == set(_brute_force_greedy(positions, terminals, range_km))
        _check_links(links, positions, terminals, range_km)


def test_nearest_links_small_and_degenerate_inputs():
    assert nearest_links(np.zeros((0, 3)), 4, 100.0).count == 0
    assert nearest_links(np.zeros((1, 3)), 4, 100.0).count == 0
    two = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert nearest_links(two, 4, 0.5).count == 0
    links = nearest_links(two, 4, 1.0)
    assert links.count == 1 and (links.a[0], links.b[0], links.terminal_a[0], links.terminal_b[0]) == (0, 1, 0, 0)
    assert nearest_links(two, 4, 1.0, eligible=np.array([True, False])).count == 0
    assert nearest_links(two, np.array([4, 0]), 1.0).count == 0


def test_nearest_links_on_ten_thousand_satellites():
    rng = np.random.default_rng(550)
    direction = rng.normal(size=(10_000, 3))
    positions = (R_KM + 550.0) * direction / np.linalg.norm(direction, axis=1, keepdims=True)
    started = time.perf_counter()
    links = nearest_links(positions, 4, 1500.0)
    elapsed_s = time.perf_counter() - started
    assert elapsed_s < NEAREST_10K_BUDGET_S
    again = nearest_links(positions, 4, 1500.0)
    for name in ("a", "b", "terminal_a", "terminal_b", "cross_plane"):
        np.testing.assert_array_equal(getattr(links, name), getattr(again, name))
    degree = np.bincount(np.concatenate([links.a, links.b]), minlength=len(positions))
    assert degree.max() <= 4 and degree.mean() > 3.9
    # The same greedy over every pair within range (from the tree's pair query, walked sequentially).
    pairs = cKDTree(positions).query_pairs(1500.0, output_type="ndarray")
    distance = np.linalg.norm(positions[pairs[:, 0]] - positions[pairs[:, 1]], axis=1)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], distance))
    free = [4] * len(positions)
    expected = set()
    for x, y in pairs[order].tolist():
        if free[x] and free[y]:
            free[x] -= 1
            free[y] -= 1
            expected.add((x, y))
    assert set(zip(links.a.tolist(), links.b.tolist())) == expected


# ------------------------------------------------------------------------------------------------ explicit


def test_explicit_links_normalise_and_number_terminals_in_listing_order():
    links = explicit_links([(3, 1), (1, 2), (0, 3)], 4, 2)
    assert list(zip(links.a.tolist(), links.b.tolist())) == [(0, 3), (1, 2), (1, 3)]
    assert links.terminal_a.tolist() == [0, 1, 0] and links.terminal_b.tolist() == [1, 0, 0]
    assert not links.cross_plane.any()
    assert explicit_links([(0, 1)], 2, 1, cross_plane=True).cross_plane.all()
    assert explicit_links([], 5, 4).count == 0


@pytest.mark.parametrize(
    ("pairs", "named", "problem"),
    [
        ([(0, 1), (3, 3)], "(3, 3)", "itself"),
        ([(0, 1), (2, 1), (1, 0)], "(1, 0)", "repeats"),
        ([(0, 1), (1, 7)], "(1, 7)", "out of range"),
        ([(0, -1)], "(0, -1)", "out of range"),
        ([(0, 1), (0, 2), (0, 3)], "(0, 3)", "terminal"),
    ],
)
def test_explicit_links_refuse_bad_pairs(pairs, named, problem):
    with pytest.raises(ValueError, match=re.escape(named)) as error:
        explicit_links(pairs, 5, 2)
    assert problem in str(error.value)


# ------------------------------------------------------------------------------------------------ geometry


def test_link_geometry_latitude_cut_off_only_switches_cross_plane_links():
    positions = (R_KM + 550.0) * np.array([[1.0, 0, 0], [0.999, 0.04, 0], [0.999, 0, 0.04], [0.998, 0.04, 0.04]])
    latitude = np.array([10.0, 70.0, -70.0, 50.0])
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (2, 3)]
    cross = np.array([True, True, True, False, False])
    links = CandidateLinks(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]),
                           np.zeros(5), np.ones(5), cross)
    geometry = link_geometry(positions, links, latitude, None, 60.0)
    assert geometry.latitude_ok.tolist() == [False, False, True, True, True]
    assert link_geometry(positions, links, latitude, None, -60.0).latitude_ok.tolist() == [False, False, True, True, True]
    assert link_geometry(positions, links, latitude, None, None).latitude_ok.all()
    assert geometry.in_range.all() and geometry.clears_earth.all()
    np.testing.assert_array_equal(geometry.closable, geometry.latitude_ok)
    np.testing.assert_allclose(geometry.distance_km, [np.linalg.norm(positions[a] - positions[b]) for a, b in pairs])


def test_link_geometry_on_the_propagated_grid(grid_spec, grid, epoch_positions_km):
    positions = epoch_positions_km
    latitude = np.degrees(np.arcsin(positions[:, 2] / np.linalg.norm(positions, axis=1)))
    cut_off_deg = 40.0
    range_km = float(max_isl_range_km(550.0, 550.0))
    geometry = link_geometry(positions, grid, latitude, range_km, cut_off_deg)
    for name in ("distance_km", "in_range", "clears_earth", "latitude_ok", "closable"):
        assert getattr(geometry, name).shape == (grid.count,)
    for k, (a, b) in enumerate(zip(grid.a, grid.b)):
        distance = float(np.linalg.norm(positions[a] - positions[b]))
        assert geometry.distance_km[k] == pytest.approx(distance)
        assert geometry.in_range[k] == (distance <= range_km)
        high = abs(latitude[a]) > cut_off_deg or abs(latitude[b]) > cut_off_deg
        assert geometry.latitude_ok[k] == (not (grid.cross_plane[k] and high))
    np.testing.assert_array_equal(geometry.closable, geometry.in_range & geometry.clears_earth & geometry.latitude_ok)
    assert geometry.latitude_ok[~grid.cross_plane].all() and not geometry.latitude_ok.all()
    assert geometry.closable.any() and not geometry.closable.all()

    # Same-altitude links of the 550 km shells: line of sight exactly when shorter than the 80 km range.
    shell_of, _, _ = _columns(grid_spec)
    same = np.isin(shell_of[grid.a], ["W", "P"]) & (np.abs(geometry.distance_km - range_km) > GEOMETRY_MARGIN_KM)
    np.testing.assert_array_equal(geometry.clears_earth[same], geometry.distance_km[same] < range_km)

    # No range limit: only line of sight; a per-satellite limit uses the smaller end.
    unlimited = link_geometry(positions, grid, latitude, None, None)
    assert unlimited.in_range.all() and unlimited.latitude_ok.all()
    np.testing.assert_array_equal(unlimited.closable, unlimited.clears_earth)
    per_satellite = np.where(np.arange(len(positions)) % 2 == 0, 3000.0, 6000.0)
    limited = link_geometry(positions, grid, latitude, per_satellite, None)
    limit = np.minimum(per_satellite[grid.a], per_satellite[grid.b])
    np.testing.assert_array_equal(limited.in_range, geometry.distance_km <= limit)
