"""Real tracks written as CoT XML and TAK protobuf, and read back field by field.

No real CoT recording exists in the project, so the files are made from real ADS-B
tracks: the Air France 787 / TBM photo formation, a Paris TMA sample (with ground
rows and missing values) and CAL FIRE tankers (the only sample with geoaltitude).
Each aircraft is given an affiliation, a party and, for half the rows, position errors,
so that every field CoT carries is exercised.

Resolution of the formats (what each assertion allows):

- XML: latitude/longitude 1e-7 deg (error <= 5e-8 deg, about 6 mm); hae 0.01 m
  (geoaltitude <= 0.005 m = 0.0164 ft); speed 0.001 m/s (groundspeed <= 0.00098 kt);
  course 0.001 deg; ce/le 0.1 m; altitude_ft 0.01 ft; vertical_rate_fpm 0.1 ft/min;
- TAK protobuf: the numbers are doubles, exact but for the m <-> ft and m/s <-> kt
  conversions (relative 1e-12); altitude and vertical rate travel in the XML detail,
  as in XML;
- both: time to the millisecond (error <= 0.5 ms), text exact.

Data: The OpenSky Network, https://opensky-network.org (via traffic).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skypact.tracks.ingest.cot import AFFILIATIONS, encode_cot, read_cot
from skypact.units import FT_M, KT_MPS

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"
TRAFFIC = REAL / "traffic"
QUICKSTART_AIRCRAFT = [
    "4241bb", "39d300", "3e3ab8", "460861", "39b002", "4d02be", "3aabfc", "400804",
]  # fmt: skip
PARTIES = ["FRA", "DEU", "GBR", "USA"]
STALE_S = 45.0


def load(name: str) -> pd.DataFrame:
    path = TRAFFIC / name
    if not path.exists():
        pytest.fail(f"real recording missing: {path}")
    return pd.read_json(path, dtype={"icao24": str})


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    dreamliner = load("dreamliner_airfrance.json.gz").iloc[::8]
    quickstart = load("quickstart.json.gz")
    quickstart = quickstart[quickstart["icao24"].isin(QUICKSTART_AIRCRAFT)].iloc[::10]
    calfire = load("calfire.json.gz")
    tankers = calfire["icao24"].value_counts().index[1:4]
    calfire = calfire[calfire["icao24"].isin(tankers)].iloc[::2]
    table = pd.concat([dreamliner, quickstart, calfire], ignore_index=True)
    table = table.drop(columns=["flight_id"])
    rng = np.random.default_rng(7)
    jitter_us = rng.integers(0, 1_000_000, len(table))
    table["timestamp"] = table["timestamp"].dt.tz_localize("UTC") + pd.to_timedelta(
        jitter_us, unit="us"
    )
    aircraft = {icao: k for k, icao in enumerate(sorted(set(table["icao24"])))}
    index = table["icao24"].map(aircraft)
    words = sorted(AFFILIATIONS.values())
    table["affiliation"] = [words[k % len(words)] for k in index]
    table["party"] = [PARTIES[k % len(PARTIES)] for k in index]
    table["cot_type"] = [None if k % 3 else "a-u-A-M-F-Q" for k in index]
    half = np.arange(len(table)) % 2 == 0
    table["ce_m"] = np.where(half, 10.5, np.nan)
    table["le_m"] = np.where(half, 25.0, np.nan)
    return table


def test_sample_covers_what_it_should(sample):
    assert 4000 < len(sample) < 6000
    assert sample["icao24"].nunique() == 13
    assert set(sample["affiliation"]) == set(AFFILIATIONS.values())
    for column in ("altitude", "groundspeed", "track", "vertical_rate", "squawk"):
        assert sample[column].isna().any(), column
    assert sample["geoaltitude"].notna().sum() > 300
    assert sample["onground"].fillna(False).astype(bool).any()


@pytest.fixture(scope="module", params=["cot-xml", "tak-protobuf"])
def round_trip(request, sample, tmp_path_factory):
    fmt = request.param
    path = tmp_path_factory.mktemp("cot") / f"sample.{fmt}"
    path.write_bytes(encode_cot(sample, format=fmt, stale_s=STALE_S))
    return fmt, read_cot(path)


def close(back: pd.Series, original: pd.Series, atol: float) -> None:
    assert (back.isna() == original.isna()).all()
    both = back.notna()
    error = np.abs(back[both].to_numpy(float) - original[both].to_numpy(float))
    assert error.max(initial=0.0) <= atol, error.max()


def test_every_row_comes_back_in_order(round_trip, sample):
    fmt, decoded = round_trip
    assert decoded.format == fmt
    assert decoded.problems.total == 0
    table = decoded.table
    assert len(table) == len(sample)
    assert set(table["source"]) == {"cot" if fmt == "cot-xml" else "tak"}
    assert (table["icao24"] == sample["icao24"]).all()
    assert (table["party"] == sample["party"]).all()
    assert (table["affiliation"] == sample["affiliation"]).all()
    uid = sample["party"] + ".ICAO-" + sample["icao24"].str.upper()
    assert (table["uid"] == uid).all()
    assert (table["callsign"] == sample["callsign"].str.strip()).all()
    codes = {word: code for code, word in AFFILIATIONS.items()}
    expected_type = [
        f"a-{codes[word]}-A" + ("-M-F-Q" if isinstance(kind, str) else "")
        for word, kind in zip(sample["affiliation"], sample["cot_type"], strict=True)
    ]
    assert list(table["cot_type"]) == expected_type
    assert set(table["how"]) == {"m-g"}


def test_times_to_the_millisecond(round_trip, sample):
    _, decoded = round_trip
    table = decoded.table
    error = (table["timestamp"] - sample["timestamp"]).abs()
    assert error.max() <= pd.Timedelta(microseconds=500)
    assert error.max() > pd.Timedelta(0)  # the jitter is sub-millisecond: rounded
    assert (table["start_at"] == table["timestamp"]).all()
    assert (
        table["stale_at"] - table["timestamp"] == pd.Timedelta(seconds=STALE_S)
    ).all()


def test_numbers_within_the_resolution(round_trip, sample):
    fmt, decoded = round_trip
    table = decoded.table
    xml = fmt == "cot-xml"
    half_digit_deg = 5e-8 + 1e-14  # half the last written digit, and float rounding
    close(table["latitude"], sample["latitude"], half_digit_deg if xml else 1e-12)
    close(table["longitude"], sample["longitude"], half_digit_deg if xml else 1e-12)
    close(table["altitude"], sample["altitude"], 0.005)
    close(table["geoaltitude"], sample["geoaltitude"], 0.005 / FT_M if xml else 1e-9)
    close(table["groundspeed"], sample["groundspeed"], 0.0005 / KT_MPS if xml else 1e-9)
    close(table["vertical_rate"], sample["vertical_rate"], 0.05)
    close(table["ce_m"], sample["ce_m"], 0.05)
    close(table["le_m"], sample["le_m"], 0.05)
    known = sample["track"].notna()
    assert (table["track"].notna() == known).all()
    turn = (table["track"][known] - sample["track"][known] + 180.0) % 360.0 - 180.0
    assert turn.abs().max() <= (0.0005 if xml else 1e-9)
    assert ((table["track"][known] >= 0.0) & (table["track"][known] < 360.0)).all()


def test_squawk_and_ground_state(round_trip, sample):
    _, decoded = round_trip
    table = decoded.table
    squawk = sample["squawk"].map(lambda v: None if pd.isna(v) else f"{int(v):04d}")
    assert (table["squawk"].isna() == squawk.isna()).all()
    assert (table["squawk"].dropna() == squawk.dropna()).all()
    assert (table["onground"].isna() == sample["onground"].isna()).all()
    assert (
        table["onground"].dropna().astype(bool)
        == sample["onground"].dropna().astype(bool)
    ).all()


def test_hae_from_barometric_altitude_is_not_read_as_geoaltitude(round_trip, sample):
    _, decoded = round_trip
    table = decoded.table
    baro_only = sample["geoaltitude"].isna() & sample["altitude"].notna()
    assert baro_only.sum() > 2000
    assert table["geoaltitude"][baro_only].isna().all()
    assert table["altitude"][baro_only].notna().all()
