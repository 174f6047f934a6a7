"""The two bulk writes (report batches, track history) with more rows than one
statement holds, columns without any value, duplicates and refusals, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from skypact.errors import StorageError
from skypact.storage import TRACK_HISTORY_COLUMNS, TrackPoint

T0_S = 1_700_000_000.0
N = 200
"""More than three statements of 64 rows on SQLite, and a remainder."""


def report_frame(n: int = N, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    altitude = rng.uniform(0.0, 45000.0, n)
    altitude[::13] = np.nan
    accepted = np.arange(n) % 9 != 4
    return pd.DataFrame(
        {
            "timestamp": T0_S + np.arange(n) * 0.37,
            "icao24": [f"{k % 37:06x}" for k in range(n)],
            "latitude": rng.uniform(-90.0, 90.0, n),
            "longitude": rng.uniform(-180.0, 180.0, n),
            "altitude": altitude,
            "groundspeed": rng.uniform(0.0, 600.0, n),
            "track": rng.uniform(0.0, 360.0, n),
            "vertical_rate": rng.uniform(-3000.0, 3000.0, n),
            "callsign": [f"SKY{k:03d}" if k % 5 else None for k in range(n)],
            "source": "adsb",
            "accepted": accepted,
            "reason": [None if ok else "position jump" for ok in accepted],
        }
    )


def history_frame(n: int = N, seed: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    altitude = rng.uniform(0.0, 45000.0, n)
    altitude[::7] = np.nan
    return pd.DataFrame(
        {
            "party": [("usa", "rus", "chn")[k % 3] for k in range(n)],
            "icao24": [f"{k:06x}" for k in range(n)],
            "t_s": T0_S + np.arange(n) * 0.5,
            "latitude": rng.uniform(-90.0, 90.0, n),
            "longitude": rng.uniform(-180.0, 180.0, n),
            "altitude_ft": altitude,
            "groundspeed_kt": rng.uniform(0.0, 600.0, n),
            "track_deg": rng.uniform(0.0, 360.0, n),
            "vertical_rate_fpm": rng.uniform(-3000.0, 3000.0, n),
        }
    )


def same_values(stored: pd.Series, given: pd.Series) -> bool:
    """Equal element by element, a missing value matching a missing one."""
    return [None if pd.isna(v) else v for v in stored.tolist()] == [
        None if pd.isna(v) else v for v in given.tolist()
    ]


class TestReportBatches:
    def test_many_rows_are_stored_exactly_and_in_order(self, repo):
        frame = report_frame()
        receipt = repo.store_report_batch("usa", "many", T0_S, frame)
        assert (receipt.rows, receipt.accepted) == (N, N - 22)
        assert receipt.rejected == {"position jump": 22}
        stored = repo.reports()
        assert len(stored) == N
        for given, name in [
            ("timestamp", "timestamp_s"),
            ("icao24", "icao24"),
            ("latitude", "latitude"),
            ("longitude", "longitude"),
            ("altitude", "altitude_ft"),
            ("groundspeed", "groundspeed_kt"),
            ("track", "track_deg"),
            ("vertical_rate", "vertical_rate_fpm"),
            ("callsign", "callsign"),
            ("source", "source"),
            ("accepted", "accepted"),
            ("reason", "reason"),
        ]:
            assert same_values(stored[name], frame[given]), name
        assert stored["squawk"].isna().all()
        (record,) = repo.audit_records()
        digest = json.loads(record.payload)["sha256"]
        assert digest == repo.report_batch_sha256(receipt.batch_id)

    @pytest.mark.parametrize("n", [63, 64, 65, 129])
    def test_around_one_statement(self, repo, n):
        frame = report_frame(n)
        receipt = repo.store_report_batch("usa", f"n{n}", T0_S, frame)
        stored = repo.reports()
        assert stored["timestamp_s"].tolist() == frame["timestamp"].tolist()
        (record,) = repo.audit_records()
        assert json.loads(record.payload)["sha256"] == repo.report_batch_sha256(
            receipt.batch_id
        )

    def test_text_of_other_types_and_nullable_columns(self, repo):
        frame = pd.DataFrame(
            {
                "timestamp": [T0_S, T0_S + 1, T0_S + 2],
                "icao24": [0xABC, "a00002", 7],
                "latitude": pd.array([48.0, None, 48.2], dtype="Float64"),
                "longitude": [2.0, 2.1, 2.2],
                "squawk": [1234, None, "7700"],
                "callsign": pd.array(["AF1", None, "日本"], dtype="string"),
                "accepted": pd.array([None, False, True], dtype="boolean"),
                "reason": [None, "time backwards", None],
            }
        )
        receipt = repo.store_report_batch("usa", "typed", T0_S, frame)
        assert receipt.accepted == 2
        stored = repo.reports()
        assert stored["icao24"].tolist() == ["2748", "a00002", "7"]
        assert same_values(stored["squawk"], pd.Series(["1234", None, "7700"]))
        assert same_values(stored["callsign"], pd.Series(["AF1", None, "日本"]))
        assert same_values(stored["latitude"], pd.Series([48.0, None, 48.2]))
        assert stored["accepted"].tolist() == [True, False, True]
        (record,) = repo.audit_records()
        assert json.loads(record.payload)["sha256"] == repo.report_batch_sha256(
            receipt.batch_id
        )

    def test_an_infinite_value_is_refused_and_nothing_is_stored(self, repo):
        frame = report_frame(100)
        frame.loc[70, "altitude"] = math.inf
        with pytest.raises(ValueError, match="Out of range float"):
            repo.store_report_batch("usa", "inf", T0_S, frame)
        assert repo.count_reports() == 0
        assert repo.audit_head() is None


class TestTrackHistory:
    def test_many_rows_are_stored_exactly(self, repo):
        frame = history_frame()
        repo.store_track_history(frame)
        stored = repo.track_history()
        expected = frame.sort_values(["party", "icao24", "t_s"]).reset_index(drop=True)
        assert list(stored.columns) == list(TRACK_HISTORY_COLUMNS)
        for name in TRACK_HISTORY_COLUMNS:
            assert same_values(stored[name], expected[name]), name

    def test_the_first_of_two_states_at_one_time_is_kept(self, repo):
        frame = history_frame()
        twice = pd.concat([frame, frame.iloc[:80].assign(latitude=1.0)])
        repo.store_track_history(twice)
        stored = repo.track_history()
        assert len(stored) == N
        assert sorted(stored["latitude"].tolist()) == sorted(frame["latitude"].tolist())

    def test_states_already_stored_are_kept(self, repo):
        frame = history_frame()
        repo.store_track_history(frame.iloc[:150])
        repo.store_track_history(frame.assign(longitude=0.0))
        stored = repo.track_history().set_index(["party", "icao24", "t_s"])
        keys = frame.set_index(["party", "icao24", "t_s"]).index
        assert stored.loc[keys[:150], "longitude"].tolist() == (
            frame["longitude"].iloc[:150].tolist()
        )
        assert (stored.loc[keys[150:], "longitude"] == 0.0).all()

    def test_columns_without_values(self, repo):
        frame = history_frame().drop(columns=["track_deg"])
        frame["groundspeed_kt"] = np.nan
        repo.store_track_history(frame)
        stored = repo.track_history()
        assert len(stored) == N
        assert stored["groundspeed_kt"].isna().all()
        assert stored["track_deg"].isna().all()
        assert stored["vertical_rate_fpm"].notna().all()

    def test_track_points(self, repo):
        points = [
            TrackPoint(
                party="usa",
                icao24="a1",
                t_s=T0_S + k,
                latitude=48.0 + k * 1e-3,
                longitude=2.0,
                altitude_ft=None if k % 2 else 30000.0 + k,
            )
            for k in range(N)
        ]
        repo.store_track_history(iter(points))
        stored = repo.track_history()
        assert stored["latitude"].tolist() == [p.latitude for p in points]
        assert same_values(
            stored["altitude_ft"], pd.Series([p.altitude_ft for p in points])
        )

    def test_a_state_without_a_position_is_refused_whole(self, repo):
        frame = history_frame()
        frame.loc[150, "latitude"] = np.nan
        with pytest.raises(StorageError, match="latitude"):
            repo.store_track_history(frame)
        assert len(repo.track_history()) == 0

    def test_two_writes_in_one_transaction(self, repo):
        frame = history_frame()
        with repo.transaction():
            repo.store_track_history(frame.iloc[:120])
            repo.store_track_history(frame.iloc[100:])
        assert len(repo.track_history()) == N
