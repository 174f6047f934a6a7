"""Cursor on Target in and out: CoT XML and TAK protobuf, air tracks only."""

from __future__ import annotations

import gzip
import math
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from takproto import TAKProtoVer, xml2proto
from takproto.functions import msg2proto
from takproto.proto import TakMessage

from skypact.errors import InvalidStateError, ParseError, UnsupportedFormatError
from skypact.tracks.ingest.base import REPORT_COLUMNS
from skypact.tracks.ingest.cot import (
    AFFILIATIONS,
    COT_EXTRA_COLUMNS,
    UNKNOWN_M,
    cot_event_tak,
    cot_event_xml,
    decode_cot,
    encode_cot,
    read_cot,
)
from skypact.units import ft_to_m, kt_to_mps, m_to_ft, mps_to_kt
from tests.factories import COT_T0, cot_row

DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
T0 = COT_T0


def event(
    *,
    type_="a-f-A-M-F-Q",
    uid="ICAO-3C6444",
    time='time="2024-05-01T10:00:00Z"',
    start='start="2024-05-01T10:00:00Z"',
    stale='stale="2024-05-01T10:01:00Z"',
    point='<point lat="50.1" lon="8.6" hae="10000" ce="12.5" le="20" />',
    detail='<track course="90.5" speed="200" /><contact callsign="GAF123" />',
) -> str:
    return (
        f'<event version="2.0" uid="{uid}" type="{type_}" how="m-g" {time} {start} '
        f"{stale}>{point}<detail>{detail}</detail></event>"
    )


def decode(*events: str, joiner: str = "\n", **kwargs) -> tuple:
    decoded = decode_cot(joiner.join(events).encode(), **kwargs)
    return decoded.table, decoded.problems


class TestFields:
    def test_one_air_track_becomes_one_report(self):
        table, problems = decode(DECLARATION + event())
        assert problems.total == 0
        assert list(table.columns) == [*REPORT_COLUMNS, *COT_EXTRA_COLUMNS]
        (report,) = table.to_dict("records")
        assert report["timestamp"] == T0
        assert report["start_at"] == T0
        assert report["stale_at"] == T0 + pd.Timedelta(seconds=60)
        assert (report["icao24"], report["uid"]) == ("3c6444", "ICAO-3C6444")
        assert (report["callsign"], report["how"]) == ("GAF123", "m-g")
        assert (report["latitude"], report["longitude"]) == (50.1, 8.6)
        assert report["geoaltitude"] == pytest.approx(m_to_ft(10000.0))
        assert report["groundspeed"] == pytest.approx(mps_to_kt(200.0))
        assert report["track"] == 90.5
        assert (report["ce_m"], report["le_m"]) == (12.5, 20.0)
        assert (report["cot_type"], report["affiliation"]) == ("a-f-A-M-F-Q", "friend")
        assert report["source"] == "cot"
        # Barometric altitude, vertical rate, squawk: not in CoT, never made up.
        assert math.isnan(report["altitude"])
        assert math.isnan(report["vertical_rate"])
        assert report["squawk"] is None
        assert report["party"] is None
        assert table["onground"].isna().all()

    def test_unknown_hae_ce_le_are_nan(self):
        point = '<point lat="50" lon="8" hae="9999999.0" ce="9999999" le="9999999" />'
        table, problems = decode(event(point=point))
        assert problems.total == 0
        assert table[["geoaltitude", "ce_m", "le_m"]].isna().all(axis=None)

    def test_absent_hae_ce_le_and_track_are_nan(self):
        table, _ = decode(event(point='<point lat="50" lon="8" />', detail=""))
        assert (
            table[["geoaltitude", "ce_m", "le_m", "groundspeed", "track"]]
            .isna()
            .all(axis=None)
        )
        assert table["callsign"][0] is None

    def test_course_is_wrapped_to_0_360(self):
        table, _ = decode(event(detail='<track course="-90" speed="0" />'))
        assert table["track"][0] == 270.0
        assert table["groundspeed"][0] == 0.0

    def test_flow_tags_and_other_details_are_ignored(self):
        detail = (
            '<_flow-tags_ TAK-Server-e7d4="2024-05-01T10:00:01Z" />'
            '<remarks>x</remarks><contact callsign=" RCH401 " />'
        )
        table, problems = decode(event(detail=detail))
        assert problems.total == 0
        assert table["callsign"][0] == "RCH401"


