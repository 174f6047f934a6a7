"""The vectorised cylinder kernel on exact relative-motion vectors."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skypact.geometry.cpa import RelativeMotion, cylinder_encounter
from skypact.units import ft_to_m, kt_to_mps, nm_to_m

D = nm_to_m(5.0)
V = ft_to_m(1000.0)


def motion(r_nm, w_kt, dz_ft=0.0, dvz_fpm=0.0):
    return RelativeMotion(
        r_m=nm_to_m(np.array([r_nm], dtype=np.float64)),
        w_mps=kt_to_mps(np.array([w_kt], dtype=np.float64)),
        dz_m=ft_to_m(np.array([dz_ft])),
        dvz_mps=ft_to_m(np.array([dvz_fpm])) / 60.0,
    )


def encounter(m, lookahead_s=300.0):
    return cylinder_encounter(m, horizontal_m=D, vertical_m=V, lookahead_s=lookahead_s)


class TestTangency:
    @pytest.mark.parametrize(
        ("miss_nm", "conflict"), [(5.0, False), (5.0 - 1e-5, True), (5.0 + 1e-5, False)]
    )
    def test_passing_at_the_minimum(self, miss_nm, conflict):
        # B 10 NM west and miss_nm north of A, flying east at 400 kt.
        enc = encounter(motion([-10.0, miss_nm, 0.0], [400.0, 0.0, 0.0]))
        assert bool(enc.conflict[0]) is conflict
        assert_allclose(enc.t_cpa_s, 90.0)
        assert_allclose(enc.h_cpa_m, nm_to_m(miss_nm), atol=1e-6)

    def test_level_exactly_1000_ft_apart_co_located(self):
        enc = encounter(motion([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], dz_ft=1000.0))
        assert not enc.conflict[0]

    def test_level_just_inside_1000_ft(self):
        enc = encounter(motion([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], dz_ft=999.99))
        assert enc.conflict[0]
        assert (enc.t_in_s[0], enc.t_out_s[0]) == (0.0, 300.0)


class TestSymmetry:
    def test_negated_motion_gives_identical_results(self):
        rng = np.random.default_rng(3)
        n = 1000
        r = rng.normal(0, 20000, (n, 3))
        w = rng.normal(0, 200, (n, 3))
        dz = rng.normal(0, 300, n)
        dvz = rng.normal(0, 5, n)
        forward = cylinder_encounter(
            RelativeMotion(r_m=r, w_mps=w, dz_m=dz, dvz_mps=dvz),
            horizontal_m=D,
            vertical_m=V,
            lookahead_s=300.0,
        )
        backward = cylinder_encounter(
            RelativeMotion(r_m=-r, w_mps=-w, dz_m=-dz, dvz_mps=-dvz),
            horizontal_m=D,
            vertical_m=V,
            lookahead_s=300.0,
        )
        for name in ("conflict", "t_in_s", "t_out_s", "t_cpa_s", "h_cpa_m", "v_cpa_m"):
            a, b = getattr(forward, name), getattr(backward, name)
            mask = forward.conflict if name in ("t_in_s", "t_out_s") else slice(None)
            np.testing.assert_array_equal(a[mask], b[mask])
