"""The detector role and the choice of which pairs are monitored."""

from __future__ import annotations

import enum
from typing import Protocol

import numpy as np
import numpy.typing as npt

from skypact.detection.model import ConflictSet
from skypact.errors import ConfigError
from skypact.geometry.cpa import RelativeMotion, relative_plane_motion
from skypact.geometry.frames import (
    WGS84,
    EarthModel,
    ground_velocity_ecef_mps,
    surface_ecef_m,
)
from skypact.tracks.model import StateArrays
from skypact.units import FloatArray

__all__ = [
    "Detector",
    "PairFilter",
    "SnapshotFrames",
    "check_minima",
    "party_codes",
]


class PairFilter(enum.StrEnum):
    """Which pairs of aircraft a detector monitors."""

    ALL = "all"
    """Every pair of aircraft."""
    INTER_PARTY = "inter-party"
    """Only pairs whose aircraft belong to different parties."""


class Detector(Protocol):
    """Finds the pairs of a snapshot that are predicted to lose separation."""

    def detect(self, states: StateArrays, *, lookahead_s: float) -> ConflictSet:
        """Conflicting pairs within ``[0, lookahead_s]`` of the states' time."""
        ...


def check_minima(*, horizontal_m: float, vertical_m: float, lookahead_s: float) -> None:
    """Raise :class:`ConfigError` unless the minima and look-ahead are usable."""
    for name, value in (
        ("horizontal_m", horizontal_m),
        ("vertical_m", vertical_m),
        ("lookahead_s", lookahead_s),
    ):
        if not np.isfinite(value) or value <= 0.0:
            raise ConfigError(name, value, "must be a finite number greater than 0")


def party_codes(states: StateArrays, pairs: PairFilter) -> npt.NDArray[np.int64]:
    """Integer party code per aircraft for the filter (all zeros for ``ALL``)."""
    if pairs is PairFilter.ALL:
        return np.zeros(len(states), dtype=np.int64)
    if states.party is None:
        raise ConfigError(
            "pairs", str(pairs), "inter-party detection needs a party for each aircraft"
        )
    _, codes = np.unique(states.party.astype(str), return_inverse=True)
    return codes.astype(np.int64) + 1


class SnapshotFrames:
    """A snapshot's surface points and ground velocities in ECEF, computed once.

    :meth:`motion` gives the relative motion of any pairs ``(i, j)`` of it.
    """

    def __init__(self, states: StateArrays, earth: EarthModel = WGS84) -> None:
        self.states = states
        self.earth = earth
        self.pos: FloatArray = surface_ecef_m(states.lat_deg, states.lon_deg, earth)
        self.vel: FloatArray = ground_velocity_ecef_mps(
            states.lat_deg, states.lon_deg, states.gs_mps, states.trk_deg
        )

    def motion(
        self, i: npt.NDArray[np.int64], j: npt.NDArray[np.int64]
    ) -> RelativeMotion:
        """Relative motion of aircraft ``j`` seen from ``i``, pair by pair."""
        s = self.states
        return relative_plane_motion(
            self.pos[i], self.pos[j], self.vel[i], self.vel[j],
            s.alt_m[i], s.alt_m[j], s.vs_mps[i], s.vs_mps[j], self.earth,
        )  # fmt: skip
