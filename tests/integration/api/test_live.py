"""``WS /api/v1/live``: each party receives its own picture and alerts, nobody else's."""

from __future__ import annotations

import json

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.integration.api.conftest import T0_S
from tests.integration.api.scenario import FLIGHTS, RUS_FIGHTER, USA_FIGHTER


def report_all(deployment):
    for party in ("usa", "rus", "gbr"):
        body = [
            f.report(T0_S, deployment.clock.now_s) for f in FLIGHTS if f.party == party
        ]
        answer = deployment.client.post(
            "/api/v1/reports", json=body, headers=deployment.auth(party)
        )
        assert answer.status_code == 200


def next_of(ws, kind, limit=50):
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message in {limit}")


def test_pictures_and_alerts_reach_exactly_the_parties_involved(deployment):
    client = deployment.client
    with (
        client.websocket_connect("/api/v1/live", headers=deployment.auth("usa")) as usa,
        client.websocket_connect("/api/v1/live", headers=deployment.auth("gbr")) as gbr,
        client.websocket_connect("/api/v1/live") as rus,
    ):
        rus.send_json({"type": "auth", "token": deployment.token("rus")})
        assert usa.receive_json() == {
            "type": "hello",
            "party": "usa",
            "role": "duty-officer",
        }
        assert gbr.receive_json()["party"] == "gbr"
        assert rus.receive_json()["party"] == "rus"
        received: dict[str, list[dict]] = {"usa": [], "rus": [], "gbr": []}
        for _ in range(12):
            report_all(deployment)
            deployment.cycle()
            for party, ws in (("usa", usa), ("rus", rus), ("gbr", gbr)):
                picture = next_of(ws, "picture")
                received[party].append(picture)
        last_usa = received["usa"][-1]
        assert [t["icao24"] for t in last_usa["own"]] == [USA_FIGHTER.icao24]
        assert (
            len(last_usa["others"]) == 1
        )  # the Russian fighter, released by the alert
        assert last_usa["others"][0]["party"] == "rus"
        gbr_seen = json.dumps(received["gbr"])
        assert USA_FIGHTER.icao24 not in gbr_seen
        assert RUS_FIGHTER.icao24 not in gbr_seen
        assert all(p["others"] == [] for p in received["gbr"])
        rus_seen = json.dumps(received["rus"])
        assert USA_FIGHTER.icao24 not in rus_seen
        assert USA_FIGHTER.callsign not in rus_seen


def test_alert_messages_go_to_the_pair_only(deployment):
    client = deployment.client
    with (
        client.websocket_connect("/api/v1/live", headers=deployment.auth("usa")) as usa,
        client.websocket_connect("/api/v1/live", headers=deployment.auth("gbr")) as gbr,
    ):
        usa.receive_json()
        gbr.receive_json()
        kinds: dict[str, list[dict]] = {"usa": [], "gbr": []}
        for _ in range(12):
            report_all(deployment)
            deployment.cycle()
            for party, ws in (("usa", usa), ("gbr", gbr)):
                while True:
                    message = ws.receive_json()
                    kinds[party].append(message)
                    if message["type"] == "picture":
                        break
        alerts = [m for m in kinds["usa"] if m["type"] == "alert"]
        assert alerts, "the usa feed carried the alert"
        assert alerts[0]["alert"]["state"] == "active"
        # the cycle's time, and the time of the usa report it judged (reported one
        # second before each cycle)
        assert alerts[0]["at_s"] > T0_S
        assert alerts[0]["data_at_s"] == pytest.approx(alerts[0]["at_s"] - 1.0)
        own = [a for a in alerts[0]["alert"]["aircraft"] if a["own"]]
        assert own[0]["icao24"] == USA_FIGHTER.icao24
        assert not [m for m in kinds["gbr"] if m["type"] == "alert"]


