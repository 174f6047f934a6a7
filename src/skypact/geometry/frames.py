"""WGS84 frames: geodetic coordinates, Earth-centred Earth-fixed (ECEF) vectors, local ENU.

Horizontal geometry in SkyPact is done with each aircraft's *surface point* (its
latitude/longitude on the WGS84 ellipsoid, height 0) and its *ground velocity* (ground
speed along its true track, a vector tangent to the ellipsoid at that point), both in
ECEF metres. Altitude is handled separately as a vertical coordinate.

For a pair of aircraft the local horizontal plane is the plane through the pair's chord
midpoint ``m = (p_i + p_j) / 2`` perpendicular to ``n = A m`` with
``A = diag(1/a^2, 1/a^2, 1/b^2)`` — the ellipsoid's normal direction there (the
gradient of ``x^2/a^2 + y^2/a^2 + z^2/b^2``). Because that quadratic form takes the
same value (1) at both surface points, ``n . (p_j - p_i) = 0`` exactly: the chord
between the two aircraft lies *in* the plane, so the pair's horizontal separation at
t = 0 is the chord length, with no projection loss. Each aircraft's velocity is
expressed in ECEF from its *own* east/north axes and then projected into the pair's
plane, which accounts for meridian convergence exactly (the error BlueSky makes by
reusing the intruder's track angle in the ownship's frame).

Everything is rotation-invariant, so there is no special case at the poles or at the
antimeridian.

The ellipsoid is WGS84 unless an :class:`EarthModel` is given. The other model SkyPact
knows is :data:`NAUTICAL_SPHERE`, the sphere DAIDALUS lays its scenarios out on: replaying
them on WGS84 would move every alert by a fraction of a second (the data's one-second
steps are 0.18 % longer on that sphere than on WGS84 at 34 degrees North).

Examples:
    >>> p = surface_ecef_m(np.array([0.0]), np.array([0.0]))
    >>> p.tolist() == [[WGS84_A_M, 0.0, 0.0]]
    True
    >>> v = ground_velocity_ecef_mps(np.array([0.0]), np.array([0.0]),
    ...                              np.array([100.0]), np.array([90.0]))
    >>> bool(np.allclose(v, [[0.0, 100.0, 0.0]]))  # due east at (0, 0) is +y
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skypact.units import NAUTICAL_SPHERE_RADIUS_M, WGS84_A_M, WGS84_B_M, FloatArray

__all__ = [
    "NAUTICAL_SPHERE",
    "WGS84",
    "EarthModel",
    "EnuAxes",
    "enu_axes",
    "ground_velocity_ecef_mps",
    "pair_plane_normal",
    "surface_ecef_m",
]


@dataclass(frozen=True, slots=True)
class EarthModel:
    """An ellipsoid of revolution (a sphere when ``a_m == b_m``)."""

    name: str
    a_m: float
    b_m: float

    @property
    def e2(self) -> float:
        """First eccentricity squared."""
        return 1.0 - (self.b_m * self.b_m) / (self.a_m * self.a_m)

    @property
    def normal_scale(self) -> FloatArray:
        """``diag(1/a^2, 1/a^2, 1/b^2)``: maps a surface point to its normal direction."""
        inv_a2 = 1.0 / (self.a_m * self.a_m)
        return np.array([inv_a2, inv_a2, 1.0 / (self.b_m * self.b_m)])


WGS84 = EarthModel("wgs84", WGS84_A_M, WGS84_B_M)
"""The WGS84 ellipsoid: SkyPact's Earth."""
NAUTICAL_SPHERE = EarthModel(
    "nautical-sphere", NAUTICAL_SPHERE_RADIUS_M, NAUTICAL_SPHERE_RADIUS_M
)
"""The sphere on which a minute of arc is a nautical mile (DAIDALUS's Earth)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EnuAxes:
    """Unit east, north and up (geodetic normal) vectors in ECEF, each of shape (N, 3)."""

    east: FloatArray
    north: FloatArray
    up: FloatArray


def surface_ecef_m(
    lat_deg: FloatArray, lon_deg: FloatArray, earth: EarthModel = WGS84
) -> FloatArray:
    """ECEF position (N, 3) in metres of the ellipsoid point at geodetic lat/lon."""
    lat_rad = np.radians(lat_deg)
    lon_rad = np.radians(lon_deg)
    sin_lat = np.sin(lat_rad)
    cos_lat = np.cos(lat_rad)
    e2 = earth.e2
    prime_vertical_m = earth.a_m / np.sqrt(1.0 - e2 * sin_lat * sin_lat)
    out = np.empty((np.size(lat_deg), 3), dtype=np.float64)
    out[:, 0] = prime_vertical_m * cos_lat * np.cos(lon_rad)
    out[:, 1] = prime_vertical_m * cos_lat * np.sin(lon_rad)
    out[:, 2] = prime_vertical_m * (1.0 - e2) * sin_lat
    return out


def enu_axes(lat_deg: FloatArray, lon_deg: FloatArray) -> EnuAxes:
    """Local east, north and up unit vectors in ECEF at geodetic lat/lon."""
    lat_rad = np.radians(lat_deg)
    lon_rad = np.radians(lon_deg)
    sin_lat, cos_lat = np.sin(lat_rad), np.cos(lat_rad)
    sin_lon, cos_lon = np.sin(lon_rad), np.cos(lon_rad)
    east = np.stack([-sin_lon, cos_lon, np.zeros_like(sin_lon)], axis=1)
    north = np.stack([-sin_lat * cos_lon, -sin_lat * sin_lon, cos_lat], axis=1)
    up = np.stack([cos_lat * cos_lon, cos_lat * sin_lon, sin_lat], axis=1)
    return EnuAxes(east=east, north=north, up=up)


def ground_velocity_ecef_mps(
    lat_deg: FloatArray, lon_deg: FloatArray, gs_mps: FloatArray, trk_deg: FloatArray
) -> FloatArray:
    """Ground velocity (N, 3) in ECEF m/s from ground speed and true track.

    The vector is tangent to the ellipsoid at the aircraft's own position.
    """
    axes = enu_axes(lat_deg, lon_deg)
    trk_rad = np.radians(trk_deg)
    v_east = (gs_mps * np.sin(trk_rad))[:, None]
    v_north = (gs_mps * np.cos(trk_rad))[:, None]
    velocity: FloatArray = v_east * axes.east + v_north * axes.north
    return velocity


def pair_plane_normal(
    p_i_m: FloatArray, p_j_m: FloatArray, earth: EarthModel = WGS84
) -> FloatArray:
    """Unit normal (M, 3) of the horizontal plane of each pair of surface points.

    The normal is the ellipsoid's normal direction at the chord midpoint; the chord
    ``p_j - p_i`` is orthogonal to it (see the module docstring).
    """
    mid = 0.5 * (p_i_m + p_j_m)
    normal = mid * earth.normal_scale
    unit: FloatArray = normal / np.linalg.norm(normal, axis=1, keepdims=True)
    return unit
