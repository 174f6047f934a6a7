"""Report validation: impossible values, identity, time order and jumps, with reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skypact.tracks.validation import (
    REASONS,
    StreamHistory,
    validate_reports,
)

T0 = pd.Timestamp("2024-09-17 08:00:00", tz="UTC")


def reports(*rows: dict) -> pd.DataFrame:
    base = {"icao24": "4ca123", "source": "modes", "party": "blue"}
    table = pd.DataFrame([{**base, **row} for row in rows])
    table["timestamp"] = [T0 + pd.Timedelta(seconds=r["t"]) for r in rows]
    return table.drop(columns="t")


def test_impossible_values_are_rejected_with_their_reason():
    table = reports(
        {"t": 0, "latitude": 91.0, "longitude": 0.0},
        {"t": 1, "latitude": 0.0, "longitude": -181.0},
        {"t": 2, "groundspeed": 2_100.0, "track": 0.0},
        {"t": 3, "groundspeed": -1.0, "track": 0.0},
        {"t": 4, "altitude": 123_100.0},
        {"t": 5, "altitude": -2_100.0},
        {"t": 6, "vertical_rate": 150_000.0},
        {"t": 7, "altitude": 30_000.0},
    )
    verdicts = validate_reports(table)
    assert list(verdicts.reasons()) == [
        "latitude outside [-90, 90] deg",
        "longitude outside [-180, 180] deg",
        "ground speed outside [0, 2,000] kt",
        "ground speed outside [0, 2,000] kt",
        "altitude outside [-2,000, 100,000] ft",
        "altitude outside [-2,000, 100,000] ft",
        "vertical rate beyond 100,000 ft/min",
        None,
    ]
    assert verdicts.counts()["ground speed outside [0, 2,000] kt"] == 2


def test_rows_without_identifier_or_time_are_rejected():
    table = reports({"t": 0, "altitude": 1000.0}, {"t": 1, "altitude": 1000.0})
    table.loc[0, "icao24"] = " "
    table.loc[1, "timestamp"] = pd.NaT
    assert list(validate_reports(table).reasons()) == [
        "no aircraft identifier",
        "no timestamp",
    ]


def test_a_spoofed_jump_is_rejected_and_the_track_resumes_from_the_last_good_position():
    # 450 kt eastwards at 1 s steps (0.125 NM/s at 0 deg lat ~ 0.00208 deg lon/s)
    step = 450 / 3600 / 60
    rows = [{"t": k, "latitude": 0.0, "longitude": k * step} for k in range(5)]
    rows.insert(3, {"t": 2.5, "latitude": 3.0, "longitude": 2.0})  # 300 NM away
    verdicts = validate_reports(reports(*rows))
    assert list(verdicts.reasons()) == [
        None, None, None, "position jump implies an impossible speed", None, None,
    ]  # fmt: skip


def test_garbled_altitude_is_rejected_but_a_fast_climb_is_not():
    table = reports(
        {"t": 0, "altitude": 35_025.0},
        {"t": 1, "altitude": 39_150.0},  # +4,125 ft in 1 s
        {"t": 2, "altitude": 35_050.0},
        {"t": 62, "altitude": 45_000.0},  # +10,000 ft/min: a fighter can
    )
    assert list(validate_reports(table).reasons()) == [
        None, "altitude jump implies an impossible vertical rate", None, None,
    ]  # fmt: skip


def test_streams_are_checked_apart_per_party_aircraft_and_source():
    table = reports(
        {"t": 0, "latitude": 0.0, "longitude": 0.0},
        {"t": 1, "latitude": 10.0, "longitude": 10.0, "icao24": "4ca124"},
        {"t": 2, "latitude": 10.0, "longitude": 10.0, "party": "red"},
        {"t": 3, "latitude": 10.0, "longitude": 10.0, "source": "asterix-cat048"},
        {"t": 4, "latitude": 10.0, "longitude": 10.0},
    )
    reasons = validate_reports(table).reasons()
    assert list(reasons[:4]) == [None] * 4
    assert reasons[4] == "position jump implies an impossible speed"


def test_time_running_backwards_between_batches_or_in_a_feed():
    history = StreamHistory.empty()
    first = reports({"t": 10, "altitude": 1000.0})
    assert validate_reports(first, history=history).accepted.all()
    late = reports({"t": 5, "altitude": 1000.0}, {"t": 11, "altitude": 1000.0})
    assert list(validate_reports(late, history=history).reasons()) == [
        "time runs backwards",
        None,
    ]
    feed = reports({"t": 3, "altitude": 1.0}, {"t": 2, "altitude": 1.0})
    assert list(validate_reports(feed, in_given_order=True).reasons()) == [
        None,
        "time runs backwards",
    ]
    # a recording listing one aircraft's flights one after the other is sorted first
    assert validate_reports(feed).accepted.all()


def test_reasons_are_unique_and_codes_index_them():
    assert len(set(REASONS)) == len(REASONS)
    verdicts = validate_reports(reports({"t": 0, "latitude": 95.0, "longitude": 0}))
    assert verdicts.code.dtype == np.int8
    assert REASONS[int(verdicts.code[0])] == "latitude outside [-90, 90] deg"


@pytest.mark.parametrize("column", ["latitude", "altitude", "groundspeed"])
def test_text_where_a_number_belongs_is_rejected(column):
    table = reports({"t": 0, column: "n/a"}, {"t": 1, column: 12.0}, {"t": 2})
    assert list(validate_reports(table).reasons()) == [
        "a numeric field holds something else", None, None,
    ]  # fmt: skip


def test_timestamps_that_are_not_iso_text_are_no_time_and_raise_nothing():
    import warnings

    from skypact.tracks.validation import epoch_seconds

    table = pd.DataFrame({"timestamp": [":", "2021-10-07T12:00:00Z", "bad", None]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no format-guessing warning either
        seconds = epoch_seconds(table)
    assert np.isnan(seconds[[0, 2, 3]]).all()
    assert seconds[1] == pd.Timestamp("2021-10-07T12:00:00Z").timestamp()
