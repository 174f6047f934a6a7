"""Alert levels as data, and the raw level of each pair in one detection cycle.

A level has its own look-ahead and minima (DAIDALUS's ``AlertThresholds``). A pair's
*raw* level in a cycle is the highest level whose detection finds it in conflict; the
lifecycle (:mod:`skypact.alerting.lifecycle`) turns raw levels into stable alerts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from skypact.agreement.schema import AgreementFile, AlertingSpec, SeparationSpec
from skypact.detection.base import Detector, PairFilter
from skypact.detection.cylinder import CylinderDetector
from skypact.errors import ConfigError
from skypact.tracks.model import StateArrays
from skypact.units import ft_to_m, nm_to_m

__all__ = [
    "AlertProfile",
    "AlertThresholds",
    "RawLevels",
    "profile_from_agreement",
    "raw_levels",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertThresholds:
    """One alert level: a detection with its own look-ahead and minima (SI)."""

    severity: int
    name: str
    lookahead_s: float
    horizontal_m: float
    vertical_m: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertProfile:
    """Alert levels (by increasing severity) and the anti-flapping parameters.

    Attributes:
        levels: by strictly increasing severity.
        confirm_m, confirm_n: a level is confirmed when at least M of the last N cycles
            found the pair at that level or above.
        persistence_s: a displayed level is kept at least this long before it may drop.
        hysteresis_s: a level drops (or the alert clears) only after the confirmed level
            has stayed below it this long.
        expiry_s: an alert whose pair is no longer observed expires after this long.
    """

    levels: tuple[AlertThresholds, ...]
    confirm_m: int = 2
    confirm_n: int = 3
    persistence_s: float = 5.0
    hysteresis_s: float = 10.0
    expiry_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.levels:
            raise ConfigError(
                "levels", self.levels, "at least one alert level is needed"
            )
        severities = [level.severity for level in self.levels]
        if severities != sorted(set(severities)) or severities[0] < 1:
            raise ConfigError("levels", severities, "severities must increase from 1")
        if not 1 <= self.confirm_m <= self.confirm_n:
            raise ConfigError(
                "confirm_m", self.confirm_m, "must be within 1..confirm_n"
            )
        for name in ("persistence_s", "hysteresis_s", "expiry_s"):
            if getattr(self, name) < 0:
                raise ConfigError(name, getattr(self, name), "must not be negative")

    @property
    def top(self) -> int:
        """The most severe level."""
        return self.levels[-1].severity


def profile_from_agreement(content: AgreementFile) -> AlertProfile:
    """The alert profile an agreement defines (its units converted to SI once)."""
    return profile_from_specs(content.alerting, content.separation)


def default_profile() -> AlertProfile:
    """DESIGN.md's defaults: 3 NM / 1,000 ft, levels at 300 / 120 / 60 s, 2 of 3."""
    return profile_from_specs(AlertingSpec(), SeparationSpec())


def profile_from_specs(
    alerting: AlertingSpec, separation: SeparationSpec
) -> AlertProfile:
    """An alert profile from an agreement's ``[alerting]`` and ``[separation]`` tables."""
    levels = tuple(
        AlertThresholds(
            severity=level.severity,
            name=level.name,
            lookahead_s=level.lookahead_s,
            horizontal_m=nm_to_m(level.horizontal_nm or separation.horizontal_nm),
            vertical_m=ft_to_m(level.vertical_ft or separation.vertical_ft),
        )
        for level in alerting.levels
    )
    return AlertProfile(
        levels=levels,
        confirm_m=alerting.confirm_m,
        confirm_n=alerting.confirm_n,
        persistence_s=alerting.persistence_s,
        hysteresis_s=alerting.hysteresis_s,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RawLevels:
    """The raw level of every pair in conflict at some level in one cycle.

    ``i < j`` index the states; ``t_in_s`` is the entry time at the raw level.
    """

    i: npt.NDArray[np.int64]
    j: npt.NDArray[np.int64]
    level: npt.NDArray[np.int64]
    t_in_s: npt.NDArray[np.float64]


def raw_levels(
    states: StateArrays,
    profile: AlertProfile,
    *,
    pairs: PairFilter = PairFilter.ALL,
    detector_factory: type[CylinderDetector] = CylinderDetector,
) -> RawLevels:
    """Each pair's highest level in conflict this cycle (pairs at level 0 omitted)."""
    best: dict[tuple[int, int], tuple[int, float]] = {}
    for thresholds in profile.levels:
        detector: Detector = detector_factory(
            horizontal_m=thresholds.horizontal_m,
            vertical_m=thresholds.vertical_m,
            pairs=pairs,
        )
        found = detector.detect(states, lookahead_s=thresholds.lookahead_s)
        for i, j, t_in in zip(
            found.i.tolist(), found.j.tolist(), found.t_in_s.tolist(), strict=True
        ):
            best[(i, j)] = (thresholds.severity, t_in)  # later levels are more severe
    keys = sorted(best)
    return RawLevels(
        i=np.array([k[0] for k in keys], dtype=np.int64),
        j=np.array([k[1] for k in keys], dtype=np.int64),
        level=np.array([best[k][0] for k in keys], dtype=np.int64),
        t_in_s=np.array([best[k][1] for k in keys], dtype=np.float64),
    )
