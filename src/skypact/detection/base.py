"""The detector role and the choice of which pairs are monitored."""

from __future__ import annotations

import enum
from typing import Protocol

import numpy as np
import numpy.typing as npt

from skypact.detection.model import ConflictSet
from skypact.errors import ConfigError
from skypact.tracks.model import StateArrays

__all__ = ["Detector", "PairFilter", "check_minima", "party_codes"]


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
