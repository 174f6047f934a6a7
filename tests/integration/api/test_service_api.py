"""The HTTP API end to end over a real SQLite database: reports in, the picture and
alerts out on a need-to-know basis, acknowledgements, refusals in the audit chain."""

from __future__ import annotations

import json

from tests.integration.api.conftest import T0_S
from tests.integration.api.scenario import (
    FLIGHTS,
    GBR_TANKER,
    RUS_FIGHTER,
    RUS_TRANSPORT,
    USA_FIGHTER,
)


def post(deployment, party, flights, t_s, **headers):
    body = [f.report(T0_S, t_s) for f in flights if f.party == party]
    return deployment.client.post(
        "/api/v1/reports", json=body, headers={**deployment.auth(party), **headers}
    )


def fly(deployment, seconds):
    """Every party reports its aircraft every second, then a cycle runs."""
    for _ in range(seconds):
        for party in ("usa", "rus", "gbr"):
            assert (
                post(deployment, party, FLIGHTS, deployment.clock.now_s).status_code
                == 200
            )
        deployment.cycle()


def audit_kinds(deployment):
    return [
        (r.kind, json.loads(r.payload))
        for r in deployment.runtime.repository.audit_records()
    ]


class TestReports:
    def test_counts_come_back_once_committed(self, deployment):
        answer = post(deployment, "usa", FLIGHTS, T0_S)
        assert answer.status_code == 200
        receipt = answer.json()
        assert (receipt["rows"], receipt["accepted"], receipt["rejected"]) == (1, 1, {})
        stored = deployment.runtime.repository.reports(party="usa")
        assert list(stored["icao24"]) == ["ae1234"]

    def test_impossible_values_are_counted_with_their_reason(self, deployment):
        good = USA_FIGHTER.report(T0_S, T0_S)
        fast = {**good, "icao24": "ae9999", "groundspeed": 2500.0}
        pole = {**good, "icao24": "ae8888", "latitude": 95.0}
        answer = deployment.client.post(
            "/api/v1/reports", json=[good, fast, pole], headers=deployment.auth("usa")
        )
        receipt = answer.json()
        assert receipt["rows"] == 3
        assert receipt["accepted"] == 1
        assert sum(receipt["rejected"].values()) == 2
        stored = deployment.runtime.repository.reports(party="usa")
        assert len(stored) == 3  # nothing accepted or rejected is lost

    def test_another_partys_aircraft_are_refused_and_audited(self, deployment):
        body = [{**RUS_FIGHTER.report(T0_S, T0_S), "party": "rus"}]
        answer = deployment.client.post(
            "/api/v1/reports", json=body, headers=deployment.auth("usa")
        )
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
        assert "only its own aircraft" in answer.json()["detail"]
        refused = [p for k, p in audit_kinds(deployment) if k == "refused"]
        assert refused[-1]["reason"] == "reports for another party"
        assert deployment.runtime.repository.reports(party="rus").empty

    def test_a_replayed_batch_is_refused_and_audited(self, deployment):
        first = post(deployment, "usa", FLIGHTS, T0_S, **{"X-Batch-Id": "b-1"})
        again = post(deployment, "usa", FLIGHTS, T0_S, **{"X-Batch-Id": "b-1"})
        assert (first.status_code, again.status_code) == (200, 409)
        # the same content without an identifier is a replay too
        assert post(deployment, "usa", FLIGHTS, T0_S + 1).status_code == 200
        assert post(deployment, "usa", FLIGHTS, T0_S + 1).status_code == 409
        reasons = [p["reason"] for k, p in audit_kinds(deployment) if k == "refused"]
        assert reasons == ["batch replayed", "batch replayed"]

    def test_a_malformed_batch_names_the_field(self, deployment):
        answer = deployment.client.post(
            "/api/v1/reports",
            json=[{"timestamp": T0_S, "latitude": 1.0}],
            headers=deployment.auth("usa"),
        )
        assert answer.status_code == 422
        assert "icao24" in answer.text


