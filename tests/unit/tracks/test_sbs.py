"""SBS-1 / BaseStation lines: each transmission type, lines not used, the writer."""

from __future__ import annotations

import gzip
import io
import math

import numpy as np
import pandas as pd
import pytest

from skypact.errors import (
    ConfigError,
    InvalidStateError,
    MissingColumnError,
    ParseError,
    UnsupportedFormatError,
)
from skypact.tracks.ingest.base import REPORT_COLUMNS, empty_reports
from skypact.tracks.ingest.sbs import (
    EXTRA_COLUMNS,
    decode_sbs,
    read_sbs,
    write_sbs,
)

STAMP = "2024/05/01,10:00:00.125,2024/05/01,10:00:00.250"


def msg(ttype, body, hex_ident="4CA2D6", stamp=STAMP):
    """A MSG line: ``body`` is fields 11 to 22 (callsign to is-on-ground)."""
    return f"MSG,{ttype},111,11111,{hex_ident},111111,{stamp},{body}"


# One line per transmission type, fields 11-22 as a BaseStation feed fills them.
LINES = {
    1: msg(1, "RYR83LU ,,,,,,,,,,,0"),
    2: msg(2, ",,12.5,271.3,53.42137,-6.27001,,,,,,-1"),
    3: msg(3, ",37000,,,51.45735,-1.02826,,,0,0,0,0"),
    4: msg(4, ",,451.2,232.7,,,-64,,,,,"),
    5: msg(5, ",10000,,,,,,,-1,,0,0"),
    6: msg(6, ",33325,,,,,,7700,0,-1,-1,0"),
    7: msg(7, ",3775,,,,,,,,,,0"),
    8: msg(8, ",,,,,,,,,,,-1"),
}
NUMBERS = ("latitude", "longitude", "altitude", "groundspeed", "track",
           "vertical_rate")  # fmt: skip


def decode(*lines, **options):
    return decode_sbs("\r\n".join(lines) + "\r\n", **options)


def only_row(text_line):
    decoded = decode(text_line)
    assert decoded.problems.total == 0, decoded.problems
    assert len(decoded.table) == 1
    return decoded.table.iloc[0]


def given(row):
    """The report columns a row fills (besides time, icao24 and source)."""
    names = [*REPORT_COLUMNS, *EXTRA_COLUMNS]
    skip = {"timestamp", "icao24", "source", "transmission_type"}
    return {name for name in names if name not in skip and not pd.isna(row[name])}


