"""The demo's theatre, held to the model agreement with the detector itself.

The planted pair is in conflict at once at the caution level and reaches the warning
level within seconds; its manoeuvre clears it and it never loses separation. No other
pair of parties ever conflicts, comes near the disclosure radius or enters a shared
zone, so that need to know shows each party exactly what the demo expects. Every
report passes the service's validation.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import Point, Polygon

import skypact
from skypact.agreement.document import parse_agreement
from skypact.demo.scenario import (
    Aircraft,
    AircraftState,
    distance_nm,
    foreign_within,
    query_position,
    report,
    state_at,
    syria,
)
from skypact.geometry.angles import wrap_deg_180
from skypact.tracks.ingest.base import report_table
from skypact.tracks.validation import validate_reports
from skypact.units import kt_to_mps, m_to_nm

EXAMPLE = Path(__file__).resolve().parents[3] / "examples/agreements/syria-2015.toml"
AGREEMENT = parse_agreement(EXAMPLE.read_bytes(), source=str(EXAMPLE)).content
THEATRE = syria()
EPOCH_S = 1_445_342_400.0  # 2015-10-20 12:00Z
SECONDS = range(int(THEATRE.max_seconds) + 1)
LOOKAHEAD_S = {level.name: level.lookahead_s for level in AGREEMENT.alerting.levels}
BLOC = {party.id: party.bloc for party in AGREEMENT.parties}


def snapshot(t_s: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {**report(a, t_s, epoch_s=EPOCH_S), "party": a.party}
            for a in THEATRE.aircraft
        ]
    )


def conflicts(t_s: float, lookahead_s: float = 300.0) -> pd.DataFrame:
    """Inter-party conflicts against the agreement's minima."""
    return skypact.detect(
        snapshot(t_s),
        lookahead_s=lookahead_s,
        horizontal_nm=AGREEMENT.separation.horizontal_nm,
        vertical_ft=AGREEMENT.separation.vertical_ft,
        pairs="inter-party",
    )


PAIR = tuple(sorted(THEATRE.encounter))
PLANTED = [THEATRE.aircraft_by_icao24(i) for i in THEATRE.encounter]
PAIR_PARTIES = {a.party for a in PLANTED}


def pairs_of(found: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(found["aircraft_a"], found["aircraft_b"], strict=True))


def cross_party_pairs() -> list[tuple[Aircraft, Aircraft]]:
    return [
        (a, b)
        for a, b in itertools.combinations(THEATRE.aircraft, 2)
        if a.party != b.party
    ]


