"""Validation and the track store on the real recordings.

Data: The OpenSky Network, https://opensky-network.org (via traffic).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skypact.tracks.ingest.modes import read_modes
from skypact.tracks.store import TrackStore
from skypact.tracks.validation import validate_reports

REAL = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real" / "traffic"
)
WGS84 = Geod(ellps="WGS84")


def recording(name: str) -> pd.DataFrame:
    path = REAL / name
    if not path.exists():
        pytest.fail(f"real recording missing: {path}")
    return pd.read_json(path, dtype={"icao24": str})


def implied_speed_kt(table: pd.DataFrame) -> np.ndarray:
    t = table["timestamp"].astype("int64").to_numpy() / 1e9
    _, _, dist = WGS84.inv(
        table["longitude"].to_numpy()[:-1], table["latitude"].to_numpy()[:-1],
        table["longitude"].to_numpy()[1:], table["latitude"].to_numpy()[1:],
    )  # fmt: skip
    return dist / np.maximum(np.diff(t), 1e-3) * 3600.0 / 1852.0


def test_gnss_spoofing_jumps_are_rejected_and_the_true_track_is_kept():
    flight = recording("noisy_spoofing.json.gz").sort_values("timestamp")
    flight = flight.dropna(subset=["latitude", "longitude"]).reset_index(drop=True)
    assert implied_speed_kt(flight).max() > 100_000  # the 304 NM jumps are there
    verdicts = validate_reports(flight.assign(source="table"))
    counts = verdicts.counts()
    assert counts["position jump implies an impossible speed"] >= 211
    kept = flight[verdicts.accepted]
    # what is kept flies like an airliner: no step faster than 2,000 kt (+ slack)
    t = kept["timestamp"].astype("int64").to_numpy() / 1e9
    speed = implied_speed_kt(kept)
    assert (speed[np.diff(t) >= 1.0] < 2_000 + 540).all()
    assert len(kept) > 0.8 * len(flight)


def test_quickstart_altitude_glitches_are_rejected():
    table = recording("quickstart.json.gz")
    verdicts = validate_reports(table.assign(source="table"))
    counts = verdicts.counts()
    assert counts["altitude outside [-2,000, 100,000] ft"] == 3  # 123,100 ft and co.
    assert counts["altitude jump implies an impossible vertical rate"] > 1_000
    kept = table[verdicts.accepted]
    assert kept["altitude"].max() < 100_000
    # QTR9UU's one-second spikes to 34,000 ft in its descent are gone
    qatari = kept[kept["callsign"] == "QTR9UU"].sort_values("timestamp")
    descent = qatari[qatari["timestamp"] < pd.Timestamp("2021-10-07 12:38")]
    steps = np.abs(np.diff(descent["altitude"].to_numpy()))
    assert len(descent) > 600
    assert steps.max() < 1_000
    # A value that stays wrong is taken once it is no longer a jump (QTR9UU reads
    # 34,000 ft for minutes after landing; PEA302 60,900 ft): plausibility checks
    # catch glitches, not stuck encoders.
    # nothing lost: every row is accepted or has a reason
    assert verdicts.accepted.sum() + sum(counts.values()) == len(table)


def test_quickstart_into_the_store_one_track_per_aircraft():
    table = recording("quickstart.json.gz")
    store = TrackStore()
    outcome = store.ingest(table, party="blue")
    assert outcome.rows == 284_505
    assert len(store) == table["icao24"].nunique() == 213
    now = table["timestamp"].max().timestamp()
    tracks = store.tracks(now)
    assert set(tracks["status"]) <= {"live", "coasting", "dropped"}
    assert len(store.snapshot(now)) == (tracks["status"] != "dropped").sum()


def test_raw_frames_and_a_recorded_table_of_one_aircraft_make_one_track():
    frames = read_modes(
        REAL / "full_flight_short.jsonl.gz", reference=(49.0097, 2.5479)
    )
    assert frames.problems.total == 0
    table = pd.read_json(REAL / "full_flight_short.jsonl.gz", lines=True,
                         dtype={"icao24": str})  # fmt: skip
    table = table.dropna(subset=["latitude"])
    table["timestamp"] = pd.to_datetime(table["timestamp"], unit="s", utc=True)
    table = table[["timestamp", "icao24", "latitude", "longitude", "altitude"]]
    store = TrackStore()
    decoded = store.ingest(frames.table, party="blue")
    # the garbled altitude replies are caught, nothing else
    assert decoded.rejected == {"altitude jump implies an impossible vertical rate": 2}
    store.ingest(table.assign(source="table"), party="blue")
    tracks = store.tracks(frames.table["timestamp"].max().timestamp())
    assert len(tracks) == 1
    track = tracks.iloc[0]
    assert track["sources"] == "modes,table"
    assert track["callsign"] == "AFR34ZG"
    assert track["onground"]  # at the gate in Toulouse
