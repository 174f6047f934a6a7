"""Properties of detection that must hold for any snapshot."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from skypact.detection.base import PairFilter
from skypact.detection.cylinder import CylinderDetector
from skypact.detection.exhaustive import ExhaustiveDetector
from skypact.detection.model import ConflictSet
from skypact.tracks.model import StateArrays
from skypact.units import ft_to_m, kt_to_mps, nm_to_m
from tests.reference import scalar_encounter

VALUES = ("t_in_s", "t_out_s", "t_cpa_s", "h_cpa_m", "v_cpa_m")


@st.composite
def snapshots(draw, max_n=40):
    """Clusters of aircraft anywhere on the globe (poles and antimeridian included)."""
    n = draw(st.integers(2, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    centre_lat = draw(
        st.one_of(st.floats(-90, 90), st.sampled_from([90.0, -90.0, 89.99, 0.0]))
    )
    centre_lon = draw(st.one_of(st.floats(-180, 180), st.sampled_from([180.0, -180.0])))
    spread_deg = draw(st.sampled_from([0.0, 0.05, 0.3, 1.0]))
    lat = np.clip(centre_lat + rng.uniform(-spread_deg, spread_deg, n), -90, 90)
    lon = (centre_lon + rng.uniform(-spread_deg, spread_deg, n) + 180.0) % 360.0 - 180.0
    max_kt = draw(st.sampled_from([0.0, 250.0, 600.0, 2000.0]))
    alt_ft = rng.uniform(
        20000, 20000 + draw(st.sampled_from([0.0, 3000.0, 20000.0])), n
    )
    if draw(st.booleans()):
        alt_ft = np.round(alt_ft / 1000.0) * 1000.0  # flight levels: boundary cases
    vs = rng.choice([0.0, 0.0, 1.0], n) * rng.uniform(-3000, 3000, n)
    return StateArrays(
        aircraft_id=np.array([f"{k:06x}" for k in range(n)], dtype=object),
        t_s=np.zeros(n),
        lat_deg=lat,
        lon_deg=lon,
        alt_m=ft_to_m(alt_ft),
        gs_mps=kt_to_mps(rng.uniform(0, max_kt, n)),
        trk_deg=rng.uniform(0, 360, n),
        vs_mps=ft_to_m(vs) / 60.0,
        party=rng.choice(np.array(["usa", "rus", "gbr"], dtype=object), n),
    )


params = st.fixed_dictionaries(
    {
        "horizontal_m": st.sampled_from([nm_to_m(0.5), nm_to_m(3.0), nm_to_m(5.0)]),
        "vertical_m": st.sampled_from([ft_to_m(450.0), ft_to_m(1000.0)]),
        "lookahead_s": st.sampled_from([1.0, 60.0, 300.0, 1200.0]),
    }
)


def assert_same(fast: ConflictSet, slow: ConflictSet) -> None:
    fast, slow = fast.sorted_by_pair(), slow.sorted_by_pair()
    assert list(zip(fast.i, fast.j, strict=True)) == list(
        zip(slow.i, slow.j, strict=True)
    )
    for name in VALUES:
        assert_allclose(getattr(fast, name), getattr(slow, name), rtol=1e-9, atol=1e-6)


@given(states=snapshots(), p=params, inter=st.booleans())
def test_pruned_detector_finds_exactly_the_exhaustive_pairs(states, p, inter):
    pairs = PairFilter.INTER_PARTY if inter else PairFilter.ALL
    look = p.pop("lookahead_s")
    h, v = p["horizontal_m"], p["vertical_m"]
    fast = CylinderDetector(horizontal_m=h, vertical_m=v, pairs=pairs)
    slow = ExhaustiveDetector(horizontal_m=h, vertical_m=v, pairs=pairs)
    assert_same(
        fast.detect(states, lookahead_s=look), slow.detect(states, lookahead_s=look)
    )


def test_pruned_equals_exhaustive_on_large_random_snapshots():
    from skypact.sim.generator import random_snapshot
    from skypact.tracks.ingest.table import states_from_table

    for table in (
        random_snapshot(3000, seed=1),
        random_snapshot(3000, seed=2, region=None),
    ):
        states = states_from_table(table)
        h, v = nm_to_m(5.0), ft_to_m(1000.0)
        fast = CylinderDetector(horizontal_m=h, vertical_m=v).detect(
            states, lookahead_s=300.0
        )
        slow = ExhaustiveDetector(horizontal_m=h, vertical_m=v).detect(
            states, lookahead_s=300.0
        )
        assert len(slow) > 0
        assert_same(fast, slow)


@given(states=snapshots(max_n=12), p=params)
def test_vectorised_kernel_equals_scalar_reference(states, p):
    look = p.pop("lookahead_s")
    result = ExhaustiveDetector(**p).detect(states, lookahead_s=look)
    found = {
        (int(i), int(j)): k
        for k, (i, j) in enumerate(zip(result.i, result.j, strict=True))
    }

    def row(k):
        return (
            states.lat_deg[k], states.lon_deg[k], states.alt_m[k],
            states.gs_mps[k], states.trk_deg[k], states.vs_mps[k],
        )  # fmt: skip

    for i in range(len(states)):
        for j in range(i + 1, len(states)):
            ref = scalar_encounter(row(i), row(j), lookahead_s=look, **p)
            if (i, j) not in found:
                assert not ref.conflict or ref.t_out_s - ref.t_in_s < 1e-6
                continue
            k = found[(i, j)]
            assert_allclose(result.t_in_s[k], ref.t_in_s, atol=1e-4)
            assert_allclose(result.t_out_s[k], ref.t_out_s, atol=1e-4)
            assert_allclose(result.h_cpa_m[k], ref.h_cpa_m, atol=1e-3)
            assert_allclose(result.v_cpa_m[k], ref.v_cpa_m, atol=1e-6)


def _by_name(states: StateArrays, result: ConflictSet) -> dict[tuple, list]:
    out: dict[tuple, list] = {}
    for k in range(len(result)):
        a, b = states.aircraft_id[result.i[k]], states.aircraft_id[result.j[k]]
        out[tuple(sorted((a, b)))] = [getattr(result, v)[k] for v in VALUES]
    return out


@given(states=snapshots(), p=params, seed=st.integers(0, 1000))
def test_symmetry_order_of_aircraft_does_not_matter(states, p, seed):
    look = p.pop("lookahead_s")
    det = CylinderDetector(**p)
    order = np.random.default_rng(seed).permutation(len(states))
    shuffled = states.take(order)
    one = _by_name(states, det.detect(states, lookahead_s=look))
    two = _by_name(shuffled, det.detect(shuffled, lookahead_s=look))
    assert one.keys() == two.keys()
    for key in one:
        assert_allclose(one[key], two[key], rtol=1e-12, atol=1e-9)


@given(states=snapshots(), p=params, shift=st.floats(-360, 360), mirror=st.booleans())
def test_invariance_under_moving_the_frame(states, p, shift, mirror):
    """Rotating the Earth about its axis, or mirroring it at the equator, changes nothing."""
    look = p.pop("lookahead_s")
    det = CylinderDetector(**p)
    moved = StateArrays(
        aircraft_id=states.aircraft_id,
        t_s=states.t_s,
        lat_deg=-states.lat_deg if mirror else states.lat_deg,
        lon_deg=(states.lon_deg + shift + 180.0) % 360.0 - 180.0,
        alt_m=states.alt_m,
        gs_mps=states.gs_mps,
        trk_deg=(180.0 - states.trk_deg) % 360.0 if mirror else states.trk_deg,
        vs_mps=states.vs_mps,
        party=states.party,
    )
    one = _by_name(states, det.detect(states, lookahead_s=look))
    two = _by_name(moved, det.detect(moved, lookahead_s=look))
    # Rounding can only decide pairs that graze a boundary (within a micrometre).
    for key in one.keys() ^ two.keys():
        enc = one.get(key) or two[key]
        assert enc[1] - enc[0] < 1e-3 or abs(enc[3] - p["horizontal_m"]) < 1e-2
    for key in one.keys() & two.keys():
        assert_allclose(one[key], two[key], rtol=1e-6, atol=1e-3)