class TestAffiliation:
    @pytest.mark.parametrize(("code", "word"), sorted(AFFILIATIONS.items()))
    def test_second_atom_names_the_affiliation(self, code, word):
        table, problems = decode(event(type_=f"a-{code}-A-M-F"))
        assert problems.total == 0
        assert table["affiliation"][0] == word
        assert table["cot_type"][0] == f"a-{code}-A-M-F"

    def test_all_ten_codes_are_mapped(self):
        assert set(AFFILIATIONS) == set("fhunaspjko")
        assert AFFILIATIONS["k"] == "faker"
        assert AFFILIATIONS["a"] == "assumed friend"

    def test_unknown_affiliation_is_counted(self):
        table, problems = decode(event(type_="a-x-A"))
        assert table.empty
        assert problems.counts == {"unknown affiliation in type a-x-A": 1}


class TestAirTracksOnly:
    def test_other_events_are_counted_with_the_place_of_the_first(self):
        events = [
            event(),
            event(type_="a-f-G-U-C"),
            event(type_="a-n-S"),
            event(type_="t-x-c-t"),
            event(type_="b-m-p-s-p-i"),
            event(type_="a-h-A"),
            event(type_="a-f-G-U-C"),
        ]
        text = "\n".join(events).encode()
        decoded = decode_cot(text)
        assert list(decoded.table["affiliation"]) == ["friend", "hostile"]
        assert decoded.problems.counts == {
            "not an air track (type a-f-G-U-C)": 2,
            "not an air track (type a-n-S)": 1,
            "not an air track (type t-x-c-t)": 1,
            "not an air track (type b-m-p-s-p-i)": 1,
        }
        second = len(events[0]) + 1
        assert decoded.problems.first_where["not an air track (type a-f-G-U-C)"] == (
            f"event 2, byte {second}"
        )
        assert text[second:].startswith(b"<event")

    @pytest.mark.parametrize(
        ("changes", "reason"),
        [
            ({"point": ""}, "event has no point"),
            ({"point": '<point lon="8" />'}, "point has no lat or lon"),
            ({"point": '<point lat="91" lon="8" />'}, "latitude out of range"),
            ({"point": '<point lat="-90.5" lon="8" />'}, "latitude out of range"),
            ({"point": '<point lat="50" lon="180.1" />'}, "longitude out of range"),
            ({"point": '<point lat="fifty" lon="8" />'}, "point lat is not a number"),
            ({"point": '<point lat="NaN" lon="8" />'}, "point lat is not a number"),
            (
                {"point": '<point lat="5" lon="8" hae="1e400" />'},
                "point hae is not a number",
            ),
            (
                {"point": '<point lat="50" lon="8" ce="-1" />'},
                "point ce or le is negative",
            ),
            ({"detail": '<track speed="fast" />'}, "track speed is not a number"),
            ({"detail": '<track speed="-3" />'}, "track speed is negative or infinite"),
            ({"uid": " "}, "event has no uid"),
            ({"type_": ""}, "event has no type"),
            ({"time": ""}, "bad or missing time"),
            ({"stale": ""}, "bad or missing stale"),
            ({"time": 'time="2024-05-01T10:00:00"'}, "bad or missing time"),
            ({"time": 'time="2024-13-01T10:00:00Z"'}, "bad or missing time"),
            ({"time": 'time="1969-12-31T23:59:59Z"'}, "bad or missing time"),
            ({"start": 'start="yesterday"'}, "bad or missing start"),
        ],
    )
    def test_malformed_event_is_counted_with_its_place(self, changes, reason):
        good = event()
        text = f"{good}\n{event(**changes)}\n{good}"
        decoded = decode_cot(text.encode())
        assert len(decoded.table) == 2
        assert decoded.problems.counts == {reason: 1}
        assert decoded.problems.first_where[reason] == f"event 2, byte {len(good) + 1}"

    def test_root_other_than_event_is_counted(self):
        table, problems = decode("<auth><cot username='x'/></auth>", event())
        assert len(table) == 1
        assert problems.counts == {"not a CoT event (root <auth>)": 1}


