"""The track store: one track per (party, aircraft), merging, estimation, timeouts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skypact.tracks.store import TIMEOUTS, TrackStore

T0 = 1_700_000_000.0
WGS84 = Geod(ellps="WGS84")


def rows(icao24: str, source: str, times, **columns) -> pd.DataFrame:
    table = pd.DataFrame({"t": list(times), **columns})
    table["timestamp"] = pd.to_datetime(T0 + table.pop("t"), unit="s", utc=True)
    table["icao24"] = icao24
    table["source"] = source
    return table


def along(lat0, lon0, track_deg, speed_kt, times):
    """Positions of an aircraft flying a geodesic at constant speed."""
    dist = np.asarray(times, dtype=float) * speed_kt * 1852.0 / 3600.0
    lon, lat, _ = WGS84.fwd(
        np.full(len(dist), lon0),
        np.full(len(dist), lat0),
        np.full(len(dist), track_deg),
        dist,
    )
    return lat, lon


def test_radar_and_adsb_of_one_aircraft_merge_into_one_track_with_provenance():
    store = TrackStore()
    t_adsb = np.arange(0, 20, 0.5)
    lat, lon = along(45.0, 16.0, 90.0, 420.0, t_adsb)
    adsb = rows("4ca123", "modes", t_adsb, latitude=lat, longitude=lon,
                altitude=35_000.0, groundspeed=420.0, track=90.0, vertical_rate=0.0,
                callsign="RYR174C", nacp=9.0)  # fmt: skip
    t_radar = np.arange(0, 24, 4.0)
    rlat, rlon = along(45.0, 16.0, 90.0, 420.0, t_radar)
    radar = rows("4ca123", "asterix-cat048", t_radar, latitude=rlat, longitude=rlon,
                 altitude=35_000.0)  # fmt: skip
    store.ingest(adsb, party="blue")
    store.ingest(radar, party="blue")
    tracks = store.tracks(T0 + 20.0)
    assert len(tracks) == 1
    track = tracks.iloc[0]
    assert (track["party"], track["icao24"], track["callsign"]) == (
        "blue",
        "4ca123",
        "RYR174C",
    )
    assert track["sources"] == "asterix-cat048,modes"
    assert track["position_source"] == "asterix-cat048"  # the newest position (t=20)
    assert track["velocity_source"] == "modes"  # measured, and fresh
    assert track["nacp"] == 9.0
    assert track["status"] == "live"


def test_tracks_of_different_parties_never_merge():
    store = TrackStore()
    report = rows("4ca123", "table", [0.0], latitude=1.0, longitude=1.0, altitude=1e4,
                  groundspeed=300.0, track=0.0, vertical_rate=0.0)  # fmt: skip
    store.ingest(report, party="blue")
    store.ingest(report, party="red")
    assert sorted(store.tracks(T0)["party"]) == ["blue", "red"]
    assert len(store.snapshot(T0)) == 2


def test_radar_plots_get_velocities_estimated_from_positions():
    times = np.arange(0, 60, 4.0)
    lat, lon = along(50.0, 4.0, 45.0, 480.0, times)
    plots = rows("4ca999", "asterix-cat048", times, latitude=lat, longitude=lon,
                 altitude=20_000.0 + 50.0 * times)  # 3,000 ft/min climb  # fmt: skip
    store = TrackStore()
    store.ingest(plots, party="blue")
    track = store.tracks(T0 + 56.0).iloc[0]
    assert track["velocity_estimated"]
    assert track["velocity_source"] == "estimated"
    assert track["groundspeed"] == pytest.approx(480.0, rel=1e-3)
    assert track["track"] == pytest.approx(45.0 + 0.0, abs=0.1)
    assert track["vertical_rate"] == pytest.approx(3_000.0, rel=1e-6)
    # a second batch: the estimate spans the batches
    more = rows("4ca999", "asterix-cat048", [60.0],
                latitude=along(50.0, 4.0, 45.0, 480.0, [60.0])[0],
                longitude=along(50.0, 4.0, 45.0, 480.0, [60.0])[1],
                altitude=23_000.0)  # fmt: skip
    store.ingest(more, party="blue")
    assert store.tracks(T0 + 60.0).iloc[0]["groundspeed"] == pytest.approx(
        480.0, rel=1e-3
    )


def test_a_track_coasts_then_drops_after_its_source_timeouts():
    store = TrackStore()
    report = rows("4ca123", "modes", [0.0], latitude=45.0, longitude=16.0,
                  altitude=35_000.0, groundspeed=360.0, track=0.0, vertical_rate=600.0)  # fmt: skip
    store.ingest(report, party="blue")
    timeout = TIMEOUTS["modes"]
    assert store.tracks(T0 + timeout.coast_after_s)["status"].item() == "live"
    assert store.tracks(T0 + timeout.coast_after_s + 1)["status"].item() == "coasting"
    # coasting tracks are predicted along their velocity
    snap = store.snapshot(T0 + 30.0)
    _, _, dist = WGS84.inv(16.0, 45.0, snap.lon_deg[0], snap.lat_deg[0])
    assert dist == pytest.approx(360.0 * 1852.0 / 3600.0 * 30.0, rel=1e-9)
    assert snap.alt_m[0] == pytest.approx((35_000.0 + 300.0) * 0.3048)
    assert store.tracks(T0 + timeout.drop_after_s + 1)["status"].item() == "dropped"
    assert len(store.snapshot(T0 + timeout.drop_after_s + 1)) == 0
    assert store.expire(T0 + timeout.drop_after_s + 1) == [("blue", "4ca123")]
    assert len(store) == 0
    # a dropped stream starts afresh: no jump against its old position
    far = rows("4ca123", "modes", [500.0], latitude=-45.0, longitude=100.0)
    assert store.ingest(far, party="blue").accepted == 1


def test_fields_come_from_the_newest_report_that_carries_them():
    store = TrackStore()
    store.ingest(rows("4ca123", "modes", [0.0, 1.0, 2.0], callsign=["A1", None, None],
                      squawk=[None, 671, None], altitude=[None, None, 10_000.0]),
                 party="blue")  # fmt: skip
    store.ingest(rows("4ca123", "modes", [3.0], callsign="B2"), party="blue")
    track = store.tracks(T0 + 3.0).iloc[0]
    assert (track["callsign"], track["squawk"], track["altitude"]) == (
        "B2",
        "0671",
        10_000.0,
    )
    assert track["status"] == "no position"


def test_rejected_reports_never_reach_a_track_and_are_counted():
    store = TrackStore()
    table = rows("4ca123", "modes", [0.0, 1.0, 2.0], latitude=[45.0, 49.0, 45.001],
                 longitude=[16.0, 16.0, 16.0])  # fmt: skip
    outcome = store.ingest(table, party="blue")
    assert (outcome.rows, outcome.accepted) == (3, 2)
    assert outcome.rejected == {"position jump implies an impossible speed": 1}
    assert store.tracks(T0 + 2.0).iloc[0]["latitude"] == 45.001


def test_a_dropped_track_comes_back_as_a_new_track_without_its_old_positions():
    store = TrackStore()
    first = rows("4ca123", "asterix-cat048", [0.0, 4.0], latitude=[45.0, 45.01],
                 longitude=[16.0, 16.0], altitude=30_000.0)  # fmt: skip
    store.ingest(first, party="blue")
    drop_s = TIMEOUTS["asterix-cat048"].drop_after_s
    assert store.expire(T0 + 4.0 + drop_s + 1) == [("blue", "4ca123")]
    again = rows("4ca123", "asterix-cat048", [500.0], latitude=-45.0, longitude=100.0,
                 altitude=31_000.0)  # fmt: skip
    assert store.ingest(again, party="blue").accepted == 1
    track = store.tracks(T0 + 500.0).iloc[0]
    assert len(store) == 1
    assert (track["latitude"], track["longitude"]) == (-45.0, 100.0)
    # one position only: nothing to estimate a velocity from (not the old track's)
    assert not track["velocity_estimated"]
    assert np.isnan(track["groundspeed"])
    assert np.isnan(track["vertical_rate"])
    assert track["sources"] == "asterix-cat048"
    assert track["status"] == "live"


def test_two_positions_in_one_batch_give_the_estimate_and_an_older_one_is_ignored():
    store = TrackStore()
    lat, lon = along(50.0, 4.0, 90.0, 360.0, [0.0, 4.0, 8.0])  # at t=100, 104, 108
    store.ingest(rows("4ca999", "asterix-cat048", [0.0], latitude=lat[0],
                      longitude=lon[0]), party="blue")  # fmt: skip
    store.ingest(rows("4ca999", "asterix-cat048", [100.0, 104.0], latitude=lat[:2],
                      longitude=lon[:2]), party="blue")  # fmt: skip
    track = store.tracks(T0 + 104.0).iloc[0]
    # the batch's own two positions, not the stored one (t=0: 14 kt over 104 s)
    assert track["groundspeed"] == pytest.approx(360.0, rel=1e-3)
    assert track["track"] == pytest.approx(90.0, abs=0.1)
    # another source's older position leaves the track as it is
    store.ingest(rows("4ca999", "modes", [102.0], latitude=lat[0],
                      longitude=lon[0]), party="blue")  # fmt: skip
    again = store.tracks(T0 + 104.0).iloc[0]
    assert (again["latitude"], again["longitude"]) == (lat[1], lon[1])
    assert again["position_source"] == "asterix-cat048"
    assert again["groundspeed"] == pytest.approx(360.0, rel=1e-3)
    assert again["sources"] == "asterix-cat048,modes"
    # the next single position pairs with the stored latest
    store.ingest(rows("4ca999", "asterix-cat048", [108.0], latitude=lat[2],
                      longitude=lon[2]), party="blue")  # fmt: skip
    assert store.tracks(T0 + 108.0).iloc[0]["groundspeed"] == pytest.approx(
        360.0, rel=1e-3
    )


def test_tracks_and_snapshot_stay_sorted_as_aircraft_arrive_between_others():
    store = TrackStore()

    def report(icao24: str, t: float) -> pd.DataFrame:
        return rows(icao24, "modes", [t], latitude=45.0, longitude=16.0,
                    altitude=30_000.0, groundspeed=400.0, track=90.0,
                    vertical_rate=0.0)  # fmt: skip

    store.ingest(pd.concat([report("c00003", 0.0), report("a00001", 0.0)]),
                 party="red")  # fmt: skip
    store.ingest(report("b00002", 1.0), party="red")
    store.ingest(report("b00002", 1.0), party="blue")
    expected = [("blue", "b00002"), ("red", "a00001"), ("red", "b00002"),
                ("red", "c00003")]  # fmt: skip
    tracks = store.tracks(T0 + 1.0)
    assert list(zip(tracks["party"], tracks["icao24"], strict=True)) == expected
    assert list(tracks.index) == [0, 1, 2, 3]
    snap = store.snapshot(T0 + 1.0)
    assert snap.party is not None
    assert list(zip(snap.party, snap.aircraft_id, strict=True)) == expected


def test_many_aircraft_grow_the_store_and_expire_keeps_the_others_intact():
    store = TrackStore()
    icao24s = [f"{k:06x}" for k in range(300)]
    for start in range(0, 300, 100):  # three batches: the rows grow twice
        batch = pd.concat(
            [rows(icao24, "modes", [float(k)], latitude=45.0 + k / 1000,
                  longitude=16.0, altitude=30_000.0, groundspeed=400.0,
                  track=90.0, vertical_rate=0.0)
             for k, icao24 in enumerate(icao24s[start : start + 100], start)]
        )  # fmt: skip
        store.ingest(batch, party="blue")
    assert len(store) == 300
    # the first 100 reported at t < 100: dropped 60 s after
    now = T0 + 99.0 + TIMEOUTS["modes"].drop_after_s + 0.5
    gone = store.expire(now)
    assert gone == [("blue", icao24) for icao24 in icao24s[:100]]
    assert len(store) == 200
    tracks = store.tracks(now)
    assert list(tracks["icao24"]) == icao24s[100:]
    assert tracks["latitude"].tolist() == [45.0 + k / 1000 for k in range(100, 300)]
    # the rows freed are reused cleanly by a new aircraft
    store.ingest(rows("000000", "modes", [200.0], latitude=1.0, longitude=2.0),
                 party="blue")  # fmt: skip
    track = store.tracks(now).iloc[0]
    assert (track["icao24"], track["latitude"], track["longitude"]) == (
        "000000",
        1.0,
        2.0,
    )
    assert np.isnan(track["altitude"])
    assert track["sources"] == "modes"


def test_tracks_follow_every_change_and_callers_cannot_change_the_store():
    store = TrackStore()
    report = rows("4ca123", "modes", [0.0], latitude=45.0, longitude=16.0,
                  altitude=30_000.0, groundspeed=400.0, track=90.0)  # fmt: skip
    store.ingest(report, party="blue")
    first = store.tracks(T0 + 1.0)
    first.loc[0, "latitude"] = -1.0
    first["status"] = "mine"
    assert store.tracks(T0 + 1.0)["latitude"].item() == 45.0
    assert store.tracks(T0 + 1.0)["status"].item() == "live"
    store.ingest(rows("4ca123", "modes", [1.0], latitude=45.001, longitude=16.0),
                 party="blue")  # fmt: skip
    assert store.tracks(T0 + 1.0)["latitude"].item() == 45.001
    # timeouts changed in place take effect at once
    store.timeouts["modes"] = TIMEOUTS["modes"].__class__(0.5, 60.0)
    assert store.tracks(T0 + 2.0)["status"].item() == "coasting"


def test_sources_and_quality_accumulate_across_batches():
    store = TrackStore()
    mixed = pd.concat([
        rows("4ca123", "sbs", [0.0], latitude=45.0, longitude=16.0, nacp=8.0),
        rows("4ca123", "asterix-cat048", [1.0], latitude=45.0, longitude=16.0),
    ])  # fmt: skip
    store.ingest(mixed, party="blue")
    store.ingest(rows("4ca123", "modes", [2.0], latitude=45.0, longitude=16.0,
                      nacp=[np.nan], nic=7.0), party="blue")  # fmt: skip
    track = store.tracks(T0 + 2.0).iloc[0]
    assert track["sources"] == "asterix-cat048,modes,sbs"
    assert (track["nacp"], track["nic"]) == (8.0, 7.0)
    assert np.isnan(track["nuc_p"])


def test_position_time_of_a_track():
    store = TrackStore()
    assert store.position_time_s("usa", "ae0001") is None
    table = pd.DataFrame(
        {
            "timestamp": [T0 + 1.0, T0 + 3.0],
            "icao24": ["ae0001", "ae0001"],
            "latitude": [34.0, 34.01],
            "longitude": [38.0, 38.0],
            "altitude": [30000.0, 30000.0],
            "source": ["table", "table"],
        }
    )
    store.ingest(table, party="usa")
    assert store.position_time_s("usa", "ae0001") == T0 + 3.0
    assert store.position_time_s("rus", "ae0001") is None  # another party's key
