"""OpenSky state vectors (SI units) from real tracks, read back in the traffic convention.

Data: The OpenSky Network, https://opensky-network.org (via traffic).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skypact.errors import UnsupportedFormatError
from skypact.tracks.ingest.opensky import read_states_json
from skypact.tracks.ingest.reader import detect_format, read_reports

REAL = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real" / "traffic"
)
FT, KT, FPM = 0.3048, 1852.0 / 3600.0, 0.3048 / 60.0


@pytest.fixture(scope="module")
def dreamliner() -> pd.DataFrame:
    table = pd.read_json(REAL / "dreamliner_airfrance.json.gz", dtype={"icao24": str})
    return table.dropna(subset=["latitude", "altitude", "groundspeed"]).head(3_000)


def as_history(table: pd.DataFrame) -> pd.DataFrame:
    seconds = (table["timestamp"] - pd.Timestamp(0)).dt.total_seconds().to_numpy()
    return pd.DataFrame({
        "time": seconds.astype(int), "lastposupdate": seconds,
        "icao24": table["icao24"], "lat": table["latitude"], "lon": table["longitude"],
        "velocity": table["groundspeed"] * KT, "heading": table["track"],
        "vertrate": table["vertical_rate"] * FPM, "callsign": table["callsign"] + "  ",
        "onground": False, "baroaltitude": table["altitude"] * FT,
        "geoaltitude": np.nan, "squawk": "1000",
    })  # fmt: skip


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_history_tables_read_back_in_aviation_units(tmp_path, dreamliner, suffix):
    path = tmp_path / f"states{suffix}"
    history = as_history(dreamliner)
    if suffix == ".csv":
        history.to_csv(path, index=False)
    else:
        history.to_parquet(path, index=False)
    decoded = read_reports(path)
    assert decoded.format == "opensky"
    table = decoded.table
    assert len(table) == len(dreamliner)
    assert set(table["source"]) == {"opensky"}
    for column in ("latitude", "longitude", "altitude", "groundspeed", "track",
                   "vertical_rate"):  # fmt: skip
        assert np.allclose(table[column], dreamliner[column], atol=1e-6), column
    assert set(table["callsign"]) == set(dreamliner["callsign"])  # stripped
    assert (table["timestamp"] == dreamliner["timestamp"].dt.tz_localize("UTC")).all()


def test_the_live_states_answer(tmp_path, dreamliner):
    row = dreamliner.iloc[0]
    t = int(row["timestamp"].timestamp())
    state = [row["icao24"], "AFR787V ", "France", t, t, row["longitude"],
             row["latitude"], row["altitude"] * FT, False, row["groundspeed"] * KT,
             row["track"], 0.0, None, None, "1000", False, 0]  # fmt: skip
    path = tmp_path / "states.json"
    path.write_text(json.dumps({"time": t, "states": [state, ["short"]]}))
    assert detect_format(path) == "opensky-states"
    decoded = read_states_json(path)
    assert decoded.problems.counts == {"a state is not a list of 17 fields": 1}
    assert (
        decoded.problems.first_where["a state is not a list of 17 fields"] == "state 1"
    )
    (got,) = decoded.table.itertuples()
    assert got.altitude == pytest.approx(row["altitude"])
    assert got.groundspeed == pytest.approx(row["groundspeed"])
    assert got.callsign == "AFR787V"
    bad = tmp_path / "other.json"
    bad.write_text(json.dumps({"states": "none"}))
    with pytest.raises(UnsupportedFormatError, match="states"):
        read_states_json(bad)
