"""Candidate pruning: time slices, swept boxes and a hashed grid (compiled with numba).

The look-ahead ``[0, T]`` is cut into slices ``[t0, t1)``. In each slice every aircraft
gets an axis-aligned box in ECEF x, y, z (metres) plus altitude: the box of its linear
motion over the slice, inflated by a margin. Boxes are hashed into grid cells; only
pairs whose boxes overlap are given the exact test
(:func:`skypact.geometry.cpa.cylinder_encounter_one`), and a pair is reported by the
slice that holds its ``t_in``, so each pair is reported exactly once.

Why the margins never lose a pair (the argument the tests hold us to)
-------------------------------------------------------------------
Let ``p`` be surface points, ``v`` ground velocities (ECEF), ``r = p_j - p_i``,
``w = v_j - v_i``, and ``u`` the unit normal of the pair's plane. The chord ``r`` lies in
the plane (``u.r = 0``, see :mod:`skypact.geometry.frames`), so the exact test's
horizontal distance is ``h(t) = |r + (w - (u.w) u) t|`` and the 3-D distance between the
linearly moving points ``q = p + v t`` is ``|r + w t| = sqrt(h(t)^2 + (t u.w)^2)``.

At ``t_in`` (in slice ``[t0, t1)``) we have ``h <= D`` and ``|dz| <= V``. Hence every
coordinate of ``q_j - q_i`` is at most ``D + t1 |u.w|`` in absolute value, and the
altitude difference at most ``V``. Because ``q(t_in)`` lies inside each aircraft's swept
box, inflating the boxes by ``(D + N)/2`` horizontally and ``V/2`` vertically makes
them overlap, for any ``N >= t1 |u.w|``.

Bounding ``|u.w|``: each velocity is tangent at its own point, ``v_i . n_i = 0``, and
``u`` is a positive combination of the ellipsoid normals ``n_i`` and ``n_j``, so
``|u.v_i| <= s_i sin(angle(n_i, n_j))``. Along any surface curve the normal turns at a
rate of at most the largest principal curvature, ``1 / rho_min`` with
``rho_min = b^2 / a`` (6,335 km for WGS84), so ``angle(n_i, n_j) <= L / rho_min`` with
``L`` the geodesic length, at most 1.02 times the chord while the chord is under
``rho_min / 2``. The chord at t = 0 is at most ``D + N + S t1`` (``S = 2 max speed``).
So ``N = t1 S k' (D + N + S t1)``, ``k' = 1.02 / rho_min``, whose solution
``N = k (D + S t1) / (1 - k)`` with ``k = 1.02 S t1 / rho_min`` is the margin used;
when the premises fail (very long look-ahead or speed) the trivial bound
``N = S t1`` (from ``|u.w| <= |w|``) is used instead. One metre of slack covers rounding.

Grid cells are cubes of ``cell_h_m`` in ECEF and ``cell_v_m`` in altitude; a box is
entered in every cell it touches, and a pair is examined only in the cell that holds
the low corner of the two boxes' intersection, so it is examined once per slice.
Cell coordinates are clamped to the key's bit range; clamping only merges cells, which
adds candidates and never removes one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt

from skypact.geometry.cpa import cylinder_encounter_one
from skypact.units import WGS84_A_M, WGS84_B_M, WGS84_E2, FloatArray

__all__ = [
    "RHO_MIN_M",
    "SlicePlan",
    "SliceResult",
    "SliceWorkspace",
    "density_from_mean",
    "detect_slice",
    "grid_frame",
    "grid_frame_from_mean",
    "normal_drift_bound_m",
    "plan_slices",
    "surface_state",
    "traffic_density_per_m2",
]

RHO_MIN_M = WGS84_B_M * WGS84_B_M / WGS84_A_M
"""Smallest radius of curvature of the WGS84 ellipsoid (meridian, at the equator)."""

_ARC_OVER_CHORD = 1.02
_SLACK_M = 1.0
_MIN_CELL_H_M = 200.0
_MIN_CELL_V_M = 50.0
_BITS_H = 17
_BITS_V = 12
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TARGET_PER_CELL = 12.0
_EARTH_AREA_M2 = 4.0 * math.pi * WGS84_A_M * WGS84_B_M


def traffic_density_per_m2(pos_m: FloatArray) -> float:
    """Mean number of aircraft per square metre over the area they cover.

    The area is that of the spherical cap with the same mean direction length ``L``
    as the surface points (``area = 4 pi R^2 (1 - L)``), floored at 1 km^2 per
    aircraft; it is an estimate used only to size grid cells.
    """
    unit = pos_m / np.linalg.norm(pos_m, axis=1, keepdims=True)
    return density_from_mean(len(pos_m), unit.mean(axis=0))


def normal_drift_bound_m(
    *, horizontal_m: float, speed_sum_mps: float, t_s: float
) -> float:
    """Upper bound on ``t |u.w|`` for a pair that is within ``horizontal_m`` by ``t_s``.

    Args:
        horizontal_m: the horizontal minimum D.
        speed_sum_mps: an upper bound S on the sum of the two ground speeds.
        t_s: the end of the time slice.
    """
    travel_m = speed_sum_mps * t_s
    k = _ARC_OVER_CHORD * travel_m / RHO_MIN_M
    if k < 0.5:
        bound_m = k * (horizontal_m + travel_m) / (1.0 - k)
        if horizontal_m + bound_m + travel_m <= 0.5 * RHO_MIN_M:
            return bound_m
    return travel_m


@numba.njit(cache=True, parallel=True)
def surface_state(
    lat_deg: FloatArray,
    lon_deg: FloatArray,
    gs_mps: FloatArray,
    trk_deg: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Compiled, fused twin of :func:`skypact.geometry.frames.surface_ecef_m` and
    :func:`~skypact.geometry.frames.ground_velocity_ecef_mps`.

    Returns ECEF surface points (N, 3), ECEF ground velocities (N, 3) and the sum of
    the points' unit vectors (3,) (for :func:`traffic_density_per_m2` and
    :func:`grid_frame`), in one parallel pass instead of a dozen numpy temporaries.
    """
    n = lat_deg.shape[0]
    pos = np.empty((n, 3))
    vel = np.empty((n, 3))
    ux = 0.0
    uy = 0.0
    uz = 0.0
    for a in numba.prange(n):
        lat = math.radians(lat_deg[a])
        lon = math.radians(lon_deg[a])
        trk = math.radians(trk_deg[a])
        sin_lat, cos_lat = math.sin(lat), math.cos(lat)
        sin_lon, cos_lon = math.sin(lon), math.cos(lon)
        prime_vertical = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
        x = prime_vertical * cos_lat * cos_lon
        y = prime_vertical * cos_lat * sin_lon
        z = prime_vertical * (1.0 - WGS84_E2) * sin_lat
        pos[a, 0] = x
        pos[a, 1] = y
        pos[a, 2] = z
        v_east = gs_mps[a] * math.sin(trk)
        v_north = gs_mps[a] * math.cos(trk)
        vel[a, 0] = -v_east * sin_lon - v_north * sin_lat * cos_lon
        vel[a, 1] = v_east * cos_lon - v_north * sin_lat * sin_lon
        vel[a, 2] = v_north * cos_lat
        norm = math.sqrt(x * x + y * y + z * z)
        ux += x / norm
        uy += y / norm
        uz += z / norm
    unit_sum = np.empty(3)
    unit_sum[0] = ux
    unit_sum[1] = uy
    unit_sum[2] = uz
    return pos, vel, unit_sum


