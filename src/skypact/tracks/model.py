"""The picture as a struct of arrays: one entry per aircraft, SI units.

:class:`StateArrays` is the hot-path representation every detector consumes: equal-length
1-D numpy arrays, float64 for quantities, checked once on construction.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from skypact.units import FloatArray

__all__ = ["ObjectArray", "StateArrays"]

ObjectArray = npt.NDArray[np.object_]

_FLOAT_FIELDS = ("t_s", "lat_deg", "lon_deg", "alt_m", "gs_mps", "trk_deg", "vs_mps")


@dataclass(frozen=True, slots=True, kw_only=True)
class StateArrays:
    """State of N aircraft at (about) one time.

    Attributes:
        aircraft_id: (N,) object array of identifiers (``icao24`` strings).
        t_s: (N,) epoch seconds of each state.
        lat_deg, lon_deg: (N,) WGS84 position.
        alt_m: (N,) altitude (barometric unless the source says otherwise).
        gs_mps: (N,) ground speed.
        trk_deg: (N,) true track in [0, 360).
        vs_mps: (N,) vertical speed, positive up.
        party: (N,) object array of party identifiers, or None when unknown.

    Raises:
        ValueError: if the arrays differ in length or a numeric one is not float64.
            (Validation of *values* is the ingest adapters' job; this is a type check.)
    """

    aircraft_id: ObjectArray
    t_s: FloatArray
    lat_deg: FloatArray
    lon_deg: FloatArray
    alt_m: FloatArray
    gs_mps: FloatArray
    trk_deg: FloatArray
    vs_mps: FloatArray
    party: ObjectArray | None = None

    def __post_init__(self) -> None:
        n = len(self.aircraft_id)
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if not isinstance(value, np.ndarray) or value.ndim != 1:
                raise TypeError(f"StateArrays.{f.name} must be a 1-D numpy array")
            if len(value) != n:
                raise ValueError(
                    f"StateArrays.{f.name} has {len(value)} entries, expected {n}"
                )
            if f.name in _FLOAT_FIELDS and value.dtype != np.float64:
                raise TypeError(
                    f"StateArrays.{f.name} must be float64, not {value.dtype}"
                )

    def __len__(self) -> int:
        return len(self.aircraft_id)

    def take(self, rows: npt.NDArray[np.intp]) -> StateArrays:
        """The aircraft at ``rows`` (indices), in that order."""
        return StateArrays(
            aircraft_id=self.aircraft_id[rows],
            t_s=self.t_s[rows],
            lat_deg=self.lat_deg[rows],
            lon_deg=self.lon_deg[rows],
            alt_m=self.alt_m[rows],
            gs_mps=self.gs_mps[rows],
            trk_deg=self.trk_deg[rows],
            vs_mps=self.vs_mps[rows],
            party=None if self.party is None else self.party[rows],
        )
