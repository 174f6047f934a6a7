"""Closest point of approach and loss-of-separation intervals (vectorised numpy kernels).

This module *is* the detection contract of DESIGN.md, written as array code:

- each aircraft flies at constant ground velocity and vertical speed (state-based);
- a pair's relative motion is linear in its local horizontal plane (see
  :mod:`skypact.geometry.frames`) and in altitude;
- the pair is in conflict when, at some ``t`` in ``[0, lookahead_s]``, the horizontal
  distance is below ``horizontal_m`` **and** the vertical distance is below
  ``vertical_m`` at the same ``t``.

Boundary rule: the comparisons are strict, so a pair exactly at a minimum is
*separated*. Distances within :data:`SEPARATION_TOLERANCE_M` (1 mm) of a minimum count
as exactly at it; this makes the rule immune to the rounding of unit conversions
(35,000 ft and 34,000 ft converted to metres are 304.8 m apart only to within 1e-10).

The conflict interval ``(t_in_s, t_out_s)`` is clipped to the look-ahead; a pair that
has already lost separation has ``t_in_s = 0``. ``t_cpa_s`` is the time of horizontal
closest approach clipped to ``[0, lookahead_s]``; ``h_cpa_m`` and ``v_cpa_m`` are the
horizontal and vertical distances at that time.

Every function is symmetric in the pair: swapping the aircraft negates the relative
vectors, which leaves every output unchanged (exactly, in floating point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from skypact.geometry.frames import WGS84, EarthModel, pair_plane_normal
from skypact.units import WGS84_A_M, WGS84_B_M, FloatArray

__all__ = [
    "SEPARATION_TOLERANCE_M",
    "CylinderEncounter",
    "RelativeMotion",
    "cylinder_encounter",
    "cylinder_encounter_one",
    "relative_plane_motion",
]

_INV_A2 = 1.0 / (WGS84_A_M * WGS84_A_M)
_INV_B2 = 1.0 / (WGS84_B_M * WGS84_B_M)

SEPARATION_TOLERANCE_M = 1e-3
"""Distances this close to a minimum count as exactly at it (that is, separated)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RelativeMotion:
    """Relative position and velocity of aircraft j seen from aircraft i.

    Attributes:
        r_m: (M, 3) horizontal relative position in the pair's plane, ECEF axes.
        w_mps: (M, 3) horizontal relative velocity in the pair's plane, ECEF axes.
        dz_m: (M,) altitude of j minus altitude of i.
        dvz_mps: (M,) vertical speed of j minus vertical speed of i.
    """

    r_m: FloatArray
    w_mps: FloatArray
    dz_m: FloatArray
    dvz_mps: FloatArray


@dataclass(frozen=True, slots=True, kw_only=True)
class CylinderEncounter:
    """Per-pair result of the cylinder test; arrays of shape (M,).

    ``t_in_s`` and ``t_out_s`` are meaningful only where ``conflict`` is true;
    ``t_cpa_s``, ``h_cpa_m`` and ``v_cpa_m`` are defined for every pair.
    """

    conflict: npt.NDArray[np.bool_]
    t_in_s: FloatArray
    t_out_s: FloatArray
    t_cpa_s: FloatArray
    h_cpa_m: FloatArray
    v_cpa_m: FloatArray


def relative_plane_motion(
    p_i_m: FloatArray,
    p_j_m: FloatArray,
    v_i_mps: FloatArray,
    v_j_mps: FloatArray,
    alt_i_m: FloatArray,
    alt_j_m: FloatArray,
    vs_i_mps: FloatArray,
    vs_j_mps: FloatArray,
    earth: EarthModel = WGS84,
) -> RelativeMotion:
    """Relative motion of each pair (i, j) in the pair's local horizontal plane.

    Args:
        p_i_m, p_j_m: (M, 3) ECEF surface points of the two aircraft.
        v_i_mps, v_j_mps: (M, 3) ECEF ground velocities.
        alt_i_m, alt_j_m: (M,) altitudes.
        vs_i_mps, vs_j_mps: (M,) vertical speeds.
    """
    normal = pair_plane_normal(p_i_m, p_j_m, earth)
    r = p_j_m - p_i_m
    w = v_j_mps - v_i_mps
    r_h = r - np.sum(r * normal, axis=1, keepdims=True) * normal
    w_h = w - np.sum(w * normal, axis=1, keepdims=True) * normal
    return RelativeMotion(
        r_m=r_h, w_mps=w_h, dz_m=alt_j_m - alt_i_m, dvz_mps=vs_j_mps - vs_i_mps
    )


