"""Aircraft of several parties flying straight, reported as the API takes them."""

from __future__ import annotations

from dataclasses import dataclass

from skypact.units import kt_to_mps, nm_to_m
from tests.factories import WGS84


@dataclass(frozen=True)
class Flight:
    party: str
    icao24: str
    callsign: str
    lat0: float
    lon0: float
    trk_deg: float
    gs_kt: float = 450.0
    alt_ft: float = 30_000.0

    def report(self, t0_s: float, t_s: float) -> dict[str, object]:
        lon, lat, _ = WGS84.fwd(
            self.lon0, self.lat0, self.trk_deg, kt_to_mps(self.gs_kt) * (t_s - t0_s)
        )
        return {
            "timestamp": t_s,
            "icao24": self.icao24,
            "callsign": self.callsign,
            "latitude": float(lat),
            "longitude": float(lon),
            "altitude": self.alt_ft,
            "groundspeed": self.gs_kt,
            "track": self.trk_deg,
            "vertical_rate": 0.0,
            "squawk": "1200",
        }


def offset(lat: float, lon: float, distance_m: float, bearing_deg: float):
    lon2, lat2, _ = WGS84.fwd(lon, lat, bearing_deg, distance_m)
    return float(lat2), float(lon2)


# Over the Syrian desert. A US and a Russian fighter head-on, 40 NM apart at t0 and
# closing at 900 kt; a British tanker 200 NM away; a Russian transport 150 NM away.
LAT, LON = 34.8, 38.9
_W = offset(LAT, LON, nm_to_m(20), 270.0)
_E = offset(LAT, LON, nm_to_m(20), 90.0)
_N = offset(LAT, LON, nm_to_m(200), 0.0)
_SW = offset(LAT, LON, nm_to_m(150), 225.0)
USA_FIGHTER = Flight("usa", "ae1234", "VIPER11", _W[0], _W[1], trk_deg=90.0)
RUS_FIGHTER = Flight("rus", "155432", "RFF7201", _E[0], _E[1], trk_deg=270.0)
GBR_TANKER = Flight("gbr", "43c5a1", "TARTN61", _N[0], _N[1], trk_deg=180.0)
RUS_TRANSPORT = Flight("rus", "152233", "RFF9010", _SW[0], _SW[1], trk_deg=45.0)
FLIGHTS = (USA_FIGHTER, RUS_FIGHTER, GBR_TANKER, RUS_TRANSPORT)
