"""Real tracks written as an SBS-1 / BaseStation feed and read back.

Every position, altitude, speed, track, vertical rate, callsign and squawk must come
back within the precision the feed carries (latitude and longitude 5 decimals, altitude
and vertical rate whole ft and ft/min, ground speed and track one decimal), line for
line.

Data: The OpenSky Network, https://opensky-network.org (the traffic library's
samples, ../shared/data/real/traffic).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from skypact.tracks.ingest.sbs import read_sbs, write_sbs

REAL = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "real"
SAMPLES = {
    # name: (rows, aircraft)
    "quickstart": (284_505, 213),
    "dreamliner_airfrance": (17_910, 2),
}
LATLON_TOL_DEG = 0.5e-5 + 1e-9  # half the last written decimal, plus float noise
SPEED_TOL_KT = 0.05 + 1e-9
TRACK_TOL_DEG = 0.05 + 1e-9
WHOLE_TOL = 0.5 + 1e-9  # altitude (ft) and vertical rate (ft/min)
MIN_ROWS_PER_S = 150_000  # well under the measured rate: catches per-row Python only


class RoundTrip:
    def __init__(self, name, tmp_path):
        path = REAL / "traffic" / f"{name}.json.gz"
        if not path.exists():
            pytest.fail(f"real recording missing: {path}")
        source = pd.read_json(path, dtype={"icao24": str})
        self.name = name
        self.source = source
        # The feed is in time order (stable); compare against the table in that order.
        self.ordered = source.sort_values("timestamp", kind="stable").reset_index(
            drop=True
        )
        feed = tmp_path / f"{name}.sbs"
        self.lines = write_sbs(source, feed)
        started = time.perf_counter()
        self.decoded = read_sbs(feed)
        self.read_s = time.perf_counter() - started
        self.back = self.decoded.table
        kind = self.back["transmission_type"].to_numpy()
        self.positions = self.back[np.isin(kind, (2, 3))].reset_index(drop=True)
        self.velocities = self.back[kind == 4].reset_index(drop=True)

    def column(self, name):
        if name in self.ordered.columns:
            return self.ordered[name]
        return pd.Series(np.nan, index=self.ordered.index)

    @property
    def surface(self):
        if "onground" not in self.ordered.columns:
            return np.zeros(len(self.ordered), dtype=bool)
        return self.ordered["onground"].astype(bool).to_numpy()

    @property
    def with_velocity(self):
        has = {n: self.column(n).notna().to_numpy()
               for n in ("groundspeed", "track", "vertical_rate")}  # fmt: skip
        moving = has["groundspeed"] | has["track"]
        return has["vertical_rate"] | (moving & ~self.surface)


@pytest.fixture(scope="module", params=sorted(SAMPLES))
def trip(request, tmp_path_factory):
    return RoundTrip(request.param, tmp_path_factory.mktemp(request.param))


def test_every_line_reads_back_and_the_counts_match(trip):
    rows, aircraft = SAMPLES[trip.name]
    assert (len(trip.source), trip.source["icao24"].nunique()) == (rows, aircraft)
    assert trip.decoded.problems.total == 0, trip.decoded.problems
    assert len(trip.back) == trip.lines
    # one position line per row (every row of both samples has a position) ...
    assert len(trip.positions) == len(trip.ordered)
    # ... one velocity line per row that has a velocity no surface line carried ...
    assert len(trip.velocities) == int(trip.with_velocity.sum())
    # ... and identification and squawk lines only where they change.
    kind = trip.back["transmission_type"]
    assert int((kind == 5).sum()) == 0
    assert int((kind == 1).sum()) == changes(trip.ordered, "callsign")
    assert int((kind == 6).sum()) == changes(trip.ordered, "squawk")
    assert trip.back["icao24"].nunique() == aircraft


def changes(ordered, name):
    """Rows whose value differs from the aircraft's previous known one."""
    if name not in ordered.columns:
        return 0
    value = ordered[name]
    previous = value.groupby(ordered["icao24"]).ffill().groupby(ordered["icao24"])
    previous = previous.shift()
    return int((value.notna() & (value != previous)).sum())


def test_positions_and_altitudes_survive(trip):
    ordered, back = trip.ordered, trip.positions
    assert_array_equal(back["icao24"].to_numpy(), ordered["icao24"].str.lower())
    stamps = pd.to_datetime(ordered["timestamp"], utc=True)
    assert (back["timestamp"].to_numpy() == stamps.to_numpy()).all()
    for name in ("latitude", "longitude"):
        error = np.abs(back[name].to_numpy() - ordered[name].to_numpy())
        assert error.max() <= LATLON_TOL_DEG, name
    altitude = ordered["altitude"].to_numpy()
    has = ~np.isnan(altitude)
    assert_array_equal(np.isnan(back["altitude"].to_numpy()), ~has)
    error = np.abs(back["altitude"].to_numpy()[has] - altitude[has])
    assert error.max() <= WHOLE_TOL
    assert_array_equal(back["onground"].to_numpy(dtype=bool), trip.surface)


def test_speeds_tracks_and_vertical_rates_survive(trip):
    carried = [
        (
            trip.velocities,
            trip.with_velocity,
            ("groundspeed", "track", "vertical_rate"),
        ),
        (trip.positions[trip.surface], trip.surface, ("groundspeed", "track")),
    ]
    for back, rows, names in carried:
        source = trip.ordered[rows].reset_index(drop=True)
        back = back.reset_index(drop=True)
        assert len(back) == len(source)
        for name in names:
            written = source[name].to_numpy(dtype=np.float64)
            read = back[name].to_numpy()
            has = ~np.isnan(written)
            assert_array_equal(np.isnan(read), ~has)
            if not has.any():
                continue  # no surface rows in this sample
            error = np.abs(read[has] - written[has])
            if name == "track":
                error = np.minimum(error % 360.0, 360.0 - error % 360.0)
                assert ((read[has] >= 0.0) & (read[has] < 360.0)).all()
            tolerance = {"groundspeed": SPEED_TOL_KT, "track": TRACK_TOL_DEG,
                         "vertical_rate": WHOLE_TOL}[name]  # fmt: skip
            assert error.max() <= tolerance, name


def test_callsigns_and_squawks_survive(trip):
    """At every position line, the latest callsign and squawk sent are the row's."""
    back = trip.back.copy()
    for name in ("callsign", "squawk"):
        back[name] = back[name].groupby(back["icao24"]).ffill()
    positions = back[back["transmission_type"].isin([2, 3])].reset_index(drop=True)
    callsign = trip.ordered["callsign"].str.strip()
    assert_array_equal(positions["callsign"].to_numpy(), callsign.to_numpy())
    if "squawk" in trip.ordered.columns:
        squawk = trip.ordered["squawk"]
        has = squawk.notna().to_numpy()
        assert has.sum() > 0
        expected = [f"{int(value):04d}" for value in squawk[has]]
        assert positions["squawk"].to_numpy()[has].tolist() == expected


def test_reading_is_fast(trip):
    rate = len(trip.back) / trip.read_s
    assert rate >= MIN_ROWS_PER_S, f"{rate:,.0f} rows/s"
