"""``skypact convert``: every real sample to a traffic table, with an ingest report.

Data: The OpenSky Network, https://opensky-network.org (via traffic); pyModeS, rs1090
and asterix-decoder sample files (../shared/data/real).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from skypact.cli import main
from skypact.tracks.ingest.reader import detect_format

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"


@pytest.mark.parametrize(
    ("name", "fmt", "rows", "aircraft", "extra"),
    [
        ("traffic/sample_dump1090.bin", "beast", 239, 4, ["--start", "2024-01-01T00:00"]),
        ("traffic/full_flight_short.jsonl.gz", "modes-json", 57_793, 1,
         ["--reference", "49.0097,2.5479"]),
        ("pymodes/sample_data_adsb.csv", "modes-csv", 2_000, 1, []),
        ("pymodes/sample_data_commb_df20.csv", "modes-csv", 5_000, None, []),
        ("rs1090/short_flights.csv", "modes-csv", 486, 9, []),
        # 63 Mode S aircraft and one Mode A/C target named by its radar track
        ("asterix/cat_034_048.pcap", "asterix", 128, 64, ["--radar-site", "45.9,16,1000"]),
        ("asterix/cat_062_065.pcap", "asterix", 2, 2, []),
        ("traffic/noisy_spoofing.json.gz", "json", 8_681, 1, []),
        ("traffic/calfire.json.gz", "json", 9_955, 45, []),
    ],
)  # fmt: skip
def test_real_samples_convert(tmp_path, capsys, name, fmt, rows, aircraft, extra):
    source = REAL / name
    out = tmp_path / "out.parquet"
    assert detect_format(source) == fmt
    assert (
        main(["convert", str(source), "--output", str(out), "--party", "blue", *extra])
        == 0
    )
    table = pd.read_parquet(out)
    assert len(table) == rows
    assert {"timestamp", "icao24", "latitude", "source", "party", "problem"} <= set(
        table
    )
    assert (table["party"] == "blue").all()
    if aircraft is not None:
        assert table["icao24"].dropna().nunique() == aircraft
    report = capsys.readouterr().out
    assert f"reports: {rows} decoded" in report


def test_the_report_names_rejections_and_strict_fails_on_the_first(tmp_path, capsys):
    source = REAL / "traffic" / "noisy_spoofing.json.gz"
    out = tmp_path / "spoof.csv"
    assert main(["convert", str(source), "--output", str(out)]) == 0
    report = capsys.readouterr().out
    assert "rejected: 1123 position jump implies an impossible speed" in report
    table = pd.read_csv(out, dtype={"icao24": str})
    assert (
        table["problem"] == "position jump implies an impossible speed"
    ).sum() == 1123
    assert table["problem"].isna().sum() == 7557  # accepted rows: nothing dropped
    assert main(["convert", str(source), "--output", str(out), "--strict"]) == 1
    err = capsys.readouterr().err
    assert "report 190: position jump implies an impossible speed" in err
    assert "Traceback" not in err


def test_undecodable_records_are_reported_with_their_place(tmp_path, capsys):
    source = REAL / "asterix" / "cat_034_048.pcap"
    assert main(["convert", str(source), "--output", str(tmp_path / "o.csv")]) == 0
    report = capsys.readouterr().out
    assert "not decoded: 34 category 34" in report
    assert "first at packet 3" in report


def test_bad_arguments_and_inputs_are_clear_errors(tmp_path, capsys):
    good = REAL / "traffic" / "sample_dump1090.bin"
    assert main(["convert", str(good), "--output", str(tmp_path / "o.txt")]) == 1
    assert "must end in .csv or .parquet" in capsys.readouterr().err
    assert main(["convert", str(good), "--output", "o.csv", "--reference", "1"]) == 2
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 4)
    assert main(["convert", str(junk), "--output", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert "no supported format" in err
    assert "Traceback" not in err


def test_an_sbs_receiver_clock_offset_is_taken_off(tmp_path):
    # A BaseStation clock on CEST (UTC+2) logs 14:00 local for 12:00 UTC.
    from skypact.tracks.ingest.sbs import write_sbs

    recording = tmp_path / "cest.sbs"
    local = pd.DataFrame(
        {
            "timestamp": [pd.Timestamp("2021-10-07 14:00:00")],
            "icao24": ["4ca1fa"],
            "latitude": [43.6],
            "longitude": [1.4],
            "altitude": [30_000.0],
        }
    )
    write_sbs(local, recording)
    as_utc, shifted = tmp_path / "utc.parquet", tmp_path / "cest.parquet"
    assert main(["convert", str(recording), "--output", str(as_utc)]) == 0
    args = ["convert", str(recording), "--output", str(shifted), "--utc-offset", "2"]
    assert main(args) == 0
    assert set(pd.read_parquet(as_utc)["timestamp"]) == {
        pd.Timestamp("2021-10-07 14:00", tz="UTC")
    }
    assert set(pd.read_parquet(shifted)["timestamp"]) == {
        pd.Timestamp("2021-10-07 12:00", tz="UTC")
    }
