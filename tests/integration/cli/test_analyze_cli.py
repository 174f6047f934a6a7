"""``skypact analyze``: offline replay on the DAIDALUS scenarios and a real recording."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from skypact.agreement.signing import (
    generate_private_key,
    load_private_key,
    public_key_text,
)
from skypact.cli import main
from skypact.tracks.ingest.table import invalid_rows, read_table

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
DAIDALUS = SHARED / "peers" / "daidalus"
REAL = SHARED / "real" / "traffic"


def analyze(tmp_path, source: Path, *extra: str):
    out = tmp_path / source.name.split(".")[0]
    assert main(["analyze", str(source), "--output", str(out), *extra]) == 0
    read = {
        name: pd.read_csv(
            out / f"{name}.csv", dtype={"aircraft_a": str, "aircraft_b": str}
        )
        for name in ("alert_levels", "alerts", "encounters")
    }
    return read["alert_levels"], read["alerts"], read["encounters"]


@pytest.mark.parametrize(
    ("scenario", "miss_nm"),
    # Horizontal misses documented for the scenarios (../shared/data/peers/daidalus).
    [
        ("H1.csv", 0.141),
        ("C1_0_120.csv", 0.416),
        ("H0_0_120.csv", 0.5),
        ("C0_0_120.csv", 0.0),
    ],
)
def test_daidalus_encounters_measured_from_the_data(
    tmp_path, scenario, miss_nm, capsys
):
    levels, alerts, encounters = analyze(tmp_path, DAIDALUS / scenario)
    assert len(encounters) == 1
    assert encounters.loc[0, "h_cpa_nm"] == pytest.approx(miss_nm, abs=0.005)
    assert encounters.loc[0, "los_cycles"] > 3
    assert len(alerts) == 1
    alert = alerts.iloc[0]
    assert alert["highest_level"] == 3
    # The alert came well before the loss of separation.
    assert alert["warning_time_s"] > 30
    # Levels only escalate until the warning: no flicker on the way in.
    shown = levels["level"].tolist()
    peak = shown.index(3)
    assert shown[:peak] == sorted(shown[:peak])
    assert "1 alert(s)" in capsys.readouterr().err


def test_noisy_copy_gives_the_same_single_alert(tmp_path):
    _, clean, _ = analyze(tmp_path, DAIDALUS / "H1.csv")
    _, noisy, _ = analyze(tmp_path, DAIDALUS / "H1_SUM.csv")
    assert len(noisy) == len(clean) == 1
    assert noisy.loc[0, "highest_level"] == 3


@pytest.mark.slow
def test_every_loss_of_separation_in_a_real_recording_was_alerted(tmp_path):
    levels, alerts, encounters = analyze(tmp_path, REAL / "switzerland.json.gz")
    assert len(encounters) > 0
    alerted = set(zip(alerts.aircraft_a, alerts.aircraft_b, strict=True))
    # A loss seen in at least N = 3 cycles can never escape M-of-N confirmation.
    lasting = encounters[encounters["los_cycles"] >= 3]
    assert len(lasting) > 0
    for row in lasting.itertuples():
        assert (row.aircraft_a, row.aircraft_b) in alerted
    # The brief ones exist too: M-of-N suppressed single-cycle blips (e.g. FL370 vs
    # FL380 reported 975 ft apart right after a coverage gap).
    assert (encounters["los_cycles"] < 3).any()
    assert levels["level"].between(1, 3).all()


def test_agreement_groups_decide_which_pairs_are_monitored(tmp_path):
    keys = [public_key_text(load_private_key(generate_private_key())) for _ in range(2)]
    text = f"""[agreement]
id = "drill"
version = 1
title = "Drill"
[[blocs]]
id = "one-side"
name = "One side"
[[parties]]
id = "blue"
name = "Blue"
operations_centre = "Blue AOC"
signing_key = "{keys[0]}"
bloc = "one-side"
[[parties]]
id = "red"
name = "Red"
operations_centre = "Red AOC"
signing_key = "{keys[1]}"
bloc = "one-side"
[ground_line]
endpoints = ["Blue AOC", "Red AOC"]
"""
    path = tmp_path / "drill.toml"
    path.write_text(text)
    _, alerts, _ = analyze(tmp_path, DAIDALUS / "H1.csv", "--agreement", str(path))
    assert len(alerts) == 0  # same bloc, within-bloc pairs not monitored
    path.write_text(
        text.replace(
            'bloc = "one-side"\n[[parties]]\nid = "red"', '[[parties]]\nid = "red"'
        )
    )
    _, alerts, _ = analyze(tmp_path, DAIDALUS / "H1.csv", "--agreement", str(path))
    assert len(alerts) == 1
    assert alerts.loc[0, "parties"] == "blue+red"


def test_skip_invalid_counts_what_it_drops(tmp_path, capsys):
    frame = pd.read_csv(DAIDALUS / "C1_0_120.csv", dtype={"icao24": str})
    frame.loc[5, "altitude"] = None
    frame.loc[9, "groundspeed"] = 9999.0
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    assert main(["analyze", str(path), "--output", str(tmp_path / "o")]) == 1
    assert "column 'altitude'" in capsys.readouterr().err
    assert (
        main(["analyze", str(path), "--output", str(tmp_path / "o"), "--skip-invalid"])
        == 0
    )
    err = capsys.readouterr().err
    assert "skipped 2 of" in err
    assert "altitude: missing or not a number: 1" in err
    assert "groundspeed: ground speed must be within [0, 2,000] kt: 1" in err


def test_invalid_rows_by_reason():
    frame = pd.DataFrame(
        {
            "icao24": ["a", "", "c", "d"],
            "latitude": [1.0, 1.0, 91.0, None],
            "longitude": [1.0] * 4,
            "altitude": [1.0] * 4,
            "groundspeed": [1.0] * 4,
            "track": [1.0] * 4,
            "vertical_rate": [1.0] * 4,
        }
    )
    found = {k: m.nonzero()[0].tolist() for k, m in invalid_rows(frame).items()}
    assert found == {
        "icao24: missing or empty": [1],
        "latitude: missing or not a number": [3],
        "latitude: latitude must be within [-90, 90] degrees": [2],
    }


@pytest.mark.parametrize("lines", [False, True])
@pytest.mark.parametrize("compress", [False, True])
def test_read_table_json_forms(tmp_path, lines, compress):
    frame = pd.read_csv(DAIDALUS / "H1.csv", dtype={"icao24": str}).head(6)
    text = frame.to_json(orient="records", lines=lines)
    path = tmp_path / "x.data"
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    read = read_table(path)
    assert read["icao24"].tolist() == frame["icao24"].tolist()
    assert read["altitude"].tolist() == frame["altitude"].tolist()
