"""Need to know: what each party sees of the picture and of the alerts.

Pictures are built by hand around the Syria 2015 model agreement: ``usa`` and ``gbr``
in the ``coalition`` bloc, ``rus`` and ``syr`` on the ``russian-side``, a disclosure
radius of 20 NM and the shared At-Tanf zone (in force from 1 May 2017).
"""

from __future__ import annotations

import datetime as dt
import doctest
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from skypact.agreement.document import parse_agreement
from skypact.agreement.schema import (
    AgreementFile,
    PartyReleasability,
    ReleasableField,
    Zone,
)
from skypact.alerting.lifecycle import Alert, AlertState
from skypact.errors import ConfigError, MissingColumnError
from skypact.parties import releasability
from skypact.parties.releasability import (
    NeedToKnow,
    aircraft_key,
    redact_alert,
    release_log,
    split_aircraft_key,
    visible_alerts,
    visible_picture,
)
from skypact.tracks.store import TrackStore
from skypact.units import nm_to_m

EXAMPLE = Path(__file__).resolve().parents[3] / "examples/agreements/syria-2015.toml"
SECRET = b"skypact-test-secret-0123456789ab"
WGS84 = Geod(ellps="WGS84")

NOW_S = dt.datetime(2018, 1, 1, tzinfo=dt.UTC).timestamp()
BEFORE_TANF_S = dt.datetime(2016, 1, 1, tzinfo=dt.UTC).timestamp()
BASE = (35.5, 40.5)  # east of the Euphrates, far from At-Tanf
TANF = (33.5, 38.62)  # the At-Tanf zone's centre

# The picture's columns, as TrackStore.tracks returns them.
STORE_COLUMNS = (
    "party", "icao24", "callsign", "squawk", "onground", "status", "age_s",
    "latitude", "longitude", "altitude", "geoaltitude", "groundspeed", "track",
    "vertical_rate", "velocity_estimated", "position_source", "velocity_source",
    "sources", "last_update_s", "nacp", "nic", "nuc_p", "nac_v", "ce_m", "le_m",
)  # fmt: skip
DEFAULT_FOREIGN = {
    "track_id", "latitude", "longitude", "last_update_s", "altitude", "groundspeed",
    "track", "vertical_rate", "party", "bloc",
}  # fmt: skip
NEVER_FOREIGN = {
    "icao24", "squawk", "onground", "status", "age_s", "geoaltitude",
    "velocity_estimated", "position_source", "velocity_source", "sources", "nacp",
    "nic", "nuc_p", "nac_v", "ce_m", "le_m",
}  # fmt: skip


@pytest.fixture(scope="module")
def agreement() -> AgreementFile:
    return parse_agreement(EXAMPLE.read_bytes(), source=str(EXAMPLE)).content


@pytest.fixture(scope="module")
def need(agreement) -> NeedToKnow:
    return NeedToKnow.from_agreement(agreement, secret=SECRET)


def offset(origin, bearing_deg: float, dist_nm: float) -> tuple[float, float]:
    """The point ``dist_nm`` from ``origin`` (lat, lon) along a geodesic."""
    lon, lat, _ = WGS84.fwd(origin[1], origin[0], bearing_deg, nm_to_m(dist_nm))
    return float(lat), float(lon)


def aircraft(party: str, icao24: str, at, alt_ft: float = 20_000.0, **extra):
    row = {
        "party": party, "icao24": icao24, "callsign": f"{party.upper()}{icao24[-2:]}",
        "squawk": "4521", "onground": False, "status": "live", "age_s": 2.0,
        "latitude": at[0], "longitude": at[1], "altitude": alt_ft,
        "geoaltitude": alt_ft + 150.0, "groundspeed": 420.0, "track": 90.0,
        "vertical_rate": 0.0, "velocity_estimated": False, "position_source": "sbs",
        "velocity_source": "sbs", "sources": "sbs", "last_update_s": NOW_S - 2.0,
        "nacp": 9.0, "nic": 8.0, "nuc_p": np.nan, "nac_v": 2.0, "ce_m": np.nan,
        "le_m": np.nan,
    }  # fmt: skip
    row.update(extra)
    return row


