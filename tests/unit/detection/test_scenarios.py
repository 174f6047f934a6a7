"""Hand-computed encounters, run through both detectors.

Times are worked out on paper from closing speeds (kt -> NM/s = kt / 3600); distances
are placed with geodesic offsets. Tolerances: 0.2 s on times, 0.005 NM on distances
(the linearisation is within metres of the flat-geometry answer at these ranges).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skypact.detection.base import PairFilter
from skypact.detection.cylinder import CylinderDetector
from skypact.detection.exhaustive import ExhaustiveDetector
from skypact.detection.model import ConflictSet
from skypact.errors import ConfigError
from skypact.units import ft_to_m, m_to_ft, m_to_nm, nm_to_m
from tests.factories import Plane, make_states, offset

DETECTORS = [CylinderDetector, ExhaustiveDetector]
FIVE_NM = nm_to_m(5.0)
THOUSAND_FT = ft_to_m(1000.0)


def run(
    planes,
    cls,
    *,
    lookahead_s=300.0,
    horizontal_m=FIVE_NM,
    vertical_m=THOUSAND_FT,
    **kw,
):
    det = cls(horizontal_m=horizontal_m, vertical_m=vertical_m, **kw)
    return det.detect(make_states(planes), lookahead_s=lookahead_s).sorted_by_pair()


def only_pair(result: ConflictSet):
    assert len(result) == 1, f"expected one conflict, got {len(result)}"
    return result.take(np.array([0]))


@pytest.mark.parametrize("cls", DETECTORS)
class TestHeadOn:
    def test_closing_at_800_kt_from_20_nm(self, cls):
        # Equator, along the equator (a geodesic): 20 NM apart, 400 kt each.
        b_lat, b_lon = offset(0.0, 0.0, 20.0, 90.0)
        planes = [
            Plane("aaaaaa", 0.0, 0.0, gs_kt=400, trk_deg=90),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=400, trk_deg=270),
        ]
        c = only_pair(run(planes, cls))
        closing_nm_s = 800.0 / 3600.0
        assert_allclose(c.t_in_s, 15.0 / closing_nm_s, atol=0.2)  # 67.5 s
        assert_allclose(c.t_cpa_s, 20.0 / closing_nm_s, atol=0.2)  # 90 s
        assert_allclose(c.t_out_s, 25.0 / closing_nm_s, atol=0.2)  # 112.5 s
        assert_allclose(m_to_nm(c.h_cpa_m), 0.0, atol=0.005)
        assert_allclose(c.v_cpa_m, 0.0, atol=1e-6)

    def test_same_encounter_beyond_lookahead_is_not_reported(self, cls):
        b_lat, b_lon = offset(0.0, 0.0, 20.0, 90.0)
        planes = [
            Plane("aaaaaa", 0.0, 0.0, gs_kt=400, trk_deg=90),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=400, trk_deg=270),
        ]
        assert len(run(planes, cls, lookahead_s=60.0)) == 0
        c = only_pair(run(planes, cls, lookahead_s=80.0))
        assert_allclose(c.t_out_s, 80.0)  # clipped to the look-ahead
        assert_allclose(c.t_cpa_s, 80.0)  # CPA clipped too


@pytest.mark.parametrize("cls", DETECTORS)
class TestCrossing:
    def test_right_angle_crossing_meeting_at_the_same_point(self, cls):
        x_lat, x_lon = 35.0, 38.0
        a_lat, a_lon = offset(x_lat, x_lon, 10.0, 180.0)
        b_lat, b_lon = offset(x_lat, x_lon, 10.0, 270.0)
        planes = [
            Plane("aaaaaa", a_lat, a_lon, gs_kt=400, trk_deg=0),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=400, trk_deg=90),
        ]
        c = only_pair(run(planes, cls))
        v = 400.0 / 3600.0
        # distance = sqrt(2) |10 - v t|: minimum 0 at 90 s, 5 NM at 10 -/+ 5/sqrt(2).
        assert_allclose(c.t_cpa_s, 10.0 / v, atol=0.3)
        assert_allclose(c.t_in_s, (10.0 - 5.0 / math.sqrt(2.0)) / v, atol=0.3)
        assert_allclose(c.t_out_s, (10.0 + 5.0 / math.sqrt(2.0)) / v, atol=0.3)
        assert m_to_nm(c.h_cpa_m[0]) < 0.02

    def test_crossing_with_2000_ft_vertical_separation_is_no_conflict(self, cls):
        x_lat, x_lon = 35.0, 38.0
        a_lat, a_lon = offset(x_lat, x_lon, 10.0, 180.0)
        b_lat, b_lon = offset(x_lat, x_lon, 10.0, 270.0)
        planes = [
            Plane("aaaaaa", a_lat, a_lon, gs_kt=400, trk_deg=0, alt_ft=30000),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=400, trk_deg=90, alt_ft=32000),
        ]
        assert len(run(planes, cls)) == 0


@pytest.mark.parametrize("cls", DETECTORS)
class TestSameDirection:
    def test_overtaking(self, cls):
        b_lat, b_lon = offset(0.0, 10.0, 10.0, 270.0)  # 10 NM behind (west)
        planes = [
            Plane("aaaaaa", 0.0, 10.0, gs_kt=300, trk_deg=90),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=500, trk_deg=90),
        ]
        c = only_pair(run(planes, cls))
        closing = 200.0 / 3600.0
        assert_allclose(c.t_in_s, 5.0 / closing, atol=0.2)  # 90 s
        assert_allclose(c.t_cpa_s, 10.0 / closing, atol=0.2)  # 180 s
        assert_allclose(c.t_out_s, 15.0 / closing, atol=0.2)  # 270 s

    def test_parallel_4_nm_abreast_is_a_loss_of_separation_throughout(self, cls):
        b_lat, b_lon = offset(50.0, 5.0, 4.0, 90.0)
        planes = [
            Plane("aaaaaa", 50.0, 5.0, gs_kt=450, trk_deg=0),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=450, trk_deg=0),
        ]
        c = only_pair(run(planes, cls))
        assert c.t_in_s[0] == 0.0
        assert_allclose(c.t_out_s, 300.0)
        # Flying north along meridians they converge: after 37.5 NM (to 50.625 N) the
        # 4 NM become 4 cos(50.625) / cos(50), the closest point, at the look-ahead.
        assert_allclose(c.t_cpa_s, 300.0)
        expected_nm = (
            4.0 * math.cos(math.radians(50.625)) / math.cos(math.radians(50.0))
        )
        assert_allclose(m_to_nm(c.h_cpa_m), expected_nm, rtol=0.002)

    def test_zero_relative_velocity_separated_is_never_a_conflict(self, cls):
        b_lat, b_lon = offset(0.0, 0.0, 6.0, 0.0)
        planes = [
            Plane("aaaaaa", 0.0, 0.0, gs_kt=450, trk_deg=90),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=450, trk_deg=90),
        ]
        assert len(run(planes, cls)) == 0


@pytest.mark.parametrize("cls", DETECTORS)
class TestDiverging:
    def test_diverging_outside_minima_is_no_conflict(self, cls):
        b_lat, b_lon = offset(20.0, 20.0, 8.0, 90.0)
        planes = [
            Plane("aaaaaa", 20.0, 20.0, gs_kt=400, trk_deg=270),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=400, trk_deg=90),
        ]
        assert len(run(planes, cls)) == 0

    def test_diverging_inside_minima_reports_loss_until_it_opens(self, cls):
        b_lat, b_lon = offset(0.0, 20.0, 3.0, 90.0)
        planes = [
            Plane("aaaaaa", 0.0, 20.0, gs_kt=400, trk_deg=270),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=400, trk_deg=90),
        ]
        c = only_pair(run(planes, cls))
        assert c.t_in_s[0] == 0.0
        assert_allclose(c.t_out_s, 2.0 / (800.0 / 3600.0), atol=0.2)  # 9 s
        assert c.t_cpa_s[0] == 0.0  # closest now
        assert_allclose(m_to_nm(c.h_cpa_m), 3.0, atol=0.005)


@pytest.mark.parametrize("cls", DETECTORS)
class TestVertical:
    def test_vertical_only_descending_onto_a_level_aircraft(self, cls):
        # Same position and velocity (a formation); B 2,000 ft above descends 2,000 ft/min.
        planes = [
            Plane("aaaaaa", 10.0, 10.0, alt_ft=20000, gs_kt=300, trk_deg=45),
            Plane(
                "bbbbbb", 10.0, 10.0, alt_ft=22000, gs_kt=300, trk_deg=45, vs_fpm=-2000
            ),
        ]
        c = only_pair(run(planes, cls))
        # (1 ms: the 1 mm boundary tolerance at a closure of 10 m/s)
        assert_allclose(c.t_in_s, 30.0, atol=1e-3)  # 1,000 ft closed at 2,000 ft/min
        assert_allclose(c.t_out_s, 90.0, atol=1e-3)  # 1,000 ft below after 3,000 ft
        assert c.t_cpa_s[0] == 0.0
        assert_allclose(m_to_ft(c.v_cpa_m), 2000.0, atol=1e-6)

    def test_climbing_through_the_others_level_head_on(self, cls):
        b_lat, b_lon = offset(0.0, 0.0, 20.0, 90.0)
        planes = [
            Plane("aaaaaa", 0.0, 0.0, alt_ft=28000, gs_kt=400, trk_deg=90, vs_fpm=3000),
            Plane("bbbbbb", b_lat, b_lon, alt_ft=31000, gs_kt=400, trk_deg=270),
        ]
        c = only_pair(run(planes, cls))
        # Horizontal within 5 NM during (67.5, 112.5) s; A is within 1,000 ft of B's
        # level during (40, 80) s: the conflict is their intersection.
        assert_allclose(c.t_in_s, 67.5, atol=0.2)
        assert_allclose(c.t_out_s, 80.0, atol=1e-3)
        assert_allclose(m_to_ft(c.v_cpa_m), abs(28000 + 3000 * 90 / 60 - 31000), atol=5)

    def test_identical_positions_and_velocities(self, cls):
        planes = [Plane("aaaaaa", 33.0, 36.0), Plane("bbbbbb", 33.0, 36.0)]
        c = only_pair(run(planes, cls))
        assert (c.t_in_s[0], c.t_out_s[0], c.t_cpa_s[0]) == (0.0, 300.0, 0.0)
        assert c.h_cpa_m[0] == 0.0
        assert c.v_cpa_m[0] == 0.0

    def test_stationary_aircraft(self, cls):
        b_lat, b_lon = offset(33.0, 36.0, 1.0, 10.0)
        planes = [
            Plane("aaaaaa", 33.0, 36.0, gs_kt=0),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=0, alt_ft=30500),
        ]
        c = only_pair(run(planes, cls))
        assert_allclose(m_to_nm(c.h_cpa_m), 1.0, atol=1e-3)


@pytest.mark.parametrize("cls", DETECTORS)
class TestBoundaries:
    """Exactly at a minimum counts as separated; just inside counts as a conflict."""

    @pytest.mark.parametrize(
        ("gap_ft", "expected"), [(1000.0, 0), (999.0, 1), (1001.0, 0)]
    )
    def test_vertical_minimum(self, cls, gap_ft, expected):
        # Co-located, level: the answer depends on the vertical gap alone.
        planes = [
            Plane("aaaaaa", 34.0, 36.0, alt_ft=34000),
            Plane("bbbbbb", 34.0, 36.0, alt_ft=34000 + gap_ft),
        ]
        assert len(run(planes, cls)) == expected

    @pytest.mark.parametrize("level_ft", [1000.0, 10000.0, 35000.0, 41000.0, 99000.0])
    def test_flight_levels_1000_ft_apart_survive_unit_rounding(self, cls, level_ft):
        planes = [
            Plane("aaaaaa", 34.0, 36.0, alt_ft=level_ft),
            Plane("bbbbbb", 34.0, 36.0, alt_ft=level_ft - 1000.0),
        ]
        assert len(run(planes, cls)) == 0

    @pytest.mark.parametrize(("gap_nm", "expected"), [(5.0, 0), (4.999, 1), (5.001, 0)])
    def test_horizontal_minimum(self, cls, gap_nm, expected):
        b_lat, b_lon = offset(0.0, 30.0, gap_nm, 0.0)
        planes = [
            Plane("aaaaaa", 0.0, 30.0, gs_kt=400, trk_deg=90),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=400, trk_deg=90),
        ]
        assert len(run(planes, cls)) == expected


@pytest.mark.parametrize("cls", DETECTORS)
class TestGlobe:
    def test_head_on_across_the_north_pole(self, cls):
        planes = [
            Plane("aaaaaa", 89.95, 0.0, gs_kt=400, trk_deg=0),
            Plane("bbbbbb", 89.95, 180.0, gs_kt=400, trk_deg=0),
        ]
        c = only_pair(run(planes, cls))
        gap_nm = m_to_nm(2 * 0.05 * math.pi / 180 * 6_356_752.3) * 1.0
        closing = 800.0 / 3600.0
        assert_allclose(c.t_cpa_s, gap_nm / closing, rtol=0.01)
        assert_allclose(c.t_in_s, (gap_nm - 5.0) / closing, rtol=0.01, atol=0.2)
        assert m_to_nm(c.h_cpa_m[0]) < 0.01

    def test_exactly_at_the_south_pole(self, cls):
        b_lat, b_lon = offset(-90.0, 0.0, 3.0, 0.0)
        planes = [Plane("aaaaaa", -90.0, 0.0, gs_kt=0), Plane("bbbbbb", b_lat, b_lon)]
        c = only_pair(run(planes, cls))
        assert c.t_in_s[0] == 0.0
        assert_allclose(m_to_nm(c.h_cpa_m), 3.0, atol=0.005)

    def test_head_on_across_the_antimeridian(self, cls):
        a_lat, a_lon = offset(10.0, 180.0, 4.0, 270.0)
        b_lat, b_lon = offset(10.0, 180.0, 4.0, 90.0)
        planes = [
            Plane("aaaaaa", a_lat, a_lon, gs_kt=400, trk_deg=90.0),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=400, trk_deg=270.0),
        ]
        assert a_lon > 179.0
        assert b_lon < -179.0
        c = only_pair(run(planes, cls))
        assert_allclose(c.t_cpa_s, 8.0 / (800.0 / 3600.0), rtol=0.01)
        assert m_to_nm(c.h_cpa_m[0]) < 0.05


@pytest.mark.parametrize("cls", DETECTORS)
class TestPairFilterAndEdges:
    def test_inter_party_skips_same_party_pairs(self, cls):
        planes = [
            Plane("aaaaaa", 33.0, 36.0, party="usa"),
            Plane("bbbbbb", 33.0, 36.0, party="usa"),
            Plane("cccccc", 33.0, 36.0, party="rus"),
        ]
        both = run(planes, cls, pairs=PairFilter.ALL)
        inter = run(planes, cls, pairs=PairFilter.INTER_PARTY)
        assert len(both) == 3
        assert list(zip(inter.i, inter.j, strict=True)) == [(0, 2), (1, 2)]

    def test_no_aircraft_or_one_aircraft(self, cls):
        assert len(run([], cls)) == 0
        assert len(run([Plane("aaaaaa", 0.0, 0.0)], cls)) == 0

    @pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
    def test_invalid_parameters_raise_config_error(self, cls, bad):
        planes = [Plane("aaaaaa", 0.0, 0.0), Plane("bbbbbb", 0.0, 0.0)]
        with pytest.raises(ConfigError):
            run(planes, cls, lookahead_s=bad)
        with pytest.raises(ConfigError):
            run(planes, cls, horizontal_m=bad)


def test_a_crowd_at_one_point_reports_every_pair_once():
    # 400 co-located aircraft: 79,800 pairs, far beyond the kernel's first output
    # capacity, which must grow rather than drop pairs.
    planes = [Plane(f"{k:06x}", 36.0, 40.0, trk_deg=k % 360) for k in range(400)]
    result = run(planes, CylinderDetector)
    assert len(result) == 400 * 399 // 2
    pairs = set(zip(result.i.tolist(), result.j.tolist(), strict=True))
    assert len(pairs) == len(result)
