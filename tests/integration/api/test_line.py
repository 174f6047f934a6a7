"""The deconfliction line over the API: messages, acknowledgements, escalation,
notifications that become zones, identification queries, alert notices, channels."""

from __future__ import annotations

import json

from tests.integration.api.conftest import T0_S
from tests.integration.api.scenario import (
    FLIGHTS,
    GBR_TANKER,
    RUS_TRANSPORT,
    USA_FIGHTER,
)


def send(deployment, party, kind, body, role="duty-officer", **extra):
    return deployment.client.post(
        "/api/v1/messages",
        json={"kind": kind, "body": body, **extra},
        headers=deployment.auth(party, role),
    )


def messages(deployment, party):
    answer = deployment.client.get("/api/v1/messages", headers=deployment.auth(party))
    assert answer.status_code == 200
    return answer.json()


def events(deployment, message_id):
    return [
        (e.kind, e.party, e.role)
        for e in deployment.runtime.repository.message_events(message_id)
    ]


def report_all(deployment):
    for party in ("usa", "rus", "gbr"):
        body = [
            f.report(T0_S, deployment.clock.now_s) for f in FLIGHTS if f.party == party
        ]
        deployment.client.post(
            "/api/v1/reports", json=body, headers=deployment.auth(party)
        )


def tanker_position(deployment):
    now = GBR_TANKER.report(T0_S, deployment.clock.now_s)
    return float(str(now["latitude"])), float(str(now["longitude"]))


def notify_box(deployment, north, south, west, east):
    """rus notifies planned operations in a box, FL200-FL400, for an hour."""
    area = [[north, west], [north, east], [south, east], [south, west]]
    sent = send(
        deployment, "rus", "notification",
        {"area": area, "floor_ft": 20000.0, "ceiling_ft": 40000.0,
         "starts_at_s": T0_S, "ends_at_s": T0_S + 3600.0,
         "description": "training area"},
    )  # fmt: skip
    assert sent.status_code == 200
    return sent.json()


class TestMessages:
    def test_free_text_delivered_acknowledged_and_kept(self, deployment):
        sent = send(
            deployment, "usa", "free-text",
            {"text": "Tanker track moving north tonight", "language": "en"},
            recipients=["rus"],
        )  # fmt: skip
        assert sent.status_code == 200
        message = sent.json()
        assert message["text"].endswith("Tanker track moving north tonight")
        assert message["translation"] is None  # free text is not machine-translated
        assert (message["sender"], message["recipients"]) == ("usa", ["rus"])
        (received,) = messages(deployment, "rus")
        assert received["message_id"] == message["message_id"]
        assert ("delivered", "rus", None) in events(deployment, message["message_id"])
        assert messages(deployment, "gbr") == []
        acked = deployment.client.post(
            f"/api/v1/messages/{message['message_id']}/ack",
            headers=deployment.auth("rus"),
        )
        assert acked.json() == {
            "message_id": message["message_id"],
            "state": "acknowledged",
        }
        again = deployment.client.post(
            f"/api/v1/messages/{message['message_id']}/ack",
            headers=deployment.auth("rus"),
        )
        assert again.status_code == 409
        not_mine = deployment.client.post(
            f"/api/v1/messages/{message['message_id']}/ack",
            headers=deployment.auth("gbr"),
        )
        assert not_mine.status_code == 404

    def test_unacknowledged_messages_climb_the_ladder(self, deployment):
        sent = send(
            deployment, "rus", "link-test", {"nonce": "drill-1"}, recipients=["usa"]
        ).json()
        message_id = sent["message_id"]
        deployment.cycle(119.0)
        assert [k for k, *_ in events(deployment, message_id)].count("escalated") == 0
        deployment.cycle(2.0)  # 121 s: senior officer (after_s 120), and overdue
        kinds = [(k, r) for k, _, r in events(deployment, message_id)]
        assert ("escalated", "senior-officer") in kinds
        assert ("overdue", None) in [(k, None) for k, _ in kinds if k == "overdue"]
        deployment.cycle(180.0)  # 301 s: command
        kinds = [(k, r) for k, _, r in events(deployment, message_id)]
        assert ("escalated", "command") in kinds
        acked = deployment.client.post(
            f"/api/v1/messages/{message_id}/ack",
            headers=deployment.auth("usa", "commander"),
        )
        assert acked.status_code == 200
        deployment.cycle(600.0)
        assert [k for k, *_ in events(deployment, message_id)].count("escalated") == 2

    def test_a_russian_message_keeps_its_original_and_its_translation(self, deployment):
        sent = send(
            deployment, "rus", "link-test", {"nonce": "проверка"}, language="ru",
            recipients=["usa"],
        ).json()  # fmt: skip
        assert "ПРОВЕРКА СВЯЗИ" in sent["text"]
        assert sent["translation"] is not None
        assert "link" in sent["translation"].lower()

    def test_bad_messages_are_refused_naming_the_problem(self, deployment):
        unknown = send(deployment, "usa", "telegram", {})
        assert unknown.status_code == 422
        assert "not a message kind" in unknown.json()["detail"]
        answer = send(deployment, "usa", "identification-answer", {"query_id": "x"})
        assert "only the service" in answer.json()["detail"]
        nobody = send(
            deployment, "usa", "link-test", {"nonce": "n"}, recipients=["usa"]
        )
        assert nobody.status_code == 422
        analyst = send(deployment, "usa", "link-test", {"nonce": "n"}, role="analyst")
        assert analyst.status_code == 403

    def test_sent_while_both_feeds_are_open(self, deployment):
        # the sender's feed shows its own message too; only the recipient's copy
        # counts as delivered
        client = deployment.client
        with (
            client.websocket_connect("/api/v1/live", headers=deployment.auth("usa")) as usa,
            client.websocket_connect("/api/v1/live", headers=deployment.auth("rus")) as rus,
        ):  # fmt: skip
            assert usa.receive_json()["type"] == "hello"
            assert rus.receive_json()["type"] == "hello"
            sent = send(
                deployment, "usa", "free-text",
                {"text": "Climbing to FL300 now", "language": "en"},
                recipients=["rus"],
            )  # fmt: skip
            assert sent.status_code == 200, sent.text
            message_id = sent.json()["message_id"]
            for ws in (usa, rus):
                pushed = ws.receive_json()
                assert pushed["type"] == "message"
                assert pushed["message"]["message_id"] == message_id
            delivered = [
                party
                for kind, party, _ in events(deployment, message_id)
                if kind == "delivered"
            ]
            assert delivered == ["rus"]
            report_all(deployment)
            report = RUS_TRANSPORT.report(T0_S, deployment.clock.now_s)
            query = send(
                deployment, "usa", "identification-query",
                {"lat_deg": report["latitude"], "lon_deg": report["longitude"],
                 "altitude_ft": 30000.0, "observed_at_s": deployment.clock.now_s,
                 "radius_nm": 5.0},
            )  # fmt: skip
            assert query.status_code == 200, query.text
            pushed = [usa.receive_json() for _ in range(2)]
            answer = [
                m["message"]
                for m in pushed
                if m["message"]["in_reply_to"] == query.json()["message_id"]
            ]
            (reply,) = answer
            assert reply["sender"] == "skypact"