def picture(*rows) -> pd.DataFrame:
    table = pd.DataFrame(list(rows))
    extra = [c for c in table.columns if c not in STORE_COLUMNS]
    return table[list(STORE_COLUMNS) + extra]


def released_ids(result) -> dict[str, tuple[str, ...]]:
    return {r.track_id: r.reasons for r in result.releases}


def view(pic, viewer, need, **kwargs):
    kwargs.setdefault("now_s", NOW_S)
    return visible_picture(pic, viewer, need=need, **kwargs)


def with_releasability(agreement, **changes) -> AgreementFile:
    rules = agreement.releasability.model_copy(update=changes)
    return agreement.model_copy(update={"releasability": rules})


class TestOwnAircraft:
    def test_own_rows_keep_every_column_and_value(self, need):
        mine = aircraft("usa", "ae0001", BASE)
        pic = picture(mine, aircraft("rus", "150001", offset(BASE, 0.0, 200.0)))
        own = view(pic, "usa", need).own
        assert list(own.columns) == ["track_id", *STORE_COLUMNS, "bloc"]
        assert len(own) == 1
        for name in STORE_COLUMNS:
            expected = mine[name]
            got = own.at[0, name]
            assert got == expected or (pd.isna(got) and pd.isna(expected)), name
        assert own.at[0, "bloc"] == "coalition"
        assert own.at[0, "track_id"] == need.track_id("usa", "usa", "ae0001")

    def test_own_rows_include_dropped_and_positionless_tracks(self, need):
        pic = picture(
            aircraft("syr", "730001", BASE, status="dropped"),
            aircraft("syr", "730002", (np.nan, np.nan), status="no position"),
        )
        result = view(pic, "syr", need)
        assert sorted(result.own["icao24"]) == ["730001", "730002"]
        assert set(result.reasons.values()) == {("own",)}

    def test_extra_columns_are_carried_for_own_rows(self, need):
        pic = picture(aircraft("usa", "ae0001", BASE, type="F-15E", mission="cas"))
        own = view(pic, "usa", need).own
        assert own.at[0, "type"] == "F-15E"
        assert own.at[0, "mission"] == "cas"

    def test_with_the_track_store_picture(self, need):
        store = TrackStore()
        t0 = NOW_S - 10.0
        reports = pd.DataFrame(
            {
                "timestamp": pd.to_datetime([t0, t0 + 5.0], unit="s", utc=True),
                "icao24": ["ae0001", "ae0001"],
                "latitude": [BASE[0], BASE[0]],
                "longitude": [BASE[1], BASE[1] + 0.01],
                "altitude": [25_000.0, 25_000.0],
                "groundspeed": [400.0, 400.0],
                "track": [90.0, 90.0],
                "vertical_rate": [0.0, 0.0],
                "callsign": ["DUDE01", "DUDE01"],
                "squawk": ["4521", "4521"],
            }
        )
        store.ingest(reports, party="usa")
        near = reports.copy()
        near["icao24"] = "150abc"
        near["latitude"] = BASE[0] + 0.1
        near["callsign"] = "RFF1234"
        store.ingest(near, party="rus")
        pic = store.tracks(NOW_S)
        result = view(pic, "usa", need)
        assert list(result.own.columns) == ["track_id", *pic.columns, "bloc"]
        assert set(result.foreign.columns) == DEFAULT_FOREIGN
        assert released_ids(result) == {
            need.track_id("usa", "rus", "150abc"): ("proximity",)
        }
        assert result.foreign.at[0, "party"] == "rus"
        assert result.foreign.at[0, "bloc"] == "russian-side"


