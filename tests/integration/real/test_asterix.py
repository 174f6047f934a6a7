"""Real ASTERIX recordings (Croatia Control, via the asterix-decoder project) decoded.

Data: CroatiaControlLtd/asterix ``install/sample_data`` (GPL; see the data folder's
README.md and COPYING). The radars' sites are not published: the positions below use a
plausible site near Zagreb only to check that the geometry holds together.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skypact.errors import ParseError
from skypact.tracks.ingest.asterix import EXTRA_COLUMNS, read_asterix
from skypact.tracks.ingest.base import REPORT_COLUMNS
from skypact.units import m_to_nm

DATA = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real" / "asterix"
)
ZAGREB = (45.9, 16.0, 1000.0)  # a plausible site for SAC 25 / SIC 201, not its own
CAPTURE_048 = "cat_034_048.pcap"
CAT034 = "category 34 is not a surveillance report category (skipped)"
CAT065 = "category 65 is not a surveillance report category (skipped)"


def real(name: str) -> Path:
    path = DATA / name
    if not path.exists():
        pytest.fail(f"real recording missing: {path}")
    return path


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def distance_nm(site, table: pd.DataFrame) -> np.ndarray:
    n = len(table)
    _, _, dist_m = Geod(ellps="WGS84").inv(
        np.full(n, site[1]), np.full(n, site[0]), table["longitude"], table["latitude"]
    )
    return np.asarray(m_to_nm(np.asarray(dist_m, dtype=np.float64)))


@pytest.fixture(scope="module")
def decoded():
    """The CAT048 capture, read without a radar site."""
    return read_asterix(real(CAPTURE_048))


class TestMonoRadarCapture:
    """cat_034_048.pcap: 100 packets, 0.4 s of CAT048 target reports and CAT034."""

    def test_counts(self, decoded):
        table = decoded.table
        assert list(table.columns) == [*REPORT_COLUMNS, *EXTRA_COLUMNS]
        assert len(table) == 128
        assert set(table["source"]) == {"asterix-cat048"}
        addressed = table["icao24"].str.fullmatch("[0-9a-f]{6}")
        assert table.loc[addressed, "icao24"].nunique() == 63  # Mode S aircraft
        # Two reports (one datagram, captured twice) of a Mode A/C-only target are
        # named by the radar's track: SAC 25, SIC 204, track 2986.
        unaddressed = table.loc[~addressed]
        assert list(unaddressed["icao24"]) == ["~25/204/2986"] * 2
        assert list(unaddressed["squawk"]) == ["4261"] * 2
        # 34 CAT034 service messages, counted and nothing else.
        assert decoded.problems.counts == {CAT034: 34}
        # Every datagram was captured twice: 64 distinct reports.
        distinct = table.drop_duplicates(["sic", "track_number", "time_of_day_s"])
        assert len(distinct) == 64

    def test_radar_network(self, decoded):
        # The feed is a radar network's: SAC 25 with seven radars (SIC).
        by_radar = decoded.table.groupby("sic").size().to_dict()
        assert by_radar == {11: 8, 12: 38, 13: 16, 14: 4, 201: 28, 204: 28, 205: 6}
        assert set(decoded.table["sac"]) == {25}

    def test_known_reports(self, decoded):
        table = decoded.table.set_index("icao24")
        first = table.loc["3c660c"].iloc[0]
        assert (first["callsign"], first["squawk"], first["altitude"]) == (
            "DLH65A",
            "1000",
            33000.0,
        )
        assert (first["sic"], first["track_number"]) == (201, 3563)
        assert first["rho_nm"] == pytest.approx(197.68, abs=0.01)
        assert first["theta_deg"] == pytest.approx(340.14, abs=0.01)
        assert first["groundspeed"] == pytest.approx(434.4, abs=0.1)
        assert first["timestamp"] == utc("2016-05-05 07:35:54.6015625")
        ryanair = table.loc["4ca7a8"].iloc[0]
        assert (ryanair["callsign"], ryanair["squawk"], ryanair["altitude"]) == (
            "RYR26PJ",
            "7455",
            35000.0,
        )
        low = table.loc["3004e2"].iloc[0]  # a report at FL -1, without identification
        assert (low["altitude"], low["callsign"], low["squawk"]) == (
            -100.0,
            None,
            "7000",
        )

    def test_times_follow_the_capture(self, decoded):
        stamps = decoded.table["timestamp"]
        assert stamps.min() == utc("2016-05-05 07:35:36.2578125")
        assert stamps.max() == utc("2016-05-05 07:35:56.375")

    def test_no_radar_site_leaves_positions_empty(self, decoded):
        assert decoded.table["latitude"].isna().all()
        assert decoded.table["rho_nm"].notna().sum() == 126

    def test_positions_from_a_site_per_radar(self):
        table = read_asterix(real(CAPTURE_048), radar_site={(25, 201): ZAGREB}).table
        placed = table["latitude"].notna()
        assert (placed == (table["sic"] == 201)).all()
        assert placed.sum() == 28
        on_site = table[placed]
        assert (distance_nm(ZAGREB, on_site) < 250.0).all()
        # The ground range is shorter than the slant range, by less than 1 NM here.
        shortening_nm = on_site["rho_nm"] - distance_nm(ZAGREB, on_site)
        assert ((shortening_nm > 0.0) & (shortening_nm < 1.0)).all()

    def test_one_site_for_every_report(self):
        table = read_asterix(real(CAPTURE_048), radar_site=ZAGREB).table
        assert table["latitude"].notna().sum() == 126
        assert (distance_nm(ZAGREB, table.dropna(subset=["latitude"])) < 250.0).all()

    def test_strict_reading_accepts_the_service_messages(self):
        decoded = read_asterix(real(CAPTURE_048), strict=True)
        assert len(decoded.table) == 128


class TestSingleBlock:
    def test_raw_cat048_block(self):
        decoded = read_asterix(real("cat048.raw"))
        assert decoded.problems.total == 0
        row = decoded.table.iloc[0]
        assert (row["icao24"], row["callsign"], row["altitude"]) == (
            "3c660c",
            "DLH65A",
            33000.0,
        )
        assert pd.isna(row["timestamp"])  # raw bytes carry no date
        assert row["time_of_day_s"] == 27354.6015625
        dated = read_asterix(real("cat048.raw"), date=dt.date(2016, 5, 5))
        assert dated.table["timestamp"][0] == utc("2016-05-05 07:35:54.6015625")


class TestSystemTracks:
    def test_pcap_tracks(self):
        decoded = read_asterix(real("cat_062_065.pcap"))
        assert decoded.problems.counts == {CAT065: 1}
        table = decoded.table.set_index("callsign")
        assert list(table.index) == ["RYR174C", "ISS2007"]
        ryanair = table.loc["RYR174C"]
        assert (ryanair["icao24"], ryanair["squawk"]) == ("4ca7a8", "1275")
        assert ryanair["altitude"] == 39000.0  # FL390
        # WGS84 from I062/105: over the south Adriatic coast, inside the wide area the
        # Zagreb tracker (SAC 25 / SIC 100) reports.
        assert ryanair["latitude"] == pytest.approx(41.1671, abs=1e-4)
        assert ryanair["longitude"] == pytest.approx(15.7089, abs=1e-4)
        assert ryanair["groundspeed"] == pytest.approx(454.0, abs=0.1)
        assert ryanair["track"] == pytest.approx(101.7, abs=0.1)
        assert (ryanair["sac"], ryanair["sic"], ryanair["track_number"]) == (
            25,
            100,
            4713,
        )
        assert ryanair["timestamp"] == utc("2014-02-25 12:43:47.3984375")
        assert table.loc["ISS2007", "altitude"] == 38000.0
        region = table["latitude"].between(40.0, 47.0) & table["longitude"].between(
            12.0, 20.0
        )
        assert region.all()

    def test_raw_tracks(self):
        decoded = read_asterix(real("cat062cat065.raw"))
        assert decoded.problems.counts == {CAT065: 1}
        table = decoded.table
        assert table["track_number"].tolist() == [4980, 7977]
        croatian = table.iloc[1]
        assert (croatian["icao24"], croatian["callsign"], croatian["altitude"]) == (
            "3c0a55",
            "SXD4723",
            35000.0,
        )
        assert croatian["latitude"] == pytest.approx(45.4008, abs=1e-4)
        assert croatian["longitude"] == pytest.approx(15.1332, abs=1e-4)
        unnamed = table.iloc[0]  # a track without aircraft-derived data
        assert (unnamed["icao24"], unnamed["squawk"]) == ("~25/100/4980", "4276")
        assert unnamed["vertical_rate"] == -443.75


class TestRobustness:
    def test_unusual_cat062_gives_problems_not_exceptions(self):
        decoded = read_asterix(real("asterix.pcap"))
        # The records that libasterix can delimit carry times of day beyond 24 h and
        # positions beyond 90 deg: they are misaligned, and none is used.
        assert decoded.table.empty
        counts = decoded.problems.counts
        assert counts["CAT062 record: time of day is 24 h or more"] == 48
        undecodable = sum(
            n for reason, n in counts.items() if "cannot be decoded" in reason
        )
        assert undecodable == 72
        assert decoded.problems.first_where[
            "CAT062 record cannot be decoded (insufficient data, element); "
            "the rest of its data block is skipped"
        ] == ("packet 1, byte 3")
        with pytest.raises(ParseError) as info:
            read_asterix(real("asterix.pcap"), strict=True)
        assert info.value.where == "packet 1, byte 3"
        assert "asterix.pcap: packet 1, byte 3: CAT062 record" in str(info.value)

    def test_wrapped_legacy_radar_data(self):
        # CAT001/002 behind a 6-byte per-block header: the first "block" does not fit.
        decoded = read_asterix(real("cat_001_002.pcap"))
        assert decoded.table.empty
        assert decoded.problems.counts == {
            "data block runs past the end of the data": 1
        }
        assert decoded.problems.first_where == {
            "data block runs past the end of the data": "packet 1, byte 0"
        }
        with pytest.raises(ParseError, match="packet 1, byte 0"):
            read_asterix(real("cat_001_002.pcap"), strict=True)
