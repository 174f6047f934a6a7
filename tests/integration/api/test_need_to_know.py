"""Nothing leaks: every endpoint and error, as every party and role, after a scenario
with an alert between two parties and aircraft nobody else may see."""

from __future__ import annotations

import itertools

import pytest

from tests.integration.api.conftest import T0_S, deploy
from tests.integration.api.scenario import FLIGHTS

PARTIES = ("usa", "rus", "gbr")
ROLES = ("duty-officer", "commander", "analyst", "auditor")


@pytest.fixture(scope="module")
def theatre(tmp_path_factory):
    deployment = deploy(tmp_path_factory.mktemp("theatre"))
    with deployment.client:
        for _ in range(12):
            for party in PARTIES:
                body = [
                    f.report(T0_S, deployment.clock.now_s)
                    for f in FLIGHTS
                    if f.party == party
                ]
                deployment.client.post(
                    "/api/v1/reports", json=body, headers=deployment.auth(party)
                )
            deployment.cycle()
        deployment.client.post(
            "/api/v1/messages",
            json={"kind": "free-text", "body": {"text": "usa to rus", "language": "en"},
                  "recipients": ["rus"]},
            headers=deployment.auth("usa"),
        )  # fmt: skip
        yield deployment


def everything_seen_by(deployment, party, role):
    client, headers = deployment.client, deployment.auth(party, role)
    texts = []
    for path in ("/api/v1/picture", "/api/v1/alerts", "/api/v1/messages",
                 "/api/v1/channels", "/api/v1/export/reports.csv",
                 "/api/v1/export/tracks.csv", "/api/v1/audit/verify"):  # fmt: skip
        texts.append(client.get(path, headers=headers).text)
    alerts = deployment.runtime.repository.alerts()
    messages = deployment.runtime.repository.messages()
    for alert in alerts:  # acknowledging other parties' alerts, and errors
        texts.append(
            client.post(f"/api/v1/alerts/{alert.alert_id}/ack", headers=headers).text
        )
    for message in messages:
        texts.append(
            client.post(
                f"/api/v1/messages/{message.message_id}/ack", headers=headers
            ).text
        )
    texts.append(client.get("/api/v1/nothing-here", headers=headers).text)
    return "\n".join(texts)


@pytest.mark.parametrize(("party", "role"), list(itertools.product(PARTIES, ROLES)))
def test_no_endpoint_tells_a_party_what_it_may_not_know(theatre, party, role):
    seen = everything_seen_by(theatre, party, role)
    for flight in FLIGHTS:
        if flight.party == party:
            continue
        # addresses and callsigns of other parties' aircraft are never released
        assert flight.icao24 not in seen, (flight, party, role)
        assert flight.callsign not in seen, (flight, party, role)


def test_a_party_does_see_its_own(theatre):
    seen = everything_seen_by(theatre, "usa", "duty-officer")
    assert "ae1234" in seen
    assert "VIPER11" in seen


def test_the_pair_in_the_alert_is_known_to_each_other_as_a_party_only(theatre):
    picture = theatre.client.get("/api/v1/picture", headers=theatre.auth("rus")).json()
    assert {o["party"] for o in picture["others"]} == {"usa"}
    gbr = theatre.client.get("/api/v1/picture", headers=theatre.auth("gbr")).json()
    assert gbr["others"] == []


def test_history_is_exported_for_the_own_party_only(theatre):
    text = theatre.client.get(
        "/api/v1/export/tracks.csv", headers=theatre.auth("usa", "analyst")
    ).text
    lines = text.strip().splitlines()
    assert lines[0].startswith("party,icao24,t_s")
    assert len(lines) > 5
    assert {line.split(",")[0] for line in lines[1:]} == {"usa"}
    reports = theatre.client.get(
        "/api/v1/export/reports.csv", headers=theatre.auth("usa", "analyst")
    ).text
    assert len(reports.strip().splitlines()) == 1 + 12