class TestProximity:
    @pytest.mark.parametrize("bearing_deg", [0.0, 90.0, 180.0, 270.0, 45.0])
    @pytest.mark.parametrize(
        ("dist_nm", "shown"), [(19.9, True), (20.1, False), (100.0, False)]
    )
    def test_disclosure_radius_boundary(self, need, bearing_deg, dist_nm, shown):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, bearing_deg, dist_nm)),
        )
        result = view(pic, "usa", need)
        assert len(result.foreign) == int(shown)
        assert set(result.foreign.columns) == DEFAULT_FOREIGN
        if shown:
            assert list(result.reasons.values())[-1] == ("proximity",)

    def test_is_horizontal_only(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE, alt_ft=1_000.0),
            aircraft("rus", "150001", offset(BASE, 10.0, 5.0), alt_ft=45_000.0),
        )
        assert len(view(pic, "usa", need).foreign) == 1

    def test_any_own_aircraft_discloses_its_neighbourhood(self, need):
        far = offset(BASE, 90.0, 300.0)
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("usa", "ae0002", far),
            aircraft("rus", "150001", offset(BASE, 180.0, 10.0)),
            aircraft("syr", "730001", offset(far, 0.0, 10.0)),
            aircraft("syr", "730002", offset(far, 0.0, 60.0)),
        )
        result = view(pic, "usa", need)
        assert sorted(result.foreign["party"]) == ["rus", "syr"]
        assert release_log(result)[1]["track_id"] == need.track_id(
            "usa", "syr", "730001"
        )

    def test_the_rule_is_per_party_so_a_bloc_partner_is_foreign(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("gbr", "400001", offset(BASE, 0.0, 10.0)),
            aircraft("gbr", "400002", offset(BASE, 0.0, 50.0)),
        )
        result = view(pic, "usa", need)
        assert len(result.foreign) == 1
        assert set(result.foreign.columns) == DEFAULT_FOREIGN
        assert (result.foreign.at[0, "party"], result.foreign.at[0, "bloc"]) == (
            "gbr",
            "coalition",
        )

    def test_dropped_or_positionless_tracks_disclose_nothing(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE, status="dropped"),
            aircraft("usa", "ae0002", (np.nan, np.nan), status="no position"),
            aircraft("rus", "150001", offset(BASE, 0.0, 5.0)),
        )
        assert view(pic, "usa", need).foreign.empty
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, 0.0, 5.0), status="dropped"),
            aircraft("rus", "150002", (np.nan, np.nan), status="no position"),
        )
        assert view(pic, "usa", need).foreign.empty

    def test_a_picture_without_status_uses_every_position(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, 0.0, 5.0)),
        ).drop(columns="status")
        assert len(view(pic, "usa", need).foreign) == 1

    @pytest.mark.parametrize(
        ("own_at", "other_at"),
        [
            ((0.0, 179.9), (0.0, -179.9)),  # across the antimeridian: 12 NM
            ((89.9, 0.0), (89.9, 180.0)),  # across the pole: 12 NM
            ((-89.95, 10.0), (-89.95, 100.0)),  # near the south pole
        ],
    )
    def test_across_the_antimeridian_and_the_poles(self, need, own_at, other_at):
        _, _, dist_m = WGS84.inv(own_at[1], own_at[0], other_at[1], other_at[0])
        assert dist_m < need.disclosure_radius_m
        pic = picture(
            aircraft("usa", "ae0001", own_at), aircraft("rus", "150001", other_at)
        )
        assert len(view(pic, "usa", need).foreign) == 1

    def test_a_crowded_picture_releases_exactly_the_neighbours(self, need):
        # Enough own and foreign aircraft in one latitude band that the candidate
        # pairs are measured in several chunks.
        rng = np.random.default_rng(7)
        n = 1200
        own_lat = BASE[0] + rng.uniform(-0.05, 0.05, n)
        own_lon = BASE[1] + rng.uniform(-0.05, 0.05, n)
        near_lat = BASE[0] + rng.uniform(-0.05, 0.05, n)
        near_lon = BASE[1] + rng.uniform(-0.05, 0.05, n)
        far_lon = BASE[1] + 3.0 + rng.uniform(-0.05, 0.05, n)
        rows = [
            aircraft("usa", f"a{k:05x}", (own_lat[k], own_lon[k])) for k in range(n)
        ]
        rows += [
            aircraft("rus", f"1{k:05x}", (near_lat[k], near_lon[k])) for k in range(n)
        ]
        rows += [
            aircraft("syr", f"7{k:05x}", (near_lat[k], far_lon[k])) for k in range(n)
        ]
        result = view(picture(*rows), "usa", need)
        assert len(result.own) == n
        assert len(result.foreign) == n
        assert set(result.foreign["party"]) == {"rus"}


