"""``kill -9`` under load: nothing acknowledged is lost, and the service comes back.

A real ``skypact serve`` takes report batches back to back from one client thread per
party (each batch named by ``X-Batch-Id``). Once every client has had batches
acknowledged, and while a batch is being posted, the server gets SIGKILL: no shutdown,
no flush. Then, on the same data directory (SQLite, and a real PostgreSQL):

- every batch that was answered 200 is stored with all its rows; a batch cut off
  mid-post is stored whole or not at all; no report is stored outside a batch;
- ``skypact audit verify`` exits 0, before and after the restart;
- the restarted server serves: a new batch is taken, an acknowledged one replayed is
  refused (409), the picture shows the aircraft recovered from the stored reports.

Nothing here is timed; the waits are bounded by counts (and a guard that fails the test
if the server stops answering).
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.agreements import signed_agreement
from tests.integration.service.server import ServiceHome
from tests.integration.storage.conftest import (  # noqa: F401
    database_url,
    postgres_server_url,
)

pytestmark = pytest.mark.slow

PARTIES: dict[str, str | None] = {"usa": "coalition", "rus": "russian"}
ROWS = 400
"""Reports per batch: enough that a batch's transaction is a noticeable target."""
ACKED_BEFORE_KILL = 8
"""Batches each client must have had acknowledged before the kill."""
GUARD_S = 300.0
"""Fails the test (not a timing assertion) if the server stops answering for this long."""


def batch(party: str, number: int, t_s: float) -> list[dict[str, object]]:
    """ROWS reports of the party's aircraft, all flying east at 420 kt."""
    base = 0x300000 if party == "usa" else 0x150000
    lat0 = 33.0 if party == "usa" else 36.0
    return [
        {
            "timestamp": t_s,
            "icao24": f"{base + k:06x}",
            "latitude": lat0 + 0.01 * (k % 100),
            "longitude": 37.0 + 0.05 * (k // 100) + 0.002 * number,
            "altitude": 20_000.0 + 100.0 * (k % 50),
            "groundspeed": 420.0,
            "track": 90.0,
            "vertical_rate": 0.0,
        }
        for k in range(ROWS)
    ]


class Poster(threading.Thread):
    """Posts one party's batches back to back until the connection breaks."""

    def __init__(self, base_url: str, party: str, token: str) -> None:
        super().__init__(name=f"poster-{party}", daemon=True)
        self.base_url = base_url
        self.party = party
        self.token = token
        self.acked: dict[str, int] = {}  # batch id -> rows in the receipt
        self.cut: list[str] = []  # posted (or being posted) when the server died
        self.failures: list[str] = []  # any answer other than 200
        self.in_flight = threading.Event()
        self.progress = threading.Condition()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=60) as http:
            number = 0
            while True:
                batch_id = f"{self.party}-{number}"
                body = batch(self.party, number, time.time())
                self.in_flight.set()
                try:
                    answer = http.post(
                        "/api/v1/reports", json=body, headers={"X-Batch-Id": batch_id}
                    )
                except httpx.TransportError:
                    self.cut.append(batch_id)
                    break
                finally:
                    self.in_flight.clear()
                if answer.status_code != 200:
                    self.failures.append(f"{batch_id}: {answer.status_code}")
                    break
                with self.progress:
                    self.acked[batch_id] = int(answer.json()["rows"])
                    self.progress.notify_all()
                number += 1
        with self.progress:
            self.progress.notify_all()

    def wait_for_acks(self, count: int) -> None:
        with self.progress:
            done = self.progress.wait_for(
                lambda: len(self.acked) >= count or not self.is_alive(), GUARD_S
            )
        assert done, "the server stopped answering"
        assert len(self.acked) >= count, (self.failures, self.cut)


@pytest.fixture
def home(tmp_path, database_url) -> ServiceHome:  # noqa: F811
    agreement = signed_agreement(tmp_path / "agreement.toml", parties=PARTIES)
    made = ServiceHome(
        data_dir=tmp_path / "data", agreement=agreement, database=database_url
    )
    made.migrate()
    return made


def test_kill_9_under_load_loses_nothing_acknowledged(home):
    tokens = {party: home.token(party) for party in PARTIES}
    server = home.start()
    try:
        posters = [Poster(server.base_url, p, tokens[p]) for p in PARTIES]
        for poster in posters:
            poster.start()
        for poster in posters:
            poster.wait_for_acks(ACKED_BEFORE_KILL)
        # mid-posting: a batch has been handed to the connection and not answered
        assert posters[0].in_flight.wait(GUARD_S)
        server.kill()
    finally:
        if server.alive():
            server.kill()
    for poster in posters:
        poster.join(GUARD_S)
        assert not poster.is_alive()
        assert poster.failures == []
        assert poster.cut, "the client was cut off by the kill"
    assert server.process.returncode == -9

    crashed = home.audit_verify()
    assert (crashed.exit_code, crashed.ok) == (0, True), crashed.detail

    stored = home.stored_batches()
    acked = {(p.party, b): rows for p in posters for b, rows in p.acked.items()}
    assert all(rows == ROWS for rows in acked.values())
    for key, rows in acked.items():
        assert key in stored, f"acknowledged batch {key} is not stored"
        assert stored[key].declared_rows == stored[key].stored_rows == rows, key
    for poster in posters:
        for batch_id in poster.cut:
            found = stored.get((poster.party, batch_id))
            if found is not None:  # committed before the kill: whole
                assert found.declared_rows == found.stored_rows == ROWS
    assert set(stored) - set(acked) <= {(p.party, b) for p in posters for b in p.cut}
    assert home.count_reports() == sum(b.stored_rows for b in stored.values())

    restarted = home.start()
    with restarted, httpx.Client(base_url=restarted.base_url, timeout=60) as http:
        auth = {"Authorization": f"Bearer {tokens['usa']}"}
        fresh = http.post(
            "/api/v1/reports",
            json=batch("usa", 10_000, time.time()),
            headers={**auth, "X-Batch-Id": "usa-after-restart"},
        )
        assert fresh.status_code == 200
        assert fresh.json()["rows"] == ROWS
        replayed = http.post(
            "/api/v1/reports",
            json=batch("usa", 0, time.time()),
            headers={**auth, "X-Batch-Id": "usa-0"},
        )
        assert replayed.status_code == 409
        picture = http.get("/api/v1/picture", headers=auth)
        assert picture.status_code == 200
        own = {t["icao24"] for t in picture.json()["own"]}
        assert own == {row["icao24"] for row in batch("usa", 0, 0.0)}
        rus = http.get(
            "/api/v1/picture", headers={"Authorization": f"Bearer {tokens['rus']}"}
        )
        assert rus.status_code == 200
        # recovered from the stored reports (the restart rebuilds the track store)
        assert len(rus.json()["own"]) == ROWS
    assert restarted.stopped_cleanly(), restarted.log()

    after = home.audit_verify()
    assert (after.exit_code, after.ok) == (0, True), after.detail
    assert after.records > crashed.records
    assert home.stored_batches()[("usa", "usa-after-restart")].stored_rows == ROWS