class TestTimes:
    def test_fractions_and_offsets(self):
        table, problems = decode(
            event(
                time='time="2024-05-01T12:00:00.25+02:00"',
                start='start="2024-05-01T10:00:00.123456789Z"',
                stale='stale="2024-05-01T10:00:30.5Z"',
            )
        )
        assert problems.total == 0
        assert table["timestamp"][0] == T0 + pd.Timedelta(milliseconds=250)
        assert table["start_at"][0] == T0 + pd.Timedelta(nanoseconds=123_456_789)
        assert table["stale_at"][0] == T0 + pd.Timedelta(seconds=30.5)
        assert str(table["timestamp"].dt.tz) == "UTC"

    def test_missing_start_is_the_time(self):
        table, problems = decode(event(start=""))
        assert problems.total == 0
        assert table["start_at"][0] == table["timestamp"][0] == T0


class TestUntrustedXml:
    BILLION_LAUGHS = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    ) + event(detail='<contact callsign="&lol3;" />')

    def test_entity_declarations_are_refused_and_never_expanded(self):
        table, problems = decode(event(), self.BILLION_LAUGHS, event())
        assert len(table) == 2
        assert set(table["callsign"]) == {"GAF123"}
        assert problems.counts["DOCTYPE or ENTITY declaration refused"] == 1
        assert problems.first_where["DOCTYPE or ENTITY declaration refused"].startswith(
            "event 2, byte "
        )
        # The event after the refused DTD is read again on its own, where the
        # undeclared entity is an error: nothing is ever expanded.
        assert problems.counts == {
            "DOCTYPE or ENTITY declaration refused": 1,
            "malformed XML (undefined entity)": 1,
        }

    def test_external_entity_is_refused(self):
        doc = '<!DOCTYPE event [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + event(
            detail='<contact callsign="&x;" />'
        )
        table, problems = decode(doc)
        assert table.empty
        assert "DOCTYPE or ENTITY declaration refused" in problems.counts
        with pytest.raises(ParseError, match="DOCTYPE or ENTITY declaration refused"):
            decode_cot(doc.encode(), strict=True)

    def test_doctype_without_entities_is_refused_too(self):
        _table, problems = decode("<!DOCTYPE event>" + event())
        assert problems.counts.get("DOCTYPE or ENTITY declaration refused") == 1

    def test_predefined_entities_and_character_references_are_fine(self):
        table, problems = decode(event(detail='<contact callsign="A&amp;B&#49;" />'))
        assert problems.total == 0
        assert table["callsign"][0] == "A&B1"

    def test_declared_encoding_is_ignored_utf8_is_read(self):
        doc = '<?xml version="1.0" encoding="rot13"?>' + event(
            detail='<contact callsign="Zürich1" />'
        )
        table, problems = decode(doc)
        assert problems.total == 0
        assert table["callsign"][0] == "Zürich1"


