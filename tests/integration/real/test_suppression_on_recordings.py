"""The agreement's exemptions and tolerances on real recordings (issue 3).

Each recording floods operators without them: a planned formation flown inside NMAC
distance (dreamliner_airfrance), adjacent flight levels reported 925-975 ft apart
(switzerland), parallel approaches and ground traffic in a terminal area (quickstart).
Each test shows the agreement's measure removing the flood, and a made-up aircraft on a
real collision course through the same situation still being alerted: nothing real is
hidden. Data: The OpenSky Network, https://opensky-network.org (via traffic).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import shapely

from skypact.cli import main
from tests.agreements import circle, write_agreement
from tests.factories import intruder_rows

REAL = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real" / "traffic"
)
pytestmark = pytest.mark.slow


def analyze(tmp_path: Path, name: str, recording: Path, agreement: Path | None) -> dict:
    out = tmp_path / name
    argv = ["analyze", str(recording), "--skip-invalid", "--output", str(out)]
    if agreement is not None:
        argv += ["--agreement", str(agreement)]
    assert main(argv) == 0
    text = {"aircraft_a": str, "aircraft_b": str}
    return {
        table: pd.read_csv(out / f"{table}.csv", dtype=text)
        for table in ("alerts", "encounters")
    }


def with_intruder(tmp_path: Path, recording: Path, target: str, meet_at: str) -> Path:
    frame = pd.read_json(recording, dtype={"icao24": str})
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    rows = intruder_rows(frame[frame["icao24"] == target], pd.Timestamp(meet_at))
    path = tmp_path / f"{recording.stem}-intruder.parquet"
    pd.concat([frame, rows], ignore_index=True).to_parquet(path)
    return path


def pairs(alerts: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(alerts["aircraft_a"], alerts["aircraft_b"], strict=True))


def test_declared_formation(tmp_path):
    recording = REAL / "dreamliner_airfrance.json.gz"
    agreement = write_agreement(
        tmp_path / "formation.toml",
        '[[exemptions]]\nkind = "formation"\naircraft = ["3900fb", "39c424"]\n'
        'reason = "Air France 787 test flight with its chase aircraft"\n',
    )
    bare = analyze(tmp_path, "bare", recording, None)
    agreed = analyze(tmp_path, "agreed", recording, agreement)
    assert len(bare["alerts"]) >= 10  # the formation flickers in and out of alerts
    assert len(agreed["alerts"]) == 0
    # The formation really was inside NMAC distance: measured, not hidden.
    assert agreed["encounters"]["h_cpa_nm"].min() < 500 / 6076.12
    # A stranger crossing the formation's path at its level is alerted all the same.
    crossed = with_intruder(tmp_path, recording, "39c424", "2017-12-01T15:10:00Z")
    seen = pairs(analyze(tmp_path, "intruder", crossed, agreement)["alerts"])
    assert ("39c424", "fff001") in seen


def test_adjacent_flight_levels(tmp_path):
    recording = REAL / "switzerland.json.gz"
    agreement = write_agreement(
        tmp_path / "tolerance.toml", "[tolerances]\nflight_level_tolerance_ft = 75.0\n"
    )
    bare = analyze(tmp_path, "bare", recording, None)
    agreed = analyze(tmp_path, "agreed", recording, agreement)
    assert len(bare["alerts"]) > 400
    assert len(agreed["alerts"]) < len(bare["alerts"]) / 4
    # Every loss of separation in the data was between adjacent levels: measured
    # within 875-1,005 ft of each other at closest approach, or a one-cycle artefact.
    enc = agreed["encounters"]
    lasting = enc[enc["los_cycles"] >= 3]
    assert lasting["v_cpa_ft"].between(875, 1005).all()
    # A made-up aircraft head-on at the same flight level is still alerted.
    crossed = with_intruder(tmp_path, recording, "4692d0", "2018-08-01T13:34:00Z")
    result = analyze(tmp_path, "intruder", crossed, agreement)
    hit = result["alerts"][
        (result["alerts"]["aircraft_a"] == "4692d0")
        & (result["alerts"]["aircraft_b"] == "fff001")
    ]
    # (An early advisory may come and go while the real aircraft is still leaving
    # FL360; the collision course itself always reaches warning.)
    assert hit["highest_level"].max() == 3


def test_terminal_areas_and_surface_traffic(tmp_path):
    recording = REAL / "quickstart.json.gz"
    zones = {"cdg": (49.0097, 2.5479, 12.0), "orly": (48.7262, 2.3652, 10.0)}
    extra = "".join(
        f'[[inhibition_zones]]\nid = "{name}"\nname = "{name} terminal area"\n'
        f"ceiling_ft = 5000.0\npolygon = {circle(lat, lon, radius)}\n\n"
        for name, (lat, lon, radius) in zones.items()
    )
    agreement = write_agreement(tmp_path / "paris.toml", extra)
    bare = analyze(tmp_path, "bare", recording, None)
    agreed = analyze(tmp_path, "agreed", recording, agreement)
    assert len(agreed["alerts"]) < 0.6 * len(bare["alerts"])
    areas = [
        shapely.Polygon(shapely.Point(lon, lat).buffer(radius / 60.0))
        for lat, lon, radius in zones.values()
    ]
    enc = agreed["encounters"]
    # Losses of separation the reports themselves confirm (measured inside the minima),
    # lasting at least N = 3 cycles: M-of-N cannot miss those.
    lasting = enc[
        (enc["los_cycles"] >= 3) & (enc["h_cpa_nm"] < 3.0) & (enc["v_cpa_ft"] < 1000.0)
    ]
    outside = [
        not any(area.contains(shapely.Point(lon, lat)) for area in areas) or alt > 5000
        for lat, lon, alt in zip(
            lasting["cpa_latitude"],
            lasting["cpa_longitude"],
            lasting["cpa_altitude_ft"],
            strict=True,
        )
    ]
    # Those outside the terminal areas are all still alerted.
    assert lasting[outside]["alerted"].all()
    assert sum(outside) > 0
