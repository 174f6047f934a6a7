"""Manoeuvre advice: complementary, within limits, and it clears the conflict."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skypact.detection.exhaustive import ExhaustiveDetector
from skypact.resolution.advice import (
    ManoeuvreKind,
    PerformanceLimits,
    resolve_nearby,
    resolve_pair,
)
from skypact.sim.generator import random_snapshot
from skypact.tracks.ingest.table import states_from_table
from skypact.units import ft_to_m, nm_to_m
from tests.factories import Plane, make_states, offset

H, V, T = nm_to_m(5.0), ft_to_m(1000.0), 300.0


def cleared(states, resolution) -> bool:
    """Re-run the exhaustive detector with the advisories applied."""
    trk, gs, vs = states.trk_deg.copy(), states.gs_mps.copy(), states.vs_mps.copy()
    for adv in resolution.advisories:
        trk[adv.aircraft_index] = adv.trk_deg
        gs[adv.aircraft_index] = adv.gs_mps
        vs[adv.aircraft_index] = adv.vs_mps
    from dataclasses import replace

    after = ExhaustiveDetector(horizontal_m=H, vertical_m=V).detect(
        replace(states, trk_deg=trk, gs_mps=gs, vs_mps=vs), lookahead_s=T
    )
    pair = (min(resolution.i, resolution.j), max(resolution.i, resolution.j))
    return pair not in set(zip(after.i.tolist(), after.j.tolist(), strict=True))


def complementary(resolution) -> bool:
    advisories = resolution.advisories
    kinds = {a.kind for a in advisories}
    if kinds == {ManoeuvreKind.VERTICAL}:
        senses = {np.sign(a.vs_mps) for a in advisories}
        return senses == {1.0, -1.0}  # never both climbing or both descending
    return True


class TestEncounters:
    def test_head_on(self):
        b_lat, b_lon = offset(34.0, 38.0, 30.0, 90.0)
        states = make_states(
            [
                Plane("a", 34.0, 38.0, gs_kt=450, trk_deg=90),
                Plane("b", b_lat, b_lon, gs_kt=450, trk_deg=270),
            ]
        )
        res = resolve_pair(states, 0, 1, horizontal_m=H, vertical_m=V, lookahead_s=T)
        assert res.resolved
        assert cleared(states, res)
        assert complementary(res)
        assert len(res.advisories) == 2

    def test_level_co_altitude_pair_gets_opposite_vertical_senses(self):
        b_lat, b_lon = offset(34.0, 38.0, 20.0, 0.0)
        states = make_states(
            [
                Plane("a", 34.0, 38.0, gs_kt=300, trk_deg=0),
                Plane("b", b_lat, b_lon, gs_kt=300, trk_deg=180),
            ]
        )
        res = resolve_pair(states, 0, 1, horizontal_m=H, vertical_m=V, lookahead_s=T)
        assert res.resolved
        assert complementary(res)

    def test_a_third_aircraft_steers_the_choice(self):
        # Head-on pair; a third aircraft sits where a vertical resolution would lead.
        b_lat, b_lon = offset(34.0, 38.0, 30.0, 90.0)
        mid_lat, mid_lon = offset(34.0, 38.0, 15.0, 90.0)
        planes = [
            Plane("a", 34.0, 38.0, gs_kt=450, trk_deg=90, alt_ft=30000),
            Plane("b", b_lat, b_lon, gs_kt=450, trk_deg=270, alt_ft=30000),
            Plane("c", mid_lat, mid_lon, gs_kt=0, alt_ft=31200),
            Plane("d", mid_lat, mid_lon, gs_kt=0, alt_ft=28800),
        ]
        states = make_states(planes)
        res = resolve_pair(states, 0, 1, horizontal_m=H, vertical_m=V, lookahead_s=T)
        assert res.resolved
        assert res.secondary == ()
        assert cleared(states, res)

    def test_limits_are_respected(self):
        b_lat, b_lon = offset(34.0, 38.0, 30.0, 90.0)
        states = make_states(
            [
                Plane("a", 34.0, 38.0, gs_kt=450, trk_deg=90),
                Plane("b", b_lat, b_lon, gs_kt=450, trk_deg=270),
            ]
        )
        limits = PerformanceLimits(max_vs_mps=0.0, max_turn_deg=30.0)
        res = resolve_pair(
            states, 0, 1, horizontal_m=H, vertical_m=V, lookahead_s=T, limits=limits
        )
        for adv in res.advisories:
            assert adv.kind is not ManoeuvreKind.VERTICAL
            if adv.kind is ManoeuvreKind.HEADING:
                assert adv.deviation <= 30.0


@settings(max_examples=60)
@given(
    distance_nm=st.floats(6.0, 40.0),
    bearing=st.floats(0, 360),
    trk_a=st.floats(0, 360),
    trk_b=st.floats(0, 360),
    gs=st.tuples(st.floats(250, 550), st.floats(250, 550)),
    dz_ft=st.floats(-900, 900),
)
def test_any_resolved_advice_clears_the_pair(
    distance_nm, bearing, trk_a, trk_b, gs, dz_ft
):
    b_lat, b_lon = offset(35.0, 38.0, distance_nm, bearing)
    states = make_states(
        [
            Plane("a", 35.0, 38.0, gs_kt=gs[0], trk_deg=trk_a, alt_ft=30000),
            Plane("b", b_lat, b_lon, gs_kt=gs[1], trk_deg=trk_b, alt_ft=30000 + dz_ft),
        ]
    )
    before = ExhaustiveDetector(horizontal_m=H, vertical_m=V).detect(
        states, lookahead_s=T
    )
    if len(before) == 0:
        return
    res = resolve_pair(states, 0, 1, horizontal_m=H, vertical_m=V, lookahead_s=T)
    if res.resolved:
        assert cleared(states, res)
        assert complementary(res)
    else:
        pytest.fail(f"no advice found: {states}")


def test_a_pair_already_in_loss_of_separation_is_led_out_sooner():
    b_lat, b_lon = offset(34.0, 38.0, 3.0, 90.0)
    states = make_states(
        [
            Plane("a", 34.0, 38.0, gs_kt=400, trk_deg=90),
            Plane("b", b_lat, b_lon, gs_kt=400, trk_deg=270),
        ]
    )
    before = ExhaustiveDetector(horizontal_m=H, vertical_m=V).detect(
        states, lookahead_s=T
    )
    assert before.t_in_s[0] == 0.0
    res = resolve_pair(states, 0, 1, horizontal_m=H, vertical_m=V, lookahead_s=T)
    assert res.resolved
    assert res.exit_s is not None
    assert res.exit_s < before.t_out_s[0]
    assert complementary(res)


class TestNearby:
    """The live service's advice looks only at the aircraft that could matter."""

    @settings(max_examples=12, deadline=None)
    @given(seed=st.integers(0, 2**31 - 1))
    def test_the_same_advice_as_over_the_whole_picture(self, seed):
        # a crowded box (the Levant, 1,500 aircraft): conflicts with third aircraft
        # near the pair are common, so the advice depends on the neighbours
        states = states_from_table(random_snapshot(1500, seed=seed))
        found = ExhaustiveDetector(horizontal_m=H, vertical_m=V).detect(
            states, lookahead_s=T
        )
        if len(found) == 0:
            return
        k = seed % len(found)
        i, j = int(found.i[k]), int(found.j[k])
        whole = resolve_pair(states, i, j, horizontal_m=H, vertical_m=V, lookahead_s=T)
        near = resolve_nearby(states, i, j, horizontal_m=H, vertical_m=V, lookahead_s=T)
        assert near == whole

    def test_neighbours_in_the_way_still_steer_the_advice(self):
        # the pair converges head-on; the climb would lead into c (kept, so the
        # advice avoids it), and d is 900 NM away (it cannot matter)
        b_lat, b_lon = offset(34.0, 38.0, 30.0, 90.0)
        mid_lat, mid_lon = offset(34.0, 38.0, 15.0, 90.0)
        far_lat, far_lon = offset(34.0, 38.0, 900.0, 0.0)
        states = make_states(
            [
                Plane("a", 34.0, 38.0, gs_kt=450, trk_deg=90, alt_ft=30000),
                Plane("b", b_lat, b_lon, gs_kt=450, trk_deg=270, alt_ft=30000),
                Plane("c", mid_lat, mid_lon, gs_kt=0, alt_ft=31200),
                Plane("d", mid_lat, mid_lon, gs_kt=0, alt_ft=28800),
                Plane("e", far_lat, far_lon, gs_kt=450, trk_deg=180),
            ]
        )
        near = resolve_nearby(states, 0, 1, horizontal_m=H, vertical_m=V, lookahead_s=T)
        assert near.resolved
        assert near.secondary == ()
        assert {a.aircraft_index for a in near.advisories} == {0, 1}
        assert cleared(states, near)
        assert near == resolve_pair(
            states, 0, 1, horizontal_m=H, vertical_m=V, lookahead_s=T
        )