class TestConcatenatedEvents:
    @pytest.mark.parametrize("declared", [True, False])
    @pytest.mark.parametrize("joiner", ["", "\n", "\r\n  \t"])
    def test_stream_of_events(self, declared, joiner):
        prefix = DECLARATION if declared else ""
        docs = [prefix + event(uid=f"ICAO-00000{k}") for k in range(5)]
        table, problems = decode(*docs, joiner=joiner)
        assert problems.total == 0
        assert list(table["icao24"]) == [f"00000{k}" for k in range(5)]

    def test_mixed_declarations_bom_and_leading_space(self):
        text = (
            "\ufeff \n" + DECLARATION + event() + event() + "\n" + DECLARATION + event()
        )
        decoded = decode_cot(text.encode())
        assert (len(decoded.table), decoded.problems.total) == (3, 0)

    def test_self_closing_and_comments_between(self):
        docs = [event(), "<!-- keep-alive -->", event()]
        table, problems = decode(*docs)
        assert (len(table), problems.total) == (2, 0)

    def test_cut_event_does_not_swallow_the_next(self):
        good = event()
        cut = good[:70]  # mid-way through the start tag's attributes
        table, problems = decode(good, cut, good, good)
        assert len(table) == 3
        assert problems.total == 1
        ((reason, _count),) = problems.counts.items()
        assert reason.startswith("malformed XML")
        assert problems.first_where[reason] == f"event 2, byte {len(good) + 1}"

    def test_event_cut_after_its_start_tag(self):
        good = event()
        cut = good[: good.index("<detail>")]
        table, problems = decode(good, cut, good)
        assert len(table) == 2
        assert problems.counts == {
            "malformed XML (cut short before the next <event>)": 1
        }

    def test_junk_between_events(self):
        table, problems = decode(event(), "hello there", event(), "</event>", event())
        assert len(table) == 3
        assert problems.total == 2
        assert all(reason.startswith("malformed XML") for reason in problems.counts)

    def test_last_event_cut_at_the_end(self):
        good = event()
        table, problems = decode(good, good[:-10])
        assert len(table) == 1
        assert problems.total == 1


class TestStrict:
    def test_first_problem_raises_with_its_place(self):
        good = event()
        text = f"{good}\n{event(type_='a-f-G')}\n{event(point='')}"
        with pytest.raises(ParseError) as info:
            decode_cot(text.encode(), source="feed.cot", strict=True)
        err = info.value
        assert err.where == f"event 2, byte {len(good) + 1}"
        assert err.source == "feed.cot"
        assert "not an air track (type a-f-G)" in str(err)
        assert err.raw is not None
        assert err.raw.startswith("<event")

    def test_clean_stream_passes_strict(self):
        decoded = decode_cot((event() + event()).encode(), strict=True)
        assert len(decoded.table) == 2

    def test_tak_strict(self):
        data = cot_event_tak(cot_row()) + b"\xbf\x05\x01\x02"
        with pytest.raises(ParseError, match="truncated message") as info:
            decode_cot(data, strict=True)
        assert info.value.where == f"message 2, byte {len(cot_event_tak(cot_row()))}"


def tak_from_xml(xml: str, version=TAKProtoVer.STREAM) -> bytes:
    return bytes(xml2proto(xml.encode(), version))


def stream_payload(data: bytes) -> TakMessage:
    """The TakMessage of one stream-framed message (0xbf, varint length, payload)."""
    assert data[0] == 0xBF
    length, shift, pos = 0, 0, 1
    while True:
        length |= (data[pos] & 0x7F) << shift
        shift += 7
        pos += 1
        if data[pos - 1] < 0x80:
            break
    assert len(data) == pos + length
    message = TakMessage()
    message.ParseFromString(data[pos:])
    return message


