"""The exhaustive detector: every pair, pure numpy, in blocks of bounded memory.

This is the reference the fast detector is held to (tests and ``--detector
exhaustive``); it evaluates the contract's definition
(:func:`skypact.geometry.cpa.cylinder_encounter`) on all N(N-1)/2 pairs. Memory is
bounded by ``block_pairs`` pairs at a time; time is quadratic in N.
"""

from __future__ import annotations

import numpy as np

from skypact.detection.base import (
    PairFilter,
    SnapshotFrames,
    check_minima,
    party_codes,
)
from skypact.detection.model import ConflictSet
from skypact.geometry.cpa import cylinder_encounter
from skypact.tracks.model import StateArrays

__all__ = ["ExhaustiveDetector"]


class ExhaustiveDetector:
    """Checks every pair; O(N^2) time, O(block_pairs) memory.

    Args:
        horizontal_m, vertical_m: the separation minima.
        pairs: which pairs are monitored.
        block_pairs: how many pairs are evaluated at once.
    """

    def __init__(
        self,
        *,
        horizontal_m: float,
        vertical_m: float,
        pairs: PairFilter = PairFilter.ALL,
        block_pairs: int = 1 << 20,
    ) -> None:
        self.horizontal_m = horizontal_m
        self.vertical_m = vertical_m
        self.pairs = pairs
        self.block_pairs = block_pairs

    def detect(self, states: StateArrays, *, lookahead_s: float) -> ConflictSet:
        """All conflicting pairs of the snapshot."""
        check_minima(
            horizontal_m=self.horizontal_m,
            vertical_m=self.vertical_m,
            lookahead_s=lookahead_s,
        )
        n = len(states)
        if n < 2:
            return ConflictSet.empty()
        codes = party_codes(states, self.pairs)
        frames = SnapshotFrames(states)
        rows_per_block = max(1, self.block_pairs // n)
        parts: list[ConflictSet] = []
        for start in range(0, n - 1, rows_per_block):
            rows = np.arange(start, min(start + rows_per_block, n - 1), dtype=np.int64)
            i, j = _upper_pairs(rows, n)
            if self.pairs is PairFilter.INTER_PARTY:
                keep = codes[i] != codes[j]
                i, j = i[keep], j[keep]
            enc = cylinder_encounter(
                frames.motion(i, j),
                horizontal_m=self.horizontal_m,
                vertical_m=self.vertical_m,
                lookahead_s=lookahead_s,
            )
            hit = enc.conflict
            parts.append(
                ConflictSet(
                    i=i[hit],
                    j=j[hit],
                    t_in_s=enc.t_in_s[hit],
                    t_out_s=enc.t_out_s[hit],
                    t_cpa_s=enc.t_cpa_s[hit],
                    h_cpa_m=enc.h_cpa_m[hit],
                    v_cpa_m=enc.v_cpa_m[hit],
                )
            )
        return _concat(parts)


def _upper_pairs(rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j), j > i, for the given rows i."""
    counts = n - 1 - rows
    i = np.repeat(rows, counts)
    starts = np.cumsum(counts) - counts
    j = np.arange(len(i), dtype=np.int64) - np.repeat(starts, counts) + i + 1
    return i, j


def _concat(parts: list[ConflictSet]) -> ConflictSet:
    if not parts:
        return ConflictSet.empty()
    return ConflictSet(
        i=np.concatenate([p.i for p in parts]),
        j=np.concatenate([p.j for p in parts]),
        t_in_s=np.concatenate([p.t_in_s for p in parts]),
        t_out_s=np.concatenate([p.t_out_s for p in parts]),
        t_cpa_s=np.concatenate([p.t_cpa_s for p in parts]),
        h_cpa_m=np.concatenate([p.h_cpa_m for p in parts]),
        v_cpa_m=np.concatenate([p.v_cpa_m for p in parts]),
    )
