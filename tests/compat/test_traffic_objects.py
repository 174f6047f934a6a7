"""traffic.Flight / Traffic objects in, one track per aircraft out (traffic's own samples)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from traffic.core import Flight, Traffic
from traffic.data.samples import belevingsvlucht, quickstart

from skypact.tracks.ingest.reader import from_traffic, read_reports
from skypact.tracks.store import TrackStore

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real" / "traffic"


def test_a_traffic_object_gives_every_row_with_its_values() -> None:
    decoded = from_traffic(quickstart)
    table = decoded.table
    assert isinstance(quickstart, Traffic)
    assert len(table) == len(quickstart.data) == 284_505
    assert table["icao24"].nunique() == 213
    assert set(table["source"]) == {"traffic"}
    source = quickstart.data
    np.testing.assert_array_equal(
        table["latitude"].to_numpy(float), source["latitude"].to_numpy(float)
    )
    np.testing.assert_array_equal(
        table["altitude"].to_numpy(float), source["altitude"].to_numpy(float)
    )
    assert list(table["icao24"].iloc[:3]) == list(source["icao24"].iloc[:3])
    stamps = pd.to_datetime(table["timestamp"], utc=True)
    assert stamps.iloc[0] == pd.Timestamp("2021-10-07 12:12:53", tz="UTC")


def test_a_traffic_object_reads_as_its_recording_does() -> None:
    from_file = read_reports(REAL / "quickstart.json.gz").table
    from_object = from_traffic(quickstart).table
    key = ["icao24", "timestamp"]
    left = from_file.sort_values(key, kind="stable").reset_index(drop=True)
    right = from_object.sort_values(key, kind="stable").reset_index(drop=True)
    for column in ("latitude", "longitude", "altitude", "groundspeed", "track"):
        np.testing.assert_allclose(
            left[column].to_numpy(float), right[column].to_numpy(float), equal_nan=True
        )


def test_one_flight_and_a_list_of_flights_are_read() -> None:
    assert isinstance(belevingsvlucht, Flight)
    one = from_traffic(belevingsvlucht, label="radar").table
    assert len(one) == len(belevingsvlucht.data)
    assert set(one["source"]) == {"radar"}
    flights = list(quickstart)[:5]
    several = from_traffic(flights).table
    assert len(several) == sum(len(f.data) for f in flights)
    assert several["icao24"].nunique() == len({f.icao24 for f in flights})


def test_traffic_objects_become_one_track_per_aircraft() -> None:
    from_object, from_file = TrackStore(), TrackStore()
    outcome = from_object.ingest(from_traffic(quickstart).table, party="blue")
    from_file.ingest(read_reports(REAL / "quickstart.json.gz").table, party="blue")
    assert outcome.rows == 284_505
    assert outcome.accepted + sum(outcome.rejected.values()) == outcome.rows
    newest = float(pd.to_datetime(quickstart.data["timestamp"]).max().timestamp())
    tracks = from_object.tracks(newest)
    assert len(tracks) == tracks["icao24"].nunique() == 213
    assert set(tracks["party"]) == {"blue"}
    expected = from_file.tracks(newest).sort_values("icao24").reset_index(drop=True)
    got = tracks.sort_values("icao24").reset_index(drop=True)
    np.testing.assert_allclose(
        got["latitude"].to_numpy(float),
        expected["latitude"].to_numpy(float),
        equal_nan=True,
    )


def test_something_else_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="got DataFrame"):
        from_traffic(quickstart.data)