class TestPicturesOnTheLine:
    def test_an_identification_query_answered_with_the_affiliation_only(
        self, deployment
    ):
        report_all(deployment)
        report = RUS_TRANSPORT.report(T0_S, deployment.clock.now_s)
        query = send(
            deployment, "usa", "identification-query",
            {"lat_deg": report["latitude"], "lon_deg": report["longitude"],
             "altitude_ft": 30000.0, "observed_at_s": deployment.clock.now_s,
             "radius_nm": 5.0},
        ).json()  # fmt: skip
        answers = [
            m
            for m in messages(deployment, "usa")
            if m["in_reply_to"] == query["message_id"]
        ]
        (answer,) = answers
        assert answer["sender"] == "skypact"
        (match,) = answer["body"]["matches"]
        assert (match["party"], match["bloc"]) == ("rus", "russian")
        assert match["distance_nm"] < 1.0
        text = json.dumps(answer)
        assert RUS_TRANSPORT.icao24 not in text
        assert RUS_TRANSPORT.callsign not in text

    def test_a_notification_becomes_a_zone_that_releases_aircraft_in_it(
        self, deployment
    ):
        report_all(deployment)
        lat, lon = tanker_position(deployment)
        sent = notify_box(deployment, lat + 0.5, lat - 0.5, lon - 0.5, lon + 0.5)
        assert "FL200" in sent["text"]
        rus = deployment.client.get("/api/v1/picture", headers=deployment.auth("rus"))
        (released,) = rus.json()["others"]
        assert released["party"] == "gbr"
        assert GBR_TANKER.callsign not in rus.text


def notify_area_ahead_of_the_tanker(deployment):
    """rus notifies an area whose northern edge is 1 NM south of the British tanker
    (flying south at 450 kt: it enters some 8 s later), FL200-FL400, for an hour."""
    lat, lon = tanker_position(deployment)
    north = lat - 1.0 / 60.0
    sent = notify_box(deployment, north, north - 0.3, lon - 0.3, lon + 0.3)
    return sent["message_id"]


def zone_notices(deployment, party):
    return [m for m in messages(deployment, party) if m["kind"] == "zone-entry-notice"]