class TestAlerts:
    def test_an_alert_releases_the_other_aircraft_however_far(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, 0.0, 150.0)),
            aircraft("rus", "150002", offset(BASE, 0.0, 160.0)),
        )
        alerts = [("a-17", (("rus", "150001"), ("usa", "ae0001")))]
        result = view(pic, "usa", need, alerts=alerts)
        assert released_ids(result) == {
            need.track_id("usa", "rus", "150001"): ("alert:a-17",)
        }
        # ... and the other party sees the viewer's aircraft for the same alert
        theirs = view(pic, "rus", need, alerts=alerts)
        assert released_ids(theirs) == {
            need.track_id("rus", "usa", "ae0001"): ("alert:a-17",)
        }

    def test_alert_objects_release_only_while_active(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("syr", "730001", offset(BASE, 0.0, 150.0)),
        )
        for state, shown in [
            (AlertState.ACTIVE, True),
            (AlertState.PENDING, False),
            (AlertState.CLEARED, False),
            (AlertState.EXPIRED, False),
        ]:
            alert = make_alert("a-1", ("usa", "ae0001"), ("syr", "730001"), state)
            assert len(view(pic, "usa", need, alerts=[alert]).foreign) == int(shown)

    def test_several_reasons_are_all_recorded(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, 0.0, 3.0)),
        )
        pair = (("usa", "ae0001"), ("rus", "150001"))
        alerts = [("a-1", pair), ("a-2", pair), ("a-1", pair)]
        result = view(pic, "usa", need, alerts=alerts)
        assert list(released_ids(result).values()) == [
            ("alert:a-1", "alert:a-2", "proximity")
        ]

    def test_an_alert_between_others_releases_nothing(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, 0.0, 150.0)),
            aircraft("gbr", "400001", offset(BASE, 0.0, 151.0)),
        )
        alerts = [("a-3", (("gbr", "400001"), ("rus", "150001")))]
        assert view(pic, "usa", need, alerts=alerts).foreign.empty
        own_pair = [("a-4", (("usa", "ae0001"), ("usa", "ae0002")))]
        assert view(pic, "usa", need, alerts=own_pair).foreign.empty

    def test_alert_keys_must_be_aircraft_keys(self, need):
        alert = Alert(
            alert_id="a-9", aircraft=("ae0001", "150001"),
            parties=frozenset({"usa", "rus"}), state=AlertState.ACTIVE, level=1,
            recent=(1, 1, 1), last_seen_s=NOW_S,
        )  # fmt: skip
        pic = picture(aircraft("usa", "ae0001", BASE))
        with pytest.raises(ValueError, match="party:icao24"):
            view(pic, "usa", need, alerts=[alert])


