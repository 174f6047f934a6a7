"""The audit chain in the database: appends, concurrency and tampering detection."""

from __future__ import annotations

import hashlib
import json
import math
import threading

import pytest
import sqlalchemy as sa

from skypact.audit.model import GENESIS_HASH, record_hash
from skypact.errors import ConflictingWriteError, StorageError
from skypact.parties.model import Role
from skypact.storage import (
    AlertEventRow,
    AlertRow,
    AuditHead,
    ChannelRow,
    MessageEventRow,
    MessageRow,
    Repository,
    migrate,
)

T0_S = 1_700_000_000.0


def fill(repo: Repository, n: int) -> None:
    for k in range(n):
        repo.append_audit("server", "test", {"k": k, "text": f"record {k}"})


def execute(engine: sa.Engine, sql: str, **params: object) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(sql), params)


def stored(engine: sa.Engine, seq: int) -> sa.Row:
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT * FROM audit WHERE seq = :seq"), {"seq": seq}
        ).one()


class TestAppend:
    def test_an_empty_log(self, repo):
        assert repo.audit_head() is None
        assert list(repo.audit_records()) == []
        report = repo.verify_audit()
        assert report.ok
        assert report.records == 0

    def test_records_are_chained_signed_and_stored_exactly(self, repo, signer, clock):
        first_at_s = clock.now_s
        one = repo.append_audit("rus/commander", "login-refused", {"reason": "expired"})
        two = repo.append_audit(
            "server", "startup", {"profile": "nato", "é": [1.5, None]}
        )
        assert (one.seq, two.seq) == (1, 2)
        assert one.prev_hash == GENESIS_HASH
        assert two.prev_hash == one.hash
        assert one.at_s == first_at_s
        assert list(repo.audit_records()) == [one, two]
        assert two.payload == '{"profile":"nato","é":[1.5,null]}'
        assert repo.audit_head() == AuditHead(2, two.hash)
        report = repo.verify_audit()
        assert report.ok
        assert report.records == 2

    def test_records_after_a_seq_and_a_limit(self, repo):
        fill(repo, 7)
        assert [r.seq for r in repo.audit_records(after_seq=4)] == [5, 6, 7]
        assert [r.seq for r in repo.audit_records(limit=3)] == [1, 2, 3]
        assert [r.seq for r in repo.audit_records(after_seq=2, limit=2)] == [3, 4]
        assert list(repo.audit_records(after_seq=7)) == []
        assert list(repo.audit_records(limit=0)) == []

    def test_reading_page_by_page(self, engine, signer, clock):
        migrate(engine)
        repo = Repository(engine, signer, clock, audit_page_size=3)
        fill(repo, 10)
        assert [r.seq for r in repo.audit_records()] == list(range(1, 11))
        assert [r.seq for r in repo.audit_records(after_seq=1, limit=7)] == list(
            range(2, 9)
        )
        report = repo.verify_audit()
        assert (report.ok, report.records) == (True, 10)

    def test_an_abandoned_iterator_holds_nothing(self, repo, engine):
        fill(repo, 3)
        records = repo.audit_records()
        assert next(records).seq == 1
        del records
        assert engine.pool.checkedout() == 0
        repo.append_audit("server", "after", {})
        assert repo.audit_head().seq == 4

    def test_a_payload_that_is_not_json_appends_nothing(self, repo):
        with pytest.raises(ValueError, match="not JSON compliant"):
            repo.append_audit("server", "bad", {"x": math.nan})
        with pytest.raises(TypeError):
            repo.append_audit("server", "bad", {"x": object()})
        assert repo.audit_head() is None

    def test_a_missing_head_row_is_reported(self, repo, engine):
        fill(repo, 2)
        execute(engine, "DELETE FROM audit_head")
        with pytest.raises(StorageError, match="audit_head"):
            repo.append_audit("server", "x", {})
        with pytest.raises(StorageError, match="audit_head"):
            repo.verify_audit()
        assert [r.seq for r in repo.audit_records()] == [1, 2]


class TestConcurrentWriters:
    def test_four_threads_appending_fifty_each_leave_no_gap(self, repo):
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def work(worker: int) -> None:
            try:
                start.wait()
                for k in range(50):
                    repo.append_audit(f"worker-{worker}", "test", {"w": worker, "k": k})
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        records = list(repo.audit_records())
        assert [r.seq for r in records] == list(range(1, 201))
        for worker in range(4):
            mine = [
                json.loads(r.payload)["k"]
                for r in records
                if r.actor == f"worker-{worker}"
            ]
            assert mine == list(range(50))
        assert repo.audit_head() == AuditHead(200, records[-1].hash)
        assert repo.verify_audit().ok

    def test_state_changes_from_threads_keep_the_chain(self, repo):
        errors: list[BaseException] = []
        start = threading.Barrier(4)

        def work(worker: int) -> None:
            try:
                start.wait()
                for k in range(10):
                    rows = [{"timestamp": T0_S + k, "icao24": f"{worker:06x}"}]
                    repo.store_report_batch(f"p{worker}", f"b{k}", T0_S, rows)
                    try:
                        repo.store_report_batch(f"p{worker}", f"b{k}", T0_S, rows)
                    except ConflictingWriteError:
                        repo.append_audit(f"p{worker}", "replay-refused", {"b": k})
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        records = list(repo.audit_records())
        assert [r.seq for r in records] == list(range(1, 81))
        assert sum(r.kind == "reports" for r in records) == 40
        assert sum(r.kind == "replay-refused" for r in records) == 40
        assert repo.count_reports() == 40
        assert repo.verify_audit().ok