class TestTransmissionTypes:
    @pytest.mark.parametrize(
        ("ttype", "expected"),
        [
            (1, {"callsign": "RYR83LU", "onground": False}),
            (
                2,
                {
                    "groundspeed": 12.5, "track": 271.3, "latitude": 53.42137,
                    "longitude": -6.27001, "onground": True,
                },
            ),
            (
                3,
                {
                    "altitude": 37000.0, "latitude": 51.45735, "longitude": -1.02826,
                    "alert": False, "emergency": False, "spi": False,
                    "onground": False,
                },
            ),
            (4, {"groundspeed": 451.2, "track": 232.7, "vertical_rate": -64.0}),
            (5, {"altitude": 10000.0, "alert": True, "spi": False, "onground": False}),
            (
                6,
                {
                    "altitude": 33325.0, "squawk": "7700", "alert": False,
                    "emergency": True, "spi": True, "onground": False,
                },
            ),
            (7, {"altitude": 3775.0, "onground": False}),
            (8, {"onground": True}),
        ],
    )  # fmt: skip
    def test_each_type_fills_only_its_fields(self, ttype, expected):
        row = only_row(LINES[ttype])
        assert given(row) == set(expected)
        for name, value in expected.items():
            assert row[name] == value, name
        assert row["transmission_type"] == ttype
        assert row["icao24"] == "4ca2d6"
        assert row["source"] == "sbs"
        assert row["timestamp"] == pd.Timestamp("2024-05-01 10:00:00.125", tz="UTC")

    def test_fields_a_type_does_not_carry_are_ignored_even_when_garbage(self):
        row = only_row(msg(4, "XX12,FL350,451.2,232.7,91.5,x,-64,9999,7,7,7,0"))
        assert given(row) == {"groundspeed", "track", "vertical_rate", "onground"}
        row = only_row(msg(1, "BAW1,37000,451,232,51.4,-1.0,-64,1234,0,0,0,"))
        assert given(row) == {"callsign"}

    def test_table_has_the_contract_columns_and_types(self):
        table = decode(*LINES.values()).table
        assert list(table.columns) == [*REPORT_COLUMNS, *EXTRA_COLUMNS]
        reference = empty_reports([], source="sbs")
        for name in REPORT_COLUMNS:
            assert table[name].dtype == reference[name].dtype, name
        for name in ("alert", "emergency", "spi"):
            assert table[name].dtype == "boolean"
        assert table["geoaltitude"].isna().all()
        assert table["transmission_type"].tolist() == list(range(1, 9))

    def test_empty_table_keeps_the_columns_and_types(self):
        decoded = decode("STA,,5,179,400AE7,10103," + STAMP + ",RM")
        assert decoded.table.empty
        assert list(decoded.table.columns) == [*REPORT_COLUMNS, *EXTRA_COLUMNS]
        assert str(decoded.table["timestamp"].dtype) == "datetime64[us, UTC]"

    def test_on_ground_flag_and_its_defaults(self):
        flags = {"-1": True, "1": True, "0": False, "": None}
        for text, expected in flags.items():
            row = only_row(msg(8, f",,,,,,,,,,,{text}"))
            assert (None if pd.isna(row["onground"]) else bool(row["onground"])) is (
                expected
            )
        surface = only_row(msg(2, ",,0,0,53.4,-6.2,,,,,,"))
        airborne = only_row(msg(3, ",1000,,,53.4,-6.2,,,,,,"))
        assert (surface["onground"], airborne["onground"]) == (True, False)

    def test_callsign_padding_case_and_address_prefix(self):
        assert only_row(msg(1, "  EZY12 ,,,,,,,,,,,"))["callsign"] == "EZY12"
        assert pd.isna(only_row(msg(1, "        ,,,,,,,,,,,"))["callsign"])
        row = only_row(msg(8, ",,,,,,,,,,,0", hex_ident="~aB12c3"))
        assert row["icao24"] == "~ab12c3"

    def test_numbers_in_other_notations(self):
        row = only_row(msg(3, ",+3.7e4,,, 51.5 ,-.5,,,,,,"))
        assert (row["altitude"], row["latitude"], row["longitude"]) == (
            37000.0,
            51.5,
            -0.5,
        )

    def test_file_order_is_kept(self):
        late = msg(8, ",,,,,,,,,,,0", stamp="2024/05/01,11:00:00,2024/05/01,11:00:00")
        table = decode(late, LINES[8]).table
        assert table["timestamp"].tolist() == [
            pd.Timestamp("2024-05-01 11:00", tz="UTC"),
            pd.Timestamp("2024-05-01 10:00:00.125", tz="UTC"),
        ]


