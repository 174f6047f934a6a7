"""The one place that wires SkyPact's parts together.

For now: snapshot table -> validated states -> fast detector -> output table (the
public ``skypact.detect`` contract of DESIGN.md "Interfaces").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skypact.detection.base import Detector, PairFilter
from skypact.detection.cylinder import CylinderDetector
from skypact.detection.exhaustive import ExhaustiveDetector
from skypact.detection.model import ConflictSet
from skypact.errors import ConfigError
from skypact.tracks.ingest.table import states_from_table
from skypact.tracks.model import StateArrays
from skypact.units import ft_to_m, m_to_ft, m_to_nm, nm_to_m

__all__ = ["CONFLICT_COLUMNS", "DETECTORS", "conflicts_to_table", "detect"]

CONFLICT_COLUMNS = (
    "aircraft_a",
    "aircraft_b",
    "t_in_s",
    "t_out_s",
    "t_cpa_s",
    "h_cpa_nm",
    "v_cpa_ft",
)
"""Columns of a detection result, in order (a public, stable contract)."""

DETECTORS: dict[str, type[CylinderDetector] | type[ExhaustiveDetector]] = {
    "cylinder": CylinderDetector,
    "exhaustive": ExhaustiveDetector,
}
"""Detector implementations by name; every one gives the same pairs."""


def detect(
    table: pd.DataFrame,
    *,
    lookahead_s: float = 300.0,
    horizontal_nm: float = 5.0,
    vertical_ft: float = 1000.0,
    pairs: str = "all",
    detector: str = "cylinder",
) -> pd.DataFrame:
    """Predicted losses of separation in a snapshot.

    Args:
        table: a snapshot in the ``traffic`` column convention (``icao24``,
            ``latitude``, ``longitude``, ``altitude`` [ft], ``groundspeed`` [kt],
            ``track`` [deg], ``vertical_rate`` [ft/min]; optional ``party`` and
            ``timestamp``); several rows per aircraft -> its latest.
        lookahead_s: how far ahead to look.
        horizontal_nm, vertical_ft: the separation minima; a pair exactly at a
            minimum is separated.
        pairs: ``"all"``, or ``"inter-party"`` to monitor only pairs of aircraft
            of different parties (needs a ``party`` column).
        detector: ``"cylinder"`` (fast) or ``"exhaustive"`` (the all-pairs
            reference); both give the same pairs.

    Returns:
        One row per conflicting pair with the columns :data:`CONFLICT_COLUMNS`
        (``aircraft_a < aircraft_b``). Rows come in the detector's own order, which
        is deterministic for a given input but otherwise unspecified; sort as needed
        (sorting 20,000 rows by text costs more than a tenth of the detection).

    Raises:
        ConfigError: a parameter is invalid.
        IngestError: the table is unusable (missing column, bad value; the error
            names the column and row).
    """
    for name, value in (
        ("lookahead_s", lookahead_s),
        ("horizontal_nm", horizontal_nm),
        ("vertical_ft", vertical_ft),
    ):
        if not isinstance(value, int | float) or not np.isfinite(value) or value <= 0:
            raise ConfigError(name, value, "must be a finite number greater than 0")
    try:
        pair_filter = PairFilter(pairs)
    except ValueError:
        raise ConfigError("pairs", pairs, "must be 'all' or 'inter-party'") from None
    if detector not in DETECTORS:
        raise ConfigError("detector", detector, f"must be one of {sorted(DETECTORS)}")
    states = states_from_table(table)
    if pair_filter is PairFilter.INTER_PARTY and states.party is None:
        raise ConfigError(
            "pairs", pairs, "inter-party detection needs a 'party' column"
        )
    impl: Detector = DETECTORS[detector](
        horizontal_m=nm_to_m(float(horizontal_nm)),
        vertical_m=ft_to_m(float(vertical_ft)),
        pairs=pair_filter,
    )
    conflicts = impl.detect(states, lookahead_s=float(lookahead_s))
    return conflicts_to_table(conflicts, states)


def conflicts_to_table(conflicts: ConflictSet, states: StateArrays) -> pd.DataFrame:
    """The public output table of a conflict set (aviation units at the edge)."""
    ids = states.aircraft_id
    text = ids.astype(str)
    swap = text[conflicts.i] > text[conflicts.j]
    first = np.where(swap, conflicts.j, conflicts.i)
    second = np.where(swap, conflicts.i, conflicts.j)
    return pd.DataFrame(
        {
            "aircraft_a": pd.Series(ids[first], dtype=object),
            "aircraft_b": pd.Series(ids[second], dtype=object),
            "t_in_s": conflicts.t_in_s,
            "t_out_s": conflicts.t_out_s,
            "t_cpa_s": conflicts.t_cpa_s,
            "h_cpa_nm": m_to_nm(conflicts.h_cpa_m),
            "v_cpa_ft": m_to_ft(conflicts.v_cpa_m),
        },
        columns=list(CONFLICT_COLUMNS),
    )
