"""Unit conversions: the only home of conversion constants in SkyPact.

SkyPact computes in SI (metres, seconds, metres per second) with angles in degrees,
and speaks aviation units (feet, knots, nautical miles, feet per minute) at its edges.
Every conversion between the two lives here, so that a literal such as 1852 or 0.3048
never appears anywhere else (a unit test enforces that).

The constants are the exact international definitions:

- 1 international nautical mile = 1852 m (exact, 1929 / ICAO Annex 5);
- 1 international foot = 0.3048 m (exact, 1959 agreement);
- 1 knot = 1 NM per hour = 1852 / 3600 m/s;
- 1 ft/min = 0.3048 / 60 m/s.

The WGS84 ellipsoid parameters used by :mod:`skypact.geometry` also live here.

Examples:
    >>> nm_to_m(5.0)
    9260.0
    >>> ft_to_m(1000.0)
    304.8
    >>> round(kt_to_mps(100.0), 6)
    51.444444
    >>> round(m_to_ft(ft_to_m(35000.0)), 9)
    35000.0
"""

from __future__ import annotations

import math
from typing import Annotated, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "FPM_MPS",
    "FT_M",
    "KT_MPS",
    "NAUTICAL_SPHERE_RADIUS_M",
    "NM_M",
    "WGS84_A_M",
    "WGS84_B_M",
    "WGS84_E2",
    "WGS84_F",
    "Degrees",
    "FloatArray",
    "Metres",
    "MetresPerSecond",
    "Seconds",
    "fpm_to_mps",
    "ft_to_m",
    "kt_to_mps",
    "m_to_ft",
    "m_to_nm",
    "mps_to_fpm",
    "mps_to_kt",
    "nm_to_m",
]

NM_M = 1852.0
"""Metres in one international nautical mile."""
FT_M = 0.3048
"""Metres in one international foot."""
KT_MPS = NM_M / 3600.0
"""Metres per second in one knot."""
FPM_MPS = FT_M / 60.0
"""Metres per second in one foot per minute."""

WGS84_A_M = 6378137.0
"""WGS84 semi-major axis (equatorial radius)."""
WGS84_F = 1.0 / 298.257223563
"""WGS84 flattening."""
WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)
"""WGS84 semi-minor axis (polar radius)."""
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
"""WGS84 first eccentricity squared."""
NAUTICAL_SPHERE_RADIUS_M = NM_M * 60.0 * 180.0 / math.pi
"""Radius of the sphere on which one minute of arc is one nautical mile (6,366,707 m).

The Earth of NASA's DAIDALUS and its geometry library: their lat/lon scenarios are
laid out on it."""

FloatArray = npt.NDArray[np.float64]
Metres = Annotated[float, "m"]
MetresPerSecond = Annotated[float, "m/s"]
Seconds = Annotated[float, "s"]
Degrees = Annotated[float, "deg"]

_Q = TypeVar("_Q", float, FloatArray)


def nm_to_m(value_nm: _Q) -> _Q:
    """Nautical miles to metres.

    >>> nm_to_m(1.0)
    1852.0
    """
    return value_nm * NM_M


def m_to_nm(value_m: _Q) -> _Q:
    """Metres to nautical miles.

    >>> m_to_nm(3704.0)
    2.0
    """
    return value_m / NM_M


def ft_to_m(value_ft: _Q) -> _Q:
    """Feet to metres.

    >>> ft_to_m(100.0)
    30.48
    """
    return value_ft * FT_M


def m_to_ft(value_m: _Q) -> _Q:
    """Metres to feet.

    >>> m_to_ft(304.8)
    1000.0
    """
    return value_m / FT_M


def kt_to_mps(value_kt: _Q) -> _Q:
    """Knots to metres per second.

    >>> round(kt_to_mps(3600.0), 9)
    1852.0
    """
    return value_kt * KT_MPS


def mps_to_kt(value_mps: _Q) -> _Q:
    """Metres per second to knots.

    >>> round(mps_to_kt(1852.0), 9)
    3600.0
    """
    return value_mps / KT_MPS


def fpm_to_mps(value_fpm: _Q) -> _Q:
    """Feet per minute to metres per second.

    >>> fpm_to_mps(6000.0)
    30.48
    """
    return value_fpm * FPM_MPS


def mps_to_fpm(value_mps: _Q) -> _Q:
    """Metres per second to feet per minute.

    >>> round(mps_to_fpm(30.48), 9)
    6000.0
    """
    return value_mps / FPM_MPS