class TestTakFraming:
    def test_stream_of_messages_from_takproto(self):
        docs = [event(uid=f"ICAO-a0000{k}") for k in range(4)]
        data = b"".join(tak_from_xml(doc) for doc in docs)
        assert data[0] == 0xBF
        decoded = decode_cot(data)
        assert decoded.format == "tak-protobuf"
        assert decoded.problems.total == 0
        table = decoded.table
        assert list(table["icao24"]) == [f"a0000{k}" for k in range(4)]
        assert set(table["source"]) == {"tak"}
        assert (table["timestamp"] == T0).all()
        assert (table["stale_at"] == T0 + pd.Timedelta(seconds=60)).all()
        assert_allclose(table["geoaltitude"], m_to_ft(10000.0))
        assert_allclose(table["groundspeed"], mps_to_kt(200.0))
        assert_allclose(table["track"], 90.5)
        assert set(table["callsign"]) == {"GAF123"}
        assert (table["ce_m"] == 12.5).all()

    def test_mesh_datagram(self):
        data = tak_from_xml(event(), TAKProtoVer.MESH)
        assert data[:3] == b"\xbf\x01\xbf"
        decoded = decode_cot(data)
        assert (len(decoded.table), decoded.problems.total) == (1, 0)

    def test_mesh_of_another_version_is_refused(self):
        data = b"\xbf\x02\xbf" + tak_from_xml(event(), TAKProtoVer.MESH)[3:]
        decoded = decode_cot(data)
        assert decoded.table.empty
        assert decoded.problems.counts == {
            "TAK protocol version not supported (not 1)": 1
        }

    def test_non_air_and_no_event_messages_are_counted(self):
        control = TakMessage()
        control.takControl.minProtoVersion = 1
        data = (
            tak_from_xml(event(type_="a-f-G-U-C"))
            + bytes(msg2proto(control, TAKProtoVer.STREAM))
            + tak_from_xml(event())
            + b"\xbf\x03\xff\xff\xff"
        )
        decoded = decode_cot(data)
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {
            "not an air track (type a-f-G-U-C)": 1,
            "message has no CoT event": 1,
            "protobuf does not decode as a TakMessage": 1,
        }
        assert decoded.problems.first_where["message has no CoT event"].startswith(
            "message 2, byte "
        )

    def test_garbage_between_messages_is_skipped_and_counted(self):
        one = tak_from_xml(event())
        decoded = decode_cot(one + b"\x00\x01garbage" + one)
        assert len(decoded.table) == 2
        assert decoded.problems.counts == {"bytes without the 0xbf magic (skipped)": 1}
        assert decoded.problems.first_where[
            "bytes without the 0xbf magic (skipped)"
        ] == (f"message 2, byte {len(one)}")

    def test_truncated_stream(self):
        one = tak_from_xml(event())
        decoded = decode_cot(one + one[:-5])
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {"truncated message": 1}

    def test_xml_detail_is_read_safely(self):
        good = tak_from_xml(event(uid="x", detail='<__adsb icao="ABC123" />'))
        decoded = decode_cot(good)
        assert decoded.table["icao24"][0] == "abc123"
        message = stream_payload(good)
        message.cotEvent.detail.xmlDetail = "<a>&lol;</a>"
        broken = bytes(msg2proto(message, TAKProtoVer.STREAM))
        decoded = decode_cot(broken)
        assert decoded.problems.counts == {"malformed XML in xmlDetail": 1}

    def test_unset_ce_le_are_unknown_unset_hae_is_zero(self):
        data = tak_from_xml(event(point='<point lat="50" lon="8" />'))
        table = decode_cot(data).table
        assert table[["ce_m", "le_m"]].isna().all(axis=None)
        assert table["geoaltitude"][0] == 0.0

    def test_zero_time_means_missing(self):
        message = stream_payload(tak_from_xml(event()))
        message.cotEvent.sendTime = 0
        decoded = decode_cot(bytes(msg2proto(message, TAKProtoVer.STREAM)))
        assert decoded.problems.counts == {"bad or missing time": 1}


class TestIcao24:
    @pytest.mark.parametrize(
        ("uid", "detail", "icao24"),
        [
            ("ICAO-3C6444", "", "3c6444"),
            ("icao-3c6444", "", "3c6444"),
            ("FRA.ICAO-3C6444", "", "3c6444"),
            ("track-17", '<__adsb icao="4CA75F" />', "4ca75f"),
            ("track-17", '<_aircot_ icao="4ca75f" flight="RYR1" />', "4ca75f"),
            ("track-17", '<__adsb icao="not-hex" />', "track-17"),
            ("ICAO-3C6444X", "", "ICAO-3C6444X"),
            ("ANDROID-589520ccfcd20f01", "", "ANDROID-589520ccfcd20f01"),
            ("ICAO-3C6444", '<_skypact_ icao24="radar-42" />', "radar-42"),
        ],
    )
    def test_rules(self, uid, detail, icao24):
        table, problems = decode(event(uid=uid, detail=detail))
        assert problems.total == 0
        assert table["icao24"][0] == icao24
        assert table["uid"][0] == uid


