"""The demo's theatre over Syria: who flies where, second by second (pure: no I/O).

Eight aircraft of four parties of the model agreement (``examples/agreements/
syria-2015.toml``): the coalition's ``usa`` and ``gbr``, the Russian side's ``rus`` and
``syr``. One pair is planted: a US F-16 and a Russian Su-35 head-on at 450 kt each,
1 NM apart laterally and 500 ft vertically, 18.9 NM apart at the start, so that the
agreed separation (3 NM / 1,000 ft) is predicted to be lost in 64 s: a *caution*
(look-ahead 120 s) at once, a *warning* (60 s) some 4 s later. At
:attr:`Theatre.manoeuvre_at_s` the lower aircraft descends and the higher one climbs
(the complementary vertical manoeuvre of :mod:`skypact.resolution.advice`), which
clears the conflict; the two pass each other 3,000 ft apart after the demo has ended.

Everything else is far from the other parties' aircraft -- more than the agreement's
disclosure radius (20 NM), so that need to know shows nothing of it -- and at least
2,000 ft above or below every aircraft of the other side, so that no straight-line
prediction can ever put it in conflict: tankers, an airborne warning aircraft and a
fighter patrol fly orbits, a Russian bomber and a Syrian transport fly straight.
``tests/unit/demo/test_scenario.py`` checks all of this with the detector itself.

Aircraft are described in aviation units (ft, kt, ft/min, NM), as the reports they
produce (the ``traffic`` column convention); positions move along WGS84 geodesics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyproj import Geod

from skypact.units import kt_to_mps, m_to_nm, nm_to_m

__all__ = [
    "Aircraft",
    "AircraftState",
    "NotifiedArea",
    "Orbit",
    "Theatre",
    "VerticalManoeuvre",
    "distance_nm",
    "foreign_within",
    "query_position",
    "report",
    "state_at",
    "syria",
]

_WGS84 = Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True, kw_only=True)
class Orbit:
    """A circle flown at constant ground speed around a centre.

    Attributes:
        phase_deg: the bearing from the centre to the aircraft at t = 0.
        clockwise: seen from above (the bearing from the centre grows).
    """

    centre_lat_deg: float
    centre_lon_deg: float
    radius_nm: float
    phase_deg: float
    clockwise: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class VerticalManoeuvre:
    """From ``start_s`` on, climb (rate > 0) or descend at ``rate_fpm`` to ``target_ft``."""

    start_s: float
    rate_fpm: float
    target_ft: float

    def __post_init__(self) -> None:
        if self.rate_fpm == 0.0:
            raise ValueError("a vertical manoeuvre needs a rate")


@dataclass(frozen=True, slots=True, kw_only=True)
class Aircraft:
    """One aircraft of the theatre, as its own party knows it.

    Without an orbit it flies straight (a geodesic) from ``lat_deg, lon_deg`` along
    ``track_deg``; with one, ``lat_deg, lon_deg, track_deg`` are ignored.

    Attributes:
        type_name, role: for the party's own narration; never reported.
    """

    party: str
    icao24: str
    callsign: str
    type_name: str
    role: str
    gs_kt: float
    alt_ft: float
    lat_deg: float = 0.0
    lon_deg: float = 0.0
    track_deg: float = 0.0
    orbit: Orbit | None = None
    manoeuvre: VerticalManoeuvre | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AircraftState:
    """Where an aircraft is at one time, and how it moves."""

    lat_deg: float
    lon_deg: float
    alt_ft: float
    gs_kt: float
    track_deg: float
    vs_fpm: float


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifiedArea:
    """An operating area the Russian side notifies on the line.

    Attributes:
        corners: (lat, lon) in degrees, in order around the area.
        duration_s: how long from the notification it is in force.
    """

    party: str
    corners: tuple[tuple[float, float], ...]
    floor_ft: float
    ceiling_ft: float
    duration_s: float
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Theatre:
    """The aircraft, the planted encounter and the timeline of the operators' actions.

    Attributes:
        encounter: the icao24 of the planted pair's coalition and Russian aircraft.
        query_target: the icao24 of the aircraft the identification query is about;
            the querying party saw it ``query_offset_nm`` away along
            ``query_bearing_deg`` (its radar's error).
        identification_at_s, notification_at_s, coordination_at_s: when the query,
            the notification and the line's coordination of the manoeuvre are sent
            (seconds from the start of the traffic).
        manoeuvre_at_s: when the planted pair starts its manoeuvre.
        min_seconds, max_seconds: the durations this theatre is made for: long enough
            for the alert to be raised, raised a level and cleared; short enough that
            the other traffic stays away from the other side (tested).
    """

    aircraft: tuple[Aircraft, ...]
    encounter: tuple[str, str]
    query_party: str
    query_target: str
    query_offset_nm: float
    query_bearing_deg: float
    query_radius_nm: float
    notified_area: NotifiedArea
    identification_at_s: float
    notification_at_s: float
    coordination_at_s: float
    manoeuvre_at_s: float
    min_seconds: float
    max_seconds: float

    @property
    def parties(self) -> tuple[str, ...]:
        """The parties with aircraft, in order of first appearance."""
        return tuple(dict.fromkeys(a.party for a in self.aircraft))

    def of(self, party: str) -> tuple[Aircraft, ...]:
        """A party's aircraft."""
        return tuple(a for a in self.aircraft if a.party == party)

    def aircraft_by_icao24(self, icao24: str) -> Aircraft:
        """The aircraft with this address.

        Raises:
            KeyError: there is none.
        """
        for candidate in self.aircraft:
            if candidate.icao24 == icao24:
                return candidate
        raise KeyError(icao24)


def _moved(
    lat_deg: float, lon_deg: float, bearing_deg: float, distance_m: float
) -> tuple[float, float, float]:
    """The point ``distance_m`` along the geodesic, and the geodesic's azimuth there."""
    lon2, lat2, back_deg = _WGS84.fwd(lon_deg, lat_deg, bearing_deg, distance_m)
    return float(lat2), float(lon2), (float(back_deg) + 180.0) % 360.0


def _altitude(aircraft: Aircraft, t_s: float) -> tuple[float, float]:
    """Altitude (ft) and vertical rate (ft/min) at ``t_s``."""
    move = aircraft.manoeuvre
    if move is None or t_s <= move.start_s:
        return aircraft.alt_ft, 0.0
    change_ft = move.target_ft - aircraft.alt_ft
    needed_s = 60.0 * change_ft / move.rate_fpm
    if needed_s <= 0.0:  # already there, or the rate points away from the target
        return aircraft.alt_ft, 0.0
    elapsed_s = t_s - move.start_s
    if elapsed_s >= needed_s:
        return move.target_ft, 0.0
    return aircraft.alt_ft + move.rate_fpm * elapsed_s / 60.0, move.rate_fpm


def state_at(aircraft: Aircraft, t_s: float) -> AircraftState:
    """The aircraft's state ``t_s`` seconds after the start of the traffic."""
    alt_ft, vs_fpm = _altitude(aircraft, t_s)
    travelled_m = kt_to_mps(aircraft.gs_kt) * t_s
    orbit = aircraft.orbit
    if orbit is None:
        lat, lon, track = _moved(
            aircraft.lat_deg, aircraft.lon_deg, aircraft.track_deg, travelled_m
        )
    else:
        radius_m = nm_to_m(orbit.radius_nm)
        turned_deg = math.degrees(travelled_m / radius_m)
        sense = 1.0 if orbit.clockwise else -1.0
        bearing = (orbit.phase_deg + sense * turned_deg) % 360.0
        lat, lon, _ = _moved(
            orbit.centre_lat_deg, orbit.centre_lon_deg, bearing, radius_m
        )
        track = (bearing + sense * 90.0) % 360.0
    return AircraftState(
        lat_deg=lat,
        lon_deg=lon,
        alt_ft=alt_ft,
        gs_kt=aircraft.gs_kt,
        track_deg=track,
        vs_fpm=vs_fpm,
    )


def report(aircraft: Aircraft, t_s: float, *, epoch_s: float) -> dict[str, object]:
    """The aircraft's report at ``t_s`` in the ``traffic`` convention (the API's body),
    stamped ``epoch_s + t_s`` (epoch seconds, UTC)."""
    state = state_at(aircraft, t_s)
    return {
        "timestamp": epoch_s + t_s,
        "icao24": aircraft.icao24,
        "callsign": aircraft.callsign,
        "latitude": round(state.lat_deg, 6),
        "longitude": round(state.lon_deg, 6),
        "altitude": round(state.alt_ft, 1),
        "groundspeed": state.gs_kt,
        "track": round(state.track_deg, 2),
        "vertical_rate": state.vs_fpm,
    }


def distance_nm(a: AircraftState, b: AircraftState) -> float:
    """Horizontal (geodesic) distance between two states."""
    _, _, dist_m = _WGS84.inv(a.lon_deg, a.lat_deg, b.lon_deg, b.lat_deg)
    return float(m_to_nm(float(dist_m)))


def foreign_within(
    theatre: Theatre, viewer: str, t_s: float, radius_nm: float
) -> tuple[Aircraft, ...]:
    """Other parties' aircraft within ``radius_nm`` of one of ``viewer``'s at ``t_s``
    (what need to know releases by proximity)."""
    own = [state_at(a, t_s) for a in theatre.of(viewer)]
    return tuple(
        other
        for other in theatre.aircraft
        if other.party != viewer
        and any(distance_nm(state_at(other, t_s), mine) <= radius_nm for mine in own)
    )


def query_position(theatre: Theatre, t_s: float) -> tuple[float, float, float]:
    """Where the querying party sees the unidentified contact at ``t_s``:
    latitude, longitude (deg) and altitude (ft)."""
    target = state_at(theatre.aircraft_by_icao24(theatre.query_target), t_s)
    lat, lon, _ = _moved(
        target.lat_deg,
        target.lon_deg,
        theatre.query_bearing_deg,
        nm_to_m(theatre.query_offset_nm),
    )
    return lat, lon, target.alt_ft


def _offset(
    lat_deg: float, lon_deg: float, *moves: tuple[float, float]
) -> tuple[float, float]:
    """A point reached by (bearing_deg, distance_nm) legs from (lat, lon)."""
    for bearing_deg, leg_nm in moves:
        lat_deg, lon_deg, _ = _moved(lat_deg, lon_deg, bearing_deg, nm_to_m(leg_nm))
    return lat_deg, lon_deg


_ENCOUNTER_LAT_DEG, _ENCOUNTER_LON_DEG = 34.80, 39.30
"""Between Palmyra and Deir ez-Zor, west of the Euphrates line."""
_HALF_GAP_NM = 9.414
"""Each fighter starts this far from the encounter point along its track: with 1 NM
between their tracks and 900 kt of closure, 3 NM is reached in 64 s."""


def syria() -> Theatre:
    """The demo's theatre (see the module docstring)."""
    usa_start = _offset(
        _ENCOUNTER_LAT_DEG, _ENCOUNTER_LON_DEG, (180.0, 0.5), (270.0, _HALF_GAP_NM)
    )
    rus_start = _offset(
        _ENCOUNTER_LAT_DEG, _ENCOUNTER_LON_DEG, (0.0, 0.5), (90.0, _HALF_GAP_NM)
    )
    manoeuvre_at_s = 12.0
    aircraft = (
        Aircraft(
            party="usa", icao24="ae07a1", callsign="VIPER11", type_name="F-16C",
            role="fighter sweep", gs_kt=450.0, alt_ft=25_000.0,
            lat_deg=usa_start[0], lon_deg=usa_start[1], track_deg=90.0,
            manoeuvre=VerticalManoeuvre(
                start_s=manoeuvre_at_s, rate_fpm=-2000.0, target_ft=23_500.0
            ),
        ),
        Aircraft(
            party="usa", icao24="ae01c4", callsign="SENTRY31", type_name="E-3G",
            role="airborne warning, orbit over Jordan", gs_kt=320.0, alt_ft=29_000.0,
            orbit=Orbit(centre_lat_deg=32.55, centre_lon_deg=37.00, radius_nm=15.0,
                        phase_deg=0.0),
        ),
        Aircraft(
            party="usa", icao24="ae04b2", callsign="SHELL71", type_name="KC-135R",
            role="tanker, orbit over Anbar", gs_kt=300.0, alt_ft=22_000.0,
            orbit=Orbit(centre_lat_deg=33.90, centre_lon_deg=41.30, radius_nm=15.0,
                        phase_deg=90.0),
        ),
        Aircraft(
            party="gbr", icao24="43c6f1", callsign="TARTN51", type_name="Voyager KC2",
            role="tanker, orbit near Sinjar", gs_kt=300.0, alt_ft=23_000.0,
            orbit=Orbit(centre_lat_deg=36.20, centre_lon_deg=41.60, radius_nm=15.0,
                        phase_deg=180.0, clockwise=False),
        ),
        Aircraft(
            party="gbr", icao24="43c2a7", callsign="FURY21", type_name="Typhoon FGR4",
            role="combat air patrol east of the Euphrates", gs_kt=420.0,
            alt_ft=36_000.0,
            orbit=Orbit(centre_lat_deg=35.90, centre_lon_deg=40.60, radius_nm=12.0,
                        phase_deg=270.0),
        ),
        Aircraft(
            party="rus", icao24="15c2a0", callsign="RFF8311", type_name="Su-35S",
            role="fighter sweep", gs_kt=450.0, alt_ft=25_500.0,
            lat_deg=rus_start[0], lon_deg=rus_start[1], track_deg=270.0,
            manoeuvre=VerticalManoeuvre(
                start_s=manoeuvre_at_s, rate_fpm=2000.0, target_ft=26_500.0
            ),
        ),
        Aircraft(
            party="rus", icao24="15a7e3", callsign="RFF7714", type_name="Su-34",
            role="transit from Hmeimim", gs_kt=480.0, alt_ft=33_000.0,
            lat_deg=35.15, lon_deg=36.95, track_deg=110.0,
        ),
        Aircraft(
            party="syr", icao24="778a12", callsign="SYR502", type_name="Il-76MD",
            role="transport north from Damascus", gs_kt=280.0, alt_ft=19_000.0,
            lat_deg=33.85, lon_deg=36.45, track_deg=15.0,
        ),
    )  # fmt: skip
    palmyra = NotifiedArea(
        party="rus",
        corners=((34.75, 37.95), (34.75, 38.55), (34.35, 38.55), (34.35, 37.95)),
        floor_ft=15_000.0,
        ceiling_ft=35_000.0,
        duration_s=2 * 3600.0,
        description="air-to-ground training, Palmyra range",
    )
    return Theatre(
        aircraft=aircraft,
        encounter=("ae07a1", "15c2a0"),
        query_party="usa",
        query_target="778a12",
        query_offset_nm=0.4,
        query_bearing_deg=45.0,
        query_radius_nm=5.0,
        notified_area=palmyra,
        identification_at_s=3.0,
        notification_at_s=7.0,
        coordination_at_s=10.0,
        manoeuvre_at_s=manoeuvre_at_s,
        min_seconds=30.0,
        max_seconds=150.0,
    )