def cylinder_encounter(
    motion: RelativeMotion,
    *,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
) -> CylinderEncounter:
    """Loss-of-separation interval and closest approach of each pair.

    Solves ``|r + w t| < D`` (a quadratic in t) and ``|dz + dvz t| < V`` (linear),
    intersects the two open intervals with ``[0, lookahead_s]``.
    """
    d_eff_m = horizontal_m - SEPARATION_TOLERANCE_M
    v_eff_m = vertical_m - SEPARATION_TOLERANCE_M
    r, w = motion.r_m, motion.w_mps
    a = np.sum(w * w, axis=1)
    b = np.sum(r * w, axis=1)
    r2 = np.sum(r * r, axis=1)
    c = r2 - d_eff_m * d_eff_m
    n = a.shape[0]

    # Horizontal interval (h_lo, h_hi) where |r + w t| < D.
    h_lo = np.full(n, np.inf)
    h_hi = np.full(n, -np.inf)
    moving = a > 0.0
    disc = b * b - a * c
    crossing = moving & (disc > 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        sq = np.sqrt(np.where(crossing, disc, 0.0))
        # Numerically stable roots: q = -(b + sign(b) sqrt(disc)); roots q/a and c/q.
        q = -(b + np.copysign(sq, b))
        root1 = q / a
        root2 = np.where(q != 0.0, c / q, -root1)
    h_lo = np.where(crossing, np.minimum(root1, root2), h_lo)
    h_hi = np.where(crossing, np.maximum(root1, root2), h_hi)
    still_inside = ~moving & (c < 0.0)
    h_lo = np.where(still_inside, -np.inf, h_lo)
    h_hi = np.where(still_inside, np.inf, h_hi)

    # Vertical interval (v_lo, v_hi) where |dz + dvz t| < V.
    dz, dvz = motion.dz_m, motion.dvz_mps
    climbing = dvz != 0.0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        t_a = (-v_eff_m - dz) / dvz
        t_b = (v_eff_m - dz) / dvz
    level_inside = ~climbing & (np.abs(dz) < v_eff_m)
    v_lo = np.where(
        climbing, np.minimum(t_a, t_b), np.where(level_inside, -np.inf, np.inf)
    )
    v_hi = np.where(
        climbing, np.maximum(t_a, t_b), np.where(level_inside, np.inf, -np.inf)
    )

    t_in = np.maximum(np.maximum(h_lo, v_lo), 0.0)
    t_out = np.minimum(np.minimum(h_hi, v_hi), lookahead_s)
    conflict = t_in < t_out

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        t_star = np.where(moving, -b / a, 0.0)
    t_cpa = np.clip(t_star, 0.0, lookahead_s)
    h_cpa = np.sqrt(np.maximum(r2 + 2.0 * b * t_cpa + a * t_cpa * t_cpa, 0.0))
    v_cpa = np.abs(dz + dvz * t_cpa)
    return CylinderEncounter(
        conflict=conflict,
        t_in_s=t_in,
        t_out_s=t_out,
        t_cpa_s=t_cpa,
        h_cpa_m=h_cpa,
        v_cpa_m=v_cpa,
    )


@numba.njit(cache=True, nogil=True)
def cylinder_encounter_one(
    p_i: FloatArray,
    p_j: FloatArray,
    v_i: FloatArray,
    v_j: FloatArray,
    alt_i_m: float,
    alt_j_m: float,
    vs_i_mps: float,
    vs_j_mps: float,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
) -> tuple[bool, float, float, float, float, float]:
    """Compiled scalar twin of :func:`relative_plane_motion` + :func:`cylinder_encounter`.

    ``p_*`` and ``v_*`` are length-3 ECEF vectors. Returns
    ``(conflict, t_in_s, t_out_s, t_cpa_s, h_cpa_m, v_cpa_m)``; this private tuple is
    only ever unpacked by the compiled detection kernel.
    """
    d_eff = horizontal_m - SEPARATION_TOLERANCE_M
    v_eff = vertical_m - SEPARATION_TOLERANCE_M
    nx = 0.5 * (p_i[0] + p_j[0]) * _INV_A2
    ny = 0.5 * (p_i[1] + p_j[1]) * _INV_A2
    nz = 0.5 * (p_i[2] + p_j[2]) * _INV_B2
    norm = math.sqrt(nx * nx + ny * ny + nz * nz)
    nx /= norm
    ny /= norm
    nz /= norm
    rx = p_j[0] - p_i[0]
    ry = p_j[1] - p_i[1]
    rz = p_j[2] - p_i[2]
    wx = v_j[0] - v_i[0]
    wy = v_j[1] - v_i[1]
    wz = v_j[2] - v_i[2]
    rn = rx * nx + ry * ny + rz * nz
    wn = wx * nx + wy * ny + wz * nz
    rx -= rn * nx
    ry -= rn * ny
    rz -= rn * nz
    wx -= wn * nx
    wy -= wn * ny
    wz -= wn * nz
    a = wx * wx + wy * wy + wz * wz
    b = rx * wx + ry * wy + rz * wz
    r2 = rx * rx + ry * ry + rz * rz
    c = r2 - d_eff * d_eff

    h_lo = math.inf
    h_hi = -math.inf
    if a > 0.0:
        disc = b * b - a * c
        if disc > 0.0:
            q = -(b + math.copysign(math.sqrt(disc), b))
            root1 = q / a
            root2 = c / q if q != 0.0 else -root1
            h_lo = min(root1, root2)
            h_hi = max(root1, root2)
    elif c < 0.0:
        h_lo = -math.inf
        h_hi = math.inf

    dz = alt_j_m - alt_i_m
    dvz = vs_j_mps - vs_i_mps
    if dvz != 0.0:
        t_a = (-v_eff - dz) / dvz
        t_b = (v_eff - dz) / dvz
        v_lo = min(t_a, t_b)
        v_hi = max(t_a, t_b)
    elif abs(dz) < v_eff:
        v_lo = -math.inf
        v_hi = math.inf
    else:
        v_lo = math.inf
        v_hi = -math.inf

    t_in = max(max(h_lo, v_lo), 0.0)
    t_out = min(min(h_hi, v_hi), lookahead_s)
    t_cpa = -b / a if a > 0.0 else 0.0
    t_cpa = min(max(t_cpa, 0.0), lookahead_s)
    h_cpa = math.sqrt(max(r2 + 2.0 * b * t_cpa + a * t_cpa * t_cpa, 0.0))
    v_cpa = abs(dz + dvz * t_cpa)
    return t_in < t_out, t_in, t_out, t_cpa, h_cpa, v_cpa