class TestSharedZones:
    def test_inside_at_tanf_while_in_force(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("syr", "730001", TANF),
            aircraft("syr", "730002", offset(TANF, 90.0, 60.0)),
        )
        result = view(pic, "usa", need)
        assert released_ids(result) == {
            need.track_id("usa", "syr", "730001"): ("zone:at-tanf",)
        }
        assert view(pic, "usa", need, now_s=BEFORE_TANF_S).foreign.empty

    def test_a_zone_shows_aircraft_even_to_parties_without_aircraft(self, need):
        pic = picture(aircraft("usa", "ae0001", TANF))
        result = view(pic, "aus", need)
        assert result.own.empty
        assert list(released_ids(result).values()) == [("zone:at-tanf",)]

    @pytest.fixture
    def banded(self, agreement) -> NeedToKnow:
        zone = Zone(
            id="box", name="Box", shared=True, floor_ft=10_000.0,
            ceiling_ft=30_000.0, polygon=((34.0, 36.0), (34.0, 37.0), (35.0, 37.0),
            (35.0, 36.0)), starts_at=dt.datetime(2017, 12, 31, tzinfo=dt.UTC),
            ends_at=dt.datetime(2018, 1, 2, tzinfo=dt.UTC),
        )  # fmt: skip
        secret = Zone(
            id="secret-box", name="Not shared", polygon=zone.polygon, shared=False
        )
        variant = agreement.model_copy(update={"zones": (zone, secret)})
        return NeedToKnow.from_agreement(variant, secret=SECRET)

    @pytest.mark.parametrize(
        ("alt_ft", "shown"),
        [(9_999.0, False), (10_000.0, True), (30_000.0, True), (30_001.0, False)],
    )
    def test_altitude_band(self, banded, alt_ft, shown):
        pic = picture(aircraft("rus", "150001", (34.5, 36.5), alt_ft=alt_ft))
        result = view(pic, "usa", banded)
        assert [r.reasons for r in result.releases] == (
            [("zone:box",)] if shown else []
        )

    @pytest.mark.parametrize(
        ("at", "shown"),
        [
            (dt.datetime(2017, 12, 30, 23, 59, 59, tzinfo=dt.UTC), False),
            (dt.datetime(2017, 12, 31, tzinfo=dt.UTC), True),
            (dt.datetime(2018, 1, 1, 23, 59, 59, tzinfo=dt.UTC), True),
            (dt.datetime(2018, 1, 2, tzinfo=dt.UTC), False),
        ],
    )
    def test_time_window(self, banded, at, shown):
        pic = picture(aircraft("rus", "150001", (34.5, 36.5)))
        result = view(pic, "usa", banded, now_s=at.timestamp())
        assert len(result.foreign) == int(shown)

    def test_outside_the_polygon(self, banded):
        pic = picture(aircraft("rus", "150001", (35.1, 36.5)))
        assert view(pic, "usa", banded).foreign.empty

    def test_only_shared_zones_count(self, banded):
        assert [zone.id for zone in banded.shared_zones] == ["box"]