class TestTime:
    @pytest.mark.parametrize(
        ("stamp", "expected"),
        [
            ("2024/05/01,10:00:00.125,2024/05/01,10:00:05", "2024-05-01 10:00:00.125"),
            (",,2024/05/01,10:00:05.5", "2024-05-01 10:00:05.5"),
            ("2024/02/29,23:59:59,,", "2024-02-29 23:59:59"),
            ("2024/05/01,10:00:00.123456789,,", "2024-05-01 10:00:00.123456"),
        ],
    )
    def test_generated_time_else_logged(self, stamp, expected):
        row = only_row(msg(8, ",,,,,,,,,,,0", stamp=stamp))
        assert row["timestamp"] == pd.Timestamp(expected, tz="UTC")

    @pytest.mark.parametrize("offset_h", [2.0, -5.5, 0.0])
    def test_utc_offset_is_subtracted(self, offset_h):
        row = only_row_with(LINES[8], utc_offset_h=offset_h)
        local = pd.Timestamp("2024-05-01 10:00:00.125", tz="UTC")
        assert row["timestamp"] == local - pd.Timedelta(hours=offset_h)

    def test_utc_offset_crosses_midnight(self):
        line = msg(8, ",,,,,,,,,,,0", stamp="2024/03/01,00:30:00.000,,")
        row = only_row_with(line, utc_offset_h=1.0)
        assert row["timestamp"] == pd.Timestamp("2024-02-29 23:30", tz="UTC")

    @pytest.mark.parametrize("offset_h", [math.nan, math.inf, 25.0, -24.5])
    def test_impossible_offset_is_refused(self, offset_h):
        with pytest.raises(ConfigError, match="utc_offset_h"):
            decode(LINES[8], utc_offset_h=offset_h)


def only_row_with(line, **options):
    decoded = decode(line, **options)
    assert decoded.problems.total == 0
    return decoded.table.iloc[0]


BAD_LINES = [
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0"), "MSG line without 22 comma-separated fields"),
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0,0,0"),
     "MSG line without 22 comma-separated fields"),
    ("FOO,1,2,3", "unknown message type"),
    ("MSG", "unknown message type"),
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0,0", hex_ident="4CA2D"),
     "hex ident is not 6 hex digits"),
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0,0", hex_ident="4CA2DZ"),
     "hex ident is not 6 hex digits"),
    (msg(9, ",37000,,,51.4,-1.0,,,0,0,0,0"), "transmission type is not 1 to 8"),
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0,0", stamp=",,,"), "no date or time"),
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0,0", stamp="2024-05-01,10:00:00,,"),
     "date is not YYYY/MM/DD"),
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0,0", stamp="2023/02/29,10:00:00,,"),
     "impossible date"),
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0,0", stamp="2024/13/01,10:00:00,,"),
     "impossible date"),
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0,0", stamp="2024/05/01,10h00,,"),
     "time is not HH:MM:SS.fff"),
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0,0", stamp="2024/05/01,24:00:00,,"),
     "impossible time of day"),
    (msg(3, ",FL370,,,51.4,-1.0,,,0,0,0,0"), "altitude is not a number"),
    (msg(3, ",nan,,,51.4,-1.0,,,0,0,0,0"), "altitude is not a number"),
    (msg(3, ",1e999,,,51.4,-1.0,,,0,0,0,0"), "altitude is not a number"),
    (msg(4, ",,fast,232.7,,,-64,,,,,"), "ground speed is not a number"),
    (msg(4, ",,451,232.7,,,-6 4,,,,,"), "vertical rate is not a number"),
    (msg(3, ",37000,,,91.5,-1.0,,,0,0,0,0"), "latitude out of range [-90, 90]"),
    (msg(3, ",37000,,,51.4,-180.5,,,0,0,0,0"), "longitude out of range [-180, 180]"),
    (msg(3, ",37000,,,51.4,,,,0,0,0,0"),
     "position with only one of latitude and longitude"),
    (msg(6, ",33325,,,,,,7800,0,0,0,0"), "squawk is not 4 octal digits"),
    (msg(6, ",33325,,,,,,770,0,0,0,0"), "squawk is not 4 octal digits"),
    (msg(3, ",37000,,,51.4,-1.0,,,yes,0,0,0"), "alert flag is not -1, 0 or 1"),
    (msg(8, ",,,,,,,,,,,2"), "is-on-ground flag is not -1, 0 or 1"),
    (msg(3, ",37000,,,51.4,-1.0,,,0,0,0,0") + "\rMSG", "carriage return inside a line"),
    (msg(1, "A" * 5000 + ",,,,,,,,,,,"), "MSG line longer than 4096 bytes"),
]  # fmt: skip