@pytest.mark.parametrize(
    ("first", "reason"),
    [
        ({"type": "auth", "token": "x.y"}, "malformed"),
        ({"type": "hello"}, "missing"),
    ],
)
def test_a_bad_credential_closes_the_feed(deployment, first, reason):
    with deployment.client.websocket_connect("/api/v1/live") as ws:
        ws.send_json(first)
        error = ws.receive_json()
        assert error["type"] == "error"
        assert reason in error["detail"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008


def test_an_auditor_has_no_live_picture(deployment):
    headers = deployment.auth("usa", "auditor")
    with deployment.client.websocket_connect("/api/v1/live", headers=headers) as ws:
        error = ws.receive_json()
        assert error["type"] == "error"
        assert "may not" in error["detail"]


def test_pictures_every_picture_period_alerts_every_cycle(tmp_path):
    """Detection every 0.5 s, pictures every 2 s: the alert does not wait for a
    picture, and a picture goes out on the first cycle of each period."""
    from tests.integration.api.conftest import deploy

    deployment = deploy(tmp_path, cycle_s=0.5, picture_s=2.0)
    with (
        deployment.client,
        deployment.client.websocket_connect(
            "/api/v1/live", headers=deployment.auth("usa")
        ) as usa,
    ):
        usa.receive_json()
        for _ in range(24):  # 12 s; reports from 1 s on, once a second
            deployment.cycle(0.5)
            if deployment.clock.now_s % 1.0 == 0.0:
                report_all(deployment)
        seen: list[dict] = []
        while len([m for m in seen if m["type"] == "picture"]) < 6:
            seen.append(usa.receive_json())
    deployment.runtime.close()
    pictures = [m["at_s"] - T0_S for m in seen if m["type"] == "picture"]
    assert pictures == [0.5, 2.5, 4.5, 6.5, 8.5, 10.5]
    alert_cycles = [m["at_s"] - T0_S for m in seen if m["type"] == "alert"]
    assert alert_cycles, "the alert was raised"
    assert all(t % 0.5 == 0.0 for t in alert_cycles)
    assert set(alert_cycles) - set(pictures), "alerts between pictures"


def test_the_encoded_picture_is_the_picture(deployment):
    from skypact.service import picture_feed_message, picture_message

    for _ in range(4):
        report_all(deployment)
        deployment.cycle()
    principal = deployment.runtime.repository.authenticate(
        deployment.token("usa"), deployment.clock()
    )
    released = deployment.runtime.service.picture(principal)
    encoded = picture_feed_message(released)
    assert encoded.kind == "picture"
    assert encoded.data() == picture_message(released)
    assert encoded.data()["others"]  # the Russian fighter, by the alert


def test_an_alert_is_followed_by_coordinated_advice(deployment):
    client = deployment.client
    feeds: dict[str, list[dict]] = {"usa": [], "rus": []}
    with (
        client.websocket_connect("/api/v1/live", headers=deployment.auth("usa")) as usa,
        client.websocket_connect("/api/v1/live", headers=deployment.auth("rus")) as rus,
    ):
        usa.receive_json()
        rus.receive_json()
        for _ in range(12):
            report_all(deployment)
            deployment.cycle()
            for party, ws in (("usa", usa), ("rus", rus)):
                while True:
                    message = ws.receive_json()
                    feeds[party].append(message)
                    if message["type"] == "picture":
                        break
    advised = {}
    for party, messages in feeds.items():
        alerts = [m for m in messages if m["type"] == "alert"]
        assert alerts[0]["update"] == "transition"
        assert alerts[0]["alert"]["advisories"] == []  # the alert goes out first
        advice = [m for m in alerts if m["update"] == "advice"]
        assert advice, f"no advice on the {party} feed"
        advised[party] = advice[0]["alert"]["advisories"]
    own_usa, their_rus = advised["usa"]
    own_rus, their_usa = advised["rus"]
    # each party gets its own manoeuvre in full, the other's as what it will do
    assert own_usa["own"]
    assert own_rus["own"]
    assert not their_rus["own"]
    assert not their_usa["own"]
    assert (own_usa["kind"], own_usa["text"]) == (their_usa["kind"], their_usa["text"])
    assert (own_rus["kind"], own_rus["text"]) == (their_rus["kind"], their_rus["text"])
    assert own_usa["vertical_rate_fpm"] is not None
    assert "vertical_rate_fpm" not in their_rus
    if own_usa["kind"] == "vertical":  # complementary: one climbs, one descends
        assert own_usa["vertical_rate_fpm"] * own_rus["vertical_rate_fpm"] < 0
    assert RUS_FIGHTER.icao24 not in json.dumps(advised["usa"])
    assert USA_FIGHTER.icao24 not in json.dumps(advised["rus"])
    # and the alerts route shows it too
    (current,) = client.get("/api/v1/alerts", headers=deployment.auth("usa")).json()
    assert current["advisories"][0]["text"] == own_usa["text"]
