"""The service end to end on both storage backends: SQLite and a real PostgreSQL."""

from __future__ import annotations

from skypact.runtime import open_runtime
from tests.integration.api.conftest import T0_S, deploy
from tests.integration.api.scenario import FLIGHTS
from tests.integration.storage.conftest import (  # noqa: F401
    database_url,
    postgres_server_url,
)


def test_reports_alerts_acknowledgements_and_audit(tmp_path, database_url):  # noqa: F811
    deployment = deploy(tmp_path, database_url)
    with deployment.client:
        for _ in range(12):
            for party in ("usa", "rus", "gbr"):
                body = [
                    f.report(T0_S, deployment.clock.now_s)
                    for f in FLIGHTS
                    if f.party == party
                ]
                answer = deployment.client.post(
                    "/api/v1/reports", json=body, headers=deployment.auth(party)
                )
                assert answer.status_code == 200
            deployment.cycle()
        (alert,) = deployment.client.get(
            "/api/v1/alerts", headers=deployment.auth("rus")
        ).json()
        acked = deployment.client.post(
            f"/api/v1/alerts/{alert['alert_id']}/ack", headers=deployment.auth("rus")
        )
        assert acked.json()["acknowledged_by"] == ["rus"]
        verify = deployment.client.get(
            "/api/v1/audit/verify", headers=deployment.auth("gbr", "auditor")
        ).json()
        assert verify["ok"] is True
        repository = deployment.runtime.repository
        assert repository.count_reports() == 12 * 4
        assert len(repository.track_history()) >= 4 * 11
    deployment.runtime.close()
    again = open_runtime(deployment.runtime.settings, clock=deployment.clock)
    try:
        assert again.repository.alert(alert["alert_id"]).state == "expired"
        assert again.repository.verify_audit().ok
    finally:
        again.close()
