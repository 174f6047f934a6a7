"""Snapshot tables: validation names the column and row; latest row per aircraft."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import skypact
from skypact.errors import InvalidStateError, MissingColumnError, ParseError
from skypact.tracks.ingest.table import read_table, states_from_table
from skypact.units import ft_to_m, kt_to_mps, nm_to_m
from tests.factories import Plane, by_pair, make_table

GOOD = make_table(
    [Plane("aaaaaa", 34.0, 36.0), Plane("bbbbbb", 34.0, 36.0, alt_ft=30500)]
)


def with_value(column, value, row=1):
    table = GOOD.copy()
    table[column] = table[column].astype(object)
    table.loc[row, column] = value
    return table


class TestValidation:
    @pytest.mark.parametrize(
        "column",
        ["icao24", "latitude", "longitude", "altitude", "groundspeed", "track"],
    )
    def test_missing_column_is_named(self, column):
        with pytest.raises(MissingColumnError) as info:
            states_from_table(GOOD.drop(columns=[column]))
        assert info.value.column == column
        assert repr(column) in str(info.value)

    @pytest.mark.parametrize(
        ("column", "value", "reason"),
        [
            ("latitude", 95.0, "within [-90, 90]"),
            ("latitude", -90.5, "within [-90, 90]"),
            ("longitude", 181.0, "within [-180, 180]"),
            ("groundspeed", -10.0, "ground speed"),
            ("groundspeed", 5000.0, "ground speed"),
            ("altitude", 250000.0, "altitude"),
            ("vertical_rate", 1e7, "vertical rate"),
            ("altitude", "FL350", "expected a number"),
            ("track", np.nan, "missing"),
            ("latitude", np.inf, "not finite"),
            ("icao24", None, "missing"),
            ("icao24", "  ", "empty"),
        ],
    )
    def test_bad_value_names_column_and_row(self, column, value, reason):
        with pytest.raises(InvalidStateError) as info:
            states_from_table(with_value(column, value, row=1))
        err = info.value
        assert (err.column, err.row) == (column, 1)
        assert reason in str(err)
        assert isinstance(err, ValueError)  # usable as a plain ValueError too

    def test_file_errors_name_the_line(self, tmp_path):
        path = tmp_path / "snap.csv"
        with_value("latitude", 123.0, row=1).to_csv(path, index=False)
        with pytest.raises(InvalidStateError) as info:
            states_from_table(read_table(path))
        # Data row 2 of the file (after the header) is line 3.
        assert (info.value.row, info.value.line_no) == (2, 3)
        assert str(path) in str(info.value)
        assert "line 3" in str(info.value)

    def test_duplicate_rows_without_timestamps_are_refused(self):
        table = pd.concat([GOOD, GOOD.iloc[[0]]], ignore_index=True)
        with pytest.raises(InvalidStateError, match="no timestamp"):
            states_from_table(table)

    def test_duplicate_rows_with_the_same_latest_timestamp_are_refused(self):
        table = pd.concat([GOOD, GOOD.iloc[[0]]], ignore_index=True)
        table["timestamp"] = "2025-01-01T00:00:00Z"
        with pytest.raises(InvalidStateError, match="same timestamp"):
            states_from_table(table)

    def test_one_icao24_under_two_parties_is_refused(self):
        table = GOOD.copy()
        table.loc[1, "icao24"] = "aaaaaa"
        table.loc[1, "party"] = "rus"
        with pytest.raises(InvalidStateError, match=r"rus, usa"):
            states_from_table(table)

    def test_unreadable_files(self, tmp_path):
        with pytest.raises(ParseError, match="cannot open"):
            read_table(tmp_path / "missing.csv")
        binary = tmp_path / "x.csv"
        binary.write_bytes(b"\x00\x01\x02\x03garbage")
        with pytest.raises(skypact.IngestError):
            read_table(binary)


class TestConversion:
    def test_units_are_converted_to_si(self):
        states = states_from_table(GOOD)
        assert_allclose(states.alt_m, ft_to_m(np.array([30000.0, 30500.0])))
        assert_allclose(states.gs_mps, kt_to_mps(np.array([450.0, 450.0])))

    def test_track_is_wrapped(self):
        states = states_from_table(with_value("track", -90.0, row=0))
        assert states.trk_deg[0] == 270.0

    def test_latest_row_per_aircraft_and_dead_reckoning_to_the_newest_time(self):
        table = make_table(
            [
                Plane("aaaaaa", 0.0, 0.0, gs_kt=360, trk_deg=90),
                Plane("aaaaaa", 0.0, 0.0, gs_kt=360, trk_deg=90),
                Plane("bbbbbb", 1.0, 1.0),
            ]
        )
        table["timestamp"] = pd.to_datetime(
            ["2025-01-01T00:00:00Z", "2025-01-01T00:00:50Z", "2025-01-01T00:01:00Z"]
        )
        states = states_from_table(table)
        assert list(states.aircraft_id) == ["aaaaaa", "bbbbbb"]
        # aaaaaa's latest row is 10 s old: 360 kt = 0.1 NM/s -> 1 NM further east.
        assert_allclose(states.lon_deg[0] * 60.0, 1.0, rtol=3e-3)
        assert states.t_s[0] == states.t_s[1]

    def test_epoch_second_timestamps(self):
        table = GOOD.copy()
        table["timestamp"] = [1_700_000_000, 1_700_000_000]
        states = states_from_table(table)
        assert states.t_s[0] == 1_700_000_000.0

    def test_icao24_keeps_leading_zeros_from_csv(self, tmp_path):
        table = make_table([Plane("004001", 0.0, 0.0), Plane("000123", 0.0, 0.0)])
        path = tmp_path / "s.csv"
        table.to_csv(path, index=False)
        states = states_from_table(read_table(path))
        assert list(states.aircraft_id) == ["004001", "000123"]

    def test_extra_columns_are_ignored(self):
        table = GOOD.copy()
        table["callsign"] = ["RCH123", "RSD001"]
        table["squawk"] = ["7000", "7000"]
        assert len(states_from_table(table)) == 2


class TestPublicDetect:
    def test_contract_columns_and_ordering(self):
        result = skypact.detect(GOOD)
        assert tuple(result.columns) == skypact.CONFLICT_COLUMNS
        assert len(result) == 1
        assert str(result.loc[0, "aircraft_a"]) < str(result.loc[0, "aircraft_b"])

    def test_a_before_b_whatever_the_input_order(self):
        table = GOOD.iloc[::-1].reset_index(drop=True)
        result = skypact.detect(table)
        assert (result.loc[0, "aircraft_a"], result.loc[0, "aircraft_b"]) == (
            "aaaaaa",
            "bbbbbb",
        )

    def test_fast_and_exhaustive_agree_through_the_public_api(self):
        from skypact.sim.generator import random_snapshot

        table = random_snapshot(800, seed=11)
        fast = skypact.detect(table, horizontal_nm=3.0)
        slow = skypact.detect(table, horizontal_nm=3.0, detector="exhaustive")
        pd.testing.assert_frame_equal(by_pair(fast), by_pair(slow), rtol=1e-9)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"lookahead_s": 0},
            {"horizontal_nm": -5},
            {"pairs": "some"},
            {"detector": "x"},
        ],
    )
    def test_bad_parameters(self, kwargs):
        with pytest.raises(skypact.ConfigError):
            skypact.detect(GOOD, **kwargs)

    def test_inter_party_needs_a_party_column(self):
        with pytest.raises(skypact.ConfigError, match="party"):
            skypact.detect(GOOD.drop(columns=["party"]), pairs="inter-party")

    def test_minima_and_nmac_scale(self):
        result = skypact.detect(GOOD, horizontal_nm=0.08, vertical_ft=100.0)
        assert len(result) == 0  # 500 ft apart vertically: outside a 100 ft minimum
        assert nm_to_m(0.08) > 0
