"""The DO-365 well-clear volume by modified tau (vectorised numpy kernel).

RTCA DO-365 defines "well clear" for drones by three thresholds: a distance DTHR, a
height ZTHR and a time TTHR (DAIDALUS's ``WCV_TAUMOD`` detector). A pair is *not* well
clear at a moment when, at once,

- vertically: ``|dz| <= ZTHR`` (the time-to-co-altitude threshold TCOA is 0 in every
  DO-365 configuration, which reduces it to this), and
- horizontally: the distance is at most DTHR, **or** the pair is converging
  (``s . v < 0``) on a course passing within DTHR (horizontal miss distance at most
  DTHR) and its *modified tau* ``(DTHR^2 - |s|^2) / (s . v)`` is at most TTHR.

``s`` and ``v`` are the pair's horizontal relative position and velocity in its plane
(:mod:`skypact.geometry.frames`). Modified tau is the time to closest approach corrected
for the protected radius; it is never less than the time to reach DTHR, so it sounds
the alarm earlier for fast, converging pairs than a fixed radius would.

With straight-line motion the set of moments not well clear is one interval: the
vertical interval ``[v_lo, v_hi]`` (linear), and within it the first moment modified tau
falls to TTHR — a root of ``|v|^2 t^2 + (2 s.v + TTHR |v|^2) t + |s|^2 + TTHR s.v -
DTHR^2`` — up to leaving the DTHR circle. Unlike the separation cylinder
(:mod:`skypact.geometry.cpa`) the boundaries are *closed*, as DO-365 and DAIDALUS
define them: a pair exactly at a threshold is not well clear.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from skypact.geometry.cpa import RelativeMotion
from skypact.units import FloatArray

__all__ = ["WellClearInterval", "taumod_interval"]

_SAME_TIME_S = 1e-9
"""An interval shorter than this is a touch, not a violation (DAIDALUS's
``almost_less``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WellClearInterval:
    """Per-pair result; ``t_in_s``/``t_out_s`` are meaningful where ``conflict``."""

    conflict: npt.NDArray[np.bool_]
    t_in_s: FloatArray
    t_out_s: FloatArray


def taumod_interval(
    motion: RelativeMotion,
    *,
    dthr_m: float,
    zthr_m: float,
    tthr_s: float,
    lookahead_s: float,
) -> WellClearInterval:
    """When, within ``[0, lookahead_s]``, each pair is not well clear.

    Examples:
        Head-on at 400 m/s closure, 20 km apart, same altitude, DTHR 1,222 m,
        TTHR 35 s: modified tau falls to 35 s at 14.1 km, 14.7 s from now (the
        DTHR circle itself is 47 s away).

        >>> m = RelativeMotion(r_m=np.array([[20000.0, 0.0, 0.0]]),
        ...                    w_mps=np.array([[-400.0, 0.0, 0.0]]),
        ...                    dz_m=np.array([0.0]), dvz_mps=np.array([0.0]))
        >>> out = taumod_interval(m, dthr_m=1222.32, zthr_m=137.16, tthr_s=35.0,
        ...                       lookahead_s=180.0)
        >>> bool(out.conflict[0]), round(float(out.t_in_s[0]), 2)
        (True, 14.74)
    """
    # Vertical interval [v_lo, v_hi] within [0, T] where |dz + dvz t| <= ZTHR.
    dz, dvz = motion.dz_m, motion.dvz_mps
    level = dvz == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        direction = np.sign(dvz)
        t_enter = (-direction * zthr_m - dz) / dvz
        t_leave = (direction * zthr_m - dz) / dvz
    level_inside = level & (np.abs(dz) <= zthr_m)
    v_lo = np.where(
        level, np.where(level_inside, 0.0, np.inf), np.maximum(t_enter, 0.0)
    )
    v_hi = np.where(
        level, np.where(level_inside, lookahead_s, -np.inf),
        np.minimum(t_leave, lookahead_s),
    )  # fmt: skip
    open_ = v_hi - v_lo > _SAME_TIME_S

    # Horizontal interval, from v_lo on, over a horizon of v_hi - v_lo.
    start = np.where(open_, v_lo, 0.0)
    horizon = np.where(open_, v_hi - v_lo, 0.0)
    s = motion.r_m + start[:, None] * motion.w_mps
    v = motion.w_mps
    a = np.sum(v * v, axis=1)
    sdotv = np.sum(s * v, axis=1)
    sqs = np.sum(s * s, axis=1)
    sq_d = dthr_m * dthr_m
    # Delta = DTHR^2 |v|^2 - (s x v)^2 >= 0  <=>  the course passes within DTHR.
    delta = sq_d * a - (sqs * a - sdotv * sdotv)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_exit = (-sdotv + np.sqrt(np.maximum(delta, 0.0))) / a
    t_exit = np.where(a > 0.0, t_exit, np.inf)
    inside = sqs <= sq_d
    h_in = np.where(inside, 0.0, np.inf)
    h_out = np.where(inside, np.minimum(horizon, t_exit), -np.inf)

    b = 2.0 * sdotv + tthr_s * a
    c = sqs + tthr_s * sdotv - sq_d
    discr = b * b - 4.0 * a * c
    closing = ~inside & (sdotv < 0.0) & (discr >= 0.0) & (delta >= 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_tau = (-b - np.sqrt(np.maximum(discr, 0.0))) / (2.0 * a)
    closing &= t_tau <= horizon
    h_in = np.where(closing, np.maximum(t_tau, 0.0), h_in)
    h_out = np.where(closing, np.minimum(horizon, t_exit), h_out)

    t_in = start + h_in
    t_out = start + h_out
    conflict = open_ & (t_out - t_in > _SAME_TIME_S)
    return WellClearInterval(
        conflict=conflict,
        t_in_s=np.where(conflict, t_in, np.inf),
        t_out_s=np.where(conflict, t_out, -np.inf),
    )