class TestAuthentication:
    def test_missing_forged_and_revoked_tokens_are_refused_and_audited(
        self, deployment
    ):
        token = deployment.token("usa")
        token_id = token.split(".")[0]
        forged = token_id + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        for headers in ({}, {"Authorization": f"Bearer {forged}"},
                        {"Authorization": "Basic dXNhOnVzYQ=="}):  # fmt: skip
            answer = deployment.client.get("/api/v1/picture", headers=headers)
            assert answer.status_code == 401
            assert answer.headers["www-authenticate"] == "Bearer"
            assert token.split(".")[1] not in answer.text
        deployment.runtime.repository.revoke_token(token_id)
        answer = deployment.client.get(
            "/api/v1/picture", headers=deployment.auth("usa")
        )
        assert answer.status_code == 401
        refused = [p for k, p in audit_kinds(deployment) if k == "refused"]
        assert [p["reason"] for p in refused] == [
            "missing",
            "unknown",
            "missing",
            "revoked",
        ]
        assert refused[1]["token_id"] == token_id
        assert all(token.split(".")[1] not in json.dumps(p) for p in refused)

    def test_an_expired_token(self, deployment):
        repo = deployment.runtime.repository
        issued = repo.create_token("usa", "analyst", expires_at_s=T0_S + 60)
        headers = {"Authorization": f"Bearer {issued.token}"}
        assert (
            deployment.client.get("/api/v1/picture", headers=headers).status_code == 200
        )
        deployment.clock.now_s += 61
        answer = deployment.client.get("/api/v1/picture", headers=headers)
        assert answer.status_code == 401
        assert "expired" in answer.json()["detail"]


class TestNeedToKnow:
    def test_a_party_sees_all_of_its_own_and_nothing_far_away(self, deployment):
        post(deployment, "usa", FLIGHTS, T0_S)
        post(deployment, "gbr", FLIGHTS, T0_S)
        post(deployment, "rus", FLIGHTS, T0_S)
        usa = deployment.client.get("/api/v1/picture", headers=deployment.auth("usa"))
        picture = usa.json()
        assert [t["icao24"] for t in picture["own"]] == ["ae1234"]
        assert picture["own"][0]["callsign"] == "VIPER11"
        # the Russian fighter is 40 NM away (radius 20 NM); the tanker is a bloc
        # partner's, 200 NM away: neither is released
        assert picture["others"] == []

    def test_an_alert_releases_the_pair_to_both_and_to_nobody_else(self, deployment):
        fly(deployment, 12)
        alerts = {
            party: deployment.client.get(
                "/api/v1/alerts", headers=deployment.auth(party)
            ).json()
            for party in ("usa", "rus", "gbr")
        }
        assert len(alerts["usa"]) == len(alerts["rus"]) == 1
        assert alerts["gbr"] == []
        usa_view = alerts["usa"][0]
        own, other = sorted(usa_view["aircraft"], key=lambda a: not a["own"])
        assert own["icao24"] == "ae1234"
        assert (other["icao24"], other["party"]) == (None, "rus")
        rus_picture = deployment.client.get(
            "/api/v1/picture", headers=deployment.auth("rus")
        ).json()
        (released,) = rus_picture["others"]
        assert released["party"] == "usa"
        (rus_alert,) = alerts["rus"]
        (usa_seen_by_rus,) = [a for a in rus_alert["aircraft"] if not a["own"]]
        assert released["track_id"] == usa_seen_by_rus["track_id"] != own["track_id"]
        assert set(released) == {
            "track_id", "latitude", "longitude", "last_update_s", "altitude",
            "groundspeed", "track", "vertical_rate", "party", "bloc",
        }  # fmt: skip
        assert "icao24" not in released
        assert "callsign" not in released
        assert "VIPER11" not in json.dumps(rus_picture)
        assert "ae1234" not in json.dumps(rus_picture)
        gbr_picture = deployment.client.get(
            "/api/v1/picture", headers=deployment.auth("gbr")
        ).json()
        assert gbr_picture["others"] == []
        assert {t["icao24"] for t in gbr_picture["own"]} == {GBR_TANKER.icao24}
        releases = [p for k, p in audit_kinds(deployment) if k == "release"]
        viewers = {p["viewer"] for p in releases if p["started"]}
        assert viewers == {"usa", "rus"}

    def test_acknowledgement_by_each_party_involved(self, deployment):
        fly(deployment, 12)
        (alert,) = deployment.client.get(
            "/api/v1/alerts", headers=deployment.auth("usa")
        ).json()
        alert_id = alert["alert_id"]
        acked = deployment.client.post(
            f"/api/v1/alerts/{alert_id}/ack", headers=deployment.auth("usa")
        )
        assert acked.status_code == 200
        assert acked.json()["acknowledged_by"] == ["usa"]
        # a party not involved cannot learn the alert exists
        other = deployment.client.post(
            f"/api/v1/alerts/{alert_id}/ack", headers=deployment.auth("gbr")
        )
        missing = deployment.client.post(
            "/api/v1/alerts/A-none/ack", headers=deployment.auth("gbr")
        )
        assert other.status_code == missing.status_code == 404
        assert other.json()["detail"].replace(alert_id, "X") == missing.json()[
            "detail"
        ].replace("A-none", "X")
        analyst = deployment.client.post(
            f"/api/v1/alerts/{alert_id}/ack", headers=deployment.auth("rus", "analyst")
        )
        assert analyst.status_code == 403
        events = deployment.runtime.repository.alert_events(alert_id)
        assert events[-1].kind == "acknowledged"
        assert (events[-1].party, events[-1].role) == ("usa", "duty-officer")

    def test_the_transport_far_away_is_never_released(self, deployment):
        fly(deployment, 12)
        for party in ("usa", "gbr"):
            for path in ("/api/v1/picture", "/api/v1/alerts"):
                text = deployment.client.get(path, headers=deployment.auth(party)).text
                assert RUS_TRANSPORT.icao24 not in text
                assert RUS_TRANSPORT.callsign not in text


