"""Line crossings (with direction) and zone membership (band and time window)."""

from __future__ import annotations

import numpy as np
import shapely

from skypact.alerting.events import LineSpec, ZoneSpec, crossings, inside_zone

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
