"""The well-clear interval equals the DO-365 predicate evaluated moment by moment, and
the well-clear detector finds exactly the pairs an all-pairs evaluation finds."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from skypact.detection.base import PairFilter
from skypact.detection.wellclear import WellClearDetector
from skypact.geometry.cpa import RelativeMotion, relative_plane_motion
from skypact.geometry.frames import (
    NAUTICAL_SPHERE,
    WGS84,
    ground_velocity_ecef_mps,
    surface_ecef_m,
)
from skypact.geometry.wellclear import taumod_interval
from tests.property.test_detection_properties import snapshots

DTHR, ZTHR, TTHR, LOOKAHEAD = 1222.32, 137.16, 35.0, 120.0


def not_well_clear(s: np.ndarray, v: np.ndarray, sz: float) -> bool:
    """DO-365's definition at one moment (TCOA = 0)."""
    if abs(sz) > ZTHR:
        return False
    if s @ s <= DTHR * DTHR:
        return True
    sdotv = float(s @ v)
    if sdotv >= 0.0:
        return False
    cross = s[0] * v[1] - s[1] * v[0]
    dcpa_sq = cross * cross / float(v @ v)
    taumod = (DTHR * DTHR - float(s @ s)) / sdotv
    return dcpa_sq <= DTHR * DTHR and 0.0 <= taumod <= TTHR


coord = st.floats(-40_000, 40_000)
speed = st.integers(-6000, 6000).map(lambda k: k / 10.0)


@settings(max_examples=300, deadline=None)
@given(
    sx=coord, sy=coord, vx=speed, vy=speed,
    sz=st.floats(-1_500, 1_500), vz=st.sampled_from([0.0, -20.0, -5.0, 3.0, 15.0]),
)  # fmt: skip
def test_interval_matches_the_moment_by_moment_predicate(sx, sy, vx, vy, sz, vz):
    motion = RelativeMotion(
        r_m=np.array([[sx, sy, 0.0]]),
        w_mps=np.array([[vx, vy, 0.0]]),
        dz_m=np.array([sz]),
        dvz_mps=np.array([vz]),
    )
    out = taumod_interval(
        motion, dthr_m=DTHR, zthr_m=ZTHR, tthr_s=TTHR, lookahead_s=LOOKAHEAD
    )
    s0, v = np.array([sx, sy]), np.array([vx, vy])
    for t in np.linspace(0.0, LOOKAHEAD, 481):
        inside = bool(out.conflict[0]) and out.t_in_s[0] <= t <= out.t_out_s[0]
        near_edge = (
            bool(out.conflict[0])
            and min(abs(t - out.t_in_s[0]), abs(t - out.t_out_s[0])) < 1e-6
        )
        if near_edge:
            continue
        expected = not_well_clear(s0 + v * t, v, sz + vz * t)
        assert inside == expected, (t, out.t_in_s[0], out.t_out_s[0])


@settings(max_examples=60, deadline=None)
@given(
    states=snapshots(max_n=30),
    inter=st.booleans(),
    sphere=st.booleans(),
    look=st.sampled_from([25.0, 55.0, 180.0]),
)
def test_detector_finds_exactly_the_pairs_of_an_all_pairs_evaluation(
    states, inter, sphere, look
):
    """The cylinder pre-filter loses no pair: same pairs as evaluating every pair."""
    earth = NAUTICAL_SPHERE if sphere else WGS84
    pairs = PairFilter.INTER_PARTY if inter else PairFilter.ALL
    found = WellClearDetector(
        dthr_m=DTHR, zthr_m=ZTHR, tthr_s=TTHR, pairs=pairs, earth=earth
    ).detect(states, lookahead_s=look)
    n = len(states)
    i, j = np.triu_indices(n, k=1)
    if inter:
        keep = states.party[i] != states.party[j]
        i, j = i[keep], j[keep]
    pos = surface_ecef_m(states.lat_deg, states.lon_deg, earth)
    vel = ground_velocity_ecef_mps(
        states.lat_deg, states.lon_deg, states.gs_mps, states.trk_deg
    )
    motion = relative_plane_motion(
        pos[i], pos[j], vel[i], vel[j], states.alt_m[i], states.alt_m[j],
        states.vs_mps[i], states.vs_mps[j], earth,
    )  # fmt: skip
    every = taumod_interval(
        motion, dthr_m=DTHR, zthr_m=ZTHR, tthr_s=TTHR, lookahead_s=look
    )
    expected = sorted(
        zip(i[every.conflict].tolist(), j[every.conflict].tolist(), strict=True)
    )
    ordered = found.sorted_by_pair()
    assert list(zip(ordered.i.tolist(), ordered.j.tolist(), strict=True)) == expected
    assert_allclose(ordered.t_in_s, every.t_in_s[every.conflict][
        np.lexsort((j[every.conflict], i[every.conflict]))
    ], atol=1e-9)  # fmt: skip
