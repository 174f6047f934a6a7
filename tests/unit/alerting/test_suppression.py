"""Tolerances, exemptions and inhibition zones."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.testing import assert_allclose

from skypact.alerting.suppression import InhibitionArea, Suppression, apply_tolerances
from skypact.units import fpm_to_mps, ft_to_m, m_to_ft
from tests.factories import Plane, make_states

TOL = Suppression(level_tolerance_m=ft_to_m(75.0))


def test_level_flight_near_a_level_is_taken_at_it():
    states = make_states(
        [
            Plane("a", 0, 0, alt_ft=37025, vs_fpm=64),  # level, 25 ft off: snapped
            Plane("b", 0, 0, alt_ft=37950, vs_fpm=-64),  # level, 50 ft off: snapped
            Plane("c", 0, 0, alt_ft=36500, vs_fpm=0),  # between levels: kept
            Plane("d", 0, 0, alt_ft=36980, vs_fpm=1500),  # climbing: kept
        ]
    )
    out = apply_tolerances(states, TOL)
    assert_allclose(m_to_ft(out.alt_m), [37000, 38000, 36500, 36980])
    assert_allclose(out.vs_mps, [0, 0, 0, fpm_to_mps(1500.0)])


def test_no_tolerance_changes_nothing():
    states = make_states([Plane("a", 0, 0, alt_ft=37025, vs_fpm=64)])
    assert apply_tolerances(states, Suppression()) is states


def test_exempt_pairs_and_inhibition_zones():
    square = shapely.Polygon([(0, 0), (0, 1), (1, 1), (1, 0)])
    suppression = Suppression(
        exempt_pairs=frozenset({frozenset({"lead", "wing"})}),
        areas=(
            InhibitionArea(
                name="t", polygon=square, floor_m=0.0, ceiling_m=ft_to_m(5000.0)
            ),
        ),
    )
    states = make_states(
        [
            Plane("lead", 5, 5),
            Plane("wing", 5, 5),
            Plane("in1", 0.5, 0.5, alt_ft=3000),
            Plane("in2", 0.6, 0.5, alt_ft=3500),
            Plane("high", 0.5, 0.6, alt_ft=9000),  # above the zone's ceiling
        ]
    )
    i = np.array([0, 2, 2, 1], dtype=np.int64)
    j = np.array([1, 3, 4, 2], dtype=np.int64)
    assert suppression.suppressed(states, i, j).tolist() == [True, True, False, False]
