"""The fast cylinder detector: time-sliced pruning plus the exact test, compiled.

It finds exactly the pairs :class:`~skypact.detection.exhaustive.ExhaustiveDetector`
finds (pruning is an optimisation, never a filter; see :mod:`skypact.detection.pairs`
for the argument), in time roughly linear in N for traffic of a given density, and
memory linear in N. Both cores are used (numba's parallel loops).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from skypact.detection.base import PairFilter, check_minima, party_codes
from skypact.detection.model import ConflictSet
from skypact.detection.pairs import (
    SliceWorkspace,
    density_from_mean,
    detect_slice,
    grid_frame_from_mean,
    plan_slices,
    surface_state,
)
from skypact.tracks.model import StateArrays

__all__ = ["CylinderDetector", "DetectionStats"]

_log = logging.getLogger(__name__)

_N_CHUNKS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionStats:
    """What one detection cycle did.

    Attributes:
        aircraft: aircraft in the snapshot.
        slices: time slices the look-ahead was cut into.
        candidates: pairs given the exact test (summed over slices).
        conflicts: conflicting pairs found.
        elapsed_s: wall-clock time of the cycle.
    """

    aircraft: int
    slices: int
    candidates: int
    conflicts: int
    elapsed_s: float


class CylinderDetector:
    """State-based conflict detection against a horizontal/vertical cylinder.

    Key methods: :meth:`detect` (the :class:`~skypact.detection.base.Detector`
    protocol) and :meth:`detect_with_stats`.

    Args:
        horizontal_m, vertical_m: the separation minima.
        pairs: which pairs are monitored.
        slice_travel, cell_scale: tuning of the pruning (see
            :func:`skypact.detection.pairs.plan_slices`); they change speed, never
            results.
    """

    def __init__(
        self,
        *,
        horizontal_m: float,
        vertical_m: float,
        pairs: PairFilter = PairFilter.ALL,
        slice_travel: float = 3.5,
        cell_scale: float | None = None,
        cell_z_scale: float = 2.0,
    ) -> None:
        self.horizontal_m = horizontal_m
        self.vertical_m = vertical_m
        self.pairs = pairs
        self.slice_travel = slice_travel
        self.cell_scale = cell_scale
        self.cell_z_scale = cell_z_scale

    def detect(self, states: StateArrays, *, lookahead_s: float) -> ConflictSet:
        """Conflicting pairs within ``[0, lookahead_s]``."""
        return self.detect_with_stats(states, lookahead_s=lookahead_s)[0]

    def detect_with_stats(
        self, states: StateArrays, *, lookahead_s: float
    ) -> tuple[ConflictSet, DetectionStats]:
        """Conflicting pairs and what it took to find them."""
        started = time.perf_counter()
        check_minima(
            horizontal_m=self.horizontal_m,
            vertical_m=self.vertical_m,
            lookahead_s=lookahead_s,
        )
        n = len(states)
        codes = party_codes(states, self.pairs)
        if n < 2:
            stats = DetectionStats(
                aircraft=n, slices=0, candidates=0, conflicts=0, elapsed_s=0.0
            )
            return ConflictSet.empty(), stats
        pos, vel, unit_sum = surface_state(
            states.lat_deg, states.lon_deg, states.gs_mps, states.trk_deg
        )
        mean_unit = unit_sum / n
        plan = plan_slices(
            horizontal_m=self.horizontal_m,
            vertical_m=self.vertical_m,
            lookahead_s=lookahead_s,
            max_gs_mps=float(np.max(states.gs_mps)),
            max_vs_mps=float(np.max(np.abs(states.vs_mps))),
            density_per_m2=density_from_mean(n, mean_unit),
            slice_travel=self.slice_travel,
            cell_scale=self.cell_scale,
        )
        frame = grid_frame_from_mean(mean_unit)
        grid_pos = pos @ frame.T
        grid_vel = vel @ frame.T
        workspace = SliceWorkspace(
            n, n_chunks=_N_CHUNKS, cap=max(256, (4 * n) // _N_CHUNKS)
        )
        parts_i: list[np.ndarray] = []
        parts_j: list[np.ndarray] = []
        parts_v: list[np.ndarray] = []
        n_candidates = 0
        for k in range(len(plan)):
            res = detect_slice(
                grid_pos_m=grid_pos,
                grid_vel_mps=grid_vel,
                cell_z_scale=self.cell_z_scale,
                pos_m=pos,
                vel_mps=vel,
                alt_m=states.alt_m,
                vs_mps=states.vs_mps,
                codes=codes,
                inter_party=self.pairs is PairFilter.INTER_PARTY,
                horizontal_m=self.horizontal_m,
                vertical_m=self.vertical_m,
                lookahead_s=lookahead_s,
                plan=plan,
                k=k,
                workspace=workspace,
            )
            n_candidates += res.candidates
            parts_i.append(res.i)
            parts_j.append(res.j)
            parts_v.append(res.values)
        values = np.concatenate(parts_v)
        conflicts = ConflictSet(
            i=np.concatenate(parts_i),
            j=np.concatenate(parts_j),
            t_in_s=values[:, 0].copy(),
            t_out_s=values[:, 1].copy(),
            t_cpa_s=values[:, 2].copy(),
            h_cpa_m=values[:, 3].copy(),
            v_cpa_m=values[:, 4].copy(),
        )
        stats = DetectionStats(
            aircraft=n,
            slices=len(plan),
            candidates=n_candidates,
            conflicts=len(conflicts),
            elapsed_s=time.perf_counter() - started,
        )
        _log.info(
            "detection: %d aircraft, %d slices, %d candidates, %d conflicts, %.1f ms",
            n, stats.slices, n_candidates, len(conflicts), 1e3 * stats.elapsed_s,
        )  # fmt: skip
        return conflicts, stats
