"""Typed detection results."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from skypact.units import FloatArray

__all__ = ["ConflictSet", "IndexArray"]

IndexArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConflictSet:
    """Conflicting pairs of one snapshot, as parallel arrays (one entry per pair).

    Attributes:
        i, j: indices into the detector's :class:`~skypact.tracks.model.StateArrays`,
            ``i < j``; each unordered pair appears once.
        t_in_s, t_out_s: the conflict interval, clipped to the look-ahead; ``t_in_s``
            is 0 for a pair that has already lost separation.
        t_cpa_s: time of horizontal closest approach, clipped to the look-ahead.
        h_cpa_m, v_cpa_m: horizontal and vertical distance at ``t_cpa_s``.
    """

    i: IndexArray
    j: IndexArray
    t_in_s: FloatArray
    t_out_s: FloatArray
    t_cpa_s: FloatArray
    h_cpa_m: FloatArray
    v_cpa_m: FloatArray

    def __post_init__(self) -> None:
        n = len(self.i)
        for f in fields(self):
            if len(getattr(self, f.name)) != n:
                raise ValueError(f"ConflictSet.{f.name} length differs from i")
        if n and not bool(np.all(self.i < self.j)):
            raise ValueError("ConflictSet requires i < j for every pair")

    def __len__(self) -> int:
        return len(self.i)

    @classmethod
    def empty(cls) -> ConflictSet:
        """A set with no pairs."""
        no_index = np.empty(0, dtype=np.int64)
        no_value = np.empty(0, dtype=np.float64)
        return cls(
            i=no_index,
            j=no_index.copy(),
            t_in_s=no_value,
            t_out_s=no_value.copy(),
            t_cpa_s=no_value.copy(),
            h_cpa_m=no_value.copy(),
            v_cpa_m=no_value.copy(),
        )

    def take(self, order: IndexArray) -> ConflictSet:
        """The pairs at the given positions, in that order."""
        return ConflictSet(
            **{f.name: getattr(self, f.name)[order] for f in fields(self)}
        )

    def sorted_by_pair(self) -> ConflictSet:
        """The same pairs ordered by (i, j): a canonical order for comparisons."""
        return self.take(np.lexsort((self.j, self.i)).astype(np.int64))