class TestNotifiedAreas:
    def test_an_aircraft_of_the_other_side_entering_is_notified_to_both(
        self, deployment
    ):
        report_all(deployment)
        deployment.cycle()
        notice_id = notify_area_ahead_of_the_tanker(deployment)
        for _ in range(6):
            report_all(deployment)
            deployment.cycle()
        assert zone_notices(deployment, "rus") == []  # not in it yet
        for _ in range(10):
            report_all(deployment)
            deployment.cycle()
        (to_owner,) = zone_notices(deployment, "rus")
        assert to_owner["sender"] == "skypact"
        assert to_owner["recipients"] == ["rus"]
        body = to_owner["body"]
        assert (body["owner"], body["party"], body["bloc"]) == (
            "rus",
            "gbr",
            "coalition",
        )
        assert body["notice_id"] == notice_id
        assert body["zone_id"] == f"notice-{notice_id.lower()}"
        assert 20000.0 <= body["altitude_ft"] <= 40000.0
        assert body["icao24"] is None
        assert body["callsign"] is None
        assert GBR_TANKER.icao24 not in json.dumps(messages(deployment, "rus"))
        assert GBR_TANKER.callsign not in json.dumps(messages(deployment, "rus"))
        assert "ZONE ENTRY" in to_owner["text"]
        assert to_owner["translation"]  # the Russian text is kept beside it
        (to_own_party,) = zone_notices(deployment, "gbr")
        assert to_own_party["recipients"] == ["gbr"]
        assert to_own_party["body"]["icao24"] == GBR_TANKER.icao24
        assert to_own_party["body"]["callsign"] == GBR_TANKER.callsign
        assert zone_notices(deployment, "usa") == []  # not its aircraft, not its zone
        # acknowledged like any message
        answer = deployment.client.post(
            f"/api/v1/messages/{to_owner['message_id']}/ack",
            headers=deployment.auth("rus"),
        )
        assert answer.status_code == 200
        assert deployment.runtime.repository.verify_audit().ok

    def test_a_notified_area_outlives_a_restart(self, tmp_path):
        from skypact.runtime import open_runtime
        from tests.integration.api.conftest import deploy

        first = deploy(tmp_path)
        with first.client:
            report_all(first)
            first.cycle()
            notice_id = notify_area_ahead_of_the_tanker(first)
        first.runtime.close()
        again = open_runtime(first.runtime.settings, clock=first.clock)
        try:
            (zone,) = again.service.liaison.zones
            assert zone.id == f"notice-{notice_id.lower()}"
            for _ in range(16):
                first.clock.now_s += 1.0
                principal = again.repository.authenticate(
                    first.token("gbr"), first.clock()
                )
                body = [GBR_TANKER.report(T0_S, first.clock.now_s)]
                again.service.submit_reports(principal, body)
                again.service.cycle()
            notices = [
                m for m in again.repository.messages("rus")
                if m.kind == "zone-entry-notice"
            ]  # fmt: skip
            assert [m.body["party"] for m in notices] == ["gbr"]
        finally:
            again.close()


class TestAlertsOnTheLine:
    def test_alert_notices_go_to_the_two_parties(self, deployment):
        for _ in range(12):
            report_all(deployment)
            deployment.cycle()
        for party in ("usa", "rus"):
            notices = [
                m for m in messages(deployment, party) if m["kind"] == "alert-notice"
            ]
            assert notices, party
            assert notices[0]["sender"] == "skypact"
            assert set(notices[0]["recipients"]) == {"usa", "rus"}
        assert messages(deployment, "gbr") == []
        text = json.dumps(messages(deployment, "rus"))
        assert USA_FIGHTER.icao24 not in text
        assert USA_FIGHTER.callsign not in text


class TestChannels:
    def test_suspension_records_without_delivering_until_restored(self, deployment):
        (channel,) = deployment.client.get(
            "/api/v1/channels", headers=deployment.auth("usa")
        ).json()
        assert channel["channel_id"] == "coalition~russian"
        assert channel["state"] == "active"
        path = f"/api/v1/channels/{channel['channel_id']}"
        duty = deployment.client.post(
            f"{path}/suspend", json={"reason": "x"}, headers=deployment.auth("rus")
        )
        assert duty.status_code == 403
        suspended = deployment.client.post(
            f"{path}/suspend",
            json={"reason": "protest"},
            headers=deployment.auth("rus", "commander"),
        )
        assert suspended.json()["state"] == "suspended"
        text = send(
            deployment, "usa", "free-text", {"text": "hello", "language": "en"},
            recipients=["rus"],
        )  # fmt: skip
        assert text.status_code == 200
        drill = send(deployment, "usa", "link-test", {"nonce": "d"}, recipients=["rus"])
        assert drill.status_code == 409
        assert "suspended" in drill.json()["detail"]
        messages(deployment, "rus")
        kinds = [k for k, *_ in events(deployment, text.json()["message_id"])]
        assert "delivered" not in kinds
        not_theirs = deployment.client.post(
            f"{path}/restore", headers=deployment.auth("usa", "commander")
        )
        assert not_theirs.status_code == 409
        restored = deployment.client.post(
            f"{path}/restore", headers=deployment.auth("rus", "commander")
        )
        assert restored.json()["state"] == "restored"
        audit = [r.kind for r in deployment.runtime.repository.audit_records()]
        assert audit.count("channel") == 2
