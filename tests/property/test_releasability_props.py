"""Need to know on random pictures: nothing withheld leaks, and every release is due.

For random pictures around the At-Tanf zone (several parties in two blocs, a party the
agreement does not know, stale and positionless tracks, alerts in every state, random
overrides, radii and times), :func:`visible_picture` is checked against an oracle
written independently of it: reasons from a brute-force geodesic distance to every own
aircraft (no pruning), point-in-polygon per aircraft and the agreement's own zone
definitions in feet and datetimes.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import shapely
from hypothesis import event, given
from hypothesis import strategies as st
from pyproj import Geod

from skypact.agreement.document import parse_agreement
from skypact.agreement.schema import (
    AgreementFile,
    PartyReleasability,
    ReleasableField,
    Zone,
)
from skypact.alerting.lifecycle import Alert, AlertState
from skypact.parties.releasability import (
    FIELD_COLUMNS,
    NeedToKnow,
    aircraft_key,
    visible_picture,
)
from skypact.units import nm_to_m

EXAMPLE = Path(__file__).resolve().parents[2] / "examples/agreements/syria-2015.toml"
AGREEMENT = parse_agreement(EXAMPLE.read_bytes(), source=str(EXAMPLE)).content
SECRET = b"property-test-secret-0123456789"
WGS84 = Geod(ellps="WGS84")

PARTIES = ("usa", "gbr", "rus", "syr", "zzz")  # zzz: not a party to the agreement
VIEWERS = (*PARTIES, "fra")
STATUSES = ("live", "live", "live", "coasting", "dropped", "no position")
BOX = Zone(
    id="box", name="Box", shared=True, floor_ft=10_000.0, ceiling_ft=30_000.0,
    polygon=((33.6, 38.8), (33.6, 39.4), (34.4, 39.4), (34.4, 38.8)),
    starts_at=dt.datetime(2017, 12, 31, tzinfo=dt.UTC),
    ends_at=dt.datetime(2018, 1, 2, tzinfo=dt.UTC),
)  # fmt: skip
PRIVATE = Zone(
    id="private", name="Not shared", shared=False,
    polygon=((33.0, 38.0), (33.0, 39.4), (34.6, 39.4), (34.6, 38.0)),
)  # fmt: skip
TIMES_S = tuple(
    at.timestamp()
    for at in (
        dt.datetime(2016, 6, 1, tzinfo=dt.UTC),
        dt.datetime(2017, 12, 31, tzinfo=dt.UTC),
        dt.datetime(2018, 1, 1, 12, tzinfo=dt.UTC),
        dt.datetime(2018, 1, 2, tzinfo=dt.UTC),
    )
)
PICTURE_ONLY = {
    "icao24", "squawk", "status", "age_s", "sources", "nacp", "position_source",
}  # fmt: skip


def with_rules(radius_nm: float, overrides, affiliation: bool) -> AgreementFile:
    fields = [ReleasableField.POSITION, ReleasableField.ALTITUDE]
    fields += [ReleasableField.VELOCITY]
    if affiliation:
        fields.append(ReleasableField.AFFILIATION)
    rules = AGREEMENT.releasability.model_copy(
        update={
            "fields": tuple(fields),
            "disclosure_radius_nm": radius_nm,
            "overrides": tuple(
                PartyReleasability(party=party, fields=tuple(extra))
                for party, extra in overrides.items()
            ),
        }
    )
    return AGREEMENT.model_copy(
        update={"releasability": rules, "zones": (*AGREEMENT.zones, BOX, PRIVATE)}
    )


CENTRE = (33.8, 38.8)  # on the edges of At-Tanf and the box


def _around(bearing_deg: float, dist_nm: float) -> tuple[float, float]:
    lon, lat, _ = WGS84.fwd(CENTRE[1], CENTRE[0], bearing_deg, nm_to_m(dist_nm))
    return float(lat), float(lon)


coordinate = st.builds(
    lambda known, bearing_deg, dist_nm: (
        _around(bearing_deg, dist_nm) if known else (math.nan, math.nan)
    ),
    st.integers(0, 9).map(bool),
    st.floats(0.0, 360.0),
    st.floats(0.0, 60.0),
)
row = st.tuples(
    st.sampled_from(PARTIES),
    coordinate,
    st.integers(-10, 500).map(lambda k: k * 100.0),  # altitude, ft
    st.sampled_from(STATUSES),
)
optional = st.sampled_from(
    [ReleasableField.CALLSIGN, ReleasableField.TYPE, ReleasableField.MISSION]
)


@st.composite
def scenarios(draw):
    rows = draw(st.lists(row, min_size=2, max_size=24))
    table = pd.DataFrame(
        {
            "party": [r[0] for r in rows],
            "icao24": [f"{k:06x}" for k in range(len(rows))],
            "callsign": [f"CS{k:04d}" for k in range(len(rows))],
            "squawk": ["2000"] * len(rows),
            "status": [r[3] for r in rows],
            "age_s": [1.0] * len(rows),
            "latitude": [r[1][0] for r in rows],
            "longitude": [r[1][1] for r in rows],
            "altitude": [r[2] for r in rows],
            "groundspeed": [300.0 + k for k in range(len(rows))],
            "track": [float(k % 360) for k in range(len(rows))],
            "vertical_rate": [0.0] * len(rows),
            "position_source": ["sbs"] * len(rows),
            "sources": ["sbs"] * len(rows),
            "last_update_s": [1.5e9 + k for k in range(len(rows))],
            "nacp": [8.0] * len(rows),
        }
    )
    if draw(st.booleans()):
        table["type"] = [f"T{k}" for k in range(len(rows))]
        table["mission"] = [f"M{k}" for k in range(len(rows))]
    alerts: list[Alert | tuple] = []
    if rows:
        index = st.integers(0, len(rows) - 1)
        for n, (a, b, state, as_tuple) in enumerate(
            draw(
                st.lists(
                    st.tuples(index, index, st.sampled_from(AlertState), st.booleans()),
                    max_size=6,
                )
            )
        ):
            pair = tuple(
                (str(table.at[k, "party"]), str(table.at[k, "icao24"])) for k in (a, b)
            )
            if as_tuple:
                alerts.append((f"t{n}", pair))
            else:
                alerts.append(
                    Alert(
                        alert_id=f"a{n}",
                        aircraft=(aircraft_key(*pair[0]), aircraft_key(*pair[1])),
                        parties=frozenset(p for p, _ in pair),
                        state=state,
                        level=1,
                        recent=(1, 1, 1),
                        last_seen_s=0.0,
                    )
                )
    overrides = draw(
        st.dictionaries(
            st.sampled_from(PARTIES[:4]), st.sets(optional, min_size=1), max_size=3
        )
    )
    agreement = with_rules(
        draw(st.sampled_from([5.0, 20.0, 40.0])), overrides, draw(st.booleans())
    )
    present = sorted(set(table["party"]))
    viewer = draw(
        st.sampled_from(present) if present and draw(st.booleans()) else
        st.sampled_from(VIEWERS)
    )  # fmt: skip
    return (
        table,
        viewer,
        alerts,
        draw(st.sampled_from(TIMES_S)),
        agreement,
    )


def oracle(table, viewer, alerts, now_s, agreement) -> dict[tuple[str, str], list]:
    """The reasons each foreign aircraft must be shown for, computed the slow way."""
    radius_m = nm_to_m(agreement.releasability.disclosure_radius_nm)
    now = dt.datetime.fromtimestamp(now_s, tz=dt.UTC)
    usable = (
        table["latitude"].notna()
        & table["longitude"].notna()
        & ~table["status"].isin(["dropped", "no position"])
    )
    own = table[usable & (table["party"] == viewer)]
    out: dict[tuple[str, str], list] = {}
    for k, aircraft in table.iterrows():
        key = (aircraft["party"], aircraft["icao24"])
        if key[0] == viewer:
            continue
        reasons: list[str] = []
        for alert in alerts:
            if isinstance(alert, Alert):
                if alert.state is not AlertState.ACTIVE:
                    continue
                alert_id = alert.alert_id
                pair = tuple(tuple(x.split(":", 1)) for x in alert.aircraft)
            else:
                alert_id, pair = alert
            ours = [p for p in pair if p[0] == viewer]
            if ours and key in pair and f"alert:{alert_id}" not in reasons:
                reasons.append(f"alert:{alert_id}")
        if usable[k]:
            lat, lon = aircraft["latitude"], aircraft["longitude"]
            for _, mine in own.iterrows():
                _, _, d_m = WGS84.inv(mine["longitude"], mine["latitude"], lon, lat)
                if d_m <= radius_m:
                    reasons.append("proximity")
                    break
            for zone in agreement.zones:
                polygon = shapely.Polygon([(x, y) for y, x in zone.polygon])
                if (
                    zone.shared
                    and polygon.contains(shapely.Point(lon, lat))
                    and zone.floor_ft <= aircraft["altitude"] <= zone.ceiling_ft
                    and (zone.starts_at is None or zone.starts_at <= now)
                    and (zone.ends_at is None or now < zone.ends_at)
                ):
                    reasons.append(f"zone:{zone.id}")
        if reasons:
            out[key] = reasons
    return out


@given(scenarios())
def test_releases_are_exactly_the_due_ones_with_only_releasable_fields(scenario):
    table, viewer, alerts, now_s, agreement = scenario
    need = NeedToKnow.from_agreement(agreement, secret=SECRET)
    result = visible_picture(table, viewer, alerts=alerts, now_s=now_s, need=need)

    # Own rows: all of them, with every column.
    assert sorted(result.own["icao24"]) == sorted(
        table.loc[table["party"] == viewer, "icao24"]
    )
    assert set(table.columns) <= set(result.own.columns)

    # Foreign rows: exactly those with a reason that holds, and for that reason.
    due = oracle(table, viewer, alerts, now_s, agreement)
    by_handle = {
        need.track_id(viewer, party, icao24): reasons
        for (party, icao24), reasons in due.items()
    }
    assert {r.track_id: list(r.reasons) for r in result.releases} == by_handle
    assert list(result.foreign["track_id"]) == [r.track_id for r in result.releases]
    for kind in sorted({r.split(":")[0] for why in due.values() for r in why}):
        event(f"released for {kind}")

    # Nothing withheld leaks: no picture-only column, no unreleased value.
    assert not set(result.foreign.columns) & PICTURE_ONLY
    source = table.set_index("icao24")
    records = result.foreign_records()
    for release, record, (_, cells) in zip(
        result.releases, records, result.foreign.iterrows(), strict=True
    ):
        fields = need.released_fields(release.party)
        allowed = {"track_id"} | {name for f in fields for name in FIELD_COLUMNS[f]}
        assert set(record) <= allowed
        assert set(record) == {"track_id"} | (allowed & (set(table.columns) | {"bloc"}))
        shown = {name for name, value in cells.items() if not pd.isna(value)}
        assert shown <= allowed
        icao24 = next(
            i
            for p, i in due
            if p == release.party and need.track_id(viewer, p, i) == release.track_id
        )
        assert icao24 not in set(map(str, cells.to_numpy()))
        for name, value in record.items():
            if name in source.columns:
                expected = source.at[icao24, name]
                assert value == expected or (value is None and pd.isna(expected))
        if ReleasableField.AFFILIATION in fields:
            assert record["party"] == release.party
            assert record["bloc"] == need.bloc_of(release.party)
    # Pruning keeps nothing it should not: released positions are finite when due to
    # proximity or a zone.
    for release, record in zip(result.releases, records, strict=True):
        if any(not r.startswith("alert:") for r in release.reasons):
            assert record["latitude"] is not None
