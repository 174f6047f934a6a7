"""Alert levels as data, and the raw level of each pair in one detection cycle.

A level has its own look-ahead and volume (DAIDALUS's ``AlertThresholds``): the
agreement's separation cylinder, or DO-365's well-clear volume by modified tau when the
level has a time threshold ``tthr_s``. A pair's *raw* level in a cycle is the highest
level whose detection finds it in conflict; the lifecycle
(:mod:`skypact.alerting.lifecycle`) turns raw levels into stable alerts.

A level may also have an *early* look-ahead, used for a pair already showing that very
level (DAIDALUS's "early alerting time"): keeping an alert needs less than raising it,
so an alert does not flicker when the predicted loss hovers at the edge of the
look-ahead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from skypact.agreement.schema import AgreementFile, AlertingSpec, SeparationSpec
from skypact.detection.base import Detector, PairFilter
from skypact.detection.cylinder import CylinderDetector
from skypact.detection.wellclear import WellClearDetector
from skypact.errors import ConfigError
from skypact.geometry.frames import NAUTICAL_SPHERE, WGS84, EarthModel
from skypact.tracks.model import StateArrays
from skypact.units import ft_to_m, nm_to_m

__all__ = [
    "AlertProfile",
    "AlertThresholds",
    "RawLevels",
    "default_profile",
    "do365b_profile",
    "profile_from_agreement",
    "raw_levels",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertThresholds:
    """One alert level: a detection with its own look-ahead and minima (SI).

    Attributes:
        horizontal_m, vertical_m: the cylinder's radius and half-height, or DO-365's
            DTHR and ZTHR when ``tthr_s`` is set.
        tthr_s: DO-365's modified-tau threshold TTHR; None for the cylinder.
        early_lookahead_s: the look-ahead for a pair already shown at this level
            (None: the same as ``lookahead_s``).
    """

    severity: int
    name: str
    lookahead_s: float
    horizontal_m: float
    vertical_m: float
    tthr_s: float | None = None
    early_lookahead_s: float | None = None

    @property
    def keep_lookahead_s(self) -> float:
        """The look-ahead that keeps this level shown."""
        if self.early_lookahead_s is None:
            return self.lookahead_s
        return max(self.lookahead_s, self.early_lookahead_s)

    def detector(
        self, pairs: PairFilter, earth: EarthModel = WGS84
    ) -> CylinderDetector | WellClearDetector:
        """The detection this level runs."""
        if self.tthr_s is None:
            return CylinderDetector(
                horizontal_m=self.horizontal_m, vertical_m=self.vertical_m, pairs=pairs
            )
        return WellClearDetector(
            dthr_m=self.horizontal_m,
            zthr_m=self.vertical_m,
            tthr_s=self.tthr_s,
            pairs=pairs,
            earth=earth,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertProfile:
    """Alert levels (by increasing severity) and the anti-flapping parameters.

    Attributes:
        levels: by strictly increasing severity.
        confirm_m, confirm_n: a level is confirmed when at least M of the last N cycles
            found the pair at that level or above.
        persistence_s: a level is shown at least this long after it rose before it may
            drop.
        hysteresis_s: a level drops (or the alert clears) only after the confirmed level
            has stayed below it this long.
        reset_s: a pair not observed for longer than this starts its M-of-N window
            afresh (DAIDALUS's "hysteresis time").
        expiry_s: an alert whose pair is no longer observed expires after this long.
        earth: the Earth model positions are read on.
    """

    levels: tuple[AlertThresholds, ...]
    confirm_m: int = 2
    confirm_n: int = 3
    persistence_s: float = 5.0
    hysteresis_s: float = 10.0
    reset_s: float = 30.0
    expiry_s: float = 30.0
    earth: EarthModel = WGS84

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
        for name in ("persistence_s", "hysteresis_s", "reset_s", "expiry_s"):
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


def do365b_profile() -> AlertProfile:
    """RTCA DO-365B Phase I detect-and-avoid alerting, as DAIDALUS configures it.

    DAIDALUS's ``DO_365B_no_SUM`` configuration (release 2.0.4), without sensor
    uncertainty: three levels on the modified-tau well-clear volume (DTHR 0.66 NM,
    TTHR 35 s; ZTHR 700 ft for the preventive level, 450 ft otherwise) with alerting
    times 55/55/25 s (early 75/75/55 s), 2-of-4 confirmation, a 5 s reset and 4 s
    persistence, on DAIDALUS's Earth (the nautical-mile sphere) so that its scenarios
    give the same alerts to the second.
    """
    dthr_m = nm_to_m(0.66)
    corrective_m = ft_to_m(450.0)
    shape = {"horizontal_m": dthr_m, "tthr_s": 35.0}
    return AlertProfile(
        levels=(
            AlertThresholds(
                severity=1,
                name="preventive",
                lookahead_s=55.0,
                early_lookahead_s=75.0,
                vertical_m=ft_to_m(700.0),
                **shape,
            ),
            AlertThresholds(
                severity=2,
                name="corrective",
                lookahead_s=55.0,
                early_lookahead_s=75.0,
                vertical_m=corrective_m,
                **shape,
            ),
            AlertThresholds(
                severity=3,
                name="warning",
                lookahead_s=25.0,
                early_lookahead_s=55.0,
                vertical_m=corrective_m,
                **shape,
            ),
        ),
        confirm_m=2,
        confirm_n=4,
        persistence_s=4.0,
        hysteresis_s=0.0,
        reset_s=5.0,
        earth=NAUTICAL_SPHERE,
    )


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
            tthr_s=level.tthr_s,
            early_lookahead_s=level.early_lookahead_s,
        )
        for level in alerting.levels
    )
    return AlertProfile(
        levels=levels,
        confirm_m=alerting.confirm_m,
        confirm_n=alerting.confirm_n,
        persistence_s=alerting.persistence_s,
        hysteresis_s=alerting.hysteresis_s,
        reset_s=alerting.reset_s,
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
    shown: Mapping[tuple[int, int], int] | None = None,
) -> RawLevels:
    """Each pair's highest level in conflict this cycle (pairs at level 0 omitted).

    Args:
        shown: the level each pair ``(i, j)``, ``i < j``, is shown at from earlier
            cycles; a pair shown at a level is held to that level's early look-ahead.
    """
    shown = shown or {}
    # Levels with the same volume differ only in look-ahead: one detection, at the
    # longest, serves them all (a conflict within a shorter look-ahead is one whose
    # t_in is shorter; t_in does not depend on the look-ahead).
    horizon: dict[tuple[float, float, float | None], float] = {}
    for lv in profile.levels:
        key = (lv.horizontal_m, lv.vertical_m, lv.tthr_s)
        horizon[key] = max(horizon.get(key, 0.0), lv.keep_lookahead_s)
    found_by_volume = {}
    for lv in profile.levels:
        key = (lv.horizontal_m, lv.vertical_m, lv.tthr_s)
        if key not in found_by_volume:
            detector: Detector = lv.detector(pairs, profile.earth)
            found_by_volume[key] = detector.detect(states, lookahead_s=horizon[key])
    best: dict[tuple[int, int], tuple[int, float]] = {}
    for thresholds in profile.levels:
        key = (thresholds.horizontal_m, thresholds.vertical_m, thresholds.tthr_s)
        found = found_by_volume[key]
        for i, j, t_in in zip(
            found.i.tolist(), found.j.tolist(), found.t_in_s.tolist(), strict=True
        ):
            if t_in >= thresholds.keep_lookahead_s and t_in > 0.0:
                continue
            early = t_in >= thresholds.lookahead_s and t_in > 0.0
            if early and shown.get((i, j)) != thresholds.severity:
                continue
            best[(i, j)] = (thresholds.severity, t_in)  # later levels are more severe
    keys = sorted(best)
    return RawLevels(
        i=np.array([k[0] for k in keys], dtype=np.int64),
        j=np.array([k[1] for k in keys], dtype=np.int64),
        level=np.array([best[k][0] for k in keys], dtype=np.int64),
        t_in_s=np.array([best[k][1] for k in keys], dtype=np.float64),
    )
