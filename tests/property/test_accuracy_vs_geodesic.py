"""Within 1 % of aircraft flown along geodesics, anywhere on the globe, up to 100 NM apart.

The reference flies both aircraft along geodesics at constant ground speed (pyproj,
WGS84) and measures geodesic distances every 0.5 s (refined around the minimum). The
detector's closest approach must match it within 1 % (or 1 % of the 5 NM minimum when
the aircraft nearly collide, where a relative error is meaningless).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from skypact.detection.exhaustive import ExhaustiveDetector
from skypact.units import kt_to_mps, nm_to_m
from tests.factories import Plane, make_states, offset
from tests.reference import geodesic_distance_m, geodesic_min_distance

LOOKAHEAD_S = 300.0
HUGE_M = nm_to_m(1000.0)


def closest(planes):
    det = ExhaustiveDetector(horizontal_m=HUGE_M, vertical_m=HUGE_M)
    res = det.detect(make_states(planes), lookahead_s=LOOKAHEAD_S)
    assert len(res) == 1
    return float(res.t_cpa_s[0]), float(res.h_cpa_m[0])


def as_tuple(p: Plane):
    return (p.lat, p.lon, 0.0, kt_to_mps(p.gs_kt), p.trk_deg, 0.0)


def check(planes):
    t_cpa, h_cpa = closest(planes)
    t_ref, h_ref = geodesic_min_distance(
        as_tuple(planes[0]), as_tuple(planes[1]), LOOKAHEAD_S
    )
    tolerance = 0.01 * max(h_ref, nm_to_m(5.0))
    assert abs(h_cpa - h_ref) <= tolerance, (h_cpa, h_ref)
    # Our t_cpa must be a real closest approach: the true distance then is within 1 %.
    at_ours = geodesic_distance_m(
        as_tuple(planes[0]), as_tuple(planes[1]), np.array([t_cpa])
    )
    assert abs(float(at_ours[0]) - h_ref) <= tolerance
    return t_cpa, h_cpa, t_ref, h_ref


@given(
    lat=st.one_of(st.floats(-89.99, 89.99), st.sampled_from([89.9, -89.9, 60.0, 0.0])),
    lon=st.one_of(st.floats(-180, 180), st.just(179.99)),
    distance_nm=st.floats(0.0, 100.0),
    bearing=st.floats(0, 360),
    gs=st.tuples(st.floats(0, 600), st.floats(0, 600)),
    trk=st.tuples(st.floats(0, 360), st.floats(0, 360)),
)
def test_closest_approach_within_one_percent_anywhere(
    lat, lon, distance_nm, bearing, gs, trk
):
    b_lat, b_lon = offset(lat, lon, distance_nm, bearing)
    check(
        [
            Plane("aaaaaa", lat, lon, gs_kt=gs[0], trk_deg=trk[0]),
            Plane("bbbbbb", b_lat, b_lon, gs_kt=gs[1], trk_deg=trk[1]),
        ]
    )


def test_meridian_convergence_60_nm_apart_at_high_latitude():
    """The case BlueSky gets wrong by using the intruder's track unrotated.

    Two aircraft 60 NM apart east-west at 60 N, converging: in the ownship's frame the
    intruder's north is rotated by the meridian convergence (2 deg of longitude x
    sin 60 = 1.7 deg). Measured: geodesic truth 5.607 NM, SkyPact 5.607 NM, the
    unrotated model 6.505 NM (16 % off).
    """
    b_lat, b_lon = offset(60.0, 0.0, 60.0, 90.0)
    planes = [
        Plane("aaaaaa", 60.0, 0.0, gs_kt=480, trk_deg=45.0),
        Plane("bbbbbb", b_lat, b_lon, gs_kt=480, trk_deg=306.0),
    ]
    _, h_cpa, _, h_ref = check(planes)
    # The unrotated ("flat") model: the intruder's track angle used in A's frame.
    flat = Plane("bbbbbb", b_lat, b_lon, gs_kt=480, trk_deg=306.0)
    convergence_deg = math.degrees(math.radians(b_lon) * math.sin(math.radians(60.0)))
    rotated_wrong = Plane(
        "bbbbbb", b_lat, b_lon, gs_kt=480, trk_deg=flat.trk_deg - convergence_deg
    )
    _, h_wrong = closest([planes[0], rotated_wrong])
    assert abs(h_cpa - h_ref) / h_ref < 0.001
    assert abs(h_wrong - h_ref) / h_ref > 0.1
