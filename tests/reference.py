"""Independent references the fast code is held to.

- :func:`scalar_encounter`: the contract's cylinder test for one pair, in plain Python
  floats (no numpy), written separately from the vectorised and compiled kernels.
- :func:`geodesic_encounter`: the physical truth the linearisation approximates: both
  aircraft fly along geodesics at constant ground speed (pyproj), the separation is the
  geodesic distance, sampled finely in time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import Geod

from skypact.units import WGS84_A_M, WGS84_E2, WGS84_F

WGS84 = Geod(ellps="WGS84")
TOL_M = 1e-3


@dataclass(frozen=True)
class Encounter:
    conflict: bool
    t_in_s: float
    t_out_s: float
    t_cpa_s: float
    h_cpa_m: float
    v_cpa_m: float


def _ecef(lat: float, lon: float) -> list[float]:
    phi, lam = math.radians(lat), math.radians(lon)
    n = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * math.sin(phi) ** 2)
    return [
        n * math.cos(phi) * math.cos(lam),
        n * math.cos(phi) * math.sin(lam),
        n * (1.0 - WGS84_E2) * math.sin(phi),
    ]


def _velocity(lat: float, lon: float, gs: float, trk: float) -> list[float]:
    phi, lam, t = math.radians(lat), math.radians(lon), math.radians(trk)
    east = [-math.sin(lam), math.cos(lam), 0.0]
    north = [
        -math.sin(phi) * math.cos(lam),
        -math.sin(phi) * math.sin(lam),
        math.cos(phi),
    ]
    ve, vn = gs * math.sin(t), gs * math.cos(t)
    return [ve * e + vn * n for e, n in zip(east, north, strict=True)]


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def scalar_encounter(
    a: tuple[float, float, float, float, float, float],
    b: tuple[float, float, float, float, float, float],
    *,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
) -> Encounter:
    """The cylinder test for aircraft a and b given as (lat, lon, alt_m, gs, trk, vs)."""
    pa, pb = _ecef(a[0], a[1]), _ecef(b[0], b[1])
    va, vb = _velocity(a[0], a[1], a[3], a[4]), _velocity(b[0], b[1], b[3], b[4])
    b_m = WGS84_A_M * (1.0 - WGS84_F)
    mid = [(x + y) / 2.0 for x, y in zip(pa, pb, strict=True)]
    nrm = [mid[0] / WGS84_A_M**2, mid[1] / WGS84_A_M**2, mid[2] / b_m**2]
    length = math.sqrt(_dot(nrm, nrm))
    nrm = [x / length for x in nrm]
    r = [y - x for x, y in zip(pa, pb, strict=True)]
    w = [y - x for x, y in zip(va, vb, strict=True)]
    rn, wn = _dot(r, nrm), _dot(w, nrm)
    r = [x - rn * k for x, k in zip(r, nrm, strict=True)]
    w = [x - wn * k for x, k in zip(w, nrm, strict=True)]
    d, v = horizontal_m - TOL_M, vertical_m - TOL_M
    aa, bb, r2 = _dot(w, w), _dot(r, w), _dot(r, r)
    if aa > 0.0:
        disc = bb * bb - aa * (r2 - d * d)
        if disc > 0.0:
            h_lo = (-bb - math.sqrt(disc)) / aa
            h_hi = (-bb + math.sqrt(disc)) / aa
        else:
            h_lo, h_hi = math.inf, -math.inf
    elif r2 < d * d:
        h_lo, h_hi = -math.inf, math.inf
    else:
        h_lo, h_hi = math.inf, -math.inf
    dz, dvz = b[2] - a[2], b[5] - a[5]
    if dvz != 0.0:
        t1, t2 = (-v - dz) / dvz, (v - dz) / dvz
        v_lo, v_hi = min(t1, t2), max(t1, t2)
    elif abs(dz) < v:
        v_lo, v_hi = -math.inf, math.inf
    else:
        v_lo, v_hi = math.inf, -math.inf
    t_in = max(h_lo, v_lo, 0.0)
    t_out = min(h_hi, v_hi, lookahead_s)
    t_cpa = min(max(-bb / aa, 0.0), lookahead_s) if aa > 0.0 else 0.0
    h = math.sqrt(max(r2 + 2.0 * bb * t_cpa + aa * t_cpa * t_cpa, 0.0))
    return Encounter(t_in < t_out, t_in, t_out, t_cpa, h, abs(dz + dvz * t_cpa))


def geodesic_distance_m(
    a: tuple[float, float, float, float, float, float],
    b: tuple[float, float, float, float, float, float],
    t_s: np.ndarray,
) -> np.ndarray:
    """Geodesic distance between a and b flown along geodesics, at times t_s."""
    lon_a, lat_a, _ = WGS84.fwd(
        np.full_like(t_s, a[1]),
        np.full_like(t_s, a[0]),
        np.full_like(t_s, a[4]),
        a[3] * t_s,
    )
    lon_b, lat_b, _ = WGS84.fwd(
        np.full_like(t_s, b[1]),
        np.full_like(t_s, b[0]),
        np.full_like(t_s, b[4]),
        b[3] * t_s,
    )
    _, _, dist = WGS84.inv(lon_a, lat_a, lon_b, lat_b)
    return np.asarray(dist, dtype=np.float64)


def geodesic_min_distance(
    a: tuple[float, float, float, float, float, float],
    b: tuple[float, float, float, float, float, float],
    lookahead_s: float,
) -> tuple[float, float]:
    """(time, distance) of the geodesic closest approach in [0, lookahead_s]."""
    coarse = np.linspace(0.0, lookahead_s, 601)
    dist = geodesic_distance_m(a, b, coarse)
    k = int(np.argmin(dist))
    step = coarse[1] - coarse[0]
    fine = np.linspace(
        max(0.0, coarse[k] - step), min(lookahead_s, coarse[k] + step), 401
    )
    fine_dist = geodesic_distance_m(a, b, fine)
    m = int(np.argmin(fine_dist))
    return float(fine[m]), float(fine_dist[m])
