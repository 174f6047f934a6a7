"""Detection on a real recording: Swiss upper airspace, OpenSky Network via traffic.

Data: The OpenSky Network, https://opensky-network.org (../shared/data/real/traffic).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import skypact
from skypact.tracks.ingest.table import states_from_table
from skypact.units import ft_to_m, m_to_nm, nm_to_m
from tests.factories import by_pair
from tests.reference import scalar_encounter

DATA = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real" / "traffic"
)


@pytest.fixture(scope="module")
def switzerland() -> pd.DataFrame:
    path = DATA / "switzerland.json.gz"
    if not path.exists():
        pytest.fail(
            f"real recording missing: {path} (../shared must sit beside the repo)"
        )
    frame: pd.DataFrame = pd.read_json(path, dtype={"icao24": str})
    return frame


def busiest_minute(frame: pd.DataFrame) -> pd.DataFrame:
    minute = frame["timestamp"].dt.floor("min")
    busiest = minute.value_counts().idxmax()
    return frame[minute == busiest]


def test_a_traffic_table_is_usable_as_it_is(switzerland):
    snapshot = busiest_minute(switzerland)
    result = skypact.detect(
        snapshot
    )  # several rows per aircraft: latest, dead-reckoned
    slow = skypact.detect(snapshot, detector="exhaustive")
    pd.testing.assert_frame_equal(by_pair(result), by_pair(slow), rtol=1e-9)
    assert snapshot["icao24"].nunique() > 40
    assert len(result) > 0


def test_every_reported_pair_is_a_real_predicted_loss(switzerland):
    snapshot = busiest_minute(switzerland)
    states = states_from_table(snapshot)
    index = {k: i for i, k in enumerate(states.aircraft_id)}
    result = skypact.detect(snapshot, horizontal_nm=5.0, vertical_ft=1000.0)
    for row in result.to_dict("records"):
        a, b = index[row["aircraft_a"]], index[row["aircraft_b"]]

        def state(k):
            return (
                states.lat_deg[k], states.lon_deg[k], states.alt_m[k],
                states.gs_mps[k], states.trk_deg[k], states.vs_mps[k],
            )  # fmt: skip

        ref = scalar_encounter(
            state(a), state(b), horizontal_m=nm_to_m(5.0), vertical_m=ft_to_m(1000.0),
            lookahead_s=300.0,
        )  # fmt: skip
        assert ref.conflict
        np.testing.assert_allclose(row["t_in_s"], ref.t_in_s, atol=1e-4)
        np.testing.assert_allclose(row["h_cpa_nm"], m_to_nm(ref.h_cpa_m), atol=1e-6)


def test_whole_day_latest_positions(switzerland):
    # The latest row of every aircraft of the recording, dead-reckoned to the end.
    result = skypact.detect(switzerland, lookahead_s=120.0)
    slow = skypact.detect(switzerland, lookahead_s=120.0, detector="exhaustive")
    pd.testing.assert_frame_equal(by_pair(result), by_pair(slow), rtol=1e-9)