class TestLinesNotUsed:
    @pytest.mark.parametrize(("line", "reason"), BAD_LINES)
    def test_bad_line_is_counted_with_its_line_number(self, line, reason):
        decoded = decode(LINES[3], line, LINES[4])
        assert decoded.problems.counts == {reason: 1}
        assert decoded.problems.first_where == {reason: "line 2"}
        assert decoded.table["transmission_type"].tolist() == [3, 4]

    @pytest.mark.parametrize(("line", "reason"), BAD_LINES)
    def test_strict_refuses_the_bad_line(self, line, reason):
        with pytest.raises(ParseError) as info:
            decode(LINES[3], line, LINES[4], strict=True, source="feed.txt")
        err = info.value
        assert err.where == "line 2"
        assert err.source == "feed.txt"
        assert reason in str(err)
        assert err.raw == line[:200]

    def test_each_line_is_counted_once_under_its_first_fault(self):
        line = msg(3, ",FL370,,,91.5,-1.0,,,0,0,0,0", hex_ident="nothex")
        decoded = decode(line)
        assert decoded.problems.counts == {"hex ident is not 6 hex digits": 1}

    def test_counts_and_first_places_over_a_feed(self):
        bad_lat = msg(3, ",37000,,,99.0,-1.0,,,0,0,0,0")
        feed = [LINES[1], bad_lat, "junk", "", LINES[3], bad_lat, "junk", bad_lat]
        decoded = decode(*feed)
        assert decoded.problems.counts == {
            "latitude out of range [-90, 90]": 3,
            "unknown message type": 2,
        }
        assert decoded.problems.first_where == {
            "latitude out of range [-90, 90]": "line 2",
            "unknown message type": "line 3",
        }
        assert len(decoded.table) == 2
        with pytest.raises(ParseError, match="line 2: latitude out of range"):
            decode(*feed, strict=True)

    def test_strict_names_the_earliest_bad_line_whatever_its_fault(self):
        feed = [LINES[3], msg(3, ",37000,,,99.0,-1.0,,,0,0,0,0"), "MSG,1,2"]
        with pytest.raises(ParseError) as info:
            decode(*reversed(feed), strict=True)
        assert info.value.where == "line 1"
        with pytest.raises(ParseError) as info:
            decode(*feed, strict=True)
        assert info.value.where == "line 2"

    def test_other_message_types_are_counted_not_refused(self):
        feed = [
            "SEL,,496,2286,4CA4E5,27215," + STAMP + ",RYR1427",
            "ID ,,496,7162,405637,27928," + STAMP + ",EZY691A",
            "AIR,,496,5906,400F01,27931," + STAMP,
            LINES[3],
            "STA,,5,179,400AE7,10103," + STAMP + ",RM",
            "CLK,,496,-1,,-1," + STAMP,
            "AIR,,496,5907,400F02,27932," + STAMP,
        ]
        for strict in (False, True):
            decoded = decode(*feed, strict=strict)
            assert len(decoded.table) == 1
            assert decoded.problems.counts == {
                "SEL message (not a report)": 1,
                "ID message (not a report)": 1,
                "AIR message (not a report)": 2,
                "STA message (not a report)": 1,
                "CLK message (not a report)": 1,
            }
            assert decoded.problems.first_where["AIR message (not a report)"] == (
                "line 3"
            )
            assert decoded.problems.first_where["CLK message (not a report)"] == (
                "line 6"
            )

    def test_line_endings_and_blank_lines(self):
        text = f"{LINES[1]}\r\n\n   \r\n{LINES[3]}\n{LINES[4]}\r\r\nbad\r\n{LINES[8]}"
        decoded = decode_sbs(text)
        assert decoded.table["transmission_type"].tolist() == [1, 3, 4, 8]
        assert decoded.problems.first_where == {"unknown message type": "line 6"}
        assert decoded.table["callsign"][0] == "RYR83LU"

    def test_bytes_with_a_byte_order_mark_and_invalid_utf8(self):
        data = b"\xef\xbb\xbf" + LINES[1].encode() + b"\r\n\xff\xfe,\r\n"
        decoded = decode_sbs(data)
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {"unknown message type": 1}