class TestFormatDetection:
    @pytest.mark.parametrize(
        "data", [b"", b"   \n", b"hello", b"\x00\xbf", b'{"uid": 1}', b"\xef\xbb\xbf"]
    )
    def test_neither_format_raises(self, data):
        with pytest.raises(UnsupportedFormatError):
            decode_cot(data)

    def test_read_cot_reads_files_and_gzip(self, tmp_path):
        xml = (DECLARATION + event()).encode()
        tak = cot_event_tak(cot_row())
        for name, data, fmt in [
            ("a.cot", xml, "cot-xml"),
            ("a.cot.gz", gzip.compress(xml), "cot-xml"),
            ("a.tak", tak, "tak-protobuf"),
            ("a.tak.gz", gzip.compress(tak), "tak-protobuf"),
        ]:
            path = tmp_path / name
            path.write_bytes(data)
            decoded = read_cot(path)
            assert (decoded.format, len(decoded.table)) == (fmt, 1)
            assert decoded.problems.source == str(path)

    def test_broken_gzip_is_a_parse_error(self, tmp_path):
        path = tmp_path / "bad.gz"
        path.write_bytes(b"\x1f\x8b\x08\x00garbage")
        with pytest.raises(ParseError, match="gzip"):
            read_cot(path)

    def test_empty_result_keeps_the_columns(self):
        decoded = decode_cot(event(type_="a-f-G").encode())
        assert decoded.table.empty
        assert list(decoded.table.columns) == [*REPORT_COLUMNS, *COT_EXTRA_COLUMNS]
        assert str(decoded.table["timestamp"].dtype) == "datetime64[ns, UTC]"


