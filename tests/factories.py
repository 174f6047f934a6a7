"""Builders for test snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Geod

from skypact.tracks.model import StateArrays
from skypact.units import fpm_to_mps, ft_to_m, kt_to_mps, nm_to_m

WGS84 = Geod(ellps="WGS84")


@dataclass(frozen=True)
class Plane:
    """One aircraft in aviation units, placed relative to a reference point."""

    icao24: str
    lat: float
    lon: float
    alt_ft: float = 30000.0
    gs_kt: float = 450.0
    trk_deg: float = 0.0
    vs_fpm: float = 0.0
    party: str = "usa"


def offset(lat: float, lon: float, distance_nm: float, bearing_deg: float):
    """The point ``distance_nm`` from (lat, lon) along the geodesic at ``bearing_deg``."""
    lon2, lat2, _ = WGS84.fwd(lon, lat, bearing_deg, nm_to_m(distance_nm))
    return float(lat2), float(lon2)


def make_states(planes: Sequence[Plane]) -> StateArrays:
    n = len(planes)
    return StateArrays(
        aircraft_id=np.array([p.icao24 for p in planes], dtype=object),
        t_s=np.zeros(n),
        lat_deg=np.array([p.lat for p in planes], dtype=np.float64),
        lon_deg=np.array([p.lon for p in planes], dtype=np.float64),
        alt_m=ft_to_m(np.array([p.alt_ft for p in planes], dtype=np.float64)),
        gs_mps=kt_to_mps(np.array([p.gs_kt for p in planes], dtype=np.float64)),
        trk_deg=np.array([p.trk_deg for p in planes], dtype=np.float64) % 360.0,
        vs_mps=fpm_to_mps(np.array([p.vs_fpm for p in planes], dtype=np.float64)),
        party=np.array([p.party for p in planes], dtype=object),
    )


def make_table(planes: Sequence[Plane]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "icao24": [p.icao24 for p in planes],
            "latitude": [p.lat for p in planes],
            "longitude": [p.lon for p in planes],
            "altitude": [p.alt_ft for p in planes],
            "groundspeed": [p.gs_kt for p in planes],
            "track": [p.trk_deg for p in planes],
            "vertical_rate": [p.vs_fpm for p in planes],
            "party": [p.party for p in planes],
        }
    )


def by_pair(result: pd.DataFrame) -> pd.DataFrame:
    """A detection result in a canonical row order (detect() leaves order open)."""
    return result.sort_values(["aircraft_a", "aircraft_b"]).reset_index(drop=True)


def intruder_rows(
    target: pd.DataFrame,
    meet_at: pd.Timestamp,
    *,
    icao24: str = "fff001",
    gs_kt: float = 420.0,
    from_bearing_deg: float = 270.0,
    alt_ft: float | None = None,
    lead_s: float = 240.0,
    step_s: float = 5.0,
) -> pd.DataFrame:
    """Reports of a made-up aircraft that reaches ``target``'s position at ``meet_at``.

    It flies a straight geodesic towards where the target is at ``meet_at`` (the target's
    nearest report), at the target's altitude unless ``alt_ft`` is given, in level
    flight, reporting every ``step_s`` from ``lead_s`` before until 30 s after.
    """
    nearest = target.iloc[(target["timestamp"] - meet_at).abs().argmin()]
    lat0, lon0 = float(nearest["latitude"]), float(nearest["longitude"])
    altitude = float(nearest["altitude"]) if alt_ft is None else alt_ft
    speed_nm_s = gs_kt / 3600.0
    rows = []
    for k in range(int((lead_s + 30.0) / step_s) + 1):
        t = meet_at - pd.Timedelta(seconds=lead_s) + pd.Timedelta(seconds=k * step_s)
        remaining_nm = speed_nm_s * (meet_at - t).total_seconds()
        bearing = from_bearing_deg if remaining_nm >= 0 else from_bearing_deg + 180.0
        lat, lon = offset(lat0, lon0, abs(remaining_nm), bearing)
        rows.append(
            {
                "timestamp": t,
                "icao24": icao24,
                "latitude": lat,
                "longitude": lon,
                "altitude": altitude,
                "groundspeed": gs_kt,
                "track": (from_bearing_deg + 180.0) % 360.0,
                "vertical_rate": 0.0,
            }
        )
    return pd.DataFrame(rows)


COT_T0 = pd.Timestamp("2024-05-01T10:00:00Z")


def cot_row(**changes: object) -> dict[str, object]:
    """A traffic-convention row for the CoT/TAK writers (a German Air Force jet)."""
    base: dict[str, object] = {
        "timestamp": COT_T0,
        "icao24": "3c6444",
        "callsign": "GAF123",
        "latitude": 50.1,
        "longitude": 8.6,
        "altitude": 33000.0,
        "geoaltitude": 33400.0,
        "groundspeed": 420.0,
        "track": 90.5,
        "vertical_rate": -500.0,
        "squawk": "7000",
        "onground": False,
        "party": "DEU",
        "affiliation": "friend",
    }
    base.update(changes)
    return base