class TestEveryChangeIsAudited:
    def test_one_record_per_state_change(self, repo):
        token = repo.create_token("usa", Role.COMMANDER)
        repo.revoke_token(token.token_id)
        raw = b"agreement"
        repo.store_agreement("a", 1, hashlib.sha256(raw).hexdigest(), raw, "[]")
        repo.store_report_batch(
            "usa", "b1", T0_S, [{"timestamp": T0_S, "icao24": "a1"}]
        )
        alert = AlertRow(
            alert_id="al",
            aircraft_a="a1",
            aircraft_b="b2",
            parties=frozenset({"usa", "rus"}),
            state="active",
            level=2,
            highest_level=2,
            raised_at_s=T0_S,
            ended_at_s=None,
            updated_at_s=T0_S,
        )
        repo.upsert_alert(
            alert,
            [
                AlertEventRow(alert_id="al", kind="raised", at_s=T0_S, level=1),
                AlertEventRow(alert_id="al", kind="level-up", at_s=T0_S, level=2),
            ],
        )
        repo.record_alert_ack("al", "rus", Role.DUTY_OFFICER, T0_S + 1)
        repo.store_channel_state(
            ChannelRow(
                channel_id="line",
                parties=frozenset({"usa", "rus"}),
                state="open",
                changed_at_s=T0_S,
                changed_by="usa/commander",
            )
        )
        repo.store_message(
            MessageRow(
                message_id="m",
                kind="link-test",
                sender="usa",
                recipients=("rus",),
                body={"nonce": "n"},
                language="en",
                text="Link test",
                translation="Проверка связи",
                sent_at_s=T0_S,
                channel_id="line",
            )
        )
        repo.record_message_event(
            MessageEventRow(message_id="m", kind="acknowledged", at_s=T0_S, party="rus")
        )
        repo.append_audit("rus/analyst", "login-refused", {"reason": "revoked"})
        assert [r.kind for r in repo.audit_records()] == [
            "token-created",
            "token-revoked",
            "agreement",
            "reports",
            "alert",
            "alert",
            "alert",
            "channel",
            "message",
            "message-event",
            "login-refused",
        ]
        report = repo.verify_audit()
        assert (report.ok, report.records) == (True, 11)


class TestTampering:
    """Changing the database behind the repository's back is found, with its place."""

    @pytest.fixture
    def chained(self, repo):
        fill(repo, 10)
        assert repo.verify_audit().ok
        return repo

    def test_an_edited_payload(self, chained, engine):
        execute(engine, "UPDATE audit SET payload = :p WHERE seq = 4", p='{"k":40}')
        report = chained.verify_audit()
        assert (report.ok, report.problem, report.seq) == (False, "changed", 4)

    def test_an_edited_time(self, chained, engine):
        execute(engine, "UPDATE audit SET at_s = at_s + 1 WHERE seq = 6")
        report = chained.verify_audit()
        assert (report.problem, report.seq) == ("changed", 6)

    def test_a_deleted_record(self, chained, engine):
        execute(engine, "DELETE FROM audit WHERE seq = 5")
        report = chained.verify_audit()
        assert (report.ok, report.problem, report.seq) == (False, "deleted", 5)

    def test_a_forged_record_added_at_the_end(self, chained, engine):
        last = stored(engine, 10)
        payload = '{"forged":true}'
        digest = record_hash(last.hash, T0_S, "server", "test", payload)
        execute(
            engine,
            "INSERT INTO audit (seq, at_s, actor, kind, payload, prev_hash, hash,"
            " signature) VALUES (11, :at_s, 'server', 'test', :payload, :prev, :hash,"
            " :sig)",
            at_s=T0_S,
            payload=payload,
            prev=last.hash,
            hash=digest,
            sig=last.signature,
        )
        report = chained.verify_audit()
        assert (report.ok, report.problem, report.seq) == (False, "inserted", 11)

    def test_a_forged_record_slipped_into_the_middle(self, chained, engine):
        # Make room at seq 4 (two steps, so that no step collides on the key).
        execute(engine, "UPDATE audit SET seq = seq + 1000 WHERE seq >= 4")
        execute(engine, "UPDATE audit SET seq = seq - 999 WHERE seq >= 1000")
        before = stored(engine, 3)
        payload = '{"forged":true}'
        digest = record_hash(before.hash, before.at_s, "server", "test", payload)
        execute(
            engine,
            "INSERT INTO audit (seq, at_s, actor, kind, payload, prev_hash, hash,"
            " signature) VALUES (4, :at_s, 'server', 'test', :payload, :prev, :hash,"
            " :sig)",
            at_s=before.at_s,
            payload=payload,
            prev=before.hash,
            hash=digest,
            sig=before.signature,
        )
        report = chained.verify_audit()
        assert (report.ok, report.problem, report.seq) == (False, "inserted", 4)

    def test_two_records_swapped(self, chained, engine):
        execute(engine, "UPDATE audit SET seq = -1 WHERE seq = 6")
        execute(engine, "UPDATE audit SET seq = 6 WHERE seq = 7")
        execute(engine, "UPDATE audit SET seq = 7 WHERE seq = -1")
        report = chained.verify_audit()
        assert (report.ok, report.problem, report.seq) == (False, "reordered", 6)

    def test_a_truncated_tail(self, chained, engine):
        execute(engine, "DELETE FROM audit WHERE seq > 7")
        report = chained.verify_audit()
        assert (report.ok, report.problem, report.seq) == (False, "truncated", 8)

    def test_the_repository_never_updates_or_deletes_audit_rows(self):
        public = [name for name in dir(Repository) if not name.startswith("_")]
        for name in public:
            lowered = name.lower()
            if "audit" in lowered:
                assert not any(
                    verb in lowered for verb in ("update", "delete", "remove", "edit")
                ), name
