"""Raw Mode S / ADS-B frames decoded (rs1090) into a traffic-convention table.

Data: The OpenSky Network, https://opensky-network.org (via traffic), and the sample
files of pyModeS and rs1090 (../shared/data/real).
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skypact.errors import ParseError, UnsupportedFormatError
from skypact.tracks.ingest.modes import (
    decode_frames,
    parse_avr,
    parse_beast,
    read_frames,
)

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"
FLIGHT = REAL / "traffic" / "full_flight_short.jsonl.gz"
CDG = (49.0097, 2.5479)  # the receiver reference: the flight starts at a CDG gate


@pytest.fixture(scope="module")
def flight() -> tuple[pd.DataFrame, pd.DataFrame]:
    if not FLIGHT.exists():
        pytest.fail(f"real recording missing: {FLIGHT}")
    reference = pd.read_json(FLIGHT, lines=True, dtype={"icao24": str, "squawk": str})
    return decode_frames(read_frames(FLIGHT), reference=CDG), reference


def test_every_frame_is_decoded_in_order(flight):
    decoded, _reference = flight
    assert len(decoded) == 57_793
    counts = decoded["df"].value_counts().to_dict()
    assert counts == {"0": 15_691, "17": 15_573, "21": 12_622, "20": 7_770,
                      "4": 4_296, "5": 1_031, "16": 810}  # fmt: skip
    assert decoded["timestamp"].is_monotonic_increasing
    assert set(decoded["icao24"]) == {"393322"}
    assert set(decoded["source"]) == {"modes"}


def test_identification_and_airborne_velocities_match_the_reference(flight):
    decoded, reference = flight
    for column in ("callsign", "vertical_rate"):
        assert decoded[column].notna().sum() == reference[column].notna().sum()
    assert (decoded["callsign"].dropna() == reference["callsign"].dropna()).all()
    assert set(decoded["callsign"].dropna()) == {"AFR34ZG"}
    assert np.allclose(
        decoded["vertical_rate"].dropna(), reference["vertical_rate"].dropna()
    )
    # Track from ADS-B velocities (BDS 0,9) and surface movement (BDS 0,6); the
    # reference also holds Comm-B track reports (BDS 5,0), not decoded here yet.
    airborne = decoded["bds"] == "09"
    assert airborne.sum() == 6_384
    assert np.allclose(decoded["track"][airborne], reference["track"][airborne])
    assert np.allclose(
        decoded["groundspeed"][airborne], reference["groundspeed"][airborne]
    )


def test_positions_within_5_m_of_the_reference(flight):
    decoded, reference = flight
    has = reference["latitude"].notna().to_numpy()
    mine = decoded["latitude"].notna().to_numpy()
    assert not (mine & ~has).any()  # no position the reference decoder did not find
    both = has & mine
    _, _, dist = Geod(ellps="WGS84").inv(
        reference["longitude"][both], reference["latitude"][both],
        decoded["longitude"][both], decoded["latitude"][both],
    )  # fmt: skip
    assert (dist <= 5.0).all()
    # Issue 4's figure: >= 99.9 % of the reference positions within 5 m. rs1090's
    # batch alone gives 8,225 of 8,324; the local decode against the last position
    # recovers the 99 airborne positions it leaves out.
    assert both.sum() / has.sum() >= 0.999
    assert both.sum() == has.sum() == 8_324
    surface = decoded["onground"].fillna(False).astype(bool)
    assert surface.sum() > 1000  # taxiing at CDG, decoded against the reference


@pytest.mark.parametrize(
    ("name", "frames", "aircraft"),
    [("pymodes/sample_data_adsb.csv", 2000, 1), ("rs1090/short_flights.csv", 486, 9)],
)
def test_headerless_csv_samples(name, frames, aircraft):
    batch = read_frames(REAL / name)
    assert (len(batch.frames), batch.problems.counts) == (frames, {})
    decoded = decode_frames(batch)
    assert decoded["icao24"].nunique() == aircraft
    assert decoded["latitude"].notna().any()


def test_bad_lines_are_counted_or_refused(tmp_path):
    lines = [
        json.dumps(
            {"timestamp": 1720248189.5, "frame": "8f393322384a02aea63afc43dcba"}
        ),
        "not json",
        json.dumps({"timestamp": "soon", "frame": "8f393322384a02aea63afc43dcba"}),
        json.dumps({"timestamp": 1720248190.0, "frame": "zz"}),
        json.dumps([1, 2]),
    ]
    path = tmp_path / "frames.jsonl.gz"
    with gzip.open(path, "wt") as out:
        out.write("\n".join(lines) + "\n")
    batch = read_frames(path)
    assert len(batch.frames) == 1
    assert batch.problems.counts == {
        "not a JSON object": 2,
        "timestamp is not a number": 1,
        "frame is not 14 or 28 hex digits": 1,
    }
    assert batch.problems.first_where["not a JSON object"] == "line 2"
    with pytest.raises(ParseError, match="line 2: not a JSON object"):
        read_frames(path, strict=True)


def test_other_content_is_not_taken_for_frames(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("timestamp,icao24,latitude\n1,abc,2\n")
    with pytest.raises(UnsupportedFormatError, match="rawmsg"):
        read_frames(path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(UnsupportedFormatError):
        read_frames(empty)


def test_altitudes_and_squawks_match_the_reference_but_for_its_garbled_replies(flight):
    """Identical everywhere but in 4 altitude and 1 squawk replies, all garbled.

    There, the reference's altitude is an all-zero "no altitude" code read as 0 ft, a
    value no reply can code (1,138 ft and 2,477 ft are not in 25 ft steps) or one
    impossible for the flight (5,590 ft in cruise), and its squawk is 1246 amid 1000s;
    rs1090 0.7.0 gives no altitude or another impossible one, and squawk 4546.
    """
    decoded, reference = flight
    for column, count in (("altitude", 4), ("squawk", 1)):
        ours, theirs = decoded[column], reference[column]
        differ = theirs.notna() & ~(ours == theirs).fillna(False).astype(bool)
        assert differ.sum() == count
        for k in np.flatnonzero(differ.to_numpy()):
            before = theirs.iloc[:k].dropna().iloc[-5:]
            after = theirs.iloc[k + 1 :].dropna().iloc[:5]
            around = pd.concat([before, after])
            if column == "squawk":
                assert set(around) == {"1000"}
                assert {theirs.iloc[k], ours.iloc[k]}.isdisjoint({"1000"})
                continue
            usual, value = around.median(), theirs.iloc[k]
            assert value == 0 or value % 25 != 0 or abs(value - usual) > 1_000
            # validation (tracks.validation) flags the vertical rate ours implies
            assert pd.isna(ours.iloc[k]) or abs(ours.iloc[k] - usual) > 1_000


def test_beast_capture_yields_its_four_aircraft():
    batch = read_frames(REAL / "traffic" / "sample_dump1090.bin", start_s=0.0)
    assert (len(batch.frames), batch.problems.counts) == (239, {})
    # 12 MHz MLAT clock: the capture spans 24 s
    assert batch.timestamps[0] == 0.0
    assert batch.timestamps[-1] == pytest.approx(23.917, abs=1e-3)
    decoded = decode_frames(batch)
    assert sum(len(f) == 14 for f in batch.frames) == 185
    counts = decoded["df"].value_counts().to_dict()
    assert {k: counts[k] for k in ("11", "0", "4", "17", "20", "21", "5")} == {
        "11": 90, "0": 44, "4": 39, "17": 23, "20": 16, "21": 14, "5": 12,
    }  # fmt: skip
    assert set(decoded["icao24"]) == {"48520a", "3981e4", "44ce69", "440062"}
    assert set(decoded["callsign"].dropna()) == {"TRA89M", "TJT62CB"}
    positions = decoded.dropna(subset=["latitude"])
    assert set(positions["icao24"]) == {"48520a"}
    # Transavia over Toulouse at FL380
    assert positions["latitude"].between(43.6, 43.7).all()
    assert positions["longitude"].between(1.2, 1.3).all()
    assert (positions["altitude"] == 38_000).all()


def test_beast_without_a_start_ends_at_the_file_time(tmp_path):
    data = (REAL / "traffic" / "sample_dump1090.bin").read_bytes()
    path = tmp_path / "capture.bin"
    path.write_bytes(data)
    os.utime(path, (1_700_000_000.0, 1_700_000_000.0))
    batch = read_frames(path)
    assert batch.timestamps[-1] == pytest.approx(1_700_000_000.0)
    assert batch.timestamps[0] == pytest.approx(1_700_000_000.0 - 23.917, abs=1e-3)


def test_beast_damage_is_counted_or_refused():
    data = (REAL / "traffic" / "sample_dump1090.bin").read_bytes()
    status = b"\x1a\x34" + bytes(6) + b"\x00" + bytes(14)
    mode_ac = b"\x1a\x31" + bytes(6) + b"\x00" + b"\x12\x34"
    damaged = b"junk" + data + status + mode_ac + data[:-5]
    batch = parse_beast(damaged, start_s=0.0)
    assert batch.problems.counts == {
        "bytes outside a Beast block": 1,
        "receiver status message (not a frame)": 1,
        "Mode A/C reply (not a Mode S frame)": 1,
        "Beast block cut short": 1,
    }
    assert batch.problems.first_where["bytes outside a Beast block"] == "byte 0"
    assert len(batch.frames) == 239 + 238
    with pytest.raises(ParseError, match="byte 0: bytes outside a Beast block"):
        parse_beast(damaged, strict=True)


def test_escaped_bytes_inside_a_beast_frame_are_restored():
    frame = bytes.fromhex("8d1a1a1a0000000000000000001a")  # 0x1a inside the frame
    block = b"\x1a\x33" + bytes([0, 0, 0, 0, 0, 0x1A]) + b"\x00" + frame
    escaped = block[:2] + block[2:].replace(b"\x1a", b"\x1a\x1a")
    batch = parse_beast(escaped + escaped, start_s=10.0)
    assert batch.frames == [frame.hex(), frame.hex()]
    assert batch.timestamps == [10.0, 10.0]


def test_avr_text_with_and_without_mlat_counters(tmp_path):
    frames = read_frames(REAL / "traffic" / "sample_dump1090.bin", start_s=0.0)
    counters = [round(t * 12e6) for t in frames.timestamps]
    text = "\n".join(
        f"@{c:012X}{f.upper()};" for c, f in zip(counters, frames.frames, strict=True)
    )
    avr = parse_avr(text + "\nnot avr\n*8d48;\n", start_s=100.0)
    assert avr.frames == frames.frames
    assert avr.timestamps[-1] == pytest.approx(100.0 + 23.917, abs=1e-3)
    assert avr.problems.counts == {
        "not an AVR line": 1,
        "frame is not 14 or 28 hex digits": 1,
    }
    assert avr.problems.first_where["not an AVR line"] == "line 240"
    plain = tmp_path / "feed.avr"
    plain.write_text("".join(f"*{f};\n" for f in frames.frames))
    untimed = read_frames(plain, start_s=5.0)
    assert untimed.frames == frames.frames
    assert set(untimed.timestamps) == {5.0}
    assert decode_frames(untimed)["icao24"].nunique() == 4
