"""The DO-365 modified-tau well-clear interval, on hand-computed encounters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skypact.geometry.cpa import RelativeMotion
from skypact.geometry.wellclear import taumod_interval
from skypact.units import ft_to_m, kt_to_mps, nm_to_m

DTHR = nm_to_m(0.66)
ZTHR = ft_to_m(450.0)
TTHR = 35.0


def one(r, w, dz=0.0, dvz=0.0, lookahead=180.0):
    motion = RelativeMotion(
        r_m=np.array([[r[0], r[1], 0.0]]),
        w_mps=np.array([[w[0], w[1], 0.0]]),
        dz_m=np.array([dz]),
        dvz_mps=np.array([dvz]),
    )
    out = taumod_interval(
        motion, dthr_m=DTHR, zthr_m=ZTHR, tthr_s=TTHR, lookahead_s=lookahead
    )
    return bool(out.conflict[0]), float(out.t_in_s[0]), float(out.t_out_s[0])


def test_head_on_enters_when_modified_tau_reaches_tthr():
    closure = kt_to_mps(800.0)
    gap = nm_to_m(30.0)
    conflict, t_in, t_out = one((gap, 0.0), (-closure, 0.0))
    # r^2 - TTHR c r - D^2 = 0 at entry; exit when |r| = DTHR on the far side.
    r_in = (TTHR * closure + math.sqrt((TTHR * closure) ** 2 + 4 * DTHR**2)) / 2
    assert conflict
    assert t_in == pytest.approx((gap - r_in) / closure, abs=1e-9)
    assert t_out == pytest.approx((gap + DTHR) / closure, abs=1e-9)


def test_a_miss_wider_than_dthr_is_well_clear():
    closure = kt_to_mps(800.0)
    conflict, _, _ = one((nm_to_m(20.0), DTHR + 1.0), (-closure, 0.0))
    assert not conflict


def test_a_miss_exactly_at_dthr_is_not_well_clear_for_an_instant_only():
    # The course touches the DTHR circle: modified tau reaches TTHR, the pair is not
    # well clear from then until the touch (closed boundaries, as DO-365 defines).
    closure = kt_to_mps(400.0)
    conflict, t_in, t_out = one((nm_to_m(10.0), DTHR), (-closure, 0.0))
    assert conflict
    assert t_out == pytest.approx(nm_to_m(10.0) / closure, abs=1e-6)
    assert t_in < t_out


def test_diverging_outside_dthr_is_well_clear():
    conflict, _, _ = one((nm_to_m(1.0), 0.0), (kt_to_mps(300.0), 0.0))
    assert not conflict


def test_inside_dthr_and_level_is_a_violation_now():
    conflict, t_in, t_out = one((100.0, 0.0), (kt_to_mps(100.0), 0.0))
    assert conflict
    assert t_in == 0.0
    assert t_out == pytest.approx((DTHR - 100.0) / kt_to_mps(100.0))


def test_same_velocity_inside_dthr_lasts_the_whole_lookahead():
    conflict, t_in, t_out = one((500.0, 0.0), (0.0, 0.0), lookahead=55.0)
    assert (conflict, t_in, t_out) == (True, 0.0, 55.0)


def test_vertical_threshold_is_closed_and_limits_the_interval():
    closure = kt_to_mps(800.0)
    r = (nm_to_m(10.0), 0.0)
    assert one(r, (-closure, 0.0), dz=ZTHR)[0]  # exactly 450 ft: not well clear
    assert not one(r, (-closure, 0.0), dz=ZTHR + 0.01)[0]
    # Climbing through: not well clear only while within 450 ft.
    conflict, t_in, t_out = one((100.0, 0.0), (0.0, 0.0), dz=-1000.0, dvz=10.0)
    assert conflict
    assert t_in == pytest.approx((-ZTHR + 1000.0) / 10.0)
    assert t_out == pytest.approx((ZTHR + 1000.0) / 10.0)


def test_beyond_the_lookahead_is_not_a_conflict():
    closure = kt_to_mps(800.0)
    conflict, _, _ = one((nm_to_m(30.0), 0.0), (-closure, 0.0), lookahead=55.0)
    assert not conflict  # enters at about 110 s