class TestWriters:
    def test_xml_event_is_built_from_the_row(self):
        data = cot_event_xml(cot_row(cot_type="a-u-A-M-F-Q", ce_m=8.0), stale_s=30.0)
        assert data.startswith(b"<?xml")
        root = ET.fromstring(data)
        assert root.attrib == {
            "version": "2.0",
            "uid": "DEU.ICAO-3C6444",
            "type": "a-f-A-M-F-Q",
            "how": "m-g",
            "time": "2024-05-01T10:00:00.000Z",
            "start": "2024-05-01T10:00:00.000Z",
            "stale": "2024-05-01T10:00:30.000Z",
        }
        point = root.find("point")
        assert point is not None
        assert float(point.get("hae", "")) == pytest.approx(ft_to_m(33400.0), abs=0.005)
        assert (point.get("ce"), point.get("le")) == ("8", "9999999")
        track = root.find("detail/track")
        assert track is not None
        assert float(track.get("speed", "")) == pytest.approx(
            kt_to_mps(420.0), abs=5e-4
        )
        assert track.get("course") == "90.5"
        contact = root.find("detail/contact")
        assert contact is not None
        assert contact.get("callsign") == "GAF123"
        own = root.find("detail/_skypact_")
        assert own is not None
        assert own.attrib == {
            "icao24": "3c6444",
            "party": "DEU",
            "altitude_ft": "33000",
            "vertical_rate_fpm": "-500",
            "squawk": "7000",
            "onground": "false",
            "hae_source": "geoaltitude",
        }

    @pytest.mark.parametrize("fmt", ["xml", "tak"])
    def test_written_event_reads_back(self, fmt):
        source = cot_row(geoaltitude=np.nan, squawk=1200.0, ce_m=4.5, le_m=np.nan)
        data = cot_event_xml(source) if fmt == "xml" else cot_event_tak(source)
        decoded = decode_cot(data)
        assert decoded.problems.total == 0
        (back,) = decoded.table.to_dict("records")
        assert back["timestamp"] == T0
        assert back["altitude"] == 33000.0
        # hae came from the barometric altitude: not read back as geoaltitude.
        assert math.isnan(back["geoaltitude"])
        assert back["squawk"] == "1200"
        assert (back["ce_m"], math.isnan(back["le_m"])) == (4.5, True)
        assert (back["icao24"], back["party"], back["affiliation"]) == (
            "3c6444",
            "DEU",
            "friend",
        )
        assert back["groundspeed"] == pytest.approx(420.0, abs=1e-3)
        assert back["onground"] is False

    def test_unknown_motion_and_height(self):
        source = cot_row(
            altitude=np.nan, geoaltitude=None, groundspeed=np.nan, track=pd.NA
        )
        root = ET.fromstring(cot_event_xml(source))
        assert root.find("detail/track") is None
        point = root.find("point")
        assert point is not None
        assert point.get("hae") == "9999999"
        message = stream_payload(cot_event_tak(source))
        assert message.cotEvent.hae == UNKNOWN_M
        assert not message.cotEvent.detail.HasField("track")
        back = decode_cot(cot_event_tak(source)).table
        assert (
            back[["geoaltitude", "altitude", "groundspeed", "track"]]
            .isna()
            .all(axis=None)
        )

    def test_half_known_motion_in_tak_is_nan(self):
        back = decode_cot(cot_event_tak(cot_row(track=np.nan))).table
        assert math.isnan(back["track"][0])
        assert back["groundspeed"][0] == pytest.approx(420.0)

    def test_affiliation_argument_and_plain_types(self):
        root = ET.fromstring(cot_event_xml(cot_row(affiliation=None, party=None)))
        assert (root.get("type"), root.get("uid")) == ("a-u-A", "ICAO-3C6444")
        root = ET.fromstring(cot_event_xml(cot_row(), affiliation="hostile"))
        assert root.get("type") == "a-h-A"
        root = ET.fromstring(cot_event_xml(cot_row(icao24="radar-42", party="FRA")))
        assert root.get("uid") == "FRA.radar-42"

    def test_time_is_rounded_to_the_millisecond(self):
        stamp = T0 + pd.Timedelta(microseconds=1_500)
        root = ET.fromstring(cot_event_xml(cot_row(timestamp=stamp)))
        assert root.get("time") == "2024-05-01T10:00:00.002Z"
        root = ET.fromstring(cot_event_xml(cot_row(timestamp=T0.timestamp() + 0.25)))
        assert root.get("time") == "2024-05-01T10:00:00.250Z"

    @pytest.mark.parametrize(
        ("changes", "column"),
        [
            ({"timestamp": pd.Timestamp("2024-05-01T10:00:00")}, "timestamp"),
            ({"timestamp": None}, "timestamp"),
            ({"latitude": np.nan}, "latitude"),
            ({"longitude": 200.0}, "longitude"),
            ({"icao24": " "}, "icao24"),
            ({"callsign": "AB\x00C"}, "callsign"),
            ({"groundspeed": "fast"}, "groundspeed"),
            ({"affiliation": "enemy"}, "affiliation"),
            ({"squawk": 12.5}, "squawk"),
            ({"altitude": math.inf}, "altitude"),
        ],
    )
    def test_unusable_rows_are_refused(self, changes, column):
        with pytest.raises(InvalidStateError) as info:
            cot_event_xml(cot_row(**changes))
        assert info.value.column == column
        with pytest.raises(InvalidStateError):
            cot_event_tak(cot_row(**changes))

    def test_misuse_raises_value_error(self):
        with pytest.raises(ValueError, match="stale_s"):
            cot_event_xml(cot_row(), stale_s=0.0)
        with pytest.raises(ValueError, match="affiliation"):
            cot_event_xml(cot_row(), affiliation="enemy")
        with pytest.raises(ValueError, match="how"):
            cot_event_xml(cot_row(), how=" ")
        with pytest.raises(ValueError, match="framing"):
            cot_event_tak(cot_row(), framing="udp")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="format"):
            encode_cot(pd.DataFrame([cot_row()]), format="json")  # type: ignore[arg-type]

    def test_encode_cot_names_the_bad_row(self):
        table = pd.DataFrame([cot_row(), cot_row(latitude=95.0)], index=[10, 11])
        with pytest.raises(InvalidStateError) as info:
            encode_cot(table)
        assert (info.value.column, info.value.row) == ("latitude", 11)

    @pytest.mark.parametrize("fmt", ["cot-xml", "tak-protobuf"])
    def test_encode_cot_stream_reads_back(self, fmt):
        table = pd.DataFrame([cot_row(icao24=f"00000{k}") for k in range(3)])
        decoded = decode_cot(encode_cot(table, format=fmt))
        assert decoded.format == fmt
        assert list(decoded.table["icao24"]) == ["000000", "000001", "000002"]