class TestReleasableFields:
    def test_withheld_columns_never_appear(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, 0.0, 5.0), type="Su-24",
                     mission="strike"),
            aircraft("syr", "730001", offset(BASE, 90.0, 5.0), type="MiG-23",
                     mission="cas"),
        )  # fmt: skip
        result = view(pic, "usa", need)
        assert set(result.foreign.columns) == DEFAULT_FOREIGN
        assert not set(result.foreign.columns) & NEVER_FOREIGN
        assert "callsign" not in result.foreign.columns
        for record in result.foreign_records():
            assert set(record) == DEFAULT_FOREIGN
        text = result.foreign.to_json()
        for secret in ("150001", "730001", "Su-24", "strike", "RUS01", "4521"):
            assert secret not in text

    def test_values_released_are_the_pictures(self, need):
        other = aircraft("rus", "150001", offset(BASE, 30.0, 5.0), alt_ft=31_000.0)
        pic = picture(aircraft("usa", "ae0001", BASE), other)
        record = view(pic, "usa", need).foreign_records()[0]
        for name in DEFAULT_FOREIGN - {"track_id", "bloc"}:
            assert record[name] == other[name], name
        assert record["bloc"] == "russian-side"

    def test_records_carry_none_for_what_is_not_known(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("zzz", "990001", offset(BASE, 0.0, 5.0), vertical_rate=np.nan),
        )
        record = view(pic, "usa", need).foreign_records()[0]
        assert record["vertical_rate"] is None  # no vertical rate reported
        assert record["bloc"] is None  # a party in no bloc (not in the agreement)
        assert record["party"] == "zzz"

    def test_an_owners_override_adds_its_callsign(self, agreement):
        variant = with_releasability(
            agreement,
            overrides=(
                PartyReleasability(party="usa", fields=(ReleasableField.CALLSIGN,)),
            ),
        )
        need = NeedToKnow.from_agreement(variant, secret=SECRET)
        pic = picture(
            aircraft("rus", "150001", BASE),
            aircraft("usa", "ae0001", offset(BASE, 0.0, 5.0), callsign="DUDE01"),
            aircraft("gbr", "400001", offset(BASE, 0.0, 6.0), callsign="ASCOT1"),
        )
        result = view(pic, "rus", need)
        assert set(result.foreign.columns) == DEFAULT_FOREIGN | {"callsign"}
        records = {r["party"]: r for r in result.foreign_records()}
        assert records["usa"]["callsign"] == "DUDE01"
        assert "callsign" not in records["gbr"]
        assert result.foreign.set_index("party")["callsign"].isna().to_dict() == {
            "usa": False,
            "gbr": True,
        }
        # the override is the owner's choice: usa does not see rus callsigns
        mine = view(pic, "usa", need)
        assert all("callsign" not in r for r in mine.foreign_records())
        assert "RUS01" not in mine.foreign.to_json()

    def test_type_and_mission_only_when_released_and_present(self, agreement):
        variant = with_releasability(
            agreement,
            overrides=(
                PartyReleasability(
                    party="syr",
                    fields=(ReleasableField.TYPE, ReleasableField.MISSION),
                ),
            ),
        )
        need = NeedToKnow.from_agreement(variant, secret=SECRET)
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("syr", "730001", offset(BASE, 0.0, 5.0), type="MiG-23"),
        )
        result = view(pic, "usa", need)
        assert set(result.foreign.columns) == DEFAULT_FOREIGN | {"type"}
        assert result.foreign_records()[0]["type"] == "MiG-23"

    def test_overrides_of_one_party_accumulate(self, agreement):
        variant = with_releasability(
            agreement,
            overrides=(
                PartyReleasability(party="gbr", fields=(ReleasableField.CALLSIGN,)),
                PartyReleasability(party="gbr", fields=(ReleasableField.TYPE,)),
            ),
        )
        need = NeedToKnow.from_agreement(variant, secret=SECRET)
        assert need.released_fields("gbr") == need.fields | {
            ReleasableField.CALLSIGN,
            ReleasableField.TYPE,
        }
        assert need.released_fields("rus") == need.fields

    def test_without_affiliation_the_owner_is_not_shown(self, agreement):
        variant = with_releasability(
            agreement,
            fields=(ReleasableField.POSITION, ReleasableField.ALTITUDE),
        )
        need = NeedToKnow.from_agreement(variant, secret=SECRET)
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, 0.0, 5.0)),
        )
        result = view(pic, "usa", need)
        assert set(result.foreign.columns) == {
            "track_id", "latitude", "longitude", "last_update_s", "altitude",
        }  # fmt: skip
        # the audit record still names the owner
        assert release_log(result)[0]["party"] == "rus"

    def test_a_wider_radius_from_the_agreement(self, agreement):
        variant = with_releasability(agreement, disclosure_radius_nm=40.0)
        need = NeedToKnow.from_agreement(variant, secret=SECRET)
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, 0.0, 39.9)),
        )
        assert len(view(pic, "usa", need).foreign) == 1

    def test_missing_required_column(self, need):
        pic = picture(aircraft("usa", "ae0001", BASE)).drop(columns="altitude")
        with pytest.raises(MissingColumnError, match="altitude"):
            view(pic, "usa", need)


