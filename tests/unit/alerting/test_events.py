"""Line crossings (with direction), zone membership (band and time window) and the
live watch of entries into owned zones."""

from __future__ import annotations

import dataclasses

import numpy as np
import shapely

from skypact.alerting.events import (
    LineSpec,
    ZoneSpec,
    ZoneWatch,
    crossings,
    inside_zone,
)
from skypact.tracks.model import StateArrays

# A line drawn from south to north along lon 0: east is on the right.
LINE = LineSpec(
    id="l", name="L", line=shapely.LineString([(0.0, -1.0), (0.0, 1.0)]),
    left_side="west-side", right_side="east-side",
)  # fmt: skip


def test_crossing_direction_and_no_crossing():
    lat0 = np.array([0.0, 0.0, 0.0, 0.5])
    lon0 = np.array([-0.1, 0.1, 0.2, -0.1])
    lat1 = np.array([0.0, 0.0, 0.0, 0.5])
    lon1 = np.array([0.1, -0.1, 0.3, -0.1])
    hit, side = crossings(LINE, lat0, lon0, lat1, lon1)
    assert hit.tolist() == [True, True, False, False]
    assert side.tolist() == ["right", "left", "", ""]


def test_zone_band_and_window():
    zone = ZoneSpec(
        id="z", name="Z", polygon=shapely.Polygon([(0, 0), (0, 1), (1, 1), (1, 0)]),
        floor_m=1000.0, ceiling_m=5000.0, starts_s=100.0, ends_s=200.0,
    )  # fmt: skip
    lat = np.array([0.5, 0.5, 2.0])
    lon = np.array([0.5, 0.5, 0.5])
    alt = np.array([2000.0, 6000.0, 2000.0])
    assert inside_zone(zone, lat, lon, alt, 150.0).tolist() == [True, False, False]
    assert not inside_zone(zone, lat, lon, alt, 50.0).any()
    assert not inside_zone(zone, lat, lon, alt, 200.0).any()


SIDES = {"rus": "russian", "syr": "russian", "usa": "coalition", "gbr": "coalition"}


class TestZoneWatch:
    """Entries of other sides' aircraft into owned zones, once per entry."""

    ZONE = ZoneSpec(
        id="notice-1", name="training area",
        polygon=shapely.Polygon([(0, 0), (0, 1), (1, 1), (1, 0)]),
        floor_m=1000.0, ceiling_m=12000.0, starts_s=0.0, ends_s=1000.0, owner="rus",
    )  # fmt: skip

    @staticmethod
    def states(rows):
        """rows: (party, icao24, lat, lon, alt_m)."""
        n = len(rows)
        return StateArrays(
            aircraft_id=np.array([r[1] for r in rows], dtype=object),
            t_s=np.zeros(n),
            lat_deg=np.array([r[2] for r in rows], dtype=float),
            lon_deg=np.array([r[3] for r in rows], dtype=float),
            alt_m=np.array([r[4] for r in rows], dtype=float),
            gs_mps=np.full(n, 200.0),
            trk_deg=np.zeros(n),
            vs_mps=np.zeros(n),
            party=np.array([r[0] for r in rows], dtype=object),
        )

    def step(self, watch, rows, now_s, zones=None):
        keys = np.array([f"{r[0]}:{r[1]}" for r in rows], dtype=object)
        found = watch.step(
            self.states(rows), keys, now_s, [self.ZONE] if zones is None else zones
        )
        return [(e.key, e.zone.id, e.index, e.at_s) for e in found]

    def test_an_entry_of_another_side_is_reported_once(self):
        watch = ZoneWatch(side_of=SIDES)
        outside = [("usa", "ae0001", 0.5, -0.2, 5000.0)]
        inside = [("usa", "ae0001", 0.5, 0.2, 5000.0)]
        assert self.step(watch, outside, 10.0) == []
        assert self.step(watch, inside, 11.0) == [("usa:ae0001", "notice-1", 0, 11.0)]
        assert self.step(watch, inside, 12.0) == []  # still inside: not again

    def test_the_owners_side_and_other_bands_are_not_reported(self):
        watch = ZoneWatch(side_of=SIDES)
        rows = [
            ("rus", "150001", 0.5, 0.5, 5000.0),  # the owner's own aircraft
            ("syr", "730001", 0.5, 0.5, 5000.0),  # the owner's bloc partner
            ("gbr", "400001", 0.5, 0.5, 13000.0),  # above the ceiling
            ("gbr", "400002", 0.5, 0.5, 5000.0),  # inside
        ]
        assert self.step(watch, rows, 10.0) == [("gbr:400002", "notice-1", 3, 10.0)]

    def test_a_zone_without_owner_or_out_of_its_window_reports_nothing(self):
        watch = ZoneWatch(side_of=SIDES)
        rows = [("usa", "ae0001", 0.5, 0.5, 5000.0)]
        unowned = dataclasses.replace(self.ZONE, owner=None)
        assert self.step(watch, rows, 10.0, zones=[unowned]) == []
        assert self.step(watch, rows, 2000.0) == []  # the window has ended

    def test_a_bloc_can_own_a_zone(self):
        watch = ZoneWatch(side_of=SIDES)
        zone = dataclasses.replace(self.ZONE, owner="coalition")
        rows = [
            ("usa", "ae0001", 0.5, 0.5, 5000.0),
            ("rus", "150001", 0.5, 0.5, 5000.0),
        ]
        assert self.step(watch, rows, 10.0, zones=[zone]) == [
            ("rus:150001", "notice-1", 1, 10.0)
        ]

    def test_skimming_the_boundary_is_one_entry_until_rearmed(self):
        watch = ZoneWatch(side_of=SIDES, rearm_s=60.0)
        inside = [("usa", "ae0001", 0.5, 0.01, 5000.0)]
        outside = [("usa", "ae0001", 0.5, -0.01, 5000.0)]
        assert len(self.step(watch, inside, 10.0)) == 1
        assert self.step(watch, outside, 11.0) == []
        assert self.step(watch, inside, 12.0) == []  # back within 60 s: not again
        assert self.step(watch, outside, 13.0) == []
        assert len(self.step(watch, inside, 80.0)) == 1  # out since 13 s: rearmed

    def test_an_aircraft_gone_from_the_picture_is_forgotten(self):
        watch = ZoneWatch(side_of=SIDES)
        inside = [("usa", "ae0001", 0.5, 0.5, 5000.0)]
        assert len(self.step(watch, inside, 10.0)) == 1
        assert self.step(watch, [], 11.0) == []
        assert len(self.step(watch, inside, 12.0)) == 1  # seen again, inside: entered
