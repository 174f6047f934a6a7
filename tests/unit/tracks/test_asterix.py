"""ASTERIX adapter: format detection, pcap framing, time, CAT048/062/021 decoding."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from pyproj import Geod, Transformer

from skypact.errors import ConfigError, ParseError, UnsupportedFormatError
from skypact.tracks.ingest.asterix import (
    EXTRA_COLUMNS,
    decode_asterix,
    polar_to_wgs84,
    read_asterix,
)
from skypact.tracks.ingest.base import REPORT_COLUMNS
from skypact.tracks.validation import validate_reports
from skypact.units import ft_to_m, mps_to_kt, nm_to_m
from tests.asterix_samples import (
    ETHERNET,
    LINUX_SLL,
    RAW_IPV4,
    block,
    cat021_from_traffic,
    cat048_record,
    ethernet,
    ipv4_udp,
    pcap,
    raw_block,
    record,
    udp_frame,
)

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"
TRAFFIC = REAL / "traffic" / "quickstart.json.gz"
DAY = dt.date(2016, 5, 5)
MIDNIGHT_S = dt.datetime(2016, 5, 5, tzinfo=dt.UTC).timestamp()
TOD_S = 27354.6015625  # 07:35:54.6, a multiple of 1/128 s
ZAGREB = (45.9, 16.0, 1000.0)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def cat048(**fields) -> bytes:
    return block(48, [cat048_record(**fields)])


def one_packet(payload: bytes, t_s: float = MIDNIGHT_S + TOD_S, **options) -> bytes:
    return pcap([(t_s, udp_frame(payload))], **options)


class TestFormat:
    @pytest.mark.parametrize(
        "data",
        [
            b"timestamp,icao24,latitude\n1,abc123,45.0\n",
            b'{"timestamp": 1, "frame": "8d4ca2b6"}\n' * 50,
            b"0,1,2\n" * 100,  # '0' is CAT048's byte; the length does not fit
            b"",
            b"\x30\x00\x04",
        ],
    )
    def test_text_and_scraps_are_not_asterix(self, data):
        with pytest.raises(UnsupportedFormatError, match="neither a pcap"):
            decode_asterix(data)

    def test_a_category_libasterix_does_not_know_is_not_taken_for_asterix(self):
        with pytest.raises(UnsupportedFormatError):
            decode_asterix(raw_block(3, b"\x80\x19\xc9"))

    def test_pcapng_is_refused_with_a_way_out(self):
        with pytest.raises(UnsupportedFormatError, match="editcap -F pcap"):
            decode_asterix(b"\x0a\x0d\x0d\x0a" + bytes(60))

    def test_unread_link_type_is_named(self):
        with pytest.raises(UnsupportedFormatError, match="link type 105"):
            decode_asterix(pcap([], link_type=105))

    def test_truncated_pcap_header(self):
        with pytest.raises(UnsupportedFormatError, match="global header"):
            decode_asterix(pcap([])[:20])

    def test_empty_capture_gives_an_empty_table_with_every_column(self):
        decoded = decode_asterix(pcap([]))
        assert decoded.format == "asterix"
        assert list(decoded.table.columns) == [*REPORT_COLUMNS, *EXTRA_COLUMNS]
        assert decoded.table.empty
        assert decoded.problems.total == 0
        assert str(decoded.table["timestamp"].dt.tz) == "UTC"
        assert decoded.table["cat"].dtype.name == "Int64"
        assert decoded.table["rho_nm"].dtype.name == "float64"

    def test_file_and_bytes_agree(self, tmp_path):
        path = tmp_path / "capture.bin"  # the name says nothing of the format
        path.write_bytes(one_packet(cat048()))
        from_file = read_asterix(path)
        pd.testing.assert_frame_equal(
            from_file.table, decode_asterix(path.read_bytes()).table
        )
        assert from_file.problems.source == str(path)


class TestPcap:
    @pytest.mark.parametrize("nanoseconds", [False, True])
    @pytest.mark.parametrize("big_endian", [False, True])
    def test_every_classic_flavour_gives_the_capture_time(
        self, nanoseconds, big_endian
    ):
        t_s = MIDNIGHT_S + 100.123456
        data = one_packet(
            cat048(tod_s=None), t_s, nanoseconds=nanoseconds, big_endian=big_endian
        )
        decoded = decode_asterix(data)
        assert decoded.problems.total == 0
        # A report without a time item takes its packet's capture time.
        stamp = decoded.table["timestamp"][0].timestamp()
        assert stamp == pytest.approx(t_s, abs=1e-6)

    @pytest.mark.parametrize("link_type", [ETHERNET, LINUX_SLL, RAW_IPV4])
    def test_link_types(self, link_type):
        frame = udp_frame(cat048(), link_type=link_type)
        decoded = decode_asterix(pcap([(MIDNIGHT_S, frame)], link_type=link_type))
        assert list(decoded.table["icao24"]) == ["3c660c"]
        assert decoded.problems.total == 0

    def test_vlan_tag_and_ipv4_options_are_stepped_over(self):
        frame = ethernet(ipv4_udp(cat048(), options=bytes(8)), vlan=True)
        decoded = decode_asterix(pcap([(MIDNIGHT_S, frame)]))
        assert list(decoded.table["callsign"]) == ["DLH65A"]
        assert decoded.problems.total == 0

    def test_ethernet_padding_is_not_read_as_data(self):
        tiny = block(48, [record(48, {"010": (25, 201), "140": TOD_S})])
        frame = udp_frame(tiny)
        assert len(frame) == 60 > 14 + 20 + 8 + len(tiny)  # padded
        decoded = decode_asterix(pcap([(MIDNIGHT_S, frame)]), strict=True)
        assert len(decoded.table) == 1
        assert decoded.problems.total == 0

    def test_other_traffic_is_counted_and_never_refused(self):
        frames = [
            (MIDNIGHT_S, ethernet(bytes(28), ethertype=0x0806)),  # ARP
            (MIDNIGHT_S, ethernet(ipv4_udp(cat048(), protocol=6))),  # TCP
            (MIDNIGHT_S, udp_frame(b"")),
            (MIDNIGHT_S, udp_frame(cat048())),
        ]
        decoded = decode_asterix(pcap(frames), strict=True)
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {
            "packet is not IPv4 (skipped)": 1,
            "packet is not UDP (skipped)": 1,
            "UDP datagram without payload (skipped)": 1,
        }
        assert decoded.problems.first_where["packet is not UDP (skipped)"] == "packet 2"

    def test_fragments_are_counted_or_refused(self):
        frames = [
            (MIDNIGHT_S, udp_frame(cat048())),
            (MIDNIGHT_S, ethernet(ipv4_udp(cat048(), fragment=0x2000))),
        ]
        reason = "IPv4 fragment (fragments are not reassembled)"
        decoded = decode_asterix(pcap(frames))
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {reason: 1}
        with pytest.raises(ParseError, match="packet 2: IPv4 fragment") as info:
            decode_asterix(pcap(frames), strict=True)
        assert info.value.where == "packet 2"

    @pytest.mark.parametrize(
        ("link_type", "frame", "reason"),
        [
            (ETHERNET, bytes(10), "Ethernet frame shorter than its header"),
            (LINUX_SLL, bytes(12), "Linux cooked capture header is truncated"),
            (RAW_IPV4, bytes([0x45]) + bytes(10), "malformed IPv4 header"),
            (RAW_IPV4, bytes([0x44]) + bytes(30), "malformed IPv4 header"),
            (  # total length shorter than the header
                RAW_IPV4,
                bytes([0x45, 0, 0, 10]) + bytes(5) + bytes([17]) + bytes(20),
                "malformed IPv4 header",
            ),
            (  # UDP length field below its own header's 8 bytes
                RAW_IPV4,
                ipv4_udp(cat048())[:24] + b"\x00\x04" + ipv4_udp(cat048())[26:],
                "malformed UDP header",
            ),
        ],
    )
    def test_malformed_frames_are_counted_or_refused(self, link_type, frame, reason):
        frames = [
            (MIDNIGHT_S, frame),
            (MIDNIGHT_S, udp_frame(cat048(), link_type=link_type)),
        ]
        data = pcap(frames, link_type=link_type)
        decoded = decode_asterix(data)
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {reason: 1}
        assert decoded.problems.first_where == {reason: "packet 1"}
        with pytest.raises(ParseError, match=f"packet 1: {reason}"):
            decode_asterix(data, strict=True)

    def test_truncated_capture_keeps_the_packets_before(self):
        data = pcap([(MIDNIGHT_S, udp_frame(cat048()))] * 2)[:-5]
        decoded = decode_asterix(data)
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {"pcap packet data is truncated": 1}
        assert decoded.problems.first_where == {
            "pcap packet data is truncated": "packet 2"
        }
        with pytest.raises(ParseError, match="packet 2"):
            decode_asterix(data, strict=True)
        cut_header = pcap([(MIDNIGHT_S, udp_frame(cat048()))]) + bytes(10)
        assert decode_asterix(cut_header).problems.counts == {
            "pcap packet header is truncated": 1
        }

    def test_datagram_cut_by_the_snap_length(self):
        decoded = decode_asterix(one_packet(cat048(), snaplen=64))
        assert decoded.table.empty
        assert decoded.problems.first_where == {
            "data block runs past the end of the data": "packet 1, byte 0"
        }

    def test_several_blocks_in_one_datagram_with_their_places(self):
        service = raw_block(34, b"\x80\x19\xc9")
        track = block(62, [record(62, {"010": (25, 100), "040": 7})])
        payload = service + cat048() + track + b"\x30\x00"
        decoded = decode_asterix(one_packet(payload))
        assert list(decoded.table["source"]) == ["asterix-cat048", "asterix-cat062"]
        end = len(payload) - 2
        assert decoded.problems.first_where == {
            "category 34 is not a surveillance report category (skipped)": (
                "packet 1, byte 0"
            ),
            "data block header is truncated": f"packet 1, byte {end}",
        }


class TestTime:
    def test_report_sent_before_midnight_and_captured_after(self):
        captured_s = MIDNIGHT_S + 86400.5
        decoded = decode_asterix(one_packet(cat048(tod_s=86399.5), captured_s))
        assert decoded.table["timestamp"][0] == utc("2016-05-05 23:59:59.5")

    def test_report_sent_after_midnight_and_captured_before(self):
        captured_s = MIDNIGHT_S - 0.1
        decoded = decode_asterix(one_packet(cat048(tod_s=0.25), captured_s))
        assert decoded.table["timestamp"][0] == utc("2016-05-05 00:00:00.25")

    def test_date_is_the_first_report_s_and_rolls_over_at_midnight(self):
        records = [cat048_record(tod_s=t) for t in (86399.0, 86399.9921875, 0.5, 10.0)]
        decoded = decode_asterix(block(48, records), date=DAY)
        assert list(decoded.table["timestamp"]) == [
            utc("2016-05-05 23:59:59"),
            utc("2016-05-05 23:59:59.9921875"),
            utc("2016-05-06 00:00:00.5"),
            utc("2016-05-06 00:00:10"),
        ]

    def test_raw_bytes_without_a_date_have_no_timestamp(self):
        decoded = decode_asterix(cat048())
        assert decoded.table["timestamp"].isna().all()
        assert decoded.table["time_of_day_s"][0] == TOD_S
        assert decoded.problems.total == 0

    def test_date_overrides_the_capture_clock(self):
        decoded = decode_asterix(one_packet(cat048(), 1000.0), date=DAY)
        assert decoded.table["timestamp"][0] == utc("2016-05-05 07:35:54.6015625")

    def test_time_of_day_of_24_hours_or_more_is_refused(self):
        data = cat048(tod_s=86400.0) + cat048()
        reason = "CAT048 record: time of day is 24 h or more"
        decoded = decode_asterix(data)
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {reason: 1}
        assert decoded.problems.first_where == {reason: "byte 3"}
        with pytest.raises(ParseError, match="byte 3: CAT048 record"):
            decode_asterix(data, strict=True)


class TestCat048:
    def test_target_report_fields(self):
        decoded = decode_asterix(cat048(), date=DAY)
        row = decoded.table.iloc[0]
        assert (row["icao24"], row["callsign"], row["squawk"]) == (
            "3c660c",
            "DLH65A",
            "1000",
        )
        assert row["altitude"] == 35000.0
        assert row["groundspeed"] == pytest.approx(434.0, abs=0.11)  # 2^-14 NM/s
        assert row["track"] == pytest.approx(124.0, abs=0.003)  # 360/2^16 deg
        assert (row["sac"], row["sic"], row["track_number"], row["cat"]) == (
            25,
            201,
            3563,
            48,
        )
        assert row["rho_nm"] == 100.0
        assert row["theta_deg"] == pytest.approx(45.0, abs=0.003)
        assert row["source"] == "asterix-cat048"
        assert pd.isna(row["onground"])
        # Without a radar site: no position, and nothing counted for it.
        assert math.isnan(row["latitude"])
        assert math.isnan(row["longitude"])
        assert decoded.problems.total == 0

    def test_a_plot_with_neither_address_nor_track_number_has_no_identifier(self):
        # Nothing names the aircraft: validation refuses it as "no aircraft identifier".
        data = cat048(address=None, track_number=None)
        table = decode_asterix(data).table
        assert table["icao24"].iloc[0] is None
        verdicts = validate_reports(table)
        assert verdicts.counts() == {"no aircraft identifier": 1}

    def test_garbled_codes_and_absent_items_are_left_empty(self):
        data = cat048(fl_garbled=1, squawk_garbled=1, address=None, callsign="  ")
        row = decode_asterix(data).table.iloc[0]
        assert math.isnan(row["altitude"])
        assert row["squawk"] is None
        assert row["icao24"] == "~25/201/3563"  # no address: the radar's track
        assert row["callsign"] is None

    @pytest.mark.parametrize(
        ("site", "rho_nm", "theta_deg", "fl"),
        [
            (ZAGREB, 100.0, 45.0, 350.0),
            (ZAGREB, 240.0, 200.0, 400.0),
            (ZAGREB, 2.0, 0.0, 10.0),
            (ZAGREB, 30.0, 300.0, None),  # no flight level: at the site's altitude
            ((0.0, 0.0, 0.0), 250.0, 90.0, 0.0),
            ((70.0, -20.0, 3000.0), 150.0, 330.0, 250.0),
        ],
    )
    def test_position_is_at_the_slant_range_along_the_azimuth(
        self, site, rho_nm, theta_deg, fl
    ):
        data = cat048(rho_nm=rho_nm, theta_deg=theta_deg, fl=fl)
        row = decode_asterix(data, radar_site=site).table.iloc[0]
        # Independent check: the straight-line (ECEF) distance from the antenna to the
        # target at its altitude is the slant range, and the geodesic azimuth is THETA.
        ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
        alt_ft = site[2] if fl is None else fl * 100.0
        antenna = np.array(ecef.transform(site[1], site[0], ft_to_m(site[2])))
        target = np.array(
            ecef.transform(row["longitude"], row["latitude"], ft_to_m(alt_ft))
        )
        slant_m = np.linalg.norm(target - antenna)
        assert slant_m == pytest.approx(nm_to_m(row["rho_nm"]), abs=2.0)
        azimuth_deg, _, _ = Geod(ellps="WGS84").inv(
            site[1], site[0], row["longitude"], row["latitude"]
        )
        assert azimuth_deg % 360.0 == pytest.approx(row["theta_deg"], abs=1e-6)

    def test_range_shorter_than_the_height_puts_the_target_over_the_site(self):
        lat_deg, lon_deg = polar_to_wgs84(
            ZAGREB, np.array([2.0]), np.array([90.0]), np.array([35000.0])
        )
        assert_allclose([lat_deg[0], lon_deg[0]], ZAGREB[:2], atol=1e-9)

    def test_sites_by_radar(self):
        data = block(48, [cat048_record(sic=201), cat048_record(sic=13)])
        sites = {(25, 201): ZAGREB, (25, 99): (0.0, 0.0, 0.0)}  # 25/99 is not heard
        table = decode_asterix(data, radar_site=sites).table
        assert table["latitude"].notna().tolist() == [True, False]
        same = decode_asterix(data, radar_site=ZAGREB).table
        assert same["latitude"][0] == table["latitude"][0]
        assert same["latitude"].notna().all()

    @pytest.mark.parametrize(
        "site",
        [(95.0, 0.0, 0.0), (0.0, 200.0, 0.0), (math.nan, 0.0, 0.0), (1.0, 2.0)],
    )
    def test_invalid_site_is_a_config_error(self, site):
        with pytest.raises(ConfigError, match="radar_site"):
            decode_asterix(cat048(), radar_site=site)
        with pytest.raises(ConfigError):
            decode_asterix(cat048(), radar_site={(25, 201): site})


SYSTEM_TRACK = {
    "010": (25, 100),
    "070": 45827.3984375,
    "105": (45.4, 15.13),
    "185": (100.0, -100.0),
    "060": (0, 0, 0, 0, "1275"),
    "380": {"ADR": 0x4CA7A8, "ID": "RYR174C"},
    "040": 4713,
    "136": 390.0,
    "130": 36481.25,
    "220": -443.75,
}


class TestCat062:
    def test_system_track_fields(self):
        row = decode_asterix(block(62, [record(62, SYSTEM_TRACK)])).table.iloc[0]
        assert (row["icao24"], row["callsign"], row["squawk"]) == (
            "4ca7a8",
            "RYR174C",
            "1275",
        )
        assert row["latitude"] == pytest.approx(45.4, abs=2.7e-6)  # 180/2^25 / 2
        assert row["longitude"] == pytest.approx(15.13, abs=2.7e-6)
        assert (row["altitude"], row["geoaltitude"]) == (39000.0, 36481.25)
        assert row["vertical_rate"] == -443.75
        assert row["groundspeed"] == pytest.approx(mps_to_kt(math.hypot(100, 100)))
        assert row["track"] == pytest.approx(135.0)  # vx east, vy south: south-east
        assert (row["track_number"], row["sac"], row["sic"]) == (4713, 25, 100)
        assert row["time_of_day_s"] == 45827.3984375
        assert row["source"] == "asterix-cat062"

    def test_callsign_falls_back_to_the_target_identification(self):
        items = {**SYSTEM_TRACK, "380": {"ADR": 0x4CA7A8}, "245": (0, 0, "ISS2007")}
        row = decode_asterix(block(62, [record(62, items)])).table.iloc[0]
        assert row["callsign"] == "ISS2007"

    def test_position_out_of_range_is_refused(self):
        bad = record(62, {**SYSTEM_TRACK, "105": (95.0, 15.0)})
        data = block(62, [bad, record(62, SYSTEM_TRACK)])
        reason = "CAT062 record: WGS84 position out of range"
        decoded = decode_asterix(data)
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {reason: 1}
        with pytest.raises(ParseError, match="byte 3: CAT062 record"):
            decode_asterix(data, strict=True)


@pytest.fixture(scope="module")
def traffic() -> pd.DataFrame:
    """200 real ADS-B reports spread over the recording, in time order."""
    if not TRAFFIC.exists():
        pytest.fail(f"real recording missing: {TRAFFIC}")
    table = pd.read_json(TRAFFIC, dtype={"icao24": str})
    sample = table.iloc[:: len(table) // 200][:200]
    return sample.sort_values("timestamp", kind="stable").reset_index(drop=True)


class TestCat021:
    def test_real_reports_round_trip_within_the_resolutions(self, traffic):
        decoded = decode_asterix(
            cat021_from_traffic(traffic), date=dt.date(2021, 10, 7)
        )
        table = decoded.table
        assert decoded.problems.total == 0
        assert len(table) == len(traffic) == 200
        assert set(table["source"]) == {"asterix-cat021"}
        assert (table["icao24"] == traffic["icao24"]).all()
        assert (table["callsign"] == traffic["callsign"].str.strip()).all()
        assert (table["onground"] == traffic["onground"]).all()
        assert (table["timestamp"] == traffic["timestamp"].dt.tz_localize("UTC")).all()
        squawk = [None if pd.isna(v) else f"{int(v):04d}" for v in traffic["squawk"]]
        assert table["squawk"].tolist() == squawk
        high = np.arange(len(table)) % 2 == 0  # I021/131 rows, else I021/130
        half_lsb = np.where(high, 180.0 / 2**30, 180.0 / 2**23) / 2.0 + 1e-12
        for column in ("latitude", "longitude"):
            assert (np.abs(table[column] - traffic[column]) <= half_lsb).all()
        # half the least significant bit: FL/4, 2^-14 NM/s, 360/2^16 deg, 6.25 ft/min
        for column, half in [
            ("altitude", 12.5),
            ("groundspeed", mps_to_kt(nm_to_m(2.0**-14)) / 2.0),
            ("track", 360.0 / 2**16 / 2.0),
            ("vertical_rate", 3.125),
        ]:
            assert (table[column].isna() == traffic[column].isna()).all(), column
            both = traffic[column].notna()
            error = np.abs(table[column][both] - traffic[column][both])
            assert (error <= half + 1e-9).all(), column
        assert (table["nacp"] == np.arange(200) % 12).all()
        assert (table["nic"] == np.arange(200) % 11).all()
        assert (table["sac"] == 25).all()
        assert (table["sic"] == 7).all()
        assert (table["track_number"] == np.arange(200)).all()

    @pytest.mark.parametrize(
        ("full_second", "fraction_s", "tod_s"),
        [(0, 0.75, 100.75), (1, 0.25, 101.25), (2, 0.75, 99.75), (3, 0.5, 100.0)],
    )
    def test_high_precision_reception_time(self, full_second, fraction_s, tod_s):
        items = {"080": 1, "073": 100.0, "074": (full_second, fraction_s)}
        row = decode_asterix(block(21, [record(21, items)])).table.iloc[0]
        assert row["time_of_day_s"] == tod_s

    def test_time_items_in_order_of_preference(self):
        # position applicability, position reception, velocity applicability,
        # velocity reception (high precision added), report transmission
        items = {"071": 1.0, "073": 2.0, "072": 3.0, "075": 4.0, "077": 5.0}
        rows = []
        for first in ("071", "073", "072", "075"):
            rows.append(record(21, {"080": 1, **items}))
            del items[first]
        rows.append(record(21, {"080": 1, **items}))
        rows.append(record(21, {"080": 1, "075": 4.0, "076": (1, 0.5)}))
        table = decode_asterix(block(21, rows)).table
        assert table["time_of_day_s"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 5.5]

    def test_geometric_height_and_rates(self):
        items = {"080": 1, "140": 35125.0, "157": (0, -1250.0)}
        row = decode_asterix(block(21, [record(21, items)])).table.iloc[0]
        assert (row["geoaltitude"], row["vertical_rate"]) == (35125.0, -1250.0)

    def test_values_beyond_their_range_are_left_empty(self):
        items = {"080": 1, "160": (1, 0.1, 90.0), "155": (1, 1000.0)}
        row = decode_asterix(block(21, [record(21, items)])).table.iloc[0]
        assert math.isnan(row["groundspeed"])
        assert math.isnan(row["vertical_rate"])
        assert row["track"] == 90.0

    def test_ground_bit_unknown_without_the_first_extension(self):
        items = {"080": 1, "040": ((0, 1, 0, 0, None),)}
        row = decode_asterix(block(21, [record(21, items)])).table.iloc[0]
        assert pd.isna(row["onground"])


class TestMalformed:
    def test_block_running_past_the_end(self):
        first = cat048()
        data = first + cat048()[:-4]
        reason = "data block runs past the end of the data"
        decoded = decode_asterix(data)
        assert len(decoded.table) == 1
        assert decoded.problems.first_where == {reason: f"byte {len(first)}"}
        with pytest.raises(ParseError) as info:
            decode_asterix(data, strict=True)
        assert info.value.where == f"byte {len(first)}"
        assert info.value.raw == cat048()[:-4].hex()

    def test_undecodable_record_loses_the_rest_of_its_block_only(self):
        good = cat048_record()
        body = bytes(good.unparse().to_bytes()) + b"\xff" * 10 + b"\x00" + bytes(20)
        data = raw_block(48, body) + cat048()
        decoded = decode_asterix(data)
        reason = (
            "CAT048 record cannot be decoded (fspec too big); "
            "the rest of its data block is skipped"
        )
        assert len(decoded.table) == 2
        assert decoded.problems.counts == {reason: 1}
        where = f"byte {3 + len(good.unparse().to_bytes())}"
        assert decoded.problems.first_where == {reason: where}

    def test_padding_is_counted_and_never_refused(self):
        body = bytes(cat048_record().unparse().to_bytes()) + bytes(5)
        data = raw_block(48, body) + cat048() + bytes(7)
        decoded = decode_asterix(data, strict=True)
        assert len(decoded.table) == 2
        assert decoded.problems.counts == {
            "zero padding after the last data block or record (ignored)": 2
        }

    def test_other_categories_are_counted_and_never_refused(self):
        data = raw_block(34, b"\x80\x19\xc9") + cat048() + raw_block(65, b"\x00")
        decoded = decode_asterix(data, strict=True)
        assert len(decoded.table) == 1
        assert decoded.problems.counts == {
            "category 34 is not a surveillance report category (skipped)": 1,
            "category 65 is not a surveillance report category (skipped)": 1,
        }

    def test_empty_block_is_stepped_over(self):
        data = cat048() + raw_block(48, b"") + cat048()
        reason = "data block without records"
        decoded = decode_asterix(data)
        assert len(decoded.table) == 2
        assert decoded.problems.counts == {reason: 1}
        with pytest.raises(ParseError, match=reason):
            decode_asterix(data, strict=True)