class TestAudit:
    def test_the_auditor_verifies_the_chain_and_others_may_not(self, deployment):
        fly(deployment, 3)
        answer = deployment.client.get(
            "/api/v1/audit/verify", headers=deployment.auth("usa", "auditor")
        )
        assert answer.status_code == 200
        report = answer.json()
        assert report["ok"] is True
        assert report["records"] >= 9
        assert report["public_key"].startswith("ed25519:")
        denied = deployment.client.get(
            "/api/v1/audit/verify", headers=deployment.auth("usa")
        )
        assert denied.status_code == 403
        auditor_picture = deployment.client.get(
            "/api/v1/picture", headers=deployment.auth("usa", "auditor")
        )
        assert auditor_picture.status_code == 403

    def test_openapi_document(self, deployment):
        spec = deployment.client.get("/api/v1/openapi.json").json()
        for path in ("/api/v1/reports", "/api/v1/picture", "/api/v1/alerts",
                     "/api/v1/alerts/{alert_id}/ack", "/api/v1/audit/verify"):  # fmt: skip
            assert path in spec["paths"]


class TestRestart:
    def test_a_restart_rebuilds_tracks_and_ends_open_alerts(self, tmp_path):
        from skypact.runtime import open_runtime
        from tests.integration.api.conftest import deploy

        first = deploy(tmp_path)
        with first.client:
            fly(first, 12)
            (open_alert,) = first.runtime.repository.alerts(active_only=True)
        again = open_runtime(first.runtime.settings, clock=first.clock)
        stored = again.repository.alert(open_alert.alert_id)
        assert stored.state == "expired"
        events = again.repository.alert_events(open_alert.alert_id)
        assert events[-1].kind == "expired"
        principal = again.repository.authenticate(first.token("usa"), first.clock())
        picture = again.service.picture(principal)
        assert list(picture.own["icao24"]) == ["ae1234"]  # rebuilt from the reports
        assert again.repository.verify_audit().ok
        # the conflict is still there: the next cycles raise it again
        for _ in range(3):
            first.clock.now_s += 1
            for party in ("usa", "rus"):
                body = [
                    f.report(T0_S, first.clock.now_s)
                    for f in FLIGHTS
                    if f.party == party
                ]
                principal = again.repository.authenticate(
                    first.token(party), first.clock()
                )
                again.service.submit_reports(principal, body)
            again.service.cycle()
        assert len(again.repository.alerts(active_only=True)) == 1


class TestMalformedBodies:
    def test_a_body_that_is_not_utf8_json_is_refused_with_422(self, deployment):
        answer = deployment.client.post(
            "/api/v1/reports",
            content=b"\x80\x81[",
            headers={**deployment.auth("usa"), "Content-Type": "application/json"},
        )
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["type"] == "json_invalid"

    def test_an_error_is_located_in_the_body(self, deployment):
        answer = deployment.client.post(
            "/api/v1/reports",
            json=[{"timestamp": 1.0, "icao24": "ae0001"}, {"timestamp": 1.0}],
            headers=deployment.auth("usa"),
        )
        assert answer.status_code == 422
        (error,) = answer.json()["detail"]
        assert error["loc"] == ["body", 1, "icao24"]