class TestFiles:
    def test_plain_and_gzip_files_read_the_same(self, tmp_path):
        text = "\r\n".join(LINES.values()) + "\r\n"
        plain = tmp_path / "feed.sbs"
        plain.write_text(text, newline="")
        packed = tmp_path / "feed.sbs.gz"
        packed.write_bytes(gzip.compress(text.encode()))
        hidden = tmp_path / "feed.txt"  # gzip is told by content, not name
        hidden.write_bytes(gzip.compress(text.encode()))
        first = read_sbs(plain)
        assert first.format == "sbs"
        assert first.problems.source == str(plain)
        for other in (packed, hidden):
            again = read_sbs(other)
            pd.testing.assert_frame_equal(first.table, again.table)
            assert again.problems.total == 0

    def test_gzip_members_are_concatenated(self):
        data = gzip.compress(LINES[1].encode() + b"\n") + gzip.compress(
            LINES[3].encode() + b"\n"
        )
        assert decode_sbs(data).table["transmission_type"].tolist() == [1, 3]

    def test_truncated_gzip_keeps_what_came_before(self):
        text = ("\r\n".join([LINES[3]] * 2000) + "\r\n").encode()
        data = gzip.compress(text)[:-40]
        decoded = decode_sbs(data)
        assert decoded.problems.counts.get("truncated gzip stream") == 1
        assert decoded.problems.first_where["truncated gzip stream"] == (
            f"byte {len(data)}"
        )
        assert 1000 < len(decoded.table) < 2000
        with pytest.raises(ParseError, match="truncated gzip stream"):
            decode_sbs(data, strict=True)

    def test_corrupt_gzip_and_trailing_bytes(self):
        good = gzip.compress(LINES[3].encode() + b"\n")
        decoded = decode_sbs(good + b"trailing")
        assert decoded.problems.counts == {"bytes after the gzip stream": 1}
        assert decoded.problems.first_where == {
            "bytes after the gzip stream": f"byte {len(good)}"
        }
        assert len(decoded.table) == 1
        corrupt = good[:12] + bytes(b ^ 0x5A for b in good[12:])
        with pytest.raises(UnsupportedFormatError):
            decode_sbs(corrupt)  # nothing usable was decompressed
        with pytest.raises(ParseError, match="gzip"):
            decode_sbs(corrupt, strict=True)

    def test_missing_file(self, tmp_path):
        with pytest.raises(ParseError, match="cannot open"):
            read_sbs(tmp_path / "absent.sbs")

    @pytest.mark.parametrize(
        "content",
        [
            b"",
            b"\r\n\r\n  \n",
            b'[{"icao24": "4ca2d6", "latitude": 51.4}]',
            b'{"now": 1, "aircraft": []}\n',
            b"timestamp,icao24,latitude\n1,4ca2d6,51.4\n",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
            bytes(range(256)) * 4,
            gzip.compress(b'{"json": true}'),
            b"MSGX,3,1,1\n" * 3,
        ],
    )
    def test_content_that_is_not_sbs(self, tmp_path, content):
        path = tmp_path / "feed.sbs"
        path.write_bytes(content)
        with pytest.raises(UnsupportedFormatError, match="not SBS"):
            read_sbs(path)

    def test_a_few_bad_lines_first_do_not_hide_the_feed(self):
        decoded = decode("garbage", "more garbage", LINES[3])
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {"unknown message type": 2}


def table_of(**columns):
    base = {
        "timestamp": pd.to_datetime(
            ["2024-05-01 10:00:00", "2024-05-01 10:00:01"], utc=True
        ),
        "icao24": ["4ca2d6", "4ca2d6"],
    }
    base.update(columns)
    return pd.DataFrame(base)


def written(table):
    out = io.StringIO(newline="")
    count = write_sbs(table, out)
    text = out.getvalue()
    assert text.count("\r\n") == count
    return text.splitlines()


