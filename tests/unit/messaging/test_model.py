"""Message bodies and messages: what may be sent, and what a notification declares."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skypact.agreement.document import parse_agreement
from skypact.alerting.events import inside_zone, lines_and_zones
from skypact.errors import ConfigError
from skypact.messaging.model import (
    AlertNotice,
    FreeText,
    IdentificationAnswer,
    IdentificationQuery,
    IdentifiedAircraft,
    Language,
    LinkTest,
    Message,
    MessageKind,
    OperationsNotice,
    kind_of,
    notice_zone,
)
from skypact.units import ft_to_m

EXAMPLE = Path(__file__).resolve().parents[3] / "examples/agreements/syria-2015.toml"
T0 = 1445342400.0  # 2015-10-20 12:00Z
# A triangle east of Palmyra, (lat, lon).
TRIANGLE = ((34.6, 38.3), (34.9, 38.9), (34.3, 38.9))


def notice(**changes) -> OperationsNotice:
    fields: dict[str, Any] = {
        "area": TRIANGLE,
        "floor_ft": 15000.0,
        "ceiling_ft": 30000.0,
        "starts_at_s": T0,
        "ends_at_s": T0 + 4 * 3600.0,
        "description": "Two-ship patrol",
    }
    return OperationsNotice(**(fields | changes))


def message(body, **changes) -> Message:
    fields: dict[str, Any] = {
        "message_id": "m-1",
        "kind": kind_of(body),
        "sender": "usa",
        "recipients": frozenset({"rus"}),
        "body": body,
        "sent_at_s": T0,
        "language": Language.EN,
        "text": "rendered",
        "translation": "переведено",
        "deadline_s": T0 + 120.0,
    }
    return Message(**(fields | changes))


class TestMessageKind:
    def test_wire_names(self):
        assert sorted(MessageKind) == [
            "alert-notice",
            "free-text",
            "identification-answer",
            "identification-query",
            "link-test",
            "notification",
            "zone-entry-notice",
        ]

    @pytest.mark.parametrize(
        ("body", "kind"),
        [
            (FreeText(text="hello", language=Language.EN), MessageKind.FREE_TEXT),
            (notice(), MessageKind.NOTIFICATION),
            (
                IdentificationQuery(
                    lat_deg=35.0, lon_deg=38.0, altitude_ft=None, observed_at_s=T0
                ),
                MessageKind.IDENTIFICATION_QUERY,
            ),
            (IdentificationAnswer(query_id="q"), MessageKind.IDENTIFICATION_ANSWER),
            (
                AlertNotice(alert_id="a", level=1, parties=frozenset({"usa", "rus"})),
                MessageKind.ALERT_NOTICE,
            ),
            (LinkTest(nonce="n"), MessageKind.LINK_TEST),
        ],
    )
    def test_each_body_has_its_kind(self, body, kind):
        assert kind_of(body) is kind

    def test_anything_else_is_not_a_body(self):
        with pytest.raises(TypeError, match="str is not a message body"):
            kind_of("hello")  # type: ignore[arg-type]


class TestOperationsNotice:
    def test_open_and_closed_polygons_are_the_same_area(self):
        closed = notice(area=(*TRIANGLE, TRIANGLE[0]))
        assert closed.ring == TRIANGLE
        assert notice().ring == TRIANGLE

    def test_an_area_given_as_lists_is_kept_as_pairs(self):
        body = notice(area=[[34.6, 38.3], [34.9, 38.9], [34.3, 38.9], [34.6, 38.3]])
        assert body.area == (*TRIANGLE, TRIANGLE[0])
        assert body.ring == TRIANGLE

    @pytest.mark.parametrize(
        ("area", "reason"),
        [
            (((34.6, 38.3, 0.0), *TRIANGLE[1:]), "pairs"),
            ((("north", 38.3), *TRIANGLE[1:]), "pairs"),
            (TRIANGLE[:2], "at least three distinct points"),
            ((*TRIANGLE[:2], TRIANGLE[0]), "at least three distinct points"),
            # A bow tie: its edges cross.
            (((34.0, 38.0), (35.0, 39.0), (35.0, 38.0), (34.0, 39.0)), "simple"),
            # All on one meridian: no area.
            (((34.0, 38.0), (34.5, 38.0), (35.0, 38.0)), "simple"),
            (((91.0, 38.0), (34.5, 38.5), (35.0, 38.0)), "latitude"),
            (((34.0, 181.0), (34.5, 38.5), (35.0, 38.0)), "longitude"),
            (((34.0, math.nan), (34.5, 38.5), (35.0, 38.0)), "finite"),
        ],
    )
    def test_a_bad_area_is_refused(self, area, reason):
        with pytest.raises(ConfigError, match=reason) as info:
            notice(area=area)
        assert info.value.name == "area"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"floor_ft": 30000.0}, "floor_ft"),
            ({"floor_ft": 31000.0}, "floor_ft"),
            ({"floor_ft": -3000.0}, "floor_ft"),
            ({"ceiling_ft": 120000.0}, "ceiling_ft"),
            ({"ceiling_ft": math.inf}, "ceiling_ft"),
            ({"ends_at_s": T0}, "starts_at_s"),
            ({"starts_at_s": math.nan}, "starts_at_s"),
            ({"ends_at_s": math.inf}, "ends_at_s"),
        ],
    )
    def test_a_bad_band_or_window_names_the_field(self, changes, field):
        with pytest.raises(ConfigError) as info:
            notice(**changes)
        assert info.value.name == field


class TestIdentification:
    def test_query_defaults_to_five_nm(self):
        query = IdentificationQuery(
            lat_deg=35.0, lon_deg=38.0, altitude_ft=21000.0, observed_at_s=T0
        )
        assert query.radius_nm == 5.0

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"lat_deg": -90.5}, "lat_deg/lon_deg"),
            ({"lon_deg": math.inf}, "lat_deg/lon_deg"),
            ({"altitude_ft": math.nan}, "altitude_ft"),
            ({"radius_nm": 0.0}, "radius_nm"),
            ({"radius_nm": math.inf}, "radius_nm"),
            ({"observed_at_s": math.nan}, "observed_at_s"),
        ],
    )
    def test_bad_queries_are_refused(self, changes, field):
        fields = {
            "lat_deg": 35.0,
            "lon_deg": 38.0,
            "altitude_ft": None,
            "observed_at_s": T0,
        }
        with pytest.raises(ConfigError) as info:
            IdentificationQuery(**(fields | changes))
        assert info.value.name == field

    def test_an_answer_can_carry_only_the_affiliation(self):
        """Need to know: no callsign, icao24, type or mission has a place to go."""
        assert [f.name for f in dataclasses.fields(IdentifiedAircraft)] == [
            "party",
            "bloc",
            "distance_nm",
        ]
        with pytest.raises(TypeError):
            IdentifiedAircraft(  # type: ignore[call-arg]
                party="usa", bloc="coalition", distance_nm=1.0, callsign="VIPER11"
            )

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"party": " "}, "party"),
            ({"bloc": ""}, "bloc"),
            ({"distance_nm": -0.1}, "distance_nm"),
            ({"distance_nm": math.nan}, "distance_nm"),
        ],
    )
    def test_bad_matches_are_refused(self, changes, field):
        fields = {"party": "usa", "bloc": None, "distance_nm": 1.0}
        with pytest.raises(ConfigError) as info:
            IdentifiedAircraft(**(fields | changes))
        assert info.value.name == field

    def test_an_answer_names_its_query(self):
        with pytest.raises(ConfigError, match="query_id"):
            IdentificationAnswer(query_id="")


class TestOtherBodies:
    @pytest.mark.parametrize(
        ("build", "field"),
        [
            (lambda: FreeText(text="  ", language=Language.EN), "text"),
            (lambda: FreeText(text="hi", language="fr"), "language"),  # type: ignore[arg-type]
            (lambda: LinkTest(nonce=""), "nonce"),
            (
                lambda: AlertNotice(alert_id="", level=1, parties=frozenset({"x"})),
                "alert_id",
            ),
            (
                lambda: AlertNotice(alert_id="a", level=0, parties=frozenset({"x"})),
                "level",
            ),
            (
                lambda: AlertNotice(alert_id="a", level=10, parties=frozenset({"x"})),
                "level",
            ),
            (
                lambda: AlertNotice(alert_id="a", level=1, parties=frozenset()),
                "parties",
            ),
            (
                lambda: AlertNotice(
                    alert_id="a", level=1, parties=frozenset({"x"}), los_at_s=math.inf
                ),
                "los_at_s",
            ),
        ],
    )
    def test_refused(self, build, field):
        with pytest.raises(ConfigError) as info:
            build()
        assert info.value.name == field


class TestMessage:
    def test_a_valid_message(self):
        sent = message(notice())
        assert sent.kind is MessageKind.NOTIFICATION
        assert sent.in_reply_to is None

    def test_an_answer_replies_to_its_query(self):
        answer = IdentificationAnswer(query_id="q-7")
        assert message(answer, in_reply_to="q-7").in_reply_to == "q-7"
        with pytest.raises(ConfigError, match="replies to its query"):
            message(answer, in_reply_to="q-8")
        with pytest.raises(ConfigError, match="replies to its query"):
            message(answer)

    def test_free_text_is_sent_in_its_own_language(self):
        text = FreeText(text="Прошу связаться", language=Language.RU)
        assert message(text, language=Language.RU, translation=None).language == "ru"
        with pytest.raises(ConfigError, match="free text's language"):
            message(text, language=Language.EN, translation=None)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"message_id": ""}, "message_id"),
            ({"sender": ""}, "sender"),
            ({"recipients": frozenset()}, "recipients"),
            ({"recipients": frozenset({""})}, "recipients"),
            ({"recipients": frozenset({"rus", "usa"})}, "recipients"),
            ({"kind": MessageKind.LINK_TEST}, "kind"),
            ({"sent_at_s": math.nan}, "sent_at_s"),
            ({"deadline_s": T0}, "deadline_s"),
            ({"deadline_s": math.inf}, "deadline_s"),
            ({"language": "de"}, "language"),
            ({"text": ""}, "text"),
            ({"in_reply_to": "m-1"}, "in_reply_to"),
        ],
    )
    def test_refused(self, changes, field):
        with pytest.raises(ConfigError) as info:
            message(notice(), **changes)
        assert info.value.name == field


class TestNoticeZone:
    def test_a_notification_becomes_a_shared_zone(self):
        zone = notice_zone(message(notice()), zone_id="notice-m-1")
        assert zone.id == "notice-m-1"
        assert zone.name == "Two-ship patrol"
        assert zone.owner == "usa"
        assert zone.shared
        assert zone.polygon == TRIANGLE
        assert (zone.floor_ft, zone.ceiling_ft) == (15000.0, 30000.0)
        assert zone.starts_at == dt.datetime(2015, 10, 20, 12, tzinfo=dt.UTC)
        assert zone.ends_at == dt.datetime(2015, 10, 20, 16, tzinfo=dt.UTC)

    def test_the_owner_may_be_the_senders_bloc(self):
        zone = notice_zone(
            message(notice(area=(*TRIANGLE, TRIANGLE[0]), description="")),
            zone_id="n1",
            owner="coalition",
        )
        assert zone.owner == "coalition"
        assert zone.polygon == TRIANGLE
        assert zone.name == "Notified operations (m-1)"

    def test_detection_sees_aircraft_inside_the_notified_zone(self):
        """The zone works with the agreement's zone-entry detection as it is."""
        content = parse_agreement(EXAMPLE.read_bytes(), source=str(EXAMPLE)).content
        zone = notice_zone(message(notice()), zone_id="notice-m-1", owner="coalition")
        with_notice = content.model_copy(update={"zones": (*content.zones, zone)})
        _, zones = lines_and_zones(with_notice)
        spec = next(z for z in zones if z.id == "notice-m-1")
        lat = np.array([34.6, 34.6, 35.5])
        lon = np.array([38.7, 38.7, 38.7])
        alt_m = ft_to_m(np.array([20000.0, 10000.0, 20000.0]))
        during = inside_zone(spec, lat, lon, alt_m, T0 + 3600.0)
        assert during.tolist() == [True, False, False]
        after = inside_zone(spec, lat, lon, alt_m, T0 + 5 * 3600.0)
        assert not after.any()

    def test_only_a_notification_declares_a_zone(self):
        with pytest.raises(TypeError, match="link-test"):
            notice_zone(message(LinkTest(nonce="n")), zone_id="z")

    @pytest.mark.parametrize(
        ("zone_id", "owner", "field"),
        [("Notice 1", None, "id"), ("n1", "Coalition!", "owner")],
    )
    def test_zone_ids_and_owners_are_agreement_identifiers(self, zone_id, owner, field):
        with pytest.raises(ConfigError) as info:
            notice_zone(message(notice()), zone_id=zone_id, owner=owner)
        assert info.value.name == field
