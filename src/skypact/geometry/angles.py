"""Angle helpers (degrees).

>>> float(wrap_deg_360(np.array([-90.0]))[0])
270.0
>>> float(wrap_deg_180(np.array([190.0]))[0])
-170.0
"""

from __future__ import annotations

import numpy as np

from skypact.units import FloatArray

__all__ = ["wrap_deg_180", "wrap_deg_360"]


def wrap_deg_360(angle_deg: FloatArray) -> FloatArray:
    """Wrap angles into [0, 360)."""
    wrapped: FloatArray = np.mod(angle_deg, 360.0)
    # np.mod(-1e-20, 360) rounds to 360.0: fold it back.
    wrapped[wrapped >= 360.0] = 0.0
    return wrapped


def wrap_deg_180(angle_deg: FloatArray) -> FloatArray:
    """Wrap angles into [-180, 180)."""
    return wrap_deg_360(np.asarray(angle_deg, dtype=np.float64) + 180.0) - 180.0
