"""Detection against the DO-365 well-clear volume (modified tau), for drone alerting.

Candidates come from the fast cylinder detector run with a radius no well-clear
violation can escape, then each candidate is solved exactly by
:func:`skypact.geometry.wellclear.taumod_interval`.

Why the radius suffices: at a moment when a pair is not well clear, either it is within
DTHR, or ``|s|^2 + TTHR s.v <= DTHR^2`` with ``s.v >= -|s||v|``, which gives
``|s| <= (TTHR |v| + sqrt(TTHR^2 |v|^2 + 4 DTHR^2)) / 2 <= DTHR + TTHR |v|``; and
``|v| <= 2 max(ground speed)``. Vertically it is within ZTHR. So the pair is inside the
cylinder of radius ``DTHR + 2 TTHR max(gs)`` and height ZTHR at that same moment. The
cylinder detector works on WGS84; the radius is widened by 1 % (more than any distance
changes between WGS84 and a sphere of similar size) and the height by 1 m, to cover the
Earth model and the cylinder's strict, 1 mm-tolerant boundary.
"""

from __future__ import annotations

import numpy as np

from skypact.detection.base import PairFilter, SnapshotFrames, check_minima
from skypact.detection.cylinder import CylinderDetector
from skypact.detection.model import ConflictSet
from skypact.geometry.cpa import cylinder_encounter
from skypact.geometry.frames import WGS84, EarthModel
from skypact.geometry.wellclear import taumod_interval
from skypact.tracks.model import StateArrays

__all__ = ["WellClearDetector"]

_RADIUS_MARGIN = 1.01
_MARGIN_M = 1.0


class WellClearDetector:
    """Pairs predicted not well clear (DO-365 modified tau) within the look-ahead.

    The returned :class:`ConflictSet` has the well-clear interval in ``t_in_s`` /
    ``t_out_s`` and the closest approach of the straight-line motion in ``t_cpa_s``,
    ``h_cpa_m``, ``v_cpa_m``.

    Args:
        dthr_m, zthr_m, tthr_s: the DO-365 thresholds DTHR, ZTHR and TTHR.
        pairs: which pairs are monitored.
        earth: the Earth model the positions are read on.
    """

    def __init__(
        self,
        *,
        dthr_m: float,
        zthr_m: float,
        tthr_s: float,
        pairs: PairFilter = PairFilter.ALL,
        earth: EarthModel = WGS84,
    ) -> None:
        if tthr_s < 0:
            raise ValueError(f"TTHR must not be negative, got {tthr_s}")
        self.dthr_m = dthr_m
        self.zthr_m = zthr_m
        self.tthr_s = tthr_s
        self.pairs = pairs
        self.earth = earth

    def detect(self, states: StateArrays, *, lookahead_s: float) -> ConflictSet:
        """Pairs not well clear at some moment of ``[0, lookahead_s]``."""
        check_minima(
            horizontal_m=self.dthr_m, vertical_m=self.zthr_m, lookahead_s=lookahead_s
        )
        if len(states) < 2:
            return ConflictSet.empty()
        reach_m = self.dthr_m + 2.0 * self.tthr_s * float(np.max(states.gs_mps))
        candidates = CylinderDetector(
            horizontal_m=reach_m * _RADIUS_MARGIN + _MARGIN_M,
            vertical_m=self.zthr_m + _MARGIN_M,
            pairs=self.pairs,
        ).detect(states, lookahead_s=lookahead_s)
        if not len(candidates):
            return candidates
        i, j = candidates.i, candidates.j
        motion = SnapshotFrames(states, self.earth).motion(i, j)
        wcv = taumod_interval(
            motion,
            dthr_m=self.dthr_m,
            zthr_m=self.zthr_m,
            tthr_s=self.tthr_s,
            lookahead_s=lookahead_s,
        )
        cpa = cylinder_encounter(
            motion,
            horizontal_m=self.dthr_m,
            vertical_m=self.zthr_m,
            lookahead_s=lookahead_s,
        )
        hit = wcv.conflict
        return ConflictSet(
            i=i[hit],
            j=j[hit],
            t_in_s=wcv.t_in_s[hit],
            t_out_s=wcv.t_out_s[hit],
            t_cpa_s=cpa.t_cpa_s[hit],
            h_cpa_m=cpa.h_cpa_m[hit],
            v_cpa_m=cpa.v_cpa_m[hit],
        )
