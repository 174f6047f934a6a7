"""Line crossings, zone entries and exits, and emergency squawks in ``skypact analyze``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from skypact.cli import main
from tests.factories import offset

EXAMPLE = Path(__file__).resolve().parents[3] / "examples/agreements/syria-2015.toml"
START = pd.Timestamp("2017-06-18T16:00:00Z")


def track(icao24, party, lat, lon, bearing, *, minutes=10, gs_kt=420.0, alt_ft=20000.0,
          squawks=None):  # fmt: skip
    rows = []
    for k in range(minutes * 6 + 1):
        t = START + pd.Timedelta(seconds=10 * k)
        la, lo = offset(lat, lon, gs_kt / 360.0 * k, bearing)
        rows.append(
            {
                "timestamp": t, "icao24": icao24, "party": party, "latitude": la,
                "longitude": lo, "altitude": alt_ft, "groundspeed": gs_kt,
                "track": bearing, "vertical_rate": 0.0,
                "squawk": (squawks or {}).get(k, "2000"),
            }
        )  # fmt: skip
    return rows


def test_events_of_the_syria_agreement(tmp_path, capsys):
    rows = []
    # A coalition aircraft flying west across the Euphrates near Raqqa.
    rows += track("ae0001", "usa", 35.80, 39.80, 270.0)
    # A Russian aircraft flying south into the At-Tanf zone and out of it again.
    rows += track("150001", "rus", 34.20, 38.62, 180.0, minutes=25)
    # A Syrian aircraft that starts squawking 7700 (and keeps it: one event).
    rows += track("150002", "syr", 35.00, 36.50, 90.0, squawks={30: "7700", 31: "7700"})
    path = tmp_path / "theatre.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    out = tmp_path / "out"
    argv = ["analyze", str(path), "--agreement", str(EXAMPLE), "--output", str(out)]
    assert main(argv) == 0
    events = pd.read_csv(out / "events.csv", dtype={"aircraft": str, "ref": str})
    kinds = list(zip(events["aircraft"], events["kind"], events["ref"], strict=True))
    assert kinds.count(("ae0001", "line-crossing", "euphrates-2017")) == 1
    crossing = events[events["kind"] == "line-crossing"].iloc[0]
    assert crossing["detail"] == "to the right (into the russian-side side)"
    assert 39.3 < crossing["longitude"] < 39.5  # the river at 35.8 N is at 39.43 E
    assert ("150001", "zone-entry", "at-tanf") in kinds
    assert ("150001", "zone-exit", "at-tanf") in kinds
    entry = events[events["kind"] == "zone-entry"].iloc[0]
    exit_ = events[events["kind"] == "zone-exit"].iloc[0]
    assert entry["timestamp"] < exit_["timestamp"]
    emergencies = events[events["kind"] == "emergency"]
    assert emergencies[["aircraft", "ref", "detail"]].values.tolist() == [
        ["150002", "7700", "emergency"]
    ]
    assert "4 event(s)" in capsys.readouterr().err
    alerts = pd.read_csv(out / "alerts.csv", dtype={"aircraft_a": str})
    emergency = alerts[alerts["kind"] == "emergency-7700"]
    assert emergency[
        ["aircraft_a", "parties", "highest_level", "end"]
    ].values.tolist() == [["150002", "syr", 3, "cleared"]]
    assert emergency.iloc[0]["first_timestamp"] == str(
        START + pd.Timedelta(seconds=300)
    )
    assert emergency.iloc[0]["last_timestamp"] == str(START + pd.Timedelta(seconds=320))


def test_no_agreement_still_reports_emergencies(tmp_path):
    rows = track("150002", "syr", 35.0, 36.5, 90.0, squawks={3: 7600})
    path = tmp_path / "t.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    assert main(["analyze", str(path), "--output", str(tmp_path / "o")]) == 0
    events = pd.read_csv(tmp_path / "o" / "events.csv", dtype={"ref": str})
    assert events[["kind", "ref", "detail"]].values.tolist() == [
        ["emergency", "7600", "radio failure"]
    ]
    alerts = pd.read_csv(tmp_path / "o" / "alerts.csv")
    assert alerts[["alert_id", "kind", "end"]].values.tolist() == [
        ["E00001", "emergency-7600", "cleared"]
    ]


def test_an_emergency_squawked_to_the_end_stays_open(tmp_path):
    rows = track("150002", "syr", 35.0, 36.5, 90.0, minutes=1,
                 squawks={k: "7500" for k in range(2, 7)})  # fmt: skip
    rows += track("150003", "syr", 35.5, 36.5, 90.0, minutes=1)
    path = tmp_path / "t.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    assert main(["analyze", str(path), "--output", str(tmp_path / "o")]) == 0
    alerts = pd.read_csv(tmp_path / "o" / "alerts.csv", dtype={"aircraft_a": str})
    assert alerts[["kind", "aircraft_a", "end"]].values.tolist() == [
        ["emergency-7500", "150002", "open at end"]
    ]