class TestTrackIds:
    def test_stable_across_calls_and_updates(self, need):
        first = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, 0.0, 5.0)),
        )
        later = picture(
            aircraft("rus", "150009", offset(BASE, 0.0, 2.0)),
            aircraft("usa", "ae0001", offset(BASE, 90.0, 3.0)),
            aircraft("rus", "150001", offset(BASE, 0.0, 8.0), altitude=9_000.0),
        )
        a = view(first, "usa", need)
        b = view(later, "usa", need, now_s=NOW_S + 60.0)
        assert a.own.at[0, "track_id"] == b.own.at[0, "track_id"]
        handle = need.track_id("usa", "rus", "150001")
        assert handle in set(a.foreign["track_id"])
        assert handle in set(b.foreign["track_id"])

    def test_differ_per_viewer_and_per_aircraft(self, need):
        handles = {
            need.track_id(viewer, "rus", icao)
            for viewer in ("usa", "gbr", "syr")
            for icao in ("150001", "150002")
        }
        assert len(handles) == 6
        assert need.track_id("usa", "rus", "150001") != need.track_id(
            "usa", "syr", "150001"
        )

    def test_reveal_nothing_of_the_address(self, need):
        for icao in ("150001", "ae0001", "400001", "730001"):
            handle = need.track_id("gbr", "rus", icao)
            assert len(handle) == 16
            assert int(handle, 16) >= 0
            assert icao not in handle

    def test_depend_on_the_server_secret(self, agreement, need):
        other = NeedToKnow.from_agreement(
            agreement, secret=b"another-secret-of-32-bytes-long!"
        )
        assert other.track_id("usa", "rus", "150001") != need.track_id(
            "usa", "rus", "150001"
        )

    def test_secret_must_be_long_and_is_never_shown(self, agreement, need):
        assert SECRET.decode() not in repr(need)
        with pytest.raises(ConfigError) as caught:
            NeedToKnow.from_agreement(agreement, secret=b"short")
        assert "short" not in str(caught.value)
        with pytest.raises(ConfigError):
            NeedToKnow(secret="a text, not bytes, of 32 characters")  # type: ignore[arg-type]

    @pytest.mark.parametrize("radius_m", [0.0, -1.0, float("nan"), float("inf")])
    def test_radius_must_be_a_positive_distance(self, radius_m):
        with pytest.raises(ConfigError, match="disclosure_radius_m"):
            NeedToKnow(secret=SECRET, disclosure_radius_m=radius_m)


class TestReleaseLog:
    def test_one_compact_record_per_foreign_aircraft(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("usa", "ae0002", offset(BASE, 0.0, 1.0)),
            aircraft("rus", "150001", offset(BASE, 0.0, 5.0)),
            aircraft("syr", "730001", TANF),
            aircraft("syr", "730002", offset(TANF, 90.0, 80.0)),
        )
        alerts = [("a-5", (("usa", "ae0002"), ("rus", "150001")))]
        log = release_log(view(pic, "usa", need, alerts=alerts))
        assert log == [
            {
                "viewer": "usa",
                "party": "rus",
                "track_id": need.track_id("usa", "rus", "150001"),
                "reasons": ["alert:a-5", "proximity"],
            },
            {
                "viewer": "usa",
                "party": "syr",
                "track_id": need.track_id("usa", "syr", "730001"),
                "reasons": ["zone:at-tanf"],
            },
        ]

    def test_nothing_released_nothing_logged(self, need):
        pic = picture(aircraft("usa", "ae0001", BASE))
        assert release_log(view(pic, "usa", need)) == []
        empty = view(picture(aircraft("usa", "ae0001", BASE)).iloc[:0], "usa", need)
        assert empty.own.empty
        assert empty.foreign.empty
        assert release_log(empty) == []


def make_alert(alert_id, a, b, state=AlertState.ACTIVE, **extra) -> Alert:
    return Alert(
        alert_id=alert_id,
        aircraft=(aircraft_key(*a), aircraft_key(*b)),
        parties=frozenset({a[0], b[0]}),
        state=state,
        level=2,
        recent=(2, 2, 2),
        last_seen_s=NOW_S,
        raised_at_s=NOW_S - 30.0,
        highest_level=2,
        predicted_los_at_s=NOW_S + 90.0,
        **extra,
    )


