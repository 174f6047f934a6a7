"""Detection results on the bundled example must not drift (scripts/regen_golden.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import skypact

ROOT = Path(__file__).resolve().parents[2]
CASES = {
    "levant_5nm_1000ft_300s.csv": {"horizontal_nm": 5.0, "vertical_ft": 1000.0},
    "levant_3nm_inter_party.csv": {"horizontal_nm": 3.0, "pairs": "inter-party"},
}


@pytest.mark.parametrize(("name", "kwargs"), list(CASES.items()))
def test_example_snapshot_matches_golden(name, kwargs):
    table = skypact.read_table(ROOT / "examples/snapshots/levant.csv")
    expected = pd.read_csv(
        ROOT / "tests/golden/expected" / name,
        dtype={"aircraft_a": str, "aircraft_b": str},
    )
    result = (
        skypact.detect(table, **kwargs)
        .sort_values(["aircraft_a", "aircraft_b"])
        .reset_index(drop=True)
    )
    assert len(result) == len(expected)
    pd.testing.assert_frame_equal(
        result.astype({"aircraft_a": object, "aircraft_b": object}),
        expected.astype({"aircraft_a": object, "aircraft_b": object}),
        atol=2e-6,
        check_dtype=False,
    )