class TestPlantedEncounter:
    def test_a_coalition_and_a_russian_side_aircraft(self):
        assert [BLOC[a.party] for a in PLANTED] == ["coalition", "russian-side"]

    def test_in_conflict_at_once_at_the_caution_level(self):
        found = conflicts(0.0)
        assert pairs_of(found) == {PAIR}
        (t_in_s,) = found["t_in_s"]
        assert LOOKAHEAD_S["warning"] < t_in_s <= LOOKAHEAD_S["caution"]
        assert found["h_cpa_nm"].iloc[0] < AGREEMENT.separation.horizontal_nm
        assert found["v_cpa_ft"].iloc[0] < AGREEMENT.separation.vertical_ft

    def test_reaches_the_warning_level_before_the_manoeuvre_is_agreed(self):
        warned = [t for t in SECONDS if pairs_of(conflicts(t, LOOKAHEAD_S["warning"]))]
        assert warned
        assert 1 <= warned[0] < THEATRE.coordination_at_s

    def test_in_conflict_until_the_manoeuvre_and_never_after(self):
        start = int(THEATRE.manoeuvre_at_s)
        assert all(pairs_of(conflicts(t)) == {PAIR} for t in range(start + 1))
        assert all(conflicts(t).empty for t in range(start + 1, len(SECONDS)))

    def test_the_manoeuvre_clears_it_before_the_shortest_run_ends(self):
        hysteresis_s = AGREEMENT.alerting.hysteresis_s
        # raw level 0 from the first cycle after the manoeuvre starts; cleared after
        # the hysteresis; the pictures are read two seconds before the end
        cleared_s = THEATRE.manoeuvre_at_s + 1.0 + hysteresis_s
        assert cleared_s + 2.0 <= THEATRE.min_seconds - 2.0

    def test_separation_is_never_actually_lost(self):
        fine = np.arange(0.0, 200.0, 0.25)
        usa, rus = PLANTED
        lost = [
            t
            for t in fine
            if distance_nm(state_at(usa, t), state_at(rus, t))
            < AGREEMENT.separation.horizontal_nm
            and abs(state_at(usa, t).alt_ft - state_at(rus, t).alt_ft)
            < AGREEMENT.separation.vertical_ft
        ]
        assert lost == []
        closest = min(
            fine, key=lambda t: distance_nm(state_at(usa, t), state_at(rus, t))
        )
        assert (
            abs(state_at(usa, closest).alt_ft - state_at(rus, closest).alt_ft) >= 2000
        )

    def test_within_the_disclosure_radius_for_the_whole_run(self):
        radius_nm = AGREEMENT.releasability.disclosure_radius_nm
        usa, rus = PLANTED
        gaps = [distance_nm(state_at(usa, t), state_at(rus, t)) for t in SECONDS]
        assert max(gaps) < radius_nm - 1.0


class TestOtherTraffic:
    def test_nothing_else_ever_conflicts(self):
        for t in SECONDS:
            assert pairs_of(conflicts(t)) <= {PAIR}, t

    def test_other_parties_stay_far_beyond_the_disclosure_radius(self):
        radius_nm = AGREEMENT.releasability.disclosure_radius_nm
        for a, b in cross_party_pairs():
            if {a.icao24, b.icao24} == set(PAIR):
                continue
            nearest = min(distance_nm(state_at(a, t), state_at(b, t)) for t in SECONDS)
            assert nearest > radius_nm + 10.0, (a.callsign, b.callsign, nearest)

    def test_the_other_side_is_always_2000_ft_above_or_below(self):
        for a, b in cross_party_pairs():
            if BLOC[a.party] == BLOC[b.party] or {a.icao24, b.icao24} == set(PAIR):
                continue
            gap = min(
                abs(state_at(a, t).alt_ft - state_at(b, t).alt_ft) for t in SECONDS
            )
            assert gap >= 2000.0, (a.callsign, b.callsign)

    @pytest.mark.parametrize("party", THEATRE.parties)
    def test_need_to_know_releases_only_the_planted_pair(self, party):
        expected = {
            a.icao24 for a in PLANTED if a.party != party and party in PAIR_PARTIES
        }
        for t in SECONDS:
            shown = foreign_within(
                THEATRE, party, t, AGREEMENT.releasability.disclosure_radius_nm
            )
            assert {a.icao24 for a in shown} == expected, t

    def test_nobody_enters_a_shared_zone_or_the_notified_area(self):
        area = THEATRE.notified_area
        zones = [
            (Polygon([(lon, lat) for lat, lon in z.polygon]), z.floor_ft, z.ceiling_ft)
            for z in AGREEMENT.zones
            if z.shared
        ]
        zones.append(
            (
                Polygon([(lon, lat) for lat, lon in area.corners]),
                area.floor_ft,
                area.ceiling_ft,
            )
        )
        for aircraft in THEATRE.aircraft:
            for t in SECONDS:
                state = state_at(aircraft, t)
                here = Point(state.lon_deg, state.lat_deg)
                for polygon, floor_ft, ceiling_ft in zones:
                    inside = polygon.buffer(0.1).contains(here)  # 0.1 deg of margin
                    assert not (inside and floor_ft <= state.alt_ft <= ceiling_ft)