def grid_frame_from_mean(mean_unit: FloatArray) -> FloatArray:
    """:func:`grid_frame` given the mean of the points' unit vectors."""
    length = float(np.linalg.norm(mean_unit))
    if length < 1e-6:
        return np.eye(3)
    z_axis = mean_unit / length
    helper = (
        np.array([1.0, 0.0, 0.0]) if abs(z_axis[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    )
    x_axis = np.cross(helper, z_axis)
    x_axis /= np.linalg.norm(x_axis)
    y_axis = np.cross(z_axis, x_axis)
    return np.stack([x_axis, y_axis, z_axis])


def density_from_mean(n: int, mean_unit: FloatArray) -> float:
    """:func:`traffic_density_per_m2` given the mean of the points' unit vectors."""
    mean_length = float(np.linalg.norm(mean_unit))
    area_m2 = max(_EARTH_AREA_M2 * (1.0 - mean_length), n * 1e6)
    return n / area_m2


def grid_frame(pos_m: FloatArray) -> FloatArray:
    """Rotation (3, 3) whose third row is the snapshot's mean surface direction.

    The grid is laid in this rotated frame: for traffic over a region the surface is
    then almost perpendicular to the grid's z axis, so cells are slabs that hug the
    surface instead of cubes cutting it obliquely. Distances are rotation-invariant,
    so the pruning argument holds in any orthonormal frame.
    """
    unit = pos_m / np.linalg.norm(pos_m, axis=1, keepdims=True)
    return grid_frame_from_mean(unit.mean(axis=0))


@dataclass(frozen=True, slots=True, kw_only=True)
class SlicePlan:
    """How the look-ahead is sliced and how big boxes and cells are in each slice."""

    t0_s: FloatArray
    t1_s: FloatArray
    half_h_m: FloatArray
    half_v_m: float
    cell_h_m: FloatArray
    cell_v_m: FloatArray

    def __len__(self) -> int:
        return len(self.t0_s)


def plan_slices(
    *,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
    max_gs_mps: float,
    max_vs_mps: float,
    density_per_m2: float,
    slice_travel: float = 3.5,
    cell_scale: float | None = None,
) -> SlicePlan:
    """Slices, box margins and cell sizes for one snapshot.

    Args:
        horizontal_m, vertical_m, lookahead_s: the detection parameters.
        max_gs_mps, max_vs_mps: the largest ground and vertical speed in the snapshot.
        density_per_m2: aircraft per square metre of the area the snapshot covers
            (see :func:`traffic_density_per_m2`).
        slice_travel: how far (in units of ``horizontal_m``) the fastest aircraft
            moves in one slice; smaller means more, tighter slices.
        cell_scale: grid cell size relative to the largest box; by default it adapts
            to the density so that a cell's footprint holds about
            ``_TARGET_PER_CELL`` aircraft (dense traffic: small cells and few pair
            checks; sparse traffic: big cells and few grid entries).
    """
    reach_m = lookahead_s * max_gs_mps
    n_slices = int(min(64, max(1, math.ceil(reach_m / (slice_travel * horizontal_m)))))
    edges = np.linspace(0.0, lookahead_s, n_slices + 1)
    t0, t1 = edges[:-1], edges[1:]
    dt = t1 - t0
    drift = np.array(
        [
            normal_drift_bound_m(
                horizontal_m=horizontal_m, speed_sum_mps=2.0 * max_gs_mps, t_s=t
            )
            for t in t1
        ]
    )
    half_h = 0.5 * (horizontal_m + drift) + _SLACK_M
    half_v = 0.5 * vertical_m + 1e-2
    extent_h = 2.0 * half_h + max_gs_mps * dt
    if cell_scale is None:
        per_cell = density_per_m2 * extent_h * extent_h
        scale = np.clip(
            np.sqrt(_TARGET_PER_CELL / np.maximum(per_cell, 1e-12)), 0.75, 3.0
        )
    else:
        scale = np.full(n_slices, cell_scale)
    cell_h = np.maximum(_MIN_CELL_H_M, scale * extent_h)
    cell_v = np.maximum(_MIN_CELL_V_M, 2.0 * half_v + max_vs_mps * dt)
    return SlicePlan(
        t0_s=t0,
        t1_s=t1,
        half_h_m=half_h,
        half_v_m=half_v,
        cell_h_m=cell_h,
        cell_v_m=cell_v,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SliceResult:
    """Conflicts whose ``t_in`` falls in one slice.

    Attributes:
        candidates: pairs given the exact test.
        i, j: the pairs (i < j).
        values: (M, 5) t_in_s, t_out_s, t_cpa_s, h_cpa_m, v_cpa_m.
    """

    candidates: int
    i: npt.NDArray[np.int64]
    j: npt.NDArray[np.int64]
    values: FloatArray


@numba.njit(cache=True, inline="always")
def _coord(value: float, cell: float, bits: int) -> int:
    c = math.floor(value / cell) + float(1 << (bits - 1))
    top = float((1 << bits) - 1)
    if c < 0.0:
        c = 0.0
    elif c > top:
        c = top
    return int(c)


@numba.njit(cache=True, inline="always")
def _pack(cx: int, cy: int, cz: int, ca: int) -> int:
    return ((cx * (1 << _BITS_H) + cy) * (1 << _BITS_H) + cz) * (1 << _BITS_V) + ca


@numba.njit(cache=True, parallel=True)
def _boxes(
    grid_pos: FloatArray,
    grid_vel: FloatArray,
    alt: FloatArray,
    vs: FloatArray,
    t0: float,
    t1: float,
    half_h: float,
    half_v: float,
    cell_h: float,
    cell_z: float,
    cell_v: float,
    lo: FloatArray,
    hi: FloatArray,
    clo: npt.NDArray[np.int64],
    chi: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
) -> int:
    """Swept boxes and their cell ranges; returns the number of (aircraft, cell) entries."""
    n = grid_pos.shape[0]
    for a in numba.prange(n):
        count = 1
        for d in range(3):
            x0 = grid_pos[a, d] + grid_vel[a, d] * t0
            x1 = grid_pos[a, d] + grid_vel[a, d] * t1
            lo[a, d] = min(x0, x1) - half_h
            hi[a, d] = max(x0, x1) + half_h
            cell = cell_h if d < 2 else cell_z
            clo[a, d] = _coord(lo[a, d], cell, _BITS_H)
            chi[a, d] = _coord(hi[a, d], cell, _BITS_H)
            count *= chi[a, d] - clo[a, d] + 1
        z0 = alt[a] + vs[a] * t0
        z1 = alt[a] + vs[a] * t1
        lo[a, 3] = min(z0, z1) - half_v
        hi[a, 3] = max(z0, z1) + half_v
        clo[a, 3] = _coord(lo[a, 3], cell_v, _BITS_V)
        chi[a, 3] = _coord(hi[a, 3], cell_v, _BITS_V)
        start[a + 1] = count * (chi[a, 3] - clo[a, 3] + 1)
    start[0] = 0
    for a in range(n):
        start[a + 1] += start[a]
    return int(start[n])


@numba.njit(cache=True, parallel=True)
def _pairs(
    pos: FloatArray,
    vel: FloatArray,
    alt: FloatArray,
    vs: FloatArray,
    codes: npt.NDArray[np.int64],
    inter_party: bool,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
    t0: float,
    t1: float,
    lo: FloatArray,
    hi: FloatArray,
    clo: npt.NDArray[np.int64],
    chi: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    n_entries: int,
    n_blocks: int,
    keys: npt.NDArray[np.int64],
    owner: npt.NDArray[np.int64],
    hashed: npt.NDArray[np.int64],
    p_key: npt.NDArray[np.int64],
    p_owner: npt.NDArray[np.int64],
    p_hash: npt.NDArray[np.int64],
    first: npt.NDArray[np.int64],
    out_i: npt.NDArray[np.int64],
    out_j: npt.NDArray[np.int64],
    out_v: FloatArray,
    found: npt.NDArray[np.int64],
    candidates: npt.NDArray[np.int64],
) -> None:
    """Grid the entries, test the candidate pairs exactly, keep those with t_in here."""
    n = pos.shape[0]
    n_chunks, cap = out_i.shape
    # The hash's top bits pick one of n_chunks partitions (a power of two), the next
    # bits a bucket inside it.
    part_bits = 0
    while (1 << part_bits) < n_chunks:
        part_bits += 1
    local_bits = 4
    while (1 << (part_bits + local_bits)) < n_entries:
        local_bits += 1
    n_local = 1 << local_bits
    shift = np.uint64(64 - part_bits - local_bits)
    for a in numba.prange(n):
        e = start[a]
        for cx in range(clo[a, 0], chi[a, 0] + 1):
            for cy in range(clo[a, 1], chi[a, 1] + 1):
                for cz in range(clo[a, 2], chi[a, 2] + 1):
                    for ca in range(clo[a, 3], chi[a, 3] + 1):
                        key = _pack(cx, cy, cz, ca)
                        keys[e] = key
                        owner[e] = a
                        hashed[e] = np.int64((np.uint64(key) * _GOLDEN) >> shift)
                        e += 1

    # Radix partition by the top bits, one block of entries per thread.
    hist = np.zeros((n_blocks, n_chunks), dtype=np.int64)
    for blk in numba.prange(n_blocks):
        for e in range(blk * n_entries // n_blocks, (blk + 1) * n_entries // n_blocks):
            hist[blk, hashed[e] >> local_bits] += 1
    part_start = np.empty(n_chunks + 1, dtype=np.int64)
    offset = np.empty((n_blocks, n_chunks), dtype=np.int64)
    total = 0
    for c in range(n_chunks):
        part_start[c] = total
        for blk in range(n_blocks):
            offset[blk, c] = total
            total += hist[blk, c]
    part_start[n_chunks] = total
    for blk in numba.prange(n_blocks):
        for e in range(blk * n_entries // n_blocks, (blk + 1) * n_entries // n_blocks):
            c = hashed[e] >> local_bits
            k = offset[blk, c]
            p_key[k] = keys[e]
            p_owner[k] = owner[e]
            p_hash[k] = hashed[e] & (n_local - 1)
            offset[blk, c] = k + 1

    for c in numba.prange(n_chunks):
        # Counting sort of this partition's entries by local bucket; the sorted keys
        # and owners reuse the (now consumed) `keys` and `owner` buffers in place.
        p0 = part_start[c]
        p1 = part_start[c + 1]
        f0 = c * (n_local + 1)
        for b in range(n_local + 1):
            first[f0 + b] = 0
        for e in range(p0, p1):
            first[f0 + p_hash[e] + 1] += 1
        first[f0] = p0
        for b in range(n_local):
            first[f0 + b + 1] += first[f0 + b]
        for e in range(p0, p1):
            k = first[f0 + p_hash[e]]
            keys[k] = p_key[e]
            owner[k] = p_owner[e]
            first[f0 + p_hash[e]] = k + 1
        # `first[f0 + b]` now holds the end of bucket b; its start is the previous end.
        k = 0
        n_cand = 0
        b_begin = p0
        for b in range(n_local):
            e_end = first[f0 + b]
            for e1 in range(b_begin, e_end):
                key = keys[e1]
                a1 = owner[e1]
                for e2 in range(e1 + 1, e_end):
                    if keys[e2] != key:
                        continue
                    a2 = owner[e2]
                    if inter_party and codes[a1] == codes[a2]:
                        continue
                    apart = False
                    for d in range(4):
                        if lo[a1, d] > hi[a2, d] or lo[a2, d] > hi[a1, d]:
                            apart = True
                            break
                    if apart:
                        continue
                    ref = _pack(
                        max(clo[a1, 0], clo[a2, 0]),
                        max(clo[a1, 1], clo[a2, 1]),
                        max(clo[a1, 2], clo[a2, 2]),
                        max(clo[a1, 3], clo[a2, 3]),
                    )
                    if ref != key:
                        continue
                    n_cand += 1
                    i = min(a1, a2)
                    j = max(a1, a2)
                    hit, t_in, t_out, t_cpa, h_cpa, v_cpa = cylinder_encounter_one(
                        pos[i], pos[j], vel[i], vel[j], alt[i], alt[j], vs[i], vs[j],
                        horizontal_m, vertical_m, lookahead_s,
                    )  # fmt: skip
                    if hit and t0 <= t_in < t1:
                        if k < cap:
                            out_i[c, k] = i
                            out_j[c, k] = j
                            out_v[c, k, 0] = t_in
                            out_v[c, k, 1] = t_out
                            out_v[c, k, 2] = t_cpa
                            out_v[c, k, 3] = h_cpa
                            out_v[c, k, 4] = v_cpa
                        k += 1
            b_begin = e_end
        found[c] = k
        candidates[c] = n_cand


@numba.njit(cache=True)
def _gather(
    found: npt.NDArray[np.int64],
    out_i: npt.NDArray[np.int64],
    out_j: npt.NDArray[np.int64],
    out_v: FloatArray,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray]:
    n_chunks, cap = out_i.shape
    total = 0
    for c in range(n_chunks):
        total += min(found[c], cap)
    res_i = np.empty(total, dtype=np.int64)
    res_j = np.empty(total, dtype=np.int64)
    res_v = np.empty((total, 5))
    k = 0
    for c in range(n_chunks):
        for m in range(min(found[c], cap)):
            res_i[k] = out_i[c, m]
            res_j[k] = out_j[c, m]
            for q in range(5):
                res_v[k, q] = out_v[c, m, q]
            k += 1
    return res_i, res_j, res_v


class SliceWorkspace:
    """Scratch buffers for the kernel, allocated once and reused across slices.

    Fresh multi-megabyte buffers per slice cost more in page faults than the grid
    work itself at N = 100,000; one workspace per detection avoids that. Not shared
    between threads.
    """

    def __init__(self, n_aircraft: int, *, n_chunks: int = 64, cap: int = 256) -> None:
        if n_chunks & (n_chunks - 1):
            raise ValueError("n_chunks must be a power of two")
        self.n_chunks = n_chunks
        self.lo = np.empty((n_aircraft, 4))
        self.hi = np.empty((n_aircraft, 4))
        self.clo = np.empty((n_aircraft, 4), dtype=np.int64)
        self.chi = np.empty((n_aircraft, 4), dtype=np.int64)
        self.start = np.empty(n_aircraft + 1, dtype=np.int64)
        self.found = np.empty(n_chunks, dtype=np.int64)
        self.candidates = np.empty(n_chunks, dtype=np.int64)
        self._entries = -1
        self.reserve_entries(4 * n_aircraft)
        self._cap = -1
        self.reserve_output(cap)

    @property
    def cap(self) -> int:
        """Conflicts each partition can hold per slice."""
        return self._cap

    def reserve_entries(self, n_entries: int) -> None:
        """Make room for at least ``n_entries`` grid entries."""
        if n_entries <= self._entries:
            return
        size = max(n_entries, int(1.5 * self._entries))
        self._entries = size
        self.keys = np.empty(size, dtype=np.int64)
        self.owner = np.empty(size, dtype=np.int64)
        self.hashed = np.empty(size, dtype=np.int64)
        self.p_key = np.empty(size, dtype=np.int64)
        self.p_owner = np.empty(size, dtype=np.int64)
        self.p_hash = np.empty(size, dtype=np.int64)
        # Bucket heads: n_chunks * (n_local + 1) < 2 * entries + 17 * n_chunks.
        self.first = np.empty(2 * size + 17 * self.n_chunks, dtype=np.int64)

    def reserve_output(self, cap: int) -> None:
        """Make room for ``cap`` conflicts per partition."""
        if cap <= self._cap:
            return
        self._cap = cap
        self.out_i = np.empty((self.n_chunks, cap), dtype=np.int64)
        self.out_j = np.empty((self.n_chunks, cap), dtype=np.int64)
        self.out_v = np.empty((self.n_chunks, cap, 5))


def detect_slice(
    *,
    grid_pos_m: FloatArray,
    grid_vel_mps: FloatArray,
    cell_z_scale: float,
    pos_m: FloatArray,
    vel_mps: FloatArray,
    alt_m: FloatArray,
    vs_mps: FloatArray,
    codes: npt.NDArray[np.int64],
    inter_party: bool,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
    plan: SlicePlan,
    k: int,
    workspace: SliceWorkspace,
) -> SliceResult:
    """Conflicts whose ``t_in`` lies in slice ``k`` of ``plan``; always complete.

    ``grid_*`` are the positions and velocities in the grid's frame (see
    :func:`grid_frame`); ``pos_m`` and ``vel_mps`` are ECEF, for the exact test.
    """
    ws = workspace
    t0, t1 = float(plan.t0_s[k]), float(plan.t1_s[k])
    cell_h = float(plan.cell_h_m[k])
    n_entries = _boxes(
        grid_pos_m, grid_vel_mps, alt_m, vs_mps, t0, t1,
        float(plan.half_h_m[k]), plan.half_v_m,
        cell_h, cell_z_scale * cell_h, float(plan.cell_v_m[k]),
        ws.lo, ws.hi, ws.clo, ws.chi, ws.start,
    )  # fmt: skip
    ws.reserve_entries(n_entries)
    while True:
        _pairs(
            pos_m, vel_mps, alt_m, vs_mps, codes, inter_party,
            horizontal_m, vertical_m, lookahead_s, t0, t1,
            ws.lo, ws.hi, ws.clo, ws.chi, ws.start, n_entries,
            numba.get_num_threads(),
            ws.keys, ws.owner, ws.hashed, ws.p_key, ws.p_owner, ws.p_hash, ws.first,
            ws.out_i, ws.out_j, ws.out_v, ws.found, ws.candidates,
        )  # fmt: skip
        most = int(ws.found.max())
        if most <= ws.cap:
            break
        ws.reserve_output(most)  # a dense slice: run it again with room for all
    i, j, values = _gather(ws.found, ws.out_i, ws.out_j, ws.out_v)
    return SliceResult(candidates=int(ws.candidates.sum()), i=i, j=j, values=values)