class TestWriter:
    def test_lines_a_feed_carries_for_each_value(self):
        table = table_of(
            callsign=["EZY12", "EZY12"],
            latitude=[51.4573512, np.nan],
            longitude=[-1.0282649, np.nan],
            altitude=[37000.4, 37025.0],
            groundspeed=[451.26, np.nan],
            track=[359.96, np.nan],
            vertical_rate=[-64.0, np.nan],
            squawk=["7700", "7700"],
            onground=[False, False],
        )
        stamp0 = "2024/05/01,10:00:00.000,2024/05/01,10:00:00.000"
        stamp1 = "2024/05/01,10:00:01.000,2024/05/01,10:00:01.000"
        assert written(table) == [
            f"MSG,1,1,1,4CA2D6,1,{stamp0},EZY12,,,,,,,,,,,0",
            f"MSG,6,1,1,4CA2D6,1,{stamp0},,37000,,,,,,7700,,-1,,0",
            f"MSG,3,1,1,4CA2D6,1,{stamp0},,37000,,,51.45735,-1.02826,,,,,,0",
            f"MSG,4,1,1,4CA2D6,1,{stamp0},,,451.3,0.0,,,-64,,,,,0",
            f"MSG,5,1,1,4CA2D6,1,{stamp1},,37025,,,,,,,,,,0",
        ]

    def test_surface_positions_and_known_flags(self):
        table = table_of(
            latitude=[53.421370, 53.4214],
            longitude=[-6.270010, -6.2701],
            altitude=[np.nan, np.nan],
            groundspeed=[12.5, 13.0],
            track=[271.3, 271.0],
            vertical_rate=[np.nan, 0.0],
            onground=[True, True],
            alert=[True, pd.NA],
            spi=[False, False],
        )
        assert [line.split(",")[1] for line in written(table)] == ["2", "2", "4"]
        first = written(table)[0].split(",")
        assert first[10:] == ["", "", "12.5", "271.3", "53.42137", "-6.27001",
                              "", "", "", "", "", "-1"]  # fmt: skip
        velocity = written(table)[2].split(",")
        assert velocity[12:17] == ["13.0", "271.0", "", "", "0"]

    def test_callsign_and_squawk_lines_only_on_change_per_aircraft(self):
        table = pd.DataFrame(
            {
                "timestamp": [0.0, 1.0, 2.0, 3.0, 4.0],
                "icao24": ["aaaaaa", "bbbbbb", "aaaaaa", "aaaaaa", "bbbbbb"],
                "callsign": ["ONE", "TWO", "ONE", "ONE1", "TWO"],
                "squawk": [1000.0, np.nan, 1000.0, 40.0, 7600.0],
            }
        )
        kinds = [(line.split(",")[1], line.split(",")[4]) for line in written(table)]
        assert kinds == [("1", "AAAAAA"), ("6", "AAAAAA"), ("1", "BBBBBB"),
                         ("1", "AAAAAA"), ("6", "AAAAAA"), ("6", "BBBBBB")]  # fmt: skip
        squawks = [line.split(",")[17] for line in written(table)
                   if line.startswith("MSG,6")]  # fmt: skip
        assert squawks == ["1000", "0040", "7600"]

    def test_rows_are_written_in_time_order(self):
        table = pd.DataFrame(
            {
                "timestamp": pd.to_datetime(
                    ["2024-05-01 10:00:02", "2024-05-01 10:00:01"]
                ),
                "icao24": ["aaaaaa", "bbbbbb"],
                "altitude": [1000.0, 2000.0],
            }
        )
        lines = written(table)
        assert [line.split(",")[4] for line in lines] == ["BBBBBB", "AAAAAA"]
        assert lines[0].split(",")[7] == "10:00:01.000"  # naive is taken as UTC

    @pytest.mark.parametrize(
        "stamps",
        [
            pd.to_datetime(["2024-05-01 12:00:00+02:00"] * 2),
            pd.Series([1714557600.0, 1714557600.0]),
            pd.Series(["2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"]),
        ],
    )
    def test_timestamps_in_any_form_are_written_in_utc(self, stamps):
        table = pd.DataFrame({"timestamp": stamps, "icao24": ["aaaaaa", "aaaaaa"],
                              "altitude": [1.0, 2.0]})  # fmt: skip
        for line in written(table):
            assert line.split(",")[6:10] == ["2024/05/01", "10:00:00.000"] * 2

    def test_to_paths_and_streams(self, tmp_path):
        table = table_of(altitude=[1000.0, 1100.0])
        plain, packed = tmp_path / "out.sbs", tmp_path / "out.sbs.gz"
        assert write_sbs(table, plain) == 2
        assert write_sbs(table, packed) == 2
        binary = io.BytesIO()
        assert write_sbs(table, binary) == 2
        assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()
        assert binary.getvalue() == plain.read_bytes()
        assert plain.read_bytes().endswith(b",1100,,,,,,,,,,\r\n")  # flag unknown
        assert read_sbs(plain).table["altitude"].tolist() == [1000.0, 1100.0]

    def test_empty_table_writes_nothing(self):
        table = table_of().iloc[:0]
        assert written(table) == []

    def test_flags_survive_a_round_trip(self):
        table = table_of(
            latitude=[51.0, 51.1],
            longitude=[-1.0, -1.1],
            altitude=[37000.0, 37000.0],
            squawk=["7500", "7500"],
            alert=[True, False],
            emergency=[pd.NA, True],
            spi=[False, True],
            onground=[pd.NA, False],
        )
        back = decode_sbs("\r\n".join(written(table))).table
        position = back[back["transmission_type"] == 3].reset_index(drop=True)
        assert position["alert"].tolist() == [True, False]
        assert position["emergency"].isna().tolist() == [True, False]
        assert position["spi"].tolist() == [False, True]
        # an airborne-position line without the flag reads as not on the ground
        assert position["onground"].tolist() == [False, False]
        ident = back[back["transmission_type"] == 6]
        assert ident["emergency"].isna().tolist() == [True]  # the table's own NA

    @pytest.mark.parametrize("column", ["timestamp", "icao24"])
    def test_required_columns(self, column):
        with pytest.raises(MissingColumnError) as info:
            write_sbs(table_of().drop(columns=[column]), io.BytesIO())
        assert info.value.column == column

    def test_latitude_without_longitude_column(self):
        with pytest.raises(MissingColumnError) as info:
            write_sbs(table_of(latitude=[1.0, 2.0]), io.BytesIO())
        assert info.value.column == "longitude"

    @pytest.mark.parametrize(
        ("column", "value", "reason"),
        [
            ("icao24", "4ca2d", "6 hex digits"),
            ("icao24", None, "6 hex digits"),
            ("timestamp", pd.NaT, "date and time"),
            ("latitude", 90.5, "[-90, 90]"),
            ("longitude", -181.0, "[-180, 180]"),
            ("altitude", "high", "a number"),
            ("altitude", math.inf, "finite"),
            ("squawk", "7800", "4 octal digits"),
            ("squawk", 12.5, "4 octal digits"),
            ("callsign", "A,B", "commas"),
            ("onground", "maybe", "true or false"),
        ],
    )
    def test_values_that_cannot_be_written(self, column, value, reason):
        table = table_of(
            latitude=[51.0, 51.1], longitude=[-1.0, -1.1], callsign=["A", "B"],
            squawk=["1000", "1000"], onground=[False, False],
            altitude=[1000.0, 1000.0],
        )  # fmt: skip
        table.index = [10, 11]
        table[column] = table[column].astype(object)
        table.loc[11, column] = value
        with pytest.raises(InvalidStateError, match=reason) as info:
            write_sbs(table, io.BytesIO())
        assert (info.value.column, info.value.row) == (column, 11)