class TestReports:
    def test_the_traffic_columns_in_aviation_units(self):
        row = report(PLANTED[0], 10.0, epoch_s=EPOCH_S)
        assert set(row) == {
            "timestamp", "icao24", "callsign", "latitude", "longitude", "altitude",
            "groundspeed", "track", "vertical_rate",
        }  # fmt: skip
        assert row["timestamp"] == EPOCH_S + 10.0
        assert row["groundspeed"] == 450.0
        assert row["track"] == pytest.approx(90.0, abs=0.1)

    def test_straight_flight_covers_its_ground_speed(self):
        aircraft = PLANTED[0]
        moved_nm = distance_nm(state_at(aircraft, 0.0), state_at(aircraft, 10.0))
        assert moved_nm == pytest.approx(m_to_nm(kt_to_mps(450.0) * 10.0), rel=1e-6)

    def test_the_manoeuvre_descends_at_its_rate_then_levels_off(self):
        usa = PLANTED[0]
        move = usa.manoeuvre
        assert move is not None
        before = state_at(usa, move.start_s)
        during = state_at(usa, move.start_s + 30.0)
        after = state_at(usa, move.start_s + 600.0)
        assert (before.alt_ft, before.vs_fpm) == (usa.alt_ft, 0.0)
        assert during.alt_ft == pytest.approx(usa.alt_ft + move.rate_fpm / 2.0)
        assert during.vs_fpm == move.rate_fpm
        assert (after.alt_ft, after.vs_fpm) == (move.target_ft, 0.0)

    @pytest.mark.parametrize(
        "aircraft", [a for a in THEATRE.aircraft if a.orbit], ids=lambda a: a.callsign
    )
    def test_an_orbit_keeps_its_radius_and_flies_along_it(self, aircraft):
        orbit = aircraft.orbit
        geod = Geod(ellps="WGS84")
        for t in (0.0, 60.0, 150.0):
            state = state_at(aircraft, t)
            az, _, dist_m = geod.inv(
                orbit.centre_lon_deg, orbit.centre_lat_deg, state.lon_deg, state.lat_deg
            )
            assert m_to_nm(dist_m) == pytest.approx(orbit.radius_nm, rel=1e-6)
            turn = 90.0 if orbit.clockwise else -90.0
            off_deg = wrap_deg_180(np.array([state.track_deg - az - turn]))[0]
            assert off_deg == pytest.approx(0.0, abs=0.5)
        step_nm = distance_nm(state_at(aircraft, 0.0), state_at(aircraft, 1.0))
        assert step_nm == pytest.approx(m_to_nm(kt_to_mps(aircraft.gs_kt)), rel=1e-3)

    def test_the_service_accepts_every_report_of_the_longest_run(self):
        rows = [
            report(a, float(t), epoch_s=EPOCH_S)
            for t in SECONDS
            for a in THEATRE.aircraft
        ]
        table = report_table(pd.DataFrame(rows), source="demo")
        verdicts = validate_reports(table)
        assert bool(np.all(verdicts.accepted)), verdicts.reasons()

    def test_the_identification_query_points_at_its_target(self):
        lat, lon, alt_ft = query_position(THEATRE, THEATRE.identification_at_s)
        target = state_at(
            THEATRE.aircraft_by_icao24(THEATRE.query_target),
            THEATRE.identification_at_s,
        )
        seen = AircraftState(
            lat_deg=lat, lon_deg=lon, alt_ft=alt_ft, gs_kt=0.0, track_deg=0.0,
            vs_fpm=0.0,
        )  # fmt: skip
        assert distance_nm(seen, target) == pytest.approx(THEATRE.query_offset_nm)
        assert THEATRE.query_offset_nm < THEATRE.query_radius_nm
        query_side = BLOC[THEATRE.query_party]
        assert (
            BLOC[THEATRE.aircraft_by_icao24(THEATRE.query_target).party] != query_side
        )