class TestRedactedAlerts:
    def test_the_other_aircraft_is_a_handle_and_an_affiliation(self, need):
        alert = make_alert(
            "a-1", ("usa", "ae0001"), ("rus", "150001"),
            acknowledged_by=frozenset({"usa", "rus"}),
        )  # fmt: skip
        shown = redact_alert(alert, "usa", need=need)
        assert shown is not None
        mine, theirs = shown.aircraft
        assert (mine.own, mine.icao24, mine.party, mine.bloc) == (
            True, "ae0001", "usa", "coalition",
        )  # fmt: skip
        assert (theirs.own, theirs.icao24, theirs.party, theirs.bloc) == (
            False, None, "rus", "russian-side",
        )  # fmt: skip
        assert "150001" not in repr(shown)
        assert shown.acknowledged_by == {"usa", "rus"}
        assert (shown.level, shown.state, shown.warning_time_s) == (
            2, AlertState.ACTIVE, 120.0,
        )  # fmt: skip

    def test_handles_match_the_picture(self, need):
        pic = picture(
            aircraft("usa", "ae0001", BASE),
            aircraft("rus", "150001", offset(BASE, 0.0, 100.0)),
        )
        alert = make_alert("a-1", ("rus", "150001"), ("usa", "ae0001"))
        result = view(pic, "usa", need, alerts=[alert])
        shown = redact_alert(alert, "usa", need=need)
        assert shown is not None
        assert shown.aircraft[0].track_id == result.foreign.at[0, "track_id"]
        assert shown.aircraft[1].track_id == result.own.at[0, "track_id"]

    def test_a_party_sees_only_alerts_with_its_aircraft(self, need):
        alerts = [
            make_alert("a-1", ("usa", "ae0001"), ("rus", "150001")),
            make_alert("a-2", ("gbr", "400001"), ("rus", "150002")),
            make_alert("a-3", ("syr", "730001"), ("usa", "ae0002")),
            make_alert("a-4", ("usa", "ae0003"), ("syr", "730002"), AlertState.PENDING),
            make_alert("a-5", ("usa", "ae0004"), ("rus", "150003"), AlertState.CLEARED),
        ]
        ids = {
            viewer: [a.alert_id for a in visible_alerts(alerts, viewer, need=need)]
            for viewer in ("usa", "gbr", "rus", "syr", "fra")
        }
        assert ids == {
            "usa": ["a-1", "a-3", "a-5"],
            "gbr": ["a-2"],
            "rus": ["a-1", "a-2", "a-5"],
            "syr": ["a-3"],
            "fra": [],
        }

    def test_acknowledgements_follow_the_affiliation(self, agreement):
        variant = with_releasability(
            agreement,
            fields=(ReleasableField.POSITION,),
            overrides=(
                PartyReleasability(party="usa", fields=(ReleasableField.AFFILIATION,)),
            ),
        )
        need = NeedToKnow.from_agreement(variant, secret=SECRET)
        alert = make_alert(
            "a-1", ("usa", "ae0001"), ("rus", "150001"),
            acknowledged_by=frozenset({"usa", "rus"}),
        )  # fmt: skip
        to_usa = redact_alert(alert, "usa", need=need)
        to_rus = redact_alert(alert, "rus", need=need)
        assert to_usa is not None
        assert to_rus is not None
        assert (to_usa.aircraft[1].party, to_usa.aircraft[1].bloc) == (None, None)
        assert to_usa.acknowledged_by == {"usa"}
        assert to_rus.aircraft[0].party == "usa"
        assert to_rus.acknowledged_by == {"usa", "rus"}


class TestAircraftKeys:
    def test_round_trip(self):
        assert split_aircraft_key(aircraft_key("rus", "150001")) == ("rus", "150001")
        assert split_aircraft_key("usa:odd:address") == ("usa", "odd:address")

    @pytest.mark.parametrize(
        ("party", "icao24"), [("", "ae0001"), ("us:a", "ae0001"), ("usa", "")]
    )
    def test_refuses_what_would_not_split_back(self, party, icao24):
        with pytest.raises(ValueError, match=r"party|address"):
            aircraft_key(party, icao24)

    @pytest.mark.parametrize("key", ["ae0001", ":ae0001", "usa:"])
    def test_refuses_non_keys(self, key):
        with pytest.raises(ValueError, match="party:icao24"):
            split_aircraft_key(key)


def test_documented_examples_hold():
    result = doctest.testmod(releasability)
    assert result.attempted > 0
    assert result.failed == 0
