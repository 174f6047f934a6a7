"""``skypact analyze --profile do365b`` raises DAIDALUS's alert levels at its seconds.

The scenarios are DAIDALUS's own (../shared/data/peers/daidalus). For H1 the expected
levels are DAIDALUS's published regression output: ``Regression/gold/
DaidalusBatch-no_sum.out`` of nasa/daidalus (DaidalusBatch, ``DO_365B_no_SUM``
configuration), whose "Alert Level ... with Intruder" lines read 0 for 0-111 s, 2 for
112-141 s, 3 for 142-205 s and 0 again from 206 s to the end (229 s). For every scenario
SkyPact is also held, second by second, to an independent DAIDALUS-shaped reference
(tests/daidalus_reference.py).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from skypact.cli import main
from tests.daidalus_reference import alert_levels

DAIDALUS = Path(__file__).resolve().parents[3] / ".." / "shared/data/peers/daidalus"
SCENARIOS = ("H1", "H1_SUM", "C0_0_120", "C1_0_120", "H0_0_120")


def skypact_levels(tmp_path: Path, name: str) -> tuple[dict[int, int], int]:
    source = DAIDALUS / f"{name}.csv"
    if not source.exists():
        pytest.fail(f"scenario missing: {source} (../shared must sit beside the repo)")
    out = tmp_path / name
    assert (
        main(["analyze", str(source), "--profile", "do365b", "--output", str(out)]) == 0
    )
    levels = pd.read_csv(out / "alert_levels.csv")
    t0 = pd.to_datetime(pd.read_csv(source)["timestamp"]).min()
    last = int(
        (pd.to_datetime(pd.read_csv(source)["timestamp"]).max() - t0).total_seconds()
    )
    by_second = {
        int((pd.Timestamp(t) - t0).total_seconds()): int(level)
        for t, level in zip(levels["timestamp"], levels["level"], strict=True)
    }
    aircraft = set(pd.read_csv(source)["icao24"])
    assert len(aircraft) == 2  # the ownship and one intruder: one pair
    assert set(levels["aircraft_a"]) | set(levels["aircraft_b"]) <= aircraft
    return by_second, last


def test_h1_matches_daidalus_published_output(tmp_path):
    levels, last = skypact_levels(tmp_path, "H1")
    assert last == 229
    gold = {
        t: 0 if t < 112 else 2 if t < 142 else 3 if t < 206 else 0 for t in range(230)
    }
    assert {t: levels.get(t, 0) for t in range(230)} == gold


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_second_matches_the_daidalus_shaped_reference(tmp_path, name):
    levels, last = skypact_levels(tmp_path, name)
    reference = alert_levels(pd.read_csv(DAIDALUS / f"{name}.csv"))
    assert max(reference.values()) == 3  # every scenario reaches a warning
    mine = {t: levels.get(t, 0) for t in reference}
    assert mine == reference
    assert max(reference) == last
