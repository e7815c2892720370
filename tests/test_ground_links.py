"""Antenna assignment (engine.ground_links) on hand-built elevation tables: antenna limits, one station per
satellite, the elevation policy with its hysteresis, longest visibility, outages and forced handovers."""

from __future__ import annotations

import numpy as np
import pytest

from engine.ground_links import GroundLinks

MASK_DEG = 10.0


def sin_el(degrees) -> np.ndarray:
    return np.sin(np.radians(np.asarray(degrees, dtype=float)))


def links(n: int, antennas, **kw) -> GroundLinks:
    antennas = np.asarray(antennas)
    return GroundLinks(n, antennas, sin_el(np.full(len(antennas), MASK_DEG)), **kw)


def test_antennas_take_the_highest_satellites_and_each_satellite_one_station():
    g = links(5, [2, 1])
    elevation = np.array([[50, 40], [30, 60], [20, 5], [-5, 15], [70, 65]], dtype=float)
    g.step(0.0, sin_el(elevation))
    # station 0 (2 antennas): 70° (sat 4) and 50° (sat 0); station 1 then takes the best left: sat 1 at 60°.
    assert g.station_of.tolist() == [0, 1, -1, -1, 0]
    assert np.bincount(g.station_of[g.station_of >= 0], minlength=2).tolist() == [2, 1]


def test_hysteresis_keeps_the_tracked_satellite_until_another_is_clearly_higher():
    g = links(2, [1], hysteresis_deg=5.0)
    g.step(0.0, sin_el([[40.0], [20.0]]))
    assert g.station_of.tolist() == [0, -1]
    g.step(10.0, sin_el([[40.0], [44.0]]))  # 4° better: stays
    assert g.station_of.tolist() == [0, -1] and g.handovers == 0
    changes = g.step(20.0, sin_el([[40.0], [46.0]]))  # 6° better: hands over
    assert g.station_of.tolist() == [-1, 0] and g.handovers == 1
    assert [(c.satellite, c.station, c.previous) for c in changes] == [(0, -1, 0), (1, 0, -1)]


def test_a_setting_satellite_gives_its_antenna_to_the_next_one_as_a_handover():
    g = links(2, [1])
    g.step(0.0, sin_el([[15.0], [12.0]]))
    changes = g.step(10.0, sin_el([[5.0], [14.0]]))
    assert g.station_of.tolist() == [-1, 0] and g.handovers == 1
    assert changes[0].cause == "set below the mask"


def test_an_outage_drops_the_links_and_takes_none_until_it_ends():
    g = links(2, [1, 1])
    g.step(0.0, sin_el([[30.0, 20.0], [25.0, 40.0]]))
    assert g.station_of.tolist() == [0, 1]
    g.set_station_up(1, False)
    changes = g.step(10.0, sin_el([[30.0, 20.0], [25.0, 40.0]]))
    assert g.station_of.tolist() == [0, -1] and changes[0].cause == "station outage"
    g.set_station_up(1, True)
    g.step(20.0, sin_el([[30.0, 20.0], [25.0, 40.0]]))
    assert g.station_of.tolist() == [0, 1]
    with pytest.raises(ValueError, match="no station"):
        g.set_station_up(2, False)


def test_a_forced_handover_keeps_the_pair_apart_for_the_rest_of_the_pass():
    g = links(2, [1])
    view = sin_el([[40.0], [20.0]])
    g.step(0.0, view)
    change = g.force_handover(0, 5.0)
    assert change.previous == 0 and g.station_of[0] == -1
    g.step(10.0, view)
    assert g.station_of.tolist() == [-1, 0]  # the other satellite takes the antenna
    g.step(20.0, sin_el([[40.0], [5.0]]))
    assert g.station_of.tolist() == [-1, -1]  # still blocked while satellite 0 stays in view
    g.step(30.0, sin_el([[5.0], [5.0]]))  # it sets: the block ends with the pass
    g.step(40.0, sin_el([[30.0], [5.0]]))
    assert g.station_of.tolist() == [0, -1]
    with pytest.raises(ValueError, match="no ground link"):
        g.force_handover(1, 50.0)


def test_longest_visibility_prefers_the_satellite_that_stays_longer():
    predicted = {0: 100.0, 1: 400.0}
    calls = []

    def predict(sats, station, now):
        calls.append((tuple(sats.tolist()), station, now))
        return np.array([predicted[int(s)] for s in sats])

    g = links(2, [1], policy="longest_visibility", hysteresis_s=60.0, predict_los=predict)
    g.step(0.0, sin_el([[60.0], [15.0]]))  # sat 0 is higher but sets sooner
    assert g.station_of.tolist() == [-1, 0]
    g.step(10.0, sin_el([[58.0], [16.0]]))
    assert calls == [((0, 1), 0, 0.0)]  # predicted once per pass, at its first step in view
    with pytest.raises(ValueError, match="predictor"):
        links(2, [1], policy="longest_visibility")
